// Swagger UI of the platform's API, started from a static file (no inline script, no CDN).
(function () {
  "use strict";
  var node = document.getElementById("swagger-ui");
  if (!node || !window.SwaggerUIBundle) return;
  var csrf = (document.cookie.match(/(?:^|; )csrftoken=([^;]*)/) || [])[1];
  window.ui = SwaggerUIBundle({
    url: node.dataset.schemaUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "BaseLayout",
    requestInterceptor: function (request) {
      if (csrf) request.headers["X-CSRFToken"] = decodeURIComponent(csrf);
      return request;
    }
  });
})();

/* Review boxes: add comment rows to the rejection form; one click per submit button. No dependencies. */
(function () {
  "use strict";
  if (window.__reviewBoxes) { return; }
  window.__reviewBoxes = true;
  document.addEventListener("click", function (event) {
    var add = event.target.closest && event.target.closest(".add-comment-row");
    if (add) {
      var form = add.closest("form");
      var rows = form.querySelector(".comment-rows");
      var first = rows.querySelector(".comment-row");
      var copy = first.cloneNode(true);
      copy.querySelectorAll("input[name=comment_text]").forEach(function (el) { el.value = ""; });
      copy.querySelectorAll("select").forEach(function (el) { el.selectedIndex = 0; });
      rows.appendChild(copy);
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented) { return; }  /* another script holds the submit (e.g. unsent autosave) */
    if (!form.matches || !form.matches(".review-box form, .review-submit-box form, form.review-once")) { return; }
    if (form.dataset.sent === "1") { event.preventDefault(); return; }
    form.dataset.sent = "1";
    form.querySelectorAll("button").forEach(function (b) { b.classList.add("disabled"); });
  });
  /* queue: select all */
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("#select-all")) {
      document.querySelectorAll("input.bulk-id").forEach(function (box) { box.checked = event.target.checked; });
    }
  });
})();

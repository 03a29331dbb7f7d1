from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from accounts.security import healthz

from . import pages

urlpatterns = [
    path("healthz/", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", pages.api_docs, name="api-docs"),
    path("api/redoc/", pages.api_redoc, name="api-redoc"),
    path("api/", include("config.api_urls")),
    path("review/", include("review.urls")),
    path("exports/", include("exports.urls")),
    path("analysis/", include("indicators.urls")),
    path("sampling/", include("sampling.urls")),
    path("", include("reporting.urls")),
    path("files/", include("files.urls")),
    path("reports/", include("selfassessment.urls")),
    path("comm/", include("communication.urls")),
    path("results/", include("results.urls")),
]

handler403 = "config.pages.handler403"
handler404 = "config.pages.handler404"
handler500 = "config.pages.handler500"

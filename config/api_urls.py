"""All /api/ routes. Each app contributes its router/patterns here."""

from django.urls import include, path

urlpatterns = [
    path("", include("accounts.api_urls")),
    path("", include("review.api_urls")),
    path("", include("selfassessment.api_urls")),
    path("", include("communication.api_urls")),
    path("", include("results.api_urls")),
    path("", include("sampling.api_urls")),
]

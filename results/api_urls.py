from django.urls import path

from . import api

urlpatterns = [
    path("results/", api.result_card, name="api-results"),
]

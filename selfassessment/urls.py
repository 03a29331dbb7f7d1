from django.urls import path

from . import views

app_name = "selfassessment"
urlpatterns = [
    path("submissions/<int:pk>/", views.report_edit, name="edit"),
    path("bundle/", views.report_bundle, name="bundle"),
]

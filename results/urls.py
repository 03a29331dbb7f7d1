from django.urls import path

from . import views

app_name = "results"
urlpatterns = [
    path("", views.public_index, name="public"),
    path("platform/", views.platform, name="platform"),
    path("platform/<str:task_code>/cards/<str:unit_code>/", views.card, name="card"),
    path("platform/<str:task_code>/cards/<str:unit_code>/objection/", views.objection_file, name="objection"),
    path("platform/<str:task_code>/cards/<str:unit_code>/score/", views.qualitative_score, name="score"),
    path("platform/<str:task_code>/cards/<str:unit_code>/export/", views.card_export, name="card_export"),
    path("manage/<str:task_code>/", views.manage, name="manage"),
    path("targets/", views.targets, name="targets"),
    path("schemes/", views.schemes, name="schemes"),
    path("schemes/<int:pk>/dry-run/", views.scheme_dry_run, name="dry_run"),
]

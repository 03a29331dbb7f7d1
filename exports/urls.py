from django.urls import path

from . import views

app_name = "exports"
urlpatterns = [
    path("", views.index, name="index"),
    path("start/", views.start, name="start"),
    path("jobs/<int:pk>/status/", views.status, name="status"),
    path("jobs/<int:pk>/download/", views.download, name="download"),
    path("template/<int:submission_id>/", views.template_download, name="template"),
    path("template/<int:submission_id>/upload/", views.template_upload, name="template_upload"),
]

from django.urls import path

from . import api

urlpatterns = [
    path("submissions/<int:pk>/report/", api.report_detail, name="api-report"),
    path("submissions/<int:pk>/report.docx", api.report_word, name="api-report-docx"),
    path("submissions/<int:pk>/attachments/", api.attachment_upload, name="api-attachments"),
    path("attachments/<int:pk>/", api.attachment_detail, name="api-attachment"),
]

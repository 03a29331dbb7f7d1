from django.urls import path

from . import views

app_name = "review"
urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("progress/", views.progress, name="progress"),
    path("notifications/", views.notifications, name="notifications"),
]

from django.urls import path

from . import views

app_name = "review"
urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("progress/", views.progress, name="progress"),
    path("submissions/<int:pk>/", views.submission_review, name="submission"),
    path("submissions/<int:pk>/submit/", views.submission_submit, name="submit"),
    path("submissions/<int:pk>/act/", views.submission_act, name="act"),
    path("submissions/<int:pk>/comments/", views.comment_add, name="comment_add"),
    path("submissions/<int:pk>/comments/<int:comment_id>/answer/", views.comment_answer, name="comment_answer"),
    path("submissions/<int:pk>/audit/", views.audit, name="audit"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification_open"),
]

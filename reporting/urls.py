from django.urls import path

from . import api, views

urlpatterns = [
    path("", views.home, name="home"),
    path("tasks/", views.task_history, name="task_history"),
    path("submissions/<int:pk>/", views.submission_entry, name="submission_entry"),
    path("submissions/<int:pk>/api/state", api.submission_state, name="submission_state_api"),
    path("submissions/<int:pk>/api/save", api.submission_save, name="submission_save_api"),
    path("submissions/<int:pk>/api/check", api.submission_check, name="submission_check_api"),
    path("submissions/<int:pk>/api/members/add", api.member_add, name="member_add_api"),
    path("submissions/<int:pk>/api/members/<str:key>/remove", api.member_remove, name="member_remove_api"),
]

from django.urls import path

from . import views

app_name = "communication"
urlpatterns = [
    path("notices/", views.notices, name="notices"),
    path("downloads/", views.downloads, name="downloads"),
    path("notices/new/", views.notice_new, name="notice_new"),
    path("notices/read-all/", views.notices_read_all, name="notices_read_all"),
    path("notices/<int:pk>/", views.notice, name="notice"),
    path("notices/<int:pk>/withdraw/", views.notice_withdraw, name="notice_withdraw"),
    path("questions/", views.questions, name="questions"),
    path("questions/new/", views.question_new, name="question_new"),
    path("questions/similar/", views.question_similar, name="question_similar"),
    path("questions/<int:pk>/", views.question, name="question"),
    path("questions/<int:pk>/act/", views.question_act, name="question_act"),
    path("questions/<int:pk>/faq/", views.faq_promote, name="faq_promote"),
    path("faq/", views.faq, name="faq"),
    path("faq/<int:pk>/withdraw/", views.faq_withdraw, name="faq_withdraw"),
    path("stats/", views.stats, name="stats"),
    path("settings/", views.contact_settings, name="settings"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]

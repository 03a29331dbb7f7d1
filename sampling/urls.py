from django.urls import path

from . import views

app_name = "sampling"
urlpatterns = [
    path("", views.index, name="index"),
    path("preview/", views.preview, name="preview"),
    path("batches/<int:pk>/", views.batch_detail, name="batch"),
    path("batches/<int:pk>/export/", views.board_export, name="export"),
    path("samples/<int:pk>/", views.sample_detail, name="sample"),
    path("samples/<int:pk>/items/", views.item_raise, name="raise"),
    path("samples/<int:pk>/onsite/", views.onsite_add, name="onsite"),
    path("items/", views.item_list, name="items"),
    path("items/<int:pk>/", views.item_detail, name="item"),
    path("items/<int:pk>/act/", views.item_act, name="act"),
]

from django.urls import path

from . import api

urlpatterns = [
    path("submissions/<int:pk>/rectifications/", api.raise_item, name="api-rectification-raise"),
    path("rectifications/", api.list_items, name="api-rectification-list"),
    path("rectifications/<int:pk>/", api.item_detail, name="api-rectification-detail"),
    path("rectifications/<int:pk>/answer/", api.answer, name="api-rectification-answer"),
    path("rectifications/<int:pk>/close/", api.close, name="api-rectification-close"),
    path("rectifications/<int:pk>/reopen/", api.reopen, name="api-rectification-reopen"),
    path("rectifications/<int:pk>/escalate/", api.escalate, name="api-rectification-escalate"),
]

from django.apps import AppConfig


class CommunicationConfig(AppConfig):
    name = "communication"
    verbose_name = "通知公告与留言板"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Mail for the review workflow's in-app notifications (review never imports communication).
        from . import receivers  # noqa: F401

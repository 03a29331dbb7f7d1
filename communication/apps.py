from django.apps import AppConfig


class CommunicationConfig(AppConfig):
    name = "communication"
    verbose_name = "通知公告与留言板"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from files.access import register_reader

        # Mail for the review workflow's in-app notifications (review never imports communication).
        from . import receivers  # noqa: F401
        from .selectors import may_read_notice_file

        # A notice's files are read by the notice's audience (files.access asks this rule for purpose "notice").
        register_reader("notice", may_read_notice_file)

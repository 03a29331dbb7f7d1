from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "review"
    verbose_name = "审核"

    def ready(self) -> None:
        from .exporting import register_kinds

        register_kinds()

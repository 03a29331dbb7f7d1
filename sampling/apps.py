from django.apps import AppConfig


class SamplingConfig(AppConfig):
    name = "sampling"
    verbose_name = "数据抽检"

    def ready(self) -> None:
        from reporting.policy import register_field_unlocker

        from .unlock import unlocked_for

        register_field_unlocker(unlocked_for)

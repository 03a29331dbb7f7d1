from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "files"
    verbose_name = "文件"
    default_auto_field = "django.db.models.BigAutoField"

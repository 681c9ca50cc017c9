from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = "问题协调与督办"
    default_auto_field = "django.db.models.BigAutoField"

from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "六重清单登记"

    def ready(self):
        from .changes import connect_registry_models

        connect_registry_models()

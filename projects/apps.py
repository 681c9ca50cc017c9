from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "六重清单登记"

    def ready(self):
        from .admin_bounds import bound_every_admin
        from . import column_lengths
        from .changes import connect_registry_models

        from . import permissions  # noqa: F401  (registers the rules)

        connect_registry_models()
        column_lengths.connect()
        bound_every_admin()

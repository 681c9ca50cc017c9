from django.apps import AppConfig


class PortfolioConfig(AppConfig):
    name = "portfolio"
    verbose_name = "监测与汇总"

    def ready(self):
        from . import signals  # noqa: F401  (connects the re-evaluation receiver)

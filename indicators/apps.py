from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "indicators"
    verbose_name = "规划指标"

    def ready(self):
        from .evaluation import connect_indicator_models

        connect_indicator_models()

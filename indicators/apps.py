from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "indicators"
    verbose_name = "规划指标"

    def ready(self):
        from projects.changes import follow_plan, track

        from .models import Indicator, IndicatorTable, IndicatorValue

        def of_table(table):
            return set(), set(Indicator.objects.filter(table_id=table.pk).values_list("pk", flat=True))

        def of_plan(plan_id):
            return set(), set(Indicator.objects.filter(plan_id=plan_id).values_list("pk", flat=True))

        # the one change tracker (projects/changes.py): what each row's change touches
        track(IndicatorTable, touched=of_table)
        track(Indicator, touched=lambda indicator: (set(), {indicator.pk}))
        track(IndicatorValue, touched=lambda value: (set(), {value.indicator_id}))
        follow_plan(of_plan)

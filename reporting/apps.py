from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "进度填报"

    def ready(self):
        from projects.changes import track

        from .models import AnnualTarget, Milestone, StatusReport

        track(AnnualTarget, Milestone, StatusReport)  # the one change tracker (projects/changes.py)

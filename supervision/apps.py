from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = "问题协调与督办"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from projects.changes import track

        from .models import Order, Problem

        # A problem or an order touches no entry's figures, but the dashboard's cached counts of
        # the loop name the data version: every save moves it (projects/changes.py).
        track(Problem, Order, touched=lambda instance: ((), ()))

"""Freeze "today" (Asia/Shanghai) for a test: every `timezone.localdate()` and `timezone.now()`
of the code — views, forms, auto_now fields — reads the frozen moment."""
import datetime

from django.utils import timezone


def freeze(monkeypatch, day: datetime.date, hour=10):
    """Make `day` at `hour` o'clock (Shanghai) the current moment; returns a function that moves it."""
    def set_day(new_day: datetime.date, new_hour=hour):
        moment = timezone.make_aware(datetime.datetime.combine(new_day, datetime.time(new_hour)))
        monkeypatch.setattr(timezone, "now", lambda: moment)

    set_day(day)
    return set_day

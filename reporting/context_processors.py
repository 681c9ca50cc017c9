from django.utils import timezone

from projects.models import Item, Role, role_of

from .calendar import month_asked
from .owing import owing


def reports_to_file(user):
    """A unit user's entries owing the month asked for and not yet filed (the navigation's to-do)."""
    return owing(Item.objects.editable_by(user), month_asked(timezone.localdate())).count()


def reports_todo(request):
    is_unit = hasattr(request, "user") and role_of(request.user) == Role.UNIT
    # lazy: counted only when a page's navigation shows it
    return {"reports_todo": (lambda: reports_to_file(request.user)) if is_unit else 0}

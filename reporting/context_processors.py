from django.utils import timezone

from projects.models import Item, Role, role_of

from .calendar import due_report_month, entries_due, reported_for


def reports_to_file(user):
    """A unit user's reports due for the month now due and not yet filed (the navigation's to-do)."""
    month = due_report_month(timezone.localdate())
    return entries_due(Item.objects.editable_by(user), month).filter(~reported_for(month)).count()


def reports_todo(request):
    is_unit = hasattr(request, "user") and role_of(request.user) == Role.UNIT
    # lazy: counted only when a page's navigation shows it
    return {"reports_todo": (lambda: reports_to_file(request.user)) if is_unit else 0}

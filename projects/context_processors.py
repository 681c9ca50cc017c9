from django.utils import timezone

from .models import Item, ListKind, Role, role_of
from .reporting import month_asked, owing


def reports_to_file(user):
    """A unit user's entries owing the month asked for and not yet filed (the navigation's to-do)."""
    return owing(Item.objects.editable_by(user), month_asked(timezone.localdate())).count()


def roles(request):
    role = role_of(request.user) if hasattr(request, "user") else None
    return {
        "user_role": role,
        "is_planner": role == Role.PLANNER,
        "is_leader": role == Role.LEADER,
        "is_unit_user": role == Role.UNIT,
        "role_label": Role(role).label if role else "",
        "list_nav": [(k.value, k.label) for k in ListKind],
        # lazy: counted only when a page's navigation shows it
        "reports_todo": (lambda: reports_to_file(request.user)) if role == Role.UNIT else 0,
    }

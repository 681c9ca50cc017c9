from .models import ListKind, Role, organisation_of, role_of, scope_of


def roles(request):
    role = role_of(request.user) if hasattr(request, "user") else None
    return {
        "user_role": role,
        "is_planner": role == Role.PLANNER,
        "is_leader": role == Role.LEADER,
        "is_unit_user": role == Role.UNIT,
        "role_label": Role(role).label if role else "",
        "list_nav": [(k.value, k.label) for k in ListKind],
        # read only when a template asks (the page header and the dashboard's scope line)
        "user_organisation": lambda: organisation_of(request.user) if hasattr(request, "user") else None,
        # the user's organisation has organisations below it (the scope read for the page anyway)
        "scope_spans_below": lambda: hasattr(request, "user") and len(scope_of(request.user)) > 1,
    }

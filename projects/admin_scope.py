"""The admin within a planner's scope: every admin page of a row that hangs off a plan shows,
changes and offers only the rows of the plans their organisation and those below it own
(projects.models.organisations_in_reach — the scope the pages use)."""
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q

from .models import Item, ItemUnit, Organisation, Plan, Unit, organisations_in_reach


def units_in_reach(user):
    """The units a planner may rename, merge and give members: those with no entry outside
    their scope (a unit reporting to another organisation's plan too is that one's as well, so
    neither may merge it alone); None when the user reaches everything."""
    reach = organisations_in_reach(user)
    if reach is None:
        return None
    outside = ItemUnit.objects.filter(unit=OuterRef("pk")).exclude(item__plan__organisation_id__in=reach)
    return Unit.objects.filter(~Exists(outside))


class InScope:
    """Mixed into a ModelAdmin: `plan_path` names the way from the model to its Plan ("" for Plan)."""

    plan_path = "plan"

    def scope(self, request, queryset):
        reach = organisations_in_reach(request.user)
        if reach is None:
            return queryset
        prefix = f"{self.plan_path}__" if self.plan_path else ""
        return queryset.filter(**{f"{prefix}organisation_id__in": reach})

    def get_queryset(self, request):
        return self.scope(request, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        choices = limited_choices(db_field.related_model, request.user)
        if choices is not None:
            kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def limited_choices(model, user):
    """What a foreign key to `model` may point at for this user, or None (unlimited)."""
    if model is Plan:
        return Plan.objects.editable_by(user)
    if model is Item:
        return Item.objects.editable_by(user)
    if model is Organisation:
        reach = organisations_in_reach(user)
        return None if reach is None else Organisation.objects.filter(pk__in=reach)
    return None


def users_in_reach(user):
    """The accounts a planner manages: those of the organisations in their scope, and unit users
    whose units all lie in it; None for everything."""
    reach = organisations_in_reach(user)
    if reach is None:
        return None
    units = units_in_reach(user)
    User = get_user_model()
    return User.objects.filter(
        Q(organisation_membership__organisation_id__in=reach)
        | (Q(organisation_membership__isnull=True, is_superuser=False, units__in=units)
           & ~Q(units__in=Unit.objects.exclude(pk__in=units)))
    ).distinct()

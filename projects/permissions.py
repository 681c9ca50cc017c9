"""Who may see or do what: the one place (docs/architecture.md, "Scope"). Views ask
`user.has_perm("tracker.<name>", obj)`, templates `{% if perms.tracker.<name> %}` and the admin
through the same backend (rules.permissions.ObjectPermissionBackend).

Without an object a permission answers for the role ("may this user ever close a plan?"); with
one it also asks the scope, which is the querysets' (Plan/Item.objects.visible_to, editable_by),
so a page and its list can never disagree on what a user reaches."""
import rules

from .models import Item, Plan, Role, organisation_of, role_of


@rules.predicate
def is_planner(user):
    return role_of(user) == Role.PLANNER


@rules.predicate
def is_leader(user):
    return role_of(user) == Role.LEADER


@rules.predicate
def is_unit_user(user):
    return role_of(user) == Role.UNIT


@rules.predicate
def has_organisation(user):
    """Planners and leaders act for an organisation; a superuser without one acts for all."""
    return bool(user.is_superuser or organisation_of(user) is not None)


def _plan_of(obj):
    return obj if isinstance(obj, Plan) else getattr(obj, "plan", None)


@rules.predicate
def plan_visible(user, obj):
    plan = _plan_of(obj)
    return plan is None or Plan.objects.visible_to(user).filter(pk=plan.pk).exists()


@rules.predicate
def plan_editable(user, obj):
    plan = _plan_of(obj)
    return plan is None or Plan.objects.editable_by(user).filter(pk=plan.pk).exists()


@rules.predicate
def item_visible(user, item):
    return item is None or Item.objects.visible_to(user).filter(pk=item.pk).exists()


@rules.predicate
def item_editable(user, item):
    return item is None or Item.objects.editable_by(user).filter(pk=item.pk).exists()


staff = (is_planner | is_leader) & has_organisation

# Reading across entries: dashboards' plan-wide figures, ranking, 填报情况, 后评估, rollups.
rules.add_perm("tracker.read_overview", staff & plan_visible)
# Managing a plan: import, adjust, close and reopen, targets, indicators' import, 督办 of units.
rules.add_perm("tracker.manage_plan", is_planner & has_organisation & plan_editable)
# An entry's page and its reports (the monthly template, the batch upload).
rules.add_perm("tracker.view_item", item_visible)
rules.add_perm("tracker.report_item", ((is_planner & has_organisation) | is_unit_user) & item_editable)
# Issuing 督办 orders and 通报: leaders and planners within their scope.
rules.add_perm("tracker.supervise", staff & plan_visible)
# The admin's user pages: planners, for the accounts of their subtree.
rules.add_perm("tracker.manage_users", is_planner & has_organisation)


def can(user, permission, obj=None) -> bool:
    """A tracker permission, asked of the rules above only: the model backend holds no tracker.*
    permission, and asking it would read the user's and groups' permissions on every page."""
    return rules.has_perm(permission, user, obj)

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.template.response import TemplateResponse
from simple_history.admin import SimpleHistoryAdmin

from .admin_scope import InScope, limited_choices, units_in_reach, users_in_reach
from .lifecycle import frozen_reason
from .models import (
    Category, Channel, ChannelMessage, Item, ItemUnit, Organisation, OrganisationMember, Plan, PlanState, Programme,
    Unit, UnitAlias, organisations_in_reach,
)
from .validation import parse_id

admin.site.site_header = "六重清单管理后台"
admin.site.site_title = "六重清单"
admin.site.index_title = "数据维护"


@admin.register(Plan)
class PlanAdmin(InScope, SimpleHistoryAdmin):
    plan_path = ""
    list_display = ("code", "name", "organisation", "start_year", "end_year", "state", "closed_on", "predecessor",
                    "is_synthetic")
    list_filter = ("state", "organisation")
    search_fields = ("code", "name")
    autocomplete_fields = ("predecessor",)


class UnitAliasInline(admin.TabularInline):
    model = UnitAlias
    extra = 0


def merge_units(target, others):
    """Move every link of `others` to `target`, keep their names as aliases, delete them."""
    with transaction.atomic():
        for unit in others:
            for link in ItemUnit.objects.filter(unit=unit):
                existing = ItemUnit.objects.filter(item_id=link.item_id, unit=target).first()
                if existing is None:
                    link.unit = target
                    link.save()
                else:
                    if link.role == ItemUnit.Role.LEAD and existing.role != ItemUnit.Role.LEAD:
                        existing.role = ItemUnit.Role.LEAD
                        existing.save()
                    link.delete()
            # Whatever else names the unit (an indicator's responsible unit, …) follows it, saved
            # one by one so the change tracker sees each row.
            for relation in unit._meta.related_objects:
                if relation.many_to_one and relation.related_model not in (ItemUnit, UnitAlias):
                    for row in relation.related_model.objects.filter(**{relation.field.name: unit}):
                        setattr(row, relation.field.name, target)
                        row.save()
            target.members.add(*unit.members.all())
            UnitAlias.objects.filter(unit=unit).update(unit=target)
            UnitAlias.objects.update_or_create(name=unit.name, defaults={"unit": target})
            unit.delete()


@admin.action(description="合并所选单位（保留一个，其余名称作为别名）")
def merge_selected_units(modeladmin, request, queryset):
    units = list(queryset.order_by("name"))
    if len(units) < 2:
        modeladmin.message_user(request, "请至少选择两个单位。", messages.WARNING)
        return None
    target_id = request.POST.get("target")
    if request.POST.get("confirm") and target_id:
        target = next((u for u in units if str(u.pk) == target_id), None)
        if target is None:
            modeladmin.message_user(request, "合并目标必须是所选单位之一。", messages.ERROR)
            return None
        others = [u for u in units if u.pk != target.pk]
        merge_units(target, others)
        modeladmin.message_user(
            request, f"已将 {'、'.join(u.name for u in others)} 合并到 {target.name}。", messages.SUCCESS
        )
        return None
    return TemplateResponse(
        request,
        "admin/projects/unit/merge.html",
        {**modeladmin.admin_site.each_context(request), "units": units, "opts": modeladmin.model._meta,
         "title": "合并单位", "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME},
    )


@admin.register(Unit)
class UnitAdmin(SimpleHistoryAdmin):
    list_display = ("name", "item_count", "alias_names")
    search_fields = ("name", "aliases__name")
    inlines = [UnitAliasInline]
    filter_horizontal = ("members",)
    actions = [merge_selected_units]

    def get_queryset(self, request):
        from django.db.models import Count

        units = super().get_queryset(request)
        reach = units_in_reach(request.user)
        # An entry's responsible unit may be any unit (shared across organisations); renaming,
        # merging and members only the units wholly within the planner's scope.
        if reach is not None and getattr(request.resolver_match, "url_name", "") != "autocomplete":
            units = units.filter(pk__in=reach)
        return units.annotate(n_items=Count("item_links")).prefetch_related("aliases")

    @admin.display(description="事项数", ordering="n_items")
    def item_count(self, obj):
        return obj.n_items

    @admin.display(description="别名")
    def alias_names(self, obj):
        return "、".join(a.name for a in obj.aliases.all())


@admin.register(Category)
class CategoryAdmin(InScope, admin.ModelAdmin):
    list_display = ("plan", "list_kind", "order", "name", "printed_total_investment", "printed_plan_investment")
    list_filter = ("plan", "list_kind")
    search_fields = ("name",)


@admin.register(Programme)
class ProgrammeAdmin(InScope, admin.ModelAdmin):
    list_display = ("plan", "seq", "name", "start_year", "end_year", "total_investment", "total_investment_approx")
    list_filter = ("plan",)
    search_fields = ("name", "content")


class FrozenPlanDeletes:
    """A closed plan is frozen (projects.lifecycle.frozen_reason): its entries' reports, milestones
    and targets are not deleted either — not one by one, not from an entry's page, not in bulk.
    Changes and additions are refused by the models' clean()."""

    def has_delete_permission(self, request, obj=None):
        item = obj if isinstance(obj, Item) else getattr(obj, "item", None)  # an inline gets the entry
        if item is not None and frozen_reason(item.plan):
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        closed = Plan.objects.filter(state=PlanState.CLOSED, items__in=queryset.values("item")).distinct().first()
        if closed is not None:
            raise PermissionDenied(frozen_reason(closed).replace("不能再填报进度", "不能删除其事项的记录"))
        super().delete_queryset(request, queryset)


class ItemUnitInline(admin.TabularInline):
    model = ItemUnit
    extra = 0
    autocomplete_fields = ("unit",)


class UnitFilter(admin.SimpleListFilter):
    title = "责任单位"
    parameter_name = "unit"

    def lookups(self, request, model_admin):
        return [(u.pk, u.name) for u in Unit.objects.all()]

    def queryset(self, request, queryset):
        if self.value():
            unit_id = parse_id(self.value())
            if unit_id is None:
                messages.warning(request, f"责任单位编号“{self.value()[:40]}”无效，未找到对应单位。")
                return queryset.none()
            return queryset.filter(unit_links__unit_id=unit_id).distinct()
        return queryset


@admin.register(Item)
class ItemAdmin(InScope, SimpleHistoryAdmin):
    list_display = (
        "seq", "name", "list_kind", "category", "project_type", "period", "total_investment",
        "plan_investment", "status", "unit_names",
    )
    list_display_links = ("seq", "name")
    list_filter = ("plan", "list_kind", "category", "project_type", "status", UnitFilter, "end_year")
    search_fields = ("name", "content", "unit_links__unit__name", "units_as_printed")
    list_per_page = 50
    inlines = [ItemUnitInline]  # reporting/admin.py adds its rows' inlines
    readonly_fields = ("source_line",)
    autocomplete_fields = ("predecessor",)  # a select of every entry would not fit a page

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("category").prefetch_related("unit_links__unit")

    @admin.display(description="建设期限")
    def period(self, obj):
        return obj.period_display

    @admin.display(description="责任单位")
    def unit_names(self, obj):
        return "、".join(link.unit.name for link in obj.unit_links.all()) or "—"


@admin.register(Organisation)
class OrganisationAdmin(SimpleHistoryAdmin):
    """The tree: a planner sees and edits their organisation and those below it, and may add
    organisations below theirs; moving one under its own descendant is refused (Organisation.clean),
    deleting one that owns plans or has organisations below it is refused by the database (PROTECT)
    and the admin says which."""

    list_display = ("indented_name", "code", "level", "parent")
    list_filter = ("level",)
    search_fields = ("name", "code")

    def get_queryset(self, request):
        orgs = super().get_queryset(request)
        reach = organisations_in_reach(request.user)
        return orgs if reach is None else orgs.filter(pk__in=reach)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        choices = limited_choices(db_field.related_model, request.user)
        if choices is not None:
            kwargs["queryset"] = choices
            kwargs["required"] = True  # a new top of the tree is the superuser's to make
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="名称")
    def indented_name(self, obj):
        return "　" * getattr(obj, "tree_depth", 0) + obj.name


class OrganisationMemberInline(admin.StackedInline):
    model = OrganisationMember
    extra = 0
    max_num = 1
    can_delete = True
    verbose_name = verbose_name_plural = "所属组织（规划人员、领导）"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        choices = limited_choices(db_field.related_model, request.user)
        if choices is not None:
            kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def _scoped_user_admin():
    """The users' admin page within a planner's scope: the accounts of their subtree (and unit
    users wholly within it); only a superuser grants superuser status or single permissions."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.admin import UserAdmin

    User = get_user_model()

    class ScopedUserAdmin(UserAdmin):
        inlines = [*UserAdmin.inlines, OrganisationMemberInline]
        list_display = (*UserAdmin.list_display, "organisation")

        def get_queryset(self, request):
            users = super().get_queryset(request).select_related("organisation_membership__organisation")
            reach = users_in_reach(request.user)
            return users if reach is None else users.filter(pk__in=reach.values("pk"))

        def get_readonly_fields(self, request, obj=None):
            fields = super().get_readonly_fields(request, obj)
            return fields if request.user.is_superuser else (*fields, "is_superuser", "user_permissions")

        @admin.display(description="所属组织")
        def organisation(self, obj):
            membership = getattr(obj, "organisation_membership", None)
            return membership.organisation.name if membership else "—"

    if admin.site.is_registered(User):
        admin.site.unregister(User)
    admin.site.register(User, ScopedUserAdmin)


_scoped_user_admin()


# ---------------------------------------------------------------- group robots (docs/architecture.md, "Channels")

TEST_AT_ONCE = 5


@admin.action(description="发送测试消息（立即发送，显示结果）")
def send_test_message(modeladmin, request, queryset):
    from django.utils import timezone

    from .webhooks import SendError, post

    chosen = list(queryset.order_by("pk")[:TEST_AT_ONCE + 1])
    if len(chosen) > TEST_AT_ONCE:  # each waits up to TRACKER_CHANNEL_TIMEOUT: keep the request short
        modeladmin.message_user(request, f"一次最多测试 {TEST_AT_ONCE} 个群机器人，请少选几个。", messages.WARNING)
        return
    for channel in chosen:
        try:
            post(channel, "六重清单群机器人测试", f"这是一条测试消息（{timezone.localtime():%Y-%m-%d %H:%M}），"
                                          "收到即表示配置正确。")
        except SendError as exc:
            Channel.objects.filter(pk=channel.pk).update(last_error=str(exc), last_error_at=timezone.now())
            modeladmin.message_user(request, f"{channel.name}：发送失败，{exc}", messages.ERROR)
        else:
            Channel.objects.filter(pk=channel.pk).update(last_sent_at=timezone.now())
            modeladmin.message_user(request, f"{channel.name}：测试消息已发送。", messages.SUCCESS)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "unit_display", "active", "last_sent_at", "last_error_at", "last_error_short",
                    "pending", "failed")
    list_filter = ("kind", "active", ("unit", admin.EmptyFieldListFilter))
    search_fields = ("name", "unit__name")
    autocomplete_fields = ("unit",)
    readonly_fields = ("last_sent_at", "last_error", "last_error_at")
    fields = ("name", "kind", "organisation", "unit", "webhook_url", "secret", "active", *readonly_fields)
    actions = [send_test_message]

    def get_queryset(self, request):
        from django.db.models import Count, Q

        return self.get_queryset_scope(request, super().get_queryset(request)).select_related(
            "unit", "organisation").annotate(
            n_pending=Count("messages", filter=Q(messages__state=ChannelMessage.State.PENDING)),
            n_failed=Count("messages", filter=Q(messages__state=ChannelMessage.State.FAILED)))

    def get_queryset_scope(self, request, channels):
        """A planner's robots: of the organisations in reach, or of units wholly within it."""
        reach = organisations_in_reach(request.user)
        if reach is None:
            return channels
        return channels.filter(Q(organisation_id__in=reach) | Q(unit__in=units_in_reach(request.user)))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        choices = limited_choices(db_field.related_model, request.user)
        if choices is not None:
            kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="接收范围", ordering="unit__name")
    def unit_display(self, obj):
        if obj.unit_id:
            return obj.unit.name
        return f"{obj.organisation.name if obj.organisation_id else '全部组织'}规划办（红色督办、逾期问题）"

    @admin.display(description="最近错误")
    def last_error_short(self, obj):
        return obj.last_error[:60]

    @admin.display(description="待发送", ordering="n_pending")
    def pending(self, obj):
        return obj.n_pending

    @admin.display(description="发送失败", ordering="n_failed")
    def failed(self, obj):
        return obj.n_failed


@admin.action(description="重新发送所选消息")
def send_again(modeladmin, request, queryset):
    from .channels import queue_sending

    count = queryset.exclude(state=ChannelMessage.State.SENT).update(
        state=ChannelMessage.State.PENDING, attempts=0, next_attempt_at=None)
    transaction.on_commit(queue_sending, robust=True)
    modeladmin.message_user(request, f"{count} 条消息将重新发送（已发送的不会重发）。", messages.SUCCESS)


@admin.register(ChannelMessage)
class ChannelMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "title", "channel_name", "state", "attempts", "last_error", "next_attempt_at",
                    "sent_at")
    list_filter = ("state", "channel")
    search_fields = ("title", "text", "key")
    actions = [send_again]
    list_select_related = ("channel__unit",)

    def get_queryset(self, request):
        reach = organisations_in_reach(request.user)
        messages_ = super().get_queryset(request)
        if reach is None:
            return messages_
        return messages_.filter(Q(channel__organisation_id__in=reach) | Q(channel__unit__in=units_in_reach(request.user)))

    @admin.display(description="群机器人", ordering="channel__name")
    def channel_name(self, obj):
        return obj.channel.name

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

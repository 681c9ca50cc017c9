"""The registry: what the plan says — plans, units, list entries and their responsible units —
and the evaluation clock every app reads (EvaluationState)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Now
from django.utils import timezone
from simple_history.models import HistoricalRecords
from tree_queries.models import TreeNode, TreeNodeForeignKey
from tree_queries.query import TreeQuerySet

MONEY = dict(max_digits=14, decimal_places=4, null=True, blank=True)


class ListKind(models.TextChoices):
    PROJECT = "project", "重大项目"
    PLATFORM = "platform", "重大平台"
    INDUSTRY = "industry", "重大产业"
    REFORM = "reform", "重大改革"
    POLICY = "policy", "重大政策"
    ELEMENT = "element", "重大要素"


class ProjectType(models.TextChoices):
    NEW = "new", "新建"
    CONTINUING = "continuing", "续建"
    PREPARATORY = "preparatory", "前期"
    RESEARCH = "research", "研究"


class ItemStatus(models.TextChoices):
    NOT_STARTED = "not_started", "未开工"
    IN_PROGRESS = "in_progress", "推进中"
    COMPLETED = "completed", "已完成"
    SUSPENDED = "suspended", "暂停"
    CANCELLED = "cancelled", "已取消"


class Role(models.TextChoices):
    PLANNER = "planner", "规划人员"
    LEADER = "leader", "领导"
    UNIT = "unit", "责任单位"


def role_of(user):
    """The user's role: planner, leader or unit (groups named after the roles)."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.PLANNER
    cached = getattr(user, "_tracker_role", None)
    if cached:
        return cached
    names = set(user.groups.values_list("name", flat=True))
    role = Role.PLANNER if Role.PLANNER in names else Role.LEADER if Role.LEADER in names else Role.UNIT
    user._tracker_role = role
    return role


class PlanState(models.TextChoices):
    DRAFT = "draft", "编制中"
    ACTIVE = "active", "执行中"
    CLOSED = "closed", "已收官"


class OrganisationLevel(models.TextChoices):
    PROVINCE = "province", "省"
    CITY = "city", "市"
    COUNTY = "county", "县（市、区）"
    ZONE = "zone", "开发区"
    CROSS_AREA = "cross_area", "跨区域平台"


class OrganisationQuerySet(TreeQuerySet):
    def default_root(self):
        """The organisation a plan or account without one belongs to: the only top of the tree,
        made as “本级” when the tree is empty (a deployment for one office never names one).
        None when the tree has several tops: then the organisation must be named."""
        roots = list(Organisation.objects.filter(parent__isnull=True).order_by("pk")[:2])
        if len(roots) > 1:
            return None
        if roots:
            return roots[0]
        return Organisation.objects.create(code="local", name="本级", level=OrganisationLevel.ZONE)


class Organisation(TreeNode):
    """A government or body that owns plans: 省 › 市 › 县（市、区） › 开发区, a cross-area body under
    the city that leads it. Planners and leaders act on their organisation and everything below
    (scope_of)."""

    parent = TreeNodeForeignKey("self", verbose_name="上级组织", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="children")
    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=100)
    level = models.CharField("层级", max_length=20, choices=OrganisationLevel.choices)
    history = HistoricalRecords()

    objects = OrganisationQuerySet.as_manager(with_tree_fields=True)

    class Meta:
        verbose_name = verbose_name_plural = "组织"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        # tree_queries' own check says it in English; the same rule, said in Chinese.
        if self.pk and self.parent_id:
            above = Organisation.objects.ancestors(self.parent, include_self=True).values_list("pk", flat=True)
            if self.pk in set(above):
                raise ValidationError({"parent": "不能把组织移到它自己或它的下级组织之下。"})


class OrganisationMember(models.Model):
    """The organisation a planner's or leader's account belongs to (one each)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE,
                                related_name="organisation_membership")
    organisation = models.ForeignKey(Organisation, verbose_name="组织", on_delete=models.PROTECT,
                                     related_name="memberships")

    class Meta:
        verbose_name = verbose_name_plural = "组织成员"

    def __str__(self):
        return f"{self.user} · {self.organisation}"


def organisation_of(user):
    """The organisation of a planner's or leader's account, or None (also for the command
    line's stand-in users, which have no row)."""
    if hasattr(user, "_tracker_organisation"):  # read once per request, or set by acting_for
        return user._tracker_organisation
    if not getattr(user, "is_authenticated", False) or getattr(user, "pk", None) is None:
        return None
    if not hasattr(user, "_tracker_organisation"):
        membership = OrganisationMember.objects.filter(user=user).select_related("organisation").first()
        user._tracker_organisation = membership.organisation if membership else None
    return user._tracker_organisation


def scope_of(user):
    """The ids of the organisations a planner or leader acts on: theirs and every one below.
    A superuser without an organisation acts on all; anyone else without one on none."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    if not hasattr(user, "_tracker_scope"):
        org = organisation_of(user)
        if org is None:
            ids = Organisation.objects.values_list("pk", flat=True) if user.is_superuser else []
            user._tracker_scope = frozenset(ids)
        else:
            # with the number of all organisations, in the same query (reach_to_filter asks it)
            rows = list(Organisation.objects.descendants(org, include_self=True).annotate(
                every=RawSQL(f"SELECT COUNT(*) FROM {Organisation._meta.db_table}", ())).values_list("pk", "every"))
            user._tracker_scope = frozenset(pk for pk, _ in rows)
            user._tracker_reaches_all = (user._tracker_scope, bool(rows) and len(rows) >= rows[0][1])
    return user._tracker_scope


def acting_for(user, organisation):
    """The user acting for one organisation in their reach: a copy of the account whose
    organisation and scope are that organisation and those below it (a 通报 or a page for one
    city of a province); None when the organisation is outside the user's reach."""
    import copy

    reach = organisations_in_reach(user)
    if organisation is None or (reach is not None and organisation.pk not in reach):
        return None
    narrowed = copy.copy(user)
    narrowed._tracker_organisation = organisation
    narrowed._tracker_scope = frozenset(
        Organisation.objects.descendants(organisation, include_self=True).values_list("pk", flat=True))
    return narrowed


def organisations_in_reach(user):
    """None when a planner or leader acts on everything (a superuser without an organisation),
    else the ids of the organisations they act on (scope_of) — for querysets of other apps that
    reach a plan by another path (a problem's entry, an order's issuer)."""
    if user.is_superuser and organisation_of(user) is None:
        return None
    return scope_of(user)


def reach_to_filter(user):
    """organisations_in_reach for filtering rows: also None when the scope holds every
    organisation (a province-wide planner or leader), whose rows then carry no organisation
    filter — the same rows (and a plan not yet given an organisation), read without a filter
    that costs a join or a sub-query over every entry at province scale."""
    reach = organisations_in_reach(user)
    if reach is None:
        return None
    memo = getattr(user, "_tracker_reaches_all", None)
    if memo is None or memo[0] is not reach:  # acting_for's copy carries a narrower scope
        memo = (reach, len(reach) >= Organisation.objects.without_tree_fields().count())
        user._tracker_reaches_all = memo
    return None if memo[1] else reach


class PlanQuerySet(models.QuerySet):
    def in_force(self):
        """The plans whose 六重清单 pages show by default, per owning organisation: those 执行中
        that hold entries; when none does, the organisation's plan closed last (so a zone between two plans still sees its last one,
        marked 已收官). Plans holding only indicators (指标体系) have no lists to show."""
        with_lists = Exists(Item.objects.filter(plan=OuterRef("pk")))
        lists = Plan.objects.filter(with_lists)
        same_owner = Q(organisation=OuterRef("organisation"))
        last_closed = (lists.filter(same_owner, state=PlanState.CLOSED)
                       .order_by("-closed_on", "-end_year", "-pk").values("pk")[:1])
        no_active = ~Exists(lists.filter(same_owner, state=PlanState.ACTIVE))
        return self.filter(with_lists).filter(Q(state=PlanState.ACTIVE) | (Q(pk=Subquery(last_closed)) & no_active))

    def visible_to(self, user):
        """The plans a user may read: a planner's or leader's organisation and everything below
        it (scope_of); a unit user the plans holding an entry of its units."""
        role = role_of(user)
        if role in (Role.PLANNER, Role.LEADER):
            reach = reach_to_filter(user)
            return self if reach is None else self.filter(organisation_id__in=reach)
        if role is None:
            return self.none()
        return self.filter(Exists(ItemUnit.objects.filter(item__plan=OuterRef("pk"), unit__members=user)))

    def editable_by(self, user):
        """The plans a user may change (import, close, targets, users): a planner's scope."""
        return self.visible_to(user) if role_of(user) == Role.PLANNER else self.none()


class Plan(models.Model):
    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("规划名称", max_length=200)
    issuer = models.CharField("发布机关", max_length=200, blank=True)
    start_year = models.PositiveSmallIntegerField("起始年份", default=2021)
    end_year = models.PositiveSmallIntegerField("结束年份", default=2025)
    printed_totals = models.JSONField("印刷合计", default=dict, blank=True)
    is_synthetic = models.BooleanField("合成数据", default=False)
    state = models.CharField("状态", max_length=10, choices=PlanState.choices, default=PlanState.ACTIVE, db_index=True)
    closed_on = models.DateField("收官评估日期", null=True, blank=True,
                                 help_text="收官时按此日期评估并保存各事项的灯色和预警")
    predecessor = models.ForeignKey("self", verbose_name="上一期规划", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="successors")
    organisation = models.ForeignKey(Organisation, verbose_name="所属组织", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="plans",
                                     help_text="编制并推进本规划的政府或机构；其规划人员和领导及上级组织可见")
    history = HistoricalRecords(excluded_fields=["printed_totals"])

    objects = PlanQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "规划"
        constraints = [
            models.CheckConstraint(condition=Q(end_year__gte=models.F("start_year")), name="plan_period_order"),
            models.CheckConstraint(condition=~Q(state="closed") | Q(closed_on__isnull=False), name="plan_closed_has_date",
                                   violation_error_message="已收官的规划必须填写收官评估日期"),
        ]

    def __str__(self):
        return self.label

    def save(self, *args, **kwargs):
        if self.organisation_id is None:
            self.organisation = Organisation.objects.default_root()
        super().save(*args, **kwargs)

    @property
    def is_closed(self) -> bool:
        return self.state == PlanState.CLOSED

    @property
    def label(self) -> str:
        """The name with its state where it is not 执行中: “… （已收官）”."""
        return self.name if self.state == PlanState.ACTIVE else f"{self.name}（{self.get_state_display()}）"

    @property
    def period_name(self) -> str:
        """“十四五” for 2021–2025, “十五五” for 2026–2030 …; the years for any other span."""
        return period_name(self.start_year, self.end_year)


CN_DIGITS = "零一二三四五六七八九"


FROZEN_WHAT = {"report": "填报进度", "milestone": "修改节点", "target": "修改年度推进计划", "status": "修改状态"}


def frozen_reason(plan, what="report"):
    """Why nothing may be written to a closed plan's entries, or None (plan 已收官: frozen as of
    its closing date, so its 后评估 and dashboard stay as closed)."""
    if plan is None or plan.state != PlanState.CLOSED:
        return None
    closed = f"{plan.closed_on:%Y-%m-%d}" if plan.closed_on else "此前"
    return f"规划“{plan.name}”已于 {closed} 收官，不能再{FROZEN_WHAT[what]}。"


def chinese_number(n: int) -> str:
    """1–99 in Chinese numerals (十四, 二十一)."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return CN_DIGITS[ones]
    return (CN_DIGITS[tens] if tens > 1 else "") + "十" + (CN_DIGITS[ones] if ones else "")


THIRD_PLAN_YEAR = 1966  # five-year plans run back to back from the third (1966–1970) on


def period_name(start_year, end_year) -> str:
    number, offset = divmod(start_year - THIRD_PLAN_YEAR, 5)
    if offset == 0 and end_year == start_year + 4 and 0 <= number < 90:
        return f"{chinese_number(number + 3)}五"
    return f"{start_year}–{end_year}"


def period_of_name(name: str):
    """(start, end) of a five-year plan's name: “十五五” → (2026, 2030); None if it is not one."""
    import re

    match = re.fullmatch(r"(十[一二三四五六七八九]?|[三四五六七八九]|[二三四五六七八九]十[一二三四五六七八九]?)五", name)
    if not match:
        return None
    text = match.group(1)
    tens, _, ones = text.rpartition("十")
    if "十" in text:
        number = (CN_DIGITS.index(tens) if tens else 1) * 10 + (CN_DIGITS.index(ones) if ones else 0)
    else:
        number = CN_DIGITS.index(text)
    start = THIRD_PLAN_YEAR + (number - 3) * 5
    return start, start + 4


class Unit(models.Model):
    name = models.CharField("单位名称", max_length=200, unique=True, help_text="规范化名称")
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name="用户", related_name="units", blank=True
    )
    contact_person = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=50, blank=True)
    contact_email = models.EmailField("联系邮箱", blank=True, help_text="填报提醒发往此邮箱及本单位用户的邮箱")
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "责任单位"
        ordering = ["name"]

    def __str__(self):
        return self.name


class UnitAlias(models.Model):
    unit = models.ForeignKey(Unit, verbose_name="单位", on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField("别名", max_length=200, unique=True)

    class Meta:
        verbose_name = verbose_name_plural = "单位别名"

    def __str__(self):
        return self.name


class Category(models.Model):
    plan = models.ForeignKey(Plan, verbose_name="规划", on_delete=models.CASCADE, related_name="categories")
    list_kind = models.CharField("清单", max_length=20, choices=ListKind.choices)
    order = models.PositiveSmallIntegerField("顺序")
    name = models.CharField("类别名称", max_length=200)
    printed_label = models.CharField("印刷标题", max_length=200, blank=True)
    printed_total_investment = models.DecimalField("印刷小计·总投资", **MONEY)
    printed_plan_investment = models.DecimalField("印刷小计·规划期投资", **MONEY)

    class Meta:
        verbose_name = verbose_name_plural = "类别"
        ordering = ["plan", "list_kind", "order"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "list_kind", "order"], name="category_unique_order"),
        ]

    def __str__(self):
        return self.name


class Programme(models.Model):
    plan = models.ForeignKey(Plan, verbose_name="规划", on_delete=models.CASCADE, related_name="programmes")
    seq = models.PositiveIntegerField("序号")
    name = models.CharField("项目名称", max_length=300)
    content = models.TextField("建设内容", blank=True)
    start_year = models.PositiveSmallIntegerField("开始年份", null=True, blank=True)
    end_year = models.PositiveSmallIntegerField("结束年份", null=True, blank=True)
    total_investment = models.DecimalField("总投资（亿元）", **MONEY)
    total_investment_approx = models.BooleanField("总投资为约数", default=False)
    source_line = models.PositiveIntegerField("来源行", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "十大（类）百亿工程"
        ordering = ["plan", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "seq"], name="programme_unique_seq"),
            models.CheckConstraint(
                condition=Q(end_year__isnull=True) | Q(start_year__isnull=True) | Q(end_year__gte=models.F("start_year")),
                name="programme_period_order",
            ),
            models.CheckConstraint(
                condition=Q(total_investment__isnull=True) | Q(total_investment__gte=0),
                name="programme_investment_nonnegative",
            ),
        ]

    def __str__(self):
        return self.name


def period_text(start_year, end_year):
    """建设期限 as printed: one year, a span, or 待定."""
    if start_year is None:
        return "待定"
    if start_year == end_year:
        return str(start_year)
    return f"{start_year}-{end_year}"


def unchanged(instance) -> bool:
    """The row is stored and none of its fields differ (an admin page re-validates a closed plan's
    rows it shows unchanged: those are not refused)."""
    if instance.pk is None:
        return False
    names = [f.attname for f in instance._meta.concrete_fields
             if not getattr(f, "auto_now", False) and not getattr(f, "auto_now_add", False)]
    stored = type(instance).objects.filter(pk=instance.pk).values(*names).first()
    return stored is not None and all(stored[name] == getattr(instance, name) for name in names)


def listed_q(as_of, prefix: str = "") -> Q:
    """Q: the entry is on its plan's lists on `as_of` (动态调整, docs/architecture.md "One definition
    per concept"): not added by an adjustment after that day (`added_on`), and not taken out
    (调出) on or before it (`withdrawn_on`). Counts, lists, rules, who owes and reminders read it;
    `prefix` names the entry from another model, e.g. "item__"."""
    p = prefix
    return ((Q(**{f"{p}added_on__isnull": True}) | Q(**{f"{p}added_on__lte": as_of}))
            & (Q(**{f"{p}withdrawn_on__isnull": True}) | Q(**{f"{p}withdrawn_on__gt": as_of})))


def is_listed(added_on, withdrawn_on, as_of) -> bool:
    """The Python form of listed_q for one entry's two dates."""
    return (added_on is None or added_on <= as_of) and (withdrawn_on is None or withdrawn_on > as_of)


class WithdrawalReason(models.TextChoices):
    """The reasons offered for taking an entry out of the lists (调出); any other text is allowed."""
    DONE = "已完成", "已完成"
    MERGED = "合并", "合并"
    CANCELLED = "取消", "取消"
    NOT_READY = "不具备条件", "不具备条件"


class ItemQuerySet(models.QuerySet):
    def listed(self, as_of):
        """The entries on their plan's lists on `as_of` (listed_q)."""
        return self.filter(listed_q(as_of))

    def visible_to(self, user):
        """Row-level scope: planners and leaders see the entries of the plans their organisation
        and those below it own (Plan.objects.visible_to); unit users only entries where one of
        their units is lead or support, whichever organisation's plan holds them."""
        role = role_of(user)
        if role in (Role.PLANNER, Role.LEADER):
            reach = reach_to_filter(user)
            return self if reach is None else self.filter(plan__organisation_id__in=reach)
        if role is None:
            return self.none()
        return self.filter(
            Exists(ItemUnit.objects.filter(item=OuterRef("pk"), unit__members=user))
        )

    def editable_by(self, user):
        """The entries the user may report on: planners those of their scope, unit users their
        units', leaders none."""
        role = role_of(user)
        if role == Role.PLANNER:
            return self.visible_to(user)
        if role == Role.UNIT:
            return self.filter(Exists(ItemUnit.objects.filter(item=OuterRef("pk"), unit__members=user)))
        return self.none()

    def of_list(self, kind):
        return self.filter(list_kind=kind)


class Item(models.Model):
    plan = models.ForeignKey(Plan, verbose_name="规划", on_delete=models.CASCADE, related_name="items")
    list_kind = models.CharField("清单", max_length=20, choices=ListKind.choices, db_index=True)
    category = models.ForeignKey(
        Category, verbose_name="类别", on_delete=models.PROTECT, null=True, blank=True, related_name="items"
    )
    seq = models.PositiveIntegerField("序号")
    name = models.CharField("名称", max_length=300)
    content = models.TextField("建设规模和内容 / 工作目标任务", blank=True)
    domain = models.CharField("领域", max_length=100, blank=True)
    project_type = models.CharField("项目类型", max_length=20, choices=ProjectType.choices, blank=True)
    start_year = models.PositiveSmallIntegerField("开始年份", null=True, blank=True)
    end_year = models.PositiveSmallIntegerField("结束年份", null=True, blank=True)
    total_investment = models.DecimalField("总投资（亿元）", **MONEY)
    total_investment_approx = models.BooleanField("总投资为约数", default=False)
    plan_investment = models.DecimalField("规划期投资（亿元）", **MONEY, help_text="规划期内计划投资，如“十四五”投资")
    plan_investment_approx = models.BooleanField("规划期投资为约数", default=False)
    status = models.CharField(
        "状态", max_length=20, choices=ItemStatus.choices, default=ItemStatus.NOT_STARTED, db_index=True
    )
    units_as_printed = models.CharField("责任单位（原文）", max_length=500, blank=True)
    source_line = models.PositiveIntegerField("来源行", null=True, blank=True)
    units = models.ManyToManyField(Unit, through="ItemUnit", verbose_name="责任单位", related_name="items")
    predecessor = models.OneToOneField(
        "self", verbose_name="接续上一期规划事项", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="successor", help_text="本事项接续的上一期规划中同一项目（如 十五五 续建接续 十四五 事项）",
    )
    added_on = models.DateField("调入日期", null=True, blank=True,
                                help_text="动态调整中加入清单的日期；首次导入的事项为空（自规划期开始）")
    withdrawn_on = models.DateField("调出日期", null=True, blank=True,
                                    help_text="动态调整中调出清单的日期：自此日起不计入清单、统计、预警和填报")
    withdrawal_reason = models.CharField("调出原因", max_length=200, blank=True)
    adjustment = models.ForeignKey("PlanImport", verbose_name="调出所在的调整", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="withdrawn_items")
    updated_at = models.DateTimeField("更新时间", auto_now=True, db_default=Now())  # COPY writers too
    history = HistoricalRecords(excluded_fields=["source_line", "updated_at"])

    objects = ItemQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "清单事项"
        ordering = ["plan", "list_kind", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "list_kind", "seq"], name="item_unique_seq"),
            models.CheckConstraint(
                condition=Q(end_year__isnull=True) | Q(start_year__isnull=True) | Q(end_year__gte=models.F("start_year")),
                name="item_period_order",
            ),
            models.CheckConstraint(
                condition=Q(total_investment__isnull=True) | Q(total_investment__gte=0),
                name="item_total_investment_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(plan_investment__isnull=True) | Q(plan_investment__gte=0),
                name="item_plan_investment_nonnegative",
            ),
        ]
        indexes = [
            models.Index(fields=["list_kind", "category", "status"], name="item_list_cat_status"),
            models.Index(fields=["end_year"], name="item_end_year"),
        ]

    def __str__(self):
        return f"{self.seq}. {self.name}"

    @property
    def period_display(self):
        return period_text(self.start_year, self.end_year)

    def listed_on(self, as_of) -> bool:
        return is_listed(self.added_on, self.withdrawn_on, as_of)

    def chain(self) -> list:
        """The project across plans, earliest first: predecessors, this entry, successors."""
        before, seen = [], {self.pk}
        node = self.predecessor
        while node is not None and node.pk not in seen:
            before.insert(0, node)
            seen.add(node.pk)
            node = node.predecessor
        after, node = [], getattr(self, "successor", None)
        while node is not None and node.pk not in seen:
            after.append(node)
            seen.add(node.pk)
            node = getattr(node, "successor", None)
        return [*before, self, *after]

    def clean(self):
        super().clean()
        if self.pk and self.plan_id:
            stored = Item.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            frozen = frozen_reason(Plan.objects.get(pk=self.plan_id), "status")
            if frozen and stored is not None and stored != self.status:
                raise ValidationError({"status": frozen})
        if self.predecessor_id is None:
            return
        link = Item.objects.select_related("plan").filter(pk=self.predecessor_id).first()
        if link is None:
            return
        if link.pk == self.pk or link.plan_id == self.plan_id:
            raise ValidationError({"predecessor": "接续的事项必须属于另一期规划"})
        if self.plan_id and link.plan.start_year >= Plan.objects.get(pk=self.plan_id).start_year:
            raise ValidationError({"predecessor": "接续的事项必须属于更早一期的规划"})
        if link.list_kind != self.list_kind:
            raise ValidationError({"predecessor": "接续的事项必须属于同一清单"})


class PlanImport(models.Model):
    """An uploaded plan file (its lists or its indicators), kept with the plan's history: staged
    by the upload (nothing written), then applied on confirm or cancelled. An applied import of a
    plan's lists into a plan that already had entries is an adjustment (动态调整): its date, 文号,
    who made it and the counts added, changed and withdrawn are recorded here. The command
    records its imports the same way."""

    class Kind(models.TextChoices):
        LISTS = "lists", "六重清单"
        INDICATORS = "indicators", "指标体系"

    class State(models.TextChoices):
        STAGED = "staged", "待确认"
        APPLIED = "applied", "已导入"
        CANCELLED = "cancelled", "已取消"

    token = models.CharField("标记", max_length=32, unique=True)
    kind = models.CharField("内容", max_length=12, choices=Kind.choices)
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.STAGED)
    plan = models.ForeignKey(Plan, verbose_name="规划", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="imports")
    plan_code = models.CharField("规划代码", max_length=40)
    plan_name = models.CharField("规划名称", max_length=200, blank=True)
    predecessor_code = models.CharField("上一期规划代码", max_length=40, blank=True)
    organisation = models.ForeignKey(Organisation, verbose_name="所属组织（新建规划）", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    filename = models.CharField("文件名", max_length=255)
    data = models.BinaryField("文件内容")
    checksum = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)
    applied_at = models.DateTimeField("导入时间", null=True, blank=True)
    is_adjustment = models.BooleanField("动态调整", default=False)
    adjusted_on = models.DateField("调整日期", null=True, blank=True)
    document_no = models.CharField("文号", max_length=100, blank=True)
    counts = models.JSONField("调整计数", default=dict, blank=True)  # added, changed, withdrawn, kept
    preview = models.JSONField("预览", default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "规划文件导入"
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self):
        return f"{self.filename}（{self.get_state_display()}）"


class ItemUnit(models.Model):
    class Role(models.TextChoices):
        LEAD = "lead", "牵头"
        SUPPORT = "support", "配合"

    item = models.ForeignKey(Item, verbose_name="事项", on_delete=models.CASCADE, related_name="unit_links")
    unit = models.ForeignKey(Unit, verbose_name="单位", on_delete=models.PROTECT, related_name="item_links")
    role = models.CharField("角色", max_length=10, choices=Role.choices, default=Role.LEAD)
    updated_at = models.DateTimeField("更新时间", auto_now=True, db_default=Now())  # COPY writers too
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = verbose_name_plural = "责任分工"
        ordering = ["item", "role", "pk"]
        constraints = [models.UniqueConstraint(fields=["item", "unit"], name="itemunit_unique")]

    def __str__(self):
        return f"{self.unit}（{self.get_role_display()}）"


class EvaluationState(models.Model):
    """One row: the date every entry's figures are evaluated at, and the data version that
    cached read-side results are keyed by (raised after every committed change)."""

    as_of = models.DateField("评估日期", null=True)
    version = models.BigIntegerField("数据版本", default=0)
    evaluated_at = models.DateTimeField("最近全量评估", null=True)
    # The rule thresholds the stored lights and flags were computed with (portfolio.evaluation.thresholds_key).
    thresholds = models.CharField("评估所用阈值", max_length=200, blank=True)
    # Moved with `version` by every change that is not confined to some plans' entries (a unit
    # renamed, a plan's state or period, the nightly run): the partial sums cached per slice of
    # plans (projects.versions.sliced) name it, the data version of everything else.
    base_version = models.BigIntegerField("基础数据版本", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "评估状态"


class DataSlice(models.Model):
    """The data version of one slice of the plans (plan id modulo projects.versions.SLICES):
    moved after a change confined to entries of its plans, so the dashboard's partial sums of
    the other slices stay cached (projects.versions.sliced)."""

    bucket = models.PositiveSmallIntegerField("分片", primary_key=True)
    version = models.BigIntegerField("数据版本", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "分片数据版本"


class PendingWork(models.Model):
    """The outbox of the change tracker (projects/changes.py): what must follow a change,
    written in the change's own transaction. A row is deleted once the work it names is done
    (after commit, at once; else by portfolio.tasks.drain_outbox_task with backoff, and by the
    nightly run). kind "item": re-evaluate the entry; "indicator": re-evaluate the indicator;
    "version": move the data version (a change that touches no entry, e.g. a unit renamed)."""

    class Kind(models.TextChoices):
        ITEM = "item", "事项"
        INDICATOR = "indicator", "指标"
        VERSION = "version", "数据版本"

    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    object_id = models.BigIntegerField("对象")
    token = models.CharField("标记", max_length=32)  # the marking transaction's; a later mark replaces it
    marked_at = models.DateTimeField("记入时间", default=timezone.now)
    attempts = models.PositiveIntegerField("失败次数", default=0)
    last_error = models.TextField("最近错误", blank=True)
    next_attempt_at = models.DateTimeField("下次重试", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "待完成的重新计算"
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="pending_work_unique")]
        indexes = [models.Index(fields=["token"], name="pending_work_token")]


class ChannelKind(models.TextChoices):
    DINGTALK = "dingtalk", "钉钉"
    WECOM = "wecom", "企业微信"


class Channel(models.Model):
    """A group robot (钉钉 / 企业微信 webhook) that reminders and escalations are posted to, besides
    the e-mails (projects/channels.py). With a unit: that unit's group (its orders, its overdue
    problems, its missing reports). Without one: a planning office's group, which receives the
    escalations to the issuer side (red orders, overdue problems) about the plans of its
    `organisation` and those below it (no organisation: every one)."""
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=10, choices=ChannelKind.choices)
    webhook_url = models.URLField("Webhook 地址", max_length=500,
                                  help_text="群机器人设置页复制的完整地址（含 access_token 或 key）")
    secret = models.CharField("加签密钥", max_length=200, blank=True,
                              help_text="仅钉钉：机器人安全设置选“加签”时的 SEC 开头密钥")
    organisation = models.ForeignKey(Organisation, verbose_name="组织（规划办的群）", on_delete=models.CASCADE,
                                     null=True, blank=True, related_name="channels",
                                     help_text="不填责任单位时：该组织（及其下级）的规划办群；都不填：全部组织")
    unit = models.ForeignKey(Unit, verbose_name="责任单位", on_delete=models.CASCADE, null=True, blank=True,
                             related_name="channels", help_text="留空：规划办（牵头部门）群，接收红色督办和逾期问题")
    active = models.BooleanField("启用", default=True)
    last_sent_at = models.DateTimeField("最近发送成功", null=True, blank=True)
    last_error = models.TextField("最近错误", blank=True)
    last_error_at = models.DateTimeField("最近出错时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "群机器人"
        ordering = ["unit__name", "name"]

    def __str__(self):
        return f"{self.name}（{self.get_kind_display()}，{self.unit.name if self.unit_id else '规划办'}）"

    def clean(self):
        """Refuse, on the field and in Chinese, an address a robot cannot have: not http(s), or a host
        outside TRACKER_CHANNEL_HOSTS (the robots' own by default: the server posts nowhere else);
        a 加签 secret on a 企业微信 robot, which has none."""
        from urllib.parse import urlsplit

        errors = {}
        parts = urlsplit(self.webhook_url or "")
        allowed = settings.TRACKER_CHANNEL_HOSTS
        if self.webhook_url and parts.scheme not in ("http", "https"):
            errors["webhook_url"] = "Webhook 地址应以 https:// 开头。"
        elif self.webhook_url and allowed and (parts.hostname or "") not in allowed:
            errors["webhook_url"] = (f"“{parts.hostname}”不是允许的机器人地址，允许：{'、'.join(allowed)}"
                                     "（运维人员可在 TRACKER_CHANNEL_HOSTS 中设置）。")
        if self.secret and self.kind == ChannelKind.WECOM:
            errors["secret"] = "企业微信群机器人没有加签密钥，请留空。"
        elif self.secret and not self.secret.startswith("SEC"):
            errors["secret"] = "钉钉加签密钥以 SEC 开头，请从机器人安全设置中完整复制。"
        if errors:
            raise ValidationError(errors)


class ChannelMessage(models.Model):
    """One message to post to one channel: the durable record written in the transaction that
    decided to send it, drained by `projects.tasks.send_channel_messages_task` with backoff
    (projects/channels.py). `key` names the reminder, so queuing it twice keeps one row."""

    class State(models.TextChoices):
        PENDING = "pending", "待发送"
        SENT = "sent", "已发送"
        FAILED = "failed", "发送失败"

    channel = models.ForeignKey(Channel, verbose_name="群机器人", on_delete=models.CASCADE, related_name="messages")
    key = models.CharField("消息标识", max_length=200)
    title = models.CharField("标题", max_length=200)
    text = models.TextField("内容（Markdown）")
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField("记入时间", default=timezone.now)
    attempts = models.PositiveIntegerField("失败次数", default=0)
    next_attempt_at = models.DateTimeField("下次重试", null=True, blank=True)
    last_error = models.TextField("最近错误", blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    last_posted_at = models.DateTimeField("最近一次发送尝试", null=True, blank=True)  # the robots' rate limit

    class Meta:
        verbose_name = verbose_name_plural = "群机器人消息"
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["channel", "key"], name="channel_message_once")]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="channel_message_due"),
                   models.Index(fields=["channel", "last_posted_at"], name="channel_message_posted")]

    def __str__(self):
        return f"{self.title}（{self.get_state_display()}）"

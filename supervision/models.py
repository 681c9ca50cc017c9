"""The closed loop (docs/architecture.md, "Problems and 督办"): problems raised from reports
(问题协调) and 督办 orders, each a state machine (django-fsm-2) whose every transition is recorded
with who, when and what was said (django-fsm-log's StateLog)."""
import datetime
import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description

from projects.models import Item, ItemUnit, Role, Unit, reach_to_filter, role_of
from reporting.models import StatusReport


def unit_ids(user):
    """The ids of the user's units (read once per user object)."""
    cached = getattr(user, "_supervision_units", None)
    if cached is None:
        cached = user._supervision_units = frozenset(user.units.values_list("pk", flat=True)) \
            if user.is_authenticated else frozenset()
    return cached


def is_planner(instance, user):
    return role_of(user) == Role.PLANNER


# ---------------------------------------------------------------- problems (问题协调)

class ProblemKind(models.TextChoices):
    LAND = "land", "用地"
    FUNDING = "funding", "资金"
    APPROVAL = "approval", "审批"
    POLICY = "policy", "政策处理"
    FACTORS = "factors", "要素保障"
    OTHER = "other", "其他"


class ProblemLevel(models.TextChoices):
    DEPARTMENT = "department", "部门"
    ZONE = "zone", "开发区"
    HIGHER = "higher", "上级"


class ProblemState(models.TextChoices):
    PENDING = "pending", "待分办"
    COORDINATING = "coordinating", "协调中"
    ANSWERED = "answered", "已答复"
    CLOSED = "closed", "已销号"
    RETURNED = "returned", "已退回"
    MERGED = "merged", "已合并"


OPEN_PROBLEM_STATES = (ProblemState.PENDING, ProblemState.COORDINATING, ProblemState.ANSWERED)
# What is owed while a problem waits for its answer: overdue when its deadline has passed in these.
OWING_PROBLEM_STATES = (ProblemState.PENDING, ProblemState.COORDINATING)


class ProblemQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Planners and leaders the problems of the entries in their scope; a unit user the
        problems of its entries and those its units coordinate; nobody else any."""
        role = role_of(user)
        if role in (Role.PLANNER, Role.LEADER):
            reach = reach_to_filter(user)
            return self if reach is None else self.filter(item__plan__organisation_id__in=reach)
        if role is None:
            return self.none()
        units = unit_ids(user)
        # the entries' ids read first: two index lookups (OR'ed bitmaps) instead of testing
        # every problem against a sub-query
        own_entries = list(ItemUnit.objects.filter(unit__in=units).order_by().values_list("item_id", flat=True).distinct())
        return self.filter(Q(item_id__in=own_entries) | Q(coordinating_unit__in=units))

    def open(self):
        return self.filter(state__in=OPEN_PROBLEM_STATES)

    def overdue(self, today):
        return self.filter(state__in=OWING_PROBLEM_STATES, deadline__lt=today)

    def due_by(self, as_of: datetime.date):
        """The problems the unit ranking counts on a date (问题按期办结, docs/architecture.md "Ranking"):
        raised by then, neither sent back nor merged, and either past their deadline or closed
        (销号) by then. Closed in time: `solved_on_time(as_of)`."""
        return self.filter(raised_on__lte=as_of).exclude(
            state__in=(ProblemState.RETURNED, ProblemState.MERGED)).filter(
            Q(deadline__lt=as_of) | Q(state=ProblemState.CLOSED, closed_at__date__lte=as_of))


def solved_on_time(as_of: datetime.date) -> Q:
    """A problem closed (销号) on or before its deadline and by `as_of` (Asia/Shanghai days)."""
    return Q(state=ProblemState.CLOSED, closed_at__date__lte=F("deadline")) & Q(closed_at__date__lte=as_of)


def problem_file_path(instance, filename):
    """Stored under a random name (the original name is kept in `close_file_name`)."""
    return f"problems/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}{Path(filename).suffix.lower()}"


class Problem(ConcurrentTransitionMixin, models.Model):
    item = models.ForeignKey(Item, verbose_name="事项", on_delete=models.CASCADE, related_name="problems")
    report = models.ForeignKey(StatusReport, verbose_name="来源填报", on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="raised_problems")
    description = models.TextField("问题描述")
    kind = models.CharField("问题类型", max_length=20, choices=ProblemKind.choices)
    level = models.CharField("协调层级", max_length=20, choices=ProblemLevel.choices)
    coordinating_unit = models.ForeignKey(Unit, verbose_name="协调单位", on_delete=models.PROTECT,
                                          related_name="coordinated_problems")
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="分管领导（用户）", on_delete=models.SET_NULL,
                               null=True, blank=True, related_name="led_problems")
    leader_name = models.CharField("分管领导", max_length=100, blank=True)
    deadline = models.DateField("办理期限")
    state = FSMField("状态", max_length=20, choices=ProblemState.choices, default=ProblemState.PENDING,
                     db_index=True)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="提出人", on_delete=models.SET_NULL,
                                  null=True, related_name="raised_problems")
    raised_at = models.DateTimeField("提出时间", default=timezone.now)
    raised_on = models.DateField("提出日期", default=timezone.localdate, db_index=True)
    merged_into = models.ForeignKey("self", verbose_name="合并到", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="merged_problems")
    return_reason = models.TextField("退回理由", blank=True)
    answer = models.TextField("答复", blank=True)
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)
    close_note = models.TextField("销号说明", blank=True)
    close_file = models.FileField("销号佐证材料", upload_to=problem_file_path, blank=True, max_length=200)
    close_file_name = models.CharField("材料原文件名", max_length=200, blank=True)
    closed_at = models.DateTimeField("销号时间", null=True, blank=True)
    # Whether the last reminder run announced it overdue (supervision/reminders.py): an overdue
    # reminder goes out only when this differs from `is_overdue`, so once per change.
    notified_overdue = models.BooleanField("已催办逾期", default=False)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ProblemQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "问题协调"
        ordering = ["-raised_at", "-pk"]
        indexes = [models.Index(fields=["state", "deadline"], name="problem_state_deadline"),
                   models.Index(fields=["coordinating_unit", "state"], name="problem_unit_state")]

    def __str__(self):
        return f"问题 #{self.pk}：{self.description[:30]}"

    @property
    def leader_display(self):
        if self.leader_id:
            return self.leader.get_full_name() or self.leader.username
        return self.leader_name

    def is_overdue(self, today):
        return self.state in OWING_PROBLEM_STATES and self.deadline < today

    # -- transitions (the permitted ones are the buttons on the detail page) --------------------
    def coordinates(self, user):
        return self.coordinating_unit_id in unit_ids(user)

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=ProblemState.PENDING, target=ProblemState.COORDINATING, permission=is_planner,
                custom={"label": "受理分办"})
    def accept(self, by=None, description=None):
        """Assign: the coordinating unit, leader and deadline are set by the form."""

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=ProblemState.PENDING, target=ProblemState.MERGED, permission=is_planner,
                custom={"label": "合并"})
    def merge(self, into, by=None, description=None):
        self.merged_into = into

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=ProblemState.PENDING, target=ProblemState.RETURNED, permission=is_planner,
                custom={"label": "退回"})
    def send_back(self, by=None, description=None):
        self.return_reason = description

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=ProblemState.RETURNED, target=ProblemState.PENDING,
                permission=lambda instance, user: instance.raised_by_unit(user), custom={"label": "重新提交"})
    def resubmit(self, by=None, description=None):
        """A problem sent back goes to triage again, revised by the form (the reason stays shown)."""

    def raised_by_unit(self, user):
        """Whether the user reports on the problem's entry (its units; planners every entry)."""
        return Item.objects.editable_by(user).filter(pk=self.item_id).exists()

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=[ProblemState.COORDINATING, ProblemState.ANSWERED], target=ProblemState.ANSWERED,
                permission=lambda instance, user: instance.coordinates(user), custom={"label": "答复"})
    def reply(self, by=None, description=None):
        self.answer = description
        self.answered_at = timezone.now()

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=ProblemState.ANSWERED, target=ProblemState.CLOSED, permission=is_planner,
                custom={"label": "销号"})
    def close(self, by=None, description=None):
        self.close_note = description
        self.closed_at = timezone.now()

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=ProblemState.CLOSED, target=ProblemState.COORDINATING, permission=is_planner,
                custom={"label": "重新打开"})
    def reopen(self, by=None, description=None):
        self.closed_at = None


# ---------------------------------------------------------------- 督办 orders

class OrderState(models.TextChoices):
    ISSUED = "issued", "已下发"
    SIGNED = "signed", "已签收"
    ANSWERED = "answered", "已反馈"
    RETURNED = "returned", "已退回"
    CLOSED = "closed", "已办结"


class Colour(models.TextChoices):
    """The 三色督办 colour of an order (see `colour_of` for the rule)."""
    RED = "red", "红色"
    YELLOW = "yellow", "黄色"
    BLUE = "blue", "蓝色"
    NONE = "none", "正常"
    DONE = "done", "已办结"


# An answer stands while the order is 已反馈 or 已办结 (sent back, 已退回, it no longer does).
ANSWER_STANDS = (OrderState.ANSWERED, OrderState.CLOSED)

COLOUR_RANK = {Colour.DONE: 0, Colour.NONE: 0, Colour.BLUE: 1, Colour.YELLOW: 2, Colour.RED: 3}


def blue_days():
    return settings.TRACKER_ORDER_BLUE_DAYS


def sign_days():
    return settings.TRACKER_ORDER_SIGN_DAYS


def colour_conditions(as_of: datetime.date):
    """[(Q, colour)] in priority order: the colour rule's one definition, read by both forms.

    - 已办结 → done;
    - red: the deadline has passed (as_of > deadline) and the order is not 办结;
    - yellow: not signed (已下发) more than TRACKER_ORDER_SIGN_DAYS days after it was issued, or
      its answer was sent back (已退回) and no new answer stands;
    - blue: the deadline is at most TRACKER_ORDER_BLUE_DAYS days away and no answer stands
      (已下发 / 已签收);
    - otherwise none (正常; includes an answer awaiting the issuer before the deadline).
    """
    sign_by = as_of - datetime.timedelta(days=sign_days())
    blue_from = as_of + datetime.timedelta(days=blue_days())
    return [
        (Q(state=OrderState.CLOSED), Colour.DONE),
        (Q(deadline__lt=as_of), Colour.RED),
        (Q(state=OrderState.ISSUED, issued_on__lt=sign_by) | Q(state=OrderState.RETURNED), Colour.YELLOW),
        (Q(state__in=(OrderState.ISSUED, OrderState.SIGNED), deadline__lte=blue_from), Colour.BLUE),
    ]


def colour_of(order, as_of: datetime.date) -> str:
    """The same rule as `OrderQuerySet.with_colour`, for one order in Python (tested to agree)."""
    if order.state == OrderState.CLOSED:
        return Colour.DONE
    if as_of > order.deadline:
        return Colour.RED
    if (order.state == OrderState.ISSUED and (as_of - order.issued_on).days > sign_days()) \
            or order.state == OrderState.RETURNED:
        return Colour.YELLOW
    if order.state in (OrderState.ISSUED, OrderState.SIGNED) and (order.deadline - as_of).days <= blue_days():
        return Colour.BLUE
    return Colour.NONE


class OrderQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Planners and leaders the orders on entries or problems in their scope, and those issued
        from it (an order to a unit alone belongs to its issuer's organisation); a unit user only
        the orders addressed to its units."""
        role = role_of(user)
        if role in (Role.PLANNER, Role.LEADER):
            reach = reach_to_filter(user)
            if reach is None:
                return self
            return self.filter(Q(item__plan__organisation_id__in=reach)
                               | Q(problem__item__plan__organisation_id__in=reach)
                               | Q(item__isnull=True, problem__isnull=True,
                                   issued_by__organisation_membership__organisation_id__in=reach))
        if role is None:
            return self.none()
        return self.filter(unit__in=unit_ids(user))

    def due_by(self, as_of: datetime.date):
        """The orders the unit ranking counts on a date (督办按期反馈, docs/architecture.md "Ranking"):
        issued by then and either past their deadline or answered by then with the answer standing
        (已反馈 / 已办结). Answered in time: `answered_on_time(as_of)`."""
        return self.filter(issued_on__lte=as_of).filter(
            Q(deadline__lt=as_of) | Q(state__in=ANSWER_STANDS, answered_at__date__lte=as_of))

    def with_colour(self, as_of: datetime.date):
        return self.annotate(colour=Case(*[When(q, then=Value(c.value)) for q, c in colour_conditions(as_of)],
                                         default=Value(Colour.NONE.value), output_field=models.CharField()))


def answered_on_time(as_of: datetime.date) -> Q:
    """An order whose standing answer (已反馈 / 已办结; one sent back does not stand) was given on or
    before its deadline and by `as_of` (Asia/Shanghai days). A later answer replaces the earlier one
    (`answered_at` is the latest), so an answer given again after the deadline is late."""
    return Q(state__in=ANSWER_STANDS, answered_at__date__lte=F("deadline")) & Q(answered_at__date__lte=as_of)


def is_issuer(instance, user):
    return user.is_authenticated and instance.issued_by_id == user.pk


def is_addressee(instance, user):
    return role_of(user) == Role.UNIT and instance.unit_id in unit_ids(user)


class Order(ConcurrentTransitionMixin, models.Model):
    """A 督办 order: for an entry, a problem or a unit (always addressed to one unit)."""
    item = models.ForeignKey(Item, verbose_name="事项", on_delete=models.CASCADE, null=True, blank=True,
                             related_name="orders")
    problem = models.ForeignKey(Problem, verbose_name="问题", on_delete=models.CASCADE, null=True, blank=True,
                                related_name="orders")
    unit = models.ForeignKey(Unit, verbose_name="督办单位", on_delete=models.PROTECT, related_name="orders")
    requirement = models.TextField("督办要求")
    deadline = models.DateField("办理期限")
    state = FSMField("状态", max_length=20, choices=OrderState.choices, default=OrderState.ISSUED, db_index=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="下发人", on_delete=models.PROTECT,
                                  related_name="issued_orders")
    issued_at = models.DateTimeField("下发时间", default=timezone.now)
    issued_on = models.DateField("下发日期", default=timezone.localdate)
    signed_at = models.DateTimeField("签收时间", null=True, blank=True)
    answer = models.TextField("最近反馈", blank=True)
    answered_at = models.DateTimeField("最近反馈时间", null=True, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    # The colour last announced by a 催办 reminder (supervision/reminders.py): a reminder goes out
    # only when the colour differs from it.
    notified_colour = models.CharField("已催办颜色", max_length=10, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "督办单"
        ordering = ["-issued_at", "-pk"]
        indexes = [models.Index(fields=["unit", "state"], name="order_unit_state"),
                   models.Index(fields=["state", "deadline"], name="order_state_deadline")]
        constraints = [models.CheckConstraint(condition=Q(item__isnull=True) | Q(problem__isnull=True),
                                              name="order_one_subject")]

    def __str__(self):
        return f"督办 #{self.pk}：{self.subject_label}"

    @property
    def subject_label(self):
        if self.problem_id:
            return f"问题 #{self.problem_id}"
        if self.item_id:
            return f"{self.item.get_list_kind_display()} {self.item.seq}. {self.item.name}"
        return self.unit.name

    def colour(self, as_of=None):
        return colour_of(self, as_of or timezone.localdate())

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=OrderState.ISSUED, target=OrderState.SIGNED, permission=is_addressee,
                custom={"label": "签收"})
    def sign(self, by=None, description=None):
        self.signed_at = timezone.now()

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=[OrderState.SIGNED, OrderState.ANSWERED, OrderState.RETURNED],
                target=OrderState.ANSWERED, permission=is_addressee, custom={"label": "反馈"})
    def reply(self, by=None, description=None):
        self.answer = description
        self.answered_at = timezone.now()

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=OrderState.ANSWERED, target=OrderState.CLOSED, permission=is_issuer,
                custom={"label": "办结"})
    def close(self, by=None, description=None):
        self.closed_at = timezone.now()

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=OrderState.ANSWERED, target=OrderState.RETURNED, permission=is_issuer,
                custom={"label": "退回"})
    def send_back(self, by=None, description=None):
        pass

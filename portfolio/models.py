"""Flags raised by the rules (DESIGN.md "Rules"), and each entry's light derived from them."""
from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, Value, When

from projects.models import Item, ItemStatus


class FlagKind(models.TextChoices):
    OVERDUE = "overdue", "逾期"
    MILESTONE_OVERDUE = "milestone_overdue", "节点逾期"
    REPORT_MISSING = "report_missing", "逾期未报"
    UNDERFUNDED = "underfunded", "投资滞后"
    UNASSIGNED = "unassigned", "责任未落实"
    INVESTMENT_UNKNOWN = "investment_unknown", "投资待定"


class Severity(models.TextChoices):
    RED = "red", "红"
    YELLOW = "yellow", "黄"
    INFO = "info", "提示"


SEVERITY_RANK = {Severity.INFO: 1, Severity.YELLOW: 2, Severity.RED: 3}


class Light(models.TextChoices):
    RED = "red", "红灯"
    YELLOW = "yellow", "黄灯"
    GREEN = "green", "绿灯"
    DONE = "done", "已完成"


class Flag(models.Model):
    item = models.ForeignKey(Item, verbose_name="事项", on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField("类型", max_length=30, choices=FlagKind.choices)
    severity = models.CharField("严重程度", max_length=10, choices=Severity.choices)
    opened_on = models.DateField("发现日期")
    last_seen_on = models.DateField("最近确认")
    resolved_on = models.DateField("解除日期", null=True, blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)
    notified_severity = models.CharField("已通知级别", max_length=10, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "预警"
        ordering = ["-opened_on", "item_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "kind"], condition=Q(resolved_on__isnull=True), name="flag_one_open_per_kind"
            ),
        ]
        indexes = [
            models.Index(fields=["item", "severity"], name="flag_open_item_sev", condition=Q(resolved_on__isnull=True)),
        ]

    def __str__(self):
        return f"{self.item} {self.get_kind_display()}（{self.get_severity_display()}）"

    @property
    def description(self):
        d = self.detail or {}
        if self.kind == FlagKind.OVERDUE:
            return f"建设期限 {d.get('end_year')} 年已过，逾期 {d.get('days_overdue')} 天"
        if self.kind == FlagKind.MILESTONE_OVERDUE:
            return f"节点“{d.get('milestone')}”计划 {d.get('due_date')}，逾期 {d.get('days_overdue')} 天"
        if self.kind == FlagKind.REPORT_MISSING:
            return f"{d.get('month')} 月进度未报，已连续 {d.get('missed_months')} 个月未报"
        if self.kind == FlagKind.UNDERFUNDED:
            return (f"序时进度应完成 {d.get('expected_pct')}%，实际 {d.get('actual_pct')}%，"
                    f"落后 {d.get('points_behind')} 个百分点")
        if self.kind == FlagKind.UNASSIGNED:
            return "责任单位未落实"
        if self.kind == FlagKind.INVESTMENT_UNKNOWN:
            return "总投资待定"
        return ""


FLAG_BATCH = 10_000


def update_flags(pks, **values):
    """Sets the same values on many flags, by primary key, in batches of FLAG_BATCH."""
    for start in range(0, len(pks), FLAG_BATCH):
        Flag.objects.filter(pk__in=pks[start:start + FLAG_BATCH]).update(**values)


def open_flags(severity):
    return Flag.objects.filter(item=OuterRef("pk"), resolved_on__isnull=True, severity=severity)


def light_expression():
    """An entry's light: done when completed, else the worst severity of its open flags."""
    return Case(
        When(status=ItemStatus.COMPLETED, then=Value(Light.DONE)),
        When(Exists(open_flags(Severity.RED)), then=Value(Light.RED)),
        When(Exists(open_flags(Severity.YELLOW)), then=Value(Light.YELLOW)),
        default=Value(Light.GREEN),
        output_field=models.CharField(),
    )


def with_light(queryset):
    return queryset.annotate(light=light_expression())


class ItemFigures(models.Model):
    """Each entry's tracking figures as of its last evaluation (written by evaluate_flags).

    Dashboards and the ranking sum these columns instead of re-deriving them per entry
    from millions of reports; they are used only when every entry in scope has figures for
    exactly the date asked for, and the live computation answers otherwise."""

    item = models.OneToOneField(Item, verbose_name="事项", primary_key=True, on_delete=models.CASCADE,
                                related_name="figures")
    as_of = models.DateField("评估日期")
    last_month = models.DateField("最近填报月份", null=True)
    cumulative = models.DecimalField("累计完成投资", max_digits=20, decimal_places=6, null=True)
    expected_pct = models.DecimalField("序时进度（%）", max_digits=20, decimal_places=6, null=True)
    actual_pct = models.DecimalField("实际进度（%）", max_digits=20, decimal_places=6, null=True)
    points_behind = models.DecimalField("落后百分点", max_digits=20, decimal_places=6, null=True)
    expected_amount = models.DecimalField("序时应完成投资", max_digits=20, decimal_places=6, null=True)
    late_milestone = models.CharField("最早逾期节点", max_length=100, null=True)
    late_milestone_due = models.DateField("最早逾期节点日期", null=True)
    reports_on_time = models.PositiveSmallIntegerField("近 6 个月按期填报数", default=0)
    rule_overdue = models.BooleanField(default=False)
    rule_milestone_overdue = models.BooleanField(default=False)
    rule_report_missing = models.BooleanField(default=False)
    rule_underfunded = models.BooleanField(default=False)
    rule_unassigned = models.BooleanField(default=False)
    rule_investment_unknown = models.BooleanField(default=False)
    light = models.CharField("灯（按未解除预警）", max_length=10, choices=Light.choices, default=Light.GREEN)

    class Meta:
        verbose_name = verbose_name_plural = "事项评估快照"
        indexes = [models.Index(fields=["as_of"], name="figures_as_of")]


class ItemYearFigures(models.Model):
    """Completed investment per entry and year (from the monthly reports), as of the last evaluation."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="year_figures")
    year = models.PositiveSmallIntegerField("年度")
    completed = models.DecimalField("完成投资", max_digits=20, decimal_places=6, null=True)

    class Meta:
        verbose_name = verbose_name_plural = "事项年度完成投资"
        constraints = [models.UniqueConstraint(fields=["item", "year"], name="year_figures_unique")]


class FiguresState(models.Model):
    """What the year figures of a scope were last built from, so unchanged reports are not re-summed."""

    scope = models.CharField("范围", max_length=40, primary_key=True)
    fingerprint = models.CharField("填报指纹", max_length=200)

    class Meta:
        verbose_name = verbose_name_plural = "年度完成投资构建状态"


class Snapshot(models.Model):
    """Figures a page computed from the database, stored with the data version they were computed at.

    Reused only while the version is unchanged; a leader's dashboard over a province's 200,000
    entries costs seconds to compute and milliseconds to read back."""

    key = models.CharField("键", max_length=200, primary_key=True)
    version = models.BigIntegerField("数据版本")
    built_at = models.DateTimeField("生成时间", auto_now=True)
    payload = models.JSONField("内容")

    class Meta:
        verbose_name = verbose_name_plural = "汇总快照"


class DashboardPart(models.Model):
    """One plan's share of the everyone-scope dashboard for a date (see summary.plan_parts).

    Kept while the plan's data version is unchanged: after a change to one plan the province's
    dashboard is that plan's part computed afresh plus the stored parts of all the others."""

    plan = models.ForeignKey("projects.Plan", verbose_name="规划", on_delete=models.CASCADE,
                             related_name="dashboard_parts")
    as_of = models.DateField("统计日期")
    version = models.BigIntegerField("数据版本")
    built_at = models.DateTimeField("生成时间", auto_now=True)
    payload = models.JSONField("内容")

    class Meta:
        verbose_name = verbose_name_plural = "汇总分块"
        constraints = [models.UniqueConstraint(fields=["plan", "as_of"], name="dashboard_part_plan_date")]

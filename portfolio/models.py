"""The read side's tables: flags raised by the rules, each entry's figures, and the evaluation state.

How they are written and read: docs/architecture.md."""
import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone

from projects.models import Item, Plan, Unit

from .rules import RULES_BY_CODE, Light, Severity, rule_choices

__all__ = ["Flag", "ItemFigures", "ItemYearFigures", "MonthEndFigures", "NightlyRun", "SentMail", "Light",
           "Severity"]

FIGURES = dict(max_digits=24, decimal_places=8, null=True)


class Flag(models.Model):
    item = models.ForeignKey(Item, verbose_name="事项", on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField("类型", max_length=30, choices=rule_choices)
    severity = models.CharField("严重程度", max_length=10, choices=Severity.choices)
    opened_on = models.DateField("发现日期")
    changed_on = models.DateField("最近变化")
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

    def describe(self, as_of: datetime.date | None = None) -> str:
        """The flag in a sentence as of a date (today by default): days and months are counted
        when shown, from the facts the flag keeps."""
        rule = RULES_BY_CODE.get(self.kind)
        if rule is None:
            return ""
        figures = getattr(self.item, "figures", None) if rule.code == "underfunded" else None
        return rule.describe(self.detail or {}, as_of or timezone.localdate(), figures)

    @property
    def description(self):
        return self.describe()


class ItemFigures(models.Model):
    """One entry's figures as of the last evaluation (EvaluationState.as_of), kept fresh after
    every committed change to the entry: what lists, dashboards and the ranking read."""

    item = models.OneToOneField(Item, verbose_name="事项", primary_key=True, on_delete=models.CASCADE,
                                related_name="figures")
    # Facts from the registry's rows, independent of the date.
    last_month = models.DateField("最近填报月份", null=True)
    cumulative = models.DecimalField("累计完成投资（亿元）", max_digits=14, decimal_places=4, null=True)
    milestone_name = models.CharField("最早未完成节点", max_length=100, null=True)
    milestone_due = models.DateField("最早未完成节点日期", null=True)
    # The explicit planned start (year × 12 + month − 1): an annual target's planned start month,
    # else a 开工 milestone's due month; null when neither exists (portfolio/facts.py).
    start_planned_index = models.PositiveIntegerField("计划开工月（序号）", null=True)
    start_met = models.BooleanField("开工节点已完成", null=True)
    # Figures of the evaluation date.
    reports_on_time = models.PositiveSmallIntegerField("近 6 个月按期填报数", default=0)
    expected_pct = models.DecimalField("序时进度（%）", **FIGURES)
    actual_pct = models.DecimalField("实际进度（%）", **FIGURES)
    points_behind = models.DecimalField("落后百分点", **FIGURES)
    expected_amount = models.DecimalField("序时应完成投资（亿元）", **FIGURES)
    # With an annual target of the date's year: the year's 序时进度 (months done ÷ 12) and 完成率.
    year_expected_pct = models.DecimalField("年度序时进度（%）", **FIGURES)
    year_actual_pct = models.DecimalField("年度计划完成率（%）", **FIGURES)
    light = models.CharField("灯", max_length=10, choices=Light.choices, default=Light.GREEN, db_index=True)
    # When the facts above were last read from the registry (null: before this column existed).
    facts_at = models.DateTimeField("事实读取时间", null=True)

    class Meta:
        verbose_name = verbose_name_plural = "事项评估数据"


class ItemYearFigures(models.Model):
    """Investment completed per entry and year: the sum of its monthly reports' figures."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="year_figures")
    year = models.PositiveSmallIntegerField("年度")
    completed = models.DecimalField("完成投资（亿元）", max_digits=16, decimal_places=4, null=True)

    class Meta:
        verbose_name = verbose_name_plural = "事项年度完成投资"
        constraints = [models.UniqueConstraint(fields=["item", "year"], name="year_figures_unique")]


class NightlyRun(models.Model):
    """One nightly run (portfolio.tasks.evaluate_flags_task): planners are warned on the
    dashboard when the last one failed or is more than 26 hours old; the health endpoint too."""

    as_of = models.DateField("评估日期")
    started_at = models.DateTimeField("开始时间", default=timezone.now)
    finished_at = models.DateTimeField("结束时间", null=True)
    ok = models.BooleanField("成功", null=True)
    error = models.TextField("错误", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "夜间评估记录"
        ordering = ["-started_at"]


class SentMail(models.Model):
    """A scheduled e-mail already sent (weekly reminder, leader digest): a task delivered twice
    (a worker killed after sending) sends each recipient's mail once."""

    kind = models.CharField("类型", max_length=30)
    key = models.CharField("批次", max_length=40)  # e.g. the date the batch is for
    recipient = models.CharField("收件人", max_length=254)
    sent_at = models.DateTimeField("发送时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "已发送的定期邮件"
        constraints = [models.UniqueConstraint(fields=["kind", "key", "recipient"], name="sent_mail_once")]


class MonthEndFigures(models.Model):
    """A plan's figures at one month's end, for the whole plan (unit NULL) and per responsible
    unit (an entry counts for each of its units): the trends on the dashboard read these rows and
    never recompute them. Written by the nightly run and by `backfill_trends`
    (portfolio/trends.py; docs/architecture.md, "Trends")."""

    plan = models.ForeignKey(Plan, verbose_name="规划", on_delete=models.CASCADE, related_name="month_end_figures")
    unit = models.ForeignKey(Unit, verbose_name="责任单位", null=True, on_delete=models.CASCADE,
                             related_name="month_end_figures")
    month = models.DateField("月份")  # the month's first day
    # The date of the evaluation the lights were read from: the first evaluation after the month's
    # last day (the nightly run of the 1st), or the day a backfill derived them for. Written once.
    lights_as_of = models.DateField("灯号评估日期", null=True)
    red = models.PositiveIntegerField("红灯", default=0)
    yellow = models.PositiveIntegerField("黄灯", default=0)
    green = models.PositiveIntegerField("绿灯", default=0)
    done = models.PositiveIntegerField("已完成", default=0)
    year_planned = models.DecimalField("年度计划投资（亿元）", max_digits=16, decimal_places=4, null=True)
    year_completed = models.DecimalField("年内累计完成投资（亿元）", max_digits=16, decimal_places=4, default=0)
    reports_due = models.PositiveIntegerField("应报月报", default=0)
    reports_on_time = models.PositiveIntegerField("按期月报", default=0)
    written_on = models.DateField("写入日期")  # final once written after the month's reporting deadline

    class Meta:
        verbose_name = verbose_name_plural = "月末数据"
        constraints = [
            models.UniqueConstraint(fields=["plan", "month"], condition=Q(unit__isnull=True),
                                    name="month_end_plan_once"),
            models.UniqueConstraint(fields=["plan", "unit", "month"], condition=Q(unit__isnull=False),
                                    name="month_end_unit_once"),
        ]

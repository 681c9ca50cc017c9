"""What responsible units do each month: reports, milestones and annual targets of an entry."""
import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from simple_history.models import HistoricalRecords

from projects.lifecycle import frozen_reason
from projects.models import MONEY, Item, ItemStatus, unchanged


class AnnualTarget(models.Model):
    item = models.ForeignKey(Item, verbose_name="事项", on_delete=models.CASCADE, related_name="annual_targets")
    year = models.PositiveSmallIntegerField("年度")
    planned_investment = models.DecimalField("计划投资（亿元）", **MONEY)
    target_text = models.TextField("年度目标", blank=True)
    # The month of this year the project is planned to start (开工滞后, portfolio/rules.py StartLate).
    planned_start_month = models.PositiveSmallIntegerField("计划开工月份", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True, db_default=Now())  # COPY writers too
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = verbose_name_plural = "年度推进计划"
        ordering = ["item", "year"]
        constraints = [
            models.UniqueConstraint(fields=["item", "year"], name="target_unique_year"),
            models.CheckConstraint(
                condition=Q(planned_investment__isnull=True) | Q(planned_investment__gte=0),
                name="target_investment_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(planned_start_month__isnull=True)
                | (Q(planned_start_month__gte=1) & Q(planned_start_month__lte=12)),
                name="target_start_month_range",
            ),
        ]

    def __str__(self):
        return f"{self.year} 年"

    def clean(self):
        from django.core.exceptions import ValidationError

        frozen = frozen_reason(self.item.plan, "target") if self.item_id else None
        if frozen and not unchanged(self):
            raise ValidationError(frozen)


class Milestone(models.Model):
    item = models.ForeignKey(Item, verbose_name="事项", on_delete=models.CASCADE, related_name="milestones")
    name = models.CharField("节点", max_length=100)
    due_date = models.DateField("计划日期")
    met_on = models.DateField("完成日期", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True, db_default=Now())  # COPY writers too
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = verbose_name_plural = "节点"
        ordering = ["item", "due_date"]
        indexes = [models.Index(fields=["due_date"], name="milestone_due", condition=Q(met_on__isnull=True))]

    def __str__(self):
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError
        from django.utils import timezone

        from reporting.calendar import check_met_date

        if self.item_id is None:
            return
        frozen = frozen_reason(self.item.plan, "milestone")
        if frozen and not unchanged(self):
            raise ValidationError(frozen)
        errors = {}
        if self.due_date and not datetime.date(1949, 1, 1) <= self.due_date <= datetime.date(2100, 12, 31):
            errors["due_date"] = "计划日期应在 1949 至 2100 年之间。"
        if self.met_on:
            reason = check_met_date(self.met_on, self.item.plan, timezone.localdate())
            if reason:
                errors["met_on"] = reason
        if errors:
            raise ValidationError(errors)


class StatusReport(models.Model):
    item = models.ForeignKey(Item, verbose_name="事项", on_delete=models.CASCADE, related_name="reports")
    month = models.DateField("月份", help_text="该月 1 日")
    status = models.CharField("状态", max_length=20, choices=ItemStatus.choices)
    progress_pct = models.DecimalField("形象进度（%）", max_digits=5, decimal_places=2, null=True, blank=True)
    month_investment = models.DecimalField("本月完成投资（亿元）", **MONEY)
    cumulative_investment = models.DecimalField("累计完成投资（亿元）", **MONEY)
    progress_text = models.TextField("进展情况", blank=True)
    problems = models.TextField("存在问题", blank=True)
    next_steps = models.TextField("下步计划", blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="填报人", on_delete=models.SET_NULL, null=True, blank=True
    )
    filed_at = models.DateTimeField("填报时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    version = models.PositiveIntegerField("版本", default=1)
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "进度填报"
        ordering = ["item", "-month"]
        # the nightly reconciliation asks, per entry, whether a report changed after its facts
        # were read (portfolio/evaluation.py stale_entries): one index probe instead of every report
        indexes = [models.Index(fields=["item", "updated_at"], name="report_item_updated"),
                   # who filed a month (reporting/owing.py reported_for) and a span of months' investment
                   # (the 总体情况), read from the index alone on PostgreSQL
                   models.Index(fields=["month", "item"], include=["month_investment"], name="report_month_item")]
        constraints = [
            models.UniqueConstraint(fields=["item", "month"], name="report_one_per_month"),
            models.CheckConstraint(
                condition=Q(progress_pct__isnull=True) | (Q(progress_pct__gte=0) & Q(progress_pct__lte=100)),
                name="report_progress_range",
            ),
            models.CheckConstraint(
                condition=Q(month_investment__isnull=True) | Q(month_investment__gte=0),
                name="report_month_investment_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(cumulative_investment__isnull=True) | Q(cumulative_investment__gte=0),
                name="report_cumulative_nonnegative",
            ),
        ]

    def __str__(self):
        return f"{self.item} {self.month:%Y-%m}"

    def clean(self):
        from django.core.exceptions import ValidationError
        from django.utils import timezone

        from reporting.calendar import check_report_month

        if self.item_id is None:
            return
        if self.month is not None:
            self.month = self.month.replace(day=1)
        frozen = frozen_reason(self.item.plan)
        if frozen and not unchanged(self):
            raise ValidationError(frozen)
        if self.month is None:
            return
        reason = check_report_month(self.month, self.item.plan, timezone.localdate())
        if reason:
            raise ValidationError({"month": reason})

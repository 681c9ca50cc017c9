"""The plan's 指标体系: tables as printed, their indicators, yearly actual values, and each
indicator's stored status per year (docs/architecture.md, "Indicators")."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from projects.lights import Light
from projects.models import Plan, Role, Unit, reach_to_filter, role_of


VALUE_DIGITS = dict(max_digits=24, decimal_places=6)


class TableKind(models.TextChoices):
    TARGETS = "targets", "目标"
    COMPLETION = "completion", "完成情况"
    HISTORY = "history", "历史"


class Attribute(models.TextChoices):
    EXPECTED = "expected", "预期性"
    BINDING = "binding", "约束性"


class ValueForm(models.TextChoices):
    LEVEL = "level", "水平值"
    GROWTH = "growth", "年均增速"
    CUMULATIVE = "cumulative", "五年累计"
    TEXT = "text", "文字表述"
    MISSING = "missing", "缺失"


class Qualifier(models.TextChoices):
    NONE = "", "—"
    AT_LEAST = "ge", "以上（≥）"
    AT_MOST = "le", "以下（≤）"
    ABOVE = "gt", "大于（>）"
    BELOW = "lt", "小于（<）"


class Direction(models.TextChoices):
    UP = "up", "越高越好"
    DOWN = "down", "越低越好"


class ValueMeaning(models.TextChoices):
    LEVEL = "level", "当年水平值"
    RATE = "rate", "当年增速（%）"


class IndicatorTable(models.Model):
    plan = models.ForeignKey(Plan, verbose_name="规划", on_delete=models.CASCADE, related_name="indicator_tables")
    order = models.PositiveSmallIntegerField("顺序")
    title = models.CharField("标题（印刷）", max_length=200)
    kind = models.CharField("类型", max_length=20, choices=TableKind.choices)
    baseline_year = models.PositiveSmallIntegerField("基期年份", null=True, blank=True)
    target_year = models.PositiveSmallIntegerField("目标年份", null=True, blank=True)
    headers = models.JSONField("表头（印刷）", default=list, blank=True)
    footnotes = models.JSONField("注（印刷）", default=list, blank=True)
    source_line = models.PositiveIntegerField("来源行", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "指标表"
        ordering = ["plan", "order"]
        constraints = [models.UniqueConstraint(fields=["plan", "title"], name="indicator_table_unique_title")]

    def __str__(self):
        return self.title


def value_fields(label):
    """A value as printed beside its parsed form: printed, number, qualifier, form, year."""
    return (
        models.CharField(f"{label}（印刷）", max_length=100, blank=True),
        models.DecimalField(f"{label}·数值", **VALUE_DIGITS, null=True, blank=True),
        models.CharField(f"{label}·限定", max_length=2, choices=Qualifier.choices, blank=True),
        models.CharField(f"{label}·形式", max_length=20, choices=ValueForm.choices, blank=True),
        models.PositiveSmallIntegerField(f"{label}·年份", null=True, blank=True),
    )


class IndicatorQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Planners and leaders see the indicators of the plans in their scope (Plan.objects.visible_to);
        a unit user those its units are responsible for."""
        role = role_of(user)
        if role in (Role.PLANNER, Role.LEADER):
            reach = reach_to_filter(user)
            return self if reach is None else self.filter(plan__organisation_id__in=reach)
        if role is None:
            return self.none()
        return self.filter(responsible_unit__members=user)

    def editable_by(self, user):
        """Whose yearly values the user may enter: planners those of their scope, a unit user its units' own."""
        role = role_of(user)
        if role == Role.PLANNER:
            return self.visible_to(user)
        if role == Role.UNIT:
            return self.filter(responsible_unit__members=user)
        return self.none()


class Indicator(models.Model):
    table = models.ForeignKey(IndicatorTable, verbose_name="指标表", on_delete=models.CASCADE,
                              related_name="indicators")
    plan = models.ForeignKey(Plan, verbose_name="规划", on_delete=models.CASCADE, related_name="indicators")
    order = models.PositiveSmallIntegerField("表内顺序")
    category = models.CharField("类别", max_length=100, blank=True)
    seq = models.CharField("序号", max_length=10, blank=True)
    parent_name = models.CharField("上级指标", max_length=200, blank=True)
    name = models.CharField("指标名称", max_length=200)
    unit = models.CharField("单位", max_length=40, blank=True)
    attribute = models.CharField("属性", max_length=10, choices=Attribute.choices, blank=True)
    is_new = models.BooleanField("新增指标（*）", default=False)
    notes = models.TextField("备注", blank=True)
    responsible_unit = models.ForeignKey(Unit, verbose_name="责任单位", on_delete=models.SET_NULL, null=True,
                                         blank=True, related_name="indicators")
    direction = models.CharField("方向", max_length=4, choices=Direction.choices, default=Direction.UP,
                                 help_text="导入时按指标含义判断（占比、产出越高越好；浓度、死亡率、能耗等越低越好）；"
                                           "规划人员改动后，重新导入不再覆盖。")
    direction_fixed = models.BooleanField("方向由规划人员设定", default=False)
    direction_reason = models.CharField("方向设定理由", max_length=200, blank=True)
    value_meaning = models.CharField("年度值含义", max_length=10, choices=ValueMeaning.choices,
                                     default=ValueMeaning.LEVEL)
    source_line = models.PositiveIntegerField("来源行", null=True, blank=True)

    (baseline_printed, baseline_number, baseline_qualifier, baseline_form, baseline_year) = value_fields("基期值")
    (target_printed, target_number, target_qualifier, target_form, target_year) = value_fields("目标值")
    (growth_printed, growth_number, growth_qualifier, growth_form, growth_year) = value_fields("年均/累计")
    (planned_printed, planned_number, planned_qualifier, planned_form, planned_year) = value_fields("规划值")
    (actual_printed, actual_number, actual_qualifier, actual_form, actual_year) = value_fields("完成值")
    (actual_growth_printed, actual_growth_number, actual_growth_qualifier, actual_growth_form,
     actual_growth_year) = value_fields("完成·年均/累计")

    history = HistoricalRecords(excluded_fields=["source_line"])
    objects = IndicatorQuerySet.as_manager()

    SLOTS = ("baseline", "target", "growth", "planned", "actual", "actual_growth")

    class Meta:
        verbose_name = verbose_name_plural = "指标"
        ordering = ["plan", "table__order", "order"]
        constraints = [models.UniqueConstraint(fields=["table", "order"], name="indicator_unique_order")]

    def __str__(self):
        return f"{self.parent_name}·{self.name}" if self.parent_name else self.name

    @property
    def full_name(self):
        return str(self)


class IndicatorValue(models.Model):
    class Source(models.TextChoices):
        PLAN_TEXT = "plan_text", "规划文本"
        FORM = "form", "表单填报"
        UPLOAD = "upload", "模板上传"
        ADMIN = "admin", "管理后台"

    indicator = models.ForeignKey(Indicator, verbose_name="指标", on_delete=models.CASCADE, related_name="values")
    year = models.PositiveSmallIntegerField("年度")
    value = models.DecimalField("实际值", **VALUE_DIGITS)
    source = models.CharField("来源", max_length=20, choices=Source.choices, default=Source.ADMIN)
    note = models.CharField("数据来源说明", max_length=200, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="填报人", on_delete=models.SET_NULL,
                                   null=True, blank=True)
    entered_at = models.DateTimeField("填报时间", auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "指标年度实际值"
        ordering = ["indicator", "year"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "year"], name="indicator_value_one_per_year"),
            models.CheckConstraint(condition=Q(year__gte=1949) & Q(year__lte=2100), name="indicator_value_year_range"),
        ]

    def __str__(self):
        return f"{self.indicator} {self.year} 年"


FIGURES = dict(max_digits=24, decimal_places=8, null=True)


class IndicatorStatus(models.Model):
    """One plan indicator's status for one year (indicators/evaluation.py): the indicators' part
    of the flag system. Written only when it changes; its light uses the entries' colours
    (约束性 lagging red, 预期性 lagging yellow, on track or achieved green, else none)."""

    indicator = models.ForeignKey(Indicator, verbose_name="指标", on_delete=models.CASCADE, related_name="statuses")
    year = models.PositiveSmallIntegerField("年度")
    status = models.CharField("状态", max_length=20)
    light = models.CharField("灯", max_length=10, choices=Light.choices, blank=True, db_index=True)
    expected = models.DecimalField("应达值", **FIGURES, blank=True)
    actual = models.DecimalField("比较值", **FIGURES, blank=True)
    rule = models.TextField("评价规则")
    changed_on = models.DateField("最近变化")
    notified_light = models.CharField("已通知灯", max_length=10, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "指标评价"
        ordering = ["indicator", "year"]
        constraints = [models.UniqueConstraint(fields=["indicator", "year"], name="indicator_status_one_per_year")]

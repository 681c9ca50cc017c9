
from decimal import Decimal

from django import forms
from django.db import IntegrityError, transaction
from django.utils import timezone

from projects.formatting import money_input
from projects.lifecycle import frozen_reason
from projects.models import ListKind
from reporting.calendar import add_months, check_met_date, check_report_month
from reporting.cumulative import cumulative_report
from reporting.models import Milestone, StatusReport


class MonthField(forms.DateField):
    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")

    def __init__(self, **kwargs):
        super().__init__(input_formats=["%Y-%m", "%Y-%m-%d"], **kwargs)

    def to_python(self, value):
        day = super().to_python(value)
        return day.replace(day=1) if day else day


SUM_TOLERANCE = Decimal("0.01")
MONEY_FIELDS = ("month_investment", "cumulative_investment")
FIGURE_FIELDS = ("progress_pct",) + MONEY_FIELDS
TEXT_FIELDS = ("progress_text", "problems", "next_steps")


class StatusReportForm(forms.ModelForm):
    """The month's report of one entry; the one rule set for the web form and the XLSX upload
    (projects/report_workbook.py). Projects report 形象进度 and money; the other five lists report
    工作进展, an optional 完成度, 存在问题 and 下步计划, and no money."""
    month = MonthField(label="月份")
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = StatusReport
        fields = ["month", "status", "progress_pct", "month_investment", "cumulative_investment",
                  "progress_text", "problems", "next_steps"]
        widgets = {
            "progress_text": forms.Textarea(attrs={"rows": 3}),
            "problems": forms.Textarea(attrs={"rows": 2}),
            "next_steps": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, item, **kwargs):
        self.item = item
        super().__init__(*args, **kwargs)
        self.is_project = item.list_kind == ListKind.PROJECT
        self.fields["status"].initial = item.status
        if not self.is_project:
            for name in MONEY_FIELDS:
                del self.fields[name]
            self.fields["progress_pct"].label = "完成度（%）"
            self.fields["progress_pct"].help_text = "选填"
            self.fields["progress_text"].label = "工作进展"
        for name in FIGURE_FIELDS:
            if name in self.fields:
                self.fields[name].widget.attrs.update({"step": "0.01", "min": "0", "inputmode": "decimal"})
        self.fields["progress_pct"].widget.attrs["max"] = "100"
        if not self.is_bound:  # a filed report opens with its amounts as pages show them (0.15, not 0.1500)
            for name in MONEY_FIELDS:
                if name in self.fields and self.initial.get(name) is not None:
                    self.initial[name] = money_input(self.initial[name])
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")
        self.warnings = []

    @property
    def report_fields(self):
        """The report's fields this form sets (money only for projects)."""
        return [name for name in self.Meta.fields if name != "month" and name in self.fields]

    def clean_month(self):
        month = self.cleaned_data["month"]
        reason = check_report_month(month, self.item.plan, timezone.localdate())
        if reason:
            raise forms.ValidationError(reason)
        return month

    def clean_progress_pct(self):
        pct = self.cleaned_data.get("progress_pct")
        if pct is not None and not (0 <= pct <= 100):
            raise forms.ValidationError(f"{self.fields['progress_pct'].label.split('（')[0]}应在 0 到 100 之间。")
        return pct

    def _non_negative(self, name):
        value = self.cleaned_data.get(name)
        if value is not None and value < 0:
            raise forms.ValidationError("金额不能为负数。")
        return value

    def clean_month_investment(self):
        return self._non_negative("month_investment")

    def clean_cumulative_investment(self):
        return self._non_negative("cumulative_investment")

    def clean(self):
        data = super().clean()
        frozen = frozen_reason(self.item.plan)
        if frozen:
            raise forms.ValidationError(frozen)
        if not self.errors and not (data.get("progress_text") or "").strip() and all(
                data.get(name) is None for name in FIGURE_FIELDS if name in self.fields):
            raise forms.ValidationError(
                "请至少填写进展情况或一项数字（形象进度、本月完成投资、累计完成投资）。" if self.is_project
                else "请至少填写工作进展或完成度。")
        if self.is_project:
            self._check_cumulative(data)
        return data

    def _check_cumulative(self, data):
        month, cumulative = data.get("month"), data.get("cumulative_investment")
        if not month or cumulative is None:
            return
        month_amount = data.get("month_investment")
        if month_amount is not None:
            previous = previous_cumulative(self.item, month)
            if previous is not None and abs(previous + month_amount - cumulative) > SUM_TOLERANCE:
                self.add_error("cumulative_investment", forms.ValidationError(
                    f"累计完成投资 {cumulative:.2f} 亿元应等于上月（{add_months(month, -1):%Y年%m月}）累计 "
                    f"{previous:.2f} 亿元加本月完成投资 {month_amount:.2f} 亿元，即 {previous + month_amount:.2f} 亿元。"))
                return
            if previous is None and month_amount > cumulative + SUM_TOLERANCE:
                self.add_error("cumulative_investment", forms.ValidationError(
                    f"累计完成投资 {cumulative:.2f} 亿元不能小于本月完成投资 {month_amount:.2f} 亿元。"))
                return
        # The cumulative is the project's, across its chain of plans (projects/continuation.py).
        earlier = cumulative_report(self.item, before=month)
        if earlier and cumulative < earlier.cumulative_investment:
            self.add_error("cumulative_investment", forms.ValidationError(
                f"累计完成投资不能低于 {earlier.month:%Y年%m月} 已报的 {earlier.cumulative_investment:.2f} 亿元"
                f"{_reported_on(earlier, self.item)}。"))
        following = later_cumulative_report(self.item, month)
        if following and cumulative > following.cumulative_investment:
            self.add_error("cumulative_investment", forms.ValidationError(
                f"累计完成投资不能高于 {following.month:%Y年%m月} 已报的 {following.cumulative_investment:.2f} 亿元"
                f"{_reported_on(following, self.item)}。"))
        total = self.item.total_investment
        if total is not None and cumulative > total:
            self.warnings.append(f"累计完成投资 {cumulative:.2f} 亿元已超过总投资 {total:.2f} 亿元，请核实。")


def previous_cumulative(item, month):
    """The project's cumulative investment reported for the month before `month` (by the entry or
    the entries it continues), or None (not reported, or reported without the figure): the
    month's own amount is checked against it alone, since a gap of unreported months would hide
    their investment."""
    last_month = add_months(month, -1)
    holder = cumulative_report(item, through=last_month)
    return holder.cumulative_investment if holder is not None and holder.month == last_month else None


def later_cumulative_report(item, month):
    """The first report after `month` with a cumulative figure, of the entry or of the entries
    that continue it (whose cumulative includes this entry's)."""
    chain = item.chain()
    entries = [e.pk for e in chain[chain.index(item):]] if item in chain else [item.pk]
    return (StatusReport.objects.filter(item__in=entries, month__gt=month, cumulative_investment__isnull=False)
            .select_related("item__plan").order_by("month", "pk").first())


def _reported_on(report, item):
    """“（十四五 #1 填报）” when the figure was reported on another entry of the project's chain."""
    if report.item_id == item.pk:
        return ""
    return f"（{report.item.plan.period_name} #{report.item.seq} 填报）"


class ReportConflict(Exception):
    pass


def save_report(form, item, user):
    """Create or edit the month's report; a stale version is a conflict, never a silent overwrite."""
    data = form.cleaned_data
    fields = {k: data[k] for k in form.report_fields}
    expected_version = data.get("version") or 0
    try:
        with transaction.atomic():
            report = (StatusReport.objects.select_for_update()
                      .filter(item=item, month=data["month"]).first())
            if report is None:
                if expected_version:
                    raise ReportConflict(None)
                report = StatusReport.objects.create(item=item, month=data["month"], filed_by=user, **fields)
            else:
                if report.version != expected_version:
                    raise ReportConflict(report)
                for k, v in fields.items():
                    setattr(report, k, v)
                report.version += 1
                report.filed_by = user
                report.save()
            latest = StatusReport.objects.filter(item=item).order_by("-month").values_list("month", flat=True)[0]
            if latest == report.month and item.status != report.status:
                item.status = report.status
                item.save(update_fields=["status"])
    except IntegrityError:
        raise ReportConflict(StatusReport.objects.filter(item=item, month=data["month"]).first()) from None
    return report


class MilestoneMetForm(forms.Form):
    met_on = forms.DateField(label="完成日期", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan

    def clean(self):
        frozen = frozen_reason(self.plan, "milestone")
        if frozen:
            raise forms.ValidationError(frozen)
        return super().clean()

    def clean_met_on(self):
        day = self.cleaned_data["met_on"]
        reason = check_met_date(day, self.plan, timezone.localdate())
        if reason:
            raise forms.ValidationError(reason)
        return day


class MilestoneForm(forms.ModelForm):
    """A unit user's (or planner's) milestone of one entry. A due date outside the printed period
    is kept with a warning: projects slip."""

    class Meta:
        model = Milestone
        fields = ["name", "due_date", "met_on"]
        widgets = {"due_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                   "met_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, item, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.item = item
        self.warnings = []
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")

    def clean(self):
        data = super().clean()
        item, due = self.instance.item, data.get("due_date")
        if due and item.start_year and item.end_year and not item.start_year <= due.year <= item.end_year:
            self.warnings.append(f"节点计划日期 {due:%Y-%m-%d} 不在印刷的建设期限 {item.period_display} 内，已按实际进度保存。")
        return data


class ReportUploadForm(forms.Form):
    file = forms.FileField(label="填好的月度进度模板（XLSX）")


class TargetUploadForm(forms.Form):
    file = forms.FileField(label="年度推进计划（XLSX）")



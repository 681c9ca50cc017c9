
from django import forms
from django.utils import timezone

from .models import StatusReport
from .reporting import check_met_date, check_report_month


class MonthField(forms.DateField):
    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")

    def __init__(self, **kwargs):
        super().__init__(input_formats=["%Y-%m", "%Y-%m-%d"], **kwargs)

    def to_python(self, value):
        day = super().to_python(value)
        return day.replace(day=1) if day else day


class StatusReportForm(forms.ModelForm):
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
        self.fields["status"].initial = item.status
        for name in ("month_investment", "cumulative_investment", "progress_pct"):
            self.fields[name].widget.attrs.update({"step": "0.01", "min": "0"})
        self.fields["progress_pct"].widget.attrs["max"] = "100"
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")
        self.warnings = []

    def clean_month(self):
        month = self.cleaned_data["month"]
        reason = check_report_month(month, self.item.plan, timezone.localdate())
        if reason:
            raise forms.ValidationError(reason)
        return month

    def clean_progress_pct(self):
        pct = self.cleaned_data.get("progress_pct")
        if pct is not None and not (0 <= pct <= 100):
            raise forms.ValidationError("形象进度应在 0 到 100 之间。")
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
        month, cumulative = data.get("month"), data.get("cumulative_investment")
        if month and cumulative is not None:
            previous = (StatusReport.objects.filter(item=self.item, month__lt=month,
                                                    cumulative_investment__isnull=False)
                        .order_by("-month").first())
            if previous and cumulative < previous.cumulative_investment:
                self.add_error("cumulative_investment", forms.ValidationError(
                    f"累计完成投资不能低于 {previous.month:%Y年%m月} 已报的 {previous.cumulative_investment:.2f} 亿元。"))
            following = (StatusReport.objects.filter(item=self.item, month__gt=month,
                                                     cumulative_investment__isnull=False)
                         .order_by("month").first())
            if following and cumulative > following.cumulative_investment:
                self.add_error("cumulative_investment", forms.ValidationError(
                    f"累计完成投资不能高于 {following.month:%Y年%m月} 已报的 {following.cumulative_investment:.2f} 亿元。"))
            total = self.item.total_investment
            if total is not None and cumulative > total:
                self.warnings.append(f"累计完成投资 {cumulative:.2f} 亿元已超过总投资 {total:.2f} 亿元，请核实。")
        return data


class MilestoneMetForm(forms.Form):
    met_on = forms.DateField(label="完成日期", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan

    def clean_met_on(self):
        day = self.cleaned_data["met_on"]
        reason = check_met_date(day, self.plan, timezone.localdate())
        if reason:
            raise forms.ValidationError(reason)
        return day


class TargetUploadForm(forms.Form):
    file = forms.FileField(label="年度推进计划（XLSX）")



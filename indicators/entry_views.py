"""Entering plan indicators' yearly actual values: by form, and by the XLSX template (download
prefilled, upload all or nothing). Planners enter every indicator's values, a unit user those
of the indicators its units are responsible for; leaders only read (the indicator page)."""
import re

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from indicators.values import (
    TEMPLATE_HEADER, TEMPLATE_NOTE, check_year, import_values, monitored_indicators, parse_actual, save_values,
    values_template,
)
from indicators.models import Indicator, IndicatorValue
from projects.models import Plan
from projects.validation import ImportFailed, MAX_YEAR, MIN_YEAR, check_length

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class IndicatorValuesForm(forms.Form):
    """One year's actual values of the given indicators: a value and a source note each."""

    def __init__(self, *args, indicators, year, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.indicators, self.year, self.plan = list(indicators), year, plan
        current = {v.indicator_id: v for v in IndicatorValue.objects.filter(indicator__in=self.indicators, year=year)}
        for ind in self.indicators:
            row = current.get(ind.pk)
            self.fields[f"v{ind.pk}"] = forms.CharField(
                label=ind.full_name, required=False, initial=format(row.value.normalize(), "f") if row else "",
                widget=forms.TextInput(attrs={"class": "form-control form-control-sm", "inputmode": "decimal",
                                              "aria-label": ind.full_name}))
            self.fields[f"n{ind.pk}"] = forms.CharField(
                label="数据来源说明", required=False, initial=row.note if row else "",
                widget=forms.TextInput(attrs={"class": "form-control form-control-sm",
                                              "aria-label": f"{ind.full_name} 数据来源说明"}))

    def rows(self):
        return [(ind, self[f"v{ind.pk}"], self[f"n{ind.pk}"]) for ind in self.indicators]

    def clean(self):
        data = super().clean()
        for ind in self.indicators:
            try:
                data[f"v{ind.pk}"] = parse_actual(data.get(f"v{ind.pk}", ""))
            except ValueError as exc:
                self.add_error(f"v{ind.pk}", str(exc))
            try:
                data[f"n{ind.pk}"] = check_length(data.get(f"n{ind.pk}", "").strip(), IndicatorValue, "note")
            except ValueError as exc:
                self.add_error(f"n{ind.pk}", str(exc))
        return data

    def changes(self):
        return [(ind, self.year, self.cleaned_data[f"v{ind.pk}"], self.cleaned_data[f"n{ind.pk}"])
                for ind in self.indicators]


class ValuesUploadForm(forms.Form):
    file = forms.FileField(label="年度实际值模板（XLSX）")


def _plan_and_year(request):
    """The plan (?plan=CODE) and year (?year=YYYY, within its period); 404 for a bad plan."""
    code = request.GET.get("plan", "")
    if not re.fullmatch(r"[-\w]{1,40}", code):
        raise Http404("没有这个规划")
    plan = get_object_or_404(Plan, code=code)
    raw = request.GET.get("year", "")
    try:
        year = int(raw) if raw.isdigit() and len(raw) == 4 else None
        year = check_year(year, plan) if year and MIN_YEAR <= year <= MAX_YEAR else None
    except ValueError:
        year = None
    return plan, year or plan.start_year


def _editable(request, plan):
    indicators = monitored_indicators(plan).filter(pk__in=Indicator.objects.editable_by(request.user))
    if not indicators.exists():
        raise Http404("没有可填报的指标")
    return indicators


@login_required
def indicator_values(request):
    """The year's values by form; the template download and upload sit on the same page."""
    plan, year = _plan_and_year(request)
    indicators = _editable(request, plan)
    query = urlencode({"plan": plan.code, "year": year})
    form = IndicatorValuesForm(request.POST or None, indicators=indicators, year=year, plan=plan)
    if request.method == "POST" and form.is_valid():
        result = save_values(form.changes(), request.user, IndicatorValue.Source.FORM)
        messages.success(request, result.message(year))
        return redirect(reverse("indicator_list") + "?" + query)
    return render(request, "indicators/indicator_values.html", {
        "plan": plan, "year": year, "years": range(plan.start_year, plan.end_year + 1), "form": form,
        "upload_form": ValuesUploadForm(), "errors": [], "query": query, "header": TEMPLATE_HEADER,
        "note": TEMPLATE_NOTE,
    })


@login_required
def indicator_values_template(request):
    plan, year = _plan_and_year(request)
    indicators = _editable(request, plan)
    response = HttpResponse(values_template(indicators, plan, year), content_type=XLSX_TYPE)
    response["Content-Disposition"] = (f"attachment; filename*=UTF-8''"
                                       f"{plan.code}_{year}_indicator_values.xlsx")
    return response


@login_required
def indicator_values_upload(request):
    plan, year = _plan_and_year(request)
    indicators = _editable(request, plan)
    if request.method != "POST":
        return redirect(reverse("indicator_values") + "?" + urlencode({"plan": plan.code, "year": year}))
    upload_form = ValuesUploadForm(request.POST, request.FILES)
    errors = []
    if upload_form.is_valid():
        upload = upload_form.cleaned_data["file"]
        try:
            result = import_values(upload, upload.name, request.user,
                                   Indicator.objects.editable_by(request.user).filter(plan=plan))
        except ImportFailed as exc:
            errors = exc.errors
        else:
            messages.success(request, result.message(year))
            return redirect(reverse("indicator_list") + "?" + urlencode({"plan": plan.code, "year": year}))
    form = IndicatorValuesForm(indicators=indicators, year=year, plan=plan)
    return render(request, "indicators/indicator_values.html", {
        "plan": plan, "year": year, "years": range(plan.start_year, plan.end_year + 1), "form": form,
        "upload_form": upload_form, "errors": errors, "query": urlencode({"plan": plan.code, "year": year}),
        "header": TEMPLATE_HEADER, "note": TEMPLATE_NOTE,
    }, status=400 if errors or not upload_form.is_valid() else 200)

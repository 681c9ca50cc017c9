"""Import in the browser, for planners: a plan's lists (new plan or adjustment, 动态调整) or its
indicators. Upload → dry run preview (stored with the staged upload; nothing written) → confirm
(the stored file, checked against its checksum, goes through the same importer as the
commands) or cancel. docs/architecture.md, "Import and adjustment"."""
import datetime
import hashlib
import json
import re

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from indicators.importer import import_indicators
from projects.importer import file_of, import_lists, new_record
from projects.models import Organisation, Plan, PlanImport, WithdrawalReason, organisation_of, organisations_in_reach
from projects.validation import ImportFailed, read_bytes

from .plan_views import _manager

OTHER = "other"
KEEP = "keep"


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label="导入内容", choices=PlanImport.Kind.choices, initial=PlanImport.Kind.LISTS,
                             widget=forms.RadioSelect)
    plan = forms.ModelChoiceField(label="规划（已有）", queryset=Plan.objects.none(), required=False,
                                  empty_label="（新建规划）", widget=forms.Select(attrs={"class": "form-select"}))
    code = forms.SlugField(label="新规划代码", max_length=40, required=False,
                           help_text="新建规划时填写，例如 ojk-15", widget=forms.TextInput(attrs={"class": "form-control"}))
    name = forms.CharField(label="规划名称", max_length=200, required=False, help_text="默认取自文件标题",
                           widget=forms.TextInput(attrs={"class": "form-control"}))
    organisation = forms.ModelChoiceField(label="所属组织（新建规划）", queryset=Organisation.objects.none(),
                                          required=False, empty_label="（本人所属组织）",
                                          widget=forms.Select(attrs={"class": "form-select"}))
    predecessor = forms.ModelChoiceField(label="上一期规划（续建项目按名称接续）", queryset=Plan.objects.none(),
                                         required=False, empty_label="（不接续）",
                                         widget=forms.Select(attrs={"class": "form-select"}))
    file = forms.FileField(label="文件（规划文本、CSV 或 XLSX）",
                           widget=forms.ClearableFileInput(attrs={"class": "form-control"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # only the plans and organisations of the planner's scope (another's plan: "选择一个有效的选项")
        plans = Plan.objects.editable_by(user).filter(is_synthetic=False).order_by("-start_year", "code")
        self.fields["plan"].queryset = plans
        self.fields["predecessor"].queryset = plans
        reach = organisations_in_reach(user)
        self.fields["organisation"].queryset = (Organisation.objects.all() if reach is None
                                                else Organisation.objects.filter(pk__in=reach))

    def clean(self):
        data = super().clean()
        plan, code = data.get("plan"), (data.get("code") or "").strip()
        if plan is None and not code:
            raise forms.ValidationError("请选择已有规划，或填写新规划代码。")
        if plan is None and Plan.objects.filter(code=code).exists():
            self.add_error("code", f"规划代码“{code}”已存在，请在“规划（已有）”中选择它。")
        if data.get("predecessor") is not None and data.get("kind") != PlanImport.Kind.LISTS:
            self.add_error("predecessor", "只有导入六重清单时才能接续上一期规划。")
        data["plan_code"] = plan.code if plan is not None else code
        # the owner: an existing plan's own (unchanged), else the one chosen or the planner's
        data["owner"] = plan.organisation if plan is not None else (data.get("organisation") or organisation_of(self.user))
        return data


def _dry_run(record, **adjustment):
    """The preview of a stored upload (all rolled back); raises ImportFailed."""
    if record.kind == PlanImport.Kind.LISTS:
        return import_lists(record, dry_run=True, **adjustment).preview()
    source, filename = file_of(record)
    report = import_indicators(source, record.plan_code, name=record.plan_name or None, dry_run=True,
                               filename=filename, organisation=record.organisation)
    return indicator_preview(report)


def indicator_preview(report) -> dict:
    return {"plan": {"code": report.plan.code, "name": report.plan.name, "is_new": report.plan_created,
                     "years": f"{report.plan.start_year}–{report.plan.end_year}"},
            "tables": [{"title": t.title, "kind": t.kind_label, "count": t.count, "expected": t.expected,
                        "binding": t.binding, "created": t.created, "updated": t.updated,
                        "unchanged": t.unchanged, "values": t.values} for t in report.tables],
            "warnings": list(report.doc.warnings), "absent": list(report.absent), "lines": report.lines()}


def fingerprint(preview: dict) -> str:
    """What the confirm must find again: the preview without its wording of the run."""
    kept = {k: v for k, v in preview.items() if k != "lines"}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@login_required
def plan_import(request):
    """The upload form (GET) and the dry run of an upload (POST → the preview page)."""
    _manager(request.user)
    errors = []
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            upload = data["file"]
            try:
                content = read_bytes(upload, upload.name)
                record = new_record(data["kind"], content, upload.name, data["plan_code"], request.user,
                                    data.get("name") or "",
                                    data["predecessor"].code if data.get("predecessor") else "", data["owner"])
                record.preview = _dry_run(record, adjusted_on=timezone.localdate())
            except ImportFailed as failure:
                errors = failure.errors
            else:
                record.save()
                return redirect("plan_import_preview", token=record.token)
    else:
        initial = {}
        codes = {k: request.GET.get(k, "") for k in ("plan", "predecessor")}
        if any(v and not re.fullmatch(r"[-\w]{1,40}", v) for v in codes.values()):
            codes = {}  # not a plan code: the form opens empty
        if codes.get("plan"):
            initial["plan"] = Plan.objects.editable_by(request.user).filter(code=request.GET["plan"][:40]).first()
        if codes.get("predecessor"):
            initial["predecessor"] = Plan.objects.editable_by(request.user).filter(
                code=request.GET["predecessor"][:40]).first()
        form = UploadForm(initial=initial, user=request.user)
    return render(request, "portfolio/plan_import.html", {"form": form, "errors": errors})


class ConfirmForm(forms.Form):
    adjusted_on = forms.DateField(label="调整日期", required=False,
                                  widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date", "class": "form-control"}))
    document_no = forms.CharField(label="文号", max_length=100, required=False,
                                  widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "例如 瓯管〔2027〕3号"}))

    def __init__(self, *args, missing=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.missing = list(missing)
        choices = [(KEEP, "保留在清单中"), *[(r.value, f"调出：{r.label}") for r in WithdrawalReason],
                   (OTHER, "调出：其他原因")]
        for entry in self.missing:
            self.fields[f"w-{entry['pk']}"] = forms.ChoiceField(
                label=f"{entry['list']} 序号 {entry['seq']}「{entry['name']}」", choices=choices, initial=KEEP,
                widget=forms.Select(attrs={"class": "form-select form-select-sm withdraw-choice"}))
            self.fields[f"w-{entry['pk']}-other"] = forms.CharField(
                label="其他原因", max_length=200, required=False,
                widget=forms.TextInput(attrs={"class": "form-control form-control-sm", "placeholder": "其他原因"}))

    def rows(self):
        return [(entry, self[f"w-{entry['pk']}"], self[f"w-{entry['pk']}-other"]) for entry in self.missing]

    def clean(self):
        data = super().clean()
        withdraw = {}
        for entry in self.missing:
            choice = data.get(f"w-{entry['pk']}")
            if choice == KEEP or choice is None:
                continue
            reason = (data.get(f"w-{entry['pk']}-other") or "").strip() if choice == OTHER else choice
            if not reason:
                self.add_error(f"w-{entry['pk']}-other", f"{entry['list']} 序号 {entry['seq']}：请写明调出原因。")
                continue
            withdraw[(entry["kind"], entry["seq"])] = reason
        data["withdraw"] = withdraw
        day = data.get("adjusted_on") or timezone.localdate()
        if day > timezone.localdate() + datetime.timedelta(days=366):
            self.add_error("adjusted_on", "调整日期不能晚于一年之后。")
        data["adjusted_on"] = day
        return data


def _staged(request, token):
    """A staged upload the planner may see: of a plan in their scope, or creating one for an
    organisation in it; any other token is a 404."""
    _manager(request.user)
    reach = organisations_in_reach(request.user)
    records = PlanImport.objects.all()
    if reach is not None:
        records = records.filter(Q(plan__organisation_id__in=reach) | Q(organisation_id__in=reach))
    return get_object_or_404(records, token=token)


@login_required
def plan_import_preview(request, token):
    """The stored dry run of a staged upload, with the adjustment's choices; read only."""
    record = _staged(request, token)
    form = ConfirmForm(missing=record.preview.get("missing", []), initial={"adjusted_on": timezone.localdate()})
    return render(request, "portfolio/plan_import_preview.html", {"record": record, "p": record.preview, "form": form})


@login_required
@require_POST
def plan_import_confirm(request, token):
    """Apply a staged upload: the same importer as the command, on the stored file (checksum
    checked), re-validated; if what it would do differs from the preview shown, nothing is
    written and the new preview is shown."""
    with transaction.atomic():
        record = _staged(request, token)
        record = PlanImport.objects.select_for_update().get(pk=record.pk)
        if record.state != PlanImport.State.STAGED:
            messages.error(request, f"该上传已{record.get_state_display()}，不能再次确认。")
            return redirect("plan_import_preview", token=token)
        form = ConfirmForm(request.POST, missing=record.preview.get("missing", []))
        if not form.is_valid():
            return render(request, "portfolio/plan_import_preview.html",
                          {"record": record, "p": record.preview, "form": form}, status=400)
        adjustment = {"adjusted_on": form.cleaned_data["adjusted_on"], "user": request.user}
        try:
            with transaction.atomic():
                if record.kind == PlanImport.Kind.LISTS:
                    again = import_lists(record, dry_run=True, **adjustment).preview()
                else:
                    again = _dry_run(record)
                if fingerprint(again) != fingerprint(record.preview):
                    record.preview = again
                    record.save(update_fields=["preview"])
                    messages.warning(request, "预览之后数据已有变化，未写入任何数据：请核对新的预览后再确认。")
                    return redirect("plan_import_preview", token=token)
                if record.kind == PlanImport.Kind.LISTS:
                    report = import_lists(record, withdraw=form.cleaned_data["withdraw"],
                                          document_no=form.cleaned_data["document_no"], **adjustment)
                    done = report.lines()
                else:
                    source, filename = file_of(record)
                    report = import_indicators(source, record.plan_code, name=record.plan_name or None,
                                               filename=filename, organisation=record.organisation)
                    record.plan, record.state, record.applied_at = report.plan, PlanImport.State.APPLIED, timezone.now()
                    record.save()
                    done = report.lines()
        except ImportFailed as failure:
            return render(request, "portfolio/plan_import_preview.html",
                          {"record": record, "p": record.preview, "form": form, "errors": failure.errors}, status=400)
    messages.success(request, done[0])
    return redirect("plan_import_preview", token=token)


@login_required
@require_POST
def plan_import_cancel(request, token):
    record = _staged(request, token)
    if record.state == PlanImport.State.STAGED:
        record.state, record.data = PlanImport.State.CANCELLED, b""
        record.save(update_fields=["state", "data"])
        messages.info(request, f"已取消导入 {record.filename}，未写入任何数据。")
    return redirect("plan_import")

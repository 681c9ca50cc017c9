"""Forms of the loop. Every refusal is in Chinese, on the field it concerns, with its reason."""
import datetime

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.validators import FileExtensionValidator
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django_fsm import can_proceed

from projects.models import ItemUnit, Role, Unit
from projects.names import PinyinModelChoiceField

from .models import Order, OrderState, Problem, ProblemState

LATEST_DEADLINE = datetime.date(2100, 12, 31)
FILE_TYPES = ("pdf", "doc", "docx", "xls", "xlsx", "jpg", "jpeg", "png", "zip")
# The first bytes each kind of file starts with (a renamed executable is refused).
SIGNATURES = {
    "pdf": (b"%PDF",), "png": (b"\x89PNG",), "jpg": (b"\xff\xd8\xff",), "jpeg": (b"\xff\xd8\xff",),
    "docx": (b"PK\x03\x04",), "xlsx": (b"PK\x03\x04",), "zip": (b"PK\x03\x04",),
    "doc": (b"\xd0\xcf\x11\xe0",), "xls": (b"\xd0\xcf\x11\xe0",),
}


def styled(form):
    for field in form.fields.values():
        widget = field.widget
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)


def check_deadline(day):
    today = timezone.localdate()
    if day < today:
        raise forms.ValidationError(f"办理期限 {day:%Y-%m-%d} 已过，应不早于今天（{today:%Y-%m-%d}）。")
    if day > LATEST_DEADLINE:
        raise forms.ValidationError("办理期限应在 2100 年之前。")
    return day


def required_text(value, what):
    value = (value or "").strip()
    if not value:
        raise forms.ValidationError(f"请填写{what}，不能为空。")
    return value


def responsible_units():
    """Units that hold at least one entry: the units a problem or an order may go to."""
    return Unit.objects.filter(Exists(ItemUnit.objects.filter(unit=OuterRef("pk")))).order_by("name")


def leaders():
    return get_user_model().objects.filter(Q(groups__name=Role.LEADER) | Q(groups__name=Role.PLANNER)) \
        .distinct().order_by("username")


DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProblemForm(forms.ModelForm):
    """Raise a problem from an entry (its report's 存在问题 prefilled)."""

    class Meta:
        model = Problem
        fields = ["description", "kind", "level", "coordinating_unit", "leader", "leader_name", "deadline"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4}), "deadline": DATE}
        field_classes = {"coordinating_unit": PinyinModelChoiceField}
        labels = {"leader": "分管领导（系统用户）", "leader_name": "或填写分管领导姓名"}
        help_texts = {"leader_name": "不在系统中的领导", "leader": "二选一"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coordinating_unit"].queryset = responsible_units()
        self.fields["coordinating_unit"].error_messages["invalid_choice"] = "所选单位不存在。"
        self.fields["leader"].queryset = leaders()
        self.fields["leader"].label_from_instance = lambda u: u.get_full_name() or u.username
        self.fields["description"].error_messages["required"] = "请填写问题描述，不能为空。"
        styled(self)

    def clean_description(self):
        return required_text(self.cleaned_data.get("description"), "问题描述")

    def clean_deadline(self):
        return check_deadline(self.cleaned_data["deadline"])

    def clean(self):
        data = super().clean()
        if not data.get("leader") and not (data.get("leader_name") or "").strip() and "leader" not in self.errors:
            self.add_error("leader_name", "请选择分管领导或填写其姓名。")
        return data


class ResubmitForm(ProblemForm):
    """重新提交: the unit revises a problem sent back (what it filled in when raising it) and sends it
    to triage again, saying what it changed."""
    note = forms.CharField(label="修改说明", widget=forms.Textarea(attrs={"rows": 2}),
                           error_messages={"required": "请说明针对退回理由作了哪些修改，不能为空。"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        styled(self)

    def clean_note(self):
        if self.instance.state != ProblemState.RETURNED:
            raise forms.ValidationError(f"问题当前状态为“{self.instance.get_state_display()}”，不能重新提交。")
        return required_text(self.cleaned_data.get("note"), "修改说明")


class AcceptForm(forms.ModelForm):
    """受理分办: the planner confirms (or changes) the coordinating unit, leader and deadline."""
    note = forms.CharField(label="分办意见", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    class Meta:
        model = Problem
        fields = ["kind", "level", "coordinating_unit", "leader", "leader_name", "deadline"]
        widgets = {"deadline": DATE}
        field_classes = {"coordinating_unit": PinyinModelChoiceField}
        labels = {"leader": "分管领导（系统用户）", "leader_name": "或填写分管领导姓名"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coordinating_unit"].queryset = responsible_units()
        self.fields["leader"].queryset = leaders()
        self.fields["leader"].label_from_instance = lambda u: u.get_full_name() or u.username
        styled(self)

    def clean_deadline(self):
        return check_deadline(self.cleaned_data["deadline"])

    def clean(self):
        data = super().clean()
        if self.instance.state != ProblemState.PENDING:
            raise forms.ValidationError(f"问题当前状态为“{self.instance.get_state_display()}”，不能再受理分办。")
        if not data.get("leader") and not (data.get("leader_name") or "").strip():
            self.add_error("leader_name", "请选择分管领导或填写其姓名。")
        return data


class TransitionForm(forms.Form):
    """What is said with a transition. `required` names the text when it may not be empty;
    `closed_message` is the refusal when the object has moved on (e.g. answer after 办结)."""
    text = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, obj, name, label="说明", required=None, closed_message=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.obj, self.name, self.required_what, self.closed_message = obj, name, required, closed_message
        self.fields["text"].label = label
        styled(self)

    def clean_text(self):
        text = (self.cleaned_data.get("text") or "").strip()
        if not can_proceed(getattr(self.obj, self.name)):
            raise forms.ValidationError(self.closed_message or
                                        f"当前状态为“{self.obj.get_state_display()}”，不能执行此操作。")
        if self.required_what:
            return required_text(text, self.required_what)
        return text


class MergeForm(TransitionForm):
    into = forms.IntegerField(label="合并到问题编号", min_value=1)

    field_order = ["into", "text"]

    def __init__(self, *args, visible, **kwargs):
        super().__init__(*args, **kwargs)
        self.visible = visible
        self.fields["into"].error_messages.update({"required": "请填写要合并到的问题编号。",
                                                   "invalid": "问题编号应为数字。"})
        styled(self)

    def clean_into(self):
        pk = self.cleaned_data["into"]
        target = self.visible.filter(pk=pk).first()
        if target is None:
            raise forms.ValidationError(f"问题 #{pk} 不存在。")
        if target.pk == self.obj.pk:
            raise forms.ValidationError("不能合并到问题自身。")
        if target.state in (ProblemState.MERGED, ProblemState.RETURNED):
            raise forms.ValidationError(f"问题 #{pk} {target.get_state_display()}，不能作为合并目标。")
        return target


class CloseProblemForm(TransitionForm):
    file = forms.FileField(label="佐证材料（选填）", required=False,
                           validators=[FileExtensionValidator(FILE_TYPES, message=(
                               "文件类型“%(extension)s”不允许，可上传：" + "、".join(FILE_TYPES) + "。"))])

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if not upload:
            return upload
        limit = settings.TRACKER_PROBLEM_FILE_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(f"文件 {upload.size / 1048576:.1f} MB，超过上限 {limit / 1048576:.0f} MB。")
        extension = upload.name.rsplit(".", 1)[-1].lower()
        head = upload.read(8)
        upload.seek(0)
        if not head.startswith(SIGNATURES[extension]):
            raise forms.ValidationError(f"文件内容不是 {extension} 格式，请检查后重新上传。")
        return upload


class OrderForm(forms.ModelForm):
    """Issue a 督办 order for an entry, a problem or a unit. The unit must be within the issuer's
    reach (`reach`): the entry's units, the problem's coordinating unit and entry's units, or for a
    unit order any responsible unit."""

    class Meta:
        model = Order
        fields = ["unit", "requirement", "deadline"]
        widgets = {"requirement": forms.Textarea(attrs={"rows": 4}), "deadline": DATE}
        field_classes = {"unit": PinyinModelChoiceField}

    def __init__(self, *args, reach, **kwargs):
        super().__init__(*args, **kwargs)
        self.reach = reach
        # Every unit is offered to a unit order; a crafted id outside the reach is refused with its reason.
        self.fields["unit"].queryset = Unit.objects.order_by("name")
        self.fields["unit"].error_messages["invalid_choice"] = "所选单位不存在。"
        self.fields["unit"].error_messages["required"] = "请选择督办单位。"
        self.fields["requirement"].error_messages["required"] = "请填写督办要求，不能为空。"
        styled(self)

    def clean_unit(self):
        unit = self.cleaned_data["unit"]
        if not self.reach.filter(pk=unit.pk).exists():
            raise forms.ValidationError(f"“{unit.name}”不在您可督办的范围内（督办事项或问题时，只能发给其责任单位或协调单位）。")
        return unit

    def clean_requirement(self):
        return required_text(self.cleaned_data.get("requirement"), "督办要求")

    def clean_deadline(self):
        return check_deadline(self.cleaned_data["deadline"])


ORDER_ACTIONS = {
    # name: (label of the text, what must not be empty, refusal when not possible)
    "sign": ("签收说明（选填）", None, None),
    "reply": ("反馈内容", "反馈内容", "督办已办结，不能再反馈。"),
    "close": ("办结意见（选填）", None, None),
    "send_back": ("退回理由", "退回理由", None),
}
PROBLEM_ACTIONS = {
    "send_back": ("退回理由", "退回理由", None),
    "reply": ("答复内容", "答复内容", "问题已销号，不能再答复；如需继续协调，请规划人员重新打开。"),
    "close": ("销号说明", "销号说明", None),
    "reopen": ("重新打开的理由", "重新打开的理由", None),
    "merge": ("合并说明（选填）", None, None),
}


def order_form(order, name, data=None):
    label, required, closed = ORDER_ACTIONS[name]
    if name == "reply" and order.state != OrderState.CLOSED:
        closed = None
    return TransitionForm(data, obj=order, name=name, label=label, required=required, closed_message=closed)

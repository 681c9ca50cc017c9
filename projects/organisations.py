"""Loading the organisation tree from a CSV (代码,名称,层级,上级代码): every row checked before
anything is written; re-loading updates names, levels and parents in place."""
import csv

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import Organisation, OrganisationLevel
from .validation import ImportFailed

LEVELS = {label: value for value, label in OrganisationLevel.choices}
HEADER = ["代码", "名称", "层级", "上级代码"]


class TreeFileError(Exception):
    def __init__(self, errors):
        super().__init__("\n".join(errors))
        self.errors = errors


def read_tree(path):
    errors, rows = [], []
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames != HEADER:
                raise TreeFileError([f"{path}：表头应为“{','.join(HEADER)}”。"])
            for line, row in enumerate(reader, start=2):
                code, name, level, parent = (str(row.get(k) or "").strip() for k in HEADER)
                if not code or len(code) > 40 or not all(c.isalnum() or c in "-_" for c in code):
                    errors.append(f"{path} 第 {line} 行“代码”：“{code[:40]}”应为 1–40 个字母、数字、- 或 _。")
                if not name or len(name) > 100:
                    errors.append(f"{path} 第 {line} 行“名称”：不能为空，最多 100 字。")
                if level not in LEVELS:
                    errors.append(f"{path} 第 {line} 行“层级”：“{level[:20]}”应为 {'、'.join(LEVELS)} 之一。")
                rows.append((line, code, name, LEVELS.get(level), parent))
    except (OSError, UnicodeDecodeError) as exc:
        raise TreeFileError([f"{path}：无法读取（{type(exc).__name__}），应为 UTF-8 编码的 CSV。"]) from None
    codes = [r[1] for r in rows]
    for line, code, _, _, parent in rows:
        if codes.count(code) > 1:
            errors.append(f"{path} 第 {line} 行“代码”：“{code}”重复。")
        if parent and parent not in codes and not Organisation.objects.filter(code=parent).exists():
            errors.append(f"{path} 第 {line} 行“上级代码”：“{parent[:40]}”既不在本文件中，也不在库中。")
    if errors:
        raise TreeFileError(errors)
    return rows


@transaction.atomic
def load_tree(path):
    """Returns (created, updated). A parent that would put an organisation under its own
    descendant is refused, naming the row."""
    rows = read_tree(path)
    created = updated = 0
    by_code = {}
    for _, code, name, level, _ in rows:
        org, made = Organisation.objects.update_or_create(code=code, defaults={"name": name, "level": level})
        by_code[code] = org
        created += made
        updated += not made
    for line, code, _, _, parent_code in rows:
        org = by_code[code]
        parent = by_code.get(parent_code) or (Organisation.objects.get(code=parent_code) if parent_code else None)
        if org.parent_id != (parent.pk if parent else None):
            org.parent = parent
            try:
                org.full_clean()
            except ValidationError as exc:
                reasons = "；".join(m for ms in exc.message_dict.values() for m in ms)
                raise TreeFileError([f"{path} 第 {line} 行“上级代码”：{reasons}"]) from None
            org.save()
    return created, updated


def owner_of(plan, organisation, label):
    """The organisation an imported plan belongs to: the one named (--org), else the plan's own,
    else the only top of the tree; several tops and none named is refused."""
    owner = organisation or plan.organisation or Organisation.objects.default_root()
    if owner is None:
        raise ImportFailed([f"{label}: 库中有多个顶级组织，请用 --org 指定规划“{plan.code}”所属的组织"])
    return owner


def organisation_by_code(code):
    """--org CODE → the organisation; ValueError in Chinese naming the codes there are."""
    org = Organisation.objects.filter(code=code).first() if code else None
    if org is None:
        known = "、".join(Organisation.objects.without_tree_fields().order_by("code").values_list("code", flat=True)[:20]) or "（尚无组织）"
        raise ValueError(f"组织代码“{str(code)[:40]}”不存在；已有：{known}")
    return org

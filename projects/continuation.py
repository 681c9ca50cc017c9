"""Continuation across plans: a 十五五 entry that continues a 十四五 one (Item.predecessor).

The importer links by name; planners link and unlink by hand (detail page or admin). Every
link is an ordinary save of the entry, so django-simple-history records who changed it and
the change tracking re-evaluates both entries (the cumulative investment follows the chain).
"""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import OuterRef, Q

from .models import Item, ListKind, Plan, ProjectType, StatusReport

# ---------------------------------------------------------------- the project's cumulative investment
# One definition (docs/architecture.md, "Plans over time"): an entry's cumulative investment as of a
# month is the figure of the latest report (by month, then by id) that has one, among the reports of
# the entry and of the entries it continues, CHAIN_DEPTH plans back. Facts, forms, pages and exports
# all read it through the three forms below.

CHAIN_DEPTH = 2  # plans back an entry's cumulative investment follows

# SQL, for a subquery over entries: reports of the entry (OuterRef "pk") or of the entries it continues.
CHAIN_REPORTS = (Q(item=OuterRef("pk")) | Q(item=OuterRef("predecessor_id"))
                 | Q(item=OuterRef("predecessor__predecessor_id")))


def chain_of(item) -> list:
    """The entry and the entries it continues, CHAIN_DEPTH plans back (latest first)."""
    entries, node = [item], item
    for _ in range(CHAIN_DEPTH):
        node = node.predecessor if node.predecessor_id else None
        if node is None:
            break
        entries.append(node)
    return entries


def cumulative_report_of(reports):
    """Of reports of one chain, the one holding the cumulative figure (None when none has one)."""
    return max((r for r in reports if r.cumulative_investment is not None), key=lambda r: (r.month, r.pk),
               default=None)


def cumulative_report(item, through=None, before=None):
    """The report holding the entry's cumulative investment as of the month `through` (inclusive),
    or before the month `before`; every month when neither is given. One query."""
    reports = StatusReport.objects.filter(item__in=[e.pk for e in chain_of(item)],
                                          cumulative_investment__isnull=False)
    if through is not None:
        reports = reports.filter(month__lte=through)
    if before is not None:
        reports = reports.filter(month__lt=before)
    return reports.select_related("item__plan").order_by("-month", "-pk").first()


def chain_cumulative_by_month(item) -> dict:
    """{month: the entry's cumulative investment as reported for that month}, over its chain."""
    by_month = {}
    for month, value in (StatusReport.objects.filter(item__in=[e.pk for e in chain_of(item)],
                                                     cumulative_investment__isnull=False)
                         .order_by("month", "pk").values_list("month", "cumulative_investment")):
        by_month[month] = value  # the latest id of a month wins, as in cumulative_report
    return by_month


# after NFKC, brackets of other shapes still differ: fold them to the ASCII pair
_BRACKETS = str.maketrans({"〔": "(", "〕": ")", "【": "(", "】": ")", "［": "(", "］": ")", "[": "(", "]": ")"})


def normalised_name(name: str) -> str:
    """The name two plans' entries are matched on: NFKC (full- and half-width alike), every
    white space dropped (PDF wrapping), brackets folded."""
    text = unicodedata.normalize("NFKC", name or "").translate(_BRACKETS)
    return re.sub(r"\s+", "", text)


@dataclass
class LinkReport:
    predecessor: Plan
    linked: list = field(default_factory=list)  # (entry, predecessor entry) linked by this run
    kept: int = 0  # entries already linked before
    ambiguous: list = field(default_factory=list)  # (entry, [candidates])
    unlinked_continuing: list = field(default_factory=list)  # 续建 entries that continue nothing found
    without_successor: list = field(default_factory=list)  # predecessor entries nothing continues

    def lines(self) -> list[str]:
        total = len(self.linked) + self.kept
        out = [f"接续上一期规划 {self.predecessor.code}（{self.predecessor.name}）：共接续 {total} 项"
               f"（本次新接续 {len(self.linked)} 项，原已接续 {self.kept} 项）"]
        for entry, candidates in self.ambiguous:
            seqs = "、".join(str(c.seq) for c in candidates)
            out.append(f"  同名多项，未自动接续：{entry.get_list_kind_display()} 序号 {entry.seq}「{entry.name}」"
                       f"（上一期序号 {seqs}）")
        out.append(f"未接续的续建项目 {len(self.unlinked_continuing)} 项" + ("：" if self.unlinked_continuing else ""))
        for entry in self.unlinked_continuing:
            out.append(f"  重大项目 序号 {entry.seq}「{entry.name}」")
        out.append(f"上一期规划中没有接续事项的 {len(self.without_successor)} 项"
                   + ("：" if self.without_successor else ""))
        for entry in self.without_successor:
            out.append(f"  {entry.get_list_kind_display()} 序号 {entry.seq}「{entry.name}」")
        return out


def link_to_predecessor(plan: Plan, predecessor: Plan) -> LinkReport:
    """Link each entry of `plan` that has no predecessor yet to the one entry of the same list in
    `predecessor` with the same normalised name that nothing continues yet."""
    report = LinkReport(predecessor)
    with transaction.atomic():
        if plan.predecessor_id != predecessor.pk:
            plan.predecessor = predecessor
            plan.save(update_fields=["predecessor"])
        free = defaultdict(list)
        for old in predecessor.items.filter(successor__isnull=True).order_by("list_kind", "seq"):
            free[(old.list_kind, normalised_name(old.name))].append(old)
        for entry in plan.items.order_by("list_kind", "seq"):
            if entry.predecessor_id is not None:
                report.kept += 1
                continue
            candidates = free.get((entry.list_kind, normalised_name(entry.name)), [])
            if len(candidates) == 1:
                old = candidates.pop()
                entry.predecessor = old
                entry.save(update_fields=["predecessor"])
                report.linked.append((entry, old))
            elif len(candidates) > 1:
                report.ambiguous.append((entry, list(candidates)))
        continuing = plan.items.filter(list_kind=ListKind.PROJECT, project_type=ProjectType.CONTINUING,
                                       predecessor__isnull=True).order_by("seq")
        report.unlinked_continuing = list(continuing)
        order = {kind.value: i for i, kind in enumerate(ListKind)}
        report.without_successor = sorted(predecessor.items.filter(successor__isnull=True),
                                          key=lambda e: (order[e.list_kind], e.seq))
    return report


def set_predecessor(entry: Item, predecessor: Item | None, user=None, reason: str = "") -> None:
    """A planner's link or unlink by hand; validated like a model form, recorded in the history."""
    entry.predecessor = predecessor
    entry.full_clean(exclude=[f.name for f in Item._meta.fields if f.name != "predecessor"])
    entry._change_reason = reason or ("手工接续" if predecessor else "手工取消接续")
    if user is not None:
        entry._history_user = user
    entry.save(update_fields=["predecessor"])

"""Synthetic province-scale data, clearly marked (Plan.is_synthetic, codes `syn-NNNN`, names 合成).

Each plan mirrors the real 瓯江口 attachment: its categories, the mix of lists and 项目类型,
units shared across plans, periods and investments, 24 monthly reports per entry running
ahead of or behind pace (some missing), 3 milestones and 5 annual targets per major project;
and the closed loop at the issue's scale (50,000 problems and 20,000 督办 orders per 200,000
entries: 50 and 20 per plan), raised and issued over the last two years, in a mix of states by
age (most of the old ones closed, some overdue, the recent ones under way).
On PostgreSQL rows go in with COPY; elsewhere with batched bulk_create.
"""
import csv
import datetime
import io
import random
from decimal import Decimal
from types import SimpleNamespace

from django.db import connection, transaction
from django.db.models import Max

from projects.changes import entries_changed
from projects.models import Category, Item, ItemStatus, ItemUnit, ListKind, Plan, ProjectType, Unit
from reporting.models import AnnualTarget, Milestone, StatusReport
from supervision.models import (
    OWING_PROBLEM_STATES, Order, OrderState, Problem, ProblemKind, ProblemLevel, ProblemState, colour_of,
)

# Entries per plan by list (200 in all), in the proportions of the real attachment.
LIST_MIX = [
    (ListKind.PROJECT, 140), (ListKind.PLATFORM, 14), (ListKind.INDUSTRY, 11),
    (ListKind.REFORM, 9), (ListKind.POLICY, 14), (ListKind.ELEMENT, 12),
]
CATEGORIES = {
    ListKind.PROJECT: [("一、基础设施项目", 47), ("二、产业发展项目", 75), ("三、房地产项目", 41),
                       ("四、公共服务项目", 30), ("五、生态保护项目", 3)],
    ListKind.PLATFORM: [("一、重大开放平台", 4), ("二、重大产业平台", 8), ("三、重大科创平台", 6), ("四、现代农业发展平台", 1)],
    ListKind.INDUSTRY: [("一、突出培育六大标志性产业链", 6), ("二、打造现代服务业强引擎", 3), ("三、大力发展海洋经济", 7)],
    ListKind.ELEMENT: [("一、土地保障", 5), ("二、资金保障", 9), ("三、人才保障", 3)],
}
PROJECT_TYPES = [(ProjectType.NEW, 113), (ProjectType.CONTINUING, 69), (ProjectType.PREPARATORY, 6),
                 (ProjectType.RESEARCH, 8)]
UNIT_STEMS = ["开发建设投资集团有限公司", "经济发展局", "自然资源和规划局", "投资促进局", "财政局", "街道办事处",
              "社会事务综合服务局", "交通投资集团有限公司", "港城发展有限公司", "科技发展有限公司"]
PLACES = ["瓯江口", "临海", "台州湾", "乐清", "瑞安", "龙湾", "洞头", "永嘉", "平阳", "苍南", "文成", "泰顺",
          "鹿城", "瓯海", "椒江", "黄岩", "路桥", "温岭", "玉环", "三门"]
NAME_WORDS = ["综合开发", "市政道路", "产业园", "污水处理厂", "综合管廊", "学校建设", "医院二期", "智能制造基地",
              "安置房", "生态修复", "港区码头", "轨道交通站点", "会展中心", "人才公寓", "科创中心"]
REPORT_MONTHS = 24
FIRST_REPORT_MONTH = datetime.date(2024, 11, 1)
PROBLEMS_PER_PLAN = 50  # 50,000 per 200,000 entries
ORDERS_PER_PLAN = 20  # 20,000 per 200,000 entries
LOOP_FROM = datetime.date(2025, 1, 1)  # problems raised and orders issued from here ...
LOOP_TO = datetime.date(2026, 11, 20)  # ... to here
REMINDED_ON = datetime.date(2026, 11, 22)  # the colour the last 催办 run announced (notified_colour)
PROBLEM_TEXTS = ["征地拆迁进度滞后，影响开工", "建设资金缺口待落实", "施工许可审批未完成", "政策处理涉及村民安置",
                 "用能指标不足", "电力接入方案未确定", "规划调整待批复"]


def _months(start: datetime.date, n: int):
    y, m = start.year, start.month
    for _ in range(n):
        yield datetime.date(y, m, 1)
        m += 1
        if m > 12:
            y, m = y + 1, 1


def _weighted(rng, pairs):
    total = sum(w for _, w in pairs)
    x = rng.uniform(0, total)
    for value, w in pairs:
        x -= w
        if x <= 0:
            return value
    return pairs[-1][0]


class _Copier:
    """Collects rows per table and writes them with COPY (PostgreSQL) or bulk_create."""

    def __init__(self, chunk=200_000):
        self.buffers = {}
        self.chunk = chunk
        self.postgres = connection.vendor == "postgresql"

    def add(self, model, fields, row):
        buf = self.buffers.setdefault(model, (fields, [], io.StringIO()))
        if self.postgres:
            csv.writer(buf[2]).writerow(["\\N" if v is None else v for v in row])
            buf[1].append(None)
        else:
            buf[1].append(model(**{model._meta.get_field(f).attname: v for f, v in zip(fields, row)}))
        if len(buf[1]) >= self.chunk:
            self.flush(model)

    def flush(self, model=None):
        for m in ([model] if model else list(self.buffers)):
            fields, rows, text = self.buffers.pop(m, (None, [], None))
            if not rows:
                continue
            if self.postgres:
                columns = ", ".join(connection.ops.quote_name(m._meta.get_field(f).column) for f in fields)
                text.seek(0)
                with connection.cursor() as cursor:
                    cursor.copy_expert(
                        f"COPY {m._meta.db_table} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", text)
            else:
                m.objects.bulk_create(rows, batch_size=2000)


def _next_id(model):
    return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


def _reset_sequences(*models):
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for m in models:
            table = m._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"COALESCE((SELECT MAX(id) FROM {table}), 1))")


SYNTHETIC_CITIES, SYNTHETIC_COUNTIES_PER_CITY = 11, 8


def synthetic_tree():
    """About 11 cities and 90 counties (a province's shape) under the top of the tree, made once;
    returns the county ids that synthetic plans are spread over, so scope is exercised at depth."""
    from projects.models import Organisation, OrganisationLevel

    root = Organisation.objects.default_root() or Organisation.objects.filter(parent__isnull=True).order_by("pk").first()
    counties = []
    for c in range(SYNTHETIC_CITIES):
        city, _ = Organisation.objects.get_or_create(
            code=f"syn-city-{c + 1:02d}", defaults={"name": f"（合成）第{c + 1}市", "level": OrganisationLevel.CITY,
                                                    "parent": root})
        for k in range(SYNTHETIC_COUNTIES_PER_CITY + (c % 3 == 0)):
            county, _ = Organisation.objects.get_or_create(
                code=f"syn-county-{c + 1:02d}-{k + 1:02d}",
                defaults={"name": f"（合成）第{c + 1}市第{k + 1}县", "level": OrganisationLevel.COUNTY, "parent": city})
            counties.append(county.pk)
    return counties


def generate(plans: int, seed: int = 1, units: int = 600, log=lambda s: None):
    """Write `plans` synthetic plans of 200 entries each; returns counts per table."""
    rng = random.Random(seed)
    counts = dict.fromkeys(["plans", "items", "reports", "milestones", "targets", "units", "problems", "orders"], 0)
    with transaction.atomic():
        first_plan = Plan.objects.filter(code__startswith="syn-").count()
        counties = synthetic_tree()
        unit_ids = []
        for n in range(units):
            name = f"（合成）{PLACES[n % len(PLACES)]}{UNIT_STEMS[(n // len(PLACES)) % len(UNIT_STEMS)]}{n // 200 or ''}"
            unit_ids.append(Unit.objects.get_or_create(name=name)[0].pk)
        counts["units"] = len(unit_ids)
        copier = _Copier()
        item_id, cat_id = _next_id(Item), _next_id(Category)
        link_id, report_id = _next_id(ItemUnit), _next_id(StatusReport)
        ms_id, target_id = _next_id(Milestone), _next_id(AnnualTarget)
        problem_id, order_id = _next_id(Problem), _next_id(Order)
        issuer = _issuer()
        now = datetime.datetime(2026, 11, 1, 9, 0, tzinfo=datetime.timezone.utc)
        item_fields = ["id", "plan", "list_kind", "category", "seq", "name", "content", "domain", "project_type",
                       "start_year", "end_year", "total_investment", "total_investment_approx", "plan_investment",
                       "plan_investment_approx", "status", "units_as_printed", "source_line", "withdrawal_reason"]
        report_fields = ["id", "item", "month", "status", "progress_pct", "month_investment", "cumulative_investment",
                         "progress_text", "problems", "next_steps", "filed_by", "filed_at", "updated_at", "version"]
        for p in range(first_plan, first_plan + plans):
            plan = Plan.objects.create(code=f"syn-{p + 1:04d}", name=f"合成规划 {p + 1:04d}（合成数据）",
                                       issuer="合成数据", is_synthetic=True, organisation_id=counties[p % len(counties)])
            counts["plans"] += 1
            home_units = rng.sample(unit_ids, 12)
            plan_entries = []  # (entry id, lead unit id or None)
            for kind, n_items in LIST_MIX:
                cats = []
                for order, (label, weight) in enumerate(CATEGORIES.get(kind, []), start=1):
                    name = label.split("、", 1)[1]
                    copier.add(Category, ["id", "plan", "list_kind", "order", "name", "printed_label"],
                               [cat_id, plan.pk, kind, order, name, label])
                    cats.append((cat_id, weight))
                    cat_id += 1
                for seq in range(1, n_items + 1):
                    category = _weighted(rng, cats) if cats else None
                    is_project = kind == ListKind.PROJECT
                    ptype = _weighted(rng, PROJECT_TYPES) if is_project else ""
                    start = rng.randint(2019, 2024) if is_project else None
                    end = start + rng.choice([0, 1, 2, 2, 3, 3, 4, 5]) if is_project else None
                    total = None
                    if is_project and rng.random() > 0.05:
                        total = Decimal(str(round(rng.lognormvariate(1.6, 1.1), 2))) + Decimal("0.05")
                    plan_inv = (total * Decimal(str(round(rng.uniform(0.3, 1), 2)))).quantize(Decimal("0.01")) \
                        if total is not None else None
                    status = ItemStatus.IN_PROGRESS if rng.random() < 0.8 else rng.choice(
                        [ItemStatus.NOT_STARTED, ItemStatus.COMPLETED, ItemStatus.SUSPENDED])
                    place = PLACES[rng.randrange(len(PLACES))]
                    name = f"（合成）{place}{NAME_WORDS[rng.randrange(len(NAME_WORDS))]}{seq}号"
                    copier.add(Item, item_fields, [
                        item_id, plan.pk, kind, category, seq, name, f"合成数据：{name}的建设内容与目标任务。",
                        "科技创新" if kind == ListKind.POLICY else "", ptype, start, end, total, False, plan_inv,
                        False, status, "", None, "",
                    ])
                    lead = rng.choice(home_units) if rng.random() > 0.04 else None
                    if lead:
                        copier.add(ItemUnit, ["id", "item", "unit", "role"], [link_id, item_id, lead, "lead"])
                        link_id += 1
                        if rng.random() < 0.25:
                            other = rng.choice(unit_ids)
                            if other != lead:
                                copier.add(ItemUnit, ["id", "item", "unit", "role"], [link_id, item_id, other, "support"])
                                link_id += 1
                    # 24 monthly reports, ahead of or behind pace, a few missing.
                    pace = rng.uniform(0.4, 1.3)
                    cumulative = Decimal("0")
                    monthly = (total or Decimal("1")) / Decimal(60)
                    for k, month in enumerate(_months(FIRST_REPORT_MONTH, REPORT_MONTHS)):
                        if rng.random() < 0.03:
                            continue
                        spent = (monthly * Decimal(str(round(pace * rng.uniform(0.5, 1.5), 3)))).quantize(Decimal("0.0001"))
                        cumulative += spent
                        filed = now.replace(year=month.year, month=month.month) + datetime.timedelta(
                            days=31 + rng.randint(0, 9))
                        copier.add(StatusReport, report_fields, [
                            report_id, item_id, month, status if k == REPORT_MONTHS - 1 else ItemStatus.IN_PROGRESS,
                            min(100, round(100 * (k + 1) / REPORT_MONTHS * pace)), spent, cumulative,
                            "合成进度说明", "", "", None, filed, filed, 1,
                        ])
                        report_id += 1
                        counts["reports"] += 1
                    if is_project:
                        for m, label in enumerate(["开工", "主体完工", "竣工投产"]):
                            due = datetime.date(start + (end - start) * m // 2, rng.randint(1, 12), 15)
                            met = due if due < datetime.date(2026, 6, 1) and rng.random() < 0.7 else None
                            copier.add(Milestone, ["id", "item", "name", "due_date", "met_on"],
                                       [ms_id, item_id, label, due, met])
                            ms_id += 1
                            counts["milestones"] += 1
                        for y in range(5):
                            year = start + y
                            share = (total / 5).quantize(Decimal("0.01")) if total is not None else None
                            copier.add(AnnualTarget, ["id", "item", "year", "planned_investment", "target_text"],
                                       [target_id, item_id, year, share, f"{year} 年度推进目标（合成）"])
                            target_id += 1
                            counts["targets"] += 1
                    plan_entries.append((item_id, lead))
                    item_id += 1
                    counts["items"] += 1
            problem_id, order_id = _loop(copier, rng, plan_entries, home_units, issuer, problem_id, order_id, counts)
            if (p - first_plan + 1) % 100 == 0:
                log(f"  {p - first_plan + 1} 个规划，{counts['items']} 项，{counts['reports']} 条填报")
        copier.flush()
        _reset_sequences(Category, Item, ItemUnit, StatusReport, Milestone, AnnualTarget, Problem, Order)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    entries_changed()  # COPY sends no signals; `evaluate_flags` gives the new entries their figures
    return counts


# ---------------------------------------------------------------- the closed loop at scale

PROBLEM_FIELDS = ["id", "item", "report", "description", "kind", "level", "coordinating_unit", "leader",
                  "leader_name", "deadline", "state", "raised_by", "raised_at", "raised_on", "merged_into",
                  "return_reason", "answer", "answered_at", "close_note", "close_file", "close_file_name",
                  "closed_at", "updated_at", "notified_overdue"]
ORDER_FIELDS = ["id", "item", "problem", "unit", "requirement", "deadline", "state", "issued_by", "issued_at",
                "issued_on", "signed_at", "answer", "answered_at", "closed_at", "notified_colour", "updated_at"]


def _issuer():
    """The synthetic planner every synthetic order is issued by (orders need an issuer)."""
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="syn_issuer", defaults={"first_name": "合成督办人"})
    return user.pk


def _when(day: datetime.date, hour=10):
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


def _day_between(rng, start: datetime.date, end: datetime.date) -> datetime.date:
    return start + datetime.timedelta(days=rng.randint(0, (end - start).days))


def _answered(rng, raised, deadline, on_time_share):
    """A day of answer or closing: within the deadline with the given chance, else up to a month late."""
    if rng.random() < on_time_share:
        return _day_between(rng, raised, max(raised, min(deadline, LOOP_TO)))
    return min(LOOP_TO, deadline + datetime.timedelta(days=rng.randint(1, 30)))


def _loop(copier, rng, entries, home_units, issuer, problem_id, order_id, counts):
    """A plan's problems and orders; returns the next free ids."""
    with_units = [(item, lead) for item, lead in entries if lead]
    problems = []  # (id, coordinating unit) of open problems, for orders on them
    first_problem = problem_id
    for _ in range(PROBLEMS_PER_PLAN):
        item, lead = rng.choice(with_units)
        unit = lead if rng.random() < 0.7 else rng.choice(home_units)
        raised = _day_between(rng, LOOP_FROM, LOOP_TO)
        deadline = raised + datetime.timedelta(days=rng.randint(15, 90))
        past = deadline < LOOP_TO
        x = rng.random()
        if past:
            state = (ProblemState.CLOSED if x < 0.65 else ProblemState.RETURNED if x < 0.73
                     else ProblemState.MERGED if x < 0.78 and problem_id > first_problem
                     else ProblemState.ANSWERED if x < 0.86 else ProblemState.COORDINATING)
        else:
            state = (ProblemState.PENDING if x < 0.2 else ProblemState.COORDINATING if x < 0.6
                     else ProblemState.ANSWERED if x < 0.9 else ProblemState.CLOSED)
        answered = _answered(rng, raised, deadline, 0.75) if state in (ProblemState.ANSWERED, ProblemState.CLOSED) else None
        closed = min(LOOP_TO, answered + datetime.timedelta(days=rng.randint(0, 10))) \
            if state == ProblemState.CLOSED else None
        copier.add(Problem, PROBLEM_FIELDS, [
            problem_id, item, None, f"（合成）{PROBLEM_TEXTS[rng.randrange(len(PROBLEM_TEXTS))]}",
            rng.choice(ProblemKind.values), rng.choice(ProblemLevel.values), unit, None, "合成分管领导", deadline, state,
            None, _when(raised), raised,
            rng.randint(first_problem, problem_id - 1) if state == ProblemState.MERGED else None,
            "不属于协调范围（合成）" if state == ProblemState.RETURNED else "",
            "已协调落实（合成）" if answered else "", _when(answered, 15) if answered else None,
            "已销号（合成）" if closed else "", "", "", _when(closed, 16) if closed else None,
            _when(closed or answered or raised, 17),
            state in OWING_PROBLEM_STATES and deadline < REMINDED_ON,  # reminded when it became overdue
        ])
        if state in (ProblemState.PENDING, ProblemState.COORDINATING, ProblemState.ANSWERED):
            problems.append((problem_id, unit))
        problem_id += 1
        counts["problems"] += 1
    for _ in range(ORDERS_PER_PLAN):
        x = rng.random()
        item = problem = None
        if x < 0.3 and problems:
            problem, unit = rng.choice(problems)
        elif x < 0.8:
            item, unit = rng.choice(with_units)
        else:
            unit = rng.choice(home_units)
        issued = _day_between(rng, LOOP_FROM, LOOP_TO)
        deadline = issued + datetime.timedelta(days=rng.randint(7, 45))
        x = rng.random()
        if deadline < LOOP_TO:
            state = (OrderState.CLOSED if x < 0.7 else OrderState.ANSWERED if x < 0.8
                     else OrderState.RETURNED if x < 0.85 else OrderState.SIGNED if x < 0.93 else OrderState.ISSUED)
        else:
            state = (OrderState.ISSUED if x < 0.3 else OrderState.SIGNED if x < 0.65
                     else OrderState.ANSWERED if x < 0.9 else OrderState.CLOSED)
        signed = None if state == OrderState.ISSUED else min(LOOP_TO, issued + datetime.timedelta(days=rng.randint(0, 3)))
        answered = _answered(rng, signed, deadline, 0.8) \
            if state in (OrderState.ANSWERED, OrderState.CLOSED, OrderState.RETURNED) else None
        closed = min(LOOP_TO, answered + datetime.timedelta(days=rng.randint(0, 7))) \
            if state == OrderState.CLOSED else None
        row = SimpleNamespace(state=state, deadline=deadline, issued_on=issued)
        copier.add(Order, ORDER_FIELDS, [
            order_id, item, problem, unit, "（合成）请按期完成并反馈", deadline, state, issuer, _when(issued), issued,
            _when(signed, 11) if signed else None, "已按要求办理（合成）" if answered else "",
            _when(answered, 15) if answered else None, _when(closed, 16) if closed else None,
            colour_of(row, REMINDED_ON), _when(closed or answered or signed or issued, 17),
        ])
        order_id += 1
        counts["orders"] += 1
    return problem_id, order_id

"""Shared fixtures: the real 瓯江口 plan in the test database, and one user per role."""
import datetime
import os
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from projects.importer import import_plan
from projects.models import Plan, Role, Unit

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "fixtures" / "ojk_14th_plan.txt"
ALIASES = ROOT / "fixtures" / "unit_aliases.csv"
PLAN_CODE = "ojk-14"
UNIT_A = "温州市瓯江口开发建设投资集团有限公司"
UNIT_B = "经济发展局（统计局，科技局）"


SHOTS = ROOT / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

REAL_AS_OF = datetime.date(2026, 11, 23)  # the date the test database's figures are evaluated at


def load_real_plan():
    """The real plan, imported (and so evaluated) with every figure as of REAL_AS_OF."""
    if not Plan.objects.filter(code=PLAN_CODE).exists():
        from portfolio.evaluation import evaluate
        from projects.models import EvaluationState

        EvaluationState.objects.update_or_create(pk=1, defaults={"as_of": REAL_AS_OF})
        call_command("load_unit_aliases", str(ALIASES), stdout=open(os.devnull, "w"))
        import_plan(SEED, PLAN_CODE)
        evaluate(REAL_AS_OF)
    return Plan.objects.get(code=PLAN_CODE)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        load_real_plan()


@pytest.fixture(autouse=True)
def clean_slate():
    """Tests roll their changes back: forget entries a previous test marked as changed, and
    results it cached under a data version the rollback brought back."""
    from django.core.cache import cache

    from projects.changes import discard_pending

    discard_pending()
    cache.clear()


@pytest.fixture
def real_plan(db):
    """The real plan; re-imported only if a transactional test flushed it."""
    return load_real_plan()


def make_user(username, role, units=(), organisation=None):
    """A user of a role; planners and leaders belong to `organisation`, by default the top of the
    tree (where plans made without one go)."""
    from projects.management.commands.create_demo_users import ensure_role_groups
    from projects.models import Organisation, OrganisationMember

    groups = ensure_role_groups()
    user = User.objects.create_user(username=username, password="pw-" + username, is_staff=role == Role.PLANNER)
    user.groups.set([groups[role]])
    if role in (Role.PLANNER, Role.LEADER):
        OrganisationMember.objects.create(user=user, organisation=organisation or Organisation.objects.default_root())
    for name in units:
        Unit.objects.get(name=name).members.add(user)
    return user


@pytest.fixture
def planner(real_plan):
    return make_user("planner_t", Role.PLANNER)


@pytest.fixture
def leader(real_plan):
    return make_user("leader_t", Role.LEADER)


@pytest.fixture
def unit_a_user(real_plan):
    return make_user("unit_a_t", Role.UNIT, [UNIT_A])


@pytest.fixture
def unit_b_user(real_plan):
    return make_user("unit_b_t", Role.UNIT, [UNIT_B])


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every browser test module: Playwright's sync API refuses a second
    instance in the same thread (tests/test_browser.py shows the pattern)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    SHOTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()

"""Prints, as one JSON line, what a backup must bring back: the dashboard's figures, every flag,
every entry's stored figures and the rollup of every plan, read from the database that
DATABASE_URL names. Run by tests/test_backup.py against the source and the restored database."""
import datetime
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import AnonymousUser  # noqa: E402

from portfolio.models import Flag, ItemFigures  # noqa: E402
from projects.models import EvaluationState  # noqa: E402
from portfolio.rollup import build_rollup  # noqa: E402
from portfolio.summary import compute_dashboard, compute_ranking  # noqa: E402
from projects.models import Plan
from reporting.models import StatusReport


class Everything(AnonymousUser):
    is_authenticated = True
    is_superuser = True


def main():
    as_of = EvaluationState.objects.get(pk=1).as_of
    user = Everything()
    result = {
        "as_of": as_of,
        "reports": StatusReport.objects.count(),
        "dashboard": compute_dashboard(user, as_of),
        "ranking": compute_ranking(as_of),
        "flags": list(Flag.objects.order_by("pk").values_list(
            "item_id", "kind", "severity", "opened_on", "changed_on", "resolved_on", "detail")),
        "figures": list(ItemFigures.objects.order_by("pk").values()),
        "rollups": {plan.code: build_rollup(plan, user, as_of) for plan in Plan.objects.order_by("code")},
    }
    print(json.dumps(result, default=str, ensure_ascii=False, sort_keys=True))


if __name__ == "__main__":
    main()

"""An indicator's promised target is read by one function (indicators/promise.py): the
importer (direction and value meaning), the evaluation over stored rows and over parsed rows, and
the indicator page's trend chart agree on every combination of an end-year and a 年均/累计 cell
(issue 21, "The promised target is computed three times")."""
from types import SimpleNamespace

import pytest

from indicators.status import target_from_parsed
from indicators.evaluation import promised
from indicators.parsing import parse_value
from indicators.importer import _value_fields, chosen_target

CELLS = [  # (end-year cell, 年均/累计 cell) as printed
    ("462.6", "10%"), ("-", "7以上"), ("按上级任务", None), ("—", ""), ("≥95", None), (None, "[15]"),
    ("[21.2、20.3、15、15]", None),  # a list of numbers: no single number, the form still promised
    ("按上级任务", "[21.2、20.3]"), ("[21.2、20.3、15、15]", "按上级下达"),
]


def parsed(raw, growth=False):
    return None if raw is None else parse_value(raw, year=2025, growth_column=growth)


@pytest.mark.parametrize("end,growth", CELLS)
def test_every_reader_takes_the_same_promise(end, growth):
    target, rate = parsed(end), parsed(growth, growth=True)
    from_parser = chosen_target(SimpleNamespace(target=target, growth=rate))
    from_parsed = target_from_parsed(target, rate, 2021, 2025)
    stored = SimpleNamespace(**_value_fields("target", target, 2025), **_value_fields("growth", rate, 2025))
    stored_form, stored_number, *_ = promised(stored, "target")
    forms = {from_parsed.form, stored_form, from_parser.form if from_parser else "missing"}
    assert len(forms) == 1, (end, growth, forms)
    numbers = {from_parsed.value, stored_number, from_parser.number if from_parser else None}
    assert len(numbers) == 1, (end, growth, numbers)

from decimal import ROUND_HALF_UP, Decimal

PENDING = "待定"
CENT = Decimal("0.01")
MONEY_FORMAT = "0.00"  # the number format of every XLSX money cell


def round_money(value) -> Decimal:
    """An amount in 亿元 as pages, CSV and XLSX show it: two decimals, rounded half up (as
    Django's floatformat rounds), never through a float."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def money(value):
    """Money in 亿元 with two decimals; NULL is 待定, never 0 or None."""
    if value is None:
        return PENDING
    return f"{round_money(value):,.2f}"


def money_input(value):
    """An amount as a form field shows it: two decimals, more only where the stored figure has
    them (0.1500 → 0.15, 3 → 3.00, 0.1234 stays), so saving the form again changes nothing."""
    if value in (None, ""):
        return value
    value = Decimal(value)
    return f"{value:.2f}" if value == round_money(value) else f"{value.normalize():f}"


def join_units(names):
    """Responsible units as one text, lead first, as lists and exports print them."""
    return "、".join(names)


def units_text(item):
    return join_units(link.unit.name for link in item.unit_links.all())

from decimal import Decimal

PENDING = "待定"


def money(value):
    """Money in 亿元 with two decimals; NULL is 待定, never 0 or None."""
    if value is None:
        return PENDING
    return f"{Decimal(value):,.2f}"


def join_units(names):
    """Responsible units as one text, lead first, as lists and exports print them."""
    return "、".join(names)


def units_text(item):
    return join_units(link.unit.name for link in item.unit_links.all())

from decimal import Decimal

PENDING = "待定"


def money(value):
    """Money in 亿元 with two decimals; NULL is 待定, never 0 or None."""
    if value is None:
        return PENDING
    return f"{Decimal(value):,.2f}"


def units_text(item):
    return "、".join(link.unit.name for link in item.unit_links.all())

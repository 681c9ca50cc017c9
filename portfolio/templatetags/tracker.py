from django import template
from django.utils.html import escape, format_html_join
from django.utils.safestring import mark_safe

from portfolio.filters import per_version

register = template.Library()

# Filter fields whose column is wider than the default.
WIDE_FIELDS = {"q": "col-md-3", "unit": "col-md-3", "category": "col-md-2"}


def _options_html(choices, empty_label):
    return format_html_join("", '<option value="{}">{}</option>',
                            (("" if v is None else v, label if v not in ("", None) else empty_label)
                             for v, label in choices))


def _select_options(item_filter, name, field, current, empty_label):
    key = item_filter.choice_keys.get(name)
    if key is None:
        html = _options_html(field.choices, empty_label)
    else:  # a province's plans and units: rendered once per data version
        html = per_version.get(item_filter.version, ("options", key, empty_label),
                               lambda: _options_html(field.choices, empty_label))
    if not current:
        return html
    marker = f'<option value="{escape(current)}">'
    return html.replace(marker, f'<option value="{escape(current)}" selected>', 1)


@register.simple_tag
def filter_fields(item_filter, empty_label="全部"):
    """The list filters' inputs, written in Python: a province holds hundreds of plans and
    units, and looping over form fields in the template language cost as much as the page's SQL."""
    form = item_filter.form
    out = []
    for name, field in form.fields.items():
        bound = form[name]
        value = bound.value()
        current = "" if value is None else str(value)
        field_id = escape(bound.id_for_label)
        out.append(f'<div class="{WIDE_FIELDS.get(name, "col-md-2 col-lg-1")}" style="min-width: 8rem">'
                   f'<label class="form-label" for="{field_id}">{escape(field.label)}</label>')
        if form.is_bound and bound.errors:
            out.append('<div class="small text-danger filter-error">'
                       + "；".join(escape(error) for error in bound.errors) + "</div>")
        if getattr(field.widget, "input_type", None) == "select":
            out.append(f'<select name="{escape(bound.html_name)}" id="{field_id}" class="form-select form-select-sm">'
                       f'{_select_options(item_filter, name, field, current, empty_label)}</select>')
        else:
            kind = "number" if field.widget.input_type == "number" else "text"
            placeholder = escape(field.widget.attrs.get("placeholder", ""))
            out.append(f'<input type="{kind}" step="any" class="form-control form-control-sm" '
                       f'name="{escape(bound.html_name)}" id="{field_id}" value="{escape(current)}" '
                       f'placeholder="{placeholder}">')
        out.append("</div>")
    return mark_safe("".join(out))

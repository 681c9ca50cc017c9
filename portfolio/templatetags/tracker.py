from django import template
from django.core.cache import cache
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from projects.versioning import version_stamp

register = template.Library()
OPTIONS_TTL = 600  # seconds an unused option list is kept


def _options_html(field, empty_label, version):
    queryset = getattr(field.field, "queryset", None)
    if queryset is None or queryset.query.is_empty():
        choices = field.field.choices if queryset is None else [("", "")]
        queryset = None
    else:
        # Model choices as plain (pk, name) rows, rendered once per scope and data version.
        key = f"select-options:{hash(str(queryset.query))}:{version}"
        html = cache.get(key)
        if html is not None:
            return html
        choices = [("", "")] + list(queryset.values_list("pk", "name"))
    html = format_html_join("", '<option value="{}">{}</option>',
                            (("" if v is None else v, label if v not in ("", None) else empty_label)
                             for v, label in choices))
    if queryset is not None:
        cache.set(key, html, OPTIONS_TTL)
    return html


@register.simple_tag(takes_context=True)
def select_options(context, field, empty_label="全部"):
    """A select's options built in Python: a province holds hundreds of plans and units, too many
    to loop over in the template language on every list page."""
    if "data_version" not in context.render_context:
        context.render_context["data_version"] = version_stamp()  # read once per page
    html = _options_html(field, empty_label, context.render_context["data_version"])
    current = "" if field.value() is None else str(field.value())
    marker = f'<option value="{current}">'
    return mark_safe(html.replace(marker, f'<option value="{current}" selected>', 1)) if current else html

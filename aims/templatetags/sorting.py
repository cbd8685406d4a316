"""``{% sortable_header "ref_code" "Reference" %}``: a list's column header that sorts the list.

The list's filter offers its orderings (an ``ordering`` OrderingFilter, each one backed by an
index); a header whose key is among them becomes a link that sorts by it, then, clicked again,
the other way, keeping the other filters. ``aria-sort`` tells assistive technology the current
order. A key the filter does not offer leaves a plain header.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

register = template.Library()

ARROWS = {"ascending": " ▲", "descending": " ▼"}


def _offered(filterset: Any) -> set[str]:
    field = filterset.form.fields.get("ordering") if filterset is not None else None
    return {str(value) for value, _ in getattr(field, "choices", ()) if value}


@register.simple_tag(takes_context=True)
def sortable_header(context: template.Context, key: str, label: str, default: bool = False) -> str:
    """``default``: the order the list has when none is chosen (shown as ascending)."""
    request = context["request"]
    if key not in _offered(context.get("filter")):
        return format_html('<th scope="col">{}</th>', label)
    current = request.GET.get("ordering", "")
    if current == key or (default and not current):
        sort, following = "ascending", f"-{key}"
    elif current == f"-{key}":
        sort, following = "descending", key
    else:
        sort, following = "none", key
    params = request.GET.copy()
    for name in ("page", "cursor"):
        params.pop(name, None)
    params["ordering"] = following
    return format_html(
        '<th scope="col" aria-sort="{}"><a class="sort-link" href="?{}">{}<span aria-hidden="true">{}</span></a></th>',
        sort,
        params.urlencode(),
        label,
        ARROWS.get(sort, ""),
    )

"""``{% cached_content %}…{% endcached_content %}``: the page content of :mod:`aims.content_cache`.

With ``cached_content`` in the context (a cached answer) it prints that and renders nothing
inside; otherwise it renders what is inside and, when the view set one,
stores the result under it (the request's ``content_cache_key``).
"""

from __future__ import annotations

from typing import Any

from django import template

from aims.content_cache import store_content

register = template.Library()


class CachedContentNode(template.Node):
    def __init__(self, nodelist: template.NodeList) -> None:
        self.nodelist = nodelist

    def render(self, context: Any) -> str:
        cached = context.get("cached_content")
        if cached is not None:
            return cached
        html = self.nodelist.render(context)
        key = getattr(getattr(context, "request", None), "content_cache_key", None)
        if key:
            store_content(key, html)
        return html


@register.tag
def cached_content(parser: template.base.Parser, token: template.base.Token) -> CachedContentNode:
    nodelist = parser.parse(("endcached_content",))
    parser.delete_first_token()
    return CachedContentNode(nodelist)

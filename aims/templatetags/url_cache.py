"""``{% url %}`` that reverses each URL name once per process, for templates that link every row.

``{% load url_cache %}`` replaces the built-in ``{% url %}`` in that template with the same tag
(same syntax, same result, same errors) that remembers the shape of each URL: reversing walks
the URL patterns and costs about as much as rendering a table cell, so a list of 25 rows with
three links each spent more on ``reverse()`` than on its query. A name is reversed once with
placeholder ids; a row's link is then that shape with its ids put in. Only whole, non-negative
``int`` arguments (ids) take that path; any other argument, keyword arguments, or a URL the
placeholders do not fit go through ``reverse()`` as before.
"""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.conf import settings
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as builtin_url
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

register = template.Library()

# Placeholder ids: long enough never to occur in a URL's fixed text.
_PLACEHOLDER = 918273645500


@lru_cache(maxsize=4096)
def _shape(view_name: str, arity: int, current_app: str | None, urlconf: str, prefix: str) -> tuple[str, ...] | None:
    """The fixed pieces around the ``arity`` ids of ``view_name``'s URL, or None when ids do not fit."""
    placeholders = [str(_PLACEHOLDER + i) for i in range(arity)]
    try:
        path = reverse(view_name, args=placeholders, current_app=current_app, urlconf=urlconf)
    except NoReverseMatch:
        return None
    pieces, rest = [], path
    for placeholder in placeholders:
        before, found, rest = rest.partition(placeholder)
        if not found or placeholder in rest:
            return None  # a converter changed the id on its way into the URL
        pieces.append(before)
    return (*pieces, rest)


def cached_reverse(view_name: str, args: list[object], current_app: str | None = None) -> str:
    """``reverse(view_name, args=args)``, from the remembered shape when every argument is an id."""
    if all(type(a) is int and a >= 0 for a in args):
        shape = _shape(view_name, len(args), current_app, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
        if shape is not None:
            parts = [shape[0]]
            for arg, piece in zip(args, shape[1:], strict=True):
                parts += [str(arg), piece]
            return "".join(parts)
    return reverse(view_name, args=args, current_app=current_app)


class CachedURLNode(URLNode):
    def render(self, context):
        if self.kwargs:
            return super().render(context)
        args = [arg.resolve(context) for arg in self.args]
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        url = ""
        try:
            url = cached_reverse(view_name, args, current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    """The built-in ``{% url %}``, with the URL's shape remembered (see the module docstring)."""
    node = builtin_url(parser, token)
    return CachedURLNode(node.view_name, node.args, node.kwargs, node.asvar)

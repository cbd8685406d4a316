"""Rendered page content and API list answers, cached per reader until the organisation changes.

At thousands of AI systems and a hundred thousand risks a list page spends most of its time
rendering the same 25 rows, the filter form and the summaries it rendered on the last visit.
Readers far outnumber writes, so the part of a page below its header (the ``content`` block of
``base.html``) and the data of an API list are kept in the cache under a key made of:

- the reader: organisation, user, role, API token, language, time zone, today's date (overdue
  flags and "due in" texts change at midnight) and a hash of the CSRF secret (forms in the
  content carry a token for this session only);
- the request: path with its query string, and the htmx headers (a partial answer is its own
  entry);
- the organisation's *content generation* (:mod:`aims.summaries`), which every recorded change
  moves on: each history row, each bulk write that calls ``summaries_changed``, and the
  generations of any extra scopes the page names (measurements, which leave the rest cached).

Nothing is shared between two readers, so what one may see never reaches another. The header,
the menu and the messages are rendered on every request. Entries are not deleted: a change
moves the generation on, and the old entries expire after :data:`CONTENT_TIMEOUT_SECONDS`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from rest_framework.response import Response

from aims.summaries import ALL, CONTENT, generations
from aims.tenancy import Tenant, get_tenant

# Long enough for a working session on one screen, short enough that entries of generations
# no longer read leave memory soon.
CONTENT_TIMEOUT_SECONDS = 15 * 60


def content_key(
    request: HttpRequest, tenant: Tenant, kind: str, scopes: tuple[str, ...] = (), slot_seconds: int = 0
) -> str | None:
    """The cache key of what ``request`` reads as ``tenant``, or None when nothing may be cached.

    ``slot_seconds`` also starts a new entry every so many seconds, for content that changes
    with the clock alone (a chart of the last 24 hours, a metric turning stale)."""
    if not getattr(settings, "AIMS_CONTENT_CACHE", True) or request.method != "GET":
        return None
    csrf_secret = request.META.get("CSRF_COOKIE") or ""
    if kind == "page" and not csrf_secret:
        # Without a CSRF cookie yet, the page makes a new secret: its forms' tokens belong to no
        # one who could send the same request again.
        return None
    organization_id = tenant.organization.pk
    current = generations(organization_id, (ALL, CONTENT, *scopes))
    reader = [
        kind,
        str(organization_id),
        str(getattr(tenant.user, "pk", "")),
        tenant.role,
        str(tenant.token.pk if tenant.token is not None else ""),
        get_language() or "",
        timezone.get_current_timezone_name(),
        timezone.localdate().isoformat(),
        str(int(timezone.now().timestamp()) // slot_seconds if slot_seconds else ""),
        hashlib.sha256(csrf_secret.encode()).hexdigest(),
        request.headers.get("HX-Request", ""),
        request.headers.get("HX-Target", ""),
        request.get_full_path(),
        ".".join(str(number) for number in current),
    ]
    digest = hashlib.sha256("\n".join(reader).encode()).hexdigest()
    return f"aims:content:{organization_id}:{digest}"


class CachedContentMixin:
    """For a page view (after :class:`aims.access.TenantViewMixin` in its bases): a GET whose
    content block is cached answers without running the view's queries.

    ``base.html`` wraps its ``content`` block in ``{% cached_content %}``, which stores what it
    renders under the request's ``content_cache_key`` and prints ``cached_content`` instead when
    given. The page template is ``content_template_name`` (by default ``template_name``);
    ``cheap_context()`` is what the rest of the page (its title) needs on a cached answer.
    """

    content_cacheable = True
    content_cache_scopes: tuple[str, ...] = ()
    content_template_name: str | None = None
    content_cache_slot_seconds = 0
    tenant: Tenant

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        # After TenantViewMixin.dispatch (the reader is known and allowed), before the view's get.
        template: str | None = self.content_template_name or getattr(self, "template_name", None)
        key = None
        if template and self.content_cacheable:
            key = content_key(request, self.tenant, "page", self.content_cache_scopes, self.content_cache_slot_seconds)
        html = cache.get(key) if key else None
        if template and html is not None:
            cached = mark_safe(html)  # noqa: S308  # the output of our own escaping template
            context = {"view": self, "cached_content": cached, **self.cheap_context(*args, **kwargs)}
            return TemplateResponse(request, template, context)
        request.content_cache_key = key  # type: ignore[attr-defined]  # read by {% cached_content %}
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    def cheap_context(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {}


def store_content(key: str, html: str) -> None:
    cache.set(key, str(html), timeout=CONTENT_TIMEOUT_SECONDS)


class CachedListMixin:
    """For an API viewset with ``list``: the data of a list answer is cached for the reader."""

    content_cache_scopes: tuple[str, ...] = ()

    def list(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        tenant = get_tenant(request)
        key = content_key(request, tenant, "api", self.content_cache_scopes) if tenant else None
        data = cache.get(key) if key else None
        if data is not None:
            return Response(data)
        response = super().list(request, *args, **kwargs)  # type: ignore[misc]
        if key and response.status_code == 200:
            cache.set(key, response.data, timeout=CONTENT_TIMEOUT_SECONDS)
        return response

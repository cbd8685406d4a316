"""Access helpers for pages: login, current organisation, role capability, tenant-scoped lookups.

Every page view goes through :class:`TenantViewMixin` so the checks live here and
nowhere else. Another organisation's object is not found (404); a role that lacks the
capability gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.views.generic import ListView

from aims.content_cache import CachedContentMixin
from aims.filters import INLINE_WIDGET_RENDERER
from aims.roles import Capability
from aims.tenancy import Tenant, get_tenant

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class TenantViewMixin(LoginRequiredMixin):
    """Require a signed-in member of an organisation with the right capability.

    ``capability`` guards reads; ``write_capability`` guards POST and other unsafe
    methods. ``model`` (a :class:`aims.tenancy.TenantModel`) gets its queryset narrowed
    to the current organisation.
    """

    capability: str = Capability.VIEW
    write_capability: str | None = Capability.EDIT
    tenant: Tenant

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        tenant = get_tenant(request)
        if tenant is None:
            return redirect("no_organization")
        self.tenant = tenant
        needed = self.capability if request.method in SAFE_METHODS else self.write_capability
        if needed is None or not tenant.can(needed):
            raise PermissionDenied(gettext("Your role in this organisation does not allow this."))
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return self.model.objects.for_org(self.tenant.organization)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_edit"] = self.tenant.can(Capability.EDIT)
        return context


def get_or_404(queryset: QuerySet[Any], /, **lookup: Any) -> Any:
    """One row of a queryset already narrowed to the organisation (a selector's); a missing,
    malformed or another tenant's id is 404."""
    model = queryset.model
    try:
        return queryset.get(**lookup)
    except (model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(f"No {model._meta.verbose_name} matches the given query.") from exc


def get_for_tenant_or_404(tenant: Tenant, model: Any, /, **lookup: Any) -> Any:
    """Fetch one of the organisation's objects; anything else, including another tenant's, is 404.

    ``tenant`` and ``model`` are positional-only, so a lookup may name a field ``model``.
    """
    return get_or_404(model.objects.for_org(tenant.organization), **lookup)


class FilteredListView(TenantViewMixin, CachedContentMixin, ListView):
    """A list narrowed to the organisation, filtered (django-filter) and paginated in the database.

    ``selector`` takes the organisation and returns the base queryset; ``filterset_class``
    filters it with the query string. The template gets ``filter`` and ``querystring``
    (the filters without the page number, for pagination links). A GET's content is cached for
    its reader until the organisation's next recorded change (:mod:`aims.content_cache`).
    """

    paginate_by = 25
    filterset_class: Any = None
    selector: ClassVar[Callable[..., QuerySet[Any]] | None] = None
    write_capability = None

    def get_queryset(self):
        self.filterset = self.filterset_class(
            self.request.GET or None, queryset=type(self).selector(self.tenant.organization), request=self.request
        )
        # Valid filters apply; an invalid one is reported on the form and ignored.
        return self.filterset.qs

    def unfiltered_count(self) -> int | None:
        """How many rows the list holds without a filter, when known without counting them (None: count)."""
        return None

    def get_paginator(self, queryset, per_page, orphans=0, allow_empty_first_page=True, **kwargs):
        paginator = super().get_paginator(queryset, per_page, orphans, allow_empty_first_page, **kwargs)
        unfiltered = not any(value for name, value in self.request.GET.items() if name not in ("page", "ordering"))
        count = self.unfiltered_count() if unfiltered else None
        if count is not None:
            paginator.count = count  # Paginator.count is a cached property: this is its value
        return paginator

    def get_context_data(self, **kwargs):
        params = self.request.GET.copy()
        params.pop("page", None)
        # The filter form's inputs and selects are written without a template per widget (same markup).
        self.filterset.form.renderer = INLINE_WIDGET_RENDERER
        return super().get_context_data(filter=self.filterset, querystring=params.urlencode(), **kwargs)

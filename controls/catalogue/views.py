"""Catalogue browser and the landing pages of modules that point into the catalogue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.views.generic import TemplateView

from aims.access import TenantViewMixin
from aims.tenancy import Tenant
from controls.catalogue.models import Framework, Requirement
from controls.catalogue.selectors import framework_list, framework_tree, requirement_ancestors, requirement_mappings

# The catalogue is tenant-free and reads nothing above it; modules above may add to a framework's
# page (the SoA adds how far the organisation covers it). They register in their AppConfig.ready.
FrameworkContextProvider = Callable[[Tenant, Framework], dict[str, Any]]
_framework_context_providers: list[FrameworkContextProvider] = []


def register_framework_context(provider: FrameworkContextProvider) -> FrameworkContextProvider:
    if provider not in _framework_context_providers:
        _framework_context_providers.append(provider)
    return provider


class CatalogueView(TenantViewMixin, TemplateView):
    template_name = "controls/catalogue/frameworks.html"
    write_capability = None

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(frameworks=framework_list(), **kwargs)


class FrameworkView(TenantViewMixin, TemplateView):
    template_name = "controls/catalogue/framework.html"
    write_capability = None

    def get_context_data(self, code: str, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        framework = get_object_or_404(Framework, code=code)
        query = self.request.GET.get("q", "").strip()[:100]
        extra: dict[str, Any] = {"coverage": None}
        for provider in _framework_context_providers:
            extra.update(provider(self.tenant, framework))
        return super().get_context_data(
            framework=framework, tree=framework_tree(framework, search=query), query=query, **extra, **kwargs
        )


class RequirementView(TenantViewMixin, TemplateView):
    template_name = "controls/catalogue/requirement.html"
    write_capability = None

    def get_context_data(self, code: str, ref: str, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        requirement = (
            Requirement.objects.select_related("framework", "parent").filter(framework__code=code, ref=ref).first()
        )
        if requirement is None:
            raise Http404("No such requirement in this framework.")
        return super().get_context_data(
            requirement=requirement,
            ancestors=requirement_ancestors(requirement),
            children=requirement.children.order_by("order"),
            mappings=requirement_mappings(requirement),
            **kwargs,
        )


# Modules whose records arrive in later releases: their page explains what they will hold
# and links the requirements they serve, so the navigation is complete from day one.
MODULES: dict[str, tuple[str, list[str]]] = {}


class ModuleView(TenantViewMixin, TemplateView):
    template_name = "controls/catalogue/module.html"
    write_capability = None
    module: str = ""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        title, refs = MODULES[self.module]
        requirements = Requirement.objects.of_framework("ISO42001").filter(ref__in=refs).order_by("order")
        return super().get_context_data(module=self.module, title=title, requirements=requirements, **kwargs)

"""Risk register pages: list with heat maps, risk form and detail, treatments, acceptance, criteria."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext, gettext_noop, ngettext
from django.views import View

from aims.access import FilteredListView, TenantViewMixin, get_for_tenant_or_404
from aims.forms import apply_service_errors
from aims.history import merged_history, records_history
from aims.records import ensure_can_change
from aims.roles import Capability
from aims.summaries import cached_summary
from aims.templatetags.url_cache import cached_reverse
from registry.views import SystemTabView
from risk import selectors, services
from risk.filters import RiskFilter
from risk.forms import AcceptForm, CriteriaForm, RiskForm, TreatmentForm
from risk.models import Risk, TreatmentAction, TreatmentControl, default_matrix
from risk.pagination import CURSOR_PARAM, DeferredJoinPaginator, InvalidCursor, keyset_page

CHANGE_REFUSED = gettext_noop("AI system owners change only the risks they own or those of their systems.")


class RiskListView(FilteredListView):
    """The register with its heat maps, in keyset pages (``?cursor=``) that cost the same however deep.

    Numbered pages (``?page=``) of older links still answer, with their count: their ids are
    read from an index before their rows (:class:`~risk.pagination.DeferredJoinPaginator`).
    """

    template_name = "risk/risk_list.html"
    # FilteredListView declares both as None (its stubs cannot name what subclasses set).
    filterset_class = RiskFilter
    selector = selectors.risk_register
    paginator_class = DeferredJoinPaginator

    def get_queryset(self):
        # The bare filtered register: its count and heat maps join nothing the rows display.
        self.register = super().get_queryset()
        return selectors.risk_rows(self.register, treatment_counts=True)

    @cached_property
    def summary(self) -> dict:
        return selectors.register_summary(self.tenant.organization, self.filterset)

    def get_paginator(self, queryset, per_page, **kwargs):
        # Numbered pages need the exact total: a search beyond its cap counts its matches.
        count = self.summary["risk_total"]
        if self.summary["risk_total_capped"]:
            count = selectors.register_total(self.tenant.organization, self.filterset)
        return super().get_paginator(queryset, per_page, count=count, **kwargs)

    def paginate_queryset(self, queryset, page_size):
        if "page" in self.request.GET:
            return super().paginate_queryset(queryset, page_size)
        try:
            page = keyset_page(queryset, cursor=self.request.GET.get(CURSOR_PARAM), size=page_size)
        except InvalidCursor:  # a damaged or outdated link (another sort): the first page
            page = keyset_page(queryset, cursor=None, size=page_size)
        return None, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for risk in context["object_list"]:
            risk.detail_url = cached_reverse("risk:detail", [risk.pk])
            risk.system_url = cached_reverse("inventory:system_detail", [risk.system_id]) if risk.system_id else ""
        params = self.request.GET.copy()
        for name in ("page", CURSOR_PARAM):
            params.pop(name, None)
        return {**context, **self.summary, "heat_maps_html": self.heat_maps_html(), "querystring": params.urlencode()}

    def heat_maps_html(self) -> str:
        """The heat maps as HTML, cached with the figures they map: the same for every member
        reading in the same language (no form, no token, nothing else of the user) and stale on
        the same writes. The language is in the name: the maps' labels are translated."""
        summary = self.summary
        html = cached_summary(
            self.tenant.organization.pk,
            f"{summary['heat_maps_name']}.{get_language()}.html",
            lambda: str(render_to_string("risk/_heatmaps.html", {"heat_maps": summary["heat_maps"]})),
        )
        return mark_safe(html)  # noqa: S308  # the output of an escaping template


class SystemRisksView(SystemTabView):
    """The Risks tab of an AI system's page: the heat maps of its risks and the risks, in pages."""

    tab = "risks"
    tab_template = "risk/_tab_system_risks.html"
    page_size = 25

    def tab_context(self, system):
        organization = self.tenant.organization
        summary = selectors.system_risk_summary(organization, system)
        paginator = Paginator(selectors.system_risks(organization, system), self.page_size)
        paginator.count = summary["risk_total"]  # the figures counted every risk of the system
        page = paginator.get_page(self.request.GET.get("page"))
        for risk in page.object_list:
            risk.detail_url = cached_reverse("risk:detail", [risk.pk])
        return {
            **summary,
            "page_obj": page,
            "paginator": paginator if page.has_other_pages() else None,
            "object_list": page.object_list,
            "heat_map_filter": f"system={system.pk}",
        }


class RiskFormView(TenantViewMixin, View):
    """Create (no pk) or edit a risk."""

    def dispatch(self, request, *args, **kwargs):
        self.capability = Capability.EDIT  # read-only roles do not get the form at all
        return super().dispatch(request, *args, **kwargs)

    def get_object(self) -> Risk:
        if "pk" not in self.kwargs:
            return Risk(organization=self.tenant.organization)
        risk = get_for_tenant_or_404(self.tenant, Risk, pk=self.kwargs["pk"])
        ensure_can_change(self.tenant, risk, gettext(CHANGE_REFUSED))
        return risk

    def form(self, data=None, instance=None):
        criteria = services.criteria_for(self.tenant.organization)
        return RiskForm(data, instance=instance, tenant=self.tenant, criteria=criteria)

    def get(self, request, **kwargs):
        risk = self.get_object()
        form = self.form(instance=risk)
        if not risk.pk and request.GET.get("system"):
            form.initial["system"] = request.GET["system"]
        return render(request, "risk/risk_form.html", {"form": form, "object": risk})

    def post(self, request, **kwargs):
        risk = self.get_object()
        form = self.form(request.POST, instance=risk)
        if form.is_valid():
            risk = form.save(commit=False)
            risk.organization = self.tenant.organization
            ensure_can_change(self.tenant, risk, gettext(CHANGE_REFUSED))
            try:
                services.risk_save(instance=risk, acting_user=request.user)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, gettext("Risk %(ref)s saved.") % {"ref": risk.ref_code})
                return redirect("risk:detail", pk=risk.pk)
        return render(request, "risk/risk_form.html", {"form": form, "object": risk}, status=400)


class RiskDetailView(TenantViewMixin, View):
    write_capability: Capability | None = None

    def get(self, request, pk, accept_form=None, status=200):
        try:
            risk = selectors.risk_detail(self.tenant.organization, pk)
        except Risk.DoesNotExist as exc:
            raise Http404("No such risk.") from exc
        criteria = services.criteria_for(self.tenant.organization)
        treatment_ids = [t.pk for t in risk.treatments.all()]
        history = merged_history(
            records_history(Risk, id=risk.pk),
            records_history(TreatmentAction, risk_id=risk.pk),
            records_history(TreatmentControl, treatment_id__in=treatment_ids),
        )
        context = {
            "risk": risk,
            "criteria": criteria,
            "can_change": self.tenant.can_change(risk),
            "can_accept": self.tenant.can(Capability.APPROVE) and risk.status != Risk.Status.CLOSED,
            "acceptable": criteria.acceptable(risk.current_level) if risk.current_level else None,
            "accept_form": accept_form or AcceptForm(),
            "entries": history,
        }
        return render(request, "risk/risk_detail.html", context, status=status)


class RiskAcceptView(RiskDetailView):
    write_capability = Capability.APPROVE
    http_method_names = ["post"]

    def post(self, request, pk):
        risk = get_for_tenant_or_404(self.tenant, Risk, pk=pk)
        form = AcceptForm(request.POST)
        if form.is_valid():
            try:
                services.risk_accept(risk=risk, acting_user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, gettext("Risk %(ref)s accepted.") % {"ref": risk.ref_code})
                return redirect("risk:detail", pk=risk.pk)
        return self.get(request, pk, accept_form=form, status=400)


class RiskDeleteView(TenantViewMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        risk = get_for_tenant_or_404(self.tenant, Risk, pk=pk)
        ensure_can_change(self.tenant, risk, gettext(CHANGE_REFUSED))
        services.risk_delete(risk=risk, acting_user=request.user)
        messages.success(request, gettext("Risk %(ref)s deleted; its history is kept.") % {"ref": risk.ref_code})
        return redirect("risk:list")


class TreatmentFormView(TenantViewMixin, View):
    def dispatch(self, request, *args, **kwargs):
        self.capability = Capability.EDIT
        return super().dispatch(request, *args, **kwargs)

    def load(self, pk, treatment_pk=None):
        risk = get_for_tenant_or_404(self.tenant, Risk, pk=pk)
        ensure_can_change(self.tenant, risk, gettext(CHANGE_REFUSED))
        if treatment_pk is None:
            return risk, TreatmentAction(organization=self.tenant.organization, risk=risk)
        return risk, get_for_tenant_or_404(self.tenant, TreatmentAction, pk=treatment_pk, risk=risk)

    def get(self, request, pk, treatment_pk=None):
        risk, treatment = self.load(pk, treatment_pk)
        form = TreatmentForm(instance=treatment, tenant=self.tenant)
        return render(request, "risk/treatment_form.html", {"form": form, "risk": risk, "object": treatment})

    def post(self, request, pk, treatment_pk=None):
        risk, treatment = self.load(pk, treatment_pk)
        form = TreatmentForm(request.POST, instance=treatment, tenant=self.tenant)
        if form.is_valid():
            treatment = form.save(commit=False)
            try:
                services.treatment_save(
                    instance=treatment,
                    acting_user=request.user,
                    control_ids=[c.pk for c in form.cleaned_data["controls"]],
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, gettext("Treatment “%(title)s” saved.") % {"title": treatment.title})
                return redirect("risk:detail", pk=risk.pk)
        context = {"form": form, "risk": risk, "object": treatment}
        return render(request, "risk/treatment_form.html", context, status=400)


class TreatmentDeleteView(TreatmentFormView):
    http_method_names = ["post"]

    def post(self, request, pk, treatment_pk):
        risk, treatment = self.load(pk, treatment_pk)
        services.treatment_delete(treatment=treatment, acting_user=request.user)
        messages.success(request, gettext("Treatment “%(title)s” removed.") % {"title": treatment.title})
        return redirect("risk:detail", pk=risk.pk)


class CriteriaView(TenantViewMixin, View):
    write_capability = Capability.APPROVE

    def render_form(self, form, criteria, status=200):
        context = {
            "form": form,
            "criteria": criteria,
            "layout": form.layout(),
            "can_manage": self.tenant.can(Capability.APPROVE),
        }
        return render(self.request, "risk/criteria.html", context, status=status)

    def get(self, request):
        criteria = services.criteria_for(self.tenant.organization)
        return self.render_form(CriteriaForm(criteria=criteria), criteria)

    def post(self, request):
        criteria = services.criteria_for(self.tenant.organization)
        if "resize" in request.POST:
            return self.render_form(self._resized(request.POST, criteria), criteria)
        form = CriteriaForm(request.POST, criteria=criteria)
        if form.is_valid():
            try:
                _, rescored = services.criteria_update(criteria=criteria, acting_user=request.user, **form.values())
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    ngettext(
                        "Risk criteria saved; %(count)d open risk re-scored.",
                        "Risk criteria saved; %(count)d open risks re-scored.",
                        rescored,
                    )
                    % {"count": rescored},
                )
                return redirect("risk:criteria")
        return self.render_form(form, criteria, status=400)

    @staticmethod
    def _resized(data, criteria) -> CriteriaForm:
        """The same values laid out for other level counts, not saved; new matrix cells get defaults."""
        form = CriteriaForm(criteria=criteria)
        likelihood = int(data.get("likelihood_count") or 5)
        impact = int(data.get("impact_count") or 5)
        form.initial.update({key: value for key, value in data.items() if key in form.fields and value})
        form.initial.update(likelihood_count=likelihood, impact_count=impact)
        defaults = default_matrix(likelihood, impact)
        for i in range(1, impact + 1):
            for j in range(1, likelihood + 1):
                form.initial.setdefault(f"m{i}_{j}", defaults[i - 1][j - 1])
        return form

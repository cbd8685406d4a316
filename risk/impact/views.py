"""AI system impact assessment pages (6.1.4, 8.4, A.5.2-A.5.5): list, editor, read view, workflow.

The workflow rules that hold whoever acts (only drafts change, the approver is not the
author) live in :mod:`risk.impact.services`; these views add who may act: the author, the
system's owner, officers and admins change an assessment, only officers and admins
(Capability.APPROVE) return or approve one.
"""

from __future__ import annotations

from itertools import groupby

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext, gettext_noop
from django.views import View

from aims.access import FilteredListView, TenantViewMixin, get_for_tenant_or_404
from aims.forms import apply_service_errors
from aims.history import merged_history, records_history
from aims.records import ensure_can_change
from aims.roles import Capability
from aims.selectors import first_rows
from aims.templatetags.url_cache import cached_reverse
from registry.models import AISystem
from registry.views import SystemTabView
from risk.impact import selectors, services
from risk.impact.filters import ImpactAssessmentFilter, SystemsToAssessFilter
from risk.impact.forms import ImpactAssessmentForm, ImpactItemForm, ReturnForm, StartAssessmentForm
from risk.impact.models import ImpactAssessment, ImpactItem

Status = ImpactAssessment.Status
OPEN_STATUSES = (Status.DRAFT, Status.IN_REVIEW)
# The "systems without an approved assessment" section is a reminder, not a register: past this
# many, the page says so instead of growing without bound.
MISSING_SHOWN = 50


CHANGE_REFUSED = gettext_noop("You may only change the assessments of your AI systems.")


def _load(tenant, pk) -> ImpactAssessment:
    try:
        return selectors.impact_assessment_detail(tenant.organization, pk)
    except ImpactAssessment.DoesNotExist as exc:
        raise Http404("No such impact assessment.") from exc


def _workspace(tenant, assessment: ImpactAssessment) -> str:
    """Where to go after an action: the editor for a draft one may change, the read view otherwise."""
    if assessment.editable and tenant.can_change(assessment):
        return reverse("impact:edit", args=[assessment.pk])
    return reverse("impact:detail", args=[assessment.pk])


def _error(request, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


def _snapshot(assessment: ImpactAssessment) -> dict:
    """The inventory snapshot, when it was taken, and whether the system changed since."""
    info = assessment.system_information or {}
    captured_at = parse_datetime(info.get("captured_at") or "")
    if captured_at is not None and timezone.is_naive(captured_at):
        captured_at = timezone.make_aware(captured_at)
    changed = captured_at is not None and assessment.system.updated_at > captured_at
    return {"info": info, "captured_at": captured_at, "system_changed": changed}


def _by_party(items: list[ImpactItem]) -> list[tuple[str, list[ImpactItem]]]:
    """Items grouped by affected party, in the order of the party choices (individuals first)."""
    rank = {value: n for n, value in enumerate(ImpactItem.Party.values)}
    ordered = sorted(items, key=lambda i: (rank.get(i.affected_party, len(rank)), i.order, i.pk))
    return [(party, list(group)) for party, group in groupby(ordered, key=lambda i: i.get_affected_party_display())]


# --- List and start ----------------------------------------------------------------------------


def _with_links(tenant, assessments):
    """Each assessment with its page, its editor and whether the reader may edit it (a list's rows)."""
    for assessment in assessments:
        assessment.editable_by_me = assessment.editable and tenant.can_change(assessment)
        assessment.detail_url = cached_reverse("impact:detail", [assessment.pk])
        assessment.edit_url = cached_reverse("impact:edit", [assessment.pk])
    return assessments


class AssessmentListView(FilteredListView):
    template_name = "risk/impact/list.html"
    # FilteredListView declares both as None (its stubs cannot name what subclasses set).
    filterset_class = ImpactAssessmentFilter
    selector = selectors.impact_assessment_rows

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        _with_links(self.tenant, context["object_list"])
        missing, more = first_rows(selectors.systems_to_assess(self.tenant.organization), MISSING_SHOWN)
        for system in missing:
            system.detail_url = cached_reverse("inventory:system_detail", [system.pk])
        can_edit = self.tenant.can(Capability.EDIT)
        context.update(
            start_form=StartAssessmentForm(tenant=self.tenant) if can_edit else None,
            systems_without=[(s, self.tenant.can_change(s)) for s in missing],
            more_without=more,
        )
        return context


class SystemAssessmentsView(SystemTabView):
    """The Impact assessments tab of an AI system's page: every version of its assessment."""

    tab = "impact"
    tab_template = "risk/impact/_tab_system_assessments.html"

    def tab_context(self, system):
        assessments = _with_links(self.tenant, list(selectors.system_assessments(self.tenant.organization, system)))
        latest = assessments[0] if assessments else None
        # A next version starts once the latest one is decided (approved or superseded).
        can_start = (
            self.tenant.can(Capability.EDIT)
            and self.tenant.can_change(system)
            and (latest is None or latest.is_decided)
        )
        return {"assessments": assessments, "can_start_assessment": can_start}


class SystemsToAssessView(FilteredListView):
    """Every active AI system without an approved impact assessment: the dashboard tile's list."""

    template_name = "risk/impact/systems_to_assess.html"
    filterset_class = SystemsToAssessFilter
    selector = selectors.systems_to_assess

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for system in context["object_list"]:
            system.detail_url = cached_reverse("inventory:system_detail", [system.pk])
        context["systems_without"] = [(s, self.tenant.can_change(s)) for s in context["object_list"]]
        return context


class AssessmentStartView(TenantViewMixin, View):
    """Start the next version of a system's assessment (the first one, or after approval)."""

    http_method_names = ["post"]

    def post(self, request):
        if not request.POST.get("system"):
            messages.error(request, gettext("Choose the AI system to assess."))
            return redirect("impact:list")
        system = get_for_tenant_or_404(self.tenant, AISystem, pk=request.POST["system"])
        ensure_can_change(self.tenant, system, gettext("You may only assess the AI systems you own."))
        try:
            assessment = services.impact_assessment_start(system=system, acting_user=request.user)
        except ValidationError as exc:
            _error(request, exc)
            current = (
                selectors.impact_assessment_list(self.tenant.organization)
                .filter(system=system, status__in=OPEN_STATUSES)
                .first()
            )
            return redirect(_workspace(self.tenant, current) if current else "impact:list")
        messages.success(
            request,
            gettext("Version %(number)s of the assessment of %(system)s started.")
            % {"number": assessment.version, "system": system},
        )
        return redirect("impact:edit", pk=assessment.pk)


# --- Editor ------------------------------------------------------------------------------------


def _render_editor(request, assessment, form=None, item_form=None, status=200):
    context = {
        "assessment": assessment,
        "form": form or ImpactAssessmentForm(instance=assessment),
        "item_form": item_form or ImpactItemForm(prefix="item"),
        "items": list(assessment.items.all()),
        # Only reached by someone who may change the draft: its harms offer "Raise risk".
        "can_change": True,
        **_snapshot(assessment),
    }
    return render(request, "risk/impact/edit.html", context, status=status)


class DraftView(TenantViewMixin, View):
    """Pages that change a draft; read-only roles do not even see them."""

    capability = Capability.EDIT

    def load(self, pk) -> ImpactAssessment:
        assessment = _load(self.tenant, pk)
        ensure_can_change(self.tenant, assessment, gettext(CHANGE_REFUSED))
        return assessment

    def refused(self, assessment: ImpactAssessment):
        """A redirect to the read view, with the reason, when the assessment is no longer a draft."""
        if assessment.editable:
            return None
        messages.error(
            self.request,
            gettext("Version %(number)s is %(status)s: start a new version to change it.")
            % {"number": assessment.version, "status": assessment.status_in_sentence},
        )
        return redirect("impact:detail", pk=assessment.pk)

    def load_item(self, assessment, item_pk) -> ImpactItem:
        item = get_for_tenant_or_404(self.tenant, ImpactItem, pk=item_pk, assessment=assessment)
        item.assessment = assessment
        return item


class AssessmentEditView(DraftView):
    def get(self, request, pk):
        assessment = self.load(pk)
        return self.refused(assessment) or _render_editor(request, assessment)

    def post(self, request, pk):
        assessment = self.load(pk)
        if refused := self.refused(assessment):
            return refused
        form = ImpactAssessmentForm(request.POST, instance=assessment)
        if form.is_valid():
            try:
                services.impact_assessment_save(assessment=form.save(commit=False), acting_user=request.user)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, gettext("Assessment saved."))
                return redirect("impact:edit", pk=assessment.pk)
        return _render_editor(request, assessment, form=form, status=400)


class ItemAddView(DraftView):
    http_method_names = ["post"]

    def post(self, request, pk):
        assessment = self.load(pk)
        if refused := self.refused(assessment):
            return refused
        item = ImpactItem(organization_id=assessment.organization_id, assessment=assessment)
        form = ImpactItemForm(request.POST, instance=item, prefix="item")
        if form.is_valid():
            try:
                services.impact_item_save(item=form.save(commit=False), acting_user=request.user)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, gettext("Impact added."))
                return redirect(reverse("impact:edit", args=[assessment.pk]) + "#impacts")
        return _render_editor(request, assessment, item_form=form, status=400)


class ItemEditView(DraftView):
    def get(self, request, pk, item_pk):
        assessment = self.load(pk)
        if refused := self.refused(assessment):
            return refused
        return self.render(ImpactItemForm(instance=self.load_item(assessment, item_pk)))

    def post(self, request, pk, item_pk):
        assessment = self.load(pk)
        if refused := self.refused(assessment):
            return refused
        form = ImpactItemForm(request.POST, instance=self.load_item(assessment, item_pk))
        if form.is_valid():
            try:
                services.impact_item_save(item=form.save(commit=False), acting_user=request.user)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, gettext("Impact saved."))
                return redirect(reverse("impact:edit", args=[assessment.pk]) + "#impacts")
        return self.render(form, status=400)

    def render(self, form, status=200):
        context = {"form": form, "item": form.instance, "assessment": form.instance.assessment}
        return render(self.request, "risk/impact/item_form.html", context, status=status)


class ItemDeleteView(DraftView):
    http_method_names = ["post"]

    def post(self, request, pk, item_pk):
        assessment = self.load(pk)
        item = self.load_item(assessment, item_pk)
        if refused := self.refused(assessment):
            return refused
        services.impact_item_delete(item=item, acting_user=request.user)
        messages.success(request, gettext("Impact removed; its history is kept."))
        return redirect(reverse("impact:edit", args=[assessment.pk]) + "#impacts")


class ItemRaiseRiskView(TenantViewMixin, View):
    """Put a harm in the risk register; the service allows it whatever the assessment's status."""

    http_method_names = ["post"]

    def post(self, request, pk, item_pk):
        assessment = _load(self.tenant, pk)
        ensure_can_change(self.tenant, assessment, gettext(CHANGE_REFUSED))
        item = get_for_tenant_or_404(self.tenant, ImpactItem, pk=item_pk, assessment=assessment)
        item.assessment = assessment
        try:
            risk = services.impact_item_raise_risk(item=item, acting_user=request.user)
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(
                request, gettext("Risk %(ref)s raised in the register from this impact.") % {"ref": risk.ref_code}
            )
        return redirect(_workspace(self.tenant, assessment) + "#impacts")


# --- Workflow ----------------------------------------------------------------------------------


class AssessmentSubmitView(TenantViewMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        assessment = _load(self.tenant, pk)
        ensure_can_change(self.tenant, assessment, gettext(CHANGE_REFUSED))
        try:
            services.impact_assessment_submit(assessment=assessment, acting_user=request.user)
        except ValidationError as exc:
            _error(request, exc)
            return redirect(_workspace(self.tenant, assessment))
        messages.success(request, gettext("Version %(number)s submitted for review.") % {"number": assessment.version})
        return redirect("impact:detail", pk=assessment.pk)


class AssessmentReturnView(TenantViewMixin, View):
    http_method_names = ["post"]
    write_capability = Capability.APPROVE

    def post(self, request, pk):
        assessment = _load(self.tenant, pk)
        form = ReturnForm(request.POST)
        comment = form.cleaned_data["comment"] if form.is_valid() else ""
        try:
            services.impact_assessment_return(assessment=assessment, acting_user=request.user, comment=comment)
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(
                request,
                gettext("Version %(number)s returned to its author as a draft.") % {"number": assessment.version},
            )
        return redirect("impact:detail", pk=assessment.pk)


class AssessmentApproveView(TenantViewMixin, View):
    http_method_names = ["post"]
    write_capability = Capability.APPROVE

    def post(self, request, pk):
        assessment = _load(self.tenant, pk)
        try:
            services.impact_assessment_approve(assessment=assessment, acting_user=request.user)
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(
                request,
                gettext("Version %(number)s approved; earlier approved versions superseded.")
                % {"number": assessment.version},
            )
        return redirect("impact:detail", pk=assessment.pk)


# --- Read view ---------------------------------------------------------------------------------


class AssessmentDetailView(TenantViewMixin, View):
    """The assessment as a document, sectioned like ISO/IEC 42005; ``?print=1`` gives a bare printable page."""

    write_capability = None

    def get(self, request, pk):
        assessment = _load(self.tenant, pk)
        items = list(assessment.items.all())
        versions = list(
            selectors.impact_assessment_list(self.tenant.organization).filter(system_id=assessment.system_id)
        )
        context = {
            "assessment": assessment,
            "groups": _by_party(items),
            "items": items,
            "versions": versions,
            "open_version": next((v for v in versions if v.status in OPEN_STATUSES), None),
            "can_change": self.tenant.can_change(assessment),
            "can_approve": self.tenant.can(Capability.APPROVE),
            "can_start": self.tenant.can_change(assessment.system),
            "return_form": ReturnForm(),
            "entries": merged_history(
                records_history(ImpactAssessment, id=assessment.pk),
                records_history(ImpactItem, assessment_id=assessment.pk),
            ),
            **_snapshot(assessment),
        }
        template = "risk/impact/print.html" if request.GET.get("print") else "risk/impact/detail.html"
        return render(request, template, context)

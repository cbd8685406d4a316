"""AIMS pages: context and scope (4), policies (5.2, A.2), roles and concerns (5.3, A.3),
objectives (6.2) and competence (7.2, 7.3).

Access: every page goes through :class:`aims.access.TenantViewMixin` (another organisation's
record is 404; a role without "edit" gets 403 on every write page). Which record a role may
change is ``Tenant.can_change``: officers and admins change everything here, an AI system owner
only the objectives they own and their own competence records. Approving, returning and
retiring a policy version needs "approve", and the author never approves their own version
(:mod:`aims.governance.services`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views import View
from django.views.generic import ListView

from aims import records
from aims.access import FilteredListView, TenantViewMixin, get_for_tenant_or_404
from aims.forms import apply_service_errors
from aims.governance import selectors, services
from aims.governance.forms import (
    CompetenceRecordFilter,
    CompetenceRecordForm,
    ConcernChannelForm,
    ContextIssueFilter,
    ContextIssueForm,
    InterestedPartyFilter,
    InterestedPartyForm,
    ObjectiveFilter,
    ObjectiveForm,
    ObjectiveProgressForm,
    OrgRoleFilter,
    OrgRoleForm,
    PolicyFilter,
    PolicyForm,
    PolicyVersionForm,
    ReturnForm,
    ScopeForm,
)
from aims.governance.models import REVIEW_NOTICE_DAYS
from aims.history import merged_history, records_history
from aims.models import (
    AIMSScope,
    CompetenceRecord,
    ConcernChannel,
    ContextIssue,
    InterestedParty,
    Objective,
    ObjectiveProgress,
    OrgRole,
    Policy,
    PolicyVersion,
)
from aims.records import can_create, ensure_can_change
from aims.roles import Capability

# The list labels of the detail pages are typed as text by the shared record views; a lazy text
# is one at run time, in the language of each page.
_ = cast("Callable[[str], str]", gettext_lazy)
Status = PolicyVersion.Status
TABS = "aims/governance/_tabs.html"


def _relabel(entries: list[Any], labels: dict[str, str]) -> list[Any]:
    """History entries of rows without a title read "#id"; name them after what they are."""
    for entry in entries:
        entry.label = labels.get(entry.label, entry.label)
    return entries


# --- Generic record pages: the shared ones, with the governance tabs and services -----------


class RecordFormView(records.RecordFormView):
    """Create (no pk) or edit (pk) one record through its form and the governance save service."""

    def save_record(self, record: Model) -> Model:
        return services.governance_record_save(instance=record, acting_user=self.request.user)  # type: ignore[arg-type]

    def extra_context(self, form: Any) -> dict[str, Any]:
        return {"tabs_template": TABS}


class RecordDetailView(records.RecordDetailView):
    def extra_context(self, obj: Any) -> dict[str, Any]:
        return {"tabs_template": TABS}


class RecordDeleteView(records.RecordDeleteView):
    def delete_record(self, obj: Model) -> None:
        services.governance_record_delete(instance=obj, acting_user=self.request.user)  # type: ignore[arg-type]


# --- Context and scope (clause 4) -----------------------------------------------------------


class ContextView(FilteredListView):
    """The scope statement, and the internal and external issues (4.1, 4.3)."""

    template_name = "aims/governance/context.html"
    filterset_class = ContextIssueFilter
    selector = staticmethod(selectors.context_issue_list)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            tab="context",
            scope=selectors.scope_get(self.tenant.organization),
            can_create=can_create(self.tenant, ContextIssue),
            **kwargs,
        )


class PartyListView(FilteredListView):
    template_name = "aims/governance/parties.html"
    filterset_class = InterestedPartyFilter
    selector = staticmethod(selectors.interested_party_list)

    def get_context_data(self, **kwargs):
        return super().get_context_data(tab="context", can_create=can_create(self.tenant, InterestedParty), **kwargs)


class ScopeDetailView(TenantViewMixin, View):
    write_capability = None

    def get(self, request):
        organization = self.tenant.organization
        scope = selectors.scope_get(organization)
        entries = records_history(AIMSScope, organization_id=organization.pk)
        context = {
            "scope": scope,
            "entries": _relabel(entries, {f"#{scope.pk}": gettext("Scope")} if scope else {}),
            "can_change": can_create(self.tenant, AIMSScope),
            "tab": "context",
        }
        return render(request, "aims/governance/scope_detail.html", context)


class ScopeEditView(RecordFormView):
    model, form_class, tab, list_url_name = AIMSScope, ScopeForm, "context", "governance:scope"

    def get_object(self):
        scope = selectors.scope_get(self.tenant.organization) or AIMSScope(organization=self.tenant.organization)
        ensure_can_change(self.tenant, scope)
        return scope

    def success(self, saved):
        return redirect("governance:scope")


class IssueFormView(RecordFormView):
    model, form_class, tab = ContextIssue, ContextIssueForm, "context"
    success_url_name, list_url_name = "governance:issue_detail", "governance:context"


class IssueDetailView(RecordDetailView):
    model, tab, list_url_name, list_label = ContextIssue, "context", "governance:context", _("Context and scope")
    edit_url_name, delete_url_name = "governance:issue_update", "governance:issue_delete"
    fields = ("kind", "category", "description", "effect", "review_date")


class IssueDeleteView(RecordDeleteView):
    model, list_url_name = ContextIssue, "governance:context"


class PartyFormView(RecordFormView):
    model, form_class, tab = InterestedParty, InterestedPartyForm, "context"
    success_url_name, list_url_name = "governance:party_detail", "governance:parties"


class PartyDetailView(RecordDetailView):
    model, tab, list_url_name, list_label = InterestedParty, "context", "governance:parties", _("Interested parties")
    edit_url_name, delete_url_name = "governance:party_update", "governance:party_delete"
    fields = ("kind", "requirements", "how_addressed", "legal_requirement")


class PartyDeleteView(RecordDeleteView):
    model, list_url_name = InterestedParty, "governance:parties"


# --- Policies (5.2, A.2) --------------------------------------------------------------------


class PolicyListView(FilteredListView):
    template_name = "aims/governance/policy_list.html"
    filterset_class = PolicyFilter
    selector = staticmethod(selectors.policy_list)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(
            tab="policies",
            can_create=can_create(self.tenant, Policy),
            review_horizon=timezone.localdate() + timedelta(days=REVIEW_NOTICE_DAYS),
            today=timezone.localdate(),
            **kwargs,
        )
        labels = dict(Status.choices)
        for policy in context["object_list"]:
            policy.latest_status_label = labels.get(policy.latest_status, "")
        return context


class PolicyFormView(RecordFormView):
    model, form_class, tab = Policy, PolicyForm, "policies"
    success_url_name, list_url_name = "governance:policy_detail", "governance:policies"


class PolicyDeleteView(RecordDeleteView):
    model, list_url_name, detail_url_name = Policy, "governance:policies", "governance:policy_detail"


def _version_labels(versions) -> dict[str, str]:
    return {f"#{v.pk}": gettext("Version %(number)s") % {"number": v.number} for v in versions}


class PolicyDetailView(TenantViewMixin, View):
    """The policy in force, rendered from its sanitised Markdown (or its document), its versions and history."""

    write_capability = None

    def get(self, request, pk):
        policy = get_for_tenant_or_404(self.tenant, Policy, pk=pk)
        versions = list(selectors.policy_versions(policy))
        current = next((v for v in versions if v.status == Status.APPROVED), None)
        entries = merged_history(
            records_history(Policy, id=policy.pk), records_history(PolicyVersion, policy_id=policy.pk)
        )
        context = {
            "policy": policy,
            "versions": versions,
            "current": current,
            "current_html": services.markdown_render(current.body_markdown) if current and not current.file else "",
            "open_version": next((v for v in versions if v.status in services.OPEN_STATUSES), None),
            "entries": _relabel(entries, _version_labels(versions)),
            "can_change": self.tenant.can_change(policy),
            "review_due": policy.review_due(),
            "objectives": policy.objectives.select_related("owner").order_by("due_date"),
            "tab": "policies",
        }
        return render(request, "aims/governance/policy_detail.html", context)


def _load_version(tenant, pk, version_pk) -> PolicyVersion:
    policy = get_for_tenant_or_404(tenant, Policy, pk=pk)
    version = get_for_tenant_or_404(tenant, PolicyVersion, pk=version_pk, policy=policy)
    version.policy = policy
    return version


class VersionCreateView(TenantViewMixin, View):
    """Start the next version: the latest written text is offered as the starting point."""

    capability = Capability.EDIT

    def get(self, request, pk):
        policy = get_for_tenant_or_404(self.tenant, Policy, pk=pk)
        ensure_can_change(self.tenant, policy)
        latest = policy.versions.order_by("-number").first()
        form = PolicyVersionForm(initial={"body_markdown": latest.body_markdown if latest else ""})
        return self.render(policy, form)

    def post(self, request, pk):
        policy = get_for_tenant_or_404(self.tenant, Policy, pk=pk)
        ensure_can_change(self.tenant, policy)
        form = PolicyVersionForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                version = services.policy_version_create(policy=policy, acting_user=request.user, **_content(form))
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    gettext("Version %(number)s saved as a draft. Check the preview below.")
                    % {"number": version.number},
                )
                return redirect("governance:version_edit", pk=policy.pk, version_pk=version.pk)
        return self.render(policy, form, status=400)

    def render(self, policy, form, status=200):
        context = {"policy": policy, "form": form, "version": None, "tab": "policies"}
        return render(self.request, "aims/governance/version_form.html", context, status=status)


def _content(form) -> dict:
    data = form.cleaned_data
    return {
        "body_markdown": data["body_markdown"],
        "upload": data["file"] or None,
        "change_note": data["change_note"],
        "effective_date": data["effective_date"],
    }


class VersionEditView(TenantViewMixin, View):
    """The draft editor, with a preview of the saved text rendered as readers will see it."""

    capability = Capability.EDIT

    def load(self, pk, version_pk):
        version = _load_version(self.tenant, pk, version_pk)
        ensure_can_change(self.tenant, version.policy)
        return version

    def refused(self, version):
        if version.editable:
            return None
        messages.error(
            self.request,
            gettext("Version %(number)s is %(status)s.")
            % {"number": version.number, "status": version.get_status_display().lower()},
        )
        return redirect("governance:version_detail", pk=version.policy_id, version_pk=version.pk)

    def get(self, request, pk, version_pk):
        version = self.load(pk, version_pk)
        return self.refused(version) or self.render(version, PolicyVersionForm.for_version(version))

    def post(self, request, pk, version_pk):
        version = self.load(pk, version_pk)
        if refused := self.refused(version):
            return refused
        form = PolicyVersionForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.policy_version_update(version=version, acting_user=request.user, **_content(form))
            except ValidationError as exc:
                apply_service_errors(form, exc)
                version.refresh_from_db()
            else:
                messages.success(request, gettext("Version %(number)s saved.") % {"number": version.number})
                return redirect("governance:version_edit", pk=version.policy_id, version_pk=version.pk)
        return self.render(version, form, status=400)

    def render(self, version, form, status=200):
        context = {
            "policy": version.policy,
            "version": version,
            "form": form,
            "preview": services.markdown_render(version.body_markdown) if not version.file else "",
            "tab": "policies",
        }
        return render(self.request, "aims/governance/version_form.html", context, status=status)


class VersionDetailView(TenantViewMixin, View):
    write_capability = None

    def get(self, request, pk, version_pk):
        version = _load_version(self.tenant, pk, version_pk)
        can_approve = self.tenant.can(Capability.APPROVE)
        context = {
            "policy": version.policy,
            "version": version,
            "body_html": services.markdown_render(version.body_markdown) if not version.file else "",
            "can_change": self.tenant.can_change(version.policy),
            "can_approve": can_approve,
            "is_author": version.author_id == request.user.pk,
            "return_form": ReturnForm(),
            "entries": _relabel(
                records_history(PolicyVersion, id=version.pk),
                {f"#{version.pk}": gettext("Version %(number)s") % {"number": version.number}},
            ),
            "tab": "policies",
        }
        return render(request, "aims/governance/version_detail.html", context)


class VersionFileView(TenantViewMixin, View):
    """The uploaded document, to members of the organisation only."""

    write_capability = None

    def get(self, request, pk, version_pk):
        return services.policy_version_file_response(_load_version(self.tenant, pk, version_pk))


class VersionActionView(TenantViewMixin, View):
    """One workflow step on a version: submit, return, approve, retire or delete."""

    http_method_names = ["post"]
    action = ""
    done = ""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Returning, approving and retiring are an approver's steps; the others an editor's.
        approving = self.action in ("return", "approve", "retire")
        self.write_capability = Capability.APPROVE if approving else Capability.EDIT
        response: HttpResponse = super().dispatch(request, *args, **kwargs)
        return response

    def post(self, request, pk, version_pk):
        version = _load_version(self.tenant, pk, version_pk)
        if self.action in ("submit", "delete"):
            ensure_can_change(self.tenant, version.policy)
        try:
            self.perform(version, request)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("governance:version_detail", pk=version.policy_id, version_pk=version.pk)
        messages.success(request, self.done % {"number": version.number})
        if self.action == "delete":
            return redirect("governance:policy_detail", pk=version.policy_id)
        return redirect("governance:version_detail", pk=version.policy_id, version_pk=version.pk)

    def perform(self, version, request) -> None:
        user = request.user
        if self.action == "submit":
            services.policy_version_submit(version=version, acting_user=user)
        elif self.action == "return":
            form = ReturnForm(request.POST)
            comment = form.cleaned_data["comment"] if form.is_valid() else ""
            services.policy_version_return(version=version, acting_user=user, comment=comment)
        elif self.action == "approve":
            services.policy_version_approve(version=version, acting_user=user)
        elif self.action == "retire":
            services.policy_version_retire(version=version, acting_user=user)
        else:
            services.policy_version_delete(version=version, acting_user=user)


# --- Roles and concerns (5.3, A.3.2, A.3.3) -------------------------------------------------


class RolesView(FilteredListView):
    template_name = "aims/governance/roles.html"
    filterset_class = OrgRoleFilter
    selector = staticmethod(selectors.org_role_list)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            tab="roles",
            channels=selectors.concern_channel_list(self.tenant.organization),
            can_create=can_create(self.tenant, OrgRole),
            **kwargs,
        )


class OrgRoleFormView(RecordFormView):
    model, form_class, tab = OrgRole, OrgRoleForm, "roles"
    success_url_name, list_url_name = "governance:role_detail", "governance:roles"


class OrgRoleDetailView(RecordDetailView):
    model, tab, list_url_name, list_label = OrgRole, "roles", "governance:roles", _("Roles and concerns")
    edit_url_name, delete_url_name = "governance:role_update", "governance:role_delete"
    fields = ("responsibilities", "authorities", "holder", "external_holder", "reports_to")

    def extra_context(self, obj: Any) -> dict[str, Any]:
        facts = records.record_facts(obj, self.fields)
        facts.append((gettext("Reports to it"), ", ".join(str(r) for r in obj.direct_reports.order_by("name")) or None))
        return {**super().extra_context(obj), "facts": facts}


class OrgRoleDeleteView(RecordDeleteView):
    model, list_url_name = OrgRole, "governance:roles"


class ChannelFormView(RecordFormView):
    model, form_class, tab = ConcernChannel, ConcernChannelForm, "roles"
    success_url_name, list_url_name = "governance:channel_detail", "governance:roles"


class ChannelDetailView(RecordDetailView):
    model, tab, list_url_name, list_label = ConcernChannel, "roles", "governance:roles", _("Roles and concerns")
    edit_url_name, delete_url_name = "governance:channel_update", "governance:channel_delete"
    fields = ("how_to_report", "contact", "receivers", "anonymous", "protection_statement", "is_active")


class ChannelDeleteView(RecordDeleteView):
    model, list_url_name = ConcernChannel, "governance:roles"


# --- Objectives (6.2) -----------------------------------------------------------------------


class ObjectiveListView(FilteredListView):
    template_name = "aims/governance/objective_list.html"
    filterset_class = ObjectiveFilter
    selector = staticmethod(selectors.objective_list)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            tab="objectives",
            today=timezone.localdate(),
            can_create=can_create(self.tenant, Objective, "owner"),
            **kwargs,
        )


class ObjectiveFormView(RecordFormView):
    model, form_class, tab, owned_by_field = Objective, ObjectiveForm, "objectives", "owner"
    success_url_name, list_url_name = "governance:objective_detail", "governance:objectives"


class ObjectiveDeleteView(RecordDeleteView):
    model, list_url_name = Objective, "governance:objectives"


def _render_objective(request, tenant, objective, progress_form=None, status=200):
    progress = list(objective.progress.select_related("recorded_by"))
    for record in progress:
        record.meets_target = objective.meets_target(record.value)
    can_change = tenant.can_change(objective)
    entries = merged_history(
        records_history(Objective, id=objective.pk), records_history(ObjectiveProgress, objective_id=objective.pk)
    )
    context = {
        "objective": objective,
        "progress": progress,
        "latest": progress[0] if progress else None,
        "can_change": can_change,
        "progress_form": (progress_form or ObjectiveProgressForm()) if can_change else None,
        "entries": _relabel(entries, {f"#{p.pk}": gettext("Progress %(record)s") % {"record": p} for p in progress}),
        "overdue": objective.is_overdue(),
        "tab": "objectives",
    }
    return render(request, "aims/governance/objective_detail.html", context, status=status)


class ObjectiveDetailView(TenantViewMixin, View):
    write_capability = None

    def get(self, request, pk):
        objective = get_for_tenant_or_404(self.tenant, Objective, pk=pk)
        return _render_objective(request, self.tenant, objective)


class ProgressAddView(TenantViewMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        objective = get_for_tenant_or_404(self.tenant, Objective, pk=pk)
        ensure_can_change(self.tenant, objective)
        form = ObjectiveProgressForm(request.POST)
        if form.is_valid():
            try:
                services.objective_progress_add(objective=objective, acting_user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, gettext("Progress recorded."))
                return redirect(reverse("governance:objective_detail", args=[objective.pk]) + "#progress")
        return _render_objective(request, self.tenant, objective, progress_form=form, status=400)


class ProgressDeleteView(TenantViewMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk, progress_pk):
        objective = get_for_tenant_or_404(self.tenant, Objective, pk=pk)
        record = get_for_tenant_or_404(self.tenant, ObjectiveProgress, pk=progress_pk, objective=objective)
        ensure_can_change(self.tenant, objective)
        services.objective_progress_delete(record=record, acting_user=request.user)
        messages.success(request, gettext("Progress record removed; its history is kept."))
        return redirect(reverse("governance:objective_detail", args=[objective.pk]) + "#progress")


# --- Competence and awareness (7.2, 7.3) ----------------------------------------------------


class CompetenceOverviewView(TenantViewMixin, ListView):
    """Every member with their records by type, what has expired, and their last awareness session."""

    template_name = "aims/governance/competence.html"
    paginate_by = 25
    write_capability = None

    def get_queryset(self):
        return selectors.competence_overview(self.tenant.organization)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            tab="competence", can_create=can_create(self.tenant, CompetenceRecord, "member"), **kwargs
        )


class CompetenceListView(FilteredListView):
    template_name = "aims/governance/competence_records.html"
    filterset_class = CompetenceRecordFilter
    selector = staticmethod(selectors.competence_record_list)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(
            tab="competence", can_create=can_create(self.tenant, CompetenceRecord, "member"), **kwargs
        )
        today = timezone.localdate()
        for record in context["object_list"]:
            record.state = record.validity(today)
        return context


class CompetenceFormView(RecordFormView):
    model, form_class, tab, owned_by_field = CompetenceRecord, CompetenceRecordForm, "competence", "member"
    success_url_name, list_url_name = "governance:competence_detail", "governance:competence_records"


class CompetenceDetailView(RecordDetailView):
    model, tab, list_url_name, list_label = (
        CompetenceRecord,
        "competence",
        "governance:competence_records",
        _("Records"),
    )
    edit_url_name, delete_url_name = "governance:competence_update", "governance:competence_delete"
    fields = ("member", "kind", "provider", "date_completed", "valid_until", "evidence_note")


class CompetenceDeleteView(RecordDeleteView):
    model, list_url_name = CompetenceRecord, "governance:competence_records"

"""Pages of internal audits (9.2), corrective actions (10.2), management reviews (9.3) and incidents (A.8.4).

Every view loads through the tenant helpers (another organisation's record is 404), checks
who may act with :mod:`audits.improvement.services` (``MANAGE``, ``may_record_findings``,
``Tenant.can_change``), validates a form and calls one service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View

from aims.access import FilteredListView, TenantViewMixin, get_for_tenant_or_404, get_or_404
from aims.forms import apply_service_errors
from aims.history import merged_history, records_history
from aims.models import User
from aims.records import ensure_can_change
from aims.roles import Capability, roles_with
from aims.selectors import first_rows
from audits.improvement import selectors as improvement_selectors
from audits.improvement import services as improvement
from audits.improvement.forms import (
    AuditFilter,
    AuditForm,
    ChecklistItemForm,
    CorrectiveActionFilter,
    CorrectiveActionForm,
    FindingFilter,
    FindingForm,
    IncidentFilter,
    IncidentForm,
    ManagementReviewFilter,
    ManagementReviewForm,
    ProgrammeForm,
    ReviewActionForm,
    VerifyForm,
)
from audits.improvement.services import MANAGE
from audits.models import (
    Audit,
    AuditCriterion,
    AuditMember,
    AuditProgramme,
    ChecklistItem,
    CorrectiveAction,
    Finding,
    FindingEvidence,
    Incident,
    ManagementReview,
    ReviewAction,
    ReviewAttendee,
)
from controls.catalogue.models import Requirement
from registry.monitoring.models import MonitoringAlert
from registry.views import SystemTabView

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The requirements this module serves, shown on its home page (and traced in the catalogue).
MODULE_REFS = ["9.2", "9.3", "10.2", "A.8.4"]
RECORD_REFUSED = _("Only the audit's assigned auditors, officers and administrators record its findings.")


def _error(request, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


def _htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


class ManageView(TenantViewMixin, View):
    """Planning pages: only the compliance function (officers, administrators) sees or uses them."""

    capability = MANAGE
    write_capability = MANAGE


class EditView(TenantViewMixin, View):
    """Pages that change corrective actions and incidents; read-only roles do not even see the form."""

    capability = Capability.EDIT

    def ensure_can_change(self, obj) -> None:
        if not self.tenant.can_change(obj):
            raise PermissionDenied(gettext("AI system owners change only the records they own."))


class RecordFormPage:
    """The frame of a record's form page: breadcrumbs (the list, then the record once it exists),
    a title and the back link (the record, or the list for a new one)."""

    request: HttpRequest
    list_label: StrOrPromise = ""
    list_url_name = ""
    detail_url_name = ""
    new_title: StrOrPromise = ""

    def edit_title(self, obj: Any) -> str:
        return gettext("Edit %(record)s") % {"record": obj}

    def crumb_label(self, obj: Any) -> str:
        return str(obj.ref_code)

    def crumbs(self, obj: Any) -> list[tuple[StrOrPromise, str]]:
        crumbs = [(self.list_label, reverse(self.list_url_name))]
        if obj.pk and self.detail_url_name:
            crumbs.append((self.crumb_label(obj), reverse(self.detail_url_name, args=[obj.pk])))
        return crumbs

    def back(self, obj: Any) -> str:
        if obj.pk and self.detail_url_name:
            return reverse(self.detail_url_name, args=[obj.pk])
        return reverse(self.list_url_name)

    def form_extra(self, obj: Any) -> dict[str, Any]:
        return {}

    def respond(self, form: Any, status: int = 200) -> HttpResponse:
        obj = form.instance
        context = {
            "form": form,
            "title": self.edit_title(obj) if obj.pk else self.new_title,
            "back": self.back(obj),
            "crumbs": self.crumbs(obj),
            **self.form_extra(obj),
        }
        return render(self.request, "audits/improvement/form.html", context, status=status)


# --- Home: programme and audits ----------------------------------------------------------------


class AuditsHomeView(FilteredListView):
    """The audit programme of a year with its audits (``?year=``; empty for every year)."""

    template_name = "audits/improvement/home.html"
    filterset_class = AuditFilter

    def get_queryset(self):
        organization = self.tenant.organization
        self.years = improvement.programme_years(organization)
        self.params = self.request.GET.copy()
        if "year" not in self.params and self.years:
            this_year = timezone.localdate().year
            self.params["year"] = str(this_year if this_year in self.years else self.years[0])
        self.filterset = AuditFilter(self.params, queryset=improvement.audit_list(organization), request=self.request)
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        organization = self.tenant.organization
        params = self.params.copy()
        params.pop("page", None)
        year = self.params.get("year", "")
        programme = (
            AuditProgramme.objects.for_org(organization).filter(year=int(year)).first() if year.isdigit() else None
        )
        can_manage = self.tenant.can(MANAGE)
        context.update(
            querystring=params.urlencode(),
            years=self.years,
            year=year,
            programme=programme,
            can_manage=can_manage,
            programme_form=self.programme_form(year) if can_manage and programme is None else None,
            assigned=improvement.assigned_audit_ids(organization, self.tenant.user),
            requirements=Requirement.objects.of_framework("ISO42001").filter(ref__in=MODULE_REFS).order_by("order"),
        )
        return context

    def programme_form(self, year: str) -> ProgrammeForm | None:
        """The form to start a programme: for the year asked for, or the first one; not on "all years"."""
        if self.years and not year.isdigit():
            return None
        form = ProgrammeForm(tenant=self.tenant)
        if year.isdigit():
            form.initial["year"] = int(year)
        return form


class ProgrammeFormView(RecordFormPage, ManageView):
    def load(self) -> AuditProgramme:
        if "pk" in self.kwargs:
            return get_for_tenant_or_404(self.tenant, AuditProgramme, pk=self.kwargs["pk"])
        return AuditProgramme(organization=self.tenant.organization)

    list_label, list_url_name, new_title = _("Audits"), "audits:home", _("New audit programme")

    def edit_title(self, obj: Any) -> str:
        return gettext("Edit the audit programme %(year)s") % {"year": obj.year}

    def get(self, request, **kwargs):
        return self.respond(ProgrammeForm(instance=self.load(), tenant=self.tenant))

    def post(self, request, **kwargs):
        form = ProgrammeForm(request.POST, instance=self.load(), tenant=self.tenant)
        if form.is_valid():
            try:
                programme = improvement.programme_save(programme=form.save(commit=False), acting_user=request.user)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, gettext("%(programme)s saved.") % {"programme": programme})
                return redirect(f"{reverse('audits:home')}?year={programme.year}")
        return self.respond(form, status=400)


# --- Audits ------------------------------------------------------------------------------------


def _load_audit(tenant, pk) -> Audit:
    try:
        return improvement.audit_detail(tenant.organization, pk)
    except (Audit.DoesNotExist, ValueError) as exc:
        raise Http404("No such audit.") from exc


class AuditFormView(RecordFormPage, ManageView):
    def load(self) -> Audit:
        if "pk" in self.kwargs:
            audit = _load_audit(self.tenant, self.kwargs["pk"])
            if audit.is_closed:
                raise PermissionDenied(improvement.CLOSED_RECORD)
            return audit
        return Audit(organization=self.tenant.organization)

    list_label, list_url_name, detail_url_name = _("Audits"), "audits:home", "audits:audit_detail"
    new_title = _("Plan an audit")

    def get(self, request, **kwargs):
        audit = self.load()
        form = AuditForm(instance=audit, tenant=self.tenant)
        if not audit.pk:
            if not form.fields["programme"].queryset.exists():
                messages.error(request, gettext("Create the year's audit programme first."))
                return redirect("audits:home")
            if request.GET.get("programme"):
                form.initial["programme"] = request.GET["programme"]
        return self.respond(form)

    def post(self, request, **kwargs):
        form = AuditForm(request.POST, instance=self.load(), tenant=self.tenant)
        if form.is_valid():
            data = form.cleaned_data
            try:
                audit = improvement.audit_save(
                    audit=form.save(commit=False),
                    acting_user=request.user,
                    criteria=data["criteria"],
                    auditors=data["auditors"],
                    area_owners=data["area_owners"],
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, gettext("Audit %(ref)s saved.") % {"ref": audit.ref_code})
                return redirect("audits:audit_detail", pk=audit.pk)
        return self.respond(form, status=400)


AUDIT_TABS = ("plan", "checklist", "findings", "actions", "history")


class AuditDetailView(TenantViewMixin, View):
    write_capability = None
    tab = "plan"

    def get(self, request, pk):
        audit = _load_audit(self.tenant, pk)
        organization = self.tenant.organization
        members = list(audit.member_links.all())
        context = {
            "audit": audit,
            "tab": self.tab,
            "auditors": [m.user for m in members if m.role == AuditMember.Role.AUDITOR],
            "area_owners": [m.user for m in members if m.role == AuditMember.Role.AREA_OWNER],
            "can_manage": self.tenant.can(MANAGE) and not audit.is_closed,
            "can_record": improvement.may_record_findings(self.tenant, audit) and audit.records_findings,
            "can_edit": self.tenant.can(Capability.EDIT),
            "counts": {
                "checklist": audit.checklist.count(),
                "findings": audit.findings.count(),
            },
        }
        if self.tab == "checklist":
            context["items"] = improvement.checklist_rows(organization).filter(audit=audit)
        elif self.tab == "findings":
            context["findings"] = improvement.finding_list(organization).filter(audit=audit)
        elif self.tab == "actions":
            context["actions"] = improvement.corrective_action_list(organization).filter(finding__audit=audit)
        elif self.tab == "history":
            finding_ids = list(audit.findings.values_list("pk", flat=True))
            context["entries"] = merged_history(
                records_history(Audit, id=audit.pk),
                *(records_history(m, audit_id=audit.pk) for m in (AuditCriterion, AuditMember, ChecklistItem, Finding)),
                records_history(FindingEvidence, finding_id__in=finding_ids),
            )
        return render(request, "audits/improvement/audit_detail.html", context)


AUDIT_STEPS = {
    "start": (improvement.audit_start, _("Audit started; its checklist follows the criteria.")),
    "report": (improvement.audit_report, _("Fieldwork over: the audit is in reporting.")),
    "close": (improvement.audit_close, _("Audit closed.")),
}


class AuditTransitionView(ManageView):
    http_method_names = ["post"]

    def post(self, request, pk, step):
        audit = get_for_tenant_or_404(self.tenant, Audit, pk=pk)
        if step not in AUDIT_STEPS:
            raise Http404("Unknown step.")
        service, done = AUDIT_STEPS[step]
        try:
            service(audit=audit, acting_user=request.user)
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(request, done)
        return redirect("audits:audit_checklist" if step == "start" else "audits:audit_detail", pk=audit.pk)


class AuditDeleteView(ManageView):
    http_method_names = ["post"]

    def post(self, request, pk):
        audit = get_for_tenant_or_404(self.tenant, Audit, pk=pk)
        try:
            improvement.audit_delete(audit=audit, acting_user=request.user)
        except ValidationError as exc:
            _error(request, exc)
            return redirect("audits:audit_detail", pk=audit.pk)
        messages.success(request, gettext("Audit %(ref)s deleted; its history is kept.") % {"ref": audit.ref_code})
        return redirect("audits:home")


class ChecklistGenerateView(ManageView):
    http_method_names = ["post"]

    def post(self, request, pk):
        audit = get_for_tenant_or_404(self.tenant, Audit, pk=pk)
        try:
            added = improvement.audit_checklist_generate(audit=audit, acting_user=request.user)
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(
                request, gettext("Checklist follows the criteria: %(count)s question(s) added.") % {"count": added}
            )
        return redirect("audits:audit_checklist", pk=audit.pk)


class RecordView(TenantViewMixin, View):
    """Checklist results and findings: officers, administrators and the audit's assigned auditors.

    The role check of the mixin lets every member through; the audit decides (403 otherwise).
    """

    capability = Capability.VIEW
    write_capability = Capability.VIEW

    def load_audit(self, pk) -> Audit:
        audit = get_for_tenant_or_404(self.tenant, Audit, pk=pk)
        if not improvement.may_record_findings(self.tenant, audit):
            raise PermissionDenied(RECORD_REFUSED)
        return audit


class ChecklistItemEditView(RecordView):
    """One checklist item: inline in the table with HTMX, or as a page without JavaScript."""

    def load(self, pk, item_pk) -> ChecklistItem:
        audit = self.load_audit(pk)
        item = get_for_tenant_or_404(self.tenant, ChecklistItem, pk=item_pk, audit=audit)
        item.audit = audit
        return item

    def row(self, item, saved=False):
        item = improvement.checklist_rows(self.tenant.organization).get(pk=item.pk)
        context = {"item": item, "can_record": True, "saved": saved, "audit": item.audit}
        return render(self.request, "audits/improvement/_checklist_row.html", context)

    def respond(self, item, form=None, status=200):
        htmx = _htmx(self.request)
        template = "audits/improvement/_checklist_row_form.html" if htmx else "audits/improvement/checklist_form.html"
        context = {"item": item, "audit": item.audit, "form": form or ChecklistItemForm(instance=item)}
        # htmx swaps only 2xx answers, so a form with errors comes back as 200 to it.
        return render(self.request, template, context, status=200 if htmx else status)

    def get(self, request, pk, item_pk):
        item = self.load(pk, item_pk)
        if request.GET.get("cancel") and _htmx(request):
            return self.row(item)
        return self.respond(item)

    def post(self, request, pk, item_pk):
        item = self.load(pk, item_pk)
        form = ChecklistItemForm(request.POST, instance=item)
        if form.is_valid():
            try:
                improvement.checklist_item_record(
                    item=form.save(commit=False), acting_user=request.user, acting_role=self.tenant.role
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                if _htmx(request):
                    return self.row(item, saved=True)
                messages.success(request, gettext("%(ref)s recorded.") % {"ref": item.ref})
                return redirect("audits:audit_checklist", pk=item.audit_id)
        return self.respond(item, form, status=400)


class FindingFormView(RecordFormPage, RecordView):
    def load(self, pk, finding_pk=None) -> Finding:
        audit = self.load_audit(pk)
        if finding_pk is None:
            return Finding(organization=self.tenant.organization, audit=audit)
        finding = get_for_tenant_or_404(self.tenant, Finding, pk=finding_pk, audit=audit)
        finding.audit = audit
        return finding

    list_label, list_url_name = _("Audits"), "audits:home"

    def edit_title(self, obj: Any) -> str:
        return gettext("Edit finding %(ref)s") % {"ref": obj.ref_code}

    def back(self, obj: Any) -> str:
        return reverse("audits:audit_findings", args=[obj.audit.pk])

    def crumbs(self, obj: Any) -> list[tuple[StrOrPromise, str]]:
        return [(self.list_label, reverse(self.list_url_name)), (obj.audit.ref_code, self.back(obj))]

    def respond(self, form: Any, status: int = 200) -> HttpResponse:
        self.new_title = gettext("Record a finding of %(ref)s") % {"ref": form.instance.audit.ref_code}
        return super().respond(form, status)

    def get(self, request, pk, finding_pk=None):
        finding = self.load(pk, finding_pk)
        form = FindingForm(instance=finding, tenant=self.tenant, audit=finding.audit)
        if not finding.pk and request.GET.get("item"):
            item = (
                finding.audit.checklist.filter(pk=request.GET["item"]).first()
                if request.GET["item"].isdigit()
                else None
            )
            if item is not None:
                form.initial.update(checklist_item=item.pk, requirement=item.requirement_id)
        return self.respond(form)

    def post(self, request, pk, finding_pk=None):
        finding = self.load(pk, finding_pk)
        form = FindingForm(request.POST, instance=finding, tenant=self.tenant, audit=finding.audit)
        if form.is_valid():
            try:
                saved = improvement.finding_save(
                    finding=form.save(commit=False),
                    acting_user=request.user,
                    acting_role=self.tenant.role,
                    evidence=form.cleaned_data["evidence"],
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, gettext("Finding %(ref)s recorded.") % {"ref": saved.ref_code})
                return redirect("audits:audit_findings", pk=saved.audit_id)
        return self.respond(form, status=400)


class FindingDeleteView(RecordView):
    http_method_names = ["post"]

    def post(self, request, pk, finding_pk):
        audit = self.load_audit(pk)
        finding = get_for_tenant_or_404(self.tenant, Finding, pk=finding_pk, audit=audit)
        try:
            improvement.finding_delete(finding=finding, acting_user=request.user, acting_role=self.tenant.role)
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(
                request, gettext("Finding %(ref)s removed; its history is kept.") % {"ref": finding.ref_code}
            )
        return redirect("audits:audit_findings", pk=audit.pk)


class FindingDetailView(TenantViewMixin, View):
    write_capability = None

    def get(self, request, pk):
        finding = get_or_404(improvement.finding_list(self.tenant.organization), pk=pk)
        context = {
            "finding": finding,
            "audit": finding.audit,
            "actions": improvement.corrective_action_list(self.tenant.organization).filter(finding=finding),
            "can_record": improvement.may_record_findings(self.tenant, finding.audit)
            and finding.audit.records_findings,
            "entries": merged_history(
                records_history(Finding, id=finding.pk), records_history(FindingEvidence, finding_id=finding.pk)
            ),
        }
        return render(request, "audits/improvement/finding_detail.html", context)


# --- Corrective actions ------------------------------------------------------------------------


class FindingListView(FilteredListView):
    """Findings of every audit, newest first: the nonconformities still open at ``?open_nc=true``."""

    template_name = "audits/improvement/finding_list.html"
    filterset_class = FindingFilter
    selector = improvement.finding_index


class CorrectiveActionListView(FilteredListView):
    template_name = "audits/improvement/ca_list.html"
    filterset_class = CorrectiveActionFilter
    selector = improvement.corrective_action_list

    def get_context_data(self, **kwargs):
        return super().get_context_data(today=timezone.localdate(), **kwargs)


def _load_action(tenant, pk) -> CorrectiveAction:
    return get_or_404(improvement.corrective_action_list(tenant.organization), pk=pk)


class CorrectiveActionFormView(RecordFormPage, EditView):
    def load(self) -> CorrectiveAction:
        if "pk" not in self.kwargs:
            return CorrectiveAction(organization=self.tenant.organization)
        action = _load_action(self.tenant, self.kwargs["pk"])
        self.ensure_can_change(action)
        if action.is_closed:
            raise PermissionDenied(gettext("This corrective action is closed: it is a record and no longer changes."))
        return action

    def form(self, data=None, instance=None):
        form = CorrectiveActionForm(data, instance=instance, tenant=self.tenant)
        if self.tenant.edits_only_own:
            # An AI system owner raises actions they will own themselves.
            form.fields["owner"].queryset = form.fields["owner"].queryset.filter(pk=self.tenant.user.pk)
        return form

    list_label, list_url_name, detail_url_name = _("Corrective actions"), "audits:ca_list", "audits:ca_detail"
    new_title = _("Raise a corrective action")

    def get(self, request, **kwargs):
        action = self.load()
        form = self.form(instance=action)
        if not action.pk:
            for source, model in (("finding", Finding), ("incident", Incident)):
                value = request.GET.get(source, "")
                obj = (
                    model.objects.for_org(self.tenant.organization).filter(pk=value).first()
                    if value.isdigit()
                    else None
                )
                if obj is not None:
                    form.initial[source] = obj.pk
                    form.initial["title"] = (
                        form.initial.get("title") or (gettext("Correct: %(title)s") % {"title": obj.title})[:200]
                    )
        return self.respond(form)

    def post(self, request, **kwargs):
        form = self.form(request.POST, instance=self.load())
        if form.is_valid():
            action = form.save(commit=False)
            try:
                improvement.corrective_action_save(action=action, acting_user=request.user)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, gettext("Corrective action %(ref)s saved.") % {"ref": action.ref_code})
                return redirect("audits:ca_detail", pk=action.pk)
        return self.respond(form, status=400)


class CorrectiveActionDetailView(TenantViewMixin, View):
    write_capability: str | None = None

    def get(self, request, pk, verify_form=None, status=200):
        action = _load_action(self.tenant, pk)
        user = self.tenant.user
        independent = user is not None and user.pk not in (action.owner_id, action.implemented_by_id)
        context = {
            "action": action,
            "can_change": self.tenant.can_change(action) and not action.is_closed,
            "can_verify": self.tenant.can(MANAGE) and action.status == CorrectiveAction.Status.DONE,
            "independent": independent,
            "verify_form": verify_form or VerifyForm(),
            "entries": records_history(CorrectiveAction, id=action.pk),
        }
        return render(request, "audits/improvement/ca_detail.html", context, status=status)


CA_STEPS = {
    "start": (improvement.corrective_action_start, _("Work on the action started.")),
    "done": (improvement.corrective_action_complete, _("Marked done: it now awaits its effectiveness check.")),
}


class CorrectiveActionProgressView(EditView):
    http_method_names = ["post"]

    def post(self, request, pk, step):
        action = get_for_tenant_or_404(self.tenant, CorrectiveAction, pk=pk)
        self.ensure_can_change(action)
        if step not in CA_STEPS:
            raise Http404("Unknown step.")
        service, done = CA_STEPS[step]
        try:
            service(action=action, acting_user=request.user)
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(request, done)
        return redirect("audits:ca_detail", pk=action.pk)


class CorrectiveActionVerifyView(CorrectiveActionDetailView):
    http_method_names = ["post"]
    write_capability = MANAGE

    def post(self, request, pk):
        action = get_for_tenant_or_404(self.tenant, CorrectiveAction, pk=pk)
        form = VerifyForm(request.POST)
        if form.is_valid():
            try:
                improvement.corrective_action_verify(action=action, acting_user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                action.refresh_from_db()
                if action.is_closed:
                    messages.success(request, f"{action.ref_code} verified effective and closed.")
                else:
                    messages.warning(request, f"{action.ref_code} was not effective: it is back with its owner.")
                return redirect("audits:ca_detail", pk=action.pk)
        return self.get(request, pk, verify_form=form, status=400)


class CorrectiveActionDeleteView(EditView):
    http_method_names = ["post"]

    def post(self, request, pk):
        action = get_for_tenant_or_404(self.tenant, CorrectiveAction, pk=pk)
        self.ensure_can_change(action)
        try:
            improvement.corrective_action_delete(action=action, acting_user=request.user)
        except ValidationError as exc:
            _error(request, exc)
            return redirect("audits:ca_detail", pk=action.pk)
        messages.success(request, f"{action.ref_code} deleted; its history is kept.")
        return redirect("audits:ca_list")


# --- Management reviews ------------------------------------------------------------------------


class ReviewListView(FilteredListView):
    template_name = "audits/improvement/review_list.html"
    filterset_class = ManagementReviewFilter
    selector = improvement.management_review_list
    paginate_by = 20


def _load_review(tenant, pk) -> ManagementReview:
    return get_or_404(improvement.management_review_list(tenant.organization), pk=pk)


class ReviewFormView(RecordFormPage, ManageView):
    def load(self) -> ManagementReview:
        if "pk" in self.kwargs:
            return _load_review(self.tenant, self.kwargs["pk"])
        return ManagementReview(organization=self.tenant.organization)

    list_label, list_url_name, detail_url_name = _("Management reviews"), "audits:review_list", "audits:review_detail"
    new_title = _("New management review")

    def crumb_label(self, obj: Any) -> str:
        return str(obj.title)

    def form_extra(self, obj: Any) -> dict[str, Any]:
        if obj.pk:
            return {"intro": None}
        return {
            "intro": gettext(
                "The inputs the standard lists (9.3.2) are gathered from the portal "
                "when you save, and kept with the review as they were."
            )
        }

    def get(self, request, **kwargs):
        return self.respond(ManagementReviewForm(instance=self.load(), tenant=self.tenant))

    def post(self, request, **kwargs):
        review = self.load()
        form = ManagementReviewForm(request.POST, instance=review, tenant=self.tenant)
        if form.is_valid():
            attendees = form.cleaned_data["attendees"]
            try:
                if review.pk:
                    review = improvement.management_review_save(
                        review=form.save(commit=False), acting_user=request.user, attendees=attendees
                    )
                else:
                    review = improvement.management_review_create(
                        review=form.save(commit=False), acting_user=request.user, attendees=attendees
                    )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, f"“{review}” saved.")
                return redirect("audits:review_detail", pk=review.pk)
        return self.respond(form, status=400)


def _render_review(request, tenant, pk, action_form=None, status=200):
    review = _load_review(tenant, pk)
    can_manage = tenant.can(MANAGE)
    context = {
        "review": review,
        "inputs": review.inputs or {},
        "actions": list(improvement.review_action_list(tenant.organization).filter(review=review)),
        "can_manage": can_manage,
        "action_form": (action_form or ReviewActionForm(tenant=tenant)) if can_manage else None,
        "entries": merged_history(
            records_history(ManagementReview, id=review.pk),
            records_history(ReviewAttendee, review_id=review.pk),
            records_history(ReviewAction, review_id=review.pk),
        ),
    }
    return render(request, "audits/improvement/review_detail.html", context, status=status)


class ReviewDetailView(TenantViewMixin, View):
    write_capability = None

    def get(self, request, pk):
        return _render_review(request, self.tenant, pk)


class ReviewGatherView(ManageView):
    http_method_names = ["post"]

    def post(self, request, pk):
        review = get_for_tenant_or_404(self.tenant, ManagementReview, pk=pk)
        improvement.management_review_gather_inputs(review=review, acting_user=request.user)
        messages.success(request, gettext("Inputs gathered again; the previous set is kept in the history."))
        return redirect("audits:review_detail", pk=review.pk)


class ReviewDeleteView(ManageView):
    http_method_names = ["post"]

    def post(self, request, pk):
        review = get_for_tenant_or_404(self.tenant, ManagementReview, pk=pk)
        improvement.management_review_delete(review=review, acting_user=request.user)
        messages.success(request, f"“{review}” deleted; its history is kept.")
        return redirect("audits:review_list")


class ReviewActionFormView(RecordFormPage, ManageView):
    """An action of a management review; its page sits under the review."""

    list_label, list_url_name, new_title = _("Management reviews"), "audits:review_list", _("Add an action")

    def edit_title(self, obj: Any) -> str:
        return gettext("Edit action “%(action)s”") % {"action": obj}

    def back(self, obj: Any) -> str:
        return reverse("audits:review_detail", args=[obj.review_id])

    def crumbs(self, obj: Any) -> list[tuple[StrOrPromise, str]]:
        return [(self.list_label, reverse(self.list_url_name)), (obj.review.title, self.back(obj))]

    def load(self, pk, action_pk=None) -> tuple[ManagementReview, ReviewAction]:
        review = get_for_tenant_or_404(self.tenant, ManagementReview, pk=pk)
        if action_pk is None:
            return review, ReviewAction(organization=self.tenant.organization, review=review)
        return review, get_for_tenant_or_404(self.tenant, ReviewAction, pk=action_pk, review=review)

    def get(self, request, pk, action_pk=None):
        review, action = self.load(pk, action_pk)
        return self.respond(ReviewActionForm(instance=action, tenant=self.tenant))

    def post(self, request, pk, action_pk=None):
        review, action = self.load(pk, action_pk)
        form = ReviewActionForm(request.POST, instance=action, tenant=self.tenant)
        if form.is_valid():
            try:
                improvement.review_action_save(action=form.save(commit=False), acting_user=request.user)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, gettext("Action “%(action)s” saved.") % {"action": action})
                return redirect(reverse("audits:review_detail", args=[review.pk]) + "#actions")
        if action_pk is None:
            return _render_review(request, self.tenant, pk, action_form=form, status=400)
        return self.respond(form, status=400)


class ReviewActionDeleteView(ManageView):
    http_method_names = ["post"]

    def post(self, request, pk, action_pk):
        review = get_for_tenant_or_404(self.tenant, ManagementReview, pk=pk)
        action = get_for_tenant_or_404(self.tenant, ReviewAction, pk=action_pk, review=review)
        improvement.review_action_delete(action=action, acting_user=request.user)
        messages.success(request, gettext("Action “%(action)s” removed.") % {"action": action})
        return redirect(reverse("audits:review_detail", args=[review.pk]) + "#actions")


# --- Incidents ---------------------------------------------------------------------------------


class IncidentListView(FilteredListView):
    template_name = "audits/improvement/incident_list.html"
    filterset_class = IncidentFilter
    selector = improvement.incident_list


def _load_incident(tenant, pk) -> Incident:
    return get_or_404(improvement.incident_list(tenant.organization), pk=pk)


class IncidentFormView(RecordFormPage, EditView):
    def load(self) -> Incident:
        if "pk" not in self.kwargs:
            return Incident(organization=self.tenant.organization)
        incident = _load_incident(self.tenant, self.kwargs["pk"])
        self.ensure_can_change(incident)
        return incident

    list_label, list_url_name, detail_url_name = _("Incidents"), "audits:incident_list", "audits:incident_detail"
    new_title = _("Report an incident")

    def get(self, request, **kwargs):
        incident = self.load()
        form = IncidentForm(instance=incident, tenant=self.tenant)
        if not incident.pk:
            form.initial.setdefault("detected_at", timezone.localtime().replace(second=0, microsecond=0))
            if request.GET.get("system", "").isdigit():
                form.initial["system"] = request.GET["system"]
        return self.respond(form)

    def post(self, request, **kwargs):
        form = IncidentForm(request.POST, instance=self.load(), tenant=self.tenant)
        if form.is_valid():
            incident = form.save(commit=False)
            if not incident.pk:
                incident.reported_by = request.user
            # An AI system owner keeps what they report (``is_owned_by``), so only their refusal matters here.
            self.ensure_can_change(incident)
            try:
                improvement.incident_save(incident=incident, acting_user=request.user)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, gettext("Incident %(ref)s saved.") % {"ref": incident.ref_code})
                return redirect("audits:incident_detail", pk=incident.pk)
        return self.respond(form, status=400)


class IncidentDetailView(TenantViewMixin, View):
    write_capability = None

    def get(self, request, pk):
        incident = _load_incident(self.tenant, pk)
        context = {
            "incident": incident,
            "actions": improvement.corrective_action_list(self.tenant.organization).filter(incident=incident),
            "can_change": self.tenant.can_change(incident),
            "can_raise": self.tenant.can(Capability.EDIT),
            "entries": records_history(Incident, id=incident.pk),
        }
        return render(request, "audits/improvement/incident_detail.html", context)


class IncidentDeleteView(EditView):
    http_method_names = ["post"]

    def post(self, request, pk):
        incident = get_for_tenant_or_404(self.tenant, Incident, pk=pk)
        self.ensure_can_change(incident)
        try:
            improvement.incident_delete(incident=incident, acting_user=request.user)
        except ValidationError as exc:
            _error(request, exc)
            return redirect("audits:incident_detail", pk=incident.pk)
        messages.success(
            request, gettext("Incident %(ref)s deleted; its history is kept.") % {"ref": incident.ref_code}
        )
        return redirect("audits:incident_list")


# --- Raised from a monitoring alert ------------------------------------------------------------

ALERT_REFUSED = _("You may only change the AI systems you own.")


class AlertRaiseView(TenantViewMixin, View):
    """POST only: record an incident or a corrective action for a monitoring alert, back on its system's tab."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        alert = get_for_tenant_or_404(self.tenant, MonitoringAlert, pk=pk)
        ensure_can_change(self.tenant, alert, str(ALERT_REFUSED))
        try:
            messages.success(request, self.raise_from(alert))
        except ValidationError as exc:
            _error(request, exc)
        return redirect("monitoring:system", pk=alert.system_id)

    def raise_from(self, alert: MonitoringAlert) -> str:
        raise NotImplementedError


class AlertIncidentRaiseView(AlertRaiseView):
    def raise_from(self, alert: MonitoringAlert) -> str:
        incident = improvement.incident_raise_from_alert(alert=alert, acting_user=self.tenant.user)
        return gettext("Incident %(ref)s recorded for the alert.") % {"ref": incident.ref_code}


class AlertActionRaiseView(AlertRaiseView):
    def raise_from(self, alert: MonitoringAlert) -> str:
        # One filter: the membership that edits must be this organisation's.
        editors = User.objects.filter(
            memberships__organization=self.tenant.organization, memberships__role__in=roles_with(Capability.EDIT)
        )
        owner = editors.filter(pk=self.request.POST.get("owner") or 0).distinct().first()
        if owner is None:
            raise ValidationError(gettext("Choose who owns the corrective action."))
        action = improvement.corrective_action_raise_from_alert(alert=alert, acting_user=self.tenant.user, owner=owner)
        return gettext("Corrective action %(ref)s opened for the alert.") % {"ref": action.ref_code}


# --- Tabs of an AI system's page -----------------------------------------------------------------

# A tab shows the latest of each; the module's lists, filtered by the system, have them all.
SYSTEM_TAB_ROWS = 50


class SystemIncidentsView(SystemTabView):
    """The Incidents tab of an AI system's page."""

    tab = "incidents"
    tab_template = "audits/improvement/_tab_system_incidents.html"

    def tab_context(self, system):
        incidents, more = first_rows(
            improvement_selectors.system_incidents(self.tenant.organization, system), SYSTEM_TAB_ROWS
        )
        return {"incidents": incidents, "more_incidents": more}


class SystemFindingsView(SystemTabView):
    """The Findings and actions tab of an AI system's page: findings about it, and the corrective
    actions from them, from its incidents and from its monitoring alerts."""

    tab = "findings"
    tab_template = "audits/improvement/_tab_system_findings.html"

    def tab_context(self, system):
        organization = self.tenant.organization
        findings, more_findings = first_rows(
            improvement_selectors.system_findings(organization, system), SYSTEM_TAB_ROWS
        )
        actions, more_actions = first_rows(
            improvement_selectors.system_corrective_actions(organization, system), SYSTEM_TAB_ROWS
        )
        return {"findings": findings, "more_findings": more_findings, "actions": actions, "more_actions": more_actions}

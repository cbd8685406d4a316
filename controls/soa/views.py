"""Statement of Applicability pages: the editable table, control pages, versions, export, readiness."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

import tablib
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.translation import gettext
from django.views import View

from aims.access import TenantViewMixin, get_for_tenant_or_404
from aims.content_cache import CachedContentMixin
from aims.forms import apply_service_errors
from aims.history import merged_history, records_history
from aims.roles import Capability
from aims.selectors import first_rows
from aims.tenancy import Tenant
from controls.catalogue.models import Framework
from controls.catalogue.selectors import requirement_mappings
from controls.evidence.models import EvidenceLink
from controls.evidence.selectors import evidence_validity, system_evidence
from controls.readiness import readiness_summary
from controls.soa import selectors
from controls.soa import services as soa
from controls.soa.forms import DecisionForm, SoARowForm, SubmitForm
from controls.soa.models import ApplicabilityStatement, ImplementationStatus, SoASystem, SoAVersion
from registry.views import SystemTabView

AREAS = [("A.2", "A.2"), ("A.3", "A.3"), ("A.4", "A.4"), ("A.5", "A.5"), ("A.6", "A.6"), ("A.7", "A.7"),
         ("A.8", "A.8"), ("A.9", "A.9"), ("A.10", "A.10")]  # fmt: skip


# Stands for a row's argument in a URL reversed once per page: digits, so that int and str path
# converters both accept it, and long enough to appear nowhere else in a path.
_ARGUMENT = "9081726354453627189"


def _url_for(name: str) -> Callable[[object], str]:
    """``reverse(name, args=[x])`` for many ``x`` at the cost of one reverse(): a table of 38 rows
    with up to eight links each otherwise spends more time resolving URLs than rendering them."""
    pattern = reverse(name, args=[_ARGUMENT])
    return lambda argument: pattern.replace(_ARGUMENT, quote(str(argument), safe=RFC3986_SUBDELIMS + "~:@"))


def _with_links(rows: Iterable[ApplicabilityStatement]) -> None:
    """The links of each row for its templates (_row.html, _relied_on.html), made once per page."""
    control_url, edit_url, risk_url = _url_for("soa:control"), _url_for("soa:row_edit"), _url_for("risk:detail")
    register = reverse("risk:list")
    for row in rows:
        row.url, row.edit_url = control_url(row.control.ref), edit_url(row.control.ref)  # type: ignore[attr-defined]
        relied_on = getattr(row, "relied_on", None)
        if relied_on is not None:
            row.relied_links = [(risk.ref_code, risk_url(risk.risk_id)) for risk in relied_on.first_risks]  # type: ignore[attr-defined]
            row.relied_all_url = f"{register}?control={row.control_id}"  # type: ignore[attr-defined]


def _filtered(rows, params):
    area = params.get("area", "")
    if area:
        rows = rows.filter(control__ref__startswith=area + ".")
    decision = params.get("decision", "")
    if decision in ("applicable", "excluded", "undecided"):
        rows = rows.filter(applicable={"applicable": True, "excluded": False, "undecided": None}[decision])
    status = params.get("status", "")
    if status in ImplementationStatus.values:
        rows = rows.filter(implementation_status=status)
    return rows


class SoAView(TenantViewMixin, CachedContentMixin, View):
    write_capability = None
    content_template_name = "controls/soa/statement.html"

    def get(self, request):
        organization = self.tenant.organization
        rows = list(_filtered(selectors.soa_rows(organization), request.GET))
        relied_on = selectors.cached_control_risk_summaries(organization, [row.control_id for row in rows])
        for row in rows:
            row.relied_on = relied_on.get(row.control_id)  # shown by the row template
        _with_links(rows)
        context = {
            "rows": rows,
            "areas": AREAS,
            "statuses": ImplementationStatus.choices,
            "params": request.GET,
            "can_edit": self.tenant.can(Capability.EDIT),
            "approved": selectors.soa_latest_approved(organization),
            "pending": selectors.soa_pending(organization),
        }
        return render(request, self.content_template_name, context)


class SoARowEditView(TenantViewMixin, View):
    """Edit one SoA row: inline in the table with HTMX, or as a page without JavaScript."""

    def dispatch(self, request, *args, **kwargs):
        self.capability = Capability.EDIT
        return super().dispatch(request, *args, **kwargs)

    def load(self, ref) -> ApplicabilityStatement:
        row = selectors.soa_rows(self.tenant.organization).filter(control__ref=ref).first()
        if row is None:
            raise Http404("No such control.")
        if not self.tenant.can_change(row) and row.owner_id is not None:
            raise PermissionDenied(gettext("AI system owners change only the controls they own."))
        summary = selectors.control_risk_summary(self.tenant.organization, row.control_id)
        row.relied_on = summary if summary.risk_count else None  # type: ignore[attr-defined]  # for the template
        _with_links([row])
        return row

    def respond(self, row, form=None, status=200):
        htmx = self.request.headers.get("HX-Request") == "true"
        template = "controls/soa/_row_form.html" if htmx else "controls/soa/row_form.html"
        context = {"row": row, "form": form or SoARowForm(instance=row, tenant=self.tenant)}
        # htmx swaps only 2xx answers, so a form with errors comes back as 200 to it.
        return render(self.request, template, context, status=200 if htmx else status)

    def get(self, request, ref):
        row = self.load(ref)
        if request.GET.get("cancel") and request.headers.get("HX-Request") == "true":
            return render(request, "controls/soa/_row.html", {"row": row, "can_edit": True})
        return self.respond(row)

    def post(self, request, ref):
        row = self.load(ref)
        form = SoARowForm(request.POST, instance=row, tenant=self.tenant)
        if form.is_valid():
            statement = form.save(commit=False)
            try:
                soa.soa_row_update(statement=statement, acting_user=request.user, systems=form.cleaned_data["systems"])
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                if request.headers.get("HX-Request") == "true":
                    fresh = self.load(ref)
                    return render(request, "controls/soa/_row.html", {"row": fresh, "can_edit": True, "saved": True})
                messages.success(request, gettext("%(ref)s saved.") % {"ref": row.control.ref})
                return redirect("soa:statement")
        return self.respond(row, form, status=400)


class SoAControlView(TenantViewMixin, View):
    write_capability = None

    def get(self, request, ref):
        organization = self.tenant.organization
        row = selectors.soa_rows(organization).filter(control__ref=ref).first()
        if row is None:
            raise Http404("No such control.")
        evidence_links = (
            EvidenceLink.objects.for_org(organization)
            .filter(target=EvidenceLink.Target.CONTROL, control=row.control)
            .select_related("evidence__owner")
            .order_by("evidence__title")
        )
        history = merged_history(
            records_history(ApplicabilityStatement, id=row.pk),
            records_history(SoASystem, statement_id=row.pk),
        )
        context = {
            "row": row,
            "control": row.control,
            "area": selectors.area_of(row.control),
            "relied_on": selectors.control_risk_summary(organization, row.control_id),
            "evidence_links": evidence_links,
            "mappings": requirement_mappings(row.control),
            "entries": history,
            "can_edit": self.tenant.can(Capability.EDIT),
            "today": timezone.localdate(),
        }
        return render(request, "controls/soa/control.html", context)


class SoAVersionsView(TenantViewMixin, View):
    write_capability = Capability.EDIT

    def get(self, request, form=None, status=200):
        versions = SoAVersion.objects.for_org(self.tenant.organization).select_related("submitted_by", "decided_by")
        context = {
            "versions": versions,
            "form": form or SubmitForm(),
            "can_submit": self.tenant.can(Capability.EDIT),
            "can_decide": self.tenant.can(Capability.APPROVE_SOA),
        }
        return render(request, "controls/soa/versions.html", context, status=status)

    def post(self, request):
        form = SubmitForm(request.POST)
        if form.is_valid():
            try:
                version = soa.soa_submit(
                    organization=self.tenant.organization, acting_user=request.user, note=form.cleaned_data["note"]
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request, gettext("Version %(number)s submitted for approval.") % {"number": version.number}
                )
                return redirect("soa:version", number=version.number)
        return self.get(request, form=form, status=400)


class SoAVersionView(TenantViewMixin, View):
    write_capability = Capability.APPROVE_SOA

    def load(self, number) -> SoAVersion:
        return get_for_tenant_or_404(self.tenant, SoAVersion, number=number)

    def get(self, request, number):
        version = self.load(number)
        context = {"version": version, "form": DecisionForm(), "can_decide": self.tenant.can(Capability.APPROVE_SOA)}
        return render(request, "controls/soa/version.html", context)

    def post(self, request, number):
        version = self.load(number)
        form = DecisionForm(request.POST)
        form.is_valid()
        comment = form.cleaned_data.get("comment", "")
        try:
            if request.POST.get("decision") == "approve":
                soa.soa_approve(version=version, acting_user=request.user, comment=comment)
                messages.success(request, gettext("Version %(number)s approved.") % {"number": version.number})
            else:
                soa.soa_return(version=version, acting_user=request.user, comment=comment)
                messages.success(
                    request, gettext("Version %(number)s returned to the officers.") % {"number": version.number}
                )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("soa:version", number=version.number)


class SoAExportView(TenantViewMixin, View):
    write_capability = None

    def get(self, request, fmt):
        if fmt not in ("csv", "xlsx"):
            raise Http404("Export as csv or xlsx.")
        organization = self.tenant.organization
        rows = list(_filtered(selectors.soa_rows(organization), request.GET))
        relied_on = selectors.cached_control_risk_summaries(organization, [row.control_id for row in rows])
        data = tablib.Dataset(
            headers=[
                gettext("Control"),
                gettext("Title"),
                gettext("Area"),
                gettext("Decision"),
                gettext("Justification"),
                gettext("Implementation status"),
                gettext("Implementation"),
                gettext("Owner"),
                gettext("Target date"),
                gettext("AI systems"),
                gettext("Risks relying on it"),
                gettext("First risks"),
                gettext("Evidence items"),
            ]
        )
        for row in rows:
            data.append(
                [
                    row.control.ref,
                    row.control.title,
                    selectors.area_of(row.control).ref,
                    row.decision,
                    row.justification,
                    row.get_implementation_status_display(),
                    row.implementation,
                    row.owner.email if row.owner else "",
                    row.target_date.isoformat() if row.target_date else "",
                    ", ".join(link.system.ref_code for link in row.system_links.all()),
                    *_risks_cells(relied_on.get(row.control_id)),
                    row.evidence_count,
                ]
            )
        content = data.export(fmt)
        types = {
            "csv": "text/csv; charset=utf-8",
            "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
        response = HttpResponse(content, content_type=types[fmt])
        name = f"statement-of-applicability-{organization.slug}-{timezone.localdate():%Y%m%d}.{fmt}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


def _risks_cells(summary: selectors.ControlRiskSummary | None) -> tuple[int, str]:
    """How many risks rely on the control, and the first of them by reference (the register has the rest)."""
    if summary is None:
        return 0, ""
    refs = ", ".join(risk.ref_code for risk in summary.first_risks)
    if summary.more:
        refs = gettext("%(refs)s and %(more)s more") % {"refs": refs, "more": summary.more}
    return summary.risk_count, refs


class ReadinessView(TenantViewMixin, CachedContentMixin, View):
    write_capability = None
    content_template_name = "controls/readiness.html"

    def get(self, request):
        return render(request, self.content_template_name, {"readiness": readiness_summary(self.tenant.organization)})


def framework_coverage_context(tenant: Tenant, framework: Framework) -> dict[str, Any]:
    """What the catalogue's framework page adds for another framework than ISO/IEC 42001: how far the
    organisation's implemented controls cover it (registered with the catalogue in ``ControlsConfig.ready``)."""
    if framework.code == selectors.ISO_FRAMEWORK:
        return {}
    return {"coverage": selectors.framework_coverage(tenant.organization, framework)}


class SystemControlsView(SystemTabView):
    """The Controls and evidence tab of an AI system's page: the controls that cover the system
    (named in the SoA, relied on by its risks' treatments, supported by its evidence) and the
    evidence about it."""

    tab = "controls"
    tab_template = "controls/soa/_tab_system_controls.html"
    evidence_shown = 50

    def tab_context(self, system):
        organization = self.tenant.organization
        evidence, more = first_rows(system_evidence(organization, system), self.evidence_shown)
        today = timezone.localdate()
        for item in evidence:
            item.validity = evidence_validity(item, today)
        return {
            "system_controls": selectors.system_controls(organization, system),
            "system_evidence": evidence,
            "more_evidence": more,
        }

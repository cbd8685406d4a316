"""Evidence library pages: list with search and expiry filters, record, detail, versions, links, download.

Reads need "view" (auditors and viewers read and download); writes need "edit", and an AI
system owner changes only the evidence they own. Another organisation's evidence, version
or link is not found (404) on every page.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy
from django.views import View

from aims.access import FilteredListView, TenantViewMixin, get_for_tenant_or_404
from aims.autocomplete import choice_input
from aims.forms import apply_service_errors
from aims.history import merged_history, records_history
from aims.records import ensure_can_change
from aims.roles import Capability
from controls.evidence import selectors, services, staging
from controls.evidence.forms import (
    EvidenceFilter,
    EvidenceForm,
    EvidenceLinkForm,
    EvidenceUpdateForm,
    EvidenceVersionForm,
)
from controls.evidence.models import Evidence, EvidenceLink, EvidenceVersion

CHANGE_REFUSED = gettext_lazy("You may only change the evidence you own.")


def _dates() -> dict:
    today = timezone.localdate()
    return {"today": today, "horizon": today + timedelta(days=selectors.expiring_days())}


class EvidenceListView(FilteredListView):
    template_name = "controls/evidence/list.html"
    # FilteredListView declares both as None until a page sets them.
    filterset_class = EvidenceFilter
    selector = staticmethod(selectors.evidence_list)

    def get_context_data(self, **kwargs):
        return super().get_context_data(expiring_days=selectors.expiring_days(), **_dates(), **kwargs)


class EvidenceMixin(TenantViewMixin):
    """Pages about one piece of evidence that change it: "edit" and, for owners, their own."""

    capability = Capability.EDIT  # read-only roles do not even get the forms
    kwargs: dict[str, Any]

    def get_evidence(self) -> Evidence:
        evidence = get_for_tenant_or_404(self.tenant, Evidence, pk=self.kwargs["pk"])
        ensure_can_change(self.tenant, evidence, str(CHANGE_REFUSED))
        return evidence


class EvidenceCreateView(TenantViewMixin, View):
    """Record evidence; ``?control=<id>`` (or system, risk, treatment, assessment) links it at once."""

    capability = Capability.EDIT

    def initial_link(self):
        for target in EvidenceLink.Target.values:
            value = self.request.GET.get(target)
            if value:
                try:
                    return target, selectors.link_target_get(self.tenant.organization, target, value)
                except ValidationError as exc:
                    raise Http404("Nothing to link the evidence to.") from exc
        return None

    def get(self, request):
        return self.render(EvidenceForm(tenant=self.tenant), self.initial_link())

    def post(self, request):
        link = self.initial_link()
        form = EvidenceForm(request.POST, request.FILES, tenant=self.tenant)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    evidence = services.evidence_create(
                        organization=self.tenant.organization,
                        acting_user=request.user,
                        upload=data["file"],
                        **{name: data[name] for name in ("title", "kind", "description", "effective_from",
                                                         "valid_until", "owner", "url", "note", "comment")},
                    )  # fmt: skip
                    if link is not None:
                        services.evidence_link(evidence=evidence, target=link[0], obj=link[1], acting_user=request.user)
                    staging.discard_on_commit(form.staged)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, gettext("Evidence “%(title)s” recorded.") % {"title": evidence})
                return redirect("evidence:detail", pk=evidence.pk)
        staging.keep_for_another_try(form, self.tenant)
        return self.render(form, link, status=400)

    def render(self, form, link, status=200):
        context = {
            "form": form,
            "link": link,
            "link_label": LINK_KINDS[link[0]] if link else "",
            "heading": gettext("New evidence"),
            "submit": gettext("Record evidence"),
        }
        return render(self.request, "controls/evidence/form.html", context, status=status)


class EvidenceDetailView(TenantViewMixin, View):
    write_capability = None

    def get(self, request, pk):
        try:
            evidence = selectors.evidence_get(self.tenant.organization, pk)
        except (Evidence.DoesNotExist, ValueError) as exc:
            raise Http404("No such evidence.") from exc
        can_change = self.tenant.can_change(evidence)
        entries = merged_history(
            records_history(Evidence, id=evidence.pk),
            records_history(EvidenceVersion, evidence_id=evidence.pk),
            records_history(EvidenceLink, evidence_id=evidence.pk),
        )
        downloads = selectors.evidence_downloads(evidence)
        context = {
            "evidence": evidence,
            "can_change": can_change,
            "entries": entries,
            "downloads": downloads,
            **_dates(),
        }
        if can_change:
            organization = self.tenant.organization
            linked = {(link.target, getattr(link, f"{link.target}_id")) for link in evidence.links.all()}
            context["link_choices"] = [
                (
                    value,
                    label,
                    choice_input(
                        selectors.link_target_choices(organization, value).exclude(
                            pk__in=[pk for target, pk in linked if target == value]
                        ),
                        "id",
                        attrs={"id": f"link-{value}"},
                        label=LINK_LABELS.get(value),
                    ),
                )
                for value, label in EvidenceLink.Target.choices
            ]
        return render(request, "controls/evidence/detail.html", context)


# The kind of record a new piece of evidence will support, as the form's callout names it.
LINK_KINDS = {
    EvidenceLink.Target.CONTROL: pgettext_lazy("evidence will support", "control"),
    EvidenceLink.Target.SYSTEM: pgettext_lazy("evidence will support", "AI system"),
    EvidenceLink.Target.RISK: pgettext_lazy("evidence will support", "risk"),
    EvidenceLink.Target.TREATMENT: pgettext_lazy("evidence will support", "treatment"),
    EvidenceLink.Target.ASSESSMENT: pgettext_lazy("evidence will support", "impact assessment"),
}


# What the "Add a link" choices show, where the record's own name is not enough.
LINK_LABELS = {
    EvidenceLink.Target.CONTROL: lambda o: f"{o.ref} {Truncator(o.title).chars(70)}",
    EvidenceLink.Target.TREATMENT: lambda o: f"{o.risk.ref_code} · {Truncator(o.title).chars(70)}",
}


class EvidenceUpdateView(EvidenceMixin, View):
    def get(self, request, pk):
        evidence = self.get_evidence()
        return self.render(EvidenceUpdateForm(tenant=self.tenant, evidence=evidence), evidence)

    def post(self, request, pk):
        evidence = self.get_evidence()
        form = EvidenceUpdateForm(request.POST, tenant=self.tenant, evidence=evidence)
        if form.is_valid():
            try:
                services.evidence_update(evidence=evidence, acting_user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, gettext("Evidence “%(title)s” saved.") % {"title": evidence})
                return redirect("evidence:detail", pk=evidence.pk)
        return self.render(form, evidence, status=400)

    def render(self, form, evidence, status=200):
        heading = gettext("Edit %(title)s") % {"title": evidence}
        context = {"form": form, "evidence": evidence, "heading": heading, "submit": gettext("Save")}
        return render(self.request, "controls/evidence/form.html", context, status=status)


class EvidenceAddVersionView(EvidenceMixin, View):
    def get(self, request, pk):
        evidence = self.get_evidence()
        return self.render(EvidenceVersionForm(evidence=evidence), evidence)

    def post(self, request, pk):
        evidence = self.get_evidence()
        form = EvidenceVersionForm(request.POST, request.FILES, evidence=evidence, tenant=self.tenant)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    version = services.evidence_add_version(
                        evidence=evidence, acting_user=request.user, upload=data.get("file"), url=data.get("url", ""),
                        note=data.get("note", ""), comment=data["comment"],
                    )  # fmt: skip
                    staging.discard_on_commit(form.staged)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    gettext("Version %(number)s of “%(title)s” added.") % {"number": version.number, "title": evidence},
                )
                return redirect("evidence:detail", pk=evidence.pk)
        staging.keep_for_another_try(form, self.tenant)
        return self.render(form, evidence, status=400)

    def render(self, form, evidence, status=200):
        heading = gettext("New version of %(title)s") % {"title": evidence}
        context = {"form": form, "evidence": evidence, "heading": heading, "submit": gettext("Add version")}
        return render(self.request, "controls/evidence/form.html", context, status=status)


class EvidenceLinkAddView(EvidenceMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        evidence = self.get_evidence()
        form = EvidenceLinkForm(request.POST, tenant=self.tenant)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.evidence_link(
                    evidence=evidence, target=data["target"], obj=data["obj"], acting_user=request.user
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, gettext("Linked to %(record)s.") % {"record": data["obj"]})
        else:
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("evidence:detail", pk=evidence.pk)


class EvidenceLinkRemoveView(EvidenceMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk, link_pk):
        evidence = self.get_evidence()
        link = get_for_tenant_or_404(self.tenant, EvidenceLink, pk=link_pk, evidence=evidence)
        services.evidence_unlink(link=link, acting_user=request.user)
        messages.success(request, gettext("Link removed."))
        return redirect("evidence:detail", pk=evidence.pk)


class EvidenceDeleteView(EvidenceMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        evidence = self.get_evidence()
        services.evidence_delete(evidence=evidence, acting_user=request.user)
        messages.success(request, gettext("“%(title)s” was deleted; its history is kept.") % {"title": evidence})
        return redirect("evidence:list")


class EvidenceDownloadView(TenantViewMixin, View):
    """A version's file, after the permission check; never served any other way, and every download is logged."""

    write_capability = None

    def get(self, request, pk, version_pk):
        version = get_for_tenant_or_404(self.tenant, EvidenceVersion, pk=version_pk, evidence_id=pk)
        return services.evidence_version_download(
            version, user=request.user, via_api=False, ip_address=request.META.get("REMOTE_ADDR")
        )

"""Inventory import (upload, preview, confirm) and export pages.

The upload is previewed at once; a clean file is kept privately (see
``registry.imports.services.pending_import_store``) under a random token remembered in the
uploader's session, so only that user, in that organisation, can confirm it.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View

from aims.access import TenantViewMixin
from aims.roles import Capability
from registry.filters import AISystemFilter
from registry.imports.services import (
    CONTENT_TYPES,
    FORMATS,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    AISystemResource,
    ImportFileError,
    import_format_for,
    inventory_export,
    inventory_import_apply,
    inventory_import_preview,
    pending_import_discard,
    pending_import_read,
    pending_import_store,
)
from registry.selectors import system_list

SESSION_KEY = "inventory_imports"
# A user rarely has more than one preview open; older entries are dropped beyond this.
MAX_PENDING = 5


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Inventory file"),
        help_text=format_lazy(
            _("A .csv (UTF-8) or .xlsx file, up to 2 MB and {rows} rows."), rows=f"{MAX_IMPORT_ROWS:,}"
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        self.fmt = import_format_for(upload.name)
        if self.fmt is None:
            raise forms.ValidationError(gettext("Upload a .csv or .xlsx file."))
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(gettext("The file is larger than 2 MB; split it into smaller files."))
        return upload


def _render(request, form, report=None, token=None, status=200):
    context = {
        "form": form,
        "report": report,
        "token": token,
        "columns": AISystemResource.Meta.fields,
        "choices": _accepted_values(),
    }
    return render(request, "registry/imports/upload.html", context, status=status)


def _accepted_values() -> list[tuple[str, str]]:
    resource_fields = AISystemResource().fields
    accepted = [("roles", gettext("provider, producer, customer, partner (comma-separated)"))]
    for name in ("lifecycle_stage", "deployment_context", "automation_level", "people_decisions", "eu_ai_act_tier"):
        accepted.append((name, ", ".join(resource_fields[name].widget.values)))
    accepted += [
        ("annex_iii_area", gettext("1 to 8, only for high-risk systems, or empty")),
        ("annex_iii_point", gettext("the point and letter, e.g. 5(b), only for high-risk systems, or empty")),
        ("status", ", ".join(resource_fields["status"].widget.values)),
        ("continuous_learning", gettext("yes or no")),
        (
            "performance_metrics",
            gettext("name=target pairs separated by semicolons, e.g. AUC=0.80; Approval rate gap=<5%"),
        ),
        ("owner_email", gettext("the e-mail address of a member of the organisation")),
        ("next_review_date", "YYYY-MM-DD"),
    ]
    return accepted


def _remember(request, tenant, content: bytes, fmt: str, filename: str) -> str:
    name, sha256 = pending_import_store(content, fmt)
    token = name.rsplit("/", 1)[-1].split(".", 1)[0]
    pending = request.session.get(SESSION_KEY, {})
    for old in list(pending)[: max(0, len(pending) - MAX_PENDING + 1)]:
        pending_import_discard(pending.pop(old)["name"])
    pending[token] = {
        "name": name,
        "sha256": sha256,
        "fmt": fmt,
        "filename": filename,
        "user": request.user.pk,
        "organization": tenant.organization.pk,
    }
    request.session[SESSION_KEY] = pending
    return token


def _take(request, tenant, token: str) -> dict | None:
    """The pending import ``token`` of this user and organisation, removed from the session; else None."""
    pending = request.session.get(SESSION_KEY, {})
    entry = pending.pop(token, None)
    request.session[SESSION_KEY] = pending
    if entry is None or entry["user"] != request.user.pk or entry["organization"] != tenant.organization.pk:
        return None
    return entry


class InventoryImportView(TenantViewMixin, View):
    capability = Capability.EDIT

    def get(self, request):
        return _render(request, ImportUploadForm())

    def post(self, request):
        form = ImportUploadForm(request.POST, request.FILES)
        report = token = None
        if form.is_valid():
            upload = form.cleaned_data["file"]
            content = upload.read()
            try:
                report = inventory_import_preview(tenant=self.tenant, content=content, fmt=form.fmt)
            except ImportFileError as exc:
                form.add_error("file", str(exc))
            else:
                if not report.has_errors and report.change_count:
                    token = _remember(request, self.tenant, content, form.fmt, upload.name)
        return _render(request, form, report=report, token=token)


class InventoryImportConfirmView(TenantViewMixin, View):
    capability = Capability.EDIT

    def get(self, request):
        return redirect("imports:upload")

    def post(self, request):
        entry = _take(request, self.tenant, request.POST.get("token", ""))
        if entry is None:
            messages.error(
                request,
                gettext("This import is no longer available (or was prepared by someone else); upload it again."),
            )
            return redirect("imports:upload")
        try:
            content = pending_import_read(entry["name"], entry["sha256"])
            report = inventory_import_apply(tenant=self.tenant, content=content, fmt=entry["fmt"])
        except ImportFileError as exc:
            messages.error(request, str(exc))
            return redirect("imports:upload")
        finally:
            pending_import_discard(entry["name"])
        if not report.applied:
            messages.error(
                request,
                gettext("Nothing was imported: the inventory changed since the preview and some rows no longer pass."),
            )
            return _render(request, ImportUploadForm(), report=report)
        messages.success(
            request,
            gettext("Imported %(file)s: %(new)s new, %(updated)s updated, %(unchanged)s unchanged.")
            % {
                "file": entry["filename"],
                "new": report.new_count,
                "updated": report.update_count,
                "unchanged": report.unchanged_count,
            },
        )
        return redirect("inventory:system_list")


class InventoryExportView(TenantViewMixin, View):
    """The inventory list, filtered by the same query parameters as the inventory page, as a file."""

    def get(self, request, fmt: str):
        if fmt not in FORMATS:
            raise Http404("Unknown export format.")
        systems = AISystemFilter(request.GET, queryset=system_list(self.tenant.organization)).qs
        response = HttpResponse(inventory_export(systems, fmt), content_type=CONTENT_TYPES[fmt])
        filename = f"inventory-{self.tenant.organization.slug}-{timezone.localdate():%Y%m%d}.{fmt}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

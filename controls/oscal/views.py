"""OSCAL downloads of the catalogue, the approved SoA (profile) and the AIMS (SSP), and the catalogue import page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views import View

from aims.access import TenantViewMixin
from aims.forms import apply_service_errors
from aims.roles import Capability
from controls.catalogue.models import Framework
from controls.oscal import selectors
from controls.oscal.documents import OscalDocument
from controls.oscal.forms import CatalogueImportForm
from controls.oscal.models import CatalogueImport
from controls.oscal.services import catalogue_import

#: Who may download the organisation's profile, SSP and assessment results: the roles that
#: download evidence packs (auditors included), as the documents link to the same evidence.
DOWNLOAD = Capability.REQUEST_PACKS
#: Importing adds a framework to the catalogue every organisation reads: administrators and
#: compliance officers, the roles that approve the AIMS documents.
IMPORT = Capability.APPROVE


def oscal_download(document: OscalDocument) -> HttpResponse:
    response = HttpResponse(document.as_json(), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{document.file_name}"'
    return response


class CatalogDownloadView(TenantViewMixin, View):
    """A framework of the catalogue (``?framework=``, ISO/IEC 42001 by default) as an OSCAL catalog."""

    write_capability = None

    def get(self, request):
        try:
            framework = selectors.framework_for_export(request.GET.get("framework"))
        except Framework.DoesNotExist as exc:
            raise Http404("No such framework.") from exc
        return oscal_download(selectors.catalog_document(framework))


class _AimsDocumentView(TenantViewMixin, View):
    capability = DOWNLOAD
    write_capability = None
    build = staticmethod(selectors.profile_document)

    def get(self, request):
        try:
            document = type(self).build(self.tenant.organization, request.build_absolute_uri)
        except selectors.NothingToExport as exc:
            messages.error(request, gettext("Nothing to export yet: %(reason)s") % {"reason": _reason(exc)})
            return redirect("soa:statement")
        return oscal_download(document)


def _reason(exc: selectors.NothingToExport) -> str:
    if isinstance(exc, selectors.NoApplicableControl):
        return gettext("the approved Statement of Applicability declares no control applicable.")
    return gettext("no version of the Statement of Applicability has been approved.")


class ProfileDownloadView(_AimsDocumentView):
    build = staticmethod(selectors.profile_document)


class SspDownloadView(_AimsDocumentView):
    build = staticmethod(selectors.ssp_document)


class CatalogueImportView(TenantViewMixin, View):
    capability = IMPORT
    write_capability = IMPORT
    shown = 20

    def respond(self, form, status=200):
        imports = CatalogueImport.objects.for_org(self.tenant.organization).select_related("framework", "imported_by")
        context = {"form": form, "imports": imports[: self.shown]}
        return render(self.request, "controls/oscal/import.html", context, status=status)

    def get(self, request):
        return self.respond(CatalogueImportForm())

    def post(self, request):
        form = CatalogueImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = catalogue_import(
                    organization=self.tenant.organization,
                    content=upload.read(),
                    file_name=upload.name,
                    code=form.cleaned_data["code"],
                    acting_user=request.user,
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    apply_service_errors(form, exc)
                else:  # what is wrong with the file itself
                    form.add_error("file", exc.messages)
            else:
                record = result.record
                messages.success(
                    request,
                    gettext(
                        "Imported %(title)s as %(code)s: %(created)s requirements created, %(updated)s updated, "
                        "%(mappings)s mappings to ISO/IEC 42001."
                    )
                    % {
                        "title": record.title,
                        "code": result.framework.code,
                        "created": record.created,
                        "updated": record.updated,
                        "mappings": record.mappings,
                    },
                )
                if result.unmapped:
                    messages.warning(
                        request,
                        gettext("References to unknown ISO/IEC 42001 identifiers were skipped: %(refs)s")
                        % {"refs": ", ".join(result.unmapped[:10])},
                    )
                return redirect("catalogue:framework", code=result.framework.code)
        return self.respond(form, status=400)

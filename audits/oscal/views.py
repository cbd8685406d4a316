"""The download of an audit's OSCAL assessment results, linked from the audit's page."""

from __future__ import annotations

from django.http import Http404
from django.views import View

from aims.access import TenantViewMixin
from audits.improvement.models import Audit
from audits.oscal.selectors import assessment_audit_get, assessment_results_document
from controls.oscal.views import DOWNLOAD, oscal_download


class AssessmentResultsDownloadView(TenantViewMixin, View):
    capability = DOWNLOAD
    write_capability = None

    def get(self, request, pk):
        organization = self.tenant.organization
        try:
            audit = assessment_audit_get(organization, pk)
        except (Audit.DoesNotExist, ValueError) as exc:
            raise Http404("No such audit.") from exc
        return oscal_download(assessment_results_document(organization, audit, request.build_absolute_uri))

"""API of an audit's OSCAL assessment results.

Endpoint (under ``/api/v1/``)::

    GET    oscal/assessment-results/{audit_id}/   the audit's findings and checked items as OSCAL assessment results

Needs "request_packs" (auditors may download); another organisation's audit is 404.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aims.api.permissions import HasOrganizationRole
from aims.roles import Capability
from audits.improvement.models import Audit
from audits.oscal.selectors import assessment_audit_get, assessment_results_document
from controls.oscal.api import OSCAL_RESPONSE, oscal_response


class AssessmentResultsApi(APIView):
    permission_classes = [HasOrganizationRole]
    read_capability = Capability.REQUEST_PACKS

    @extend_schema(
        summary="An internal audit as OSCAL assessment results",
        parameters=[OpenApiParameter("audit_id", int, OpenApiParameter.PATH, description="The audit's id.")],
        responses={200: OSCAL_RESPONSE},
    )
    def get(self, request: Request, audit_id: int) -> Response:
        organization = request.tenant.organization  # type: ignore[attr-defined]
        try:
            audit = assessment_audit_get(organization, audit_id)
        except (Audit.DoesNotExist, ValueError) as exc:
            raise exceptions.NotFound("No such audit.") from exc
        return oscal_response(assessment_results_document(organization, audit, request.build_absolute_uri))

"""API of the OSCAL documents and of the catalogue import.

Endpoints (all under ``/api/v1/``)::

    GET    oscal/catalog/?framework=CODE   a framework as an OSCAL catalog (ISO/IEC 42001 by default)
    GET    oscal/profile/                  the applicable controls of the latest approved SoA version
    GET    oscal/ssp/                      the AIMS as a system security plan, evidence hashes in back-matter
    GET    oscal/catalog-imports/          the organisation's imports of OSCAL catalogues, newest first
    POST   oscal/catalog-imports/          import an OSCAL catalog (multipart ``file``, optional ``code``)

The catalog needs "view" (it is the shared reference catalogue); the profile and the SSP need
"request_packs", as evidence packs do (auditors may download them); importing needs "approve"
(administrators and compliance officers). The assessment results of an audit are served by
``audits/{id}/oscal/`` (:mod:`audits.oscal.api`). Every document is validated by
compliance-trestle's OSCAL models before it is sent; a file that is not a valid OSCAL catalog is
refused with 400 and trestle's message.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aims.api.base import TenantScopedMixin
from aims.api.input import FormParser, MultiPartParser
from aims.api.permissions import HasOrganizationRole
from aims.roles import Capability
from controls.catalogue.models import Framework
from controls.oscal import selectors
from controls.oscal.documents import OscalDocument
from controls.oscal.models import CatalogueImport
from controls.oscal.services import catalogue_import

#: The OSCAL JSON document, under its root key (``catalog``, ``profile``, ``system-security-plan``).
OSCAL_RESPONSE = OpenApiResponse(
    OpenApiTypes.OBJECT, description="The OSCAL document (JSON), validated against the OSCAL models."
)
NOTHING_TO_EXPORT = OpenApiResponse(
    description="No version of the Statement of Applicability is approved, or the approved one "
    "declares no control applicable."
)


def oscal_response(document: OscalDocument) -> Response:
    response = Response(document.as_dict())
    response["Content-Disposition"] = f'attachment; filename="{document.file_name}"'
    return response


class CatalogApi(APIView):
    permission_classes = [HasOrganizationRole]
    read_capability = Capability.VIEW

    @extend_schema(
        summary="A framework of the catalogue as an OSCAL catalog",
        parameters=[
            OpenApiParameter(
                "framework", str, description="Framework code (default ISO42001): any framework of the catalogue."
            )
        ],
        responses={200: OSCAL_RESPONSE},
    )
    def get(self, request: Request) -> Response:
        code = request.query_params.get("framework")
        try:
            framework = selectors.framework_for_export(code)
        except Framework.DoesNotExist as exc:
            raise exceptions.ValidationError({"framework": [f"No framework has the code {code!r}."]}) from exc
        return oscal_response(selectors.catalog_document(framework))


class _AimsDocumentApi(APIView):
    permission_classes = [HasOrganizationRole]
    read_capability = Capability.REQUEST_PACKS

    def document(self, request: Request) -> OscalDocument:
        raise NotImplementedError

    def get(self, request: Request) -> Response:
        try:
            return oscal_response(self.document(request))
        except selectors.NothingToExport as exc:
            raise exceptions.NotFound(str(exc)) from exc


class ProfileApi(_AimsDocumentApi):
    @extend_schema(
        summary="The approved SoA's applicable controls as an OSCAL profile",
        responses={200: OSCAL_RESPONSE, 404: NOTHING_TO_EXPORT},
    )
    def get(self, request: Request) -> Response:
        return super().get(request)

    def document(self, request: Request) -> OscalDocument:
        return selectors.profile_document(request.tenant.organization, request.build_absolute_uri)  # type: ignore[attr-defined]


class SspApi(_AimsDocumentApi):
    @extend_schema(
        summary="The AIMS as an OSCAL system security plan",
        description="One implemented requirement per control the approved SoA declares applicable: status, "
        "implementation, responsible roles, and links to evidence in back-matter with each file's SHA-256.",
        responses={200: OSCAL_RESPONSE, 404: NOTHING_TO_EXPORT},
    )
    def get(self, request: Request) -> Response:
        return super().get(request)

    def document(self, request: Request) -> OscalDocument:
        return selectors.ssp_document(request.tenant.organization, request.build_absolute_uri)  # type: ignore[attr-defined]


class CatalogueImportSerializer(serializers.ModelSerializer):
    framework = serializers.CharField(source="framework.code", read_only=True, default=None, allow_null=True)
    imported_by = serializers.EmailField(source="imported_by.email", read_only=True, default=None, allow_null=True)

    class Meta:
        model = CatalogueImport
        fields = [
            "id", "framework", "catalog_uuid", "title", "file_name", "sha256", "created", "updated", "mappings",
            "imported_by", "imported_at",
        ]  # fmt: skip
        read_only_fields = fields


class CatalogueImportResultSerializer(CatalogueImportSerializer):
    stale = serializers.ListField(
        child=serializers.CharField(), help_text="Identifiers of the framework the file no longer holds (kept)."
    )
    unmapped = serializers.ListField(
        child=serializers.CharField(), help_text="References to ISO/IEC 42001 identifiers that do not exist (skipped)."
    )

    class Meta(CatalogueImportSerializer.Meta):
        fields = [*CatalogueImportSerializer.Meta.fields, "stale", "unmapped"]
        read_only_fields = fields


class CatalogueImportInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The OSCAL catalog, JSON.")
    code = serializers.CharField(
        required=False, allow_blank=True, max_length=40, help_text="Framework code; default from the catalog's title."
    )


class CatalogueImportViewSet(TenantScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = CatalogueImport.objects.select_related("framework", "imported_by")
    serializer_class = CatalogueImportSerializer
    parser_classes = [MultiPartParser, FormParser]
    write_capability = Capability.APPROVE
    filter_backends: list[Any] = []

    @extend_schema(summary="The organisation's imports of OSCAL catalogues")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Import an OSCAL catalog as a framework",
        description="Creates the framework, or updates the one an earlier import of the same catalog made: "
        "requirements are matched by identifier, so importing twice duplicates nothing. Links to "
        "`urn:iso:std:iso-iec:42001#<identifier>` (or `iso42001` properties) become crosswalk mappings.",
        request={"multipart/form-data": CatalogueImportInputSerializer},
        responses={201: CatalogueImportResultSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = CatalogueImportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        try:
            result = catalogue_import(
                organization=request.tenant.organization,  # type: ignore[attr-defined]
                content=upload.read(),
                file_name=upload.name or "",
                code=data.validated_data.get("code", ""),
                acting_user=request.user,  # type: ignore[arg-type]
            )
        except DjangoValidationError as exc:
            detail = exc.message_dict if hasattr(exc, "error_dict") else {"file": exc.messages}
            raise exceptions.ValidationError(detail) from exc
        record = result.record
        record.stale, record.unmapped = result.stale, result.unmapped  # type: ignore[attr-defined]
        return Response(CatalogueImportResultSerializer(record).data, status=status.HTTP_201_CREATED)


ROUTES = [("oscal/catalog-imports", CatalogueImportViewSet, "oscal-catalog-import")]

api_urlpatterns = [
    path("oscal/catalog/", CatalogApi.as_view(), name="oscal-catalog"),
    path("oscal/profile/", ProfileApi.as_view(), name="oscal-profile"),
    path("oscal/ssp/", SspApi.as_view(), name="oscal-ssp"),
]

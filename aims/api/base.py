"""Base classes every tenant-owned API endpoint builds on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from django.db.models import Model, QuerySet
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from aims.api.permissions import HasOrganizationRole
from aims.concurrency import StaleRecord, etag, expect_version, if_match_version, record_version
from aims.content_cache import CachedListMixin
from aims.roles import Capability

if TYPE_CHECKING:
    from rest_framework.permissions import _PermissionClass


class TenantScopedMixin:
    """Narrow ``queryset`` to the request's organisation; another tenant's rows answer 404."""

    permission_classes: Sequence[_PermissionClass] = [HasOrganizationRole]
    read_capability = Capability.VIEW
    write_capability = Capability.EDIT

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no tenant
            return super().get_queryset().none()  # type: ignore[misc]
        return super().get_queryset().for_org(self.request.tenant.organization)  # type: ignore[misc, attr-defined]


class SelectorQuerysetMixin:
    """Start from a module's selector (``selector(organization)``), so a list page costs a fixed
    number of queries; :class:`TenantScopedMixin`, placed before this in the MRO, narrows it again."""

    selector: ClassVar[Callable[..., QuerySet[Any]] | None] = None

    def get_queryset(self) -> QuerySet[Any]:
        selector = type(self).selector
        if selector is None or getattr(self, "swagger_fake_view", False):
            return super().get_queryset()  # type: ignore[misc]
        return selector(self.request.tenant.organization)  # type: ignore[attr-defined]

    def reread(self, record: Model) -> Model:
        """The record again through the selector, so an answer has the same shape as a list row."""
        return self.get_queryset().get(pk=record.pk)


class TransitionActionMixin:
    """Workflow actions (submit, return, approve…) that call one service on the viewset's object.

    ``transition_argument`` names the service's keyword for the object (``version``,
    ``assessment``…); the answer is the object re-read through the selector.
    """

    transition_argument: ClassVar[str] = "instance"

    def transition(self, service: Callable[..., Any], **kwargs: Any) -> Response:
        record = self.get_object()  # type: ignore[attr-defined]
        service(**{self.transition_argument: record}, acting_user=self.request.user, **kwargs)  # type: ignore[attr-defined]
        data = self.get_serializer(self.reread(record)).data  # type: ignore[attr-defined]
        return Response(data, status=status.HTTP_200_OK)


class VersionedMixin:
    """``ETag`` on reads and writes of one record; ``If-Match`` on PUT/PATCH (aims.concurrency).

    A write whose ``If-Match`` names an older version answers 412 and writes nothing; the
    check is repeated under a row lock when the service saves, so two writes racing with the
    same ETag cannot both pass. A write without ``If-Match`` proceeds.
    """

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response: Response = super().retrieve(request, *args, **kwargs)  # type: ignore[misc]
        return self._with_etag(response)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response: Response = super().update(request, *args, **kwargs)  # type: ignore[misc]
        return self._with_etag(response)

    def get_object(self) -> Any:
        obj = super().get_object()  # type: ignore[misc]
        if self.request.method in ("PUT", "PATCH"):  # type: ignore[attr-defined]
            expected = if_match_version(self.request.headers.get("If-Match"))  # type: ignore[attr-defined]
            if expected is not None:
                current = record_version(obj)
                if current is not None and current != expected:
                    raise StaleRecord(obj, expected=expected, current=current)
                expect_version(obj, expected)
        self._versioned_object = obj
        return obj

    def _with_etag(self, response: Response) -> Response:
        obj = getattr(self, "_versioned_object", None)
        tag = etag(record_version(obj)) if obj is not None and response.status_code == 200 else None
        if tag:
            response["ETag"] = tag
        return response


class CrudMixin(
    VersionedMixin,
    CachedListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    """The five CRUD actions, for viewsets that build on ``GenericViewSet``; writes honour ``If-Match``,
    lists are cached for their reader until the organisation's next recorded change."""


class TenantModelViewSet(TenantScopedMixin, viewsets.ModelViewSet):
    pass


class TenantReadOnlyViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass

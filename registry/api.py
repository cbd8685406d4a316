"""API of the inventory: systems, models, datasets, suppliers, resources and RACI, plus bulk upsert.

Reads go through the selectors (a list page costs a fixed number of queries); every write
goes through :mod:`registry.services`, so history records who acted. Objects of another
organisation are never found (404) and their ids are never accepted in links (400).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aims.api.base import SelectorQuerysetMixin, TenantScopedMixin, VersionedMixin
from aims.api.permissions import HasOrganizationRole
from aims.api.schema import crud_schema
from aims.concurrency import StaleRecord
from aims.content_cache import CachedListMixin
from registry import selectors, services
from registry.filters import AIModelFilter, AISystemFilter, DatasetFilter, SupplierFilter
from registry.models import AIModel, AISystem, Dataset, ModelDataset, Resource, RoleAssignment, Supplier
from registry.serializers import (
    BULK_MAX_ITEMS,
    AIModelSerializer,
    AISystemSerializer,
    BulkUpsertErrorSerializer,
    BulkUpsertResultSerializer,
    DatasetSerializer,
    Draft,
    ResourceSerializer,
    RoleAssignmentSerializer,
    SupplierSerializer,
    bulk_request_serializer,
    link_rows,
)

FORBIDDEN_CHANGE = "Your role only lets you change AI systems you own."

# How each writable link list of a serializer is stored.
LINK_SETTERS = {
    "models": lambda record, objs, user: services.system_models_set(system=record, models=objs, acting_user=user),
    "suppliers": lambda record, objs, user: services.system_suppliers_set(
        system=record, suppliers=objs, acting_user=user
    ),
    "datasets": lambda record, objs, user: services.system_datasets_set(system=record, datasets=objs, acting_user=user),
    "training_datasets": lambda record, objs, user: services.model_datasets_set(
        model=record, datasets=objs, usage=ModelDataset.Usage.TRAINING, acting_user=user
    ),
    "evaluation_datasets": lambda record, objs, user: services.model_datasets_set(
        model=record, datasets=objs, usage=ModelDataset.Usage.EVALUATION, acting_user=user
    ),
}


@transaction.atomic
def _draft_save(*, draft: Draft, acting_user) -> Model:
    """Save a record and its link lists together: a refused link leaves the record unchanged too."""
    services.inventory_record_save(instance=draft.record, acting_user=acting_user)
    for name, objs in draft.links.items():
        LINK_SETTERS[name](draft.record, objs, acting_user)
    return draft.record


def _error_dict(exc: DjangoValidationError) -> dict[str, list[str]]:
    if not hasattr(exc, "error_dict"):
        return {"non_field_errors": exc.messages}
    return {("non_field_errors" if key == "__all__" else key): msgs for key, msgs in exc.message_dict.items()}


class CanChangeRecord(permissions.BasePermission):
    """Object level: an AI system owner changes only their own systems and what hangs off them."""

    message = FORBIDDEN_CHANGE

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in permissions.SAFE_METHODS or request.tenant.can_change(view.change_target(obj))


class InventoryViewSet(
    VersionedMixin, CachedListMixin, TenantScopedMixin, SelectorQuerysetMixin, viewsets.ModelViewSet
):
    # TenantScopedMixin's list is inferred as list[type[HasOrganizationRole]]; any permission belongs here.
    permission_classes = [HasOrganizationRole, CanChangeRecord]

    def change_target(self, obj: Model) -> Model:
        """The record whose ownership decides who may change ``obj``."""
        return obj

    def _write(self, serializer) -> None:
        draft = serializer.build()
        # A change that changes nothing is not saved, so it leaves no history entry.
        if draft.changed:
            try:
                _draft_save(draft=draft, acting_user=self.request.user)
            except StaleRecord:
                raise  # changed since the caller's If-Match: 412, not a field error
            except DjangoValidationError as exc:
                raise exceptions.ValidationError(_error_dict(exc)) from exc
        # Read back through the selector so the answer carries the same annotations as a list row.
        serializer.instance = self.reread(draft.record)

    perform_create = _write
    perform_update = _write

    def perform_destroy(self, instance):
        services.inventory_record_delete(instance=instance, acting_user=self.request.user)


@dataclass
class _Planned:
    index: int
    external_id: str
    draft: Draft


class _ItemFailed(Exception):
    """A service refused one item while the batch was being saved; the batch is rolled back."""

    def __init__(self, planned: _Planned, errors: dict[str, list[str]]):
        super().__init__(planned.index)
        self.planned, self.errors = planned, errors


class BulkUpsertMixin(InventoryViewSet):
    """``POST …/bulk-upsert/``: create or update records by external id, all or nothing."""

    @action(detail=False, methods=["post"], url_path="bulk-upsert")
    def bulk_upsert(self, request):
        items = request.data.get("items") if isinstance(request.data, dict) else None
        if not isinstance(items, list) or not items:
            raise exceptions.ValidationError({"items": ["Send a non-empty list of items."]})
        if len(items) > BULK_MAX_ITEMS:
            raise exceptions.ValidationError(
                {"items": [f"Send at most {BULK_MAX_ITEMS} items per request (got {len(items)}); split the sync."]}
            )
        plan, errors = self._bulk_plan(items)
        if errors:
            detail = f"{len(errors)} of {len(items)} items are invalid; nothing was written."
            return Response({"detail": detail, "errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        return self._bulk_apply(plan)

    def _bulk_plan(self, items: list[Any]) -> tuple[list[_Planned], list[dict[str, Any]]]:
        """Validate every item before anything is written; return the drafts or the item errors."""
        keys = [item.get("external_id") if isinstance(item, dict) else None for item in items]
        keys = [key.strip() if isinstance(key, str) else None for key in keys]
        existing = {
            record.external_id: record for record in self.get_queryset().filter(external_id__in=set(keys) - {None, ""})
        }
        plan: list[_Planned] = []
        errors: list[dict[str, Any]] = []
        seen: dict[str | None, int] = {}
        for index, (item, external_id) in enumerate(zip(items, keys, strict=True)):
            draft_or_errors = self._bulk_item(item, external_id, existing.get(external_id), seen.get(external_id))
            seen.setdefault(external_id, index)
            if isinstance(draft_or_errors, Draft) and external_id:
                plan.append(_Planned(index, external_id, draft_or_errors))
            else:
                errors.append({"index": index, "external_id": external_id, "errors": draft_or_errors})
        return plan, errors

    def _bulk_item(self, item: Any, external_id: str | None, record: Model | None, seen_at: int | None):
        """One item's draft, or its errors as ``{field: [messages]}``."""
        if not isinstance(item, dict):
            return {"non_field_errors": ["Each item must be a JSON object."]}
        if not external_id:
            return {"external_id": ["Each item needs a non-empty external_id (a string)."]}
        if seen_at is not None:
            return {"external_id": [f"Also given in item {seen_at}; send each external_id once per batch."]}
        tenant = self.request.tenant  # type: ignore[attr-defined]  # set by the tenant authentication
        if record is not None and not tenant.can_change(self.change_target(record)):
            raise exceptions.PermissionDenied(f"Item with external_id {external_id!r}: {FORBIDDEN_CHANGE}")
        serializer = self.get_serializer(record, data={**item, "external_id": external_id}, partial=record is not None)
        if not serializer.is_valid():
            return serializer.errors
        draft: Draft = serializer.build()  # type: ignore[attr-defined]  # every inventory serializer builds a Draft
        if draft.changed:
            # The service gives an AI system without a reference the next free one, so skip it here.
            unassigned = isinstance(draft.record, AISystem) and not draft.record.ref_code
            try:
                draft.record.full_clean(exclude=["ref_code"] if unassigned else None)
            except DjangoValidationError as exc:
                return _error_dict(exc)
        return draft

    def _bulk_apply(self, plan: list[_Planned]) -> Response:
        counts, results = Counter(created=0, updated=0, unchanged=0), []
        try:
            with transaction.atomic():
                for planned in plan:
                    results.append(self._bulk_save(planned))
                    counts[results[-1]["action"]] += 1
        except _ItemFailed as failed:
            body = {"index": failed.planned.index, "external_id": failed.planned.external_id, "errors": failed.errors}
            detail = f"Item {failed.planned.index} could not be saved; nothing was written."
            return Response({"detail": detail, "errors": [body]}, status=status.HTTP_400_BAD_REQUEST)
        return Response({**counts, "results": results})

    def _bulk_save(self, planned: _Planned) -> dict[str, Any]:
        draft = planned.draft
        if draft.changed:
            try:
                _draft_save(draft=draft, acting_user=self.request.user)
            except DjangoValidationError as exc:
                raise _ItemFailed(planned, _error_dict(exc)) from exc
            except IntegrityError as exc:
                # Another writer took the same value between validation and saving.
                raise _ItemFailed(
                    planned, {"non_field_errors": ["Conflicts with a concurrent change; retry."]}
                ) from exc
        action_taken = "created" if draft.created else "updated" if draft.changed else "unchanged"
        return {
            "index": planned.index,
            "id": draft.record.pk,
            "external_id": planned.external_id,
            "action": action_taken,
        }


def _bulk_schema(serializer_class, name: str, example_items: list[dict]):
    return extend_schema(
        summary=f"Create or update {name} by external id (idempotent, all or nothing)",
        description=(
            f"Send up to {BULK_MAX_ITEMS} items. Each item needs a non-empty `external_id`: a record of your "
            "organisation with that external id is updated with the fields given (partial update), any other "
            "item is created. All items are validated first; if one is invalid the answer is 400 with the index "
            "of every bad item and nothing is written. Items whose values are already current are reported as "
            "`unchanged` and not saved, so a nightly sync leaves no history noise."
        ),
        request=bulk_request_serializer(serializer_class, serializer_class.Meta.model.__name__),
        responses={
            200: BulkUpsertResultSerializer,
            400: OpenApiResponse(BulkUpsertErrorSerializer, description="Invalid items; nothing was written."),
        },
        examples=[
            OpenApiExample("Nightly registry sync", value={"items": example_items}, request_only=True),
            OpenApiExample(
                "Second run of the same batch",
                value={
                    "created": 0,
                    "updated": 0,
                    "unchanged": len(example_items),
                    "results": [
                        {"index": i, "id": 40 + i, "external_id": item["external_id"], "action": "unchanged"}
                        for i, item in enumerate(example_items)
                    ],
                },
                response_only=True,
                status_codes=["200"],
            ),
            OpenApiExample(
                "One invalid item",
                value={
                    "detail": "1 of 2 items are invalid; nothing was written.",
                    "errors": [
                        {
                            "index": 1,
                            "external_id": example_items[1]["external_id"],
                            "errors": {"name": ["This field may not be blank."]},
                        }
                    ],
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )


def _system_rows(organization) -> QuerySet[AISystem]:
    return selectors.system_list(organization).prefetch_related(
        link_rows("model_links"), link_rows("supplier_links"), link_rows("dataset_links")
    )


def _model_rows(organization) -> QuerySet[AIModel]:
    return selectors.model_list(organization).prefetch_related(link_rows("dataset_links"))


@crud_schema(
    "AI system",
    bulk_upsert=_bulk_schema(
        AISystemSerializer,
        "AI systems",
        [
            {
                "external_id": "mlflow:credit-scoring",
                "name": "Credit scoring",
                "purpose": "Scores consumer credit applications for the lending team.",
                "roles": ["provider", "producer"],
                "lifecycle_stage": "operation",
                "eu_ai_act_tier": "high",
                "annex_iii_area": 5,
                "tier_rationale": "Creditworthiness of natural persons (Annex III 5(b)).",
                "model_external_ids": ["mlflow:credit-gbm@7"],
            },
            {
                "external_id": "mlflow:ticket-router",
                "name": "Support ticket router",
                "purpose": "Routes incoming support tickets to the right queue.",
                "roles": ["producer"],
                "status": "active",
            },
        ],
    ),
)
class AISystemViewSet(BulkUpsertMixin, InventoryViewSet):
    """AI systems of the organisation (A.6.2, A.9.4): purpose, roles, life cycle, EU AI Act tier, owner."""

    queryset = AISystem.objects.all()
    selector = staticmethod(_system_rows)
    serializer_class = AISystemSerializer
    filterset_class = AISystemFilter
    # AISystemFilter carries its own ``ordering``; a second OrderingFilter would read the same parameter.
    filter_backends = [DjangoFilterBackend]

    def unfiltered_count(self) -> int:
        return selectors.system_count(self.request.tenant.organization)  # type: ignore[attr-defined]  # set by the tenant authentication


class ApiAIModelFilter(AIModelFilter):
    # A plain number: a choice filter over all suppliers would answer differently for another
    # organisation's id than for an unknown one, telling that it exists.
    supplier = django_filters.NumberFilter(field_name="supplier_id")


@crud_schema(
    "model",
    bulk_upsert=_bulk_schema(
        AIModelSerializer,
        "models",
        [
            {
                "external_id": "mlflow:credit-gbm@7",
                "name": "credit-gbm",
                "version": "7",
                "kind": "classification",
                "framework": "LightGBM 4.5",
            },
            {"external_id": "mlflow:ticket-bert@3", "name": "ticket-bert", "version": "3", "kind": "nlp"},
        ],
    ),
)
class AIModelViewSet(BulkUpsertMixin, InventoryViewSet):
    """Models (versioned), with the datasets they were trained and evaluated on."""

    queryset = AIModel.objects.all()
    selector = staticmethod(_model_rows)
    serializer_class = AIModelSerializer
    filterset_class = ApiAIModelFilter
    ordering_fields = ["name", "version", "kind", "id"]


class ApiDatasetFilter(DatasetFilter):
    supplier = django_filters.NumberFilter(field_name="supplier_id")


@crud_schema(
    "dataset",
    bulk_upsert=_bulk_schema(
        DatasetSerializer,
        "datasets",
        [
            {"external_id": "lake:loans-2024", "name": "Loan applications 2024", "purpose": "training"},
            {"external_id": "lake:loans-holdout", "name": "Loan hold-out set", "purpose": "test"},
        ],
    ),
)
class DatasetViewSet(BulkUpsertMixin, InventoryViewSet):
    """Datasets with their provenance, acquisition, quality and preparation (A.7)."""

    queryset = Dataset.objects.all()
    selector = staticmethod(selectors.dataset_list)
    serializer_class = DatasetSerializer
    filterset_class = ApiDatasetFilter
    ordering_fields = ["name", "purpose", "id"]


@crud_schema(
    "supplier",
    bulk_upsert=_bulk_schema(
        SupplierSerializer,
        "suppliers",
        [
            {"external_id": "erp:V-1001", "name": "Northwind Cloud", "kind": "cloud"},
            {"external_id": "erp:V-1002", "name": "Contoso Labels", "kind": "data"},
        ],
    ),
)
class SupplierViewSet(BulkUpsertMixin, InventoryViewSet):
    """Suppliers of models, data, computing and services, with due diligence (A.10.3)."""

    queryset = Supplier.objects.all()
    selector = staticmethod(selectors.supplier_list)
    serializer_class = SupplierSerializer
    filterset_class = SupplierFilter
    ordering_fields = ["name", "kind", "due_diligence_status", "id"]


class SystemChildViewSet(InventoryViewSet):
    """Records of one AI system: whoever may change the system may change them."""

    def change_target(self, obj):
        return obj.system

    def perform_create(self, serializer):
        if not self.request.tenant.can_change(serializer.validated_data["system"]):
            raise exceptions.PermissionDenied(FORBIDDEN_CHANGE)
        record = self.create_record(**serializer.validated_data, acting_user=self.request.user)
        serializer.instance = self.get_queryset().get(pk=record.pk)


class RoleAssignmentFilter(django_filters.FilterSet):
    system = django_filters.NumberFilter(field_name="system_id")
    member = django_filters.NumberFilter(field_name="member_id")

    class Meta:
        model = RoleAssignment
        fields = ["system", "raci", "member"]


@crud_schema("role assignment")
class RoleAssignmentViewSet(SystemChildViewSet):
    """Who is Responsible, Accountable, Consulted or Informed for an AI system (one Accountable at most)."""

    queryset = RoleAssignment.objects.select_related("member")
    serializer_class = RoleAssignmentSerializer
    filterset_class = RoleAssignmentFilter
    ordering_fields = ["raci", "id"]
    # Through the service, so a second Accountable is refused with a clear message.
    create_record = staticmethod(services.role_assign)


class ResourceFilter(django_filters.FilterSet):
    system = django_filters.NumberFilter(field_name="system_id")

    class Meta:
        model = Resource
        fields = ["system", "kind"]


@crud_schema("resource")
class ResourceViewSet(SystemChildViewSet):
    """Resources an AI system needs: data, tooling, computing and people (A.4.2-A.4.6)."""

    queryset = Resource.objects.all()
    serializer_class = ResourceSerializer
    filterset_class = ResourceFilter
    ordering_fields = ["kind", "name", "id"]

    @staticmethod
    def create_record(*, description: str = "", **fields):
        return services.resource_add(description=description, **fields)


ROUTES: list[tuple[str, type[viewsets.ViewSetMixin], str]] = [
    ("systems", AISystemViewSet, "system"),
    ("models", AIModelViewSet, "aimodel"),
    ("datasets", DatasetViewSet, "dataset"),
    ("suppliers", SupplierViewSet, "supplier"),
    ("role-assignments", RoleAssignmentViewSet, "roleassignment"),
    ("resources", ResourceViewSet, "resource"),
]

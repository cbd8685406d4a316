"""API of the risk register: criteria, risks and treatments (impact assessments: :mod:`risk.impact.api`).

Reads go through :mod:`risk.selectors` (a list page costs a fixed number of queries); every
write goes through :mod:`risk.services`, so history records who acted and the rules of the
module (scoring, acceptance above the threshold) hold for the API
as for the pages. Objects of another organisation are never found (404) and their ids are never
accepted in a payload (400).

Roles: reads need "view"; writes need "edit" and, for an AI system owner, a record they own
(``is_owned_by``), before and after the change. Accepting a risk, approving or returning an
impact assessment and changing the criteria need "approve" (officers and administrators).
"""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.db.models import Model, Prefetch, QuerySet
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from aims.api.base import CrudMixin, SelectorQuerysetMixin, TenantScopedMixin
from aims.api.permissions import HasOrganizationRole
from aims.api.schema import crud_schema
from aims.models import Organization, User
from aims.roles import Capability
from aims.tenancy import Tenant
from risk import selectors, services
from risk.filters import RiskFilter
from risk.models import Risk, RiskCriteria, TreatmentAction, TreatmentControl
from risk.pagination import RiskPagination
from risk.serializers import (
    RiskAcceptSerializer,
    RiskCriteriaSerializer,
    RiskCriteriaUpdateResultSerializer,
    RiskSerializer,
    TreatmentSerializer,
)

FORBIDDEN_CHANGE = "Your role only lets you change the risks, treatments and impact assessments you own."
CRITERIA_FIELDS = ("likelihood_levels", "impact_levels", "matrix", "acceptance_threshold")


class CanChangeOwned(permissions.BasePermission):
    """Object level: an AI system owner changes only what they own (``Tenant.can_change``)."""

    message = FORBIDDEN_CHANGE

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in permissions.SAFE_METHODS or request.tenant.can_change(obj)


class RiskModuleViewSet(TenantScopedMixin, SelectorQuerysetMixin, viewsets.GenericViewSet):
    permission_classes = [HasOrganizationRole, CanChangeOwned]
    # Actions that decide for the organisation rather than edit a record.
    approve_actions: frozenset[str] = frozenset()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Before the permission check, which reads the capability the action needs.
        if getattr(self, "action", None) in self.approve_actions:
            self.write_capability = Capability.APPROVE
        super().initial(request, *args, **kwargs)

    @property
    def acting_user(self) -> User:
        """The caller; the permission check has refused anyone not signed in."""
        return cast(User, self.request.user)

    def check_can_change(self, record: Model) -> None:
        """The record as it will be saved must still be the caller's to change (owners: their own)."""
        tenant: Tenant = self.request.tenant  # type: ignore[attr-defined]  # set by HasOrganizationRole
        if not tenant.can_change(record):
            raise exceptions.PermissionDenied(FORBIDDEN_CHANGE)


# --- Criteria ----------------------------------------------------------------------------------


class _SingleObjectListSchema(AutoSchema):
    """The criteria "list" answers the organisation's one object, not a page of them.

    drf-spectacular documents every ``list`` action as an array; this hook is where it decides.
    """

    def _is_list_view(self, serializer=None) -> bool:
        if getattr(self.view, "action", None) == "list":
            return False
        return super()._is_list_view(serializer)


@extend_schema_view(
    list=extend_schema(
        summary="The organisation's risk criteria",
        description="One object, not a list: every organisation has exactly one set of criteria (created with "
        "the default 5 x 5 scales on first use). Change it with PUT/PATCH on `/risk-criteria/{id}/`.",
        operation_id="risk_criteria_current",
    ),
    retrieve=extend_schema(summary="The risk criteria, by id"),
    update=extend_schema(
        summary="Replace the risk criteria and re-score open risks",
        description="Needs the approve capability (officers, administrators). Every open risk is re-scored; "
        "likelihood or impact values above a shortened scale move to its top level. `rescored` tells how "
        "many risks changed.",
        responses={200: RiskCriteriaUpdateResultSerializer},
    ),
    partial_update=extend_schema(
        summary="Change the risk criteria and re-score open risks",
        description="As PUT; fields not sent keep their value (a new scale still needs a matching matrix).",
        responses={200: RiskCriteriaUpdateResultSerializer},
    ),
)
class RiskCriteriaViewSet(
    TenantScopedMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """How the organisation scores AI risks (6.1.2): scales, level matrix, acceptance threshold.

    Design: ``GET /risk-criteria/`` answers the single object (there is no collection to page),
    and changes go to its detail URL, so the standard router, tenancy and 404 rules apply.
    """

    queryset = RiskCriteria.objects.all()
    serializer_class = RiskCriteriaSerializer
    write_capability = Capability.APPROVE
    pagination_class = None
    filter_backends: list = []
    schema = _SingleObjectListSchema()

    def list(self, request):
        return Response(self.get_serializer(services.criteria_for(request.tenant.organization)).data)

    def update(self, request, *args, partial: bool = False, **kwargs):
        criteria = self.get_object()
        serializer = self.get_serializer(criteria, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        values = {name: serializer.validated_data.get(name, getattr(criteria, name)) for name in CRITERIA_FIELDS}
        criteria, rescored = services.criteria_update(criteria=criteria, acting_user=request.user, **values)
        return Response({**self.get_serializer(criteria).data, "rescored": rescored})


# --- Risks -------------------------------------------------------------------------------------


def risk_rows(organization: Organization) -> QuerySet[Risk]:
    # The nested treatments and their controls cost two queries per page, whatever its length.
    treatments = TreatmentAction.objects.prefetch_related(
        Prefetch("control_links", queryset=TreatmentControl.objects.select_related("control"))
    )
    rows = selectors.risk_rows(selectors.risk_register(organization))
    return rows.prefetch_related(Prefetch("treatments", queryset=treatments))


class RiskFilterBackend(DjangoFilterBackend):
    """Leaves the request's filterset on the view, whose numbered pages count from its figures."""

    def get_filterset(self, request, queryset, view):
        view.filterset = super().get_filterset(request, queryset, view)
        return view.filterset


@crud_schema(
    "risk",
    list=extend_schema(
        summary="List risks",
        description="Numbered pages (`page`, with `count`) or, with `cursor` (empty for the first page), keyset "
        "pages that cost the same however deep: follow `next` and `previous`, which keep the filters and the "
        "`ordering`. A cursor made for another ordering, or damaged, answers 400 on `cursor`.",
    ),
    accept=extend_schema(
        summary="Accept a risk",
        description="Needs the approve capability. Within the acceptance threshold a rationale suffices; above "
        "it, send `override: true` and a real justification. Changing the scores later sends the risk back to "
        "“assessed”.",
        request=RiskAcceptSerializer,
        responses={200: RiskSerializer},
    ),
)
class RiskViewSet(CrudMixin, RiskModuleViewSet):
    """The risk register (6.1.2, 8.2): risks of the organisation or of one AI system, with their treatments."""

    queryset = Risk.objects.all()
    selector = staticmethod(risk_rows)
    serializer_class = RiskSerializer
    filterset_class = RiskFilter
    # RiskFilter carries its own search (``q``) and ``ordering``; DRF's would read the same parameters.
    filter_backends = [RiskFilterBackend]
    # Numbered pages as every list, and keyset pages (``?cursor=``) that cost the same however deep.
    pagination_class = RiskPagination
    approve_actions = frozenset({"accept"})

    filterset: RiskFilter | None = None  # the request's, once filtered (RiskFilterBackend)

    def register_count(self) -> tuple[int, bool]:
        """The total of numbered pages, from the register's cached figures (:class:`RiskPagination`),
        and whether it is capped: a search counts up to ``SEARCH_COUNT_CAP`` matches, as on the page
        (every match is a row to read; ``cursor`` pages reach them all without a count)."""
        tenant: Tenant = self.request.tenant  # type: ignore[attr-defined]  # set by HasOrganizationRole
        figures = selectors.register_figures(tenant.organization, self.filterset)
        return figures.total, figures.capped

    def _save(self, serializer) -> None:
        risk = serializer.build()
        self.check_can_change(risk)
        services.risk_save(instance=risk, acting_user=self.acting_user)
        serializer.instance = self.reread(risk)

    perform_create = _save
    perform_update = _save

    def perform_destroy(self, instance):
        services.risk_delete(risk=instance, acting_user=self.acting_user)

    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        risk = self.get_object()
        data = RiskAcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.risk_accept(risk=risk, acting_user=self.acting_user, **data.validated_data)
        return Response(self.get_serializer(self.reread(risk)).data)


# --- Treatments --------------------------------------------------------------------------------


class TreatmentFilter(django_filters.FilterSet):
    # Plain numbers: a choice filter over all rows would answer differently for another
    # organisation's id than for an unknown one, telling that it exists.
    risk = django_filters.NumberFilter(field_name="risk_id")
    owner = django_filters.NumberFilter(field_name="owner_id")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Past its due date and not finished")

    class Meta:
        model = TreatmentAction
        fields = ["risk", "status", "owner", "overdue"]

    def filter_overdue(self, queryset, name, value):
        open_statuses = [TreatmentAction.Status.PLANNED, TreatmentAction.Status.IN_PROGRESS]
        overdue = {"status__in": open_statuses, "due_date__lt": timezone.localdate()}
        return queryset.filter(**overdue) if value else queryset.exclude(**overdue)


@crud_schema("treatment")
class TreatmentViewSet(CrudMixin, RiskModuleViewSet):
    """Treatment actions of risks (6.1.3, 8.3) and the Annex A controls they rely on.

    Saving a treatment that is not cancelled moves an identified or assessed risk to "in treatment".
    """

    queryset = TreatmentAction.objects.select_related("risk__system", "owner").prefetch_related(
        Prefetch("control_links", queryset=TreatmentControl.objects.select_related("control"))
    )
    serializer_class = TreatmentSerializer
    filterset_class = TreatmentFilter
    ordering_fields = ["due_date", "status", "created_at", "id"]

    def _save(self, serializer) -> None:
        treatment, control_ids = serializer.build()
        self.check_can_change(treatment)
        services.treatment_save(instance=treatment, acting_user=self.acting_user, control_ids=control_ids)
        serializer.instance = self.reread(treatment)

    perform_create = _save
    perform_update = _save

    def perform_destroy(self, instance):
        services.treatment_delete(treatment=instance, acting_user=self.acting_user)


ROUTES: list[tuple[str, type[viewsets.ViewSetMixin], str]] = [
    ("risk-criteria", RiskCriteriaViewSet, "riskcriteria"),
    ("risks", RiskViewSet, "risk"),
    ("treatments", TreatmentViewSet, "treatment"),
]

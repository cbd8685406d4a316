"""Writes to the inventory. Every function validates the whole row and records who acted."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils.translation import gettext

from aims.models import Organization, User
from aims.records import ensure_member, record_delete, record_save
from aims.tenancy import TenantModel
from registry.models import (
    AIModel,
    AISystem,
    Dataset,
    ModelDataset,
    Resource,
    RoleAssignment,
    Supplier,
    SystemDataset,
    SystemModel,
    SystemSupplier,
)

REF_PATTERN = re.compile(r"^AIS-(\d+)$")


def _next_ref_code(organization: Organization) -> str:
    # Lock the organisation row so two systems created at once cannot get the same number.
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    numbers = [
        int(m.group(1))
        for ref in AISystem.objects.for_org(organization).values_list("ref_code", flat=True)
        if (m := REF_PATTERN.match(ref))
    ]
    return f"AIS-{max(numbers, default=0) + 1:04d}"


@transaction.atomic
def inventory_record_save(*, instance: Model, acting_user: User | None) -> Model:
    """Create or update one inventory record (system, model, dataset, supplier, resource, RACI).

    The caller has set ``organization`` and the fields; an AI system without a reference
    gets the next free AIS-NNNN of its organisation.
    """
    if isinstance(instance, AISystem) and not instance.ref_code:
        instance.ref_code = _next_ref_code(instance.organization)
    return record_save(instance, acting_user=acting_user)


@transaction.atomic
def inventory_record_delete(*, instance: Model, acting_user: User | None) -> None:
    record_delete(instance, acting_user=acting_user)


def _ensure_same_organization(organization_id: int, *objects: TenantModel) -> None:
    for obj in objects:
        if obj.organization_id != organization_id:
            # Unreachable through the portal and API, which only offer the organisation's own rows.
            raise ValidationError("Records of different organisations cannot be linked.")


def _links_set(
    *,
    owner: TenantModel,
    links: QuerySet[Any],
    target: str,
    records: Iterable[TenantModel],
    build: Callable[[Any], TenantModel],
    acting_user: User | None,
) -> None:
    """Make ``records`` exactly the ``target`` rows of ``links``, recording each link added or removed."""
    wanted = {record.pk: record for record in records}
    _ensure_same_organization(owner.organization_id, *wanted.values())
    for link in links.exclude(**{f"{target}_id__in": wanted}):
        inventory_record_delete(instance=link, acting_user=acting_user)
    existing = set(links.values_list(f"{target}_id", flat=True))
    for pk, record in wanted.items():
        if pk not in existing:
            record_save(build(record), acting_user=acting_user)


@transaction.atomic
def system_models_set(*, system: AISystem, models: Iterable[AIModel], acting_user: User | None) -> None:
    """Make ``models`` exactly the models the system uses."""
    _links_set(
        owner=system,
        links=system.model_links.all(),
        target="model",
        records=models,
        acting_user=acting_user,
        build=lambda model: SystemModel(organization_id=system.organization_id, system=system, model=model),
    )


@transaction.atomic
def system_suppliers_set(*, system: AISystem, suppliers: Iterable[Supplier], acting_user: User | None) -> None:
    _links_set(
        owner=system,
        links=system.supplier_links.all(),
        target="supplier",
        records=suppliers,
        acting_user=acting_user,
        build=lambda supplier: SystemSupplier(organization_id=system.organization_id, system=system, supplier=supplier),
    )


@transaction.atomic
def system_datasets_set(*, system: AISystem, datasets: Iterable[Dataset], acting_user: User | None) -> None:
    """Make ``datasets`` exactly the datasets the system uses directly (not through one of its models)."""
    _links_set(
        owner=system,
        links=system.dataset_links.all(),
        target="dataset",
        records=datasets,
        acting_user=acting_user,
        build=lambda dataset: SystemDataset(organization_id=system.organization_id, system=system, dataset=dataset),
    )


@transaction.atomic
def model_datasets_set(*, model: AIModel, datasets: Iterable[Dataset], usage: str, acting_user: User | None) -> None:
    """Make ``datasets`` exactly the model's training (or evaluation) datasets."""
    _links_set(
        owner=model,
        links=model.dataset_links.filter(usage=usage),
        target="dataset",
        records=datasets,
        acting_user=acting_user,
        build=lambda dataset: ModelDataset(
            organization_id=model.organization_id, model=model, dataset=dataset, usage=usage
        ),
    )


# The link row that ties a system to each kind of record, and the field naming that record.
NOTED_LINKS: dict[type[TenantModel], tuple[type[SystemSupplier] | type[SystemDataset], str]] = {
    Supplier: (SystemSupplier, "supplier"),
    Dataset: (SystemDataset, "dataset"),
}


@transaction.atomic
def system_link_add(
    *, system: AISystem, target: AIModel | Supplier | Dataset, acting_user: User | None, note: str = ""
) -> SystemModel | SystemSupplier | SystemDataset:
    """Link one model, supplier or dataset (used directly) to a system (no-op if linked already)."""
    _ensure_same_organization(system.organization_id, target)
    if isinstance(target, AIModel):
        model_link: SystemModel | None = SystemModel.objects.filter(system=system, model=target).first()
        return model_link or record_save(
            SystemModel(organization_id=system.organization_id, system=system, model=target), acting_user=acting_user
        )
    link_model, field = NOTED_LINKS[type(target)]
    links: Any = link_model._default_manager  # the stubs cannot type a lookup over either link model
    link: Any = links.filter(system=system, **{field: target}).first()
    if link is not None and link.note == note:
        return link  # type: ignore[no-any-return]
    if link is None:
        link = link_model(organization_id=system.organization_id, system=system, **{field: target})
    link.note = note
    return record_save(link, acting_user=acting_user)  # type: ignore[no-any-return]


@transaction.atomic
def model_dataset_add(*, model: AIModel, dataset: Dataset, usage: str, acting_user: User | None) -> ModelDataset:
    _ensure_same_organization(model.organization_id, dataset)
    link = ModelDataset.objects.filter(model=model, dataset=dataset, usage=usage).first()
    return link or record_save(
        ModelDataset(organization_id=model.organization_id, model=model, dataset=dataset, usage=usage),
        acting_user=acting_user,
    )


@transaction.atomic
def role_assign(
    *,
    system: AISystem,
    raci: str,
    acting_user: User | None,
    member: User | None = None,
    external_party: str = "",
    note: str = "",
) -> RoleAssignment:
    """Assign a RACI role; a second Accountable is refused with a clear message."""
    ensure_member(system.organization_id, member, field="member")
    if bool(member) == bool(external_party.strip()):
        raise ValidationError({"member": gettext("Choose a member or name an external party (one of the two).")})
    if raci == RoleAssignment.Raci.ACCOUNTABLE and system.role_assignments.filter(raci=raci).exists():
        raise ValidationError({"raci": gettext("This system already has an Accountable person; remove them first.")})
    assignment = RoleAssignment(
        organization_id=system.organization_id,
        system=system,
        raci=raci,
        member=member,
        external_party=external_party.strip(),
        note=note,
    )
    return record_save(assignment, acting_user=acting_user)


@transaction.atomic
def resource_add(*, system: AISystem, kind: str, name: str, description: str, acting_user: User | None) -> Resource:
    resource = Resource(
        organization_id=system.organization_id, system=system, kind=kind, name=name, description=description
    )
    return record_save(resource, acting_user=acting_user)

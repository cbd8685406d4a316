"""API serializers of the inventory: they validate input and build unsaved records, never write.

Every id a client sends is resolved within the caller's organisation only, so another
organisation's id reads as "not found" (the same answer as an id that does not exist).
The views hand the built :class:`Draft` to :mod:`registry.services`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model, Prefetch
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aims.api.fields import MemberField, OptionalURLField, OrgRecordField, request_organization
from aims.tenancy import TenantModel
from registry.models import (
    SYSTEM_DESCRIPTION_FIELDS,
    AIModel,
    AISystem,
    Dataset,
    ModelDataset,
    OrganisationRole,
    Resource,
    RoleAssignment,
    Supplier,
)


@dataclass
class Draft:
    """A record with the validated values applied, not yet saved, and the link lists to set."""

    record: Model
    links: dict[str, list[Model]] = field(default_factory=dict)
    created: bool = False
    changed: bool = False


def link_rows_attribute(links: str) -> str:
    return f"{links}_rows"


def link_rows(links: str) -> Prefetch:
    """Prefetch the link rows ``links`` of a list as plain lists, which :class:`OrgRecordIdsField` reads.

    A plain ``prefetch_related(links)`` gives each row a related manager and a queryset of its
    own to hold the prefetched rows: for a page of 50 systems with two kinds of links, some
    200 querysets cloned, which cost more than the rest of the serializer.
    """
    return Prefetch(links, to_attr=link_rows_attribute(links))


@extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
class OrgRecordIdsField(serializers.Field):
    """A list of ids of the organisation's records, stored as link rows.

    Read from the link rows (prefetched by the views, so a list costs no extra query per
    row); written as a list of ids resolved in one query. Any id outside the organisation
    is an error, so nothing of another tenant can ever be linked.
    """

    def __init__(self, *, model: type[TenantModel], links: str, target: str, usage: str | None = None, **kwargs):
        self.model, self.links, self.target, self.usage = model, links, target, usage
        kwargs.setdefault("required", False)
        super().__init__(source="*", **kwargs)

    def to_representation(self, value) -> list[int]:
        rows = getattr(value, link_rows_attribute(self.links), None)
        if rows is None:  # not read by link_rows(): one query for this row
            rows = getattr(value, self.links).all()
        return sorted(
            getattr(row, f"{self.target}_id") for row in rows if self.usage is None or row.usage == self.usage
        )

    def to_internal_value(self, data) -> dict[str, list[Model]]:
        if not isinstance(data, list):
            raise serializers.ValidationError("Give a list of ids.")
        ids: list[int] = []
        for value in data:
            if isinstance(value, bool) or not str(value).isdigit():
                raise serializers.ValidationError(f"{value!r} is not a valid id.")
            ids.append(int(value))
        ids = list(dict.fromkeys(ids))
        found = {obj.pk: obj for obj in self.model.objects.for_org(request_organization(self)).filter(pk__in=ids)}
        missing = [str(pk) for pk in ids if pk not in found]
        if missing:
            name = self.model._meta.verbose_name
            raise serializers.ValidationError(f"No {name} with id {', '.join(missing)} in your organisation.")
        return {str(self.field_name): [found[pk] for pk in ids]}


class OrgExternalIdsField(serializers.ListField):
    """A list of external ids of the organisation's records, for syncs that do not know portal ids."""

    child = serializers.CharField(max_length=200)

    def __init__(self, *, model: type[TenantModel], **kwargs):
        self.model = model
        kwargs.setdefault("required", False)
        kwargs.setdefault("write_only", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> list[Model]:
        wanted = list(dict.fromkeys(super().to_internal_value(data)))
        found = {
            obj.external_id: obj
            for obj in self.model.objects.for_org(request_organization(self)).filter(external_id__in=wanted)
        }
        missing = [value for value in wanted if value not in found]
        if missing:
            name = self.model._meta.verbose_name
            raise serializers.ValidationError(
                f"No {name} with external id {', '.join(map(repr, missing))} in your organisation."
            )
        return [found[value] for value in wanted]


def _assign(record: Model, name: str, value: Any) -> bool:
    """Set one model field; True when its stored value changes."""
    model_field = record._meta.get_field(name)
    old = getattr(record, model_field.attname)  # type: ignore[union-attr]  # a concrete field, never a reverse relation
    new = value.pk if model_field.is_relation and value is not None else value
    setattr(record, name, value)
    return old != new


class InventorySerializer(serializers.ModelSerializer):
    """Validates one inventory record and builds it; the organisation always comes from the request."""

    # Writable lists stored as link rows; the views set them through the services.
    link_fields: tuple[str, ...] = ()
    # Values that must be unique within the organisation, checked here for a readable message.
    unique_in_org: tuple[str, ...] = ("external_id",)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model = self.Meta.model
        errors = {}
        for name in self.unique_in_org:
            value = attrs.get(name)
            if not value:
                continue
            others = model.objects.for_org(request_organization(self)).filter(**{name: value})
            if self.instance is not None:
                others = others.exclude(pk=self.instance.pk)
            if others.exists():
                label = model._meta.get_field(name).verbose_name
                errors[name] = f"Another {model._meta.verbose_name} of your organisation already has this {label}."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def model_values(self, data: dict[str, Any]) -> dict[str, Any]:
        """Map validated API values to model fields (hook for fields that differ)."""
        return data

    def build(self) -> Draft:
        """Apply the validated values to the instance (or a new record of the caller's organisation)."""
        data = dict(self.validated_data)
        links = {name: data.pop(name) for name in self.link_fields if name in data}
        record = self.instance
        if record is None:
            record = self.Meta.model(organization=request_organization(self))  # type: ignore[misc]
        created = record.pk is None
        changed = False
        for name, value in self.model_values(data).items():
            changed = _assign(record, name, value) or changed
        if not created:
            for name, objs in links.items():
                current = set(self.fields[name].to_representation(record))
                changed = changed or current != {obj.pk for obj in objs}
        return Draft(record=record, links=links, created=created, changed=created or changed)


class AISystemSerializer(InventorySerializer):
    """An AI system. `models`, `suppliers`, `datasets` (ids) or their `*_external_ids` replace the list when given."""

    link_fields = ("models", "suppliers", "datasets")
    unique_in_org = ("external_id", "ref_code")

    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=OrganisationRole.choices),
        required=False,
        help_text="The organisation's roles towards the system (ISO/IEC 22989).",
    )
    owner = MemberField(required=False, allow_null=True, help_text="User id of a member of the organisation.")
    models = OrgRecordIdsField(model=AIModel, links="model_links", target="model", help_text="Ids of models used.")
    suppliers = OrgRecordIdsField(
        model=Supplier, links="supplier_links", target="supplier", help_text="Ids of suppliers relied on."
    )
    datasets = OrgRecordIdsField(
        model=Dataset,
        links="dataset_links",
        target="dataset",
        help_text="Ids of datasets the system uses directly (not through one of its models).",
    )
    model_external_ids = OrgExternalIdsField(model=AIModel, help_text="Instead of `models`: their external ids.")
    supplier_external_ids = OrgExternalIdsField(model=Supplier, help_text="Instead of `suppliers`: their external ids.")
    dataset_external_ids = OrgExternalIdsField(model=Dataset, help_text="Instead of `datasets`: their external ids.")
    has_accountable = serializers.BooleanField(read_only=True)
    review_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = AISystem
        fields = [
            "id",
            "ref_code",
            *SYSTEM_DESCRIPTION_FIELDS,
            "owner",
            "business_unit",
            "status",
            "next_review_date",
            "models",
            "suppliers",
            "datasets",
            "model_external_ids",
            "supplier_external_ids",
            "dataset_external_ids",
            "has_accountable",
            "review_overdue",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"ref_code": {"required": False, "allow_blank": True}}

    def validate(self, attrs):
        attrs = super().validate(attrs)
        for ids_name, external_name in (
            ("models", "model_external_ids"),
            ("suppliers", "supplier_external_ids"),
            ("datasets", "dataset_external_ids"),
        ):
            if external_name in attrs:
                if ids_name in attrs:
                    raise serializers.ValidationError(
                        {external_name: f"Give either {ids_name} or {external_name}, not both."}
                    )
                attrs[ids_name] = attrs.pop(external_name)
        tenant = self.context["request"].tenant
        if tenant.edits_only_own:
            # An AI system owner keeps their own systems: what they create is theirs, and they cannot
            # hand a system to someone else (the portal's form offers them only themselves, too).
            if self.instance is None and "owner" not in attrs:
                attrs["owner"] = tenant.user
            elif "owner" in attrs and attrs["owner"] != tenant.user:
                raise serializers.ValidationError({"owner": "As an AI system owner you can only own systems yourself."})
        return attrs

    def model_values(self, data):
        roles = data.pop("roles", None)
        if roles is not None:
            for role in OrganisationRole:
                data[f"is_{role.value}"] = role.value in roles
        return data


class AIModelSerializer(InventorySerializer):
    """A model version; the dataset lists replace the links of that usage when given."""

    link_fields = ("training_datasets", "evaluation_datasets")

    supplier = OrgRecordField(queryset=Supplier.objects.all(), required=False, allow_null=True)
    training_datasets = OrgRecordIdsField(
        model=Dataset, links="dataset_links", target="dataset", usage=ModelDataset.Usage.TRAINING
    )
    evaluation_datasets = OrgRecordIdsField(
        model=Dataset, links="dataset_links", target="dataset", usage=ModelDataset.Usage.EVALUATION
    )
    system_count = serializers.IntegerField(read_only=True)
    model_card_url = OptionalURLField(max_length=200, required=False, label="Model card link")

    class Meta:
        model = AIModel
        fields = [
            "id",
            "external_id",
            "name",
            "version",
            "kind",
            "framework",
            "source",
            "supplier",
            "description",
            "evaluation_results",
            "model_card_url",
            "training_datasets",
            "evaluation_datasets",
            "system_count",
        ]


class DatasetSerializer(InventorySerializer):
    """A dataset with its provenance and preparation."""

    supplier = OrgRecordField(queryset=Supplier.objects.all(), required=False, allow_null=True)
    model_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Dataset
        fields = [
            "id",
            "external_id",
            "name",
            "purpose",
            "description",
            "source",
            "provenance",
            "acquisition",
            "quality_checks",
            "preparation",
            "contains_personal_data",
            "sensitive_data",
            "licence",
            "retention",
            "supplier",
            "model_count",
        ]


class SupplierSerializer(InventorySerializer):
    """A supplier; its name is unique within the organisation."""

    unique_in_org = ("external_id", "name")

    system_count = serializers.IntegerField(read_only=True)
    model_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Supplier
        fields = [
            "id",
            "external_id",
            "name",
            "kind",
            "description",
            "contact",
            "due_diligence_status",
            "due_diligence_date",
            "contract_reference",
            "organisation_responsibilities",
            "supplier_responsibilities",
            "system_count",
            "model_count",
        ]


class SystemChildSerializer(InventorySerializer):
    """A record that belongs to one AI system; it cannot move to another system."""

    unique_in_org = ()

    system = OrgRecordField(queryset=AISystem.objects.all())

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is not None and "system" in attrs and attrs["system"] != self.instance.system:
            raise serializers.ValidationError(
                {"system": "A record cannot move to another system; delete it and create a new one."}
            )
        return attrs


class RoleAssignmentSerializer(SystemChildSerializer):
    """A RACI role on a system, held by a member or by an external party (one of the two)."""

    member = MemberField(required=False, allow_null=True)
    party = serializers.CharField(read_only=True, help_text="The member's name or the external party.")

    class Meta:
        model = RoleAssignment
        fields = ["id", "system", "raci", "member", "external_party", "note", "party"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        # Creation is checked by services.role_assign; a change is checked here the same way.
        if self.instance is None:
            return attrs
        member = attrs.get("member", self.instance.member)
        external_party = attrs.get("external_party", self.instance.external_party).strip()
        if bool(member) == bool(external_party):
            raise serializers.ValidationError({"member": "Choose a member or name an external party (one of the two)."})
        raci = attrs.get("raci", self.instance.raci)
        others = RoleAssignment.objects.filter(system_id=self.instance.system_id, raci=raci).exclude(
            pk=self.instance.pk
        )
        if raci == RoleAssignment.Raci.ACCOUNTABLE and others.exists():
            raise serializers.ValidationError(
                {"raci": "This system already has an Accountable person; remove them first."}
            )
        return attrs


class ResourceSerializer(SystemChildSerializer):
    """A resource an AI system needs."""

    class Meta:
        model = Resource
        fields = ["id", "system", "kind", "name", "description"]


# --- Bulk upsert (request and response shapes, for validation of the envelope and the docs) ---

BULK_MAX_ITEMS = 500


class BulkItemResultSerializer(serializers.Serializer):
    """What happened to one item."""

    index = serializers.IntegerField(help_text="Position of the item in the request, from 0.")
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    action = serializers.ChoiceField(choices=["created", "updated", "unchanged"])


class BulkUpsertResultSerializer(serializers.Serializer):
    """The outcome of a batch that was applied."""

    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    results = BulkItemResultSerializer(many=True)


class BulkItemErrorSerializer(serializers.Serializer):
    """The field errors of one item."""

    index = serializers.IntegerField()
    external_id = serializers.CharField(allow_null=True)
    # A field named like Serializer.errors, which the stubs type as the error dict.
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))  # type: ignore[assignment]


class BulkUpsertErrorSerializer(serializers.Serializer):
    """A refused batch: nothing was written."""

    detail = serializers.CharField()
    errors = BulkItemErrorSerializer(many=True)  # type: ignore[assignment]


def bulk_request_serializer(item_serializer: type[serializers.Serializer], name: str):
    """The documented request body: ``{"items": [<record>, ...]}``."""
    return type(
        f"{name}BulkUpsert",
        (serializers.Serializer,),
        {"items": item_serializer(many=True, help_text=f"At most {BULK_MAX_ITEMS} records, each with external_id.")},
    )

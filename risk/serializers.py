"""API serializers of the risk module: they validate input and build unsaved records, never write.

Every id a client sends is resolved within the caller's organisation only (or, for catalogue
rows, within the shipped ISO/IEC 42001 catalogue and the expected kind), so another
organisation's id reads as "not found", the same answer as an id that does not exist. The
views hand the built records to :mod:`risk.services`, which score, check and save them.

Levels (low … critical) are read-only text here rather than choice fields: one choice set under
several field names would give the OpenAPI schema several enums for the same values.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aims.api.fields import ByReferenceMixin, MemberField, OrgRecordField
from controls.catalogue.models import Requirement
from registry.models import AISystem
from risk.models import Level, Risk, RiskCriteria, TreatmentAction

# Risk sources, AI objectives and Annex A controls come from this framework of the catalogue.
CATALOGUE = "ISO42001"
LEVEL_HELP = f"One of {', '.join(Level.values)}; empty while not assessed."


def catalogue_rows(kind: str) -> QuerySet[Requirement]:
    """ISO/IEC 42001 catalogue rows of one kind (the catalogue is the one part of controls every app reads)."""
    return Requirement.objects.filter(framework__code=CATALOGUE, kind=kind)


class RecordBuilder(serializers.ModelSerializer):
    """``build()`` applies the validated values to the instance, or to a new record of the caller's
    organisation, without saving: the view passes the record to the service that owns the write."""

    def build(self) -> Any:
        record = self.instance
        if record is None:
            model: type[Model] = self.Meta.model
            record = model(organization=self.context["request"].tenant.organization)
        for name, value in self.validated_data.items():
            setattr(record, name, value)
        return record


def refuse_move(serializer: serializers.Serializer, attrs: dict[str, Any], name: str, what: str) -> None:
    """A child record stays with its parent: moving it would slip past the new parent's rules."""
    instance = serializer.instance
    if instance is not None and name in attrs and attrs[name].pk != getattr(instance, f"{name}_id"):
        raise serializers.ValidationError({name: f"{what} cannot move; delete it and create a new one."})


# --- Catalogue references ----------------------------------------------------------------------


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}], "nullable": True})
class CatalogueField(ByReferenceMixin, serializers.PrimaryKeyRelatedField):
    """The id or identifier (``C.3.1``) of an ISO/IEC 42001 catalogue row of one kind (risk source or objective)."""

    def __init__(self, *, kind: str, label: str, **kwargs):
        self.kind = kind
        kwargs.setdefault(
            "error_messages", {"does_not_exist": f"No {label} with id {{pk_value}} in the ISO/IEC 42001 catalogue."}
        )
        self.reference_error = f"No {label} {{reference!r}} in the ISO/IEC 42001 catalogue."
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet:
        return catalogue_rows(self.kind)


def _ids(data: Any) -> list[int]:
    if not isinstance(data, list):
        raise serializers.ValidationError("Give a list of ids.")
    ids = []
    for value in data:
        if isinstance(value, bool) or not str(value).isdigit():
            raise serializers.ValidationError(f"{value!r} is not a valid id.")
        ids.append(int(value))
    return list(dict.fromkeys(ids))


class _ControlsField(serializers.Field):
    """Annex A controls a treatment relies on, read from its (prefetched) control links."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(source="*", **kwargs)

    @staticmethod
    def _controls(treatment: TreatmentAction) -> list[Requirement]:
        return sorted((link.control for link in treatment.control_links.all()), key=lambda c: c.order)


@extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
class ControlIdsField(_ControlsField):
    """Ids of Annex A controls (catalogue rows of kind ``control``)."""

    def to_representation(self, value: TreatmentAction) -> list[int]:
        return [control.pk for control in self._controls(value)]

    def to_internal_value(self, data: Any) -> dict[str, list[Requirement]]:
        ids = _ids(data)
        found = {row.pk: row for row in catalogue_rows(Requirement.Kind.CONTROL).filter(pk__in=ids)}
        missing = [str(pk) for pk in ids if pk not in found]
        if missing:
            raise serializers.ValidationError(
                f"No Annex A control with id {', '.join(missing)} in the ISO/IEC 42001 catalogue."
            )
        return {str(self.field_name): [found[pk] for pk in ids]}


@extend_schema_field(serializers.ListField(child=serializers.CharField()))
class ControlRefsField(_ControlsField):
    """Identifiers of Annex A controls such as ``A.6.2.6``: handy for pipelines that do not know ids."""

    def to_representation(self, value: TreatmentAction) -> list[str]:
        return [control.ref for control in self._controls(value)]

    def to_internal_value(self, data: Any) -> dict[str, list[Requirement]]:
        if not isinstance(data, list) or any(not isinstance(ref, str) for ref in data):
            raise serializers.ValidationError('Give a list of control identifiers such as "A.6.2.6".')
        refs = list(dict.fromkeys(ref.strip() for ref in data))
        found = {row.ref: row for row in catalogue_rows(Requirement.Kind.CONTROL).filter(ref__in=refs)}
        missing = [ref for ref in refs if ref not in found]
        if missing:
            raise serializers.ValidationError(
                f"No Annex A control {', '.join(map(repr, missing))} in the ISO/IEC 42001 catalogue."
            )
        return {str(self.field_name): [found[ref] for ref in refs]}


# --- Criteria ----------------------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"label": {"type": "string"}, "description": {"type": "string"}},
            "required": ["label"],
        },
        "description": "From the lowest level up; 3 to 5 levels.",
    }
)
class ScaleField(serializers.Field):
    """A likelihood or impact scale. The model checks the number of levels and the labels, so the
    API and the page give the same messages; here only the shape is checked."""

    def to_representation(self, value: list[dict]) -> list[dict]:
        return value

    def to_internal_value(self, data: Any) -> list[dict[str, str]]:
        message = 'Give a list of levels, each {"label": "…", "description": "…"} with text values.'
        if not isinstance(data, list) or any(not isinstance(level, dict) for level in data):
            raise serializers.ValidationError(message)
        levels = []
        for level in data:
            label, description = level.get("label", ""), level.get("description", "")
            if not isinstance(label, str) or not isinstance(description, str):
                raise serializers.ValidationError(message)
            levels.append({"label": label.strip(), "description": description.strip()})
        return levels


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "array", "items": {"type": "string", "enum": Level.values}},
        "description": "matrix[impact - 1][likelihood - 1] gives the level: one row per impact level, "
        "one cell per likelihood level.",
    }
)
class MatrixField(serializers.Field):
    """The level matrix; its size and cell values are checked against the scales by the model."""

    def to_representation(self, value: list[list[str]]) -> list[list[str]]:
        return value

    def to_internal_value(self, data: Any) -> list[list[Any]]:
        if not isinstance(data, list) or any(not isinstance(row, list) for row in data):
            raise serializers.ValidationError(
                "Give the matrix as a list of rows (one per impact level), each a list of levels "
                "(one per likelihood level)."
            )
        return data


class RiskCriteriaSerializer(serializers.ModelSerializer):
    """How the organisation scores risks (6.1.2)."""

    likelihood_levels = ScaleField()
    impact_levels = ScaleField()
    matrix = MatrixField()

    class Meta:
        model = RiskCriteria
        fields = ["id", "likelihood_levels", "impact_levels", "matrix", "acceptance_threshold", "updated_at"]
        read_only_fields = ["id", "updated_at"]


class RiskCriteriaUpdateResultSerializer(RiskCriteriaSerializer):
    rescored = serializers.IntegerField(
        read_only=True, help_text="How many open risks got new levels (or clamped values) from the change."
    )

    class Meta(RiskCriteriaSerializer.Meta):
        fields = [*RiskCriteriaSerializer.Meta.fields, "rescored"]


# --- Risks -------------------------------------------------------------------------------------


class RiskTreatmentSerializer(serializers.ModelSerializer):
    """A treatment as listed with its risk."""

    # Plain text: the status choice set is documented once, on the treatment itself.
    status = serializers.CharField(read_only=True, help_text="See the treatment's status.")
    controls = ControlRefsField(read_only=True, help_text="Identifiers of the Annex A controls relied on.")

    class Meta:
        model = TreatmentAction
        fields = ["id", "title", "status", "due_date", "controls"]
        read_only_fields = fields


class RiskSerializer(RecordBuilder):
    """A risk of the register (6.1.2, 8.2). Levels follow from the criteria; acceptance has its own action."""

    system = OrgRecordField(
        queryset=AISystem.objects.all(),
        required=False,
        allow_null=True,
        help_text="Id of one of your AI systems; empty for an organisation-level risk.",
    )
    system_ref = serializers.CharField(source="system.ref_code", read_only=True, default=None, allow_null=True)
    risk_source = CatalogueField(
        kind=Requirement.Kind.RISK_SOURCE,
        label="risk source",
        required=False,
        allow_null=True,
        help_text="Annex C risk source id.",
    )
    risk_source_ref = serializers.CharField(source="risk_source.ref", read_only=True, default=None, allow_null=True)
    objective = CatalogueField(
        kind=Requirement.Kind.AI_OBJECTIVE,
        label="AI-related objective",
        required=False,
        allow_null=True,
        help_text="Annex C AI-related objective id.",
    )
    objective_ref = serializers.CharField(source="objective.ref", read_only=True, default=None, allow_null=True)
    owner = MemberField(
        required=False,
        help_text="User id of a member of the organisation; by default the system's owner, else the caller.",
    )
    inherent_level = serializers.CharField(read_only=True, help_text=LEVEL_HELP)
    residual_level = serializers.CharField(read_only=True, help_text=LEVEL_HELP)
    current_level = serializers.CharField(
        read_only=True, help_text="The residual level once assessed, otherwise the inherent one. " + LEVEL_HELP
    )
    review_overdue = serializers.BooleanField(read_only=True)
    treatments = RiskTreatmentSerializer(many=True, read_only=True)

    class Meta:
        model = Risk
        fields = [
            "id", "ref_code", "title", "description", "system", "system_ref", "risk_source", "risk_source_ref",
            "objective", "objective_ref", "owner", "inherent_likelihood", "inherent_impact", "inherent_level",
            "treatment_option", "residual_likelihood", "residual_impact", "residual_level", "current_level",
            "status", "next_review_date", "review_overdue", "accepted_by", "accepted_at", "acceptance_rationale",
            "acceptance_override", "treatments", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "ref_code", "accepted_by", "accepted_at", "acceptance_rationale", "acceptance_override", "created_at",
            "updated_at",
        ]  # fmt: skip
        extra_kwargs = {
            "status": {"help_text": "“accepted” is refused here: use the accept action."},
            "inherent_likelihood": {"help_text": "1 to the number of likelihood levels of the criteria."},
            "inherent_impact": {"help_text": "1 to the number of impact levels of the criteria."},
        }

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is None and "owner" not in attrs:
            # Every risk has an owner (6.1.2): by default the system's owner, else whoever records it.
            # An AI system owner keeps what they record, or they could not change it afterwards.
            tenant = self.context["request"].tenant
            system = attrs.get("system")
            if not tenant.edits_only_own and system is not None and system.owner_id:
                attrs["owner"] = system.owner
            else:
                attrs["owner"] = tenant.user
        return attrs


class RiskAcceptSerializer(serializers.Serializer):
    rationale = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Why the organisation accepts the risk."
    )
    override = serializers.BooleanField(
        default=False,
        help_text="Accept although the level is above the acceptance threshold (needs a real justification).",
    )


# --- Treatments --------------------------------------------------------------------------------


class TreatmentSerializer(RecordBuilder):
    """A treatment action (6.1.3, 8.3). ``controls`` or ``control_refs``, when given, replace the whole list."""

    risk = OrgRecordField(queryset=Risk.objects.all(), help_text="Id of one of your risks.")
    owner = MemberField(
        required=False,
        help_text="User id of a member of the organisation; by default the risk's owner, else the caller.",
    )
    controls = ControlIdsField(help_text="Ids of the Annex A controls the treatment relies on.")
    control_refs = ControlRefsField(help_text='Instead of `controls`: their identifiers, e.g. ["A.6.2.6"].')
    overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = TreatmentAction
        fields = [
            "id", "risk", "title", "description", "owner", "due_date", "status", "controls", "control_refs",
            "overdue", "created_at",
        ]  # fmt: skip
        read_only_fields = ["created_at"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        refuse_move(self, attrs, "risk", "A treatment")
        if self.instance is None and "owner" not in attrs:
            # Every treatment has an owner: by default whoever owns the risk it treats.
            attrs["owner"] = attrs["risk"].owner or self.context["request"].tenant.user
        if "control_refs" in attrs:
            if "controls" in attrs:
                raise serializers.ValidationError({"control_refs": "Give either controls or control_refs, not both."})
            attrs["controls"] = attrs.pop("control_refs")
        return attrs

    def build(self) -> tuple[TreatmentAction, list[int] | None]:
        """The treatment with the values applied, and the control ids to set (None: leave them)."""
        controls = self.validated_data.pop("controls", None)
        treatment = super().build()
        return treatment, None if controls is None else [control.pk for control in controls]

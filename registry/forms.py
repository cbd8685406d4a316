"""Forms of the inventory pages. They validate input; services do the writing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aims.autocomplete import autocomplete_fields
from aims.forms import DATE, TEXT, TenantForm, member_label, members_of
from aims.models import User
from aims.tenancy import Tenant
from registry.models import (
    AIModel,
    AISystem,
    Dataset,
    ModelDataset,
    OrganisationRole,
    Resource,
    RoleAssignment,
    Supplier,
)


class MetricsField(forms.CharField):
    """Performance metrics typed one per line as ``name = target``."""

    widget = forms.Textarea(
        attrs={"rows": 3, "placeholder": _("AUC = ≥ 0.80\nApproval-rate gap between groups = < 5%")}
    )

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(f"{m.get('name', '')} = {m.get('target', '')}" for m in value)
        return value

    def to_python(self, value):
        metrics = []
        for number, line in enumerate((value or "").splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, target = line.partition("=")
            if not sep or not name.strip() or not target.strip():
                raise forms.ValidationError(
                    gettext("Line %(number)s: write “metric = target”, e.g. “AUC = ≥ 0.80”.") % {"number": number}
                )
            metrics.append({"name": name.strip(), "target": target.strip()})
        return metrics


class TenantChoicesForm(forms.Form):
    """A plain (non-model) form whose record and member choices are the organisation's own."""

    tenant_querysets: dict[str, type[Any]] = {}
    member_fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        for name, model in self.tenant_querysets.items():
            self.fields[name].queryset = model.objects.for_org(tenant.organization)  # type: ignore[attr-defined]
        for name in self.member_fields:
            self.fields[name].queryset = members_of(tenant)  # type: ignore[attr-defined]
            self.fields[name].label_from_instance = member_label  # type: ignore[attr-defined]
        autocomplete_fields(self)


SYSTEM_SECTIONS = [
    (_("Identity and purpose"), ["name", "purpose", "description", "intended_use", "foreseeable_misuse"]),
    (
        _("Role, stage and ownership"),
        ["roles", "lifecycle_stage", "deployment_context", "status", "owner", "business_unit", "next_review_date"],
    ),
    (
        _("Automation and people"),
        [
            "automation_level",
            "human_oversight",
            "continuous_learning",
            "continuous_learning_controls",
            "people_decisions",
            "personal_data",
            "affected_stakeholders",
        ],
    ),
    (_("EU AI Act"), ["eu_ai_act_tier", "annex_iii_area", "annex_iii_point", "tier_rationale"]),
    (_("Design and performance"), ["justification", "performance_metrics", "design_choices"]),
    (_("Identifiers"), ["ref_code", "external_id"]),
]


# Labels of the fields whose model field has no verbose name of its own (Django would derive an
# untranslated one from the field name).
NAME, DESCRIPTION, SUPPLIER = _("Name"), _("Description"), _("Supplier")


class AISystemForm(TenantForm):
    # An AI system owner keeps their own systems: they cannot hand one to someone else.
    owned_by_field = "owner"
    roles = forms.MultipleChoiceField(
        label=_("Our role(s) towards this system"),
        choices=OrganisationRole.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Provider: makes it available; producer: builds it; customer: uses it; partner: helps."),
    )
    performance_metrics = MetricsField(
        label=_("Performance metrics"),
        required=False,
        help_text=_("One per line, “metric = target”. Monitoring builds on these."),
    )

    class Meta:
        model = AISystem
        fields = [name for _title, names in SYSTEM_SECTIONS for name in names]
        labels = {
            "name": NAME,
            "description": DESCRIPTION,
            "purpose": _("Purpose"),
            "intended_use": _("Intended use"),
            "deployment_context": _("Deployment context"),
            "status": _("Status"),
            "owner": _("Owner"),
            "business_unit": _("Business unit"),
            "next_review_date": _("Next review date"),
            "human_oversight": _("Human oversight"),
            "continuous_learning": _("Continuous learning"),
            "affected_stakeholders": _("Affected stakeholders"),
        }
        widgets = {
            "next_review_date": DATE,
            **{
                name: forms.Textarea(attrs=TEXT)
                for name in [
                    "purpose",
                    "description",
                    "intended_use",
                    "foreseeable_misuse",
                    "human_oversight",
                    "continuous_learning_controls",
                    "personal_data",
                    "affected_stakeholders",
                    "tier_rationale",
                    "justification",
                    "design_choices",
                ]
            },
        }

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, tenant=tenant, **kwargs)
        self.fields["ref_code"].required = False
        if self.instance.pk:
            self.fields["roles"].initial = self.instance.roles

    def sections(self) -> Any:
        for title, names in SYSTEM_SECTIONS:
            yield title, [self[name] for name in names]

    def build(self) -> AISystem:
        """The system with the form's values applied, not saved."""
        system: AISystem = super().build()
        for role in OrganisationRole:
            setattr(system, f"is_{role.value}", role.value in self.cleaned_data["roles"])
        return system


class SupplierForm(TenantForm):
    class Meta:
        model = Supplier
        fields = [
            "name",
            "kind",
            "description",
            "contact",
            "due_diligence_status",
            "due_diligence_date",
            "contract_reference",
            "organisation_responsibilities",
            "supplier_responsibilities",
            "external_id",
        ]
        labels = {
            "name": NAME,
            "description": DESCRIPTION,
            "contact": _("Contact"),
            "due_diligence_status": _("Due diligence status"),
            "due_diligence_date": _("Due diligence date"),
            "contract_reference": _("Contract reference"),
            "organisation_responsibilities": _("Organisation responsibilities"),
            "supplier_responsibilities": _("Supplier responsibilities"),
        }
        widgets = {
            "due_diligence_date": DATE,
            "description": forms.Textarea(attrs=TEXT),
            "organisation_responsibilities": forms.Textarea(attrs=TEXT),
            "supplier_responsibilities": forms.Textarea(attrs=TEXT),
        }


class DatasetForm(TenantForm):
    tenant_querysets = {"supplier": Supplier}

    class Meta:
        model = Dataset
        fields = [
            "name",
            "purpose",
            "description",
            "source",
            "supplier",
            "provenance",
            "acquisition",
            "quality_checks",
            "preparation",
            "contains_personal_data",
            "sensitive_data",
            "licence",
            "retention",
            "external_id",
        ]
        labels = {
            "name": NAME,
            "purpose": _("Purpose"),
            "description": DESCRIPTION,
            "source": _("Source"),
            "supplier": SUPPLIER,
            "provenance": _("Provenance"),
            "acquisition": _("Acquisition"),
            "quality_checks": _("Quality checks"),
            "contains_personal_data": _("Contains personal data"),
            "sensitive_data": _("Sensitive data"),
            "licence": _("Licence"),
            "retention": _("Retention"),
        }
        widgets = {
            name: forms.Textarea(attrs=TEXT)
            for name in ["description", "provenance", "acquisition", "quality_checks", "preparation", "sensitive_data"]
        }


class AIModelForm(TenantForm):
    tenant_querysets = {"supplier": Supplier, "training_datasets": Dataset, "evaluation_datasets": Dataset}

    training_datasets = forms.ModelMultipleChoiceField(
        label=_("Training datasets"),
        queryset=Dataset.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    evaluation_datasets = forms.ModelMultipleChoiceField(
        label=_("Evaluation datasets"),
        queryset=Dataset.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    model_card_url = forms.URLField(label=_("Model card link"), required=False, assume_scheme="https")

    class Meta:
        model = AIModel
        fields = [
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
            "external_id",
        ]
        labels = {
            "name": NAME,
            "version": _("Version"),
            "framework": _("Framework"),
            "source": _("Source"),
            "supplier": SUPPLIER,
            "description": DESCRIPTION,
            "evaluation_results": _("Evaluation results"),
        }
        widgets = {"description": forms.Textarea(attrs=TEXT), "evaluation_results": forms.Textarea(attrs=TEXT)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            links = list(self.instance.dataset_links.values_list("usage", "dataset_id"))
            self.fields["training_datasets"].initial = [d for u, d in links if u == ModelDataset.Usage.TRAINING]
            self.fields["evaluation_datasets"].initial = [d for u, d in links if u == ModelDataset.Usage.EVALUATION]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("source") == AIModel.Source.THIRD_PARTY and not cleaned.get("supplier"):
            self.add_error("supplier", gettext("Name the supplier of a third-party model."))
        return cleaned


class LinkModelForm(TenantChoicesForm):
    tenant_querysets = {"model": AIModel}
    model = forms.ModelChoiceField(queryset=AIModel.objects.none(), label=_("Model"))


class LinkSupplierForm(TenantChoicesForm):
    tenant_querysets = {"supplier": Supplier}
    supplier = forms.ModelChoiceField(queryset=Supplier.objects.none(), label=SUPPLIER)
    note = forms.CharField(max_length=300, required=False, label=_("What they provide"))


class LinkDatasetForm(TenantChoicesForm):
    tenant_querysets = {"dataset": Dataset}
    dataset = forms.ModelChoiceField(queryset=Dataset.objects.none(), label=_("Dataset"))
    note = forms.CharField(max_length=300, required=False, label=_("What the system uses it for"))


class ResourceForm(forms.ModelForm):
    class Meta:
        model = Resource
        fields = ["kind", "name", "description"]
        labels = {"name": NAME, "description": DESCRIPTION}
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class RoleAssignmentForm(TenantChoicesForm):
    member_fields = ("member",)
    raci = forms.ChoiceField(choices=RoleAssignment.Raci.choices, label=_("RACI role"))
    member = forms.ModelChoiceField(queryset=User.objects.none(), required=False, label=_("Member"))
    external_party = forms.CharField(
        max_length=200, required=False, label=_("External party"), help_text=_("Or someone outside the portal.")
    )
    note = forms.CharField(max_length=300, required=False, label=_("Note"))


class ModelDatasetForm(TenantChoicesForm):
    tenant_querysets = {"dataset": Dataset}
    dataset = forms.ModelChoiceField(queryset=Dataset.objects.none(), label=_("Dataset"))
    usage = forms.ChoiceField(choices=ModelDataset.Usage.choices, label=_("Usage"))

"""Forms of the risk register and criteria pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aims.autocomplete import autocomplete_fields
from aims.forms import DATE, TenantForm
from aims.tenancy import Tenant
from controls.catalogue.models import Requirement
from registry.models import AISystem
from risk.models import Level, Risk, RiskCriteria, TreatmentAction, default_matrix, scale_label

MAX_LEVELS = 5


def _requirements(kind: str) -> QuerySet[Requirement]:
    return Requirement.objects.filter(framework__code="ISO42001", kind=kind).order_by("order")


def _model_choice(form: forms.BaseForm, name: str) -> forms.ModelChoiceField:
    """A model choice field of the form (the form's fields are typed as plain fields)."""
    return cast(forms.ModelChoiceField, form.fields[name])


class RequirementChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Requirement) -> str:
        return f"{obj.ref} {obj.title}"


class RequirementMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Requirement) -> str:
        return f"{obj.ref} {obj.title}"


def _scale_choices(levels: list[dict]) -> list[tuple[str, str]]:
    return [("", gettext("Not assessed"))] + [
        (str(n), f"{n} · {scale_label(lv)}") for n, lv in enumerate(levels, start=1)
    ]


class RiskForm(TenantForm):
    SECTIONS = [
        (_("The risk"), ["title", "description", "system", "owner", "risk_source", "objective"]),
        (
            _("Assessment and treatment"),
            ["inherent_likelihood", "inherent_impact", "treatment_option", "status", "residual_likelihood",
             "residual_impact", "next_review_date"],
        ),
    ]  # fmt: skip
    risk_source = RequirementChoiceField(queryset=None, required=False, label=_("Risk source (Annex C)"))
    objective = RequirementChoiceField(queryset=None, required=False, label=_("Affected objective (Annex C)"))
    member_fields = ("owner",)

    class Meta:
        model = Risk
        fields = [
            "title", "description", "system", "owner", "risk_source", "objective",
            "inherent_likelihood", "inherent_impact", "treatment_option", "residual_likelihood", "residual_impact",
            "status", "next_review_date",
        ]  # fmt: skip
        widgets = {"description": forms.Textarea(attrs={"rows": 3}), "next_review_date": DATE}
        # The model's fields without a verbose name of their own, in the reader's language.
        labels = {
            "title": _("Title"),
            "description": _("Description"),
            "system": _("System"),
            "owner": _("Owner"),
            "inherent_likelihood": _("Inherent likelihood"),
            "inherent_impact": _("Inherent impact"),
            "treatment_option": _("Treatment option"),
            "residual_likelihood": _("Residual likelihood"),
            "residual_impact": _("Residual impact"),
            "status": _("Status"),
            "next_review_date": _("Next review date"),
        }

    def __init__(self, *args: Any, tenant: Tenant, criteria: RiskCriteria, **kwargs: Any) -> None:
        super().__init__(*args, tenant=tenant, **kwargs)
        system = _model_choice(self, "system")
        system.queryset = AISystem.objects.for_org(tenant.organization).order_by("ref_code")
        system.empty_label = gettext("Organisation level (no single system)")
        self.fields["owner"].required = True
        _model_choice(self, "risk_source").queryset = _requirements(Requirement.Kind.RISK_SOURCE)
        _model_choice(self, "objective").queryset = _requirements(Requirement.Kind.AI_OBJECTIVE)
        for name, levels in (
            ("inherent_likelihood", criteria.likelihood_levels),
            ("residual_likelihood", criteria.likelihood_levels),
            ("inherent_impact", criteria.impact_levels),
            ("residual_impact", criteria.impact_levels),
        ):
            self.fields[name] = forms.TypedChoiceField(
                choices=_scale_choices(levels),
                coerce=int,
                empty_value=None,
                required=False,
                label=self.fields[name].label,
            )
        # Acceptance has its own form, which checks the level against the criteria.
        statuses = [c for c in Risk.Status.choices if c[0] != Risk.Status.ACCEPTED or self.instance.status == c[0]]
        cast(forms.ChoiceField, self.fields["status"]).choices = statuses
        if not self.instance.pk and tenant.user is not None and not self.initial.get("owner"):
            self.initial["owner"] = tenant.user.pk

    def sections(self) -> Iterator[tuple[str, list[forms.BoundField]]]:
        for title, names in self.SECTIONS:
            yield str(title), [self[name] for name in names]


class TreatmentForm(TenantForm):
    controls = RequirementMultipleChoiceField(
        queryset=None,
        required=False,
        label=_("Annex A controls it relies on"),
        help_text=_("These make the controls applicable in the SoA."),
        widget=forms.SelectMultiple(attrs={"size": 10}),
    )

    class Meta:
        model = TreatmentAction
        fields = ["title", "description", "owner", "due_date", "status", "controls"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3}), "due_date": DATE}
        labels = {
            "title": _("Title"),
            "description": _("Description"),
            "owner": _("Owner"),
            "due_date": _("Due date"),
            "status": _("Status"),
        }

    member_fields = ("owner",)

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, tenant=tenant, **kwargs)
        _model_choice(self, "controls").queryset = _requirements(Requirement.Kind.CONTROL)
        autocomplete_fields(self)  # again: the controls' rows are known only now
        if self.instance.pk:
            self.initial["controls"] = list(self.instance.control_links.values_list("control_id", flat=True))
        elif tenant.user is not None and not self.initial.get("owner"):
            self.initial["owner"] = tenant.user.pk


class AcceptForm(forms.Form):
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label=_("Why the organisation accepts it"))
    override = forms.BooleanField(
        required=False, label=_("Accept above the acceptance threshold (override)"),
        help_text=_("Only when treating it further is not reasonable; the justification is kept with the risk."),
    )  # fmt: skip


class CriteriaForm(forms.Form):
    """Scales of 3 to 5 levels, the matrix and the threshold, laid out for up to 5 levels.

    The counts decide which rows are used; "Resize" re-renders the form with other counts
    without saving, so the page works without JavaScript.
    """

    likelihood_count = forms.TypedChoiceField(
        choices=[(n, n) for n in (3, 4, 5)], coerce=int, label=_("Likelihood levels")
    )
    impact_count = forms.TypedChoiceField(choices=[(n, n) for n in (3, 4, 5)], coerce=int, label=_("Impact levels"))
    acceptance_threshold = forms.ChoiceField(
        choices=Level.choices,
        label=_("Acceptance threshold"),
        help_text=_("Risks whose residual level is above this need treatment before acceptance."),
    )

    def __init__(self, *args, criteria: RiskCriteria, **kwargs):
        super().__init__(*args, **kwargs)
        for axis, levels in (("l", criteria.likelihood_levels), ("i", criteria.impact_levels)):
            for n in range(1, MAX_LEVELS + 1):
                current = levels[n - 1] if n <= len(levels) else {"label": "", "description": ""}
                self.fields[f"{axis}{n}_label"] = forms.CharField(
                    max_length=60, required=False, initial=current["label"]
                )
                self.fields[f"{axis}{n}_description"] = forms.CharField(
                    max_length=300,
                    required=False,
                    initial=current.get("description", ""),
                    widget=forms.Textarea(attrs={"rows": 3}),
                )
        for i in range(1, MAX_LEVELS + 1):
            for j in range(1, MAX_LEVELS + 1):
                self.fields[f"m{i}_{j}"] = forms.ChoiceField(choices=Level.choices, required=False)
        if not self.is_bound:
            self.initial.update(
                likelihood_count=len(criteria.likelihood_levels),
                impact_count=len(criteria.impact_levels),
                acceptance_threshold=criteria.acceptance_threshold,
            )
            self.set_matrix(criteria.matrix)

    def set_matrix(self, matrix: list[list[str]]) -> None:
        for i, row in enumerate(matrix, start=1):
            for j, cell in enumerate(row, start=1):
                self.initial[f"m{i}_{j}"] = cell

    def counts(self) -> tuple[int, int]:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        likelihood = data.get("likelihood_count") or int(self.initial.get("likelihood_count") or 5)
        impact = data.get("impact_count") or int(self.initial.get("impact_count") or 5)
        return likelihood, impact

    def clean(self):
        cleaned = super().clean()
        likelihood, impact = cleaned.get("likelihood_count"), cleaned.get("impact_count")
        if not likelihood or not impact:
            return cleaned
        for axis, count in (("l", likelihood), ("i", impact)):
            for n in range(1, count + 1):
                if not cleaned.get(f"{axis}{n}_label", "").strip():
                    self.add_error(f"{axis}{n}_label", gettext("Every level needs a label."))
        defaults = default_matrix(likelihood, impact)
        for i in range(1, impact + 1):
            for j in range(1, likelihood + 1):
                if not cleaned.get(f"m{i}_{j}"):
                    cleaned[f"m{i}_{j}"] = defaults[i - 1][j - 1]
        return cleaned

    def values(self) -> dict:
        likelihood, impact = self.counts()
        data = self.cleaned_data

        def scale(axis, count):
            return [{"label": data[f"{axis}{n}_label"].strip(), "description": data[f"{axis}{n}_description"].strip()}
                    for n in range(1, count + 1)]  # fmt: skip

        return {
            "likelihood_levels": scale("l", likelihood),
            "impact_levels": scale("i", impact),
            "matrix": [[data[f"m{i}_{j}"] for j in range(1, likelihood + 1)] for i in range(1, impact + 1)],
            "acceptance_threshold": data["acceptance_threshold"],
        }

    def layout(self):
        """Rows and cells for the template, impact from the top level down."""
        likelihood, impact = self.counts()
        return {
            "likelihood": [(self[f"l{n}_label"], self[f"l{n}_description"]) for n in range(1, likelihood + 1)],
            "impact": [(self[f"i{n}_label"], self[f"i{n}_description"]) for n in range(1, impact + 1)],
            "matrix": [
                (i, self[f"i{i}_label"].value(), [self[f"m{i}_{j}"] for j in range(1, likelihood + 1)])
                for i in range(impact, 0, -1)
            ],
            "likelihood_headers": [self[f"l{n}_label"].value() for n in range(1, likelihood + 1)],
        }

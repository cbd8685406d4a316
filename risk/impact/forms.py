"""Forms of the impact assessment pages. They validate input; the impact services do the writing."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from aims.autocomplete import AutocompleteSelect
from aims.forms import DATE
from aims.tenancy import Tenant
from registry.models import AISystem
from risk.impact.models import ImpactAssessment, ImpactItem


def _text(rows: int = 4, placeholder: str = "") -> forms.Textarea:
    attrs: dict[str, int | str] = {"rows": rows}
    if placeholder:
        attrs["placeholder"] = placeholder
    return forms.Textarea(attrs=attrs)


class ImpactAssessmentForm(forms.ModelForm):
    """The assessment's own text, section by section as in ISO/IEC 42005."""

    class Meta:
        model = ImpactAssessment
        fields = [
            "title",
            "scope",
            "data_information",
            "model_information",
            "deployment_environment",
            "interested_parties",
            "conclusion",
            "next_review_date",
        ]
        widgets = {
            "scope": _text(3),
            "data_information": _text(),
            "model_information": _text(),
            "deployment_environment": _text(),
            "interested_parties": _text(),
            "conclusion": _text(5, "Are the remaining impacts acceptable, and on which conditions?"),
            "next_review_date": DATE,
        }
        labels = {
            "data_information": "Data information",
            "model_information": "Algorithm and model information",
        }
        help_texts = {
            "model_information": "Algorithms and models the system relies on, their versions and known limits.",
            "deployment_environment": "Where and how the system runs, who operates it and under which oversight.",
            "conclusion": "Required before the assessment can be submitted for review.",
            "next_review_date": "When the assessment is looked at again, or sooner if the system changes.",
        }


class ImpactItemForm(forms.ModelForm):
    class Meta:
        model = ImpactItem
        fields = [
            "affected_party",
            "dimension",
            "nature",
            "description",
            "severity",
            "likelihood",
            "reversibility",
            "measures",
        ]
        labels = {"nature": "Benefit or harm"}
        widgets = {
            "description": _text(3, "Who is affected, how, and in which situation."),
            "measures": _text(3),
        }


class StartAssessmentForm(forms.Form):
    """Choose the system whose next assessment version starts; owners only see the systems they own."""

    system = forms.ModelChoiceField(
        queryset=AISystem.objects.none(), label="AI system", empty_label="Choose…", widget=AutocompleteSelect("systems")
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The choices show "reference name" (the widget reads up to 101 of them): nothing else.
        systems = (
            AISystem.objects.active()
            .for_org(tenant.organization)
            .only("organization", "ref_code", "name", "owner")
            .order_by("ref_code")
        )
        if tenant.edits_only_own:
            systems = systems.filter(owner=tenant.user)
        cast(forms.ModelChoiceField, self.fields["system"]).queryset = systems


class ReturnForm(forms.Form):
    # Not required here: the service owns the rule, so the page and the API say the same thing.
    comment = forms.CharField(
        label="What needs to change", required=False, widget=_text(3), help_text="The author sees this comment."
    )

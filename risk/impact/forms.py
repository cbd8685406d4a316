"""Forms of the impact assessment pages. They validate input; the impact services do the writing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aims.autocomplete import AutocompleteSelect
from aims.forms import DATE
from aims.tenancy import Tenant
from registry.models import AIModel, AISystem
from risk.impact.models import ImpactAssessment, ImpactItem

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise


def _text(rows: int = 4, placeholder: StrOrPromise = "") -> forms.Textarea:
    attrs: dict[str, int | StrOrPromise] = {"rows": rows}
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
            "assessed_model",
            "assessed_model_version",
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
            "conclusion": _text(5, _("Are the remaining impacts acceptable, and on which conditions?")),
            "next_review_date": DATE,
        }
        labels = {
            "title": _("Title"),
            "scope": _("Scope"),
            "data_information": _("Data information"),
            "model_information": _("Algorithm and model information"),
            "deployment_environment": _("Deployment environment"),
            "interested_parties": _("Interested parties"),
            "conclusion": _("Conclusion"),
            "next_review_date": _("Next review date"),
        }
        help_texts = {
            "model_information": _("Algorithms and models the system relies on, their versions and known limits."),
            "deployment_environment": _("Where and how the system runs, who operates it and under which oversight."),
            "conclusion": _("Required before the assessment can be submitted for review."),
            "assessed_model": _("One of the system's models, the version this assessment was made for."),
            "next_review_date": _("When the assessment is looked at again, or sooner if the system changes."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The models the assessed system uses, and whichever was chosen before (it may have been unlinked since).
        assessment = self.instance
        chosen = Q(pk=assessment.assessed_model_id) if assessment.assessed_model_id else Q(pk__in=[])
        field = self.fields["assessed_model"]
        field.queryset = AIModel.objects.filter(  # type: ignore[attr-defined]
            Q(system_links__system_id=assessment.system_id) | chosen, organization_id=assessment.organization_id
        ).distinct()
        field.empty_label = _("Not recorded")  # type: ignore[attr-defined]


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
        labels = {
            "affected_party": _("Affected party"),
            "dimension": _("Dimension"),
            "nature": _("Benefit or harm"),
            "description": _("Description"),
            "severity": _("Severity"),
            "likelihood": _("Likelihood"),
            "reversibility": _("Reversibility"),
            "measures": _("Measures"),
        }
        widgets = {
            "description": _text(3, _("Who is affected, how, and in which situation.")),
            "measures": _text(3),
        }


class StartAssessmentForm(forms.Form):
    """Choose the system whose next assessment version starts; owners only see the systems they own."""

    system = forms.ModelChoiceField(
        queryset=AISystem.objects.none(),
        label=_("AI system"),
        empty_label=_("Choose…"),
        widget=AutocompleteSelect("systems"),
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
        label=_("What needs to change"),
        required=False,
        widget=_text(3),
        help_text=_("The author sees this comment."),
    )

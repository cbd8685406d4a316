"""Forms of the Statement of Applicability pages. They validate input; controls.soa.services writes."""

from __future__ import annotations

from typing import Any

from django import forms

from aims.forms import DATE, TEXT, TenantForm
from aims.tenancy import Tenant
from controls.soa.models import ApplicabilityStatement
from registry.models import AISystem

DECISIONS = [("", "Not decided"), ("yes", "Applicable"), ("no", "Excluded")]


def _decision(value):
    return {"yes": True, "no": False}.get(value)


class SoARowForm(TenantForm):
    applicable = forms.TypedChoiceField(
        choices=DECISIONS, coerce=_decision, empty_value=None, required=False, label="Decision"
    )
    systems = forms.ModelMultipleChoiceField(
        queryset=AISystem.objects.none(),
        required=False,
        label="AI systems it covers",
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )

    class Meta:
        model = ApplicabilityStatement
        fields = ["applicable", "justification", "implementation_status", "implementation", "owner", "target_date",
                  "systems"]  # fmt: skip
        widgets = {
            "justification": forms.Textarea(attrs=TEXT),
            "implementation": forms.Textarea(attrs=TEXT),
            "target_date": DATE,
        }

    member_fields = ("owner",)

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, tenant=tenant, **kwargs)
        systems = AISystem.objects.for_org(tenant.organization).order_by("ref_code")
        self.fields["systems"].queryset = systems  # type: ignore[attr-defined]  # a ModelMultipleChoiceField
        if self.instance.pk:
            self.initial["applicable"] = {True: "yes", False: "no", None: ""}[self.instance.applicable]
            self.initial["systems"] = [link.system_id for link in self.instance.system_links.all()]


class SubmitForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="What changed since the last approved version"
    )


class DecisionForm(forms.Form):
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

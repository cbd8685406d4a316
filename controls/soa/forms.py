from __future__ import annotations

from django import forms

from aims.tenancy import Tenant
from controls.models import ApplicabilityStatement
from registry.forms import DATE, member_label, members_of
from registry.models import AISystem

DECISIONS = [("", "Not decided"), ("yes", "Applicable"), ("no", "Excluded")]


def _decision(value):
    return {"yes": True, "no": False}.get(value)


class SoARowForm(forms.ModelForm):
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
            "justification": forms.Textarea(attrs={"rows": 3}),
            "implementation": forms.Textarea(attrs={"rows": 3}),
            "target_date": DATE,
        }

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = members_of(tenant)
        self.fields["owner"].label_from_instance = member_label
        self.fields["systems"].queryset = AISystem.objects.for_org(tenant.organization).order_by("ref_code")
        if self.instance.pk:
            self.initial["applicable"] = {True: "yes", False: "no", None: ""}[self.instance.applicable]
            self.initial["systems"] = [link.system_id for link in self.instance.system_links.all()]


class SubmitForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="What changed since the last approved version"
    )


class DecisionForm(forms.Form):
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

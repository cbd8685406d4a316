"""Forms of the Statement of Applicability pages. They validate input; controls.soa.services writes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aims.forms import DATE, TEXT, TenantForm
from aims.tenancy import Tenant
from controls.soa.models import ApplicabilityStatement
from registry.models import AISystem

DECISIONS = [("", _("Not decided")), ("yes", _("Applicable")), ("no", _("Excluded"))]


def _decision(value):
    return {"yes": True, "no": False}.get(value)


class SoARowForm(TenantForm):
    applicable = forms.TypedChoiceField(
        choices=DECISIONS, coerce=_decision, empty_value=None, required=False, label=_("Decision")
    )
    systems = forms.ModelMultipleChoiceField(
        queryset=AISystem.objects.none(),
        required=False,
        label=_("AI systems it covers"),
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
        labels = {
            "justification": _("Justification"),
            "implementation_status": _("Implementation status"),
            "implementation": _("Implementation description"),
            "owner": _("Owner"),
            "target_date": _("Target date"),
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
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label=_("What changed since the last approved version"),
    )


class DecisionForm(forms.Form):
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label=_("Comment"))

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone

from audits.models import EvidencePack, PackSection
from registry.models import AISystem

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class EvidencePackForm(forms.Form):
    scope = forms.ChoiceField(choices=EvidencePack.Scope.choices, widget=forms.RadioSelect, initial="aims")
    system = forms.ModelChoiceField(
        queryset=AISystem.objects.none(), required=False, help_text="Only for a pack about one AI system."
    )
    period_start = forms.DateField(widget=DATE, label="From")
    period_end = forms.DateField(widget=DATE, label="To", help_text="The change history covers this period.")
    sections = forms.MultipleChoiceField(
        choices=PackSection.choices, widget=forms.CheckboxSelectMultiple, initial=PackSection.values
    )
    include_files = forms.BooleanField(
        required=False, label="Attach evidence files", help_text="Embed the evidence files themselves in the PDF."
    )

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["system"].queryset = AISystem.objects.for_org(tenant.organization).order_by("ref_code")
        today = timezone.localdate()
        self.fields["period_end"].initial = today
        self.fields["period_start"].initial = today - timedelta(days=365)

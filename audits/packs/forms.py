from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aims.autocomplete import AutocompleteSelect
from audits.models import Audit, EvidencePack, PackDetail, PackSection
from audits.packs.models import DETAIL_HELP
from registry.models import AISystem

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class EvidencePackForm(forms.Form):
    scope = forms.ChoiceField(
        label=_("Scope"), choices=EvidencePack.Scope.choices, widget=forms.RadioSelect, initial="aims"
    )
    system = forms.ModelChoiceField(
        label=_("System"),
        queryset=AISystem.objects.none(),
        required=False,
        help_text=_("Only for a pack about one AI system."),
        # static/js/app.js shows the picker only for the scope that needs it.
        widget=AutocompleteSelect("systems", attrs={"data-shown-when": "scope=system"}),
    )
    audit: forms.ModelChoiceField[Audit] = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label=_("Audit"),
        help_text=_("Only for a pack about one internal audit: its scope, checklist, findings and actions."),
        widget=forms.Select(attrs={"data-shown-when": "scope=audit"}),
    )
    period_start = forms.DateField(widget=DATE, label=_("From"))
    period_end = forms.DateField(widget=DATE, label=_("To"), help_text=_("The change history covers this period."))
    sections = forms.MultipleChoiceField(
        label=_("Sections"),
        choices=[c for c in PackSection.choices if c[0] != PackSection.AUDIT],
        widget=forms.CheckboxSelectMultiple,
        initial=[s for s in PackSection.values if s != PackSection.AUDIT],
        required=False,
        help_text=_("An audit pack always holds the audit and its evidence index."),
    )
    include_files = forms.BooleanField(
        required=False, label=_("Attach evidence files"), help_text=_("Embed the evidence files themselves in the PDF.")
    )

    detail = forms.ChoiceField(
        choices=PackDetail.choices,
        initial=PackDetail.AUTO,
        required=False,
        label=_("Detail pages per AI system"),
        help_text=DETAIL_HELP,
    )

    def clean_detail(self) -> str:
        return self.cleaned_data["detail"] or PackDetail.AUTO

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["system"].queryset = AISystem.objects.for_org(tenant.organization).order_by("ref_code")
        self.fields["audit"].queryset = Audit.objects.for_org(tenant.organization).order_by("-planned_start")
        today = timezone.localdate()
        self.fields["period_end"].initial = today
        self.fields["period_start"].initial = today - timedelta(days=365)

"""The upload of an OSCAL catalogue."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class CatalogueImportForm(forms.Form):
    file = forms.FileField(
        label=_("OSCAL catalog (JSON)"),
        help_text=_("A catalog in OSCAL 1.1 JSON, for example the NIST AI RMF as a catalog."),
    )
    code = forms.CharField(
        label=_("Framework code"),
        max_length=40,
        required=False,
        help_text=_(
            "Short code of the framework in the catalogue, e.g. NIST-AI-RMF. Leave empty to take it from "
            "the catalog's title, or the code an earlier import of the same catalog used."
        ),
    )

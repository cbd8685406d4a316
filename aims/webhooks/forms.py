"""The endpoint form: its URL, what it is for, and the events of the catalogue it wants."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aims.webhooks import transport
from aims.webhooks.catalogue import event_choices


class EndpointForm(forms.Form):
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Events are sent here as signed HTTP POST requests. Redirects are not followed."),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=event_choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )
    enabled = forms.BooleanField(
        label=_("Enabled"),
        required=False,
        initial=True,
        help_text=_("Turning an endpoint on again forgets its past failures."),
    )

    def __init__(self, *args: Any, creating: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if creating:
            del self.fields["enabled"]

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        try:
            transport.target_for(url)
        except transport.AddressRefused as exc:
            raise forms.ValidationError(str(exc)) from exc
        return url

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation

from aims.models import User
from aims.roles import Role


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=200, label="Organisation name")


class MemberAddForm(forms.Form):
    email = forms.EmailField(
        label="E-mail address", help_text="Someone with an account is added at once; anyone else gets an invitation."
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class ApiTokenForm(forms.Form):
    EXPIRY_CHOICES = [(30, "30 days"), (90, "90 days"), (180, "180 days"), (365, "1 year")]

    name = forms.CharField(max_length=100, help_text="Name it after the integration, e.g. “MLflow sync”.")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)
    expires_in_days = forms.TypedChoiceField(choices=EXPIRY_CHOICES, coerce=int, initial=90, label="Expires after")

    def clean_expires_in_days(self):
        value = self.cleaned_data["expires_in_days"]
        if value > settings.API_TOKEN_MAX_DAYS:
            raise forms.ValidationError(f"At most {settings.API_TOKEN_MAX_DAYS} days.")
        return value


class RegistrationForm(forms.Form):
    full_name = forms.CharField(max_length=150, label="Your name")
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(
        label="Repeat password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords differ.")
        if p1:
            try:
                password_validation.validate_password(
                    p1, User(email=self.email, full_name=cleaned.get("full_name", ""))
                )
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


def apply_service_errors(form: forms.Form, exc) -> None:
    """Show a service's ValidationError on the form: field messages on fields, the rest on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)

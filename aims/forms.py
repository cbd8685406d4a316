"""Forms of the core pages, and the form pieces every module shares: member choices, the
tenant-aware record form and showing a service's errors on a form."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.db.models import Model, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aims.autocomplete import autocomplete_fields
from aims.concurrency import StaleRecord, expect_version, record_version
from aims.models import User
from aims.roles import Role
from aims.tenancy import Tenant

VERSION_FIELD = "record_version"
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEXT = {"rows": 3}


def members_of(tenant: Tenant) -> QuerySet[User]:
    """The organisation's members, the only people a record may name."""
    return User.objects.filter(memberships__organization=tenant.organization).order_by("email")


def member_label(user: User) -> str:
    return f"{user.full_name} ({user.email})" if user.full_name else user.email


class TenantForm(forms.ModelForm):
    """A record form that knows the tenant.

    ``member_fields`` offer only the organisation's members; ``tenant_querysets`` narrow other
    related choices to the organisation's records. ``owned_by_field`` is the member field
    that makes a record someone's own: it is required, defaults to the person filling the
    form, and a role limited to its own records may only name itself there.
    """

    member_fields: tuple[str, ...] = ()
    tenant_querysets: dict[str, type[Model]] = {}
    owned_by_field: str | None = None
    # Set by apply_service_errors when the record changed meanwhile (aims.concurrency.StaleRecord).
    conflict: StaleRecord | None = None

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        if self.instance.pk is not None:
            # The version this editor read travels with the form; saving checks it (aims.concurrency).
            self.fields[VERSION_FIELD] = forms.CharField(
                widget=forms.HiddenInput, required=False, initial=record_version(self.instance)
            )
        for name, model in self.tenant_querysets.items():
            if name in self.fields:
                self.fields[name].queryset = model.objects.for_org(tenant.organization)  # type: ignore[attr-defined]
        for name in (*self.member_fields, *([self.owned_by_field] if self.owned_by_field else [])):
            if name in self.fields:
                field = self.fields[name]
                field.queryset = members_of(tenant)  # type: ignore[attr-defined]
                field.label_from_instance = member_label  # type: ignore[attr-defined]
        owned = self.owned_by_field
        if owned and owned in self.fields:
            field = self.fields[owned]
            field.required = True
            if tenant.edits_only_own and tenant.user is not None:
                field.queryset = field.queryset.filter(pk=tenant.user.pk)  # type: ignore[attr-defined]
            if not self.instance.pk and tenant.user is not None and not self.initial.get(owned):
                self.initial[owned] = tenant.user.pk
        autocomplete_fields(self)

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # ModelForm has it; the stubs do not
        if VERSION_FIELD in self.fields:
            expect_version(self.instance, self.cleaned_data.get(VERSION_FIELD))

    def build(self) -> Any:
        """The record with the form's values applied, not saved."""
        record = self.save(commit=False)
        record.organization = self.tenant.organization
        return record


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Organisation name"))


class OrganizationSettingsForm(OrganizationForm):
    language = forms.ChoiceField(
        choices=settings.LANGUAGES,
        required=False,  # left out: unchanged
        label=_("Default language"),
        help_text=_("The portal's language for members who have not chosen their own."),
    )


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        choices=[("", _("My organisation's default")), *settings.LANGUAGES],
        required=False,
        label=_("Language"),
        help_text=_("Pages and e-mails of the portal; ISO/IEC 42001 identifiers and titles stay as published."),
    )


class MemberAddForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"), help_text=_("They get an invitation e-mail and join once they accept it.")
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER, label=_("Role"))


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, label=_("Role"))


class ApiTokenForm(forms.Form):
    EXPIRY_CHOICES = [(30, _("30 days")), (90, _("90 days")), (180, _("180 days")), (365, _("1 year"))]

    name = forms.CharField(
        max_length=100, label=_("Name"), help_text=_("Name it after the integration, e.g. “MLflow sync”.")
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER, label=_("Role"))
    expires_in_days = forms.TypedChoiceField(choices=EXPIRY_CHOICES, coerce=int, initial=90, label=_("Expires after"))

    def clean_expires_in_days(self):
        value = self.cleaned_data["expires_in_days"]
        if value > settings.API_TOKEN_MAX_DAYS:
            raise forms.ValidationError(gettext("At most %(days)s days.") % {"days": settings.API_TOKEN_MAX_DAYS})
        return value


class RegistrationForm(forms.Form):
    full_name = forms.CharField(max_length=150, label=_("Your name"))
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(
        label=_("Repeat password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", gettext("The two passwords differ."))
        if p1:
            try:
                password_validation.validate_password(
                    p1, User(email=self.email, full_name=cleaned.get("full_name", ""))
                )
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class SignupForm(AllauthSignupForm):
    """allauth's self-service sign-up (``SIGNUP_ENABLED``), worded as the portal's other forms."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("E-mail address")
        self.fields["email"].widget.attrs.update({"autocomplete": "email", "autofocus": True})
        if "password2" in self.fields:
            self.fields["password2"].label = _("Repeat password")
        for field in self.fields.values():
            field.widget.attrs.pop("placeholder", None)


def apply_service_errors(form: forms.Form, exc) -> None:
    """Show a service's ValidationError on the form: field messages on fields, the rest on top.

    A conflict (the record changed meanwhile) keeps the user's input, lists what changed, and
    moves the form to the current version, so saving again deliberately keeps the user's values.
    """
    if isinstance(exc, StaleRecord):
        form.add_error(None, exc.messages)
        form.conflict = exc  # type: ignore[attr-defined]
        if VERSION_FIELD in form.fields:
            data = form.data.copy()  # type: ignore[attr-defined]  # a QueryDict (or dict): both copy
            data[form.add_prefix(VERSION_FIELD)] = exc.current_version or ""
            form.data = data
        return
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)

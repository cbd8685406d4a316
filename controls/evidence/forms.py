"""Forms and the list filter of the evidence pages. They validate input; controls.evidence.services writes."""

from __future__ import annotations

from typing import cast

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aims.autocomplete import AutocompleteSelect
from aims.filters import organization_members
from aims.forms import DATE, TEXT, member_label, members_of
from aims.models import User
from aims.tenancy import Tenant
from controls.evidence import selectors, services, staging
from controls.evidence.models import Evidence, EvidenceLink

# The input that holds each kind of evidence's content.
CONTENT_FIELDS: dict[str, str] = {Evidence.Kind.FILE: "file", Evidence.Kind.LINK: "url", Evidence.Kind.NOTE: "note"}


def _content_fields(form: forms.Form) -> None:
    rules = services.evidence_upload_rules()
    extensions = sorted(rules.extensions)
    form.fields["file"] = forms.FileField(
        label=_("File"),
        required=False,
        # Only a hint for the browser's file picker; the server checks the name and content itself.
        widget=forms.FileInput(attrs={"accept": ",".join(f".{ext}" for ext in extensions)}),
        help_text=gettext("At most %(max_mb)s MB; accepted: %(extensions)s.")
        % {"max_mb": rules.max_mb, "extensions": ", ".join(extensions)},
    )
    form.fields["url"] = forms.URLField(
        label=_("Link"), max_length=1000, required=False, assume_scheme="https",
        help_text=_("Where the evidence lives, e.g. a ticket, a dashboard or a document in your DMS."),
    )  # fmt: skip
    form.fields["note"] = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("For a note: the evidence itself."),
    )
    # The token of a file chosen before an error (controls.evidence.staging); the template writes it.
    form.fields["staged_file"] = forms.CharField(required=False, widget=forms.HiddenInput)


def _take_staged(form: forms.Form, tenant: Tenant | None) -> None:
    """No new file chosen: the one kept from the previous try, if any, is the upload."""
    form.staged = None  # type: ignore[attr-defined]
    if tenant is None or "file" not in form.fields:
        return
    kept = staging.staged(form.cleaned_data.get("staged_file", ""), tenant)
    if kept is None:
        return
    if form.cleaned_data.get("file"):
        staging.discard(kept)  # another file was chosen this time
        return
    form.staged = kept  # type: ignore[attr-defined]
    form.cleaned_data["file"] = kept.open()


def _require_content(form: forms.Form, kind: str | None) -> None:
    """The input that matches the kind must be filled in (the service checks it again)."""
    wanted = CONTENT_FIELDS.get(kind or "")
    if wanted and wanted in form.fields and not form.cleaned_data.get(wanted) and wanted not in form.errors:
        message = {"file": gettext("Choose a file to upload."), "url": gettext("Give the address of the evidence."),
                   "note": gettext("Write the note.")}[wanted]  # fmt: skip
        form.add_error(wanted, message)


class _MetadataForm(forms.Form):
    def _owner_field(self, tenant: Tenant) -> None:
        owner = cast("forms.ModelChoiceField[User]", self.fields["owner"])
        owner.queryset = members_of(tenant)
        owner.label_from_instance = member_label  # type: ignore[assignment]  # a plain function as the label
        if tenant.edits_only_own:
            # An AI system owner keeps their own evidence: they cannot hand it to someone else.
            owner.queryset = owner.queryset.filter(pk=tenant.user.pk)
            owner.required = True

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("effective_from"), cleaned.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", gettext("The evidence cannot expire before it takes effect."))
        return cleaned


class EvidenceForm(_MetadataForm):
    """New evidence: its metadata and the file, link or note of version 1."""

    title = forms.CharField(max_length=200, label=_("Title"))
    kind = forms.ChoiceField(
        choices=Evidence.Kind.choices, initial=Evidence.Kind.FILE, widget=forms.RadioSelect, label=_("Kind")
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs=TEXT), label=_("Description"),
                                  help_text=_("What it shows and how it was produced."))  # fmt: skip
    effective_from = forms.DateField(widget=DATE, initial=timezone.localdate, label=_("Effective from"))
    valid_until = forms.DateField(widget=DATE, required=False, label=_("Valid until"),
                                  help_text=_("When it expires; leave empty if it does not."))  # fmt: skip
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        label=_("Owner"),
        help_text=_("Reminded before the evidence expires."),
        widget=AutocompleteSelect("members"),
    )

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.staged: staging.StagedFile | None = None
        self._owner_field(tenant)
        _content_fields(self)
        self.fields["comment"] = forms.CharField(max_length=300, required=False, label=_("Version comment"))
        if tenant.user is not None and "owner" not in self.initial:
            self.initial["owner"] = tenant.user.pk

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == Evidence.Kind.FILE:
            _take_staged(self, self.tenant)
        _require_content(self, cleaned.get("kind"))
        return cleaned


class EvidenceUpdateForm(_MetadataForm):
    """The metadata of existing evidence; the content changes by adding a version."""

    title = forms.CharField(max_length=200, label=_("Title"))
    description = forms.CharField(required=False, widget=forms.Textarea(attrs=TEXT), label=_("Description"))
    effective_from = forms.DateField(widget=DATE, label=_("Effective from"))
    valid_until = forms.DateField(widget=DATE, required=False, label=_("Valid until"),
                                  help_text=_("When it expires; leave empty if it does not."))  # fmt: skip
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, label=_("Owner"), widget=AutocompleteSelect("members")
    )

    def __init__(self, *args, tenant: Tenant, evidence: Evidence, **kwargs):
        kwargs.setdefault("initial", {name: getattr(evidence, name) for name in services.UPDATABLE_FIELDS})
        super().__init__(*args, **kwargs)
        self._owner_field(tenant)


class EvidenceVersionForm(forms.Form):
    """A new version: only the input that the evidence's kind needs is offered."""

    def __init__(self, *args, evidence: Evidence, tenant: Tenant | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.evidence = evidence
        self.tenant = tenant
        self.staged: staging.StagedFile | None = None
        _content_fields(self)
        keep = CONTENT_FIELDS[evidence.kind]
        for name in ("file", "url", "note"):
            if name != keep:
                del self.fields[name]
        if keep == "file":
            self.fields["file"].required = False  # a file kept from the last try counts (clean)
        else:
            self.fields[keep].required = True
            del self.fields["staged_file"]
        self.fields["comment"] = forms.CharField(
            max_length=300, required=False, label=_("Comment"), help_text=_("What changed since the previous version.")
        )

    def clean(self):
        cleaned = super().clean()
        if "file" in self.fields:
            _take_staged(self, self.tenant)
            _require_content(self, Evidence.Kind.FILE)
        return cleaned


class EvidenceLinkForm(forms.Form):
    """Link to one record: the kind of record and its id (or, for a control, its reference)."""

    target = forms.ChoiceField(choices=EvidenceLink.Target.choices)
    id = forms.CharField(max_length=40, label=_("Record"))

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant

    def clean(self):
        cleaned = super().clean()
        if "target" in cleaned and "id" in cleaned:
            try:
                cleaned["obj"] = selectors.link_target_get(self.tenant.organization, cleaned["target"], cleaned["id"])
            except forms.ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    self.add_error(field, messages)
        return cleaned


class EvidenceFilter(django_filters.FilterSet):
    """The evidence library's filters, shared by the page and the API."""

    q = django_filters.CharFilter(method="search", label=_("Search"), widget=forms.TextInput(attrs={"type": "search"}))
    kind = django_filters.ChoiceFilter(choices=Evidence.Kind.choices, empty_label=_("Any"), label=_("Kind"))
    status = django_filters.ChoiceFilter(
        choices=Evidence.Validity.choices, method="filter_status", empty_label=_("Any"), label=_("Validity")
    )
    control = django_filters.CharFilter(method="filter_control", label=_("Control"), help_text=_("e.g. A.6.2.4"))
    owner = django_filters.ModelChoiceFilter(
        queryset=organization_members, label=_("Owner"), empty_label=_("Anyone"), widget=AutocompleteSelect("members")
    )

    class Meta:
        model = Evidence
        fields = ["q", "kind", "status", "control", "owner"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))

    def filter_status(self, queryset, name, value):
        return queryset.filter(selectors.evidence_status_q(value)) if value else queryset

    def filter_control(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # A subquery, so evidence linked to the control is listed once and the page still counts in SQL.
        links = EvidenceLink.objects.filter(
            evidence=OuterRef("pk"),
            target=EvidenceLink.Target.CONTROL,
            control__framework__code=selectors.CONTROL_FRAMEWORK,
            control__ref__iexact=value,
        )
        return queryset.filter(Exists(links))

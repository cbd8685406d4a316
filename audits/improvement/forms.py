"""Forms and list filters of the audit, corrective action, management review and incident pages.

Forms validate input and offer only the organisation's own records; the services in
:mod:`audits.improvement.services` do the writing and hold the rules. The filters serve the pages and
the API alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aims.autocomplete import AutocompleteSelect, autocomplete_fields
from aims.filters import OneOrMany, RecordChoiceFilter, YearFilter, organization_members
from aims.forms import DATE, member_label, members_of
from aims.tenancy import Tenant
from audits.improvement import services as improvement
from audits.improvement.selectors import only_open_nonconformities
from audits.models import (
    Audit,
    AuditMember,
    AuditProgramme,
    ChecklistItem,
    CorrectiveAction,
    Finding,
    Incident,
    ManagementReview,
    ReviewAction,
)
from controls.models import Evidence
from registry.models import AISystem

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

TEXT = {"rows": 3}
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class RequirementLabelMixin:
    def label_from_instance(self, obj):
        return f"{obj.ref} {obj.title}"


class RequirementChoiceField(RequirementLabelMixin, forms.ModelChoiceField):
    pass


class RequirementMultipleChoiceField(RequirementLabelMixin, forms.ModelMultipleChoiceField):
    pass


class MembersField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj):
        return member_label(obj)


def _choice(form: forms.BaseForm, name: str) -> forms.ModelChoiceField:
    """The model choice field ``name`` of ``form`` (the ones whose choices depend on the organisation)."""
    return cast(forms.ModelChoiceField, form.fields[name])


def _member_field(form: forms.BaseForm, name: str, tenant: Tenant) -> None:
    field = _choice(form, name)
    field.queryset = members_of(tenant)
    field.label_from_instance = member_label  # type: ignore[method-assign,assignment]  # per-field label


class SectionsMixin:
    SECTIONS: list[tuple[StrOrPromise, list[str]]] = []

    def sections(self):
        for title, names in self.SECTIONS:
            fields = [self[name] for name in names if name in self.fields]
            if fields:
                yield title, fields


# --- Audits ------------------------------------------------------------------------------------


class ProgrammeForm(forms.ModelForm):
    class Meta:
        model = AuditProgramme
        fields = ["year", "objectives", "notes"]
        widgets = {"objectives": forms.Textarea(attrs=TEXT), "notes": forms.Textarea(attrs=TEXT)}

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.initial.setdefault("year", timezone.localdate().year)


class AuditForm(SectionsMixin, forms.ModelForm):
    SECTIONS = [
        (_("The audit"), ["programme", "title", "scope", "auditee_area", "criteria"]),
        (_("Team"), ["lead_auditor", "auditors", "area_owners"]),
        (_("Dates"), ["planned_start", "planned_end", "actual_start", "actual_end"]),
        (_("Conclusion"), ["conclusion"]),
    ]
    criteria = RequirementMultipleChoiceField(
        queryset=None,
        label=_("Audit criteria"),
        help_text=_("The clauses and Annex A controls checked; the checklist has one question per requirement."),
        widget=forms.SelectMultiple(attrs={"size": 14}),
    )
    auditors = MembersField(queryset=None, required=False, help_text=_("They record the checklist and findings."))
    area_owners = MembersField(
        queryset=None,
        required=False,
        label=_("Responsible for the audited area"),
        help_text=_("The auditees. Auditors must be independent of the area: none of them may audit it."),
    )

    class Meta:
        model = Audit
        fields = [
            "programme", "title", "scope", "auditee_area", "lead_auditor", "planned_start", "planned_end",
            "actual_start", "actual_end", "conclusion",
        ]  # fmt: skip
        widgets = {
            "scope": forms.Textarea(attrs=TEXT),
            "conclusion": forms.Textarea(attrs=TEXT),
            **{name: DATE for name in ("planned_start", "planned_end", "actual_start", "actual_end")},
        }

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        _choice(self, "programme").queryset = AuditProgramme.objects.for_org(tenant.organization).order_by("-year")
        _choice(self, "programme").empty_label = None
        _choice(self, "criteria").queryset = improvement.criteria_choices()
        _member_field(self, "lead_auditor", tenant)
        for name in ("auditors", "area_owners"):
            _choice(self, name).queryset = members_of(tenant)
        audit = self.instance
        if audit.pk:
            self.initial["criteria"] = [link.requirement_id for link in audit.criteria_links.all()]
            for name, role in (("auditors", AuditMember.Role.AUDITOR), ("area_owners", AuditMember.Role.AREA_OWNER)):
                self.initial[name] = [m.user_id for m in audit.member_links.all() if m.role == role]
        else:
            for name in ("actual_start", "actual_end", "conclusion"):
                del self.fields[name]
        autocomplete_fields(self)


class ChecklistItemForm(forms.ModelForm):
    class Meta:
        model = ChecklistItem
        fields = ["result", "notes", "evidence_checked"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2}), "evidence_checked": forms.Textarea(attrs={"rows": 2})}


class FindingForm(forms.ModelForm):
    requirement = RequirementChoiceField(
        queryset=None, required=False, help_text=_("Required for a nonconformity: the requirement not met.")
    )
    evidence: forms.ModelMultipleChoiceField[Evidence] = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        label=_("Evidence it rests on"),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    class Meta:
        model = Finding
        fields = ["kind", "title", "requirement", "checklist_item", "system", "description", "evidence"]
        widgets = {"description": forms.Textarea(attrs=TEXT)}

    def __init__(self, *args, tenant: Tenant, audit: Audit, **kwargs):
        super().__init__(*args, **kwargs)
        _choice(self, "requirement").queryset = improvement.criteria_choices()
        items = ChecklistItem.objects.for_org(tenant.organization).filter(audit=audit).order_by("order", "id")
        _choice(self, "checklist_item").queryset = items
        _choice(self, "checklist_item").label_from_instance = lambda item: item.ref  # type: ignore[method-assign,assignment]
        self.fields["checklist_item"].label = _("Checklist item")
        _choice(self, "evidence").queryset = Evidence.objects.for_org(tenant.organization).order_by("title")
        _choice(self, "system").queryset = AISystem.objects.for_org(tenant.organization).order_by("ref_code")
        if self.instance.pk:
            self.initial["evidence"] = [link.evidence_id for link in self.instance.evidence_links.all()]
        autocomplete_fields(self)


# --- Corrective actions ------------------------------------------------------------------------


class CorrectiveActionForm(SectionsMixin, forms.ModelForm):
    SECTIONS = [
        (_("Source"), ["finding", "incident"]),
        (_("The action"), ["title", "correction", "root_cause", "action", "owner", "due_date"]),
    ]

    class Meta:
        model = CorrectiveAction
        fields = ["finding", "incident", "title", "correction", "root_cause", "action", "owner", "due_date"]
        widgets = {
            "correction": forms.Textarea(attrs=TEXT),
            "root_cause": forms.Textarea(attrs=TEXT),
            "action": forms.Textarea(attrs=TEXT),
            "due_date": DATE,
        }

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        org = tenant.organization
        _choice(self, "finding").queryset = Finding.objects.for_org(org).select_related("audit").order_by("-raised_at")
        _choice(self, "finding").label_from_instance = lambda f: f"{f.ref_code} {f.title} ({f.get_kind_display()})"  # type: ignore[method-assign,assignment]
        _choice(self, "incident").queryset = Incident.objects.for_org(org).order_by("-detected_at")
        _member_field(self, "owner", tenant)
        self.fields["owner"].help_text = _("Implements the action; someone else checks its effectiveness.")
        if not self.instance.pk and tenant.user is not None and not self.initial.get("owner"):
            self.initial["owner"] = tenant.user.pk
        autocomplete_fields(self)


class VerifyForm(forms.Form):
    effective = forms.TypedChoiceField(
        choices=[
            ("yes", _("Effective: the cause is removed, close the action")),
            ("no", _("Not effective: more is needed")),
        ],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        label=_("Result of the check"),
    )
    note = forms.CharField(widget=forms.Textarea(attrs=TEXT), label=_("What was checked and what it showed"))
    verified_on = forms.DateField(widget=DATE, required=False, label=_("Checked on"), help_text=_("Today if empty."))


# --- Management reviews ------------------------------------------------------------------------


class ManagementReviewForm(SectionsMixin, forms.ModelForm):
    SECTIONS = [
        (_("The review"), ["title", "held_on", "period_start", "period_end"]),
        (_("Attendees"), ["attendees", "external_attendees"]),
        (_("Results"), ["decisions"]),
    ]
    attendees = MembersField(queryset=None, required=False)

    class Meta:
        model = ManagementReview
        fields = ["title", "held_on", "period_start", "period_end", "external_attendees", "decisions"]
        widgets = {
            "held_on": DATE,
            "period_start": DATE,
            "period_end": DATE,
            "external_attendees": forms.Textarea(attrs={"rows": 2}),
            "decisions": forms.Textarea(attrs={"rows": 5}),
        }

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        _choice(self, "attendees").queryset = members_of(tenant)
        if self.instance.pk:
            self.initial["attendees"] = [link.user_id for link in self.instance.attendee_links.all()]
            # The inputs were gathered for this period; "Gather the inputs again" follows a change.
            self.fields["period_start"].help_text = self.fields["period_end"].help_text = _(
                "Gather the inputs again after changing the period."
            )
        else:
            today = timezone.localdate()
            latest = improvement.latest_review_date(tenant.organization)
            self.initial.setdefault("held_on", today)
            self.initial.setdefault("period_end", today)
            self.initial.setdefault("period_start", latest or today.replace(month=1, day=1))
            self.initial.setdefault(
                "title", gettext("Management review %(month)s") % {"month": date_format(today, "F Y")}
            )
        autocomplete_fields(self)


class ReviewActionForm(forms.ModelForm):
    class Meta:
        model = ReviewAction
        fields = ["title", "description", "owner", "due_date", "status"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2}), "due_date": DATE}

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        _member_field(self, "owner", tenant)
        autocomplete_fields(self)


# --- Incidents ---------------------------------------------------------------------------------


class IncidentForm(SectionsMixin, forms.ModelForm):
    SECTIONS = [
        (_("The incident"), ["title", "system", "severity", "description", "occurred_at", "detected_at"]),
        (_("Communication"), ["informed_parties", "informed_at", "authority_notified", "authority_notified_at"]),
        (_("Status"), ["status", "resolution"]),
    ]

    class Meta:
        model = Incident
        fields = [
            "title", "system", "severity", "description", "occurred_at", "detected_at", "informed_parties",
            "informed_at", "authority_notified", "authority_notified_at", "status", "resolution",
        ]  # fmt: skip
        widgets = {
            "description": forms.Textarea(attrs=TEXT),
            "informed_parties": forms.Textarea(attrs={"rows": 2}),
            "resolution": forms.Textarea(attrs=TEXT),
            **{name: DATETIME for name in ("occurred_at", "detected_at", "informed_at", "authority_notified_at")},
        }

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        _choice(self, "system").queryset = AISystem.objects.for_org(tenant.organization).order_by("ref_code")
        _choice(self, "system").empty_label = _("Not tied to one AI system")
        for name in ("occurred_at", "detected_at", "informed_at", "authority_notified_at"):
            cast(forms.DateTimeField, self.fields[name]).input_formats = [
                "%Y-%m-%dT%H:%M",
                "%Y-%m-%d %H:%M",
                "%Y-%m-%d",
            ]
        autocomplete_fields(self)


# --- Filters -----------------------------------------------------------------------------------


def _systems(request):
    tenant = getattr(request, "tenant", None)
    if tenant is None or not hasattr(tenant, "organization"):
        return AISystem.objects.none()
    return AISystem.objects.for_org(tenant.organization).order_by("ref_code")


def _search(fields: tuple[str, ...]):
    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        query = Q()
        for field in fields:
            query |= Q(**{f"{field}__icontains": value})
        return queryset.filter(query)

    return search


SEARCH = forms.TextInput(attrs={"type": "search"})


class AuditFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"), widget=SEARCH)
    year = YearFilter(field_name="programme__year", label=_("Programme year"))
    status = django_filters.MultipleChoiceFilter(
        choices=Audit.Status.choices, widget=OneOrMany(choices=Audit.Status.choices)
    )

    search = _search(("title", "ref_code", "scope", "auditee_area"))

    class Meta:
        model = Audit
        fields = ["q", "year", "status"]


class FindingFilter(django_filters.FilterSet):
    """Findings of every audit (the page and the API); ``open_nc=true`` is the dashboard's
    "Open nonconformities"."""

    q = django_filters.CharFilter(method="search", label=_("Search"), widget=SEARCH)
    audit = django_filters.NumberFilter(field_name="audit_id", widget=forms.HiddenInput)
    kind = django_filters.MultipleChoiceFilter(
        choices=Finding.Kind.choices, widget=OneOrMany(choices=Finding.Kind.choices), label=_("Kind")
    )
    open_nc = django_filters.ChoiceFilter(
        choices=[("true", _("Open nonconformities"))],
        method="filter_open_nc",
        label=_("Nonconformities"),
        empty_label=_("Any finding"),
    )

    search = _search(("title", "ref_code", "description"))

    class Meta:
        model = Finding
        fields = ["q", "audit", "kind", "open_nc"]

    def filter_open_nc(self, queryset, name, value):
        """Nonconformities that no closed corrective action has dealt with yet."""
        return only_open_nonconformities(queryset) if value == "true" else queryset


class ChecklistFilter(django_filters.FilterSet):
    audit = django_filters.NumberFilter(field_name="audit_id")
    result = django_filters.MultipleChoiceFilter(
        choices=ChecklistItem.Result.choices, widget=OneOrMany(choices=ChecklistItem.Result.choices)
    )

    class Meta:
        model = ChecklistItem
        fields = ["audit", "result"]


class CorrectiveActionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"), widget=SEARCH)
    status = django_filters.MultipleChoiceFilter(
        choices=CorrectiveAction.Status.choices, widget=OneOrMany(choices=CorrectiveAction.Status.choices)
    )
    owner = django_filters.ModelChoiceFilter(
        queryset=organization_members, label=_("Owner"), empty_label=_("Anyone"), widget=AutocompleteSelect("members")
    )
    source = django_filters.ChoiceFilter(
        choices=[("finding", _("Audit finding")), ("incident", _("Incident"))],
        method="filter_source",
        label=_("Source"),
        empty_label=_("Any"),
    )
    overdue = django_filters.ChoiceFilter(
        choices=[("true", _("Overdue")), ("false", _("Not overdue"))],
        method="filter_overdue",
        label=_("Due date"),
        empty_label=_("Any"),
    )
    closed = django_filters.ChoiceFilter(
        choices=[("false", _("Not closed")), ("true", _("Closed"))],
        method="filter_closed",
        label=_("Closed"),
        empty_label=_("Any"),
    )

    search = _search(("title", "ref_code", "root_cause", "action", "correction"))

    class Meta:
        model = CorrectiveAction
        fields = ["q", "status", "owner", "source", "overdue", "closed"]

    def filter_source(self, queryset, name, value):
        if value in ("finding", "incident"):
            return queryset.filter(**{f"{value}__isnull": False})
        return queryset

    def filter_overdue(self, queryset, name, value):
        if value not in ("true", "false"):
            return queryset
        overdue = Q(status__in=CorrectiveAction.UNFINISHED, due_date__lt=timezone.localdate())
        return queryset.filter(overdue) if value == "true" else queryset.exclude(overdue)

    def filter_closed(self, queryset, name, value):
        if value not in ("true", "false"):
            return queryset
        return queryset.filter(closed_at__isnull=value == "false")


class IncidentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"), widget=SEARCH)
    status = django_filters.MultipleChoiceFilter(
        choices=Incident.Status.choices, widget=OneOrMany(choices=Incident.Status.choices)
    )
    severity = django_filters.MultipleChoiceFilter(
        choices=Incident.Severity.choices, widget=OneOrMany(choices=Incident.Severity.choices)
    )
    system = RecordChoiceFilter(
        queryset=_systems, empty_label=_("Any"), label=_("AI system"), widget=AutocompleteSelect("systems")
    )

    search = _search(("title", "ref_code", "description"))

    class Meta:
        model = Incident
        fields = ["q", "status", "severity", "system"]


class ManagementReviewFilter(django_filters.FilterSet):
    year = YearFilter(field_name="held_on__year", label=_("Year"))

    class Meta:
        model = ManagementReview
        fields = ["year"]


class ReviewActionFilter(django_filters.FilterSet):
    review = django_filters.NumberFilter(field_name="review_id")
    status = django_filters.MultipleChoiceFilter(
        choices=ReviewAction.Status.choices, widget=OneOrMany(choices=ReviewAction.Status.choices)
    )

    class Meta:
        model = ReviewAction
        fields = ["review", "status"]

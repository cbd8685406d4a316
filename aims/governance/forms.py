"""Forms and list filters of the leadership and planning pages. They validate input; services write."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aims.autocomplete import AutocompleteSelect
from aims.forms import DATE, TEXT, TenantForm, member_label, members_of
from aims.governance.models import REVIEW_NOTICE_DAYS
from aims.models import (
    AIMSScope,
    CompetenceRecord,
    ConcernChannel,
    ContextIssue,
    InterestedParty,
    Objective,
    ObjectiveProgress,
    OrgRole,
    Policy,
    PolicyVersion,
    User,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class ExclusionsField(forms.CharField):
    """Exclusions typed one per line as ``what is excluded: why``."""

    widget = forms.Textarea(
        attrs={"rows": 4, "placeholder": _("Research lab prototypes: not used in production or on customer data")}
    )

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(f"{e.get('item', '')}: {e.get('reason', '')}" for e in value if isinstance(e, dict))
        return value

    def to_python(self, value):
        exclusions = []
        for number, line in enumerate((value or "").splitlines(), start=1):
            if not line.strip():
                continue
            item, sep, reason = line.partition(":")
            if not sep or not item.strip() or not reason.strip():
                raise forms.ValidationError(
                    gettext("Line %(number)s: write “what is excluded: why”, e.g. “Research lab: no production use”.")
                    % {"number": number}
                )
            exclusions.append({"item": item.strip(), "reason": reason.strip()})
        return exclusions


class ScopeForm(TenantForm):
    exclusions = ExclusionsField(
        required=False, help_text=_("One per line, “what is excluded: the reason”. Every exclusion needs a reason.")
    )

    class Meta:
        model = AIMSScope
        labels = {"locations": _("Locations"), "last_reviewed": _("Last reviewed")}
        fields = [
            "statement",
            "units_covered",
            "systems_covered",
            "locations",
            "exclusions",
            "boundaries",
            "last_reviewed",
        ]
        widgets = {
            "statement": forms.Textarea(attrs={"rows": 4}),
            "units_covered": forms.Textarea(attrs=TEXT),
            "systems_covered": forms.Textarea(attrs=TEXT),
            "locations": forms.Textarea(attrs=TEXT),
            "boundaries": forms.Textarea(attrs=TEXT),
            "last_reviewed": DATE,
        }


class ContextIssueForm(TenantForm):
    class Meta:
        model = ContextIssue
        labels = {
            "category": _("Category"),
            "title": _("Title"),
            "description": _("Description"),
            "review_date": _("Review date"),
        }
        fields = ["kind", "category", "title", "description", "effect", "review_date"]
        widgets = {"description": forms.Textarea(attrs=TEXT), "effect": forms.Textarea(attrs=TEXT), "review_date": DATE}


class InterestedPartyForm(TenantForm):
    class Meta:
        model = InterestedParty
        labels = {"name": _("Name")}
        fields = ["name", "kind", "requirements", "how_addressed", "legal_requirement"]
        widgets = {"requirements": forms.Textarea(attrs=TEXT), "how_addressed": forms.Textarea(attrs=TEXT)}


class PolicyForm(TenantForm):
    member_fields = ("owner",)

    class Meta:
        model = Policy
        labels = {
            "title": _("Title"),
            "purpose": _("Purpose"),
            "owner": _("Owner"),
            "next_review_date": _("Next review date"),
        }
        fields = ["title", "kind", "purpose", "owner", "review_interval_months", "next_review_date"]
        widgets = {"purpose": forms.Textarea(attrs=TEXT), "next_review_date": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].required = True
        if not self.instance.pk and self.tenant.user is not None:
            self.initial.setdefault("owner", self.tenant.user.pk)


class PolicyVersionForm(forms.Form):
    """The text of a version (Markdown) or its document: one of the two."""

    body_markdown = forms.CharField(
        label=_("Text (Markdown)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 18, "class": "mono"}),
        help_text=_("Headings (#), lists (-), **bold**, _italic_ and [links](https://…). HTML is removed."),
    )
    file = forms.FileField(
        label=_("…or upload the document"),
        required=False,
        help_text=_(
            "PDF, Word (.docx), OpenDocument (.odt), Markdown or text; at most 10 MB. "
            "A new upload replaces the current document."
        ),
    )
    change_note = forms.CharField(max_length=300, required=False, help_text=_("What changed in this version."))
    effective_date = forms.DateField(required=False, widget=DATE, help_text=_("The approval date if empty."))

    @classmethod
    def for_version(cls, version: PolicyVersion | None, **kwargs):
        initial = {}
        if version is not None:
            initial = {
                "body_markdown": version.body_markdown,
                "change_note": version.change_note,
                "effective_date": version.effective_date,
            }
        return cls(initial=initial, **kwargs)


class ReturnForm(forms.Form):
    comment = forms.CharField(
        label=_("What needs to change"), widget=forms.Textarea(attrs={"rows": 3}), required=True, max_length=2000
    )


class OrgRoleForm(TenantForm):
    member_fields = ("holder",)

    class Meta:
        model = OrgRole
        labels = {
            "responsibilities": _("Responsibilities"),
            "authorities": _("Authorities"),
            "holder": _("Holder"),
            "external_holder": _("External holder"),
            "reports_to": _("Reports to"),
        }
        fields = ["name", "responsibilities", "authorities", "holder", "external_holder", "reports_to"]
        widgets = {"responsibilities": forms.Textarea(attrs=TEXT), "authorities": forms.Textarea(attrs=TEXT)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        roles = OrgRole.objects.for_org(self.tenant.organization)
        if self.instance.pk:
            roles = roles.exclude(pk=self.instance.pk)
        self.fields["reports_to"].queryset = roles.order_by("name")


class ConcernChannelForm(TenantForm):
    class Meta:
        model = ConcernChannel
        labels = {"name": _("Name"), "contact": _("Contact")}
        fields = [
            "name",
            "how_to_report",
            "contact",
            "receivers",
            "anonymous",
            "protection_statement",
            "is_active",
        ]
        widgets = {
            "how_to_report": forms.Textarea(attrs=TEXT),
            "receivers": forms.Textarea(attrs={"rows": 2}),
            "protection_statement": forms.Textarea(attrs=TEXT),
        }


class ObjectiveForm(TenantForm):
    member_fields = ("owner",)
    owned_by_field = "owner"

    class Meta:
        model = Objective
        labels = {
            "title": _("Title"),
            "description": _("Description"),
            "measure": _("Measure"),
            "target": _("Target"),
            "unit": _("Unit"),
            "owner": _("Owner"),
            "due_date": _("Due date"),
            "status": _("Status"),
            "policy": _("Policy"),
        }
        fields = [
            "title",
            "description",
            "measure",
            "target",
            "unit",
            "direction",
            "owner",
            "due_date",
            "status",
            "policy",
        ]
        widgets = {"description": forms.Textarea(attrs=TEXT), "due_date": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["policy"].queryset = Policy.objects.for_org(self.tenant.organization).order_by("title")


class ObjectiveProgressForm(forms.ModelForm):
    class Meta:
        model = ObjectiveProgress
        labels = {"date": _("Date"), "value": _("Value"), "note": _("Note")}
        fields = ["date", "value", "note"]
        widgets = {"date": DATE, "note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date"].initial = timezone.localdate


class CompetenceRecordForm(TenantForm):
    member_fields = ("member",)
    owned_by_field = "member"

    class Meta:
        model = CompetenceRecord
        labels = {
            "member": _("Member"),
            "title": _("Title"),
            "provider": _("Provider"),
            "date_completed": _("Date completed"),
            "valid_until": _("Valid until"),
        }
        fields = ["member", "kind", "title", "provider", "date_completed", "valid_until", "evidence_note"]
        widgets = {"date_completed": DATE, "valid_until": DATE, "evidence_note": forms.Textarea(attrs={"rows": 2})}


# --- List filters ---------------------------------------------------------------------------


ANY_YES_NO = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]


def _review_due_label() -> str:
    return gettext("Review due within %(days)s days") % {"days": REVIEW_NOTICE_DAYS}


class SearchFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    search_fields: tuple[str, ...] = ()
    # Labels of filters built from model fields that have no verbose name of their own.
    labels: dict[str, StrOrPromise] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in self.labels.items():
            self.filters[name].label = label

    def filter_q(self, queryset, name, value):
        query = Q()
        for field in self.search_fields:
            query |= Q(**{f"{field}__icontains": value})
        return queryset.filter(query)


class ContextIssueFilter(SearchFilterSet):
    search_fields = ("title", "description", "effect")
    labels = {"category": _("Category")}

    class Meta:
        model = ContextIssue
        fields = ["q", "kind", "category"]


class InterestedPartyFilter(SearchFilterSet):
    search_fields = ("name", "requirements", "how_addressed")
    legal_requirement = django_filters.BooleanFilter(
        label=_("Legal requirements"), widget=forms.Select(choices=ANY_YES_NO)
    )

    class Meta:
        model = InterestedParty
        fields = ["q", "kind", "legal_requirement"]


class PolicyFilter(SearchFilterSet):
    search_fields = ("title", "purpose")
    status = django_filters.ChoiceFilter(
        label=_("Version in force"),
        choices=[("in_force", _("Approved version in force")), ("none", _("None in force"))],
        method="filter_status",
    )
    review_due = django_filters.BooleanFilter(
        label=lazy(_review_due_label, str)(),
        method="filter_review_due",
        widget=forms.Select(choices=ANY_YES_NO),
    )

    class Meta:
        model = Policy
        fields = ["q", "kind", "status", "review_due"]

    def filter_status(self, queryset, name, value):
        in_force = Exists(PolicyVersion.objects.filter(policy=OuterRef("pk"), status=PolicyVersion.Status.APPROVED))
        return queryset.filter(in_force) if value == "in_force" else queryset.exclude(in_force)

    def filter_review_due(self, queryset, name, value):
        horizon = timezone.localdate() + timedelta(days=REVIEW_NOTICE_DAYS)
        due = Q(next_review_date__lte=horizon)
        return queryset.filter(due) if value else queryset.exclude(due)


class OrgRoleFilter(SearchFilterSet):
    search_fields = ("name", "responsibilities", "authorities", "external_holder", "holder__email")

    class Meta:
        model = OrgRole
        fields = ["q"]


class ObjectiveFilter(SearchFilterSet):
    search_fields = ("title", "description", "measure")
    labels = {"status": _("Status")}
    owner = django_filters.ModelChoiceFilter(
        queryset=User.objects.none(), label=_("Owner"), widget=AutocompleteSelect("members")
    )
    overdue = django_filters.BooleanFilter(
        label=_("Past due date"),
        method="filter_overdue",
        widget=forms.Select(choices=ANY_YES_NO),
    )

    class Meta:
        model = Objective
        fields = ["q", "status", "owner", "overdue"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        tenant = getattr(request, "tenant", None)
        if tenant is not None:
            self.filters["owner"].queryset = members_of(tenant)
            self.filters["owner"].field.label_from_instance = member_label

    def filter_overdue(self, queryset, name, value):
        overdue = Q(due_date__lt=timezone.localdate()) & ~Q(status__in=Objective.CLOSED)
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class CompetenceRecordFilter(SearchFilterSet):
    search_fields = ("title", "provider", "evidence_note")
    member = django_filters.ModelChoiceFilter(
        queryset=User.objects.none(), label=_("Member"), widget=AutocompleteSelect("members")
    )
    expired = django_filters.BooleanFilter(
        label=_("Expired"),
        method="filter_expired",
        widget=forms.Select(choices=ANY_YES_NO),
    )

    class Meta:
        model = CompetenceRecord
        fields = ["q", "member", "kind", "expired"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        tenant = getattr(request, "tenant", None)
        if tenant is not None:
            self.filters["member"].queryset = members_of(tenant)
            self.filters["member"].field.label_from_instance = member_label

    def filter_expired(self, queryset, name, value):
        expired = Q(valid_until__lt=timezone.localdate())
        return queryset.filter(expired) if value else queryset.exclude(expired)

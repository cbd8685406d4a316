"""Leadership and planning records of the management system.

Context and scope (clause 4), policies with versions and their approval (5.2, A.2.2-A.2.4),
organisation-level roles (5.3, A.3.2), the channels for reporting concerns (A.3.3), AI
objectives with their progress (6.2) and competence and awareness records (7.2, 7.3).

These records belong to the organisation as a whole, so an AI system owner (who changes only
what they own) owns none of them, except the objectives they are responsible for and their own
competence records: ``is_owned_by`` says so to :meth:`aims.tenancy.Tenant.can_change`.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aims.tenancy import TenantModel

# A policy whose review falls due within this many days is "due for review".
REVIEW_NOTICE_DAYS = 30


def plain_number(value: Decimal | None) -> str:
    """A decimal as people write it: 100, 8.1 (no trailing zeros, no exponent)."""
    return "" if value is None else format(value.normalize(), "f")


class _OrganisationLevel:
    """Kept by officers and administrators: an AI system owner owns none of these records."""

    def is_owned_by(self, user) -> bool:
        return False


# --- Context and scope (clause 4) ------------------------------------------------------------


class AIMSScope(_OrganisationLevel, TenantModel):
    """The boundaries and applicability of the AI management system (4.3); one per organisation.

    Which AI systems are in scope is recorded per system in the inventory; here the scope is
    stated in words: the units, locations and kinds of system it covers, and what it leaves out.
    """

    statement = models.TextField(
        _("scope statement"), help_text=_("What the AI management system covers, in a few lines.")
    )
    units_covered = models.TextField(
        _("organisational units covered"), blank=True, help_text=_("One unit, department or function per line.")
    )
    systems_covered = models.TextField(
        _("AI systems covered"),
        blank=True,
        help_text=_("Which AI systems are in scope, in words; the inventory records each system."),
    )
    locations = models.TextField(blank=True, help_text=_("Sites and countries, one per line."))
    exclusions = models.JSONField(
        default=list, blank=True, help_text=_("What is left out of the scope, each with the reason.")
    )
    boundaries = models.TextField(
        _("boundaries and interfaces"),
        blank=True,
        help_text=_("Interfaces and dependencies with activities outside the scope, e.g. outsourced services (4.3 c)."),
    )
    last_reviewed = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("AIMS scope")
        verbose_name_plural = _("AIMS scopes")
        constraints = [models.UniqueConstraint(fields=["organization"], name="aimsscope_one_per_org")]

    def __str__(self) -> str:
        return gettext("Scope of the AI management system")

    def clean(self) -> None:
        if not isinstance(self.exclusions, list):
            raise ValidationError({"exclusions": gettext("Give a list of exclusions, each with an item and a reason.")})
        for number, exclusion in enumerate(self.exclusions, start=1):
            if not isinstance(exclusion, dict) or set(exclusion) != {"item", "reason"}:
                raise ValidationError(
                    {
                        "exclusions": gettext("Exclusion %(number)s: give exactly an item and a reason.")
                        % {"number": number}
                    }
                )
            if not str(exclusion["item"]).strip():
                raise ValidationError(
                    {"exclusions": gettext("Exclusion %(number)s: say what is excluded.") % {"number": number}}
                )
            if not str(exclusion["reason"]).strip():
                raise ValidationError(
                    {
                        "exclusions": gettext("Exclusion %(number)s (“%(item)s”): give the reason it is excluded.")
                        % {"number": number, "item": exclusion["item"]}
                    }
                )

    @property
    def unit_list(self) -> list[str]:
        return [line.strip() for line in self.units_covered.splitlines() if line.strip()]

    @property
    def location_list(self) -> list[str]:
        return [line.strip() for line in self.locations.splitlines() if line.strip()]


class ContextIssue(_OrganisationLevel, TenantModel):
    """An internal or external issue that affects what the AI management system must achieve (4.1)."""

    class Kind(models.TextChoices):
        INTERNAL = "internal", _("Internal")
        EXTERNAL = "external", _("External")

    class Category(models.TextChoices):
        LEGAL = "legal", _("Legal and regulatory")
        TECHNOLOGICAL = "technological", _("Technological")
        ETHICAL = "ethical", _("Ethical and social")
        MARKET = "market", _("Market and competition")
        ORGANISATIONAL = "organisational", _("Organisational and cultural")
        # 4.1 as amended in 2024 asks whether climate change is a relevant issue.
        ENVIRONMENTAL = "environmental", _("Environmental, incl. climate change")
        OTHER = "other", _("Other")

    kind = models.CharField(_("internal or external"), max_length=10, choices=Kind.choices)
    category = models.CharField(max_length=20, choices=Category.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    effect = models.TextField(
        _("effect on the AIMS"), blank=True, help_text=_("How the issue affects the intended outcomes.")
    )
    review_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("context issue")
        ordering = ["kind", "category", "title", "id"]

    def __str__(self) -> str:
        return self.title


class InterestedParty(_OrganisationLevel, TenantModel):
    """Someone with a stake in the AI management system, and what they require of it (4.2)."""

    class Kind(models.TextChoices):
        REGULATOR = "regulator", _("Regulator or authority")
        CUSTOMER = "customer", _("Customers and users")
        AFFECTED = "affected", _("Affected persons and communities")
        EMPLOYEES = "employees", _("Employees and their representatives")
        SUPPLIER = "supplier", _("Suppliers and partners")
        INVESTOR = "investor", _("Owners and investors")
        OTHER = "other", _("Other")

    name = models.CharField(max_length=200)
    kind = models.CharField(_("type of party"), max_length=12, choices=Kind.choices)
    requirements = models.TextField("requirements and expectations")
    how_addressed = models.TextField(_("how they are addressed"), blank=True)
    legal_requirement = models.BooleanField(
        _("includes legal requirements"),
        default=False,
        help_text=_("Some of these requirements are legal or regulatory."),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("interested party")
        verbose_name_plural = _("interested parties")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


# --- Policies (5.2, A.2.2-A.2.4) -------------------------------------------------------------


def policy_upload_to(instance: PolicyVersion, filename: str) -> str:
    # A random folder per file: names never collide and cannot be guessed from the policy.
    return f"policies/{instance.organization_id}/{uuid.uuid4().hex}/{filename}"


def add_months(start: date, months: int) -> date:
    """``start`` plus whole months, on the last day of a shorter month (31 Jan + 1 month = 28/29 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    for day in (start.day, 30, 29, 28):
        try:
            return start.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise ValueError("unreachable")  # pragma: no cover


class Policy(_OrganisationLevel, TenantModel):
    """A policy document (5.2, A.2.2) or a topic policy; its text lives in its versions."""

    class Kind(models.TextChoices):
        AI_POLICY = "ai_policy", _("AI policy (5.2)")
        DATA = "data", _("Data governance")
        RESPONSIBLE_USE = "responsible_use", _("Responsible use of AI")
        DEVELOPMENT = "development", _("AI system development")
        THIRD_PARTY = "third_party", _("Suppliers and third parties")
        SECURITY = "security", _("Information security")
        PRIVACY = "privacy", _("Privacy")
        OTHER = "other", _("Other topic")

    title = models.CharField(max_length=200)
    kind = models.CharField(
        _("type"),
        max_length=20,
        choices=Kind.choices,
        default=Kind.OTHER,
        help_text=_("The AI policy required by 5.2 is flagged as such; every other policy covers a topic (A.2.3)."),
    )
    purpose = models.TextField(blank=True, help_text=_("What the policy is for and whom it applies to."))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    review_interval_months = models.PositiveSmallIntegerField(
        _("review every (months)"), default=12, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    next_review_date = models.DateField(
        null=True, blank=True, help_text=_("Set on approval from the review interval; change it if needed.")
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("policy")
        verbose_name_plural = _("policies")
        ordering = ["title", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(kind="ai_policy"),
                name="policy_one_ai_policy_per_org",
                violation_error_message=_("The organisation already has an AI policy: write a new version of it."),
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_ai_policy(self) -> bool:
        return self.kind == self.Kind.AI_POLICY

    def review_due(self, today: date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.next_review_date is not None and self.next_review_date <= today + timedelta(REVIEW_NOTICE_DAYS)


class PolicyVersion(_OrganisationLevel, TenantModel):
    """One version of a policy: written here in Markdown, or an uploaded document.

    Draft -> in review -> approved -> retired; a version in review may be returned to draft.
    At most one version of a policy is approved at a time (the one in force).
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        APPROVED = "approved", _("Approved")
        RETIRED = "retired", _("Retired")

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    change_note = models.CharField(max_length=300, blank=True, help_text=_("What changed in this version."))
    body_markdown = models.TextField(_("text (Markdown)"), blank=True)
    file = models.FileField(upload_to=policy_upload_to, blank=True, max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(_("detected type"), max_length=100, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    effective_date = models.DateField(
        null=True, blank=True, help_text=_("When it takes effect; the approval date if empty.")
    )
    retired_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("policy version")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="policyversion_unique_number"),
            models.UniqueConstraint(
                fields=["policy"],
                condition=Q(status="approved"),
                name="policyversion_one_approved",
                violation_error_message=_("Another version of this policy is approved."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy.title} v{self.number}"

    def clean(self) -> None:
        if bool(self.body_markdown.strip()) == bool(self.file):
            raise ValidationError(
                {"body_markdown": gettext("Write the policy text or upload the document (one of the two).")}
            )
        if self.approved_by_id is not None and self.approved_by_id == self.author_id:
            raise ValidationError(gettext("The author cannot approve their own version: ask another approver."))

    @property
    def is_uploaded(self) -> bool:
        return bool(self.file)

    @property
    def editable(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_in_review(self) -> bool:
        return self.status == self.Status.IN_REVIEW

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED


class PolicyReviewReminder(TenantModel):
    """A review reminder already sent: each policy is reminded once per review date."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="review_reminders")
    review_date = models.DateField()
    sent_to = models.CharField(max_length=500)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("policy review reminder")
        constraints = [
            models.UniqueConstraint(fields=["policy", "review_date"], name="policyreviewreminder_once_per_date")
        ]

    def __str__(self) -> str:
        return f"Review reminder for policy #{self.policy_id} ({self.review_date})"


# --- Roles and concerns (5.3, A.3.2, A.3.3) --------------------------------------------------


class OrgRole(_OrganisationLevel, TenantModel):
    """A role of the AI management system, its responsibilities and authorities (5.3, A.3.2)."""

    name = models.CharField(_("role"), max_length=200)
    responsibilities = models.TextField()
    authorities = models.TextField(blank=True, help_text=_("What the holder may decide or approve."))
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("A member of the organisation…"),
    )
    external_holder = models.CharField(max_length=200, blank=True, help_text=_("…or someone outside the portal."))
    reports_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="direct_reports"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("organisational role")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.holder_id and self.external_holder.strip():
            raise ValidationError({"external_holder": gettext("Name a member or an external holder, not both.")})
        if self.pk and self.reports_to_id == self.pk:
            raise ValidationError({"reports_to": gettext("A role cannot report to itself.")})

    @property
    def holder_label(self) -> str:
        if self.holder_id:
            return str(self.holder)
        return self.external_holder or ""


class ConcernChannel(_OrganisationLevel, TenantModel):
    """A way to report concerns about the organisation's role with AI systems (A.3.3)."""

    name = models.CharField(max_length=200)
    how_to_report = models.TextField("how to report")
    contact = models.CharField(max_length=300, blank=True, help_text=_("Address, phone number or web form."))
    receivers = models.TextField(_("who receives reports"), help_text=_("Who reads the reports and acts on them."))
    anonymous = models.BooleanField(_("anonymous reports accepted"), default=False)
    protection_statement = models.TextField(
        _("protection from reprisal"), help_text=_("How people who report are protected from reprisal.")
    )
    is_active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("concern reporting channel")
        ordering = ["-is_active", "name", "id"]

    def __str__(self) -> str:
        return self.name


# --- Objectives (6.2) ------------------------------------------------------------------------


class Objective(TenantModel):
    """An AI objective (6.2): what will be achieved, how it is measured, by whom and when."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("Not started")
        ON_TRACK = "on_track", _("On track")
        AT_RISK = "at_risk", _("At risk")
        ACHIEVED = "achieved", _("Achieved")
        MISSED = "missed", _("Missed")

    class Direction(models.TextChoices):
        AT_LEAST = "at_least", _("At least the target (higher is better)")
        AT_MOST = "at_most", _("At most the target (lower is better)")

    CLOSED = (Status.ACHIEVED, Status.MISSED)
    # The portal's status colours: grey, green, amber, green (done), red.
    STATUS_STYLE = {"not_started": "not_started", "on_track": "active", "at_risk": "pending", "achieved": "approved",
                    "missed": "revoked"}  # fmt: skip

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    measure = models.CharField(
        max_length=300, help_text=_("What is measured, e.g. “share of high-risk systems assessed”.")
    )
    target = models.DecimalField(max_digits=14, decimal_places=3)
    unit = models.CharField(max_length=40, blank=True, help_text=_("e.g. %, days, systems."))
    direction = models.CharField(
        _("on target when the value is"), max_length=10, choices=Direction.choices, default=Direction.AT_LEAST
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    due_date = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NOT_STARTED)
    policy = models.ForeignKey(
        Policy,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="objectives",
        help_text=_("The policy this objective supports (6.2 a)."),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("AI objective")
        ordering = ["due_date", "title", "id"]

    def __str__(self) -> str:
        return self.title

    def is_owned_by(self, user) -> bool:
        return self.owner_id is not None and self.owner_id == user.pk

    def meets_target(self, value: Decimal | None) -> bool | None:
        """Whether ``value`` meets the target; None when there is no value yet."""
        if value is None:
            return None
        return value >= self.target if self.direction == self.Direction.AT_LEAST else value <= self.target

    @property
    def latest_value(self) -> Decimal | None:
        """The value of the latest progress record (annotated by the list selector, else one query)."""
        if hasattr(self, "latest_value_annotated"):
            return self.latest_value_annotated
        latest = self.progress.order_by("-date", "-id").first()
        return latest.value if latest else None

    @property
    def on_target(self) -> bool | None:
        return self.meets_target(self.latest_value)

    @property
    def status_style(self) -> str:
        return self.STATUS_STYLE.get(self.status, self.status)

    @property
    def target_display(self) -> str:
        return plain_number(self.target)

    @property
    def latest_value_display(self) -> str:
        return plain_number(self.latest_value)

    def is_overdue(self, today: date | None = None) -> bool:
        return self.status not in self.CLOSED and self.due_date < (today or timezone.localdate())

    @property
    def is_closed(self) -> bool:
        """Achieved or missed: no longer worked on, so never overdue."""
        return self.status in self.CLOSED


class ObjectiveProgress(TenantModel):
    """A measurement of an objective on a date."""

    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="progress")
    date = models.DateField(default=timezone.localdate)
    value = models.DecimalField(max_digits=14, decimal_places=3)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("objective progress record")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return gettext("%(value)s on %(date)s") % {"value": self.value_display, "date": self.date}

    @property
    def value_display(self) -> str:
        return plain_number(self.value)

    def clean(self) -> None:
        if self.date and self.date > timezone.localdate():
            raise ValidationError({"date": gettext("Progress is recorded for today or a past date.")})

    def is_owned_by(self, user) -> bool:
        return self.objective.is_owned_by(user)


# --- Competence and awareness (7.2, 7.3) -----------------------------------------------------


class CompetenceRecord(TenantModel):
    """Evidence of a member's competence or awareness: training, qualification, session, experience."""

    class Kind(models.TextChoices):
        TRAINING = "training", _("Training")
        QUALIFICATION = "qualification", _("Qualification")
        AWARENESS = "awareness", _("Awareness session")
        EXPERIENCE = "experience", _("Experience")

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("type"), max_length=14, choices=Kind.choices)
    title = models.CharField(max_length=200)
    provider = models.CharField(max_length=200, blank=True)
    date_completed = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    evidence_note = models.TextField(_("evidence"), blank=True, help_text=_("Where the certificate or record is kept."))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("competence record")
        ordering = ["-date_completed", "-id"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors = {}
        if self.date_completed and self.date_completed > timezone.localdate():
            errors["date_completed"] = gettext("Record what has been completed: the date cannot be in the future.")
        if self.valid_until and self.date_completed and self.valid_until < self.date_completed:
            errors["valid_until"] = gettext("Valid until must be on or after the completion date.")
        if errors:
            raise ValidationError(errors)

    def is_owned_by(self, user) -> bool:
        return self.member_id == user.pk

    def validity(self, today: date | None = None) -> str:
        """``valid``, ``expiring`` (within the notice period) or ``expired``."""
        today = today or timezone.localdate()
        if self.valid_until is None or self.valid_until > today + timedelta(REVIEW_NOTICE_DAYS):
            return "valid"
        return "expired" if self.valid_until < today else "expiring"

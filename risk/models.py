"""AI risk criteria, the risk register with treatments, and AI system impact assessments.

Risk sources, AI-related objectives and Annex A controls are rows of the shipped catalogue
(:class:`controls.catalogue.models.Requirement`): tenant-free reference data, the one part of
the controls app every module may import.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from aims.models import Organization
from aims.tenancy import TenantModel, TenantQuerySet
from controls.catalogue.models import Requirement
from registry.models import AISystem
from risk.impact.models import ImpactAssessment, ImpactItem  # noqa: F401 (registered with the app)


class Level(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


LEVEL_RANK: dict[str, int] = {Level.LOW: 0, Level.MEDIUM: 1, Level.HIGH: 2, Level.CRITICAL: 3}

# The default scales are stored in English, as the criteria's own data; their labels are shown
# in the reader's language for as long as the organisation keeps them (scale_label).
DEFAULT_LIKELIHOOD = [
    {"label": gettext_noop("Rare"), "description": "Not expected in the life of the system."},
    {"label": gettext_noop("Unlikely"), "description": "Could happen, but has not happened in similar systems."},
    {"label": gettext_noop("Possible"), "description": "Has happened in similar systems."},
    {"label": gettext_noop("Likely"), "description": "Expected to happen at least once a year."},
    {"label": gettext_noop("Almost certain"), "description": "Expected to happen often."},
]
DEFAULT_IMPACT = [
    {"label": gettext_noop("Negligible"), "description": "No noticeable effect on people or the organisation."},
    {"label": gettext_noop("Minor"), "description": "Limited, quickly reversible effects on a few people."},
    {"label": gettext_noop("Moderate"), "description": "Noticeable harm or cost; reversible with effort."},
    {"label": gettext_noop("Major"), "description": "Serious harm to people or rights, regulatory breach."},
    {
        "label": gettext_noop("Severe"),
        "description": "Lasting or irreversible harm to many people; existential for the service.",
    },
]


DEFAULT_SCALE_LABELS = frozenset(level["label"] for level in (*DEFAULT_LIKELIHOOD, *DEFAULT_IMPACT))


def scale_label(level: dict) -> str:
    """The label of a scale level in the reader's language when it is a default one, else as written."""
    label = str(level.get("label", ""))
    return gettext(label) if label in DEFAULT_SCALE_LABELS else label


def default_matrix(likelihood_levels: int = 5, impact_levels: int = 5) -> list[list[str]]:
    """matrix[impact][likelihood] (both 0-based): the level grows with their combined position."""
    matrix: list[list[str]] = []
    for i in range(impact_levels):
        row: list[str] = []
        for j in range(likelihood_levels):
            score = (i + 1) / impact_levels + (j + 1) / likelihood_levels  # 2/n .. 2
            row.append(
                Level.CRITICAL
                if score >= 1.75
                else Level.HIGH
                if score >= 1.3
                else Level.MEDIUM
                if score >= 0.9
                else Level.LOW
            )
        matrix.append(row)
    return matrix


class RiskCriteria(TenantModel):
    """How the organisation scores AI risks (6.1.2): scales, matrix and the acceptance threshold."""

    likelihood_levels = models.JSONField(default=list)
    impact_levels = models.JSONField(default=list)
    matrix = models.JSONField(default=list, help_text=_("matrix[impact][likelihood] gives the risk level."))
    acceptance_threshold = models.CharField(
        max_length=10,
        choices=Level,
        default=Level.MEDIUM,
        help_text=_("Highest residual level that may be accepted without an explicit, justified override."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("risk criteria")
        verbose_name_plural = _("risk criteria")
        constraints = [models.UniqueConstraint(fields=["organization"], name="riskcriteria_one_per_org")]

    def __str__(self) -> str:
        return f"Risk criteria ({len(self.likelihood_levels)} by {len(self.impact_levels)})"

    def level_for(self, likelihood: int | None, impact: int | None) -> str:
        """Level of a (1-based) likelihood and impact; empty when either is missing."""
        if not likelihood or not impact:
            return ""
        return self.matrix[min(impact, len(self.impact_levels)) - 1][min(likelihood, len(self.likelihood_levels)) - 1]

    def acceptable(self, level: str) -> bool:
        return bool(level) and LEVEL_RANK[Level(level)] <= LEVEL_RANK[Level(self.acceptance_threshold)]

    def clean(self) -> None:
        errors = {}
        for name in ("likelihood_levels", "impact_levels"):
            scale = getattr(self, name)
            if not isinstance(scale, list) or not 3 <= len(scale) <= 5:
                errors[name] = gettext("Use between 3 and 5 levels.")
            elif any(not isinstance(s, dict) or not str(s.get("label", "")).strip() for s in scale):
                errors[name] = gettext("Every level needs a label.")
        if not errors:
            rows, cols = len(self.impact_levels), len(self.likelihood_levels)
            if (
                not isinstance(self.matrix, list)
                or len(self.matrix) != rows
                or any(not isinstance(r, list) or len(r) != cols for r in self.matrix)
            ):
                errors["matrix"] = gettext("The matrix needs %(rows)s rows of %(cols)s cells.") % {
                    "rows": rows,
                    "cols": cols,
                }
            elif any(cell not in Level.values for row in self.matrix for cell in row):
                errors["matrix"] = gettext("Every cell must be one of: %(levels)s.") % {
                    "levels": ", ".join(Level.values)
                }
        if errors:
            raise ValidationError(errors)


# Risks without a review date sort after every dated one (as PostgreSQL sorts NULL ascending):
# a sort key with no NULL lets one row comparison, backed by one index, seek a keyset page.
NO_REVIEW_DATE = date(9999, 12, 31)
REVIEW_DATE_SORT_KEY = Coalesce(F("next_review_date"), Value(NO_REVIEW_DATE), output_field=models.DateField())


class RiskQuerySet(TenantQuerySet, models.QuerySet["Risk"]):
    def for_org(self, organization: Organization) -> Self:
        """The organisation's risks, as this queryset (so ``open()`` and the like chain)."""
        return self.filter(organization=organization)

    def open(self) -> Self:
        return self.exclude(status=Risk.Status.CLOSED)

    def review_overdue(self, today: date | None = None) -> Self:
        return self.open().filter(next_review_date__lt=today or timezone.localdate())


RiskManager = models.Manager.from_queryset(RiskQuerySet)


class Risk(TenantModel):
    """One AI risk (6.1.2, 8.2), for the organisation or for one AI system."""

    class Treatment(models.TextChoices):
        AVOID = "avoid", _("Avoid")
        MODIFY = "modify", _("Modify (reduce)")
        SHARE = "share", _("Share (transfer)")
        RETAIN = "retain", _("Retain")

    class Status(models.TextChoices):
        IDENTIFIED = "identified", _("Identified")
        ASSESSED = "assessed", _("Assessed")
        IN_TREATMENT = "in_treatment", _("In treatment")
        ACCEPTED = "accepted", _("Accepted")
        CLOSED = "closed", _("Closed")

    ref_code = models.CharField(_("reference"), max_length=20, blank=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text=_("Cause, event and consequence."))
    system = models.ForeignKey(
        AISystem,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="risks",
        help_text=_("Leave empty for an organisation-level risk."),
    )
    risk_source = models.ForeignKey(
        Requirement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind": Requirement.Kind.RISK_SOURCE},
        help_text=_("Annex C risk source."),
    )
    objective = models.ForeignKey(
        Requirement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind": Requirement.Kind.AI_OBJECTIVE},
        verbose_name=_("affected objective"),
        help_text=_("Annex C AI-related objective the risk threatens."),
    )
    # Blank is allowed so that removing a user never blocks the records they owned; forms ask for one.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    inherent_likelihood = models.PositiveSmallIntegerField(null=True, blank=True)
    inherent_impact = models.PositiveSmallIntegerField(null=True, blank=True)
    inherent_level = models.CharField(max_length=10, choices=Level, blank=True, editable=False)
    treatment_option = models.CharField(max_length=10, choices=Treatment.choices, blank=True)
    residual_likelihood = models.PositiveSmallIntegerField(null=True, blank=True)
    residual_impact = models.PositiveSmallIntegerField(null=True, blank=True)
    residual_level = models.CharField(max_length=10, choices=Level, blank=True, editable=False)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.IDENTIFIED)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    acceptance_rationale = models.TextField(blank=True)
    acceptance_override = models.BooleanField(
        default=False, help_text=_("Accepted although the residual level is above the acceptance threshold.")
    )
    next_review_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[RiskManager[Risk]] = RiskManager()

    class Meta:
        ordering = ["ref_code"]
        constraints = [models.UniqueConstraint(fields=["organization", "ref_code"], name="risk_unique_ref_per_org")]
        # Each ordering of the register (RiskFilter) walks one of these indexes in keyset order, so a
        # page deep in 100,000 risks costs what the first one does; a numbered page reads its ids
        # from the same index (an index-only scan with OFFSET, which needs the id in the index).
        # The levels' indexes serve the level filters and the dashboard tiles; the scores' index
        # holds everything the heat maps and the count group by (risk.selectors.register_figures).
        indexes = [
            models.Index(fields=["organization", "ref_code", "id"], name="risk_org_ref_id"),
            models.Index(
                fields=[
                    "organization",
                    "status",
                    "inherent_likelihood",
                    "inherent_impact",
                    "residual_likelihood",
                    "residual_impact",
                ],
                include=["inherent_level", "residual_level"],
                name="risk_org_scores",
            ),
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["organization", "residual_level"]),
            models.Index(fields=["organization", "inherent_level"]),
            models.Index(fields=["organization", "title", "id"], name="risk_org_title_id"),
            models.Index(F("organization"), REVIEW_DATE_SORT_KEY, F("id"), name="risk_org_review_id"),
            models.Index(fields=["organization", "updated_at", "id"], name="risk_org_updated_id"),
        ]

    def __str__(self) -> str:
        return f"{self.ref_code} {self.title}"

    @property
    def current_level(self) -> str:
        """The residual level once assessed, otherwise the inherent one."""
        return self.residual_level or self.inherent_level

    @property
    def review_overdue(self) -> bool:
        return (
            self.status != self.Status.CLOSED
            and self.next_review_date is not None
            and self.next_review_date < timezone.localdate()
        )

    def is_owned_by(self, user) -> bool:
        """AI system owners change the risks they own or those of the systems they own."""
        if self.owner_id == user.pk:
            return True
        return self.system is not None and self.system.owner_id == user.pk


class TreatmentAction(TenantModel):
    """An action that treats a risk (6.1.3, 8.3), and the Annex A controls it relies on."""

    class Status(models.TextChoices):
        PLANNED = "planned", pgettext_lazy("treatment status", "Planned")
        IN_PROGRESS = "in_progress", pgettext_lazy("treatment status", "In progress")
        DONE = "done", pgettext_lazy("treatment status", "Done")
        CANCELLED = "cancelled", pgettext_lazy("treatment status", "Cancelled")

    risk = models.ForeignKey(Risk, on_delete=models.CASCADE, related_name="treatments")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("treatment")
        ordering = ["due_date", "pk"]
        indexes = [
            # The SoA counts a control's treatments and risks from its links: covering the
            # treatment's risk and status, each link is read from the index alone.
            models.Index(fields=["id"], include=["risk", "status"], name="treatment_id_risk_status"),
            # Readiness (8.3) counts the open treatments past their due date.
            models.Index(
                fields=["organization", "due_date"],
                condition=models.Q(status__in=["planned", "in_progress"]),
                name="treatment_open_due",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def overdue(self) -> bool:
        return (
            self.status in (self.Status.PLANNED, self.Status.IN_PROGRESS)
            and self.due_date is not None
            and self.due_date < timezone.localdate()
        )

    def is_owned_by(self, user) -> bool:
        return self.owner_id == user.pk or self.risk.is_owned_by(user)

    @classmethod
    def past_due(cls, today: date) -> models.Q:
        """Planned or started and past the due date (along the index ``treatment_open_due``)."""
        return models.Q(status__in=[cls.Status.PLANNED, cls.Status.IN_PROGRESS], due_date__lt=today)


class TreatmentControl(TenantModel):
    """A treatment relies on an Annex A control: what makes that control evidently applicable."""

    treatment = models.ForeignKey(TreatmentAction, on_delete=models.CASCADE, related_name="control_links")
    control = models.ForeignKey(
        Requirement, on_delete=models.PROTECT, related_name="+", limit_choices_to={"kind": Requirement.Kind.CONTROL}
    )

    class Meta:
        verbose_name = _("treatment control")
        constraints = [models.UniqueConstraint(fields=["treatment", "control"], name="treatmentcontrol_unique")]
        # What relies on a control (the SoA): one organisation's links to one control, in one range.
        indexes = [models.Index(fields=["organization", "control", "treatment"], name="treatmentcontrol_org_control")]

    def __str__(self) -> str:
        return f"{self.treatment} relies on {self.control_id}"


class ReferenceCounter(models.Model):
    """The last number handed out for one kind of reference (RSK-0042) in one organisation.

    Saving a record reads and moves on this one row under the organisation's row lock instead
    of reading every reference of the register, so it costs the same at 10 and at 100,000
    risks. Not an AIMS record: it has no history of its own (the references it gives do).
    """

    class Kind(models.TextChoices):
        RISK = "risk", _("Risk")

    # The unique constraint's index (organization, kind) serves every lookup.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "kind"], name="referencecounter_unique_kind")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.last_number}"


class OpenRiskTally(models.Model):
    """How many open risks of one organisation share a status and both levels.

    Kept by PostgreSQL triggers on the register (migration 0009), in the same transaction as
    every insert, update and delete, bulk ones and cascades included, so the dashboard and the
    readiness checks read a few dozen rows instead of counting 100,000 risks after each write.
    A row that falls to zero is removed; an organisation's rows go with its last risk. Not an
    AIMS record and never written by the portal itself. On SQLite the register is counted
    directly instead (risk.selectors.open_risk_groups).
    """

    # No foreign key constraint: the triggers may write while an organisation's risks are being
    # deleted with it, and a row that falls to zero is removed anyway.
    organization = models.ForeignKey(
        Organization, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    status = models.CharField(max_length=20)
    inherent_level = models.CharField(max_length=10)
    residual_level = models.CharField(max_length=10)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "status", "inherent_level", "residual_level"], name="openrisktally_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.status} {self.inherent_level}/{self.residual_level}: {self.count}"


class OpenRiskReviewTally(models.Model):
    """How many open risks of one organisation are due for review on one day (kept like OpenRiskTally).

    "Overdue for review" is then the sum over the days before today: a handful of rows, however
    large the register, and right the day after without anything being recomputed.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    review_date = models.DateField()
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "review_date"], name="openriskreviewtally_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.review_date}: {self.count}"

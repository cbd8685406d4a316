"""Internal audits (9.2), findings, corrective actions (10.2), management reviews (9.3) and AI incidents (A.8.4)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from aims.tenancy import TenantModel, TenantQuerySet

# Requirements are rows of the shipped catalogue and evidence items belong to the controls
# app: both are referenced by name, as the other apps do, so the models read the same
# whichever module is imported first.


class AuditProgramme(TenantModel):
    """The year's internal audit programme (9.2.2): what it aims at and the audits it plans."""

    year = models.PositiveSmallIntegerField()
    objectives = models.TextField(blank=True, help_text="What the year's audits aim to show or improve.")
    notes = models.TextField(blank=True, help_text="Frequency, methods, responsibilities, reporting.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "audit programme"
        ordering = ["-year"]
        constraints = [models.UniqueConstraint(fields=["organization", "year"], name="auditprogramme_one_per_year")]

    def __str__(self) -> str:
        return f"Audit programme {self.year}"

    @property
    def title(self) -> str:
        return str(self)


class Audit(TenantModel):
    """One internal audit: scope, criteria, team, dates, status and conclusion (9.2.1)."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        REPORTING = "reporting", "Reporting"
        CLOSED = "closed", "Closed"

    programme = models.ForeignKey(AuditProgramme, on_delete=models.PROTECT, related_name="audits")
    ref_code = models.CharField("reference", max_length=20, blank=True)
    title = models.CharField(max_length=200)
    scope = models.TextField(help_text="Processes, units, AI systems and sites the audit covers.")
    auditee_area = models.CharField(
        "audited area", max_length=200, blank=True, help_text="The unit(s) or function(s) audited."
    )
    lead_auditor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    planned_start = models.DateField()
    planned_end = models.DateField()
    actual_start = models.DateField(null=True, blank=True)
    actual_end = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    conclusion = models.TextField(blank=True, help_text="The audit's overall conclusion, for the report.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["planned_start", "ref_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "ref_code"], condition=~Q(ref_code=""), name="audit_unique_ref"
            ),
        ]
        indexes = [models.Index(fields=["organization", "status", "planned_start"])]

    def __str__(self) -> str:
        return f"{self.ref_code} {self.title}".strip()

    @property
    def is_planned(self) -> bool:
        return self.status == self.Status.PLANNED

    @property
    def is_in_progress(self) -> bool:
        return self.status == self.Status.IN_PROGRESS

    @property
    def is_reporting(self) -> bool:
        return self.status == self.Status.REPORTING

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED

    @property
    def records_findings(self) -> bool:
        """Findings and checklist results are recorded while the audit is under way."""
        return self.status in (self.Status.IN_PROGRESS, self.Status.REPORTING)


class AuditCriterion(TenantModel):
    """A clause or Annex A control the audit checks conformity against."""

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="criteria_links")
    requirement = models.ForeignKey("controls.Requirement", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "audit criterion"
        verbose_name_plural = "audit criteria"
        constraints = [models.UniqueConstraint(fields=["audit", "requirement"], name="auditcriterion_unique")]

    def __str__(self) -> str:
        return f"{self.audit_id} checks {self.requirement_id}"


class AuditMember(TenantModel):
    """Someone on an audit: an auditor, or an owner of the audited area (the auditee)."""

    class Role(models.TextChoices):
        AUDITOR = "auditor", "Auditor"
        AREA_OWNER = "area_owner", "Responsible for the audited area"

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="member_links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=12, choices=Role.choices)

    class Meta:
        verbose_name = "audit team member"
        constraints = [models.UniqueConstraint(fields=["audit", "user", "role"], name="auditmember_unique")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display().lower()})"


class ChecklistItem(TenantModel):
    """One question of an audit's checklist, generated from one of its criteria."""

    class Result(models.TextChoices):
        NOT_CHECKED = "not_checked", "Not checked"
        CONFORMING = "conforming", "Conforming"
        NONCONFORMING = "nonconforming", "Nonconforming"
        OBSERVATION = "observation", "Observation"

    STYLE: dict[str, str] = {Result.NOT_CHECKED: "status-draft", Result.CONFORMING: "status-done",
             Result.NONCONFORMING: "status-revoked", Result.OBSERVATION: "status-pending"}  # fmt: skip

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="checklist")
    requirement = models.ForeignKey("controls.Requirement", on_delete=models.PROTECT, related_name="+")
    ref = models.CharField("requirement", max_length=40, editable=False)
    question = models.TextField()
    result = models.CharField(max_length=14, choices=Result.choices, default=Result.NOT_CHECKED)
    notes = models.TextField(blank=True)
    evidence_checked = models.TextField(blank=True, help_text="Records, interviews and samples looked at.")
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "checklist item"
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["audit", "requirement"], name="checklistitem_unique")]

    def __str__(self) -> str:
        return f"{self.ref} {self.question[:60]}"

    @property
    def style(self) -> str:
        return self.STYLE.get(self.result, "")

    @property
    def calls_for_finding(self) -> bool:
        """A nonconformity or an observation is recorded as a finding."""
        return self.result in (self.Result.NONCONFORMING, self.Result.OBSERVATION)


class Finding(TenantModel):
    """A finding of an audit, against a requirement, supported by evidence."""

    class Kind(models.TextChoices):
        MAJOR_NC = "major_nc", "Major nonconformity"
        MINOR_NC = "minor_nc", "Minor nonconformity"
        OBSERVATION = "observation", "Observation"
        OFI = "ofi", "Opportunity for improvement"

    NONCONFORMITIES = (Kind.MAJOR_NC, Kind.MINOR_NC)
    STYLE: dict[str, str] = {Kind.MAJOR_NC: "level-critical", Kind.MINOR_NC: "level-high",
                             Kind.OBSERVATION: "level-medium", Kind.OFI: "level-low"}  # fmt: skip

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="findings")
    ref_code = models.CharField("reference", max_length=30, blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    requirement = models.ForeignKey(
        "controls.Requirement", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    checklist_item = models.ForeignKey(
        ChecklistItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="findings"
    )
    system = models.ForeignKey(
        "registry.AISystem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="findings",
        verbose_name="AI system",
        help_text="The AI system it concerns, if it concerns one.",
    )
    title = models.CharField(max_length=200)
    description = models.TextField(help_text="What was found, against which requirement, and where.")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    raised_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["audit", "id"]
        indexes = [models.Index(fields=["organization", "kind", "raised_at"])]

    def __str__(self) -> str:
        return f"{self.ref_code} {self.title}".strip()

    @property
    def is_nonconformity(self) -> bool:
        return self.kind in self.NONCONFORMITIES

    @property
    def style(self) -> str:
        return self.STYLE.get(self.kind, "")


class FindingEvidence(TenantModel):
    """Evidence a finding rests on (controls.Evidence)."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="evidence_links")
    evidence = models.ForeignKey("controls.Evidence", on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = "finding evidence"
        verbose_name_plural = "finding evidence"
        constraints = [models.UniqueConstraint(fields=["finding", "evidence"], name="findingevidence_unique")]

    def __str__(self) -> str:
        return f"{self.finding_id} rests on {self.evidence_id}"


class Incident(TenantModel):
    """An AI incident (A.8.4): what happened, how bad, who was told and when."""

    class Severity(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"
        CRITICAL = "critical", "Critical"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        INVESTIGATING = "investigating", "Investigating"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    OPEN_STATUSES = (Status.OPEN, Status.INVESTIGATING)

    ref_code = models.CharField("reference", max_length=20, blank=True)
    system = models.ForeignKey(
        "registry.AISystem", on_delete=models.SET_NULL, null=True, blank=True, related_name="incidents"
    )
    title = models.CharField(max_length=200)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    description = models.TextField(help_text="What happened, to whom, and its consequences.")
    occurred_at = models.DateTimeField(null=True, blank=True)
    detected_at = models.DateTimeField(default=timezone.now)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    informed_parties = models.TextField(
        "who was informed", blank=True, help_text="Users, customers, management, suppliers… told about it."
    )
    informed_at = models.DateTimeField("informed at", null=True, blank=True)
    authority_notified = models.BooleanField("authority notified", default=False)
    authority_notified_at = models.DateTimeField("authority notified at", null=True, blank=True)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.OPEN)
    resolution = models.TextField(blank=True, help_text="How it was contained and resolved.")
    monitoring_alert = models.ForeignKey(
        "registry.MonitoringAlert", on_delete=models.SET_NULL, null=True, blank=True, related_name="incidents"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-detected_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "ref_code"], condition=~Q(ref_code=""), name="incident_unique_ref"
            ),
        ]
        indexes = [models.Index(fields=["organization", "status"])]

    def __str__(self) -> str:
        return f"{self.ref_code} {self.title}".strip()

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def is_owned_by(self, user) -> bool:
        # An AI system owner answers for incidents they reported or that concern their systems.
        return self.reported_by_id == user.pk or ((system := self.system) is not None and system.owner_id == user.pk)


class CorrectiveActionQuerySet(TenantQuerySet):
    def unfinished(self) -> CorrectiveActionQuerySet:
        return self.filter(status__in=CorrectiveAction.UNFINISHED)

    def overdue(self, today=None) -> CorrectiveActionQuerySet:
        return self.unfinished().filter(due_date__lt=today or timezone.localdate())


CorrectiveActionManager = models.Manager.from_queryset(CorrectiveActionQuerySet)


class CorrectiveAction(TenantModel):
    """A corrective action (10.2) from a finding or an incident, closed only after an effectiveness check."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done, awaiting effectiveness check"
        VERIFIED_EFFECTIVE = "verified_effective", "Verified effective"
        NOT_EFFECTIVE = "not_effective", "Not effective"

    # Still work to do: an action found not effective needs more.
    UNFINISHED = (Status.OPEN, Status.IN_PROGRESS, Status.NOT_EFFECTIVE)
    STYLE: dict[str, str] = {Status.OPEN: "status-draft", Status.IN_PROGRESS: "status-in_review",
                             Status.DONE: "status-pending", Status.VERIFIED_EFFECTIVE: "status-done",
                             Status.NOT_EFFECTIVE: "status-revoked"}  # fmt: skip

    ref_code = models.CharField("reference", max_length=20, blank=True)
    finding = models.ForeignKey(
        Finding, on_delete=models.PROTECT, null=True, blank=True, related_name="corrective_actions"
    )
    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, null=True, blank=True, related_name="corrective_actions"
    )
    # An action raised from an alert keeps it as its source: the alert (and so its system)
    # cannot be deleted while the action exists.
    monitoring_alert = models.ForeignKey(
        "registry.MonitoringAlert",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrective_actions",
    )
    title = models.CharField(max_length=200)
    correction = models.TextField(blank=True, help_text="What was done at once to contain the nonconformity.")
    root_cause = models.TextField(blank=True, help_text="Why it happened (e.g. five whys).")
    action = models.TextField("corrective action", blank=True, help_text="What removes the cause so it does not recur.")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=18, choices=Status.choices, default=Status.OPEN)
    implemented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    implemented_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verified_on = models.DateField("effectiveness checked on", null=True, blank=True)
    verification_note = models.TextField("effectiveness check", blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[CorrectiveActionManager] = CorrectiveActionManager()

    class Meta:
        verbose_name = "corrective action"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(finding__isnull=False) | Q(incident__isnull=False) | Q(monitoring_alert__isnull=False),
                name="correctiveaction_has_source",
            ),
            models.UniqueConstraint(
                fields=["organization", "ref_code"], condition=~Q(ref_code=""), name="correctiveaction_unique_ref"
            ),
        ]
        indexes = [models.Index(fields=["organization", "status", "due_date"])]

    def __str__(self) -> str:
        return f"{self.ref_code} {self.title}".strip()

    def is_owned_by(self, user) -> bool:
        return self.owner_id == user.pk

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def is_open(self) -> bool:
        """Not started yet (it may still be deleted)."""
        return self.status == self.Status.OPEN

    @property
    def is_done(self) -> bool:
        return self.status == self.Status.DONE

    @property
    def may_start(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.NOT_EFFECTIVE)

    @property
    def is_unfinished(self) -> bool:
        return self.status in self.UNFINISHED

    @property
    def overdue(self) -> bool:
        return self.status in self.UNFINISHED and self.due_date is not None and self.due_date < timezone.localdate()

    @property
    def style(self) -> str:
        return self.STYLE.get(self.status, "")


class ManagementReview(TenantModel):
    """A management review (9.3): who attended, the inputs as gathered, decisions and actions."""

    title = models.CharField(max_length=200)
    held_on = models.DateField("date")
    period_start = models.DateField(help_text="Start of the period the inputs cover.")
    period_end = models.DateField(help_text="End of the period the inputs cover.")
    external_attendees = models.TextField(blank=True, help_text="Attendees without an account, one per line.")
    inputs = models.JSONField(default=dict, editable=False, help_text="The inputs (9.3.2), frozen when gathered.")
    inputs_gathered_at = models.DateTimeField(null=True, blank=True, editable=False)
    decisions = models.TextField(
        blank=True, help_text="Decisions on continual improvement opportunities and any changes needed (9.3.3)."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "management review"
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return self.title


class ReviewAttendee(TenantModel):
    review = models.ForeignKey(ManagementReview, on_delete=models.CASCADE, related_name="attendee_links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = "review attendee"
        constraints = [models.UniqueConstraint(fields=["review", "user"], name="reviewattendee_unique")]

    def __str__(self) -> str:
        return str(self.user)


class ReviewAction(TenantModel):
    """An action decided in a management review; the next review reports its status."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    UNFINISHED = (Status.OPEN, Status.IN_PROGRESS)

    review = models.ForeignKey(ManagementReview, on_delete=models.CASCADE, related_name="actions")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "review action"
        ordering = ["due_date", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def overdue(self) -> bool:
        return self.status in self.UNFINISHED and self.due_date is not None and self.due_date < timezone.localdate()

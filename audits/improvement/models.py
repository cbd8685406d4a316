"""Internal audits (9.2), findings, corrective actions (10.2), management reviews (9.3) and AI incidents (A.8.4)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from aims.tenancy import TenantModel, TenantQuerySet

# Requirements are rows of the shipped catalogue and evidence items belong to the controls
# app: both are referenced by name, as the other apps do, so the models read the same
# whichever module is imported first.


class AuditProgramme(TenantModel):
    """The year's internal audit programme (9.2.2): what it aims at and the audits it plans."""

    year = models.PositiveSmallIntegerField(verbose_name=_("year"))
    objectives = models.TextField(
        blank=True, help_text=_("What the year's audits aim to show or improve."), verbose_name=_("objectives")
    )
    notes = models.TextField(
        blank=True, help_text=_("Frequency, methods, responsibilities, reporting."), verbose_name=_("notes")
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("audit programme")
        ordering = ["-year"]
        constraints = [models.UniqueConstraint(fields=["organization", "year"], name="auditprogramme_one_per_year")]

    def __str__(self) -> str:
        return gettext("Audit programme %(year)s") % {"year": self.year}

    @property
    def title(self) -> str:
        return str(self)


class Audit(TenantModel):
    """One internal audit: scope, criteria, team, dates, status and conclusion (9.2.1)."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        REPORTING = "reporting", _("Reporting")
        CLOSED = "closed", _("Closed")

    programme = models.ForeignKey(
        AuditProgramme, on_delete=models.PROTECT, related_name="audits", verbose_name=_("programme")
    )
    ref_code = models.CharField(_("reference"), max_length=20, blank=True)
    title = models.CharField(max_length=200, verbose_name=_("title"))
    scope = models.TextField(
        help_text=_("Processes, units, AI systems and sites the audit covers."), verbose_name=_("scope")
    )
    auditee_area = models.CharField(
        _("audited area"), max_length=200, blank=True, help_text=_("The unit(s) or function(s) audited.")
    )
    lead_auditor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lead auditor"),
    )
    planned_start = models.DateField(verbose_name=_("planned start"))
    planned_end = models.DateField(verbose_name=_("planned end"))
    actual_start = models.DateField(null=True, blank=True, verbose_name=_("actual start"))
    actual_end = models.DateField(null=True, blank=True, verbose_name=_("actual end"))
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED, verbose_name=_("status"))
    conclusion = models.TextField(
        blank=True, help_text=_("The audit's overall conclusion, for the report."), verbose_name=_("conclusion")
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

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

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="criteria_links", verbose_name=_("audit"))
    requirement = models.ForeignKey(
        "controls.Requirement", on_delete=models.PROTECT, related_name="+", verbose_name=_("requirement")
    )

    class Meta:
        verbose_name = _("audit criterion")
        verbose_name_plural = _("audit criteria")
        constraints = [models.UniqueConstraint(fields=["audit", "requirement"], name="auditcriterion_unique")]

    def __str__(self) -> str:
        return f"{self.audit_id} checks {self.requirement_id}"


class AuditMember(TenantModel):
    """Someone on an audit: an auditor, or an owner of the audited area (the auditee)."""

    class Role(models.TextChoices):
        AUDITOR = "auditor", _("Auditor")
        AREA_OWNER = "area_owner", _("Responsible for the audited area")

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="member_links", verbose_name=_("audit"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    role = models.CharField(max_length=12, choices=Role.choices, verbose_name=_("role"))

    class Meta:
        verbose_name = _("audit team member")
        constraints = [models.UniqueConstraint(fields=["audit", "user", "role"], name="auditmember_unique")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display().lower()})"


class ChecklistItem(TenantModel):
    """One question of an audit's checklist, generated from one of its criteria."""

    class Result(models.TextChoices):
        NOT_CHECKED = "not_checked", _("Not checked")
        CONFORMING = "conforming", _("Conforming")
        NONCONFORMING = "nonconforming", _("Nonconforming")
        OBSERVATION = "observation", _("Observation")

    STYLE: dict[str, str] = {Result.NOT_CHECKED: "status-draft", Result.CONFORMING: "status-done",
             Result.NONCONFORMING: "status-revoked", Result.OBSERVATION: "status-pending"}  # fmt: skip

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="checklist", verbose_name=_("audit"))
    requirement = models.ForeignKey(
        "controls.Requirement", on_delete=models.PROTECT, related_name="+", verbose_name=_("requirement")
    )
    ref = models.CharField(_("requirement"), max_length=40, editable=False)
    question = models.TextField(verbose_name=_("question"))
    result = models.CharField(
        max_length=14, choices=Result.choices, default=Result.NOT_CHECKED, verbose_name=_("result")
    )
    notes = models.TextField(blank=True, verbose_name=_("notes"))
    evidence_checked = models.TextField(
        blank=True, help_text=_("Records, interviews and samples looked at."), verbose_name=_("evidence checked")
    )
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("checked by"),
    )
    checked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("checked at"))
    order = models.PositiveIntegerField(default=0, verbose_name=_("order"))

    class Meta:
        verbose_name = _("checklist item")
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
        MAJOR_NC = "major_nc", _("Major nonconformity")
        MINOR_NC = "minor_nc", _("Minor nonconformity")
        OBSERVATION = "observation", _("Observation")
        OFI = "ofi", _("Opportunity for improvement")

    NONCONFORMITIES = (Kind.MAJOR_NC, Kind.MINOR_NC)
    STYLE: dict[str, str] = {Kind.MAJOR_NC: "level-critical", Kind.MINOR_NC: "level-high",
                             Kind.OBSERVATION: "level-medium", Kind.OFI: "level-low"}  # fmt: skip

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="findings", verbose_name=_("audit"))
    ref_code = models.CharField(_("reference"), max_length=30, blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, verbose_name=_("kind"))
    requirement = models.ForeignKey(
        "controls.Requirement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requirement"),
    )
    checklist_item = models.ForeignKey(
        ChecklistItem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="findings",
        verbose_name=_("checklist item"),
    )
    system = models.ForeignKey(
        "registry.AISystem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="findings",
        verbose_name=_("AI system"),
        help_text=_("The AI system it concerns, if it concerns one."),
    )
    title = models.CharField(max_length=200, verbose_name=_("title"))
    description = models.TextField(
        help_text=_("What was found, against which requirement, and where."), verbose_name=_("description")
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("raised by")
    )
    raised_at = models.DateTimeField(default=timezone.now, verbose_name=_("raised at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

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

    finding = models.ForeignKey(
        Finding, on_delete=models.CASCADE, related_name="evidence_links", verbose_name=_("finding")
    )
    evidence = models.ForeignKey(
        "controls.Evidence", on_delete=models.CASCADE, related_name="+", verbose_name=_("evidence")
    )

    class Meta:
        verbose_name = _("finding evidence")
        verbose_name_plural = _("finding evidence")
        constraints = [models.UniqueConstraint(fields=["finding", "evidence"], name="findingevidence_unique")]

    def __str__(self) -> str:
        return f"{self.finding_id} rests on {self.evidence_id}"


class Incident(TenantModel):
    """An AI incident (A.8.4): what happened, how bad, who was told and when."""

    class Severity(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")
        CRITICAL = "critical", _("Critical")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("record status", "Open")
        INVESTIGATING = "investigating", _("Investigating")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    OPEN_STATUSES = (Status.OPEN, Status.INVESTIGATING)

    ref_code = models.CharField(_("reference"), max_length=20, blank=True)
    system = models.ForeignKey(
        "registry.AISystem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("system"),
    )
    title = models.CharField(max_length=200, verbose_name=_("title"))
    severity = models.CharField(
        max_length=10, choices=Severity.choices, default=Severity.MEDIUM, verbose_name=_("severity")
    )
    description = models.TextField(
        help_text=_("What happened, to whom, and its consequences."), verbose_name=_("description")
    )
    occurred_at = models.DateTimeField(null=True, blank=True, verbose_name=_("occurred at"))
    detected_at = models.DateTimeField(default=timezone.now, verbose_name=_("detected at"))
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reported by"),
    )
    informed_parties = models.TextField(
        _("who was informed"), blank=True, help_text=_("Users, customers, management, suppliers… told about it.")
    )
    informed_at = models.DateTimeField(_("informed at"), null=True, blank=True)
    authority_notified = models.BooleanField(_("authority notified"), default=False)
    authority_notified_at = models.DateTimeField(_("authority notified at"), null=True, blank=True)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.OPEN, verbose_name=_("status"))
    resolution = models.TextField(
        blank=True, help_text=_("How it was contained and resolved."), verbose_name=_("resolution")
    )
    monitoring_alert = models.ForeignKey(
        "registry.MonitoringAlert",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("monitoring alert"),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

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
        OPEN = "open", pgettext_lazy("record status", "Open")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done, awaiting effectiveness check")
        VERIFIED_EFFECTIVE = "verified_effective", _("Verified effective")
        NOT_EFFECTIVE = "not_effective", _("Not effective")

    # Still work to do: an action found not effective needs more.
    UNFINISHED = (Status.OPEN, Status.IN_PROGRESS, Status.NOT_EFFECTIVE)
    STYLE: dict[str, str] = {Status.OPEN: "status-draft", Status.IN_PROGRESS: "status-in_review",
                             Status.DONE: "status-pending", Status.VERIFIED_EFFECTIVE: "status-done",
                             Status.NOT_EFFECTIVE: "status-revoked"}  # fmt: skip

    ref_code = models.CharField(_("reference"), max_length=20, blank=True)
    finding = models.ForeignKey(
        Finding,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrective_actions",
        verbose_name=_("finding"),
    )
    incident = models.ForeignKey(
        Incident,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrective_actions",
        verbose_name=_("incident"),
    )
    # An action raised from an alert keeps it as its source: the alert (and so its system)
    # cannot be deleted while the action exists.
    monitoring_alert = models.ForeignKey(
        "registry.MonitoringAlert",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrective_actions",
        verbose_name=_("monitoring alert"),
    )
    title = models.CharField(max_length=200, verbose_name=_("title"))
    correction = models.TextField(
        blank=True, help_text=_("What was done at once to contain the nonconformity."), verbose_name=_("correction")
    )
    root_cause = models.TextField(
        blank=True, help_text=_("Why it happened (e.g. five whys)."), verbose_name=_("root cause")
    )
    action = models.TextField(
        _("corrective action"), blank=True, help_text=_("What removes the cause so it does not recur.")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    due_date = models.DateField(null=True, blank=True, verbose_name=_("due date"))
    status = models.CharField(max_length=18, choices=Status.choices, default=Status.OPEN, verbose_name=_("status"))
    implemented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("implemented by"),
    )
    implemented_at = models.DateTimeField(null=True, blank=True, verbose_name=_("implemented at"))
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
    )
    verified_on = models.DateField(_("effectiveness checked on"), null=True, blank=True)
    verification_note = models.TextField(_("effectiveness check"), blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    objects: ClassVar[CorrectiveActionManager] = CorrectiveActionManager()

    class Meta:
        verbose_name = _("corrective action")
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

    title = models.CharField(max_length=200, verbose_name=_("title"))
    held_on = models.DateField(_("date"))
    period_start = models.DateField(
        help_text=_("Start of the period the inputs cover."), verbose_name=_("period start")
    )
    period_end = models.DateField(help_text=_("End of the period the inputs cover."), verbose_name=_("period end"))
    external_attendees = models.TextField(
        blank=True, help_text=_("Attendees without an account, one per line."), verbose_name=_("external attendees")
    )
    inputs = models.JSONField(
        default=dict, editable=False, help_text=_("The inputs (9.3.2), frozen when gathered."), verbose_name=_("inputs")
    )
    inputs_gathered_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("inputs gathered at")
    )
    decisions = models.TextField(
        blank=True,
        help_text=_("Decisions on continual improvement opportunities and any changes needed (9.3.3)."),
        verbose_name=_("decisions"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("management review")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return self.title


class ReviewAttendee(TenantModel):
    review = models.ForeignKey(
        ManagementReview, on_delete=models.CASCADE, related_name="attendee_links", verbose_name=_("review")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )

    class Meta:
        verbose_name = _("review attendee")
        constraints = [models.UniqueConstraint(fields=["review", "user"], name="reviewattendee_unique")]

    def __str__(self) -> str:
        return str(self.user)


class ReviewAction(TenantModel):
    """An action decided in a management review; the next review reports its status."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("record status", "Open")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    UNFINISHED = (Status.OPEN, Status.IN_PROGRESS)

    review = models.ForeignKey(
        ManagementReview, on_delete=models.CASCADE, related_name="actions", verbose_name=_("review")
    )
    title = models.CharField(max_length=200, verbose_name=_("title"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    due_date = models.DateField(null=True, blank=True, verbose_name=_("due date"))
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN, verbose_name=_("status"))
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("review action")
        ordering = ["due_date", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def overdue(self) -> bool:
        return self.status in self.UNFINISHED and self.due_date is not None and self.due_date < timezone.localdate()

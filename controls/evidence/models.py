"""The evidence library (7.5): evidence records, their file versions, their links to AIMS records, and reminders."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aims.tenancy import TenantModel, TenantQuerySet
from controls.catalogue.models import Requirement


class EvidenceQuerySet(TenantQuerySet):
    def expired(self, today=None):
        return self.filter(valid_until__lt=today or timezone.localdate())

    def valid(self, today=None):
        today = today or timezone.localdate()
        return self.filter(models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=today))


EvidenceManager = models.Manager.from_queryset(EvidenceQuerySet)


class Evidence(TenantModel):
    """A piece of evidence: a file, a link or a note, with its versions and what it supports."""

    class Kind(models.TextChoices):
        FILE = "file", _("File")
        LINK = "link", _("Link")
        NOTE = "note", _("Note")

    class Validity(models.TextChoices):
        """Whether evidence still counts: derived from ``valid_until`` and the reminder window."""

        VALID = "valid", _("Valid")
        EXPIRING = "expiring", _("Expiring soon")
        EXPIRED = "expired", _("Expired")

    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=5, choices=Kind.choices, default=Kind.FILE)
    description = models.TextField(blank=True)
    effective_from = models.DateField(default=timezone.localdate)
    valid_until = models.DateField(null=True, blank=True, help_text=_("When it expires; empty if it does not."))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[EvidenceManager] = EvidenceManager()

    class Meta:
        # Not translated: the change history writes the record type into evidence packs' JSON data.
        verbose_name_plural = "evidence"
        ordering = ["title"]
        indexes = [models.Index(fields=["organization", "valid_until"])]

    def __str__(self) -> str:
        return self.title

    @property
    def expired(self) -> bool:
        return self.valid_until is not None and self.valid_until < timezone.localdate()

    def is_owned_by(self, user) -> bool:
        return self.owner_id == user.pk


def evidence_upload_to(instance: EvidenceVersion, filename: str) -> str:
    # The stored name is the portal's own: a random folder, then the sanitised original name.
    return f"evidence/{instance.organization_id}/{uuid.uuid4().hex}/{filename}"


class EvidenceVersion(TenantModel):
    """One version of an evidence item; older versions are kept."""

    evidence = models.ForeignKey(Evidence, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    file = models.FileField(upload_to=evidence_upload_to, blank=True, max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(_("detected type"), max_length=100, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    note = models.TextField(blank=True)
    comment = models.CharField(max_length=300, blank=True, help_text=_("What changed in this version."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "evidence version"
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["evidence", "number"], name="evidenceversion_unique_number")]

    def __str__(self) -> str:
        return f"{self.evidence.title} v{self.number}"


class EvidenceDownload(TenantModel):
    """Who downloaded a version's file, when and from where: logged as pack downloads are."""

    version = models.ForeignKey(EvidenceVersion, on_delete=models.CASCADE, related_name="downloads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    via_api = models.BooleanField(default=False)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    downloaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "evidence download"
        ordering = ["-downloaded_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.user} downloaded {self.version}"


class EvidenceLink(TenantModel):
    """What a piece of evidence supports: a control, an AI system, a risk, a treatment or an impact assessment."""

    class Target(models.TextChoices):
        CONTROL = "control", _("Control")
        SYSTEM = "system", _("AI system")
        RISK = "risk", _("Risk")
        TREATMENT = "treatment", _("Treatment")
        ASSESSMENT = "assessment", _("Impact assessment")

    evidence = models.ForeignKey(Evidence, on_delete=models.CASCADE, related_name="links")
    target = models.CharField(max_length=10, choices=Target.choices)
    control = models.ForeignKey(
        Requirement, on_delete=models.CASCADE, null=True, blank=True, related_name="evidence_links"
    )
    system = models.ForeignKey(
        "registry.AISystem", on_delete=models.CASCADE, null=True, blank=True, related_name="evidence_links"
    )
    risk = models.ForeignKey("risk.Risk", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    treatment = models.ForeignKey(
        "risk.TreatmentAction", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    assessment = models.ForeignKey(
        "risk.ImpactAssessment", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    TARGET_FIELDS = ("control", "system", "risk", "treatment", "assessment")

    class Meta:
        verbose_name = "evidence link"
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(target="control", control__isnull=False)
                    | models.Q(target="system", system__isnull=False)
                    | models.Q(target="risk", risk__isnull=False)
                    | models.Q(target="treatment", treatment__isnull=False)
                    | models.Q(target="assessment", assessment__isnull=False)
                ),
                name="evidencelink_target_set",
            ),
            *(
                models.UniqueConstraint(
                    fields=["evidence", name], condition=models.Q(target=name), name=f"evidencelink_unique_{name}"
                )
                for name in ("control", "system", "risk", "treatment", "assessment")
            ),
        ]
        indexes = [models.Index(fields=["organization", "target", "control"])]

    def __str__(self) -> str:
        return f"{self.evidence_id} supports {self.target}"

    @property
    def target_object(self):
        return getattr(self, self.target)

    @property
    def is_control(self) -> bool:
        return self.target == self.Target.CONTROL

    @property
    def is_system(self) -> bool:
        return self.target == self.Target.SYSTEM

    @property
    def is_risk(self) -> bool:
        return self.target == self.Target.RISK

    @property
    def is_treatment(self) -> bool:
        return self.target == self.Target.TREATMENT

    @property
    def is_assessment(self) -> bool:
        return self.target == self.Target.ASSESSMENT


class Reminder(TenantModel):
    """A reminder already sent, so each item is reminded once per period."""

    kind = models.CharField(max_length=30)
    object_id = models.PositiveBigIntegerField()
    period = models.CharField(max_length=20, help_text=_("e.g. the expiry date or target date reminded about."))
    sent_to = models.EmailField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind", "object_id", "period"], name="reminder_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.object_id} ({self.period})"

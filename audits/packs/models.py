"""Audit-ready evidence packs: what a pack covers, its generation state and file, and every download."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aims.tenancy import TenantModel, TenantQuerySet


class PackSection(models.TextChoices):
    """The sections of a pack, in the order of the standard: clauses 4 to 10, then Annex A and references."""

    SCOPE = "scope", _("Context of the organisation and AIMS scope (clause 4)")
    LEADERSHIP = "leadership", _("Leadership: AI policy, roles and reporting of concerns (clause 5, A.2, A.3)")
    RISK_CRITERIA = "risk_criteria", _("Risk criteria (clause 6.1.2)")
    RISKS = "risks", _("Risk register and treatments (clauses 6.1.2, 6.1.3, 8.2, 8.3)")
    IMPACT = "impact", _("AI system impact assessments (clauses 6.1.4, 8.4, A.5)")
    OBJECTIVES = "objectives", _("AI objectives (clause 6.2)")
    COMPETENCE = "competence", _("Competence and awareness (clauses 7.2, 7.3)")
    INVENTORY = "inventory", _("AI system inventory (clause 8, A.4, A.6, A.7, A.10)")
    MONITORING = "monitoring", _("Monitoring of AI system performance (clause 9.1, A.6.2.6)")
    AUDITS = "audits", _("Internal audits (clause 9.2)")
    REVIEWS = "reviews", _("Management reviews (clause 9.3)")
    IMPROVEMENT = "improvement", _("Corrective actions and AI incidents (clause 10, A.8.4)")
    CONTROLS = "controls", _("Statement of Applicability (Annex A controls)")
    CROSSWALK = "crosswalk", _("Crosswalk coverage (NIST AI RMF, EU AI Act)")
    READINESS = "readiness", _("Readiness summary")
    HISTORY = "history", _("Change history for the period")
    EVIDENCE = "evidence", _("Evidence index (clause 7.5)")
    AUDIT = "audit", _("The audit: scope, criteria, checklist, findings and actions")

    @property
    def label(self) -> str:
        # Text in the active language (the pack's, while a part renders): headings are compared and joined as text.
        return str(self._label_)


# An audit-scoped pack shows that audit, and the evidence behind it.
AUDIT_SECTIONS = [PackSection.AUDIT, PackSection.EVIDENCE]


class PackDetail(models.TextChoices):
    """How much of the inventory gets a page per AI system; every section keeps its summary tables."""

    AUTO = "auto", _("Automatic: every system below 50 systems, else the high-risk ones (up to 200)")
    ALL = "all", _("Every AI system")
    HIGH_RISK = "high_risk", _("High-risk AI systems only")
    NONE = "none", _("None: summary tables only")


# Below this many systems in scope, an automatic pack details every one of them: a few dozen
# detail pages stay readable, while a thousand would bury the summaries an auditor starts from.
AUTO_DETAIL_ALL_BELOW = 50
# Above this many high-risk systems an automatic pack keeps to the summary tables (and the
# attached registers): hundreds of pages per system class are a reference, not a readable pack.
AUTO_DETAIL_HIGH_RISK_UP_TO = 200

# A system "is high-risk" for the detail pages when the EU AI Act puts it in the high-risk or
# prohibited tier, or when the register holds an open risk whose current level is high or critical.
HIGH_RISK_TIERS = ("high", "prohibited")
HIGH_RISK_LEVELS = ("high", "critical")


def _detail_help() -> str:
    return gettext(
        "Which AI systems get their own detail pages in the inventory; every section keeps its summary tables. "
        "High-risk systems are those in the EU AI Act high-risk or prohibited tier, or with an open risk whose "
        "current level is high or critical. Automatic details every system below %(all_below)s "
        "systems, otherwise the high-risk ones while there are at most %(high_risk_up_to)s, "
        "and beyond that keeps to the summary tables."
    ) % {"all_below": AUTO_DETAIL_ALL_BELOW, "high_risk_up_to": AUTO_DETAIL_HIGH_RISK_UP_TO}


# Read in the language of the page that shows it.
DETAIL_HELP = lazy(_detail_help, str)()


class EvidencePackQuerySet(TenantQuerySet):
    def active(self) -> EvidencePackQuerySet:
        return self.filter(status__in=EvidencePack.ACTIVE_STATUSES)


EvidencePackManager = models.Manager.from_queryset(EvidencePackQuerySet)


class EvidencePack(TenantModel):
    """One requested PDF pack. The row is the source of truth; the worker only moves it forward."""

    class Scope(models.TextChoices):
        AIMS = "aims", _("Whole AI management system")
        SYSTEM = "system", _("One AI system")
        AUDIT = "audit", _("One internal audit")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    uid = models.UUIDField(_("pack id"), default=uuid.uuid4, unique=True, editable=False)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.AIMS, verbose_name=_("scope"))
    system = models.ForeignKey(
        "registry.AISystem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="evidence_packs",
        verbose_name=_("system"),
    )
    audit = models.ForeignKey(
        "audits.Audit",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="evidence_packs",
        verbose_name=_("audit"),
    )
    period_start = models.DateField(verbose_name=_("period start"))
    period_end = models.DateField(verbose_name=_("period end"))
    sections = models.JSONField(default=list, verbose_name=_("sections"))
    include_files = models.BooleanField(_("include attached files"), default=False)
    # Stored resolved (never "auto"), so the pack says what it actually holds.
    detail = models.CharField(
        _("detail pages"),
        max_length=10,
        choices=[c for c in PackDetail.choices if c[0] != PackDetail.AUTO],
        default=PackDetail.ALL,
        help_text=DETAIL_HELP,
    )
    # The requester's language when they asked for it: the pack is written in it, whenever a worker renders it.
    language = models.CharField(
        _("language"),
        max_length=10,
        default=settings.LANGUAGE_CODE,
        editable=False,
        help_text=_("The language the pack is written in: its requester's when they asked for it."),
    )
    fingerprint = models.CharField(max_length=64, editable=False, verbose_name=_("fingerprint"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="evidence_packs",
        verbose_name=_("requested by"),
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, verbose_name=_("status"))
    progress = models.PositiveSmallIntegerField(default=0, verbose_name=_("progress"))
    current_step = models.CharField(max_length=200, blank=True, verbose_name=_("current step"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    page_count = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("page count"))
    file = models.FileField(upload_to="evidence-packs/", blank=True, verbose_name=_("file"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True, verbose_name=_("size"))
    error = models.TextField(blank=True, verbose_name=_("error"))
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    heartbeat_at = models.DateTimeField(null=True, blank=True, verbose_name=_("heartbeat at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    objects: ClassVar[EvidencePackManager] = EvidencePackManager()

    class Meta:
        verbose_name = _("evidence pack")
        verbose_name_plural = _("evidence packs")
        ordering = ["-created_at"]
        constraints = [
            # The same pack cannot be queued or running twice at once.
            models.UniqueConstraint(
                fields=["organization", "fingerprint"],
                condition=Q(status__in=["queued", "running"]),
                name="evidencepack_one_active_per_request",
            ),
        ]
        indexes = [models.Index(fields=["organization", "status"])]

    def __str__(self) -> str:
        return f"Evidence pack {self.uid}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def is_failed(self) -> bool:
        return self.status == self.Status.FAILED

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    @property
    def is_downloadable(self) -> bool:
        return self.status == self.Status.SUCCEEDED and bool(self.file)

    @property
    def filename(self) -> str:
        return f"evidence-pack-{self.organization.slug}-{self.created_at:%Y%m%d}-{str(self.uid)[:8]}.pdf"

    def section_labels(self) -> list[str]:
        return [str(PackSection(s).label) for s in self.sections if s in PackSection.values]

    @staticmethod
    def make_fingerprint(**options) -> str:
        return hashlib.sha256(json.dumps(options, sort_keys=True, default=str).encode()).hexdigest()


class EvidencePackPart(TenantModel):
    """One independently rendered piece of a pack (the cover, a section, a chunk of the inventory...).

    Any worker may render a part; the merge runs once every part has succeeded. The row records
    who rendered it, how long it took and how much memory it needed, so slow or heavy parts show.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    pack = models.ForeignKey(EvidencePack, on_delete=models.CASCADE, related_name="parts", verbose_name=_("pack"))
    index = models.PositiveIntegerField(
        help_text=_("Position of the part in the merged pack."), verbose_name=_("index")
    )
    # Parts of a later phase need what the earlier ones produced: the evidence index lists every
    # record, and the contents page (phase 2) gives the page where each section starts.
    phase = models.PositiveSmallIntegerField(default=0, verbose_name=_("phase"))
    key = models.CharField(max_length=60, verbose_name=_("key"))
    label = models.CharField(max_length=200, verbose_name=_("label"))
    # What the part covers, fixed when the pack is planned: the systems of an inventory chunk,
    # the offset and length of a history chunk.
    params = models.JSONField(default=dict, blank=True, verbose_name=_("params"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, verbose_name=_("status"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    page_count = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("page count"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True, verbose_name=_("size"))
    file = models.CharField(max_length=300, blank=True, help_text=_("Path in private storage."), verbose_name=_("file"))
    worker = models.CharField(max_length=200, blank=True, verbose_name=_("worker"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    # Running: the worker's last sign of life. Queued: when it was sent to the workers (empty
    # while it waits for an earlier phase, or when it runs in-process without a broker).
    heartbeat_at = models.DateTimeField(null=True, blank=True, verbose_name=_("heartbeat at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    peak_rss_mb = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("peak rss mb"))
    error = models.TextField(blank=True, verbose_name=_("error"))

    class Meta:
        ordering = ["pack", "index"]
        constraints = [models.UniqueConstraint(fields=["pack", "index"], name="evidencepackpart_unique_index")]

    def __str__(self) -> str:
        return f"{self.pack} part {self.index} ({self.key})"

    @property
    def is_done(self) -> bool:
        return self.status == self.Status.SUCCEEDED


class EvidencePackDownload(TenantModel):
    """Who downloaded a pack, when and from where: the download log auditors ask for."""

    pack = models.ForeignKey(EvidencePack, on_delete=models.CASCADE, related_name="downloads", verbose_name=_("pack"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("user")
    )
    via_api = models.BooleanField(default=False, verbose_name=_("via api"))
    ip_address = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("ip address"))
    downloaded_at = models.DateTimeField(default=timezone.now, verbose_name=_("downloaded at"))

    class Meta:
        ordering = ["-downloaded_at"]

    def __str__(self) -> str:
        return f"{self.user} downloaded {self.pack.uid}"

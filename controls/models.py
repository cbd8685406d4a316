"""Control catalogues: frameworks, their hierarchical requirements, and mappings between them.

Catalogue rows are reference data shared by every organisation (they carry no
organisation); they are loaded from ``controls/catalogue/`` by ``load_catalogue``.
"""

from __future__ import annotations

from django.db import models


class Framework(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    title = models.CharField(max_length=300, blank=True)
    version = models.CharField(max_length=40, blank=True)
    publisher = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    source = models.TextField(blank=True, help_text="Where the identifiers and titles come from.")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class RequirementQuerySet(models.QuerySet):
    def of_framework(self, code: str) -> RequirementQuerySet:
        return self.filter(framework__code=code)

    def controls(self) -> RequirementQuerySet:
        return self.filter(kind=Requirement.Kind.CONTROL)

    def clauses(self) -> RequirementQuerySet:
        return self.filter(kind=Requirement.Kind.CLAUSE)


class Requirement(models.Model):
    """A clause, control objective, control or reference item of a framework, in a tree."""

    class Kind(models.TextChoices):
        CLAUSE = "clause", "Clause"
        OBJECTIVE = "objective", "Control objective"
        CONTROL = "control", "Control"
        GROUP = "group", "Group"
        AI_OBJECTIVE = "ai_objective", "AI-related objective"
        RISK_SOURCE = "risk_source", "Risk source"
        FUNCTION = "function", "Function"
        SUBCATEGORY = "subcategory", "Subcategory"
        ARTICLE = "article", "Article"
        TIER = "tier", "Risk tier"
        ANNEX_III_AREA = "annex_iii_area", "High-risk area (Annex III)"

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="requirements")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="children")
    ref = models.CharField("identifier", max_length=40)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    guidance = models.TextField(blank=True)
    depth = models.PositiveSmallIntegerField(default=0)
    order = models.PositiveIntegerField(default=0, help_text="Position in the framework's reading order.")

    objects = RequirementQuerySet.as_manager()

    class Meta:
        ordering = ["framework__order", "order"]
        constraints = [models.UniqueConstraint(fields=["framework", "ref"], name="requirement_unique_ref")]
        indexes = [models.Index(fields=["framework", "order"]), models.Index(fields=["kind"])]

    def __str__(self) -> str:
        return f"{self.ref} {self.title}"


class Mapping(models.Model):
    """A published relationship between requirements of two frameworks (a crosswalk row)."""

    class Relationship(models.TextChoices):
        EQUIVALENT = "equivalent", "Equivalent"
        SUBSET = "subset", "Subset of"
        SUPERSET = "superset", "Superset of"
        INTERSECTS = "intersects", "Intersects with"
        RELATED = "related", "Related to"

    source = models.ForeignKey(Requirement, on_delete=models.CASCADE, related_name="mappings_out")
    target = models.ForeignKey(Requirement, on_delete=models.CASCADE, related_name="mappings_in")
    relationship = models.CharField(max_length=16, choices=Relationship.choices, default=Relationship.RELATED)
    origin = models.CharField(max_length=300, help_text="The published crosswalk this pair comes from.")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["source__order", "target__order"]
        constraints = [models.UniqueConstraint(fields=["source", "target"], name="mapping_unique_pair")]

    def __str__(self) -> str:
        return f"{self.source.ref} {self.get_relationship_display().lower()} {self.target.ref}"


# --- The organisation's Statement of Applicability and evidence ------------------------------

from django.conf import settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from aims.tenancy import TenantModel, TenantQuerySet  # noqa: E402


class ImplementationStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    PLANNED = "planned", "Planned"
    PARTIAL = "partial", "Partially implemented"
    IMPLEMENTED = "implemented", "Implemented"


class ApplicabilityStatementQuerySet(TenantQuerySet):
    def applicable(self):
        return self.filter(applicable=True)


class ApplicabilityStatement(TenantModel):
    """One row of the Statement of Applicability (6.1.3): a control, whether it applies, and why."""

    control = models.ForeignKey(
        Requirement, on_delete=models.PROTECT, related_name="statements", limit_choices_to={"kind": "control"}
    )
    applicable = models.BooleanField(null=True, blank=True, help_text="Empty until the organisation has decided.")
    justification = models.TextField(
        blank=True, help_text="Why the control is included or excluded: required either way."
    )
    implementation_status = models.CharField(
        max_length=12, choices=ImplementationStatus, default=ImplementationStatus.NOT_STARTED
    )
    implementation = models.TextField("implementation description", blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    target_date = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ApplicabilityStatementQuerySet.as_manager()

    class Meta:
        verbose_name = "SoA row"
        ordering = ["control__order"]
        constraints = [models.UniqueConstraint(fields=["organization", "control"], name="soa_one_row_per_control")]

    def __str__(self) -> str:
        return f"SoA {self.control_id}"

    @property
    def decision(self) -> str:
        return {True: "Applicable", False: "Excluded", None: "Not decided"}[self.applicable]

    @property
    def past_target(self) -> bool:
        return (
            self.applicable is True
            and self.implementation_status != ImplementationStatus.IMPLEMENTED
            and self.target_date is not None
            and self.target_date < timezone.localdate()
        )

    def is_owned_by(self, user) -> bool:
        return self.owner_id == user.pk


class SoASystem(TenantModel):
    """An AI system a control covers."""

    statement = models.ForeignKey(ApplicabilityStatement, on_delete=models.CASCADE, related_name="system_links")
    system = models.ForeignKey("registry.AISystem", on_delete=models.CASCADE, related_name="soa_links")

    class Meta:
        verbose_name = "SoA system link"
        constraints = [models.UniqueConstraint(fields=["statement", "system"], name="soasystem_unique")]

    def __str__(self) -> str:
        return f"{self.statement_id} covers {self.system_id}"


class SoAVersion(TenantModel):
    """A submitted Statement of Applicability, frozen as it was; approved versions are read-only."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        APPROVED = "approved", "Approved"
        RETURNED = "returned", "Returned"

    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    rows = models.JSONField(default=list, help_text="The SoA rows as submitted.")
    note = models.TextField(blank=True, help_text="What changed since the last approved version.")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    submitted_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True)

    class Meta:
        verbose_name = "SoA version"
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="soaversion_unique_number"),
            models.UniqueConstraint(
                fields=["organization"], condition=models.Q(status="submitted"), name="soaversion_one_submitted"
            ),
        ]

    def __str__(self) -> str:
        return f"SoA version {self.number}"


class EvidenceQuerySet(TenantQuerySet):
    def expired(self, today=None):
        return self.filter(valid_until__lt=today or timezone.localdate())

    def valid(self, today=None):
        today = today or timezone.localdate()
        return self.filter(models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=today))


class Evidence(TenantModel):
    """A piece of evidence: a file, a link or a note, with its versions and what it supports."""

    class Kind(models.TextChoices):
        FILE = "file", "File"
        LINK = "link", "Link"
        NOTE = "note", "Note"

    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=5, choices=Kind.choices, default=Kind.FILE)
    description = models.TextField(blank=True)
    effective_from = models.DateField(default=timezone.localdate)
    valid_until = models.DateField(null=True, blank=True, help_text="When it expires; empty if it does not.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EvidenceQuerySet.as_manager()

    class Meta:
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
    import uuid

    return f"evidence/{instance.organization_id}/{uuid.uuid4().hex}/{filename}"


class EvidenceVersion(TenantModel):
    """One version of an evidence item; older versions are kept."""

    evidence = models.ForeignKey(Evidence, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    file = models.FileField(upload_to=evidence_upload_to, blank=True, max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField("detected type", max_length=100, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    note = models.TextField(blank=True)
    comment = models.CharField(max_length=300, blank=True, help_text="What changed in this version.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "evidence version"
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["evidence", "number"], name="evidenceversion_unique_number")]

    def __str__(self) -> str:
        return f"{self.evidence.title} v{self.number}"


class EvidenceLink(TenantModel):
    """What a piece of evidence supports: a control, an AI system, a risk, a treatment or an impact assessment."""

    class Target(models.TextChoices):
        CONTROL = "control", "Control"
        SYSTEM = "system", "AI system"
        RISK = "risk", "Risk"
        TREATMENT = "treatment", "Treatment"
        ASSESSMENT = "assessment", "Impact assessment"

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


class Reminder(TenantModel):
    """A reminder already sent, so each item is reminded once per period."""

    kind = models.CharField(max_length=30)
    object_id = models.PositiveBigIntegerField()
    period = models.CharField(max_length=20, help_text="e.g. the expiry date or target date reminded about.")
    sent_to = models.EmailField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind", "object_id", "period"], name="reminder_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.object_id} ({self.period})"

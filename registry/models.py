"""The AI system inventory: systems, models, datasets, suppliers, resources and RACI.

Every row belongs to one organisation (``TenantModel``) and has its history recorded.
Links between records are rows of their own, so adding or removing one is recorded too.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, TextChoices
from django.utils import timezone
from django.utils.functional import Promise as StrPromise
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from aims.models import Membership
from aims.tenancy import TenantModel, TenantQuerySet
from registry.monitoring.models import (  # noqa: F401 (registered with the app)
    Measurement,
    MeasurementDaily,
    MeasurementHourly,
    MetricDefinition,
    MonitoringAlert,
)


class OrganisationRole(models.TextChoices):
    """The organisation's role(s) towards an AI system (ISO/IEC 22989 terms)."""

    PROVIDER = "provider", _("AI provider")
    PRODUCER = "producer", _("AI producer")
    CUSTOMER = "customer", _("AI customer")
    PARTNER = "partner", _("AI partner")


class LifecycleStage(models.TextChoices):
    INCEPTION = "inception", _("Inception")
    DESIGN = "design", _("Design and development")
    VERIFICATION = "verification", _("Verification and validation")
    DEPLOYMENT = "deployment", _("Deployment")
    OPERATION = "operation", _("Operation and monitoring")
    REEVALUATION = "reevaluation", _("Re-evaluation")
    RETIREMENT = "retirement", _("Retirement")


class DeploymentContext(models.TextChoices):
    INTERNAL = "internal", _("Internal use")
    CUSTOMER_FACING = "customer_facing", _("Customer-facing")
    PUBLIC = "public", _("Public")


class AutomationLevel(models.TextChoices):
    ASSISTIVE = "assistive", _("Assistive: a person decides, the system informs")
    HUMAN_IN_LOOP = "human_in_loop", _("Human in the loop: a person approves each outcome")
    HUMAN_ON_LOOP = "human_on_loop", _("Human on the loop: a person supervises and can intervene")
    AUTONOMOUS = "autonomous", _("Autonomous: no person reviews outcomes")


class PeopleDecisions(models.TextChoices):
    NONE = "none", _("No decisions about people")
    SUPPORTS = "supports", _("Supports decisions about people")
    MAKES = "makes", _("Makes decisions about people")


class EUAIActTier(models.TextChoices):
    NOT_ASSESSED = "not_assessed", _("Not assessed")
    PROHIBITED = "prohibited", _("Prohibited practice (Art. 5)")
    HIGH = "high", _("High-risk")
    LIMITED = "limited", _("Transparency obligations (limited)")
    MINIMAL = "minimal", _("Minimal risk")
    GPAI = "gpai", _("General-purpose AI model")


class AnnexIIIArea(models.IntegerChoices):
    BIOMETRICS = 1, _("1. Biometrics")
    CRITICAL_INFRASTRUCTURE = 2, _("2. Critical infrastructure")
    EDUCATION = 3, _("3. Education and vocational training")
    EMPLOYMENT = 4, _("4. Employment, workers management and access to self-employment")
    ESSENTIAL_SERVICES = 5, _("5. Access to essential private and public services and benefits")
    LAW_ENFORCEMENT = 6, _("6. Law enforcement")
    MIGRATION = 7, _("7. Migration, asylum and border control management")
    JUSTICE = 8, _("8. Administration of justice and democratic processes")


class AnnexIIIPoint(models.TextChoices):
    """The points of Annex III, with their letters (5(b): credit scoring); the area is the number."""

    P1_A = "1(a)", _("1(a) Remote biometric identification")
    P1_B = "1(b)", _("1(b) Biometric categorisation by sensitive attributes")
    P1_C = "1(c)", _("1(c) Emotion recognition")
    P2 = "2", _("2 Safety component of critical infrastructure")
    P3_A = "3(a)", _("3(a) Access or admission to education and training")
    P3_B = "3(b)", _("3(b) Evaluating learning outcomes")
    P3_C = "3(c)", _("3(c) Assessing the level of education a person gets")
    P3_D = "3(d)", _("3(d) Detecting prohibited behaviour during tests")
    P4_A = "4(a)", _("4(a) Recruitment and selection of candidates")
    P4_B = "4(b)", _("4(b) Decisions on work terms, tasks and monitoring of workers")
    P5_A = "5(a)", _("5(a) Eligibility for public assistance benefits and services")
    P5_B = "5(b)", _("5(b) Creditworthiness and credit scoring")
    P5_C = "5(c)", _("5(c) Risk and pricing in life and health insurance")
    P5_D = "5(d)", _("5(d) Emergency calls, dispatch and patient triage")
    P6_A = "6(a)", _("6(a) Law enforcement: risk of a person becoming a victim")
    P6_B = "6(b)", _("6(b) Law enforcement: polygraphs and similar tools")
    P6_C = "6(c)", _("6(c) Law enforcement: reliability of evidence")
    P6_D = "6(d)", _("6(d) Law enforcement: risk of offending or re-offending")
    P6_E = "6(e)", _("6(e) Law enforcement: profiling in criminal matters")
    P7_A = "7(a)", _("7(a) Migration and borders: polygraphs and similar tools")
    P7_B = "7(b)", _("7(b) Migration and borders: assessing risks a person poses")
    P7_C = "7(c)", _("7(c) Migration and borders: asylum, visa and residence applications")
    P7_D = "7(d)", _("7(d) Migration and borders: detecting or identifying persons")
    P8_A = "8(a)", _("8(a) Justice: assisting in researching and applying the law")
    P8_B = "8(b)", _("8(b) Democracy: influencing elections or voting behaviour")

    @property
    def area(self) -> int:
        return int(self.value.split("(")[0])


class SystemStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    RETIRED = "retired", pgettext_lazy("AI system status", "Retired")


class AISystemQuerySet(TenantQuerySet):
    def active(self) -> AISystemQuerySet:
        return self.exclude(status=SystemStatus.RETIRED)

    def review_overdue(self, today=None) -> AISystemQuerySet:
        return self.active().filter(next_review_date__lt=today or timezone.localdate())

    def missing_accountable(self) -> AISystemQuerySet:
        return self.filter(status=SystemStatus.ACTIVE).exclude(role_assignments__raci=RoleAssignment.Raci.ACCOUNTABLE)


# The facts about an AI system that integrations and spreadsheets exchange, in the order they
# are shown; the API and the CSV/XLSX import and export add their own identifiers and people.
SYSTEM_DESCRIPTION_FIELDS = (
    "external_id",
    "name",
    "description",
    "purpose",
    "intended_use",
    "foreseeable_misuse",
    "roles",
    "lifecycle_stage",
    "deployment_context",
    "automation_level",
    "human_oversight",
    "continuous_learning",
    "continuous_learning_controls",
    "people_decisions",
    "personal_data",
    "affected_stakeholders",
    "eu_ai_act_tier",
    "annex_iii_area",
    "annex_iii_point",
    "tier_rationale",
    "justification",
    "performance_metrics",
    "design_choices",
)


class AISystem(TenantModel):
    ref_code = models.CharField(
        _("reference"), max_length=20, help_text=_("Assigned automatically (AIS-0001, AIS-0002, …) when left empty.")
    )
    external_id = models.CharField(
        _("external id"), max_length=200, blank=True, help_text=_("The identifier in your ML platform, for syncing.")
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    purpose = models.TextField(help_text=_("What the system is for, in a sentence or two."))
    intended_use = models.TextField(
        blank=True, help_text=_("Who uses it, for what, in which setting and under which conditions (A.9.4).")
    )
    foreseeable_misuse = models.TextField(
        _("reasonably foreseeable misuse"), blank=True, help_text=_("Uses it was not made for but that could happen.")
    )
    is_provider = models.BooleanField(_("AI provider"), default=False)
    is_producer = models.BooleanField(_("AI producer"), default=False)
    is_customer = models.BooleanField(_("AI customer"), default=False)
    is_partner = models.BooleanField(_("AI partner"), default=False)
    lifecycle_stage = models.CharField(
        _("life-cycle stage"), max_length=20, choices=LifecycleStage, default=LifecycleStage.INCEPTION
    )
    deployment_context = models.CharField(max_length=20, choices=DeploymentContext, default=DeploymentContext.INTERNAL)
    automation_level = models.CharField(
        _("level of automation"), max_length=20, choices=AutomationLevel, default=AutomationLevel.ASSISTIVE
    )
    human_oversight = models.TextField(
        blank=True, help_text=_("How people supervise the system and can override or stop it.")
    )
    continuous_learning = models.BooleanField(
        default=False, help_text=_("Does the system keep learning from new data in operation?")
    )
    continuous_learning_controls = models.TextField(
        _("how continuous learning is controlled"),
        blank=True,
        help_text=_("Required when the system learns continuously."),
    )
    people_decisions = models.CharField(
        _("decisions about people"), max_length=10, choices=PeopleDecisions, default=PeopleDecisions.NONE
    )
    personal_data = models.TextField(
        _("personal data processed"), blank=True, help_text=_("Categories of personal data, or leave empty if none.")
    )
    affected_stakeholders = models.TextField(blank=True, help_text=_("People and groups the system's outcomes affect."))
    eu_ai_act_tier = models.CharField(
        _("EU AI Act tier"), max_length=20, choices=EUAIActTier, default=EUAIActTier.NOT_ASSESSED
    )
    annex_iii_area = models.PositiveSmallIntegerField(
        _("Annex III area"), choices=AnnexIIIArea, null=True, blank=True, help_text=_("For high-risk systems.")
    )
    annex_iii_point = models.CharField(
        _("Annex III point"),
        max_length=6,
        choices=AnnexIIIPoint,
        blank=True,
        help_text=_("For high-risk systems: the point and letter, e.g. 5(b); it sets the area."),
    )
    tier_rationale = models.TextField(
        _("tier rationale"), blank=True, help_text=_("Why this tier applies; required once a tier is chosen.")
    )
    justification = models.TextField(
        _("justification for developing or acquiring it"),
        blank=True,
        help_text=_("The need it meets and the options weighed."),
    )
    performance_metrics = models.JSONField(
        default=list, blank=True, help_text=_("Metrics with their targets, e.g. AUC ≥ 0.80.")
    )
    design_choices = models.TextField(
        _("design choices and ML methods"),
        blank=True,
        help_text=_("Architecture, methods and the reasons for them (A.6.2.3)."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="owned_ai_systems"
    )
    business_unit = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=12, choices=SystemStatus, default=SystemStatus.PROPOSED)
    next_review_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    # django-stubs declares ``objects`` a ClassVar of Model; the manager here adds AISystemQuerySet methods.
    objects = AISystemQuerySet.as_manager()  # type: ignore[misc]

    class Meta:
        verbose_name = _("AI system")
        ordering = ["ref_code"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "ref_code"], name="aisystem_unique_ref_per_org"),
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=~Q(external_id=""),
                name="aisystem_unique_external_id_per_org",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["organization", "eu_ai_act_tier"]),
            models.Index(fields=["organization", "lifecycle_stage"]),
            models.Index(fields=["organization", "next_review_date"]),
            # The inventory's other orderings ("Sort by" name, last changed): the first page reads
            # 25 entries of an index instead of sorting every system of the organisation.
            models.Index(fields=["organization", "name"]),
            models.Index(fields=["organization", "updated_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.ref_code} {self.name}"

    @property
    def roles(self) -> list[str]:
        return [role.value for role in OrganisationRole if getattr(self, f"is_{role.value}")]

    @property
    def role_labels(self) -> list[str | StrPromise]:
        return [OrganisationRole(role).label for role in self.roles]

    @property
    def review_overdue(self) -> bool:
        return (
            self.status != SystemStatus.RETIRED
            and self.next_review_date is not None
            and self.next_review_date < timezone.localdate()
        )

    def is_owned_by(self, user) -> bool:
        return self.owner_id is not None and self.owner_id == user.pk

    def _owner_is_member(self, owner_id: int) -> bool:
        return Membership.objects.filter(organization_id=self.organization_id, user_id=owner_id).exists()

    @property
    def is_active(self) -> bool:
        return self.status == SystemStatus.ACTIVE

    @property
    def accountable_assignment(self) -> RoleAssignment | None:
        """The Accountable RACI row, read from prefetched assignments when there are any."""
        return next((a for a in self.role_assignments.all() if a.raci == RoleAssignment.Raci.ACCOUNTABLE), None)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.continuous_learning and not self.continuous_learning_controls.strip():
            errors["continuous_learning_controls"] = gettext(
                "Explain how the system's continuous learning is kept under control."
            )
        if self.eu_ai_act_tier != EUAIActTier.NOT_ASSESSED and not self.tier_rationale.strip():
            errors["tier_rationale"] = gettext("Give the reasons for this EU AI Act tier.")
        if self.annex_iii_point in AnnexIIIPoint.values:
            area = AnnexIIIPoint(self.annex_iii_point).area
            if self.annex_iii_area and self.annex_iii_area != area:
                errors["annex_iii_point"] = gettext("Point %(point)s is not in Annex III area %(area)s.") % {
                    "point": self.annex_iii_point,
                    "area": self.annex_iii_area,
                }
            else:
                self.annex_iii_area = area
        if self.annex_iii_area and self.eu_ai_act_tier != EUAIActTier.HIGH:
            errors["annex_iii_area"] = gettext("An Annex III area only applies to high-risk systems.")
        if self.owner_id and self.organization_id and not self._owner_is_member(self.owner_id):
            errors["owner"] = gettext("The owner must be a member of the organisation.")
        metrics_error = validate_metrics(self.performance_metrics)
        if metrics_error:
            errors["performance_metrics"] = metrics_error
        if errors:
            raise ValidationError(errors)


def validate_metrics(value) -> str | None:
    """Performance metrics are a list of {"name": ..., "target": ...} with non-empty strings."""
    if not isinstance(value, list):
        return gettext("Give a list of metrics, each with a name and a target.")
    for index, item in enumerate(value, start=1):
        if not isinstance(item, dict) or set(item) - {"name", "target"}:
            return gettext("Metric %(index)s: use the keys name and target.") % {"index": index}
        if not str(item.get("name", "")).strip() or not str(item.get("target", "")).strip():
            return gettext("Metric %(index)s: both a name and a target are needed.") % {"index": index}
    return None


class Supplier(TenantModel):
    class Kind(TextChoices):
        MODEL = "model", _("Model provider")
        DATA = "data", _("Data provider")
        CLOUD = "cloud", _("Cloud and computing")
        TOOLING = "tooling", _("Tooling")
        SERVICE = "service", _("Service")

    class DueDiligence(TextChoices):
        NOT_STARTED = "not_started", _("Not started")
        IN_PROGRESS = "in_progress", _("In progress")
        APPROVED = "approved", _("Approved")
        APPROVED_WITH_CONDITIONS = "conditional", _("Approved with conditions")
        REJECTED = "rejected", _("Rejected")

    external_id = models.CharField(_("external id"), max_length=200, blank=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices, default=Kind.SERVICE)
    description = models.TextField(blank=True)
    contact = models.CharField(max_length=200, blank=True)
    due_diligence_status = models.CharField(
        max_length=12, choices=DueDiligence.choices, default=DueDiligence.NOT_STARTED
    )
    due_diligence_date = models.DateField(null=True, blank=True)
    contract_reference = models.CharField(max_length=120, blank=True)
    organisation_responsibilities = models.TextField(
        blank=True, help_text=_("What your organisation is responsible for in this relationship (A.10.2).")
    )
    supplier_responsibilities = models.TextField(
        blank=True, help_text=_("What the supplier is responsible for (A.10.2).")
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="supplier_unique_name_per_org"),
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=~Q(external_id=""),
                name="supplier_unique_external_id_per_org",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Dataset(TenantModel):
    class Purpose(models.TextChoices):
        TRAINING = "training", pgettext_lazy("data used for", "Training")
        VALIDATION = "validation", _("Validation")
        TEST = "test", _("Test")
        PRODUCTION = "production", _("Production")

    external_id = models.CharField(_("external id"), max_length=200, blank=True)
    name = models.CharField(max_length=200)
    purpose = models.CharField(max_length=12, choices=Purpose.choices, default=Purpose.TRAINING)
    description = models.TextField(blank=True)
    source = models.CharField(max_length=300, blank=True, help_text=_("Where the data comes from."))
    provenance = models.TextField(blank=True, help_text=_("Origin and history of the data, its lineage (A.7.5)."))
    acquisition = models.TextField(blank=True, help_text=_("How the data was obtained and on what basis (A.7.3)."))
    quality_checks = models.TextField(blank=True, help_text=_("Checks of completeness, accuracy and bias (A.7.4)."))
    preparation = models.TextField(
        _("preparation and labelling"), blank=True, help_text=_("Cleaning, transformation and labelling (A.7.6).")
    )
    contains_personal_data = models.BooleanField(default=False)
    sensitive_data = models.TextField(blank=True, help_text=_("Special categories or other sensitive data it holds."))
    licence = models.CharField(max_length=200, blank=True)
    retention = models.CharField(max_length=200, blank=True, help_text=_("How long it is kept, and why."))
    supplier = models.ForeignKey(Supplier, on_delete=models.SET_NULL, null=True, blank=True, related_name="datasets")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=~Q(external_id=""),
                name="dataset_unique_external_id_per_org",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AIModel(TenantModel):
    class Kind(models.TextChoices):
        CLASSIFICATION = "classification", _("Classification")
        REGRESSION = "regression", _("Regression")
        FORECASTING = "forecasting", _("Forecasting")
        RANKING = "ranking", _("Ranking and recommendation")
        GENERATIVE = "generative", _("Generative / large language model")
        VISION = "vision", _("Computer vision")
        NLP = "nlp", _("Natural language processing")
        CLUSTERING = "clustering", _("Clustering and anomaly detection")
        RULES = "rules", _("Rules and expert system")
        OTHER = "other", _("Other")

    class Source(models.TextChoices):
        IN_HOUSE = "in_house", _("In-house")
        THIRD_PARTY = "third_party", _("Third-party")
        OPEN = "open", _("Open source / open weights")

    external_id = models.CharField(_("external id"), max_length=200, blank=True)
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=60, default="1")
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices, default=Kind.CLASSIFICATION)
    framework = models.CharField(max_length=120, blank=True, help_text=_("e.g. scikit-learn 1.6, PyTorch 2.5"))
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.IN_HOUSE)
    supplier = models.ForeignKey(Supplier, on_delete=models.SET_NULL, null=True, blank=True, related_name="models")
    description = models.TextField(blank=True)
    evaluation_results = models.TextField(blank=True, help_text=_("Key results, with the dataset and date."))
    model_card_url = models.URLField(_("model card link"), blank=True)

    class Meta:
        verbose_name = _("model")
        ordering = ["name", "version"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name", "version"], name="aimodel_unique_version"),
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=~Q(external_id=""),
                name="aimodel_unique_external_id_per_org",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class SystemModel(TenantModel):
    """An AI system uses a model."""

    system = models.ForeignKey(AISystem, on_delete=models.CASCADE, related_name="model_links")
    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="system_links")

    class Meta:
        verbose_name = _("system model link")
        constraints = [models.UniqueConstraint(fields=["system", "model"], name="systemmodel_unique")]

    def __str__(self) -> str:
        return f"{self.system.ref_code} uses {self.model}"


class ModelDataset(TenantModel):
    """A model is trained or evaluated on a dataset."""

    class Usage(models.TextChoices):
        TRAINING = "training", pgettext_lazy("data used for", "Training")
        EVALUATION = "evaluation", _("Evaluation")

    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="dataset_links")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="model_links")
    usage = models.CharField(max_length=12, choices=Usage.choices, default=Usage.TRAINING)

    class Meta:
        verbose_name = _("model dataset link")
        constraints = [models.UniqueConstraint(fields=["model", "dataset", "usage"], name="modeldataset_unique")]

    def __str__(self) -> str:
        return f"{self.model} {self.get_usage_display().lower()} on {self.dataset}"


class SystemSupplier(TenantModel):
    """An AI system relies on a supplier, for what."""

    system = models.ForeignKey(AISystem, on_delete=models.CASCADE, related_name="supplier_links")
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="system_links")
    note = models.CharField(max_length=300, blank=True, help_text=_("What the supplier provides for this system."))

    class Meta:
        verbose_name = _("system supplier link")
        constraints = [models.UniqueConstraint(fields=["system", "supplier"], name="systemsupplier_unique")]

    def __str__(self) -> str:
        return f"{self.system.ref_code} relies on {self.supplier}"


class SystemDataset(TenantModel):
    """A dataset an AI system uses directly: a retrieval corpus, reference data, its operational input.

    Datasets reach a system through its models too (training and evaluation); this link is for
    the data a system relies on that no model of the inventory was trained or evaluated on.
    """

    system = models.ForeignKey(AISystem, on_delete=models.CASCADE, related_name="dataset_links")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="system_links")
    note = models.CharField(max_length=300, blank=True, help_text=_("What the system uses the dataset for."))

    class Meta:
        verbose_name = _("system dataset link")
        constraints = [models.UniqueConstraint(fields=["system", "dataset"], name="systemdataset_unique")]

    def __str__(self) -> str:
        return f"{self.system.ref_code} uses {self.dataset}"


class Resource(TenantModel):
    """A resource an AI system needs (A.4.2-A.4.6)."""

    class Kind(models.TextChoices):
        DATA = "data", _("Data resource (A.4.3)")
        TOOLING = "tooling", _("Tooling resource (A.4.4)")
        COMPUTING = "computing", _("System and computing resource (A.4.5)")
        HUMAN = "human", _("Human resource (A.4.6)")

    system = models.ForeignKey(AISystem, on_delete=models.CASCADE, related_name="resources")
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class RoleAssignment(TenantModel):
    """Who is Responsible, Accountable, Consulted or Informed for an AI system."""

    class Raci(models.TextChoices):
        RESPONSIBLE = "R", pgettext_lazy("RACI", "Responsible")
        ACCOUNTABLE = "A", pgettext_lazy("RACI", "Accountable")
        CONSULTED = "C", pgettext_lazy("RACI", "Consulted")
        INFORMED = "I", pgettext_lazy("RACI", "Informed")

    system = models.ForeignKey(AISystem, on_delete=models.CASCADE, related_name="role_assignments")
    raci = models.CharField(_("RACI role"), max_length=1, choices=Raci.choices)
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    external_party = models.CharField(
        max_length=200, blank=True, help_text=_("A person or body outside the portal, instead of a member.")
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("role assignment")
        ordering = ["raci"]
        constraints = [
            models.UniqueConstraint(
                fields=["system"], condition=Q(raci="A"), name="roleassignment_one_accountable_per_system"
            ),
            models.CheckConstraint(
                condition=(Q(member__isnull=False) & Q(external_party=""))
                | (Q(member__isnull=True) & ~Q(external_party="")),
                name="roleassignment_member_xor_external",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_raci_display()}: {self.party}"

    @property
    def party(self) -> str:
        return str(self.member) if self.member_id else self.external_party

"""The Statement of Applicability: one row per organisation and Annex A control, its systems, and approved versions."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aims.summaries import summaries_changed
from aims.tenancy import TenantModel, TenantQuerySet
from controls.catalogue.models import Requirement

if TYPE_CHECKING:
    from aims.models import Organization


class ImplementationStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    PLANNED = "planned", _("Planned")
    PARTIAL = "partial", _("Partially implemented")
    IMPLEMENTED = "implemented", _("Implemented")


class ApplicabilityStatementQuerySet(TenantQuerySet):
    def applicable(self) -> ApplicabilityStatementQuerySet:
        return self.filter(applicable=True)

    def ensure_rows(self, organization: Organization) -> None:
        """Create the organisation's missing rows: the SoA has one per Annex A control, undecided at first."""
        existing = set(self.model.objects.for_org(organization).values_list("control_id", flat=True))
        controls = Requirement.objects.of_framework("ISO42001").controls().order_by("order")
        missing = [c for c in controls if c.pk not in existing]
        if missing:
            self.model.objects.bulk_create(
                [self.model(organization=organization, control=c) for c in missing], ignore_conflicts=True
            )
            # bulk_create sends no signal: the readiness summary counts these rows.
            summaries_changed(organization.pk)


ApplicabilityStatementManager = models.Manager.from_queryset(ApplicabilityStatementQuerySet)


class ApplicabilityStatement(TenantModel):
    """One row of the Statement of Applicability (6.1.3): a control, whether it applies, and why."""

    control = models.ForeignKey(
        Requirement,
        on_delete=models.PROTECT,
        related_name="statements",
        limit_choices_to={"kind": Requirement.Kind.CONTROL},
    )
    applicable = models.BooleanField(null=True, blank=True, help_text=_("Empty until the organisation has decided."))
    justification = models.TextField(
        blank=True, help_text=_("Why the control is included or excluded: required either way.")
    )
    implementation_status = models.CharField(
        max_length=12, choices=ImplementationStatus, default=ImplementationStatus.NOT_STARTED
    )
    implementation = models.TextField(_("implementation description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    target_date = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[ApplicabilityStatementManager] = ApplicabilityStatementManager()

    class Meta:
        # Not translated: the change history writes the record type into evidence packs' JSON data.
        verbose_name = "SoA row"
        ordering = ["control__order"]
        constraints = [models.UniqueConstraint(fields=["organization", "control"], name="soa_one_row_per_control")]

    def __str__(self) -> str:
        return f"SoA {self.control_id}"

    @property
    def decision(self) -> str:
        return {True: gettext("Applicable"), False: gettext("Excluded"), None: gettext("Not decided")}[self.applicable]

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
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        RETURNED = "returned", _("Returned")

    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    rows = models.JSONField(default=list, help_text=_("The SoA rows as submitted."))
    note = models.TextField(blank=True, help_text=_("What changed since the last approved version."))
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

    @property
    def is_submitted(self) -> bool:
        return self.status == self.Status.SUBMITTED

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED

    @property
    def is_returned(self) -> bool:
        return self.status == self.Status.RETURNED

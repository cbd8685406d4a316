"""AI system impact assessments (6.1.4, 8.4, A.5.2-A.5.5): the assessment, versioned per system, and its items."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from aims.tenancy import TenantModel
from registry.models import AIModel, AISystem


class ImpactAssessment(TenantModel):
    """An AI system impact assessment (6.1.4, 8.4, A.5.2-A.5.5), versioned per system."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        APPROVED = "approved", _("Approved")
        SUPERSEDED = "superseded", _("Superseded")

    system = models.ForeignKey(AISystem, on_delete=models.CASCADE, related_name="impact_assessments")
    version = models.PositiveIntegerField(default=1)
    title = models.CharField(max_length=200, blank=True)
    scope = models.TextField(blank=True, help_text=_("What the assessment covers and what it leaves out."))
    system_information = models.JSONField(
        default=dict, blank=True, help_text=_("The inventory's facts about the system when the assessment started.")
    )
    data_information = models.TextField(
        _("data and its quality"),
        blank=True,
        help_text=_("Data used, its provenance and quality, in the system's use."),
    )
    model_information = models.TextField(_("algorithms and models"), blank=True)
    deployment_environment = models.TextField(blank=True)
    interested_parties = models.TextField(
        blank=True, help_text=_("Who is affected or has a stake, and how they were heard.")
    )
    conclusion = models.TextField(blank=True)
    # The model version the assessment was made for: a new version of the model calls for a
    # new (or confirmed) assessment, which integrations and the MLflow sync look for.
    assessed_model = models.ForeignKey(
        AIModel,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="impact_assessments",
        verbose_name=_("assessed model"),
        help_text=_("The inventory model the assessment was made for."),
    )
    assessed_model_version = models.CharField(
        _("assessed model version"),
        max_length=60,
        blank=True,
        help_text=_("The version assessed, e.g. v3; by default the model's own version."),
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)
    next_review_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["system__ref_code", "-version"]
        constraints = [models.UniqueConstraint(fields=["system", "version"], name="impactassessment_unique_version")]

    def __str__(self) -> str:
        # The title names the system, so no query is needed (history lists print many of these).
        return f"{self.title or gettext('Impact assessment')} (v{self.version})"

    @property
    def status_in_sentence(self) -> str:
        """The status as it reads after "Version 2 is ...", in the reader's language."""
        return str(STATUS_IN_SENTENCE[ImpactAssessment.Status(self.status)])

    def clean(self) -> None:
        super().clean()
        if self.assessed_model is not None:
            if self.assessed_model.organization_id != self.organization_id:
                raise ValidationError({"assessed_model": _("Choose a model of your organisation.")})
            if not self.assessed_model_version:
                self.assessed_model_version = self.assessed_model.version

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

    @property
    def is_superseded(self) -> bool:
        return self.status == self.Status.SUPERSEDED

    @property
    def is_decided(self) -> bool:
        """Approved or superseded: a record of the AIMS that a new version may follow."""
        return self.status in (self.Status.APPROVED, self.Status.SUPERSEDED)

    @property
    def review_due(self) -> bool:
        """Approved, and its review date has come."""
        return (
            self.status == self.Status.APPROVED
            and self.next_review_date is not None
            and self.next_review_date <= timezone.localdate()
        )

    def is_owned_by(self, user) -> bool:
        return self.author_id == user.pk or self.system.owner_id == user.pk


# "Version 2 is draft": a status within a sentence, which not every language writes as its label.
STATUS_IN_SENTENCE = {
    ImpactAssessment.Status.DRAFT: pgettext_lazy("Version 2 is ...", "draft"),
    ImpactAssessment.Status.IN_REVIEW: pgettext_lazy("Version 2 is ...", "in review"),
    ImpactAssessment.Status.APPROVED: pgettext_lazy("Version 2 is ...", "approved"),
    ImpactAssessment.Status.SUPERSEDED: pgettext_lazy("Version 2 is ...", "superseded"),
}


class ImpactItem(TenantModel):
    """One impact of the system on people or the environment, with what is done about it."""

    class Party(models.TextChoices):
        INDIVIDUALS = "individuals", _("Individuals")
        GROUPS = "groups", _("Groups of individuals")
        SOCIETY = "society", _("Society")
        ENVIRONMENT = "environment", _("Environment")

    class Dimension(models.TextChoices):
        FAIRNESS = "fairness", _("Fairness")
        TRANSPARENCY = "transparency", _("Transparency and explainability")
        ACCESSIBILITY = "accessibility", _("Accessibility")
        PRIVACY = "privacy", _("Privacy")
        SAFETY = "safety", _("Safety and health")
        SECURITY = "security", _("Security")
        ENVIRONMENTAL = "environmental", _("Environmental")
        HUMAN_RIGHTS = "human_rights", _("Human rights")
        MISUSE = "misuse", _("Misuse and misinformation")
        ECONOMIC = "economic", _("Economic")

    class Nature(models.TextChoices):
        BENEFIT = "benefit", _("Benefit")
        HARM = "harm", _("Harm")

    class Severity(models.IntegerChoices):
        LOW = 1, _("Low")
        MODERATE = 2, _("Moderate")
        HIGH = 3, _("High")
        VERY_HIGH = 4, _("Very high")

    class Likelihood(models.IntegerChoices):
        RARE = 1, _("Rare")
        POSSIBLE = 2, _("Possible")
        LIKELY = 3, _("Likely")
        ALMOST_CERTAIN = 4, _("Almost certain")

    class Reversibility(models.TextChoices):
        REVERSIBLE = "reversible", _("Reversible")
        PARTLY = "partly", _("Partly reversible")
        IRREVERSIBLE = "irreversible", _("Irreversible")

    assessment = models.ForeignKey(ImpactAssessment, on_delete=models.CASCADE, related_name="items")
    affected_party = models.CharField(max_length=12, choices=Party.choices)
    dimension = models.CharField(max_length=14, choices=Dimension.choices)
    nature = models.CharField(max_length=8, choices=Nature.choices, default=Nature.HARM)
    description = models.TextField()
    severity = models.PositiveSmallIntegerField(choices=Severity.choices, default=Severity.MODERATE)
    likelihood = models.PositiveSmallIntegerField(choices=Likelihood.choices, default=Likelihood.POSSIBLE)
    reversibility = models.CharField(max_length=12, choices=Reversibility.choices, default=Reversibility.REVERSIBLE)
    measures = models.TextField(blank=True, help_text=_("What reduces the harm or secures the benefit."))
    risk = models.ForeignKey("risk.Risk", on_delete=models.SET_NULL, null=True, blank=True, related_name="impact_items")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("impact item")
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return f"{self.get_dimension_display()}: {self.description[:60]}"

    @property
    def party_in_sentence(self) -> str:
        """The affected party as it reads within a sentence ("harm to individuals")."""
        return str(PARTY_IN_SENTENCE[ImpactItem.Party(self.affected_party)])

    @property
    def nature_in_sentence(self) -> str:
        return str(NATURE_IN_SENTENCE[ImpactItem.Nature(self.nature)])

    @property
    def is_harm(self) -> bool:
        return self.nature == self.Nature.HARM

    def is_owned_by(self, user) -> bool:
        return self.assessment.is_owned_by(user)


# Within a sentence, where English writes the labels in lower case and other languages may not.
PARTY_IN_SENTENCE = {
    ImpactItem.Party.INDIVIDUALS: pgettext_lazy("harm to ...", "individuals"),
    ImpactItem.Party.GROUPS: pgettext_lazy("harm to ...", "groups of individuals"),
    ImpactItem.Party.SOCIETY: pgettext_lazy("harm to ...", "society"),
    ImpactItem.Party.ENVIRONMENT: pgettext_lazy("harm to ...", "environment"),
}
NATURE_IN_SENTENCE = {
    ImpactItem.Nature.BENEFIT: pgettext_lazy("an impact that is a ...", "benefit"),
    ImpactItem.Nature.HARM: pgettext_lazy("an impact that is a ...", "harm"),
}

"""Control catalogues: frameworks, their hierarchical requirements, and mappings between them.

Tenant-free reference data that every module may read (the one declared exception to the layers).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Framework(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    title = models.CharField(max_length=300, blank=True)
    version = models.CharField(max_length=40, blank=True)
    publisher = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    source = models.TextField(blank=True, help_text=_("Where the identifiers and titles come from."))
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
        CLAUSE = "clause", _("Clause")
        OBJECTIVE = "objective", _("Control objective")
        CONTROL = "control", _("Control")
        GROUP = "group", _("Group")
        AI_OBJECTIVE = "ai_objective", _("AI-related objective")
        RISK_SOURCE = "risk_source", _("Risk source")
        FUNCTION = "function", _("Function")
        SUBCATEGORY = "subcategory", _("Subcategory")
        ARTICLE = "article", _("Article")
        TIER = "tier", _("Risk tier")
        ANNEX_III_AREA = "annex_iii_area", _("High-risk area (Annex III)")

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="requirements")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="children")
    ref = models.CharField(_("identifier"), max_length=40)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    guidance = models.TextField(blank=True)
    depth = models.PositiveSmallIntegerField(default=0)
    order = models.PositiveIntegerField(default=0, help_text=_("Position in the framework's reading order."))

    objects = RequirementQuerySet.as_manager()

    class Meta:
        ordering = ["framework__order", "order"]
        constraints = [models.UniqueConstraint(fields=["framework", "ref"], name="requirement_unique_ref")]
        indexes = [models.Index(fields=["framework", "order"]), models.Index(fields=["kind"])]

    def __str__(self) -> str:
        return f"{self.ref} {self.title}"

    @property
    def is_clause(self) -> bool:
        return self.kind == self.Kind.CLAUSE

    @property
    def is_control(self) -> bool:
        return self.kind == self.Kind.CONTROL


class Mapping(models.Model):
    """A published relationship between requirements of two frameworks (a crosswalk row)."""

    class Relationship(models.TextChoices):
        EQUIVALENT = "equivalent", _("Equivalent")
        SUBSET = "subset", _("Subset of")
        SUPERSET = "superset", _("Superset of")
        INTERSECTS = "intersects", _("Intersects with")
        RELATED = "related", _("Related to")

    source = models.ForeignKey(Requirement, on_delete=models.CASCADE, related_name="mappings_out")
    target = models.ForeignKey(Requirement, on_delete=models.CASCADE, related_name="mappings_in")
    relationship = models.CharField(max_length=16, choices=Relationship.choices, default=Relationship.RELATED)
    origin = models.CharField(max_length=300, help_text=_("The published crosswalk this pair comes from."))
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["source__order", "target__order"]
        constraints = [models.UniqueConstraint(fields=["source", "target"], name="mapping_unique_pair")]

    def __str__(self) -> str:
        return f"{self.source.ref} {self.get_relationship_display().lower()} {self.target.ref}"

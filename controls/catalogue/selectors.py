"""Reads of the catalogue for pages, the API and reports."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from controls.models import Framework, Mapping, Requirement


def framework_list() -> QuerySet[Framework]:
    return Framework.objects.annotate(
        requirement_count=Count("requirements"),
        control_count=Count("requirements", filter=Q(requirements__kind=Requirement.Kind.CONTROL)),
    ).order_by("order", "name")


@dataclass
class Node:
    requirement: Requirement
    children: list[Node] = field(default_factory=list)


def framework_tree(framework: Framework, search: str = "") -> list[Node]:
    """The framework's requirements as a tree, in one query.

    With ``search``, keeps the matching requirements and the ancestors that lead to them.
    """
    rows = list(Requirement.objects.filter(framework=framework).order_by("order"))
    by_id = {r.pk: Node(r) for r in rows}
    keep = set(by_id)
    if search:
        term = search.lower()
        matches = {r.pk for r in rows if term in f"{r.ref} {r.title} {r.description} {r.guidance}".lower()}
        keep = set()
        for pk in matches:
            while pk is not None and pk not in keep:
                keep.add(pk)
                pk = by_id[pk].requirement.parent_id
    roots = []
    for r in rows:
        if r.pk not in keep:
            continue
        node = by_id[r.pk]
        (by_id[r.parent_id].children if r.parent_id else roots).append(node)
    return roots


def requirement_get(pk: int) -> Requirement:
    return Requirement.objects.select_related("framework", "parent").get(pk=pk)


def requirement_ancestors(requirement: Requirement) -> list[Requirement]:
    """From the root down to the parent, in one query."""
    ancestors_by_id = {
        r.pk: r for r in Requirement.objects.filter(framework_id=requirement.framework_id, depth__lt=requirement.depth)
    }
    chain, pk = [], requirement.parent_id
    while pk is not None:
        node = ancestors_by_id[pk]
        chain.append(node)
        pk = node.parent_id
    return list(reversed(chain))


def requirement_mappings(requirement: Requirement) -> QuerySet[Mapping]:
    return Mapping.objects.filter(Q(source=requirement) | Q(target=requirement)).select_related(
        "source__framework", "target__framework"
    )


def catalogue_tiles(organization) -> list:
    """Dashboard tiles: what the ISO/IEC 42001 catalogue holds (one query)."""
    from django.urls import reverse

    from aims.dashboard import Tile

    counts = Requirement.objects.of_framework("ISO42001").aggregate(
        controls=Count("id", filter=Q(kind=Requirement.Kind.CONTROL)),
        clauses=Count("id", filter=Q(kind=Requirement.Kind.CLAUSE)),
        areas=Count("id", filter=Q(kind=Requirement.Kind.OBJECTIVE, depth=0)),
    )
    url = reverse("catalogue:framework", args=["ISO42001"])
    return [
        Tile("Annex A controls", counts["controls"], f"in {counts['areas']} objective areas", url, order=10),
        Tile("Requirement clauses", counts["clauses"], "clauses 4 to 10 with sub-clauses", url, order=20),
    ]


@dataclass
class CoverageRow:
    requirement: Requirement
    controls: list[tuple[Requirement, str]]  # (ISO control, implementation status or "")
    clauses: list[Requirement]

    @property
    def implemented(self) -> int:
        return sum(status == "implemented" for _, status in self.controls)

    @property
    def coverage(self) -> int | None:
        return round(100 * self.implemented / len(self.controls)) if self.controls else None


def framework_coverage(organization, framework: Framework) -> list[CoverageRow]:
    """For each requirement of another framework: the ISO/IEC 42001 items mapped to it and how far the
    organisation's implemented Annex A controls cover it (three queries)."""
    from controls.models import ApplicabilityStatement

    statuses = {
        control_id: (status if applicable else "excluded" if applicable is False else "")
        for control_id, applicable, status in ApplicabilityStatement.objects.for_org(organization).values_list(
            "control_id", "applicable", "implementation_status"
        )
    }
    by_source: dict[int, list[Requirement]] = {}
    for mapping in (
        Mapping.objects.filter(source__framework=framework).select_related("target").order_by("target__order")
    ):
        by_source.setdefault(mapping.source_id, []).append(mapping.target)
    rows = []
    for requirement in (
        Requirement.objects.filter(framework=framework)
        .exclude(kind__in=[Requirement.Kind.GROUP, Requirement.Kind.FUNCTION])
        .order_by("order")
    ):
        targets = by_source.get(requirement.pk, [])
        if not targets:
            continue
        controls = [(t, statuses.get(t.pk, "")) for t in targets if t.kind == Requirement.Kind.CONTROL]
        clauses = [t for t in targets if t.kind == Requirement.Kind.CLAUSE]
        rows.append(CoverageRow(requirement, controls, clauses))
    return rows

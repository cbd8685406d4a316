"""Reads of the catalogue for pages, the API and reports."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext

from aims.dashboard import Tile
from aims.models import Organization
from controls.catalogue.models import Framework, Mapping, Requirement

ISO_FRAMEWORK = "ISO42001"


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
        for match in matches:
            pk: int | None = match
            while pk is not None and pk not in keep:
                keep.add(pk)
                pk = by_id[pk].requirement.parent_id
    roots: list[Node] = []
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


def catalogue_tiles(organization: Organization) -> list[Tile]:
    """Dashboard tiles: what the ISO/IEC 42001 catalogue holds (one query)."""
    counts = Requirement.objects.of_framework(ISO_FRAMEWORK).aggregate(
        controls=Count("id", filter=Q(kind=Requirement.Kind.CONTROL)),
        clauses=Count("id", filter=Q(kind=Requirement.Kind.CLAUSE)),
        areas=Count("id", filter=Q(kind=Requirement.Kind.OBJECTIVE, depth=0)),
    )
    url = reverse("catalogue:framework", args=[ISO_FRAMEWORK])
    return [
        Tile(
            gettext("Annex A controls"),
            counts["controls"],
            gettext("in %(count)s objective areas") % {"count": counts["areas"]},
            url,
            order=10,
        ),
        Tile(
            gettext("Requirement clauses"),
            counts["clauses"],
            gettext("clauses 4 to 10 with sub-clauses"),
            url,
            order=20,
        ),
    ]

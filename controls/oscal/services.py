"""Importing an OSCAL catalogue as a framework of the catalogue, with its mappings to ISO/IEC 42001."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify
from django.utils.translation import gettext

from aims.models import Organization, User
from aims.records import record_save
from controls.catalogue.models import Framework, Mapping, Requirement
from controls.catalogue.selectors import ISO_FRAMEWORK
from controls.oscal.documents import ISO_PROP, ISO_URN, PORTAL_NS, OscalInvalid, one_line, oscal_validate
from controls.oscal.models import CatalogueImport
from controls.oscal.selectors import RELATIONSHIP_RELS

#: Larger than any published control catalogue (NIST SP 800-53 with its guidance is about 10 MB).
MAX_CATALOGUE_BYTES = 20 * 1024 * 1024
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
# Imported frameworks follow the shipped ones in the catalogue's order.
IMPORTED_ORDER = 100
RELATIONSHIPS = {rel: relationship for relationship, rel in RELATIONSHIP_RELS.items()}
KINDS = set(Requirement.Kind.values)


@dataclass
class CatalogueItem:
    """A group or control of the file, flattened in reading order."""

    ref: str
    kind: str
    title: str
    description: str
    guidance: str
    parent_ref: str | None
    iso_refs: list[tuple[str, str]] = field(default_factory=list)  # (ISO identifier, relationship)


@dataclass
class CatalogueImportResult:
    record: CatalogueImport
    framework: Framework
    stale: list[str]
    unmapped: list[str]


def catalogue_parse(content: bytes) -> Any:
    """The file's catalog as trestle's model; a ValidationError saying what is wrong otherwise."""
    if len(content) > MAX_CATALOGUE_BYTES:
        raise ValidationError(gettext("The file is larger than %(size)s MB.") % {"size": MAX_CATALOGUE_BYTES >> 20})
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationError(gettext("The file is not JSON: %(error)s") % {"error": exc}) from exc
    if not isinstance(data, dict) or not isinstance(data.get("catalog"), dict):
        raise ValidationError(gettext('The file holds no OSCAL catalog: its JSON has no "catalog" object at the top.'))
    try:
        return oscal_validate("catalog", data["catalog"])
    except OscalInvalid as exc:
        raise ValidationError(gettext("The catalog is not valid OSCAL: %(error)s") % {"error": exc}) from exc


def _props(node: Any) -> list[Any]:
    return list(getattr(node, "props", None) or [])


def _in_portal_ns(prop: Any) -> bool:
    # trestle parses ``ns`` as a URI object: compare its text.
    return prop.ns is not None and str(prop.ns) == PORTAL_NS


def _in_oscal_ns(prop: Any) -> bool:
    return prop.ns is None or str(prop.ns) in ("", "http://csrc.nist.gov/ns/oscal")


def _prose(part: Any, depth: int = 0) -> list[str]:
    """A part's prose and its sub-parts' (statement items), each item after its label."""
    label = next((p.value for p in _props(part) if p.name == "label"), "")
    lines = []
    if part.prose:
        lines.append(f"{label} {part.prose}".strip() if depth else part.prose)
    for sub in part.parts or []:
        lines += _prose(sub, depth + 1)
    return lines


def _item(node: Any, parent_ref: str | None, default_kind: str, position: int) -> CatalogueItem:
    props = _props(node)
    label = next((p.value for p in props if p.name == "label" and _in_oscal_ns(p)), None)
    ref = label or node.id or f"G{position}"
    kind = next((p.value for p in props if p.name == "kind" and _in_portal_ns(p)), default_kind)
    parts = list(node.parts or [])
    statement = [line for part in parts if part.name == "statement" for line in _prose(part)]
    guidance = [line for part in parts if part.name == "guidance" for line in _prose(part)]
    iso_refs: list[tuple[str, str]] = [
        (p.value, RELATIONSHIPS.get(p.class_ or "", Mapping.Relationship.RELATED)) for p in props if p.name == ISO_PROP
    ]
    for link in getattr(node, "links", None) or []:
        href = str(link.href)
        if href.startswith(ISO_URN + "#"):
            iso_refs.append((href.split("#", 1)[1], RELATIONSHIPS.get(link.rel or "", Mapping.Relationship.RELATED)))
    return CatalogueItem(
        ref=ref,
        kind=kind if kind in KINDS else default_kind,
        title=one_line(node.title)[:300],
        description="\n\n".join(statement),
        guidance="\n\n".join(guidance),
        parent_ref=parent_ref,
        iso_refs=iso_refs,
    )


def catalogue_items(catalog: Any) -> list[CatalogueItem]:
    """Every group and control of the catalog in reading order; a ValidationError for a bad identifier."""
    items: list[CatalogueItem] = []

    def walk(node: Any, parent_ref: str | None, kind: str) -> None:
        item = _item(node, parent_ref, kind, len(items) + 1)
        items.append(item)
        for group in getattr(node, "groups", None) or []:
            walk(group, item.ref, Requirement.Kind.GROUP)
        for control in node.controls or []:
            walk(control, item.ref, Requirement.Kind.CONTROL)

    for group in catalog.groups or []:
        walk(group, None, Requirement.Kind.GROUP)
    for control in catalog.controls or []:
        walk(control, None, Requirement.Kind.CONTROL)
    if not items:
        raise ValidationError(gettext("The catalog has no groups or controls to import."))
    seen: set[str] = set()
    for item in items:
        if len(item.ref) > 40:
            raise ValidationError(
                gettext("The identifier %(ref)s is longer than 40 characters.") % {"ref": item.ref[:60]}
            )
        if item.ref in seen:
            raise ValidationError(gettext("The identifier %(ref)s appears twice in the catalog.") % {"ref": item.ref})
        seen.add(item.ref)
    return items


def _publisher(catalog: Any) -> str:
    metadata = catalog.metadata
    names = {party.uuid: party.name for party in metadata.parties or [] if party.name}
    for responsible in metadata.responsible_parties or []:
        if responsible.role_id in ("creator", "publisher"):
            for key in responsible.party_uuids:
                if key in names:
                    return one_line(names[key])[:200]
    return ""


def _framework_code(catalog: Any, code: str) -> str:
    """The code asked for, else the one a previous import of this catalog used, else one from its title."""
    code = code.strip()
    if code:
        if len(code) > 40 or not CODE_PATTERN.match(code):
            raise ValidationError(
                {
                    "code": gettext(
                        "Use up to 40 letters, digits, hyphens and underscores, starting with a letter or digit."
                    )
                }
            )
        return code
    # Frameworks are shared: any organisation's earlier import of the same catalog names it.
    earlier = (
        CatalogueImport.objects.filter(catalog_uuid=catalog.uuid, framework__isnull=False)
        .select_related("framework")
        .first()
    )
    if earlier is not None and earlier.framework is not None:
        return str(earlier.framework.code)
    derived: str = slugify(catalog.metadata.title)[:40].strip("-").upper()
    return derived or "OSCAL"


def _framework_save(catalog: Any, code: str, file_name: str) -> Framework:
    framework = Framework.objects.filter(code=code).first()
    if framework is not None:
        origins = set(
            map(str, CatalogueImport.objects.filter(framework=framework).values_list("catalog_uuid", flat=True))
        )
        if not origins:
            raise ValidationError(
                {
                    "code": gettext("The code %(code)s belongs to a framework shipped with the portal; choose another.")
                    % {"code": code}
                }
            )
        if str(catalog.uuid) not in origins:
            raise ValidationError(
                {
                    "code": gettext("The framework %(code)s was imported from another catalog; choose another code.")
                    % {"code": code}
                }
            )
    metadata = catalog.metadata
    portal_title = next((p.value for p in metadata.props or [] if p.name == "title" and _in_portal_ns(p)), "")
    fields = {
        "name": one_line(metadata.title)[:200],
        "title": (portal_title or one_line(metadata.title))[:300],
        "version": one_line(metadata.version)[:40],
        "publisher": _publisher(catalog),
        "description": metadata.remarks or "",
        "source": f"OSCAL catalog {catalog.uuid}" + (f" ({file_name})" if file_name else ""),
    }
    if framework is None:
        order = max(Framework.objects.aggregate(n=Max("order"))["n"] or 0, IMPORTED_ORDER - 1) + 1
        return Framework.objects.create(code=code, order=order, **fields)
    for name, value in fields.items():
        setattr(framework, name, value)
    framework.save()
    return framework


def _requirements_save(framework: Framework, items: list[CatalogueItem]) -> tuple[dict[str, Requirement], int, int]:
    by_ref: dict[str, Requirement] = {}
    created = updated = 0
    for order, item in enumerate(items, start=1):
        parent = by_ref[item.parent_ref] if item.parent_ref else None
        requirement, was_created = Requirement.objects.update_or_create(
            framework=framework,
            ref=item.ref,
            defaults={
                "parent": parent,
                "depth": 0 if parent is None else parent.depth + 1,
                "order": order,
                "kind": item.kind,
                "title": item.title,
                "description": item.description,
                "guidance": item.guidance,
            },
        )
        by_ref[item.ref] = requirement
        created += was_created
        updated += not was_created
    return by_ref, created, updated


def _mappings_save(
    framework: Framework, items: list[CatalogueItem], by_ref: dict[str, Requirement], origin: str
) -> tuple[int, list[str]]:
    """Record each ISO/IEC 42001 reference as a crosswalk pair; drop the pairs the file no longer states."""
    iso = {r.ref: r for r in Requirement.objects.of_framework(ISO_FRAMEWORK)}
    kept: set[int] = set()
    unmapped: list[str] = []
    for item in items:
        for iso_ref, relationship in item.iso_refs:
            target = iso.get(iso_ref)
            if target is None:
                unmapped.append(f"{item.ref} -> {iso_ref}")
                continue
            mapping, _ = Mapping.objects.update_or_create(
                source=by_ref[item.ref],
                target=target,
                defaults={"relationship": relationship, "origin": origin[:300], "note": ""},
            )
            kept.add(mapping.pk)
    Mapping.objects.filter(source__framework=framework).exclude(pk__in=kept).delete()
    return len(kept), unmapped


@transaction.atomic
def catalogue_import(
    *, organization: Organization, content: bytes, file_name: str = "", code: str = "", acting_user: User
) -> CatalogueImportResult:
    """Create or update the framework an OSCAL catalogue describes, its requirements and mappings.

    Idempotent: requirements are matched by identifier (the ``label`` property, else the OSCAL
    id), so importing the same file again updates and never duplicates. Requirements that left
    the file are reported (``stale``), not deleted: organisations' records may point at them.
    References to unknown ISO/IEC 42001 identifiers are reported in ``unmapped``. The upload is
    recorded as a :class:`CatalogueImport` of the organisation, with its history. A file that is
    not a valid OSCAL catalog raises ValidationError with trestle's message, and nothing changes.
    """
    catalog = catalogue_parse(content)
    items = catalogue_items(catalog)
    framework = _framework_save(catalog, _framework_code(catalog, code), file_name)
    by_ref, created, updated = _requirements_save(framework, items)
    mappings, unmapped = _mappings_save(framework, items, by_ref, f"OSCAL catalog: {framework.name}")
    stale = list(
        Requirement.objects.filter(framework=framework)
        .exclude(ref__in=by_ref)
        .order_by("order")
        .values_list("ref", flat=True)
    )
    record = CatalogueImport(
        organization=organization,
        framework=framework,
        catalog_uuid=catalog.uuid,
        title=one_line(catalog.metadata.title)[:300],
        file_name=file_name[:255],
        sha256=hashlib.sha256(content).hexdigest(),
        created=created,
        updated=updated,
        mappings=mappings,
        imported_by=acting_user,
    )
    record_save(record, acting_user=acting_user)
    return CatalogueImportResult(record=record, framework=framework, stale=stale, unmapped=unmapped)

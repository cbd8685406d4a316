"""The OSCAL documents of a framework and of an organisation's AIMS, built from the records as they are.

* :func:`catalog_document`: a framework's requirements (ISO/IEC 42001 by default) as a catalog,
  with the identifiers and titles as published and the portal's own descriptions;
* :func:`profile_document`: the controls the latest approved Statement of Applicability
  declares applicable, selected from that catalog;
* :func:`ssp_document`: the AIMS as a system security plan: each applicable control's status,
  implementation, responsible roles and evidence, every evidence file in back-matter with its
  SHA-256.

Each returns an :class:`~controls.oscal.documents.OscalDocument` already validated by trestle's
models. ``absolute`` turns a portal path into the URL the document links to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.urls import reverse

from aims.governance.models import AIMSScope, OrgRole
from aims.models import Organization
from controls.catalogue.models import Framework, Mapping, Requirement
from controls.catalogue.selectors import ISO_FRAMEWORK, Node, framework_tree
from controls.evidence.models import Evidence, EvidenceLink, EvidenceVersion
from controls.oscal.documents import (
    ISO_URN,
    OscalDocument,
    Parties,
    document_build,
    metadata,
    one_line,
    oscal_id,
    portal_prop,
    prop,
    resource,
    stable_uuid,
)
from controls.soa.models import ApplicabilityStatement, ImplementationStatus, SoAVersion
from controls.soa.selectors import soa_latest_approved
from registry.models import AISystem, RoleAssignment

Absolute = Callable[[str], str]

#: The SoA's implementation status as OSCAL's implementation-status states.
OSCAL_STATES = {
    ImplementationStatus.IMPLEMENTED: "implemented",
    ImplementationStatus.PARTIAL: "partial",
    ImplementationStatus.PLANNED: "planned",
    ImplementationStatus.NOT_STARTED: "planned",
}
#: A crosswalk relationship as the ``rel`` of a catalog link (and back, on import).
RELATIONSHIP_RELS = {
    Mapping.Relationship.EQUIVALENT: "equivalent-to",
    Mapping.Relationship.SUBSET: "subset-of",
    Mapping.Relationship.SUPERSET: "superset-of",
    Mapping.Relationship.INTERSECTS: "intersects-with",
    Mapping.Relationship.RELATED: "related",
}
CONTROL_OWNER_ROLE = "control-owner"
RACI_ROLES = {
    RoleAssignment.Raci.RESPONSIBLE: "ai-system-responsible",
    RoleAssignment.Raci.ACCOUNTABLE: "ai-system-accountable",
    RoleAssignment.Raci.CONSULTED: "ai-system-consulted",
    RoleAssignment.Raci.INFORMED: "ai-system-informed",
}


class NothingToExport(LookupError):
    """No approved Statement of Applicability, or one that declares no control applicable: no profile."""


class NoApprovedSoA(NothingToExport):
    pass


class NoApplicableControl(NothingToExport):
    pass


def framework_for_export(code: str | None) -> Framework:
    """The framework to export, ISO/IEC 42001 unless another code is named; ``Framework.DoesNotExist`` else."""
    return Framework.objects.get(code=code or ISO_FRAMEWORK)


def catalog_uuid(framework: Framework) -> str:
    return stable_uuid("catalog", framework.code)


# --- Catalog ---------------------------------------------------------------------------------


def _requirement_props(requirement: Requirement) -> list[dict[str, Any] | None]:
    return [prop("label", requirement.ref), portal_prop("kind", requirement.kind)]


def _requirement_parts(requirement: Requirement, token: str) -> list[dict[str, Any]]:
    parts = []
    if requirement.description:
        parts.append({"id": f"{token}_smt", "name": "statement", "prose": requirement.description})
    if requirement.guidance:
        parts.append({"id": f"{token}_gdn", "name": "guidance", "prose": requirement.guidance})
    return parts


def _iso_links(mappings: list[Mapping]) -> list[dict[str, Any]]:
    return [
        {"href": f"{ISO_URN}#{m.target.ref}", "rel": RELATIONSHIP_RELS[Mapping.Relationship(m.relationship)]}
        for m in mappings
    ]


def _control(node: Node, mappings: dict[int, list[Mapping]]) -> dict[str, Any]:
    requirement = node.requirement
    token = oscal_id(requirement.ref)
    return {
        "id": token,
        "title": one_line(requirement.title),
        "props": _requirement_props(requirement),
        "links": _iso_links(mappings.get(requirement.pk, [])),
        "parts": _requirement_parts(requirement, token),
        "controls": [_control(child, mappings) for child in node.children],
    }


def _group(node: Node, mappings: dict[int, list[Mapping]]) -> dict[str, Any]:
    group = _control(node, mappings)
    if group["links"]:  # OSCAL groups carry no links: a group's mapping travels as a property
        group["props"] += [
            prop("iso42001", link["href"].split("#", 1)[1], class_=link["rel"]) for link in group["links"]
        ]
    group.pop("links")
    return group


def catalog_document(framework: Framework) -> OscalDocument:
    """The framework as an OSCAL catalog: top-level requirements are groups, the rest nested controls.

    Each carries its identifier (``label``) and kind (portal property), its description as the
    statement and its guidance; a requirement's published mapping to ISO/IEC 42001 is a link to
    ``urn:iso:std:iso-iec:42001#<identifier>`` whose ``rel`` is the relationship.
    """
    outgoing: dict[int, list[Mapping]] = defaultdict(list)
    if framework.code != ISO_FRAMEWORK:
        to_iso = Mapping.objects.filter(source__framework=framework, target__framework__code=ISO_FRAMEWORK)
        for mapping in to_iso.select_related("target").order_by("target__order"):
            outgoing[mapping.source_id].append(mapping)
    parties = Parties(f"catalog:{framework.code}")
    publisher = parties.organization(framework.publisher, framework.publisher) if framework.publisher else None
    body = {
        "uuid": catalog_uuid(framework),
        "metadata": metadata(
            framework.name,
            version=framework.version,
            remarks=framework.description,
            props=[portal_prop("framework-code", framework.code), portal_prop("title", framework.title)],
            roles=[{"id": "creator", "title": "Publisher"}] if publisher else [],
            parties=parties,
            responsible_parties=[{"role-id": "creator", "party-uuids": [publisher]}] if publisher else [],
        ),
        "groups": [_group(node, outgoing) for node in framework_tree(framework)],
        "back-matter": {
            "resources": [
                resource(stable_uuid("catalog-source", framework.code), "Source", description=framework.source)
            ]
            if framework.source
            else []
        },
    }
    return document_build("catalog", body, f"oscal-catalog-{framework.code.lower()}")


# --- Profile ---------------------------------------------------------------------------------


def _approved(organization: Organization) -> SoAVersion:
    version = soa_latest_approved(organization)
    if version is None:
        raise NoApprovedSoA("No version of the Statement of Applicability has been approved yet.")
    return version


def applicable_refs(version: SoAVersion) -> list[str]:
    """The controls an approved SoA version declares applicable, in its (the catalogue's) order."""
    return [row["ref"] for row in version.rows if row.get("applicable") is True]


def _catalog_resource(framework: Framework, absolute: Absolute) -> dict[str, Any]:
    href = absolute(reverse("oscal-catalog")) + f"?framework={framework.code}"
    return resource(
        stable_uuid("catalog-resource", framework.code),
        f"{framework.name} (OSCAL catalog)",
        href=href,
        media_type="application/oscal.catalog+json",
    )


def profile_uuid(organization: Organization, version: SoAVersion) -> str:
    return stable_uuid("profile", organization.slug, version.number)


def profile_document(organization: Organization, absolute: Absolute) -> OscalDocument:
    """The applicable controls of the latest approved SoA version as a profile of the ISO catalog.

    Each selected control gets the SoA's justification as a property (``modify/alters``).
    :class:`NothingToExport` when no version was approved.
    """
    version = _approved(organization)
    iso = framework_for_export(ISO_FRAMEWORK)
    catalog = _catalog_resource(iso, absolute)
    rows = [row for row in version.rows if row.get("applicable") is True]
    if not rows:
        raise NoApplicableControl("The approved Statement of Applicability declares no control applicable.")
    parties = Parties(f"org:{organization.slug}")
    approver = parties.person(version.decided_by)
    body = {
        "uuid": profile_uuid(organization, version),
        "metadata": metadata(
            f"{organization.name}: applicable ISO/IEC 42001 controls (SoA version {version.number})",
            version=str(version.number),
            published=version.decided_at,
            remarks=version.note,
            props=[portal_prop("soa-version", version.number), portal_prop("soa-status", version.status)],
            roles=[{"id": "approver", "title": "Approver of the Statement of Applicability"}] if approver else [],
            parties=parties,
            responsible_parties=[{"role-id": "approver", "party-uuids": [approver]}] if approver else [],
        ),
        "imports": [
            {
                "href": f"#{catalog['uuid']}",
                "include-controls": [{"with-ids": [oscal_id(row["ref"]) for row in rows]}],
            }
        ],
        "merge": {"as-is": True},
        "modify": {
            "alters": [
                {
                    "control-id": oscal_id(row["ref"]),
                    "adds": [{"position": "ending", "props": [portal_prop("justification", row["justification"])]}],
                }
                for row in rows
                if row.get("justification")
            ]
        },
        "back-matter": {"resources": [catalog]},
    }
    return document_build("profile", body, f"oscal-profile-{organization.slug}")


# --- System security plan --------------------------------------------------------------------


def _evidence_by_control(organization: Organization, control_ids: list[int]) -> dict[int, list[Evidence]]:
    """Each control's evidence with its latest version, in two queries."""
    latest = EvidenceVersion.objects.for_org(organization).order_by("evidence_id", "-number")
    links = (
        EvidenceLink.objects.for_org(organization)
        .filter(target=EvidenceLink.Target.CONTROL, control_id__in=control_ids)
        .select_related("evidence")
        .prefetch_related(Prefetch("evidence__versions", queryset=latest))
        .order_by("evidence__title", "evidence_id")
    )
    found: dict[int, list[Evidence]] = defaultdict(list)
    for link in links:
        if link.control_id is not None:  # always, for a control link (the table's check constraint)
            found[link.control_id].append(link.evidence)
    return found


def evidence_resource(evidence: Evidence, absolute: Absolute) -> dict[str, Any]:
    """Evidence in back-matter: the latest version's file (permission-checked download, SHA-256), link or note."""
    versions = list(evidence.versions.all())
    version = versions[0] if versions else None
    href, media_type, sha256 = "", "", ""
    if version is not None and version.file:
        href = absolute(reverse("evidence:download", args=[evidence.pk, version.pk]))
        media_type, sha256 = version.content_type, version.sha256
    elif version is not None and version.url:
        href = version.url
    return resource(
        stable_uuid("evidence", evidence.organization_id, evidence.pk, version.pk if version else 0),
        evidence.title,
        description=evidence.description or (version.note if version else ""),
        href=href,
        media_type=media_type,
        sha256=sha256,
        props=[
            portal_prop("evidence-kind", evidence.kind),
            portal_prop("evidence-version", version.number if version else None),
            portal_prop("valid-until", evidence.valid_until.isoformat() if evidence.valid_until else None),
            prop("original-name", version.original_name if version else None, ns="urn:aims-portal:oscal"),
        ],
    )


def _roles_and_parties(
    organization: Organization, parties: Parties
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The AIMS roles (5.3) and the RACI roles of AI systems, with who holds the organisation-level ones."""
    roles = [{"id": CONTROL_OWNER_ROLE, "title": "Control owner", "description": "Owns a control's row in the SoA."}]
    roles += [{"id": role_id, "title": f"AI system: {raci.label}"} for raci, role_id in RACI_ROLES.items()]
    responsible = []
    for org_role in OrgRole.objects.for_org(organization).select_related("holder").order_by("name", "pk"):
        role_id = f"aims-role-{org_role.pk}"
        roles.append({"id": role_id, "title": one_line(org_role.name), "description": org_role.responsibilities})
        holder = parties.person(org_role.holder) or (
            parties.external(org_role.external_holder) if org_role.external_holder else None
        )
        if holder:
            responsible.append({"role-id": role_id, "party-uuids": [holder]})
    return roles, responsible


def _system_components(
    organization: Organization, statements: list[ApplicabilityStatement], parties: Parties
) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """The AIMS itself and each AI system an applicable control covers, with its RACI roles."""
    aims_component = {
        "uuid": stable_uuid("component", organization.slug, "aims"),
        "type": "this-system",
        "title": f"AI management system of {organization.name}",
        "description": "The AI management system (ISO/IEC 42001) the Statement of Applicability applies to.",
        "status": {"state": "operational"},
    }
    system_ids = {link.system_id for row in statements for link in row.system_links.all()}
    systems: QuerySet[AISystem] = AISystem.objects.for_org(organization).filter(pk__in=system_ids)
    assignments: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    raci_rows = RoleAssignment.objects.for_org(organization).filter(system_id__in=system_ids).select_related("member")
    for assignment in raci_rows:
        party = parties.person(assignment.member) or parties.external(assignment.external_party)
        assignments[assignment.system_id][RACI_ROLES[RoleAssignment.Raci(assignment.raci)]].append(party)
    components: list[dict[str, Any]] = [aims_component]
    keys: dict[int, str] = {}
    for system in systems.order_by("ref_code", "pk"):
        keys[system.pk] = stable_uuid("component", organization.slug, "system", system.pk)
        components.append(
            {
                "uuid": keys[system.pk],
                "type": "service",
                "title": one_line(f"{system.ref_code} {system.name}"),
                "description": system.purpose or system.name,
                "props": [portal_prop("ai-system", system.ref_code)],
                "status": {"state": "operational"},
                "responsible-roles": [
                    {"role-id": role_id, "party-uuids": sorted(set(uuids))}
                    for role_id, uuids in sorted(assignments[system.pk].items())
                ],
            }
        )
    return components, keys


def ssp_document(organization: Organization, absolute: Absolute) -> OscalDocument:
    """The AIMS as a system security plan of the approved profile.

    One implemented requirement per control the approved SoA declares applicable, with the
    row's current status, implementation and owner, and links to its evidence, which
    back-matter lists with each file's SHA-256 and permission-checked download URL.
    :class:`NothingToExport` when no version was approved.
    """
    version = _approved(organization)
    refs = set(applicable_refs(version))
    statements = [
        row
        for row in ApplicabilityStatement.objects.for_org(organization)
        .filter(control__ref__in=refs, control__framework__code=ISO_FRAMEWORK)
        .select_related("control", "owner")
        .prefetch_related("system_links")
        .order_by("control__order")
    ]
    if not statements:
        raise NoApplicableControl("The approved Statement of Applicability declares no control applicable.")
    parties = Parties(f"org:{organization.slug}")
    roles, responsible = _roles_and_parties(organization, parties)
    components, system_keys = _system_components(organization, statements, parties)
    aims_key = components[0]["uuid"]
    evidence = _evidence_by_control(organization, [row.control_id for row in statements])
    resources: dict[str, dict[str, Any]] = {}
    requirements = []
    for row in statements:
        links = []
        for item in evidence.get(row.control_id, []):
            res = evidence_resource(item, absolute)
            resources.setdefault(res["uuid"], res)
            links.append({"href": f"#{res['uuid']}", "rel": "evidence", "text": one_line(item.title)})
        owner = parties.person(row.owner)
        state = OSCAL_STATES[ImplementationStatus(row.implementation_status)]
        requirements.append(
            {
                "uuid": stable_uuid("implemented-requirement", organization.slug, row.control.ref),
                "control-id": oscal_id(row.control.ref),
                "props": [
                    portal_prop("implementation-status", row.implementation_status),
                    portal_prop("target-date", row.target_date.isoformat() if row.target_date else None),
                ],
                "links": links,
                "responsible-roles": [{"role-id": CONTROL_OWNER_ROLE, "party-uuids": [owner]}] if owner else [],
                "by-components": [
                    {
                        "component-uuid": aims_key,
                        "uuid": stable_uuid("by-component", organization.slug, row.control.ref, "aims"),
                        "description": row.implementation or row.justification or row.control.title,
                        "implementation-status": {
                            "state": state,
                            "remarks": row.get_implementation_status_display(),
                        },
                    },
                    *(
                        {
                            "component-uuid": system_keys[link.system_id],
                            "uuid": stable_uuid("by-component", organization.slug, row.control.ref, link.system_id),
                            "description": f"{row.control.ref} covers this AI system.",
                            "implementation-status": {"state": state},
                        }
                        for link in row.system_links.all()
                        if link.system_id in system_keys
                    ),
                ],
                "remarks": row.justification,
            }
        )
    scope = AIMSScope.objects.for_org(organization).first()
    profile = {
        "uuid": stable_uuid("profile-resource", organization.slug, version.number),
        "title": f"Profile: applicable controls of SoA version {version.number}",
        "rlinks": [{"href": absolute(reverse("oscal-profile")), "media-type": "application/oscal.profile+json"}],
    }
    body = {
        "uuid": stable_uuid("ssp", organization.slug),
        "metadata": metadata(
            f"{organization.name}: AI management system plan",
            version=str(version.number),
            props=[portal_prop("soa-version", version.number)],
            roles=roles,
            parties=parties,
            responsible_parties=responsible,
        ),
        "import-profile": {"href": f"#{profile['uuid']}"},
        "system-characteristics": {
            "system-ids": [
                {"identifier-type": "https://ietf.org/rfc/rfc4122", "id": stable_uuid("system", organization.slug)}
            ],
            "system-name": f"AI management system of {organization.name}",
            "system-name-short": "AIMS",
            "description": scope.statement if scope and scope.statement else "The organisation's AI management system.",
            "system-information": {
                "information-types": [
                    {
                        "uuid": stable_uuid("information-type", organization.slug, "aims"),
                        "title": "AIMS records",
                        "description": "AI systems, risks, impact assessments, controls and evidence of the AIMS.",
                    }
                ]
            },
            "status": {"state": "operational"},
            "authorization-boundary": {
                "description": (scope.boundaries if scope and scope.boundaries else "")
                or "The scope of the AI management system."
            },
        },
        "system-implementation": {"components": components},
        "control-implementation": {
            "description": f"The applicable controls of SoA version {version.number} and how each is implemented.",
            "implemented-requirements": requirements,
        },
        "back-matter": {"resources": [profile, *resources.values()]},
    }
    return document_build("system-security-plan", body, f"oscal-ssp-{organization.slug}")

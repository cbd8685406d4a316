"""OSCAL documents (catalog, profile, SSP, assessment results) and the catalogue import.

Every document is parsed back with compliance-trestle's OSCAL models, and the catalog, profile
and SSP also pass ``trestle validate`` in a trestle workspace.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.catalog import Catalog
from trestle.oscal.profile import Profile
from trestle.oscal.ssp import SystemSecurityPlan

from aims.roles import Role
from audits.improvement import services as improvement
from audits.models import ChecklistItem, Finding
from controls.catalogue.models import Framework, Mapping, Requirement
from controls.evidence import services as evidence_services
from controls.evidence.models import Evidence, EvidenceLink
from controls.oscal import selectors
from controls.oscal.models import CatalogueImport
from controls.oscal.services import catalogue_import
from controls.soa import services as soa
from controls.soa.models import ApplicabilityStatement, ImplementationStatus
from tests.audits.factories import AuditFactory, AuditProgrammeFactory, FindingFactory
from tests.controls.factories import PDF, FileEvidenceFactory, control

APPLICABLE = {"A.2.2", "A.5.2", "A.6.2.6", "A.6.2.8", "A.7.4"}
TRESTLE = Path(sys.executable).with_name("trestle")

# A small catalog in the shape of the NIST AI RMF (functions as groups, subcategories as controls),
# written for these tests in their own words.
AI_RMF_STYLE = {
    "catalog": {
        "uuid": "5b1f7c1a-6a3e-4d0b-9c52-1f2e3d4c5b6a",
        "metadata": {
            "title": "AI risk management functions (test catalog)",
            "last-modified": "2026-11-02T09:00:00+00:00",
            "version": "0.1",
            "oscal-version": "1.1.2",
            "remarks": "Four functions and a few outcomes, for import tests.",
            "roles": [{"id": "creator", "title": "Author"}],
            "parties": [{"uuid": "0d4b2c1e-7f7a-4e6b-8a2b-3c4d5e6f7a8b", "type": "organization", "name": "Test lab"}],
            "responsible-parties": [{"role-id": "creator", "party-uuids": ["0d4b2c1e-7f7a-4e6b-8a2b-3c4d5e6f7a8b"]}],
        },
        "groups": [
            {
                "id": "gv",
                "title": "Govern",
                "props": [{"name": "label", "value": "GOVERN"}],
                "parts": [{"id": "gv_smt", "name": "overview", "prose": "Set up the culture and the rules."}],
                "controls": [
                    {
                        "id": "gv-1.1",
                        "title": "Legal duties are known",
                        "props": [{"name": "label", "value": "GOVERN 1.1"}],
                        "links": [{"href": "urn:iso:std:iso-iec:42001#4.2", "rel": "related"}],
                        "parts": [
                            {
                                "id": "gv-1.1_smt",
                                "name": "statement",
                                "prose": "The obligations that apply to the AI work are listed and kept current.",
                            },
                            {"id": "gv-1.1_gdn", "name": "guidance", "prose": "Review the list every quarter."},
                        ],
                    },
                    {
                        "id": "gv-2.1",
                        "title": "Roles are assigned",
                        "props": [
                            {"name": "label", "value": "GOVERN 2.1"},
                            {"name": "iso42001", "value": "A.3.2", "class": "equivalent-to"},
                        ],
                        "links": [{"href": "urn:iso:std:iso-iec:42001#Z.9", "rel": "related"}],
                    },
                ],
            },
            {
                "id": "mp",
                "title": "Map",
                "props": [{"name": "label", "value": "MAP"}],
                "controls": [
                    {
                        "id": "mp-1.1",
                        "title": "Context is understood",
                        "props": [{"name": "label", "value": "MAP 1.1"}],
                        "links": [{"href": "urn:iso:std:iso-iec:42001#A.5.2", "rel": "intersects-with"}],
                        "parts": [
                            {
                                "id": "mp-1.1_smt",
                                "name": "statement",
                                "parts": [
                                    {
                                        "id": "mp-1.1_smt.a",
                                        "name": "item",
                                        "props": [{"name": "label", "value": "a."}],
                                        "prose": "intended uses are written down;",
                                    },
                                    {
                                        "id": "mp-1.1_smt.b",
                                        "name": "item",
                                        "props": [{"name": "label", "value": "b."}],
                                        "prose": "the people affected are named.",
                                    },
                                ],
                            }
                        ],
                        "controls": [{"id": "mp-1.1.1", "title": "Enhancement: the context is reviewed"}],
                    }
                ],
            },
        ],
    }
}


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    return tmp_path


def approve_soa(org, officer, admin, applicable=APPLICABLE):
    """Decide every row (the given controls applicable, the rest excluded), submit and approve."""
    soa.soa_rows_ensure(org)
    for row in ApplicabilityStatement.objects.for_org(org).select_related("control"):
        row.applicable = row.control.ref in applicable
        row.justification = "Needed for our AI systems." if row.applicable else "No AI system of this kind."
        soa.soa_row_update(statement=row, acting_user=officer)
    version = soa.soa_submit(organization=org, acting_user=officer, note="First SoA.")
    return soa.soa_approve(version=version, acting_user=admin)


def file_evidence(org, user, title, ref, content=PDF, name="report.pdf"):
    evidence = FileEvidenceFactory(organization=org, acting_user=user, title=title, content=content, name=name)
    evidence_services.evidence_link(
        evidence=evidence, target=EvidenceLink.Target.CONTROL, obj=control(ref), acting_user=user
    )
    return evidence


def body(response, key):
    assert response.status_code == 200, response.content[:500]
    data = json.loads(response.content)
    assert list(data) == [key]
    return data[key]


def trestle_validate(tmp_path, folder, name, document):
    """``trestle validate`` of the document in a fresh trestle workspace (an SSP resolves its
    profile and catalog there: write them first, with ``trestle://`` imports)."""
    workspace = tmp_path / "trestle"
    if not workspace.exists():
        workspace.mkdir()
        subprocess.run([str(TRESTLE), "init"], cwd=workspace, check=True, capture_output=True)
    target = workspace / folder / name
    target.mkdir(parents=True)
    kind = {"catalogs": "catalog", "profiles": "profile", "system-security-plans": "system-security-plan"}[folder]
    (target / f"{kind}.json").write_text(json.dumps({kind: document}))
    result = subprocess.run(
        [str(TRESTLE), "validate", "-f", str(target / f"{kind}.json")], cwd=workspace, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def upload(document, name="catalog.json"):
    content = document if isinstance(document, bytes) else json.dumps(document).encode()
    return SimpleUploadedFile(name, content, content_type="application/json")


# --- Catalog ---------------------------------------------------------------------------------


def test_the_iso_catalog_validates_and_holds_every_requirement(login, victor, tmp_path):
    data = body(login(victor).get(reverse("oscal:catalog")), "catalog")
    catalog = Catalog.model_validate(data)
    iso = Requirement.objects.of_framework("ISO42001")
    labels, stack = {}, list(catalog.groups)
    while stack:
        node = stack.pop()
        labels[next(p.value for p in node.props if p.name == "label")] = node
        stack += list(getattr(node, "groups", None) or []) + list(node.controls or [])
    assert set(labels) == set(iso.values_list("ref", flat=True))
    a626 = iso.get(ref="A.6.2.6")
    assert labels["A.6.2.6"].id == "A.6.2.6" and labels["A.6.2.6"].title == a626.title
    assert labels["A.6.2.6"].parts[0].prose == a626.description
    assert labels["4.1"].id == "req-4.1"  # OSCAL ids start with a letter; the label keeps "4.1"
    trestle_validate(tmp_path, "catalogs", "iso42001", data)


def test_another_framework_exports_its_mappings_to_iso_as_links(api_for, acme):
    api = api_for(acme, Role.VIEWER)
    data = body(api.get(reverse("oscal-catalog"), {"framework": "NISTAIRMF"}), "catalog")
    Catalog.model_validate(data)
    mapped = Mapping.objects.filter(source__framework__code="NISTAIRMF", target__framework__code="ISO42001")
    links = [
        link["href"]
        for group in data["groups"]
        for control in group.get("controls", [])
        for link in control.get("links", [])
    ]
    assert len(links) == mapped.count() > 0
    assert all(href.startswith("urn:iso:std:iso-iec:42001#") for href in links)


def test_an_unknown_framework_is_400_in_the_api_and_404_on_the_page(api_for, acme, login, victor):
    response = api_for(acme, Role.VIEWER).get(reverse("oscal-catalog"), {"framework": "NOPE"})
    assert response.status_code == 400 and "framework" in response.json()["errors"]
    assert login(victor).get(reverse("oscal:catalog"), {"framework": "NOPE"}).status_code == 404


# --- Round trip and import -------------------------------------------------------------------


def tree(framework):
    return [
        (r.ref, r.kind, r.title, r.description, r.guidance, r.parent.ref if r.parent else None, r.depth)
        for r in Requirement.objects.filter(framework=framework).select_related("parent").order_by("order")
    ]


def test_the_iso_catalog_round_trips_through_an_import(acme, olivia):
    iso = Framework.objects.get(code="ISO42001")
    exported = selectors.catalog_document(iso).as_json().encode()
    result = catalogue_import(
        organization=acme, content=exported, file_name="iso.json", code="ISO-COPY", acting_user=olivia
    )
    assert result.framework.code == "ISO-COPY" and result.record.created == iso.requirements.count()
    assert tree(result.framework) == tree(iso)
    assert result.framework.name == iso.name and result.framework.version == iso.version
    # The import is kept with its history; importing the same file again updates, duplicating nothing.
    again = catalogue_import(organization=acme, content=exported, file_name="iso.json", acting_user=olivia)
    assert again.framework == result.framework
    assert (again.record.created, again.record.updated) == (0, iso.requirements.count())
    assert tree(again.framework) == tree(iso)
    assert CatalogueImport.objects.for_org(acme).count() == 2
    assert again.record.history.get().history_user == olivia
    assert again.record.sha256 == hashlib.sha256(exported).hexdigest()


def test_an_ai_rmf_style_catalog_becomes_a_framework_with_its_mappings(login, olivia):
    client = login(olivia)
    response = client.post(reverse("oscal:import"), {"file": upload(AI_RMF_STYLE), "code": ""})
    assert response.status_code == 302
    framework = Framework.objects.get(code="AI-RISK-MANAGEMENT-FUNCTIONS-TEST-CATALO")
    assert response.url == reverse("catalogue:framework", args=[framework.code])
    assert framework.publisher == "Test lab" and framework.version == "0.1"
    rows = {r.ref: r for r in Requirement.objects.filter(framework=framework).select_related("parent")}
    assert list(rows) == ["GOVERN", "GOVERN 1.1", "GOVERN 2.1", "MAP", "MAP 1.1", "mp-1.1.1"]
    assert rows["GOVERN"].kind == Requirement.Kind.GROUP and rows["GOVERN 1.1"].kind == Requirement.Kind.CONTROL
    assert rows["mp-1.1.1"].parent == rows["MAP 1.1"] and rows["mp-1.1.1"].depth == 2  # no label: the id
    assert rows["GOVERN 1.1"].guidance == "Review the list every quarter."
    assert rows["MAP 1.1"].description == "a. intended uses are written down;\n\nb. the people affected are named."
    pairs = {
        (m.source.ref, m.target.ref, m.relationship)
        for m in Mapping.objects.filter(source__framework=framework).select_related("source", "target")
    }
    assert pairs == {
        ("GOVERN 1.1", "4.2", "related"),
        ("GOVERN 2.1", "A.3.2", "equivalent"),
        ("MAP 1.1", "A.5.2", "intersects"),
    }
    page = client.get(reverse("oscal:import"))
    assert page.status_code == 200 and "AI risk management functions (test catalog)" in page.content.decode()

    # A second version of the catalog drops a mapping and changes a title: updated, not duplicated.
    changed = json.loads(json.dumps(AI_RMF_STYLE))
    del changed["catalog"]["groups"][1]["controls"][0]["links"]
    changed["catalog"]["groups"][0]["title"] = "Govern (revised)"
    assert client.post(reverse("oscal:import"), {"file": upload(changed)}).status_code == 302
    assert Requirement.objects.filter(framework=framework).count() == 6
    assert Requirement.objects.get(framework=framework, ref="GOVERN").title == "Govern (revised)"
    assert Mapping.objects.filter(source__framework=framework).count() == 2


def test_the_api_imports_a_catalog_and_lists_the_imports(api_for, acme):
    api = api_for(acme, Role.OFFICER)
    response = api.post(
        reverse("oscal-catalog-import-list"), {"file": upload(AI_RMF_STYLE), "code": "RMF-TEST"}, format="multipart"
    )
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["framework"] == "RMF-TEST" and answer["created"] == 6 and answer["mappings"] == 3
    assert answer["unmapped"] == ["GOVERN 2.1 -> Z.9"]
    listed = api.get(reverse("oscal-catalog-import-list")).json()
    assert [row["framework"] for row in listed["results"]] == ["RMF-TEST"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json", "not JSON"),
        (b'{"profile": {}}', "no OSCAL catalog"),
        (json.dumps({"catalog": {"uuid": "x", "metadata": {"title": "T"}}}).encode(), "not valid OSCAL"),
        (
            json.dumps(
                {"catalog": {**AI_RMF_STYLE["catalog"], "groups": [{"title": "No id", "controls": [{"title": "x"}]}]}}
            ).encode(),
            "not valid OSCAL",
        ),
    ],
)
def test_a_bad_upload_is_a_form_error_and_a_400(login, api_for, acme, olivia, content, message):
    response = login(olivia).post(reverse("oscal:import"), {"file": upload(content)})
    assert response.status_code == 400 and message in response.content.decode()
    answer = api_for(acme, Role.OFFICER).post(
        reverse("oscal-catalog-import-list"), {"file": upload(content)}, format="multipart"
    )
    assert answer.status_code == 400 and message in answer.json()["errors"]["file"][0]
    assert not CatalogueImport.objects.exists()


def test_the_trestle_message_names_the_wrong_field(acme, olivia):
    broken = json.loads(json.dumps(AI_RMF_STYLE))
    broken["catalog"]["metadata"]["last-modified"] = "yesterday"
    with pytest.raises(Exception, match="metadata/last-modified"):
        catalogue_import(organization=acme, content=json.dumps(broken).encode(), acting_user=olivia)


def test_a_shipped_framework_is_not_overwritten(login, olivia):
    response = login(olivia).post(reverse("oscal:import"), {"file": upload(AI_RMF_STYLE), "code": "ISO42001"})
    assert response.status_code == 400 and "shipped with the portal" in response.content.decode()
    assert Requirement.objects.of_framework("ISO42001").filter(ref="GOVERN").count() == 0


def test_another_catalog_may_not_take_an_imported_frameworks_code(acme, olivia):
    catalogue_import(organization=acme, content=json.dumps(AI_RMF_STYLE).encode(), code="RMF", acting_user=olivia)
    other = json.loads(json.dumps(AI_RMF_STYLE))
    other["catalog"]["uuid"] = "6c2a8d2b-7b4f-4e1c-8d63-2a3b4c5d6e7f"
    with pytest.raises(Exception, match="imported from another catalog"):
        catalogue_import(organization=acme, content=json.dumps(other).encode(), code="RMF", acting_user=olivia)


def test_only_administrators_and_officers_import(login, api_for, acme, bob, victor):
    for user in (bob, victor):
        assert login(user).get(reverse("oscal:import")).status_code == 403
        assert login(user).post(reverse("oscal:import"), {"file": upload(AI_RMF_STYLE)}).status_code == 403
    for role in (Role.AUDITOR, Role.VIEWER, Role.OWNER):
        response = api_for(acme, role).post(
            reverse("oscal-catalog-import-list"), {"file": upload(AI_RMF_STYLE)}, format="multipart"
        )
        assert response.status_code == 403
    assert not Framework.objects.filter(name__startswith="AI risk management").exists()


def test_imports_are_listed_for_their_organisation_only(api_for, acme, globex, olivia):
    catalogue_import(organization=acme, content=json.dumps(AI_RMF_STYLE).encode(), acting_user=olivia)
    assert api_for(globex, Role.ADMIN).get(reverse("oscal-catalog-import-list")).json()["results"] == []


# --- Profile and SSP -------------------------------------------------------------------------


def test_the_profile_holds_exactly_the_approved_soas_applicable_controls(acme, alice, olivia, bob, login, tmp_path):
    approve_soa(acme, olivia, alice)
    # A change after the approval is not in the profile until a new version is approved.
    row = ApplicabilityStatement.objects.for_org(acme).get(control__ref="A.9.2")
    row.applicable, row.justification = True, "Added later."
    soa.soa_row_update(statement=row, acting_user=olivia)
    data = body(login(bob).get(reverse("oscal:profile")), "profile")
    profile = Profile.model_validate(data)
    (imported,) = profile.imports
    assert set(imported.include_controls[0].with_ids) == APPLICABLE
    assert imported.href == f"#{profile.back_matter.resources[0].uuid}"
    assert profile.back_matter.resources[0].rlinks[0].href.endswith("/api/v1/oscal/catalog/?framework=ISO42001")
    trestle_validate(tmp_path, "profiles", "soa", data)


def test_without_an_approved_soa_there_is_no_profile(acme, olivia, login, api_for):
    response = login(olivia).get(reverse("oscal:profile"))
    assert response.status_code == 302 and response.url == reverse("soa:statement")
    assert api_for(acme, Role.AUDITOR).get(reverse("oscal-profile")).status_code == 404
    assert api_for(acme, Role.AUDITOR).get(reverse("oscal-ssp")).status_code == 404


def test_the_ssp_lists_implemented_requirements_with_evidence_hashes(acme, alice, olivia, api_for, tmp_path):
    approve_soa(acme, olivia, alice)
    row = ApplicabilityStatement.objects.for_org(acme).get(control__ref="A.6.2.6")
    row.implementation_status, row.implementation, row.owner = (
        ImplementationStatus.IMPLEMENTED,
        "Monitoring runs daily.",
        olivia,
    )
    soa.soa_row_update(statement=row, acting_user=olivia)
    first = file_evidence(acme, olivia, "Monitoring runbook", "A.6.2.6")
    second = file_evidence(acme, olivia, "Log retention policy", "A.6.2.8", content=PDF + b"%v2\n", name="logs.pdf")
    evidence_services.evidence_link(
        evidence=first, target=EvidenceLink.Target.CONTROL, obj=control("A.6.2.8"), acting_user=olivia
    )
    data = body(api_for(acme, Role.AUDITOR).get(reverse("oscal-ssp")), "system-security-plan")
    ssp = SystemSecurityPlan.model_validate(data)
    requirements = {r.control_id: r for r in ssp.control_implementation.implemented_requirements}
    assert set(requirements) == APPLICABLE
    a626 = requirements["A.6.2.6"]
    assert a626.by_components[0].implementation_status.state == "implemented"
    assert a626.by_components[0].description == "Monitoring runs daily."
    assert a626.responsible_roles[0].role_id == "control-owner"
    owner_party = next(p for p in ssp.metadata.parties if p.uuid == a626.responsible_roles[0].party_uuids[0])
    assert owner_party.email_addresses[0] == olivia.email
    assert requirements["A.7.4"].by_components[0].implementation_status.state == "planned"
    resources = {r.uuid: r for r in ssp.back_matter.resources}
    files = [r for r in resources.values() if r.rlinks and r.rlinks[0].hashes]
    assert len(files) == 2  # each evidence file once, though the runbook supports two controls
    for evidence in (first, second):
        version = evidence.versions.get()
        (resource,) = [r for r in files if r.title == evidence.title]
        assert resource.rlinks[0].hashes[0].algorithm == "SHA-256"
        assert resource.rlinks[0].hashes[0].value == version.sha256 == hashlib.sha256(version.file.read()).hexdigest()
        assert resource.rlinks[0].href.endswith(reverse("evidence:download", args=[evidence.pk, version.pk]))
    assert {link.href[1:] for link in requirements["A.6.2.8"].links} == {r.uuid for r in files}
    assert all(link.href[1:] in resources for r in requirements.values() for link in r.links or [])
    # trestle resolves the SSP's profile and the profile's catalog: give it the portal's own, locally.
    catalog = body(api_for(acme, Role.AUDITOR).get(reverse("oscal-catalog")), "catalog")
    trestle_validate(tmp_path, "catalogs", "iso42001", catalog)
    profile = body(api_for(acme, Role.AUDITOR).get(reverse("oscal-profile")), "profile")
    profile["imports"][0]["href"] = "trestle://catalogs/iso42001/catalog.json"
    trestle_validate(tmp_path, "profiles", "soa", profile)
    data["import-profile"]["href"] = "trestle://profiles/soa/profile.json"
    trestle_validate(tmp_path, "system-security-plans", "aims", data)


def test_the_evidence_links_of_the_ssp_are_permission_checked(acme, globex, alice, olivia, charlie, login):
    approve_soa(acme, olivia, alice)
    evidence = file_evidence(acme, olivia, "Monitoring runbook", "A.6.2.6")
    data = body(login(alice).get(reverse("oscal:ssp")), "system-security-plan")
    href = next(r["rlinks"][0]["href"] for r in data["back-matter"]["resources"] if r["title"] == evidence.title)
    assert login(alice).get(href).status_code == 200
    assert login(charlie).get(href).status_code == 404


def test_profile_and_ssp_are_for_auditors_not_viewers(acme, alice, olivia, bob, victor, login, api_for):
    approve_soa(acme, olivia, alice)
    for name, api_name in (("oscal:profile", "oscal-profile"), ("oscal:ssp", "oscal-ssp")):
        assert login(bob).get(reverse(name)).status_code == 200
        assert login(victor).get(reverse(name)).status_code == 403
        assert api_for(acme, Role.AUDITOR).get(reverse(api_name)).status_code == 200
        assert api_for(acme, Role.VIEWER).get(reverse(api_name)).status_code == 403


def test_each_organisation_gets_its_own_profile(acme, globex, alice, olivia, charlie, api_for):
    approve_soa(acme, olivia, alice)
    assert api_for(globex, Role.ADMIN).get(reverse("oscal-profile")).status_code == 404


def test_the_soa_page_links_to_the_exports(acme, alice, olivia, victor, login):
    approve_soa(acme, olivia, alice)
    page = login(alice).get(reverse("soa:statement")).content.decode()
    for name in ("oscal:catalog", "oscal:profile", "oscal:ssp", "oscal:import"):
        assert reverse(name) in page
    viewer_page = login(victor).get(reverse("soa:statement")).content.decode()
    assert reverse("oscal:catalog") in viewer_page and reverse("oscal:ssp") not in viewer_page


# --- Assessment results ----------------------------------------------------------------------


@pytest.fixture
def audit_with_findings(acme, olivia, bob):
    programme = AuditProgrammeFactory(organization=acme, acting_user=olivia)
    audit = AuditFactory(programme=programme, acting_user=olivia, lead_auditor=bob)
    improvement.audit_start(audit=audit, acting_user=olivia)
    audit.refresh_from_db()
    item = audit.checklist.get(ref="A.6.2.8")
    item.result, item.notes = ChecklistItem.Result.NONCONFORMING, "Logs are kept 7 days."
    improvement.checklist_item_record(item=item, acting_user=bob, acting_role=Role.AUDITOR)
    evidence = FileEvidenceFactory(organization=acme, acting_user=olivia, title="Log settings export")
    nonconformity = FindingFactory(audit=audit, acting_user=bob, kind=Finding.Kind.MINOR_NC, checklist_item=item)
    improvement.finding_save(finding=nonconformity, acting_user=bob, acting_role=Role.AUDITOR, evidence=[evidence])
    FindingFactory(audit=audit, acting_user=bob, kind=Finding.Kind.OFI, title="Dashboards", ref="A.6.2.6")
    return audit


def test_assessment_results_list_the_audits_findings(audit_with_findings, acme, bob, login, api_for):
    audit = audit_with_findings
    data = body(login(bob).get(reverse("audits_oscal:assessment_results", args=[audit.pk])), "assessment-results")
    results = AssessmentResults.model_validate(data)
    (result,) = results.results
    findings = {f.title: f for f in result.findings}
    stored = list(audit.findings.order_by("id"))
    assert set(findings) == {f"{f.ref_code} {f.title}" for f in stored}
    nc = findings[f"{stored[0].ref_code} {stored[0].title}"]
    assert nc.target.target_id == "A.6.2.8_obj" and nc.target.status.state.value == "not-satisfied"
    assert findings[f"{stored[1].ref_code} {stored[1].title}"].target.status.state.value == "satisfied"
    (observation,) = result.observations
    assert nc.related_observations[0].observation_uuid == observation.uuid
    (evidence_link,) = nc.links
    resource = next(r for r in results.back_matter.resources if r.uuid == evidence_link.href[1:])
    version = Evidence.objects.get(title="Log settings export").versions.get()
    assert resource.rlinks[0].hashes[0].value == version.sha256
    selected = {c.control_id for c in result.reviewed_controls.control_selections[0].include_controls}
    assert selected == {"req-8.2", "A.6.2.6", "A.6.2.8"}
    api = api_for(acme, Role.AUDITOR).get(reverse("oscal-assessment-results", args=[audit.pk]))
    assert body(api, "assessment-results")["results"][0]["findings"] == data["results"][0]["findings"]


def test_assessment_results_of_another_organisation_are_404(audit_with_findings, charlie, globex, login, api_for):
    audit = audit_with_findings
    assert login(charlie).get(reverse("audits_oscal:assessment_results", args=[audit.pk])).status_code == 404
    assert api_for(globex, Role.ADMIN).get(reverse("oscal-assessment-results", args=[audit.pk])).status_code == 404


def test_viewers_do_not_download_assessment_results(audit_with_findings, acme, victor, login, api_for):
    audit = audit_with_findings
    assert login(victor).get(reverse("audits_oscal:assessment_results", args=[audit.pk])).status_code == 403
    assert api_for(acme, Role.VIEWER).get(reverse("oscal-assessment-results", args=[audit.pk])).status_code == 403
    page = login(victor).get(reverse("audits:audit_detail", args=[audit.pk])).content.decode()
    assert reverse("audits_oscal:assessment_results", args=[audit.pk]) not in page


def test_the_audit_page_links_to_its_assessment_results(audit_with_findings, bob, login):
    page = login(bob).get(reverse("audits:audit_detail", args=[audit_with_findings.pk])).content.decode()
    assert reverse("audits_oscal:assessment_results", args=[audit_with_findings.pk]) in page

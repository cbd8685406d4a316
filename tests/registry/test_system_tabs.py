"""The AI system page as a 360 view: its risks, impact assessments, controls and evidence,
incidents, findings and corrective actions, each a tab with its count."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from aims.roles import Role
from audits.improvement import services as improvement
from audits.models import CorrectiveAction, Finding, Incident
from controls.evidence.models import EvidenceLink
from controls.models import ApplicabilityStatement, Evidence
from controls.soa import services as soa
from registry.models import AISystem, SystemStatus
from risk.models import Risk
from tests.audits.factories import AuditFactory, CorrectiveActionFactory, FindingFactory, IncidentFactory
from tests.controls.factories import EvidenceFactory, EvidenceLinkFactory, control
from tests.registry.factories import AISystemFactory
from tests.risk.factories import ImpactAssessmentFactory, RiskFactory, TreatmentActionFactory, TreatmentControlFactory

pytestmark = pytest.mark.django_db

TABS = {
    "risks": "risk:system_risks",
    "impact": "impact:system_assessments",
    "controls": "soa:system_controls",
    "incidents": "audits:system_incidents",
    "findings": "audits:system_findings",
}


@dataclass
class Seen:
    system: AISystem
    other: AISystem  # the same organisation's other system: none of its records show
    risk: Risk
    other_risk: Risk
    evidence: Evidence
    incident: Incident
    finding: Finding
    action: CorrectiveAction


@pytest.fixture
def seen(acme, olivia, bob) -> Seen:
    system = AISystemFactory(organization=acme, owner=olivia, status=SystemStatus.ACTIVE, name="Triage assistant")
    other = AISystemFactory(organization=acme, owner=olivia, status=SystemStatus.ACTIVE, name="Chat helper")
    risk = RiskFactory(organization=acme, owner=olivia, system=system, title="Drift in triage", assessed=True)
    other_risk = RiskFactory(organization=acme, owner=olivia, system=other, title="Chat leaks data")
    TreatmentControlFactory(treatment=TreatmentActionFactory(risk=risk), control=control("A.6.2.6"))
    ImpactAssessmentFactory(system=system, author=olivia, title="First look")
    evidence = EvidenceFactory(organization=acme, title="Drift dashboard export")
    EvidenceLinkFactory(evidence=evidence, control=control("A.6.2.8"))
    EvidenceLinkFactory(evidence=evidence, target=EvidenceLink.Target.SYSTEM, control=None, system=system)
    ApplicabilityStatement.objects.ensure_rows(acme)
    row = ApplicabilityStatement.objects.for_org(acme).get(control=control("A.9.2"))
    row.applicable, row.justification = True, "Every system is used as intended."
    soa.soa_row_update(statement=row, acting_user=olivia, systems=[system])
    incident = IncidentFactory(organization=acme, acting_user=olivia, system=system, title="Wrong triage level")
    IncidentFactory(organization=acme, acting_user=olivia, system=other, title="Chat outage")
    audit = improvement.audit_start(
        audit=AuditFactory(programme__organization=acme, acting_user=olivia, lead_auditor=bob), acting_user=olivia
    )
    finding = FindingFactory(
        audit=audit, acting_user=olivia, acting_role=Role.OFFICER, system=system, title="Triage logs incomplete"
    )
    FindingFactory(audit=audit, acting_user=olivia, acting_role=Role.OFFICER, title="Policy unsigned")
    action = CorrectiveActionFactory(incident=incident, owner=olivia, acting_user=olivia, title="Recalibrate levels")
    return Seen(system, other, risk, other_risk, evidence, incident, finding, action)


def _tab_counts(html: str) -> dict[str, int]:
    """The tab bar's labels with their counts."""
    bar = html.split('aria-label="AI system">', 1)[1].split("</nav>", 1)[0]
    return {
        label.strip(): int(count)
        for label, count in re.findall(r'>([^<>]+?) <span class="count">(\d+)</span></a>', bar)
    }


def test_the_tab_bar_counts_what_each_tab_lists(seen, olivia, login):
    page = login(olivia).get(reverse("inventory:system_detail", args=[seen.system.pk])).content.decode()
    assert _tab_counts(page) == {
        "Responsibilities": 0,
        "Models and data": 0,
        "Risks": 1,
        "Impact assessments": 1,
        "Controls and evidence": 3,  # A.9.2 named in the SoA, A.6.2.6 by a treatment, A.6.2.8 by evidence
        "Incidents": 1,
        "Findings and actions": 2,  # the finding and the incident's action
    }
    for name in TABS.values():
        assert reverse(name, args=[seen.system.pk]) in page


def test_each_tab_shows_the_systems_records_and_none_of_another_systems(seen, olivia, login):
    client = login(olivia)
    pages = {tab: client.get(reverse(name, args=[seen.system.pk])) for tab, name in TABS.items()}
    assert all(page.status_code == 200 for page in pages.values())
    html = {tab: page.content.decode() for tab, page in pages.items()}
    assert seen.risk.title in html["risks"] and seen.other_risk.title not in html["risks"]
    assert 'aria-current="page">Risks' in html["risks"]
    assert "First look" in html["impact"]
    for ref in ("A.9.2", "A.6.2.6", "A.6.2.8"):
        assert f">{ref}</a>" in html["controls"]
    assert "Named in the SoA row" in html["controls"] and "1 treatment of its risks" in html["controls"]
    assert seen.evidence.title in html["controls"]
    assert seen.incident.title in html["incidents"] and "Chat outage" not in html["incidents"]
    assert seen.finding.title in html["findings"] and "Policy unsigned" not in html["findings"]
    assert seen.action.title in html["findings"]


def test_the_risk_tabs_heat_maps_count_and_link_to_the_systems_risks_only(seen, olivia, login):
    html = login(olivia).get(reverse("risk:system_risks", args=[seen.system.pk])).content.decode()
    assert "(1 open risk scored)" in html
    cell = f"?system={seen.system.pk}&amp;inherent_likelihood=3&amp;inherent_impact=4"
    assert cell in html


def test_empty_tabs_say_so(acme, olivia, login):
    system = AISystemFactory(organization=acme, owner=olivia)
    client = login(olivia)
    assert "No risk is recorded for this system yet" in client.get(reverse(TABS["risks"], args=[system.pk])).text
    assert "has no impact assessment yet" in client.get(reverse(TABS["impact"], args=[system.pk])).text
    assert "No control covers this system yet" in client.get(reverse(TABS["controls"], args=[system.pk])).text
    assert "No incident has been reported" in client.get(reverse(TABS["incidents"], args=[system.pk])).text
    assert "No audit finding names this system" in client.get(reverse(TABS["findings"], args=[system.pk])).text


def test_another_organisations_system_answers_404_on_every_tab(seen, charlie, login):
    client = login(charlie)
    for name in TABS.values():
        assert client.get(reverse(name, args=[seen.system.pk])).status_code == 404


def test_read_only_roles_see_the_tabs_without_actions(seen, victor, bob, login):
    for user in (victor, bob):
        client = login(user)
        risks = client.get(reverse(TABS["risks"], args=[seen.system.pk]))
        assert risks.status_code == 200 and seen.risk.title in risks.text
        assert "Record a risk" not in risks.text
        impact = client.get(reverse(TABS["impact"], args=[seen.system.pk]))
        assert impact.status_code == 200 and "Start version" not in impact.text


def test_an_officer_starts_the_next_assessment_from_the_tab(acme, olivia, login):
    system = AISystemFactory(organization=acme, owner=olivia, status=SystemStatus.ACTIVE)
    client = login(olivia)
    html = client.get(reverse(TABS["impact"], args=[system.pk])).text
    assert "Start the first assessment" in html
    answer = client.post(reverse("impact:start"), {"system": system.pk})
    assert answer.status_code == 302
    assert system.impact_assessments.count() == 1


def test_a_tab_costs_the_same_queries_whatever_the_records(seen, acme, olivia, login, django_assert_max_num_queries):
    client = login(olivia)
    url = reverse(TABS["findings"], args=[seen.system.pk])
    client.get(url)
    for n in range(5):
        FindingFactory(
            audit=seen.finding.audit, acting_user=olivia, acting_role=Role.OFFICER, system=seen.system, title=f"F {n}"
        )
    with django_assert_max_num_queries(30):
        assert client.get(url).status_code == 200


def test_a_finding_names_only_its_organisations_systems(seen, globex, olivia):
    theirs = AISystemFactory(organization=globex)
    seen.finding.system = theirs
    with pytest.raises(ValidationError) as refused:
        improvement.finding_save(finding=seen.finding, acting_user=olivia, acting_role=Role.OFFICER)
    assert "system" in refused.value.message_dict


def test_a_tab_is_cached_for_its_reader_until_the_next_change(
    seen, olivia, login, content_cache, django_assert_max_num_queries
):
    client = login(olivia)
    url = reverse(TABS["risks"], args=[seen.system.pk])
    # The first reading also creates the organisation's default risk criteria: a change.
    for _ in range(2):
        assert seen.risk.title in client.get(url).content.decode()
    with django_assert_max_num_queries(5):  # session, member, the system's title: not the tab's reads
        assert seen.risk.title in client.get(url).content.decode()
    RiskFactory(organization=seen.system.organization, owner=olivia, system=seen.system, title="A new risk")
    assert "A new risk" in client.get(url).content.decode()

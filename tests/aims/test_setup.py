"""First run: the setup checklist follows the records, an empty organisation is 0 % ready, and
every dashboard tile opens a list of exactly its count."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from aims.governance.models import AIMSScope, ContextIssue
from aims.roles import Role
from aims.setup import setup_progress
from audits.improvement import services as improvement
from audits.models import Finding, Incident
from controls.readiness import readiness
from registry.models import RoleAssignment, SystemStatus
from tests.audits.factories import AuditFactory, CorrectiveActionFactory, FindingFactory, IncidentFactory
from tests.registry.factories import AISystemFactory, RoleAssignmentFactory
from tests.risk.factories import RiskFactory, TreatmentActionFactory

pytestmark = pytest.mark.django_db

TILE = re.compile(
    r'<a class="tile[^"]*" href="(?P<url>[^"]*)">\s*<span class="tile-value">(?P<value>[^<]*)</span>\s*'
    r'<span class="tile-label">(?P<label>[^<]*)</span>'
)


def tiles(html: str) -> dict[str, tuple[str, str]]:
    return {m["label"]: (m["value"], m["url"].replace("&amp;", "&")) for m in TILE.finditer(html)}


def listed(html: str) -> int:
    """Rows of the page's list: the rows of its last table (the register comes after its heat
    maps), or the entries of the systems to assess."""
    bodies = re.findall(r"<tbody>(.*?)</tbody>", html, re.S)
    if bodies:
        return bodies[-1].count("<tr")
    return html.count('<li class="row-between">')


def test_an_empty_organisation_is_not_ready_at_all(acme):
    result = readiness(acme)
    assert result.overall == 0
    assert result.clause_score == 0 and result.annex_score == 0
    # Rules that nothing can break yet are shown but not counted either way.
    unmeasured = [c for clause in result.clauses for c in clause.checks if not c.measured]
    assert {c.label for c in unmeasured} >= {"No risk treatment is overdue", "No evidence has expired"}
    assert all(not c.ok for c in unmeasured)


def test_the_readiness_page_says_what_is_missing_and_what_is_not_counted(login, olivia):
    page = login(olivia).get(reverse("soa:readiness")).content.decode()
    assert "Certification readiness: 0 %" in page
    assert "✗ AI systems in scope are recorded in the inventory" in page
    assert "— No risk treatment is overdue" in page and "nothing to check yet, not counted" in page


def test_the_setup_steps_follow_the_records(login, acme, olivia):
    progress = setup_progress(acme)
    assert (progress.done, progress.total) == (0, 8)
    assert [step.order for step in progress.steps] == sorted(step.order for step in progress.steps)
    assert progress.next_step.title == "Define the scope and context of the AIMS"

    AIMSScope.objects.create(organization=acme, statement="Credit scoring and triage systems.")
    ContextIssue.objects.create(organization=acme, title="New AI regulation", kind="external", category="legal")
    AISystemFactory(organization=acme, owner=olivia)
    done = {step.title for step in setup_progress(acme).steps if step.done}
    assert done == {"Define the scope and context of the AIMS", "Record your AI systems"}

    page = login(olivia).get(reverse("setup")).content.decode()
    assert "2 of 8 steps done" in page
    assert f'href="{reverse("imports:upload")}"' not in page  # the inventory step is done: no call to act
    assert f'href="{reverse("governance:policies")}"' in page  # the policy step is not
    dashboard = login(olivia).get(reverse("dashboard")).content.decode()
    assert "Set up your AIMS: 2 of 8 steps done" in dashboard
    assert "Next: <strong>Approve an AI policy</strong>" in dashboard


def test_the_dashboard_puts_what_needs_attention_first(login, acme, olivia):
    AISystemFactory(organization=acme, owner=olivia, status=SystemStatus.ACTIVE)
    page = login(olivia).get(reverse("dashboard")).content.decode()
    attention = page[page.index("Needs attention") : page.index("Everything else")]
    assert "No Accountable person" in attention and "tile-attention" in attention
    assert "Members" not in attention


def test_every_tile_opens_a_list_of_exactly_its_count(login, acme, olivia, bob):
    today = timezone.localdate()
    accountable = AISystemFactory(organization=acme, owner=olivia, status=SystemStatus.ACTIVE)
    RoleAssignmentFactory(system=accountable, raci=RoleAssignment.Raci.ACCOUNTABLE)
    for n in range(3):
        AISystemFactory(organization=acme, owner=olivia, status=SystemStatus.ACTIVE, name=f"No A {n}")
    AISystemFactory(organization=acme, owner=olivia, status=SystemStatus.RETIRED, name="Retired")
    overdue_risk = RiskFactory(organization=acme, owner=olivia, system=accountable)
    for _ in range(2):  # two overdue actions, one risk
        TreatmentActionFactory(risk=overdue_risk, due_date=today - timedelta(days=3))
    TreatmentActionFactory(risk=RiskFactory(organization=acme, owner=olivia), due_date=today + timedelta(days=3))
    RiskFactory(organization=acme, owner=olivia, status="closed")
    audit = improvement.audit_start(
        audit=AuditFactory(programme__organization=acme, acting_user=olivia, lead_auditor=bob), acting_user=olivia
    )
    record = {"audit": audit, "acting_user": olivia, "acting_role": Role.OFFICER}
    open_nc = FindingFactory(**record, kind=Finding.Kind.MAJOR_NC, title="Open NC")
    FindingFactory(**record, kind=Finding.Kind.OBSERVATION, title="An observation")
    IncidentFactory(organization=acme, acting_user=olivia, title="Open incident")
    closed = IncidentFactory(organization=acme, acting_user=olivia, title="Closed incident")
    Incident.objects.filter(pk=closed.pk).update(status=Incident.Status.CLOSED)
    CorrectiveActionFactory(finding=open_nc, acting_user=olivia, owner=olivia, due_date=today - timedelta(days=1))

    client = login(olivia)
    found = tiles(client.get(reverse("dashboard")).content.decode())
    checked = {
        "AI systems": 4,
        "No Accountable person": 3,
        "Open risks": 2,
        "Risks with overdue treatments": 1,
        "Systems without approved impact assessment": 4,
        "Open nonconformities": 1,
        "Open incidents": 1,
        "Overdue corrective actions": 1,
    }
    for label, expected in checked.items():
        value, url = found[label]
        assert int(value) == expected, (label, value)
        answer = client.get(url)
        assert answer.status_code == 200, (label, url)
        assert listed(answer.content.decode()) == expected, (label, url)


def test_the_menu_offers_only_what_the_role_opens(login, olivia, victor):
    packs = f'href="{reverse("packs:list")}"'
    assert packs in login(olivia).get(reverse("dashboard")).content.decode()
    assert packs not in login(victor).get(reverse("dashboard")).content.decode()  # a viewer may not request packs


def test_an_empty_inventory_links_to_the_import(login, olivia):
    page = login(olivia).get(reverse("inventory:system_list")).content.decode()
    assert f'<a href="{reverse("imports:upload")}">import a spreadsheet</a>' in page

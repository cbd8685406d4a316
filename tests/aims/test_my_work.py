"""My work: what waits for the signed-in member across the modules, and its count in the header."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from aims.roles import Role
from aims.tenancy import Tenant
from aims.work import work_for
from controls.evidence.models import Evidence
from tests.aims.factories import MembershipFactory
from tests.registry.factories import AISystemFactory
from tests.risk.factories import ImpactAssessmentFactory, RiskFactory, TreatmentActionFactory

pytestmark = pytest.mark.django_db


def tenant_of(user, organization, role) -> Tenant:
    return Tenant(organization=organization, role=role, user=user)


def test_what_i_own_and_what_waits_for_my_approval_is_listed(acme, olivia, alice):
    today = timezone.localdate()
    mine = RiskFactory(organization=acme, owner=olivia, title="Drift")
    TreatmentActionFactory(risk=mine, owner=olivia, title="Retrain monthly", due_date=today - timedelta(days=2))
    TreatmentActionFactory(risk=mine, owner=olivia, title="Far away", due_date=today + timedelta(days=90))
    TreatmentActionFactory(risk=mine, owner=alice, title="Someone else's", due_date=today)
    system = AISystemFactory(organization=acme, owner=olivia)
    ImpactAssessmentFactory(system=system, author=alice, in_review=True)
    Evidence.objects.create(
        organization=acme, title="Pen test report", kind=Evidence.Kind.NOTE, owner=olivia,
        valid_until=today + timedelta(days=5),
    )  # fmt: skip

    items = work_for(tenant_of(olivia, acme, Role.OFFICER))
    listed = [(item.kind, item.title) for item in items]
    assert ("Treatment", "Retrain monthly") in listed
    assert ("Evidence expires", "Pen test report") in listed
    assert ("Approve an impact assessment", f"{system.name}, version 1") in listed
    assert ("Treatment", "Far away") not in listed and ("Treatment", "Someone else's") not in listed
    assert items[0].title == "Retrain monthly" and items[0].overdue  # overdue first

    # The author never approves their own assessment; a viewer approves nothing.
    assert "Approve an impact assessment" not in {i.kind for i in work_for(tenant_of(alice, acme, Role.ADMIN))}
    viewer = MembershipFactory(organization=acme, role=Role.VIEWER).user
    assert work_for(tenant_of(viewer, acme, Role.VIEWER)) == []


def test_the_page_filters_and_the_header_counts(login, acme, olivia):
    today = timezone.localdate()
    risk = RiskFactory(organization=acme, owner=olivia)
    TreatmentActionFactory(risk=risk, owner=olivia, title="Overdue one", due_date=today - timedelta(days=1))
    TreatmentActionFactory(risk=risk, owner=olivia, title="Next week", due_date=today + timedelta(days=7))
    client = login(olivia)
    page = client.get(reverse("my_work")).content.decode()
    assert "Overdue one" in page and "Next week" in page
    # The header asks for its count once the page is shown.
    assert f'hx-get="{reverse("my_work_count")}"' in page
    assert re.search(r'class="count-badge"[^>]*>2<', client.get(reverse("my_work_count")).content.decode())
    overdue = client.get(reverse("my_work"), {"due": "overdue"}).content.decode()
    assert "Overdue one" in overdue and "Next week" not in overdue
    other_module = client.get(reverse("my_work"), {"module": "Audits"}).content.decode()
    assert "Nothing matches these filters" in other_module


def test_a_long_list_is_paged_and_the_pages_keep_the_filters(login, acme, olivia):
    today = timezone.localdate()
    risk = RiskFactory(organization=acme, owner=olivia)
    for n in range(55):
        TreatmentActionFactory(risk=risk, owner=olivia, title=f"Action {n:02d}", due_date=today - timedelta(days=1))
    client = login(olivia)
    first = client.get(reverse("my_work"), {"due": "overdue"}).content.decode()
    assert first.count("<td>Treatment</td>") == 50 and "55 of 55 items" in first
    assert "due=overdue&amp;page=2" in first
    second = client.get(reverse("my_work"), {"due": "overdue", "page": 2}).content.decode()
    assert second.count("<td>Treatment</td>") == 5


def test_another_organisations_work_never_shows(login, acme, globex, olivia, charlie):
    MembershipFactory(organization=globex, user=olivia, role=Role.OFFICER)  # a member of both
    risk = RiskFactory(organization=globex, owner=olivia, title="Globex secret", acting_user=charlie)
    TreatmentActionFactory(risk=risk, owner=olivia, title="Globex treatment", due_date=timezone.localdate())
    page = login(olivia).get(reverse("my_work")).content.decode()  # Acme, the current organisation
    assert "Globex secret" not in page and "Globex treatment" not in page
    assert "Nothing waits for you" in page

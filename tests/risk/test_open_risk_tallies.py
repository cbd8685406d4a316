"""The open-risk tallies the register's triggers keep: always equal to counting the register itself.

Every way a risk row changes is exercised (the services, bulk loads, queryset updates, cascades
from a deleted system or organisation), and after each the tallies read by the dashboard and
readiness must match a direct count. Reading them costs the same two queries at any size.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from risk import services
from risk.models import OpenRiskReviewTally, OpenRiskTally, Risk
from risk.selectors import open_risk_groups, open_risks_past_review
from tests.registry.factories import AISystemFactory
from tests.risk.factories import RiskFactory
from tests.risk.test_register_scale import bulk_risks


@pytest.fixture(autouse=True)
def on_postgresql(db):
    assert connection.vendor == "postgresql", "the tallies are PostgreSQL triggers: set DATABASE_URL"


def counted(organization) -> tuple[Counter, int]:
    """What the tallies must say, counted from the register."""
    open_risks = Risk.objects.for_org(organization).open()
    groups = Counter()
    for status, inherent, residual in open_risks.values_list("status", "inherent_level", "residual_level"):
        groups[(status, inherent, residual)] += 1
    return groups, open_risks.filter(next_review_date__lt=timezone.localdate()).count()


def tallied(organization, vendor=None) -> tuple[Counter, int]:
    groups = open_risk_groups(organization, vendor=vendor)
    counts = Counter({(g.status, g.inherent_level, g.residual_level): g.count for g in groups})
    return counts, open_risks_past_review(organization, vendor=vendor)


def assert_tallies_match(organization) -> None:
    assert tallied(organization) == counted(organization)
    # The plain count SQLite uses says the same.
    assert tallied(organization, vendor="sqlite") == counted(organization)
    # Nothing at zero is kept: the tallies are as small as the register's variety.
    assert not OpenRiskTally.objects.filter(count__lte=0).exists()
    assert not OpenRiskReviewTally.objects.filter(count__lte=0).exists()


def test_every_kind_of_write_keeps_the_tallies_equal_to_the_register(acme, globex, olivia):
    today = timezone.localdate()
    system = AISystemFactory(organization=acme, owner=olivia)
    overdue = RiskFactory(organization=acme, owner=olivia, assessed=True, next_review_date=today - timedelta(days=3))
    RiskFactory(organization=acme, owner=olivia, system=system, next_review_date=today + timedelta(days=30))
    RiskFactory(organization=globex, owner=olivia, assessed=True, next_review_date=today - timedelta(days=1))
    assert_tallies_match(acme)
    assert tallied(acme)[1] == 1 and sum(tallied(acme)[0].values()) == 2

    # Saved through the service: a new assessment moves the risk between groups.
    overdue.treatment_option, overdue.residual_likelihood, overdue.residual_impact = Risk.Treatment.MODIFY, 1, 1
    services.risk_save(instance=overdue, acting_user=olivia)
    assert_tallies_match(acme)
    # Reviewed: no longer overdue. Closed: no longer open.
    overdue.next_review_date = today + timedelta(days=90)
    services.risk_save(instance=overdue, acting_user=olivia)
    assert tallied(acme)[1] == 0
    overdue.status = Risk.Status.CLOSED
    services.risk_save(instance=overdue, acting_user=olivia)
    assert_tallies_match(acme)

    # Bulk loads and queryset updates bypass save(): the triggers still see every row.
    bulk_risks(acme, olivia, 40)
    assert_tallies_match(acme)
    Risk.objects.for_org(acme).filter(ref_code__startswith="BLK-000").update(
        status=Risk.Status.ACCEPTED, next_review_date=today - timedelta(days=10)
    )
    assert_tallies_match(acme)
    Risk.objects.for_org(acme).filter(ref_code__startswith="BLK-001").delete()
    assert_tallies_match(acme)

    # A deleted system takes its risks with it (a cascade).
    system.delete()
    assert_tallies_match(acme)
    # The other organisation was never touched.
    groups, overdue_count = tallied(globex)
    assert (groups, overdue_count) == counted(globex) and sum(groups.values()) == 1 and overdue_count == 1


def test_a_deleted_organisation_leaves_no_tally_behind(globex, olivia):
    RiskFactory(organization=globex, owner=olivia, assessed=True, next_review_date=timezone.localdate())
    assert OpenRiskTally.objects.filter(organization=globex).exists()
    organization_id = globex.pk
    globex.delete()
    assert not OpenRiskTally.objects.filter(organization_id=organization_id).exists()
    assert not OpenRiskReviewTally.objects.filter(organization_id=organization_id).exists()


def test_reading_the_figures_costs_two_queries_at_any_size(acme, olivia):
    bulk_risks(acme, olivia, 20)
    with CaptureQueriesContext(connection) as small:
        tallied(acme)
    bulk_risks(acme, olivia, 400, start=20)
    with CaptureQueriesContext(connection) as large:
        groups, _ = tallied(acme)
    assert len(small) == len(large) == 2
    assert sum(groups.values()) == 420
    # Neither query reads the register itself.
    assert not any("risk_risk" in q["sql"] for q in large.captured_queries)

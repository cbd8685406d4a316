"""An officer opens a system's Monitoring tab, sees the chart and acknowledges the fairness alert."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from registry.monitoring.models import MonitoringAlert

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def breached_system(catalogue):
    from aims.roles import Role
    from registry.monitoring import services as monitoring
    from registry.monitoring.models import MetricDefinition
    from tests.aims.factories import MembershipFactory, OrganizationFactory, UserFactory
    from tests.registry.factories import AISystemFactory

    org = OrganizationFactory(name="Acme Health AI")
    olga = UserFactory(email="olga@example.com", full_name="Olga Officer")
    MembershipFactory(user=olga, organization=org, role=Role.OFFICER)
    system = AISystemFactory(organization=org, owner=olga, name="Consumer credit scoring", status="active")
    metric = monitoring.metric_save(
        instance=MetricDefinition(
            organization=org, system=system, key="approval_gap", name="Approval-rate gap",
            kind="fairness_gap", direction="lower", target=0.05, alert_threshold=0.08,
        ),
        acting_user=olga,
    )  # fmt: skip
    now = timezone.now().replace(microsecond=0)
    values = [0.04, 0.045, 0.042, 0.05, 0.09, 0.093, 0.088, 0.07]
    items = [
        {"metric": metric.pk, "measured_at": now - timedelta(days=len(values) - 1 - i), "value": v}
        for i, v in enumerate(values)
    ]
    monitoring.measurements_ingest(organization=org, items=items, acting_user=None)
    return system, MonitoringAlert.objects.get(metric=metric)


def sign_in(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()


def test_officer_sees_the_chart_and_acknowledges_the_alert(page, breached_system):
    from playwright.sync_api import expect

    system, alert = breached_system
    sign_in(page, "olga@example.com")
    page.get_by_label("Main").get_by_role("link", name="Monitoring").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Monitoring")
    page.locator("#systems-in-breach").get_by_role("link", name=f"{system.ref_code} {system.name}").click()
    expect(page.get_by_label("AI system").get_by_role("link", name="Monitoring")).to_have_attribute(
        "aria-current", "page"
    )

    # The chart: an inline SVG with the series path and the target and alert lines.
    chart = page.locator(f"#metric-{alert.metric_id} svg")
    expect(chart).to_be_visible()
    expect(chart.locator("path.series")).to_have_count(1)
    assert chart.locator("path.series").get_attribute("d").startswith("M")
    expect(chart.locator("line.target-line")).to_have_count(1)
    expect(chart.locator("line.threshold-line")).to_have_count(1)
    page.get_by_role("link", name="7 days").click()
    expect(page.get_by_role("link", name="7 days")).to_have_attribute("aria-current", "page")

    row = page.locator(f"#alert-{alert.pk}")
    expect(row.locator(".alert-status")).to_have_text("Open")
    row.get_by_label("Acknowledgement note").fill("Looking into the campaign cohort.")
    row.get_by_role("button", name="Acknowledge").click()
    row = page.locator(f"#alert-{alert.pk}")
    expect(row.locator(".alert-status")).to_have_text("Acknowledged")
    expect(row).to_contain_text("Looking into the campaign cohort.")
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.acknowledgement_note == "Looking into the campaign cohort."

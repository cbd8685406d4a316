"""Incidents and corrective actions raised from a monitoring alert: services, pages and API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from aims.roles import Role
from audits.improvement import services as improvement
from audits.models import CorrectiveAction, Incident
from registry.monitoring import services as monitoring
from registry.monitoring.models import MetricDefinition, MonitoringAlert
from tests.aims.factories import MembershipFactory
from tests.registry.factories import AISystemFactory

NOW = timezone.now().replace(microsecond=0)
HOUR = timezone.now().replace(minute=0, second=0, microsecond=0)


def make_metric(system, **fields) -> MetricDefinition:
    values = {"key": "auc", "name": "AUC", "direction": "higher", "target": 0.8, "alert_threshold": 0.75}
    values.update(fields)
    metric = MetricDefinition(organization=system.organization, system=system, **values)
    return monitoring.metric_save(instance=metric, acting_user=None)


def point(metric, value, minutes_ago=0):
    return {"metric": metric.pk, "measured_at": (NOW - timedelta(minutes=minutes_ago)).isoformat(), "value": value}


def api_url(pk, action):
    return reverse(f"alertraise-{action}", args=[pk])


@pytest.fixture
def dana(acme):
    """Owner of the credit-scoring system."""
    return MembershipFactory(organization=acme, role=Role.OWNER).user


@pytest.fixture
def system(acme, dana):
    return AISystemFactory(organization=acme, owner=dana, name="Credit scoring")


@pytest.fixture
def other_system(acme):
    return AISystemFactory(organization=acme)


@pytest.fixture
def auc(system):
    return make_metric(system)


@pytest.fixture
def alert(acme, auc):
    monitoring.measurements_ingest(organization=acme, items=[point(auc, 0.6, 5)], acting_user=None)
    return MonitoringAlert.objects.get(metric=auc)


@pytest.fixture
def api(api_for, acme, olivia):
    return api_for(acme, role=Role.OFFICER, created_by=olivia)


@pytest.fixture
def owner_api(api_for, acme, dana):
    return api_for(acme, role=Role.OWNER, created_by=dana)


# --- Services ----------------------------------------------------------------------------------


def test_raise_incident_and_corrective_action(alert, dana, alice):
    incident = improvement.incident_raise_from_alert(alert=alert, acting_user=alice)
    assert incident.ref_code.startswith("INC-") and incident.monitoring_alert == alert
    assert incident.system == alert.system and "AUC" in incident.title
    with pytest.raises(ValidationError):
        improvement.incident_raise_from_alert(alert=alert, acting_user=alice)
    action = improvement.corrective_action_raise_from_alert(alert=alert, acting_user=alice, owner=dana)
    assert action.ref_code.startswith("CA-") and action.owner == dana
    assert (action.monitoring_alert, action.incident) == (alert, incident)
    assert list(alert.incidents.all()) == [incident] and list(alert.corrective_actions.all()) == [action]


def test_corrective_action_straight_from_an_alert_without_an_incident(alert, dana, alice):
    action = improvement.corrective_action_raise_from_alert(alert=alert, acting_user=alice, owner=dana)
    assert action.monitoring_alert == alert and action.incident is None and action.finding is None
    assert not Incident.objects.exists()


def test_corrective_action_owner_must_be_able_to_edit(alert, alice, victor):
    with pytest.raises(ValidationError):
        improvement.corrective_action_raise_from_alert(alert=alert, acting_user=alice, owner=victor)
    assert not CorrectiveAction.objects.exists() and not Incident.objects.exists()


# --- Pages -------------------------------------------------------------------------------------


@pytest.fixture
def breached(acme, olivia):
    """A fairness gap beyond its threshold and not back within target: an open alert."""
    system = AISystemFactory(organization=acme, owner=olivia, name="Consumer credit scoring")
    metric = make_metric(
        system, key="gap", name="Approval gap", kind="fairness_gap", direction="lower", target=0.05,
        alert_threshold=0.08,
    )  # fmt: skip
    values = [0.04] * 20 + [0.09, 0.095, 0.07]
    items = [
        {"metric": metric.pk, "measured_at": HOUR - timedelta(days=len(values) - 1 - i), "value": v}
        for i, v in enumerate(values)
    ]
    monitoring.measurements_ingest(organization=acme, items=items, acting_user=None)
    return system, MonitoringAlert.objects.get(metric=metric)


def test_acknowledge_then_raise_incident_and_action_then_close(login, olivia, breached):
    system, alert = breached
    client = login(olivia)
    monitoring_url = lambda action: reverse("monitoring:alert_action", args=[alert.pk, action])  # noqa: E731
    response = client.post(monitoring_url("acknowledge"), {"note": "Looking into the campaign cohort."})
    assert response.status_code == 302 and response.url == reverse("monitoring:system", args=[system.pk])
    incident_url = reverse("audits:alert_incident_raise", args=[alert.pk])
    response = client.post(incident_url)
    assert response.status_code == 302 and response.url == reverse("monitoring:system", args=[system.pk])
    assert client.post(reverse("audits:alert_action_raise", args=[alert.pk]), {"owner": olivia.pk}).status_code == 302
    incident, action = Incident.objects.get(), CorrectiveAction.objects.get()
    assert incident.monitoring_alert == alert and action.monitoring_alert == alert and action.owner == olivia
    html = client.get(reverse("monitoring:system", args=[system.pk])).content.decode()
    assert incident.ref_code in html and action.ref_code in html and "Looking into the campaign cohort." in html
    assert reverse("audits:alert_action_raise", args=[alert.pk]) in html
    # A second incident for the same alert is refused with a message, not an error page.
    again = client.post(incident_url, follow=True)
    assert again.status_code == 200 and "was raised for this alert already" in again.content.decode()
    assert client.post(monitoring_url("close"), {"note": "Reweighted; gap back under control."}).status_code == 302
    alert.refresh_from_db()
    assert alert.status == "closed" and alert.close_note == "Reweighted; gap back under control."


def test_the_tab_offers_raising_an_incident_while_there_is_none(login, olivia, breached):
    system, alert = breached
    html = login(olivia).get(reverse("monitoring:system", args=[system.pk])).content.decode()
    assert reverse("audits:alert_incident_raise", args=[alert.pk]) in html


def test_corrective_action_needs_an_owner_who_edits(login, olivia, victor, breached):
    _, alert = breached
    client = login(olivia)
    url = reverse("audits:alert_action_raise", args=[alert.pk])
    for data in ({}, {"owner": victor.pk}):
        response = client.post(url, data, follow=True)
        assert response.status_code == 200 and "Choose who owns the corrective action." in response.content.decode()
    assert not CorrectiveAction.objects.exists()


def test_raising_is_post_only(login, olivia, breached):
    _, alert = breached
    assert login(olivia).get(reverse("audits:alert_incident_raise", args=[alert.pk])).status_code == 405


@pytest.mark.parametrize("persona", ["victor", "bob"])
def test_read_only_roles_cannot_raise(request, login, persona, breached):
    system, alert = breached
    client = login(request.getfixturevalue(persona))
    html = client.get(reverse("monitoring:system", args=[system.pk])).content.decode()
    assert "Raise incident</button>" not in html
    for name in ("audits:alert_incident_raise", "audits:alert_action_raise"):
        assert client.post(reverse(name, args=[alert.pk]), {"owner": system.owner_id}).status_code == 403, name
    assert not Incident.objects.exists() and not CorrectiveAction.objects.exists()


def test_an_owner_raises_only_for_alerts_of_own_systems(login, acme, breached):
    _, alert = breached
    owner = MembershipFactory(organization=acme, role=Role.OWNER).user
    response = login(owner).post(reverse("audits:alert_incident_raise", args=[alert.pk]))
    assert response.status_code == 403 and not Incident.objects.exists()


def test_another_organisations_alert_is_404(login, charlie, breached):
    _, alert = breached
    client = login(charlie)
    for name in ("audits:alert_incident_raise", "audits:alert_action_raise"):
        assert client.post(reverse(name, args=[alert.pk]), {"owner": charlie.pk}).status_code == 404, name


# --- API ---------------------------------------------------------------------------------------


def test_api_keeps_the_alerts_path():
    assert api_url(1, "raise-incident") == reverse("monitoringalert-detail", args=[1]) + "raise-incident/"
    assert api_url(1, "raise-corrective-action").endswith("/monitoring-alerts/1/raise-corrective-action/")


def test_api_raise_incident_and_corrective_action(api, alert, dana):
    response = api.post(api_url(alert.pk, "raise-incident"), format="json")
    assert response.status_code == 201 and response.json()["ref_code"].startswith("INC-")
    assert Incident.objects.get().monitoring_alert == alert
    assert api.post(api_url(alert.pk, "raise-incident"), format="json").status_code == 400
    response = api.post(api_url(alert.pk, "raise-corrective-action"), {"owner": dana.pk}, format="json")
    assert response.status_code == 201
    assert CorrectiveAction.objects.get().monitoring_alert == alert


def test_api_corrective_action_owner_must_be_a_member(api, alert, charlie):
    response = api.post(api_url(alert.pk, "raise-corrective-action"), {"owner": charlie.pk}, format="json")
    assert response.status_code == 400 and "owner" in response.json()["errors"]


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.VIEWER])
def test_api_read_only_roles_cannot_raise(api_for, acme, alert, role):
    client = api_for(acme, role=role)
    for name in ("raise-incident", "raise-corrective-action"):
        assert client.post(api_url(alert.pk, name), {"note": "x"}, format="json").status_code == 403


def test_api_cross_tenant_is_not_found(api, globex):
    theirs_metric = make_metric(AISystemFactory(organization=globex))
    monitoring.measurements_ingest(organization=globex, items=[point(theirs_metric, 0.5)], acting_user=None)
    theirs = MonitoringAlert.objects.get(metric=theirs_metric)
    for name in ("raise-incident", "raise-corrective-action"):
        assert api.post(api_url(theirs.pk, name), {"note": "x"}, format="json").status_code == 404


def test_api_owner_raises_only_for_alerts_of_own_systems(owner_api, acme, alert, other_system):
    theirs_metric = make_metric(other_system)
    monitoring.measurements_ingest(organization=acme, items=[point(theirs_metric, 0.5)], acting_user=None)
    theirs = MonitoringAlert.objects.get(metric=theirs_metric)
    assert owner_api.post(api_url(theirs.pk, "raise-incident"), format="json").status_code == 403
    assert owner_api.post(api_url(alert.pk, "raise-incident"), format="json").status_code == 201

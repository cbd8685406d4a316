"""Optimistic concurrency: two people edit the same record; the second save never silently reverts the first.

Pages carry the version they read in a hidden field, the API in ``ETag``/``If-Match``; a stale
version writes nothing, keeps what the second person typed and says who changed what meanwhile.
"""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse

from aims.concurrency import StaleRecord, expect_version, record_version
from aims.governance.models import ContextIssue
from aims.records import record_save
from aims.roles import Role
from controls.models import ApplicabilityStatement
from risk import services as risk_services
from risk.models import Risk
from tests.aims.identity.sessions import session_mark_authenticated
from tests.conftest import wait_for
from tests.registry.factories import AISystemFactory

HTMX = {"HTTP_HX_REQUEST": "true"}
VERSION = re.compile(r'name="record_version" value="(\d+)"')


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    session_mark_authenticated(client.session, user)
    return client


def version_in(response) -> str:
    match = VERSION.search(response.content.decode())
    assert match, "the edit form carries no record version"
    return match.group(1)


@pytest.fixture
def risk(acme, olivia):
    return risk_services.risk_save(
        instance=Risk(organization=acme, title="Drift", owner=olivia, inherent_likelihood=3, inherent_impact=3),
        acting_user=olivia,
    )


def risk_data(risk, version, **overrides):
    data = {"title": risk.title, "description": "", "owner": risk.owner_id, "inherent_likelihood": "3",
            "inherent_impact": "3", "status": risk.status, "record_version": version}  # fmt: skip
    data.update(overrides)
    return data


# --- Pages -------------------------------------------------------------------------------------


def test_the_second_save_of_a_risk_is_refused_and_keeps_what_was_typed(acme, olivia, alice, risk):
    first, second = signed_in(olivia), signed_in(alice)
    edit = reverse("risk:update", args=[risk.pk])
    v_first, v_second = version_in(first.get(edit)), version_in(second.get(edit))
    assert v_first == v_second == record_version(risk)

    saved = first.post(edit, risk_data(risk, v_first, title="Drift of the triage model", inherent_impact="5"))
    assert saved.status_code == 302

    refused = second.post(edit, risk_data(risk, v_second, description="Alice typed this carefully."))
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "Someone else saved this risk while you were editing it" in html
    # What changed meanwhile, from the history: who, and which fields with their new values.
    assert "Changed meanwhile" in html and olivia.display_name in html
    assert "Drift of the triage model" in html and "Inherent impact" in html
    # The second person's input is still in the form.
    assert "Alice typed this carefully." in html
    stored = Risk.objects.get(pk=risk.pk)
    assert stored.title == "Drift of the triage model" and stored.inherent_impact == 5 and stored.description == ""

    # The form now carries the current version: saving again deliberately keeps Alice's values.
    current = version_in(refused)
    assert current == record_version(stored) != v_second
    again = second.post(edit, risk_data(risk, current, description="Alice typed this carefully."))
    assert again.status_code == 302
    stored.refresh_from_db()
    assert stored.description == "Alice typed this carefully." and stored.history.latest().history_user == alice


def test_a_save_without_a_version_still_proceeds(login, olivia, risk):
    data = risk_data(risk, "", title="Renamed")
    del data["record_version"]
    assert login(olivia).post(reverse("risk:update", args=[risk.pk]), data).status_code == 302
    assert Risk.objects.get(pk=risk.pk).title == "Renamed"


def test_the_soa_inline_form_refuses_a_stale_row(acme, olivia, alice):
    edit = reverse("soa:row_edit", args=["A.6.2.6"])
    first, second = signed_in(olivia), signed_in(alice)
    v_first, v_second = version_in(first.get(edit, **HTMX)), version_in(second.get(edit, **HTMX))
    row = {"applicable": "yes", "implementation_status": "implemented", "implementation": ""}

    saved = first.post(edit, {**row, "justification": "Olivia's reason.", "record_version": v_first}, **HTMX)
    assert saved.status_code == 200 and "<form" not in saved.content.decode()

    refused = second.post(edit, {**row, "justification": "Alice's reason.", "record_version": v_second}, **HTMX)
    html = refused.content.decode()
    # htmx swaps only 2xx answers: the conflict comes back as the inline form, not the page.
    assert refused.status_code == 200 and "<form" in html and "<html" not in html
    assert "Someone else saved this" in html and "Changed meanwhile" in html and "Olivia&#x27;s reason." in html
    assert "Alice&#x27;s reason." in html  # kept in the textarea
    stored = ApplicabilityStatement.objects.get(organization=acme, control__ref="A.6.2.6")
    assert stored.justification == "Olivia's reason."


def test_a_generic_record_form_refuses_a_stale_version(acme, olivia, alice):
    issue = record_save(
        ContextIssue(organization=acme, title="Regulation ahead", kind="external", category="legal"),
        acting_user=olivia,
    )
    edit = reverse("governance:issue_update", args=[issue.pk])
    page = signed_in(alice).get(edit)
    assert page.status_code == 200
    stale = version_in(page)
    issue.title = "Regulation is here"
    record_save(issue, acting_user=olivia)
    form = page.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    refused = signed_in(alice).post(edit, {**data, "title": "Alice's title", "record_version": stale})
    assert refused.status_code == 400 and "Someone else saved this" in refused.content.decode()
    assert ContextIssue.objects.get(pk=issue.pk).title == "Regulation is here"


# --- Service level -----------------------------------------------------------------------------


def test_record_save_checks_the_version_and_names_the_changes(acme, olivia, alice, risk):
    read = record_version(risk)
    changed = Risk.objects.get(pk=risk.pk)
    changed.title = "Changed by Olivia"
    risk_services.risk_save(instance=changed, acting_user=olivia)

    stale = Risk.objects.get(pk=risk.pk)
    stale.title = "Changed by Alice"
    expect_version(stale, read)
    with pytest.raises(StaleRecord) as caught:
        risk_services.risk_save(instance=stale, acting_user=alice)
    assert caught.value.current_version == record_version(changed)
    [entry] = caught.value.changes
    assert entry.who == olivia and "Title" in [c.field for c in entry.changes]
    assert Risk.objects.get(pk=risk.pk).title == "Changed by Olivia"


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        # Activity statistics are a snapshot per transaction, and the caller's transaction is open.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return bool(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_two_saves_racing_with_the_same_version_let_exactly_one_through(transactional_db, acme, olivia, alice):
    """The check and the write are one step: the second save waits for the first, then finds it stale."""
    risk = risk_services.risk_save(
        instance=Risk(organization=acme, title="Drift", owner=olivia, inherent_likelihood=3, inherent_impact=3),
        acting_user=olivia,
    )
    read = record_version(risk)
    outcome: dict[str, object] = {}

    def second_save() -> None:
        try:
            mine = Risk.objects.get(pk=risk.pk)
            mine.title = "Alice's title"
            expect_version(mine, read)
            risk_services.risk_save(instance=mine, acting_user=alice)
            outcome["second"] = "saved"
        except StaleRecord:
            outcome["second"] = "stale"
        except Exception as exc:
            outcome["second"] = repr(exc)
        finally:
            connections.close_all()

    with transaction.atomic():
        first = Risk.objects.get(pk=risk.pk)
        first.title = "Olivia's title"
        expect_version(first, read)
        risk_services.risk_save(instance=first, acting_user=olivia)
        racer = threading.Thread(target=second_save)
        racer.start()
        # Olivia's transaction is still open: Alice's save must be queued behind its row lock.
        assert wait_for(lambda: _waiting_on_a_lock() or bool(outcome), timeout=30) and not outcome, outcome
    racer.join(timeout=30)
    assert outcome == {"second": "stale"}
    assert Risk.objects.get(pk=risk.pk).title == "Olivia's title"


# --- API ---------------------------------------------------------------------------------------


@pytest.fixture
def api(api_for, acme, olivia):
    return api_for(acme, role=Role.OFFICER, created_by=olivia)


def test_api_get_answers_an_etag_that_changes_with_every_write(api, risk):
    detail = reverse("risk-detail", args=[risk.pk])
    first = api.get(detail)
    assert first.status_code == 200 and first["ETag"] == f'"{record_version(risk)}"'
    patched = api.patch(detail, {"title": "Renamed"}, format="json", HTTP_IF_MATCH=first["ETag"])
    assert patched.status_code == 200, patched.content
    assert patched["ETag"] != first["ETag"]
    assert api.get(detail)["ETag"] == patched["ETag"]


def test_api_write_with_a_stale_if_match_is_412_and_writes_nothing(api, olivia, risk):
    detail = reverse("risk-detail", args=[risk.pk])
    read = api.get(detail)["ETag"]
    assert api.patch(detail, {"title": "First"}, format="json", HTTP_IF_MATCH=read).status_code == 200

    stale = api.patch(detail, {"title": "Second"}, format="json", HTTP_IF_MATCH=read)
    assert stale.status_code == 412
    body = stale.json()
    assert body["current_version"] == f'"{record_version(risk)}"' == stale["ETag"]
    assert body["detail"] and body["changes"][0]["fields"] == ["Title"]
    put = api.put(detail, {"title": "Second", "owner": olivia.pk}, format="json", HTTP_IF_MATCH='W/"0"')
    assert put.status_code == 412
    assert Risk.objects.get(pk=risk.pk).title == "First"


def test_api_write_without_if_match_proceeds(api, risk):
    detail = reverse("risk-detail", args=[risk.pk])
    assert api.patch(detail, {"title": "No precondition"}, format="json").status_code == 200
    assert api.patch(detail, {"title": "Any version"}, format="json", HTTP_IF_MATCH="*").status_code == 200
    assert Risk.objects.get(pk=risk.pk).title == "Any version"


def test_the_schema_documents_if_match_and_412(api):
    schema = api.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for method in ("put", "patch"):
        operation = schema["paths"]["/api/v1/risks/{id}/"][method]
        assert any(p["name"] == "If-Match" and p["in"] == "header" for p in operation["parameters"])
        assert "412" in operation["responses"] and "ETag" in operation["responses"]["200"]["headers"]


def test_the_soa_row_api_honours_if_match(api, acme):
    detail = reverse("soa-detail", args=["A.6.2.6"])
    read = api.get(detail)
    assert read.status_code == 200 and read["ETag"]
    decided = {"applicable": True, "justification": "Needed."}
    saved = api.patch(detail, decided, format="json", HTTP_IF_MATCH=read["ETag"])
    assert saved.status_code == 200 and saved["ETag"] != read["ETag"]
    stale = api.patch(detail, {"justification": "Overwrite."}, format="json", HTTP_IF_MATCH=read["ETag"])
    assert stale.status_code == 412 and stale.json()["current_version"] == saved["ETag"]
    assert ApplicabilityStatement.objects.get(organization=acme, control__ref="A.6.2.6").justification == "Needed."


def test_an_inventory_record_api_honours_if_match(api, acme, olivia):
    system = AISystemFactory(organization=acme, owner=olivia)
    detail = reverse("system-detail", args=[system.pk])
    read = api.get(detail)["ETag"]
    assert api.patch(detail, {"name": "Triage v2"}, format="json", HTTP_IF_MATCH=read).status_code == 200
    assert api.patch(detail, {"name": "Triage v3"}, format="json", HTTP_IF_MATCH=read).status_code == 412
    system.refresh_from_db()
    assert system.name == "Triage v2"

"""The load run's simulated people read the portal's real forms as a browser does.

benchmarks/load.py itself is run by hand (it starts gunicorn and Locust). What it relies on is
checked here, cheaply: the form reader of benchmarks/load_forms.py finds the CSRF token and
``record_version`` on the rendered edit and sign-in forms, a form posted back with one field
changed saves (CSRF enforced, every other field as it was), and a stale one is refused with the
message the run counts as a conflict.
"""

from __future__ import annotations

import pytest
from django.test import Client

from aims.concurrency import STALE_MESSAGE, record_version
from benchmarks.load_forms import CSRF_FIELD, STALE_MARK, VERSION_FIELD, form_with_field, forms_in
from registry.models import AISystem
from registry.services import inventory_record_save
from tests.aims.identity.sessions import session_mark_authenticated
from tests.registry.factories import AISystemFactory
from tests.risk.factories import RiskFactory

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def browser(olivia):
    """The officer's browser: a client that checks CSRF tokens as the real server does."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(olivia)
    session_mark_authenticated(client.session, olivia)
    return client


@pytest.fixture
def system(acme, olivia):
    record = AISystemFactory.build(organization=acme, owner=olivia, ref_code="", business_unit="Records")
    return inventory_record_save(instance=record, acting_user=olivia)


def test_edit_form_posted_back_with_one_change_saves_it(browser, system, olivia):
    path = f"/inventory/systems/{system.pk}/edit/"
    form = form_with_field(browser.get(path).content.decode(), VERSION_FIELD)

    assert form.value(VERSION_FIELD) == record_version(system)
    assert form.value(CSRF_FIELD)
    assert form.value("name") == system.name
    form.replace("purpose", "Classifies incoming documents (edit 1).")
    response = browser.post(path, form.encoded(), content_type=FORM)

    assert response.status_code == 302
    saved = AISystem.objects.get(pk=system.pk)
    assert saved.purpose == "Classifies incoming documents (edit 1)."
    # Every other field went back as rendered, so nothing else changed.
    assert (saved.name, saved.business_unit, saved.owner_id) == (system.name, "Records", olivia.pk)


def test_stale_edit_form_is_refused_with_the_message_the_run_counts(browser, system, olivia):
    path = f"/inventory/systems/{system.pk}/edit/"
    form = form_with_field(browser.get(path).content.decode(), VERSION_FIELD)
    system.purpose = "Changed by someone else meanwhile."
    inventory_record_save(instance=system, acting_user=olivia)

    form.replace("purpose", "My change.")
    response = browser.post(path, form.encoded(), content_type=FORM)

    assert response.status_code == 400
    assert STALE_MESSAGE.startswith(STALE_MARK)
    assert STALE_MARK in response.content.decode()
    system.refresh_from_db()
    assert system.purpose == "Changed by someone else meanwhile."


def test_risk_form_keeps_its_scores_when_posted_back(browser, acme, olivia):
    risk = RiskFactory(organization=acme, owner=olivia, assessed=True, description="First words.")
    path = f"/risks/{risk.pk}/edit/"
    form = form_with_field(browser.get(path).content.decode(), VERSION_FIELD)

    form.replace("description", "Second words.")
    response = browser.post(path, form.encoded(), content_type=FORM)

    assert response.status_code == 302
    risk.refresh_from_db()
    assert risk.description == "Second words."
    assert (risk.inherent_likelihood, risk.inherent_impact, risk.owner_id) == (3, 4, olivia.pk)


def test_sign_in_form_posted_back_signs_the_person_in(olivia):
    client = Client(enforce_csrf_checks=True)
    form = form_with_field(client.get("/accounts/login/").content.decode(), "login")
    form.replace("login", olivia.email)
    form.replace("password", "correct-horse-battery")

    response = client.post("/accounts/login/", form.encoded(), content_type=FORM)

    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_form_reader_sends_what_a_browser_sends():
    html = """
    <form method="get"><input name="q" value="search"></form>
    <form method="post" action="/save/">
      <input type="hidden" name="csrfmiddlewaretoken" value="tok">
      <input name="title" value="A &amp; B">
      <input type="checkbox" name="flag" checked><input type="checkbox" name="off" value="1">
      <input type="radio" name="pick" value="a"><input type="radio" name="pick" value="b" checked>
      <input name="locked" value="x" disabled><input type="submit" name="go" value="Save">
      <select name="one"><option value="1">One</option><option value="2">Two</option></select>
      <select name="many" multiple><option value="a" selected>A</option><option selected>B</option></select>
      <textarea name="notes">
line one
line two</textarea>
    </form>"""

    post = form_with_field(html, "csrfmiddlewaretoken")

    assert len(forms_in(html)) == 2
    assert post.action == "/save/"
    assert post.fields == [
        ("csrfmiddlewaretoken", "tok"),
        ("title", "A & B"),
        ("flag", "on"),
        ("pick", "b"),
        ("one", "1"),
        ("many", "a"),
        ("many", "B"),
        ("notes", "line one\nline two"),
    ]
    with pytest.raises(LookupError):
        form_with_field(html, "record_version")

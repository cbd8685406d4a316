"""Bad input to the API is a 400 with field errors, and every API failure answers JSON.

The reproductions of issue 13 (schemathesis found them): ``?year=0`` on management reviews, a
NUL character in a bulk-upsert ``external_id``, a ``since`` with the offset ``+21:19``; then
the same classes of input anywhere (query string, JSON keys and values, form fields, lone
surrogates), and a database lost during a request (503 JSON, not Django's HTML page).
"""

from __future__ import annotations

import pytest
from django.db import close_old_connections, connection, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from aims.api.errors import SERVER_ERROR
from aims.roles import Role
from registry.models import AISystem, Dataset
from tests.aims.factories import ApiTokenFactory, MembershipFactory, OrganizationFactory
from tests.conftest import terminate_request_connection
from tests.registry.factories import AISystemFactory, MetricDefinitionFactory

INVALID = "The request has invalid fields."


@pytest.fixture
def api(api_for, acme, alice):
    return api_for(acme, role=Role.ADMIN, created_by=alice)


def field_errors(response, status=400):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["detail"] == INVALID
    return body["errors"]


# --- Dates, years and time-zone offsets --------------------------------------------------------


@pytest.mark.parametrize("year", ["0", "10000", "99999999999999999999", "2026.5"])
def test_management_review_year_out_of_range_is_a_field_error(api, year):
    errors = field_errors(api.get(reverse("managementreview-list"), {"year": year}))
    assert list(errors) == ["year"]


def test_management_review_year_in_range_still_filters(api):
    assert api.get(reverse("managementreview-list"), {"year": "2026"}).status_code == 200
    assert api.get(reverse("managementreview-list"), {"year": "9999"}).status_code == 200


@pytest.mark.parametrize("offset", ["+21:19", "-15:00", "+14:01", "+0960"])
def test_measurement_since_with_an_impossible_offset_is_a_field_error(api, offset):
    errors = field_errors(api.get(reverse("measurement-list"), {"since": f"2026-01-01T00:00:00{offset}"}))
    assert "offset" in errors["since"][0]


def test_real_offsets_are_accepted(api):
    for offset in ["+14:00", "-12:00", "+05:45", "Z"]:
        response = api.get(reverse("measurement-list"), {"since": f"2026-01-01T00:00:00{offset}"})
        assert response.status_code == 200, (offset, response.content)


def test_a_measurement_time_with_an_impossible_offset_is_a_field_error(api, acme):
    metric = MetricDefinitionFactory(system=AISystemFactory(organization=acme))
    item = {"metric": metric.pk, "measured_at": "2026-01-01T00:00:00+21:19", "value": 0.9}
    errors = field_errors(api.post(reverse("measurement-batch"), {"items": [item]}, format="json"))
    assert list(errors) == ["items.0.measured_at"]


# --- NUL and control characters ----------------------------------------------------------------


@pytest.mark.parametrize(("basename", "model"), [("system", AISystem), ("dataset", Dataset)])
def test_nul_in_a_bulk_upsert_external_id_is_a_field_error(api, basename, model):
    items = [{"external_id": "ok-1", "name": "Fine"}, {"external_id": "bad\x00id", "name": "Broken"}]
    errors = field_errors(api.post(reverse(f"{basename}-bulk-upsert"), {"items": items}, format="json"))
    assert list(errors) == ["items.1.external_id"]
    assert "NUL" in errors["items.1.external_id"][0]
    assert not model.objects.exists()


@pytest.mark.parametrize("text", ["a\x00b", "bell\x07", "escape\x1b[0m", "del\x7f"])
def test_control_characters_in_any_json_text_are_refused(api, text):
    errors = field_errors(api.post(reverse("system-list"), {"name": text, "purpose": "x"}, format="json"))
    assert list(errors) == ["name"]
    assert not AISystem.objects.exists()


def test_tabs_and_line_breaks_are_ordinary_text(api):
    response = api.post(
        reverse("system-list"), {"name": "Credit scoring", "purpose": "Line one\r\n\tline two"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert AISystem.objects.get().purpose == "Line one\r\n\tline two"


def test_a_lone_surrogate_is_refused(api):
    body = '{"name": "broken \\ud800 text", "purpose": "x"}'
    errors = field_errors(api.post(reverse("system-list"), body, content_type="application/json"))
    assert list(errors) == ["name"]


def test_nul_in_a_json_key_is_refused(api):
    body = '{"items": [{"external_id": "a", "na\\u0000me": "x"}]}'
    errors = field_errors(api.post(reverse("system-bulk-upsert"), body, content_type="application/json"))
    assert list(errors) == ["items.0"]


def test_nul_in_a_form_field_is_refused(api, acme):
    response = api.post(reverse("system-list"), {"name": "a\x00b", "purpose": "x"}, format="multipart")
    assert list(field_errors(response)) == ["name"]


@pytest.mark.parametrize("params", [{"search": "a\x00b"}, {"ordering": "\x00"}, {"status": "\x01"}])
def test_nul_in_the_query_string_is_refused_before_any_query(api, params, django_assert_num_queries):
    with django_assert_num_queries(0):
        errors = field_errors(api.get(reverse("system-list"), params))
    assert list(errors) == list(params)


def test_nul_in_the_path_is_refused(api):
    assert "path" in field_errors(api.get("/api/v1/systems/%00/"))


def test_an_unknown_api_address_answers_json(api):
    response = api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


# --- Server errors answer JSON -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_database_connection_lost_during_a_request_answers_json_503(catalogue):
    """The request's own PostgreSQL connection is terminated by the server (pg_terminate_backend)."""
    org = OrganizationFactory()
    admin = MembershipFactory(organization=org, role=Role.ADMIN).user
    token = ApiTokenFactory(organization=org, role=Role.ADMIN, created_by=admin)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.raw_key}")
    assert client.get(reverse("system-list")).status_code == 200
    terminate_request_connection()

    response = client.get(reverse("system-list"))
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "30"
    assert "database is unavailable" in response.json()["detail"]
    # At the end of a request Django drops an unusable connection (the test client switches that
    # off, so do it here as a server does); the next request connects anew and is served.
    close_old_connections()
    assert client.get(reverse("system-list")).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_database_lost_before_the_view_runs_answers_json_503_too(catalogue):
    """A signed-in session's middleware reads the database before any API view: handler500 answers."""
    from django.test import Client

    org = OrganizationFactory()
    admin = MembershipFactory(organization=org, role=Role.ADMIN).user
    client = Client(raise_request_exception=False)
    client.force_login(admin)
    assert client.get(reverse("system-list")).status_code == 200
    terminate_request_connection()

    response = client.get(reverse("system-list"))
    assert (response.status_code, response["Content-Type"]) == (503, "application/json")
    assert response["Retry-After"] == "30"
    close_old_connections()


def test_an_unexpected_error_in_a_view_answers_json_500(api, monkeypatch, caplog):
    """Any exception no handler knows (here a bug in a selector) is a logged JSON 500."""
    from registry import api as registry_api

    def broken(organization):
        raise RuntimeError("a bug")

    monkeypatch.setattr(registry_api.selectors, "system_list", broken)
    api.raise_request_exception = False
    response = api.get(reverse("system-list"))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": SERVER_ERROR}
    assert any(record.exc_info and record.exc_info[0] is RuntimeError for record in caplog.records)


def test_pages_keep_the_html_error_page(login, alice, monkeypatch):
    from registry import views as registry_views

    client = login(alice)
    client.raise_request_exception = False
    monkeypatch.setattr(registry_views.SystemListView, "get", lambda *args, **kwargs: 1 / 0)
    response = client.get(reverse("inventory:system_list"))
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_what_the_database_still_refuses_as_data_is_a_400_not_a_500(api, acme):
    """The last line behind the input guard: a DataError (here a value PostgreSQL cannot store)."""
    from django.db import DataError

    from aims.api.errors import UNSTORABLE, exception_handler

    with pytest.raises(DataError) as refused, connection.cursor() as cursor, transaction.atomic():
        cursor.execute("SELECT %s::smallint", [10**6])
    response = exception_handler(refused.value, {"request": None})
    assert response.status_code == 400
    assert response.data == {"detail": INVALID, "errors": {"non_field_errors": [UNSTORABLE]}}

"""The OpenAPI schema documents the API's error answers, and the API answers what it documents.

The error answers are written once (aims.api.schema) and added to every operation where they
can occur; these tests keep that from silently regressing. The live tests send real requests
through schemathesis, in-process, and check that the status code, media type and body of each
error answer are the documented ones.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.test import override_settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from aims.api.errors import exception_handler
from aims.api.schema import ERROR_RESPONSES
from aims.models import Organization
from aims.roles import Role
from registry.models import AIModel
from tests.aims.factories import ApiTokenFactory
from tests.registry.factories import AIModelFactory
from tests.risk.factories import RiskFactory

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ALWAYS = {"401", "403", "429", "503"}
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def api_schema(django_db_blocker):
    """The schema as the API serves it (anonymous calls may read it), loaded once for the module."""
    from django.core.wsgi import get_wsgi_application

    with django_db_blocker.unblock(), override_settings(ALLOWED_HOSTS=["*"]):
        return schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())


@pytest.fixture
def openapi(api_schema):
    return api_schema.raw_schema


def _operations(openapi):
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def _where(operation) -> set[str]:
    return {parameter["in"] for parameter in operation.get("parameters", [])}


def test_every_operation_documents_the_errors_any_request_can_meet(openapi):
    operations = list(_operations(openapi))
    assert len(operations) > 200
    for path, method, operation in operations:
        responses = operation["responses"]
        for code in ALWAYS:
            name = ERROR_RESPONSES[code][0]
            assert responses.get(code) == {"$ref": f"#/components/responses/{name}"}, (method, path, code)


def test_errors_follow_what_an_operation_takes(openapi):
    for path, method, operation in _operations(openapi):
        codes = set(operation["responses"])
        where = _where(operation)
        is_write = method != "get"
        if "path" in where:
            assert "404" in codes, (method, path)
        if is_write or "requestBody" in operation or where & {"query", "path"}:
            assert "400" in codes, (method, path)
        assert ("409" in codes) == is_write, (method, path)
        takes_if_match = any(p["name"] == "If-Match" and p["in"] == "header" for p in operation.get("parameters", []))
        assert ("412" in codes) == takes_if_match, (method, path)
    # Nothing can be invalid or missing in a call that takes nothing.
    me = openapi["paths"]["/api/v1/me/"]["get"]["responses"]
    assert "400" not in me and "404" not in me


def test_the_error_component_is_the_body_the_api_sends(openapi):
    schemas, responses = openapi["components"]["schemas"], openapi["components"]["responses"]
    error = schemas["Error"]
    assert error["required"] == ["detail"] and error["properties"]["detail"]["type"] == "string"
    # Field errors are an object by field name, never an array.
    assert error["properties"]["errors"]["type"] == "object"
    for code, (name, _) in ERROR_RESPONSES.items():
        schema = responses[name]["content"]["application/json"]["schema"]
        wanted = "PreconditionFailed" if code == "412" else "Error"
        assert schema == {"$ref": f"#/components/schemas/{wanted}"}
    assert set(responses["TooManyRequests"]["headers"]) == {"Retry-After"}
    assert set(responses["ServiceUnavailable"]["headers"]) == {"Retry-After"}


def test_an_endpoint_with_its_own_400_body_still_documents_the_common_one(openapi):
    bulk = openapi["paths"]["/api/v1/models/bulk-upsert/"]["post"]["responses"]["400"]
    choices = bulk["content"]["application/json"]["schema"]["anyOf"]
    assert {"$ref": "#/components/schemas/BulkUpsertError"} in choices
    assert {"$ref": "#/components/schemas/Error"} in choices


# --- The answers themselves -----------------------------------------------------------------------


@pytest.fixture
def token_headers(acme, alice):
    def _headers(role=Role.ADMIN, org=acme, created_by=alice):
        token = ApiTokenFactory(organization=org, role=role, created_by=created_by)
        return {"Authorization": f"Bearer {token.raw_key}"}

    return _headers


def _answer(api_schema, wsgi_app, path, method, *, headers=None, expect, **case_kwargs):
    """Send one request through schemathesis and check its answer against the schema."""
    if "body" in case_kwargs:
        case_kwargs.setdefault("media_type", "application/json")
    case = api_schema[path][method].Case(**case_kwargs)
    response = case.call(headers=headers or {}, app=wsgi_app)
    assert response.status_code == expect, response.text
    case.validate_response(response, checks=CHECKS, headers=headers)
    return response


def test_another_organisations_record_answers_a_documented_404(api_schema, wsgi_app, token_headers, globex):
    theirs = RiskFactory(organization=globex)
    response = _answer(
        api_schema, wsgi_app, "/api/v1/risks/{id}/", "GET",
        headers=token_headers(), path_parameters={"id": theirs.pk}, expect=404,
    )  # fmt: skip
    assert set(response.json()) == {"detail"}


def test_invalid_fields_answer_a_documented_400_naming_them(api_schema, wsgi_app, token_headers):
    response = _answer(
        api_schema, wsgi_app, "/api/v1/models/", "POST",
        headers=token_headers(), body={"name": "", "model_card_url": "not a link"}, expect=400,
    )  # fmt: skip
    body = response.json()
    assert body["detail"] == "The request has invalid fields."
    assert isinstance(body["errors"], dict) and {"name", "model_card_url"} <= set(body["errors"])


def test_a_body_that_is_not_json_answers_a_documented_400(api_schema, wsgi_app, token_headers):
    case = api_schema["/api/v1/models/"]["POST"].Case(body={"name": "x"}, media_type="application/json")
    headers = {**token_headers(), "Content-Type": "application/json"}
    response = case.call(headers=headers, app=wsgi_app, data=b"{not json")
    assert response.status_code == 400
    case.validate_response(response, checks=CHECKS, headers=headers)
    assert set(response.json()) == {"detail"} and "JSON parse error" in response.json()["detail"]


def test_a_bulk_refusal_of_the_whole_batch_answers_a_documented_400(api_schema, wsgi_app, token_headers):
    response = _answer(
        api_schema, wsgi_app, "/api/v1/models/bulk-upsert/", "POST",
        headers=token_headers(), body={"items": []}, expect=400,
    )  # fmt: skip
    assert set(response.json()["errors"]) == {"items"}


def test_no_credentials_answer_a_documented_401(api_schema, wsgi_app, db):
    _answer(api_schema, wsgi_app, "/api/v1/risks/", "GET", expect=401)


def test_a_role_without_the_right_answers_a_documented_403(api_schema, wsgi_app, token_headers, victor):
    _answer(
        api_schema, wsgi_app, "/api/v1/models/", "POST",
        headers=token_headers(role=Role.VIEWER, created_by=victor), body={"name": "m", "version": "1"}, expect=403,
    )  # fmt: skip


def test_a_stale_if_match_answers_a_documented_412(api_schema, wsgi_app, token_headers, acme):
    risk = RiskFactory(organization=acme)
    headers = {**token_headers(), "If-Match": '"1"'}
    response = _answer(
        api_schema, wsgi_app, "/api/v1/risks/{id}/", "PATCH",
        headers=headers, path_parameters={"id": risk.pk}, body={"title": "Too late"}, expect=412,
    )  # fmt: skip
    assert response.json()["current_version"] != '"1"'


def test_a_call_over_the_limit_answers_a_documented_429(api_schema, wsgi_app, token_headers, settings):
    settings.API_THROTTLE_RATES = {"token": "1/min", "user": None, "anon": None}
    cache.clear()
    headers = token_headers()
    _answer(api_schema, wsgi_app, "/api/v1/me/", "GET", headers=headers, expect=200)
    response = _answer(api_schema, wsgi_app, "/api/v1/me/", "GET", headers=headers, expect=429)
    assert int(response.headers["retry-after"][0]) > 0
    cache.clear()


def _integrity_error(**fields) -> IntegrityError:
    try:
        with transaction.atomic():
            Organization.objects.create(**fields)
    except IntegrityError as exc:
        return exc
    raise AssertionError("the database took the row")


def test_a_unique_value_lost_to_a_concurrent_writer_answers_409_not_500(acme):
    response = exception_handler(_integrity_error(name="Acme again", slug=acme.slug), {})
    assert response.status_code == 409 and set(response.data) == {"detail"}
    # A missing value is the portal's own fault: it stays a server error.
    assert exception_handler(_integrity_error(name=None, slug="nameless"), {}).status_code == 500


def test_an_absent_link_answers_null_not_an_empty_uri(api_schema, wsgi_app, token_headers, acme):
    model = AIModelFactory(organization=acme, model_card_url="https://models.example/card")
    headers = token_headers()
    # No link any more: null is accepted, stored as Django's blank, and answered as null.
    response = _answer(
        api_schema, wsgi_app, "/api/v1/models/{id}/", "PATCH",
        headers=headers, path_parameters={"id": model.pk}, body={"model_card_url": None}, expect=200,
    )  # fmt: skip
    assert response.json()["model_card_url"] is None
    assert AIModel.objects.get(pk=model.pk).model_card_url == ""
    assert AIModel.history.filter(id=model.pk).latest("history_id").model_card_url == ""
    response = _answer(
        api_schema, wsgi_app, "/api/v1/models/{id}/", "GET",
        headers=headers, path_parameters={"id": model.pk}, expect=200,
    )  # fmt: skip
    assert response.json()["model_card_url"] is None


def test_a_risk_whose_owner_account_was_deleted_answers_a_documented_null(api_schema, wsgi_app, token_headers, acme):
    # The owner is required in the API, yet a stored risk loses it when the account is deleted.
    risk = RiskFactory(organization=acme)
    risk.owner.delete()
    response = _answer(
        api_schema, wsgi_app, "/api/v1/risks/{id}/", "GET",
        headers=token_headers(), path_parameters={"id": risk.pk}, expect=200,
    )  # fmt: skip
    assert response.json()["owner"] is None
    request_schema = api_schema.raw_schema["components"]["schemas"]["PatchedRiskRequest"]["properties"]["owner"]
    assert "nullable" not in request_schema

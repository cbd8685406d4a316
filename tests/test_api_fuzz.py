"""schemathesis over the OpenAPI schema: no server error, and every answer is one the schema documents.

Every operation of ``/api/v1/schema/`` gets a bounded number of generated requests (valid
and, through the input guard, hostile text), sent in-process to the WSGI application as an
administrator's token of the demo organisation (with its demo records). Each request runs in
a savepoint rolled back afterwards, so every case starts from the same demo data and a
request that deletes or changes records does not starve the next ones. Each answer must have
a documented status code and media type, and a body valid against the documented schema
(the error answers too, documented once in ``aims.api.schema``).

``AIMS_FUZZ_EXAMPLES`` raises the number of examples per operation for a longer local run.
"""

from __future__ import annotations

import os

import hypothesis
import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from aims.demo import demo_seed
from aims.models import Organization, User
from aims.roles import Role
from tests.aims.factories import ApiTokenFactory

EXAMPLES = int(os.environ.get("AIMS_FUZZ_EXAMPLES", "6"))
#: No server error, and every answer (status, media type, body) is the one the schema documents.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_headers(settings, wsgi_app):
    # The fuzzer sends far more than a person would: no limit gets in its way here.
    settings.API_THROTTLE_RATES = {"token": None, "user": None, "anon": None}
    demo_seed()
    organization = Organization.objects.get(slug="acme-health-ai")
    admin = User.objects.get(email="admin@demo.example")
    token = ApiTokenFactory(organization=organization, role=Role.ADMIN, created_by=admin)
    return {"Authorization": f"Bearer {token.raw_key}"}


def test_every_api_operation_answers_as_its_schema_documents(admin_headers, wsgi_app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", wsgi_app, headers=admin_headers)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        # Valid requests and, as often, requests that break the schema (wrong types, bad formats).
        cases = operation.as_strategy() | operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)

        @hypothesis.given(case=cases)
        @hypothesis.settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            with transaction.atomic():
                response = case.call(headers=admin_headers)
                transaction.set_rollback(True)
            case.validate_response(response, checks=CHECKS, headers=admin_headers)

        try:
            run()
        # Every operation is tried and all failures are reported together; several failed checks
        # arrive as one schemathesis FailureGroup, a BaseExceptionGroup.
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert operations > 200
    assert not failures, "\n\n".join(failures)

"""schemathesis over the OpenAPI schema: no operation answers a server error.

Every operation of ``/api/v1/schema/`` gets a bounded number of generated requests (valid
and, through the input guard, hostile text), sent in-process to the WSGI application as an
administrator's token of the demo organisation (with its demo records). Each request runs in
a savepoint rolled back afterwards, so every case starts from the same demo data and a
request that deletes or changes records does not starve the next ones.

``AIMS_FUZZ_EXAMPLES`` raises the number of examples per operation for a longer local run.
"""

from __future__ import annotations

import os

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from aims.demo import demo_seed
from aims.models import Organization, User
from aims.roles import Role
from tests.aims.factories import ApiTokenFactory

EXAMPLES = int(os.environ.get("AIMS_FUZZ_EXAMPLES", "6"))

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_headers(settings):
    settings.ALLOWED_HOSTS = ["*"]
    # The fuzzer sends far more than a person would: no limit gets in its way here.
    settings.API_THROTTLE_RATES = {"token": None, "user": None, "anon": None}
    demo_seed()
    organization = Organization.objects.get(slug="acme-health-ai")
    admin = User.objects.get(email="admin@demo.example")
    token = ApiTokenFactory(organization=organization, role=Role.ADMIN, created_by=admin)
    # The requests run in this test's transaction: neither end of a request may close its
    # connection, as Django's own test client arranges too.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield {"Authorization": f"Bearer {token.raw_key}"}
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_no_api_operation_answers_a_server_error(admin_headers):
    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", app, headers=admin_headers)
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
            case.validate_response(response, checks=[not_a_server_error], headers=admin_headers)

        try:
            run()
        except Exception as exc:  # every operation is tried; all failures are reported together
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert operations > 200
    assert not failures, "\n\n".join(failures)

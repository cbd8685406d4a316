"""The database connection of a request is terminated (``pg_terminate_backend``) between requests.

A page does not answer 500: it says the database is unavailable for a moment (503 with
``Retry-After``), and the next request is served on a new connection. The API's JSON 503
is tested in tests/aims/test_api_hardening.py.
"""

from __future__ import annotations

import pytest
from django.db import close_old_connections
from django.urls import reverse

from tests.conftest import terminate_request_connection

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("page", ["inventory:system_list", "risk:list", "dashboard"])
def test_a_page_whose_database_connection_was_lost_answers_503_not_500(login, alice, page):
    client = login(alice)
    client.raise_request_exception = False
    assert client.get(reverse(page)).status_code == 200
    terminate_request_connection()

    response = client.get(reverse(page))
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == "30"
    assert "Nothing you saved before is lost" in response.content.decode()
    # A server drops the unusable connection at the end of the request; the next one is served.
    close_old_connections()
    assert client.get(reverse(page)).status_code == 200

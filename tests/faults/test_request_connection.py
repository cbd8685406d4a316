"""The database connection of a request is terminated (``pg_terminate_backend``) between requests.

Neither a page nor the API answers 500: both say the database is unavailable for a moment
(503 with ``Retry-After``), and the next request is served on a new connection.
"""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection, connections
from django.urls import reverse

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def terminate_request_connection() -> None:
    """Another session kills this connection's backend, as a database restart or failover would."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]

    def terminate():
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        connections["default"].close()

    killer = threading.Thread(target=terminate)
    killer.start()
    killer.join(timeout=30)


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


def test_an_api_request_whose_connection_was_lost_answers_json_503(api_for, acme, alice):
    api = api_for(acme, created_by=alice)
    api.raise_request_exception = False
    assert api.get(reverse("system-list")).status_code == 200
    terminate_request_connection()

    response = api.get(reverse("system-list"))
    assert response.status_code == 503 and response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "30"
    close_old_connections()
    assert api.get(reverse("system-list")).status_code == 200

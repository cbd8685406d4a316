"""Two identical measurement batches at the same moment: each point stored once, counted once.

Each batch runs in its own thread, so in its own PostgreSQL connection and transaction, as two
pipeline runs (or a retry racing the original request) do in production.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from aims.roles import Role
from registry.monitoring.models import Measurement, MonitoringAlert
from tests.aims.factories import MembershipFactory, OrganizationFactory
from tests.registry.factories import AISystemFactory, MetricDefinitionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _send_at_once(clients, payload):
    barrier = threading.Barrier(len(clients))
    answers: list[tuple[int, dict]] = []
    failures: list[BaseException] = []

    def send(client):
        try:
            barrier.wait(timeout=10)
            response = client.post(reverse("measurement-batch"), payload, format="json")
            answers.append((response.status_code, response.json()))
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    return answers


def test_identical_batches_at_the_same_moment_store_and_count_each_point_once(catalogue, api_for):
    org = OrganizationFactory()
    owner = MembershipFactory(organization=org, role=Role.OWNER).user
    metric = MetricDefinitionFactory(system=AISystemFactory(organization=org, owner=owner))
    clients = [api_for(org, role=Role.OFFICER) for _ in range(2)]
    now = timezone.now().replace(microsecond=0)
    # Several rounds: a race that a read-then-insert ingest loses most of the time must never be lost.
    for round_ in range(3):
        items = [
            {"metric": metric.pk, "measured_at": (now - timedelta(minutes=10 * round_ + m)).isoformat(), "value": 0.6}
            for m in range(5)
        ]
        answers = _send_at_once(clients, {"items": items})
        assert [status for status, _ in answers] == [200, 200]
        counts = sorted((body["created"], body["duplicates"]) for _, body in answers)
        assert counts == [(0, 5), (5, 0)], answers
        assert Measurement.objects.filter(metric=metric).count() == 5 * (round_ + 1)
        alert = MonitoringAlert.objects.get(metric=metric)
        assert alert.breach_count == 5 * (round_ + 1)
        assert sum(body["alerts_opened"] for _, body in answers) == (1 if round_ == 0 else 0)

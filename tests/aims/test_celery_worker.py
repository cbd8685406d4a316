"""A real Celery worker on the Redis broker sends the invitation e-mail.

Needs CELERY_BROKER_URL pointing at a reachable Redis; without one the test skips, and
CI (AIMS_REQUIRE_SERVICES=1) turns that skip into a failure.
"""

from __future__ import annotations

import os
import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.result import EagerResult
from django.core import mail

from aims import services
from aims.celery import app
from aims.models import Invitation
from aims.roles import Role
from aims.tasks import send_invitation_email

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_broker():
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        pytest.skip("CELERY_BROKER_URL is not set to a Redis URL: no broker for a real worker")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis at {url} is not reachable: {exc}")
    return url


@pytest.fixture
def worker(redis_broker, settings):
    # The Celery app reads Django's settings (namespace CELERY), so overriding them switches
    # this test from eager mode to the real broker; pytest-django restores them afterwards.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = redis_broker
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as running:
        yield running


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_invitation_email_goes_through_the_broker_and_a_worker(worker, acme, alice):
    invitation = services.member_add(organization=acme, email="worker@example.com", role=Role.VIEWER, acting_user=alice)
    assert isinstance(invitation, Invitation)
    assert wait_for(lambda: Invitation.objects.get(pk=invitation.pk).sent_at is not None), "worker never sent it"
    assert [m.to for m in mail.outbox] == [["worker@example.com"]]

    # Sent again by hand: the call returns at once and the worker does the work.
    result = send_invitation_email.delay(invitation.pk)
    assert not isinstance(result, EagerResult)
    assert wait_for(lambda: len(mail.outbox) == 2), "worker never ran the second task"

"""A real Celery worker on the Redis broker sends the invitation e-mail.

Needs CELERY_BROKER_URL pointing at a reachable Redis; without one the test skips, and
CI (AIMS_REQUIRE_SERVICES=1) turns that skip into a failure.
"""

from __future__ import annotations

import pytest
from celery.result import EagerResult
from django.core import mail

from aims import services
from aims.models import Invitation
from aims.roles import Role
from aims.tasks import send_invitation_email
from tests.conftest import wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_invitation_email_goes_through_the_broker_and_a_worker(worker, acme, alice):
    invitation = services.member_add(organization=acme, email="worker@example.com", role=Role.VIEWER, acting_user=alice)
    assert isinstance(invitation, Invitation)
    assert wait_for(lambda: Invitation.objects.get(pk=invitation.pk).sent_at is not None), "worker never sent it"
    assert [m.to for m in mail.outbox] == [["worker@example.com"]]

    # Sent again by hand: the call returns at once and the worker does the work.
    result = send_invitation_email.delay(invitation.pk)
    assert not isinstance(result, EagerResult)
    assert wait_for(lambda: len(mail.outbox) == 2), "worker never ran the second task"

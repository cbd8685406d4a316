"""The transactional outbox: written with its record, sent after commit, kept while the broker is down."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from aims import services
from aims.models import Invitation, OutboxMessage
from aims.outbox.services import outbox_dispatch, outbox_enqueue, outbox_purge
from aims.roles import Role
from aims.tasks import send_invitation_email
from tests.conftest import UNREACHABLE_BROKER

INVITE = "aims.tasks.send_invitation_email"


@pytest.fixture
def broker_down(settings, db, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # Celery takes the broker from this variable ahead of Django's settings.
    monkeypatch.setenv("CELERY_BROKER_URL", UNREACHABLE_BROKER)


def test_a_message_is_sent_only_after_its_transaction_commits(
    acme, alice, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.member_add(
            organization=acme, email="new@example.com", role=Role.VIEWER, acting_user=alice
        )
        message = OutboxMessage.objects.get(task=INVITE)
        assert message.args == [invitation.pk] and message.dispatched_at is None and not mailoutbox
    message.refresh_from_db()
    assert message.dispatched_at is not None and message.attempts == 1
    assert [m.to for m in mailoutbox] == [["new@example.com"]]


def test_a_rolled_back_request_leaves_no_message(acme, alice, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.member_add(organization=acme, email="gone@example.com", role=Role.VIEWER, acting_user=alice)
        raise RuntimeError("the request failed after the invitation")
    assert not callbacks and not OutboxMessage.objects.exists() and not Invitation.objects.exists()


def test_with_the_broker_down_the_message_waits_with_its_error(broker_down, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = outbox_enqueue(task=INVITE, args=[1])
        second = outbox_enqueue(task=INVITE, args=[2])
    for message in (first, second):
        message.refresh_from_db()
        assert message.dispatched_at is None and message.leased_until is None
    # The first failure stops the batch: each callback tried once, the oldest message first.
    assert first.attempts == 2 and "Error" in first.last_error
    assert second.attempts == 0
    result = outbox_dispatch()
    assert (result.sent, result.failed, result.pending) == (0, 2, 2)
    with pytest.raises(CommandError, match="2 message"):
        call_command("dispatch_outbox")


def test_a_leased_message_is_left_to_its_dispatcher_until_the_lease_runs_out(broker_down):
    message = OutboxMessage.objects.create(task=INVITE, args=[1], leased_until=timezone.now() + timedelta(minutes=1))
    assert outbox_dispatch().failed == 0  # another dispatcher is sending it
    OutboxMessage.objects.filter(pk=message.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
    assert outbox_dispatch().failed == 1  # that dispatcher died: the message is tried again


def test_the_command_sends_pending_messages(acme, alice, mailoutbox, capsys):
    invitation = Invitation.objects.create(
        organization=acme, email="cmd@example.com", role=Role.VIEWER, expires_at=timezone.now() + timedelta(days=3)
    )
    OutboxMessage.objects.create(task=INVITE, args=[invitation.pk], kwargs={"once": True})
    call_command("dispatch_outbox")
    assert "Sent 1; 0 still pending." in capsys.readouterr().out
    assert len(mailoutbox) == 1


def test_an_invitation_delivered_twice_by_the_outbox_is_e_mailed_once(acme, alice, mailoutbox):
    invitation = Invitation.objects.create(
        organization=acme, email="twice@example.com", role=Role.VIEWER, expires_at=timezone.now() + timedelta(days=3)
    )
    assert send_invitation_email.apply(args=[invitation.pk], kwargs={"once": True}).get() is True
    assert send_invitation_email.apply(args=[invitation.pk], kwargs={"once": True}).get() is False
    assert len(mailoutbox) == 1
    # A deliberate resend (not through the outbox) still goes out.
    assert send_invitation_email.apply(args=[invitation.pk]).get() is True
    assert len(mailoutbox) == 2


def test_sent_messages_are_purged_after_the_retention_but_pending_ones_stay(db):
    old = timezone.now() - timedelta(days=40)
    OutboxMessage.objects.create(task=INVITE, args=[1], dispatched_at=old)
    pending = OutboxMessage.objects.create(task=INVITE, args=[2], created_at=old)
    assert outbox_purge(older_than_days=30) == 1
    assert list(OutboxMessage.objects.all()) == [pending]

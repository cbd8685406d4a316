"""The broker is unreachable while someone requests a pack: nothing fails, nothing is lost.

The request commits the pack and its outbox message and answers as usual; once the broker is
back the dispatcher sends the message and a real worker builds the pack.
"""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from aims.models import OutboxMessage
from aims.roles import Role
from audits.models import EvidencePack
from tests.conftest import wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PACK_TASK = "audits.packs.tasks.generate_evidence_pack"


def succeeded(pack_id):
    return lambda: EvidencePack.objects.get(pk=pack_id).status == EvidencePack.Status.SUCCEEDED


def test_api_request_with_the_broker_down_is_kept_and_built_once_the_broker_is_back(broker, api_for, acme, bob):
    api = api_for(acme, role=Role.AUDITOR, created_by=bob)
    broker.down()
    created = api.post(reverse("evidencepack-list"), {"sections": ["scope"]}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "queued" and "will start when workers are available" in body["current_step"]
    message = OutboxMessage.objects.get(task=PACK_TASK, args=[body["id"]])
    assert message.dispatched_at is None and message.attempts == 1 and message.last_error

    # The same request again is matched to the waiting pack (not a dead one): it is retried.
    again = api.post(reverse("evidencepack-list"), {"sections": ["scope"]}, format="json")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    message.refresh_from_db()
    assert message.dispatched_at is None and message.attempts == 2
    with pytest.raises(CommandError, match="could not be reached"):
        call_command("dispatch_outbox")

    broker.up()
    call_command("dispatch_outbox")
    message.refresh_from_db()
    assert message.dispatched_at is not None and not message.last_error
    assert wait_for(succeeded(body["id"]), timeout=120), EvidencePack.objects.get(pk=body["id"]).error
    assert EvidencePack.objects.get(pk=body["id"]).attempts == 1


def test_page_request_with_the_broker_down_redirects_and_the_beat_task_sends_it_later(broker, login, acme, bob):
    client = login(bob)
    broker.down()
    form = {"scope": "aims", "period_start": "2026-01-01", "period_end": "2026-06-30", "sections": ["scope"]}
    response = client.post(reverse("packs:list"), form)
    assert response.status_code == 302
    pack = EvidencePack.objects.get()
    assert pack.status == EvidencePack.Status.QUEUED
    page = client.get(response["Location"]).content.decode()
    assert "will start when workers are available" in page
    assert OutboxMessage.objects.filter(task=PACK_TASK, args=[pack.pk], dispatched_at__isnull=True).exists()

    broker.up()
    from aims.celery import app
    from aims.outbox.tasks import dispatch_outbox

    # The periodic task, sent as the beat process sends it (on a connection of its own) and
    # run by the real worker.
    with app.connection_for_write() as connection:
        assert dispatch_outbox.apply_async(connection=connection) is not None
    assert wait_for(succeeded(pack.pk), timeout=120), EvidencePack.objects.get(pk=pack.pk).error
    assert not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists()


def test_an_invitation_made_while_the_broker_is_down_is_e_mailed_once_it_is_back(
    broker, login, acme, alice, mailoutbox
):
    client = login(alice)
    broker.down()
    response = client.post(reverse("members"), {"email": "late@example.com", "role": Role.VIEWER})
    assert response.status_code in (200, 302)
    assert OutboxMessage.objects.filter(task="aims.tasks.send_invitation_email", dispatched_at__isnull=True).exists()
    assert not mailoutbox

    broker.up()
    call_command("dispatch_outbox")
    assert wait_for(lambda: len(mailoutbox) == 1), "the invitation was never e-mailed"
    # Sent a second time (the outbox delivers at least once): still one e-mail.
    message = OutboxMessage.objects.get(task="aims.tasks.send_invitation_email")
    OutboxMessage.objects.filter(pk=message.pk).update(dispatched_at=None)
    call_command("dispatch_outbox")
    assert wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).dispatched_at is not None)
    from aims.tasks import send_invitation_email

    assert send_invitation_email.apply(args=message.args, kwargs=message.kwargs).get() is False
    assert [m.to for m in mailoutbox] == [["late@example.com"]]

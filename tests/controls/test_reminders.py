"""Reminders: expiring evidence and late SoA rows are e-mailed once per item and period."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from aims.roles import Role
from controls.evidence import reminders, services
from controls.evidence.reminders import reminders_send
from controls.models import ImplementationStatus, Reminder
from controls.tasks import send_reminders
from tests.aims.factories import MembershipFactory
from tests.controls.factories import ApplicabilityStatementFactory, NoteEvidenceFactory

TODAY = date(2026, 3, 2)


def note(org, user, *, valid_until, owner=None, title="Penetration test report"):
    return NoteEvidenceFactory(organization=org, acting_user=user, title=title, note="Summary of the findings.",
                               effective_from=date(2025, 1, 1), valid_until=valid_until, owner=owner)  # fmt: skip


def soa_row(org, ref, *, target_date, owner=None, applicable=True, status=ImplementationStatus.PLANNED):
    return ApplicabilityStatementFactory(organization=org, ref=ref, applicable=applicable, implementation_status=status,
                                         owner=owner, target_date=target_date)  # fmt: skip


def recipients():
    return [sorted(message.to) for message in mail.outbox]


def test_expiring_evidence_is_reminded_once_to_its_owner(acme, olivia):
    evidence = note(acme, olivia, valid_until=TODAY + timedelta(days=10), owner=olivia)
    assert reminders_send(today=TODAY) == 1
    assert reminders_send(today=TODAY) == 0
    assert reminders_send(today=TODAY + timedelta(days=1)) == 0
    assert recipients() == [[olivia.email]]
    message = mail.outbox[0]
    assert "Penetration test report" in message.subject and "expires in 10 days" in message.subject
    assert settings.SITE_URL + reverse("evidence:detail", args=[evidence.pk]) in message.body
    reminder = Reminder.objects.get()
    assert (reminder.kind, reminder.object_id, reminder.period, reminder.sent_to) == (
        "evidence_expiry",
        evidence.pk,
        (TODAY + timedelta(days=10)).isoformat(),
        olivia.email,
    )


def test_a_new_validity_date_gives_a_new_reminder(acme, olivia):
    evidence = note(acme, olivia, valid_until=TODAY + timedelta(days=10), owner=olivia)
    assert reminders_send(today=TODAY) == 1
    services.evidence_update(evidence=evidence, acting_user=olivia, valid_until=TODAY + timedelta(days=20))
    assert reminders_send(today=TODAY) == 1
    assert reminders_send(today=TODAY) == 0
    assert len(mail.outbox) == 2
    assert Reminder.objects.filter(object_id=evidence.pk).count() == 2


def test_only_evidence_within_the_window_or_just_expired_is_reminded(acme, olivia, settings):
    settings.REMINDER_DAYS_BEFORE_EXPIRY = 30
    note(acme, olivia, owner=olivia, title="Far away", valid_until=TODAY + timedelta(days=31))
    note(acme, olivia, owner=olivia, title="No expiry", valid_until=None)
    note(acme, olivia, owner=olivia, title="Long expired", valid_until=TODAY - timedelta(days=60))
    note(acme, olivia, owner=olivia, title="Edge of window", valid_until=TODAY + timedelta(days=30))
    note(acme, olivia, owner=olivia, title="Just expired", valid_until=TODAY - timedelta(days=2))
    assert reminders_send(today=TODAY) == 2
    subjects = sorted(message.subject for message in mail.outbox)
    assert "Edge of window" in subjects[0] and "Just expired" in subjects[1] and "has expired" in subjects[1]


def test_the_window_is_configurable(acme, olivia, settings):
    settings.REMINDER_DAYS_BEFORE_EXPIRY = 7
    note(acme, olivia, owner=olivia, valid_until=TODAY + timedelta(days=10))
    assert reminders_send(today=TODAY) == 0
    assert reminders_send(today=TODAY + timedelta(days=3)) == 1


def test_without_an_owner_admins_and_officers_are_told(acme, alice, olivia, bob, victor):
    note(acme, olivia, valid_until=TODAY + timedelta(days=5))
    assert reminders_send(today=TODAY) == 1
    assert recipients() == [sorted([alice.email, olivia.email])]
    assert "has no owner" in mail.outbox[0].body


def test_an_owner_who_left_the_organisation_is_replaced_by_admins_and_officers(acme, alice, olivia):
    dana = MembershipFactory(organization=acme, role=Role.OWNER).user
    note(acme, olivia, valid_until=TODAY + timedelta(days=5), owner=dana)
    dana.memberships.all().delete()
    assert reminders_send(today=TODAY) == 1
    assert recipients() == [sorted([alice.email, olivia.email])]


def test_each_organisation_is_reminded_separately(acme, globex, olivia, charlie):
    note(acme, olivia, owner=olivia, valid_until=TODAY + timedelta(days=5))
    note(globex, charlie, valid_until=TODAY + timedelta(days=5), title="Globex report")
    assert reminders_send(today=TODAY) == 2
    assert sorted(recipients()) == sorted([[olivia.email], [charlie.email]])
    globex_mail = next(m for m in mail.outbox if m.to == [charlie.email])
    assert "Globex report" in globex_mail.subject and "Acme" not in globex_mail.body


def test_soa_rows_past_their_target_date_are_reminded_once(acme, alice, olivia, bob):
    late = soa_row(acme, "A.6.2.4", target_date=TODAY - timedelta(days=3), owner=bob)
    soa_row(acme, "A.6.2.5", target_date=TODAY - timedelta(days=3), status=ImplementationStatus.IMPLEMENTED)
    soa_row(acme, "A.6.2.6", target_date=TODAY - timedelta(days=3), applicable=False)
    soa_row(acme, "A.7.4", target_date=TODAY + timedelta(days=3))
    soa_row(acme, "A.2.2", target_date=None)
    unowned = soa_row(acme, "A.5.2", target_date=TODAY - timedelta(days=1))
    assert reminders_send(today=TODAY) == 2
    assert reminders_send(today=TODAY) == 0
    by_control = {m.subject.split("Control ")[1].split(" ")[0]: sorted(m.to) for m in mail.outbox}
    assert by_control == {"A.6.2.4": [bob.email], "A.5.2": sorted([alice.email, olivia.email])}
    message = next(m for m in mail.outbox if "A.6.2.4" in m.subject)
    assert "3 days ago" in message.body
    assert settings.SITE_URL + reverse("catalogue:requirement", args=["ISO42001", "A.6.2.4"]) in message.body
    assert set(Reminder.objects.values_list("kind", "object_id", "period")) == {
        ("soa_target", late.pk, late.target_date.isoformat()),
        ("soa_target", unowned.pk, unowned.target_date.isoformat()),
    }
    # A new target date that passes in turn is a new period.
    late.target_date = TODAY + timedelta(days=10)
    late.save()
    later = TODAY + timedelta(days=11)
    assert reminders_send(today=later) == 2  # A.6.2.4 again, and A.7.4 whose date has now passed too
    assert Reminder.objects.filter(object_id=late.pk).count() == 2
    assert len(mail.outbox) == 4


def test_a_failed_send_is_retried_on_the_next_run(acme, olivia, monkeypatch):
    note(acme, olivia, owner=olivia, valid_until=TODAY + timedelta(days=5))

    def broken(**kwargs):
        raise ConnectionError("mail server down")

    monkeypatch.setattr(reminders, "send_mail", broken)
    with pytest.raises(ConnectionError):
        reminders_send(today=TODAY)
    assert not Reminder.objects.exists()
    monkeypatch.undo()
    assert reminders_send(today=TODAY) == 1


def test_the_task_sends_what_is_due_and_is_scheduled_daily(acme, olivia):
    from django.utils import timezone

    note(acme, olivia, owner=olivia, valid_until=timezone.localdate() + timedelta(days=5))
    assert send_reminders.delay().get() == 1
    assert send_reminders.delay().get() == 0
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "controls.tasks.send_reminders")
    assert entry["schedule"] == 86400.0

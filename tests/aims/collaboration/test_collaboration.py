"""Collaboration: comments with @mentions, notifications and their e-mails, tasks and the weekly digest.

Acme's alice (admin), olivia (officer), bob (auditor) and victor (viewer) discuss Acme's records;
Globex has its own olivia, who must never hear of Acme.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from aims.collaboration.emails import digests_send
from aims.collaboration.models import Comment, DigestSent, Notification, NotificationPreference, RecordTask
from aims.collaboration.services import comment_post, task_assign
from aims.history import object_history
from aims.roles import Role
from aims.tenancy import Tenant
from aims.work import work_for
from audits.improvement import services as improvement
from tests.aims.factories import MembershipFactory, UserFactory
from tests.audits.factories import AuditFactory, AuditProgrammeFactory, CorrectiveActionFactory, FindingFactory
from tests.controls.factories import ApplicabilityStatementFactory, EvidenceFactory
from tests.risk.factories import ImpactAssessmentFactory, RiskFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def risk(acme, alice):
    return RiskFactory(organization=acme, owner=alice, title="Model drift degrades triage")


@pytest.fixture
def globex_olivia(globex):
    """Another olivia, in the other organisation: the same e-mail name, never told about Acme."""
    return MembershipFactory(organization=globex, role=Role.ADMIN, user=UserFactory(email="olivia@globex.example")).user


def comment_url(record) -> str:
    return reverse("comment_create", args=[record._meta.label_lower, record.pk])


def task_url(record) -> str:
    return reverse("task_create", args=[record._meta.label_lower, record.pk])


def test_a_member_posts_a_comment_kept_in_history(login, risk, alice):
    answer = login(alice).post(comment_url(risk), {"comment-body": "Drift checks are monthly now."})

    comment = Comment.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == f"{reverse('risk:detail', args=[risk.pk])}#comment-{comment.pk}"
    assert (comment.record, comment.author, comment.body) == (risk, alice, "Drift checks are monthly now.")
    entries = object_history(comment)
    assert [(e.action, e.who) for e in entries] == [("created", alice)]

    page = login(alice).get(reverse("risk:detail", args=[risk.pk])).content.decode()
    assert "Drift checks are monthly now." in page
    assert f'id="comment-{comment.pk}"' in page


def test_a_mention_tells_the_member_and_nobody_in_another_organisation(
    login, risk, alice, olivia, globex_olivia, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = login(alice).post(
            comment_url(risk), {"comment-body": "@olivia please re-rate this; @nobody and @olivia@globex.example too."}
        )
    assert answer.status_code == 302

    notification = Notification.objects.get()
    assert notification.recipient == olivia
    assert notification.kind == Notification.Kind.MENTION
    assert notification.url.startswith(reverse("risk:detail", args=[risk.pk]))
    assert not Notification.objects.filter(recipient=globex_olivia).exists()
    comment = Comment.objects.get()
    assert list(comment.mentions.all()) == [olivia]

    # The e-mail went to Acme's olivia only, after the commit, through the outbox.
    assert [m.to for m in mail.outbox] == [["olivia@acme.example"]]
    assert "mentioned you" in mail.outbox[0].subject
    assert "please re-rate this" in mail.outbox[0].body
    Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())

    # The known mention is marked on the page; the unknown and other-organisation names stay plain text.
    page = login(olivia).get(reverse("risk:detail", args=[risk.pk])).content.decode()
    assert '<strong class="mention" title="olivia@acme.example">@olivia</strong>' in page
    assert "@nobody" in page and 'title="olivia@globex.example"' not in page


def test_mention_emails_follow_the_members_choice(login, risk, alice, olivia, django_capture_on_commit_callbacks):
    login(olivia).post(reverse("notification_preferences"), {"preferences-weekly_digest": "on"})
    assert NotificationPreference.objects.get(user=olivia).email_notifications is False

    with django_capture_on_commit_callbacks(execute=True):
        login(alice).post(comment_url(risk), {"comment-body": "@olivia FYI"})
    assert Notification.objects.filter(recipient=olivia).count() == 1  # still told in the portal
    assert mail.outbox == []


def test_a_viewer_reads_the_discussion_but_may_not_post(login, risk, alice, victor):
    comment_post(record=risk, body="Visible to every member", acting_user=alice)
    client = login(victor)

    page = client.get(reverse("risk:detail", args=[risk.pk])).content.decode()
    assert "Visible to every member" in page
    assert comment_url(risk) not in page  # no form to post with

    assert client.post(comment_url(risk), {"comment-body": "Let me in"}).status_code == 403
    assert client.post(task_url(risk), {"task-title": "x", "task-assignee": victor.pk}).status_code == 403
    assert Comment.objects.count() == 1 and RecordTask.objects.count() == 0


def test_an_auditor_may_post(login, risk, bob):
    assert login(bob).post(comment_url(risk), {"comment-body": "Sampled for the audit."}).status_code == 302
    assert Comment.objects.get().author == bob


def test_another_organisations_record_is_not_found(login, risk, alice, charlie, globex):
    client = login(charlie)
    assert client.post(comment_url(risk), {"comment-body": "Hello"}).status_code == 404
    assert client.post(task_url(risk), {"task-title": "x", "task-assignee": charlie.pk}).status_code == 404
    task = task_assign(record=risk, title="Re-rate", assignee=alice, due_date=None, acting_user=alice)
    comment = comment_post(record=risk, body="Ours", acting_user=alice)
    assert client.post(reverse("task_done", args=[task.pk])).status_code == 404
    assert client.post(reverse("comment_remove", args=[comment.pk])).status_code == 404
    assert Comment.objects.count() == 1 and not RecordTask.objects.get().done
    # A kind of record that cannot be discussed is not found either.
    assert client.post(reverse("comment_create", args=["aims.membership", 1]), {"comment-body": "x"}).status_code == 404


def test_an_empty_comment_is_refused_with_a_clear_error(login, risk, alice):
    answer = login(alice).post(comment_url(risk), {"comment-body": "   "})
    assert answer.status_code == 400
    assert "Write something before posting." in answer.content.decode()
    assert Comment.objects.count() == 0


def test_the_author_removes_a_comment_and_history_keeps_it(login, risk, alice, olivia):
    comment = comment_post(record=risk, body="Wrong thread", acting_user=alice)
    assert login(olivia).post(reverse("comment_remove", args=[comment.pk])).status_code == 403
    assert login(alice).post(reverse("comment_remove", args=[comment.pk])).status_code == 302
    comment.refresh_from_db()
    assert comment.removed
    assert [e.action for e in object_history(comment)] == ["changed", "created"]
    assert "Wrong thread" not in login(alice).get(reverse("risk:detail", args=[risk.pk])).content.decode()


def finding_of(acme, officer):
    """A finding of a started audit of Acme, recorded by its lead auditor."""
    auditor = MembershipFactory(organization=acme, role=Role.AUDITOR).user
    programme = AuditProgrammeFactory(organization=acme, acting_user=officer)
    audit = AuditFactory(programme=programme, acting_user=officer, lead_auditor=auditor)
    improvement.audit_start(audit=audit, acting_user=officer)
    audit.refresh_from_db()
    return FindingFactory(audit=audit, acting_user=auditor)


@pytest.mark.parametrize(
    "make",
    [
        lambda acme, user: ImpactAssessmentFactory(system__organization=acme, author=user),
        lambda acme, user: finding_of(acme, user),
        lambda acme, user: CorrectiveActionFactory(acting_user=user, owner=user, finding=finding_of(acme, user)),
        lambda acme, user: ApplicabilityStatementFactory(organization=acme),
        lambda acme, user: EvidenceFactory(organization=acme),
    ],
    ids=["impact assessment", "finding", "corrective action", "SoA row", "evidence"],
)
def test_every_discussable_record_shows_its_thread(make, login, acme, alice):
    record = make(acme, alice)
    client = login(alice)
    answer = client.post(comment_url(record), {"comment-body": "Looked at this today."})
    assert answer.status_code == 302
    page = client.get(answer["Location"]).content.decode()
    assert "Looked at this today." in page and 'id="discussion"' in page


# --- Tasks --------------------------------------------------------------------------------------


def test_a_task_notifies_its_assignee_and_waits_in_my_work(
    login, risk, alice, olivia, django_capture_on_commit_callbacks
):
    due = timezone.localdate() + timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        answer = login(alice).post(
            task_url(risk), {"task-title": "Re-rate after retraining", "task-assignee": olivia.pk, "task-due_date": due}
        )
    assert answer.status_code == 302
    task = RecordTask.objects.get()
    assert (task.assignee, task.created_by, task.due_date, task.done) == (olivia, alice, due, False)

    notification = Notification.objects.get()
    assert (notification.recipient, notification.kind, notification.task) == (olivia, Notification.Kind.TASK, task)
    assert [m.to for m in mail.outbox] == [["olivia@acme.example"]]
    assert "Re-rate after retraining" in mail.outbox[0].subject

    items = work_for(Tenant(organization=risk.organization, role=Role.OFFICER, user=olivia))
    mine = [item for item in items if item.kind == "Task"]
    assert [(i.title, i.due, i.url) for i in mine] == [
        ("Re-rate after retraining", due, f"{reverse('risk:detail', args=[risk.pk])}#discussion")
    ]
    assert login(olivia).get(reverse("my_work")).content.decode().count("Re-rate after retraining") == 1


def test_a_task_is_closed_by_its_assignee_or_an_officer_only(login, risk, acme, alice, olivia, bob):
    task = task_assign(record=risk, title="Check the data", assignee=bob, due_date=None, acting_user=alice)
    owner = MembershipFactory(organization=acme, role=Role.OWNER).user
    assert login(owner).post(reverse("task_done", args=[task.pk])).status_code == 403
    assert login(bob).post(reverse("task_done", args=[task.pk])).status_code == 302
    task.refresh_from_db()
    assert task.done and task.done_at is not None
    assert work_for(Tenant(organization=acme, role=Role.AUDITOR, user=bob)) == []

    assert login(olivia).post(reverse("task_done", args=[task.pk]), {"done": "0"}).status_code == 302
    task.refresh_from_db()
    assert not task.done
    assert [e.who for e in object_history(task)][:2] == [olivia, bob]


def test_a_task_is_given_only_to_a_member(login, risk, alice, charlie):
    answer = login(alice).post(task_url(risk), {"task-title": "Outside help", "task-assignee": charlie.pk})
    assert answer.status_code == 400
    assert RecordTask.objects.count() == 0 and Notification.objects.count() == 0


# --- The notifications page ---------------------------------------------------------------------


def test_notifications_are_listed_marked_read_and_counted(login, risk, alice, olivia, charlie, client):
    for n in range(3):
        comment_post(record=risk, body=f"@olivia note {n}", acting_user=alice)
    first = Notification.objects.order_by("pk").first()
    client = login(olivia)

    page = client.get(reverse("notifications"))
    assert page.status_code == 200
    assert page.context["unread"] == 3 and page.context["unread_notifications"] == 3
    assert len(page.context["notifications"]) == 3

    opened = client.post(reverse("notification_read", args=[first.pk]), {"open": "1"})
    assert opened["Location"] == first.url
    first.refresh_from_db()
    assert first.read_at is not None
    client.post(reverse("notifications_read_all"))
    assert not Notification.objects.filter(read_at__isnull=True).exists()

    # Someone else's notification does not exist for them, whatever their organisation.
    assert login(alice).post(reverse("notification_read", args=[first.pk])).status_code == 404
    assert login(charlie).post(reverse("notification_read", args=[first.pk])).status_code == 404


def test_the_header_asks_for_the_unread_count_after_the_page(login, risk, alice, olivia, charlie):
    for n in range(2):
        comment_post(record=risk, body=f"@olivia note {n}", acting_user=alice)
    client = login(olivia)
    assert reverse("notification_count") in client.get(reverse("dashboard")).content.decode()
    assert 'aria-label="2 unread">2<' in client.get(reverse("notification_count")).content.decode()
    assert "none unread" in login(charlie).get(reverse("notification_count")).content.decode()


def test_the_notifications_page_is_paginated(login, risk, alice, olivia):
    for n in range(30):
        comment_post(record=risk, body=f"@olivia note {n}", acting_user=alice)
    client = login(olivia)
    assert len(client.get(reverse("notifications")).context["notifications"]) == 25
    assert len(client.get(reverse("notifications") + "?page=2").context["notifications"]) == 5


# --- Weekly digest ------------------------------------------------------------------------------


def test_the_digest_goes_once_per_week_and_not_to_those_who_opted_out(risk, acme, alice, olivia, bob, victor):
    comment_post(record=risk, body="@olivia @bob @victor please read", acting_user=alice)
    NotificationPreference.objects.create(organization=acme, user=bob, weekly_digest=False)
    monday = date(2026, 11, 30)

    assert digests_send(monday) == 2  # olivia and victor; bob opted out; alice has nothing waiting
    assert sorted(m.to[0] for m in mail.outbox) == ["olivia@acme.example", "victor@acme.example"]
    olivias = next(m for m in mail.outbox if m.to == ["olivia@acme.example"])
    assert "1 unread notification" in olivias.body and "please read" not in olivias.subject

    # Again that week (a retried or daily run): nothing more; the next week, again.
    assert digests_send(monday + timedelta(days=3)) == 0
    assert len(mail.outbox) == 2
    assert digests_send(monday + timedelta(days=7)) == 2
    assert DigestSent.objects.filter(user=olivia).count() == 2
    assert not DigestSent.objects.filter(user=bob).exists()


def test_the_digest_counts_my_work(risk, acme, alice, olivia):
    task_assign(record=risk, title="Re-rate", assignee=alice, due_date=None, acting_user=olivia)
    Notification.objects.all().delete()

    assert digests_send(date(2026, 12, 7)) == 1
    assert mail.outbox[0].to == ["alice@acme.example"]
    assert "in My work" in mail.outbox[0].body and "No unread notifications." in mail.outbox[0].body


def test_a_notification_is_e_mailed_once_however_often_its_task_arrives(risk, alice, olivia):
    from aims.collaboration.tasks import send_notification_email

    comment_post(record=risk, body="@olivia once", acting_user=alice)  # no commit here: nothing sent yet
    notification = Notification.objects.get()
    assert send_notification_email(notification.pk) is True
    assert send_notification_email(notification.pk) is False
    assert len(mail.outbox) == 1


def test_the_digest_runs_from_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["weekly-digests"]
    assert entry["task"] == "aims.collaboration.tasks.send_weekly_digests"


def test_a_deleted_record_takes_its_discussion_tasks_and_notices_with_it(risk, alice, bob, olivia, acme):
    from risk import services as risk_services

    comment_post(record=risk, body="@olivia have a look", acting_user=alice)
    task = task_assign(record=risk, title="Check the data", assignee=bob, due_date=None, acting_user=alice)
    assert Notification.objects.count() == 2
    risk_services.risk_delete(risk=risk, acting_user=alice)
    assert not Comment.objects.exists() and not RecordTask.objects.exists()
    assert not Notification.objects.exists()
    member = bob.memberships.get(organization=acme)
    assert not work_for(Tenant(organization=acme, role=member.role, user=bob, membership=member))
    # The deletions are in the records' history, as every deletion is.
    assert RecordTask.history.filter(id=task.pk, history_type="-").exists()

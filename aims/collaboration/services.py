"""Writes of collaboration: comments, tasks, notifications and the members' e-mail choices.

A notification's e-mail goes through the outbox, written in the transaction that raises the
notification: a broker that is down delays the e-mail, never loses it or fails the comment.
A notification's text is stored as it is raised, written in its recipient's language
(:func:`aims.i18n.recipient_language`), not in that of the member who caused it.
"""

from __future__ import annotations

from datetime import date

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from aims.collaboration.models import Comment, Notification, NotificationPreference, RecordTask
from aims.collaboration.selectors import mentioned_members, record_label, record_url, unread_notifications
from aims.i18n import recipient_language
from aims.models import Organization, User
from aims.outbox.services import outbox_enqueue
from aims.records import ensure_member, record_save
from aims.roles import Capability
from aims.tenancy import Tenant

NOTIFICATION_EMAIL_TASK = "aims.collaboration.tasks.send_notification_email"


def _organization_id(record: Model) -> int:
    return record.organization_id  # type: ignore[attr-defined]


def _organization(record: Model) -> Organization:
    return record.organization  # type: ignore[attr-defined]


@transaction.atomic
def notification_raise(
    *,
    recipient: User,
    organization_id: int,
    kind: str,
    text: str,
    url: str,
    actor: User | None,
    comment: Comment | None = None,
    task: RecordTask | None = None,
) -> Notification:
    """Tell ``recipient``: an inbox row now, an e-mail once the transaction commits (if they want it)."""
    notification = Notification.objects.create(
        organization_id=organization_id,
        recipient=recipient,
        actor=actor,
        kind=kind,
        text=text[:300],
        url=url[:500],
        comment=comment,
        task=task,
    )
    outbox_enqueue(task=NOTIFICATION_EMAIL_TASK, args=[notification.pk])
    return notification


@transaction.atomic
def comment_post(*, record: Model, body: str, acting_user: User) -> Comment:
    """Add a comment to ``record`` and tell each member of its organisation it mentions (not its author).

    Names that are nobody in the organisation stay plain text and tell no one.
    """
    organization_id = _organization_id(record)
    comment = Comment(
        organization_id=organization_id,
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        author=acting_user,
        body=body.strip(),
    )
    record_save(comment, acting_user=acting_user)
    mentioned = [user for user in mentioned_members(organization_id, comment.body) if user.pk != acting_user.pk]
    if mentioned:
        comment.mentions.set(mentioned)
    url = f"{record_url(record)}#comment-{comment.pk}"
    for user in mentioned:
        with recipient_language(user, _organization(record)):
            text = gettext("%(actor)s mentioned you on %(record)s") % {
                "actor": acting_user.display_name,
                "record": record_label(record),
            }
        notification_raise(
            recipient=user,
            organization_id=organization_id,
            kind=Notification.Kind.MENTION,
            text=text,
            url=url,
            actor=acting_user,
            comment=comment,
        )
    return comment


@transaction.atomic
def comment_remove(*, comment: Comment, acting_user: User) -> Comment:
    """Remove a comment from its thread; only its author may. The row and its history stay."""
    if comment.author_id != acting_user.pk:
        raise PermissionDenied(gettext("Only its author may remove a comment."))
    if comment.removed_at is None:
        comment.removed_at = timezone.now()
        record_save(comment, acting_user=acting_user)
    return comment


@transaction.atomic
def task_assign(*, record: Model, title: str, assignee: User, due_date: date | None, acting_user: User) -> RecordTask:
    """Give a member of the record's organisation a task about ``record``, and tell them."""
    organization_id = _organization_id(record)
    ensure_member(organization_id, assignee, field="assignee")
    task = RecordTask(
        organization_id=organization_id,
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        title=title.strip(),
        assignee=assignee,
        due_date=due_date,
        created_by=acting_user,
    )
    record_save(task, acting_user=acting_user)
    if assignee.pk != acting_user.pk:
        with recipient_language(assignee, _organization(record)):
            facts = {"actor": acting_user.display_name, "record": record_label(record), "title": task.title}
            if due_date:
                facts["due"] = date_format(due_date, "d M Y")
                text = gettext("%(actor)s gave you a task on %(record)s: %(title)s (due %(due)s)") % facts
            else:
                text = gettext("%(actor)s gave you a task on %(record)s: %(title)s") % facts
        notification_raise(
            recipient=assignee,
            organization_id=organization_id,
            kind=Notification.Kind.TASK,
            text=text,
            url=f"{record_url(record)}#task-{task.pk}",
            actor=acting_user,
            task=task,
        )
    return task


def task_can_complete(tenant: Tenant, task: RecordTask) -> bool:
    """Its assignee, or a role that manages the organisation's tasks, may close a task."""
    return (tenant.user is not None and task.assignee_id == tenant.user.pk) or tenant.can(Capability.MANAGE_TASKS)


@transaction.atomic
def task_complete(*, tenant: Tenant, task: RecordTask, done: bool = True) -> RecordTask:
    """Mark a task done (or open again); refused (PermissionDenied) to anyone but its assignee or a manager."""
    if not task_can_complete(tenant, task):
        raise PermissionDenied(gettext("Only the person given this task, an officer or an administrator may close it."))
    if task.done != done:
        task.done, task.done_at = done, timezone.now() if done else None
        record_save(task, acting_user=tenant.user)
    return task


def notifications_mark_read(*, tenant: Tenant, notification_ids: list[int] | None = None) -> int:
    """Mark the member's unread notifications read (all, or those of ``notification_ids``); returns how many."""
    unread = unread_notifications(tenant)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now())


@transaction.atomic
def preference_set(
    *, organization_id: int, user: User, email_notifications: bool, weekly_digest: bool
) -> NotificationPreference:
    preference, _ = NotificationPreference.objects.update_or_create(
        organization_id=organization_id,
        user=user,
        defaults={"email_notifications": email_notifications, "weekly_digest": weekly_digest},
    )
    return preference

"""Reads for collaboration: a record's thread, who a comment mentions, a member's notifications."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.contenttypes.prefetch import GenericPrefetch
from django.db.models import Model, Prefetch, Q, QuerySet
from django.utils.translation import gettext

from aims.collaboration.models import Comment, Notification, NotificationPreference, RecordTask
from aims.collaboration.registry import discussable_for, discussable_for_key, discussables
from aims.models import Organization, User
from aims.tenancy import Tenant
from aims.work import WORK_LIMIT, WorkItem

# "@olivia" (the e-mail address's local part) or "@olivia@acme.example" (the whole address). A
# mention starts a word: "ops@olivia" in an address is not one.
MENTION = re.compile(r"(?<![\w.@])@([a-z0-9](?:[a-z0-9._%+-]*[a-z0-9_%+-])?(?:@[a-z0-9-]+(?:\.[a-z0-9-]+)+)?)", re.I)
# A comment naming more people than this is a list, not a conversation: only the first are told.
MAX_MENTIONS = 20


def mention_handles(body: str) -> list[str]:
    """The distinct names ``body`` mentions, lower-cased, in order."""
    seen: dict[str, None] = {}
    for match in MENTION.finditer(body):
        seen.setdefault(match.group(1).lower(), None)
    return list(seen)[:MAX_MENTIONS]


def mentioned_members(organization: Organization | int, body: str) -> list[User]:
    """The members of ``organization`` that ``body`` mentions; names of nobody there are ignored."""
    handles = mention_handles(body)
    if not handles:
        return []
    wanted = Q()
    for handle in handles:
        wanted |= Q(email__iexact=handle) if "@" in handle else Q(email__istartswith=f"{handle}@")
    return list(User.objects.filter(wanted, memberships__organization=organization, is_active=True).order_by("email"))


def handles_of(user: User) -> set[str]:
    """The names by which a comment may mention ``user``."""
    email = user.email.lower()
    return {email, email.split("@", 1)[0]}


@dataclass(frozen=True)
class Thread:
    key: str
    comments: list[Comment]
    tasks: list[RecordTask]


def thread_get(record: Model) -> Thread | None:
    """The comments and tasks of ``record``, oldest comment first; None when it cannot be discussed."""
    entry = discussable_for(record)
    if entry is None:
        return None
    # Joined rather than looked up: a page costs the same queries whether or not this process
    # has read the content type yet.
    of_record = {
        "content_type__app_label": record._meta.app_label,
        "content_type__model": record._meta.model_name,
        "object_id": record.pk,
        "organization_id": record.organization_id,  # type: ignore[attr-defined]
    }
    comments = (
        Comment.objects.filter(**of_record)
        .select_related("author")
        .prefetch_related(Prefetch("mentions", queryset=User.objects.only("id", "email")))
    )
    tasks = RecordTask.objects.filter(**of_record).select_related("assignee")
    return Thread(entry.key, list(comments), list(tasks))


def record_get(tenant: Tenant, key: str, pk: Any) -> tuple[Any, Model] | None:
    """The registration named ``key`` and the organisation's record ``pk`` of it; None when either is unknown."""
    entry = discussable_for_key(key)
    if entry is None:
        return None
    record = entry.model.objects.for_org(tenant.organization).filter(pk=pk).first()  # type: ignore[attr-defined]
    return (entry, record) if record is not None else None


def record_url(record: Model) -> str:
    entry = discussable_for(record)
    return entry.url(record) if entry is not None else "/"


def record_label(record: Model) -> str:
    entry = discussable_for(record)
    return entry.label(record) if entry is not None else str(record)


# --- Notifications ------------------------------------------------------------------------------


def notification_list(tenant: Tenant) -> QuerySet[Notification]:
    """The member's notifications in the tenant's organisation, newest first."""
    return Notification.objects.filter(recipient=tenant.user, organization=tenant.organization).select_related("actor")


def unread_notifications(tenant: Tenant) -> QuerySet[Notification]:
    return notification_list(tenant).filter(read_at__isnull=True)


def unread_count(tenant: Tenant) -> int:
    return unread_notifications(tenant).count()


def preference_get(organization_id: int, user_id: int) -> NotificationPreference:
    """The member's e-mail choices (the defaults, unsaved, when they made none)."""
    found = NotificationPreference.objects.filter(organization_id=organization_id, user_id=user_id).first()
    return found or NotificationPreference(organization_id=organization_id, user_id=user_id)


# --- My work ------------------------------------------------------------------------------------


def open_tasks(tenant: Tenant) -> list[RecordTask]:
    """The member's open tasks (the first :data:`~aims.work.WORK_LIMIT`), each with its record (one query per
    kind of record, whatever their number)."""
    if tenant.user is None:
        return []
    records = [
        entry.model.objects.select_related(*entry.select_related)  # type: ignore[attr-defined]
        for entry in discussables()
    ]
    tasks = RecordTask.objects.filter(organization=tenant.organization, assignee=tenant.user, done=False)
    if records:
        tasks = tasks.prefetch_related(GenericPrefetch("record", records))
    return list(tasks.order_by("due_date", "pk")[:WORK_LIMIT])


def tasks_work(tenant: Tenant, today: date) -> list[WorkItem]:
    """My work: every open task given to the member, whatever its due date (a task is an explicit ask)."""
    items = []
    for task in open_tasks(tenant):
        record = task.record
        if record is None:  # the record was deleted: the task went with it, as far as work goes
            continue
        items.append(
            WorkItem(
                module=gettext("Tasks"),
                kind=gettext("Task"),
                title=task.title,
                url=f"{record_url(record)}#discussion",
                reference=record_label(record),
                due=task.due_date,
            )
        )
    return items

"""Demo discussion: a comment mentioning a colleague and a task, on the first record that can be discussed."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from aims.collaboration.models import Comment
from aims.collaboration.registry import discussables
from aims.collaboration.services import comment_post, task_assign
from aims.models import Organization, User


def discussion_demo_seed(organization: Organization, users: dict[str, User]) -> None:
    """Safe to run again: a record that has a discussion already is left as it is."""
    officer, owner = users.get("officer"), users.get("owner")
    if officer is None or owner is None:
        return
    for entry in discussables():
        record = entry.model.objects.for_org(organization).order_by("pk").first()  # type: ignore[attr-defined]
        if record is None:
            continue
        content_type = ContentType.objects.get_for_model(record)
        if Comment.objects.filter(content_type=content_type, object_id=record.pk).exists():
            return
        handle = owner.email.split("@", 1)[0]
        comment_post(
            record=record,
            body=f"@{handle} could you check this before the management review?",
            acting_user=officer,
        )
        task_assign(
            record=record,
            title="Check before the management review",
            assignee=owner,
            due_date=timezone.localdate() + timedelta(days=14),
            acting_user=officer,
        )
        return

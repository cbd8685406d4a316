"""``{% record_discussion record %}``: a record's comments and tasks, with the forms to add to them;
``{{ comment|comment_body }}``: a comment's text with the members it mentions marked.

A record page includes the discussion with one tag; which records can be discussed is
registered by their apps (:mod:`aims.collaboration.registry`), so the tag renders nothing for
any other record.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import escape, format_html, linebreaks
from django.utils.safestring import SafeString, mark_safe

from aims.collaboration.forms import CommentForm, TaskForm
from aims.collaboration.models import Comment
from aims.collaboration.selectors import MENTION, handles_of, thread_get
from aims.collaboration.services import task_can_complete
from aims.roles import Capability
from aims.tenancy import Tenant

register = template.Library()


@register.inclusion_tag("aims/collaboration/_discussion.html", takes_context=True)
def record_discussion(context: template.Context, record: Any) -> dict[str, Any]:
    tenant: Tenant | None = context.get("tenant")
    thread = thread_get(record) if tenant is not None and record is not None else None
    if tenant is None or thread is None:
        return {"thread": None}
    can_discuss = tenant.can(Capability.DISCUSS)
    return {
        "thread": thread,
        "record": record,
        "user": context.get("user"),
        "csrf_token": context.get("csrf_token"),
        "can_discuss": can_discuss,
        "comment_form": CommentForm() if can_discuss else None,
        "task_form": TaskForm(tenant=tenant) if can_discuss else None,
        "closable": {task.pk for task in thread.tasks if task_can_complete(tenant, task)},
    }


@register.filter
def comment_body(comment: Comment) -> SafeString:
    """The text, escaped, in paragraphs, with each mention of a member the comment notified marked.

    Names that matched nobody in the organisation when it was posted stay plain text.
    """
    known = {handle: user for user in comment.mentions.all() for handle in handles_of(user)}

    def mark(match: Any) -> str:
        user = known.get(match.group(1).lower())
        if user is None:
            return str(match.group(0))
        return str(format_html('<strong class="mention" title="{}">{}</strong>', user.email, match.group(0)))

    # The pattern's characters are never changed by escaping, so mentions are found in the escaped text.
    return mark_safe(linebreaks(MENTION.sub(mark, str(escape(comment.body)))))  # noqa: S308

"""Comments, ad-hoc tasks and the notifications they raise.

Comments and tasks are AIMS records: their history (who wrote, assigned, closed or removed
them, and when) is kept like any other's. A notification is one member's own inbox row: it has
no history, as reading it changes nothing of the management system.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aims.tenancy import TenantModel

COMMENT_MAX_LENGTH = 5000


class Comment(TenantModel):
    """A member's comment on one record; ``mentions`` are the members of the organisation it names."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=COMMENT_MAX_LENGTH)
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Removal by its author keeps the row (and its history): the thread shows that a comment was removed.
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["content_type", "object_id", "created_at"], name="comment_thread_idx")]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def removed(self) -> bool:
        return self.removed_at is not None


class RecordTask(TenantModel):
    """An ad-hoc task about one record, given to a member of the organisation."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    title = models.CharField(max_length=200)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField(_("due date"), null=True, blank=True)
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("task")
        ordering = ["done", "due_date", "pk"]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="recordtask_record_idx"),
            # My work reads a member's open tasks.
            models.Index(
                fields=["organization", "assignee", "due_date"], condition=Q(done=False), name="recordtask_open_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Notification(models.Model):
    """Something one member was told: a mention or a task given to them."""

    class Kind(models.TextChoices):
        MENTION = "mention", _("Mention")
        TASK = "task", _("Task")
        # An organisation-wide notice to its administrators, e.g. a webhook endpoint turned off.
        NOTICE = "webhook", _("Webhook notice")

    organization = models.ForeignKey("aims.Organization", on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # What the notice says and where it leads, fixed when it is raised: the list costs no lookup per row.
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=500)
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    task = models.ForeignKey(RecordTask, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "organization", "-created_at"], name="notification_inbox_idx"),
            models.Index(
                fields=["recipient", "organization"], condition=Q(read_at__isnull=True), name="notification_unread_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def unread(self) -> bool:
        return self.read_at is None


class NotificationPreference(models.Model):
    """A member's choices about e-mail; a member without a row gets both e-mails."""

    organization = models.ForeignKey("aims.Organization", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    email_notifications = models.BooleanField(_("e-mail me when I am mentioned or given a task"), default=True)
    weekly_digest = models.BooleanField(_("send me a weekly digest"), default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="notificationpreference_once_per_member")
        ]

    def __str__(self) -> str:
        return f"E-mail choices of {self.user} in {self.organization}"


class DigestSent(models.Model):
    """A weekly digest already sent: each member gets one per ISO week however often the task runs."""

    organization = models.ForeignKey("aims.Organization", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    week = models.CharField(max_length=8)  # ISO year and week, "2026-W49"
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user", "week"], name="digestsent_once_per_week")
        ]

    def __str__(self) -> str:
        return f"Digest of {self.week} for {self.user}"

"""Forms of collaboration: a comment, a task and a member's e-mail choices."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from aims.collaboration.models import COMMENT_MAX_LENGTH, NotificationPreference, RecordTask
from aims.forms import DATE, TenantForm


class CommentForm(forms.Form):
    prefix = "comment"

    body = forms.CharField(
        label=_("Comment"),
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Mention a colleague with @ and their e-mail name, e.g. @olivia: they are told."),
        error_messages={"required": _("Write something before posting.")},
    )


class TaskForm(TenantForm):
    """A task about a record; only members of the organisation may be given one."""

    prefix = "task"
    member_fields = ("assignee",)

    class Meta:
        model = RecordTask
        fields = ["title", "assignee", "due_date"]
        widgets = {"due_date": DATE}
        labels = {"title": _("Task"), "assignee": _("Given to")}


class PreferenceForm(forms.ModelForm):
    prefix = "preferences"

    class Meta:
        model = NotificationPreference
        fields = ["email_notifications", "weekly_digest"]

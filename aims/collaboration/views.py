"""Pages of collaboration: posting to a record's discussion, tasks, and the member's notifications.

A record is always loaded through the organisation of the request (another organisation's is
404); which roles may post is :data:`aims.roles.Capability.DISCUSS`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, ngettext
from django.views import View
from django.views.generic import ListView

from aims.access import TenantViewMixin, get_for_tenant_or_404
from aims.collaboration import selectors, services
from aims.collaboration.forms import CommentForm, PreferenceForm, TaskForm
from aims.collaboration.models import Comment, RecordTask
from aims.collaboration.registry import Discussable
from aims.forms import apply_service_errors
from aims.roles import Capability


class _RecordWriteView(TenantViewMixin, View):
    """A POST about one record of the organisation, named by its kind (``risk.risk``) and id."""

    http_method_names = ["post"]
    write_capability = Capability.DISCUSS

    def load(self, record: str, pk: int) -> tuple[Discussable, Model]:
        found = selectors.record_get(self.tenant, record, pk)
        if found is None:
            raise Http404("No such record.")
        return found

    def refused(self, form: Any, entry: Discussable, obj: Model, title: str) -> HttpResponse:
        """The form again with what was typed, its errors, and the way back to the record."""
        context = {"form": form, "title": title, "record": obj, "record_url": entry.url(obj) + "#discussion"}
        return render(self.request, "aims/collaboration/form.html", context, status=400)


class CommentCreateView(_RecordWriteView):
    def post(self, request: HttpRequest, record: str, pk: int) -> HttpResponse:
        entry, obj = self.load(record, pk)
        form = CommentForm(request.POST)
        if not form.is_valid():
            return self.refused(form, entry, obj, gettext("Post a comment"))
        comment = services.comment_post(record=obj, body=form.cleaned_data["body"], acting_user=request.user)  # type: ignore[arg-type]
        messages.success(request, gettext("Comment posted."))
        return redirect(f"{entry.url(obj)}#comment-{comment.pk}")


class TaskCreateView(_RecordWriteView):
    def post(self, request: HttpRequest, record: str, pk: int) -> HttpResponse:
        entry, obj = self.load(record, pk)
        form = TaskForm(request.POST, tenant=self.tenant)
        if form.is_valid():
            data = form.cleaned_data
            try:
                task = services.task_assign(
                    record=obj,
                    title=data["title"],
                    assignee=data["assignee"],
                    due_date=data["due_date"],
                    acting_user=request.user,  # type: ignore[arg-type]
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)  # type: ignore[arg-type]  # a ModelForm is a BaseForm
            else:
                messages.success(request, gettext("Task given to %(name)s.") % {"name": task.assignee.display_name})
                return redirect(f"{entry.url(obj)}#task-{task.pk}")
        return self.refused(form, entry, obj, gettext("Assign a task"))


class CommentRemoveView(TenantViewMixin, View):
    http_method_names = ["post"]
    write_capability = Capability.DISCUSS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        comment = get_for_tenant_or_404(self.tenant, Comment, pk=pk)
        services.comment_remove(comment=comment, acting_user=request.user)  # type: ignore[arg-type]
        messages.success(request, gettext("Comment removed; its history is kept."))
        return redirect(f"{selectors.record_url(comment.record)}#discussion" if comment.record else "notifications")


class TaskDoneView(TenantViewMixin, View):
    """Close (or reopen) a task; who may is decided by :func:`services.task_can_complete`."""

    http_method_names = ["post"]
    write_capability = Capability.VIEW  # a viewer given a task may close it; anyone else is refused below

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        task = get_for_tenant_or_404(self.tenant, RecordTask, pk=pk)
        done = request.POST.get("done", "1") != "0"
        services.task_complete(tenant=self.tenant, task=task, done=done)
        message = gettext("Task “%(title)s” done.") if done else gettext("Task “%(title)s” open again.")
        messages.success(request, message % {"title": task.title})
        return redirect(f"{selectors.record_url(task.record)}#task-{task.pk}" if task.record else "my_work")


# --- Notifications ------------------------------------------------------------------------------


class NotificationCountView(TenantViewMixin, View):
    """The header's unread count, asked for by the page once it is shown (htmx): no page waits for it."""

    http_method_names = ["get"]

    def get(self, request):
        return render(request, "aims/collaboration/_unread_count.html", {"unread": selectors.unread_count(self.tenant)})


class NotificationListView(TenantViewMixin, ListView):
    """The member's notifications, newest first, with their e-mail choices. Never cached: reading
    one changes the page without a recorded change of the organisation."""

    template_name = "aims/collaboration/notifications.html"
    context_object_name = "notifications"
    paginate_by = 25
    write_capability = None

    def get_queryset(self):
        return selectors.notification_list(self.tenant)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        preference = selectors.preference_get(self.tenant.organization.pk, self.tenant.user.pk)
        return super().get_context_data(
            unread=selectors.unread_count(self.tenant), preference_form=PreferenceForm(instance=preference), **kwargs
        )


class NotificationReadView(TenantViewMixin, View):
    """Mark one of the member's notifications read; ``open`` goes on to what it is about."""

    http_method_names = ["post"]
    write_capability = Capability.VIEW  # one's own inbox: every role reads its notifications

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        notification = selectors.notification_list(self.tenant).filter(pk=pk).first()
        if notification is None:
            raise Http404("No such notification.")
        services.notifications_mark_read(tenant=self.tenant, notification_ids=[notification.pk])
        return redirect(notification.url if "open" in request.POST else "notifications")


class NotificationReadAllView(TenantViewMixin, View):
    http_method_names = ["post"]
    write_capability = Capability.VIEW

    def post(self, request: HttpRequest) -> HttpResponse:
        count = services.notifications_mark_read(tenant=self.tenant)
        messages.success(
            request,
            ngettext("%(count)s notification marked read.", "%(count)s notifications marked read.", count)
            % {"count": count},
        )
        return redirect("notifications")


class PreferenceView(TenantViewMixin, View):
    """The member's e-mail choices in this organisation."""

    http_method_names = ["post"]
    write_capability = Capability.VIEW

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PreferenceForm(request.POST)
        form.is_valid()  # two check boxes: unticked is a valid answer
        services.preference_set(
            organization_id=self.tenant.organization.pk,
            user=request.user,  # type: ignore[arg-type]
            email_notifications=bool(form.cleaned_data.get("email_notifications")),
            weekly_digest=bool(form.cleaned_data.get("weekly_digest")),
        )
        messages.success(request, gettext("Your e-mail choices are saved."))
        return redirect("notifications")

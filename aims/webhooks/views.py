"""Pages of webhooks, under Organisation settings; administrators only (another organisation's
endpoint or delivery is 404, any other role gets 403)."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from aims.access import TenantViewMixin, get_for_tenant_or_404, get_or_404
from aims.forms import apply_service_errors
from aims.history import object_history
from aims.models import User
from aims.roles import Capability
from aims.webhooks import selectors, services
from aims.webhooks.catalogue import RESOURCES, TEST_EVENT
from aims.webhooks.forms import EndpointForm
from aims.webhooks.models import WebhookEndpoint

DELIVERIES_PER_PAGE = 25


class WebhookAdminMixin(TenantViewMixin):
    capability = Capability.MANAGE_ORGANIZATION
    write_capability = Capability.MANAGE_ORGANIZATION

    @property
    def acting_user(self) -> User:
        # TenantViewMixin has let only a signed-in member through.
        return cast(User, self.request.user)  # type: ignore[attr-defined]

    def endpoint(self, pk: int) -> WebhookEndpoint:
        return get_for_tenant_or_404(self.tenant, WebhookEndpoint, pk=pk)


class EndpointListView(WebhookAdminMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        endpoints = selectors.endpoint_list(self.tenant.organization)
        return render(request, "aims/webhooks/list.html", {"endpoints": endpoints, "resources": RESOURCES})


class EndpointCreateView(WebhookAdminMixin, View):
    def get(self, request: HttpRequest, form: EndpointForm | None = None) -> HttpResponse:
        form = form or EndpointForm(creating=True)
        return render(request, "aims/webhooks/form.html", {"form": form, "endpoint": None})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = EndpointForm(request.POST, creating=True)
        if form.is_valid():
            try:
                endpoint, secret = services.endpoint_create(
                    organization=self.tenant.organization, acting_user=self.acting_user, **form.cleaned_data
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Webhook endpoint added."))
                return render(request, "aims/webhooks/secret.html", {"endpoint": endpoint, "secret": secret})
        return self.get(request, form=form)


class EndpointEditView(WebhookAdminMixin, View):
    def get(self, request: HttpRequest, pk: int, form: EndpointForm | None = None) -> HttpResponse:
        endpoint = self.endpoint(pk)
        initial = {f: getattr(endpoint, f) for f in ("url", "description", "events", "enabled")}
        form = form or EndpointForm(initial=initial)
        return render(request, "aims/webhooks/form.html", {"form": form, "endpoint": endpoint})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        endpoint = self.endpoint(pk)
        form = EndpointForm(request.POST)
        if form.is_valid():
            try:
                services.endpoint_update(endpoint=endpoint, acting_user=self.acting_user, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Webhook endpoint saved."))
                return redirect("webhooks:detail", pk=endpoint.pk)
        return self.get(request, pk, form=form)


class EndpointDetailView(WebhookAdminMixin, View):
    """The endpoint, its delivery log (newest first, paginated) and its history."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        endpoint = self.endpoint(pk)
        page = Paginator(selectors.delivery_log(endpoint), DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
        context: dict[str, Any] = {
            "endpoint": endpoint,
            "page_obj": page,
            "deliveries": page.object_list,
            "entries": object_history(endpoint),
            "test_event": TEST_EVENT,
        }
        return render(request, "aims/webhooks/detail.html", context)


class EndpointActionView(WebhookAdminMixin, View):
    """POST-only buttons of an endpoint: send a test event, rotate the secret, delete it."""

    action = ""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        endpoint = self.endpoint(pk)
        if self.action == "test":
            services.endpoint_send_test(endpoint=endpoint, acting_user=self.acting_user)
            messages.success(request, _("Test event sent: its delivery is at the top of the log."))
            return redirect("webhooks:detail", pk=endpoint.pk)
        if self.action == "rotate":
            secret = services.endpoint_secret_rotate(endpoint=endpoint, acting_user=self.acting_user)
            context = {"endpoint": endpoint, "secret": secret, "rotated": True}
            return render(request, "aims/webhooks/secret.html", context)
        services.endpoint_delete(endpoint=endpoint, acting_user=self.acting_user)
        messages.success(request, _("Webhook endpoint deleted; its history is kept."))
        return redirect("webhooks:list")


class DeliveryDetailView(WebhookAdminMixin, View):
    def get(self, request: HttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
        endpoint = self.endpoint(pk)
        delivery = get_or_404(selectors.delivery_log(endpoint), pk=delivery_pk)
        context = {"endpoint": endpoint, "delivery": delivery, "attempts": selectors.attempt_list(delivery)}
        return render(request, "aims/webhooks/delivery.html", context)


class DeliveryRedeliverView(WebhookAdminMixin, View):
    def post(self, request: HttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
        endpoint = self.endpoint(pk)
        delivery = get_or_404(selectors.delivery_log(endpoint), pk=delivery_pk)
        services.delivery_redeliver(delivery=delivery, acting_user=self.acting_user)
        messages.success(request, _("Delivery sent again: the new attempt is in its log."))
        return redirect("webhooks:delivery", pk=endpoint.pk, delivery_pk=delivery.pk)

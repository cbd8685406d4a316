"""Signed webhooks, end to end against a real HTTP receiver on loopback."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from aims.collaboration.models import Notification
from aims.history import object_history
from aims.webhooks import services, transport
from aims.webhooks.catalogue import EVENT_TYPES, RESOURCES
from aims.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookSecret
from aims.webhooks.tasks import send_due_webhooks
from risk import services as risk_services
from tests.aims.factories import MembershipFactory
from tests.risk.factories import RiskFactory

DOCS = Path(__file__).resolve().parents[3] / "docs" / "webhooks.md"


@pytest.fixture
def hooked(acme, alice, receiver, private_allowed):
    """Acme's endpoint on the receiver, listening to risks; returns (endpoint, secret)."""
    return services.endpoint_create(
        organization=acme,
        url=receiver.url("/acme"),
        description="Ticketing",
        events=["risk.created", "risk.updated", "risk.deleted"],
        acting_user=alice,
    )


def _verified(secret, request):
    return Webhook(secret).verify(request.body, request.headers)


def _retry_due():
    """Bring every scheduled retry to now, and run the periodic task that sends due retries."""
    WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).update(next_attempt_at=timezone.now())
    return send_due_webhooks.delay().get()


def test_a_change_is_sent_signed_after_commit(hooked, receiver, acme, alice, django_capture_on_commit_callbacks):
    endpoint, secret = hooked
    with django_capture_on_commit_callbacks(execute=True):
        risk = RiskFactory(organization=acme, owner=alice, title="Drift")
    [request] = receiver.at("/acme")
    payload = _verified(secret, request)
    assert payload["type"] == "risk.created"
    assert payload["data"]["id"] == risk.pk
    assert payload["data"]["reference"] == risk.ref_code
    assert payload["data"]["organization"] == "acme"
    assert payload["data"]["url"].endswith(reverse("risk:detail", args=[risk.pk]))
    assert request.headers["webhook-id"].startswith("msg_")
    assert request.headers["Content-Type"] == "application/json"

    with django_capture_on_commit_callbacks(execute=True):
        risk.title = "Drift of the triage model"
        risk_services.risk_save(instance=risk, acting_user=alice)
    updated = _verified(secret, receiver.at("/acme")[1])
    assert updated["type"] == "risk.updated"
    assert "title" in updated["data"]["changed_fields"]

    delivery = WebhookDelivery.objects.filter(endpoint=endpoint).first()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    attempt = delivery.attempt_log.get()
    assert attempt.status_code == 200 and attempt.succeeded and attempt.response_ms is not None


def test_a_forged_or_altered_request_does_not_verify(hooked, receiver, acme, alice, django_capture_on_commit_callbacks):
    _endpoint, secret = hooked
    with django_capture_on_commit_callbacks(execute=True):
        RiskFactory(organization=acme, owner=alice)
    [request] = receiver.at("/acme")
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(request.body.replace(b"acme", b"acmf"), request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(WebhookSecret.generate()).verify(request.body, request.headers)


def test_nothing_is_sent_for_a_rolled_back_change_or_an_event_not_chosen(
    hooked, receiver, acme, alice, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        RiskFactory(organization=acme, owner=alice)
        raise RuntimeError("rolled back")
    endpoint, _secret = hooked
    services.endpoint_update(
        endpoint=endpoint, url=endpoint.url, description="", events=["risk.deleted"], enabled=True, acting_user=alice
    )
    with django_capture_on_commit_callbacks(execute=True):
        risk = RiskFactory(organization=acme, owner=alice)
    assert receiver.requests == []
    with django_capture_on_commit_callbacks(execute=True):
        risk_services.risk_delete(risk=risk, acting_user=alice)
    [request] = receiver.requests
    payload = json.loads(request.body)
    assert payload["type"] == "risk.deleted" and payload["data"]["url"] is None


def test_a_500_is_retried_with_growing_delays_until_it_succeeds(
    hooked, receiver, acme, alice, django_capture_on_commit_callbacks
):
    endpoint, secret = hooked
    receiver.fail_next(2)
    with django_capture_on_commit_callbacks(execute=True):
        RiskFactory(organization=acme, owner=alice)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == WebhookDelivery.Status.PENDING and delivery.last_status_code == 500
    first_delay = delivery.next_attempt_at - delivery.attempt_log.get().started_at
    assert timedelta(seconds=59) < first_delay < timedelta(seconds=61)

    assert send_due_webhooks.delay().get() == 0  # not due yet: nothing is sent early
    assert len(receiver.requests) == 1

    assert _retry_due() == 1
    delivery.refresh_from_db()
    second = delivery.attempt_log.first()
    assert second.status_code == 500 and second.number == 2
    second_delay = delivery.next_attempt_at - second.started_at
    assert timedelta(minutes=4, seconds=59) < second_delay < timedelta(minutes=5, seconds=1)

    assert _retry_due() == 1
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED and delivery.next_attempt_at is None
    assert [a.status_code for a in delivery.attempt_log.order_by("number")] == [500, 500, 200]
    # Every attempt is the same message, signed afresh.
    assert {r.headers["webhook-id"] for r in receiver.requests} == {delivery.message_id}
    for request in receiver.requests:
        _verified(secret, request)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_a_delivery_gives_up_after_its_last_retry(hooked, receiver, acme, alice, django_capture_on_commit_callbacks):
    receiver.fail_next(100)
    with django_capture_on_commit_callbacks(execute=True):
        RiskFactory(organization=acme, owner=alice)
    for _ in services.RETRY_DELAYS:
        _retry_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.FAILED and delivery.next_attempt_at is None
    assert delivery.attempts == len(services.RETRY_DELAYS) + 1
    assert _retry_due() == 0


def test_repeated_failures_turn_the_endpoint_off_and_tell_the_administrators(
    hooked, receiver, acme, alice, olivia, mailoutbox, django_capture_on_commit_callbacks
):
    endpoint, _secret = hooked
    receiver.fail_next(1000)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            RiskFactory(organization=acme, owner=alice)
        while WebhookEndpoint.objects.get(pk=endpoint.pk).enabled:
            assert _retry_due() > 0
    endpoint.refresh_from_db()
    assert WebhookAttempt.objects.filter(delivery__endpoint=endpoint).count() == services.DISABLE_AFTER_FAILURES
    assert "10 failed attempts" in endpoint.disabled_reason
    assert not WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).exists()
    # The history says the portal turned it off.
    latest = object_history(endpoint)[0]
    assert latest.who is None and any(change.field.lower() == "enabled" for change in latest.changes)
    notice = Notification.objects.get(recipient=alice, kind=services.NOTICE_KIND)
    assert endpoint.url in notice.text and notice.url == reverse("webhooks:detail", args=[endpoint.pk])
    assert not Notification.objects.filter(recipient=olivia).exists()
    assert [m.to for m in mailoutbox] == [[alice.email]]

    sent = len(receiver.requests)
    with django_capture_on_commit_callbacks(execute=True):
        RiskFactory(organization=acme, owner=alice)
    assert len(receiver.requests) == sent  # a turned-off endpoint is sent nothing


def test_turning_it_on_again_forgets_past_failures(hooked, acme, alice):
    endpoint, _secret = hooked
    services.endpoint_disable_after_failures(endpoint=endpoint, failures=10)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=10)
    endpoint.refresh_from_db()
    services.endpoint_update(
        endpoint=endpoint, url=endpoint.url, description="", events=endpoint.events, enabled=True, acting_user=alice
    )
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.consecutive_failures == 0 and endpoint.disabled_reason == ""


def test_the_test_event_button_and_the_delivery_log(hooked, receiver, login, alice, django_capture_on_commit_callbacks):
    endpoint, secret = hooked
    client = login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("webhooks:test", args=[endpoint.pk]))
    assert response.status_code == 302
    [request] = receiver.requests
    assert _verified(secret, request)["type"] == "webhook.test"
    page = client.get(reverse("webhooks:detail", args=[endpoint.pk]))
    assert page.status_code == 200
    assert b"webhook.test" in page.content and b"HTTP 200" in page.content and b" ms" in page.content
    assert secret.encode() not in page.content  # the secret is shown once, at creation
    delivery = WebhookDelivery.objects.get()
    detail = client.get(reverse("webhooks:delivery", args=[endpoint.pk, delivery.pk]))
    assert detail.status_code == 200 and delivery.message_id.encode() in detail.content


def test_a_delivery_is_redelivered_on_request(hooked, receiver, login, alice, django_capture_on_commit_callbacks):
    endpoint, secret = hooked
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.endpoint_send_test(endpoint=endpoint, acting_user=alice)
    client = login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("webhooks:redeliver", args=[endpoint.pk, delivery.pk]))
    assert response.status_code == 302
    first, again = receiver.requests
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == delivery.message_id
    _verified(secret, again)
    assert [a.manual for a in delivery.attempt_log.order_by("number")] == [False, True]


def test_a_rotated_secret_signs_beside_the_new_one_for_a_day(
    hooked, receiver, login, alice, django_capture_on_commit_callbacks
):
    endpoint, old = hooked
    response = login(alice).post(reverse("webhooks:rotate", args=[endpoint.pk]))
    assert response.status_code == 200
    new = endpoint.secrets.get(expires_at__isnull=True).secret
    assert new != old and new.encode() in response.content
    previous = endpoint.secrets.get(secret=old)
    assert timedelta(hours=23) < previous.expires_at - timezone.now() <= timedelta(hours=24)
    with django_capture_on_commit_callbacks(execute=True):
        services.endpoint_send_test(endpoint=endpoint, acting_user=alice)
    request = receiver.requests[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    _verified(old, request)
    _verified(new, request)

    endpoint.secrets.filter(secret=old).update(expires_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        services.endpoint_send_test(endpoint=endpoint, acting_user=alice)
    request = receiver.requests[-1]
    _verified(new, request)
    with pytest.raises(WebhookVerificationError):
        _verified(old, request)
    # The history shows the rotation (never the secret).
    changes = [change.field.lower() for entry in object_history(endpoint) for change in entry.changes]
    assert "secret rotated" in changes


def test_an_administrator_adds_an_endpoint_and_sees_its_secret_once(login, alice, acme, receiver, private_allowed):
    response = login(alice).post(
        reverse("webhooks:create"),
        {"url": receiver.url("/new"), "description": "SIEM", "events": ["incident.created", "finding.updated"]},
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.for_org(acme).get()
    secret = endpoint.secrets.get().secret
    assert secret.startswith("whsec_") and secret.encode() in response.content
    assert endpoint.events == ["incident.created", "finding.updated"] and endpoint.created_by == alice
    assert object_history(endpoint)[0].who == alice
    # No history row ever holds a secret.
    assert secret not in str(list(WebhookEndpoint.history.values()))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
    ],
)
def test_private_and_loopback_addresses_are_refused_by_default(login, alice, acme, url):
    response = login(alice).post(reverse("webhooks:create"), {"url": url, "events": ["risk.created"]})
    assert response.status_code == 200
    assert "only to public addresses" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_an_address_refused_at_send_time_is_not_contacted(
    hooked, receiver, settings, acme, alice, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False  # e.g. the name now resolves inside the network
    with django_capture_on_commit_callbacks(execute=True):
        RiskFactory(organization=acme, owner=alice)
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.PENDING and "public addresses" in delivery.last_error
    assert delivery.last_status_code is None


def test_redirects_are_not_followed(hooked, receiver, acme, alice, django_capture_on_commit_callbacks):
    receiver.fail_next(1, status=302)
    with django_capture_on_commit_callbacks(execute=True):
        RiskFactory(organization=acme, owner=alice)
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_status_code == 302 and delivery.status == WebhookDelivery.Status.PENDING
    assert len(receiver.requests) == 1


def test_an_unreachable_receiver_is_a_failed_attempt_not_an_error(private_allowed):
    answer = transport.post("http://127.0.0.1:9/closed", b"{}", {})
    assert answer.status_code is None and not answer.succeeded and answer.error


def test_one_organisations_events_never_reach_anothers_endpoint(
    hooked, receiver, acme, alice, globex, charlie, django_capture_on_commit_callbacks
):
    services.endpoint_create(
        organization=globex, url=receiver.url("/globex"), description="", events=list(EVENT_TYPES), acting_user=charlie
    )
    with django_capture_on_commit_callbacks(execute=True):
        RiskFactory(organization=acme, owner=alice)
    assert len(receiver.at("/acme")) == 1
    assert receiver.at("/globex") == []


def test_another_organisations_endpoint_is_not_found(hooked, login, charlie, alice):
    endpoint, _secret = hooked
    delivery = services.endpoint_send_test(endpoint=endpoint, acting_user=alice)
    client = login(charlie)
    for name in ("detail", "edit"):
        assert client.get(reverse(f"webhooks:{name}", args=[endpoint.pk])).status_code == 404
    assert client.get(reverse("webhooks:delivery", args=[endpoint.pk, delivery.pk])).status_code == 404
    for name in ("test", "rotate", "delete"):
        assert client.post(reverse(f"webhooks:{name}", args=[endpoint.pk])).status_code == 404
    assert client.post(reverse("webhooks:redeliver", args=[endpoint.pk, delivery.pk])).status_code == 404
    assert b"/acme" not in client.get(reverse("webhooks:list")).content
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


@pytest.mark.parametrize("persona", ["olivia", "bob", "victor"])
def test_only_administrators_manage_webhooks(request, hooked, login, persona):
    endpoint, _secret = hooked
    client = login(request.getfixturevalue(persona))
    assert client.get(reverse("webhooks:list")).status_code == 403
    assert client.get(reverse("webhooks:detail", args=[endpoint.pk])).status_code == 403
    create = client.post(reverse("webhooks:create"), {"url": "https://example.com/", "events": ["risk.created"]})
    assert create.status_code == 403
    assert client.post(reverse("webhooks:delete", args=[endpoint.pk])).status_code == 403
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"url": "not a url", "events": ["risk.created"]}, "url"),
        ({"url": "ftp://example.com/", "events": ["risk.created"]}, "url"),
        ({"url": "https://example.com/", "events": []}, "events"),
        ({"url": "https://example.com/", "events": ["risk.exploded"]}, "events"),
        ({"url": "https://example.com/" + "a" * 600, "events": ["risk.created"]}, "url"),
        ({"url": "http://[::1/", "events": ["risk.created"]}, "url"),
    ],
)
def test_bad_input_is_a_form_error(hooked, login, alice, data, field):
    endpoint, _secret = hooked
    client = login(alice)
    for url in (reverse("webhooks:create"), reverse("webhooks:edit", args=[endpoint.pk])):
        response = client.post(url, data)
        assert response.status_code == 200
        assert response.context["form"].errors[field]
    assert WebhookEndpoint.objects.count() == 1


def test_the_services_refuse_events_outside_the_catalogue(acme, alice):
    with pytest.raises(ValidationError) as refused:
        services.endpoint_create(
            organization=acme, url="https://93.184.215.14/", description="", events=["risk.exploded"], acting_user=alice
        )
    assert "risk.exploded" in refused.value.message_dict["events"][0]
    assert not WebhookEndpoint.objects.exists()


def test_a_membership_event_leads_to_the_members_page(
    acme, alice, receiver, private_allowed, django_capture_on_commit_callbacks
):
    _endpoint, secret = services.endpoint_create(
        organization=acme, url=receiver.url("/m"), description="", events=["membership.created"], acting_user=alice
    )
    with django_capture_on_commit_callbacks(execute=True):
        membership = MembershipFactory(organization=acme)
    payload = _verified(secret, receiver.at("/m")[0])
    assert payload["type"] == "membership.created" and payload["data"]["id"] == membership.pk
    assert payload["data"]["url"].endswith(reverse("members")) and "reference" not in payload["data"]


def test_the_pages_render_for_an_administrator(hooked, login, alice):
    endpoint, _secret = hooked
    client = login(alice)
    listing = client.get(reverse("webhooks:list"))
    assert listing.status_code == 200 and b"/acme" in listing.content
    assert client.get(reverse("webhooks:create")).status_code == 200
    edit = client.get(reverse("webhooks:edit", args=[endpoint.pk]))
    assert edit.status_code == 200 and b'value="risk.created"' in edit.content
    assert client.get(reverse("webhooks:detail", args=[endpoint.pk]) + "?page=oops").status_code == 200
    response = client.post(reverse("webhooks:delete", args=[endpoint.pk]))
    assert response.status_code == 302 and not WebhookEndpoint.objects.exists()
    assert WebhookEndpoint.history.filter(id=endpoint.pk, history_type="-").exists()


def test_the_catalogue_is_documented_and_names_real_records():
    text = DOCS.read_text()
    for event in EVENT_TYPES:
        assert f"`{event}`" in text
    assert "`webhook.test`" in text
    for resource in RESOURCES:
        apps.get_model(resource.model_label)
        if resource.url_arg is None:
            assert resource.path(object()) is not None
        else:
            assert resource.path(type("Row", (), {resource.url_arg: 1})()) is not None

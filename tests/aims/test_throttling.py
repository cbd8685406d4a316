"""The API limits calls per token, per signed-in user and per address, answering 429 with Retry-After."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from aims.roles import Role

LOW = {"token": "3/min", "user": "2/min", "anon": "2/min"}


@pytest.fixture(autouse=True)
def fresh_counts():
    cache.clear()
    yield
    cache.clear()


def _throttled(response):
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    detail = f"Too many requests: try again in {response['Retry-After']} seconds."
    if response["Content-Type"].startswith("application/json"):
        assert json.loads(response.content) == {"detail": detail}
    else:  # the schema answers in its own format (OpenAPI YAML), with the same words
        assert detail in response.content.decode()


@override_settings(API_THROTTLE_RATES=LOW)
def test_each_token_has_its_own_budget(api_for, acme, alice):
    one = api_for(acme, role=Role.VIEWER, created_by=alice)
    two = api_for(acme, role=Role.VIEWER, created_by=alice)
    assert [one.get(reverse("api-me")).status_code for _ in range(3)] == [200, 200, 200]
    _throttled(one.get(reverse("api-me")))
    assert two.get(reverse("api-me")).status_code == 200  # another token of the same person
    cache.clear()  # the window has passed
    assert one.get(reverse("api-me")).status_code == 200


@override_settings(API_THROTTLE_RATES=LOW)
def test_session_calls_are_limited_per_user(client, alice, victor):
    client.force_login(alice)
    assert [client.get(reverse("api-me")).status_code for _ in range(2)] == [200, 200]
    _throttled(client.get(reverse("api-me")))
    other = APIClient()
    other.force_login(victor)
    assert other.get(reverse("api-me")).status_code == 200


@override_settings(API_THROTTLE_RATES=LOW)
def test_anonymous_calls_are_limited_per_address(client, db):
    schema = reverse("api-schema")
    assert [client.get(schema).status_code for _ in range(2)] == [200, 200]
    _throttled(client.get(schema))
    assert client.get(schema, REMOTE_ADDR="10.0.0.9").status_code == 200


def test_the_default_rates_are_generous_and_come_from_settings(settings):
    from aims.settings import base

    assert base.API_THROTTLE_RATES["token"] == "1000/min"
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"][0] == "aims.api.throttling.TokenRateThrottle"

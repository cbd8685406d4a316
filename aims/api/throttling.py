"""API rate limits: per token, per signed-in user (session calls) and per IP (anonymous calls).

A call over its limit is answered 429 with ``Retry-After`` (seconds) in the API's usual error
shape. Counts live in Django's cache (Redis in deployments via ``CACHE_URL``), so every web
process shares them. Rates come from ``API_THROTTLE_RATES`` and are read on every call, so a
setting change (or a test's ``override_settings``) takes effect at once.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from aims.models import ApiToken


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES.get(self.scope or "")

    def allow_request(self, request, view) -> bool:
        # The rate is read again per call; DRF reads it once when the throttle is built.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class TokenRateThrottle(_SettingsRateThrottle):
    """One budget per API token, however many machines share it."""

    scope = "token"

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class UserRateThrottle(_SettingsRateThrottle):
    """One budget per person calling with their browser session."""

    scope = "user"

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.auth, ApiToken) or not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AnonRateThrottle(_SettingsRateThrottle):
    """One budget per client address for calls that are not signed in."""

    scope = "anon"

    def get_cache_key(self, request, view) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

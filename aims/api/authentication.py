"""Bearer-token authentication for integrators.

A token follows the person who created it: it acts with the lower of its own role and its
creator's current role in the organisation (a demotion narrows the token, a promotion back
restores it), and it stops working the moment its creator is no longer a member. The creator's
role is read in the same query as the token.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from aims.models import ApiToken


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer aims_…``. The token fixes the organisation and the role."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid Authorization header: expected 'Bearer <token>'.")
        raw_key = header[1].decode(errors="replace")
        token = (
            ApiToken.objects.select_related("organization", "created_by")
            .with_creator_role()
            .filter(key_hash=ApiToken.hash_key(raw_key))
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown API token.")
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API token has been revoked.")
        if token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed("This API token has expired.")
        if not token.created_by.is_active:
            raise exceptions.AuthenticationFailed("The account that created this token is disabled.")
        if token.creator_role is None:
            raise exceptions.AuthenticationFailed(
                "The person who created this API token is no longer a member of the organisation; "
                "the token no longer works. Ask an administrator for a new one."
            )
        # Record use at most once a minute, so a busy pipeline does not write on every call.
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        # Changes made with the token are recorded in history under the person who created it.
        return token.created_by, token

    def authenticate_header(self, request):
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An organisation API token (aims_…)."}

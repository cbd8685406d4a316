"""Reads for single sign-on: which connection serves an address, and an organisation's settings."""

from __future__ import annotations

import json
from typing import Any
from urllib.request import urlopen

from django.utils.translation import gettext

from aims.models import Membership, Organization
from aims.roles import administrator_roles
from aims.sso.models import SsoConnection, SsoDomain

DISCOVERY_TIMEOUT_SECONDS = 5


def email_domain(email: str) -> str:
    """The lower-cased domain of an address; empty when it has none."""
    _, at, domain = (email or "").strip().rpartition("@")
    return domain.strip().lower().rstrip(".") if at else ""


def sso_connection_for_email(email: str) -> SsoConnection | None:
    """The connection that serves ``email``'s domain, or None (one query).

    Only the domain decides, never whether an account exists, so the answer tells nobody
    which addresses have accounts.
    """
    domain = email_domain(email)
    if not domain:
        return None
    row = (
        SsoDomain.objects.select_related("connection__social_app", "connection__organization")
        .filter(domain=domain, connection__social_app__isnull=False)
        .first()
    )
    return row.connection if row is not None else None


def sso_connection_get(organization: Organization) -> SsoConnection | None:
    """The organisation's connection, with its domains, or None."""
    return (
        SsoConnection.objects.for_org(organization)
        .select_related("social_app", "break_glass_admin")
        .prefetch_related("domains")
        .first()
    )


def sso_connection_for_app(app: Any) -> SsoConnection | None:
    """The connection behind an allauth SocialApp, or None for an app configured otherwise."""
    if app is None or getattr(app, "pk", None) is None:
        return None
    return (
        SsoConnection.objects.select_related("organization", "social_app")
        .prefetch_related("domains")
        .filter(social_app_id=app.pk)
        .first()
    )


def sso_connection_domains(connection: SsoConnection) -> list[str]:
    return [row.domain for row in connection.domains.all()]


def sso_password_allowed(connection: SsoConnection, user: Any) -> bool:
    """May ``user``, of ``connection``'s domain, sign in with a password?

    Always, unless the organisation requires single sign-on and ``user`` is one of its
    members; then only its break-glass administrator, while still one of its administrators.
    Someone who is not a member keeps their password: an organisation's claim to a domain
    must not lock out accounts that belong elsewhere.
    """
    if not connection.sso_required or user is None:
        return not connection.sso_required
    role = (
        Membership.objects.filter(organization_id=connection.organization_id, user=user)
        .values_list("role", flat=True)
        .first()
    )
    if role is None:
        return True
    return user.pk == connection.break_glass_admin_id and role in administrator_roles()


def oidc_discovery_problem(issuer: str) -> str | None:
    """Why ``issuer``'s discovery document cannot be used, or None when it can.

    Read when an administrator saves the connection, so a mistyped issuer is reported then
    rather than at the first person's sign-in. The document must name the same issuer and the
    endpoints allauth uses.
    """
    url = f"{issuer.rstrip('/')}/.well-known/openid-configuration"
    if not url.startswith(("https://", "http://")):
        return gettext("%(url)s is not a web address.") % {"url": url}
    try:
        with urlopen(url, timeout=DISCOVERY_TIMEOUT_SECONDS) as response:  # noqa: S310  # http(s) only, checked above
            document = json.loads(response.read())
    except (OSError, ValueError) as exc:
        return gettext("%(url)s could not be read (%(error)s).") % {"url": url, "error": exc.__class__.__name__}
    if not isinstance(document, dict):
        return gettext("%(url)s is not a discovery document.") % {"url": url}
    missing = [key for key in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not document.get(key)]
    if missing:
        return gettext("The discovery document names no %(fields)s.") % {"fields": ", ".join(missing)}
    if str(document.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
        return gettext("The discovery document names another issuer (%(issuer)s).") % {"issuer": document.get("issuer")}
    return None

"""Reads for sign-in identities."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.utils.translation import gettext

from aims.identity.models import IdpGroupRole, SecurityPolicy
from aims.roles import ROLE_RANK, Role


def role_for_groups(organization: Any, groups: Iterable[str], default: str | None) -> str | None:
    """The highest role mapped to any of ``groups``, else ``default``.

    Group names compare case-insensitively, as identity providers differ in how they spell them.
    """
    wanted = {group.strip().casefold() for group in groups if group and group.strip()}
    if not wanted:
        return default
    roles: list[str] = [
        mapping.role
        for mapping in IdpGroupRole.objects.for_org(organization)
        if mapping.group.strip().casefold() in wanted
    ]
    if not roles:
        return default
    return max(roles, key=lambda role: ROLE_RANK[Role(role)])


def security_policy_get(organization: Any) -> SecurityPolicy:
    """The organisation's policy; the defaults (unsaved) when it never set one."""
    policy = SecurityPolicy.objects.filter(organization=organization).first()
    return policy if policy is not None else SecurityPolicy(organization=organization)


# Checked in this order: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def browser_label(user_agent: str) -> str:
    """A short name for a browser ("Firefox on Linux"); other clients keep their own name."""
    browser = next((name for token, name in _BROWSERS if token in user_agent), None)
    system = next((name for token, name in _SYSTEMS if token in user_agent), None)
    if browser is None:
        return (user_agent or gettext("Unknown client"))[:60]
    return gettext("%(browser)s on %(system)s") % {"browser": browser, "system": system} if system else browser


@dataclass(frozen=True)
class SessionRow:
    session: UserSession
    browser: str
    is_current: bool


def session_list(user: Any, *, current_key: str | None) -> list[SessionRow]:
    """``user``'s open sessions, the current one first, then the most recently used."""
    sessions = UserSession.objects.purge_and_list(user)
    rows = [
        SessionRow(
            session=session, browser=browser_label(session.user_agent), is_current=session.session_key == current_key
        )
        for session in sessions
    ]
    return sorted(rows, key=lambda row: (not row.is_current, -row.session.last_seen_at.timestamp()))


def mfa_overview(user: Any) -> dict[str, Any]:
    """What the account-security page says about ``user``'s second factors."""
    authenticators = list(Authenticator.objects.filter(user_id=user.pk))
    types = [authenticator.type for authenticator in authenticators]
    return {
        "totp": Authenticator.Type.TOTP in types,
        "webauthn": types.count(Authenticator.Type.WEBAUTHN),
        "recovery_codes": Authenticator.Type.RECOVERY_CODES in types,
        "enabled": any(kind != Authenticator.Type.RECOVERY_CODES for kind in types),
    }

"""Reads for sign-in identities."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aims.identity.models import IdpGroupRole
from aims.roles import ROLE_RANK, Role


def role_for_groups(organization: Any, groups: Iterable[str], default: str | None) -> str | None:
    """The highest role mapped to any of ``groups``, else ``default``.

    Group names compare case-insensitively, as identity providers differ in how they spell them.
    """
    wanted = {group.strip().casefold() for group in groups if group and group.strip()}
    if not wanted:
        return default
    roles = [
        mapping.role
        for mapping in IdpGroupRole.objects.for_org(organization)
        if mapping.group.strip().casefold() in wanted
    ]
    if not roles:
        return default
    return max(roles, key=lambda role: ROLE_RANK[Role(role)])

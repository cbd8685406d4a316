"""Roles and what each may do: the one place that answers "may this role do that?".

Pages and API endpoints name a capability; they never compare role names themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.db import models
from django.utils.translation import gettext_lazy

# Role and capability labels are read as text everywhere (pages, the demo's account list); a
# lazy text is one at run time, in the language of whoever reads it.
_ = cast("Callable[[str], str]", gettext_lazy)


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    OFFICER = "officer", _("Compliance officer")
    OWNER = "owner", _("AI system owner")
    AUDITOR = "auditor", _("Auditor")
    VIEWER = "viewer", _("Viewer")


class Capability(models.TextChoices):
    VIEW = "view", _("Read the organisation's AIMS records")
    EDIT = "edit", _("Create and change AIMS records")
    APPROVE = "approve", _("Approve documents and accept risks")
    RECORD_FINDINGS = "record_findings", _("Record audit findings")
    REQUEST_PACKS = "request_packs", _("Request and download evidence packs")
    MANAGE_MEMBERS = "manage_members", _("Invite members and change their roles")
    MANAGE_TOKENS = "manage_tokens", _("Create and revoke API tokens")
    MANAGE_ORGANIZATION = "manage_organization", _("Change organisation settings")
    APPROVE_SOA = "approve_soa", _("Approve the Statement of Applicability")
    VIEW_SECURITY_LOG = "view_security_log", _("Read the organisation's security log")
    DISCUSS = "discuss", _("Comment on records and give members tasks about them")
    MANAGE_TASKS = "manage_tasks", _("Close any member's task")


_ALL = frozenset(Capability)

ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.ADMIN: _ALL,
    Role.OFFICER: frozenset(
        {
            Capability.VIEW,
            Capability.EDIT,
            Capability.APPROVE,
            Capability.REQUEST_PACKS,
            Capability.DISCUSS,
            Capability.MANAGE_TASKS,
        }
    ),
    Role.OWNER: frozenset({Capability.VIEW, Capability.EDIT, Capability.REQUEST_PACKS, Capability.DISCUSS}),
    # Auditors examine access control (ISO/IEC 42001 A.4 and 27001 A.8.15): they read the security log.
    Role.AUDITOR: frozenset(
        {
            Capability.VIEW,
            Capability.RECORD_FINDINGS,
            Capability.REQUEST_PACKS,
            Capability.VIEW_SECURITY_LOG,
            Capability.DISCUSS,
        }
    ),
    # Viewers read the discussion of a record but do not take part in it.
    Role.VIEWER: frozenset({Capability.VIEW}),
}

# Rank used to stop a token or an invitation from granting more than its creator holds.
ROLE_RANK = {Role.VIEWER: 0, Role.AUDITOR: 1, Role.OWNER: 2, Role.OFFICER: 3, Role.ADMIN: 4}


# Roles that may edit only the records they own (their AI systems and what hangs off them).
ROLES_LIMITED_TO_OWN_RECORDS = frozenset({Role.OWNER})


def role_can(role: str | None, capability: str) -> bool:
    """True when ``role`` grants ``capability``; an unknown or missing role grants nothing."""
    return role is not None and capability in ROLE_CAPABILITIES.get(role, frozenset())


def role_at_most(role: str, ceiling: str) -> bool:
    return ROLE_RANK[Role(role)] <= ROLE_RANK[Role(ceiling)]


def role_lower(role: str, other: str) -> str:
    """The lesser of two roles by :data:`ROLE_RANK`: what a token may do when its creator holds ``other``."""
    return role if ROLE_RANK[Role(role)] <= ROLE_RANK[Role(other)] else other


def role_edits_only_own(role: str | None) -> bool:
    """True when ``role`` may change only the records it owns."""
    return role in ROLES_LIMITED_TO_OWN_RECORDS


def roles_with(capability: str, *, without: str | None = None) -> list[str]:
    """Every role that grants ``capability`` (and not ``without``), for queries such as "who may be
    told about this"; ``roles_with(Capability.RECORD_FINDINGS, without=Capability.EDIT)`` are the
    independent auditors."""
    return [
        role
        for role, capabilities in ROLE_CAPABILITIES.items()
        if capability in capabilities and (without is None or without not in capabilities)
    ]


def role_is_administrator(role: str | None) -> bool:
    """True for a role that runs the organisation itself (settings, members, tokens)."""
    return role_can(role, Capability.MANAGE_ORGANIZATION)


def administrator_roles() -> list[str]:
    """The roles :func:`role_is_administrator` answers True for, for queries."""
    return roles_with(Capability.MANAGE_ORGANIZATION)

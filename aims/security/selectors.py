"""Reads of the security log: what an organisation's administrators and auditors may see."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from aims.models import Membership, Organization
from aims.security.models import SecurityEvent
from aims.spreadsheets import spreadsheet_safe

CSV_COLUMNS = [
    _("When (UTC)"),
    _("Event"),
    _("Person"),
    _("E-mail"),
    _("By"),
    _("IP address"),
    _("Browser"),
    _("Details"),
]
# A spreadsheet runs a cell that starts with one of these as a formula: such text is prefixed
# with an apostrophe, the spreadsheet convention for "this is text".


def security_event_list(organization: Organization) -> QuerySet[SecurityEvent]:
    """The organisation's own events, and the person-level events (sign-ins, failures, MFA) of its
    current members; never an event of another organisation, nor of a person outside this one."""
    members = Membership.objects.filter(organization=organization).values("user_id")
    return SecurityEvent.objects.filter(
        Q(organization=organization) | Q(organization__isnull=True, user_id__in=members)
    ).select_related("user", "actor")


def _details(details: dict[str, Any]) -> str:
    return "; ".join(f"{key}: {value}" for key, value in sorted(details.items()))


def security_event_rows(events: QuerySet[SecurityEvent]) -> Iterator[list[str]]:
    """The header, then one row per event, read in chunks so a long log streams in bounded memory."""
    yield [str(column) for column in CSV_COLUMNS]
    rows: Iterable[SecurityEvent] = events.iterator(chunk_size=500)
    for event in rows:
        person = event.user.email if event.user else ""
        cells = [
            event.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            event.get_kind_display(),
            person,
            event.email,
            event.actor.email if event.actor else "",
            event.ip_address or "",
            event.user_agent,
            _details(event.details),
        ]
        yield [spreadsheet_safe(cell) for cell in cells]

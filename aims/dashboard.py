"""Dashboard tiles contributed by each app.

The core cannot import the domain apps (dependencies point from them to it), so each
app registers a tile provider in its ``AppConfig.ready``; the dashboard asks them all.

A provider that names the models it ``reads`` has its answer cached for the organisation
in a scope of its own (:mod:`aims.summaries`) until a write to one of them commits: after a
new risk the dashboard recomputes the risk tiles and readiness's risk checks, nothing else.
Providers that depend on the clock beyond the date (expiring invitations, stale metrics) name
no models and are asked on every load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from django.db.models import Model
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext

from aims.models import Organization
from aims.selectors import member_counts
from aims.summaries import cached_summary, invalidate_on


@dataclass(frozen=True)
class Tile:
    label: str
    value: int | str
    hint: str = ""
    url: str = ""
    order: int = 100
    # Something is overdue, breached or missing: the dashboard shows it first, under "Needs attention".
    attention: bool = False


@dataclass(frozen=True)
class Panel:
    """A larger dashboard block rendered by its app's template."""

    title: str
    template: str
    context: dict
    order: int = 100


TileProvider = Callable[[Organization], list[Tile]]
PanelProvider = Callable[[Organization], list[Panel]]
P = TypeVar("P", TileProvider, PanelProvider)
_providers: list[TileProvider] = []
_panel_providers: list[PanelProvider] = []


def _cached(provider: P, reads: Iterable[type[Model]] | None) -> P:
    """``provider``, answered from the organisation's cache until a write to ``reads`` commits.
    The date is part of the name: "overdue" and "due" figures move on at midnight with no write."""
    if reads is None:
        return provider
    scope = f"dashboard.{provider.__module__}.{provider.__qualname__}"
    invalidate_on(*reads, scope=scope)

    def answer(organization: Organization):
        # The language too: labels and hints are written in the reader's.
        name = f"{scope}:{timezone.localdate().isoformat()}:{get_language()}"
        return cached_summary(organization.pk, name, partial(provider, organization), scope=scope)

    answer.provider = provider  # type: ignore[attr-defined]  # registered once, whoever wraps it
    return answer


def _add(providers: list[P], provider: P, reads: Iterable[type[Model]] | None) -> None:
    if all(getattr(known, "provider", known) is not provider for known in providers):
        providers.append(_cached(provider, reads))


def register(provider: TileProvider, *, reads: Iterable[type[Model]] | None = None) -> TileProvider:
    """Add an app's tiles; with ``reads``, cached until a write to one of those models."""
    _add(_providers, provider, reads)
    return provider


def register_panels(provider: PanelProvider, *, reads: Iterable[type[Model]] | None = None) -> PanelProvider:
    """Add an app's dashboard panels; with ``reads``, cached until a write to one of those models."""
    _add(_panel_providers, provider, reads)
    return provider


def tiles_for(organization: Organization) -> list[Tile]:
    tiles = [tile for provider in _providers for tile in provider(organization)]
    return sorted(tiles, key=lambda t: t.order)


def panels_for(organization: Organization) -> list[Panel]:
    panels = [panel for provider in _panel_providers for panel in provider(organization)]
    return sorted(panels, key=lambda p: p.order)


@register
def core_tiles(organization: Organization) -> list[Tile]:
    counts = member_counts(organization)
    return [
        Tile(
            gettext("Members"),
            counts["members"],
            gettext("%(admins)s admin(s), %(auditors)s auditor(s)")
            % {"admins": counts["admins"], "auditors": counts["auditors"]},
            reverse("members"),
            order=50,
        ),
        Tile(
            gettext("Pending invitations"),
            counts["pending_invitations"],
            gettext("awaiting acceptance"),
            reverse("members"),
            60,
        ),
        Tile(
            gettext("Active API tokens"),
            counts["active_tokens"],
            gettext("for integrations"),
            reverse("api_tokens"),
            70,
        ),
    ]

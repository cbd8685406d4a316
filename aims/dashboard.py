"""Dashboard tiles contributed by each app.

The core cannot import the domain apps (dependencies point from them to it), so each
app registers a tile provider in its ``AppConfig.ready``; the dashboard asks them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from aims.models import Organization
from aims.selectors import member_counts


@dataclass(frozen=True)
class Tile:
    label: str
    value: int | str
    hint: str = ""
    url: str = ""
    order: int = 100


@dataclass(frozen=True)
class Panel:
    """A larger dashboard block rendered by its app's template."""

    title: str
    template: str
    context: dict
    order: int = 100


TileProvider = Callable[[Organization], list[Tile]]
PanelProvider = Callable[[Organization], list[Panel]]
_providers: list[TileProvider] = []
_panel_providers: list[PanelProvider] = []


def register(provider: TileProvider) -> TileProvider:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def register_panels(provider: PanelProvider) -> PanelProvider:
    if provider not in _panel_providers:
        _panel_providers.append(provider)
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
            "Members",
            counts["members"],
            f"{counts['admins']} admin(s), {counts['auditors']} auditor(s)",
            reverse("members"),
            order=50,
        ),
        Tile("Pending invitations", counts["pending_invitations"], "awaiting acceptance", reverse("members"), 60),
        Tile("Active API tokens", counts["active_tokens"], "for integrations", reverse("api_tokens"), 70),
    ]

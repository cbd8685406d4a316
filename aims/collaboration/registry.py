"""Which records can be discussed, and how to reach each one's page.

The app that owns a record registers it from its ``AppConfig.ready`` with :func:`register`; the
core never imports the higher modules. A record is named in URLs by its model's label
(``risk.risk``), which :func:`discussable_for_key` turns back into the registration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model


@dataclass(frozen=True)
class Discussable:
    model: type[Model]
    url: Callable[[Any], str]  # the path of the record's page
    label: Callable[[Any], str] = str
    # Relations the URL or the label read, loaded with the record when many are shown at once (My work).
    select_related: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.model._meta.label_lower


_registry: dict[str, Discussable] = {}


def register(
    model: type[Model],
    *,
    url: Callable[[Any], str],
    label: Callable[[Any], str] = str,
    select_related: tuple[str, ...] = (),
) -> Discussable:
    """Let members comment on and assign tasks about ``model`` records; ``url(record)`` is its page."""
    entry = Discussable(model, url, label, select_related)
    _registry[entry.key] = entry
    return entry


def discussable_for_key(key: str) -> Discussable | None:
    return _registry.get(key)


def discussable_for(obj: Any) -> Discussable | None:
    """The registration of ``obj``'s model, or None when its records cannot be discussed."""
    model = getattr(obj, "_meta", None)
    return _registry.get(model.label_lower) if model is not None else None


def discussables() -> list[Discussable]:
    return list(_registry.values())

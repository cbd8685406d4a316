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
from django.db.models.signals import post_delete


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
    # A deleted record takes its discussion with it: no task left to do about it, no notice
    # leading to a page that is gone. Each row's history records the deletion.
    post_delete.connect(_forget_discussion, sender=model, weak=False, dispatch_uid=f"collaboration.forget.{entry.key}")
    return entry


def _forget_discussion(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    from django.contrib.contenttypes.models import ContentType

    from aims.collaboration.models import Comment, RecordTask

    content_type = ContentType.objects.get_for_model(sender)
    for model in (RecordTask, Comment):  # their notifications go with them (foreign keys)
        model.objects.filter(content_type=content_type, object_id=instance.pk).delete()


def discussable_for_key(key: str) -> Discussable | None:
    return _registry.get(key)


def discussable_for(obj: Any) -> Discussable | None:
    """The registration of ``obj``'s model, or None when its records cannot be discussed."""
    model = getattr(obj, "_meta", None)
    return _registry.get(model.label_lower) if model is not None else None


def discussables() -> list[Discussable]:
    return list(_registry.values())

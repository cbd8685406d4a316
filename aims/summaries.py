"""Per-organisation cached summaries, invalidated by the writes that change them.

Some screens summarise a whole register (readiness of the AIMS, heat maps of every risk):
at tens of thousands of rows recomputing them on every page load costs more than the page.
A summary is cached under the organisation's *generation*, a counter in the cache that any
write to a model registered with :func:`invalidate_on` moves on, after the transaction
commits (so a reader never caches the state before the write under the new generation).
Old entries are never deleted: they are simply no longer read and expire on their own.

Writes that bypass model signals (``bulk_create``, ``QuerySet.update``) call
:func:`summaries_changed` themselves. The production cache is Redis, shared by every web
process and worker, so a write in one process is seen by the next read in any other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save

T = TypeVar("T")

# Entries outlive no change (the generation moves on), so the timeout only bounds memory.
SUMMARY_TIMEOUT_SECONDS = 6 * 60 * 60


def _generation_key(organization_id: int) -> str:
    return f"aims:summaries:generation:{organization_id}"


def generation(organization_id: int) -> int:
    value = cache.get(_generation_key(organization_id))
    if value is None:
        cache.add(_generation_key(organization_id), 1, timeout=None)
        value = cache.get(_generation_key(organization_id), 1)
    return int(value)


def summaries_changed(organization_id: int | None) -> None:
    """Every cached summary of the organisation is stale once the current transaction commits."""
    if organization_id is None:
        return

    def bump() -> None:
        try:
            cache.incr(_generation_key(organization_id))
        except ValueError:  # no generation yet: nothing cached under it either
            cache.add(_generation_key(organization_id), 2, timeout=None)

    transaction.on_commit(bump)


def cached_summary(organization_id: int, name: str, compute: Callable[[], T]) -> T:
    """``compute()``, cached for the organisation until one of its summaries changes."""
    key = f"aims:summaries:{name}:{organization_id}:{generation(organization_id)}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=SUMMARY_TIMEOUT_SECONDS)
    return value


def _organization_id(instance: Any) -> int | None:
    return getattr(instance, "organization_id", None)


def _on_write(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    summaries_changed(_organization_id(instance))


def invalidate_on(*models: type[Model]) -> None:
    """Saves and deletes of these tenant models (and changes to their many-to-many links) make
    the organisation's summaries stale. Called from the owning app's ``AppConfig.ready``."""
    for model in models:
        post_save.connect(_on_write, sender=model, dispatch_uid=f"summaries.save.{model._meta.label}")
        post_delete.connect(_on_write, sender=model, dispatch_uid=f"summaries.delete.{model._meta.label}")
        for field in model._meta.many_to_many:
            through = field.remote_field.through
            if through is not None:
                m2m_changed.connect(_on_write, sender=through, dispatch_uid=f"summaries.m2m.{through._meta.label}")

"""Per-organisation cached summaries, invalidated by the writes that change them.

Some screens summarise a whole register (readiness of the AIMS, heat maps of every risk):
at tens of thousands of rows recomputing them on every page load costs more than the page.
A summary is cached under the organisation's *generation*, a counter in the cache that any
write to a model registered with :func:`invalidate_on` moves on, after the transaction
commits (so a reader never caches the state before the write under the new generation).
Old entries are never deleted: they are simply no longer read and expire on their own.

A summary may name a *scope*: then only the models registered for that scope move it on (a
new risk leaves the per-control figures of the SoA cached: it relies on no control yet). Writes
that bypass model signals (``bulk_create``, ``QuerySet.update``) call :func:`summaries_changed`,
which makes every summary of the organisation stale. The production cache is Redis, shared by
every web process and worker, so a write in one process is seen by the next read in any other.
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


# The scope every summary also depends on: bulk writes move it, and so every summary on.
ALL = "all"
DEFAULT_SCOPE = "default"
# The scope of rendered page content and API lists: every change notice of the organisation moves it.
CONTENT = "content"
# New measurements move only this scope on (they stream in every minute; pages that chart them name it).
MEASUREMENTS = "measurements"


def _generation_key(organization_id: int, scope: str) -> str:
    return f"aims:summaries:generation:{scope}:{organization_id}"


def generation(organization_id: int, scope: str = DEFAULT_SCOPE) -> int:
    return generations(organization_id, (scope,))[0]


def generations(organization_id: int, scopes: tuple[str, ...]) -> list[int]:
    """The current generation of each scope, read in one round trip to the cache."""
    keys = [_generation_key(organization_id, scope) for scope in scopes]
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            cache.add(key, 1, timeout=None)  # another process may have added it first: read it back
            found[key] = cache.get(key, 1)
    return [int(found[key]) for key in keys]


def summaries_changed(organization_id: int | None, scope: str = ALL, *, content: bool = True) -> None:
    """The organisation's cached summaries of ``scope`` (by default every one) are stale from now
    on, and again once the current transaction commits.

    The first move keeps this transaction's own later reads fresh; the second makes stale what a
    concurrent reader cached of the state before the commit under the first. ``content`` also
    moves the generation of cached page content and API lists (:mod:`aims.content_cache`) on:
    pass ``False`` for frequent writes that only the pages naming their scope read."""
    if organization_id is None:
        return
    keys = [_generation_key(organization_id, scope)]
    if content and scope != CONTENT:
        keys.append(_generation_key(organization_id, CONTENT))

    def bump() -> None:
        for key in keys:
            try:
                cache.incr(key)
            except ValueError:  # no generation yet: nothing cached under it either
                cache.add(key, 2, timeout=None)

    bump()
    transaction.on_commit(bump)


def cached_summary(organization_id: int, name: str, compute: Callable[[], T], scope: str = DEFAULT_SCOPE) -> T:
    """``compute()``, cached for the organisation until a write of its scope (or a bulk write)."""
    every, own = generations(organization_id, (ALL, scope))
    key = f"aims:summaries:{name}:{organization_id}:{scope}:{every}.{own}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=SUMMARY_TIMEOUT_SECONDS)
    return value


def _organization_id(instance: Any) -> int | None:
    return getattr(instance, "organization_id", None)


def _receiver(scope: str, *, on_create: bool) -> Callable[..., None]:
    def on_write(sender: type[Model], instance: Model, created: bool = False, **kwargs: Any) -> None:
        if created and not on_create:
            return
        summaries_changed(_organization_id(instance), scope)

    return on_write


# Signals hold their receivers weakly: the ones made here live as long as the process.
_receivers: dict[tuple[str, bool], Callable[..., None]] = {}


def invalidate_on(*models: type[Model], scope: str = DEFAULT_SCOPE, on_create: bool = True) -> None:
    """Saves and deletes of these tenant models (and changes to their many-to-many links) make
    the organisation's summaries of ``scope`` stale; ``on_create=False`` for models whose new rows
    cannot change them. Called from the owning app's ``AppConfig.ready``."""
    receiver = _receivers.setdefault((scope, on_create), _receiver(scope, on_create=on_create))
    for model in models:
        uid = f"summaries.{scope}.{model._meta.label}"
        post_save.connect(receiver, sender=model, dispatch_uid=f"{uid}.save")
        post_delete.connect(receiver, sender=model, dispatch_uid=f"{uid}.delete")
        for field in model._meta.many_to_many:
            through = field.remote_field.through
            if through is not None:
                m2m_changed.connect(receiver, sender=through, dispatch_uid=f"{uid}.m2m.{through._meta.label}")

"""Optimistic concurrency: no save silently reverts a change made since the record was read.

A record's version is the id of its latest history row. django-simple-history writes one
on every save and delete of a tenant model, in the same transaction, so the version moves
with every change and needs no column of its own; the history rows after a version are
exactly what changed since (who, when, which fields).

Whoever edits a record carries the version it read: edit forms in a hidden field, the API
in ``If-Match`` (its ``GET`` answers an ``ETag``). :func:`expect_version` attaches it to the
instance and :func:`aims.records.record_save` checks it under a row lock just before
writing, so the check and the write cannot interleave with another save. A stale version
raises :class:`StaleRecord`: pages show it with the user's input kept, the API answers 412.
Without a version (a new record, a client that sends no ``If-Match``) the write proceeds.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils.translation import gettext_lazy as _

from aims.history import HistoryEntry, changes_since

STALE_MESSAGE = _(
    "Someone else saved this %(kind)s while you were editing it, so your changes were not saved. "
    "They are still in the form: review what changed meanwhile, then save again to keep yours."
)


class StaleRecord(ValidationError):
    """The record changed after the caller read it (``expected`` is the version it read)."""

    def __init__(self, instance: Model, *, expected: str, current: str | None) -> None:
        self.expected_version = expected
        self.current_version = current
        self.changes: list[HistoryEntry] = changes_since(instance, _as_history_id(expected))
        super().__init__(STALE_MESSAGE % {"kind": instance._meta.verbose_name}, code="stale")


def _as_history_id(version: str) -> int:
    return int(version) if version.isdigit() else 0


def is_versioned(model: type[Model]) -> bool:
    return hasattr(model, "history")


def record_version(instance: Model) -> str | None:
    """The record's current version as stored (one query), or None for a new or untracked record."""
    model = type(instance)
    if instance.pk is None or not is_versioned(model):
        return None
    rows = model.history.model.objects.filter(**{instance._meta.pk.attname: instance.pk})  # type: ignore[attr-defined]
    latest = rows.order_by("-history_id").values_list("history_id", flat=True).first()
    # A row that never went through a save (a fixture, a bulk insert) has version 0 until it does.
    return str(latest or 0)


def expect_version(instance: Model, version: str | None) -> None:
    """Make the next :func:`aims.records.record_save` of ``instance`` refuse it unless still at ``version``."""
    instance._expected_version = (version or "").strip() or None  # type: ignore[attr-defined]


def expects_version(instance: Model) -> bool:
    return bool(getattr(instance, "_expected_version", None)) and instance.pk is not None


def check_version(instance: Model) -> None:
    """Raise :class:`StaleRecord` unless the row is still at the expected version; call inside a transaction.

    The row is locked first, so a concurrent save of the same record waits for this one and
    then finds a new version.
    """
    expected: str | None = getattr(instance, "_expected_version", None)
    if not expected or not expects_version(instance) or not is_versioned(type(instance)):
        return
    type(instance)._base_manager.select_for_update().filter(pk=instance.pk).values_list("pk").first()
    current = record_version(instance)
    if current != expected:
        raise StaleRecord(instance, expected=expected, current=current)
    # Checked once: a service that saves the same record twice must not trip on its own first save.
    instance._expected_version = None  # type: ignore[attr-defined]


# --- HTTP --------------------------------------------------------------------------------------


def etag(version: str | None) -> str | None:
    return f'"{version}"' if version is not None else None


def if_match_version(header: str | None) -> str | None:
    """The version named by an ``If-Match`` header (``"12"``, ``W/"12"``), or None if absent or ``*``."""
    if not header or header.strip() == "*":
        return None
    first = header.split(",")[0].strip()
    if first.startswith("W/"):
        first = first[2:]
    # An unparsable value is still a version, one that matches nothing: the write is refused.
    return first.strip('"') or "-"


def conflict_body(exc: StaleRecord) -> dict[str, Any]:
    """The JSON of a 412: what the caller sent, the current version, and who changed what meanwhile."""
    return {
        "detail": "The record changed since you read it (If-Match does not name its current version). "
        "GET it again, reapply your change and send the new ETag.",
        "current_version": etag(exc.current_version),
        "changes": [
            {
                "when": entry.when.isoformat(),
                "who": getattr(entry.who, "email", None),
                "action": entry.action,
                "fields": [change.field for change in entry.changes],
            }
            for entry in exc.changes
        ],
    }

"""Reading the change history that django-simple-history records for every tenant model.

History rows are written by simple-history on every save and delete; here they are
turned into readable entries (who, when, what changed) for pages and reports, with a
fixed number of queries whatever the length of the history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.apps import apps
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import IntegerField, Value
from django.utils.text import capfirst

from aims.tenancy import TenantModel

ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}
LABEL_FIELDS = (
    "ref_code",
    "title",
    "name",
    "email",
    "ref",
    "user",
    "model",
    "dataset",
    "supplier",
    "member",
    "external_party",
)
# Bookkeeping fields that change on every save say nothing about what changed.
HIDDEN_FIELDS = {"id", "key_hash", "password", "last_login", "created_at", "updated_at"}


@dataclass
class Change:
    field: str
    old: Any
    new: Any


@dataclass
class HistoryEntry:
    when: datetime
    who: Any
    action: str
    model: str
    label: str
    changes: list[Change] = field(default_factory=list)


def _fields(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if f.name not in HIDDEN_FIELDS]


def _display(record, f: models.Field) -> Any:
    value = getattr(record, f.attname)
    if f.is_relation:
        return getattr(record, f.name, None) if value is not None else None
    if f.choices:
        return dict(f.flatchoices).get(value, value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return "; ".join(" ".join(map(str, i.values())) if isinstance(i, dict) else str(i) for i in value)
    if isinstance(value, dict):
        return f"recorded ({len(value)} facts)" if value else None
    return value


def _label(model, record) -> str:
    for name in LABEL_FIELDS:
        if any(f.name == name for f in model._meta.concrete_fields):
            value = getattr(record, name, None)
            if value:
                return str(value)
    return f"#{record.id}"


def _entry(model, record, previous) -> HistoryEntry:
    changes = []
    for f in _fields(model):
        if f.name == "organization":
            continue
        new = getattr(record, f.attname)
        old = getattr(previous, f.attname) if previous is not None else None
        if record.history_type == "~" and new == old:
            continue
        if record.history_type == "-":
            continue
        if record.history_type == "+" and new in (None, ""):
            continue
        changes.append(
            Change(
                str(capfirst(f.verbose_name)),
                _display(previous, f) if previous is not None else None,
                _display(record, f),
            )
        )
    return HistoryEntry(
        when=record.history_date,
        who=record.history_user,
        action=ACTIONS.get(record.history_type, record.history_type),
        model=capfirst(model._meta.verbose_name),
        label=_label(model, record),
        changes=changes,
    )


def _related(history_model) -> list[str]:
    return [f.name for f in history_model._meta.concrete_fields if f.is_relation and f.name not in ("organization",)]


def _entries(model, records: list) -> list[HistoryEntry]:
    """Entries for ``records`` of one model, fetching their predecessors in one query."""
    if not records:
        return []
    history_model = model.history.model
    latest = max(r.history_date for r in records)
    earlier = history_model.objects.filter(id__in={r.id for r in records}, history_date__lte=latest).order_by(
        "id", "history_date", "history_id"
    )
    by_object: dict[Any, list] = {}
    for row in earlier:
        by_object.setdefault(row.id, []).append(row)
    entries = []
    for record in records:
        chain = by_object.get(record.id, [])
        previous = None
        for row in chain:
            if row.history_id == record.history_id:
                break
            previous = row
        entries.append(_entry(model, record, previous))
    return entries


def records_history(model: Any, **lookup: Any) -> list[HistoryEntry]:
    """Every change to the rows of ``model`` whose history matches ``lookup``, newest first (one query).

    ``lookup`` filters the history table, so deleted rows are included, e.g.
    ``records_history(Resource, system_id=7)``.
    """
    history_model = model.history.model
    records = history_model.objects.filter(**lookup).select_related("history_user", *_related(history_model))
    entries: list[HistoryEntry] = []
    previous_by_id: dict[Any, Any] = {}
    for record in records.order_by("id", "history_date", "history_id"):
        entries.append(_entry(model, record, previous_by_id.get(record.id)))
        previous_by_id[record.id] = record
    return sorted(entries, key=lambda e: e.when, reverse=True)


def object_history(instance: models.Model) -> list[HistoryEntry]:
    """Every change to one object, newest first."""
    return records_history(type(instance), id=instance.pk)


def changes_since(instance: models.Model, history_id: int) -> list[HistoryEntry]:
    """The changes to one object recorded after its history row ``history_id``, newest first."""
    model = type(instance)
    rows = model.history.model.objects.filter(  # type: ignore[attr-defined]
        **{instance._meta.pk.attname: instance.pk}, history_id__gt=history_id
    ).select_related("history_user")
    return sorted(_entries(model, list(rows)), key=lambda e: e.when, reverse=True)


def merged_history(*histories: list[HistoryEntry]) -> list[HistoryEntry]:
    return sorted((e for h in histories for e in h), key=lambda e: e.when, reverse=True)


def tracked_models() -> list[type[models.Model]]:
    """Models whose history belongs to an organisation: every tenant model, and the organisation."""
    from aims.models import Organization

    tenant_models = [m for m in apps.get_models() if issubclass(m, TenantModel) and hasattr(m, "history")]
    return [Organization, *sorted(tenant_models, key=lambda m: m._meta.label)]


def _activity_union(organization, **filters):
    """Ids and dates of every history row of the organisation, across all tracked models."""
    models_ = tracked_models()
    selects = []
    for index, model in enumerate(models_):
        history_model = model.history.model
        is_org = model._meta.label == "aims.Organization"
        scope = {"id": organization.pk} if is_org else {"organization_id": organization.pk}
        selects.append(
            history_model.objects.filter(**scope, **filters)
            .annotate(model_index=Value(index, output_field=IntegerField()))
            .values("history_id", "history_date", "model_index")
            .order_by()
        )
    # One flat UNION ALL: chaining .union() nests the statements, and SQLite's parser overflows.
    union = selects[0].union(*selects[1:], all=True)
    return models_, union.order_by("-history_date", "-history_id")


def _entries_for_rows(models_, rows) -> list[HistoryEntry]:
    """Turn union rows into entries: two queries per model present, whatever the number of rows."""
    grouped: dict[int, list[int]] = {}
    for row in rows:
        grouped.setdefault(row["model_index"], []).append(row["history_id"])
    entries_by_key = {}
    for index, ids in grouped.items():
        model = models_[index]
        history_model = model.history.model
        records = list(
            history_model.objects.filter(history_id__in=ids).select_related("history_user", *_related(history_model))
        )
        for record, entry in zip(records, _entries(model, records), strict=True):
            entries_by_key[(index, record.history_id)] = entry
    return [entries_by_key[(row["model_index"], row["history_id"])] for row in rows]


def organization_activity(organization, page: int | str | None = 1, per_page: int = 50) -> Page:
    """The organisation's change history across all tracked models, newest first, paginated in the database."""
    models_, union = _activity_union(organization)
    current = Paginator(union, per_page).get_page(page)
    current.object_list = _entries_for_rows(models_, list(current.object_list))
    return current


def organization_history(organization, start: datetime, end: datetime, limit: int) -> list[HistoryEntry]:
    """At most ``limit`` changes of the organisation between ``start`` and ``end``, newest first."""
    models_, union = _activity_union(organization, history_date__range=(start, end))
    return _entries_for_rows(models_, list(union[:limit]))

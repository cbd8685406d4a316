"""Reading the change history that django-simple-history records for every tenant model.

History rows are written by simple-history on every save and delete; here they are
turned into readable entries (who, when, what changed) for pages and reports, with a
fixed number of queries whatever the length of the history.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.apps import apps
from django.db import connection, models
from django.dispatch import receiver
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext, pgettext_lazy
from simple_history.signals import post_create_historical_record

from aims.summaries import summaries_changed
from aims.tenancy import TenantModel

# The cached pages of the organisation's activity feed: stale once any tracked record of the
# organisation gets a history row (every save and delete of a tracked model writes one).
ACTIVITY_SCOPE = "activity"

ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}
# How a page names each action; ``HistoryEntry.action`` itself stays the code above (reports and the API read it).
ACTION_LABELS = {
    "created": pgettext_lazy("history action", "Created"),
    "changed": pgettext_lazy("history action", "Changed"),
    "deleted": pgettext_lazy("history action", "Deleted"),
}
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

    @property
    def action_label(self) -> str:
        return str(ACTION_LABELS.get(self.action, capfirst(self.action)))


@cache
def _fields(model) -> tuple[tuple[models.Field, Any], ...]:
    """The fields an entry compares, with their names as shown; worked out once per model."""
    return tuple(
        (f, capfirst(f.verbose_name))
        for f in model._meta.concrete_fields
        if f.name not in HIDDEN_FIELDS and f.name != "organization"
    )


@cache
def _choice_labels(f: models.Field) -> dict[Any, Any]:
    return dict(f.flatchoices)


def _display(record, f: models.Field) -> Any:
    value = getattr(record, f.attname)
    if f.is_relation:
        return getattr(record, f.name, None) if value is not None else None
    if f.choices:
        return _choice_labels(f).get(value, value)
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, list):
        return "; ".join(" ".join(map(str, i.values())) if isinstance(i, dict) else str(i) for i in value)
    if isinstance(value, dict):
        return (
            ngettext("recorded (%(count)s fact)", "recorded (%(count)s facts)", len(value)) % {"count": len(value)}
            if value
            else None
        )
    return value


@cache
def _label_fields(model) -> tuple[str, ...]:
    names = {f.name for f in model._meta.concrete_fields}
    return tuple(name for name in LABEL_FIELDS if name in names)


def _label(model, record) -> str:
    for name in _label_fields(model):
        value = getattr(record, name, None)
        if value:
            return str(value)
    return f"#{record.id}"


def _entry(model, record, previous) -> HistoryEntry:
    changes = []
    for f, name in _fields(model):
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
                str(name),
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
    chains = _chains(model.history.model, {r.id for r in records}, max(r.history_date for r in records))
    return [_entry(model, record, _previous(chains, record)) for record in records]


def _chains(history_model, object_ids, latest, *related: str) -> dict[Any, list]:
    """Each object's history rows up to ``latest``, oldest first (one query).

    The predecessors' related rows too: a change shows the old value of a relation by name.
    Sorted here rather than by the database: the rows are few, and an ORDER BY on three
    columns cost more to compile than to sort.
    """
    rows = (
        history_model.objects.filter(id__in=object_ids, history_date__lte=latest)
        .select_related(*related, *_related(history_model))
        .order_by()
    )
    by_object: dict[Any, list] = {}
    for row in sorted(rows, key=lambda r: (r.history_date, r.history_id)):
        by_object.setdefault(row.id, []).append(row)
    return by_object


def _previous(chains: dict[Any, list], record) -> Any:
    """The history row of the same object just before ``record``, or None."""
    previous = None
    for row in chains.get(record.id, []):
        if row.history_id == record.history_id:
            break
        previous = row
    return previous


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
    return list(_tracked_models())


@cache
def _tracked_models() -> tuple[type[models.Model], ...]:
    from aims.models import Organization

    # The descriptor, not ``hasattr(m, "history")``: reading it builds a manager each time.
    tenant_models = [m for m in apps.get_models() if issubclass(m, TenantModel) and "history" in _attributes(m)]
    return (Organization, *sorted(tenant_models, key=lambda m: m._meta.label))


def _attributes(model: type[models.Model]) -> set[str]:
    return {name for klass in model.__mro__ for name in vars(klass)}


@dataclass(frozen=True)
class ActivityCursor:
    """A point in the activity feed: one history row, ordered by date, then table, then id.

    History ids are per table, so the table's place in :func:`tracked_models` breaks ties
    between rows of different tables written in the same microsecond.
    """

    when: datetime
    model_index: int
    history_id: int

    def __str__(self) -> str:
        return f"{self.when.isoformat()}_{self.model_index}_{self.history_id}"

    @classmethod
    def parse(cls, text: str | None) -> ActivityCursor | None:
        """The cursor written by ``str()``; None for a missing or malformed one."""
        if not text:
            return None
        try:
            when, model_index, history_id = text.rsplit("_", 2)
            parsed = datetime.fromisoformat(when.replace(" ", "+"))  # a "+" in a query string reads as a space
            if parsed.tzinfo is None:
                return None
            return cls(parsed, int(model_index), int(history_id))
        except ValueError:
            return None


@dataclass
class ActivityPage:
    """One page of the activity feed, newest first, with the cursors of its neighbours."""

    entries: list[HistoryEntry]
    newer: ActivityCursor | None
    older: ActivityCursor | None


def _after_cursor(index: int, cursor: ActivityCursor | None, older: bool) -> tuple[str, list[Any]]:
    """SQL narrowing one table's rows to those past ``cursor`` in the reading direction, and its params.

    Written as a range on ``history_date`` (which the activity index scans in order) with the
    tie on the cursor's own date removed, rather than an OR that would stop the index scan.
    """
    if cursor is None:
        return "", []
    when = connection.ops.adapt_datetimefield_value(cursor.when)
    past, tie = ("<=", ">=") if older else (">=", "<=")
    clause = f" AND history_date {past} %s"
    if index == cursor.model_index:
        return f"{clause} AND NOT (history_date = %s AND history_id {tie} %s)", [when, when, cursor.history_id]
    # Rows of the cursor's instant in another table come before or after it by table order.
    same_instant_already_shown = index > cursor.model_index if older else index < cursor.model_index
    if same_instant_already_shown:
        return f"{clause} AND history_date <> %s", [when, when]
    return clause, [when]


@cache
def _history_tables() -> tuple[tuple[str, str], ...]:
    """``(history table, column naming the organisation)`` of each tracked model, in their order.

    Worked out once: simple-history builds a new manager on every ``Model.history`` access,
    which for some forty models cost more than the query itself.
    """
    return tuple(
        (model.history.model._meta.db_table, "id" if model._meta.label == "aims.Organization" else "organization_id")  # type: ignore[attr-defined]
        for model in tracked_models()
    )


def _activity_rows(
    organization,
    limit: int,
    cursor: ActivityCursor | None = None,
    older: bool = True,
    between: tuple[datetime, datetime] | None = None,
) -> tuple[list[type[models.Model]], list[dict[str, Any]]]:
    """The ``limit`` history rows of the organisation next to ``cursor``, across all tracked models.

    Each table gives at most ``limit`` rows of its own, read from its activity index (see
    :class:`aims.tenancy.OrganizationHistoricalRecords`), and only those are merged and
    sorted: the cost follows ``limit`` and the number of tables, not the length of the
    history. One query. Rows come newest first whatever the direction.
    """
    order = "DESC" if older else "ASC"
    limit = int(limit)
    parts, params = [], []
    for index, (table, scope) in enumerate(_history_tables()):
        narrow, narrow_params = _after_cursor(index, cursor, older)
        if between is not None:
            narrow += " AND history_date >= %s AND history_date <= %s"
            narrow_params = [*narrow_params, *(connection.ops.adapt_datetimefield_value(d) for d in between)]
        # A derived table per part: SQLite refuses LIMIT on the members of a UNION themselves.
        parts.append(
            f"SELECT {index} AS model_index, history_id, history_date, id FROM ("  # noqa: S608  # names from _meta
            f'SELECT history_id, history_date, id FROM "{table}" WHERE "{scope}" = %s{narrow} '
            f"ORDER BY history_date {order}, history_id {order} LIMIT {limit}) t{index}"
        )
        params.extend([organization.pk, *narrow_params])
    union = " UNION ALL ".join(parts)
    sql = f"SELECT * FROM ({union}) activity ORDER BY 3 {order}, 1 {order}, 2 {order} LIMIT {limit}"  # noqa: S608
    with connection.cursor() as db:
        db.execute(sql, params)
        fetched = db.fetchall()
    rows_ = [
        {"model_index": model_index, "history_id": history_id, "history_date": _aware(when), "object_id": object_id}
        for model_index, history_id, when, object_id in fetched
    ]
    if not older:
        rows_.reverse()
    return tracked_models(), rows_


def _aware(value: Any) -> datetime:
    """A row's date as an aware datetime (SQLite hands back text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


def _entries_for_rows(models_, rows) -> list[HistoryEntry]:
    """Turn union rows into entries: one query per model present, whatever the number of rows.

    The rows name their objects, so one query reads each object's history up to the newest
    row shown: the rows themselves and the predecessors their changes are measured against.
    """
    grouped: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["model_index"], []).append(row)
    chains_by_model = {
        index: _chains(
            models_[index].history.model,
            {row["object_id"] for row in group},
            max(row["history_date"] for row in group),
            "history_user",
        )
        for index, group in grouped.items()
    }
    entries = []
    for row in rows:
        model, chains = models_[row["model_index"]], chains_by_model[row["model_index"]]
        chain = chains.get(row["object_id"], [])
        record = next(r for r in chain if r.history_id == row["history_id"])
        entries.append(_entry(model, record, _previous(chains, record)))
    return entries


def _cursor(row: dict[str, Any]) -> ActivityCursor:
    return ActivityCursor(row["history_date"], row["model_index"], row["history_id"])


def organization_activity(
    organization, *, older_than: str | None = None, newer_than: str | None = None, per_page: int = 50
) -> ActivityPage:
    """One page of the organisation's change history across all tracked models, newest first.

    Paged by keyset: ``older_than`` / ``newer_than`` are the cursors of a previous page
    (:attr:`ActivityPage.older`, :attr:`ActivityPage.newer`); neither gives the newest page.
    There is no total count or page number: counting every history row is what made this
    page slow. A malformed cursor reads as none. A fixed number of queries.
    """
    newer = ActivityCursor.parse(newer_than)
    older = None if newer else ActivityCursor.parse(older_than)
    cursor = newer or older
    models_, rows = _activity_rows(organization, per_page + 1, cursor=cursor, older=newer is None)
    more = len(rows) > per_page
    if newer is None:
        rows = rows[:per_page]
        has_newer, has_older = cursor is not None, more
    else:
        rows = rows[-per_page:] if more else rows
        has_newer, has_older = more, True
    entries = _entries_for_rows(models_, rows)
    return ActivityPage(
        entries=entries,
        newer=_cursor(rows[0]) if rows and has_newer else None,
        older=_cursor(rows[-1]) if rows and has_older else None,
    )


def organization_history(organization, start: datetime, end: datetime, limit: int) -> list[HistoryEntry]:
    """At most ``limit`` changes of the organisation between ``start`` and ``end``, newest first."""
    models_, rows = _activity_rows(organization, limit, between=(start, end))
    return _entries_for_rows(models_, rows)


def organization_history_pages(
    organization, start: datetime, end: datetime, *, limit: int, page_size: int = 2000
) -> Iterator[list[HistoryEntry]]:
    """The changes :func:`organization_history` gives, a page at a time (newest first).

    Paged by keyset like the activity feed, so a long period is read in bounded memory.
    """
    cursor: ActivityCursor | None = None
    seen = 0
    while seen < limit:
        size = min(page_size, limit - seen)
        models_, rows = _activity_rows(organization, size, cursor=cursor, older=True, between=(start, end))
        if not rows:
            return
        yield _entries_for_rows(models_, rows)
        seen += len(rows)
        if len(rows) < size:
            return
        cursor = _cursor(rows[-1])


def organization_history_counts(organization, start: datetime, end: datetime) -> list[tuple[str, int | None, int]]:
    """How many changes each model and each user made between ``start`` and ``end``: ``(model label, user id, n)``.

    One query, counted in the database across every tracked model's history table, so a pack can
    summarise a period of any length without reading its changes.
    """
    parts, params = [], []
    for index, (table, scope) in enumerate(_history_tables()):
        parts.append(
            f'SELECT {index} AS model_index, history_user_id, COUNT(*) AS n FROM "{table}"'  # noqa: S608  # names from _meta
            f' WHERE "{scope}" = %s AND history_date >= %s AND history_date <= %s GROUP BY history_user_id'
        )
        params.extend([organization.pk, *(connection.ops.adapt_datetimefield_value(d) for d in (start, end))])
    models_ = tracked_models()
    with connection.cursor() as db:
        db.execute(" UNION ALL ".join(parts), params)
        return [(str(models_[index]._meta.verbose_name), user_id, n) for index, user_id, n in db.fetchall()]


@receiver(post_create_historical_record)
def _activity_changed(sender: Any, history_instance: Any, **kwargs: Any) -> None:
    # The organisation's own history rows name it by ``id``; every other one by ``organization_id``.
    if history_instance._meta.label == "aims.HistoricalOrganization":
        organization_id = history_instance.id
    elif history_instance._meta.label == "aims.HistoricalUser":
        from aims.models import Membership  # aims.models imports this module

        # A person's name is shown by every organisation they belong to.
        member_of = Membership.objects.filter(user_id=history_instance.id).values_list("organization_id", flat=True)
        for organization_id in member_of:
            summaries_changed(organization_id, ACTIVITY_SCOPE)
        return
    else:
        organization_id = getattr(history_instance, "organization_id", None)
    summaries_changed(organization_id, ACTIVITY_SCOPE)

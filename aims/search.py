"""Text search of list pages (``?q=``) and autocomplete suggestions, on PostgreSQL and SQLite.

A search is a case-insensitive substring match over a few columns. Django writes
``icontains`` on PostgreSQL as ``UPPER(column) LIKE UPPER('%text%')``, which no B-tree can
answer; the migrations made with :func:`trigram_index_operation` add a GIN trigram index on
exactly that expression, ``UPPER(column) gin_trgm_ops``, so each column is searched through
its index and an OR over several columns becomes a bitmap OR of index scans instead of a
scan of the table. SQLite (the demo's database) has no pg_trgm: the same match runs as a
plain scan, and the operation adds nothing there.

Suggestions are also ranked on PostgreSQL, best trigram word similarity first, then the
closest whole value; elsewhere they keep the queryset's own order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
from django.db import connection, migrations
from django.db.models import Q, QuerySet
from django.db.models.functions import Greatest

# pg_trgm extracts no trigram from fewer characters: such a search cannot use the index, and
# ranking the many rows it matches is not worth it; the queryset's order (and LIMIT) serves.
RANK_FROM = 3


def contains_any(fields: Sequence[str], value: str) -> Q:
    """Rows where any of ``fields`` contains ``value``, ignoring case."""
    query = Q()
    for name in fields:
        query |= Q(**{f"{name}__icontains": value})
    return query


def text_search(
    queryset: QuerySet[Any], fields: Sequence[str], value: str, *, rank: bool = False, vendor: str | None = None
) -> QuerySet[Any]:
    """``queryset`` narrowed to rows where any of ``fields`` contains ``value`` (blank: all rows).

    With ``rank``, PostgreSQL orders the matches by their best trigram word similarity to
    ``value`` (ties in the queryset's order); other databases (``vendor``, by default the
    connection's) keep the queryset's order.
    """
    value = value.strip()
    if not value:
        return queryset
    matches = queryset.filter(contains_any(fields, value))
    if not rank or (vendor or connection.vendor) != "postgresql" or len(value) < RANK_FROM:
        return matches
    # Best word match first ("triage" in "Radiology triage assistant" counts fully), then the
    # closest whole value ("Triage" itself before the longer name).
    words = [TrigramWordSimilarity(value, name) for name in fields]
    wholes = [TrigramSimilarity(name, value) for name in fields]
    order = matches.query.order_by or matches.model._meta.ordering
    return matches.annotate(
        search_rank=Greatest(*words) if len(words) > 1 else words[0],
        search_closeness=Greatest(*wholes) if len(wholes) > 1 else wholes[0],
    ).order_by("-search_rank", "-search_closeness", *order, "pk")


def _upper_trigram_sql(table: str, column: str) -> tuple[str, str]:
    name = f"{table[:40]}_{column[:14]}_trgm"
    create = f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON "{table}" USING gin (UPPER("{column}") gin_trgm_ops)'
    return create, f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"'


def trigram_index_operation(table: str, columns: Sequence[str]) -> migrations.RunPython:
    """A migration step adding a GIN trigram index on ``UPPER(column)`` for each column, on PostgreSQL only.

    Built concurrently, so a large table keeps taking writes meanwhile: the migration using
    it must say ``atomic = False``. The indexes are not part of the models' state (SQLite
    could not create them), so ``makemigrations`` neither wants nor drops them.
    """

    def run(schema_editor: Any, statements: list[str]) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    pairs = [_upper_trigram_sql(table, column) for column in columns]
    return migrations.RunPython(
        lambda apps, schema_editor: run(schema_editor, [create for create, _ in pairs]),
        lambda apps, schema_editor: run(schema_editor, [drop for _, drop in pairs]),
        elidable=False,
    )

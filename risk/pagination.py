"""Keyset pages of the risk register, for the page and the API.

``OFFSET 2500 LIMIT 25`` reads and throws away 2,500 rows before the page, and a numbered
page needs a ``COUNT`` of the whole filtered register as well; at 100,000 risks both cost
more than the page. A keyset page instead starts where the previous one ended: the
queryset is ordered by one key and the id (``RiskFilter``'s orderings, each backed by an
index), and the next page is ``WHERE (key, id) > (last key, last id) … LIMIT 26``, one row
comparison PostgreSQL answers by seeking into that index. The cursor that names the
position is opaque to clients (base64 of the ordering it was made for, the direction and the
last row's key and id); a cursor that does not decode, or was made for another ordering, is
refused (:class:`InvalidCursor`).

The API keeps its numbered pages (with ``count``) for existing clients, and answers keyset
pages when the request carries ``cursor`` (empty for the first page): :class:`RiskPagination`.
Numbered pages (the API's and the old links of the page) read their ids before their rows
(:class:`DeferredJoinPaginator`), so a deep one skips index entries rather than joined rows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import F, Model, OrderBy, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from aims.api.pagination import StandardPagination
from risk.selectors import SEARCH_COUNT_CAP

CURSOR_PARAM = "cursor"
_KEY = "_keyset_key"
# Directions of a cursor: the page after its position, or the page before it (read backwards).
_AFTER, _BEFORE = "a", "b"


class InvalidCursor(ValueError):
    """The cursor does not decode, or was made for another ordering of the register."""


@dataclass(frozen=True)
class _Ordering:
    key: Any  # a column (F) or an expression (Coalesce…)
    descending: bool

    @classmethod
    def of(cls, queryset: QuerySet[Any]) -> _Ordering:
        """The (key, id) ordering of ``queryset``; anything else is a programming error."""
        terms = list(queryset.query.order_by)
        if len(terms) != 2:
            raise ImproperlyConfigured("A keyset page needs a queryset ordered by one key and the id.")
        key, tiebreak = terms
        expression: Any
        if isinstance(key, str):
            descending, expression = key.startswith("-"), F(key.lstrip("-"))
        elif isinstance(key, OrderBy):
            descending, expression = key.descending, key.expression
        else:
            raise ImproperlyConfigured(f"Cannot page on the ordering {key!r}.")
        if tiebreak not in ("-id", "-pk") if descending else tiebreak not in ("id", "pk"):
            raise ImproperlyConfigured("The id must follow the key, in the same direction.")
        return cls(expression, descending)

    @property
    def fingerprint(self) -> str:
        """Names the ordering in a cursor, so a cursor of another sort is refused."""
        return hashlib.sha256(f"{self.key!r}:{self.descending}".encode()).hexdigest()[:12]


def _encode(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


@dataclass
class KeysetPage:
    """One page of rows and the cursors that lead to its neighbours (``None``: no such page)."""

    object_list: list[Any]
    next_cursor: str | None
    previous_cursor: str | None
    last_cursor: str | None

    def has_next(self) -> bool:
        return self.next_cursor is not None

    def has_previous(self) -> bool:
        return self.previous_cursor is not None

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()


def _cursor(ordering: _Ordering, direction: str, row: Model | None = None) -> str:
    position = None if row is None else [_encode(getattr(row, _KEY)), row.pk]
    payload = json.dumps([ordering.fingerprint, direction, position], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode(cursor: str, ordering: _Ordering, key_field: Any) -> tuple[str, tuple[Any, int] | None]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        fingerprint, direction, position = json.loads(raw)
        if fingerprint != ordering.fingerprint or direction not in (_AFTER, _BEFORE):
            raise InvalidCursor
        if position is None:
            return direction, None
        value, pk = position
        if not isinstance(pk, int) or isinstance(pk, bool) or not -(2**63) <= pk < 2**63:
            raise InvalidCursor
        return direction, (key_field.to_python(value), pk)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, ValidationError) as exc:
        raise InvalidCursor from exc


def cursor_after(queryset: QuerySet[Any], row: Model) -> str:
    """The cursor of the page that follows ``row`` in ``queryset``'s ordering (to link deep into it)."""
    ordering = _Ordering.of(queryset)
    positioned = queryset.annotate(**{_KEY: ordering.key}).get(pk=row.pk)
    return _cursor(ordering, _AFTER, positioned)


def keyset_page(queryset: QuerySet[Any], *, cursor: str | None, size: int) -> KeysetPage:
    """The page of ``queryset`` (ordered by one key and the id) that ``cursor`` names.

    No cursor is the first page. One query: ``size + 1`` rows tell whether a page follows.
    """
    ordering = _Ordering.of(queryset)
    rows = queryset.annotate(**{_KEY: ordering.key})
    key_field = rows.query.annotations[_KEY].output_field
    direction, position = _decode(cursor, ordering, key_field) if cursor else (_AFTER, None)
    forwards = direction == _AFTER
    if position is not None:
        ahead = TupleLessThan if ordering.descending == forwards else TupleGreaterThan
        rows = rows.filter(ahead(Tuple(F(_KEY), F("pk")), position))
    if not forwards:
        rows = rows.reverse()
    found = list(rows[: size + 1])
    more = len(found) > size
    found = found[:size]
    if not forwards:
        found.reverse()
    has_next = more if forwards else position is not None
    has_previous = position is not None if forwards else more
    return KeysetPage(
        object_list=found,
        next_cursor=_cursor(ordering, _AFTER, found[-1]) if has_next and found else None,
        previous_cursor=(_cursor(ordering, _BEFORE, found[0]) if found else None) if has_previous else None,
        last_cursor=_cursor(ordering, _BEFORE) if has_next else None,
    )


class DeferredJoinPaginator(Paginator):
    """Numbered pages that read the ids of a page first, then the rows of those ids only.

    ``OFFSET 89,975 LIMIT 25`` over the joined, annotated register has PostgreSQL build and
    throw away 89,975 joined rows. The ids of the page come instead from the ordering's
    ``(organization, key, id)`` index alone (an index-only scan that skips the offset inside
    the index), and the joins, subqueries and prefetches run for the page's rows. ``count``,
    when given, is the caller's cheaper total (the register's cached figures).
    """

    def __init__(self, object_list: QuerySet[Any], per_page: int, *, count: int | None = None, **kwargs: Any):
        super().__init__(object_list, per_page, **kwargs)
        self.queryset = object_list
        if count is not None:
            self.__dict__["count"] = count  # Paginator.count is a cached property

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = list(self.queryset.values_list("pk", flat=True)[bottom:top])
        # The same ordering sorts the page's few rows as the ids were read.
        return Page(list(self.queryset.filter(pk__in=ids)), number, self)


class RiskPagination(StandardPagination):
    """Numbered pages with a ``count``, as every list answers, or keyset pages with ``cursor``.

    With ``cursor`` in the query (empty for the first page) the answer has ``next`` and
    ``previous`` links that carry the cursor of the neighbouring page, and no ``count``: a
    page costs the same at the start of the register and 100,000 risks deep.
    """

    cursor_query_param = CURSOR_PARAM
    keyset: KeysetPage | None = None
    count_capped = False  # a numbered page of a search beyond SEARCH_COUNT_CAP

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        if self.cursor_query_param not in request.query_params:
            self.keyset = None
            # The view may know the total from the register's cached figures (``register_count``).
            count_of = getattr(view, "register_count", None)
            count, self.count_capped = count_of() if count_of else (None, False)
            paginator = partial(DeferredJoinPaginator, count=count)
            self.django_paginator_class = paginator  # type: ignore[assignment]  # DRF calls it as a class
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        size = self.get_page_size(request) or self.page_size
        try:
            self.keyset = keyset_page(queryset, cursor=request.query_params[self.cursor_query_param], size=size)
        except InvalidCursor as exc:
            raise exceptions.ValidationError({self.cursor_query_param: ["This cursor is not valid here."]}) from exc
        return self.keyset.object_list

    def _link(self, cursor: str | None) -> str | None:
        if cursor is None or self.request is None:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_paginated_response(self, data: Any) -> Response:
        if self.keyset is None:
            response = super().get_paginated_response(data)
            if self.count_capped:
                response.data["count_capped"] = True
            return response
        return Response(
            OrderedDict(
                [
                    ("next", self._link(self.keyset.next_cursor)),
                    ("previous", self._link(self.keyset.previous_cursor)),
                    ("results", data),
                ]
            )
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        paginated["required"] = ["next", "previous", "results"]
        paginated["properties"]["count"]["description"] = (
            "Rows in all; numbered pages only (absent with `cursor`). A search (`q`) counts up to "
            f"{SEARCH_COUNT_CAP}: beyond that, `count` is {SEARCH_COUNT_CAP} and `count_capped` true."
        )
        paginated["properties"]["count_capped"] = {
            "type": "boolean",
            "description": f"Present (true) when a search matches more than {SEARCH_COUNT_CAP} risks: numbered "
            f"pages then reach the first {SEARCH_COUNT_CAP}, and `cursor` pages every match.",
        }
        return paginated

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Keyset pages instead of numbered ones: empty for the first page, then the cursor "
                "of a `next` or `previous` link. The answer has no `count`, and costs the same however deep.",
                "schema": {"type": "string"},
            },
        ]

"""Every page and API endpoint that reads answers with the same number of queries at two sizes.

A list or detail that runs one query per row (an N+1) is fast on the demo data and slow for an
organisation with thousands of records. The routes are those of the tenant-isolation walk
(tests/test_route_isolation.py: every route of the URL resolver, with the values that open it
for the demo organisation's administrator). Each GET route is requested at the demo's size and
again after every tenant record of the demo organisation has been copied twice (the copies keep
their links to the originals, so details show more related rows too), and the query counts must
be equal. Each size is counted twice: with every cached summary cleared (what the first reader
after a write pays) and warm.

Every request runs in a rolled-back savepoint, as in the isolation walk; the data are built once
for the module and rolled back after it.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.db import IntegrityError, connection, models, transaction
from django.test.utils import CaptureQueriesContext

from aims.identity.middleware import ACTIVITY_SESSION_KEY
from tests.test_route_isolation import (
    ROUTES,
    VOCABULARY,
    Route,
    World,
    _build_world,
    covered,
    private_file_storage,
    send,
)

COPIES = 2
# Rows of each tenant model copied: enough that every list and detail holds more than it did.
ROWS_COPIED = 4

READ_ROUTES = [r for r in ROUTES if "GET" in r.tried_methods and r.exemption is None]

# Routes whose query count may fall, but never rise, with more data, each with its reason.
FEWER_WITH_MORE: dict[str, str] = {
    "organisation/activity/": "reads the history tables newest first until a page is full: the more history, "
    "the fewer tables it needs to read",
}


@dataclass
class Counts:
    cold: int
    warm: int
    status: int | None


def _count(world: World, route: Route, url: str) -> Counts:
    client = world.client(world.admin)
    cache.clear()
    connection.queries_log.clear()  # the log keeps 9,000 queries: a full one counts nothing
    with CaptureQueriesContext(connection) as cold:
        send(client, "GET", route, url)
    with CaptureQueriesContext(connection) as warm:
        answer = send(client, "GET", route, url)
    # The savepoint of each request and its release are not the view's queries.
    return Counts(_own(cold.captured_queries), _own(warm.captured_queries), answer.status)


def _activity_tracked_ahead(world: World) -> None:
    """Mark the sessions' activity as recorded an hour ahead: requests are rolled back, so the
    once-a-minute activity record would otherwise be made (and counted) by every request made
    a minute after sign-in, whatever the size."""
    from django.contrib.sessions.backends.db import SessionStore

    for key in world.sessions.values():
        session = SessionStore(session_key=key)
        session[ACTIVITY_SESSION_KEY] = int(time.time()) + 3600
        session.save()


def _own(queries: list[dict]) -> int:
    return sum(1 for q in queries if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")))


def _unique_fields(model: type[models.Model]) -> set[str]:
    names = {f.name for f in model._meta.concrete_fields if f.unique and not f.primary_key}
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint):
            names.update(constraint.fields)
    for together in model._meta.unique_together:
        names.update(together)
    return names


def _in_dependency_order(tenant_models: list[type[models.Model]]) -> list[type[models.Model]]:
    """Tenant models, each after the tenant models its foreign keys point to (cycles broken)."""
    ordered: list[type[models.Model]] = []
    visiting: set[type[models.Model]] = set()

    def visit(model: type[models.Model]) -> None:
        if model in ordered or model in visiting:
            return
        visiting.add(model)
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model in tenant_models and field.related_model is not model:
                visit(field.related_model)
        visiting.discard(model)
        ordered.append(model)

    for model in tenant_models:
        visit(model)
    return ordered


def _copy(row: models.Model, number: int, copies: dict[tuple[type, int, int], int]) -> int | None:
    """Save a copy of ``row`` whose unique values are unique again; its pk, or None when it cannot be.

    A unique value that is a link points to the copy of the linked record made in the same round
    (a version of a copied policy, a criterion of a copied audit); text gets a suffix, a number an
    offset, a UUID a new value.
    """
    model = type(row)
    for name in _unique_fields(model):
        field = model._meta.get_field(name)
        value = getattr(row, field.attname)
        if value is None or name == "organization":
            continue
        if field.is_relation:
            twin = copies.get((field.related_model, value, number))
            if twin is not None:
                setattr(row, field.attname, twin)
        elif isinstance(field, models.UUIDField):
            setattr(row, field.attname, uuid.uuid4())
        elif isinstance(field, models.CharField | models.SlugField | models.TextField) and value:
            suffix = f"-c{number}"
            limit = field.max_length or len(value) + len(suffix)
            setattr(row, field.attname, value[: limit - len(suffix)] + suffix)
        elif isinstance(field, models.IntegerField) and not field.choices:
            setattr(row, field.attname, value + 1000 * number)
    original = row.pk
    row.pk = None
    row._state.adding = True
    try:
        with transaction.atomic():
            row.save()
    except (IntegrityError, ValueError, TypeError):
        return None
    copies[(model, original, number)] = row.pk
    return row.pk


def _grow(world: World) -> tuple[int, set[str], set[str]]:
    """Copy the demo organisation's records; returns how many, the models it has rows of, and
    those of which at least one row was copied."""
    made, kinds, copied = 0, set(), set()
    copies: dict[tuple[type, int, int], int] = {}
    for model in _in_dependency_order(world.tenant_models):
        originals = list(model._default_manager.filter(organization=world.acme).order_by("pk")[:ROWS_COPIED])
        if originals:
            kinds.add(model._meta.label)
        for number in range(1, COPIES + 1):
            for original in originals:
                row = model._default_manager.get(pk=original.pk)
                if _copy(row, number, copies) is not None:
                    made += 1
                    copied.add(model._meta.label)
    return made, kinds, copied


@pytest.fixture(scope="module")
def counted(django_db_setup, django_db_blocker, tmp_path_factory):
    """Query counts of every read route at the demo's size and after the copies, per route."""
    with django_db_blocker.unblock(), private_file_storage(tmp_path_factory), transaction.atomic():
        world = _build_world()
        _activity_tracked_ahead(world)
        urls: dict[Route, str | None] = {}
        for route in READ_ROUTES:
            values: dict[str, str] | None
            if route.object_params:
                try:
                    values = covered(route, world)
                except pytest.fail.Exception:  # reported by the isolation walk
                    values = None
            else:
                values = {p: VOCABULARY[p][0] for p in route.params}
            urls[route] = None if values is None else route.url(values)
        # One pass first, so that what a process caches once (content types, compiled
        # templates) is not counted at the first size only.
        for route, url in urls.items():
            if url is not None:
                send(world.client(world.admin), "GET", route, url)
        small = {r: _count(world, r, u) for r, u in urls.items() if u is not None}
        grown, kinds, copied = _grow(world)
        large = {r: _count(world, r, u) for r, u in urls.items() if u is not None}
        yield {"small": small, "large": large, "grown": grown, "kinds": (kinds, copied), "urls": urls}
        transaction.set_rollback(True)
        cache.clear()


@pytest.mark.parametrize("route", READ_ROUTES, ids=str)
def test_queries_do_not_grow_with_the_data(route, counted, db):
    url = counted["urls"][route]
    if url is None:
        pytest.fail(f"{route}: no values open it (see tests/test_route_isolation.py)", pytrace=False)
    small, large = counted["small"][route], counted["large"][route]
    assert small.status == large.status, f"GET {url}: {small.status} at the demo's size, {large.status} after"
    if str(route) in FEWER_WITH_MORE:
        assert large.cold <= small.cold and large.warm <= small.warm, f"GET {url}: {small} at the demo's size, {large}"
        return
    assert (large.cold, large.warm) == (small.cold, small.warm), (
        f"GET {url} ({route.name}): {small.cold} queries (cached summaries cleared) and {small.warm} warm at the "
        f"demo's size; {large.cold} and {large.warm} with {counted['grown']} more records"
    )


def test_the_copies_grew_most_kinds_of_record(counted):
    """The check above means something only if most kinds of record the demo holds were copied."""
    kinds, copied = counted["kinds"]
    missed = sorted(kinds - copied)
    assert len(copied) >= 0.8 * len(kinds), f"records of these models could not be copied: {missed}"


def test_every_exemption_names_a_route():
    unused = [key for key in FEWER_WITH_MORE if not any(str(r) == key for r in READ_ROUTES)]
    assert not unused, f"FEWER_WITH_MORE entries that match no read route (remove them): {unused}"

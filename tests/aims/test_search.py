"""Text search: trigram indexes on PostgreSQL behind ``?q=``, and the plain fallback elsewhere."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test import RequestFactory

from aims.search import text_search, trigram_index_operation
from registry.filters import AISystemFilter
from registry.models import AISystem
from risk.filters import RiskFilter
from risk.models import Risk
from tests.registry.factories import AISystemFactory
from tests.risk.factories import RiskFactory


@pytest.fixture
def systems(acme):
    return [
        AISystemFactory(organization=acme, ref_code="AIS-0001", name="Radiology triage assistant"),
        AISystemFactory(organization=acme, ref_code="AIS-0002", name="Triage"),
        AISystemFactory(organization=acme, ref_code="AIS-0003", name="Invoice reader"),
    ]


def test_the_fallback_matches_the_same_rows_in_the_querysets_order(acme, systems):
    rows = AISystem.objects.for_org(acme).order_by("ref_code")
    fallback = text_search(rows, ("ref_code", "name"), "  TRIAGE ", rank=True, vendor="sqlite")
    assert "search_rank" not in str(fallback.query)
    assert [s.ref_code for s in fallback] == ["AIS-0001", "AIS-0002"]
    assert list(text_search(rows, ("ref_code", "name"), "", vendor="sqlite")) == list(rows)


def test_postgresql_ranks_the_closest_match_first(acme, systems):
    rows = AISystem.objects.for_org(acme).order_by("ref_code")
    ranked = text_search(rows, ("ref_code", "name"), "triage", rank=True, vendor="postgresql")
    assert [s.ref_code for s in ranked] == ["AIS-0002", "AIS-0001"]
    # Too short to rank: the queryset's order, and still a substring match.
    assert [s.ref_code for s in text_search(rows, ("ref_code", "name"), "tr", rank=True)] == ["AIS-0001", "AIS-0002"]


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        # A test table is tiny, so the planner would rightly scan it: forbid that to see which index serves.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm is PostgreSQL's")
def test_inventory_search_reads_a_trigram_index_per_column(rf: RequestFactory, alice, acme, systems):
    request = rf.get("/", {"q": "triage"})
    request.tenant = SimpleNamespace(organization=acme)
    # Without the organisation's own index to fall back on, the plan shows whether each column's
    # expression (Django's UPPER(column) LIKE UPPER(...)) is one an index was built for.
    queryset = AISystemFilter(request.GET, queryset=AISystem.objects.order_by(), request=request).qs
    plan = _plan(queryset)
    for column in ("name", "ref_code", "description", "purpose", "business_unit", "external_id"):
        assert f"registry_aisystem_{column}_trgm" in plan, plan
    assert "Seq Scan" not in plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm is PostgreSQL's")
def test_risk_register_search_reads_trigram_indexes(rf: RequestFactory, alice, acme):
    RiskFactory(organization=acme, owner=alice, title="Drift")
    request = rf.get("/", {"q": "drift"})
    request.tenant = SimpleNamespace(organization=acme)
    plan = _plan(RiskFilter(request.GET, queryset=Risk.objects.order_by(), request=request).qs)
    for column in ("title", "ref_code", "description"):
        assert f"risk_risk_{column}_trgm" in plan, plan


class _Editor:
    def __init__(self, vendor: str) -> None:
        self.connection = SimpleNamespace(vendor=vendor)
        self.executed: list[str] = []

    def execute(self, sql: str) -> None:
        self.executed.append(sql)


def test_the_index_migration_does_nothing_on_sqlite_and_builds_concurrently_on_postgresql():
    operation = trigram_index_operation("registry_aisystem", ["name", "ref_code"])
    sqlite = _Editor("sqlite")
    operation.code(None, sqlite)
    operation.reverse_code(None, sqlite)
    assert sqlite.executed == []
    postgres = _Editor("postgresql")
    operation.code(None, postgres)
    assert postgres.executed == [
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS "registry_aisystem_name_trgm" ON "registry_aisystem" '
        'USING gin (UPPER("name") gin_trgm_ops)',
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS "registry_aisystem_ref_code_trgm" ON "registry_aisystem" '
        'USING gin (UPPER("ref_code") gin_trgm_ops)',
    ]
    operation.reverse_code(None, postgres)
    assert postgres.executed[-1] == 'DROP INDEX CONCURRENTLY IF EXISTS "registry_aisystem_ref_code_trgm"'

"""Each risk test starts with an empty cache: cached summaries (heat maps, totals, tiles) are keyed
by organisation id, which a database that reuses ids after a rollback (SQLite) would give again."""

from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()

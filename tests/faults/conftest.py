"""Fault injection against the real services: packs write into each test's own private directory."""

from __future__ import annotations

from tests.audits.conftest import private_storage  # noqa: F401  (autouse: packs never touch the real store)

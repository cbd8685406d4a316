"""Canonical fingerprints of database records, so a pack can prove what it was built from."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.db import models


def record_payload(instance: models.Model) -> dict:
    """Every concrete field by column name; foreign keys as ids. Stable across runs."""
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def record_sha256(instance: models.Model) -> str:
    payload = json.dumps(record_payload(instance), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class RecordEntry:
    type: str
    id: int
    label: str
    sha256: str

    def as_manifest(self) -> dict:
        return {"type": self.type, "id": self.id, "label": self.label, "sha256": self.sha256}


def record_entry(instance: models.Model, label: str | None = None) -> RecordEntry:
    return RecordEntry(instance._meta.label, instance.pk, label or str(instance), record_sha256(instance))

"""The data files embedded in a pack: the full risk register, the SoA and the change history as CSV and JSON.

The pages summarise big sections; these files hold every row, for the auditor's own analysis.
Each file is UTF-8 with a header row (CSV) or one JSON array of objects, written row by row
into one buffer (querysets read with ``iterator()``), so a register of any size is never held
as both rows and text at once. They are listed in the evidence index and the manifest with
their SHA-256 and row counts, and ``evidence_pack_verify`` checks them like any attached file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from django.db.models import Prefetch
from django.utils.functional import Promise

from audits.models import EvidencePack, PackSection
from audits.packs.records import RecordEntry
from audits.packs.sections import HISTORY_ATTACHMENT_LIMIT, history_entries_streamed
from controls.soa.selectors import control_treatment_links, soa_rows
from risk.models import Risk, TreatmentAction, TreatmentControl

# Rows read from the database per round trip while a file is written.
CHUNK = 2000

RISK_COLUMNS = [
    "ref_code", "title", "description", "system", "owner", "risk_source", "objective",
    "inherent_likelihood", "inherent_impact", "inherent_level", "treatment_option",
    "residual_likelihood", "residual_impact", "residual_level", "status", "next_review_date",
    "review_overdue", "accepted_at", "accepted_by", "acceptance_rationale", "acceptance_override",
    "created_at", "updated_at",
]  # fmt: skip
TREATMENT_COLUMNS = ["risk", "title", "description", "owner", "due_date", "status", "overdue", "controls"]
SOA_COLUMNS = [
    "control", "title", "decision", "justification", "implementation_status", "implementation", "owner",
    "target_date", "past_target", "evidence_count", "risks_relying", "treatments_relying", "risk_refs",
]  # fmt: skip
HISTORY_COLUMNS = ["when", "who", "action", "record_type", "record", "changes"]
RECORD_COLUMNS = ["type", "id", "label", "sha256"]


def _text(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Promise):
        # A label read from a model (a field's or a model's name): text in the pack's language.
        return str(value)
    return value


def _email(user) -> str:
    return user.email if user is not None else ""


class _DataFile:
    """Writes rows as CSV or JSON into a byte buffer or an open binary file; counts them."""

    def __init__(self, columns: Sequence[str], kind: str, handle: BinaryIO | None = None):
        self.columns, self.kind, self.rows = list(columns), kind, 0
        self.buffer: BinaryIO = handle if handle is not None else io.BytesIO()
        self.text = io.TextIOWrapper(self.buffer, encoding="utf-8", newline="")
        if kind == "csv":
            self.writer = csv.writer(self.text)
            self.writer.writerow(self.columns)
        else:
            self.text.write("[")

    def add(self, row: dict[str, Any]) -> None:
        if self.kind == "csv":
            self.writer.writerow(["" if row[c] is None else _text(row[c]) for c in self.columns])
        else:
            self.text.write(("," if self.rows else "") + "\n")
            self.text.write(json.dumps({c: _text(row[c]) for c in self.columns}, ensure_ascii=False, default=str))
        self.rows += 1

    def close(self) -> bytes:
        """Finish the file; returns its bytes when written to a buffer (nothing for a file)."""
        if self.kind == "json":
            self.text.write("\n]\n")
        self.text.flush()
        data = self.buffer.getvalue() if isinstance(self.buffer, io.BytesIO) else b""
        self.text.close()
        return data


def _write(name: str, columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> list[tuple[str, bytes, int]]:
    """One pass over ``rows``, written to ``name``.csv and ``name``.json at once."""
    files = [_DataFile(columns, "csv"), _DataFile(columns, "json")]
    for row in rows:
        for data_file in files:
            data_file.add(row)
    return [(f"{name}.{f.kind}", f.close(), f.rows) for f in files]


@dataclass
class WrittenFile:
    """A data file written to disk: its name in the pack, where it is, and its rows."""

    name: str
    path: Path
    rows: int


def _write_to_disk(
    directory: Path, prefix: str, name: str, columns: Sequence[str], rows: Iterable[dict[str, Any]]
) -> list[WrittenFile]:
    """Like ``_write``, straight into files: a register of any size never sits in memory."""
    paths = {kind: directory / f"{prefix}{name}.{kind}" for kind in ("csv", "json")}
    files = [_DataFile(columns, kind, path.open("wb")) for kind, path in paths.items()]
    try:
        for row in rows:
            for data_file in files:
                data_file.add(row)
    finally:
        for data_file in files:
            data_file.close()
    return [WrittenFile(f"{name}.{f.kind}", paths[f.kind], f.rows) for f in files]


def _risks(pack: EvidencePack):
    risks = Risk.objects.for_org(pack.organization)
    if pack.scope == EvidencePack.Scope.SYSTEM:
        risks = risks.filter(system_id=pack.system_id)
    return risks


def risk_rows(pack: EvidencePack) -> Iterator[dict[str, Any]]:
    risks = (
        _risks(pack)
        .select_related("system", "owner", "risk_source", "objective", "accepted_by")
        .order_by("ref_code", "pk")
    )
    for risk in risks.iterator(chunk_size=CHUNK):
        yield {
            "ref_code": risk.ref_code,
            "title": risk.title,
            "description": risk.description,
            "system": risk.system.ref_code if risk.system else "",
            "owner": _email(risk.owner),
            "risk_source": risk.risk_source.ref if risk.risk_source else "",
            "objective": risk.objective.ref if risk.objective else "",
            "inherent_likelihood": risk.inherent_likelihood,
            "inherent_impact": risk.inherent_impact,
            "inherent_level": risk.inherent_level,
            "treatment_option": risk.treatment_option,
            "residual_likelihood": risk.residual_likelihood,
            "residual_impact": risk.residual_impact,
            "residual_level": risk.residual_level,
            "status": risk.status,
            "next_review_date": risk.next_review_date,
            "review_overdue": risk.review_overdue,
            "accepted_at": risk.accepted_at,
            "accepted_by": _email(risk.accepted_by),
            "acceptance_rationale": risk.acceptance_rationale,
            "acceptance_override": risk.acceptance_override,
            "created_at": risk.created_at,
            "updated_at": risk.updated_at,
        }


def treatment_rows(pack: EvidencePack) -> Iterator[dict[str, Any]]:
    treatments = (
        TreatmentAction.objects.filter(risk__in=_risks(pack))
        .select_related("risk", "owner")
        .prefetch_related(Prefetch("control_links", queryset=TreatmentControl.objects.select_related("control")))
        .order_by("risk__ref_code", "due_date", "pk")
    )
    for treatment in treatments.iterator(chunk_size=CHUNK):
        yield {
            "risk": treatment.risk.ref_code,
            "title": treatment.title,
            "description": treatment.description,
            "owner": _email(treatment.owner),
            "due_date": treatment.due_date,
            "status": treatment.status,
            "overdue": treatment.overdue,
            "controls": " ".join(link.control.ref for link in treatment.control_links.all()),
        }


def soa_data_rows(pack: EvidencePack) -> Iterator[dict[str, Any]]:
    organization = pack.organization
    # Every risk relying on each control (the pages name only the first few).
    refs: dict[int, set[str]] = {}
    treatments: dict[int, int] = {}
    links = control_treatment_links(organization).values_list("control_id", "treatment__risk__ref_code")
    for control_id, ref_code in links.iterator(chunk_size=CHUNK):
        refs.setdefault(control_id, set()).add(ref_code)
        treatments[control_id] = treatments.get(control_id, 0) + 1
    for row in soa_rows(organization):
        risk_refs = sorted(refs.get(row.control_id, ()))
        yield {
            "control": row.control.ref,
            "title": row.control.title,
            "decision": row.decision,
            "justification": row.justification,
            "implementation_status": row.implementation_status,
            "implementation": row.implementation,
            "owner": _email(row.owner),
            "target_date": row.target_date,
            "past_target": row.past_target,
            "evidence_count": row.evidence_count,  # type: ignore[attr-defined]  # annotated by soa_rows
            "risks_relying": len(risk_refs),
            "treatments_relying": treatments.get(row.control_id, 0),
            "risk_refs": " ".join(risk_refs),
        }


def history_rows(pack: EvidencePack) -> Iterator[dict[str, Any]]:
    for entry in history_entries_streamed(pack, HISTORY_ATTACHMENT_LIMIT):
        changes = "; ".join(
            f"{c.field}: {'' if c.old is None else c.old} -> {'' if c.new is None else c.new}"
            if entry.action == "changed"
            else f"{c.field}: {'' if c.new is None else c.new}"
            for c in entry.changes
        )
        yield {
            "when": entry.when,
            "who": _email(entry.who),
            "action": entry.action,
            "record_type": entry.model,
            "record": entry.label,
            "changes": changes,
        }


def record_rows(records: Sequence[RecordEntry]) -> Iterator[dict[str, Any]]:
    for entry in records:
        yield entry.as_manifest()


Rows = Callable[[EvidencePack], Iterator[dict[str, Any]]]

# The registers attached to a pack, in groups: each group is one part of the pack, written
# while the sections are laid out, when the pack has the section it belongs to.
DATA_GROUPS: dict[str, tuple[str, list[tuple[str, list[str], Rows]]]] = {
    "risks": (
        PackSection.RISKS,
        [("risk-register", RISK_COLUMNS, risk_rows), ("risk-treatments", TREATMENT_COLUMNS, treatment_rows)],
    ),
    "soa": (PackSection.CONTROLS, [("statement-of-applicability", SOA_COLUMNS, soa_data_rows)]),
    "history": (PackSection.HISTORY, [("change-history", HISTORY_COLUMNS, history_rows)]),
}


def data_groups(pack: EvidencePack) -> list[str]:
    """The groups of data files ``pack`` attaches, in order."""
    return [group for group, (section, _) in DATA_GROUPS.items() if section in pack.sections]


def write_data_group(pack: EvidencePack, group: str, directory: Path, prefix: str) -> list[WrittenFile]:
    """Write one group's CSV and JSON files into ``directory``, each name prefixed with ``prefix``."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[WrittenFile] = []
    for name, columns, rows in DATA_GROUPS[group][1]:
        written += _write_to_disk(directory, prefix, name, columns, rows(pack))
    return written


def record_index_attachments(pack: EvidencePack, records: Sequence[RecordEntry]) -> list[tuple[str, bytes, int]]:
    """The evidence index as data files (every record with its SHA-256), when the pack has that section."""
    if PackSection.EVIDENCE not in pack.sections:
        return []
    return _write("evidence-index", RECORD_COLUMNS, record_rows(records))

"""Evidence packs rendered in parts: plan the parts, render each one (any worker), merge them.

The pack's row stays the source of truth and each part has a row of its own. A pack is
planned as parts in three phases:

0. each chosen section, the inventory in chunks of systems and the history in chunks;
1. the evidence index, which lists the records of every part of phase 0;
2. the cover and contents, which give the page where each section starts: it is rendered
   last, once every other part knows its page count.

The part that completes a phase sends the next phase to the workers, and the last part of
all sends the merge. "Last" is decided under a lock on the pack's row, so exactly one part
does it however many finish at once. Parts check the pack's status when they start and
when they finish, so a cancelled or failed pack never gets a file; the merge writes the
file only for a pack still running.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import resource
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aims.outbox.services import outbox_enqueue
from audits.models import EvidencePack, EvidencePackPart, PackSection
from audits.packs import render
from audits.packs.attachments import data_groups, record_index_attachments, write_data_group
from audits.packs.merge import LINK_SCHEME, OutlineEntry
from audits.packs.records import RecordEntry
from audits.packs.sections import (
    COLLECTORS,
    collect_history,
    collect_inventory,
    detailed_system_ids,
    evidence_files,
    inventory_system_count,
)
from registry.models import AISystem

logger = logging.getLogger(__name__)
Status = EvidencePack.Status
PartStatus = EvidencePackPart.Status

PART_TASK = "audits.packs.tasks.render_evidence_pack_part"
MERGE_TASK = "audits.packs.tasks.merge_evidence_pack"
FRONT = "front"
EVIDENCE = "section:evidence"
# Parts that usually take longest: the registers, the history, the inventory and the risks.
LONG_PARTS = ("data:", "history:", "inventory:", "section:risks", "section:impact", "section:controls")
# Parts that write the attached registers (CSV and JSON) and no page.
DATA_PREFIX = "data:"
DATA_LABELS = {
    "risks": _("Attached risk register and treatments"),
    "soa": _("Attached Statement of Applicability"),
    "history": _("Attached change history"),
}
FRONT_PHASE, EVIDENCE_PHASE = 2, 1


@dataclass
class PlannedPart:
    key: str
    label: str
    phase: int = 0
    params: dict[str, Any] | None = None


def chosen_sections(pack: EvidencePack) -> list[str]:
    """The pack's sections that have a collector, in the order of the standard."""
    return [s for s in PackSection.values if s in pack.sections and s in COLLECTORS]


def plan_parts(pack: EvidencePack) -> list[PlannedPart]:
    """The parts of ``pack`` in the order they appear in it."""
    planned = [PlannedPart(FRONT, gettext("Cover and contents"), FRONT_PHASE)]
    # The registers first: they lay out no page, but a large one takes as long as a section,
    # and parts go to the workers in this order.
    planned += [PlannedPart(f"{DATA_PREFIX}{group}", str(DATA_LABELS[group])) for group in data_groups(pack)]
    for key in chosen_sections(pack):
        label = str(PackSection(key).label)
        if key == PackSection.INVENTORY:
            planned += _inventory_parts(pack, label)
        elif key == PackSection.HISTORY:
            count, size = len(collect_history(pack).context["entries"]), max(1, settings.EVIDENCE_PACK_HISTORY_CHUNK)
            offsets = list(range(0, count, size)) or [0]
            planned += [
                PlannedPart(
                    f"history:{n}", _part_label(label, n, len(offsets)), params={"offset": offset, "limit": size}
                )
                for n, offset in enumerate(offsets, 1)
            ]
        else:
            planned.append(PlannedPart(f"section:{key}", label))
    if PackSection.EVIDENCE in pack.sections:
        planned.append(PlannedPart(EVIDENCE, gettext("Evidence index"), EVIDENCE_PHASE))
    return planned


def _part_label(label: str, number: int, count: int) -> str:
    return gettext("%(section)s, part %(number)s of %(count)s") % {"section": label, "number": number, "count": count}


def _inventory_parts(pack: EvidencePack, label: str) -> list[PlannedPart]:
    """The summary table of every system, then the detail pages of the detailed ones, in chunks.

    A summary that fits in one slice opens the first chunk of detail pages; a longer one is
    split over parts of its own, so that no part lays out thousands of rows.
    """
    ids, size = detailed_system_ids(pack), max(1, settings.EVIDENCE_PACK_INVENTORY_CHUNK)
    chunks: list[dict[str, Any]] = [{"system_ids": ids[i : i + size]} for i in range(0, len(ids), size)]
    total, slice_size = inventory_system_count(pack), max(1, settings.EVIDENCE_PACK_SUMMARY_CHUNK)
    if total <= slice_size:
        params = chunks or [{"system_ids": []}]
        params[0]["with_summary"] = True
    else:
        params = [
            {"system_ids": [], "with_summary": True, "summary_offset": offset, "summary_limit": slice_size}
            for offset in range(0, total, slice_size)
        ] + chunks
    return [
        PlannedPart(f"inventory:{n}", _part_label(label, n, len(params)), params=part)
        for n, part in enumerate(params, 1)
    ]


def parts_dir(pack: EvidencePack) -> str:
    return f"evidence-packs/parts/{pack.uid}"


def _storage_path(name: str) -> Path:
    return Path(default_storage.path(name))


def record_parts(pack: EvidencePack) -> list[EvidencePackPart]:
    """Replace the pack's parts by a fresh plan (a pack planned again starts from nothing)."""
    discard_part_files(pack)
    pack.parts.all().delete()
    rows = [
        EvidencePackPart(
            organization_id=pack.organization_id,
            pack=pack,
            index=index,
            phase=planned.phase,
            key=planned.key,
            label=planned.label[:200],
            params=planned.params or {},
        )
        for index, planned in enumerate(plan_parts(pack))
    ]
    return EvidencePackPart.objects.bulk_create(rows)


def discard_part_files(pack: EvidencePack) -> None:
    """Remove the pack's part files: after the merge, on failure, on cancel and on expiry."""
    shutil.rmtree(_storage_path(parts_dir(pack)), ignore_errors=True)


def next_phase(pack_id: int) -> list[int]:
    """The parts still to send of the earliest phase not yet done, once every earlier phase has succeeded.

    A part already sent (waiting for a worker, or for its retry) has its ``heartbeat_at``
    set and is not sent again.
    """
    parts = list(
        EvidencePackPart.objects.filter(pack_id=pack_id)
        .order_by("index")
        .values("pk", "key", "phase", "status", "heartbeat_at")
    )
    pending = [p for p in parts if p["status"] != PartStatus.SUCCEEDED]
    if not pending:
        return []
    phase = min(p["phase"] for p in pending)
    due = [p for p in pending if p["phase"] == phase and p["status"] == PartStatus.QUEUED and p["heartbeat_at"] is None]
    # Workers take parts in the order they are sent: the long ones first, so that the short
    # ones fill in at the end and no worker is left alone with a long part at the end of a phase.
    return [p["pk"] for p in sorted(due, key=lambda p: not p["key"].startswith(LONG_PARTS))]


def dispatch(part_ids: list[int]) -> None:
    """Send parts to the workers through the outbox (in the caller's transaction)."""
    now = timezone.now()
    EvidencePackPart.objects.filter(pk__in=part_ids, status=PartStatus.QUEUED).update(heartbeat_at=now)
    for part_id in part_ids:
        outbox_enqueue(task=PART_TASK, args=[part_id])


# --- One part ------------------------------------------------------------------------------


def _claim_part(part_id: int, stale_before: datetime) -> EvidencePackPart | None:
    now = timezone.now()
    claimable = Q(status=PartStatus.QUEUED) | Q(status=PartStatus.RUNNING, heartbeat_at__lt=stale_before)
    updated = EvidencePackPart.objects.filter(claimable, pk=part_id, pack__status=Status.RUNNING).update(
        status=PartStatus.RUNNING,
        worker=f"{socket.gethostname()}:{os.getpid()}"[:200],
        started_at=now,
        heartbeat_at=now,
        finished_at=None,
        error="",
        attempts=F("attempts") + 1,
    )
    if not updated:
        return None
    return EvidencePackPart.objects.select_related(
        "pack__organization", "pack__system", "pack__audit", "pack__requested_by"
    ).get(pk=part_id)


def part_render(part_id: int, stale_before: datetime) -> tuple[EvidencePackPart | None, list[int], bool]:
    """Render one part; returns it, the parts to send next and whether the merge is due.

    Returns ``(None, [], False)`` when the part is not for this worker: done, taken by a
    live worker, or its pack is no longer running (cancelled, failed). Errors propagate;
    the caller retries or fails the part.
    """
    part = _claim_part(part_id, stale_before)
    if part is None:
        return None, [], False
    try:
        rendered = _render(part)
    except Exception:
        raise
    except BaseException:
        # Interrupted (the process is stopping): no longer running here; the pack's reaper
        # sees the pack with nobody at work on it and plans it again.
        EvidencePackPart.objects.filter(pk=part_id, status=PartStatus.RUNNING).update(
            status=PartStatus.QUEUED, heartbeat_at=None
        )
        raise
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # kilobytes on Linux
    with transaction.atomic():
        pack = EvidencePack.objects.select_for_update().get(pk=part.pack_id)
        finished = EvidencePackPart.objects.filter(pk=part_id, status=PartStatus.RUNNING).update(
            status=PartStatus.SUCCEEDED,
            page_count=rendered.page_count,
            sha256=rendered.sha256,
            size=rendered.size,
            file=_relative(rendered.path),
            finished_at=timezone.now(),
            peak_rss_mb=peak,
        )
        if pack.status != Status.RUNNING or not finished:
            # Cancelled or failed meanwhile (or planned again): this part's files must not linger.
            rendered.path.unlink(missing_ok=True)
            if pack.status != Status.RUNNING:
                discard_part_files(pack)
            return None, [], False
        _record_progress(pack.pk)
        upcoming = next_phase(pack.pk)
        merge_due = not upcoming and not _unfinished(pack.pk)
    part.refresh_from_db()
    return part, upcoming, merge_due


def _unfinished(pack_id: int) -> bool:
    return EvidencePackPart.objects.filter(pack_id=pack_id).exclude(status=PartStatus.SUCCEEDED).exists()


def _relative(path: Path) -> str:
    return str(path.relative_to(Path(default_storage.path(""))))


def _record_progress(pack_id: int) -> None:
    """The pack's progress, aggregated over its parts (the merge is the last tenth)."""
    parts = list(EvidencePackPart.objects.filter(pack_id=pack_id).values_list("status", flat=True))
    done = sum(status == PartStatus.SUCCEEDED for status in parts)
    percent = 5 + 85 * done // max(len(parts), 1)
    EvidencePack.objects.filter(pk=pack_id, status=Status.RUNNING).update(
        progress=percent, current_step=f"Rendered {done} of {len(parts)} parts", heartbeat_at=timezone.now()
    )


def part_fail(part_id: int, message: str) -> None:
    """Record a part's final failure and fail its pack, saying which part failed and why."""
    from audits.packs.services import fail_pack

    part = EvidencePackPart.objects.filter(pk=part_id).first()
    if part is None:
        return
    EvidencePackPart.objects.filter(pk=part_id).update(
        status=PartStatus.FAILED, error=message[:4000], finished_at=timezone.now()
    )
    fail_pack(part.pack_id, f"{part.label}: {message}")


@dataclass
class _Sidecar:
    """What a part leaves for the later phases and the merge, beside its PDF."""

    records: list[dict[str, Any]]
    files: list[dict[str, Any]]
    attachments: list[tuple[str, str]]  # (name in the pack, file beside the part)
    anchors: dict[str, int]  # anchor of a section or system -> page in this part (from 0)


def _sidecar_name(part: EvidencePackPart) -> str:
    return f"{parts_dir(part.pack)}/{part.index:04d}.json"


def _read_sidecars(parts: list[EvidencePackPart]) -> Iterator[tuple[EvidencePackPart, _Sidecar]]:
    for part in parts:
        data = json.loads(_storage_path(_sidecar_name(part)).read_text())
        yield part, _Sidecar(data["records"], data["files"], [tuple(a) for a in data["attachments"]], data["anchors"])


def _render(part: EvidencePackPart) -> render.RenderedPack:
    # Whichever worker takes it, a part is written in the language its pack was requested in.
    with translation.override(part.pack.language):
        return _render_part(part)


def _render_part(part: EvidencePackPart) -> render.RenderedPack:
    pack = part.pack
    generated_at = pack.started_at or timezone.now()
    context: dict[str, Any] = {
        "pack": pack,
        "organization": pack.organization,
        "generated_at": generated_at,
        "header_org": render.css_string(pack.organization.name),
        "header_pack": render.css_string(gettext("Evidence pack %(uid)s") % {"uid": pack.uid}),
        "footer_aims": render.css_string("ISO/IEC 42001:2023 " + gettext("AI management system")),
        "sections": [],
    }
    records: list[dict[str, Any]] = []
    files: list[dict[str, Any]] = []
    attachments: list[tuple[str, bytes]] = []
    numbers = {key: n for n, key in enumerate(chosen_sections(pack), 1)}
    earlier = list(pack.parts.filter(phase__lt=part.phase).order_by("index"))
    if not has_pages(part):
        return _write_data(part)
    if part.key == FRONT:
        # Without an evidence index the front carries the pack's own attached files.
        if not pack.parts.filter(key=EVIDENCE).exists():
            shown = _merged_records(sidecar for _, sidecar in _read_sidecars(earlier))
            files, attachments = attached_files(pack, shown)
        return _render_front(part, context, earlier, numbers, files, attachments)
    if part.key == EVIDENCE:
        sidecars = list(_read_sidecars(earlier))
        records = _merged_records(sidecar for _, sidecar in sidecars)
        files, attachments = attached_files(pack, records)
        # The index lists the data files of the earlier parts too; its sidecar keeps only its own.
        listed = [f for _, sidecar in sidecars for f in sidecar.files] + files
        context.update(evidence_number=len(numbers) + 1, records=[RecordEntry(**r) for r in records], files=listed)
    else:
        kind, _, rest = part.key.partition(":")
        if kind == "inventory":
            params = part.params
            result = collect_inventory(
                pack,
                params.get("system_ids", []),
                with_summary=params.get("with_summary"),
                summary_offset=params.get("summary_offset", 0),
                summary_limit=params.get("summary_limit"),
            )
            section_key, first = str(PackSection.INVENTORY), rest == "1"
        elif kind == "history":
            result = collect_history(pack, part.params.get("offset", 0), part.params.get("limit"))
            section_key, first = PackSection.HISTORY, rest == "1"
        else:
            result = COLLECTORS[rest](pack)
            section_key, first = rest, True
        context["sections"] = [
            {
                "key": section_key,
                "title": result.title,
                "template": result.template,
                "context": result.context,
                "number": numbers[section_key],
                "first": first,
            }
        ]
        records = [entry.as_manifest() for entry in result.records]
        # Sections may attach files of their own (CSV or JSON exports): kept for the merge.
        attachments = list(getattr(result, "attachments", None) or [])
    document = render.layout(render.render_html(context))
    return _write(part, document, _Sidecar(records, files, [], _anchors(document)), attachments)


def _write_data(part: EvidencePackPart) -> render.RenderedPack:
    """A data part: the group's registers written beside the parts, for the merge to attach."""
    directory = _storage_path(parts_dir(part.pack))
    written = write_data_group(part.pack, part.key.removeprefix(DATA_PREFIX), directory, f"{part.index:04d}-")
    files = [
        {
            "name": w.name,
            "sha256": render.file_sha256(w.path),
            "size": w.path.stat().st_size,
            "rows": w.rows,
            "kind": "data",
        }
        for w in written
    ]
    sidecar = _write_sidecar(part, _Sidecar([], files, [(w.name, w.path.name) for w in written], {}))
    # No page: the part's "file" is its sidecar, so that its row still says what it wrote.
    return render.RenderedPack(sidecar, 0, render.file_sha256(sidecar), sidecar.stat().st_size)


def has_pages(part: EvidencePackPart) -> bool:
    return not part.key.startswith(DATA_PREFIX)


def _render_front(part, context, earlier, numbers, files, attachments) -> render.RenderedPack:
    """The cover and contents: laid out until its own page count is stable (usually twice)."""
    sidecars = list(_read_sidecars(earlier))
    first_page: dict[str, int] = {}
    offset = 0
    for other, sidecar in sidecars:
        for anchor, page in sidecar.anchors.items():
            first_page.setdefault(anchor, offset + page)
        offset += other.page_count or 0
    context.update(record_count=len(_merged_records(s for _, s in sidecars)), front=True, link_scheme=LINK_SCHEME)
    entries = _contents(part.pack, numbers, sidecars)
    front_pages = 1
    for _attempt in range(4):
        context["contents"] = [
            {**entry, "page": front_pages + first_page[entry["anchor"]] + 1}
            for entry in entries
            if entry["anchor"] in first_page
        ]
        document = render.layout(render.render_html(context))
        if len(document.pages) == front_pages:
            break
        front_pages = len(document.pages)
    return _write(part, document, _Sidecar([], files, [], _anchors(document)), attachments)


def _contents(pack: EvidencePack, numbers: dict[str, int], sidecars) -> list[dict[str, Any]]:
    """The contents entries: each section, and under the inventory each system with detail pages."""
    entries: list[dict[str, Any]] = []
    system_ids = [
        pk for other, _ in sidecars if other.key.startswith("inventory:") for pk in other.params.get("system_ids", [])
    ]
    systems = AISystem.objects.in_bulk(system_ids)
    for key, number in numbers.items():
        entries.append({"anchor": f"sec-{key}", "number": number, "title": str(PackSection(key).label), "sub": False})
        if key == PackSection.INVENTORY:
            entries += [
                {"anchor": f"sys-{pk}", "number": None, "title": f"{s.ref_code} {s.name}", "sub": True}
                for pk in system_ids
                if (s := systems.get(pk)) is not None
            ]
    if PackSection.EVIDENCE in pack.sections:
        entries.append(
            {"anchor": "sec-evidence", "number": len(numbers) + 1, "title": gettext("Evidence index"), "sub": False}
        )
    return entries


def _anchors(document) -> dict[str, int]:
    # Only the anchors the contents and the outline point at: a part may hold thousands of ids.
    wanted = ("sec-", "sys-", "contents")
    anchors: dict[str, int] = {}
    for index, page in enumerate(document.pages):
        for name in page.anchors:
            if name.startswith(wanted):
                anchors.setdefault(name, index)
    return anchors


def _write(part, document, sidecar: _Sidecar, attachments: list[tuple[str, bytes]]) -> render.RenderedPack:
    directory = _storage_path(parts_dir(part.pack))
    directory.mkdir(parents=True, exist_ok=True)
    for n, (name, content) in enumerate(attachments):
        stored = f"{part.index:04d}-{n}.bin"
        (directory / stored).write_bytes(content)
        sidecar.attachments.append((name, stored))
    _write_sidecar(part, sidecar)
    return render.write_part(document, directory / f"{part.index:04d}-{part.key.replace(':', '-')}.pdf")


def _write_sidecar(part: EvidencePackPart, sidecar: _Sidecar) -> Path:
    path = _storage_path(_sidecar_name(part))
    payload = {"records": sidecar.records, "files": sidecar.files, "attachments": sidecar.attachments}
    payload["anchors"] = sidecar.anchors
    path.write_text(json.dumps(payload, default=str))  # lazy labels (field and model names) as text
    return path


def _merged_records(sidecars) -> list[dict[str, Any]]:
    seen: set[tuple[str, int]] = set()
    records = []
    for sidecar in sidecars:
        for entry in sidecar.records:
            if (entry["type"], entry["id"]) not in seen:
                seen.add((entry["type"], entry["id"]))
                records.append(entry)
    return records


def attached_files(
    pack: EvidencePack, records: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[tuple[str, bytes]]]:
    """The files a part embeds besides the registers of the data parts, as the manifest lists them, and their bytes.

    The evidence index as data files (every record with its SHA-256); the evidence files
    themselves when the pack includes them.
    """
    files: list[dict[str, Any]] = []
    attachments: list[tuple[str, bytes]] = []
    for name, data, rows in record_index_attachments(pack, [RecordEntry(**r) for r in records]):
        files.append(
            {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "rows": rows, "kind": "data"}
        )
        attachments.append((name, data))
    if not pack.include_files:
        return files, attachments
    for version, data in evidence_files(pack):
        name = f"evidence-{version.evidence_id}-v{version.number}-{version.original_name or 'file'}"
        files.append(
            {
                "name": name,
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
                "evidence_id": version.evidence_id,
                "version": version.number,
                "title": version.evidence.title,
                "stored_sha256": version.sha256,
            }
        )
        attachments.append((name, data))
    return files, attachments


# --- The merge -----------------------------------------------------------------------------


@dataclass
class MergeInput:
    paths: list[Path]
    records: list[dict[str, Any]]  # as the manifest lists them
    files: list[dict[str, Any]]
    attachments: list[tuple[str, Path]]  # read one at a time by the merge
    outline: list[OutlineEntry]


def merge_input(pack: EvidencePack, parts: list[EvidencePackPart]) -> MergeInput:
    """What the merge needs from the parts, read back from their files."""
    directory = _storage_path(parts_dir(pack))
    sidecars = list(_read_sidecars(parts))
    records = _merged_records(s for _, s in sidecars)
    files = [f for _, s in sidecars for f in s.files]
    attachments = [(name, directory / stored) for _, s in sidecars for name, stored in s.attachments]
    numbers = {key: n for n, key in enumerate(chosen_sections(pack), 1)}
    contents = _contents(pack, numbers, sidecars)
    outline: list[OutlineEntry] = [OutlineEntry(gettext("Contents"), "contents")]
    for entry in contents:
        title = f"{entry['number']}. {entry['title']}" if entry["number"] else entry["title"]
        if entry["sub"] and outline:
            outline[-1].children.append(OutlineEntry(title, entry["anchor"]))
        else:
            outline.append(OutlineEntry(title, entry["anchor"]))
    paths = [_storage_path(p.file) for p in parts if has_pages(p)]
    return MergeInput(paths, records, files, attachments, outline)

"""Evidence packs: request, generate (in parts, on any workers), merge, cancel, verify, expire.

The database row is the source of truth. A request only creates the row and enqueues the
task after commit; a worker claims the row with a conditional UPDATE and plans its parts
(see :mod:`audits.packs.parts`), workers render the parts, and the merge marks the pack
succeeded in the same UPDATE that records the file, so a pack never claims success without
its file, nor with a part missing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.http import FileResponse, Http404
from django.utils import timezone, translation
from django.utils.translation import gettext
from pikepdf import PdfError

from aims.files import private_file_response
from aims.i18n import SUPPORTED
from aims.models import Organization, User
from aims.outbox.services import outbox_dispatch, outbox_enqueue
from aims.roles import Capability, role_can
from audits.models import (
    AUDIT_SECTIONS,
    Audit,
    EvidencePack,
    EvidencePackDownload,
    EvidencePackPart,
    PackDetail,
    PackSection,
)
from audits.packs import parts, render
from audits.packs.merge import merge_parts
from audits.packs.models import AUTO_DETAIL_ALL_BELOW, AUTO_DETAIL_HIGH_RISK_UP_TO
from audits.packs.records import record_sha256
from audits.packs.sections import high_risk_system_ids
from controls.models import EvidenceVersion
from registry.models import AISystem

logger = logging.getLogger(__name__)
Status = EvidencePack.Status
PartStatus = EvidencePackPart.Status
# What a new pack says until a worker takes it (possibly much later, if the broker is down).
QUEUED_STEP = "Queued: it will start when workers are available"


# --- Request -------------------------------------------------------------------------------


@transaction.atomic
def evidence_pack_request(
    *,
    organization: Organization,
    acting_user: User,
    scope: str = EvidencePack.Scope.AIMS,
    system: AISystem | None = None,
    audit: Audit | None = None,
    period_start: date | None = None,
    period_end: date | None = None,
    sections: list[str] | None = None,
    include_files: bool = False,
    detail: str = PackDetail.AUTO,
    language: str | None = None,
) -> tuple[EvidencePack, bool]:
    """Queue a pack, or return the identical one already queued or running.

    The pack is written in ``language``, by default the language active for the request:
    the requester's own choice, else their organisation's default (``aims.i18n.follow_organization``
    chose it when the tenant was resolved). The same pack in another language is another pack.

    Returns ``(pack, created)``. The task is enqueued only once the row is committed.
    """
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    if language not in SUPPORTED:
        language = settings.LANGUAGE_CODE
    today = timezone.localdate()
    period_end = period_end or today
    period_start = period_start or period_end - timedelta(days=365)
    if scope == EvidencePack.Scope.AUDIT:
        sections = list(AUDIT_SECTIONS)
    default = [s for s in PackSection.values if s not in AUDIT_SECTIONS or s == PackSection.EVIDENCE]
    sections = [
        s
        for s in PackSection.values
        if s in (sections or default) and (s != PackSection.AUDIT or scope == EvidencePack.Scope.AUDIT)
    ]
    errors = {}
    if period_start > period_end:
        errors["period_start"] = gettext("The period must start before it ends.")
    if period_end > today:
        errors["period_end"] = gettext("The period cannot end in the future.")
    if scope == EvidencePack.Scope.SYSTEM and system is None:
        errors["system"] = gettext("Choose the AI system this pack covers.")
    if system is not None and system.organization_id != organization.pk:
        errors["system"] = gettext("Choose one of your organisation's AI systems.")
    if scope == EvidencePack.Scope.AUDIT and audit is None:
        errors["audit"] = gettext("Choose the internal audit this pack covers.")
    if audit is not None and audit.organization_id != organization.pk:
        errors["audit"] = gettext("Choose one of your organisation's audits.")
    if not sections:
        errors["sections"] = gettext("Choose at least one section.")
    if detail not in PackDetail.values:
        errors["detail"] = gettext("Choose one of: %(choices)s.") % {"choices": ", ".join(PackDetail.values)}
    if errors:
        raise ValidationError(errors)
    if scope != EvidencePack.Scope.SYSTEM:
        system = None
    if scope != EvidencePack.Scope.AUDIT:
        audit = None
    detail = resolve_detail(organization, scope, detail)
    fingerprint = EvidencePack.make_fingerprint(
        scope=scope, system=system.pk if system else None, audit=audit.pk if audit else None,
        start=period_start, end=period_end,
        sections=sections, files=include_files, detail=detail, language=language,
    )  # fmt: skip
    existing = EvidencePack.objects.for_org(organization).active().filter(fingerprint=fingerprint).first()
    if existing is not None:
        # Its task may still wait in the outbox (the broker was down): try to send it now.
        transaction.on_commit(lambda: outbox_dispatch(limit=settings.OUTBOX_REQUEST_BATCH))
        return existing, False
    pack = EvidencePack(
        organization=organization,
        scope=scope,
        system=system,
        audit=audit,
        period_start=period_start,
        period_end=period_end,
        sections=sections,
        include_files=include_files,
        detail=detail,
        language=language,
        fingerprint=fingerprint,
        requested_by=acting_user,
        current_step=QUEUED_STEP,
    )
    pack._history_user = acting_user  # type: ignore[attr-defined]  # read by simple-history
    try:
        with transaction.atomic():
            pack.save()
    except IntegrityError:
        # Another request for the same pack won the race; hand back that one.
        return EvidencePack.objects.for_org(organization).active().get(fingerprint=fingerprint), False
    # The task is written in this transaction and sent after commit; if the broker is down it
    # waits in the outbox and the pack simply stays queued until a worker can take it.
    outbox_enqueue(task=PACK_TASK, args=[pack.pk])
    return pack, True


def resolve_detail(organization: Organization, scope: str, detail: str) -> str:
    """The detail level a pack is built with: "auto" becomes "all" for a small inventory, else
    "high_risk", or "none" when the high-risk systems alone would be hundreds of detail pages.
    """
    if detail != PackDetail.AUTO:
        return detail
    if scope == EvidencePack.Scope.SYSTEM:
        return PackDetail.ALL
    if AISystem.objects.for_org(organization).count() < AUTO_DETAIL_ALL_BELOW:
        return PackDetail.ALL
    high_risk = high_risk_system_ids(EvidencePack(organization=organization, scope=scope))
    return PackDetail.HIGH_RISK if len(high_risk) <= AUTO_DETAIL_HIGH_RISK_UP_TO else PackDetail.NONE


# --- Generation (runs in the worker) -------------------------------------------------------


def stale_after() -> timedelta:
    """How old a running pack's heartbeat may be before its worker is judged gone."""
    return timedelta(minutes=float(settings.EVIDENCE_PACK_STALE_MINUTES))


def heartbeat_interval() -> float:
    # Several beats per stale window, so one slow beat never makes a live pack look abandoned.
    configured = float(settings.EVIDENCE_PACK_HEARTBEAT_SECONDS)
    return max(0.5, min(configured, stale_after().total_seconds() / 4))


@contextmanager
def _heartbeat(pack_id: int, part_id: int | None = None) -> Iterator[None]:
    """Keep the running pack's heartbeat (and its part's) fresh while a long step has no progress to report."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(heartbeat_interval()):
                try:
                    now = timezone.now()
                    EvidencePack.objects.filter(pk=pack_id, status=Status.RUNNING).update(heartbeat_at=now)
                    if part_id is not None:
                        EvidencePackPart.objects.filter(pk=part_id, status=PartStatus.RUNNING).update(heartbeat_at=now)
                except (OperationalError, InterfaceError):
                    # A lost connection: drop it; the next beat opens a new one.
                    connection.close()
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"pack-{pack_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def reset_connection() -> None:
    """Drop this thread's database connection, broken or not, so the next query opens a fresh one.

    After a lost connection any recovery update on the old one fails too: that left packs
    ``running`` until the reaper came.
    """
    if connection.in_atomic_block:
        return  # an eager task inside the caller's transaction: that connection is not ours to drop
    with suppress(OperationalError, InterfaceError):
        connection.close()


def _claim(pack_id: int) -> EvidencePack | None:
    """Take the pack for this worker: queued, or running but abandoned by a dead worker."""
    now = timezone.now()
    claimable = Q(status=Status.QUEUED) | Q(status=Status.RUNNING, heartbeat_at__lt=now - stale_after())
    updated = EvidencePack.objects.filter(claimable, pk=pack_id).update(
        status=Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        progress=0,
        error="",
        current_step="Starting",
        attempts=F("attempts") + 1,
    )
    if not updated:
        return None
    result: EvidencePack = EvidencePack.objects.select_related("organization", "system", "audit", "requested_by").get(
        pk=pack_id
    )
    return result


def _progress(pack: EvidencePack, percent: int, step: str) -> None:
    # A plain UPDATE: progress ticks are not changes to the AIMS record and stay out of its history.
    EvidencePack.objects.filter(pk=pack.pk, status=Status.RUNNING).update(
        progress=percent, current_step=step, heartbeat_at=timezone.now()
    )


def fail_pack(pack_id: int, message: str) -> None:
    """Fail the pack saying why; its unfinished parts are cancelled and its part files removed."""
    pack = EvidencePack.objects.get(pk=pack_id)
    if pack.status in (Status.SUCCEEDED, Status.EXPIRED, Status.CANCELLED):
        return
    pack.status, pack.error, pack.finished_at = Status.FAILED, message[:4000], timezone.now()
    pack.current_step = "Failed"
    pack.save(update_fields=["status", "error", "finished_at", "current_step"])
    _stop_parts(pack)


def _stop_parts(pack: EvidencePack) -> None:
    pack.parts.filter(status__in=[PartStatus.QUEUED, PartStatus.RUNNING]).update(
        status=PartStatus.CANCELLED, finished_at=timezone.now()
    )
    parts.discard_part_files(pack)


def evidence_pack_can_cancel(pack: EvidencePack, *, user: User, role: str | None) -> bool:
    """The requester may cancel their pack; officers and administrators (who approve) any pack."""
    return pack.is_active and (pack.requested_by_id == user.pk or role_can(role, Capability.APPROVE))


@transaction.atomic
def evidence_pack_cancel(*, pack: EvidencePack, acting_user: User) -> EvidencePack:
    """Cancel a queued or running pack (the caller checked the permission).

    Nothing is killed: parts look at the pack's status when they start and when they
    finish, and the merge never writes a file for a cancelled pack.
    """
    if not pack.is_active:
        raise ValidationError(gettext("Only a queued or running pack can be cancelled."))
    cancelled = EvidencePack.objects.filter(pk=pack.pk, status__in=EvidencePack.ACTIVE_STATUSES).update(
        status=Status.CANCELLED, current_step="Cancelled", finished_at=timezone.now()
    )
    if not cancelled:
        raise ValidationError(gettext("The pack finished before it could be cancelled."))
    pack.refresh_from_db()
    pack._history_user = acting_user  # type: ignore[attr-defined]  # read by simple-history
    pack.save(update_fields=["status"])
    transaction.on_commit(lambda: _stop_parts(pack))
    return pack


def final_name(pack: EvidencePack) -> str:
    return f"evidence-packs/{pack.organization_id}/{pack.uid}.pdf"


def manifest_for(
    pack: EvidencePack, records: list[dict[str, Any]], files: list[dict[str, Any]], generated_at: datetime
) -> dict[str, Any]:
    """The pack's machine-readable manifest: ``records`` as the parts listed them (type, id, label, SHA-256)."""
    return {
        "format": "aims-evidence-pack/1",
        "pack_id": str(pack.uid),
        "organization": {"id": pack.organization_id, "name": pack.organization.name},
        "scope": pack.scope,
        "system": pack.system.ref_code if pack.system else None,
        "audit": pack.audit.ref_code if pack.audit else None,
        "period": {"start": pack.period_start.isoformat(), "end": pack.period_end.isoformat()},
        "sections": list(pack.sections),
        "generated_at": generated_at.isoformat(),
        "generated_by": pack.requested_by.email if pack.requested_by else None,
        "records": records,
        "files": [f for f in files if f.get("kind") != "data"],
        # The full registers behind the summaries (CSV and JSON), checked like the files.
        "data_files": [f for f in files if f.get("kind") == "data"],
    }


def evidence_pack_generate(pack_id: int) -> EvidencePack | None:
    """Claim the pack and plan its parts. Returns the pack, or None when another worker owns it.

    With workers, the first phase of parts goes to them and this returns at once; without
    a broker (eager mode) the parts and the merge run here, one after the other, through the
    same services the workers call. Errors in the data or templates fail the pack with a
    readable message; database connection errors propagate so that the task retries.
    """
    pack = _claim(pack_id)
    if pack is None:
        logger.info("Evidence pack %s is not claimable; skipping.", pack_id)
        return None
    try:
        with transaction.atomic(), translation.override(pack.language):
            planned = parts.record_parts(pack)
            _progress(pack, 5, f"Planned {len(planned)} parts")
            if not settings.CELERY_TASK_ALWAYS_EAGER:
                parts.dispatch(parts.next_phase(pack_id))
        if settings.CELERY_TASK_ALWAYS_EAGER:
            _run_in_process(pack_id)
    except _TRANSIENT as exc:
        # Back to the queue for the retry, on a fresh connection; the claim will take it again.
        reset_connection()
        EvidencePack.objects.filter(pk=pack_id, status=Status.RUNNING).update(status=Status.QUEUED)
        raise exc
    except SoftTimeLimitExceeded:
        # Celery's soft time limit, not an error in the data: the task fails the pack saying so.
        logger.warning("Evidence pack %s reached its time limit of %s s", pack_id, settings.EVIDENCE_PACK_TIME_LIMIT)
        raise
    except Exception as exc:
        logger.exception("Evidence pack %s failed", pack_id)
        fail_pack(pack_id, readable_error(exc))
    return EvidencePack.objects.get(pk=pack_id)


def _run_in_process(pack_id: int) -> None:
    """Without workers: each phase's parts here, then the merge (the workers' services, in turn)."""
    while EvidencePack.objects.filter(pk=pack_id, status=Status.RUNNING).exists():
        upcoming = parts.next_phase(pack_id)
        if not upcoming:
            evidence_pack_merge(pack_id)
            return
        for part_id in upcoming:
            try:
                evidence_pack_part_render(part_id)
            except (*_TRANSIENT, SoftTimeLimitExceeded):
                raise
            except Exception as exc:
                logger.exception("Part %s of evidence pack %s failed", part_id, pack_id)
                parts.part_fail(part_id, readable_error(exc))
                return


def evidence_pack_part_render(part_id: int) -> EvidencePackPart | None:
    """Render one part (any worker); when it completes a phase, the next phase or the merge is sent.

    Idempotent: a part already done, taken by a live worker, or of a pack no longer running
    is left alone (returns None).
    """
    pack_id = EvidencePackPart.objects.filter(pk=part_id).values_list("pack_id", flat=True).first()
    if pack_id is None:
        return None
    with _heartbeat(pack_id, part_id):
        part, upcoming, merge_due = parts.part_render(part_id, timezone.now() - stale_after())
    if part is not None and not settings.CELERY_TASK_ALWAYS_EAGER:
        with transaction.atomic():
            if upcoming:
                parts.dispatch(upcoming)
            elif merge_due:
                outbox_enqueue(task=parts.MERGE_TASK, args=[pack_id])
    return part


def evidence_pack_part_retry(part_id: int, message: str) -> None:
    """Put a part that raised back in the queue for the task's retry, keeping the error for the record."""
    EvidencePackPart.objects.filter(pk=part_id, status=PartStatus.RUNNING).update(
        status=PartStatus.QUEUED, error=message[:4000], heartbeat_at=timezone.now()
    )


def evidence_pack_merge(pack_id: int) -> EvidencePack | None:
    """Merge the parts into the pack's file and mark it succeeded; None when it is not due.

    The pack is succeeded in the same conditional UPDATE that records the file, and only
    while it is running: a pack cancelled or failed meanwhile keeps no file.
    """
    pack = EvidencePack.objects.select_related("organization", "system", "audit", "requested_by").get(pk=pack_id)
    if pack.status != Status.RUNNING:
        return None
    ordered = list(pack.parts.order_by("index"))
    if not ordered or any(part.status != PartStatus.SUCCEEDED for part in ordered):
        return None
    _progress(pack, 92, f"Merging {len(ordered)} parts")
    final_path = Path(default_storage.path(final_name(pack)))
    # The outline and the page numbers the merge adds are in the pack's language too.
    with _heartbeat(pack_id), translation.override(pack.language):
        data = parts.merge_input(pack, ordered)
        manifest = manifest_for(pack, data.records, data.files, pack.started_at or timezone.now())
        # Serialised once, and the records let go before the pages are merged: at a hundred
        # thousand risks they are the largest thing the merge holds.
        manifest_json = json.dumps(manifest, indent=1, sort_keys=True).encode()
        del manifest
        data.records.clear()
        result = merge_parts(
            data.paths, final_path, outline=data.outline, manifest=manifest_json, attachments=data.attachments
        )
    finished = EvidencePack.objects.filter(pk=pack_id, status=Status.RUNNING).update(
        status=Status.SUCCEEDED,
        progress=100,
        current_step="Done",
        file=final_name(pack),
        sha256=result.sha256,
        size=result.size,
        page_count=result.page_count,
        finished_at=timezone.now(),
    )
    parts.discard_part_files(pack)
    if not finished:
        # The pack was cancelled, failed or expired meanwhile (e.g. judged stale): no file may linger.
        result.path.unlink(missing_ok=True)
        return None
    pack = EvidencePack.objects.get(pk=pack_id)
    _record_history(pack)
    return pack


def _record_history(pack: EvidencePack) -> None:
    # The final state is a change worth keeping: write one history row for it.
    pack._history_user = pack.requested_by  # type: ignore[attr-defined]  # read by simple-history
    pack.save(update_fields=["status"])


def readable_error(exc: Exception) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" (in {Path(last.filename).name}, line {last.lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


# Lost database connections are worth a retry; anything else is a real failure to report.
_TRANSIENT = (OperationalError, InterfaceError)


QUEUE_PATIENCE = timedelta(hours=24)


PACK_TASK = "audits.packs.tasks.generate_evidence_pack"
REQUEUED_STEP = "Queued again: the worker building it stopped"


def evidence_packs_recover_stale() -> int:
    """Put work abandoned by its worker back in the queue, or fail the pack; returns how many.

    A running part whose heartbeat is older than the stale window lost its worker (killed,
    or cut off from the database): it goes back to the queue through the outbox, until it
    has been started ``EVIDENCE_PACK_MAX_ATTEMPTS`` times; then its pack is failed, saying
    which part. A running pack that is stale with no part at work or waiting for a worker
    (its worker died while planning or merging) is planned again the same way. A pack or
    part that no worker picked up within a day is failed too.
    """
    now = timezone.now()
    cutoff = now - stale_after()
    count = 0
    stale_parts = EvidencePackPart.objects.filter(
        status=PartStatus.RUNNING, heartbeat_at__lt=cutoff, pack__status=Status.RUNNING
    )
    for part in stale_parts.only("pk", "pack_id", "attempts", "label"):
        if part.attempts >= settings.EVIDENCE_PACK_MAX_ATTEMPTS:
            parts.part_fail(
                part.pk, f"the worker stopped while rendering this part, {part.attempts} times. Request it again."
            )
            count += 1
            continue
        with transaction.atomic():
            requeued = EvidencePackPart.objects.filter(
                pk=part.pk, status=PartStatus.RUNNING, heartbeat_at__lt=cutoff
            ).update(status=PartStatus.QUEUED)
            if requeued:
                parts.dispatch([part.pk])
        count += requeued
    waiting = EvidencePackPart.objects.filter(status=PartStatus.QUEUED, heartbeat_at__lt=now - QUEUE_PATIENCE)
    for part in waiting.filter(pack__status=Status.RUNNING).only("pk"):
        parts.part_fail(part.pk, "no worker picked this part up within a day. Check the workers of the packs queue.")
        count += 1
    at_work = Q(parts__status=PartStatus.RUNNING, parts__heartbeat_at__gte=cutoff) | Q(
        parts__status=PartStatus.QUEUED, parts__heartbeat_at__isnull=False
    )
    abandoned = EvidencePack.objects.filter(status=Status.RUNNING, heartbeat_at__lt=cutoff).exclude(
        pk__in=EvidencePack.objects.filter(at_work).values("pk")
    )
    for pack in abandoned.only("pk", "attempts"):
        if pack.attempts >= settings.EVIDENCE_PACK_MAX_ATTEMPTS:
            fail_pack(
                pack.pk,
                f"The worker stopped while generating this pack, {pack.attempts} times. Request it again.",
            )
            count += 1
            continue
        with transaction.atomic():
            # Only if still abandoned: its worker may have come back since the query above.
            requeued = EvidencePack.objects.filter(pk=pack.pk, status=Status.RUNNING, heartbeat_at__lt=cutoff).update(
                status=Status.QUEUED, progress=0, current_step=REQUEUED_STEP
            )
            if requeued:
                outbox_enqueue(task=PACK_TASK, args=[pack.pk])
        count += requeued
    for pack in EvidencePack.objects.filter(status=Status.QUEUED, created_at__lt=now - QUEUE_PATIENCE):
        fail_pack(
            pack.pk,
            "No worker picked this pack up within a day. Check that a Celery worker runs, then request it again.",
        )
        count += 1
    return count


def evidence_packs_expire(*, older_than_days: int | None = None) -> int:
    """Delete the files of packs older than the retention period; their rows and history stay."""
    days = older_than_days if older_than_days is not None else settings.EVIDENCE_PACK_RETENTION_DAYS
    old = EvidencePack.objects.filter(status=Status.SUCCEEDED, finished_at__lt=timezone.now() - timedelta(days=days))
    count = 0
    for pack in old:
        if pack.file:
            default_storage.delete(pack.file.name)
        parts.discard_part_files(pack)
        pack.status, pack.file, pack.current_step = Status.EXPIRED, "", "Expired"
        pack.save(update_fields=["status", "file", "current_step"])
        count += 1
    return count


# --- Download and verification ---------------------------------------------------------------


@transaction.atomic
def evidence_pack_download(
    pack: EvidencePack, *, user: User, via_api: bool, ip_address: str | None = None
) -> FileResponse:
    """The pack's PDF as a private attachment (the caller checked the permission); the download is logged."""
    if not pack.is_downloadable:
        raise Http404(gettext("This pack has no file to download."))
    response = private_file_response(
        pack.file.name, filename=pack.filename, content_type="application/pdf", sha256=pack.sha256
    )
    evidence_pack_log_download(pack=pack, user=user, via_api=via_api, ip_address=ip_address)
    return response


def evidence_pack_log_download(
    *, pack: EvidencePack, user: User, via_api: bool = False, ip_address: str | None = None
) -> EvidencePackDownload:
    entry = EvidencePackDownload(
        organization_id=pack.organization_id, pack=pack, user=user, via_api=via_api, ip_address=ip_address
    )
    entry._history_user = user  # type: ignore[attr-defined]  # read by simple-history
    entry.save()
    return entry


@dataclass
class VerifyReport:
    pack_id: str
    ok: bool
    file_sha256_matches: bool | None = None
    manifest_found: bool = False
    records_checked: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "pack_id": self.pack_id,
            "ok": self.ok,
            "file_sha256_matches": self.file_sha256_matches,
            "manifest_found": self.manifest_found,
            "records_checked": self.records_checked,
            "problems": self.problems,
        }


def read_manifest(pdf_path: Path) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The embedded manifest, and the SHA-256 of every attached file of a pack's PDF.

    Read with pikepdf one attachment at a time: a large pack carries registers of hundreds
    of megabytes, more than pypdf agrees to decompress and more than need be held at once.
    """
    import pikepdf

    manifest: dict[str, Any] | None = None
    digests: dict[str, str] = {}
    with pikepdf.open(pdf_path) as pdf:
        for name, spec in pdf.attachments.items():
            data = spec.get_file().read_bytes()
            digests[name] = hashlib.sha256(data).hexdigest()
            if name == render.MANIFEST_NAME:
                manifest = json.loads(data)
    return manifest, digests


def evidence_pack_verify(pack: EvidencePack) -> VerifyReport:
    """Recompute the file's hash, read the embedded manifest and check each record and file against it."""
    report = VerifyReport(pack_id=str(pack.uid), ok=False)
    if not pack.is_downloadable:
        report.problems.append(
            gettext("The pack has no file (status: %(status)s).") % {"status": pack.get_status_display().lower()}
        )
        return report
    path = Path(default_storage.path(cast(str, pack.file.name)))  # a downloadable pack has its file
    if not path.exists():
        report.problems.append(gettext("The pack's file is missing from storage."))
        return report
    report.file_sha256_matches = render.file_sha256(path) == pack.sha256
    if not report.file_sha256_matches:
        report.problems.append(gettext("The file's SHA-256 differs from the one recorded when it was generated."))
    try:
        manifest, digests = read_manifest(path)
    except (PdfError, ValueError) as exc:
        report.problems.append(gettext("The file is not a readable PDF (%(error)s).") % {"error": exc})
        return report
    report.manifest_found = manifest is not None
    if manifest is None:
        report.problems.append(gettext("The PDF carries no manifest.json."))
        return report
    if manifest.get("pack_id") != str(pack.uid):
        report.problems.append(gettext("The manifest belongs to another pack."))
    report.problems += _check_records(manifest.get("records", []), pack.organization_id)
    report.records_checked = len(manifest.get("records", []))
    for entry in manifest.get("files", []) + manifest.get("data_files", []):
        digest = digests.get(entry["name"])
        if digest is None:
            report.problems.append(gettext("File %(name)s is listed but not attached.") % {"name": entry["name"]})
        elif digest != entry["sha256"]:
            report.problems.append(gettext("File %(name)s does not match its SHA-256.") % {"name": entry["name"]})
    report.problems += _check_stored_files(manifest.get("files", []), pack.organization_id)
    report.ok = not report.problems
    return report


def _check_stored_files(entries: list[dict[str, Any]], organization_id: int) -> list[str]:
    """The evidence files in storage must still hash to what the pack recorded."""
    problems = []
    wanted = {(e.get("evidence_id"), e.get("version")): e for e in entries if e.get("evidence_id")}
    versions = EvidenceVersion.objects.filter(
        organization_id=organization_id, evidence_id__in={key[0] for key in wanted}
    )
    found = {(v.evidence_id, v.number): v for v in versions}
    for key, entry in wanted.items():
        version = found.get(key)
        if version is None:
            problems.append(gettext("Evidence file %(name)s no longer exists in the portal.") % {"name": entry["name"]})
            continue
        try:
            with default_storage.open(version.file.name, "rb") as fh:
                digest = render.file_sha256_stream(fh)
        except OSError:
            problems.append(gettext("Evidence file %(name)s is missing from storage.") % {"name": entry["name"]})
            continue
        if digest != entry["sha256"]:
            problems.append(
                gettext("Evidence file %(name)s in storage differs from the one in the pack.") % {"name": entry["name"]}
            )
    return problems


def _check_records(entries: list[dict[str, Any]], organization_id: int) -> list[str]:
    from django.apps import apps

    problems: list[str] = []
    by_type: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_type.setdefault(entry["type"], []).append(entry)
    for label, group in by_type.items():
        model = apps.get_model(label)
        scope = {"pk": organization_id} if label == "aims.Organization" else {"organization_id": organization_id}
        current = {obj.pk: obj for obj in model.objects.filter(**scope, pk__in=[e["id"] for e in group])}
        for entry in group:
            obj = current.get(entry["id"])
            if obj is None:
                problems.append(
                    gettext("%(record)s (%(type)s #%(id)s) no longer exists.")
                    % {"record": entry["label"], "type": label, "id": entry["id"]}
                )
            elif record_sha256(obj) != entry["sha256"]:
                problems.append(
                    gettext("%(record)s (%(type)s #%(id)s) has changed since the pack was generated.")
                    % {"record": entry["label"], "type": label, "id": entry["id"]}
                )
    return problems

"""Evidence: every write of the library, and its private downloads.

Every write is a service here (``evidence_<verb>(*, …, acting_user)``), validates the whole
row and records who acted (:func:`aims.records.record_save`). Uploaded files pass
:func:`aims.files.upload_inspect` with the evidence rules (size, extension, detected type,
name) before they are stored in the private default storage under
``evidence/<org>/<uuid>/<name>``; they are only ever served by :func:`evidence_version_download`,
after the caller's permission check, and every download is logged (who, when, from where).
Reads are in :mod:`controls.evidence.selectors`, reminders in :mod:`controls.evidence.reminders`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max, Model
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext

from aims.files import InspectedUpload, UploadRules, delete_files_on_commit, private_file_response, upload_inspect
from aims.models import Organization, User
from aims.records import ensure_member, record_delete, record_save
from controls.catalogue.models import Requirement
from controls.evidence.models import Evidence, EvidenceDownload, EvidenceLink, EvidenceVersion
from controls.evidence.selectors import CONTROL_FRAMEWORK, TARGET_MODELS

UPDATABLE_FIELDS = ("title", "description", "effective_from", "valid_until", "owner")


def evidence_upload_rules() -> UploadRules:
    """What an evidence upload accepts, from the settings (read on each call, so a change applies at once)."""
    return UploadRules.of(settings.EVIDENCE_ALLOWED_TYPES, settings.EVIDENCE_MAX_UPLOAD_MB, default_stem="evidence")


def _ensure_dates(effective_from: date | None, valid_until: date | None) -> None:
    if effective_from and valid_until and valid_until < effective_from:
        raise ValidationError({"valid_until": gettext("The evidence cannot expire before it takes effect.")})


def _content(kind: str, upload: Any, url: str, note: str) -> tuple[InspectedUpload | None, str, str]:
    """Check that the content matching ``kind`` is given; inspect a file before anything is written."""
    url, note = (url or "").strip(), (note or "").strip()
    if upload is not None and kind != Evidence.Kind.FILE:
        # Refused rather than dropped: the uploader would believe the file was kept.
        raise ValidationError({"file": gettext("Only file evidence takes a file; choose the kind “file”.")})
    if kind == Evidence.Kind.FILE:
        if upload is None:
            raise ValidationError({"file": gettext("Choose a file to upload.")})
        return upload_inspect(upload, evidence_upload_rules()), "", note
    if kind == Evidence.Kind.LINK:
        if not url:
            raise ValidationError({"url": gettext("Give the address of the evidence.")})
        return None, url, note
    if kind == Evidence.Kind.NOTE:
        if not note:
            raise ValidationError({"note": gettext("Write the note.")})
        return None, "", note
    raise ValidationError({"kind": gettext("Choose file, link or note.")})


def _version_save(
    *,
    evidence: Evidence,
    number: int,
    acting_user: User | None,
    upload: Any,
    inspected: InspectedUpload | None,
    url: str,
    note: str,
    comment: str,
) -> EvidenceVersion:
    version = EvidenceVersion(
        organization_id=evidence.organization_id,
        evidence=evidence,
        number=number,
        url=url,
        note=note,
        comment=(comment or "").strip(),
        created_by=acting_user,
    )
    if inspected is None:
        return record_save(version, acting_user=acting_user)
    version.original_name = inspected.name
    version.content_type = inspected.content_type
    version.size = inspected.size
    version.sha256 = inspected.sha256
    # Written through the FileField, so the name goes through upload_to and the storage's own
    # name checks: it lands in evidence/<org>/<uuid>/ of the private storage.
    version.file.save(inspected.name, upload, save=False)
    try:
        return record_save(version, acting_user=acting_user)
    except Exception:
        # The row was refused: do not leave the bytes behind.
        if version.file.name:
            default_storage.delete(version.file.name)
        raise


@transaction.atomic
def evidence_create(
    *,
    organization: Organization,
    acting_user: User | None,
    title: str,
    kind: str,
    description: str = "",
    effective_from: date | None = None,
    valid_until: date | None = None,
    owner: User | None = None,
    upload: Any = None,
    url: str = "",
    note: str = "",
    comment: str = "",
) -> Evidence:
    """Record a piece of evidence and its version 1 (the file, link or note that ``kind`` names)."""
    inspected, url, note = _content(kind, upload, url, note)
    ensure_member(organization.pk, owner)
    effective_from = effective_from or timezone.localdate()
    _ensure_dates(effective_from, valid_until)
    evidence = record_save(
        Evidence(
            organization=organization,
            title=(title or "").strip(),
            kind=kind,
            description=description or "",
            effective_from=effective_from,
            valid_until=valid_until,
            owner=owner,
        ),
        acting_user=acting_user,
    )
    _version_save(evidence=evidence, number=1, acting_user=acting_user, upload=upload, inspected=inspected,
                  url=url, note=note, comment=comment)  # fmt: skip
    return evidence


@transaction.atomic
def evidence_update(*, evidence: Evidence, acting_user: User | None, **fields: Any) -> Evidence:
    """Change the metadata (title, description, dates, owner); the content changes by new versions only."""
    unknown = set(fields) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValidationError({name: gettext("This cannot be changed here.") for name in sorted(unknown)})
    if "owner" in fields:
        ensure_member(evidence.organization_id, fields["owner"])
    for name, value in fields.items():
        setattr(evidence, name, value.strip() if isinstance(value, str) and name == "title" else value)
    if evidence.effective_from is None:
        raise ValidationError({"effective_from": gettext("Give the date the evidence takes effect.")})
    _ensure_dates(evidence.effective_from, evidence.valid_until)
    return record_save(evidence, acting_user=acting_user)


@transaction.atomic
def evidence_add_version(
    *,
    evidence: Evidence,
    acting_user: User | None,
    upload: Any = None,
    url: str = "",
    note: str = "",
    comment: str = "",
) -> EvidenceVersion:
    """Add the next version; older versions are kept. The evidence's kind decides which content is required."""
    inspected, url, note = _content(evidence.kind, upload, url, note)
    # Lock the evidence so two versions added at once cannot take the same number.
    Evidence.objects.select_for_update().filter(pk=evidence.pk).first()
    number = (evidence.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = _version_save(evidence=evidence, number=number, acting_user=acting_user, upload=upload,
                            inspected=inspected, url=url, note=note, comment=comment)  # fmt: skip
    # Touch the evidence so lists sorted by last change show it.
    Evidence.objects.filter(pk=evidence.pk).update(updated_at=timezone.now())
    return version


@transaction.atomic
def evidence_link(*, evidence: Evidence, target: str, obj: Model, acting_user: User | None) -> EvidenceLink:
    """Link the evidence to a control, AI system, risk, treatment or impact assessment (no-op if linked)."""
    if target not in TARGET_MODELS or not isinstance(obj, TARGET_MODELS[target]):
        raise ValidationError({"target": gettext("The record does not match the kind of link.")})
    if isinstance(obj, Requirement):
        if obj.kind != Requirement.Kind.CONTROL or obj.framework.code != CONTROL_FRAMEWORK:
            raise ValidationError({"id": gettext("Evidence supports ISO/IEC 42001 Annex A controls only.")})
    elif getattr(obj, "organization_id", None) != evidence.organization_id:
        # Unreachable through the portal and the API, which only offer the organisation's own records.
        raise ValidationError({"id": gettext("Records of different organisations cannot be linked.")})
    existing: EvidenceLink | None = evidence.links.filter(target=target, **{target: obj}).first()
    if existing is not None:
        return existing
    link = EvidenceLink(organization_id=evidence.organization_id, evidence=evidence, target=target, **{target: obj})
    return record_save(link, acting_user=acting_user)


@transaction.atomic
def evidence_unlink(*, link: EvidenceLink, acting_user: User | None) -> None:
    record_delete(link, acting_user=acting_user)


@transaction.atomic
def evidence_delete(*, evidence: Evidence, acting_user: User | None) -> None:
    """Delete the evidence with its versions and links; the stored files go once the deletion is committed.

    The history keeps who deleted what, and every version's name, size and SHA-256.
    """
    # Children one by one, so each deletion is recorded with the acting user.
    for link in evidence.links.all():
        evidence_unlink(link=link, acting_user=acting_user)
    names = []
    for version in evidence.versions.all():
        if version.file:
            names.append(version.file.name)
        record_delete(version, acting_user=acting_user)
    record_delete(evidence, acting_user=acting_user)
    delete_files_on_commit(*names)


@transaction.atomic
def evidence_version_download(
    version: EvidenceVersion, *, user: User, via_api: bool = False, ip_address: str | None = None
) -> FileResponse:
    """The version's file as a private attachment (with its SHA-256); the download is logged.

    The caller has checked the permission. The file is opened before the log entry is written, so a
    missing file (404) leaves no entry for a download that never happened.
    """
    response = private_file_response(
        version.file.name if version.file else None,
        filename=version.original_name,
        content_type=version.content_type,
        sha256=version.sha256,
    )
    evidence_log_download(version=version, user=user, via_api=via_api, ip_address=ip_address)
    return response


def evidence_log_download(
    *, version: EvidenceVersion, user: User, via_api: bool = False, ip_address: str | None = None
) -> EvidenceDownload:
    entry = EvidenceDownload(
        organization_id=version.organization_id, version=version, user=user, via_api=via_api, ip_address=ip_address
    )
    entry._history_user = user  # type: ignore[attr-defined]  # read by simple-history
    entry.save()
    return entry

"""Evidence: upload validation, reads, writes, private downloads and reminders.

Every write is a service here (``evidence_<verb>(*, …, acting_user)``), validates the whole
row and records who acted (django-simple-history reads ``_history_user``). Uploaded files
pass through :func:`upload_inspect` (size, extension, detected type, name) before they
are stored in the private default storage under ``evidence/<org>/<uuid>/<name>``; they are
only ever served by :func:`version_file_response`, after the caller's permission check.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import logging
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import filetype
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, Max, Model, Prefetch, Q, QuerySet, When
from django.http import FileResponse, Http404
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.text import get_valid_filename

from aims.models import Membership, Organization, User
from aims.selectors import reminder_recipients
from controls.models import (
    ApplicabilityStatement,
    Evidence,
    EvidenceLink,
    EvidenceVersion,
    ImplementationStatus,
    Reminder,
    Requirement,
)
from registry.models import AISystem
from risk.models import ImpactAssessment, Risk, TreatmentAction

logger = logging.getLogger(__name__)

CONTROL_FRAMEWORK = "ISO42001"

# --- Upload validation -----------------------------------------------------------------------

CHUNK = 64 * 1024
MAX_NAME_LENGTH = 120
# Read as UTF-8 text: no signature to sniff, so the content itself is checked.
TEXT_TYPES = {"txt": "text/plain", "csv": "text/csv", "md": "text/markdown", "json": "application/json"}
_ZIP = "application/zip"
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
_ODT = "application/vnd.oasis.opendocument.text"
_ODS = "application/vnd.oasis.opendocument.spreadsheet"
# Binary types: the type served, and what `filetype` may detect for a genuine file. Office
# files are ZIP containers and `filetype` only recognises them when their entries come in a
# particular order, so plain ZIP is accepted too and the container is then checked itself.
BINARY_TYPES: dict[str, tuple[str, frozenset[str]]] = {
    "pdf": ("application/pdf", frozenset({"application/pdf"})),
    "png": ("image/png", frozenset({"image/png"})),
    "jpg": ("image/jpeg", frozenset({"image/jpeg"})),
    "jpeg": ("image/jpeg", frozenset({"image/jpeg"})),
    "gif": ("image/gif", frozenset({"image/gif"})),
    "docx": (_DOCX, frozenset({_DOCX, _ZIP})),
    "xlsx": (_XLSX, frozenset({_XLSX, _ZIP})),
    "pptx": (_PPTX, frozenset({_PPTX, _ZIP})),
    "odt": (_ODT, frozenset({_ODT, _ZIP})),
    "ods": (_ODS, frozenset({_ODS, _ZIP})),
    "zip": (_ZIP, frozenset({_ZIP, _DOCX, _XLSX, _PPTX, _ODT, _ODS, "application/epub+zip"})),
}
# The entry an Office container must hold: OOXML parts live in a folder, ODF names its type.
OFFICE_PARTS = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}
ODF_TYPES = {"odt": _ODT, "ods": _ODS}
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class InspectedUpload:
    """What the portal stores about an accepted file."""

    name: str
    extension: str
    content_type: str
    size: int
    sha256: str


def allowed_extensions() -> list[str]:
    return [ext.strip().lower().lstrip(".") for ext in settings.EVIDENCE_ALLOWED_TYPES if ext.strip()]


def max_upload_bytes() -> int:
    return int(settings.EVIDENCE_MAX_UPLOAD_MB) * 1024 * 1024


def filename_sanitise(name: str) -> tuple[str, str]:
    """A safe base name and its lower-cased extension, from whatever name the client sent.

    Browsers and API clients may send a full path (``C:\\Users\\…``, ``../../etc/passwd.pdf``):
    only the last component is kept, control characters are dropped and the rest is reduced
    to letters, digits, ``-``, ``_`` and ``.``, so the stored path is always
    ``evidence/<org>/<uuid>/<this name>``.
    """
    base = re.split(r"[\\/]", name or "")[-1]
    base = _CONTROL_CHARACTERS.sub("", unicodedata.normalize("NFC", base)).strip()
    # No "..": neither a path component nor a run of dots can survive into the stored name.
    base = re.sub(r"\.{2,}", ".", base).strip(". ")
    stem, dot, extension = base.rpartition(".")
    if not dot or not extension:
        raise ValidationError({"file": "The file name needs an extension, e.g. report.pdf."})
    extension = extension.lower()
    try:
        stem = get_valid_filename(stem) if stem.strip(". ") else ""
    except SuspiciousFileOperation:
        stem = ""
    stem = stem.strip("._-") or "evidence"
    try:
        extension = get_valid_filename(extension)
    except SuspiciousFileOperation as exc:
        raise ValidationError({"file": "The file name has no usable extension."}) from exc
    stem = stem[: MAX_NAME_LENGTH - len(extension) - 1]
    return f"{stem}.{extension}", extension


def _human_size(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def upload_inspect(upload) -> InspectedUpload:
    """Check an uploaded file and describe it, reading it once in chunks; raise ``{"file": …}``.

    Order: size limit, allowed extension, then the content must be what the extension says:
    binary types by their signature (a ``.pdf`` that is really a PNG or an executable is
    refused), text types as UTF-8 without NUL bytes. The SHA-256 and size come from the
    same pass. The upload is left rewound for storing.
    """
    limit = max_upload_bytes()
    declared = getattr(upload, "size", None)
    if declared is not None and declared > limit:
        raise ValidationError(
            {"file": f"The file is {_human_size(declared)}; at most {settings.EVIDENCE_MAX_UPLOAD_MB} MB is accepted."}
        )
    name, extension = filename_sanitise(getattr(upload, "name", ""))
    allowed = allowed_extensions()
    if extension not in allowed:
        raise ValidationError(
            {"file": f"Files of type .{extension} are not accepted. Accepted: {', '.join(sorted(allowed))}."}
        )
    digest, size, head = hashlib.sha256(), 0, b""
    decoder = codecs.getincrementaldecoder("utf-8")() if extension in TEXT_TYPES else None
    upload.seek(0)
    for chunk in upload.chunks(CHUNK):
        size += len(chunk)
        if size > limit:
            raise ValidationError({"file": f"The file is larger than {settings.EVIDENCE_MAX_UPLOAD_MB} MB."})
        digest.update(chunk)
        if len(head) < 8192:
            head += chunk[: 8192 - len(head)]
        if decoder is not None:
            _check_text(decoder, chunk, final=False)
    if size == 0:
        raise ValidationError({"file": "The file is empty."})
    if decoder is not None:
        _check_text(decoder, b"", final=True)
        content_type = f"{TEXT_TYPES[extension]}; charset=utf-8"
    else:
        content_type = _check_binary(upload, extension, head)
    upload.seek(0)
    return InspectedUpload(name=name, extension=extension, content_type=content_type, size=size,
                           sha256=digest.hexdigest())  # fmt: skip


def _check_text(decoder, chunk: bytes, *, final: bool) -> None:
    if b"\x00" in chunk:
        raise ValidationError({"file": "This is not a text file: it contains NUL bytes."})
    try:
        decoder.decode(chunk, final=final)
    except UnicodeDecodeError as exc:
        raise ValidationError({"file": "Text files must be UTF-8 encoded."}) from exc


def _check_binary(upload, extension: str, head: bytes) -> str:
    """The served type of a binary file whose content matches its extension."""
    kind = filetype.guess(head)
    detected = kind.mime if kind else None
    if extension not in BINARY_TYPES:
        # An extension the administrator added without a known signature: accept it unless its
        # content is recognisably something else, and serve it as opaque bytes.
        if kind is not None and kind.extension != extension:
            raise ValidationError({"file": f"The content is {kind.extension.upper()}, not .{extension}."})
        return detected or "application/octet-stream"
    served, accepted = BINARY_TYPES[extension]
    if detected not in accepted:
        what = f"{kind.extension.upper()} content" if kind else "not recognisable"
        raise ValidationError({"file": f"This is not a genuine .{extension} file ({what})."})
    if extension in OFFICE_PARTS or extension in ODF_TYPES:
        _check_office_container(upload, extension)
    return served


def _check_office_container(upload, extension: str) -> None:
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            names = archive.namelist()
            if extension in ODF_TYPES:
                # The "mimetype" entry is a few dozen bytes; a big one is not a document (nor read).
                genuine = (
                    "mimetype" in names
                    and archive.getinfo("mimetype").file_size < 256
                    and archive.read("mimetype").strip() == ODF_TYPES[extension].encode()
                )
            else:
                prefix = OFFICE_PARTS[extension]
                genuine = "[Content_Types].xml" in names and any(n.startswith(prefix) for n in names)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError):
        genuine = False
    if not genuine:
        raise ValidationError({"file": f"This is not a genuine .{extension} document."})


# --- Reads -----------------------------------------------------------------------------------


def expiring_days() -> int:
    return int(settings.REMINDER_DAYS_BEFORE_EXPIRY)


def evidence_status_q(status: str, today: date | None = None) -> Q:
    """valid (beyond the reminder window or no expiry), expiring (within it) or expired."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=expiring_days())
    return {
        "valid": Q(valid_until__isnull=True) | Q(valid_until__gt=horizon),
        "expiring": Q(valid_until__gte=today, valid_until__lte=horizon),
        "expired": Q(valid_until__lt=today),
    }[status]


def _link_queryset() -> QuerySet[EvidenceLink]:
    # Controls first, then what they are applied to, in the order of EvidenceLink.Target.
    order = Case(*(When(target=value, then=i) for i, value in enumerate(EvidenceLink.Target.values)))
    links = EvidenceLink.objects.select_related("control", "system", "risk", "treatment__risk", "assessment")
    return links.order_by(order, "control__order", "pk")


def evidence_list(organization: Organization) -> QuerySet[Evidence]:
    """Evidence with what the list shows, in a fixed number of queries whatever the number of rows."""
    return (
        Evidence.objects.for_org(organization)
        .select_related("owner")
        .annotate(version_count=Count("versions"))
        .prefetch_related(
            Prefetch(
                "links",
                queryset=EvidenceLink.objects.filter(target=EvidenceLink.Target.CONTROL)
                .select_related("control")
                .order_by("control__order"),
                to_attr="control_links",
            )
        )
        .order_by("title", "pk")
    )


def evidence_get(organization: Organization, pk: Any) -> Evidence:
    """One piece of evidence with its versions (and uploaders) and links; raises DoesNotExist."""
    return (
        Evidence.objects.for_org(organization)
        .select_related("owner")
        .prefetch_related(
            Prefetch("versions", queryset=EvidenceVersion.objects.select_related("created_by").order_by("-number")),
            Prefetch("links", queryset=_link_queryset()),
        )
        .get(pk=pk)
    )


def evidence_api_queryset(organization: Organization) -> QuerySet[Evidence]:
    """What the API answers: every row with its versions and links, two prefetches whatever the count."""
    return (
        Evidence.objects.for_org(organization)
        .select_related("owner")
        .prefetch_related(
            Prefetch("versions", queryset=EvidenceVersion.objects.select_related("created_by").order_by("-number")),
            Prefetch("links", queryset=_link_queryset()),
        )
        .order_by("title", "pk")
    )


TARGET_MODELS: dict[str, type[Model]] = {
    EvidenceLink.Target.CONTROL: Requirement,
    EvidenceLink.Target.SYSTEM: AISystem,
    EvidenceLink.Target.RISK: Risk,
    EvidenceLink.Target.TREATMENT: TreatmentAction,
    EvidenceLink.Target.ASSESSMENT: ImpactAssessment,
}


def link_target_choices(organization: Organization, target: str) -> QuerySet:
    """The records of ``target`` that evidence of ``organization`` may support."""
    if target == EvidenceLink.Target.CONTROL:
        return Requirement.objects.of_framework(CONTROL_FRAMEWORK).controls().order_by("order")
    queryset = TARGET_MODELS[target].objects.for_org(organization)
    if target == EvidenceLink.Target.TREATMENT:
        queryset = queryset.select_related("risk").order_by("risk__ref_code", "pk")
    elif target == EvidenceLink.Target.ASSESSMENT:
        queryset = queryset.order_by("system_id", "-version")
    return queryset


def link_target_get(organization: Organization, target: str, value: Any) -> Model:
    """Resolve the record a link points at; anything outside the organisation reads as unknown.

    ``value`` is the record's id; a control may also be given by its Annex A reference
    (``A.6.2.4``). Raises ``ValidationError`` with ``target`` or ``id`` messages.
    """
    if target not in TARGET_MODELS:
        choices = ", ".join(EvidenceLink.Target.values)
        raise ValidationError({"target": f"Choose one of: {choices}."})
    label = EvidenceLink.Target(target).label
    text = str(value).strip() if value is not None else ""
    queryset = link_target_choices(organization, target)
    if target == EvidenceLink.Target.CONTROL and text and not text.isdigit():
        found = queryset.filter(ref=text).first()
    else:
        found = queryset.filter(pk=int(text)).first() if text.isdigit() else None
    if found is None:
        where = f"ISO/IEC 42001 Annex A {label.lower()}" if target == EvidenceLink.Target.CONTROL else label.lower()
        raise ValidationError({"id": f"No {where} “{text}” in your organisation."})
    return found


# --- Writes ----------------------------------------------------------------------------------


def _save(instance: Model, acting_user: User | None) -> Model:
    if acting_user is not None:
        instance._history_user = acting_user
    instance.full_clean()
    instance.save()
    return instance


def _ensure_member(organization_id: int, owner: User | None) -> None:
    if owner is not None and not Membership.objects.filter(organization_id=organization_id, user=owner).exists():
        raise ValidationError({"owner": "Choose a member of the organisation."})


def _ensure_dates(effective_from: date | None, valid_until: date | None) -> None:
    if effective_from and valid_until and valid_until < effective_from:
        raise ValidationError({"valid_until": "The evidence cannot expire before it takes effect."})


def _content(kind: str, upload, url: str, note: str) -> tuple[InspectedUpload | None, str, str]:
    """Check that the content matching ``kind`` is given; inspect a file before anything is written."""
    url, note = (url or "").strip(), (note or "").strip()
    if upload is not None and kind != Evidence.Kind.FILE:
        # Refused rather than dropped: the uploader would believe the file was kept.
        raise ValidationError({"file": "Only file evidence takes a file; choose the kind “file”."})
    if kind == Evidence.Kind.FILE:
        if upload is None:
            raise ValidationError({"file": "Choose a file to upload."})
        return upload_inspect(upload), "", note
    if kind == Evidence.Kind.LINK:
        if not url:
            raise ValidationError({"url": "Give the address of the evidence."})
        return None, url, note
    if kind == Evidence.Kind.NOTE:
        if not note:
            raise ValidationError({"note": "Write the note."})
        return None, "", note
    raise ValidationError({"kind": "Choose file, link or note."})


def _version_save(
    *, evidence: Evidence, number: int, acting_user: User | None, upload, inspected, url: str, note: str, comment: str
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
        return _save(version, acting_user)
    version.original_name = inspected.name
    version.content_type = inspected.content_type
    version.size = inspected.size
    version.sha256 = inspected.sha256
    # Written through the FileField, so the name goes through upload_to and the storage's own
    # name checks: it lands in evidence/<org>/<uuid>/ of the private storage.
    version.file.save(inspected.name, upload, save=False)
    try:
        return _save(version, acting_user)
    except Exception:
        # The row was refused: do not leave the bytes behind.
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
    upload=None,
    url: str = "",
    note: str = "",
    comment: str = "",
) -> Evidence:
    """Record a piece of evidence and its version 1 (the file, link or note that ``kind`` names)."""
    inspected, url, note = _content(kind, upload, url, note)
    _ensure_member(organization.pk, owner)
    effective_from = effective_from or timezone.localdate()
    _ensure_dates(effective_from, valid_until)
    evidence = _save(
        Evidence(
            organization=organization,
            title=(title or "").strip(),
            kind=kind,
            description=description or "",
            effective_from=effective_from,
            valid_until=valid_until,
            owner=owner,
        ),
        acting_user,
    )
    _version_save(evidence=evidence, number=1, acting_user=acting_user, upload=upload, inspected=inspected,
                  url=url, note=note, comment=comment)  # fmt: skip
    return evidence


UPDATABLE_FIELDS = ("title", "description", "effective_from", "valid_until", "owner")


@transaction.atomic
def evidence_update(*, evidence: Evidence, acting_user: User | None, **fields: Any) -> Evidence:
    """Change the metadata (title, description, dates, owner); the content changes by new versions only."""
    unknown = set(fields) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValidationError({name: "This cannot be changed here." for name in sorted(unknown)})
    if "owner" in fields:
        _ensure_member(evidence.organization_id, fields["owner"])
    for name, value in fields.items():
        setattr(evidence, name, value.strip() if isinstance(value, str) and name == "title" else value)
    if evidence.effective_from is None:
        raise ValidationError({"effective_from": "Give the date the evidence takes effect."})
    _ensure_dates(evidence.effective_from, evidence.valid_until)
    return _save(evidence, acting_user)


@transaction.atomic
def evidence_add_version(
    *, evidence: Evidence, acting_user: User | None, upload=None, url: str = "", note: str = "", comment: str = ""
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
        raise ValidationError({"target": "The record does not match the kind of link."})
    if target == EvidenceLink.Target.CONTROL:
        if obj.kind != Requirement.Kind.CONTROL or obj.framework.code != CONTROL_FRAMEWORK:
            raise ValidationError({"id": "Evidence supports ISO/IEC 42001 Annex A controls only."})
    elif obj.organization_id != evidence.organization_id:
        # Unreachable through the portal and the API, which only offer the organisation's own records.
        raise ValidationError({"id": "Records of different organisations cannot be linked."})
    existing = evidence.links.filter(target=target, **{target: obj}).first()
    if existing is not None:
        return existing
    link = EvidenceLink(organization_id=evidence.organization_id, evidence=evidence, target=target, **{target: obj})
    return _save(link, acting_user)


@transaction.atomic
def evidence_unlink(*, link: EvidenceLink, acting_user: User | None) -> None:
    link._history_user = acting_user
    link.delete()


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
        version._history_user = acting_user
        version.delete()
    evidence._history_user = acting_user
    evidence.delete()
    transaction.on_commit(lambda: [default_storage.delete(name) for name in names])


# --- Serving a stored file -------------------------------------------------------------------


def version_file_response(version: EvidenceVersion) -> FileResponse:
    """The version's file as a private attachment; the caller has checked the permission.

    The detected type is sent with ``nosniff`` and a sandboxing CSP, and always as an
    attachment, so nothing uploaded is ever rendered by the browser as part of the portal.
    """
    if not version.file or not default_storage.exists(version.file.name):
        raise Http404("This version has no file to download.")
    content_type = version.content_type or "application/octet-stream"
    if any(word in content_type for word in ("html", "svg", "javascript", "text/xml")):
        # Never a type a browser would render as a page, whatever an administrator allowed.
        content_type = "application/octet-stream"
    response = FileResponse(
        default_storage.open(version.file.name, "rb"),
        as_attachment=True,
        filename=version.original_name or version.file.name.rsplit("/", 1)[-1],
        content_type=content_type,
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    if version.sha256:
        response["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(version.sha256)).decode()}:"
    return response


# --- Reminders -------------------------------------------------------------------------------

REMINDER_EVIDENCE_EXPIRY = "evidence_expiry"
REMINDER_SOA_TARGET = "soa_target"
# Evidence that expired up to this many days ago is still reminded about once (a missed daily
# run, evidence recorded already expired); older expiries show on the list, not by e-mail.
JUST_EXPIRED_DAYS = 7


def _link(name: str, *args) -> str:
    try:
        return settings.SITE_URL + reverse(name, args=args)
    except NoReverseMatch:
        return settings.SITE_URL + "/"


def _remind_once(*, item: Model, kind: str, period: date, recipients: list[str], subject: str, body: str) -> bool:
    """Record the reminder and send it in one transaction: if sending fails, the next run tries again."""
    try:
        with transaction.atomic():
            reminder = Reminder(organization_id=item.organization_id, kind=kind, object_id=item.pk,
                                period=period.isoformat(), sent_to=recipients[0])  # fmt: skip
            # The unique constraint is the guard against two runs at once; it is enforced by the insert.
            reminder.full_clean(validate_unique=False, validate_constraints=False)
            reminder.save()
            send_mail(subject=subject, message=body, from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=recipients)
    except IntegrityError:
        return False
    return True


def reminders_send(today: date | None = None) -> int:
    """E-mail owners about evidence about to expire (or just expired) and SoA rows past their target date.

    Each item is reminded once per period (the ``valid_until`` or ``target_date`` reminded
    about): a changed date opens a new period. Without an owner who is still a member, the
    organisation's admins and officers are told. Returns the number of e-mails sent.
    """
    today = today or timezone.localdate()
    horizon = today + timedelta(days=expiring_days())
    evidence = list(
        Evidence.objects.filter(
            valid_until__gte=today - timedelta(days=JUST_EXPIRED_DAYS), valid_until__lte=horizon
        ).select_related("organization", "owner")
    )
    rows = list(
        ApplicabilityStatement.objects.filter(applicable=True, target_date__lt=today)
        .exclude(implementation_status=ImplementationStatus.IMPLEMENTED)
        .select_related("organization", "control")
    )
    done = set(
        Reminder.objects.filter(
            kind__in=[REMINDER_EVIDENCE_EXPIRY, REMINDER_SOA_TARGET],
            organization_id__in={i.organization_id for i in [*evidence, *rows]},
        ).values_list("organization_id", "kind", "object_id", "period")
    )
    people = reminder_recipients({i.organization_id for i in [*evidence, *rows]})
    sent = 0
    for kind, items, date_field in (
        (REMINDER_EVIDENCE_EXPIRY, evidence, "valid_until"),
        (REMINDER_SOA_TARGET, rows, "target_date"),
    ):
        for item in items:
            period = getattr(item, date_field)
            if (item.organization_id, kind, item.pk, period.isoformat()) in done:
                continue
            members, fallback = people[item.organization_id]
            owner_email = members.get(item.owner_id)
            recipients = [owner_email] if owner_email else fallback
            if not recipients:
                logger.warning("No one to remind about %s #%s in organisation %s.", kind, item.pk, item.organization_id)
                continue
            subject, body = _reminder_message(kind, item, today, addressed_to_owner=bool(owner_email))
            sent += _remind_once(item=item, kind=kind, period=period, recipients=recipients, subject=subject, body=body)
    return sent


def _reminder_message(kind: str, item: Model, today: date, *, addressed_to_owner: bool) -> tuple[str, str]:
    context = {"item": item, "today": today, "organization": item.organization, "to_owner": addressed_to_owner}
    if kind == REMINDER_EVIDENCE_EXPIRY:
        days = (item.valid_until - today).days
        context.update(days=days, expired=days < 0, days_ago=-days, link=_link("evidence:detail", item.pk))
        state = "has expired" if days < 0 else "expires today" if days == 0 else f"expires in {days} days"
        subject = f"[{item.organization.name}] Evidence “{item.title}” {state}"
        return subject, render_to_string("emails/reminder_evidence_expiry.txt", context)
    context.update(
        days_late=(today - item.target_date).days,
        link=_link("soa:statement"),
        control_link=_link("catalogue:requirement", CONTROL_FRAMEWORK, item.control.ref),
    )
    subject = f"[{item.organization.name}] Control {item.control.ref} is past its target date"
    return subject, render_to_string("emails/reminder_soa_target.txt", context)

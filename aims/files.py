"""Uploaded files in and private files out: the one place that decides what is accepted and how
stored files are served.

Every upload (evidence, policy documents) passes :func:`upload_inspect` with the rules of
its module (:class:`UploadRules`): size, a safe name, an allowed extension, and content that
is what the extension says (binary signatures, genuine Office/OpenDocument containers, UTF-8
text). Every stored file (evidence versions, policy documents, evidence packs) goes out
through :func:`private_file_response`, after the caller's permission check, with the same
hardened headers, so no upload can ever be rendered by the browser as part of the portal.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import filetype
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, Http404
from django.utils.text import get_valid_filename

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
# Content types a browser would render as a page or run: never served as such.
ACTIVE_CONTENT = ("html", "svg", "javascript", "ecmascript", "text/xml", "application/xml")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class UploadRules:
    """What one kind of upload accepts: extensions (lower case, no dot), a size limit, and the
    stem a file gets when nothing usable is left of its name."""

    extensions: frozenset[str]
    max_mb: int
    default_stem: str = "file"

    @classmethod
    def of(cls, extensions: Iterable[str], max_mb: int, default_stem: str = "file") -> UploadRules:
        cleaned = frozenset(ext.strip().lower().lstrip(".") for ext in extensions if ext.strip())
        return cls(extensions=cleaned, max_mb=int(max_mb), default_stem=default_stem)

    @property
    def max_bytes(self) -> int:
        return self.max_mb * 1024 * 1024


@dataclass(frozen=True)
class InspectedUpload:
    """What the portal stores about an accepted file."""

    name: str
    extension: str
    content_type: str
    size: int
    sha256: str


def filename_sanitise(name: str, default_stem: str = "file") -> tuple[str, str]:
    """A safe base name and its lower-cased extension, from whatever name the client sent.

    Browsers and API clients may send a full path (``C:\\Users\\…``, ``../../etc/passwd.pdf``):
    only the last component is kept, control characters are dropped and the rest is reduced
    to letters, digits, ``-``, ``_`` and ``.``, so a stored path never leaves its folder.
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
    stem = stem.strip("._-") or default_stem
    try:
        extension = get_valid_filename(extension)
    except SuspiciousFileOperation as exc:
        raise ValidationError({"file": "The file name has no usable extension."}) from exc
    stem = stem[: MAX_NAME_LENGTH - len(extension) - 1]
    return f"{stem}.{extension}", extension


def _human_size(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def upload_inspect(upload: Any, rules: UploadRules) -> InspectedUpload:
    """Check an uploaded file against ``rules`` and describe it, reading it once in chunks.

    Raises ``ValidationError({"file": …})``. Order: size limit, a usable name with an allowed
    extension, then the content must be what the extension says: binary types by their
    signature (a ``.pdf`` that is really a PNG or an executable is refused), text types as
    UTF-8 without NUL bytes. The SHA-256 and size come from the same pass; the upload is left
    rewound for storing.
    """
    limit = rules.max_bytes
    declared = getattr(upload, "size", None)
    if declared is not None and declared > limit:
        raise ValidationError({"file": f"The file is {_human_size(declared)}; at most {rules.max_mb} MB is accepted."})
    name, extension = filename_sanitise(getattr(upload, "name", ""), rules.default_stem)
    if extension not in rules.extensions:
        accepted = ", ".join(sorted(rules.extensions))
        raise ValidationError({"file": f"Files of type .{extension} are not accepted. Accepted: {accepted}."})
    digest, size, head = hashlib.sha256(), 0, b""
    decoder = codecs.getincrementaldecoder("utf-8")() if extension in TEXT_TYPES else None
    upload.seek(0)
    for chunk in upload.chunks(CHUNK):
        size += len(chunk)
        if size > limit:
            raise ValidationError({"file": f"The file is larger than {rules.max_mb} MB."})
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
    return InspectedUpload(
        name=name, extension=extension, content_type=content_type, size=size, sha256=digest.hexdigest()
    )


def _check_text(decoder: codecs.IncrementalDecoder, chunk: bytes, *, final: bool) -> None:
    if b"\x00" in chunk:
        raise ValidationError({"file": "This is not a text file: it contains NUL bytes."})
    try:
        decoder.decode(chunk, final=final)
    except UnicodeDecodeError as exc:
        raise ValidationError({"file": "Text files must be UTF-8 encoded."}) from exc


def _check_binary(upload: Any, extension: str, head: bytes) -> str:
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


def _check_office_container(upload: Any, extension: str) -> None:
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


def delete_files_on_commit(*names: str | None) -> None:
    """Remove stored files once the transaction that stopped using them has committed."""
    wanted = [name for name in names if name]
    if wanted:

        def delete() -> None:
            for name in wanted:
                default_storage.delete(name)

        transaction.on_commit(delete)


def private_file_response(
    stored_name: str | None, *, filename: str, content_type: str = "", sha256: str = ""
) -> FileResponse:
    """A stored file as a private attachment; the caller has already checked the permission.

    Always an attachment, never cached by shared caches, with ``nosniff`` and a sandboxing
    Content-Security-Policy; a type a browser would render or run (HTML, SVG, scripts, XML)
    is sent as opaque bytes. ``sha256`` (hex) adds a ``Repr-Digest`` so clients can check it.
    """
    if not stored_name or not default_storage.exists(stored_name):
        raise Http404("There is no file to download.")
    content_type = content_type or "application/octet-stream"
    if any(word in content_type for word in ACTIVE_CONTENT):
        content_type = "application/octet-stream"
    response = FileResponse(
        default_storage.open(stored_name, "rb"),
        as_attachment=True,
        filename=filename or stored_name.rsplit("/", 1)[-1],
        content_type=content_type,
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    if sha256:
        response["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(sha256)).decode()}:"
    return response

"""A chosen file kept across a form shown again with errors.

A browser never sends a file twice: when the evidence form comes back with an error elsewhere
(a missing title, an expiry before the start), the file picker is empty again. The file the
member chose is checked like any upload and kept in the private storage under ``staged/``; the
form carries a signed token naming it, valid only for the same member and organisation and
for :data:`STAGED_HOURS`, and the next submission uses it unless another file is chosen.
Staged files are removed once used, and a daily task removes the abandoned ones.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from aims.files import filename_sanitise, upload_inspect
from aims.tenancy import Tenant
from controls.evidence.services import evidence_upload_rules

logger = logging.getLogger(__name__)

STAGED_DIR = "staged"
STAGED_HOURS = 24
SALT = "controls.evidence.staged"


@dataclass(frozen=True)
class StagedFile:
    token: str
    path: str
    name: str  # the name the member's file had

    def open(self) -> File:
        return File(default_storage.open(self.path, "rb"), name=self.name)


def stage(upload: Any, tenant: Tenant) -> StagedFile:
    """Check ``upload`` as evidence and keep it for the member's next try (ValidationError if refused)."""
    upload_inspect(upload, evidence_upload_rules())
    name, _ = filename_sanitise(getattr(upload, "name", ""), "evidence")
    path = default_storage.save(f"{STAGED_DIR}/{tenant.organization.pk}/{uuid.uuid4().hex}/{name}", upload)
    upload.seek(0)
    user_id = tenant.user.pk if tenant.user is not None else None
    token = signing.dumps({"o": tenant.organization.pk, "u": user_id, "p": path, "n": name}, salt=SALT)
    return StagedFile(token, path, name)


def staged(token: str, tenant: Tenant) -> StagedFile | None:
    """The file ``token`` names, if it is the member's, in their organisation, recent and still there."""
    if not token:
        return None
    try:
        data = signing.loads(token, salt=SALT, max_age=timedelta(hours=STAGED_HOURS))
    except signing.BadSignature:
        return None
    user_id = tenant.user.pk if tenant.user is not None else None
    path = str(data.get("p", ""))
    if data.get("o") != tenant.organization.pk or data.get("u") != user_id:
        return None
    if not path.startswith(f"{STAGED_DIR}/{tenant.organization.pk}/") or not default_storage.exists(path):
        return None
    return StagedFile(token, path, str(data.get("n", "")))


def discard(file: StagedFile) -> None:
    default_storage.delete(file.path)


def discard_on_commit(file: StagedFile | None) -> None:
    """Remove a staged file once the evidence that took it is committed."""
    if file is not None:
        transaction.on_commit(lambda: discard(file))


def keep_for_another_try(form: Any, tenant: Tenant) -> None:
    """After a refused submission: keep the chosen file (new or staged) for the form shown again.

    Sets ``form.staged`` for the template; a new file that is itself refused is not kept, and its
    error joins the form's, so the member learns of both problems at once.
    """
    # A file kept from before and a new one never meet here: the form's clean discarded the
    # kept one as soon as a new one was chosen.
    upload = form.files.get("file")
    if "file" not in form.fields or "file" in form.errors or upload is None:
        return
    try:
        form.staged = stage(upload, tenant)
    except ValidationError as exc:
        form.staged = None
        for message in exc.message_dict.get("file", exc.messages):
            form.add_error("file", message)


def discard_stale(now: Any = None) -> int:
    """Remove staged files older than :data:`STAGED_HOURS` (abandoned forms). Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(hours=STAGED_HOURS)
    removed = 0
    try:
        organizations, _ = default_storage.listdir(STAGED_DIR)
    except (FileNotFoundError, NotImplementedError):
        return 0
    for organization in organizations:
        folders, _ = default_storage.listdir(f"{STAGED_DIR}/{organization}")
        for folder in folders:
            base = f"{STAGED_DIR}/{organization}/{folder}"
            for name in default_storage.listdir(base)[1]:
                path = f"{base}/{name}"
                if default_storage.get_modified_time(path) < cutoff:
                    default_storage.delete(path)
                    removed += 1
    if removed:
        logger.info("Removed %d abandoned staged evidence files", removed)
    return removed

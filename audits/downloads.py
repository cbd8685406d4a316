"""Serving a pack's PDF: only after the permission check, with headers that keep it private."""

from __future__ import annotations

import base64

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404

from audits.models import EvidencePack
from audits.packs import services


def pack_file_response(request, pack: EvidencePack, *, user, via_api: bool) -> FileResponse:
    if not pack.is_downloadable or not default_storage.exists(pack.file.name):
        raise Http404("This pack has no file to download.")
    services.evidence_pack_log_download(
        pack=pack, user=user, via_api=via_api, ip_address=request.META.get("REMOTE_ADDR")
    )
    response = FileResponse(
        default_storage.open(pack.file.name, "rb"),
        as_attachment=True,
        filename=pack.filename,
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(pack.sha256)).decode()}:"
    return response

"""HTML to PDF/A-3b with WeasyPrint, written atomically with its manifest attached."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string

MANIFEST_NAME = "manifest.json"


@dataclass
class RenderedPack:
    path: Path
    page_count: int
    sha256: str
    size: int


def file_sha256_stream(fh) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: fh.read(1024 * 1024), b""):
        digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return file_sha256_stream(fh)


def render_html(context: dict) -> str:
    return render_to_string("pdf/pack.html", context)


def layout(html: str):
    """Lay out the pages (the slow part); returns WeasyPrint's document."""
    from weasyprint import HTML

    return HTML(string=html, base_url=str(settings.BASE_DIR)).render()


def write_pdf(
    document, manifest: dict, final_path: Path, attachments: Sequence[tuple[str, bytes]] = ()
) -> RenderedPack:
    """Write the PDF to a temporary file beside ``final_path`` and move it into place.

    The rename is atomic, so a reader never sees a half-written file, and a worker that
    dies before it leaves only a temporary file that nothing points to.
    """
    from weasyprint import Attachment

    files = [
        Attachment(
            string=json.dumps(manifest, indent=2, sort_keys=True),
            name=MANIFEST_NAME,
            description="Machine-readable manifest: the records and files this pack contains, with SHA-256.",
            relationship="Data",
        )
    ]
    files += [
        Attachment(file_obj=io.BytesIO(content), name=name, relationship="Source") for name, content in attachments
    ]
    final_path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".pdf", dir=final_path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(handle, "wb") as fh:
            document.write_pdf(fh, pdf_variant="pdf/a-3b", attachments=files, custom_metadata=True)
        digest, size = file_sha256(tmp), tmp.stat().st_size
        os.replace(tmp, final_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return RenderedPack(final_path, len(document.pages), digest, size)

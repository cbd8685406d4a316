"""HTML to PDF/A-3b with WeasyPrint, written atomically (a whole pack, or one part of it)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

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


def css_string(text: str) -> SafeString:
    """``text`` as a quoted CSS string, every character that could end it escaped."""
    escaped = "".join(c if c.isalnum() or c in " .,:;-_()/" else f"\\{ord(c):06x}" for c in text)
    return mark_safe(f'"{escaped}"')  # noqa: S308  # only letters, digits and escapes remain


def page_number_overlay(first: int, count: int, total: int) -> bytes:
    """A PDF of ``count`` otherwise empty pages reading "Page first of total" onwards, in the footer.

    Stamped on the merged pack's pages: only after the merge is the whole pack's page count
    known, and laying out these near-empty pages costs little beside laying out the parts again.
    """
    from weasyprint import HTML

    # "Page 3 of 40" in the active language, around the page counter that CSS fills in.
    before, _, after = gettext("Page %(page)s of %(total)s").partition("%(page)s")
    context = {
        "first": first,
        "pages": range(count),
        "before_number": css_string(before),
        "after_number": css_string(after % {"total": total}),
    }
    html = render_to_string("pdf/pack_page_numbers.html", context)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(pdf_variant="pdf/a-3b")


def layout(html: str):
    """Lay out the pages (the slow part); returns WeasyPrint's document."""
    from weasyprint import HTML

    return HTML(string=html, base_url=str(settings.BASE_DIR)).render()


def write_pdf(
    document, manifest: dict, final_path: Path, attachments: Sequence[tuple[str, bytes]] = ()
) -> RenderedPack:
    """The whole pack in one document, with its manifest and attachments, written atomically."""
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

    def write(fh) -> None:
        document.write_pdf(fh, pdf_variant="pdf/a-3b", attachments=files, custom_metadata=True)

    digest, size = write_atomically(final_path, write)
    return RenderedPack(final_path, len(document.pages), digest, size)


def write_part(document, final_path: Path) -> RenderedPack:
    """One part of a pack as its own PDF/A-3b file; the merge adds the manifest and attachments."""

    def write(fh) -> None:
        document.write_pdf(fh, pdf_variant="pdf/a-3b", custom_metadata=True)

    digest, size = write_atomically(final_path, write)
    return RenderedPack(final_path, len(document.pages), digest, size)


def write_atomically(final_path: Path, write: Callable[..., None]) -> tuple[str, int]:
    """Call ``write(fh)`` on a temporary file beside ``final_path``, then move it into place.

    The rename is atomic, so a reader never sees a half-written file, and a worker that
    dies before it leaves only a temporary file that nothing points to. Returns the
    file's SHA-256 and size.
    """
    final_path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".pdf", dir=final_path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(handle, "wb") as fh:
            write(fh)
        digest, size = file_sha256(tmp), tmp.stat().st_size
        os.replace(tmp, final_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return digest, size

"""Assemble the parts of a pack into one PDF/A-3b file with pikepdf.

Each part is a PDF/A-3b document of its own, laid out by WeasyPrint. The merge appends
their pages in order and then does what only the whole pack can: it stamps "Page X of Y"
on every page, resolves the links of the contents page (which point into other parts),
writes one outline for the pack, and embeds the manifest and attached files as associated
files (``/AF``), keeping the first part's XMP metadata and output intent, so that the
result is a single PDF/A-3b document with one of each.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils import timezone

from audits.packs import render

# Links of the contents page name an anchor of another part with this prefix (an absolute
# URI, so that WeasyPrint keeps the link although the anchor is not in its document).
LINK_SCHEME = "aims-pack:"
# Pages of page-number footer laid out at once: small documents, however long the pack.
STAMP_CHUNK = 250


@dataclass
class OutlineEntry:
    title: str
    anchor: str
    children: list[OutlineEntry] = field(default_factory=list)


@dataclass
class _Destination:
    page: int  # index in the merged pack
    view: list  # what follows the page in an explicit destination: /XYZ left top zoom


def merge_parts(
    paths: Sequence[Path],
    final_path: Path,
    *,
    outline: Sequence[OutlineEntry],
    manifest: bytes,
    attachments: Sequence[tuple[str, bytes | Path]] = (),
) -> render.RenderedPack:
    """Merge the part files (the first one opens the pack) into ``final_path``, atomically."""
    import pikepdf

    with ExitStack() as stack:
        # The sources stay open until the merged file is written: pikepdf copies their
        # streams' data only then.
        sources = [stack.enter_context(pikepdf.open(path)) for path in paths]
        merged = stack.enter_context(pikepdf.new())
        # The first part's output intent, XMP metadata and document information: one of each.
        merged.Root.OutputIntents = _copy(merged, sources[0], sources[0].Root.OutputIntents)
        merged.Root.Metadata = _copy(merged, sources[0], sources[0].Root.Metadata)
        if "/Info" in sources[0].trailer:
            merged.trailer.Info = _copy(merged, sources[0], sources[0].trailer.Info)
        destinations: dict[str, _Destination] = {}
        front_pages = len(sources[0].pages)
        for source in sources:
            first = len(merged.pages)
            destinations.update((name, dest) for name, dest in _destinations(source, first) if name not in destinations)
            merged.pages.extend(source.pages)
        total = len(merged.pages)
        _stamp_page_numbers(merged, total, stack)
        _write_destinations(merged, destinations)
        _resolve_contents_links(merged, destinations, front_pages)
        _write_outline(merged, outline, destinations)
        _attach(merged, manifest, attachments)
        with merged.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["pdfaid:part"] = "3"
            meta["pdfaid:conformance"] = "B"
        version = sources[0].pdf_version
        digest, size = render.write_atomically(final_path, lambda fh: merged.save(fh, min_version=version))
    return render.RenderedPack(final_path, total, digest, size)


def _copy(merged, source, obj):
    if not obj.is_indirect:
        obj = source.make_indirect(obj)
    return merged.copy_foreign(obj)


def _destinations(source, first_page: int):
    """The named destinations of one part, moved to the page numbering of the merged pack."""
    import pikepdf

    names = source.Root.get("/Names")
    if names is None or "/Dests" not in names:
        return
    page_index = {page.obj.objgen: index for index, page in enumerate(source.pages)}
    for name, dest in pikepdf.NameTree(names.Dests).items():
        array = dest.get("/D") if isinstance(dest, pikepdf.Dictionary) else dest
        if not isinstance(array, pikepdf.Array) or not len(array):
            continue
        index = page_index.get(array[0].objgen)
        if index is not None:
            yield name, _Destination(first_page + index, list(array[1:]))


def _explicit(merged, destination: _Destination):
    import pikepdf

    return pikepdf.Array([merged.pages[destination.page].obj, *destination.view])


def _write_destinations(merged, destinations: dict[str, _Destination]) -> None:
    """One name tree for the pack, so that the links inside each part still land."""
    import pikepdf

    tree = pikepdf.NameTree.new(merged)
    for name in sorted(destinations):
        tree[name] = _explicit(merged, destinations[name])
    merged.Root.Names = pikepdf.Dictionary(Dests=tree.obj)


def _resolve_contents_links(merged, destinations: dict[str, _Destination], front_pages: int) -> None:
    import pikepdf

    for page in merged.pages[:front_pages]:
        for annot in page.obj.get("/Annots", []):
            action = annot.get("/A")
            if action is None or action.get("/S") != pikepdf.Name.URI:
                continue
            uri = str(action.URI)
            if not uri.startswith(LINK_SCHEME):
                continue
            del annot["/A"]
            target = destinations.get(uri[len(LINK_SCHEME) :])
            if target is not None:
                annot.Dest = _explicit(merged, target)


def _write_outline(merged, entries: Sequence[OutlineEntry], destinations: dict[str, _Destination]) -> None:
    import pikepdf

    def item(entry: OutlineEntry):
        node = pikepdf.OutlineItem(entry.title, destinations[entry.anchor].page)
        node.children.extend(item(child) for child in entry.children if child.anchor in destinations)
        return node

    with merged.open_outline() as outline:
        outline.root.extend(item(entry) for entry in entries if entry.anchor in destinations)


def _stamp_page_numbers(merged, total: int, stack: ExitStack) -> None:
    import pikepdf

    for start in range(0, total, STAMP_CHUNK):
        count = min(STAMP_CHUNK, total - start)
        overlay = stack.enter_context(pikepdf.open(_bytes_io(render.page_number_overlay(start + 1, count, total))))
        for offset, stamp in enumerate(overlay.pages):
            merged.pages[start + offset].add_overlay(stamp)


def _bytes_io(data: bytes):
    import io

    return io.BytesIO(data)


def _attach(merged, manifest: bytes, attachments: Sequence[tuple[str, bytes | Path]]) -> None:
    """The manifest (the pack's data, JSON) and every attached file, as PDF/A-3 associated files.

    Each file is compressed here, one at a time, and handed to qpdf already encoded: qpdf
    keeps every stream until the file is written, and the registers of a large organisation
    are hundreds of megabytes of text but a tenth of that compressed.
    """
    import pikepdf

    moment = "D:" + timezone.now().strftime("%Y%m%d%H%M%SZ")
    files: list[tuple[str, bytes | Path, str, str, Any]] = [
        (
            render.MANIFEST_NAME,
            manifest,
            "Machine-readable manifest: the records and files this pack contains, with SHA-256.",
            "application/json",
            pikepdf.Name.Data,
        )
    ]
    files += [(name, content, "", _mime(name), pikepdf.Name.Source) for name, content in attachments]
    tree = pikepdf.NameTree.new(merged)
    associated = []
    for name, content, description, mime, relationship in files:
        spec = pikepdf.AttachedFileSpec(
            merged,
            b"",
            description=description,
            filename=name,
            mime_type=mime,
            creation_date=moment,
            mod_date=moment,
            relationship=relationship,
        )
        data = content if isinstance(content, bytes) else content.read_bytes()
        stream = spec.obj.EF.F
        stream.write(zlib.compress(data, 6), filter=pikepdf.Name.FlateDecode)
        # The embedded file's parameters describe the file itself, not its encoded stream.
        stream.Params.Size = len(data)
        stream.Params.CheckSum = pikepdf.String(hashlib.md5(data, usedforsecurity=False).digest())
        del data
        obj = merged.make_indirect(spec.obj)
        tree[name] = obj
        associated.append(obj)
    merged.Root.Names.EmbeddedFiles = tree.obj
    merged.Root.AF = pikepdf.Array(associated)


def _mime(name: str) -> str:
    import mimetypes

    return mimetypes.guess_type(name)[0] or "application/octet-stream"

"""Checks of a merged pack's PDF shared by the parts tests: numbering, outline, PDF/A-3b."""

from __future__ import annotations

import re
from io import BytesIO

import pikepdf
from pypdf import PdfReader

from audits.models import EvidencePack, PackSection


def section_headings(pack: EvidencePack) -> list[str]:
    """The headings of the pack's sections as they are printed: "3. Risk criteria (clause 6.1.2)"."""
    from audits.packs.parts import chosen_sections

    chosen = chosen_sections(pack)
    headings = [f"{n}. {PackSection(key).label}" for n, key in enumerate(chosen, 1)]
    if PackSection.EVIDENCE in pack.sections:
        headings.append(f"{len(chosen) + 1}. Evidence index")
    return headings


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def check_numbering(content: bytes, pack: EvidencePack) -> dict[str, int]:
    """Every contents entry gives the page where its section starts; every page says "Page X of Y".

    Returns the first page (from 1) of each section heading.
    """
    reader = PdfReader(BytesIO(content))
    total = len(reader.pages)
    texts = [_flat(page.extract_text()) for page in reader.pages]
    for number, text in enumerate(texts, 1):
        assert f"Page {number} of {total}" in text, (number, text[-200:])
    contents_pages = [i for i, text in enumerate(texts) if text.startswith("Contents") or " Contents " in text[:80]]
    assert contents_pages, "no contents page"
    contents = " ".join(texts[i] for i in contents_pages)
    # Each line of the contents: a title, dot leaders, a page number.
    listed = [(_squash(m.group(1)), int(m.group(2))) for m in re.finditer(r"(.*?)\s*\.{4,}\s*(\d+)", contents)]
    starts = {}
    for heading in section_headings(pack):
        start = next(
            i
            for i, text in enumerate(texts)
            if i > contents_pages[-1] and _squash(text[:400]).startswith(_squash(heading))
        )
        starts[heading] = start + 1
        pages = [page for title, page in listed if title.endswith(_squash(heading))]
        assert pages == [start + 1], (heading, pages, start + 1)
    return starts


def _squash(text: str) -> str:
    # Text extraction may split a line anywhere ("A. 10"): compare without any whitespace.
    return re.sub(r"\s+", "", text)


def check_outline_and_links(content: bytes, pack: EvidencePack, starts: dict[str, int]) -> None:
    """The outline has an entry per section (at its first page), the contents links land there too."""
    with pikepdf.open(BytesIO(content)) as pdf:
        pages = {page.obj.objgen: index + 1 for index, page in enumerate(pdf.pages)}
        with pdf.open_outline() as outline:
            entries = {item.title: item for item in outline.root}
        for heading, page in starts.items():
            item = entries[heading]
            assert pages[item.destination[0].objgen] == page, heading
        inventory = next((t for t in entries if PackSection.INVENTORY.label in t), None)
        if inventory is not None:
            children = [child.title for child in entries[inventory].children]
            assert children, "no system under the inventory in the outline"
        targets = []
        for page in pdf.pages[: min(starts.values()) - 1]:
            for annot in page.obj.get("/Annots", []):
                assert "/A" not in annot or annot.A.get("/S") != pikepdf.Name.URI, "an unresolved contents link"
                if "/Dest" in annot:
                    targets.append(pages[annot.Dest[0].objgen])
        assert set(starts.values()) <= set(targets), "a contents link does not land on its section"


def check_pdfa(content: bytes) -> pikepdf.Pdf:
    """PDF/A-3b on the merged file: one XMP, one output intent, fonts embedded, nothing forbidden."""
    pdf = pikepdf.open(BytesIO(content))
    root = pdf.Root
    metadata = [obj for obj in pdf.objects if isinstance(obj, pikepdf.Stream) and obj.get("/Type") == "/Metadata"]
    assert len(metadata) == 1 and metadata[0].objgen == root.Metadata.objgen
    meta = pdf.open_metadata()
    assert meta["pdfaid:part"] == "3" and meta["pdfaid:conformance"] == "B"
    assert len(root.OutputIntents) == 1 and root.OutputIntents[0].S == "/GTS_PDFA1"
    assert "/DestOutputProfile" in root.OutputIntents[0]
    assert "/Encrypt" not in pdf.trailer and not pdf.is_encrypted
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            assert "/JS" not in obj and "/JavaScript" not in obj
            assert obj.get("/S") != "/JavaScript"
    fonts = 0
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/Font" and obj.get("/Subtype") != "/Type0":
            fonts += 1
            descriptor = obj.get("/FontDescriptor")
            assert descriptor is not None and any(
                key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
            ), f"font {obj.get('/BaseFont')} is not embedded"
    assert fonts
    # manifest.json is an associated file of the document, its relationship "Data".
    specs = {str(spec.F): spec for spec in root.AF}
    manifest = specs["manifest.json"]
    assert manifest.AFRelationship == "/Data"
    assert pdf.attachments["manifest.json"].obj.objgen == manifest.objgen
    stream = manifest.EF.F
    assert stream.Subtype == "/application/json" and "/ModDate" in stream.Params
    return pdf

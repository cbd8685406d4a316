"""Cells that a spreadsheet program opens as text, never runs as formulas.

A cell that starts with one of :data:`FORMULA_START` is run as a formula. Exports prefix such
text with an apostrophe (the spreadsheet convention for "this is text") and imports drop that
apostrophe again, so the round trip is exact and opening an export is safe.
"""

from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> str:
    """``value`` as cell text that a spreadsheet shows as text."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


def spreadsheet_unescape(text: str) -> str:
    """The text of a cell an export made safe with :func:`spreadsheet_safe`."""
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_START:
        return text[1:]
    return text

"""Sidebar entries: two lines, each cut to the sidebar's width by cell, never wrapped."""

from __future__ import annotations

from typing import Any

from rich.cells import split_graphemes
from rich.text import Text

WIDTH = 26
"""The sidebar is 32 wide; its list leaves 26 cells of text (CJK counts double)."""


def fit(cell: Any, width: int) -> Any:
    """A text cell cut to `width` cells at a whole character, '…' right after it (Rich's own
    cut pads with a space where a wide character did not fit: "投 …"). Other cells as they
    are."""
    if not isinstance(cell, Text) or cell.cell_len <= width:
        return cell
    room = width - 1 if width >= 2 else max(width, 0)  # no room for '…' below 2 cells
    keep = used = 0
    for _start, end, cells in split_graphemes(cell.plain)[0]:  # 👨‍👩‍👧 or ❤️ is one character
        used += cells
        if used > room:
            break
        keep = end
    out = cell[:keep]
    if width >= 2:
        out.append("…")
    return out


def fit_text(text: str, width: int) -> Text:
    """A string as one line of at most `width` cells (CJK counts double), never half a
    character, '…' where it was cut."""
    return fit(Text(text, no_wrap=True), width)


def two_lines(first: Text, second: Text) -> Text:
    return Text("\n").join([fit(first, WIDTH), fit(second, WIDTH)])

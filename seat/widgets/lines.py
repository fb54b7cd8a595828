"""Sidebar entries: two lines, each cut to the sidebar's width by cell, never wrapped."""

from __future__ import annotations

from rich.text import Text

WIDTH = 26
"""The sidebar is 32 wide; its list leaves 26 cells of text (CJK counts double)."""


def two_lines(first: Text, second: Text) -> Text:
    for line in (first, second):
        line.truncate(WIDTH, overflow="ellipsis")
    return Text("\n").join([first, second])

"""Keep a wide (CJK) character whole where another widget's edge falls under it.

Textual's compositor cuts every screen line at the edges of all the widgets on that line and
fills each piece from the front-most widget. A widget in front (a toast, a dropdown) is cut at
the edges of the widgets *behind* it too; when such an edge falls in the middle of one of its
wide characters, `Segment.divide` turns both halves into spaces: "客户已保存" showed as
"客户已  存" wherever the sidebar's border ran under the toast.

`install()` replaces `Compositor._render_chops` with the same loop plus one rule: a cut that
falls inside a wide character of the widget being painted is not made when that widget shows
on both sides of it; the piece before it carries the whole character and the piece after it
is empty. A wide character that really is half covered by a widget in front still loses its
visible half (a terminal cannot draw half a glyph). Textual is pinned (pyproject): the
replacement mirrors textual 8.2.8's method and a test checks it is still the one installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import cast

from rich.cells import get_character_cell_size
from textual._compositor import Compositor
from textual.geometry import Region
from textual.strip import Strip

_EMPTY = Strip([], 0)
_original = Compositor._render_chops


def straddled(strip: Strip, cuts: Iterable[int]) -> set[int]:
    """The cuts (cells from the strip's start) that fall inside a wide character."""
    wanted = set(cuts)
    inside: set[int] = set()
    x = 0
    for segment in strip:
        text = segment.text
        if text.isascii():
            x += len(text)
            continue
        for ch in text:
            width = get_character_cell_size(ch)
            if width == 2 and x + 1 in wanted:
                inside.add(x + 1)
            x += width
    return inside


def _render_chops(
    self: Compositor, crop: Region, is_rendered_line: Callable[[int], bool]
) -> Sequence[Mapping[int, Strip]]:
    cuts = self.cuts
    chops: list[dict[int, Strip | None]] = [dict.fromkeys(cut_set[:-1]) for cut_set in cuts]
    for region, clip, strips in self._get_renders(crop):
        render_region = region.intersection(clip)
        render_x = render_region.x
        first_cut, last_cut = render_region.column_span
        for y, strip in zip(render_region.line_range, strips, strict=False):
            if not is_rendered_line(y):
                continue
            chops_line = chops[y]
            final_cuts = [cut for cut in cuts[y] if last_cut >= cut >= first_cut]
            inner = final_cuts[1:-1]
            split = straddled(strip, (cut - render_x for cut in inner)) if inner else set()
            if not split:
                pieces = strip.divide([cut - render_x for cut in final_cuts[1:]])
                for cut, piece in zip(final_cuts, pieces, strict=False):
                    if chops_line.get(cut) is None:
                        chops_line[cut] = piece
                continue
            # Skip a cut inside a wide character when this widget wins the pieces on both
            # sides of it (nothing in front covers either half).
            kept = [final_cuts[0]]
            skipped: list[int] = []
            for cut in final_cuts[1:-1]:
                if (
                    cut - render_x in split
                    and chops_line.get(cut) is None
                    and chops_line.get(kept[-1]) is None
                ):
                    skipped.append(cut)
                else:
                    kept.append(cut)
            kept.append(final_cuts[-1])
            pieces = strip.divide([cut - render_x for cut in kept[1:]])
            for cut, piece in zip(kept, pieces, strict=False):
                if chops_line.get(cut) is None:
                    chops_line[cut] = piece
            for cut in skipped:
                chops_line[cut] = _EMPTY
    return cast("Sequence[Mapping[int, Strip]]", chops)


def install() -> None:
    """Use the whole-character chops (idempotent)."""
    Compositor._render_chops = _render_chops  # type: ignore[method-assign]


def installed() -> bool:
    return Compositor._render_chops is _render_chops


def original() -> Callable[..., Sequence[Mapping[int, Strip]]]:
    return cast("Callable[..., Sequence[Mapping[int, Strip]]]", _original)

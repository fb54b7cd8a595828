"""The customers a search found, one line each (masked), Enter picks one."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from seat import labels
from seat.search import SearchHit
from seat.widgets.card import TIER_STYLE


def hit_line(hit: SearchHit) -> Text:
    """`#12 王芳 · VIP · 137****1234 · 北京市朝阳区****`: masked as outside a call."""
    t = Text()
    t.append(f"#{hit.id} ", style="dim")
    t.append(hit.name, style="bold")
    t.append(" · ")
    t.append(labels.label(labels.TIERS, hit.tier), style=TIER_STYLE.get(hit.tier, ""))
    if hit.phones:
        t.append(" · " + " / ".join(hit.phones))
    if hit.address:
        t.append(" · " + hit.address, style="dim")
    return t


class SearchResults(OptionList):
    """The hits as options (their id: the customer number); `hits` keeps them in order."""

    DEFAULT_CSS = """
    SearchResults { height: auto; max-height: 12; border: none; padding: 0; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.hits: tuple[SearchHit, ...] = ()

    def show(self, hits: Sequence[SearchHit]) -> None:
        self.hits = tuple(hits)
        self.clear_options()
        self.add_options([Option(hit_line(h), id=str(h.id)) for h in self.hits])
        self.display = bool(self.hits)
        if self.hits:
            self.highlighted = 0

    def hit(self, index: int | None) -> SearchHit | None:
        if index is None or not 0 <= index < len(self.hits):
            return None
        return self.hits[index]

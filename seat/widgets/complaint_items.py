"""Sidebar entries for complaints near or past a deadline: a symbol as well as a colour."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text

from seat import sla
from seat.i18n import N_, _, format_datetime
from seat.widgets.lines import two_lines

if TYPE_CHECKING:
    from seat.complaints import ComplaintDeadlineItem  # the desk's first frame needs none

LOOK: dict[str, tuple[str, str]] = {
    "red": ("⚠", "bold red"),  # breached
    "amber": ("◔", "bold dark_orange"),  # at least 75 % of the budget used
    "ok": ("◷", "green"),
}
CLOCK_LOOK = LOOK
"""The one look of a clock's state, for the sidebar, the complaint list and the wallboard."""
PAUSED_LOOK = ("⏸", "cyan")
"""A paused clock that still has time; a breached one keeps its red look when paused."""
CLOCK_WORDS = {
    "first_reply": N_("reply"), "solution": N_("solution"), "callback": N_("callback"),
    "review": N_("review"), "promised_reply": N_("promised"),
}  # fmt: skip


def clock_word(name: str) -> str:
    """reply, solution, callback, review, promised (a clock's short name), current language."""
    return _(CLOCK_WORDS.get(name, name))


def clock_look(state: str, *, paused: bool, breached: bool) -> tuple[str, str]:
    """(symbol, style) of a running clock: ⏸ only while paused with time left."""
    if paused and not breached:
        return PAUSED_LOOK
    return LOOK.get(state, LOOK["ok"])


def clock_cell(clock: sla.ClockState | None) -> Text:
    """'⚠ reply late by 3h20', '◔ solution 2h10 left', '⚠ solution paused · late by 2d03h'
    for a list cell: one line, cut at its end."""
    if clock is None:
        return Text("-", style="dim")
    symbol, style = clock_look(clock.state, paused=clock.paused, breached=clock.breached)
    text = f"{symbol} {clock_word(clock.name)} {sla.state_phrase(clock)}"
    return Text(text, style=style, no_wrap=True, overflow="ellipsis")


def complaint_prompt(item: ComplaintDeadlineItem, now: datetime, local: datetime) -> Text:
    """Two lines: '⚠ #12 Wang Fang' / '  reply late by 3h20 · 11-23 14:00'.

    `local` is the item's deadline in the desk's time zone. The words are sla's clock
    phrase; a paused clock shows ⏸ (⚠⏸ when breached: it stays late when paused).
    """
    symbol, style = clock_look(item.state, paused=item.paused, breached=item.breached)
    if item.paused and item.breached:
        symbol += "⏸"  # paused, and still late: the sidebar's line has no room for the word
    # sla's phrase without its "paused ·" (the ⏸ says it): "late by X" must fit the line
    phrase = sla.running_phrase(item.left, breached=item.breached)
    when = f"{clock_word(item.clock)} {phrase}"
    tail = "" if item.paused else " · " + format_datetime(local, "short")
    second = Text.assemble("  ", (when, style), (tail, "dim"))
    first = Text.assemble((f"{symbol} ", style), f"#{item.id} {item.customer_name}")
    return two_lines(first, second)


def complaints_header(breached: int, near: int) -> Text:
    """'Complaints 2 late · 1 near' for the sidebar's section title: true totals."""
    return Text(
        _("Complaints {late} late · {near} near").format(late=breached, near=near),
        style="bold",
    )

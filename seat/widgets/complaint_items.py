"""Sidebar entries for complaints near or past a deadline: a symbol as well as a colour."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text

from seat.complaints import ComplaintDeadlineItem
from seat.i18n import N_, _, format_datetime, format_duration
from seat.widgets.lines import two_lines

LOOK: dict[str, tuple[str, str]] = {
    "red": ("⚠", "bold red"),  # breached
    "amber": ("◔", "bold dark_orange"),  # at least 75 % of the budget used
    "ok": ("◷", "green"),
}
CLOCK_WORDS = {"first_reply": N_("reply"), "solution": N_("solution"), "callback": N_("callback")}


def complaint_prompt(item: ComplaintDeadlineItem, now: datetime, local: datetime) -> Text:
    """Two lines: '⚠ #12 Wang Fang' / '  reply late 3h20 · 11-23 14:00'.

    `local` is the item's deadline in the desk's time zone.
    """
    symbol, style = LOOK.get(item.state, LOOK["ok"])
    clock = _(CLOCK_WORDS.get(item.clock, item.clock))
    span = format_duration(item.left)
    when = (
        _("{clock} late {span}").format(clock=clock, span=span)
        if item.breached
        else _("{clock} {span} left").format(clock=clock, span=span)
    )
    first = Text.assemble((f"{symbol} ", style), f"#{item.id} {item.customer_name}")
    tail = " · " + (_("paused") if item.paused else format_datetime(local, "short"))
    second = Text.assemble("  ", (when, style), (tail, "dim"))
    return two_lines(first, second)


def complaints_header(items: Sequence[ComplaintDeadlineItem]) -> Text:
    """'Complaints 2 late · 1 near' for the sidebar's section title."""
    late = sum(1 for i in items if i.breached)
    return Text(
        _("Complaints {late} late · {near} near").format(late=late, near=len(items) - late),
        style="bold",
    )

"""The sidebar's two callback groups: callable now, and waiting for the customer's window
(one count line until expanded).

Render functions only; seat/widgets/sidebar.py puts them in its OptionList. Like the
sidebar's own prompts, each line is cut to the sidebar's width by cell (CJK counts double)
and never wrapped, and every state carries a symbol as well as a colour.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from rich.text import Text
from textual.screen import Screen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from seat.i18n import N_, _, format_duration, format_time
from seat.lazy import lazy
from seat.widgets.lines import two_lines

if TYPE_CHECKING:
    from seat import callbacks
    from seat.callbacks import CallableItem, WaitingItem
else:
    callbacks = lazy("seat.callbacks")  # the desk is drawn before it runs (seat.lazy)

CALLABLE_PREFIX = "cb"  # Enter starts the callback (the sidebar's CallbackChosen)
WAITING_PREFIX = "cbw"  # inside rest hours: not to be dialled; can still be snoozed
WAITING_TOGGLE = "cbw-toggle"  # the waiting group's count line: Enter expands/collapses
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
"""Monday first (date.weekday()), as strftime's %a in English; translated where shown."""


def _ago(minutes: int) -> str:
    """45m, 5h20, 3d (English); 45分, 5时20分, 3天 (Chinese): days without the hours."""
    m = abs(minutes)
    if m < 48 * 60:
        return format_duration(timedelta(minutes=m))
    return _("{n}d").format(n=m // 1440)


def _kind(kind: str) -> str:
    return callbacks.kind_label(kind)


def callable_prompt(item: CallableItem, now: datetime, local_due: datetime) -> Text:
    """⚠ overdue (red) or ◷ due (amber), the customer, and when/what on the second line."""
    overdue = item.overdue(now)
    symbol, style = ("⚠", "bold red") if overdue else ("◷", "yellow")
    minutes = int((item.due_at - now).total_seconds() // 60)
    when = (
        _("overdue {span}").format(span=_ago(minutes))
        if overdue
        else _("due {time}").format(time=format_time(local_due))
    )
    first = Text.assemble((f"{symbol} ", style), item.customer_name)
    second = Text.assemble("  ", (when, style), (f" · {_kind(item.kind)}", "dim"))
    return two_lines(first, second)


def waiting_prompt(item: WaitingItem, now: datetime, local_opens: datetime) -> Text:
    """☾ the customer (dim) and when their window opens, in the desk's local time."""
    today = now.astimezone(local_opens.tzinfo).date()
    time = format_time(local_opens)
    opens = (
        _("opens {time}").format(time=time)
        if local_opens.date() == today
        else _("opens {day} {time}").format(day=_(WEEKDAYS[local_opens.weekday()]), time=time)
    )
    first = Text.assemble(("☾ ", "dim"), (item.customer_name, "dim"))
    second = Text.assemble("  ", (opens, "dim"), (f" · {_kind(item.kind)}", "dim"))
    return two_lines(first, second)


def callable_header(late: int, due: int) -> Text:
    """'Call now 3 late · 2 due': true totals (the list under it may be cut)."""
    return Text(_("Call now {late} late · {due} due").format(late=late, due=due), style="bold")


def waiting_header(n: int, late: int, *, expanded: bool) -> Text:
    """The one line the waiting group collapses to: '▸ ☾ Waiting 52 · 50 late' (fits the
    sidebar's 30 cells in English and Chinese)."""
    head = (
        _("Waiting {n} · {late} late").format(n=n, late=late)
        if late
        else _("Waiting for window {n}").format(n=n)
    )
    return Text.assemble(("▾ " if expanded else "▸ ", "bold"), ("☾ ", "dim"), (head, "bold"))


def option_id(prefix: str, callback_id: int, customer_id: int) -> str:
    return f"{prefix}:{callback_id}:{customer_id}"


def parse_option_id(oid: str | None) -> tuple[str, int, int] | None:
    """(prefix, callback id, customer id) of a callback option, None for anything else."""
    prefix, __, rest = (oid or "").partition(":")
    if prefix not in (CALLABLE_PREFIX, WAITING_PREFIX):
        return None
    cb, __, customer = rest.partition(":")
    if not (cb.isdigit() and customer.isdigit()):
        return None
    return prefix, int(cb), int(customer)


def sidebar_callback_id(screen: Screen) -> int | None:
    """The callback highlighted in the screen's sidebar queue, if any.

    Here rather than in seat/screens/callbacks/view.py: the desk asks on every footer refresh,
    and importing the callback screens for it cost the start-up ~30 ms."""
    found = screen.query("#sidebar OptionList")
    if not found:
        return None
    option = found.first(OptionList).highlighted_option
    parsed = parse_option_id(option.id if option else None)
    return parsed[1] if parsed else None


def callable_options(
    ready: Sequence[CallableItem],
    *,
    late: int,
    due: int,
    now: datetime,
    local: Callable[[datetime], datetime],
) -> list[Option | None]:
    """The callable-now group: its header with true totals, then a page of items (cb:)."""
    items: list[Option | None] = [Option(callable_header(late, due), disabled=True)]
    for c in ready:
        items.append(
            Option(
                callable_prompt(c, now, local(c.due_at)),
                id=option_id(CALLABLE_PREFIX, c.id, c.customer_id),
            )
        )
    if not ready:
        items.append(Option(Text("  " + _("nothing to call now"), style="dim"), disabled=True))
    return items


def waiting_options(
    waiting: Sequence[WaitingItem],
    *,
    total: int,
    late: int,
    expanded: bool,
    now: datetime,
    local: Callable[[datetime], datetime],
) -> list[Option | None]:
    """The waiting group: one count line (Enter on it expands or collapses), then, when
    expanded, a page of items (cbw:)."""
    items: list[Option | None] = [
        Option(waiting_header(total, late, expanded=expanded), id=WAITING_TOGGLE)
    ]
    if expanded:
        for w in waiting:
            items.append(
                Option(
                    waiting_prompt(w, now, local(w.opens_at)),
                    id=option_id(WAITING_PREFIX, w.id, w.customer_id),
                )
            )
    return items

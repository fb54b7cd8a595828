"""The sidebar's two callback groups: callable now, and waiting for the customer's window.

Render functions only; seat/widgets/sidebar.py puts them in its OptionList. Like the
sidebar's own prompts, each line is cut to the sidebar's width by cell (CJK counts double)
and never wrapped, and every state carries a symbol as well as a colour.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from rich.text import Text
from textual.screen import Screen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from seat.callbacks import CallableItem, WaitingItem, kind_label
from seat.i18n import N_, _, format_duration, format_time
from seat.widgets.lines import two_lines

CALLABLE_PREFIX = "cb"  # Enter starts the callback (the sidebar's CallbackChosen)
WAITING_PREFIX = "cbw"  # inside rest hours: not to be dialled; can still be snoozed
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
"""Monday first (date.weekday()), as strftime's %a in English; translated where shown."""


def _ago(minutes: int) -> str:
    """45m, 5h20, 3d (English); 45分, 5时20分, 3天 (Chinese): days without the hours."""
    m = abs(minutes)
    if m < 48 * 60:
        return format_duration(timedelta(minutes=m))
    return _("{n}d").format(n=m // 1440)


def _kind(kind: str) -> str:
    return kind_label(kind)


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


def callable_header(ready: Sequence[CallableItem], now: datetime) -> Text:
    late = sum(1 for c in ready if c.overdue(now))
    head = _("Call now {late} late · {due} due").format(late=late, due=len(ready) - late)
    return Text(head, style="bold")


def waiting_header(waiting: Sequence[WaitingItem]) -> Text:
    return Text(_("Waiting for window {n}").format(n=len(waiting)), style="bold")


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

    Here rather than in seat/screens/callbacks.py: the desk asks on every footer refresh,
    and importing the callback screens for it cost the start-up ~30 ms."""
    found = screen.query("#sidebar OptionList")
    if not found:
        return None
    option = found.first(OptionList).highlighted_option
    parsed = parse_option_id(option.id if option else None)
    return parsed[1] if parsed else None


def callback_options(
    ready: Sequence[CallableItem],
    waiting: Sequence[WaitingItem],
    *,
    now: datetime,
    local: Callable[[datetime], datetime],
) -> list[Option | None]:
    """Both groups as OptionList items: a header each, then the items (ids cb:/cbw:)."""
    items: list[Option | None] = [Option(callable_header(ready, now), disabled=True)]
    for c in ready:
        items.append(
            Option(
                callable_prompt(c, now, local(c.due_at)),
                id=option_id(CALLABLE_PREFIX, c.id, c.customer_id),
            )
        )
    if not ready:
        items.append(Option(Text("  " + _("nothing to call now"), style="dim"), disabled=True))
    if waiting:
        items.append(Option(waiting_header(waiting), disabled=True))
        for w in waiting:
            items.append(
                Option(
                    waiting_prompt(w, now, local(w.opens_at)),
                    id=option_id(WAITING_PREFIX, w.id, w.customer_id),
                )
            )
    return items

"""The sidebar's two callback groups: callable now, and waiting for the customer's window.

Render functions only; seat/widgets/sidebar.py puts them in its OptionList. Like the
sidebar's own prompts, each line is cut to the sidebar's width by cell (CJK counts double)
and never wrapped, and every state carries a symbol as well as a colour.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from rich.text import Text
from textual.screen import Screen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from seat.callbacks import CallableItem, WaitingItem
from seat.widgets.lines import two_lines

CALLABLE_PREFIX = "cb"  # Enter starts the callback (the sidebar's CallbackChosen)
WAITING_PREFIX = "cbw"  # inside rest hours: not to be dialled; can still be snoozed


def _ago(minutes: int) -> str:
    m = abs(minutes)
    if m < 60:
        return f"{m}m"
    if m < 48 * 60:
        return f"{m // 60}h{m % 60:02d}"
    return f"{m // 1440}d"


def _kind(kind: str) -> str:
    return kind.replace("_", " ")


def callable_prompt(item: CallableItem, now: datetime, local_due: datetime) -> Text:
    """⚠ overdue (red) or ◷ due (amber), the customer, and when/what on the second line."""
    overdue = item.overdue(now)
    symbol, style = ("⚠", "bold red") if overdue else ("◷", "yellow")
    minutes = int((item.due_at - now).total_seconds() // 60)
    when = f"overdue {_ago(minutes)}" if overdue else f"due {local_due:%H:%M}"
    first = Text.assemble((f"{symbol} ", style), item.customer_name)
    second = Text.assemble("  ", (when, style), (f" · {_kind(item.kind)}", "dim"))
    return two_lines(first, second)


def waiting_prompt(item: WaitingItem, now: datetime, local_opens: datetime) -> Text:
    """☾ the customer (dim) and when their window opens, in the desk's local time."""
    today = now.astimezone(local_opens.tzinfo).date()
    day = "" if local_opens.date() == today else f"{local_opens:%a} "
    first = Text.assemble(("☾ ", "dim"), (item.customer_name, "dim"))
    second = Text.assemble(
        "  ", (f"opens {day}{local_opens:%H:%M}", "dim"), (f" · {_kind(item.kind)}", "dim")
    )
    return two_lines(first, second)


def callable_header(ready: Sequence[CallableItem], now: datetime) -> Text:
    late = sum(1 for c in ready if c.overdue(now))
    return Text(f"Call now {late} late · {len(ready) - late} due", style="bold")


def waiting_header(waiting: Sequence[WaitingItem]) -> Text:
    return Text(f"Waiting for window {len(waiting)}", style="bold")


def option_id(prefix: str, callback_id: int, customer_id: int) -> str:
    return f"{prefix}:{callback_id}:{customer_id}"


def parse_option_id(oid: str | None) -> tuple[str, int, int] | None:
    """(prefix, callback id, customer id) of a callback option, None for anything else."""
    prefix, _, rest = (oid or "").partition(":")
    if prefix not in (CALLABLE_PREFIX, WAITING_PREFIX):
        return None
    cb, _, customer = rest.partition(":")
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
        items.append(Option(Text("  nothing to call now", style="dim"), disabled=True))
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

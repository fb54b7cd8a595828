"""The sidebar: the agent's due and overdue callbacks and open work orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from seat.i18n import _, format_date, format_datetime, format_duration, format_time, ngettext
from seat.lazy import lazy
from seat.services import SidebarCounts, SidebarView, StorageError
from seat.widgets.callback_items import (
    WAITING_PREFIX,
    WAITING_TOGGLE,
    callable_options,
    parse_option_id,
    waiting_options,
)
from seat.widgets.complaint_items import complaint_prompt, complaints_header
from seat.widgets.door import Seated
from seat.widgets.lines import WIDTH, fit, two_lines

if TYPE_CHECKING:
    from seat import order_clocks
    from seat.complaints import ComplaintDeadlineItem  # the desk's first frame needs none
    from seat.queues import ClockLateItem, WorkOrderItem
else:
    order_clocks = lazy("seat.order_clocks")  # the desk is drawn before it runs (seat.lazy)


def work_order_prompt(item: WorkOrderItem, now: datetime, local: datetime) -> Text:
    late = item.late(now)
    if item.urgent:
        symbol, style = "‼", "bold red"
    elif late:
        symbol, style = "⚠", "red"
    else:
        symbol, style = "•", ""
    first = Text.assemble((f"{symbol} ", style), f"#{item.id} {item.short_text}")
    tags = [_("URGENT")] if item.urgent else []
    tags.append(
        _("late {day}").format(day=format_date(local.date(), "short"))
        if late
        else _("due {when}").format(when=format_datetime(local, "short"))
    )
    second = Text.assemble(
        "  ", (" · ".join(tags), style or "dim"), (f" · {item.customer_name}", "dim")
    )
    return two_lines(first, second)


def clock_late_prompt(item: ClockLateItem, now: datetime) -> Text:
    """An order with a late clock: which clock, by how long."""
    first = Text.assemble(("⏱ ", "red"), f"#{item.id} {item.short_text}")
    what = _("{clock} late by {span}").format(
        clock=order_clocks.clock_label(item.clock), span=format_duration(now - item.due_at)
    )
    second = Text.assemble("  ", (what, "red"), (f" · {item.customer_name}", "dim"))
    return two_lines(first, second)


def clocks_header(counts: SidebarCounts) -> Text:
    """The true totals of the agent's late order clocks, each clock on its own."""
    first = Text(_("Order clocks late {n}").format(n=counts.clocks_late), style="bold red")
    second = Text(
        "  " + _("on site {a} · reply {b}").format(a=counts.clocks_on_site, b=counts.clocks_reply),
        style="red",
    )
    third = Text("  " + _("follow-up {n}").format(n=counts.clocks_follow_up), style="red")
    return Text("\n").join([fit(first, WIDTH), fit(second, WIDTH), fit(third, WIDTH)])


class Sidebar(Seated, Vertical):
    """Always on screen; refreshes on a timer from the shared database."""

    DEFAULT_CSS = """
    Sidebar { width: 32; border-left: tall $primary-background; padding: 0; }
    Sidebar > Label.title { text-style: bold; padding: 0 1; background: $boost; width: 100%; }
    Sidebar > OptionList { height: 1fr; border: none; padding: 0; scrollbar-size-vertical: 1; }
    Sidebar > Label#sidebar-status { color: $text-muted; padding: 0 1; }
    """

    @dataclass
    class CallbackChosen(Message):
        callback_id: int
        customer_id: int

    @dataclass
    class WorkOrderChosen(Message):
        work_order_id: int

    @dataclass
    class ComplaintChosen(Message):
        complaint_id: int

    @dataclass
    class Refreshed(Message):
        data: SidebarView

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.waiting_expanded = False
        """The waiting-for-window group is one count line until Enter expands it."""
        self._data: SidebarView | None = None

    def compose(self) -> ComposeResult:
        yield Label(_("My queue"), classes="title", id="sidebar-title")
        yield OptionList(id="sidebar-list")
        yield Label("", id="sidebar-status")

    def on_mount(self) -> None:
        # The first read once the desk is drawn (its thread would hold the interpreter while
        # the first frame is laid out); the title and the list show at once, filled after.
        self.call_after_refresh(self.refresh_data)
        # This seat's own changes at once; other seats' on the timer.
        self.on_work_changed(lambda __: self.refresh_data())
        self.set_interval(self.services.settings.refresh_seconds, self.refresh_data)

    @work(thread=True, exclusive=True, group="sidebar")
    def refresh_data(self) -> None:
        desk = self.services
        try:
            data = desk.sidebar(self.seat_agent.id)
        except StorageError as exc:
            self.app.call_from_thread(self._status, str(exc))
            return
        self.post_message(self.Refreshed(data))

    def _status(self, text: str) -> None:
        self.query_one("#sidebar-status", Label).update(text)

    def on_sidebar_refreshed(self, event: Refreshed) -> None:
        event.stop()
        self.show(event.data)

    def show(self, data: SidebarView) -> None:
        """The queue, most urgent first: breached complaints and late orders, then what can
        be called now, then what is near its deadline; the callbacks waiting for the
        customer's window are one count line (Enter expands it). Every number is a total."""
        self._data = data
        desk = self.services
        now = desk.now()
        counts = data.counts
        options = self.query_one(OptionList)
        keep = options.highlighted_option.id if options.highlighted_option else None
        items: list[Option | None] = []
        red = [c for c in data.complaints if c.breached]
        amber = [c for c in data.complaints if not c.breached]
        past = counts.complaints_breached + counts.orders_late
        if past:
            items.append(
                Option(Text(_("Past deadline {n}").format(n=past), style="bold red"), disabled=True)
            )
            items += [self._complaint(c, now) for c in red]
            items += [self._order(w, now) for w in data.late_orders]
            items.append(None)
        if counts.clocks_late:
            items.append(Option(clocks_header(counts), disabled=True))
            items += [
                Option(clock_late_prompt(c, now), id=f"wc:{c.id}") for c in data.clock_late
            ]
            items.append(None)
        items += callable_options(
            data.ready, late=counts.callable_overdue, due=counts.callable_due, now=now,
            local=desk.local,
        )  # fmt: skip
        if amber:
            items.append(None)
            items.append(
                Option(
                    complaints_header(counts.complaints_breached, counts.complaints_near),
                    disabled=True,
                )
            )
            items += [self._complaint(c, now) for c in amber]
        items.append(None)
        items.append(
            Option(
                Text(
                    _("Orders {open} open · {urgent} urgent").format(
                        open=counts.orders_open, urgent=counts.orders_urgent
                    ),
                    style="bold",
                ),
                disabled=True,
            )
        )
        listed = {w.id for w in data.late_orders}
        items += [
            self._order(w, now) for w in data.work_orders if w.id not in listed and not w.late(now)
        ]
        if not counts.orders_open:
            items.append(Option(Text("  " + _("none open"), style="dim"), disabled=True))
        if counts.waiting:
            items.append(None)
            items += waiting_options(
                data.waiting, total=counts.waiting, late=counts.waiting_overdue,
                expanded=self.waiting_expanded, now=now, local=desk.local,
            )  # fmt: skip
        options.set_options(items)
        if keep:
            try:
                options.highlighted = options.get_option_index(keep)
            except OptionDoesNotExist:  # the item went away: keep no highlight
                pass
        self._status(
            ngettext(
                "{n} open complaint · {time}", "{n} open complaints · {time}", data.complaints_open
            ).format(n=data.complaints_open, time=format_time(desk.local(now)))
        )

    def _complaint(self, item: ComplaintDeadlineItem, now: datetime) -> Option:
        local = self.services.local(item.deadline)
        return Option(complaint_prompt(item, now, local), id=f"cp:{item.id}")

    def _order(self, item: WorkOrderItem, now: datetime) -> Option:
        local = self.services.local(item.due_at)
        return Option(work_order_prompt(item, now, local), id=f"wo:{item.id}")

    def toggle_waiting(self) -> None:
        """Expand or collapse the callbacks waiting for the customer's window."""
        self.waiting_expanded = not self.waiting_expanded
        if self._data is not None:
            self.show(self._data)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        oid = event.option.id or ""
        kind, __, rest = oid.partition(":")
        if oid == WAITING_TOGGLE:
            self.toggle_waiting()
            return
        callback = parse_option_id(oid)
        if callback is not None:
            prefix, cb_id, customer_id = callback
            if prefix == WAITING_PREFIX:
                self.notify(
                    _(
                        "The customer is inside their rest hours: "
                        "wait for the window (or z snoozes)."
                    ),
                    severity="warning",
                )
                return
            self.post_message(self.CallbackChosen(cb_id, customer_id))
        elif kind in ("wo", "wc"):
            self.post_message(self.WorkOrderChosen(int(rest)))
        elif kind == "cp":
            self.post_message(self.ComplaintChosen(int(rest)))

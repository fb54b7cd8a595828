"""Database work a screen asks for runs in a thread worker; its result comes back as a message.

The UI thread never waits on the database (a busy SQLite file may hold a read or a write for
many seconds): a screen mixes in `DeskWorker` and calls `self.in_worker(read, shown)`.
`read(desk)` runs in a thread; `shown(result)` runs on the UI thread when `Done` arrives;
a refusal (StorageError, or what the caller names) goes to `failed` — by default a notice —
so the screen and whatever was typed stay as they were.

Two kinds of work: a *load* (the newest ask wins: a result overtaken by a later load of the
same group is dropped) and a *move* (`move=True`: while it runs, a second move of the group
is refused with "Still working…", so one key press is one change).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.message import Message

from seat.i18n import _
from seat.services import StorageError
from seat.widgets.door import Seated


@dataclass
class _Ticket:
    group: str
    number: int


class DeskWorker(Seated):
    """Mixin for a Screen or Widget: `in_worker` and the two messages it posts back."""

    @dataclass
    class Done(Message):
        """Work asked with `in_worker` finished; `shown` puts its result on the screen."""

        ticket: _Ticket
        result: Any
        shown: Callable[[Any], object]

    @dataclass
    class Failed(Message):
        """Work asked with `in_worker` was refused; `failed` tells the person why."""

        ticket: _Ticket
        error: Exception
        failed: Callable[[Exception], object]

    def _desk_tickets(self) -> dict[str, int]:
        tickets = self.__dict__.get("_desk_tickets_now")
        if tickets is None:
            tickets = self.__dict__["_desk_tickets_now"] = {}
        return tickets

    def _desk_moves(self) -> set[str]:
        moves = self.__dict__.get("_desk_moves_now")
        if moves is None:
            moves = self.__dict__["_desk_moves_now"] = set()
        return moves

    def working(self, group: str) -> bool:
        """True while a move of this group runs."""
        return group in self._desk_moves()

    def in_worker(
        self,
        read: Callable[[Any], Any],
        shown: Callable[[Any], object],
        *,
        group: str = "load",
        move: bool = False,
        failed: Callable[[Exception], object] | None = None,
        refusals: tuple[type[Exception], ...] = (StorageError,),
    ) -> bool:
        """Run `read(desk)` in a thread; False (and a notice) if a move of `group` still runs."""
        if move:
            if group in self._desk_moves():
                self.notify(_("Still working…"), severity="warning")
                return False
            self._desk_moves().add(group)
        tickets = self._desk_tickets()
        ticket = _Ticket(group, tickets.get(group, 0) + 1)
        tickets[group] = ticket.number
        desk = self.services
        on_error = failed or self._notify_refusal

        def go() -> None:
            try:
                result = read(desk)
            except refusals as exc:
                self.post_message(DeskWorker.Failed(ticket, exc, on_error))
                return
            self.post_message(DeskWorker.Done(ticket, result, shown))

        self.run_worker(go, name=group, group=f"desk-{group}", thread=True)
        if move:
            self.refresh_bindings()
        return True

    def _notify_refusal(self, exc: Exception) -> None:
        errors = getattr(exc, "errors", None)
        text = " ".join(errors.values()) if isinstance(errors, dict) else str(exc)
        self.notify(text, severity="error")

    def _settle(self, ticket: _Ticket) -> bool:
        """The ticket's work is over; True if its result is still wanted."""
        moves = self._desk_moves()
        if ticket.group in moves:
            moves.discard(ticket.group)
            self.refresh_bindings()
            return True
        return self._desk_tickets().get(ticket.group) == ticket.number

    async def on_desk_worker_done(self, event: Done) -> None:
        event.stop()
        changed = event.ticket.group in self._desk_moves()
        if self._settle(event.ticket) and self.is_attached:
            outcome = event.shown(event.result)
            if inspect.isawaitable(outcome):
                await outcome
        if changed:
            self.announce_change(event.ticket.group)

    async def on_desk_worker_failed(self, event: Failed) -> None:
        event.stop()
        if self._settle(event.ticket) and self.is_attached:
            outcome = event.failed(event.error)
            if inspect.isawaitable(outcome):
                await outcome

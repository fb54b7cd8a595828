"""The one typed door from a screen or widget into the seat: `self.services` and `self.seat_agent`.

Screens reach the domain only through the services object (seat.services.Desk), and only in
a worker (seat.screens.background.DeskWorker.in_worker). The running app (seat.app.SeatApp)
holds both; this mixin gives them their types without the screens importing the app (the
app imports the screens), the way Posting casts its app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, cast

from textual.signal import Signal

from seat import sla
from seat.i18n import _
from seat.services import AgentInfo, Desk


class SeatHost(Protocol):
    """What a screen may ask of the app it runs in."""

    desk: Desk
    agent: AgentInfo | None
    work_changed: Signal[str]
    """Published after this seat changed work (a save, a move): the one way a screen tells
    the others, which refresh what they show (the sidebar, the desk's last calls)."""


if TYPE_CHECKING:
    from textual.widget import Widget as SeatNode
else:
    SeatNode = object
"""What the seat's mixins are mixed into: a Widget (a Screen is one). Type checkers see the
mixins as Widgets, so `self.app`, `self.notify` ... are typed; at run time they stay plain
mixins and the Screen or Widget class after them in the bases is the real one."""


class Seated(SeatNode):
    """Mixin for a Screen or Widget of the seat."""

    @property
    def services(self) -> Desk:
        """The services: every database read or change a screen asks for goes through here."""
        return cast(SeatHost, self.app).desk

    @property
    def seat_agent(self) -> AgentInfo:
        """Who is signed in at this seat (screens past the sign-in only)."""
        return cast(AgentInfo, cast(SeatHost, self.app).agent)

    def clock_policy(
        self, *, tell: bool = True, timeout: float | None = 15
    ) -> sla.Policy:
        """The complaint policy for a screen's clocks. A file the services refuse is told
        (unless `tell` is False) and the screen runs on an empty policy (its calendar only),
        rather than closing."""
        desk = self.services
        try:
            return desk.complaint_policy()
        except sla.PolicyError as exc:
            if tell:
                cast(Any, self).notify(
                    str(exc), title=_("Complaint policy rejected"), severity="error",
                    **({} if timeout is None else {"timeout": timeout}),
                )  # fmt: skip
            return sla.Policy(calendar=sla.Calendar(desk.zone))

    def announce_change(self, what: str) -> None:
        """Tell every screen of this seat that work changed (what: a short name, e.g. the
        worker group or form that saved)."""
        signal = getattr(self.app, "work_changed", None)
        if signal is not None:
            signal.publish(what)

    def on_work_changed(self, callback: Callable[[str], object]) -> None:
        """Call `callback` (on this node's own turn) whenever this seat changed work."""
        signal = getattr(self.app, "work_changed", None)
        if signal is not None:
            signal.subscribe(self, callback)

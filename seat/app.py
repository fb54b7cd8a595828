"""SeatApp: the desk, the call screen and the forms, driven by keys."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from sqlalchemy.engine import Engine
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from seat.clock import Clock
from seat.config import Settings
from seat.desk import AgentInfo, Desk
from seat.screens.agent_picker import AgentPickerScreen
from seat.screens.desk import DeskScreen


class SeatApp(App[None]):
    TITLE = "seat"
    CSS_PATH = "app.tcss"

    def __init__(self, *, desk: Desk, agent_name: str | None = None) -> None:
        super().__init__()
        self.desk = desk
        self.agent_name = agent_name
        self.agent: AgentInfo | None = None

    def on_mount(self) -> None:
        for problem in self.desk.script_problems:
            self.notify(problem, title="Script rejected", severity="error", timeout=15)
        if self.agent_name:
            try:
                self.agent = self.desk.sign_in(self.agent_name)
            except Exception as exc:  # bad login from the command line: ask instead
                self.notify(str(exc), severity="error")
            else:
                self.push_screen(DeskScreen())
                return
        self.push_screen(AgentPickerScreen(), self._signed_in)

    def _signed_in(self, agent: AgentInfo | None) -> None:
        if agent is None:
            self.exit()
            return
        self.agent = agent
        self.push_screen(DeskScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette lists the current screen's actions, then Textual's own."""
        seen: set[str] = set()
        for binding in screen.BINDINGS:
            if not isinstance(binding, Binding) or not binding.description:
                continue
            if binding.action in seen or screen.check_action(binding.action, ()) is not True:
                continue
            seen.add(binding.action)
            keys = binding.key.replace(",", " / ")
            yield SystemCommand(
                f"{binding.description} ({keys})",
                binding.tooltip or binding.description,
                partial(screen.run_action, binding.action),
            )
        yield from super().get_system_commands(screen)


def make_app(
    *,
    settings: Settings,
    clock: Clock,
    agent: str | None = None,
    engine: Engine | None = None,
) -> SeatApp:
    """The one factory the command line and the tests use to build a seat."""
    from seat.db import make_engine

    engine = engine or make_engine(settings.database_url)
    return SeatApp(desk=Desk(engine=engine, clock=clock, settings=settings), agent_name=agent)

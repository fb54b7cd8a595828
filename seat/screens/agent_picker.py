"""Who is sitting at this seat?"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, OptionList
from textual.widgets.option_list import Option

from seat.customers import ValidationError
from seat.desk import AgentInfo, StorageError
from seat.i18n import N_, _
from seat.widgets.field_error import FieldError


class AgentPickerScreen(Screen[AgentInfo]):
    DEFAULT_CSS = """
    AgentPickerScreen { align: center middle; }
    AgentPickerScreen > Vertical { width: 60; height: auto; max-height: 100%;
                                   border: thick $primary; padding: 0 1; }
    AgentPickerScreen OptionList { height: auto; max-height: 12; }
    AgentPickerScreen #login-error { color: $error; }
    """

    BINDINGS = [
        Binding("escape", "app.quit", N_("Quit"), tooltip=N_("Leave the seat"), id="picker.quit")
    ]

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = _("Who is sitting at this seat?")
            yield Label(_("Pick your name (↑↓ Enter), or type your login below."))
            yield OptionList(id="agents")
            yield Label(_("New login (e.g. li.na)"), classes="field-label")
            yield Input(id="login", placeholder=_("login"))
            yield FieldError(id="login-error")
        yield Footer()

    def on_mount(self) -> None:
        agents = self.app.desk.agents()  # type: ignore[attr-defined]
        options = self.query_one(OptionList)
        options.add_options(
            Option(
                f"{a.display_name}  ({a.name}"
                f"{_(', supervisor') if a.role == 'supervisor' else ''})",
                id=a.name,
            )
            for a in agents
        )
        if agents:
            options.highlighted = 0
            options.focus()
        else:
            self.query_one(Input).focus()

    @on(OptionList.OptionSelected)
    def picked(self, event: OptionList.OptionSelected) -> None:
        self._sign_in(event.option.id or "")

    @on(Input.Submitted)
    def typed(self, event: Input.Submitted) -> None:
        self._sign_in(event.value)

    def _sign_in(self, name: str) -> None:
        try:
            agent = self.app.desk.sign_in(name)  # type: ignore[attr-defined]
        except (ValidationError, StorageError) as exc:
            msg = exc.errors.get("name", str(exc)) if isinstance(exc, ValidationError) else str(exc)
            self.query_one("#login-error", FieldError).show(msg)
            return
        self.dismiss(agent)

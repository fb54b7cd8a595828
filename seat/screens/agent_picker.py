"""Sign in: who is sitting at this seat, with their password (none on the demo desk).

A brand-new database has nobody yet: the screen then creates the first supervisor. The
database work (and argon2, which takes a moment on purpose) runs in a worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, OptionList
from textual.widgets.option_list import Option

from seat import phone, roles
from seat.config import DEMO_CALLERS
from seat.customers import ValidationError
from seat.i18n import N_, _
from seat.identity import SignInError
from seat.services import AgentInfo, StorageError
from seat.widgets.door import Seated
from seat.widgets.field_error import FieldError


class AgentPickerScreen(Seated, Screen[AgentInfo]):
    DEFAULT_CSS = """
    AgentPickerScreen { align: center middle; }
    AgentPickerScreen > Vertical { width: 64; max-width: 100%; height: auto; max-height: 100%;
                                   border: thick $primary; padding: 0 1; }
    AgentPickerScreen OptionList { height: auto; max-height: 10; }
    AgentPickerScreen Label { width: 100%; }
    AgentPickerScreen #login-error { color: $error; }
    AgentPickerScreen .demo { color: $warning; text-style: bold; }
    """

    BINDINGS = [
        Binding("escape", "app.quit", N_("Quit"), tooltip=N_("Leave the seat"), id="picker.quit")
    ]

    @dataclass
    class AgentsLoaded(Message):
        agents: list[AgentInfo]

    @dataclass
    class SignedIn(Message):
        agent: AgentInfo

    @dataclass
    class Refused(Message):
        field: str
        message: str

    def __init__(self, *, demo: bool = False, login: str | None = None) -> None:
        super().__init__()
        self.demo = demo
        self.login = login or ""
        self.first = False

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = _("Sign in")
            if self.demo:
                yield Label(_("DEMO desk: pick your name (↑↓ Enter); no password needed."),
                            classes="demo")  # fmt: skip
                # The numbers start a line of their own, so none breaks across two lines
                # (a wrap splits at any space, even a no-break one).
                callers = "\n" + ", ".join(phone.display(e164) for e164 in DEMO_CALLERS)
                yield Label(
                    _("Then press n and type a demo customer's number: {numbers}.").format(
                        numbers=callers
                    ),
                    id="demo-callers",
                )
            else:
                yield Label(_("Pick your name (↑↓ Enter), then type your password."), id="hint")
            yield OptionList(id="agents")
            yield Label(_("Login (e.g. li.na)"), classes="field-label")
            yield Input(self.login, id="login", placeholder=_("login"))
            yield Label(_("Name shown to others"), classes="field-label first-only")
            yield Input(id="display-name", placeholder=_("e.g. Zhao Lei"), classes="first-only")
            yield Label(_("Password"), classes="field-label password")
            yield Input(id="password", password=True, classes="password")
            yield Label(_("Password again"), classes="field-label first-only")
            yield Input(id="password-again", password=True, classes="first-only")
            yield FieldError(id="login-error")
        yield Footer()

    def on_mount(self) -> None:
        for w in self.query(".first-only"):
            w.display = False
        if self.demo:
            for w in self.query(".password"):
                w.display = False
        self._load_agents()

    @work(thread=True, exclusive=True, group="sign-in")
    def _load_agents(self) -> None:
        try:
            agents = self.services.agents()
        except StorageError as exc:
            self.post_message(self.Refused("login", str(exc)))
            return
        self.post_message(self.AgentsLoaded(agents))

    @on(AgentsLoaded)
    def _agents_loaded(self, event: AgentsLoaded) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        def role(a: AgentInfo) -> str:  # every role but the plain agent's is named
            if a.role == "agent" or a.role not in roles.ROLE_NAMES:
                return ""
            return _(", {role}").format(role=_(roles.ROLE_NAMES[a.role]))

        options.add_options(
            Option(f"{a.display_name}  ({a.name}{role(a)})", id=a.name) for a in event.agents
        )
        if not event.agents and not self.demo:
            self._first_supervisor()
        elif self.login:
            self.query_one("#password" if not self.demo else "#login", Input).focus()
        elif event.agents:
            options.highlighted = 0
            options.focus()
        else:
            self.query_one("#login", Input).focus()

    def _first_supervisor(self) -> None:
        """A new database: the first person to sign in creates the first supervisor."""
        self.first = True
        self.query_one(OptionList).display = False
        self.query_one(Vertical).border_title = _("A new desk: create the first supervisor")
        hint = self.query_one("#hint", Label)
        hint.update(_("Nobody works at this desk yet. Create the supervisor's login; they "
                      "add the agents with `seat agents add`."))  # fmt: skip
        for w in self.query(".first-only"):
            w.display = True
        self.query_one("#login", Input).focus()

    @on(OptionList.OptionSelected)
    def picked(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#login", Input).value = event.option.id or ""
        if self.demo:
            self._submit()
        else:
            self.query_one("#password", Input).focus()

    @on(Input.Submitted)
    def typed(self, event: Input.Submitted) -> None:
        if event.input.id == "login" and not self.demo and not self.query_one(
            "#password", Input
        ).value:
            self.focus_next()
            return
        if self.first and event.input.id != "password-again":
            self.focus_next()
            return
        self._submit()

    @on(Input.Changed)
    def _clear_error(self, event: Input.Changed) -> None:
        if event.value:  # typing again clears the message (emptying a field does not)
            self.query_one("#login-error", FieldError).show("")

    def _submit(self) -> None:
        login = self.query_one("#login", Input).value
        password = self.query_one("#password", Input).value
        if self.first:
            again = self.query_one("#password-again", Input).value
            if password != again:
                self._refuse("password-again", _("The two passwords differ."))
                return
            name = self.query_one("#display-name", Input).value
            self._create_first(login, name, password)
        else:
            self._sign_in(login, password)

    @work(thread=True, exclusive=True, group="sign-in")
    def _sign_in(self, login: str, password: str) -> None:
        desk = self.services
        try:
            agent = desk.authenticate(login, password, demo=self.demo)
        except SignInError as exc:
            self.post_message(self.Refused("password" if not self.demo else "login", str(exc)))
            return
        except StorageError as exc:
            self.post_message(self.Refused("login", str(exc)))
            return
        self.post_message(self.SignedIn(agent))

    @work(thread=True, exclusive=True, group="sign-in")
    def _create_first(self, login: str, name: str, password: str) -> None:
        desk = self.services
        try:
            agent = desk.create_first_supervisor(login, name, password)
        except ValidationError as exc:
            field, message = next(iter(exc.errors.items()))
            self.post_message(self.Refused("password" if field == "password" else "login",
                                           message))  # fmt: skip
            return
        except StorageError as exc:
            self.post_message(self.Refused("login", str(exc)))
            return
        self.post_message(self.SignedIn(agent))

    @on(Refused)
    def _refused(self, event: Refused) -> None:
        self._refuse(event.field, event.message)

    def _refuse(self, field: str, message: str) -> None:
        self.query_one("#login-error", FieldError).show(message)
        target = self.query_one(f"#{field}", Input)
        if field.startswith("password"):
            target.value = ""
        target.focus()

    @on(SignedIn)
    def _signed_in(self, event: SignedIn) -> None:
        self.dismiss(event.agent)

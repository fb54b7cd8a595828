"""SeatApp: the desk, the call screen and the forms, driven by keys."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from typing import TYPE_CHECKING

from rich.console import RenderableType
from sqlalchemy.engine import Engine
from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import ActiveBinding, Binding
from textual.command import CommandList, CommandListItem, CommandPalette, SimpleProvider
from textual.containers import Container
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import Screen
from textual.signal import Signal
from textual.theme import ThemeProvider
from textual.widget import AwaitMount
from textual.widgets import Label

from seat import faults
from seat.clock import Clock
from seat.config import Settings
from seat.i18n import N_, _, format_time, language
from seat.lazy import lazy
from seat.screens.desk import DeskScreen
from seat.services import AgentInfo, Desk, StorageError
from seat.widgets import wide_cells

if TYPE_CHECKING:
    from seat import drafts, seats
    from seat.scripts import ScriptBook
else:
    seats = lazy("seat.seats")  # the desk is drawn before it runs (seat.lazy)

START_SCHEDULER_AFTER = 3.0  # seconds
RULES_CHECK_EVERY = 600.0  # seconds: a day's run left unfinished, or a new day, is taken up
log = logging.getLogger("seat.app")

# Textual's own words that reach the screen (its bindings and palette commands): English
# msgids here so they are extracted and translated like ours.
TEXTUAL_WORDS = {
    "palette": N_("palette"),
    "Open the command palette": N_("Open the command palette"),
    "Quit": N_("Quit"),
    "Quit the app and return to the command prompt.": N_(
        "Quit the app and return to the command prompt."
    ),
    "Theme": N_("Theme"),
    "Change the current theme": N_("Change the current theme"),
    "Quit the application as soon as possible": N_("Quit the application as soon as possible"),
    "Keys": N_("Keys"),
    "Hide the keys and widget help panel": N_("Hide the keys and widget help panel"),
    "Show help for the focused widget and a summary of available keys": N_(
        "Show help for the focused widget and a summary of available keys"
    ),
    "Minimize": N_("Minimize"),
    "Minimize the widget and restore to normal size": N_(
        "Minimize the widget and restore to normal size"
    ),
    "Maximize": N_("Maximize"),
    "Maximize the focused widget": N_("Maximize the focused widget"),
    "Screenshot": N_("Screenshot"),
    "Save an SVG 'screenshot' of the current screen": N_(
        "Save an SVG 'screenshot' of the current screen"
    ),
    "Dismiss menu": N_("Dismiss menu"),  # an open Select's footer
    "Show menu": N_("Show menu"),
}


@lru_cache(maxsize=2048)
def _translated_binding(binding: Binding, lang: str) -> Binding:
    return replace(
        binding,
        description=_(binding.description) if binding.description else binding.description,
        tooltip=_(binding.tooltip) if binding.tooltip else binding.tooltip,
    )


_textual_active_bindings = Screen.active_bindings


def _active_bindings(screen: Screen) -> dict[str, ActiveBinding]:
    """Screen.active_bindings, with descriptions and tooltips in the current language."""
    lang = language()
    return {
        key: ActiveBinding(
            active.node,
            _translated_binding(active.binding, lang),
            active.enabled,
            _(active.tooltip) if active.tooltip else active.tooltip,
        )
        for key, active in _textual_active_bindings.fget(screen).items()  # type: ignore[attr-defined]
    }


def install_binding_translation() -> None:
    """Bindings are written with N_-marked English descriptions and tooltips (BINDINGS are
    class constants, built at import). Textual's Footer and key panel read them through
    `Screen.active_bindings` only; this one hook makes that property translate them, so every
    screen shows its keys in the current language without doing anything. Key handling
    (`_binding_chain`) is untouched. Idempotent; English is the identity."""
    Screen.active_bindings = property(_active_bindings)  # type: ignore[method-assign,assignment]


class DemoBadge(Label):
    """DEMO: the demo desk, passwords not asked."""


class ReadOnlyBadge(Label):
    """READ-ONLY: the database cannot be written, every save is refused."""


class DeskBadges(Container):
    """What holds for the whole desk (READ-ONLY, DEMO) in the top right corner of a screen,
    on the toasts' layer: it covers a few cells and moves nothing."""

    DEFAULT_CSS = """
    DeskBadges { layer: _toastrack; dock: top; width: 100%; height: 1; align: right top;
                 layout: horizontal; visibility: hidden; }
    DeskBadges > Label { width: auto; visibility: visible; background: $warning;
                         color: $background; text-style: bold; padding: 0 1; }
    DeskBadges > ReadOnlyBadge { background: $error; }
    """

    def __init__(self, *, demo: bool, read_only: bool) -> None:
        super().__init__()
        self.demo = demo
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        if self.read_only:
            yield ReadOnlyBadge(_("READ-ONLY"))
        if self.demo:
            yield DemoBadge(_("DEMO"))


class SeatCommandPalette(CommandPalette):
    """Textual's palette, minus one crash: its search worker looked up the command list after
    the palette had closed (type, then Esc, while it was still searching) and the NoMatches
    ended the app. A search for a palette that is gone simply stops."""

    @work(exclusive=True, group=CommandPalette._GATHER_COMMANDS_GROUP)
    async def _gather_commands(self, search_value: str) -> None:
        gather = CommandPalette._gather_commands.__wrapped__  # type: ignore[attr-defined]
        try:
            await gather(self, search_value)
        except NoMatches:
            if self.is_attached and self.query(CommandList):
                raise  # the palette is still there: a real fault


class SeatApp(App[None]):
    TITLE = "seat"
    CSS_PATH = "app.tcss"

    def __init__(
        self,
        *,
        desk: Desk,
        agent_name: str | None = None,
        demo: bool = False,
        login: str | None = None,
    ) -> None:
        """`agent_name` signs that agent in without asking (the caller has established who
        it is: the demo desk, tests); otherwise the sign-in screen asks, with `login`
        filled in. `demo` marks every screen DEMO and needs no passwords."""
        super().__init__()
        install_binding_translation()
        wide_cells.install()  # a toast over the sidebar's edge keeps its Chinese whole
        self.desk = desk
        self.agent_name = agent_name
        self.demo = demo
        self.login = login
        self.agent: AgentInfo | None = None
        self.presence_id: int | None = None
        self.work_changed: Signal[str] = Signal(self, "work_changed")
        """Published when this seat changed work: see seat.widgets.door.Seated."""

    def on_mount(self) -> None:
        if self.demo or self.desk.read_only:
            self.screen_change_signal.subscribe(self, self._mark_desk)
            self._mark_desk(self.screen)
        if self.desk.read_only:
            self.notify(
                _("{file} cannot be written: you can read the desk, nothing can be saved. "
                  "Ask whoever runs the floor to give this user write access.").format(
                    file=faults.database_name(self.desk.settings.database_url)
                ),
                title=_("Read-only"), severity="warning", timeout=30,
            )  # fmt: skip
        for problem in self.desk.script_problems:
            self.notify(problem, title=_("Script rejected"), severity="error", timeout=15)
        for warning in self.desk.calendar_warnings():
            self.notify(warning, title=_("Business calendar"), severity="warning", timeout=30)
        # After the messages already queued, Textual's second start-up Resize among them:
        # pushed at once, the first screen was laid out and drawn twice before it showed
        # (~50 ms of every start).
        self.call_later(self._first_screen)

    def _first_screen(self) -> None:
        """The desk of the agent named on the command line, or the sign-in screen."""
        if self.agent_name:
            try:
                self.agent = self.desk.sign_in(self.agent_name)
            except Exception as exc:  # bad login from the command line: ask instead
                self.notify(str(exc), severity="error")
            else:
                self._open_desk()
                return
        # Imported here: a seat started with its agent (the demo desk) never shows it.
        from seat.screens.agent_picker import AgentPickerScreen

        self.push_screen(
            AgentPickerScreen(demo=self.demo, login=self.login or self.agent_name),
            self._signed_in,
        )

    def exit(
        self, result: None = None, return_code: int = 0, message: RenderableType | None = None
    ) -> None:
        """Leave the seat. An error that already ended it keeps its exit code: a later exit()
        (a key still queued, a callback while closing, Textual's auto-pilot) would make it 0."""
        super().exit(result, max(return_code, self.return_code or 0), message)

    def _mark_desk(self, screen: Screen) -> None:
        """The demo desk says DEMO and a read-only one READ-ONLY on every screen (top right,
        over whatever is there)."""
        if not screen.query(DeskBadges):
            screen.mount(DeskBadges(demo=self.demo, read_only=self.desk.read_only))

    def _signed_in(self, agent: AgentInfo | None) -> None:
        if agent is None:
            self.exit()
            return
        self.agent = agent
        self._open_desk()

    def _open_desk(self) -> None:
        self.push_screen(DeskScreen())
        # The draft check and the first heartbeat once the desk is drawn: threads started
        # now would hold the interpreter while the first frame is laid out.
        self.call_after_refresh(self._offer_resume)
        if self.desk.read_only:
            return  # no callback rules, presence or screen pops: each would write
        if self.desk.settings.schedule_on_start:
            # After the desk is up: the rules take a second of CPU on a big floor.
            self.set_timer(START_SCHEDULER_AFTER, self.schedule_callbacks)
            # A seat open past midnight runs the new day's rules, and the seats that are open
            # finish a day another seat stopped part way (closed, died): the day's lease
            # lets one run it, the others skip at once.
            self.set_interval(RULES_CHECK_EVERY, self._check_rules)
        settings = self.desk.settings
        self.call_after_refresh(self.beat)
        self.set_interval(settings.heartbeat_seconds, self.beat)
        self.set_interval(settings.pop_poll_seconds, self._check_pops)

    @work(thread=True, exclusive=True, group="drafts")
    def _offer_resume(self) -> None:
        """A call left open by a crash (or a closed terminal) is offered back, as it was;
        one that was saved after all (the draft outlived the save) is only tidied away."""
        from seat import drafts

        directory = self.desk.settings.drafts_dir
        name = self.agent.name  # type: ignore[union-attr]
        draft = drafts.load(directory, name, self.desk.scripts)
        if draft is None:
            return
        try:
            saved = self.desk.call_saved(draft.state.uid)
        except StorageError:
            saved = False  # asking is harmless: saving again never writes a second row
        if saved:
            drafts.discard(directory, name)
            log.info("draft of the saved call %s removed", draft.state.uid)
            return
        self.call_from_thread(self._ask_resume, draft)

    def _ask_resume(self, draft: drafts.Draft) -> None:
        from seat import drafts
        from seat.screens.calls.call import CallScreen
        from seat.screens.confirm import ConfirmScreen

        directory = self.desk.settings.drafts_dir
        name = self.agent.name  # type: ignore[union-attr]
        state = draft.state
        who = draft.customer_name or self.desk.display_phone(state.from_number) or _("a caller")
        started = self.desk.local(state.started_at)
        where = _("wrap-up") if state.in_wrapup else state.stage.title

        def resume() -> None:
            self.push_screen(
                CallScreen(
                    state,
                    customer_name=draft.customer_name,
                    reason=draft.reason,
                    created=draft.created,
                )
            )

        def discard(yes: bool | None) -> None:
            if yes:
                drafts.discard(directory, name)
                self.notify(_("The unfinished call with {who} was discarded.").format(who=who))
            else:
                resume()

        def decided(yes: bool | None) -> None:
            if yes:
                resume()
            elif not draft.created:
                # Asked once more: one stray key must not throw a call away.
                self.push_screen(
                    ConfirmScreen(
                        _(
                            "Discard the call with {who} for good? What was typed in it is lost."
                        ).format(who=who),
                        keys=_("y discard · n resume"),
                    ),
                    discard,
                )
            else:
                self.notify(
                    _("That call created work; it stays in the draft until you wrap it up."),
                    severity="warning",
                )

        self.push_screen(
            ConfirmScreen(
                _(
                    "A call with {who} (started {time}, at {where}) was not finished. "
                    "Resume it where it was?"
                ).format(who=who, time=format_time(started), where=where)
            ),
            decided,
        )

    def _check_rules(self) -> None:
        """The periodic check: a run still stepping is left to go on (a new one would cancel it)."""
        if not any(w.group == "scheduler" and not w.is_finished for w in self.workers):
            self.schedule_callbacks()

    @work(thread=True, exclusive=True, group="scheduler")
    def schedule_callbacks(self) -> None:
        """The callback rules (satisfaction, birthdays, churn, follow-ups), idempotent: the
        day's run a step at a time (callbacks.DayRun), after each a pause of twice the step's
        time, so its CPU comes in short bursts while the agents work."""
        from time import perf_counter

        from textual.worker import get_current_worker

        from seat import callbacks
        from seat.db import pause

        worker = get_current_worker()
        day = callbacks.DayRun(self.desk)
        try:
            while True:
                began = perf_counter()
                if callbacks.run_step(day):
                    break
                pause(min(callbacks.STEP_PAUSE, 2 * (perf_counter() - began)))
                if worker.is_cancelled:  # the seat closes: the next start runs the day
                    day.stop()
                    return
        except (callbacks.PolicyError, StorageError) as exc:
            self.call_from_thread(self.notify, str(exc), title=_("Callbacks"), severity="error")
            return
        report = day.report
        if report is not None and report.created:
            self.call_from_thread(self.notify, report.summary(), title=_("Callbacks"))

    # -- presence and screen pops (seat pop NUMBER) ---------------------------------------------

    def seat_state(self) -> str:
        """"call" or "wrapup" while a call screen is open (it says which by `presence`), else
        "desk". Asked without importing the call screen: the first heartbeat comes right after
        the desk is drawn, while the sidebar is read, and that import would cost every start
        ~25 ms."""
        for screen in reversed(self.screen_stack):
            presence = getattr(screen, "presence", None)
            if presence is not None:
                return str(presence)
        return "desk"

    @work(thread=True, exclusive=True, group="heartbeat")
    def beat(self) -> None:
        if self.agent is None:
            return
        state = self.call_from_thread(self.seat_state)
        try:
            self.presence_id = self.desk.run(
                lambda s: seats.heartbeat(
                    session=s,
                    now=self.desk.now(),
                    agent_id=self.agent.id,  # type: ignore[union-attr]
                    state=state,
                    presence_id=self.presence_id,
                )
            )
        except StorageError:
            pass  # the next beat tries again; the seat works without presence

    def _check_pops(self) -> None:
        """Only a seat on its desk (not on a call, no form open) takes an incoming call. The
        timer can tick while the seat closes, its screens already gone: then nothing."""
        stack = self.screen_stack
        if stack and isinstance(stack[-1], DeskScreen):
            self.take_pop()

    @work(thread=True, exclusive=True, group="pops")
    def take_pop(self) -> None:
        agent_id = self.agent.id  # type: ignore[union-attr]
        try:
            pop = self.desk.run(
                lambda s: seats.claim_next(session=s, now=self.desk.now(), agent_id=agent_id)
            )
        except StorageError:
            return
        if pop is not None:
            self.post_message(self.PopArrived(pop))

    @dataclass
    class PopArrived(Message):
        pop: seats.Pop

    def on_seat_app_pop_arrived(self, event: PopArrived) -> None:
        if isinstance(self.screen, DeskScreen):
            self.screen.take_call(event.pop.e164, event.pop.call_ref)
        else:  # the agent opened something meanwhile: give the call back
            self.desk.run(lambda s: seats.release(session=s, pop_id=event.pop.id))

    def on_unmount(self) -> None:
        if self.presence_id is not None:
            try:
                self.desk.run(lambda s: seats.leave(session=s, presence_id=self.presence_id))
            except StorageError:
                pass

    def action_command_palette(self) -> None:
        """Textual's palette, with its prompt in the current language."""
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(
                SeatCommandPalette(id="--command-palette", placeholder=_("Search for commands…"))
            )

    def search_commands(
        self, commands: Sequence[CommandListItem], placeholder: str = "Search for commands…"
    ) -> AwaitMount:
        """Textual's, on the guarded palette."""
        return self.push_screen(
            SeatCommandPalette(
                providers=[SimpleProvider(self.screen, commands)], placeholder=placeholder
            )
        )

    def search_themes(self) -> None:
        """Textual's theme search ("Change theme" in the palette), on the guarded palette: a
        search still running when the theme list closed ended the seat."""
        self.push_screen(
            SeatCommandPalette(providers=[ThemeProvider], placeholder=_("Search for themes…"))
        )

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette lists the current screen's actions, then Textual's own (translated)."""
        seen: set[str] = set()
        for binding in screen.BINDINGS:
            if not isinstance(binding, Binding) or not binding.description:
                continue
            if binding.action in seen or screen.check_action(binding.action, ()) is not True:
                continue
            seen.add(binding.action)
            keys = binding.key.replace(",", " / ")
            description = _(binding.description)
            yield SystemCommand(
                f"{description} ({keys})",
                _(binding.tooltip) if binding.tooltip else description,
                partial(screen.run_action, binding.action),
            )
        for command in super().get_system_commands(screen):
            yield command._replace(
                title=_(TEXTUAL_WORDS.get(command.title, command.title)),
                help=_(TEXTUAL_WORDS.get(command.help, command.help)),
            )


def make_app(
    *,
    settings: Settings,
    clock: Clock,
    agent: str | None = None,
    engine: Engine | None = None,
    demo: bool = False,
    login: str | None = None,
    scripts: tuple[ScriptBook, list[str]] | None = None,
) -> SeatApp:
    """The one factory the command line and the tests use to build a seat. `agent` is
    signed in without a password (tests, the demo desk); `login` only fills in the sign-in
    screen. `scripts`: the call scripts and their problems as `load_with_fallback` gave them
    (the command line has read them for its preflight); read from the settings when None."""
    from seat.db import make_engine

    engine = engine or make_engine(settings.database_url)
    book, problems = scripts if scripts is not None else (None, None)
    return SeatApp(
        desk=Desk(
            engine=engine, clock=clock, settings=settings, scripts=book, script_problems=problems
        ),
        agent_name=agent,
        demo=demo,
        login=login,
    )

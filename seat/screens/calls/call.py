"""The call screen: number, customer card, the script stage by stage, then wrap-up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, Label, Select, SelectionList, Static, TextArea

from seat import drafts, loops, phone
from seat.calls import OUTCOME_LABELS, OUTCOMES, CallState
from seat.customers import CustomerCard, ValidationError
from seat.i18n import N_, _
from seat.notices import NoticeView
from seat.screens.background import DeskWorker
from seat.screens.calls.customer_form import NewCustomerScreen
from seat.screens.calls.find_customer import WorkOrderScreen
from seat.screens.calls.forms import CallbackForm, ComplaintForm, WorkOrderForm
from seat.screens.calls.search import PickCustomerScreen
from seat.screens.confirm import ConfirmScreen
from seat.screens.form import NEXT_FIELD_KEYS
from seat.screens.notices import NoticePick
from seat.screens.work_orders.work_order import read_form_data
from seat.scripts import PHASES, Script, Stage, render
from seat.search import SearchHit
from seat.services import StorageError
from seat.widgets.card import CustomerCardView
from seat.widgets.field_error import FieldError
from seat.widgets.sidebar import Sidebar
from seat.widgets.timer import CallTimer

DRAFT_SECONDS = 1.0  # a crash loses at most this much typing
# Keys that would change the call while its save is written.
BUSY_WHILE_SAVING = frozenset(
    {
        "next_stage", "back", "new_customer", "find_caller", "edit_customer", "callback",
        "work_order", "complaint", "no_answer", "save", "abandon",
    }
)  # fmt: skip

PHASE_TITLES = dict(
    zip(
        PHASES, (N_("Greeting"), N_("Need discovery"), N_("Resolution"), N_("Closing")), strict=True
    )
)


@dataclass(frozen=True)
class CustomerData:
    """What the call screen shows of its customer, read in a worker."""

    customer_id: int
    name: str
    card: CustomerCard | None
    script: Script | None
    """The script variant in the customer's language (None: keep the call's script)."""


def _refusal(exc: Exception) -> str:
    """What a refused change says: a ValidationError's messages, or the error itself."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.errors.values())
    return str(exc)


CREATED_LABELS = {
    "callback": N_("callback"),
    "work_order": N_("work order"),
    "complaint": N_("complaint"),
}


class CallScreen(DeskWorker, Screen[int | None]):
    """One call. Dismisses with the saved call's id, or None if abandoned."""

    BINDINGS = [
        Binding("f2", "next_stage", N_("Next"), tooltip=N_("Go to the next stage"), id="call.next"),
        Binding("f3", "back", N_("Back"), tooltip=N_("Back to the previous stage"), id="call.back"),
        Binding(
            "f4",
            "new_customer",
            N_("Customer"),
            tooltip=N_("Register the caller"),
            id="call.customer",
        ),
        Binding(
            "ctrl+f",
            "find_caller",
            N_("Find"),
            tooltip=N_("Find the caller by name, address, customer or order number"),
            id="call.find",
        ),
        Binding(
            "f5", "callback", N_("Callback"), tooltip=N_("Schedule a callback"), id="call.callback"
        ),
        Binding(
            "f6", "work_order", N_("Order"), tooltip=N_("Open a work order"), id="call.work_order"
        ),
        Binding(
            "f7", "complaint", N_("Complaint"), tooltip=N_("Open a complaint"), id="call.complaint"
        ),
        Binding(
            "f8",
            "no_answer",
            N_("No answer"),
            tooltip=N_("Nobody answered: wrap up as no answer"),
            id="call.no_answer",
        ),
        Binding(
            "f9",
            "edit_customer",
            N_("Edit"),
            tooltip=N_("Edit the customer: phone, address, tier (kept as history)"),
            id="call.edit_customer",
        ),
        Binding(
            "ctrl+d",
            "dial",
            N_("Dial"),
            tooltip=N_("Place the call through the phone (dial_command in config.toml)"),
            id="call.dial",
        ),
        Binding(
            "f10",
            "notices",
            N_("Notices"),
            tooltip=N_("The notices for this caller, to read out; link the call to one"),
            id="call.notices",
            show=False,
        ),
        Binding(
            "ctrl+s",
            "save",
            N_("Save"),
            tooltip=N_("Save the call and its wrap-up"),
            id="call.save",
        ),
        Binding(
            "escape",
            "abandon",
            N_("Abandon"),
            tooltip=N_("Leave without saving"),
            id="call.abandon",
        ),
        *NEXT_FIELD_KEYS,
    ]

    DEFAULT_CSS = """
    CallScreen #body { height: 1fr; }
    CallScreen #main { width: 1fr; }
    CallScreen #callbar { height: 1; background: $boost; padding: 0 1; }
    CallScreen #call-info { width: 1fr; padding-left: 1; }
    CallScreen #number-row { height: auto; padding: 0 1; }
    CallScreen #number-error, CallScreen .stage-error, CallScreen #wrapup-error,
    CallScreen #work-error { color: $error; height: auto; }
    CallScreen #stage-title { text-style: bold; color: $accent; }
    CallScreen .say { border-left: thick $success; padding-left: 1; margin: 0 0 1 0; }
    CallScreen SelectionList { height: auto; border: none; padding: 0; margin-bottom: 1; }
    CallScreen .field-label { color: $text-muted; }
    CallScreen TextArea { height: 5; }
    CallScreen #stage Input { background: $boost; }
    CallScreen #created { color: $success; height: auto; }
    CallScreen #number-status { color: $text-muted; }
    CallScreen #saving { color: $warning; text-style: bold; }
    /* The words to say stay in view on a short terminal: a long card scrolls in its box. */
    CallScreen #card { max-height: 40%; overflow-y: auto; }
    """

    @dataclass
    class Saved(Message):
        """The call was saved (its row and wrap-up written)."""

        call_id: int

    @dataclass
    class SaveRefused(Message):
        """The save did not go through: `problems` by field, or the database's `message`."""

        problems: dict[str, str]
        message: str = ""

    @dataclass
    class LookedUp(Message):
        """The typed number was read and looked up (`customer` None: not on file, or
        `shared` by several customers, who are listed)."""

        e164: str
        customer: CustomerData | None
        shared: tuple[SearchHit, ...] = ()

    @dataclass
    class LookupFailed(Message):
        """The number could not be read, or the database could not answer."""

        message: str

    @dataclass
    class CustomerLoaded(Message):
        """The customer's name, card (and script language) were read again."""

        data: CustomerData

    def __init__(
        self,
        state: CallState,
        *,
        customer_name: str = "",
        reason: str = "",
        created: list[tuple[str, int]] | None = None,
        shared: Sequence[SearchHit] = (),
    ) -> None:
        """`shared`: the customers a popped number belongs to, when it is several's."""
        super().__init__()
        self.state = state
        self.shared = tuple(shared)
        self.customer_name = customer_name
        self.reason = reason
        self.created: list[tuple[str, int]] = list(created or [])
        self._dirty = bool(created) or state.from_number is not None
        self.number_known = state.from_number is not None or state.customer_id is not None
        self.saving: CallState | None = None
        """The copy of the call being saved by the worker (None: no save running)."""
        self._typing_to_notes = False
        """Characters typed on the wrap-up's outcome went to the notes, whose focus comes after
        the keys already waiting: those keys (spaces too) go to the notes as well."""

    # -- layout -----------------------------------------------------------------------------

    @property
    def presence(self) -> str:
        """What the presence board shows for this seat (SeatApp.seat_state)."""
        return "wrapup" if self.state.in_wrapup else "call"

    @property
    def call_customer_id(self) -> int | None:
        """The customer on this call (seat.screens.reveal.in_call_with)."""
        return self.state.customer_id

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            with Vertical(id="main"):
                with Horizontal(id="callbar"):
                    yield CallTimer(self.state.started_at, id="timer")
                    yield Label("", id="call-info")
                if not self.number_known:
                    with Vertical(id="number-row"):
                        yield Label(_("Caller's number (Enter to look up)"), classes="field-label")
                        yield Input(placeholder="138 0013 8000", id="number")
                        yield FieldError(id="number-error")
                        yield Label("", id="number-status")
                yield CustomerCardView(id="card")
                yield Label("", id="created")
                yield VerticalScroll(id="stage")
            yield Sidebar(id="sidebar")
        # Every key of a stage fits at 80 columns; ctrl+p still opens the palette.
        yield Footer(compact=True, show_command_palette=False)

    async def on_mount(self) -> None:
        self._draft_file = drafts.DraftFile(self.desk.settings.drafts_dir, self.seat_agent.name)
        self._draft_timer = self.set_interval(DRAFT_SECONDS, self._flush_draft)
        if self.created:
            self._show_created()
        card = self.query_one(CustomerCardView)
        if self.number_known:
            if self.state.customer_id is not None:
                # Read in a worker: meanwhile the card names the customer, never "not on file".
                card.show_card(None, note=_("Reading the customer's card…"))
                card.border_title = self.customer_name
                self._load_customer(self.state.customer_id, fit=False)
            else:
                self._show_customer(None)
            await self._show_stage()
            if self.state.customer_id is None and self.shared:
                self._offer_shared(self.shared)  # a pop from a shared number: who is it?
            elif self.state.customer_id is None and self.state.from_number:
                # A screen pop from an unknown number: offer the new-customer form.
                self._offer_new_customer()
        else:
            card.display = False
            self.query_one("#stage").display = False
            self.query_one("#number", Input).focus()
        self._update_info()

    @property
    def desk(self):  # noqa: ANN201 - the app's Desk
        return self.services

    def _update_info(self) -> None:
        s = self.state
        number = self.desk.display_phone(s.from_number) if s.from_number else _("number not taken")
        if s.in_wrapup:
            where = _("Wrap-up")
        else:
            idx = PHASES.index(s.stage.phase) + 1
            where = f"{idx}/4 {_(PHASE_TITLES[s.stage.phase])}"
        kind = _("Callback") + " · " if s.script.kind == "callback" else ""
        self.query_one("#call-info", Label).update(f"{kind}{number} · {where}")
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide the keys that do nothing now, so the footer shows what works."""
        looked_up = self.number_known
        if self.saving is not None and action in BUSY_WHILE_SAVING:
            return False  # the call is being written as it was at ctrl+s
        if action in ("next_stage", "back", "callback", "work_order", "complaint"):
            if not looked_up:
                return False
            if action == "next_stage" and self.state.in_wrapup:
                return False
            if action in ("callback", "work_order", "complaint"):
                return self.state.customer_id is not None
        if action == "new_customer":
            return looked_up and self.state.customer_id is None
        if action == "find_caller":
            return self.state.customer_id is None and self.state.from_number is not None
        if action == "edit_customer":
            return self.state.customer_id is not None
        if action == "save":
            return self.state.in_wrapup
        if action == "no_answer":
            return self.state.script.kind == "callback" and not self.state.in_wrapup
        if action == "dial":  # click-to-dial: a callback's number, when dialling is set up
            return (
                self.services.can_dial and self.state.script.kind == "callback"
                and bool(self.state.from_number) and not self.state.in_wrapup
            )  # fmt: skip
        return True

    # -- the number ---------------------------------------------------------------------------

    @on(Input.Submitted, "#number")
    def lookup_number(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#number-error", FieldError).show("")
        self.query_one("#number-status", Label).update(_("looking up…"))
        self._lookup(event.value)

    @work(thread=True, exclusive=True, group="lookup")
    def _lookup(self, text: str) -> None:
        try:
            e164, hits = self.desk.lookup_callers(text)
            data = self._read_customer(hits[0].id, fit=True) if len(hits) == 1 else None
            # A shared number: the callers listed as a search lists them (masked).
            shared = tuple(self.desk.search_customers(e164)) if len(hits) > 1 else ()
        except (phone.PhoneError, StorageError) as exc:
            self.post_message(self.LookupFailed(str(exc)))
            return
        self.post_message(self.LookedUp(e164, data, shared))

    @on(LookupFailed)
    def _lookup_failed(self, event: LookupFailed) -> None:
        if self.number_known:
            return
        self.query_one("#number-status", Label).update("")
        self.query_one("#number-error", FieldError).show(event.message)

    @on(LookedUp)
    async def _looked_up(self, event: LookedUp) -> None:
        if self.number_known:
            return  # a second Enter while the first lookup ran
        self.state.from_number = event.e164
        self.number_known = True
        self.query_one("#number-row").remove()
        self.query_one(CustomerCardView).display = True
        self.query_one("#stage").display = True
        if event.customer is not None:
            self.state.customer_id = event.customer.customer_id
            self._apply_customer(event.customer)
        else:
            self._show_customer(None)
        await self._show_stage()
        if event.shared:
            self._offer_shared(event.shared)
        elif event.customer is None:
            self._offer_new_customer()
        self._update_info()

    def _read_customer(self, customer_id: int, *, fit: bool) -> CustomerData:
        """In a worker: the name, card and (with `fit`) the script in the customer's language."""
        language = self.desk.call_language(customer_id) if fit else None
        return CustomerData(
            customer_id=customer_id,
            name=self.desk.customer_name(customer_id),
            card=self.desk.card(customer_id),
            script=self.desk.script(self.state.script.id, language=language) if fit else None,
        )

    @work(thread=True, exclusive=True, group="customer")
    def _load_customer(self, customer_id: int, *, fit: bool) -> None:
        try:
            data = self._read_customer(customer_id, fit=fit)
        except StorageError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.post_message(self.CustomerLoaded(data))

    def _apply_customer(self, data: CustomerData) -> bool:
        """Show what was read; True when the script changed to the customer's language."""
        self.customer_name = data.name
        self._show_customer(data.card)
        if data.script is not None and data.script is not self.state.script:
            # Variants share stages, fields and branches: the call keeps its place.
            self.state.script = data.script
            return True
        return False

    @on(CustomerLoaded)
    async def _customer_loaded(self, event: CustomerLoaded) -> None:
        if event.data.customer_id != self.state.customer_id:
            return
        if self._apply_customer(event.data):
            await self._show_stage()
        self._update_info()

    def _offer_new_customer(self) -> None:
        number = self.desk.display_phone(self.state.from_number)
        self.app.push_screen(NewCustomerScreen(number), self._customer_created)

    def _customer_created(self, customer_id: int | None) -> None:
        if customer_id is None:
            self.notify(
                _("Continuing with an unregistered caller (F4 registers them, ctrl+f finds "
                  "them).")
            )  # fmt: skip
            return
        self.state.customer_id = customer_id
        self._update_info()
        self._load_customer(customer_id, fit=True)  # the customer's language

    def _offer_shared(self, shared: Sequence[SearchHit]) -> None:
        """Several customers have this number: the agent asks who is calling and picks."""
        number = self.desk.display_phone(self.state.from_number)

        def picked(hit: SearchHit | None) -> None:
            if hit is None or self.state.customer_id is not None:
                if hit is None:
                    self.notify(_("Continuing with an unregistered caller (F4 registers them, "
                                  "ctrl+f finds them)."))  # fmt: skip
                return
            self.state.customer_id = hit.id
            self._dirty = True
            self._update_info()
            self._load_customer(hit.id, fit=True)  # the customer's language

        self.app.push_screen(PickCustomerScreen(number, shared=shared), picked)

    def action_find_caller(self) -> None:
        """An unknown number: find the caller on file and add the number to them."""
        e164 = self.state.from_number
        if e164 is None or self.state.customer_id is not None:
            return
        number = self.desk.display_phone(e164)
        self.app.push_screen(PickCustomerScreen(number), self._caller_picked)

    def _caller_picked(self, hit: SearchHit | None) -> None:
        e164 = self.state.from_number
        if hit is None or e164 is None or self.state.customer_id is not None:
            return
        number = self.desk.display_phone(e164)
        question = _(
            "Add {number} to {name} (#{id}) and take the call as theirs? The number is kept "
            "in the customer's change history."
        ).format(number=number, name=hit.name, id=hit.id)
        agent_id = self.seat_agent.id

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            self.in_worker(
                lambda desk: desk.attach_number(hit.id, e164, agent_id=agent_id),
                lambda _done: self._caller_found(hit.id, number),
                group="attach", move=True, refusals=(StorageError, ValidationError),
                failed=lambda exc: self.notify(_refusal(exc), severity="error"),
            )  # fmt: skip

        self.app.push_screen(ConfirmScreen(question), answered)

    def _caller_found(self, customer_id: int, number: str) -> None:
        self.state.customer_id = customer_id
        self._dirty = True
        self.notify(_("{number} added to the customer.").format(number=number))
        self._update_info()
        self._load_customer(customer_id, fit=True)  # the customer's language

    def _show_customer(self, card: CustomerCard | None) -> None:
        self.query_one(CustomerCardView).show_card(
            card, number=self.desk.display_phone(self.state.from_number)
        )

    # -- the script ---------------------------------------------------------------------------

    def _say_context(self) -> dict[str, str]:
        agent = self.seat_agent
        return {
            "company": self.desk.settings.company,
            "agent": agent.display_name,
            "customer": self.customer_name or _("the caller"),
            "number": self.desk.display_phone(self.state.from_number),
            "reason": self.reason or _("our recent service"),
        }

    async def _show_stage(self) -> None:
        panel = self.query_one("#stage", VerticalScroll)
        await panel.remove_children()
        if self.state.in_wrapup:
            await panel.mount_all(self._wrapup_widgets())
            self._focus_first(panel)  # now: a key pressed next lands on it
            return
        stage = self.state.stage
        widgets: list[Widget] = [
            Label(stage.title, id="stage-title"),
            Static(render(stage.say, self._say_context()), classes="say"),
        ]
        if stage.checklist:
            ticked = set(self.state.ticks.get(stage.id, ()))
            widgets.append(
                SelectionList[int](
                    *[(c, i, i in ticked) for i, c in enumerate(stage.checklist)],
                    id="checklist", name=stage.id,
                )
            )
        for f in stage.fields:
            mark = " *" if f.required else ""
            widgets.append(Label(f"{f.label}{mark}", classes="field-label"))
            current = self.state.values.get(f.id, "")
            if f.type == "choice":
                w: Widget = Select(
                    [(f.choice_label(c), c) for c in f.choices],
                    value=current or Select.NULL,
                    prompt=_("Select"),
                    id=f"sf-{f.id}",
                    compact=True,
                )
            elif f.type == "score":
                w = Select(
                    [(str(i), str(i)) for i in range(5, 0, -1)],
                    value=current or Select.NULL,
                    prompt=_("Select"),
                    id=f"sf-{f.id}",
                    compact=True,
                )
            else:
                w = Input(current, id=f"sf-{f.id}", placeholder=f.help or "", compact=True)
            widgets.append(w)
            widgets.append(FieldError(id=f"se-{f.id}", classes="stage-error"))
        widgets.append(Label(_("F2 next stage · F3 back"), classes="field-label"))
        await panel.mount_all(widgets)
        panel.scroll_home(animate=False)
        self._focus_first(panel)  # now, not after a repaint: a key pressed next lands on it

    def _focus_first(self, panel: Widget) -> None:
        # The first field to fill, else the checklist.
        for selector in ("Input, Select, TextArea", "SelectionList"):
            for w in panel.query(selector):
                w.focus()
                return

    def _wrapup_widgets(self) -> list[Widget]:
        kinds = {k for k, __ in self.created}
        suggested = self.state.outcome or self.state.suggested_outcome(kinds)
        # Busy and wrong number are outcomes of dialling out, not of a call that came in.
        outbound_only = {"busy", "wrong_number"}
        options = [
            (_(OUTCOME_LABELS[o]), o)
            for o in OUTCOMES
            if self.state.direction == "outbound" or o not in outbound_only
        ]
        notes = TextArea(self.state.notes, id="notes")
        saving = Label(_("saving…"), id="saving")
        saving.display = False
        why_not = Vertical(
            Label(
                _("The customer is unsatisfied and no complaint was opened: why not? *"),
                classes="field-label",
            ),
            Input(
                self.state.values.get(loops.REASON_FIELD, ""), id=f"sf-{loops.REASON_FIELD}",
                placeholder=_("or F3 back and F7 opens a complaint"), max_length=2000,
                compact=True,
            ),
            FieldError(id=f"se-{loops.REASON_FIELD}", classes="stage-error"),
            id="why-no-complaint",
        )  # fmt: skip
        why_not.display = False
        self.call_after_refresh(self._ask_why_no_complaint)
        return [
            Label(_("Wrap-up"), id="stage-title"),
            Static(
                _("Choose the outcome, write the notes, then ctrl+s saves the call."),
                classes="say",
            ),
            Label(_("Outcome *"), classes="field-label"),
            Select(options, value=suggested, id="outcome", compact=True),
            FieldError(id="se-outcome", classes="stage-error"),
            why_not,
            Label(_("Notes"), classes="field-label"),
            notes,
            FieldError(id="wrapup-error"),
            saving,
        ]

    def _ask_why_no_complaint(self) -> None:
        """An unsatisfied callback with no complaint opened on it: the wrap-up asks why not
        (seat.loops; the save refuses without it)."""
        if self.state.callback_id is None or not self.state.in_wrapup:
            return
        s = self.state
        state = replace(s, values=dict(s.values), history=list(s.history))
        self.in_worker(
            lambda desk: desk.needs_no_complaint_reason(state), self._show_why_no_complaint,
            group="loop-question",
        )  # fmt: skip

    def _show_why_no_complaint(self, needed: bool) -> None:
        for box in self.query("#why-no-complaint"):
            box.display = bool(needed)

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        if event.input.id and event.input.id.startswith("sf-"):
            self.state.values[event.input.id[3:]] = event.value
            self._clear_problem(event.input.id[3:])

    def _clear_problem(self, key: str) -> None:
        """A field's message goes as soon as the agent changes the field."""
        for message in self.query(f"#se-{key}").results(FieldError):
            message.show("")

    @on(Input.Submitted)
    def _input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id and event.input.id.startswith("sf-"):
            event.stop()
            self.focus_next()

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        sid = event.select.id or ""
        value = "" if event.value is Select.NULL else str(event.value)
        if sid.startswith("sf-"):
            self.state.values[sid[3:]] = value
            self._clear_problem(sid[3:])
        elif sid == "outcome":
            self.state.outcome = value
            self._clear_problem("outcome")
            self._ask_why_no_complaint()

    @on(SelectionList.SelectedChanged, "#checklist")
    def _checklist_changed(self, event: SelectionList.SelectedChanged[int]) -> None:
        """A checklist item ticked or unticked: kept with the call (saved with it)."""
        stage_id = event.selection_list.name  # the list's own stage, even if shown late
        if stage_id:
            self.state.tick(stage_id, list(event.selection_list.selected))
        self._dirty = True

    def on_key(self, event: events.Key) -> None:
        """A character typed on the wrap-up's outcome (a closed list drops typed keys) goes
        into the notes, which take the focus: what the agent types there is not lost."""
        focused, character = self.focused, event.character
        if (
            not self.state.in_wrapup
            or not isinstance(focused, Select)
            or focused.id != "outcome"
            or not event.is_printable
            or character is None
            or (character == " " and not self._typing_to_notes)  # space opens the list
        ):
            return
        event.stop()
        event.prevent_default()
        self._to_notes(character)

    def on_paste(self, event: events.Paste) -> None:
        """Text pasted on the wrap-up's outcome (a list takes no text) goes into the notes."""
        focused = self.focused
        if (
            self.state.in_wrapup
            and isinstance(focused, Select)
            and focused.id == "outcome"
            and event.text
        ):
            event.stop()
            event.prevent_default()
            self._to_notes(event.text)

    def _to_notes(self, text: str) -> None:
        notes = self.query_one("#notes", TextArea)
        self._typing_to_notes = True  # until the list is focused again
        notes.focus()
        notes.move_cursor(notes.document.end)
        notes.insert(text)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """The outcome list focused again (not on the way to the notes): space opens it."""
        if event.widget.id == "outcome":
            self._typing_to_notes = False

    @on(TextArea.Changed, "#notes")
    def _notes_changed(self, event: TextArea.Changed) -> None:
        self.state.notes = event.text_area.text

    def _show_problems(self, problems: dict[str, str]) -> None:
        for label in self.query(".stage-error").results(FieldError):
            label.show("")
        first = None
        for key, msg in problems.items():
            found = self.query(f"#se-{key}")
            if found:
                found.first(FieldError).show(msg)
                first = first or self.query(f"#sf-{key}, #{key}").first()
            else:
                self.notify(msg, severity="error")
        if first is not None:
            first.focus()

    async def action_next_stage(self) -> None:
        self._dirty = True
        left = self.state.stage
        problems = self.state.advance(self.desk.now())
        if problems:
            self._show_problems(problems)
            return
        if self.state.in_wrapup and not self.state.outcome:
            self.state.outcome = self.state.suggested_outcome({k for k, __ in self.created})
        await self._show_stage()
        self._update_info()
        self._complaint_from(left)
        if left.phase == PHASES[1] and self.state.values.get("need_category") == "notice":
            self._offer_notices(quiet=True)  # about a notice or an outage: read them out

    def action_notices(self) -> None:
        self._offer_notices(quiet=False)

    def _offer_notices(self, *, quiet: bool) -> None:
        """The notices that concern the caller, to read out (`quiet`: none, say nothing)."""
        customer_id = self.state.customer_id

        def offer(found: list[NoticeView]) -> None:
            if not found:
                if not quiet:
                    self.notify(_("No notice concerns this caller now."))
                return
            self.app.push_screen(NoticePick(found), self._link_notice)

        self.in_worker(lambda desk: desk.notices_for_caller(customer_id), offer,
                       group="notices")  # fmt: skip

    def _link_notice(self, notice_id: int | None) -> None:
        if notice_id is None:
            return
        uid, agent_id = self.state.uid, self.seat_agent.id
        self.in_worker(
            lambda desk: desk.link_notice(notice_id, call_uid=uid, agent_id=agent_id),
            lambda __: self.notify(_("This call is linked to the notice.")),
            group="notice-link", move=True,
        )  # fmt: skip

    def _complaint_from(self, stage: Stage) -> None:
        """An unsatisfied answer opens the complaint form with the customer's words (once)."""
        said = self.state.values.get(stage.complaint, "").strip() if stage.complaint else ""
        if not said or any(kind == "complaint" for kind, __ in self.created):
            return
        if self.reason:
            said += "\n" + _("(Said on a callback about: {reason})").format(reason=self.reason)
        self.app.push_screen(
            ComplaintForm(self.state, what_happened=said),
            self._created("complaint", N_("Complaint")),
        )

    async def action_no_answer(self) -> None:
        self._dirty = True
        self.state.no_answer(self.desk.now())
        await self._show_stage()
        self._update_info()

    async def action_back(self) -> None:
        self._dirty = True
        if self.state.back(self.desk.now()):
            await self._show_stage()
            self._update_info()

    # -- work from the call ---------------------------------------------------------------------

    def action_new_customer(self) -> None:
        self._offer_new_customer()

    def action_edit_customer(self) -> None:
        from seat.screens.calls.customer_edit import (
            CustomerEditScreen,
            edited_message,
            read_editable,
        )

        customer_id = self.state.customer_id
        if customer_id is None:
            return

        def done(count: int | None) -> None:
            if message := edited_message(count):
                self.notify(message)
            if count and self.state.customer_id is not None:
                # A new language switches the call's script; the stage and answers stay.
                self._load_customer(self.state.customer_id, fit=True)

        self.in_worker(
            lambda desk: read_editable(desk, customer_id),
            lambda current: self.app.push_screen(CustomerEditScreen(current), done),
            group="open-form", move=True, refusals=(StorageError, LookupError),
        )  # fmt: skip

    def _created(self, kind: str, label: str) -> callable:  # type: ignore[valid-type]
        def done(result: int | None) -> None:
            if result is None:
                return
            self.created.append((kind, result))
            self._dirty = True
            self._show_created()
            self.notify(_("{what} #{id} saved.").format(what=_(label), id=result))
            if self.state.customer_id:
                self._load_customer(self.state.customer_id, fit=False)

        return done

    def _show_created(self) -> None:
        self.query_one("#created", Label).update(
            _("Created: {items}").format(
                items=", ".join(f"{_(CREATED_LABELS.get(k, k))} #{i}" for k, i in self.created)
            )
        )

    # -- the draft: nothing typed is lost ---------------------------------------------------------

    def on_input_changed(self) -> None:
        self._dirty = True

    def on_select_changed(self) -> None:
        self._dirty = True

    def on_text_area_changed(self) -> None:
        self._dirty = True

    def _flush_draft(self) -> None:
        if not self._dirty or not self.number_known or self._draft_file.closed:
            return
        self._dirty = False
        draft = drafts.Draft(
            state=self.state,
            customer_name=self.customer_name,
            reason=self.reason,
            created=self.created,
        )
        self._write_draft(drafts.to_dict(draft, self.desk.now()))

    @work(thread=True, exclusive=True, group="draft")
    def _write_draft(self, data: dict) -> None:
        try:
            self._draft_file.write(data)
        except OSError as exc:
            self.app.call_from_thread(
                self.notify,
                _("Could not save the draft: {reason}").format(reason=exc.strerror),
                severity="warning",
            )

    def _discard_draft(self) -> None:
        # Stop the writer first: a write caught mid-way must not bring the draft back.
        self._draft_timer.stop()
        self.workers.cancel_group(self, "draft")
        self._draft_file.close(discard=True)

    def _needs_customer(self) -> bool:
        if self.state.customer_id is None:
            self.notify(
                _("Register the caller first (F4): work needs a customer."), severity="warning"
            )
            return True
        return False

    def action_callback(self) -> None:
        if not self._needs_customer():
            self.app.push_screen(
                CallbackForm(self.state), self._created("callback", N_("Callback"))
            )

    def action_dial(self) -> None:
        """Place the callback's call; when the phone system tells that nobody answered or the
        line was busy, the call goes to wrap-up with that outcome (as F8 does)."""
        number = self.state.from_number or ""
        agent_id = self.state.agent_id
        self.notify(_("Dialling {number}…").format(number=number))
        self.in_worker(
            lambda desk: desk.dial(number, agent_id=agent_id), self._dialled, group="dial"
        )

    async def _dialled(self, done: Any) -> None:
        self.notify(done.message, severity="information" if done.started else "error")
        if done.outcome in ("no_answer", "busy") and not self.state.in_wrapup:
            self._dirty = True
            self.state.no_answer(self.desk.now())
            self.state.outcome = done.outcome
            await self._show_stage()
            self._update_info()

    def action_work_order(self) -> None:
        if not self._needs_customer():
            state = self.state

            def shown(got: tuple[list[tuple[int, str]], Any]) -> None:
                agents, prefill = got
                self.app.push_screen(
                    WorkOrderForm(state, agents, prefill),
                    self._created("work_order", N_("Work order")),
                )

            self.in_worker(
                lambda desk: read_form_data(desk, state.customer_id), shown,
                group="open-form", move=True,
            )  # fmt: skip

    def action_complaint(self) -> None:
        if not self._needs_customer():
            self.app.push_screen(
                ComplaintForm(self.state), self._created("complaint", N_("Complaint"))
            )

    def on_sidebar_callback_chosen(self, event: Sidebar.CallbackChosen) -> None:
        self.notify(_("Finish this call first (wrap-up, ctrl+s); then start the callback."))

    def on_sidebar_complaint_chosen(self, event: Sidebar.ComplaintChosen) -> None:
        from seat.screens.complaints.complaint import ComplaintScreen

        self.app.push_screen(ComplaintScreen(event.complaint_id))

    def on_sidebar_work_order_chosen(self, event: Sidebar.WorkOrderChosen) -> None:
        self.app.push_screen(WorkOrderScreen(event.work_order_id))

    # -- ending the call ------------------------------------------------------------------------

    def action_save(self) -> None:
        if not self.state.in_wrapup or self.saving is not None:
            return
        self.query_one("#wrapup-error", FieldError).show("")
        self.query_one("#saving", Label).display = True
        # The worker writes a copy: typing on (notes) while it waits cannot change it halfway.
        s = self.state
        self.saving = replace(
            s, values=dict(s.values), phase_times=dict(s.phase_times), history=list(s.history),
            ticks={k: list(v) for k, v in s.ticks.items()}, visits=list(s.visits),
        )
        self.refresh_bindings()
        self._save_call(self.saving)

    @work(thread=True, exclusive=True, group="call-save")
    def _save_call(self, state: CallState) -> None:
        try:
            call_id = self.desk.save_call(state)
        except ValidationError as exc:
            self.post_message(self.SaveRefused(exc.errors))
            return
        except StorageError as exc:
            self.post_message(self.SaveRefused({}, str(exc)))
            return
        self.post_message(self.Saved(call_id))

    def _save_ended(self) -> CallState | None:
        saved, self.saving = self.saving, None
        if self.is_attached:
            self.query_one("#saving", Label).display = False
            self.refresh_bindings()
        return saved

    @on(SaveRefused)
    def _save_refused(self, event: SaveRefused) -> None:
        self._save_ended()
        if loops.REASON_FIELD in event.problems:
            self._show_why_no_complaint(True)
        if event.message:
            self.query_one("#wrapup-error", FieldError).show(event.message)
        self._show_problems(event.problems)

    @on(Saved)
    def _call_saved(self, event: Saved) -> None:
        saved = self._save_ended()
        self.state.call_id = event.call_id
        self._discard_draft()
        if saved is not None and (saved.notes, saved.outcome) != (
            self.state.notes,
            self.state.outcome,
        ):
            self.notify(
                _("Saved as it was when you pressed ctrl+s; what you typed after is not saved."),
                severity="warning",
            )
        self.notify(_("Call #{id} saved.").format(id=event.call_id))
        self.announce_change("call-save")
        self.dismiss(event.call_id)

    def action_abandon(self) -> None:
        if self.created:
            self.notify(
                _("Work was created on this call: go on to wrap-up (F2) and save it (ctrl+s)."),
                severity="warning",
            )
            return
        if not self.number_known:
            self.dismiss(None)
            return

        def decided(yes: bool | None) -> None:
            if yes:
                self._discard_draft()
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen(_("Leave this call without saving it?")), decided)

"""Details opened from the desk (`f`): customers found by anything (seat.search) as a list,
Enter opens one's card; the work order (work_order.py).

A supervisor merges duplicates here (seat.merge): F6 marks the highlighted (or open)
customer as the duplicate, F7 on the customer to keep shows what would move and merges the
marked one into it once confirmed."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, OptionList

from seat import roles, search
from seat.customers import CustomerCard
from seat.errors import PermissionDenied, ValidationError
from seat.i18n import N_, _, ngettext
from seat.merge import MergePlan
from seat.screens.background import DeskWorker
from seat.screens.calls.customer_edit import CustomerEditScreen, edited_message, read_editable
from seat.screens.confirm import ConfirmScreen
from seat.screens.reveal import RevealScreen, in_call_with
from seat.screens.role_keys import RoleKeys
from seat.screens.work_orders.work_order import WorkOrderScreen as WorkOrderScreen
from seat.search import SearchHit
from seat.services import StorageError
from seat.widgets.card import CustomerCardView
from seat.widgets.field_error import FieldError
from seat.widgets.search_results import SearchResults


class FindCustomerScreen(DeskWorker, RoleKeys, ModalScreen[None]):
    DEFAULT_CSS = """
    FindCustomerScreen { align: center middle; }
    FindCustomerScreen > Vertical { width: 76; max-width: 100%; height: auto;
                                    max-height: 100%;
                                    border: thick $primary; background: $surface; padding: 0 1; }
    FindCustomerScreen #find-error { color: $error; }
    FindCustomerScreen #find-count { color: $text-muted; }
    FindCustomerScreen #find-marked { color: $warning; width: 100%; }
    """
    ROLE_ACTIONS = {
        "mark_duplicate": roles.MERGE_CUSTOMERS,
        "merge": roles.MERGE_CUSTOMERS,
        "reveal": roles.REVEAL_PERSONAL,  # never a quality inspector
        "edit": roles.EDIT_CUSTOMER,  # nor this
    }

    BINDINGS = [
        Binding(
            "escape", "close", N_("Close"),
            tooltip=N_("Back to the list of customers found, or close"), id="find.close",
        ),  # fmt: skip
        Binding(
            "f9",
            "edit",
            N_("Edit customer"),
            tooltip=N_("Change the customer's phone, address, tier (kept as history)"),
            id="find.edit",
        ),
        Binding(
            "ctrl+r",
            "reveal",
            N_("Reveal"),
            tooltip=N_("Show a masked phone number or address (asks for a reason, logged)"),
            id="find.reveal",
        ),
        Binding(
            "f6", "mark_duplicate", N_("Mark duplicate"),
            tooltip=N_("Mark this customer as a duplicate to merge into another (supervisor)"),
            id="find.mark_duplicate",
        ),  # fmt: skip
        Binding(
            "f7", "merge", N_("Merge into this"),
            tooltip=N_("Merge the customer marked as duplicate into this one (supervisor)"),
            id="find.merge",
        ),  # fmt: skip
    ]

    card: reactive[CustomerCard | None] = reactive(None, init=False, always_update=True)
    """The customer shown, None before a lookup found one."""
    revealed: reactive[frozenset[str]] = reactive(frozenset(), init=False)
    """What was revealed (with a reason) on this screen: "phone", "address"."""
    marked: reactive[tuple[int, str] | None] = reactive(None, init=False)
    """The customer (number, name) a supervisor marked as the duplicate to merge (F6)."""

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = _("Find a customer")
            yield Input(
                placeholder=_("name, address, customer, order or phone number; Enter"),
                id="find-number",
            )
            yield FieldError(id="find-error")
            yield Label("", id="find-marked")
            yield Label("", id="find-count")
            yield SearchResults(id="find-results")
            yield CustomerCardView(id="find-card")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(CustomerCardView).display = False
        self.query_one(SearchResults).display = False
        self.query_one("#find-marked", Label).display = False

    @property
    def masked(self) -> bool:
        return self.card is not None and not in_call_with(self.app, self.card.id)

    def hidden_kinds(self) -> tuple[str, ...]:
        """The masked kinds on the card that can still be revealed."""
        c = self.card
        if c is None or not self.masked:
            return ()
        kinds = []
        if c.phones or any(x.field == "phone" for x in c.changes):
            kinds.append("phone")
        if c.address or c.second_address or any("address" in x.field for x in c.changes):
            kinds.append("address")
        return tuple(k for k in kinds if k not in self.revealed)

    def current(self) -> tuple[int, str] | None:
        """The customer the keys act on: the open card's, else the highlighted one's."""
        if self.card is not None:
            return self.card.id, self.card.name
        results = self.query_one(SearchResults)
        hit = results.hit(results.highlighted) if results.display else None
        return (hit.id, hit.name) if hit is not None else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.role_allows(action):
            return False
        if action == "mark_duplicate":
            return self.current() is not None
        if action == "merge":
            current = self.current()
            return (
                self.marked is not None and current is not None and current[0] != self.marked[0]
            )
        if action == "edit":
            return self.card is not None
        if action == "reveal":
            return bool(self.hidden_kinds())
        return True

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(Vertical).border_subtitle = _("looking up…")
        text = event.value

        def read(desk: Any) -> tuple[list[SearchHit], CustomerCard | None]:
            hits = desk.search_customers(text)
            # One customer by an exact number (a phone, a customer number): their card.
            only = len(hits) == 1 and hits[0].rank == search.EXACT
            return hits, desk.card(hits[0].id) if only else None

        self.in_worker(
            read, self._found, group="lookup", failed=self._not_found,
            refusals=(StorageError,),
        )  # fmt: skip

    def _not_found(self, exc: Exception) -> None:
        self.query_one(Vertical).border_subtitle = ""
        self.query_one("#find-error", FieldError).show(str(exc))
        self.query_one(SearchResults).show(())
        self.query_one("#find-count", Label).update("")
        self.query_one(CustomerCardView).display = False
        self.card = None

    def _found(self, found: tuple[list[SearchHit], CustomerCard | None]) -> None:
        hits, card = found
        self.query_one(Vertical).border_subtitle = ""
        results = self.query_one(SearchResults)
        results.show(hits)
        if not hits:
            self._not_found(ValueError(_("Nobody found: try part of a name, an address, "
                                         "a customer, order or phone number.")))
            return
        self.query_one("#find-error", FieldError).show("")
        count = self.query_one("#find-count", Label)
        if len(hits) >= search.DEFAULT_LIMIT:  # a page, not a count: there may be more
            count.update(_("The first {n} found: type more to narrow them; Enter opens a card")
                         .format(n=len(hits)))  # fmt: skip
        else:
            count.update(ngettext("{n} customer found; Enter opens the card",
                                  "{n} customers found; Enter opens a card", len(hits))
                         .format(n=len(hits)))  # fmt: skip
        if card is not None:
            self._open(card)
            return
        self.query_one(CustomerCardView).display = False
        self.card = None
        results.focus()

    def _open(self, card: CustomerCard | None) -> None:
        """Show a customer's card in place of the list."""
        self.query_one(SearchResults).display = False
        self.query_one("#find-count", Label).display = False
        self.query_one(CustomerCardView).display = True
        if card is None or self.card is None or card.id != self.card.id:
            self.revealed = frozenset()  # a reveal is for the customer it was asked for
        self.card = card

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.refresh_bindings()  # F6 and F7 act on the highlighted customer

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        hit = self.query_one(SearchResults).hit(event.option_index)
        if hit is None:
            return
        self.in_worker(
            lambda desk: desk.card(hit.id), self._open, group="lookup",
            failed=lambda exc: self.query_one("#find-error", FieldError).show(str(exc)),
        )  # fmt: skip

    def action_close(self) -> None:
        """Back from a card to the list it was opened from; else close."""
        results = self.query_one(SearchResults)
        if self.card is not None and len(results.hits) > 1:
            self.card = None
            self.revealed = frozenset()
            self.query_one(CustomerCardView).display = False
            self.query_one("#find-count", Label).display = True
            results.display = True
            results.focus()
            return
        self.dismiss()

    def watch_card(self) -> None:
        self._show()

    def watch_revealed(self) -> None:
        self._show()

    def _show(self) -> None:
        if self.card is not None:
            self.query_one(CustomerCardView).show_card(
                self.card, masked=self.masked, revealed=self.revealed
            )
        self.refresh_bindings()

    def _reload(self) -> None:
        if self.card is None:
            return
        customer_id = self.card.id

        def shown(card: CustomerCard | None) -> None:
            self.card = card

        self.in_worker(
            lambda desk: desk.card(customer_id), shown, group="lookup",
            failed=lambda exc: self.query_one("#find-error", FieldError).show(str(exc)),
        )  # fmt: skip

    def action_reveal(self) -> None:
        kinds = self.hidden_kinds()
        if not kinds or self.card is None:
            return
        dialog = RevealScreen(self.card.id, kinds)

        def done(log_id: int | None) -> None:
            if log_id is not None:
                self.revealed = self.revealed | {dialog.what}

        self.app.push_screen(dialog, done)

    def action_edit(self) -> None:
        if self.card is None:
            return
        customer_id = self.card.id
        hidden = {"phone", "address"} - self.revealed if self.masked else set()

        def done(count: int | None) -> None:
            message = edited_message(count)
            if message:
                self.notify(message)
            if count:
                self._reload()

        self.in_worker(
            lambda desk: read_editable(desk, customer_id),
            lambda current: self.app.push_screen(
                CustomerEditScreen(current, hidden=hidden), done
            ),
            group="open-form", move=True, refusals=(StorageError, LookupError),
            failed=lambda exc: self.query_one("#find-error", FieldError).show(str(exc)),
        )  # fmt: skip

    # -- merge duplicates (supervisors) ------------------------------------------------------

    def watch_marked(self) -> None:
        label = self.query_one("#find-marked", Label)
        if self.marked is None:
            label.display = False
        else:
            label.update(_("Duplicate marked: #{id} {name}; F7 on the customer to keep merges "
                           "it into them").format(id=self.marked[0], name=self.marked[1]))
            label.display = True
        self.refresh_bindings()

    def action_mark_duplicate(self) -> None:
        current = self.current()
        if current is None:
            return
        self.marked = None if self.marked == current else current

    def action_merge(self) -> None:
        current, marked = self.current(), self.marked
        if current is None or marked is None or current[0] == marked[0]:
            return
        self.in_worker(
            lambda desk: desk.merge_plan(current[0], marked[0]), self._confirm_merge,
            group="merge-plan", refusals=(StorageError, ValidationError),
        )  # fmt: skip

    def _confirm_merge(self, plan: MergePlan) -> None:
        question = "\n".join(plan.lines())

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            agent_id = self.seat_agent.id
            self.in_worker(
                lambda desk: desk.merge_customers(
                    plan.survivor_id, plan.other_id, agent_id=agent_id
                ),
                self._merged, group="merge", move=True,
                refusals=(StorageError, ValidationError, PermissionDenied),
            )  # fmt: skip

        self.app.push_screen(
            ConfirmScreen(question, keys=_("y merge · n keep both as they are")), answered
        )

    def _merged(self, plan: MergePlan) -> None:
        self.marked = None
        self.notify(_("Customer #{other} merged into #{survivor}.").format(
            other=plan.other_id, survivor=plan.survivor_id
        ))  # fmt: skip
        hits = [h for h in self.query_one(SearchResults).hits if h.id != plan.other_id]
        self._found((hits, None))  # the list and its count without the merged-away one
        self.in_worker(
            lambda desk: desk.card(plan.survivor_id), self._open, group="lookup",
            failed=lambda exc: self.query_one("#find-error", FieldError).show(str(exc)),
        )  # fmt: skip

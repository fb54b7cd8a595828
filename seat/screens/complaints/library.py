"""The case library during a complaint (l on its page): the model cases of the complaint's
category, narrowed by the words typed; Enter on one reads its agreed solution."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label, Static

from seat import sla
from seat.cases import ModelHit, ModelView
from seat.i18n import N_, _, format_datetime, ngettext
from seat.screens.background import DeskWorker
from seat.widgets.lines import fit
from seat.widgets.table import SeatTable


def model_text(view: ModelView, policy: sla.Policy, local_label: str) -> Group:
    """A model case to read: the agreed solution first, then what happened and was found."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim", width=13, no_wrap=True)
    grid.add_column(ratio=1)
    grid.add_row(_("Solution"), Text(view.solution, style="bold"))
    grid.add_row(_("Category"),
                 _(policy.category_label(view.category)) if view.category else "-")  # fmt: skip
    if view.cause:
        grid.add_row(_("Cause"), _(policy.cause_label(view.cause)))
    grid.add_row(_("What happened"), view.what_happened)
    grid.add_row(_("Wants"), view.customer_wants)
    if view.chosen_solution:
        grid.add_row(_("Approved"), view.chosen_solution)
    if view.root_cause:
        grid.add_row(_("Root cause"), view.root_cause)
    if view.summary:
        grid.add_row(_("Summary"), view.summary)
    grid.add_row(_("Marked"), local_label)
    return Group(
        Text(_("Model case from complaint #{id}").format(id=view.complaint_id),
             style="bold underline"),
        grid,
    )  # fmt: skip


class CaseLibraryScreen(DeskWorker, Screen[None]):
    """Type words, Enter: the model cases found; Enter on one shows its solution below."""

    BINDINGS = [
        Binding("ctrl+t", "any_category", N_("All categories"),
                tooltip=N_("Search every category, or the complaint's again"),
                id="library.category"),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the complaint"),
                id="library.back"),
    ]  # fmt: skip

    DEFAULT_CSS = """
    CaseLibraryScreen #lib-title { height: 1; width: 100%; background: $boost; padding: 0 1;
                                   text-style: bold; }
    CaseLibraryScreen #lib-words { background: $boost; margin: 0 1; }
    CaseLibraryScreen #lib-count { height: 1; color: $text-muted; padding: 0 1; }
    CaseLibraryScreen DataTable { height: 1fr; }
    CaseLibraryScreen #lib-body { height: 2fr; padding: 0 1; border-top: solid $primary; }
    """

    def __init__(self, category: str | None) -> None:
        super().__init__()
        self.category = category
        """The complaint's category: the library opens on it (None: every category)."""
        self.every_category = category is None
        self.policy = sla.Policy()
        self.hits: list[ModelHit] = []

    def compose(self) -> ComposeResult:
        yield Label(_("Case library"), id="lib-title")
        yield Input(placeholder=_("words of the case or its solution; Enter searches"),
                    id="lib-words", compact=True)  # fmt: skip
        yield Label("", id="lib-count")
        yield SeatTable(id="lib-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="lib-body", can_focus=False):
            yield Static(_("Enter on a case shows its agreed solution here."), id="lib-model")
        yield Footer()

    def on_mount(self) -> None:
        self.policy = self.clock_policy()
        table = self.query_one(DataTable)
        table.add_column("#", width=5, key="id")
        table.add_column(_("Category"), width=14)
        table.add_column(_("What happened"), width=24)
        table.add_column(_("Solution"), width=24)
        self.query_one(Input).focus()
        self.search()

    def _scope(self) -> str:
        if self.every_category or not self.category:
            return _("every category")
        return _(self.policy.category_label(self.category))

    def search(self) -> None:
        words = self.query_one(Input).value
        category = None if self.every_category else self.category
        self.query_one("#lib-count", Label).update(_("looking up…"))
        self.in_worker(lambda desk: desk.search_model_cases(words, category), self._found,
                       group="library")  # fmt: skip

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.search()

    def _found(self, hits: list[ModelHit]) -> None:
        self.hits = hits
        self.query_one("#lib-title", Label).update(_("Case library") + " · " + self._scope())
        table = self.query_one(DataTable)
        table.clear()
        for h in hits:
            category = _(self.policy.category_label(h.category)) if h.category else "-"
            table.add_row(
                str(h.complaint_id),
                fit(Text(category, no_wrap=True, overflow="ellipsis"), 14),
                fit(Text(" ".join(h.what_happened.split()), no_wrap=True,
                         overflow="ellipsis"), 24),
                fit(Text(" ".join(h.solution.split()), no_wrap=True, overflow="ellipsis"), 24),
                key=str(h.complaint_id),
            )  # fmt: skip
        count = self.query_one("#lib-count", Label)
        if hits:
            count.update(ngettext("{n} model case; Enter on one reads it",
                                  "{n} model cases; Enter on one reads it", len(hits))
                         .format(n=len(hits)))  # fmt: skip
        else:
            count.update(_("No model case found: fewer words, or ctrl+t for every category."))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is None:
            return
        cid = int(event.row_key.value)
        self.in_worker(lambda desk: desk.model_case(cid), self._show, group="library-model")

    def _show(self, view: ModelView | None) -> None:
        body = self.query_one("#lib-model", Static)
        if view is None:
            body.update(_("This case is no longer in the library."))
            return
        marked = _("{when} by {name}").format(
            when=format_datetime(self.services.local(view.marked_at), "short"),
            name=view.marked_by,
        )
        body.update(model_text(view, self.policy, marked))

    def action_any_category(self) -> None:
        if self.category is None:
            self.notify(_("The complaint has no category yet: every category is searched."))
            return
        self.every_category = not self.every_category
        self.search()

    def action_back(self) -> None:
        self.dismiss(None)

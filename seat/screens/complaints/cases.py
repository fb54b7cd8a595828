"""Case review: closed complaints filtered by period, category, cause, department, owner and
breach (h on the complaint list); Enter opens one, where a supervisor marks it as a model
(k: seat.screens.complaints.forms.MarkModelForm)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, Footer, Input, Label, Select

from seat import roles, sla
from seat.cases import CaseFilter, ClosedCase
from seat.customers import ValidationError
from seat.i18n import N_, _
from seat.screens.background import DeskWorker
from seat.screens.complaints.complaint import ComplaintScreen
from seat.screens.form import FormScreen
from seat.widgets.lines import fit
from seat.widgets.table import SeatTable

PAGE = 100
DEFAULT_DAYS = 7
"""The list opens on the closed cases of the last week (the weekly case meeting)."""


def _date(errors: dict[str, str], key: str, text: str) -> date | None:
    raw = text.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[key] = _("Type a date as YYYY-MM-DD, e.g. 2026-11-23.")
        return None


class CaseFilterForm(FormScreen):
    """Which closed cases to list: empty fields let every case through."""

    TITLE_TEXT = N_("Filter closed cases")
    SAVE_IN_THREAD = False

    def __init__(
        self, current: CaseFilter, policy: sla.Policy, *, owners: list[tuple[int, str]],
        departments: list[str], all_owners: bool,
    ) -> None:  # fmt: skip
        super().__init__()
        self.current = current
        self.policy = policy
        self.owners = owners
        self.departments = departments
        self.all_owners = all_owners

    def fields(self) -> ComposeResult:
        f = self.current
        yield from self.field(_("Closed from (YYYY-MM-DD)"), "date_from",
                              Input(f.date_from.isoformat() if f.date_from else ""))
        yield from self.field(_("Closed to (YYYY-MM-DD)"), "date_to",
                              Input(f.date_to.isoformat() if f.date_to else ""))  # fmt: skip
        categories = [(_(c.label), c.id) for c in self.policy.categories]
        yield from self.field(_("Category"), "category", self._choice(categories, f.category))
        yield from self.field(_("Cause"), "cause", self._choice(list(
            (label, cid) for cid, label in self.policy.causes), f.cause))  # fmt: skip
        yield from self.field(_("Department"), "department",
                              self._choice([(d, d) for d in self.departments], f.department))
        if self.all_owners:  # an agent reviews their own cases only
            yield from self.field(_("Owner"), "owner", self._choice(
                [(name, str(aid)) for aid, name in self.owners],
                str(f.owner_id) if f.owner_id is not None else None))  # fmt: skip
        breach = {None: None, True: "yes", False: "no"}[f.breached]
        yield from self.field(_("Clocks"), "breached", self._choice(
            [(_("breached"), "yes"), (_("kept"), "no")], breach))  # fmt: skip
        yield from self.field(_("Library"), "models",
                              Checkbox(_("model cases only"), f.models_only))

    @staticmethod
    def _choice(options: list[tuple[str, str]], value: str | None) -> Select[str]:
        known = {v for __, v in options}
        return Select(options, value=value if value in known else Select.NULL,
                      prompt=_("any"))  # fmt: skip

    def submit(self) -> CaseFilter:
        errors: dict[str, str] = {}
        date_from = _date(errors, "date_from", self.value("date_from"))
        date_to = _date(errors, "date_to", self.value("date_to"))
        if date_from and date_to and date_to < date_from:
            errors["date_to"] = _("The last day is before the first.")
        if errors:
            raise ValidationError(errors)
        owner = self.value("owner") if self.all_owners else ""
        return CaseFilter(
            date_from=date_from, date_to=date_to,
            category=self.value("category") or None, cause=self.value("cause") or None,
            department=self.value("department") or None,
            owner_id=int(owner) if owner else None,
            breached={"yes": True, "no": False}.get(self.value("breached")),
            models_only=self.flag("models"),
        )  # fmt: skip


class ClosedCasesScreen(DeskWorker, Screen[None]):
    """The closed complaints for the case review; Enter opens one (its whole history)."""

    BINDINGS = [
        Binding("f", "filter", N_("Filter"),
                tooltip=N_("Period, category, cause, department, owner, breached"),
                id="cases.filter"),
        Binding("right_square_bracket", "page(1)", N_("Next page"), tooltip=N_("The next page"),
                id="cases.next_page"),
        Binding("left_square_bracket", "page(-1)", N_("Prev page"),
                tooltip=N_("The previous page"), id="cases.prev_page"),
        Binding("r", "refresh", N_("Refresh"), tooltip=N_("Reload the list"), id="cases.refresh"),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the open complaints"),
                id="cases.back"),
    ]  # fmt: skip

    DEFAULT_CSS = """
    ClosedCasesScreen #cc-title { height: 1; width: 100%; background: $boost; padding: 0 1;
                                  text-style: bold; }
    ClosedCasesScreen #cc-filter { height: 1; width: 100%; color: $text-muted; padding: 0 1; }
    ClosedCasesScreen DataTable { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.policy = sla.Policy()
        self.filters = CaseFilter()
        self.rows: list[ClosedCase] = []
        self.page = 0

    def compose(self) -> ComposeResult:
        yield Label(_("Closed cases"), id="cc-title")
        yield Label("", id="cc-filter")
        yield SeatTable(id="cc-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.policy = self.clock_policy()
        today = self.services.today()
        self.filters = CaseFilter(date_from=today - timedelta(days=DEFAULT_DAYS - 1),
                                  date_to=today)  # fmt: skip
        table = self.query_one(DataTable)
        table.add_column("#", width=5, key="id")
        table.add_column(_("Customer"), width=12)
        table.add_column(_("Closed"), width=6)
        table.add_column(_("Category"), width=14)
        table.add_column(_("Cause"), width=12)
        table.add_column(_("Owner"), width=8)
        table.add_column(_("Clocks"), width=6)
        table.focus()
        self.load()

    def load(self) -> None:
        filters, policy, agent = self.filters, self.policy, self.seat_agent
        self.in_worker(lambda desk: desk.closed_cases(filters, policy, agent=agent), self._fill,
                       group="closed-cases")  # fmt: skip

    def _describe(self) -> str:
        f = self.filters
        period = (
            f"{f.date_from or '…'} – {f.date_to or '…'}"
            if f.date_from or f.date_to else _("closed at any time")
        )  # fmt: skip
        parts = [
            period,
            *([_(self.policy.category_label(f.category))] if f.category else []),
            *([_(self.policy.cause_label(f.cause))] if f.cause else []),
            *([f.department] if f.department else []),
            *([_("breached")] if f.breached is True else []),
            *([_("kept")] if f.breached is False else []),
            *([_("model cases only")] if f.models_only else []),
        ]
        return " · ".join(parts) + " · " + _("f filters")

    def _fill(self, rows: list[ClosedCase]) -> None:
        self.rows = rows
        pages = max(1, -(-len(rows) // PAGE))
        self.page = min(self.page, pages - 1)
        self.query_one("#cc-title", Label).update(
            _("Closed cases") + f" · {len(rows)} · "
            + _("page {n}/{pages}").format(n=self.page + 1, pages=pages)
        )
        self.query_one("#cc-filter", Label).update(self._describe())
        desk = self.services
        table = self.query_one(DataTable)
        table.clear()
        for r in rows[self.page * PAGE : (self.page + 1) * PAGE]:
            category = _(self.policy.category_label(r.category)) if r.category else "-"
            cause = _(self.policy.cause_label(r.cause)) if r.cause else "-"
            table.add_row(
                ("★" if r.model else "") + str(r.id),
                fit(Text(r.customer_name, no_wrap=True, overflow="ellipsis"), 12),
                f"{desk.local(r.closed_at):%m-%d}",
                fit(Text(category, no_wrap=True, overflow="ellipsis"), 14),
                fit(Text(cause, no_wrap=True, overflow="ellipsis"), 12),
                fit(Text(r.owner, no_wrap=True, overflow="ellipsis"), 8),
                Text(_("✗ late"), "red") if r.breached else Text(_("✓ kept"), "green"),
                key=str(r.id),
            )  # fmt: skip
        if not rows:
            self.query_one("#cc-title", Label).update(_("Closed cases: none (f filters)"))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "page" and parameters:
            target = self.page + int(parameters[0])  # type: ignore[call-overload]
            return 0 <= target and target * PAGE < len(self.rows)
        return True

    def action_page(self, step: int) -> None:
        target = self.page + step
        if 0 <= target and target * PAGE < len(self.rows):
            self.page = target
            self._fill(self.rows)

    def action_filter(self) -> None:
        agent = self.seat_agent

        def shown(choices: tuple[list[tuple[int, str]], list[str]]) -> None:
            owners, departments = choices
            form = CaseFilterForm(self.filters, self.policy, owners=owners,
                                  departments=departments,
                                  all_owners=roles.may(agent, roles.ALL_COMPLAINTS))  # fmt: skip
            self.app.push_screen(form, self._filtered)

        self.in_worker(lambda desk: desk.case_filter_choices(), shown, group="case-filter",
                       move=True)  # fmt: skip

    def _filtered(self, filters: CaseFilter | None) -> None:
        if filters is not None:
            self.filters = filters
            self.page = 0
            self.load()

    def action_refresh(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.app.push_screen(ComplaintScreen(int(event.row_key.value)), self._back_here)

    def _back_here(self, _result: Any) -> None:
        self.load()


"""Quality spot-checks (质检抽查): a month, its agents, an agent's sample, a call's score form.

`[` and `]` pick the month; Enter on an agent opens their sample (`d` draws it: reproducible,
at least the policy's share of each need, seat.quality); Enter on a call opens its score
form: `y` met, `n` not met, `x` not applicable (space turns an item round), comments below,
ctrl+s saves. `p` plays the call's recording with the configured player.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static, TextArea

from seat import labels, roles
from seat.errors import ValidationError
from seat.i18n import N_, _, format_datetime
from seat.labels import label
from seat.quality import (
    AgentQuality,
    FormItem,
    ItemSums,
    Period,
    SampleRow,
    ScoreForm,
    StaleSample,
    percent,
)
from seat.screens.background import DeskWorker
from seat.screens.confirm import ConfirmScreen
from seat.services import StorageError
from seat.sla import PolicyError
from seat.textguard import shown
from seat.widgets.lines import fit_text
from seat.widgets.table import SeatTable

STAGE_CELLS = 16
"""A stage's title is cut to this on the score form (the item's text gets the rest)."""
MARKS = {1: N_("met"), 0: N_("not met"), None: N_("n/a")}
NEXT_MARK = {1: 0, 0: None, None: 1}
"""Space turns an item round: met -> not met -> not applicable -> met."""


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:g} %"


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = int(round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def _refused(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.errors.values())
    return str(exc)


def _allowed(screen: Screen) -> bool:
    """Only who may score opens these screens (the desk offers the agent's own scores): for
    anyone else the screen says why and closes."""
    if roles.may(getattr(screen.app, "agent", None), roles.QUALITY_SCORE):
        return True
    screen.notify(roles.refusal(roles.QUALITY_SCORE), title=_("Supervisor only"),
                  severity="error")  # fmt: skip

    def leave() -> None:
        screen.dismiss(None)

    screen.call_after_refresh(leave)
    return False


class QualityScreen(DeskWorker, Screen[None]):
    """The agents of a month: calls, sampled, scored, the average score."""

    BINDINGS = [
        Binding("left_square_bracket", "month(1)", N_("Earlier"),
                tooltip=N_("The month before"), id="quality.earlier"),
        Binding("right_square_bracket", "month(-1)", N_("Later"),
                tooltip=N_("The month after"), id="quality.later"),
        Binding("ctrl+r", "reload", N_("Reload"), tooltip=N_("Read the numbers again"),
                id="quality.reload", show=False),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the desk"), id="quality.back"),
    ]  # fmt: skip

    DEFAULT_CSS = """
    QualityScreen #q-title { height: 1; padding: 0 1; background: $boost; width: 100%;
                             text-style: bold; }
    QualityScreen #q-help { height: auto; padding: 0 1; color: $text-muted; }
    QualityScreen #q-agents { height: 1fr; }
    QualityScreen #q-items-title { height: 1; padding: 0 1; text-style: bold; }
    QualityScreen #q-items { height: 1fr; }
    QualityScreen #q-status { height: 1; padding: 0 1; color: $text-muted; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.periods: list[Period] = []
        self.at = 0
        self.rows: list[AgentQuality] = []

    def compose(self) -> ComposeResult:
        yield Label("", id="q-title")
        yield Static(_("Enter opens an agent's sample · tab: the checklist items · "
                       "[ ] earlier or later month"), id="q-help")  # fmt: skip
        yield SeatTable(id="q-agents", zebra_stripes=True, cursor_type="row")
        yield Label(_("Per checklist item (scored calls)"), id="q-items-title")
        yield SeatTable(id="q-items", zebra_stripes=True, cursor_type="row")
        yield Label("", id="q-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if not _allowed(self):
            return
        table = self.query_one("#q-agents", DataTable)
        for heading in (N_("Agent"), N_("Calls"), N_("Sampled"), N_("Scored"), N_("Average")):
            table.add_column(_(heading))
        items = self.query_one("#q-items", DataTable)
        for heading in (N_("Met %"), N_("Met"), N_("Not met"), N_("N/a")):
            items.add_column(_(heading))
        items.add_column(_("Item"), key="Item")
        table.focus()
        self.periods = self.services.quality_periods()
        self.load()

    @property
    def period(self) -> Period:
        return self.periods[self.at]

    def load(self) -> None:
        period, agent = self.period, self.seat_agent
        self.query_one("#q-title", Label).update(
            _("Quality spot-checks · {month}").format(month=period.label)
        )
        self.query_one("#q-status", Label).update(_("Counting…"))
        self.in_worker(lambda desk: desk.quality_overview(period, agent=agent), self._loaded,
                       refusals=(StorageError, roles.PermissionDenied))  # fmt: skip
        self.in_worker(lambda desk: desk.quality_items(period, agent=agent), self._items,
                       group="items", refusals=(StorageError, roles.PermissionDenied))  # fmt: skip

    def _items(self, rows: list[ItemSums]) -> None:
        table = self.query_one("#q-items", DataTable)
        table.clear()
        # The item's text last, cut to what the screen leaves it (the numbers never are).
        room = max(12, self.app.size.width - 4 - sum(
            c.get_render_width(table) for c in table.columns.values() if c.key.value != "Item"
        ))  # fmt: skip
        for r in rows:
            table.add_row(_percent(r.met_percent), r.met, r.not_met, r.not_applicable,
                          fit_text(shown(r.label), room), key=r.key)  # fmt: skip
        if not rows:
            table.add_row("", "", "", "", _("No call scored in this month."))

    def _loaded(self, rows: list[AgentQuality]) -> None:
        self.rows = rows
        table = self.query_one("#q-agents", DataTable)
        table.clear()
        for r in rows:
            table.add_row(shown(r.name), r.calls, r.sampled, r.scored, _percent(r.average),
                          key=str(r.agent_id))  # fmt: skip
        self.query_one("#q-status", Label).update(
            "" if rows else _("No calls in this month.")
        )

    @on(DataTable.RowSelected, "#q-agents")
    def _open(self, event: DataTable.RowSelected) -> None:
        agent_id = int(event.row_key.value or 0)
        name = next((r.name for r in self.rows if r.agent_id == agent_id), "")
        self.app.push_screen(QualitySampleScreen(agent_id, name, self.period),
                             lambda __: self.load())  # fmt: skip

    def action_month(self, step: int) -> None:
        at = self.at + step
        if not 0 <= at < len(self.periods):
            self.notify(_("No month further that way."), severity="warning")
            return
        self.at = at
        self.load()

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)


class QualitySampleScreen(DeskWorker, Screen[None]):
    """One agent's sample for a month."""

    BINDINGS = [
        Binding("d", "draw", N_("Draw"),
                tooltip=N_("Draw the sample (the policy's share of each need; the same "
                           "calls every time)"), id="quality.draw"),
        Binding("p", "play", N_("Recording"), tooltip=N_("Play the highlighted call's recording"),
                id="quality.play"),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the agents"),
                id="quality.sample_back"),
    ]  # fmt: skip

    DEFAULT_CSS = """
    QualitySampleScreen #qs-title { height: 1; padding: 0 1; background: $boost; width: 100%;
                                    text-style: bold; }
    QualitySampleScreen #qs-table { height: 1fr; }
    QualitySampleScreen #qs-status { height: auto; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, agent_id: int, name: str, period: Period) -> None:
        super().__init__()
        self.agent_id = agent_id
        self.agent_name = name
        self.period = period
        self.rows: list[SampleRow] = []

    def compose(self) -> ComposeResult:
        yield Label(
            _("Sample of {agent} · {month}").format(agent=shown(self.agent_name),
                                                    month=self.period.label),
            id="qs-title",
        )  # fmt: skip
        yield SeatTable(id="qs-table", zebra_stripes=True, cursor_type="row")
        yield Label("", id="qs-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if not _allowed(self):
            return
        table = self.query_one("#qs-table", DataTable)
        for heading in (N_("When"), N_("Kind"), N_("Need"), N_("Customer"), N_("Talk"),
                        N_("Recording"), N_("Score")):  # fmt: skip
            table.add_column(_(heading))
        table.focus()
        self.load(draw=False)

    def load(self, *, draw: bool) -> None:
        agent_id, period, me = self.agent_id, self.period, self.seat_agent
        self.in_worker(
            lambda desk: desk.quality_sample(agent_id, period, agent=me, draw=draw),
            self._loaded, group="sample", move=draw,
            refusals=(StorageError, PolicyError, roles.PermissionDenied),
        )  # fmt: skip

    def _loaded(self, rows: list[SampleRow]) -> None:
        self.rows = rows
        desk = self.services
        table = self.query_one("#qs-table", DataTable)
        table.clear()
        for r in rows:
            table.add_row(
                format_datetime(desk.local(r.started_at), "short"),
                label(labels.SAMPLE_KINDS, r.kind), label(labels.NEED_CHOICES, r.need),
                shown(r.customer) or "-", _minutes(r.talk_seconds),
                _("yes") if r.recording else "-", _percent(r.score) if r.scored_at else "-",
                key=str(r.sample_id),
            )  # fmt: skip
        scored = sum(1 for r in rows if r.scored_at)
        self.query_one("#qs-status", Label).update(
            _("{n} calls drawn, {scored} scored · Enter scores a call, p plays it").format(
                n=len(rows), scored=scored)
            if rows else _("No sample drawn yet: d draws it.")
        )  # fmt: skip

    def _highlighted(self) -> SampleRow | None:
        table = self.query_one("#qs-table", DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    @on(DataTable.RowSelected, "#qs-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        sample_id = int(event.row_key.value or 0)
        self.app.push_screen(ScoreScreen(sample_id), lambda __: self.load(draw=False))

    def action_draw(self) -> None:
        self.load(draw=True)

    def action_play(self) -> None:
        row = self._highlighted()
        if row is None:
            return
        call_id = row.call_id
        self.in_worker(
            lambda desk: desk.open_call_recording(call_id),
            lambda done: self.notify(
                done.message, severity="information" if done.started else "warning"
            ),
            group="recording",
        )

    def action_back(self) -> None:
        self.dismiss(None)


class ScoreScreen(DeskWorker, Screen[bool]):
    """A sampled call's score form. Dismisses with True when a score was saved."""

    BINDINGS = [
        Binding("y", "mark(1)", N_("Met"), tooltip=N_("The item was met"), id="score.met"),
        Binding("n", "mark(0)", N_("Not met"), tooltip=N_("The item was not met"),
                id="score.not_met"),
        Binding("x", "mark(-1)", N_("N/a"), tooltip=N_("The item does not apply to this call"),
                id="score.na"),
        Binding("space", "turn", N_("Turn"), tooltip=N_("Met, not met, not applicable in turn"),
                id="score.turn", show=False),
        Binding("p", "play", N_("Recording"), tooltip=N_("Play the call's recording"),
                id="score.play"),
        Binding("ctrl+s", "save", N_("Save"), tooltip=N_("Save the score and the comments"),
                id="score.save"),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the sample"), id="score.back"),
    ]  # fmt: skip

    DEFAULT_CSS = """
    ScoreScreen #sc-title { height: 1; padding: 0 1; background: $boost; width: 100%;
                            text-style: bold; }
    ScoreScreen #sc-call { height: auto; max-height: 6; padding: 0 1; }
    ScoreScreen #sc-items { height: 1fr; }
    ScoreScreen #sc-item { height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    ScoreScreen #sc-score { height: 1; padding: 0 1; text-style: bold; }
    ScoreScreen #sc-comments { height: 4; }
    ScoreScreen #sc-error { height: auto; padding: 0 1; color: $error; }
    """

    def __init__(self, sample_id: int) -> None:
        super().__init__()
        self.sample_id = sample_id
        self.form: ScoreForm | None = None
        self.marks: dict[str, int | None] = {}
        self.changed = False
        self._widths: dict[str, int] = {}

    def compose(self) -> ComposeResult:
        yield Label(_("Score form"), id="sc-title")
        yield Static("", id="sc-call")
        yield SeatTable(id="sc-items", zebra_stripes=True, cursor_type="row")
        yield Static("", id="sc-item")
        yield Label("", id="sc-score")
        yield Label(_("Comments (tab)"), classes="field-label")
        yield TextArea("", id="sc-comments")
        yield Label("", id="sc-error")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if not _allowed(self):
            return
        table = self.query_one("#sc-items", DataTable)
        # The mark first (an item's text may run past a narrow screen), wide enough for every
        # mark: the column is measured before any is changed.
        width = max(cell_len(_(word)) for word in (*MARKS.values(), N_("Mark")))
        table.add_column(_("Mark"), key="Mark", width=width)
        for heading in (N_("Ticked"), N_("Stage"), N_("Item")):
            table.add_column(_(heading), key=heading)
        table.focus()
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("mark", "turn") and self.focused is not None and not isinstance(
            self.focused, DataTable
        ):
            return False  # typing comments: y, n and x are letters there
        return True

    def load(self) -> None:
        sample_id, me = self.sample_id, self.seat_agent
        self.in_worker(
            lambda desk: desk.quality_form(sample_id, agent=me), self._loaded,
            refusals=(StorageError, ValidationError, roles.PermissionDenied),
        )  # fmt: skip

    def _loaded(self, form: ScoreForm) -> None:
        self.form = form
        self.marks = {i.key: i.mark for i in form.items}
        self.changed = False
        desk = self.services
        self.query_one("#sc-title", Label).update(
            _("Score form · {agent} · {when}").format(
                agent=shown(form.agent), when=format_datetime(desk.local(form.started_at), "short"))
        )  # fmt: skip
        stages = " · ".join(f"{shown(t)} {_minutes(s)}" for t, s in form.stage_seconds)
        lines = [
            _("{kind} · {need} · {outcome} · customer: {customer} · talk {talk} · "
              "recording: {recording}").format(
                kind=label(labels.SAMPLE_KINDS, form.kind),
                need=label(labels.NEED_CHOICES, form.need),
                outcome=label(labels.OUTCOMES, form.outcome),
                customer=shown(form.customer) or "-", talk=_minutes(form.talk_seconds),
                recording=_("yes (p plays it)") if form.recording else _("none")),
        ]  # fmt: skip
        if stages:
            lines.append(_("Time per stage: {stages}").format(stages=stages))
        if form.notes:
            lines.append(_("Notes: {notes}").format(notes=shown(form.notes).replace("\n", " / ")))
        self.query_one("#sc-call", Static).update("\n".join(lines))
        table = self.query_one("#sc-items", DataTable)
        table.clear()
        ticked = cell_len(_("Ticked"))  # wider than ✓, ✗ or -
        stages = max([cell_len(_("Stage")), cell_len(_("Manners")),
                      *(cell_len(shown(i.stage)) for i in form.items)])  # fmt: skip
        self._widths = {"Mark": table.columns["Mark"].width, "Ticked": ticked,
                        "Stage": min(stages, STAGE_CELLS)}  # fmt: skip
        for item in form.items:
            table.add_row(*self._cells(item), key=item.key)
        self.query_one("#sc-comments", TextArea).text = form.comments
        self._show_score()

    def _cells(self, item: FormItem) -> list[object]:
        """Mark, ticked, stage, item: the item's text cut to what the screen leaves it (the
        highlighted one is shown whole below the table)."""
        ticked = "-" if item.ticked is None else ("✓" if item.ticked else "✗")
        stage = shown(item.stage) if item.stage else _("Manners")
        others = 4 + sum(
            self._widths.get(key, 0) + 2 for key in ("Mark", "Ticked", "Stage")
        )  # fmt: skip
        room = max(12, self.app.size.width - others)
        return [_(MARKS[self.marks.get(item.key)]), ticked, fit_text(stage, STAGE_CELLS),
                fit_text(shown(item.label), room)]  # fmt: skip

    @on(DataTable.RowHighlighted, "#sc-items")
    def _highlighted_item(self, event: DataTable.RowHighlighted) -> None:
        row = event.cursor_row
        items = self.form.items if self.form is not None else ()
        self.query_one("#sc-item", Static).update(
            shown(items[row].label) if 0 <= row < len(items) else ""
        )

    def _show_score(self) -> None:
        got = percent(self.marks.values())
        state = _("saved") if self.form is not None and self.form.scored and not self.changed \
            else _("not saved")  # fmt: skip
        self.query_one("#sc-score", Label).update(
            _("Score: {score} ({state})").format(score=_percent(got), state=state)
        )

    def _set(self, mark: int | None) -> None:
        table = self.query_one("#sc-items", DataTable)
        if self.form is None or not 0 <= table.cursor_row < len(self.form.items):
            return
        item = self.form.items[table.cursor_row]
        self.marks[item.key] = mark
        self.changed = True
        table.update_cell(item.key, "Mark", _(MARKS[mark]))
        table.move_cursor(row=table.cursor_row + 1)
        self._show_score()

    def action_mark(self, mark: int) -> None:
        self._set(None if mark < 0 else mark)

    def action_turn(self) -> None:
        table = self.query_one("#sc-items", DataTable)
        if self.form is None or not 0 <= table.cursor_row < len(self.form.items):
            return
        key = self.form.items[table.cursor_row].key
        self._set(NEXT_MARK[self.marks.get(key)])

    @on(TextArea.Changed, "#sc-comments")
    def _typed(self) -> None:
        if self.form is not None and self.query_one("#sc-comments", TextArea).text != \
                self.form.comments:  # fmt: skip
            self.changed = True
            self._show_score()

    def action_save(self) -> None:
        form = self.form
        if form is None:
            return
        marks = [(i.key, i.label, self.marks.get(i.key)) for i in form.items]
        comments = self.query_one("#sc-comments", TextArea).text
        sample_id, version, me = form.sample_id, form.version, self.seat_agent
        self.query_one("#sc-error", Label).update("")

        def saved(score: float | None) -> None:
            self.changed = False
            self.notify(_("Score saved: {score}.").format(score=_percent(score)))
            self.dismiss(True)

        def refused(exc: Exception) -> None:
            self.query_one("#sc-error", Label).update(_refused(exc))
            if isinstance(exc, StaleSample):
                self.load()  # scored elsewhere meanwhile: show what is saved now

        self.in_worker(
            lambda desk: desk.score_quality(sample_id, version=version, marks=marks,
                                            comments=comments, agent=me),
            saved, group="score", move=True, failed=refused,
            refusals=(StorageError, ValidationError, roles.PermissionDenied),
        )  # fmt: skip

    def action_play(self) -> None:
        if self.form is None:
            return
        call_id = self.form.call_id
        self.in_worker(
            lambda desk: desk.open_call_recording(call_id),
            lambda done: self.notify(
                done.message, severity="information" if done.started else "warning"
            ),
            group="recording",
        )

    def action_back(self) -> None:
        if not self.changed:
            self.dismiss(False)
            return

        def decided(yes: bool | None) -> None:
            if yes:
                self.dismiss(False)

        self.app.push_screen(ConfirmScreen(_("Leave this form without saving the score?")),
                             decided)  # fmt: skip

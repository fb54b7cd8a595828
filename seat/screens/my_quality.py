"""An agent's own quality scores: each scored call, its score, the items not met and the
inspector's comments (seat.quality.own_scores)."""

from __future__ import annotations

from rich.cells import cell_len
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from seat import labels
from seat.i18n import N_, _, format_datetime
from seat.labels import label
from seat.quality import OwnScore
from seat.screens.background import DeskWorker
from seat.textguard import shown
from seat.widgets.lines import fit_text
from seat.widgets.table import SeatTable


def _missed(r: OwnScore) -> str:
    return "; ".join(shown(m) for m in r.missed) or "-"


def _comments(r: OwnScore) -> str:
    return shown(r.comments).replace("\n", " / ") or "-"


class MyQualityScreen(DeskWorker, Screen[None]):
    BINDINGS = [
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the desk"), id="my_quality.back"),
    ]

    DEFAULT_CSS = """
    MyQualityScreen #mq-title { height: 1; padding: 0 1; background: $boost; width: 100%;
                                text-style: bold; }
    MyQualityScreen #mq-table { height: 1fr; }
    MyQualityScreen #mq-detail { height: auto; max-height: 6; padding: 0 1; }
    MyQualityScreen #mq-status { height: auto; padding: 0 1; color: $text-muted; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[OwnScore] = []

    def compose(self) -> ComposeResult:
        yield Label(_("My quality scores"), id="mq-title")
        yield SeatTable(id="mq-table", zebra_stripes=True, cursor_type="row")
        yield Static("", id="mq-detail")
        yield Label("", id="mq-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#mq-table", DataTable)
        for heading in (N_("When"), N_("Need"), N_("Score"), N_("Not met"), N_("Comments")):
            table.add_column(_(heading))
        table.focus()
        agent_id = self.seat_agent.id
        self.in_worker(lambda desk: desk.own_quality_scores(agent_id), self._loaded)

    def _loaded(self, rows: list[OwnScore]) -> None:
        desk = self.services
        self.rows = rows
        table = self.query_one("#mq-table", DataTable)
        table.clear()
        when = [format_datetime(desk.local(r.started_at), "short") for r in rows]
        needs = [label(labels.NEED_CHOICES, r.need) for r in rows]
        # What was missed and the comments share what the screen leaves (cut with '…'; the
        # highlighted call is shown whole below the table).
        fixed = sum(
            max([cell_len(_(h)), *(cell_len(v) for v in values)]) + 2
            for h, values in ((N_("When"), when), (N_("Need"), needs), (N_("Score"), ["100 %"]))
        )  # fmt: skip
        room = max(20, self.app.size.width - 4 - fixed - 4)
        for r, w, n in zip(rows, when, needs, strict=True):
            table.add_row(
                w, n, "-" if r.score is None else f"{r.score:g} %",
                fit_text(_missed(r), room // 2), fit_text(_comments(r), room - room // 2),
            )
        self.query_one("#mq-status", Label).update(
            "" if rows else _("None of your calls was scored yet.")
        )

    @on(DataTable.RowHighlighted, "#mq-table")
    def _show(self, event: DataTable.RowHighlighted) -> None:
        row = event.cursor_row
        if not 0 <= row < len(self.rows):
            self.query_one("#mq-detail", Static).update("")
            return
        r = self.rows[row]
        self.query_one("#mq-detail", Static).update(
            _("Not met: {items}").format(items=_missed(r)) + "\n"
            + _("Comments: {text}").format(text=_comments(r))
        )

    def action_back(self) -> None:
        self.dismiss(None)

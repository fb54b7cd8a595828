"""An agent's own quality scores: each scored call, its score, the items not met and the
inspector's comments (seat.quality.own_scores)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label

from seat import labels
from seat.i18n import N_, _, format_datetime
from seat.labels import label
from seat.quality import OwnScore
from seat.screens.background import DeskWorker
from seat.textguard import shown
from seat.widgets.table import SeatTable


class MyQualityScreen(DeskWorker, Screen[None]):
    BINDINGS = [
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the desk"), id="my_quality.back"),
    ]

    DEFAULT_CSS = """
    MyQualityScreen #mq-title { height: 1; padding: 0 1; background: $boost; width: 100%;
                                text-style: bold; }
    MyQualityScreen #mq-table { height: 1fr; }
    MyQualityScreen #mq-status { height: auto; padding: 0 1; color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield Label(_("My quality scores"), id="mq-title")
        yield SeatTable(id="mq-table", zebra_stripes=True, cursor_type="row")
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
        table = self.query_one("#mq-table", DataTable)
        table.clear()
        for r in rows:
            table.add_row(
                format_datetime(desk.local(r.started_at), "short"),
                label(labels.NEED_CHOICES, r.need),
                "-" if r.score is None else f"{r.score:g} %",
                "; ".join(shown(m) for m in r.missed) or "-",
                shown(r.comments).replace("\n", " / ") or "-",
            )
        self.query_one("#mq-status", Label).update(
            "" if rows else _("None of your calls was scored yet.")
        )

    def action_back(self) -> None:
        self.dismiss(None)

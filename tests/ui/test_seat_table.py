"""A table's columns widen to their rows even when it was painted before it measured them.

Textual's DataTable measures new rows when it goes idle; a paint that came first (a busy
machine: the complaint statistics snapshot failed in CI one run in three) was kept in its line
cache and drawn again with the header-only widths: "Deliv" for "Delivery 送货"."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import DataTable

import seat
from seat.widgets.table import SeatTable

ROWS = [("Category", "Delivery 送货", "1"), ("Cause", "Delivery damage 运输损坏", "1")]


class OneTable(App[None]):
    CSS = "DataTable { height: 8; }"  # a fixed height, as on the seat's screens: no resize

    def __init__(self, table: DataTable) -> None:
        super().__init__()
        self.table = table

    def compose(self) -> ComposeResult:
        yield self.table


def _text(table: DataTable) -> list[str]:
    return [table.render_line(y).text for y in range(3)]


@pytest.mark.parametrize("kind", [SeatTable])
async def test_a_paint_before_measuring_does_not_keep_the_header_widths(kind) -> None:
    table = kind(id="t")
    app = OneTable(table)
    async with app.run_test(size=(80, 10)) as pilot:
        await pilot.pause()
        table.add_columns("Dimension", "Value", "Complaints")
        table.add_rows(ROWS)
        early = _text(table)  # painted before the idle pass: header widths
        assert "Delivery 送货" not in early[1]
        await pilot.pause()
        await pilot.pause()
        assert not table._new_rows and not table._require_update_dimensions
        late = _text(table)
        assert "Delivery 送货" in late[1]
        assert "Delivery damage 运输损坏" in late[2]


async def test_textual_alone_keeps_the_stale_lines() -> None:
    """The fault SeatTable guards against; when Textual fixes it, SeatTable can go."""
    table = DataTable(id="t")
    app = OneTable(table)
    async with app.run_test(size=(80, 10)) as pilot:
        await pilot.pause()
        table.add_columns("Dimension", "Value", "Complaints")
        table.add_rows(ROWS)
        _text(table)
        await pilot.pause()
        await pilot.pause()
        assert "Delivery 送货" not in _text(table)[1]


def test_every_table_of_the_seat_is_a_seat_table() -> None:
    package = Path(seat.__file__).parent
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "DataTable(" in path.read_text("utf-8") and path.name != "table.py"
    ]
    assert offenders == []

"""A wide (CJK) character stays whole where the edge of a widget behind it falls under it:
a toast over the sidebar's border showed "客户已  存" (Textual cut the toast's line at every
widget edge on that line and halved the character there)."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from seat.widgets import wide_cells

MESSAGE = "客户已保存客户已保存客户已保存"


class Split(App[None]):
    """Two panes side by side; a toast in Chinese over the edge between them."""

    def __init__(self, left: int) -> None:
        super().__init__()
        self.left = left

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Static("左" * 40, id="left")
            yield Static("右" * 40, id="right")

    def on_mount(self) -> None:
        self.query_one("#left").styles.width = self.left
        self.query_one("#right").styles.width = "1fr"
        for pane in self.query(Static):
            pane.styles.height = "100%"
        self.notify(MESSAGE, timeout=30)


def _lines(app: App[None]) -> list[str]:
    strips = app.screen._compositor.render_strips()
    return ["".join(segment.text for segment in strip) for strip in strips]


@pytest.fixture
def whole_characters():
    wide_cells.install()
    yield
    wide_cells.install()


@pytest.mark.parametrize("left", range(44, 58))
async def test_a_toast_over_an_edge_keeps_its_characters(whole_characters, left):
    app = Split(left)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        await pilot.pause(0.2)
        lines = _lines(app)
    assert any(MESSAGE in line for line in lines), "\n".join(lines)


async def test_without_the_fix_the_edge_halved_a_character(monkeypatch):
    """The defect itself, so the test above cannot pass for another reason."""
    from textual._compositor import Compositor

    monkeypatch.setattr(Compositor, "_render_chops", wide_cells.original())
    halved = 0
    for left in range(44, 58):
        app = Split(left)
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await pilot.pause()
            await pilot.pause(0.2)
            halved += not any(MESSAGE in line for line in _lines(app))
    assert halved > 0


async def test_a_character_half_covered_by_a_widget_in_front_is_still_cut():
    """Only the cuts inside one widget's own character are skipped: what is in front wins."""
    from rich.segment import Segment
    from textual.strip import Strip

    strip = Strip([Segment("ab中文cd")], 8)
    assert wide_cells.straddled(strip, [1, 2, 3, 4, 5, 6]) == {3, 5}


def test_the_seat_installs_it(make_seat, world):
    make_seat()
    assert wide_cells.installed()


# -- the seat itself: a Chinese toast over the sidebar's edge --------------------------------


def _customer_saved() -> str:
    from seat.i18n import ngettext

    return ngettext(
        "Customer saved: {n} change written to the history.",
        "Customer saved: {n} changes written to the history.",
        2,
    ).format(n=2)


async def _toast(pilot) -> None:
    from tests.ui.helpers import freeze

    await freeze(pilot)
    pilot.app.notify(_customer_saved(), timeout=60)
    await pilot.pause()
    await pilot.pause(0.3)


@pytest.fixture
def chinese_seat(make_seat, world):
    from seat import i18n

    i18n.set_language("zh_CN")
    yield make_seat()
    i18n.set_language("en")


@pytest.mark.parametrize("fixed", [True, False])
async def test_the_seats_chinese_toast_over_the_sidebar(chinese_seat, monkeypatch, fixed):
    from textual._compositor import Compositor

    app = chinese_seat
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        if not fixed:
            monkeypatch.setattr(Compositor, "_render_chops", wide_cells.original())
        await _toast(pilot)
        shown = "\n".join(_lines(app))
    message = _customer_saved()
    assert message.startswith("客户已保存")
    # The toast wraps its line; every character of it is on the screen, none halved.
    whole = all(part in shown for part in message.split("：", 1))
    assert whole is fixed, shown


def test_snapshot_chinese_toast_over_the_sidebar(snap_compare, chinese_seat):
    assert snap_compare(chinese_seat, terminal_size=(80, 24), run_before=_toast)

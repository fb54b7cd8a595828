"""The member analysis screen (m on the desk, supervisors): keys, numbers, snapshots."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session
from textual.widgets import DataTable, Label, Tabs

from seat import agents, i18n, members
from seat.models import Customer, Purchase
from seat.reports import members as member_report
from seat.screens.desk import DeskScreen
from seat.screens.supervisor.members import MembersScreen, window
from tests.conftest import NOW
from tests.ui.helpers import freeze, settle

POLICY_DIR = Path(__file__).resolve().parents[2] / "data" / "policy"
GENDERS = ("female", "male", None)


@pytest.fixture
def settings(settings):
    """The repository's policies (members.toml among them)."""
    return replace(settings, policy_dir=POLICY_DIR)


@pytest.fixture
def shop(engine, world) -> None:
    """Thirty customers buying on a known pattern over the fourteen months before today."""
    with Session(engine) as s:
        agents.ensure_agent(session=s, name="zhao.lei", display_name="Zhao Lei",
                            role="supervisor")  # fmt: skip
        for n in range(30):
            c = Customer(name=f"会员{n}" if n % 2 else f"Member {n}", gender=GENDERS[n % 3],
                         birthday=date(1960 + n, 1 + n % 12, 1) if n % 7 else None,
                         tier=("vip", "gold", "ordinary")[n % 3],
                         created_at=NOW - timedelta(days=800), updated_at=NOW)  # fmt: skip
            s.add(c)
            s.flush()
            for k in range(n % 6 + 1):
                days = (n * 37 + k * 53) % 420
                s.add(Purchase(customer_id=c.id, order_no=f"SO{n:03d}{k}", line_no=1,
                               item="Serum 30 ml", amount=100.0 * (n + 1) * (k + 1),
                               purchased_at=NOW - timedelta(days=days, hours=n)))  # fmt: skip
        s.commit()


def _rows(table: DataTable) -> list[list[str]]:
    return [list(map(str, table.get_row_at(i))) for i in range(table.row_count)]


async def test_keys_views_and_range(make_seat, engine, shop):
    app = make_seat("zhao.lei")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MembersScreen)
        first, last = window(date(2026, 11, 23))
        assert (first, last) == (date(2025, 12, 1), date(2026, 11, 23))
        with Session(engine) as s:
            expected = member_report.analyse(
                session=s, date_from=first, date_to=last, settings=app.desk.settings,
                now=NOW, policy=members.load_policy(app.desk.settings),
            )  # fmt: skip
        table = screen.query_one("#mb-table", DataTable)
        rows = _rows(table)
        assert [r[0] for r in rows] == [f"{m.month:%Y-%m}" for m in expected.months]
        assert [int(r[1]) for r in rows] == [m.new for m in expected.months]
        assert [int(r[4]) for r in rows] == [m.churned for m in expected.months]
        assert sum(m.churned for m in expected.months) > 0  # the pattern has churn to show
        for key, view, first_cell in (
            ("2", "spend", "0-500"), ("3", "gender", "female"), ("4", "age", "0-24"),
        ):
            await pilot.press(key)
            await settle(pilot)
            assert screen.query_one("#mb-tabs", Tabs).active == f"mb-{view}"
            assert _rows(table)[0][0] == first_cell
        await pilot.press("5")
        await settle(pilot)
        top = expected.top[0]
        assert _rows(table)[0][:2] == [str(top.customer_id), top.name]
        await pilot.press("m")  # the next view: back to the first
        await settle(pilot)
        assert screen.view == "months"
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.last == date(2025, 11, 30)
        assert "2024-12-01" in str(screen.query_one("#mb-range", Label).render())
        assert _rows(table)[0][0] == "2024-12"
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert screen.last == date(2026, 11, 23)
        await pilot.press("right_square_bracket")  # already today: said, nothing moves
        await settle(pilot)
        assert screen.last == date(2026, 11, 23)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)


async def test_an_agent_is_refused(make_seat, shop):
    app = make_seat("li.na")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        assert any("Only a supervisor can open the member analysis" in str(n.message)
                   for n in app._notifications)  # fmt: skip


# -- snapshots (plain tests: snap_compare runs its own event loop) ------------------------------


async def _open(pilot) -> None:
    await freeze(pilot)
    await pilot.press("m")
    await freeze(pilot)


@pytest.fixture
def chinese():
    i18n.set_language("zh_CN")
    try:
        yield
    finally:
        i18n.set_language("en")


def test_member_analysis_at_120x40(snap_compare, make_seat, shop):
    assert snap_compare(make_seat("zhao.lei"), terminal_size=(120, 40), run_before=_open)


def test_member_analysis_spend_at_80x24(snap_compare, make_seat, shop):
    async def run_before(pilot):
        await _open(pilot)
        await pilot.press("2")
        await freeze(pilot)

    assert snap_compare(make_seat("zhao.lei"), terminal_size=(80, 24), run_before=run_before)


def test_member_analysis_in_chinese_at_120x40(snap_compare, make_seat, shop, chinese):
    assert snap_compare(make_seat("zhao.lei"), terminal_size=(120, 40), run_before=_open)
    assert i18n.language() == "zh_CN"

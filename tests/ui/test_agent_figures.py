"""The agent-figure screen (a on a supervisor's desk): each agent's figures, by keys."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select
from textual.widgets import DataTable, Label, Tabs

from seat import agents, i18n, repeats
from seat.models import Agent, Call
from seat.screens.desk import DeskScreen
from seat.screens.supervisor.agent_figures import AgentFiguresScreen
from tests.ui.helpers import freeze, settle

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 23)
NUMBERS = ("+8613800138000", "+8613912345678", "+8613700000001")
NEEDS = ("repair", "inquiry", "complaint")


@pytest.fixture
def history(engine, world) -> None:
    """Twelve weeks of calls for two agents: talk, wrap-up, scores, repeat callers."""
    with Session(engine) as s:
        agents.ensure_agent(session=s, name="zhao.lei", display_name="Zhao Lei",
                            role="supervisor")  # fmt: skip
        agent_ids = (world["li"], world["wang"])
        for back in range(84):
            morning = datetime(2026, 11, 23, 1, tzinfo=UTC) - timedelta(days=back)
            for n in range((back * 5) % 4 + 1):
                start = morning + timedelta(minutes=41 * n)
                wrapup = start + timedelta(minutes=3 + (back + n) % 5)
                call = Call(
                    agent_id=agent_ids[(back + n) % 2], customer_id=world["fang"],
                    from_number=NUMBERS[(back + n) % 3], need_category=NEEDS[back % 3],
                    started_at=start, wrapup_at=wrapup,
                    ended_at=wrapup + timedelta(seconds=30 + 10 * (n % 4)),
                    satisfaction=(5 - (back + n) % 4) if n % 2 == 0 else None,
                )  # fmt: skip
                s.add(call)
                s.flush()
                repeats.mark(session=s, call=call)
        s.commit()


@pytest.fixture
def chinese() -> Iterator[None]:
    i18n.set_language("zh_CN")
    try:
        yield
    finally:
        i18n.set_language("en")


def _rows(table: DataTable) -> list[list[str]]:
    return [list(map(str, table.get_row_at(i))) for i in range(table.row_count)]


# -- snapshots -------------------------------------------------------------------------------


# By week and month: by day, plotext may place the x labels a column apart depending on the
# process's string hashing (it drops duplicate ticks through a set).
@pytest.mark.parametrize(("size", "keys"), [((80, 24), ("d",)), ((120, 40), ("d", "3"))],
                         ids=["80x24-weekly-calls", "120x40-weekly-fcr"])  # fmt: skip
def test_agent_figures(snap_compare, make_seat, history, size, keys):
    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("a")
        await freeze(pilot)
        if keys:
            await pilot.press(*keys)
            await freeze(pilot)

    assert snap_compare(make_seat("zhao.lei"), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize(("size", "keys"), [((80, 24), ("d",)), ((120, 40), ("d", "d", "4"))],
                         ids=["80x24-weekly-calls", "120x40-monthly-satisfaction"])  # fmt: skip
def test_agent_figures_in_chinese(snap_compare, make_seat, history, chinese, size, keys):
    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("a")
        await freeze(pilot)
        if keys:
            await pilot.press(*keys)
            await freeze(pilot)

    assert snap_compare(make_seat("zhao.lei"), terminal_size=size, run_before=run_before)


# -- keys against the database ---------------------------------------------------------------


async def test_keys_switch_figure_step_and_range(make_seat, engine, history):
    with Session(engine) as s:
        names = {a.id: a.display_name for a in s.exec(select(Agent))}
        calls = list(s.exec(select(Call.agent_id, Call.started_at, Call.repeated)))

    def counted(first: date, last: date) -> Counter[str]:
        return Counter(
            names[a] for a, at, __ in calls if first <= at.astimezone(SHANGHAI).date() <= last
        )

    app = make_seat("zhao.lei")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AgentFiguresScreen)
        table = screen.query_one("#af-table", DataTable)
        title = screen.query_one("#af-range", Label)

        # Opens on the 28 days up to today: a row per agent, calls as the database has them.
        first = TODAY - timedelta(days=27)
        want = counted(first, TODAY)
        rows = _rows(table)
        shown = {r[0]: int(r[1]) for r in rows[:-1] if r[1] != "0"}
        assert shown == dict(want)
        assert rows[-1][:2] == ["Total", str(sum(want.values()))]
        assert "Agent figures by day" in str(title.render())

        # 3: first-contact resolution; the total's share is the calls not repeated.
        await pilot.press("3")
        await settle(pilot)
        assert screen.query_one(Tabs).active == "af-fcr"
        judged = [r for a, at, r in calls
                  if first <= at.astimezone(SHANGHAI).date() <= TODAY]  # fmt: skip
        share = round(100 * judged.count(False) / len(judged), 1)
        headers = [str(c.label) for c in table.columns.values()]
        assert _rows(table)[-1][headers.index("FCR %")] == str(share)

        # d twice: by month, the twelve months up to today; [: the twelve before.
        await pilot.press("d", "d")
        await settle(pilot)
        assert "by month" in str(title.render())
        assert _rows(table)[-1][1] == str(sum(counted(date(2025, 12, 1), TODAY).values()))
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert "2024" in str(title.render()) and _rows(table)[-1][1] == "0"
        await pilot.press("right_square_bracket")
        await settle(pilot)
        await pilot.press("right_square_bracket")  # already at today: nothing moves
        await settle(pilot)
        assert _rows(table)[-1][1] == str(sum(counted(date(2025, 12, 1), TODAY).values()))

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)


async def test_an_agent_is_told_the_figures_are_a_supervisors(make_seat, history):
    app = make_seat("li.na")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        assert any("Only a supervisor" in str(n.message) for n in app._notifications)

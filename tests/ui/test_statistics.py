"""The statistics screen (g on the desk): charts and tables of the trends, by keys."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from rich.cells import cell_len
from sqlmodel import Session, select
from textual.widgets import DataTable, Label, Tabs

from seat import agents, i18n
from seat.models import Call, Callback, Complaint
from seat.screens.supervisor.statistics import StatisticsScreen, _legend
from tests.conftest import NOW
from tests.ui.helpers import freeze, settle

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 23)
CATEGORIES = ("delivery", "service_attitude", "product_quality", None)


@pytest.fixture
def history(engine, world) -> None:
    """Twelve weeks of calls, complaints and callbacks, a known pattern on every day."""
    with Session(engine) as s:
        agents.ensure_agent(session=s, name="zhao.lei", display_name="Zhao Lei",
                            role="supervisor")  # fmt: skip
        agent_ids = (world["li"], world["wang"])
        for back in range(84):
            # 09:00 in Shanghai on the day `back` days before today.
            morning = datetime(2026, 11, 23, 1, tzinfo=UTC) - timedelta(days=back)
            for n in range((back * 7) % 6 + 1):
                start = morning + timedelta(minutes=37 * n)
                s.add(Call(agent_id=agent_ids[n % 2], customer_id=world["fang"],
                           started_at=start, ended_at=start + timedelta(minutes=3 + (back + n) % 5),
                           satisfaction=(5 - (back + n) % 3) if n % 2 == 0 else None))  # fmt: skip
            if back % 3 == 0:
                s.add(Complaint(customer_id=world["min"], owner_id=world["li"],
                                what_happened="x", customer_wants="y", created_at=morning,
                                category=CATEGORIES[back % 4]))  # fmt: skip
            if back % 2 == 0 and back:
                s.add(Callback(customer_id=world["tom"], owner_id=world["wang"], reason="r",
                               due_at=morning, created_at=morning - timedelta(days=3),
                               status="done" if back % 4 == 0 else "open"))  # fmt: skip
        s.commit()


def _rows(table: DataTable) -> list[list[str]]:
    return [list(map(str, table.get_row_at(i))) for i in range(table.row_count)]


def _local_days(values: list[datetime]) -> Counter[date]:
    return Counter(v.astimezone(SHANGHAI).date() for v in values)


def _within(days: Counter[date], first: date, last: date) -> int:
    return sum(n for d, n in days.items() if first <= d <= last)


# -- snapshots -------------------------------------------------------------------------------


def test_statistics_at_80x24(snap_compare, make_seat, history):
    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("g")
        await freeze(pilot)

    assert snap_compare(make_seat("zhao.lei"), terminal_size=(80, 24), run_before=run_before)


def test_weekly_complaints_at_120x40(snap_compare, make_seat, history):
    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("g")
        await freeze(pilot)
        await pilot.press("d", "2")
        await freeze(pilot)

    assert snap_compare(make_seat("zhao.lei"), terminal_size=(120, 40), run_before=run_before)


@pytest.fixture
def chinese() -> Iterator[None]:
    """The seat in Simplified Chinese for one test; English again afterwards."""
    i18n.set_language("zh_CN")
    try:
        yield
    finally:
        i18n.set_language("en")


# Complaints by week: by day, plotext may place the last two x labels one column apart
# depending on the process's string hashing (it drops duplicate ticks through a set).
@pytest.mark.parametrize("keys", [(), ("d", "2")], ids=["calls", "weekly-complaints"])
def test_statistics_in_chinese_at_80x24(snap_compare, make_seat, history, chinese, keys):
    """Headings, footer and legend in Chinese; CJK category columns line up by cell width."""

    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("g")
        await freeze(pilot)
        if keys:
            await pilot.press(*keys)
            await freeze(pilot)

    assert snap_compare(make_seat("zhao.lei"), terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize(
    ("width", "lines"),
    [
        (60, ["■ 产品质量 Product quality   ■ 服务态度   ■ Delivery 送货",
              "■ （未分类）   "]),  # the last line keeps its spacing, as before
        (30, ["■ 产品质量 Product quality", "■ 服务态度   ■ Delivery 送货",
              "■ （未分类）   "]),
        (200, ["■ 产品质量 Product quality   ■ 服务态度   ■ Delivery 送货   ■ （未分类）   "]),
    ],
)  # fmt: skip
def test_legend_breaks_between_entries_by_cell_width(width: int, lines: list[str]) -> None:
    names = ["产品质量 Product quality", "服务态度", "Delivery 送货", "（未分类）"]
    text = _legend([(n, (1, 2, 3)) for n in names], width)
    assert text.plain.split("\n") == lines
    assert all(cell_len(line.rstrip()) <= width for line in lines)


# -- keys against the database ---------------------------------------------------------------


async def test_keys_switch_measure_step_and_range(make_seat, engine, history):
    with Session(engine) as s:
        call_days = _local_days(list(s.exec(select(Call.started_at))))
        complaint_days = _local_days(list(s.exec(select(Complaint.created_at))))
        callbacks = list(s.exec(select(Callback.due_at, Callback.status)))
        scores = list(s.exec(select(Call.started_at, Call.satisfaction)))
    app = make_seat("zhao.lei")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StatisticsScreen)
        table = screen.query_one("#tr-table", DataTable)
        title = screen.query_one("#tr-range", Label)

        # Opens on calls by day, the 28 days up to today.
        rows = _rows(table)
        assert len(rows) == 28 + 1
        first = TODAY - timedelta(days=27)
        assert rows[0][0] == first.isoformat() and rows[-2][0] == TODAY.isoformat()
        for row in rows[:-1]:
            assert int(row[1]) == call_days[date.fromisoformat(row[0])]
        want = _within(call_days, first, TODAY)
        assert rows[-1][:2] == ["Total", str(want)]
        assert "Calls by day" in str(title.render())

        # 2: complaints by category; the total row counts the complaints of the range.
        await pilot.press("2")
        await settle(pilot)
        assert screen.query_one(Tabs).active == "tr-complaints"
        rows = _rows(table)
        want = _within(complaint_days, first, TODAY)
        assert rows[-1][0] == "Total" and rows[-1][-1] == str(want)
        headers = [str(c.label) for c in table.columns.values()]
        assert headers[0] == "Day" and "(not classified)" in headers

        # d: by week; twelve Monday weeks, this one cut at today.
        await pilot.press("d")
        await settle(pilot)
        rows = _rows(table)
        assert len(rows) == 12 + 1
        assert rows[0][0] == "2026-09-07" and rows[-2][0] == "2026-11-23"
        weeks = (date(2026, 9, 7), TODAY)
        assert rows[-1][-1] == str(_within(complaint_days, *weeks))

        # [: the twelve weeks before; ]: back; ] again: already at today, nothing moves.
        await pilot.press("left_square_bracket")
        await settle(pilot)
        rows = _rows(table)
        assert rows[0][0] == "2026-06-15" and rows[-2][0] == "2026-08-31"
        assert rows[-1][-1] == str(_within(complaint_days, date(2026, 6, 15), date(2026, 9, 6)))
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert _rows(table)[-2][0] == "2026-11-23"
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert _rows(table)[-2][0] == "2026-11-23"

        # 3: callbacks due by now in the twelve weeks, done of due.
        await pilot.press("3")
        await settle(pilot)
        due = [
            st for at, st in callbacks
            if at < NOW and st != "cancelled" and at.astimezone(SHANGHAI).date() >= weeks[0]
        ]  # fmt: skip
        done = sum(st == "done" for st in due)
        total = _rows(table)[-1]
        assert total[:3] == ["Total", str(len(due)), str(done)]
        assert total[3] == str(round(100 * done / len(due), 1))

        # m cycles on to satisfaction; the average matches the scores given.
        await pilot.press("m")
        await settle(pilot)
        assert screen.measure == "satisfaction"
        given = [v for at, v in scores
                 if v is not None and at.astimezone(SHANGHAI).date() >= weeks[0]]  # fmt: skip
        assert _rows(table)[-1] == ["Total", str(len(given)),
                                    str(round(sum(given) / len(given), 2))]  # fmt: skip

        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, StatisticsScreen)

"""The daily work plan (工作计划表): which open orders are on a local day, in what order."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from seat import agents, workplan
from seat.cli import main
from seat.export import to_txt
from seat.models import WorkOrder, WorkOrderLine
from tests.conftest import NOW

SH = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 11, 23)  # NOW is Monday 10:00 in Shanghai


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)


@pytest.fixture
def plan_world(engine, world) -> dict[str, int]:
    """The world's orders (Li Na: 1 due Tue, 2 urgent due Mon 14:00, 3 overdue since Sun)
    and more around Monday's edges."""
    ids = dict(world)
    with Session(engine) as s:
        zhou = agents.ensure_agent(session=s, name="zhou.qi")
        ids["zhou"] = zhou.id

        def add(name: str, **kw) -> None:
            fields = {
                "kind": "service_request", "short_text": name, "customer_id": world["min"],
                "assignee_id": world["li"], "created_at": NOW - timedelta(days=2), **kw,
            }
            wo = WorkOrder(**fields)
            s.add(wo)
            s.flush()
            ids[name] = wo.id

        add("starts Monday 15:00", requested_start=local(23, 15), due_at=local(25, 18),
            work_center="SH-INSTALL")
        add("due Monday 23:30", due_at=local(23, 23, 30))
        add("due Tuesday 00:30", due_at=local(24, 0, 30))
        add("closed Monday", due_at=local(23, 16), status="closed")
        add("in process Monday", due_at=local(23, 9), status="survey_done",
            work_center="SH-REPAIR")
        add("Wang's Monday", due_at=local(23, 11), assignee_id=world["wang"],
            work_center="SH-REPAIR", urgent=True)
        add("nobody's Monday", due_at=local(23, 12), assignee_id=None)
        add("Zhou starts Tuesday", requested_start=local(24, 9), due_at=local(26, 9),
            assignee_id=zhou.id)
        s.add(WorkOrderLine(work_order_id=ids["due Monday 23:30"], material="door seal",
                            quantity=2))
        s.add(WorkOrderLine(work_order_id=ids["due Monday 23:30"], material="grease",
                            quantity=0.5, unit="tube"))
        s.commit()
    return ids


def _plan(session, settings, *, day=MONDAY, assignee=None, work_center=None):
    return workplan.tables(session=session, day=day, assignee=assignee,
                           work_center=work_center, settings=settings)


def _ids(table) -> list[int]:
    return [row[0] for row in table.rows]


def test_a_technicians_day_urgent_first_then_by_time(session, settings, plan_world):
    [table] = _plan(session, settings, assignee="li.na")
    w = plan_world
    assert _ids(table) == [
        2,  # urgent, due 14:00
        3,  # overdue since Sunday 10:00
        w["in process Monday"],  # 09:00
        w["starts Monday 15:00"],  # planned by its requested start
        w["due Monday 23:30"],
    ]
    assert "Li Na (li.na)" in table.title and "2026-11-23" in table.title
    assert table.meta == {"date": MONDAY, "technician": "Li Na (li.na)", "work_center": "",
                          "orders": 5, "urgent": 1}


def test_cells_carry_what_the_technician_needs(session, settings, plan_world):
    [table] = _plan(session, settings, assignee="li.na")
    h = {name: i for i, name in enumerate(workplan.HEADERS)}
    rows = {row[0]: row for row in table.rows}
    urgent = rows[2]
    assert urgent[h["Urgent"]] == "‼"
    assert urgent[h["Expected end"]] == "14:00"
    assert urgent[h["Customer"]] == "Wang Fang"
    assert urgent[h["Phone"]] == "138 0013 8000"
    assert urgent[h["Service address"]] == ""
    assert urgent[h["Job"]] == "Sofa cover torn on delivery (delivery exception)"
    assert rows[3][h["Expected end"]] == "11-22 10:00 overdue"
    started = rows[plan_world["starts Monday 15:00"]]
    assert started[h["Start"]] == "15:00" and started[h["Expected end"]] == "11-25 18:00"
    assert started[h["Work center"]] == "SH-INSTALL"
    late_night = rows[plan_world["due Monday 23:30"]]
    assert late_night[h["Materials"]] == "door seal × 2 pc; grease × 0.5 tube"
    assert late_night[h["Technician"]] == "Li Na"


def test_the_local_day_decides_not_the_utc_day(session, settings, plan_world):
    monday = _ids(_plan(session, settings, assignee="li.na")[0])
    tuesday = _ids(_plan(session, settings, assignee="li.na", day=MONDAY + timedelta(1))[0])
    assert plan_world["due Tuesday 00:30"] not in monday
    assert plan_world["due Tuesday 00:30"] in tuesday
    assert 1 in tuesday and 1 not in monday  # due Tuesday 10:00
    assert plan_world["closed Monday"] not in monday + tuesday
    # Still open on Tuesday, so the Monday orders come back as overdue.
    assert {2, 3, plan_world["due Monday 23:30"]} <= set(tuesday)


def test_everyone_gets_a_table_each_and_the_unassigned_last(session, settings, plan_world):
    tables = _plan(session, settings)
    assert [t.meta["technician"] for t in tables] == ["Li Na", "Wang Wei", "unassigned"]
    assert _ids(tables[1]) == [plan_world["Wang's Monday"]]
    assert _ids(tables[2]) == [plan_world["nobody's Monday"]]
    zhou = _plan(session, settings, day=MONDAY + timedelta(1))
    assert "Zhou Qi" in [t.meta["technician"] for t in zhou]


def test_a_work_centers_day(session, settings, plan_world):
    [table] = _plan(session, settings, work_center="SH-REPAIR")
    assert _ids(table) == [plan_world["Wang's Monday"], plan_world["in process Monday"]]
    assert table.meta["technician"] == "work center SH-REPAIR"
    [mine] = _plan(session, settings, assignee="li.na", work_center="SH-REPAIR")
    assert _ids(mine) == [plan_world["in process Monday"]]


def test_an_empty_day_is_one_empty_table(session, settings, plan_world):
    [table] = _plan(session, settings, assignee="zhou.qi")
    assert table.rows == [] and table.meta["orders"] == 0
    assert "Work plan" in to_txt([table])


def test_unknown_technician(session, settings, plan_world):
    with pytest.raises(LookupError, match="No agent with login nobody"):
        _plan(session, settings, assignee="nobody")


def test_the_command_prints_csv_and_txt(db_url, plan_world, capsys, cli_token):
    cli_token(db_url)  # a supervisor's printout: addresses whole
    assert main(["workplan", "--date", "2026-11-23", "--assignee", "li.na",
                 "--format", "csv", "--db", db_url]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == workplan.HEADERS
    assert [int(r[0]) for r in rows[1:]][:2] == [2, 3]
    assert main(["workplan", "--date", "2026-11-23", "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert "工作计划表 Work plan 2026-11-23 · Li Na" in out and "· unassigned" in out
    assert main(["workplan", "--date", "2026-11-23", "--assignee", "ghost", "--db",
                 db_url]) == 2
    assert "No agent with login ghost" in capsys.readouterr().err


def test_the_plan_limit(session, settings, plan_world):
    tables = workplan.tables(session=session, day=MONDAY, assignee="li.na", work_center=None,
                             settings=settings, limit=2)
    assert _ids(tables[0]) == [2, 3]


@pytest.mark.parametrize(
    ("names", "who"),
    [
        (["due Monday 23:30", "Wang's Monday"], "min"),
        ([], None),
    ],
)
def test_customers_of_the_plans_orders(session, plan_world, names, who):
    ids = [plan_world[n] for n in names]
    got = workplan.customers_of(session=session, work_order_ids=ids + [10**6])  # one unknown
    assert got == {i: plan_world[who] for i in ids}


@pytest.mark.parametrize(
    ("now", "late"),
    [
        (None, {3}),  # the printed plan: overdue by the day only
        (local(23, 8), {3}),  # before the in-process order's 09:00: not late yet
        (local(23, 9, 30), {3, "in process Monday"}),  # read at 09:30: late now
        (local(23, 14, 1), {2, 3, "in process Monday"}),  # urgent 14:00 passed too
        (local(22, 12), {3}),  # read the day before: overdue by the plan's day
    ],
)
def test_an_order_due_before_now_is_marked_overdue(session, settings, plan_world, now, late):
    [table] = workplan.tables(session=session, day=MONDAY, assignee="li.na",
                              work_center=None, settings=settings, now=now)  # fmt: skip
    h = {name: i for i, name in enumerate(workplan.HEADERS)}
    marked = {row[0] for row in table.rows if str(row[h["Expected end"]]).endswith("overdue")}
    assert marked == {plan_world[x] if isinstance(x, str) else x for x in late}

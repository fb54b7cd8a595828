"""The callback report: per kind, per agent, scores, coverage of members; and its commands."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session

from seat.callbacks import CallbackPolicy, schedule
from seat.cli import main
from seat.models import Callback, Complaint, Customer, WorkOrder, WorkOrderEvent
from seat.reports import callbacks as report
from tests.conftest import NOW

FROM, TO = date(2026, 11, 1), date(2026, 11, 23)
DAY = timedelta(days=1)


def _cb(s: Session, world, who: str, owner: str, kind: str, due: datetime, **kw) -> Callback:
    cb = Callback(
        customer_id=world[who],
        owner_id=world[owner],
        kind=kind,
        reason="r",
        due_at=due,
        created_at=due - 3 * DAY,
        **kw,
    )
    s.add(cb)
    s.flush()
    return cb


@pytest.fixture
def month(session, world) -> dict[str, int]:
    """A month of callbacks around the fixture world (see the expected tables below)."""
    s = session
    _cb(
        s,
        world,
        "fang",
        "li",
        "satisfaction",
        NOW - 2 * DAY,
        status="done",
        done_at=NOW - DAY,
        score=4,
    )
    _cb(
        s,
        world,
        "min",
        "wang",
        "manual",
        NOW - 10 * DAY,
        status="done",
        done_at=NOW - 5 * DAY,
        score=2,
    )  # done, but after the 3 days allowed
    _cb(
        s,
        world,
        "min",
        "wang",
        "complaint_follow_up",
        NOW - 4 * DAY,
        status="missed",
        attempts=3,
        last_outcome="no_answer",
    )
    _cb(s, world, "tom", "li", "churned", NOW - DAY)  # ordinary: not in coverage
    _cb(s, world, "fang", "li", "satisfaction", NOW - 5 * DAY, status="cancelled")
    _cb(
        s,
        world,
        "fang",
        "li",
        "satisfaction",
        datetime(2026, 10, 1, tzinfo=UTC),
        status="done",
        done_at=datetime(2026, 10, 1, tzinfo=UTC),
        score=1,
    )  # before the period
    wrong = _cb(
        s,
        world,
        "fang",
        "li",
        "satisfaction",
        NOW - DAY,
        status="missed",
        attempts=1,
        last_outcome="wrong_number",
    )
    # Members' events with no callback at all.
    wo = WorkOrder(
        kind="service_request",
        short_text="Fridge fixed",
        customer_id=world["min"],
        assignee_id=world["wang"],
        status="completed",
        due_at=NOW,
        created_at=NOW - 9 * DAY,
    )
    s.add(wo)
    s.flush()
    s.add(
        WorkOrderEvent(
            work_order_id=wo.id,
            agent_id=world["wang"],
            at=NOW - 5 * DAY,
            action="complete",
            to_status="completed",
        )
    )
    complaint = Complaint(
        customer_id=world["fang"],
        owner_id=world["li"],
        what_happened="x",
        customer_wants="y",
        status="closed",
        created_at=NOW - 9 * DAY,
        closed_at=NOW - 2 * DAY,
    )
    s.add(complaint)
    s.get(Customer, world["min"]).birthday = date(1990, 11, 10)  # greeting due 11-07
    s.flush()
    return {"wo": wo.id, "complaint": complaint.id, "wrong": wrong.id}


def _tables(session, settings, **kw):
    found = report.tables(
        session=session,
        date_from=FROM,
        date_to=TO,
        settings=settings,
        now=NOW,
        policy=CallbackPolicy(),
        **kw,
    )
    return {t.title: t for t in found}


def test_titles_and_meta(session, world, settings, month):
    tables = _tables(session, settings)
    assert list(tables) == ["Coverage", "Members without callback", "By kind", "By agent", "Scores"]
    assert tables["By kind"].meta == {"from": FROM, "to": TO, "as of": NOW}


def test_by_kind(session, world, settings, month):
    rows = {r[0]: r[1:] for r in _tables(session, settings)["By kind"].rows}
    # Due, done, on time, overdue, missed, not yet due, done %
    assert rows == {
        "birthday": [1, 0, 0, 0, 0, 1, 0.0],
        "churned": [1, 0, 0, 1, 0, 0, 0.0],
        "complaint follow-up": [1, 0, 0, 0, 1, 0, 0.0],
        "manual": [1, 1, 0, 0, 0, 0, 100.0],
        "satisfaction": [3, 1, 1, 1, 1, 0, 33.3],
        "total": [7, 2, 1, 2, 2, 1, 28.6],
    }


def test_by_agent(session, world, settings, month):
    rows = {r[0]: r[1:] for r in _tables(session, settings)["By agent"].rows}
    assert rows == {
        "Li Na": [5, 1, 1, 2, 1, 1, 20.0, 4.0],
        "Wang Wei": [2, 1, 0, 0, 1, 0, 50.0, 2.0],
    }


def test_scores(session, world, settings, month):
    rows = {r[0]: r[1:] for r in _tables(session, settings)["Scores"].rows}
    # Scored, average, then how many gave 5, 4, 3, 2, 1.
    assert rows == {
        "manual": [1, 2.0, 0, 0, 0, 1, 0],
        "satisfaction": [1, 4.0, 0, 1, 0, 0, 0],
        "total": [2, 3.0, 0, 1, 0, 1, 0],
    }


def test_coverage_of_members(session, world, settings, month):
    tables = _tables(session, settings)
    coverage = {r[0]: r[1:] for r in tables["Coverage"].rows}
    assert coverage["vip"] == [4, 1, 3, 25.0]
    assert coverage["gold"] == [4, 1, 3, 25.0]
    assert coverage["diamond"] == [0, 0, 0, None]
    assert coverage["total"] == [8, 2, 6, 25.0]
    without = tables["Members without callback"].rows
    why = {(r[1], r[5]) for r in without}
    assert why == {
        ("Wang Fang", "overdue"),
        ("Wang Fang", "missed: no working number"),
        ("张敏", "missed after 3 tries"),
        ("张敏", f"no satisfaction callback for work order #{month['wo']}"),
        ("Wang Fang", f"no callback after complaint #{month['complaint']} closed"),
        ("张敏", "no birthday greeting scheduled"),
    }
    assert all(r[2] in ("vip", "gold") for r in without)  # members only
    dues = [r[4] for r in without]
    assert dues == sorted(dues)
    assert all(d.utcoffset() == timedelta(hours=8) for d in dues)  # the desk's local time
    wrong = next(r for r in without if r[5].startswith("missed: no working"))
    assert (wrong[6], wrong[7]) == ("Li Na", month["wrong"])


def test_scheduling_closes_a_gap(session, world, settings, month):
    schedule(session=session, now=NOW, policy=CallbackPolicy())
    without = _tables(session, settings)["Members without callback"].rows
    assert not [r for r in without if "work order" in r[5]]  # now scheduled (and overdue)
    assert [r for r in without if r[3] == "satisfaction" and r[5] == "overdue"]


def test_empty_period(session, world, settings):
    tables = report.tables(
        session=session,
        date_from=date(2020, 1, 1),
        date_to=date(2020, 1, 31),
        settings=settings,
        now=NOW,
        policy=CallbackPolicy(),
    )
    by_title = {t.title: t for t in tables}
    assert by_title["By kind"].rows == [["total", 0, 0, 0, 0, 0, 0, None]]
    assert by_title["Coverage"].rows[-1] == ["total", 0, 0, 0, None]
    assert by_title["Members without callback"].rows == []


def test_report_command_writes_json(db_url, session, world, month, tmp_path, capsys, cli_token):
    session.commit()
    cli_token(db_url)
    out = tmp_path / "callbacks.json"
    db = db_url.removeprefix("sqlite:///")
    args = ["report", "callbacks", "--from", "2026-11-01", "--to", "2026-11-23"]
    assert main([*args, "--format", "json", "--output", str(out), "--db", db]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert list(doc) == ["Coverage", "Members without callback", "By kind", "By agent", "Scores"]
    assert doc["By kind"]["rows"][-1]["Kind"] == "total"
    assert main([*args, "--format", "csv", "--db", db]) == 0
    assert "# Members without callback" in capsys.readouterr().out


def test_schedule_command_prints_what_it_created(db_url, session, world, capsys):
    from seat import customers

    customers.create_customer(
        session=session,
        now=datetime(2020, 1, 1, tzinfo=UTC),
        name="Gone Quiet",
        phone_text="139 5555 0002",
        tier="gold",
    )
    session.commit()
    db = db_url.removeprefix("sqlite:///")
    assert main(["callbacks", "schedule", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "churned" in out and "Scheduled" in out
    assert main(["callbacks", "schedule", "--db", db]) == 0
    assert "No new callbacks" in capsys.readouterr().out


@pytest.mark.parametrize(("late", "on_time"), [(timedelta(0), 1), (timedelta(milliseconds=500), 0)])
def test_on_time_from_a_due_time_in_a_seconds_last_half_millisecond(
    session, world, settings, late, on_time
):
    """Due at hh:mm:59.9996 and done the allowed days later to the very instant (on time) or
    half a second after (not): SQLite's datetime() of the whole text would round the due time
    up a second and count the second one on time."""
    due = NOW - 5 * DAY + timedelta(seconds=59.9996)
    done = due + timedelta(days=CallbackPolicy().done_within_days) + late
    _cb(session, world, "tom", "li", "manual", due, status="done", done_at=done)
    session.flush()
    rows = {r[0]: r[1:] for r in _tables(session, settings)["By kind"].rows}
    assert rows["manual"][:3] == [1, 1, on_time]


def test_born_on_takes_the_members_greeted_on_each_run_of_days():
    """The report's birthdays as slices of the members in birthday order are the members
    whose birthday as greeted that year (29 February: the 28th in a common year) is in one
    of the runs, each once, for runs ending or starting around the end of February."""
    import random

    rng = random.Random(7)
    born = sorted((d.month * 100 + d.day, cid) for cid, d in enumerate(
        [date(2000, 2, 29)] * 3 + [date(2001, 2, 28), date(2001, 3, 1), date(2001, 1, 1),
                                   date(2001, 12, 31)]
        + [date(2000, 1, 1) + timedelta(days=rng.randrange(366)) for __ in range(300)]
    ))  # fmt: skip
    members = report._Members({}, {}, [md for md, __ in born], [cid for __, cid in born])
    for year in (2025, 2028):
        common = year != 2028
        ends = [date(year, 1, 1), date(year, 2, 27), date(year, 2, 28), date(year, 3, 1),
                date(year, 3, 2), date(year, 12, 31)] + ([] if common else [date(year, 2, 29)])
        for __ in range(400):
            cuts = sorted(rng.sample(ends + [date(year, 1, 1) + timedelta(days=rng.randrange(365))
                                             for __ in range(3)], 4))  # fmt: skip
            runs = [[cuts[0], cuts[1]], [cuts[2] + timedelta(days=1), cuts[3]]]
            runs = [r for r in runs if r[0] <= r[1] and r[1].year == year]
            spans = [(f.month * 100 + f.day, t.month * 100 + t.day) for f, t in runs]
            want = sorted(
                (cid, day) for md, cid in born
                if any(lo <= (day := 228 if common and md == 229 else md) <= hi
                       for lo, hi in spans)
            )  # fmt: skip
            cids, mds = report._born_on(members, runs, common=common)
            assert sorted(zip(cids, mds, strict=True)) == want, (year, runs)

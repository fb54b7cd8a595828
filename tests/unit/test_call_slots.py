"""Trends read the days before today from calls added up per quarter hour (seat.call_slots):
the very figures the calls themselves give, also after a call is saved late, edited later,
moved over midnight or deleted (the triggers of migration 0013 drop the slots it changed)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from seat import agents, call_slots, trends
from seat.models import Call, CallAgentSlot, CallSlot
from tests.conftest import NOW

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = NOW.astimezone(SHANGHAI).date()  # 2026-11-23, 10:00 in Shanghai
FIRST = TODAY - timedelta(days=6)


def local(day: date, h: int, m: int = 0, s: float = 0) -> datetime:
    """A Shanghai wall-clock time as UTC."""
    at = datetime(day.year, day.month, day.day, h, m, tzinfo=SHANGHAI)
    return (at + timedelta(seconds=s)).astimezone(UTC)


@pytest.fixture
def calls(engine) -> dict[str, int]:
    """Calls over a week, two of them on either side of a local midnight."""
    with Session(engine) as s:
        agent = agents.ensure_agent(session=s, name="li.na").id
        made: dict[str, int] = {}
        for name, at, minutes, score in (
            ("last of the day", local(TODAY - timedelta(days=2), 23, 59, 59.5), 3.25, 5),
            ("first of the day", local(TODAY - timedelta(days=1), 0, 0), 7.5, None),
            ("morning", local(TODAY - timedelta(days=3), 9, 14, 0.25), 12.1, 4),
            ("unended", local(TODAY - timedelta(days=3), 9, 20), None, None),
            ("week ago", local(FIRST, 18, 30), 1.001, 2),
            ("today", local(TODAY, 8, 0), 4.0, 3),
        ):
            call = Call(agent_id=agent, started_at=at, satisfaction=score,
                        ended_at=at + timedelta(minutes=minutes) if minutes else None)  # fmt: skip
            s.add(call)
            s.flush()
            made[name] = call.id  # type: ignore[assignment]
        s.commit()
    return made


def _trends(engine, step: str = "day", *, live: bool = False) -> trends.Trends:
    """Trends of the week up to today; `live`: with no slot kept, all from the calls."""
    with Session(engine) as s:
        if live:
            s.execute(delete(CallSlot))
        data = trends.trends(session=s, date_from=FIRST, date_to=TODAY, step=step,
                             zone=SHANGHAI, now=NOW)  # fmt: skip
        s.rollback()
    return data


def _fill(engine) -> int:
    with Session(engine) as s:
        made = call_slots.fill(s, trends.slot_days(FIRST, TODAY, SHANGHAI, NOW))
        s.commit()
    return made


def _missing(engine) -> int:
    with Session(engine) as s:
        return call_slots.missing(s, trends.slot_days(FIRST, TODAY, SHANGHAI, NOW))


def _kept_days(engine) -> int:
    """How many days trends read from slots (the rest from the calls)."""
    with Session(engine) as s:
        return len(call_slots.day_sums(s, trends.slot_days(FIRST, TODAY, SHANGHAI, NOW), SHANGHAI))


def _saved_late(s: Session, calls: dict[str, int]) -> None:
    """A call of three days ago saved after its day's slots were made (a resumed draft)."""
    agent = s.execute(select(Call.agent_id)).scalars().first()
    at = local(TODAY - timedelta(days=3), 15, 44, 59.999)
    s.add(Call(agent_id=agent, started_at=at, ended_at=at + timedelta(minutes=9), satisfaction=1))


def _edited_late(s: Session, calls: dict[str, int]) -> None:
    """The unended call wrapped up later, with a score."""
    s.execute(update(Call).where(Call.id == calls["unended"]).values(
        ended_at=local(TODAY - timedelta(days=3), 9, 31, 0.5), satisfaction=3))  # fmt: skip


def _over_midnight(s: Session, calls: dict[str, int]) -> None:
    """The day's last call moved to the next day's first second."""
    s.execute(update(Call).where(Call.id == calls["last of the day"]).values(
        started_at=local(TODAY - timedelta(days=1), 0, 0, 0.5)))  # fmt: skip


def _deleted(s: Session, calls: dict[str, int]) -> None:
    s.execute(delete(Call).where(Call.id == calls["morning"]))


@pytest.mark.parametrize("write", [None, _saved_late, _edited_late, _over_midnight, _deleted])
@pytest.mark.parametrize("step", ["day", "week"])
def test_kept_slots_give_the_figures_of_the_calls(engine, calls, write, step):
    before = _trends(engine, step, live=True)
    assert _fill(engine) == 6 * 96  # the six days before today, a row per quarter hour
    assert _missing(engine) == 0 and _kept_days(engine) == 6
    assert _trends(engine, step) == before
    if write is None:
        return
    with Session(engine) as s:
        write(s, calls)
        s.commit()
    assert _missing(engine) > 0  # the trigger dropped the slots the write changed
    assert _kept_days(engine) < 6
    after = _trends(engine, step)
    assert after == _trends(engine, step, live=True)
    assert after != before
    _fill(engine)
    assert _missing(engine) == 0 and _kept_days(engine) == 6
    assert _trends(engine, step) == after


def test_the_local_midnight_parts_the_days(engine, calls):
    """23:59:59.5 counts on its day, 00:00 on the next: in the desk's zone, not UTC's."""
    _fill(engine)
    day = {p.period.start: p for p in _trends(engine).calls}
    two, one = day[TODAY - timedelta(days=2)], day[TODAY - timedelta(days=1)]
    assert (two.calls, two.ended, two.seconds) == (1, 1, 195.0)
    assert (one.calls, one.ended, one.seconds) == (1, 1, 450.0)
    morning = day[TODAY - timedelta(days=3)]
    assert (morning.calls, morning.ended, morning.avg_seconds) == (2, 1, 726)


def test_today_is_read_from_the_calls(engine, calls):
    """No slot is made for today: its calls still come and go."""
    _fill(engine)
    with Session(engine) as s:
        first = call_slots.slot_of(local(TODAY, 0, 0))
        assert s.execute(
            select(func.count()).select_from(CallSlot).where(CallSlot.slot >= first)
        ).scalar_one() == 0
    assert {p.period.start: p.calls for p in _trends(engine).calls}[TODAY] == 1


def test_the_services_keep_the_slots_after_the_first_read(engine, calls, clock, settings):
    """Desk.trends reads, then makes the closed days' slots: the next read is the same."""
    from seat.services import Desk

    desk = Desk(engine=engine, clock=clock, settings=settings)
    first = desk.trends(FIRST, TODAY, trends.Step.DAY)
    assert _missing(engine) == 0
    assert desk.trends(FIRST, TODAY, trends.Step.DAY) == first == _trends(engine, live=True)


# -- today: its settled quarter hours kept per agent (migration 0049) ---------------------------


@pytest.fixture
def today_calls(engine, calls) -> dict[str, int]:
    """Two agents' calls today (10:00 in Shanghai): settled ones, one still in the last
    minutes, one without an end."""
    with Session(engine) as s:
        li = agents.ensure_agent(session=s, name="li.na").id
        wang = agents.ensure_agent(session=s, name="wang.wei").id
        made: dict[str, int] = {}
        for name, agent, at, seconds in (
            ("li early", li, local(TODAY, 0, 0), 61.5),
            ("li mid", li, local(TODAY, 7, 29, 59.999), 300.25),
            ("wang mid", wang, local(TODAY, 7, 31), 90.0),
            ("wang unended", wang, local(TODAY, 8, 5), None),
            ("wang last minutes", wang, local(TODAY, 9, 50), 30.0),
        ):
            call = Call(agent_id=agent, started_at=at,
                        ended_at=at + timedelta(seconds=seconds) if seconds else None)  # fmt: skip
            s.add(call)
            s.flush()
            made[name] = call.id  # type: ignore[assignment]
        s.commit()
    return made


def _board_today(engine) -> tuple[tuple[str, int, float | None], ...]:
    from seat import supervisor

    with Session(engine) as s:
        rows, __ = supervisor.calls_today(s, NOW, SHANGHAI)
    return tuple((r.agent, r.calls, r.avg_handling_seconds) for r in rows)


def _live_today(engine) -> tuple[tuple[str, int, float | None], ...]:
    """The same figures with no slot kept: every call of the day read."""
    from seat import supervisor

    with Session(engine) as s:
        s.execute(delete(CallAgentSlot))
        s.execute(delete(CallSlot))
        rows, __ = supervisor.calls_today(s, NOW, SHANGHAI)
        s.rollback()
    return tuple((r.agent, r.calls, r.avg_handling_seconds) for r in rows)


def _fill_today(engine) -> int:
    from seat import supervisor

    day = supervisor.settled_today(NOW, SHANGHAI)
    assert day is not None and day[2] == local(TODAY, 9, 45)  # a quarter hour settles
    with Session(engine) as s:
        made = call_slots.fill(s, [day])
        s.commit()
    return made


def _unkept_today(engine) -> int:
    from seat import supervisor

    with Session(engine) as s:
        return supervisor.calls_today(s, NOW, SHANGHAI)[1]


def _moved_agent(s: Session, made: dict[str, int]) -> None:
    """A call put on another agent (seat.cti: the agent who really answered)."""
    li = s.execute(select(Call.agent_id).where(Call.id == made["li mid"])).scalar_one()
    wang = s.execute(select(Call.agent_id).where(Call.id == made["wang mid"])).scalar_one()
    assert li != wang
    s.execute(update(Call).where(Call.id == made["li mid"]).values(agent_id=wang))


def _saved_late_today(s: Session, made: dict[str, int]) -> None:
    """A call of this morning saved after its quarter hour was kept."""
    agent = s.execute(select(Call.agent_id).where(Call.id == made["li early"])).scalar_one()
    at = local(TODAY, 7, 20, 0.5)
    s.add(Call(agent_id=agent, started_at=at, ended_at=at + timedelta(seconds=44.5)))


def _ended_today(s: Session, made: dict[str, int]) -> None:
    s.execute(update(Call).where(Call.id == made["wang unended"]).values(
        ended_at=local(TODAY, 8, 15)))  # fmt: skip


def _deleted_today(s: Session, made: dict[str, int]) -> None:
    s.execute(delete(Call).where(Call.id == made["li early"]))


@pytest.mark.parametrize(
    "write", [None, _moved_agent, _saved_late_today, _ended_today, _deleted_today]
)
def test_the_wallboard_reads_today_from_kept_slots_with_the_figures_of_the_calls(
    engine, today_calls, write
):
    before = _live_today(engine)
    assert dict((a, (n, avg)) for a, n, avg in before)["Wang Wei"] == (3, 60.0)
    assert _board_today(engine) == before
    assert _unkept_today(engine) == 39  # 00:00 to 09:45 in Shanghai
    assert _fill_today(engine) == 39
    assert _unkept_today(engine) == 0
    assert _board_today(engine) == before
    with Session(engine) as s:  # the agents' rows add up to their slot's
        for slot in s.execute(select(CallSlot)).scalars():
            calls, ended, millis = s.execute(
                select(func.coalesce(func.sum(CallAgentSlot.calls), 0),
                       func.coalesce(func.sum(CallAgentSlot.ended), 0),
                       func.coalesce(func.sum(CallAgentSlot.millis), 0))
                .where(CallAgentSlot.slot == slot.slot)
            ).one()  # fmt: skip
            assert (calls, ended, millis) == (slot.calls, slot.ended, slot.millis)
    if write is None:
        return
    with Session(engine) as s:
        write(s, today_calls)
        s.commit()
    assert _unkept_today(engine) > 0  # the trigger dropped the slot the write changed
    after = _board_today(engine)
    assert after == _live_today(engine)
    assert after != before
    _fill_today(engine)
    assert _unkept_today(engine) == 0
    assert _board_today(engine) == after


def test_trends_read_today_from_its_kept_slots(engine, today_calls):
    before = _trends(engine, live=True)
    assert {p.period.start: p.calls for p in before.calls}[TODAY] == 6
    _fill_today(engine)
    assert _trends(engine) == before
    with Session(engine) as s:
        _saved_late_today(s, today_calls)
        s.commit()
    after = _trends(engine)
    assert after == _trends(engine, live=True)
    assert {p.period.start: p.calls for p in after.calls}[TODAY] == 7


def test_the_services_keep_today_when_the_wallboard_opens(engine, today_calls, clock, settings):
    """Desk.wallboard keeps today's settled quarter hours before its first read, and
    Desk.trends after its read: the figures stay those of the calls."""
    from seat import sla
    from seat.services import Desk

    desk = Desk(engine=engine, clock=clock, settings=settings)
    live = _live_today(engine)
    board = desk.wallboard(sla.load_policy(settings), offsets={}, limit=50, fresh=True)
    assert _unkept_today(engine) == 0
    assert tuple((a.agent, a.calls, a.avg_handling_seconds) for a in board.agents) == live
    with Session(engine) as s:
        s.execute(delete(CallAgentSlot))
        s.execute(delete(CallSlot))
        s.commit()
    first = desk.trends(FIRST, TODAY, trends.Step.DAY)
    assert _unkept_today(engine) == 0 and _missing(engine) == 0
    assert desk.trends(FIRST, TODAY, trends.Step.DAY) == first == _trends(engine, live=True)


# -- the last half millisecond of a quarter hour ------------------------------------------------
# SQLite's date functions keep milliseconds and round: strftime('%s') of HH:14:59.9996 is the
# second of HH:15:00. A call's slot is taken from the stored text's whole seconds instead
# (migration 0055), as Python's slot_of and the ranges [slot_start(a), slot_start(b)) do.

EDGE = 59.9996
"""The seconds past a quarter hour's last minute: in that quarter hour, 0.4 ms before the next."""


def test_sqlite_would_round_the_edge_into_the_next_second(engine, backend):
    """The reason for the tests below: a check that the edge really is one for SQLite."""
    if backend != "sqlite":
        pytest.skip("SQLite's date functions only")
    with engine.connect() as db:
        rounded, whole = db.exec_driver_sql(
            "SELECT strftime('%s', '2026-12-07 10:14:59.999600'), "
            "strftime('%s', substr('2026-12-07 10:14:59.999600', 1, 19))"
        ).one()
    assert int(rounded) == int(whole) + 1


def _edge_days(engine) -> tuple[dict[str, int], int]:
    """Calls in the last half millisecond of a local day (two days ago and yesterday: the
    kept days end at today's midnight) and of 09:14 three days ago."""
    with Session(engine) as s:
        agent = agents.ensure_agent(session=s, name="li.na").id
        made: dict[str, int] = {}
        for name, at in (
            ("two days ago's last", local(TODAY - timedelta(days=2), 23, 59, EDGE)),
            ("yesterday's last", local(TODAY - timedelta(days=1), 23, 59, EDGE)),
            ("09:14's last", local(TODAY - timedelta(days=3), 9, 14, EDGE)),
        ):
            call = Call(agent_id=agent, started_at=at, ended_at=at + timedelta(seconds=61),
                        satisfaction=4)  # fmt: skip
            s.add(call)
            s.flush()
            made[name] = call.id  # type: ignore[assignment]
        s.commit()
    return made, agent


def _edge_saved_late(s: Session, made: dict[str, int], agent: int) -> None:
    at = local(TODAY - timedelta(days=4), 16, 29, EDGE)
    s.add(Call(agent_id=agent, started_at=at, ended_at=at + timedelta(seconds=30)))


def _edge_moved_to(s: Session, made: dict[str, int], agent: int) -> None:
    """A call of the week moved to the last half millisecond of another quarter hour."""
    s.execute(update(Call).where(Call.id == made["week ago"]).values(
        started_at=local(TODAY - timedelta(days=4), 11, 59, EDGE)))  # fmt: skip


def _edge_moved_from(s: Session, made: dict[str, int], agent: int) -> None:
    s.execute(update(Call).where(Call.id == made["09:14's last"]).values(
        started_at=local(TODAY - timedelta(days=5), 13, 0)))  # fmt: skip


def _edge_ended(s: Session, made: dict[str, int], agent: int) -> None:
    s.execute(update(Call).where(Call.id == made["yesterday's last"]).values(
        ended_at=local(TODAY, 0, 30), satisfaction=1))  # fmt: skip


def _edge_deleted(s: Session, made: dict[str, int], agent: int) -> None:
    s.execute(delete(Call).where(Call.id == made["two days ago's last"]))


@pytest.mark.parametrize(
    "write",
    [None, _edge_saved_late, _edge_moved_to, _edge_moved_from, _edge_ended, _edge_deleted],
)
def test_calls_at_a_quarter_hours_last_half_millisecond_keep_true_day_figures(
    engine, calls, write
):
    edge, agent = _edge_days(engine)
    made = {**calls, **edge}
    live = _trends(engine, live=True)
    days = {p.period.start: p.calls for p in live.calls}
    assert days[TODAY - timedelta(days=2)] == 2 and days[TODAY - timedelta(days=1)] == 2
    assert _fill(engine) == 6 * 96
    assert _trends(engine) == live
    if write is None:
        return
    with Session(engine) as s:
        write(s, made, agent)
        s.commit()
    after = _trends(engine)
    assert after == _trends(engine, live=True)
    assert after != live
    _fill(engine)
    assert _missing(engine) == 0 and _kept_days(engine) == 6
    assert _trends(engine) == after


def test_fill_keeps_a_range_ending_at_the_edge_of_a_call(engine, calls):
    """A range [a, b) with a call 0.4 ms before b: the call is counted in b's previous slot,
    and no row is made for a slot outside the range."""
    at = local(TODAY - timedelta(days=3), 10, 29, EDGE)
    with Session(engine) as s:
        agent = agents.ensure_agent(session=s, name="li.na").id
        s.add(Call(agent_id=agent, started_at=at, ended_at=at + timedelta(seconds=2)))
        s.commit()
    a, b = local(TODAY - timedelta(days=3), 9, 0), local(TODAY - timedelta(days=3), 10, 30)
    day = (TODAY - timedelta(days=3), a, b)
    with Session(engine) as s:
        assert call_slots.fill(s, [day]) == 6
        s.commit()
    with Session(engine) as s:
        lo, hi = call_slots.slot_of(a), call_slots.slot_of(b)
        for table in (CallSlot, CallAgentSlot):
            slots = set(s.execute(select(table.slot)).scalars())
            assert slots and all(lo <= x < hi for x in slots)
        kept = call_slots.span_sums(s, a, b, b)
        live = s.execute(
            select(*call_slots.aggregates(s))
            .where(Call.started_at >= a, Call.started_at < b, call_slots.known_calls())
        ).one()  # fmt: skip
        assert kept == [int(v or 0) for v in live]
        assert kept[0] == 3  # 09:14:00.25, 09:20, and the one at the edge
        last = s.execute(select(CallSlot.calls).where(CallSlot.slot == hi - 1)).scalar_one()
        assert last == 1


# Today on the wallboard: its settled part ends at 09:45 (Shanghai), a call at 09:44:59.9996.


def _edge_today(s: Session, made: dict[str, int]) -> None:
    """Saved after the morning was kept, 0.4 ms before 07:45."""
    agent = s.execute(select(Call.agent_id).where(Call.id == made["li early"])).scalar_one()
    at = local(TODAY, 7, 44, EDGE)
    s.add(Call(agent_id=agent, started_at=at, ended_at=at + timedelta(seconds=12)))


def _moved_to_edge_today(s: Session, made: dict[str, int]) -> None:
    s.execute(update(Call).where(Call.id == made["li early"]).values(
        started_at=local(TODAY, 8, 59, EDGE)))  # fmt: skip


def _moved_from_edge_today(s: Session, made: dict[str, int]) -> None:
    s.execute(update(Call).where(Call.id == made["wang at the edge"]).values(
        started_at=local(TODAY, 6, 0)))  # fmt: skip


def _moved_agent_at_edge_today(s: Session, made: dict[str, int]) -> None:
    li = s.execute(select(Call.agent_id).where(Call.id == made["li early"])).scalar_one()
    s.execute(update(Call).where(Call.id == made["wang at the edge"]).values(agent_id=li))


def _deleted_at_edge_today(s: Session, made: dict[str, int]) -> None:
    s.execute(delete(Call).where(Call.id == made["wang at the edge"]))


@pytest.mark.parametrize(
    "write",
    [None, _edge_today, _moved_to_edge_today, _moved_from_edge_today,
     _moved_agent_at_edge_today, _deleted_at_edge_today],
)  # fmt: skip
def test_the_wallboard_counts_calls_at_a_quarter_hours_last_half_millisecond(
    engine, today_calls, write
):
    with Session(engine) as s:
        wang = agents.ensure_agent(session=s, name="wang.wei").id
        at = local(TODAY, 9, 44, EDGE)
        call = Call(agent_id=wang, started_at=at, ended_at=at + timedelta(seconds=45))
        s.add(call)
        s.commit()
        made = {**today_calls, "wang at the edge": call.id}
    before = _live_today(engine)
    assert dict((a, n) for a, n, __ in before)["Wang Wei"] == 4
    assert _fill_today(engine) == 39
    assert _unkept_today(engine) == 0
    assert _board_today(engine) == before
    if write is None:
        return
    with Session(engine) as s:
        write(s, made)
        s.commit()
    after = _board_today(engine)
    assert after == _live_today(engine)
    assert after != before
    _fill_today(engine)
    assert _unkept_today(engine) == 0
    assert _board_today(engine) == after


def _edge_call(engine, at: datetime) -> None:
    with Session(engine) as s:
        agent = agents.ensure_agent(session=s, name="li.na").id
        s.add(Call(agent_id=agent, started_at=at, ended_at=at + timedelta(seconds=20),
                   satisfaction=5))  # fmt: skip
        s.commit()


def test_migration_0055_drops_the_slots_the_old_triggers_left_stale(engine, backend, calls):
    """A desk at 0051 whose kept quarter hours went stale (SQLite: a call saved at 23:59:59.9996
    dropped the next day's first quarter hour's rows, not its own): the upgrade drops both,
    so the figures are the calls' again, and its triggers drop the right one from then on."""
    from alembic import command

    from seat.db import _alembic_config, upgrade

    command.downgrade(_alembic_config(engine), "0051")
    if backend == "sqlite":  # the downgrade puts 0049's triggers back
        with engine.connect() as db:
            made = db.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'call_slot_on_insert'"
            ).scalar_one()
        assert "strftime('%s', NEW.started_at)" in made
    _fill(engine)
    _edge_call(engine, local(TODAY - timedelta(days=2), 23, 59, EDGE))
    live = _trends(engine, live=True)
    if backend == "sqlite":
        assert _trends(engine) != live  # stale: the call's own quarter hour still kept
    upgrade(engine)
    assert _trends(engine) == live
    _fill(engine)
    assert _missing(engine) == 0 and _trends(engine) == live
    _edge_call(engine, local(TODAY - timedelta(days=5), 8, 29, EDGE))
    after = _trends(engine)
    assert after == _trends(engine, live=True) != live

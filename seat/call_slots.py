"""Calls added up per quarter hour, kept in the database for trends (`call_slot`).

A closed day's calls are read from its 96 slot rows instead of from every call: how many
started, how many ended, their handling time in whole milliseconds, how many were scored and
the scores added up. Quarter hours of UTC time fit the local day of every time zone in use
(their offsets are whole quarter hours), so a desk's day is a run of slots; a day that is not
(an odd historical offset) is read from the calls.

Rows are made for the days before today (the desk's local day) after trends read them, and
for today's settled quarter hours (ended at least SETTLED ago) when the wallboard opens or
finds one missing and after trends read today (`fill`, in a write transaction that no call
can be saved during: SQLite's writer lock, PostgreSQL's table lock here against the
triggers' row lock), and never edited. With each slot's row go its agents' rows
(`call_agent_slot`, migration 0049): the wallboard's calls today per agent. The triggers of
migrations 0013 and 0049 delete a slot's row and its agents' rows for every call inserted,
deleted, or changed in its start, end, score or agent, so a call saved late or edited later
makes its quarter hour read from the calls again until it is filled again. Integer
milliseconds add up the same in any order, so a day (or an agent's day) read from slots has
exactly the sums of the same day read from the calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    bindparam,
    cast,
    delete,
    extract,
    func,
    insert,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlmodel import Session

from seat.models import Agent, Call, CallAgentSlot, CallSlot

SLOT_SECONDS = 900
SLOTS_A_DAY = 86_400 // SLOT_SECONDS
EPOCH = date(1970, 1, 1)
WIDTH = 5
"""calls, ended, millis, scored, score_sum."""

Day = tuple[date, datetime, datetime]
"""A local day and its [start, end) in UTC."""


def slot_of(at: datetime) -> int:
    """The slot an aware instant falls in."""
    return int(at.timestamp()) // SLOT_SECONDS


def slot_start(slot: int) -> datetime:
    return datetime.fromtimestamp(slot * SLOT_SECONDS, UTC)


def millis(session: Session, start: Any, end: Any) -> Any:
    """A call's handling time in whole milliseconds (NULL while it has no end)."""
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.round((func.julianday(end) - func.julianday(start)) * 86_400_000), Integer)
    return cast(func.round(extract("epoch", end - start) * 1000), BigInteger)


def aggregates(session: Session) -> list[Any]:
    """The sums a slot keeps, over calls: calls, ended, millis, scored, score_sum."""
    return [
        func.count(), func.count(Call.ended_at),
        func.sum(millis(session, Call.started_at, Call.ended_at)),
        func.count(Call.satisfaction), func.sum(Call.satisfaction),
    ]  # fmt: skip


def known_calls() -> Any:
    """Lets SQLite seek ix_call_agent_started per agent instead of reading every call."""
    return Call.agent_id.in_(select(Agent.id))


def _aligned(day: Day) -> bool:
    __, a, b = day
    return int(a.timestamp()) % SLOT_SECONDS == 0 and int(b.timestamp()) % SLOT_SECONDS == 0


def day_sums(session: Session, days: Sequence[Day], zone: ZoneInfo) -> dict[date, list[int]]:
    """The sums of each of `days` whose every slot has its row (the others are left out).

    Added up by the database per local day: a slot's local day is its number plus the zone's
    offset in slots, divided by the 96 slots of a day (one statement per offset)."""
    wanted = [d for d in days if _aligned(d)]
    found: dict[date, list[int]] = {}
    for lo, hi, off in _offset_runs(wanted, zone):
        shift = off // SLOT_SECONDS
        day = (CallSlot.slot + shift).self_group().op("/")(SLOTS_A_DAY)
        for row in session.execute(
            select(day, func.count(), func.sum(CallSlot.calls), func.sum(CallSlot.ended),
                   func.sum(CallSlot.millis), func.sum(CallSlot.scored),
                   func.sum(CallSlot.score_sum))
            .where(CallSlot.slot >= lo, CallSlot.slot < hi)
            .group_by(day)
        ):  # fmt: skip
            sums = found.setdefault(EPOCH + timedelta(days=int(row[0])), [0] * (WIDTH + 1))
            for i, v in enumerate(row[1:]):
                sums[i] += int(v or 0)
    expected: dict[date, int] = {}
    for day_, a, b in wanted:  # a day the zone changes its offset on comes in two parts
        expected[day_] = expected.get(day_, 0) + slot_of(b) - slot_of(a)
    return {
        day_: found[day_][1:]
        for day_, n in expected.items()
        if day_ in found and found[day_][0] == n
    }


def _offset_runs(days: Sequence[Day], zone: ZoneInfo) -> list[tuple[int, int, int]]:
    """[first slot, last slot + 1) of consecutive days with the same UTC offset, and the
    offset in seconds (a day is cut where the zone changes its offset, seat.trends)."""
    runs: list[tuple[int, int, int]] = []
    for __, a, b in days:
        off = int(a.astimezone(zone).utcoffset().total_seconds())  # type: ignore[union-attr]
        lo, hi = slot_of(a), slot_of(b)
        if runs and runs[-1][1] == lo and runs[-1][2] == off:
            runs[-1] = (runs[-1][0], hi, off)
        else:
            runs.append((lo, hi, off))
    return runs


def missing(session: Session, days: Sequence[Day]) -> int:
    """How many slots of `days` (aligned ones) have no row yet."""
    wanted = [d for d in days if _aligned(d)]
    if not wanted:
        return 0
    expected = sum(slot_of(b) - slot_of(a) for __, a, b in wanted)
    first = min(slot_of(a) for __, a, __ in wanted)
    last = max(slot_of(b) for __, __, b in wanted)
    have = session.execute(
        select(func.count()).where(CallSlot.slot >= first, CallSlot.slot < last)
    ).scalar_one()
    return max(0, expected - int(have))


def _runs(slots: Iterable[int]) -> list[tuple[int, int]]:
    """Consecutive slots as [first, last + 1) runs."""
    out: list[tuple[int, int]] = []
    for s in sorted(slots):
        if out and out[-1][1] == s:
            out[-1] = (out[-1][0], s + 1)
        else:
            out.append((s, s + 1))
    return out


SQLITE_SLOT = "CAST(strftime('%s', substr({row}.started_at, 1, 19)) AS INTEGER) / 900"
"""A call's slot on SQLite: from the whole seconds of the stored text (SQLAlchemy's
'YYYY-MM-DD HH:MM:SS.ffffff', UTC). strftime of the whole text keeps milliseconds and
rounds: HH:14:59.9996 would fall in HH:15's slot, not the one `slot_of` and the ranges
[slot_start(a), slot_start(b)) give it. Migration 0055's triggers use the same."""


def _slot_column(session: Session) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        return literal_column(SQLITE_SLOT.format(row="call"))
    return literal_column("CAST(floor(extract(epoch FROM call.started_at) / 900) AS BIGINT)")


def fill(session: Session, days: Sequence[Day]) -> int:
    """Make the missing slot rows of `days` (aligned ones) from the calls; how many were made.
    Run in a write transaction (Desk.run(write=True)): on SQLite it holds the writer's lock;
    on PostgreSQL the table lock taken here makes a call saved meanwhile wait for the commit,
    after which its trigger deletes the slot it changed."""
    wanted = [d for d in days if _aligned(d)]
    if not wanted:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql("LOCK TABLE call_slot IN SHARE ROW EXCLUSIVE MODE")
    slots = {s for __, a, b in wanted for s in range(slot_of(a), slot_of(b))}
    have = set(
        session.execute(
            select(CallSlot.slot).where(CallSlot.slot >= min(slots), CallSlot.slot <= max(slots))
        ).scalars()
    )
    todo = sorted(slots - have)
    if not todo:
        return 0
    slot = _slot_column(session)
    sums: dict[int, list[int]] = {}
    per_agent: list[dict[str, int]] = []
    for a, b in _runs(todo):
        # A slot's agents' rows go with its row (their sums add up to it), so a kept slot has
        # them; none left of a slot made before (the triggers delete both).
        session.execute(
            delete(CallAgentSlot).where(CallAgentSlot.slot >= a, CallAgentSlot.slot < b)
        )
        for row in session.execute(
            select(slot, Call.agent_id, *aggregates(session))
            .where(Call.started_at >= slot_start(a), Call.started_at < slot_start(b),
                   known_calls())
            .group_by(slot, Call.agent_id)
        ):  # fmt: skip
            values = [int(v or 0) for v in row[2:]]
            kept = sums.setdefault(int(row[0]), [0] * WIDTH)
            for i, v in enumerate(values):
                kept[i] += v
            per_agent.append(
                dict(slot=int(row[0]), agent_id=int(row[1]), calls=values[0], ended=values[1],
                     millis=values[2])
            )  # fmt: skip
    session.execute(
        insert(CallSlot),
        [
            dict(zip(("slot", "calls", "ended", "millis", "scored", "score_sum"),
                     (s, *sums.get(s, (0,) * WIDTH)), strict=True))
            for s in todo
        ],
    )  # fmt: skip
    if per_agent:
        session.execute(insert(CallAgentSlot), per_agent)
    return len(todo)


SETTLED = timedelta(seconds=SLOT_SECONDS)
"""How long after its end a quarter hour of today is kept (`settled_day`): a call is saved
when it ends, so the last minutes' slots would be dropped again and again by the calls
started in them; a later save is counted all the same (the trigger drops the slot)."""


def settled_day(day: date, midnight: datetime, now: datetime) -> Day | None:
    """The part of the local `day` that began at `midnight` (UTC) whose slots are kept while
    it is today (`now`): the quarter hours ended at least SETTLED before `now`; None when there
    is none (or the day is not made of whole quarter hours: an odd historical offset)."""
    end = slot_start(slot_of(now - SETTLED))
    part: Day = (day, midnight, end)
    return part if midnight < end and _aligned(part) else None


def span_sums(
    session: Session, start: datetime, end: datetime, kept_until: datetime
) -> list[int]:
    """calls, ended, millis, scored, score_sum of the calls that started in [start, end):
    the quarter hours of [start, kept_until) that are kept from their rows (one statement),
    every other part from the calls; the very sums the calls give."""
    lo, hi = slot_of(start), slot_of(kept_until)
    # The usual case, every one kept: their sums and the calls after them in one statement.
    kinds = session.execute(
        union_all(
            select(literal(0, Integer), func.count(), func.sum(CallSlot.calls),
                   func.sum(CallSlot.ended), func.sum(CallSlot.millis), func.sum(CallSlot.scored),
                   func.sum(CallSlot.score_sum))
            .where(CallSlot.slot >= lo, CallSlot.slot < hi),
            select(literal(1, Integer), literal(0, BigInteger), *aggregates(session))
            .where(Call.started_at >= kept_until, Call.started_at < end, known_calls()),
        )
    ).all()  # fmt: skip
    if any(r[0] == 0 and r[1] == hi - lo for r in kinds):
        return [sum(int(r[i] or 0) for r in kinds) for i in range(2, 2 + WIDTH)]
    out = [0] * WIDTH
    kept: set[int] = set()
    for row in session.execute(
        select(CallSlot.slot, CallSlot.calls, CallSlot.ended, CallSlot.millis, CallSlot.scored,
               CallSlot.score_sum)
        .where(CallSlot.slot >= lo, CallSlot.slot < hi)
    ):  # fmt: skip
        kept.add(int(row[0]))
        for i, v in enumerate(row[1:]):
            out[i] += int(v)
    for a, b in _unkept_runs(kept, start, kept_until, end):
        row = session.execute(
            select(*aggregates(session))
            .where(Call.started_at >= a, Call.started_at < b, known_calls())
        ).one()  # fmt: skip
        for i, v in enumerate(row):
            out[i] += int(v or 0)
    return out


def _unkept_runs(
    kept: set[int], start: datetime, kept_until: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) not kept: the runs of slots of [start, kept_until) not in
    `kept`, and [kept_until, end) (joined to the last run when they meet)."""
    missing = [s for s in range(slot_of(start), slot_of(kept_until)) if s not in kept]
    runs = [(slot_start(a), slot_start(b)) for a, b in _runs(missing)]
    if runs and runs[-1][1] == kept_until:
        runs[-1] = (runs[-1][0], end)
    elif kept_until < end:
        runs.append((kept_until, end))
    return runs


def _live_sums(session: Session, a: Any, b: Any) -> Any:
    """Per agent: calls, ended, millis of the calls that started in [a, b)."""
    return (
        select(Call.agent_id, func.count(), func.count(Call.ended_at),
               func.sum(millis(session, Call.started_at, Call.ended_at)))
        .where(Call.started_at >= a, Call.started_at < b, known_calls())
        .group_by(Call.agent_id)
    )  # fmt: skip


_AGENT_SUMS: dict[str, Any] = {}


def _agent_sums_statement(session: Session) -> Any:
    """agent_sums' one statement, built once per dialect (binds: lo, hi, edge, end): how many
    slots of [lo, hi) are kept, their agents' sums, the calls of [edge, end) per agent, and
    the active agents by name."""
    dialect = session.get_bind().dialect.name
    if dialect not in _AGENT_SUMS:
        lo, hi = bindparam("lo", type_=Integer), bindparam("hi", type_=Integer)
        when = Call.__table__.c.started_at.type
        live = _live_sums(
            session, bindparam("edge", type_=when), bindparam("end", type_=when)
        ).subquery()
        zero, nothing = literal(0, BigInteger), literal(None, String)
        _AGENT_SUMS[dialect] = union_all(
            select(literal(0, Integer), func.count(), zero, zero, zero, nothing)
            .select_from(CallSlot).where(CallSlot.slot >= lo, CallSlot.slot < hi),
            select(literal(1, Integer), CallAgentSlot.agent_id, func.sum(CallAgentSlot.calls),
                   func.sum(CallAgentSlot.ended), func.sum(CallAgentSlot.millis), nothing)
            .where(CallAgentSlot.slot >= lo, CallAgentSlot.slot < hi)
            .group_by(CallAgentSlot.agent_id),
            select(literal(2, Integer), *live.c, nothing),
            select(literal(3, Integer), Agent.id, zero, zero, zero, Agent.display_name)
            .where(Agent.active),
        ).order_by(literal_column("1"), literal_column("6"), literal_column("2"))  # fmt: skip
    return _AGENT_SUMS[dialect]


def agent_sums(
    session: Session, start: datetime, end: datetime, kept_until: datetime | None
) -> tuple[dict[int, list[int]], int, list[tuple[int, str]]]:
    """Per agent, the calls that started in [start, end): (calls, ended, handling
    milliseconds of the ended ones); how many quarter hours of [start, kept_until) have no row
    yet; and the active agents (id, name) by name. When every quarter hour of [start,
    kept_until) is kept, their agents' rows and the calls after them are read in one
    statement (its parts agree on PostgreSQL too); else every call of [start, end): the very
    sums the calls give either way."""
    lo = slot_of(start)
    hi = slot_of(kept_until) if kept_until is not None and start < kept_until <= end else lo
    edge = slot_start(hi) if hi > lo else start
    out: dict[int, list[int]] = {}
    kept = 0
    people: list[tuple[int, str]] = []
    db = session.connection()
    params = {"lo": lo, "hi": hi, "edge": edge, "end": end}
    for kind, key, *sums, label in db.execute(_agent_sums_statement(session), params):
        if kind == 0:
            kept = int(key)
        elif kind == 3:
            people.append((int(key), label))
        else:
            got = out.setdefault(int(key), [0, 0, 0])
            for i, v in enumerate(sums):
                got[i] += int(v or 0)
    if kept == hi - lo:
        return out, 0, people
    # Some quarter hours are not kept (yet, or again after a late save or an edit): the day
    # from the calls, in one statement of its own (kept until the wallboard keeps them).
    out = {}
    for row in db.execute(_live_sums(session, start, end)):
        out[int(row[0])] = [int(v or 0) for v in row[1:]]
    return out, hi - lo - kept, people

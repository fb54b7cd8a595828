"""The day's run of the callback rules, made faster (the latest call's agent by one index
step, the follow-up keys by the source key's index, the new ids by RETURNING, Core rows, one
JSON encoder for the hash chain, the routine calls by ranges of the joining index), writes
exactly what the computation before it wrote: the same callbacks (every column: owners, due
times, joint days) and the same events in the same hash chain. On a seeded desk, for random
days after a first run, from the watermark and as a full run; the computation before is
kept here as it was (`_before`), each run of a day is undone after it is read."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select, text
from sqlmodel import Session

from seat import audit, callbacks, care, leases, lifecycle, members
from seat.callbacks import CLOSED_COMPLAINT_STATUSES, StaleCallback
from seat.clock import FixedClock
from seat.models import (
    Agent,
    Call,
    Callback,
    CallbackEvent,
    CallbackKind,
    CallbackStatus,
    Complaint,
    Customer,
    Purchase,
)
from seat.services import Desk
from seat.tools import demo

NOW = datetime.fromisoformat("2026-03-02T02:00:00+00:00")


# -- the computation before, as it was ------------------------------------------------------


def _last_agents_before(self: Any, customer_ids: Any) -> dict[int, int]:
    ids = sorted(set(customer_ids))
    found: dict[int, int] = {}
    if self.policy.owner_rule != "last_agent":
        return found
    for i in range(0, len(ids), 500):
        latest = (
            select(
                Call.customer_id,
                Call.agent_id,
                func.row_number()
                .over(partition_by=Call.customer_id, order_by=Call.started_at.desc())
                .label("n"),
            )
            .where(Call.customer_id.in_(ids[i : i + 500]))
            .subquery()
        )
        found.update(
            self.session.execute(
                select(latest.c.customer_id, latest.c.agent_id).where(latest.c.n == 1)
            ).all()
        )
    return found


def _complaint_follow_ups_before(run: Any) -> None:
    p = run.policy
    every = timedelta(days=max(p.complaint_every_days, 1))
    too_old = run.now - timedelta(days=p.lookback_days)
    still_open = Complaint.status.not_in(CLOSED_COMPLAINT_STATUSES)
    rows = run.session.execute(
        select(Complaint.id, Complaint.customer_id, Complaint.owner_id, Complaint.created_at,
               Complaint.what_happened).where(still_open)
    ).all()  # fmt: skip
    wanted = []
    for row in rows:
        elapsed = int((run.now - row.created_at) / every)
        first = max(1, -((row.created_at - too_old) // every) - 1)
        for n in range(first, max(p.complaint_min_follow_ups, elapsed + 1) + 1):
            due = row.created_at + n * every
            if due >= too_old:
                wanted.append((f"complaint:{row.id}:week:{n}", row, n, due))
    have = set(
        run.session.execute(
            select(Callback.source_key).where(
                Callback.complaint_id.in_(select(Complaint.id).where(still_open)),
                Callback.kind == CallbackKind.COMPLAINT_FOLLOW_UP,
            )
        ).scalars()
    ) if wanted else set()  # fmt: skip
    run.know_zones(row.customer_id for key, row, __, __ in wanted if key not in have)
    for key, row, n, due in wanted:
        if key in have:
            continue
        what = " ".join(row.what_happened.split())
        run.create(key=key, kind=CallbackKind.COMPLAINT_FOLLOW_UP, customer_id=row.customer_id,
                   due_at=due, reason=f"complaint #{row.id}, weekly follow-up {n}: {what[:80]}",
                   owner=row.owner_id, complaint_id=row.id)  # fmt: skip
    closed = select(Complaint.id).where(Complaint.status.in_(CLOSED_COMPLAINT_STATUSES))
    stale = run.session.execute(
        select(Callback).where(
            Callback.complaint_id.in_(closed),
            Callback.kind == CallbackKind.COMPLAINT_FOLLOW_UP,
            Callback.status == CallbackStatus.OPEN,
            Callback.source_key.like("complaint:%:week:%"),
        )
    ).scalars()
    for cb in stale:
        try:
            lifecycle.record_event(run.session, cb, agent_id=None, at=run.now,
                                   action="cancelled",
                                   comment=f"complaint #{cb.complaint_id} closed")  # fmt: skip
        except StaleCallback:
            continue
        cb.status = CallbackStatus.CANCELLED
        run.report.cancelled.append(cb.id)


def _chain_rows_before(conn: Any, table: str, rows: list[dict[str, Any]]) -> None:
    def row_hash(prev_hash: str, content: dict[str, Any]) -> str:
        body = json.dumps(
            [table, prev_hash,
             [[c, audit._canonical(content.get(c))] for c in audit.SEALED_COLUMNS[table]]],
            ensure_ascii=False, separators=(",", ":"),
        )  # fmt: skip
        return hashlib.sha256(body.encode("utf-8")).hexdigest()

    audit._lock(conn, table)
    prev = audit.last_hash(conn, table)
    for row in rows:
        row["prev_hash"] = prev
        row["hash"] = prev = row_hash(prev, row)


def _finish_before(self: Any) -> Any:
    dedicated = members.dedicated_owners(
        self.session, {r["customer_id"] for r in self.rows}, self.members
    ) if self.rows else {}  # fmt: skip
    wanted = [
        (r["customer_id"], p if i in self.joined else members.callback_owner(
            r["kind"], p, dedicated.get(r["customer_id"]), self.owners.active))
        for i, (r, p) in enumerate(zip(self.rows, self.preferred, strict=True))
    ]  # fmt: skip
    owners = self.owners.assign(wanted)
    for row, lead in self.follows.items():
        owners[row] = owners[lead]
    for row, owner in zip(self.rows, owners, strict=True):
        row["owner_id"] = owner
        self.report.created.append(callbacks.Scheduled(
            row["source_key"], row["kind"], row["customer_id"], owner, row["due_at"],
            row["reason"]))  # fmt: skip
    customers = sorted({r["customer_id"] for r in self.rows})
    tiers: dict[int, str] = {}
    from seat.models import Customer

    for i in range(0, len(customers), 500):
        tiers.update(self.session.execute(
            select(Customer.id, Customer.tier).where(Customer.id.in_(customers[i : i + 500]))
        ).all())  # fmt: skip
    for row in self.rows:
        row["customer_tier"] = tiers.get(row["customer_id"])
    for i in range(0, len(self.rows), 500):
        chunk = self.rows[i : i + 500]
        self.session.execute(insert(Callback.__table__), chunk)
        keys = [r["source_key"] for r in chunk]
        ids = self.session.execute(
            select(Callback.id, Callback.source_key).where(Callback.source_key.in_(keys))
        ).all()
        if self.session.get_bind().dialect.name != "sqlite":
            # PostgreSQL gave them in no stated order; SQLite in its index's (the keys').
            ids = sorted(ids, key=lambda r: r[1])
        events = [{"callback_id": cb_id, "agent_id": None, "at": self.now,
                   "action": "scheduled", "comment": f"by the rules: {key}"}
                  for cb_id, key in ids]  # fmt: skip
        if events:
            self.session.flush()
            table = CallbackEvent.__table__
            _chain_rows_before(self.session.connection(), table.name, events)
            self.session.execute(insert(table), events)
    self.session.flush()
    return self.report


def _maintenance_groups_before(
    session: Session, every: dict[str, int], *, today: date, last: date, oldest: datetime,
    before: timedelta, years: int, zone: Any, first_due: date | None = None,
    above: int | None = None,
) -> list[tuple[int, int, str, datetime, str, str, bool]]:  # fmt: skip
    """The (first line, customer, category, start, least item, order) of each order's
    lines of one interval category, within `years`, for the orders one of whose lines
    started in a range that can make a service day due from `today` to `last` + `before`.

    The start of an order's category is its lines' earliest: that line is in a range, so
    the orders found by line, then read whole, hold every one a service day can fall due
    for. Lines by the (category, delivery, purchase) index: delivered ones by their
    delivery, the others by their purchase.

    `first_due` (an incremental run): only the service days from it on are looked for by
    range, and the orders with a line above the purchase id `above` (new since the last
    run) are read whatever their days; the last item of each group says it is one of
    those (its every service day in the window counts)."""
    found: set[tuple[int, str, str]] = set()
    fresh: set[tuple[int, str, str]] = set()
    conn = session.connection()  # Core rows: thousands a run, without the ORM's loading
    if above is not None:
        fresh.update(
            (cid, order_no, category)
            for cid, order_no, category in conn.execute(
                select(Purchase.customer_id, Purchase.order_no, Purchase.category).where(
                    Purchase.id > above, Purchase.category.in_(list(every)),
                    Purchase.purchased_at >= oldest,
                )
            )
        )  # fmt: skip
        found.update(fresh)
    lowest = today if first_due is None else max(today, first_due)
    for category, interval in every.items():
        if lowest > last + before:
            break
        for lo, hi in care._start_ranges(interval, years, lowest, last + before, zone):
            if hi <= oldest:
                continue
            for delivered in (True, False):
                at = Purchase.delivered_at if delivered else Purchase.purchased_at
                known = (
                    Purchase.delivered_at.is_not(None) if delivered
                    else Purchase.delivered_at.is_(None)
                )  # fmt: skip
                found.update(
                    (cid, order_no, category)
                    for cid, order_no in conn.execute(
                        select(Purchase.customer_id, Purchase.order_no).where(
                            Purchase.category == category, known, at >= lo, at < hi,
                            Purchase.purchased_at >= oldest,
                        )
                    )
                )
    orders = sorted({order_no for __, order_no, __c in found})
    groups: dict[tuple[int, str, str], list[Any]] = {}
    start = func.coalesce(Purchase.delivered_at, Purchase.purchased_at)
    for i in range(0, len(orders), care.CHUNK):
        for pid, cid, category, at, item, order_no in conn.execute(
            select(Purchase.id, Purchase.customer_id, Purchase.category, start,
                   Purchase.item, Purchase.order_no)
            .where(Purchase.order_no.in_(orders[i : i + care.CHUNK]),
                   Purchase.category.in_(list(every)), Purchase.purchased_at >= oldest)
        ):  # fmt: skip
            group = (cid, order_no, category)
            if group not in found:
                continue
            seen = groups.get(group)
            if seen is None:
                groups[group] = [pid, at, item]
            else:
                seen[0], seen[1], seen[2] = min(seen[0], pid), min(seen[1], at), min(seen[2], item)
    return [
        (pid, cid, category, at, item, order_no, (cid, order_no, category) in fresh)
        for (cid, order_no, category), (pid, at, item) in groups.items()
    ]


def _dedicated_owners_before(session: Any, customer_ids: Any, policy: Any) -> dict[int, int]:
    ids = sorted(set(customer_ids))
    levels = set(policy.owner_levels)
    tiers = [t for t, level in members.TIER_LEVEL.items() if level in levels]
    found: dict[int, int] = {}
    for i in range(0, len(ids), 500):
        found.update(session.execute(
            select(Customer.id, Customer.owner_id)
            .join(Agent, Agent.id == Customer.owner_id)
            .where(Customer.id.in_(ids[i : i + 500]), Customer.tier.in_([str(t) for t in tiers]),
                   Agent.active)
        ).all())  # fmt: skip
    return found


def _zone_before(self: Any, customer_id: int) -> str:
    return callbacks.key_zones(
        self.zones_key(customer_id), self.policy.home_zone, self.policy.rest_windows
    )[0]


def _due_on_before(self: Any, day: Any, customer_id: int) -> datetime:
    zone = ZoneInfo(_zone_before(self, customer_id))
    return datetime.combine(day, self.policy.call_at, tzinfo=zone).astimezone(UTC)


def _work_day_before(self: Any, due: datetime, customer_id: int) -> Any:
    return callbacks._work_day(due, self.now, _zone_before(self, customer_id))


@contextmanager
def _before(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with monkeypatch.context() as m:
        m.setattr(care, "_maintenance_groups", _maintenance_groups_before)
        m.setattr(members, "dedicated_owners", _dedicated_owners_before)
        m.setattr(callbacks._Run, "zone", _zone_before)
        m.setattr(callbacks._Run, "due_on", _due_on_before)
        m.setattr(callbacks._Run, "work_day", _work_day_before)
        m.setattr(callbacks._Owners, "last_agents", _last_agents_before)
        m.setattr(callbacks, "_complaint_follow_ups", _complaint_follow_ups_before)
        m.setattr(callbacks._Run, "finish", _finish_before)
        m.setattr(care, "_joined_within", lambda session, days, *_a: ())
        yield


# -- the desk and the runs ------------------------------------------------------------------


def _written(engine: Any, settings: Any, now: datetime, marks: tuple[Any, ...]) -> Any:
    """What the rules' run of `now` writes (from the watermark `marks`, or a full run with
    None), read back inside its transaction, then undone."""
    since, purchase_mark = marks
    _rewind(engine)
    with Session(engine, expire_on_commit=False) as s:
        first = s.execute(select(func.coalesce(func.max(Callback.id), 0))).scalar_one()
        first_event = s.execute(
            select(func.coalesce(func.max(CallbackEvent.id), 0))
        ).scalar_one()
        report = callbacks.schedule(
            session=s, now=now, policy=callbacks.load_policy(settings), since=since,
            member_policy=members.load_policy(settings),
            holidays=callbacks.calendar_holidays(settings), purchase_mark=purchase_mark,
        )  # fmt: skip
        s.flush()
        made = [tuple(r) for r in s.execute(
            text("SELECT * FROM callback WHERE id > :n ORDER BY id"), {"n": first})]  # fmt: skip
        moved = [tuple(r) for r in s.execute(
            text("SELECT id, status, version FROM callback WHERE id <= :n ORDER BY id"),
            {"n": first})]  # fmt: skip
        events = [tuple(r) for r in s.execute(
            text("SELECT * FROM callback_event WHERE id > :n ORDER BY id"),
            {"n": first_event})]  # fmt: skip
        s.rollback()
    return made, moved, events, sorted(report.cancelled), report.counts()


def _rewind(engine: Any) -> None:
    """PostgreSQL's sequences are not rolled back: both runs start from the same next id."""
    if engine.dialect.name != "postgresql":
        return
    with Session(engine) as s:
        for table in ("callback", "callback_event"):
            s.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            ))  # fmt: skip
        s.commit()


@pytest.mark.parametrize("seed", [3, 11])
def test_the_days_run_writes_what_the_computation_before_wrote(
    engine, settings, monkeypatch, tmp_path, seed: int
):
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "none" / "config.toml"))  # no override
    rng = random.Random(seed)
    start = NOW - timedelta(days=rng.randint(0, 40))
    demo.seed(engine, customers=900, calls=5000, callbacks=600, work_orders=150,
              purchases=4000, seed=seed, now=start)  # fmt: skip
    clock = FixedClock(start)
    desk = Desk(engine=engine, clock=clock, settings=settings)
    callbacks.run_scheduler(desk)  # the first run: the watermark
    for __ in range(4):  # mostly the next day (a few days of the month to read), or later
        clock.advance(days=rng.choice((1, 1, 2, 8)), hours=rng.randint(0, 5))
        marks = desk.run(lambda s: (
            leases.watermark(session=s, name=leases.CALLBACK_RULES)[0],
            leases.purchase_mark(session=s, name=leases.CALLBACK_RULES),
        ))  # fmt: skip
        for run_marks in (marks, (None, None)):  # the day's run, and a full one
            now = _written(engine, settings, clock.now(), run_marks)
            with _before(monkeypatch):
                before = _written(engine, settings, clock.now(), run_marks)
            assert now == before
            assert now[0] and now[2]  # the rules made callbacks and their events
        callbacks.run_scheduler(desk)  # the day's run kept: the next one starts from it

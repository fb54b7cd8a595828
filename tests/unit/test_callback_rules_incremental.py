"""The day's callback rules run incrementally: after any change, a run that starts from the
last run's watermark creates (and cancels) exactly what a full run would."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlmodel import Session

from seat import callbacks, customers, members
from seat.callbacks import CallbackPolicy, ScheduleReport, record_attempt, schedule
from seat.models import (
    Call,
    Callback,
    CallbackKind,
    Complaint,
    DailyJob,
    Purchase,
    WorkOrder,
    WorkOrderEvent,
)
from tests.conftest import NOW

POLICY = CallbackPolicy()
T0 = NOW  # the last run
DAY = timedelta(days=1)


def _member(session: Session, world: dict[str, int], n: int, **kw: object) -> int:
    """A customer who joined `joined_days` (400) days before T0, with a last call or
    purchase `*_days` before T0 when given."""
    call_days = kw.pop("call_days", None)
    buy_days = kw.pop("buy_days", None)
    joined_days = kw.pop("joined_days", 400)
    c = customers.create_customer(
        session=session, now=T0 - timedelta(days=joined_days),  # type: ignore[arg-type]
        name=f"Member {n}",
        phone_text=f"139 5555 01{n:02d}", **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    if call_days is not None:
        session.add(Call(agent_id=world["wang"], customer_id=c.id,
                         started_at=T0 - timedelta(days=call_days)))  # fmt: skip
    if buy_days is not None:
        session.add(Purchase(customer_id=c.id, order_no=f"O-{n}", item="lamp",
                             purchased_at=T0 - timedelta(days=buy_days)))  # fmt: skip
    session.flush()
    return c.id  # type: ignore[return-value]


def _world(session: Session, world: dict[str, int]) -> dict[str, int]:
    """Members near every edge the rules have, as they stood at the last run (T0). Churn is
    the member rules': no purchase for 90 days (calls do not count)."""
    ids = {
        "crosses by joining": _member(session, world, 1, tier="gold", joined_days=89.5,
                                      call_days=100),
        "crosses by purchase": _member(session, world, 2, tier="platinum", buy_days=89.8),
        "ordinary": _member(session, world, 3),
        "waiting": _member(session, world, 4, tier="gold"),
        "churned": _member(session, world, 5, tier="diamond", buy_days=95, call_days=3),
        "birthday soon": _member(session, world, 6, tier="vip", buy_days=10,
                                 birthday=(T0 + 12 * DAY).date().replace(year=1980)),
    }  # fmt: skip
    # A churn call someone made by hand: while it is open, the rules make no other.
    waiting = Callback(customer_id=ids["waiting"], owner_id=world["li"], kind=CallbackKind.CHURNED,
                       reason="asked by hand", due_at=T0 + DAY, created_at=T0 - DAY)  # fmt: skip
    complaint = Complaint(customer_id=world["tom"], owner_id=world["wang"],
                          what_happened="Dryer noisy", customer_wants="A fix",
                          status="investigating", created_at=T0 - 8 * DAY)  # fmt: skip
    order = WorkOrder(kind="service_request", short_text="Washer drum", status="completed",
                      customer_id=world["fang"], assignee_id=world["wang"], due_at=T0,
                      created_at=T0 - 5 * DAY)  # fmt: skip
    session.add_all([waiting, complaint, order])
    session.flush()
    ids.update(waiting_callback=waiting.id, complaint=complaint.id, order=order.id)  # type: ignore[arg-type]
    return ids


def _tier_rose(session: Session, world: dict[str, int], ids: dict[str, int]) -> None:
    customers.update_customer(session=session, customer_id=ids["ordinary"],
                              agent_id=world["li"], now=T0 + timedelta(hours=2),
                              tier="gold")  # fmt: skip


def _settled(session: Session, world: dict[str, int], ids: dict[str, int]) -> None:
    record_attempt(session=session, callback_id=ids["waiting_callback"], agent_id=world["li"],
                   outcome="resolved", now=T0 + timedelta(hours=3), policy=POLICY)  # fmt: skip


def _bought_again(session: Session, world: dict[str, int], ids: dict[str, int]) -> None:
    for who in ("churned", "crosses by purchase"):
        session.add(Purchase(customer_id=ids[who], order_no=f"again-{who}", item="kettle",
                             purchased_at=T0 + timedelta(hours=4)))  # fmt: skip


def _called_back(session: Session, world: dict[str, int], ids: dict[str, int]) -> None:
    """A call is no purchase: it changes nobody's churn."""
    for who in ("churned", "crosses by joining"):
        session.add(Call(agent_id=world["li"], customer_id=ids[who],
                         started_at=T0 + timedelta(hours=4)))  # fmt: skip


def _order_done(session: Session, world: dict[str, int], ids: dict[str, int]) -> None:
    session.add(WorkOrderEvent(work_order_id=ids["order"], agent_id=world["wang"],
                               at=T0 + timedelta(hours=5), action="complete",
                               from_status="replied", to_status="completed"))  # fmt: skip


def _complaint_closed(session: Session, world: dict[str, int], ids: dict[str, int]) -> None:
    session.execute(update(Complaint).where(Complaint.id == ids["complaint"])
                    .values(status="closed", closed_at=T0 + timedelta(hours=6)))  # fmt: skip


def _late_row(session: Session, world: dict[str, int], ids: dict[str, int]) -> None:
    """Another seat's write, committed after the last run, timed just before it."""
    record_attempt(session=session, callback_id=ids["waiting_callback"], agent_id=world["li"],
                   outcome="resolved", now=T0 - timedelta(minutes=10), policy=POLICY)  # fmt: skip


def _everything(session: Session, world: dict[str, int], ids: dict[str, int]) -> None:
    for change in (_tier_rose, _settled, _bought_again, _called_back, _order_done,
                   _complaint_closed):
        change(session, world, ids)


Change = Callable[[Session, dict[str, int], dict[str, int]], None]


def _nothing(session: Session, world: dict[str, int], ids: dict[str, int]) -> None:
    pass


def _made(report: ScheduleReport) -> tuple[list[tuple[object, ...]], list[int]]:
    rows = sorted(
        (s.source_key, s.kind, s.customer_id, s.owner_id, s.due_at, s.reason)
        for s in report.created
    )
    return rows, sorted(report.cancelled)


@pytest.mark.parametrize("later", [timedelta(hours=1), DAY, 3 * DAY, 40 * DAY])
@pytest.mark.parametrize(
    "change",
    [_nothing, _tier_rose, _settled, _bought_again, _called_back, _order_done,
     _complaint_closed, _late_row, _everything],
)  # fmt: skip
def test_incremental_run_equals_a_full_run(session, world, change: Change, later: timedelta):
    ids = _world(session, world)
    session.commit()
    first = schedule(session=session, now=T0, policy=POLICY)
    assert first.counts().get("churned") == 1  # "churned"; "waiting" waits for its call
    session.commit()
    change(session, world, ids)
    session.commit()
    now = T0 + later
    full = _made(schedule(session=session, now=now, policy=POLICY))
    session.rollback()  # the full run's rows go: the same database for the incremental one
    incremental = _made(schedule(session=session, now=now, policy=POLICY, since=T0))
    assert incremental == full


@pytest.mark.parametrize(
    ("change", "keys"),
    [
        (_nothing, {"churned:crosses by joining", "churned:crosses by purchase"}),
        (_tier_rose, {"churned:crosses by joining", "churned:crosses by purchase",
                      "churned:ordinary"}),
        (_settled, {"churned:crosses by joining", "churned:crosses by purchase",
                    "churned:waiting"}),
        (_bought_again, {"churned:crosses by joining"}),
        (_called_back, {"churned:crosses by joining", "churned:crosses by purchase"}),
    ],
)  # fmt: skip
def test_the_incremental_run_finds_what_changed(session, world, change: Change, keys: set[str]):
    """What the equality above compares is not empty: each change makes its callbacks."""
    ids = _world(session, world)
    session.commit()
    schedule(session=session, now=T0, policy=POLICY)
    session.commit()
    change(session, world, ids)
    session.commit()
    report = schedule(session=session, now=T0 + DAY, policy=POLICY, since=T0)
    names = {v: k for k, v in ids.items() if k not in ("waiting_callback", "complaint", "order")}
    made = {f"churned:{names.get(s.customer_id)}" for s in report.created if s.rule == "churned"}
    assert made == keys


def test_a_watermark_ahead_of_the_clock_means_a_full_run(session, world):
    ids = _world(session, world)
    session.commit()
    full = _made(schedule(session=session, now=T0, policy=POLICY))
    session.rollback()
    assert _made(schedule(session=session, now=T0, policy=POLICY, since=T0 + DAY)) == full
    assert ids


def test_birthday_ranges_cover_every_greeting():
    """The birth dates read per year are a superset of the birthdays greeted in the window,
    29 February and the turn of the year included."""
    for start in (date(2026, 2, 20), date(2028, 2, 20), date(2026, 12, 26), date(2027, 2, 28)):
        last = start + timedelta(days=10)
        ranges = callbacks._birthday_ranges(start, last, 1979, 1985)
        assert ranges is not None
        day = date(1979, 1, 1)
        while day.year <= 1985:
            greeted = callbacks._next_birthday(day, start)
            if greeted <= last:
                assert any(lo <= day <= hi for lo, hi in ranges), (start, day)
            day += DAY
    assert callbacks._birthday_ranges(date(2026, 1, 1), date(2027, 1, 5), 1980, 1981) is None


def test_run_scheduler_keeps_a_watermark_and_starts_over_under_other_rules(
    engine, clock, settings, world, monkeypatch, tmp_path
):
    from seat.services import Desk

    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "none" / "config.toml"))  # no override
    desk = Desk(engine=engine, clock=clock, settings=settings)
    seen: list[datetime | None] = []
    real = callbacks.schedule

    def spy(*, session: Session, now: datetime, policy: CallbackPolicy,
            since: datetime | None = None, **kw: object) -> ScheduleReport:  # fmt: skip
        seen.append(since)
        return real(session=session, now=now, policy=policy, since=since, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(callbacks, "schedule", spy)
    callbacks.run_scheduler(desk)
    callbacks.run_scheduler(desk, force=True)
    assert seen == [None, clock.now()]  # the first run is full; the next starts from it
    with Session(engine) as s:
        job = s.execute(select(DailyJob)).scalar_one()
        assert job.watermark == clock.now()
        assert job.rules == callbacks.rules_fingerprint(
            callbacks.load_policy(settings), members.load_policy(settings)
        )
    other = replace(callbacks.load_policy(settings), birthday_days_before=5)
    monkeypatch.setattr(callbacks, "load_policy", lambda _settings: other)
    callbacks.run_scheduler(desk, force=True)
    assert seen[-1] is None  # other rules: a full run
    callbacks.run_scheduler(desk, force=True)
    assert seen[-1] == clock.now()
    # Other member rules (what churn is) are other rules too.
    churn = replace(members.load_policy(settings), churn_after_days=60)
    monkeypatch.setattr(members, "load_policy", lambda _settings: churn)
    callbacks.run_scheduler(desk, force=True)
    assert seen[-1] is None
    callbacks.run_scheduler(desk, force=True)
    assert seen[-1] == clock.now()


def _delivered(session: Session, customer_id: int, order_no: str, at: datetime) -> None:
    session.add(Purchase(customer_id=customer_id, order_no=order_no, item="fridge",
                         purchased_at=at - 2 * DAY, delivered_at=at))  # fmt: skip
    session.flush()


def _history_imported(session: Session, world: dict[str, int]) -> None:
    """A line delivered 10 days before the last run, imported after it (a new id)."""
    _delivered(session, world["min"], "IMPORTED-1", T0 - 10 * DAY)


def _delivered_today(session: Session, world: dict[str, int]) -> None:
    _delivered(session, world["min"], "NEW-1", T0 + timedelta(hours=3))


def _merged(session: Session, world: dict[str, int]) -> None:
    """Tom, whose delivery was called about at the last run, merged into Min: the line
    is Min's now, and so is the call's key."""
    from seat import agents, merge

    boss = agents.ensure_agent(session=session, name="zhao.lei", role="supervisor")
    merge.merge(session, survivor_id=world["min"], other_id=world["tom"], agent_id=boss.id,
                now=T0 + timedelta(hours=5))  # fmt: skip


def _no_purchase_change(session: Session, world: dict[str, int]) -> None:
    pass


@pytest.mark.parametrize("later", [timedelta(hours=1), DAY, 3 * DAY])
@pytest.mark.parametrize(
    ("change", "made"),
    [(_no_purchase_change, 0), (_history_imported, 1), (_delivered_today, 1), (_merged, 1)],
)
def test_new_buyers_from_the_watermark_equal_a_full_run(
    session, world, change: Callable[[Session, dict[str, int]], None], made: int,
    later: timedelta,
):  # fmt: skip
    """A run from the watermark and the purchase mark reads only the lines new since, those
    delivered since and a merge's survivor's: it makes what a full run makes."""
    from seat import merge

    assert callbacks.MERGED_FROM == merge.MERGED_FROM
    _delivered(session, world["tom"], "OLD-1", T0 - 5 * DAY)
    _delivered(session, world["fang"], "OLD-2", T0 - 20 * DAY)
    session.commit()
    first = schedule(session=session, now=T0, policy=POLICY)
    assert {s.source_key for s in first.created} >= {
        f"new_buyer:{world['tom']}:order:OLD-1", f"new_buyer:{world['fang']}:order:OLD-2"
    }
    mark = session.execute(select(func.max(Purchase.id))).scalar()
    session.commit()
    change(session, world)
    session.commit()
    now = T0 + later
    full = _made(schedule(session=session, now=now, policy=POLICY))
    session.rollback()
    incremental = _made(
        schedule(session=session, now=now, policy=POLICY, since=T0, purchase_mark=mark)
    )
    assert incremental == full
    assert len([r for r in full[0] if str(r[0]).startswith("new_buyer:")]) == made


def test_existing_keys_are_those_callbacks_hold(session, world):
    """The run's key check (the places of the missing keys, in chunks of 500, each padded
    with its last key) answers as a plain look-up of every key would."""
    held = [f"manual:{i}:Ünï 🎉" for i in range(0, 1100, 3)]
    session.add_all([
        Callback(customer_id=world["tom"], owner_id=world["li"], kind=CallbackKind.CHURNED,
                 reason="x", due_at=T0, created_at=T0, source_key=key)
        for key in held
    ])  # fmt: skip
    session.flush()
    run = callbacks._Run(session, T0, POLICY, None)
    for keys in ([f"manual:{i}:Ünï 🎉" for i in range(1100)], held[:1], ["nobody"],
                 [f"manual:{i}:Ünï 🎉" for i in range(1099, 600, -1)]):
        on_file = set(session.execute(
            select(Callback.source_key).where(Callback.source_key.in_(keys))
        ).scalars())  # fmt: skip
        assert run.existing(keys) == on_file

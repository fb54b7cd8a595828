"""The next day's run of the callback rules (run_scheduler from the last run's watermark and
purchase mark) makes exactly the callbacks a full run of that day would: same source keys,
kinds, customers, owners, due times and reasons. On a small desk with every care cadence
near the window's edges (routine calls, renewals, maintenance, birthdays), after a change
of each kind: a purchase imported with an old delivery, a line added to an order, a tier
raised, a customer joining, a birthday edited, a membership renewed, a complaint closed, a
work order completed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlmodel import Session

from seat import callbacks, customers, members
from seat.callbacks import ScheduleReport, schedule
from seat.models import Complaint, Customer, DailyJob, Purchase, WorkOrder, WorkOrderEvent
from seat.services import Desk

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = timedelta(days=1)

Ids = dict[str, int]
Change = Callable[[Session, Ids, Ids, datetime], None]


def _local(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI).astimezone(UTC)


def _desk(session: Session, world: Ids, now: datetime) -> Ids:
    """Members whose routine calls, renewals, service days and birthdays fall on each of
    the three weeks from `now`: some inside the first run's window, some entering later."""
    today = now.astimezone(SHANGHAI).date()
    ids: Ids = {}
    for j in range(21):
        day = today + j * DAY
        # Routine: joined a month before `day` (monthly), or 15 months before (quarterly).
        monthly = customers.create_customer(
            session=session, now=_local(day - 31 * DAY, 9), name=f"Monthly {j}",
            phone_text=f"139 5555 1{j:03d}", tier="gold",
        )  # fmt: skip
        quarterly = customers.create_customer(
            session=session, now=_local(day - 457 * DAY, 9), name=f"Quarterly {j}",
            phone_text=f"139 5555 2{j:03d}", tier="platinum",
            birthday=(day + 3 * DAY).replace(year=1980),
        )  # fmt: skip
        session.flush()
        ids[f"monthly {j}"], ids[f"quarterly {j}"] = monthly.id, quarterly.id  # type: ignore[assignment]
        # Maintenance: an appliance delivered a year (365 days) and a week before `day`;
        # consumables (every 90 days), not delivered, bought 90 days and a week before.
        session.add_all([
            Purchase(customer_id=monthly.id, order_no=f"A-{j}", line_no=1, item="washer",
                     category="appliance", purchased_at=_local(day - 380 * DAY),
                     delivered_at=_local(day - 358 * DAY)),
            Purchase(customer_id=quarterly.id, order_no=f"C-{j}", line_no=1, item="filter",
                     category="consumables", purchased_at=_local(day - 83 * DAY)),
        ])  # fmt: skip
        # Renewals: memberships ending over the next two months.
        session.execute(update(Customer).where(Customer.id == quarterly.id)
                        .values(member_until=day + 20 * DAY + j * DAY))  # fmt: skip
    ordinary = customers.create_customer(
        session=session, now=_local(today + 2 * DAY - 31 * DAY, 9), name="Ordinary",
        phone_text="139 5555 3001",
    )  # fmt: skip
    complaint = Complaint(customer_id=world["tom"], owner_id=world["wang"],
                          what_happened="Dryer noisy", customer_wants="A fix",
                          status="investigating", created_at=now - 8 * DAY)  # fmt: skip
    order = WorkOrder(kind="service_request", short_text="Washer drum", status="replied",
                      customer_id=world["fang"], assignee_id=world["wang"], due_at=now,
                      created_at=now - 5 * DAY)  # fmt: skip
    session.add_all([complaint, order])
    session.flush()
    ids.update(ordinary=ordinary.id, complaint=complaint.id, order=order.id)  # type: ignore[arg-type]
    return ids


def _nothing(session: Session, world: Ids, ids: Ids, now: datetime) -> None:
    pass


def _purchase_imported(session: Session, world: Ids, ids: Ids, now: datetime) -> None:
    """An order line imported today with the order system's old times: its service day
    falls in the part of the window the last run read already."""
    today = now.astimezone(SHANGHAI).date()
    session.add(Purchase(customer_id=ids["monthly 3"], order_no="LATE-1", line_no=1,
                         item="dryer", category="appliance",
                         purchased_at=_local(today - 400 * DAY),
                         delivered_at=_local(today - 362 * DAY)))  # fmt: skip


def _line_added(session: Session, world: Ids, ids: Ids, now: datetime) -> None:
    """A line added to an order, delivered earlier than its first: the order's service
    days move."""
    today = now.astimezone(SHANGHAI).date()
    session.add(Purchase(customer_id=ids["monthly 12"], order_no="A-12", line_no=2,
                         item="hose", category="appliance",
                         purchased_at=_local(today - 400 * DAY),
                         delivered_at=_local(today - 361 * DAY)))  # fmt: skip


def _tier_rose(session: Session, world: Ids, ids: Ids, now: datetime) -> None:
    customers.update_customer(session=session, customer_id=ids["ordinary"],
                              agent_id=world["li"], now=now - timedelta(hours=3),
                              tier="gold")  # fmt: skip


def _joined(session: Session, world: Ids, ids: Ids, now: datetime) -> None:
    customers.create_customer(session=session, now=now - timedelta(hours=2), name="New",
                              phone_text="139 5555 3002", tier="vip",
                              birthday=(now + 2 * DAY).date().replace(year=1990))  # fmt: skip


def _birthday_edited(session: Session, world: Ids, ids: Ids, now: datetime) -> None:
    soon = (now.astimezone(SHANGHAI).date() + 2 * DAY).replace(year=1975)
    session.execute(update(Customer).where(Customer.id == ids["quarterly 18"])
                    .values(birthday=soon))  # fmt: skip


def _renewed(session: Session, world: Ids, ids: Ids, now: datetime) -> None:
    """One membership renewed for a year, one that ended long ago renewed to next month."""
    today = now.astimezone(SHANGHAI).date()
    session.execute(update(Customer).where(Customer.id == ids["quarterly 2"])
                    .values(member_until=today + 400 * DAY))  # fmt: skip
    session.execute(update(Customer).where(Customer.id == ids["monthly 5"])
                    .values(member_until=today + 25 * DAY))  # fmt: skip


def _complaint_closed(session: Session, world: Ids, ids: Ids, now: datetime) -> None:
    session.execute(update(Complaint).where(Complaint.id == ids["complaint"])
                    .values(status="closed", closed_at=now - timedelta(hours=6)))  # fmt: skip


def _order_done(session: Session, world: Ids, ids: Ids, now: datetime) -> None:
    session.execute(update(WorkOrder).where(WorkOrder.id == ids["order"])
                    .values(status="completed"))  # fmt: skip
    session.add(WorkOrderEvent(work_order_id=ids["order"], agent_id=world["wang"],
                               at=now - timedelta(hours=5), action="complete",
                               from_status="replied", to_status="completed"))  # fmt: skip


def _everything(session: Session, world: Ids, ids: Ids, now: datetime) -> None:
    for change in (_purchase_imported, _line_added, _tier_rose, _joined, _birthday_edited,
                   _renewed, _complaint_closed, _order_done):
        change(session, world, ids, now)


def _made(report: ScheduleReport) -> tuple[list[tuple[object, ...]], list[int]]:
    rows = sorted(
        (s.source_key, s.kind, s.customer_id, s.owner_id, s.due_at, s.reason)
        for s in report.created
    )
    return rows, sorted(report.cancelled)


@pytest.mark.parametrize("later", [DAY, 2 * DAY, 10 * DAY])
@pytest.mark.parametrize(
    "change",
    [_nothing, _purchase_imported, _line_added, _tier_rose, _joined, _birthday_edited,
     _renewed, _complaint_closed, _order_done, _everything],
)  # fmt: skip
def test_the_next_days_run_makes_what_a_full_run_would(
    engine, clock, settings, world, monkeypatch, tmp_path, change: Change, later: timedelta
):
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "none" / "config.toml"))  # no override
    with Session(engine, expire_on_commit=False) as s:
        ids = _desk(s, world, clock.now())
        s.commit()
    desk = Desk(engine=engine, clock=clock, settings=settings)
    first = callbacks.run_scheduler(desk)  # day D: the full run
    assert {"routine", "maintenance", "renewal", "birthday"} <= set(first.counts())
    clock.advance(days=later.days)
    with Session(engine, expire_on_commit=False) as s:
        change(s, world, ids, clock.now())
        s.commit()
    with Session(engine, expire_on_commit=False) as s:  # the full run of day D+n, undone
        full = _made(schedule(
            session=s, now=clock.now(), policy=callbacks.load_policy(settings),
            member_policy=members.load_policy(settings),
            holidays=callbacks.calendar_holidays(settings),
        ))  # fmt: skip
        s.rollback()
    seen: list[tuple[datetime | None, int | None]] = []
    real = callbacks.schedule

    def spy(**kw: object) -> ScheduleReport:
        seen.append((kw.get("since"), kw.get("purchase_mark")))  # type: ignore[arg-type]
        return real(**kw)  # type: ignore[arg-type]

    monkeypatch.setattr(callbacks, "schedule", spy)
    incremental = _made(callbacks.run_scheduler(desk))
    assert seen and seen[0][0] == clock.now() - later and seen[0][1] is not None  # from D's marks
    assert incremental == full
    if change is not _nothing:
        assert full[0] or full[1]  # there was something to make


def test_the_run_keeps_the_highest_purchase_id_it_saw(engine, clock, settings, world,
                                                      monkeypatch, tmp_path):  # fmt: skip
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "none" / "config.toml"))
    with Session(engine, expire_on_commit=False) as s:
        _desk(s, world, clock.now())
        s.commit()
        newest = s.execute(select(Purchase.id).order_by(Purchase.id.desc())).scalars().first()
    callbacks.run_scheduler(Desk(engine=engine, clock=clock, settings=settings))
    with Session(engine) as s:
        assert s.execute(select(DailyJob.purchase_mark)).scalar_one() == newest


def test_the_run_has_a_page_cache_for_its_writes_and_gives_it_back(
    engine, clock, settings, world, monkeypatch, tmp_path
):  # fmt: skip
    """SQLite: the day's run writes with a page cache of RUN_CACHE_KIB (its changed pages
    are not written out and read back during the run); the connection has its own size
    again afterwards (PRAGMA cache_size: nothing stored). PostgreSQL: no PRAGMA at all."""
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "none" / "config.toml"))
    with Session(engine, expire_on_commit=False) as s:
        _desk(s, world, clock.now())
        s.commit()
    real = callbacks.schedule
    seen: list[tuple[object, int]] = []

    def spy(*, session: Session, **kw: object) -> ScheduleReport:
        conn = session.connection()
        if conn.dialect.name == "sqlite":
            dbapi = conn.connection.dbapi_connection
            seen.append((dbapi, dbapi.execute("PRAGMA cache_size").fetchone()[0]))
        return real(session=session, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(callbacks, "schedule", spy)
    report = callbacks.run_scheduler(Desk(engine=engine, clock=clock, settings=settings))
    assert report.created
    if engine.dialect.name != "sqlite":
        assert seen == []
        return
    [(dbapi, during)] = seen
    assert during == -callbacks.RUN_CACHE_KIB
    assert dbapi.execute("PRAGMA cache_size").fetchone()[0] == -2000  # SQLite's default

"""The member report's spend per month from the purchases' amounts kept per hour (migration
0063, `purchase_hour`, kept by triggers on `purchase`): after every kind of write (the ORM,
plain UPDATE and DELETE statements of times and amounts, a customer merge, an import) the
kept hours equal the purchases' own GROUP BY, the upgrade makes them from the purchases on
file, and the report writes byte for byte what the computation before it wrote, also in
zones half and three quarters of an hour off UTC (a month's edge cuts an hour: those
purchases read live). Both backends (SEAT_TEST_POSTGRES_URL)."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from seat import agents, members, merge, purchases
from seat.config import Settings
from seat.db import _alembic_config, upgrade
from seat.export import write
from seat.models import Customer, Purchase, PurchaseHour
from seat.reports import members as report
from tests.conftest import NOW
from tests.unit import member_report_before as before

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ZONES = ("Asia/Shanghai", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns")


def _hour(at: datetime) -> int:
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return int((at - EPOCH).total_seconds() // 3600)


def _kept(s: Session) -> dict[int, tuple[int, float]]:
    return {
        h: (n, round(a, 6))
        for h, n, a in s.execute(select(PurchaseHour.hour, PurchaseHour.n, PurchaseHour.amount))
    }


def _recounted(s: Session) -> dict[int, tuple[int, float]]:
    out: dict[int, list[float]] = {}
    for at, amount in s.execute(select(Purchase.purchased_at, Purchase.amount)):
        out.setdefault(_hour(at), []).append(amount)
    return {h: (len(v), round(sum(v), 6)) for h, v in out.items()}


def _check(s: Session) -> None:
    s.flush()
    assert _kept(s) == _recounted(s)


def _people(s: Session, n: int) -> list[int]:
    made = [Customer(name=f"Buyer {k}", created_at=NOW, updated_at=NOW) for k in range(n)]
    s.add_all(made)
    s.flush()
    return [c.id for c in made]  # type: ignore[misc]


def _edges(zone: str) -> list[datetime]:
    """Local midnights of month starts (and 90 days before), as UTC instants."""
    out = []
    for month in range(1, 13):
        day = date(2026, month, 1)
        for d in (day, day - timedelta(days=90)):
            out.append(datetime.combine(d, time.min, tzinfo=ZoneInfo(zone)).astimezone(UTC))
    return out


def _buy(s: Session, ids: list[int], zone: str, tag: str) -> None:
    """Purchases a microsecond either side of each local month edge, at the edge, and at the
    whole UTC hours around it (the hour the edge cuts and its neighbours)."""
    k = 0
    for at in _edges(zone):
        top = at.replace(minute=0, second=0, microsecond=0)
        for when in (at - timedelta(microseconds=1), at, at + timedelta(microseconds=1),
                     top, top + timedelta(hours=1) - timedelta(microseconds=1),
                     top - timedelta(hours=1), at + timedelta(minutes=7)):  # fmt: skip
            s.add(Purchase(customer_id=ids[k % len(ids)], order_no=f"{tag}-{k}", line_no=1,
                           item="x", amount=10 + (k % 17) + (k % 7) / 100,
                           purchased_at=when))  # fmt: skip
            k += 1


def test_kept_hours_follow_every_write(session):
    s = session
    _check(s)
    ids = _people(s, 12)
    for zone in ZONES:
        _buy(s, ids, zone, zone)
    _check(s)
    assert len(_kept(s)) > 50
    # Times and amounts changed by plain statements (one row and many), nothing changed.
    first = s.execute(select(Purchase.id).order_by(Purchase.id)).scalars().first()
    s.execute(update(Purchase).where(Purchase.id == first)
              .values(purchased_at=NOW - timedelta(days=400, minutes=1)))  # fmt: skip
    _check(s)
    s.execute(update(Purchase).where(Purchase.id % 3 == 0).values(amount=Purchase.amount + 0.3))
    _check(s)
    moved = s.execute(select(Purchase.id, Purchase.purchased_at).where(Purchase.id % 5 == 0))
    for pid, at in moved.all():
        s.execute(update(Purchase).where(Purchase.id == pid)
                  .values(purchased_at=at + timedelta(minutes=59)))  # fmt: skip
    _check(s)
    s.execute(update(Purchase).where(Purchase.id % 4 == 0).values(item="y"))
    _check(s)
    # A merge moves purchases between customers (no hour changes); an import adds some.
    boss = agents.ensure_agent(session=s, name="zhao.lei", role="supervisor")
    merge.merge(s, survivor_id=ids[0], other_id=ids[1], agent_id=boss.id, now=NOW)
    _check(s)
    # ORM deletes, a plain DELETE of many, then every purchase: no hour left.
    for p in s.execute(select(Purchase).where(Purchase.id % 7 == 0)).scalars().all():
        s.delete(p)
    _check(s)
    s.execute(delete(Purchase).where(Purchase.id % 2 == 0))
    _check(s)
    s.execute(delete(Purchase))
    _check(s)
    assert _kept(s) == {}
    s.rollback()


def test_an_import_keeps_the_hours(session, tmp_path):
    s = session
    ids = _people(s, 3)
    path = tmp_path / "p.csv"
    path.write_text(
        "customer,date,order,product,amount\n"
        + "".join(f"#{ids[k % 3]},2025-{1 + k % 12:02d}-{1 + k % 28:02d},IMP-{k},x,{10 + k}.25\n"
                  for k in range(30)),
        encoding="utf-8",
    )  # fmt: skip
    assert purchases.import_csv(session=s, path=path, now=NOW, zone="Asia/Kolkata").imported == 30
    _check(s)
    assert sum(n for n, _a in _kept(s).values()) == 30


def test_migration_counts_the_rows_on_file(engine, session):
    """A desk from before 0063 (both backends): the upgrade makes each kept hour from the
    purchases on file, as the triggers would have."""
    ids = _people(session, 5)
    _buy(session, ids, "Asia/Kolkata", "OLD")
    session.commit()
    with Session(engine) as s:
        was = _recounted(s)
    assert was
    command.downgrade(_alembic_config(engine), "0055")
    with Session(engine) as s:  # written while nothing keeps the hours
        s.add(Purchase(customer_id=ids[0], order_no="LATE", line_no=1, item="x", amount=1.5,
                       purchased_at=NOW - timedelta(days=3)))  # fmt: skip
        s.execute(update(Purchase).where(Purchase.id % 2 == 0).values(amount=Purchase.amount * 2))
        s.commit()
    upgrade(engine)
    with Session(engine) as s:
        assert _kept(s) == _recounted(s) != was
        on_file = s.execute(select(func.count()).select_from(Purchase)).scalar()
        assert s.execute(select(func.sum(PurchaseHour.n))).scalar() == on_file


def _written(tables, fmt: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        write(tables, fmt, None)
    return out.getvalue()


@pytest.mark.parametrize("zone", ZONES)
def test_the_same_month_spends_in_any_zone(engine, session, zone):
    """Months whose edges cut an hour (India, Nepal, Newfoundland): the kept whole hours plus
    the cut hours read live add up to what the sum over every purchase gave, after writes
    made after the hours were kept."""
    s = session
    ids = _people(s, 20)
    for z in ZONES:
        _buy(s, ids, z, z)
    s.flush()
    s.execute(update(Purchase).where(Purchase.id % 3 == 0).values(amount=Purchase.amount + 1.01))
    s.execute(delete(Purchase).where(Purchase.id % 11 == 0))
    boss = agents.ensure_agent(session=s, name="zhao.lei", role="supervisor")
    merge.merge(s, survivor_id=ids[2], other_id=ids[3], agent_id=boss.id, now=NOW)
    s.commit()
    settings = replace(Settings(), local_timezone=zone)
    for first, last in ((date(2025, 10, 1), date(2026, 11, 23)), (date(2026, 3, 1),
                                                                  date(2026, 3, 31))):
        args = dict(date_from=first, date_to=last, settings=settings, now=NOW,
                    policy=members.MemberPolicy())  # fmt: skip
        with Session(engine) as r:
            was = report.tables_of(before.analyse(session=r, **args), now=NOW, zone=zone)
            now = report.tables_of(report.analyse(session=r, **args), now=NOW, zone=zone)
            spends = [m.spend for m in report.analyse(session=r, **args).months]
        assert any(spends)
        for fmt in ("csv", "json"):
            assert _written(now, fmt) == _written(was, fmt), (zone, fmt)

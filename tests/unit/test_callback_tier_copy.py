"""The tier a callback or a purchase keeps (customer_tier, migration 0035) is its customer's
tier through re-tiering, pins, merges and imports, on both databases; and the coverage
counted from it is the coverage counted by looking up each callback's or order's customer.

A seeded demo desk (the rules run on it) is re-tiered (the rules, a bulk UPDATE, one
customer changed through the ORM, a pin), has customers merged (their callbacks and
purchases move to the survivor) and imported (with purchases, and callbacks made for them
by the rules, the ORM and plain SQL); then the coverage table and its list are compared
with the row-by-row reference (tests/unit/callback_report_before.py) over several periods,
whole and cut.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, true, update
from sqlmodel import Session

from seat import agents, members
from seat.callbacks import CallbackPolicy, schedule
from seat.config import Settings
from seat.db import make_engine
from seat.export import write
from seat.importer import import_csv
from seat.merge import merge
from seat.models import Callback, Customer, Purchase
from seat.reports import callbacks as report
from seat.tools import demo
from tests.conftest import NOW
from tests.unit import callback_report_before as before
from tests.unit import callback_report_current as current

POLICY = CallbackPolicy()
MEMBERS = set(POLICY.member_tiers)


def _with_callbacks(s: Session, n: int, *, offset: int = 0) -> list[int]:
    """`n` customers (not merged away) with callbacks due before NOW, by id."""
    return list(
        s.execute(
            select(Callback.customer_id)
            .join(Customer, Customer.id == Callback.customer_id)
            .where(Customer.merged_into_id.is_(None), Callback.due_at < NOW)
            .group_by(Callback.customer_id)
            .order_by(Callback.customer_id)
            .offset(offset)
            .limit(n)
        ).scalars()
    )


def _mismatched(s: Session) -> list[object]:
    """Rows whose tier is not their customer's: none. NULL is "not known yet" (a row SQLite
    was given without it, looked up when read); PostgreSQL never leaves it NULL."""
    sqlite = s.get_bind().dialect.name == "sqlite"
    return [
        row
        for model in (Callback, Purchase)
        for row in s.execute(
            select(model.id, model.customer_tier, Customer.tier)
            .join(Customer, Customer.id == model.customer_id)
            .where(
                model.customer_tier.is_distinct_from(Customer.tier),
                model.customer_tier.is_not(None) if sqlite else true(),
            )
        ).all()
    ]


def _changes(s: Session, tmp: Path) -> dict[str, int]:
    """Re-tier, pin, merge and import; how many callbacks each touched."""
    boss = agents.get_by_name(session=s, name="zhao.lei")
    assert boss is not None and boss.id is not None
    touched: dict[str, int] = {}
    # The rules' re-tiering, then a bulk UPDATE turning members into ordinary customers and
    # back (a member tier the coverage counts, then none), then one through the ORM.
    retiered = members.retier(s, now=NOW, policy=members.MemberPolicy())
    touched["retier"] = retiered.customers
    cycle = ["ordinary", "gold", "vip", "platinum", "diamond"]
    for n, cid in enumerate(_with_callbacks(s, 40)):
        s.execute(update(Customer).where(Customer.id == cid).values(tier=cycle[n % 5]))
    one = s.get(Customer, _with_callbacks(s, 1, offset=41)[0])
    assert one is not None
    one.tier = "ordinary" if one.tier in MEMBERS else "vip"
    s.flush()
    pinned = _with_callbacks(s, 1, offset=43)[0]
    members.pin_tier(s, customer_id=pinned, tier="diamond", agent_id=boss.id, now=NOW,
                     reason="a test")  # fmt: skip
    # Merges: an ordinary customer's callbacks go to a member and the other way round.
    pairs = _with_callbacks(s, 8, offset=50)
    for survivor, other in zip(pairs[::2], pairs[1::2], strict=True):
        s.execute(update(Customer).where(Customer.id == survivor)
                  .values(tier="gold" if survivor % 2 else "ordinary"))  # fmt: skip
        s.execute(update(Customer).where(Customer.id == other)
                  .values(tier="ordinary" if survivor % 2 else "vip"))  # fmt: skip
        merge(s, survivor_id=survivor, other_id=other, agent_id=boss.id, now=NOW)
    touched["merged"] = len(pairs) // 2
    # Imported customers, then callbacks for them: by the ORM and by plain SQL.
    csv = tmp / "people.csv"
    tiers = ["vip", "gold", "ordinary", "diamond", "platinum"]
    csv.write_text("name,phone,tier,birthday\n" + "".join(
        f"Imported {n},+86 139 9913 {7000 + n:04d},{tiers[n % 5]},1980-11-{1 + n % 28:02d}\n"
        for n in range(25)
    ), encoding="utf-8")  # fmt: skip
    imported = import_csv(session=s, path=csv, now=NOW - timedelta(days=10), batch_rows=None)
    assert imported.imported == 25
    new = s.execute(select(Customer.id).where(Customer.name.like("Imported %"))).scalars().all()
    for n, cid in enumerate(new):
        due = NOW - timedelta(days=1 + n, hours=n)
        if n % 2:
            s.add(Callback(customer_id=cid, owner_id=boss.id, kind="manual", reason="r",
                           due_at=due, created_at=due, status=("open", "done")[n % 4 == 1],
                           customer_tier="ordinary"))  # fmt: skip
        else:
            s.execute(
                text("INSERT INTO callback (customer_id, owner_id, kind, reason, due_at, "
                     "status, attempts, created_at, version) VALUES (:c, :o, 'manual', 'r', "
                     ":d, 'open', 0, :d, 1)"),
                {"c": cid, "o": boss.id, "d": due},
            )  # fmt: skip
        # New buyers, delivered in the periods: by the ORM (a wrong tier given) and by SQL.
        delivered = NOW - timedelta(days=8 + 3 * n, minutes=n)
        if n % 3:
            s.add(Purchase(customer_id=cid, order_no=f"IM-{n}", item="Fridge",
                           purchased_at=delivered, delivered_at=delivered,
                           customer_tier="vip"))  # fmt: skip
        else:
            s.execute(
                text("INSERT INTO purchase (customer_id, order_no, item, amount, quantity, "
                     "purchased_at, delivered_at) VALUES (:c, :o, 'TV', 1, 1, :d, :d)"),
                {"c": cid, "o": f"IM-{n}", "d": delivered},
            )  # fmt: skip
    s.flush()
    touched["imported"] = len(new)
    return touched


@pytest.fixture(scope="module")
def desk(request, module_db_url, tmp_path_factory):
    """(engine, settings) of a seeded desk changed as the module docstring says."""
    url = module_db_url
    engine = make_engine(url)
    request.addfinalizer(engine.dispose)
    demo.seed(engine, customers=400, calls=600, work_orders=400, now=NOW - timedelta(days=1))
    with Session(engine) as s:
        schedule(session=s, now=NOW - timedelta(days=20), policy=POLICY)
        _changes(s, tmp_path_factory.mktemp("import"))
        schedule(session=s, now=NOW, policy=POLICY)  # callbacks for the changed ones too
        s.commit()
    return engine, replace(Settings(), database_url=url, local_timezone="Asia/Shanghai")


def test_every_callback_keeps_its_customers_tier(desk):
    engine, __ = desk
    with Session(engine) as s:
        assert s.execute(select(Callback.id).limit(1)).first() is not None
        assert _mismatched(s) == []


def test_the_tier_cannot_be_written_wrong(desk):
    """Whatever writes the copy (or moves a callback), it stays the customer's tier."""
    engine, __ = desk
    with Session(engine) as s:
        line = s.execute(select(Purchase).order_by(Purchase.id).limit(1)).scalar_one()
        s.execute(update(Purchase).where(Purchase.id == line.id).values(customer_tier="x"))
        assert _mismatched(s) == []
        cb = s.execute(select(Callback).order_by(Callback.id).limit(1)).scalar_one()
        other = s.execute(
            select(Customer).where(Customer.tier != cb.customer_tier).limit(1)
        ).scalar_one()  # fmt: skip
        s.execute(update(Callback).where(Callback.id == cb.id).values(customer_tier="bogus"))
        assert _mismatched(s) == []
        s.execute(update(Callback).where(Callback.id == cb.id).values(customer_id=other.id))
        assert s.execute(
            select(Callback.customer_tier).where(Callback.id == cb.id)
        ).scalar_one() == other.tier  # fmt: skip
        assert _mismatched(s) == []
        s.rollback()


PERIODS = [
    (date(2026, 10, 25), date(2026, 11, 23)),  # the view's 30 days
    (date(2026, 11, 17), date(2026, 11, 23)),  # the last week
    (date(2025, 11, 24), date(2026, 11, 23)),  # a year
    (date(2026, 9, 14), date(2026, 12, 12)),  # 90 days, ending after now
]


@pytest.mark.parametrize("limit", [None, 1, 7, 50])
@pytest.mark.parametrize(("first", "last"), PERIODS)
def test_coverage_as_counted_customer_by_customer(desk, first, last, limit):
    engine, settings = desk
    args = dict(date_from=first, date_to=last, settings=settings, now=NOW, policy=POLICY)
    with Session(engine) as s:
        was = before.tables(session=s, **args)[:2]
        got = report.coverage_tables(session=s, **args, limit=limit)
    assert got[0].rows == was[0].rows  # every count whole
    assert got[1].rows == (was[1].rows if limit is None else was[1].rows[:limit])
    assert [t.title for t in got] == [t.title for t in was]


@pytest.mark.parametrize(("first", "last"), PERIODS)
def test_the_report_writes_what_it_wrote(desk, first, last, tmp_path):
    """`seat report callbacks` (CSV and JSON) byte for byte what the code before its speed-up
    wrote (tests/unit/callback_report_current.py, kept as it was); the view's page too."""
    engine, settings = desk
    args = dict(date_from=first, date_to=last, settings=settings, now=NOW, policy=POLICY)
    with Session(engine) as s:
        # Rolled back below: an order delivered a breath before a minute's end (its second
        # not rounded up), and one whose line claims a member tier its (ordinary) customer
        # has not (SQLite keeps what plain SQL wrote; PostgreSQL puts the customer's back).
        plain = s.execute(select(Customer.id).where(Customer.tier == "ordinary",
                                                    Customer.merged_into_id.is_(None))
                          .order_by(Customer.id).limit(1)).scalar_one()  # fmt: skip
        member = s.execute(select(Customer.id).where(Customer.tier.in_(MEMBERS),
                                                     Customer.merged_into_id.is_(None))
                           .order_by(Customer.id).limit(1)).scalar_one()  # fmt: skip
        for cid, order, tier, back in ((plain, "EDGE-1", "gold", 9), (member, "EDGE-2", None, 12)):
            at = (NOW - timedelta(days=back)).replace(second=59, microsecond=999_900)
            s.execute(
                text("INSERT INTO purchase (customer_id, order_no, item, amount, quantity, "
                     "purchased_at, delivered_at, customer_tier) VALUES (:c, :o, 'TV', 1, 1, "
                     ":d, :d, :t)"),
                {"c": cid, "o": order, "d": at, "t": tier},
            )  # fmt: skip
        got = report.tables(session=s, **args)
        was = current.tables(session=s, **args)
        for limit in (1, 7, 50):
            page = report.coverage_tables(session=s, **args, limit=limit)
            assert [t.rows for t in page] == [
                t.rows for t in current.coverage_tables(session=s, **args, limit=limit)
            ]
        s.rollback()
    assert sum(len(t.rows) for t in was) > 10
    for fmt in ("csv", "json"):
        write(got, fmt, tmp_path / f"got.{fmt}")
        write(was, fmt, tmp_path / f"was.{fmt}")
        assert (tmp_path / f"got.{fmt}").read_bytes() == (tmp_path / f"was.{fmt}").read_bytes()


def test_the_changes_reach_the_counts(desk):
    """The re-tiered, merged and imported customers' callbacks are in the 30 days' counts
    (else the comparison above proves little)."""
    engine, settings = desk
    with Session(engine) as s:
        imported = s.execute(
            select(Callback.customer_tier)
            .join(Customer, Customer.id == Callback.customer_id)
            .where(Customer.name.like("Imported %"), Callback.due_at < NOW)
        ).scalars().all()  # fmt: skip
        merged_away = s.execute(
            select(Customer.id).where(Customer.merged_into_id.is_not(None))
        ).scalars().all()  # fmt: skip
        pinned = s.execute(select(Customer.id).where(Customer.tier_pinned)).scalars().all()
        bought = s.execute(
            select(Purchase.customer_tier).where(Purchase.order_no.like("IM-%"))
        ).scalars().all()  # fmt: skip
        tables = report.coverage_tables(session=s, date_from=PERIODS[0][0],
                                        date_to=PERIODS[0][1], settings=settings, now=NOW,
                                        policy=POLICY)  # fmt: skip
    written_bare = {None} if engine.dialect.name == "sqlite" else set()
    assert set(imported) - written_bare >= MEMBERS and "ordinary" in imported
    if written_bare:  # the rows SQL wrote without the tier are in the counts: NULL ones too
        assert None in imported and None in bought
    assert len(merged_away) == 4 and pinned
    assert set(bought) - written_bare >= MEMBERS and "ordinary" in bought
    new_buyers = [r for r in tables[1].rows if "new-buyer" in str(r[5])]
    assert any("IM-" in str(r[5]) for r in new_buyers)  # imported ones bought, uncalled
    assert all(row[1] for row in tables[0].rows)  # every member tier required something


def test_a_zone_whose_offset_has_seconds(desk, tmp_path):
    """New-buyer lines where the zone's offset has seconds (Monrovia kept -0:44:30 until
    1972): each line's local minute, and the report's CSV and JSON, as the code before
    wrote them (tests/unit/callback_report_current.py)."""
    from datetime import UTC, datetime

    engine, settings = desk
    zoned = replace(settings, local_timezone="Africa/Monrovia")
    args = dict(date_from=date(1971, 3, 1), date_to=date(1971, 5, 31), settings=zoned,
                now=NOW, policy=POLICY)  # fmt: skip
    with Session(engine) as s:
        member = s.execute(select(Customer.id).where(Customer.tier.in_(MEMBERS),
                                                     Customer.merged_into_id.is_(None))
                           .order_by(Customer.id).limit(1)).scalar_one()  # fmt: skip
        for n in range(6):
            at = datetime(1971, 2, 20, 23, 59, tzinfo=UTC) + timedelta(days=9 * n,
                                                                       seconds=29 * n)
            s.execute(
                text("INSERT INTO purchase (customer_id, order_no, item, amount, quantity, "
                     "purchased_at, delivered_at) VALUES (:c, :o, 'TV', 1, 1, :d, :d)"),
                {"c": member, "o": f"MLW-{n}", "d": at},
            )  # fmt: skip
        got = report.tables(session=s, **args)
        was = current.tables(session=s, **args)
        s.rollback()
    lines = [row for row in got[1].rows if "MLW-" in str(row[5])]
    assert len(lines) >= 4
    assert all(row[4].second == 0 and row[4].utcoffset().seconds % 60 for row in lines)
    for fmt in ("csv", "json"):
        write(got, fmt, tmp_path / f"got.{fmt}")
        write(was, fmt, tmp_path / f"was.{fmt}")
        assert (tmp_path / f"got.{fmt}").read_bytes() == (tmp_path / f"was.{fmt}").read_bytes()


@pytest.mark.parametrize(("first", "last"), PERIODS[-2:])
def test_the_report_without_unixepoch(desk, first, last, tmp_path, monkeypatch):
    """On an SQLite older than 3.38 (no unixepoch) the new-buyer lines' seconds come from
    strftime: the same bytes, the edge second too."""
    import sqlite3

    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 37, 2))
    monkeypatch.setattr(report, "_BUILT", {})
    test_the_report_writes_what_it_wrote(desk, first, last, tmp_path)


def test_a_callback_keeping_a_tier_its_customer_has_not(desk, tmp_path):
    """The year's report takes its members' callbacks' names from the members read once: a
    callback keeping a member tier its (ordinary) customer has not (plain SQL on SQLite;
    PostgreSQL puts the customer's back) is named as before, byte for byte."""
    engine, settings = desk
    first, last = PERIODS[2]
    args = dict(date_from=first, date_to=last, settings=settings, now=NOW, policy=POLICY)
    with Session(engine) as s:
        plain = s.execute(select(Customer.id).where(Customer.tier == "ordinary",
                                                    Customer.merged_into_id.is_(None))
                          .order_by(Customer.id.desc()).limit(1)).scalar_one()  # fmt: skip
        owner = s.execute(select(Callback.owner_id).limit(1)).scalar_one()
        s.execute(
            text("INSERT INTO callback (customer_id, owner_id, kind, reason, due_at, status, "
                 "attempts, created_at, version, customer_tier) VALUES (:c, :o, 'manual', "
                 "'x', :d, 'open', 2, :d, 1, 'gold')"),
            {"c": plain, "o": owner, "d": NOW - timedelta(days=20)},
        )  # fmt: skip
        got = report.tables(session=s, **args)
        was = current.tables(session=s, **args)
        s.rollback()
    lines = next(t for t in got if t.title == "Members without callback").rows
    if engine.dialect.name == "sqlite":
        assert any(r[0] == plain for r in lines)
    for fmt in ("csv", "json"):
        write(got, fmt, tmp_path / f"got.{fmt}")
        write(was, fmt, tmp_path / f"was.{fmt}")
        assert (tmp_path / f"got.{fmt}").read_bytes() == (tmp_path / f"was.{fmt}").read_bytes()


@pytest.mark.parametrize(("first", "last"), PERIODS)
def test_read_ahead_writes_what_it_wrote(desk, first, last, tmp_path, monkeypatch):
    """The whole report in a session of its own (as `seat report` runs it): on an SQLite
    file its counts are read ahead on a second connection (seat.db.ReadAhead), and the CSV
    and JSON are byte for byte what the code before wrote, read on one connection."""
    from seat.db import ReadAhead

    engine, settings = desk
    args = dict(date_from=first, date_to=last, settings=settings, now=NOW, policy=POLICY)
    started: list[object] = []
    start = ReadAhead.start

    def spy(session, jobs):
        found = start(session, jobs)
        started.append(found)
        return found

    monkeypatch.setattr(ReadAhead, "start", spy)
    monkeypatch.setattr("seat.db.cores", lambda: 2)  # read ahead on a machine of one core too
    with Session(engine) as s:
        got = report.tables(session=s, **args)
    with Session(engine) as s:
        was = current.tables(session=s, **args)
    sqlite = engine.dialect.name == "sqlite"
    assert len(started) == 1 and (started[0] is not None) == sqlite
    for fmt in ("csv", "json"):
        write(got, fmt, tmp_path / f"got.{fmt}")
        write(was, fmt, tmp_path / f"was.{fmt}")
        assert (tmp_path / f"got.{fmt}").read_bytes() == (tmp_path / f"was.{fmt}").read_bytes()


def test_no_read_ahead_across_a_commit(desk, tmp_path, monkeypatch):
    """A commit between the second connection's first look and the session's snapshot:
    the two might not read the same state, so nothing is read ahead (the report reads
    everything itself), and it writes what it wrote."""
    from seat.db import ReadAhead

    engine, settings = desk
    if engine.dialect.name != "sqlite":
        pytest.skip("read ahead on SQLite only")
    first, last = PERIODS[2]
    args = dict(date_from=first, date_to=last, settings=settings, now=NOW, policy=POLICY)
    started: list[object] = []
    start = ReadAhead.start
    connection = Session.connection

    def commit_first(self, *a, **k):  # another seat commits just before the snapshot
        with engine.connect() as other:
            version = other.exec_driver_sql("PRAGMA user_version").scalar()
            other.exec_driver_sql(f"PRAGMA user_version = {version}")
            other.commit()
        monkeypatch.setattr(Session, "connection", connection)
        return connection(self, *a, **k)

    def spy(session, jobs):
        monkeypatch.setattr(Session, "connection", commit_first)
        found = start(session, jobs)
        started.append(found)
        return found

    monkeypatch.setattr(ReadAhead, "start", spy)
    monkeypatch.setattr("seat.db.cores", lambda: 2)  # not refused for want of a core
    with Session(engine) as s:
        got = report.tables(session=s, **args)
    with Session(engine) as s:
        was = current.tables(session=s, **args)
    assert started == [None]
    for fmt in ("csv", "json"):
        write(got, fmt, tmp_path / f"got.{fmt}")
        write(was, fmt, tmp_path / f"was.{fmt}")
        assert (tmp_path / f"got.{fmt}").read_bytes() == (tmp_path / f"was.{fmt}").read_bytes()


def test_read_ahead_stops_with_the_report(desk, monkeypatch):
    """A report that fails part way stops what is read ahead and gives its connection back:
    no thread left reading."""
    import threading

    engine, settings = desk
    first, last = PERIODS[2]

    def fails(*_a, **_k):
        raise RuntimeError("part way")

    monkeypatch.setattr(report, "_after_service", fails)
    monkeypatch.setattr("seat.db.cores", lambda: 2)  # read ahead on a machine of one core too
    with Session(engine) as s, pytest.raises(RuntimeError, match="part way"):
        report.tables(session=s, date_from=first, date_to=last, settings=settings, now=NOW,
                      policy=POLICY)  # fmt: skip
    assert not [t for t in threading.enumerate() if t.name == "seat-read-ahead"]
    assert engine.pool.checkedout() == 0

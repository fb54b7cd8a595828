"""The member analysis: new, active and churned members per month, the churn rate, spend bands,
gender and age, top spenders; `seat report members` in every format."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from sqlmodel import Session

from seat import agents, members, merge, purchases
from seat.cli import main
from seat.config import Settings
from seat.models import Agent, Callback, Customer, Purchase
from seat.reports import members as report

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
POLICY = members.MemberPolicy()
POLICY_DIR = Path(__file__).resolve().parents[2] / "data" / "policy"


def _customer(session, name, *, gender=None, born=None) -> int:
    c = Customer(name=name, gender=gender, birthday=born, created_at=NOW, updated_at=NOW)
    session.add(c)
    session.flush()
    return c.id  # type: ignore[return-value]


def _buy(session, cid, day: date, amount: float, order: str) -> None:
    # noon in Shanghai
    at = datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC)
    session.add(Purchase(customer_id=cid, order_no=order, line_no=1, item="x", amount=amount,
                         purchased_at=at))  # fmt: skip


def _churn_call(session, cid, *, reason: str | None, done: datetime | None,
                kind: str = "churned") -> None:
    """A win-back callback of customer `cid`, done at `done` (None: still open)."""
    agent = session.execute(select(Agent)).scalars().first()
    if agent is None:
        agent = Agent(name="li.na", display_name="Li Na")
        session.add(agent)
        session.flush()
    session.add(Callback(customer_id=cid, owner_id=agent.id, kind=kind, reason="win back",
                         due_at=NOW - timedelta(days=30), created_at=NOW - timedelta(days=30),
                         status="open" if done is None else "done", done_at=done,
                         churn_reason=reason))  # fmt: skip
    session.flush()


def _analyse(session, date_from, date_to, policy=POLICY, now=NOW):
    return report.analyse(session=session, date_from=date_from, date_to=date_to,
                          settings=Settings(), now=now, policy=policy)  # fmt: skip


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        # (purchase days) -> per month Aug, Sep, Oct, Nov 2026:
        # (new, active at start, active at end, churned)
        ([date(2026, 8, 10)], [(1, 0, 1, 0), (0, 1, 1, 0), (0, 1, 1, 0), (0, 1, 0, 1)]),
        # the 90 days after 10 Aug end on 8 Nov: churned in November
        ([date(2026, 6, 1)], [(0, 1, 0, 1), (0, 0, 0, 0), (0, 0, 0, 0), (0, 0, 0, 0)]),
        # 1 June + 90 days = 30 Aug: churned in August
        ([date(2026, 6, 1), date(2026, 8, 20)],  # bought again in time; 20 Aug + 90: 18 Nov
         [(0, 1, 1, 0), (0, 1, 1, 0), (0, 1, 1, 0), (0, 1, 0, 1)]),
        ([date(2026, 5, 1), date(2026, 9, 15)],  # churned on 30 July, back in September
         [(0, 0, 0, 0), (0, 0, 1, 0), (0, 1, 1, 0), (0, 1, 1, 0)]),
        ([date(2026, 11, 20)], [(0, 0, 0, 0), (0, 0, 0, 0), (0, 0, 0, 0), (1, 0, 1, 0)]),
    ],
)  # fmt: skip
def test_new_active_churned_per_month(session, days, expected):
    cid = _customer(session, "A")
    for n, day in enumerate(days):
        _buy(session, cid, day, 100.0, f"O{n}")
    session.commit()
    data = _analyse(session, date(2026, 8, 1), date(2026, 11, 30))
    assert [f"{m.month:%m}" for m in data.months] == ["08", "09", "10", "11"]
    assert [(m.new, m.active_start, m.active, m.churned) for m in data.months] == expected


@pytest.mark.parametrize(("after_days", "churned_in"), [(30, "09"), (60, "10"), (90, "11")])
def test_the_churn_period_is_the_policy_s(session, after_days, churned_in):
    cid = _customer(session, "A")
    _buy(session, cid, date(2026, 8, 10), 100.0, "O1")
    session.commit()
    policy = replace(POLICY, churn_after_days=after_days)
    data = _analyse(session, date(2026, 8, 1), date(2026, 11, 30), policy)
    assert [f"{m.month:%m}" for m in data.months if m.churned] == [churned_in]


def test_churn_rate_bands_people_and_top(session):
    ids = []
    for n, (gender, born) in enumerate(
        [("female", date(1990, 11, 23)), ("male", date(1990, 11, 24)), (None, None),
         ("female", date(2005, 1, 1))]
    ):  # fmt: skip
        ids.append(_customer(session, f"C{n}", gender=gender, born=born))
    # all four active in September; two of them buy again in October
    for n, cid in enumerate(ids):
        _buy(session, cid, date(2026, 7, 20), 300.0 * (n + 1), f"J{n}")
    _buy(session, ids[0], date(2026, 10, 1), 60_000.0, "K0")
    _buy(session, ids[1], date(2026, 10, 2), 1_700.0, "K1")
    session.commit()
    data = _analyse(session, date(2026, 10, 1), date(2026, 11, 30))
    october, november = data.months
    assert (october.active_start, october.churned, october.churn_rate) == (4, 2, 50.0)
    assert (november.active_start, november.churned, november.churn_rate) == (2, 0, 0.0)
    assert (october.buyers, october.spend) == (2, 61_700.0)
    assert data.buyers == 2 and data.spend == 61_700.0
    assert [(b.label, b.customers) for b in data.spend_bands if b.customers] == [
        ("500-2,000", 1), ("50,000+", 1)
    ]
    assert [(b.label, b.customers) for b in data.genders] == [("female", 1), ("male", 1)]
    # ages on 30 November 2026: 36 and 35 (the birthday on 24 November has passed)
    assert [(b.label, b.customers) for b in data.ages if b.customers] == [("35-44", 2)]
    assert [(s.name, s.orders, s.spend) for s in data.top] == [
        ("C0", 1, 60_000.0), ("C1", 1, 1_700.0)
    ]


def test_sqlite_reads_the_seconds_from_their_index(session):
    """On SQLite each purchase's whole seconds come from the index of migration 0043 (the
    report's expression is the index's: nothing is computed per purchase), and the report
    counts the same without that index (a database made without the migrations)."""
    from sqlalchemy import text

    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("an SQLite index on an expression")
    plan = session.execute(text(
        f"EXPLAIN SELECT {report.SECONDS} FROM purchase INDEXED BY {report.SECONDS_INDEX}"
    )).all()  # fmt: skip
    assert not [op for op in plan if op[1] in ("Function", "PureFunc")]
    ids = [_customer(session, f"C{n}", gender=g, born=b) for n, (g, b) in enumerate(
        [("female", date(1990, 11, 23)), ("x", date(1961, 11, 30)), (None, None)])]  # fmt: skip
    for n, cid in enumerate(ids):
        for k, day in enumerate([date(2025, 12, 31), date(2026, 7, 20), date(2026, 10, 1)][n:]):
            _buy(session, cid, day, 100.0 * (n + 1) + k, f"S{n}-{k}")
    session.commit()
    with_index = _analyse(session, date(2026, 1, 1), date(2026, 11, 30))
    session.execute(text(f"DROP INDEX {report.SECONDS_INDEX}"))
    assert _analyse(session, date(2026, 1, 1), date(2026, 11, 30)) == with_index
    session.rollback()


def test_months_after_today_count_nothing_yet(session):
    cid = _customer(session, "A")
    _buy(session, cid, date(2026, 8, 25), 100.0, "O1")
    session.commit()
    # 25 Aug + 90 days = 23 Nov: today (NOW) is 23 Nov, December has not come
    data = _analyse(session, date(2026, 11, 1), date(2026, 12, 31))
    assert [(m.active, m.churned) for m in data.months] == [(0, 1), (0, 0)]


@pytest.mark.parametrize(
    ("calls", "expected"),
    [
        ([], {"quality": 0, "function": 0, "service": 0, "price": 0, "other": 0}),
        ([("price", 3), ("price", 10), ("quality", 5)],
         {"quality": 1, "function": 0, "service": 0, "price": 2, "other": 0}),
        # no reason recorded (a call before reasons were kept): counted apart
        ([(None, 3), ("other", 3)],
         {"quality": 0, "function": 0, "service": 0, "price": 0, "other": 1,
          "not recorded": 1}),
        # before the range, still open, or not a churn callback: not counted
        ([("price", 400), ("price", None), ("service", -1)],
         {"quality": 0, "function": 0, "service": 0, "price": 0, "other": 0}),
    ],
)  # fmt: skip
def test_churn_reasons_are_counted(session, calls, expected):
    cid = _customer(session, "A")
    for reason, days in calls:
        if days == -1:
            _churn_call(session, cid, reason=reason, done=NOW - timedelta(days=2),
                        kind="satisfaction")  # fmt: skip
        else:
            done = None if days is None else NOW - timedelta(days=days)
            _churn_call(session, cid, reason=reason, done=done)
    session.commit()
    data = _analyse(session, date(2026, 1, 1), date(2026, 11, 30))
    assert {b.label: b.customers for b in data.reasons} == expected
    table = report.reason_table(data)
    assert table.title == "Churn reasons"
    assert [r[0] for r in table.rows][:5] == [
        "product quality", "features / function", "our service", "price", "other"
    ]


@pytest.mark.parametrize(
    ("bounds", "labels"),
    [((0, 500, 2000), ["0-500", "500-2,000", "2,000+"]), ((0,), ["0+"])],
)
def test_band_labels(bounds, labels):
    assert report.band_labels(bounds) == labels


@pytest.mark.parametrize("fmt", ["csv", "json", "txt", "xlsx"])
def test_report_command(db_url, engine, cli_token, monkeypatch, tmp_path, capsys, fmt):
    config = tmp_path / "config.toml"
    config.write_text(f"policy_dir = {str(POLICY_DIR)!r}\n")
    monkeypatch.setenv("SEAT_CONFIG", str(config))
    monkeypatch.setenv("SEAT_TOKEN", cli_token(db_url))
    with Session(engine) as s:
        cid = _customer(s, "王芳", gender="female", born=date(1985, 3, 14))
        _buy(s, cid, NOW.date() - timedelta(days=10), 4_000.0, "O1")
        _churn_call(s, cid, reason="price", done=NOW - timedelta(days=3))
        s.commit()
    out = tmp_path / f"members.{fmt}"
    args = ["report", "members", "--from", "2026-01-01", "--to", "2026-11-30",
            "--format", fmt, "--db", db_url]  # fmt: skip
    if fmt == "xlsx":
        assert main([*args, "--output", str(out)]) == 0
        assert out.stat().st_size > 0
        book = openpyxl.load_workbook(out)
        sheet = book.worksheets[-1]
        cells = [c.value for row in sheet.iter_rows() for c in row]
        assert "price" in cells and 1 in cells  # the churn reasons, counted
        return
    assert main(args) == 0
    text = capsys.readouterr().out
    if fmt == "json":
        tables = json.loads(text)
        assert list(tables) == ["Members per month", "Spend bands", "Gender", "Age",
                                "Top spenders", "Churn reasons"]  # fmt: skip
        assert "price" in json.dumps(tables["Churn reasons"], ensure_ascii=False)
    else:
        assert "王芳" in text and "2026-11" in text
        assert "Churn reasons" in text and "price" in text


def _brute_months(times: list[list[datetime]], date_from: date, date_to: date, period: int,
                  zone: str, now: datetime) -> list[tuple[int, int, int, int, int]]:  # fmt: skip
    """(new, active at start, active at end, churned, buyers) per month, customer by
    customer and purchase by purchase, from the definitions (the module's docstring)."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)

    def utc(day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)

    def bought(ts: list[datetime], lo: date, hi: date) -> bool:
        return any(utc(lo) <= t < utc(hi) for t in ts)

    today = now.astimezone(tz).date()
    out = []
    first = date_from.replace(day=1)
    while first <= date_to:
        nxt = (first + timedelta(days=32)).replace(day=1)
        s = max(first, date_from)
        e = max(s, min(nxt, date_to + timedelta(days=1), today + timedelta(days=1)))
        p = timedelta(days=period)
        out.append((
            sum(1 for ts in times if ts and utc(s) <= min(ts) < utc(e)),
            sum(1 for ts in times if bought(ts, s - p, s)),
            sum(1 for ts in times if bought(ts, e - p, e)),
            sum(1 for ts in times if e > s and bought(ts, s - p, e - p)
                and not bought(ts, e - p, e)),
            sum(1 for ts in times if bought(ts, s, e)),
        ))  # fmt: skip
        first = nxt
    return out


def _local(day: date, *, us: int = 0) -> datetime:
    """Local midnight (Asia/Shanghai) of `day`, `us` microseconds off, in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=8, microseconds=-us)


@pytest.mark.parametrize(
    ("date_from", "date_to"),
    [(date(2026, 8, 1), date(2026, 11, 30)), (date(2026, 8, 15), date(2026, 11, 10)),
     (date(2026, 9, 30), date(2026, 10, 1))],
)  # fmt: skip
@pytest.mark.parametrize(
    "times",
    [
        # at local midnight of a month's start and a microsecond before it
        [[_local(date(2026, 9, 1))], [_local(date(2026, 9, 1), us=-1)]],
        # on the churn edge: a month's end less 90 days, and a microsecond before
        [[_local(date(2026, 10, 1) - timedelta(days=90))],
         [_local(date(2026, 10, 1) - timedelta(days=90), us=-1)],
         [_local(date(2026, 11, 1) - timedelta(days=90), us=-1), _local(date(2026, 11, 1))]],
        # churned and back, twice; and one buying every month
        [[_local(date(2026, 3, 3)), _local(date(2026, 8, 16)), _local(date(2026, 11, 15))],
         [_local(date(2026, m, 14), us=5) for m in range(4, 12)]],
    ],
)  # fmt: skip
def test_months_at_the_edges_as_counted_one_by_one(session, times, date_from, date_to):
    for n, ts in enumerate(times):
        cid = _customer(session, f"E{n}")
        for k, at in enumerate(ts):
            session.add(Purchase(customer_id=cid, order_no=f"E{n}-{k}", line_no=1, item="x",
                                 amount=10.0, purchased_at=at))  # fmt: skip
    session.commit()
    data = _analyse(session, date_from, date_to)
    got = [(m.new, m.active_start, m.active, m.churned, m.buyers) for m in data.months]
    zone = Settings().local_timezone
    assert zone == "Asia/Shanghai"  # _local's offset
    assert got == _brute_months(times, date_from, date_to, POLICY.churn_after_days, zone, NOW)


def _times_on_file(session) -> list[list[datetime]]:
    """Every customer's purchase times as the database holds them now."""
    per: dict[int, list[datetime]] = {}
    for cid, at in session.execute(select(Purchase.customer_id, Purchase.purchased_at)):
        per.setdefault(cid, []).append(at if at.tzinfo else at.replace(tzinfo=UTC))
    return list(per.values())


def _months(data) -> list[tuple[int, int, int, int, int]]:
    return [(m.new, m.active_start, m.active, m.churned, m.buyers) for m in data.months]


def _change_merge(session, ids: list[int], tmp_path: Path) -> None:
    """The later customer merged into the first: its purchases move (seat.merge)."""
    boss = agents.ensure_agent(session=session, name="zhao.lei", role="supervisor")
    merge.merge(session, survivor_id=ids[0], other_id=ids[1], agent_id=boss.id, now=NOW)
    session.commit()


def _change_late_import(session, ids: list[int], tmp_path: Path) -> None:
    """A purchase from May imported in November (`seat purchases import`): the second
    customer was not new in September, nor churned-and-back."""
    path = tmp_path / "late.csv"
    path.write_text("customer,date,order,product,amount\n"
                    f"#{ids[1]},2026-05-31,LATE-1,x,50\n", encoding="utf-8")  # fmt: skip
    done = purchases.import_csv(session=session, path=path, now=NOW, zone="Asia/Shanghai")
    assert done.imported == 1
    session.commit()


def _change_edit(session, ids: list[int], tmp_path: Path) -> None:
    """A purchase's time corrected to a month's first local midnight."""
    row = session.execute(select(Purchase).where(Purchase.customer_id == ids[0])
                          .order_by(Purchase.purchased_at)).scalars().first()  # fmt: skip
    row.purchased_at = _local(date(2026, 10, 1))
    session.commit()


def _change_delete(session, ids: list[int], tmp_path: Path) -> None:
    """The first customer's purchase of May deleted: no longer churned in July, but new in
    August."""
    row = session.execute(select(Purchase).where(Purchase.customer_id == ids[0])
                          .order_by(Purchase.purchased_at)).scalars().first()  # fmt: skip
    session.delete(row)
    session.commit()


@pytest.mark.parametrize(
    "change", [_change_merge, _change_late_import, _change_edit, _change_delete],
    ids=["merge", "late import", "edited time", "deleted"],
)  # fmt: skip
def test_a_change_to_the_purchases_is_counted_at_the_next_report(session, tmp_path, change):
    """Whatever changes the purchases (a merge moves them between customers, an import
    brings old ones late, an edit moves one, a delete takes one away), the next report
    counts what is on file then, as counted customer by customer."""
    plan = [
        [_local(date(2026, 5, 1)), _local(date(2026, 8, 10)), _local(date(2026, 8, 20), us=1)],
        [_local(date(2026, 9, 15)), _local(date(2026, 11, 1), us=-1)],
    ]
    ids = []
    for n, ts in enumerate(plan):
        cid = _customer(session, f"C{n}")
        ids.append(cid)
        for k, at in enumerate(ts):
            session.add(Purchase(customer_id=cid, order_no=f"C{n}-{k}", line_no=1, item="x",
                                 amount=10.0 * (k + 1), purchased_at=at))  # fmt: skip
    session.commit()
    date_from, date_to = date(2026, 6, 1), date(2026, 11, 30)
    zone, period = Settings().local_timezone, POLICY.churn_after_days
    before = _months(_analyse(session, date_from, date_to))
    assert before == _brute_months(plan, date_from, date_to, period, zone, NOW)

    change(session, ids, tmp_path)
    session.expire_all()
    after = _analyse(session, date_from, date_to)
    times = _times_on_file(session)
    assert _months(after) == _brute_months(times, date_from, date_to, period, zone, NOW)
    assert _months(after) != before
    assert after.buyers == sum(1 for ts in times if any(
        _local(date_from) <= t < _local(date_to + timedelta(days=1)) for t in ts))  # fmt: skip
    assert after.spend == round(sum(
        p.amount for p in session.execute(select(Purchase)).scalars()
        if _local(date_from) <= (p.purchased_at if p.purchased_at.tzinfo
                                 else p.purchased_at.replace(tzinfo=UTC))
        < _local(date_to + timedelta(days=1))), 2)  # fmt: skip

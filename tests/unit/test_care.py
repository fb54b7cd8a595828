"""The care cadences (seat.care): renewals by the policy's day with the renewal rule, holiday
greetings from the calendar, maintenance reminders a week ahead, routine calls monthly then
quarterly; each its own callback kind, and an incremental run makes what a full one would."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlmodel import Session

from seat import care, customers
from seat.callbacks import CallbackPolicy, ScheduleReport, schedule
from seat.cli import main
from seat.members import MemberPolicy
from seat.models import Callback, Customer, Purchase
from tests.conftest import NOW

SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY = MemberPolicy()
CALLBACKS = CallbackPolicy()
TODAY = NOW.astimezone(SHANGHAI).date()  # 2026-11-23, a Monday
DAY = timedelta(days=1)


def _customer(session: Session, n: int, *, tier: str = "gold", joined: datetime | None = None,
              until: date | None = None) -> int:  # fmt: skip
    c = customers.create_customer(
        session=session, now=joined or NOW - timedelta(days=400), name=f"Member {n}",
        phone_text=f"139 5555 02{n:02d}", tier=tier,
    )  # fmt: skip
    c.member_until = until
    session.flush()
    return c.id  # type: ignore[return-value]


def _buy(session: Session, cid: int, n: int, *, days: float, amount: float = 100.0,
         category: str = "cosmetics", delivered_days: float | None = None) -> None:  # fmt: skip
    session.add(Purchase(
        customer_id=cid, order_no=f"O-{cid}-{n}", item=f"item {n}", category=category,
        amount=amount, purchased_at=NOW - timedelta(days=days),
        delivered_at=None if delivered_days is None else NOW - timedelta(days=delivered_days),
    ))  # fmt: skip
    session.flush()


# -- renewals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "until", "day"),
    [
        (date(2026, 11, 23), date(2026, 12, 20), date(2026, 11, 23)),  # past the 5th: today
        (date(2026, 12, 1), date(2027, 1, 31), date(2026, 12, 5)),  # by the 5th of December
        (date(2026, 12, 5), date(2027, 1, 1), date(2026, 12, 5)),
        (date(2026, 11, 23), date(2027, 1, 10), None),  # the month after next: not yet
        (date(2026, 11, 23), date(2026, 11, 22), None),  # already ended
        (date(2026, 11, 23), date(2026, 11, 23), date(2026, 11, 23)),  # ends today: called
    ],
)
def test_renewals_are_called_by_the_policy_day(session, world, today, until, day):
    cid = _customer(session, 1, until=until)
    now = datetime.combine(today, datetime.min.time(), tzinfo=SHANGHAI).astimezone(UTC)
    found = care.renewals(session, today=today, now=now, policy=POLICY)
    mine = [c for c in found if c.customer_id == cid]
    if day is None:
        assert mine == []
    else:
        assert [(c.key, c.kind, c.day) for c in mine] == [
            (f"renewal:{cid}:{until:%Y-%m-%d}", "renewal", day)
        ]


@pytest.mark.parametrize(
    ("purchases", "waived"),
    [
        ([], False),
        ([100.0, 100.0], False),
        ([100.0, 100.0, 100.0], True),  # 3 orders in the year
        ([1_000.0], True),  # or 1,000 yuan
        ([999.0], False),
    ],
)
def test_the_renewal_rule(session, world, purchases, waived):
    cid = _customer(session, 1, until=TODAY + 20 * DAY)
    for n, amount in enumerate(purchases):
        _buy(session, cid, n, days=30 + n, amount=amount)
    _buy(session, cid, 99, days=400, amount=5_000.0)  # before the period: not counted
    found = care.expiring(session, first=TODAY, last=TODAY + 40 * DAY, now=NOW, policy=POLICY)
    assert [(e.customer_id, e.orders, e.waived) for e in found] == [
        (cid, len(purchases), waived)
    ]
    reason = care.renewals(session, today=TODAY, now=NOW, policy=POLICY)[0].reason
    assert ("fee waived" if waived else "fee due") in reason


def test_the_policy_day_is_the_policy_s():
    assert care.renewal_day(date(2027, 3, 31), POLICY) == date(2027, 2, 5)
    assert care.renewal_day(date(2027, 1, 1), replace(POLICY, expiry_list_by_day=1)) == date(
        2026, 12, 1
    )


# -- holidays -------------------------------------------------------------------------------

HOLIDAYS = (
    [date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 2)]  # New Year, 3 days
    + [date(2026, 11, 25)]  # a single day
    + [date(2026, 11, 27), date(2026, 11, 28), date(2026, 11, 29)]  # 3 days from Friday
)


def test_holiday_periods():
    assert care.holiday_periods(HOLIDAYS) == [
        (date(2026, 11, 25), 1), (date(2026, 11, 27), 3), (date(2026, 12, 31), 3)
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("greet", "min_days", "expected"),
    [
        ((), 3, [date(2026, 11, 27)]),  # the long ones within the window
        ((), 1, [date(2026, 11, 25), date(2026, 11, 27)]),
        ((date(2026, 11, 25),), 3, [date(2026, 11, 25)]),  # the policy lists which
        ((date(2026, 11, 26),), 3, []),  # not a holiday's first day: nothing
    ],
)
def test_holiday_greetings(session, world, greet, min_days, expected):
    gold = _customer(session, 1, tier="gold")
    _customer(session, 2, tier="ordinary")
    policy = replace(POLICY, holiday_greet=greet, holiday_min_days=min_days)
    found = care.holiday_greetings(session, today=TODAY, last=TODAY + 7 * DAY, policy=policy,
                                   holidays=HOLIDAYS, tiers=("gold",))  # fmt: skip
    mine = [c for c in found if c.customer_id == gold]
    assert [c.day + DAY for c in mine] == expected  # the day before each
    assert {c.customer_id for c in found} <= {gold, world["min"]}  # members only (gold)
    assert all(c.kind == "holiday" for c in found)


# -- maintenance ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "delivered_days", "due"),
    [
        ("appliance", 360, TODAY + 5 * DAY),  # yearly: due in 5 days, reminded today
        ("appliance", 365 * 2 - 7, TODAY + 7 * DAY),  # the second year's, reminded today
        ("appliance", 300, None),  # due in 65 days: not yet
        ("consumables", 85, TODAY + 5 * DAY),  # every 90 days
        ("consumables", 175, TODAY + 5 * DAY),  # the second cartridge
        ("cosmetics", 360, None),  # no service interval
        ("appliance", 365 * 6 - 3, None),  # beyond the policy's 5 years
    ],
)
def test_maintenance_reminders_a_week_ahead(session, world, category, delivered_days, due):
    cid = _customer(session, 1)
    _buy(session, cid, 1, days=delivered_days + 2, delivered_days=delivered_days,
         category=category)  # fmt: skip
    found = care.maintenance(session, today=TODAY, last=TODAY + 7 * DAY, now=NOW,
                             policy=POLICY, zone=SHANGHAI)  # fmt: skip
    if due is None:
        assert found == []
    else:
        assert [(c.customer_id, c.kind, c.day) for c in found] == [
            (cid, "maintenance", max(TODAY, due - 7 * DAY))
        ]
        assert found[0].key.endswith(f":{due:%Y-%m-%d}") and "item 1" in found[0].reason


# -- routine --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("joined", "due"),
    [
        (date(2026, 10, 25), date(2026, 11, 25)),  # month 1
        (date(2026, 1, 28), date(2026, 11, 28)),  # month 10: monthly in the first year
        (date(2025, 11, 26), date(2026, 11, 26)),  # month 12
        (date(2025, 8, 24), date(2026, 11, 24)),  # month 15: quarterly after
        (date(2025, 9, 24), None),  # month 14: not a quarter
        (date(2024, 11, 29), date(2026, 11, 29)),  # month 24
        (date(2026, 11, 20), None),  # joined this month: the first call next month
        (date(2026, 10, 10), None),  # month 1 was on 11-10: before the window
    ],
)
def test_routine_calls(session, world, joined, due):
    at = datetime.combine(joined, datetime.min.time(), tzinfo=SHANGHAI).replace(hour=15)
    cid = _customer(session, 1, joined=at.astimezone(UTC))
    found = care.routine(session, today=TODAY, last=TODAY + 7 * DAY, policy=POLICY,
                         zone=SHANGHAI)  # fmt: skip
    mine = [(c.kind, c.day) for c in found if c.customer_id == cid]
    assert mine == ([] if due is None else [("routine", due)])


@pytest.mark.parametrize(
    ("joined", "today", "due"),
    [
        (date(2026, 1, 31), date(2026, 2, 25), date(2026, 2, 28)),  # a 31st: the month's last
        (date(2026, 8, 31), date(2026, 9, 28), date(2026, 9, 30)),
        (date(2026, 3, 31), date(2026, 4, 1), None),  # 04-30 is beyond the window
    ],
)
def test_routine_calls_at_the_month_s_end(session, world, joined, today, due):
    at = datetime.combine(joined, datetime.min.time(), tzinfo=SHANGHAI).replace(hour=9)
    cid = _customer(session, 1, tier="vip", joined=at.astimezone(UTC))
    found = care.routine(session, today=today, last=today + 7 * DAY, policy=POLICY,
                         zone=SHANGHAI)  # fmt: skip
    assert [c.day for c in found if c.customer_id == cid] == ([] if due is None else [due])


@pytest.mark.parametrize(("first", "after", "upto", "months"), [
    (1, 3, 24, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 18, 21, 24]),
    (2, 6, 24, [2, 4, 6, 8, 10, 12, 18, 24]),
    (1, 3, 0, []),
])  # fmt: skip
def test_routine_months(first, after, upto, months):
    policy = replace(POLICY, routine_first_year_months=first, routine_after_months=after)
    assert list(care.routine_months(policy, upto)) == months


# -- through the callback rules -------------------------------------------------------------


def _care_world(session: Session, world: dict[str, int]) -> dict[str, int]:
    ids = {
        "renews": _customer(session, 1, tier="vip", until=date(2026, 12, 15)),
        "renews later": _customer(session, 2, tier="gold", until=date(2027, 1, 20)),
        "routine": _customer(session, 3, tier="platinum", joined=NOW - timedelta(days=30)),
        "serviced": _customer(session, 4, tier="ordinary"),
    }
    _buy(session, ids["renews"], 1, days=10)  # bought lately: not churned
    _buy(session, ids["renews later"], 1, days=10)
    _buy(session, ids["routine"], 1, days=10)
    _buy(session, ids["serviced"], 1, days=362, delivered_days=360, category="appliance")
    _buy(session, ids["serviced"], 2, days=80, category="consumables")
    return ids


def _made(report: ScheduleReport) -> list[tuple[object, ...]]:
    return sorted(
        (s.source_key, s.kind, s.customer_id, s.owner_id, s.due_at, s.reason)
        for s in report.created
    )


def test_the_rules_make_each_kind_with_its_own_key(session, world):
    ids = _care_world(session, world)
    report = schedule(session=session, now=NOW, policy=CALLBACKS, member_policy=POLICY,
                      holidays=HOLIDAYS)  # fmt: skip
    made = {s.source_key: s for s in report.created}
    renewal = made[f"renewal:{ids['renews']}:2026-12-15"]
    assert renewal.kind == "renewal" and renewal.due_at == NOW  # past the 5th: at once
    assert "2026-12-15" in renewal.reason and "fee" in renewal.reason
    assert not any(k.startswith(f"renewal:{ids['renews later']}:") for k in made)
    assert made[f"routine:{ids['routine']}:2026-11-24"].kind == "routine"  # joined 10-24
    assert {s.kind for s in report.created if s.customer_id == ids["serviced"]} == {
        "maintenance"
    }
    greeted = {s.customer_id for s in report.created if s.kind == "holiday"}
    members = set(session.execute(
        select(Customer.id).where(Customer.tier.in_(CALLBACKS.member_tiers))
    ).scalars())  # fmt: skip
    assert greeted == members  # the 11-27 holiday: every member, once
    assert {r: n for r, n in report.counts().items() if r in (
        "renewal", "holiday", "maintenance", "routine")} == {
        "renewal": 1, "holiday": len(members),
        "maintenance": 2,  # the appliance's yearly service, the cartridge's 90 days
        "routine": 3,  # and Wang Fang and 张敏 of the world joined a month ago too
    }  # fmt: skip
    again = schedule(session=session, now=NOW + timedelta(hours=3), policy=CALLBACKS,
                     member_policy=POLICY, holidays=HOLIDAYS)  # fmt: skip
    assert again.created == []
    rows = session.execute(select(Callback.kind).where(Callback.source_key.like("renewal:%")))
    assert rows.scalars().all() == ["renewal"]


@pytest.mark.parametrize("later", [timedelta(hours=1), DAY, 3 * DAY, 12 * DAY, 40 * DAY])
@pytest.mark.parametrize("change", ["nothing", "membership", "purchase"])
def test_an_incremental_run_makes_what_a_full_run_would(session, world, later, change):
    ids = _care_world(session, world)
    session.commit()
    schedule(session=session, now=NOW, policy=CALLBACKS, member_policy=POLICY,
             holidays=HOLIDAYS)  # fmt: skip
    session.commit()
    if change == "membership":  # entered after the last run
        session.get(Customer, ids["routine"]).member_until = (NOW + 20 * DAY).date()
    elif change == "purchase":
        session.add(Purchase(customer_id=ids["renews later"], order_no="new", item="Fridge",
                             category="appliance", purchased_at=NOW + timedelta(hours=2),
                             delivered_at=NOW + timedelta(hours=2)))  # fmt: skip
    session.commit()
    now = NOW + later
    kw = {"policy": CALLBACKS, "member_policy": POLICY, "holidays": HOLIDAYS}
    full = _made(schedule(session=session, now=now, **kw))
    session.rollback()
    incremental = _made(schedule(session=session, now=now, since=NOW, **kw))
    assert incremental == full


# -- seat members expiring ------------------------------------------------------------------

POLICY_DIR = Path(__file__).resolve().parents[2] / "data" / "policy"


@pytest.mark.parametrize(("fmt", "role"), [("txt", "supervisor"), ("json", "supervisor"),
                                          ("csv", "agent"), ("xlsx", "supervisor")])  # fmt: skip
def test_the_expiring_command(db_url, engine, cli_token, monkeypatch, tmp_path, capsys, fmt,
                              role):  # fmt: skip
    """The month's memberships ending, with the renewal rule: to stdout unless --output;
    phone numbers masked for an agent."""
    config = tmp_path / "config.toml"
    config.write_text(f"policy_dir = {str(POLICY_DIR)!r}\n")
    monkeypatch.setenv("SEAT_CONFIG", str(config))
    with Session(engine) as s:
        ends = _customer(s, 1, tier="vip", until=date(2027, 1, 20))
        _customer(s, 2, tier="gold", until=date(2027, 2, 1))  # another month
        for n in range(3):
            _buy(s, ends, n, days=20 + n)
        s.commit()
    monkeypatch.setenv("SEAT_TOKEN", cli_token(db_url, login=f"{role}.one", role=role))
    args = ["members", "expiring", "--month", "2027-01", "--format", fmt, "--db", db_url]
    if fmt == "xlsx":
        out = tmp_path / "renewals.xlsx"
        assert main([*args, "--output", str(out)]) == 0
        assert out.stat().st_size > 0
        return
    assert main(args) == 0
    text = capsys.readouterr().out
    if fmt == "json":
        table = json.loads(text)["Memberships ending"]
        assert "Member 1" in json.dumps(table, ensure_ascii=False)
        assert "Member 2" not in json.dumps(table, ensure_ascii=False)
    assert "Member 1" in text and "2027-01-20" in text and "waived" in text
    assert "2026-12-05" in text  # called by the 5th of the month before
    assert ("+8613955550201" in text) is (role == "supervisor")


def test_a_bad_month_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["members", "expiring", "--month", "2027-13"])
    assert exit_.value.code == 2
    assert "not a month like 2027-01" in capsys.readouterr().err

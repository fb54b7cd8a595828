"""Callback rules: rest hours across time zones, cadences, the idempotent scheduler,
attempts, snooze and reassignment. The clock is injected: every `now` is explicit."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from seat import agents, callbacks, calls, customers, members
from seat.callbacks import (
    CallbackPolicy,
    PolicyError,
    callable_at,
    in_rest,
    next_window,
    number_zones,
    reassign,
    record_attempt,
    schedule,
    sidebar_callbacks,
    snooze,
)
from seat.config import DATA_DIR, Settings
from seat.customers import ValidationError
from seat.members import MemberPolicy
from seat.models import (
    Agent,
    Call,
    Callback,
    CallbackEvent,
    Complaint,
    Customer,
    PhoneNumber,
    Purchase,
    WorkOrder,
    WorkOrderEvent,
)
from seat.roles import PermissionDenied
from seat.scripts import load_scripts
from tests.conftest import NOW

POLICY = CallbackPolicy()
WINDOWS = POLICY.rest_windows
SHANGHAI = "+8613800138000"
NEW_YORK = "+12125551234"
LONDON = "+442079460958"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def zones(e164: str | None, home: str = "Asia/Shanghai") -> tuple[str, ...]:
    return number_zones(e164, home, WINDOWS)


# -- rest hours -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "resting"),
    [
        (time(8, 59), True),
        (time(9, 0), False),
        (time(11, 59), False),
        (time(12, 0), True),
        (time(13, 59), True),
        (time(14, 0), False),
        (time(20, 59), False),
        (time(21, 0), True),
        (time(23, 30), True),
        (time(0, 0), True),
    ],
)
def test_rest_windows_default(local, resting):
    assert in_rest(local, WINDOWS) is resting


@pytest.mark.parametrize(
    ("at", "number", "callable_now", "opens"),
    [
        # 02:00 UTC: 10:00 in Shanghai, 21:00 the evening before in New York, 02:00 in London.
        (NOW, SHANGHAI, True, NOW),
        (NOW, NEW_YORK, False, utc(2026, 11, 23, 14, 0)),  # 09:00 EST
        (NOW, LONDON, False, utc(2026, 11, 23, 9, 0)),
        # 04:30 UTC: Shanghai's lunch rest, New York's night.
        (utc(2026, 11, 23, 4, 30), SHANGHAI, False, utc(2026, 11, 23, 6, 0)),
        (utc(2026, 11, 23, 4, 30), NEW_YORK, False, utc(2026, 11, 23, 14, 0)),
        # 15:00 UTC: 23:00 in Shanghai (opens 09:00 tomorrow), 10:00 in New York.
        (utc(2026, 11, 23, 15, 0), SHANGHAI, False, utc(2026, 11, 24, 1, 0)),
        (utc(2026, 11, 23, 15, 0), NEW_YORK, True, utc(2026, 11, 23, 15, 0)),
        # 17:30 UTC: New York's lunch (12:30 EST) opens at 14:00 EST.
        (utc(2026, 11, 23, 17, 30), NEW_YORK, False, utc(2026, 11, 23, 19, 0)),
        # Daylight saving: on 8 March 2026 New York is UTC-4 from 02:00 local.
        (utc(2026, 3, 8, 12, 0), NEW_YORK, False, utc(2026, 3, 8, 13, 0)),
        (utc(2026, 3, 8, 13, 30), NEW_YORK, True, utc(2026, 3, 8, 13, 30)),  # 09:30 EDT
        (utc(2026, 3, 8, 13, 30), SHANGHAI, False, utc(2026, 3, 9, 1, 0)),  # 21:30 there
    ],
)
def test_rest_hours_across_time_zones(at, number, callable_now, opens):
    z = zones(number)
    assert callable_at(at, zones=z, windows=WINDOWS) is callable_now
    assert next_window(at, zones=z, windows=WINDOWS) == opens
    assert callable_at(opens, zones=z, windows=WINDOWS)


def test_same_instant_a_plus_86_and_a_plus_1_number():
    at = NOW  # Monday 10:00 in Shanghai
    assert zones(SHANGHAI) == ("Asia/Shanghai",)
    assert zones(NEW_YORK) == ("America/New_York",)
    assert callable_at(at, zones=zones(SHANGHAI), windows=WINDOWS)
    assert not callable_at(at, zones=zones(NEW_YORK), windows=WINDOWS)


@pytest.mark.parametrize(
    ("number", "home", "expected"),
    [
        (SHANGHAI, "Asia/Shanghai", ("Asia/Shanghai",)),
        (None, "Europe/Paris", ("Europe/Paris",)),  # no number: the desk's zone
        ("+79161234567", "Europe/Moscow", ("Europe/Moscow",)),  # several zones, home among them
        ("+18005551234", "Asia/Shanghai", ("America/Adak",)),  # no shared window: first listed
    ],
)
def test_number_zones(number, home, expected):
    assert number_zones(number, home, WINDOWS) == expected


def test_custom_windows_and_no_window_at_all():
    windows = ((time(22), time(8)),)
    assert callable_at(utc(2026, 11, 23, 4, 30), zones=("Asia/Shanghai",), windows=windows)
    never = ((time(0), time(12)), (time(12), time(0)))
    assert next_window(NOW, zones=("Asia/Shanghai",), windows=never) is None


# -- policy ---------------------------------------------------------------------------------


@pytest.fixture
def no_deployment_override(tmp_path, monkeypatch):
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "none" / "config.toml"))


def test_shipped_policy_is_the_documented_default(no_deployment_override):
    policy = callbacks.load_policy(Settings(local_timezone="Europe/Paris"))
    assert policy == replace(CallbackPolicy(), home_zone="Europe/Paris")


def test_deployment_policy_overrides(tmp_path, no_deployment_override):
    (tmp_path / "callbacks.toml").write_text(
        '[rest_hours]\nwindows = [["22:00", "08:00"]]\n'
        '[attempts]\nmax = 5\nretry_after = "90m"\n'
        '[schedule]\nafter_service_days = 5\n[owner]\nrule = "round_robin"\n',
        encoding="utf-8",
    )
    policy = callbacks.load_policy(Settings(policy_dir=tmp_path))
    assert policy.rest_windows == ((time(22), time(8)),)
    assert (policy.max_attempts, policy.retry_after) == (5, timedelta(minutes=90))
    assert (policy.after_service_days, policy.owner_rule) == (5, "round_robin")
    assert policy.birthday_days_before == 3  # untouched keys keep the default


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[attempts]\nmax = 0\n", "at least 1"),
        ('[attempts]\nretry_after = "soon"\n', "not a duration"),
        ("[attempts]\ntries = 3\n", "unknown key 'tries'"),
        ("[holidays]\n", "unknown section"),
        ('[rest_hours]\nwindows = [["00:00", "12:00"], ["12:00", "00:00"]]\n', "whole day"),
        ('[rest_hours]\nwindows = [["25:00", "08:00"]]\n', "windows"),
        ('[members]\ntiers = ["bronze"]\n', "bronze"),
        ("[schedule\n", "callbacks.toml"),
    ],
)
def test_bad_policy_names_file_and_problem(tmp_path, no_deployment_override, text, message):
    (tmp_path / "callbacks.toml").write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        callbacks.load_policy(Settings(policy_dir=tmp_path))
    assert "callbacks.toml" in str(err.value) and message in str(err.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30m", timedelta(minutes=30)), ("2h", timedelta(hours=2)), ("1.5d", timedelta(hours=36))],
)
def test_parse_duration(text, expected):
    assert callbacks.parse_duration(text) == expected


# -- the scheduler: cadences ----------------------------------------------------------------


def _key_rows(session) -> dict[str, Callback]:
    rows = session.execute(select(Callback).where(Callback.source_key.is_not(None))).scalars()
    return {cb.source_key: cb for cb in rows}


def _work_order(session, world, **kw) -> WorkOrder:
    wo = WorkOrder(
        kind="service_request",
        short_text="Washer drum replaced",
        customer_id=kw.pop("customer_id", world["fang"]),
        assignee_id=world["wang"],
        due_at=NOW,
        created_at=NOW - timedelta(days=10),
        **kw,
    )
    session.add(wo)
    session.flush()
    return wo


def _completed_by_event(session, world, days_ago: float) -> str:
    wo = _work_order(session, world, status="completed")
    session.add(
        WorkOrderEvent(
            work_order_id=wo.id,
            agent_id=world["wang"],
            at=NOW - timedelta(days=days_ago),
            action="complete",
            from_status="replied",
            to_status="completed",
        )
    )
    return f"satisfaction:wo:{wo.id}"


def _closed_without_event(session, world, days_ago: float) -> str:
    wo = _work_order(session, world, status="closed", closed_at=NOW - timedelta(days=days_ago))
    return f"satisfaction:wo:{wo.id}"


def _delivered(session, world, days_ago: float) -> str:
    session.add(
        Purchase(
            customer_id=world["min"],
            order_no="SO-7788",
            item="sofa",
            purchased_at=NOW - timedelta(days=20),
            delivered_at=NOW - timedelta(days=days_ago),
        )
    )
    return f"new_buyer:{world['min']}:order:SO-7788"


def _complaint(session, world, days_ago: float, status: str = "investigating") -> Complaint:
    c = Complaint(
        customer_id=world["tom"],
        owner_id=world["wang"],
        what_happened="Dryer noisy",
        customer_wants="A fix",
        status=status,
        created_at=NOW - timedelta(days=days_ago),
    )
    session.add(c)
    session.flush()
    return c


def _shanghai_10am(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("make", "days_ago", "kind", "due"),
    [
        # Completed 2 days ago (Sat 21 Nov, Shanghai): due 3 days later at 10:00 local.
        (_completed_by_event, 2, "satisfaction", _shanghai_10am(date(2026, 11, 24))),
        (_closed_without_event, 1, "satisfaction", _shanghai_10am(date(2026, 11, 25))),
        (_completed_by_event, 40, None, None),  # too long ago for a satisfaction call
        (_delivered, 1, "satisfaction", _shanghai_10am(date(2026, 11, 29))),  # +7 days
        (_delivered, 45, None, None),
    ],
)
def test_after_service_and_new_buyer_cadence(session, world, make, days_ago, kind, due):
    key = make(session, world, days_ago)
    schedule(session=session, now=NOW, policy=POLICY)
    rows = _key_rows(session)
    if kind is None:
        assert key not in rows
        return
    cb = rows[key]
    assert (cb.kind, cb.due_at, cb.status) == (kind, due, "open")


@pytest.mark.parametrize(
    ("days_ago", "weeks"), [(0, [1, 2, 3]), (10, [1, 2, 3]), (29, [1, 2, 3, 4, 5])]
)
def test_complaint_follow_up_weekly_at_least_three(session, world, days_ago, weeks):
    c = _complaint(session, world, days_ago)
    schedule(session=session, now=NOW, policy=POLICY)
    rows = {k: cb for k, cb in _key_rows(session).items() if k.startswith(f"complaint:{c.id}:")}
    assert sorted(rows) == sorted(f"complaint:{c.id}:week:{n}" for n in weeks)
    for n in weeks:
        cb = rows[f"complaint:{c.id}:week:{n}"]
        assert cb.due_at == c.created_at + timedelta(days=7 * n)
        assert (cb.owner_id, cb.complaint_id, cb.kind) == (
            world["wang"],
            c.id,
            "complaint_follow_up",
        )


def test_closing_a_complaint_cancels_its_weekly_follow_ups(session, world):
    c = _complaint(session, world, 3)
    schedule(session=session, now=NOW, policy=POLICY)
    after = Callback(
        customer_id=c.customer_id,
        owner_id=world["wang"],
        complaint_id=c.id,
        kind="complaint_follow_up",
        reason="after close",
        due_at=NOW + timedelta(days=5),
        created_at=NOW,
        source_key=f"complaint:{c.id}:after-close",
    )
    session.add(after)
    c.status, c.closed_at = "closed", NOW
    session.flush()
    report = schedule(session=session, now=NOW + timedelta(hours=1), policy=POLICY)
    assert len(report.cancelled) == 3 and not report.created
    rows = _key_rows(session)
    assert {rows[f"complaint:{c.id}:week:{n}"].status for n in (1, 2, 3)} == {"cancelled"}
    assert rows[f"complaint:{c.id}:after-close"].status == "open"  # not ours to touch
    assert schedule(session=session, now=NOW + timedelta(hours=2), policy=POLICY).cancelled == []


@pytest.mark.parametrize(
    ("tier", "birthday", "due"),
    [
        ("vip", date(1985, 11, 30), _shanghai_10am(date(2026, 11, 27))),  # 3 days before
        ("gold", date(1990, 11, 24), NOW),  # tomorrow: greet now rather than never
        ("gold", date(1990, 12, 20), None),  # beyond the horizon: later
        ("ordinary", date(1985, 11, 30), None),  # not a member tier
        ("platinum", date(1980, 11, 22), None),  # yesterday: next year
    ],
)
def test_birthday_greeting_for_members(session, world, tier, birthday, due):
    c = session.get(Customer, world["min"])
    c.tier, c.birthday = tier, birthday
    fang = session.get(Customer, world["fang"])
    fang.birthday = None
    session.flush()
    schedule(session=session, now=NOW, policy=POLICY)
    rows = _key_rows(session)
    key = f"birthday:{world['min']}:2026"
    if due is None:
        assert not [k for k in rows if k.startswith("birthday:")]
    else:
        assert rows[key].due_at == due and rows[key].kind == "birthday"


def test_leap_day_birthday_is_greeted_on_the_28th():
    assert callbacks._next_birthday(date(2000, 2, 29), date(2027, 2, 1)) == date(2027, 2, 28)


@pytest.mark.parametrize(
    ("tier", "last_call_days", "purchase_days", "after_days", "churned"),
    [
        ("gold", None, None, 90, True),  # never bought: counted from joining (400 days)
        ("gold", 100, None, 90, True),
        ("gold", 10, None, 90, True),  # a call is no purchase (the member rules' churn)
        ("gold", None, 30, 90, False),
        ("gold", None, 89, 90, False),
        ("gold", None, 91, 90, True),
        ("gold", None, 60, 45, True),  # the member policy's period, not a second one
        ("vip", 91, 120, 90, True),
        ("ordinary", None, None, 90, False),  # not a churn tier
    ],
)
def test_churned_member(
    session, world, tier, last_call_days, purchase_days, after_days, churned
):
    c = customers.create_customer(
        session=session,
        now=NOW - timedelta(days=400),
        name="Old Friend",
        phone_text="139 5555 0001",
        tier=tier,
    )
    if last_call_days is not None:
        session.add(
            Call(
                agent_id=world["wang"],
                customer_id=c.id,
                started_at=NOW - timedelta(days=last_call_days),
            )
        )
    if purchase_days is not None:
        session.add(
            Purchase(
                customer_id=c.id,
                order_no="A1",
                item="lamp",
                purchased_at=NOW - timedelta(days=purchase_days),
            )
        )
    session.flush()
    rules = replace(MemberPolicy(), churn_after_days=after_days)
    schedule(session=session, now=NOW, policy=POLICY, member_policy=rules)
    mine = [cb for k, cb in _key_rows(session).items() if k.startswith(f"churned:{c.id}:")]
    assert len(mine) == (1 if churned else 0)
    candidates = members.churn_candidates(session, now=NOW, policy=rules,
                                          tiers=POLICY.churn_tiers)  # fmt: skip
    assert (c.id in dict(candidates)) == churned  # one definition of churn
    if churned:
        assert mine[0].kind == "churned" and mine[0].due_at == NOW
        if last_call_days is not None:
            assert mine[0].owner_id == world["wang"]  # the agent who last spoke to them


def _level_one(session, world, *, owner: str | None, tier: str = "vip") -> int:
    """A customer of `tier` who never bought (churned), with a dedicated owner."""
    c = customers.create_customer(
        session=session, now=NOW - timedelta(days=400), name="Big Client",
        phone_text="139 5555 0009", tier=tier,
    )  # fmt: skip
    session.add(Call(agent_id=world["wang"], customer_id=c.id,
                     started_at=NOW - timedelta(days=100)))  # fmt: skip
    if owner is not None:
        session.get(Customer, c.id).owner_id = world[owner]
    session.flush()
    return c.id  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("tier", "owner", "owner_active", "expected"),
    [
        ("vip", "li", True, "li"),  # level 1: the dedicated owner first
        ("diamond", "li", True, "li"),
        ("vip", "li", False, "wang"),  # the owner left: the last agent who spoke to them
        ("vip", None, True, "wang"),  # no owner: the existing rule
        ("gold", "li", True, "wang"),  # level 2 has no dedicated owner by the policy
    ],
)
def test_dedicated_owner_gets_a_level_one_customers_callbacks(
    session, world, tier, owner, owner_active, expected
):
    cid = _level_one(session, world, owner=owner, tier=tier)
    if not owner_active:
        session.get(Agent, world[owner]).active = False
        session.flush()
    report = schedule(session=session, now=NOW, policy=POLICY)
    made = [s for s in report.created if s.customer_id == cid]
    assert [s.rule for s in made] == ["churned"]
    assert made[0].owner_id == world[expected]
    assert _key_rows(session)[made[0].source_key].owner_id == world[expected]


def test_a_complaint_follow_up_stays_with_the_complaints_owner(session, world):
    tom = session.get(Customer, world["tom"])
    tom.tier, tom.owner_id = "vip", world["li"]
    session.flush()
    _complaint(session, world, 8)  # Tom's complaint: Wang Wei owns it
    report = schedule(session=session, now=NOW, policy=POLICY)
    follow_ups = [s for s in report.created if s.rule == "complaint"]
    assert follow_ups and {s.owner_id for s in follow_ups} == {world["wang"]}


# -- the scheduler: idempotent, owners ------------------------------------------------------


def _busy_world(session, world) -> None:
    _completed_by_event(session, world, 1)
    _delivered(session, world, 2)
    _complaint(session, world, 8)
    customers.create_customer(
        session=session,
        now=NOW - timedelta(days=200),
        name="Gone Quiet",
        phone_text="139 5555 0002",
        tier="platinum",
    )
    session.flush()


@pytest.mark.parametrize("later", [timedelta(0), timedelta(minutes=5), timedelta(hours=20)])
def test_scheduler_is_idempotent(session, world, later):
    _busy_world(session, world)
    first = schedule(session=session, now=NOW, policy=POLICY)
    assert first.counts() == {
        "satisfaction": 1,
        "new_buyer": 1,
        "complaint": 3,
        "birthday": 1,
        "churned": 1,
        "routine": 2,  # Wang Fang and 张敏 joined a month ago
    }
    n = session.execute(select(func.count()).select_from(Callback)).scalar_one()
    second = schedule(session=session, now=NOW + later, policy=POLICY)
    assert second.created == [] and second.cancelled == []
    assert session.execute(select(func.count()).select_from(Callback)).scalar_one() == n
    assert "No new callbacks" in second.summary()
    events = session.execute(
        select(func.count()).select_from(CallbackEvent).where(CallbackEvent.action == "scheduled")
    ).scalar_one()
    assert events == len(first.created)


def test_owner_is_last_agent_else_round_robin(session, world):
    session.add(
        Call(agent_id=world["wang"], customer_id=world["fang"], started_at=NOW - timedelta(days=3))
    )
    _completed_by_event(session, world, 1)  # Fang's work order: Wang Wei spoke to her last
    session.flush()
    report = schedule(session=session, now=NOW, policy=POLICY)
    sat = next(s for s in report.created if s.rule == "satisfaction")
    assert sat.owner_id == world["wang"]
    # Wang Wei leaves: the next one goes round robin among the active agents.
    session.get(Agent, world["wang"]).active = False
    key = _completed_by_event(session, world, 1)
    schedule(session=session, now=NOW, policy=POLICY)
    assert _key_rows(session)[key].owner_id == world["li"]


def test_round_robin_rule_spreads(session, world):
    for i in range(4):
        customers.create_customer(
            session=session,
            now=NOW - timedelta(days=200),
            name=f"Quiet {i}",
            phone_text=f"139 5555 010{i}",
            tier="gold",
        )
    session.flush()
    report = schedule(session=session, now=NOW, policy=replace(POLICY, owner_rule="round_robin"))
    owners = [s.owner_id for s in report.created if s.rule == "churned"]
    assert sorted(owners) == sorted([world["li"], world["wang"]] * 2)


def test_no_active_agent_schedules_nothing(session, world):
    for a in session.execute(select(Agent)).scalars():
        a.active = False
    _completed_by_event(session, world, 1)
    report = schedule(session=session, now=NOW, policy=POLICY)
    assert report.created == [] and "No active agent" in report.summary()


# -- a callback is made ---------------------------------------------------------------------


def _made(session) -> int:
    return session.execute(select(func.count()).select_from(Callback)).scalar_one()


def test_create_callback(session, world):
    cb = callbacks.create_callback(
        session=session,
        now=NOW,
        customer_id=world["min"],
        owner_id=world["wang"],
        due_at=NOW + timedelta(hours=1),
        reason="  Confirm the repair date  ",
        kind="satisfaction",
    )
    session.commit()
    stored = session.get(Callback, cb.id)
    assert stored.reason == "Confirm the repair date"
    assert stored.due_at == NOW + timedelta(hours=1)
    assert stored.status == "open"
    assert stored.attempts == 0
    assert stored.kind == "satisfaction"
    assert stored.created_at == NOW


@pytest.mark.parametrize(
    ("due_at", "reason", "bad"),
    [
        (None, "Call back", {"due_at": "A due time is required."}),
        (NOW - timedelta(minutes=1), "Call back", {"due_at": "past"}),
        (NOW, "Call back", {"due_at": "past"}),
        (NOW - timedelta(days=400), "Call back", {"due_at": "past"}),
        (NOW + timedelta(hours=1), "", {"reason": "Reason is required."}),
        (NOW + timedelta(hours=1), "   ", {"reason": "Reason is required."}),
        (NOW + timedelta(hours=1), "x" * 2001, {"reason": "too long"}),
        (None, "", {"due_at": "required", "reason": "required"}),
    ],
)
def test_create_callback_refuses_and_writes_nothing(session, world, due_at, reason, bad):
    before = _made(session)
    with pytest.raises(ValidationError) as info:
        callbacks.create_callback(
            session=session,
            now=NOW,
            customer_id=world["min"],
            owner_id=world["li"],
            due_at=due_at,
            reason=reason,
        )
    assert set(info.value.errors) == set(bad)
    for key, words in bad.items():
        assert words in info.value.errors[key]
    session.commit()
    assert _made(session) == before


# -- attempts -------------------------------------------------------------------------------


def _callback(session, world, customer: str = "fang", **kw) -> Callback:
    cb = Callback(
        customer_id=world[customer],
        owner_id=kw.pop("owner_id", world["li"]),
        reason="Check the repair",
        kind=kw.pop("kind", "satisfaction"),
        due_at=kw.pop("due_at", NOW - timedelta(hours=1)),
        created_at=NOW - timedelta(days=1),
        **kw,
    )
    session.add(cb)
    session.flush()
    return cb


def _events(session, cb: Callback) -> list[tuple[str, str]]:
    return [
        (e.action, e.comment)
        for e in session.execute(
            select(CallbackEvent)
            .where(CallbackEvent.callback_id == cb.id)
            .order_by(CallbackEvent.id)
        ).scalars()
    ]


@pytest.mark.parametrize(
    ("outcome", "tries", "status", "due"),
    [
        # 10:00 + 2 h = 12:00, Shanghai's lunch rest: the retry waits for 14:00 (06:00 UTC).
        ("no_answer", 1, "open", utc(2026, 11, 23, 6, 0)),
        ("no_answer", 2, "open", utc(2026, 11, 23, 6, 0)),
        ("no_answer", 3, "missed", None),
        ("busy", 1, "open", NOW + timedelta(minutes=30)),
        ("busy", 3, "missed", None),
        ("resolved", 1, "done", None),
    ],
)
def test_attempt_limits(session, world, outcome, tries, status, due):
    cb = _callback(session, world, attempts=tries - 1)
    record_attempt(
        session=session,
        callback_id=cb.id,
        agent_id=world["li"],
        outcome=outcome,
        now=NOW,
        policy=POLICY,
    )
    assert (cb.status, cb.attempts, cb.last_outcome, cb.last_attempt_at) == (
        status,
        tries,
        outcome,
        NOW,
    )
    if due is not None:
        assert cb.due_at == due
    actions = [a for a, __ in _events(session, cb)]
    assert actions == (["attempt", "missed"] if status == "missed" else ["attempt"])
    assert (cb.done_at == NOW) is (status == "done")


def test_attempt_limit_is_configurable(session, world):
    cb = _callback(session, world, attempts=3)
    policy = replace(POLICY, max_attempts=5, retry_after=timedelta(hours=1))
    record_attempt(
        session=session,
        callback_id=cb.id,
        agent_id=world["li"],
        outcome="no_answer",
        now=NOW,
        policy=policy,
    )
    assert cb.status == "open" and cb.due_at == NOW + timedelta(hours=1)


def test_wrong_number_flags_the_number(session, world):
    cb = _callback(session, world)  # Wang Fang has one number
    record_attempt(
        session=session,
        callback_id=cb.id,
        agent_id=world["li"],
        outcome="wrong_number",
        now=NOW,
        number=SHANGHAI,
        policy=POLICY,
    )
    number = session.execute(select(PhoneNumber).where(PhoneNumber.e164 == SHANGHAI)).scalar_one()
    assert number.wrong_number is True
    assert cb.status == "missed"  # no other number to try
    assert [a for a, __ in _events(session, cb)] == ["attempt", "missed"]


def test_wrong_number_with_another_number_stays_open(session, world):
    session.add(PhoneNumber(customer_id=world["fang"], e164="+8613911112222", label="home"))
    cb = _callback(session, world)
    record_attempt(
        session=session,
        callback_id=cb.id,
        agent_id=world["li"],
        outcome="wrong_number",
        now=NOW,
        number=SHANGHAI,
        policy=POLICY,
    )
    assert cb.status == "open" and cb.attempts == 1
    ready, __ = sidebar_callbacks(session=session, agent_id=world["li"], now=NOW, policy=POLICY)
    assert next(i for i in ready if i.id == cb.id).e164 == "+8613911112222"


@pytest.mark.parametrize(("score", "stored"), [(5, 5), (1, 1), (0, None), (9, None), (None, None)])
def test_answered_callback_stores_the_score(session, world, score, stored):
    cb = _callback(session, world)
    record_attempt(
        session=session,
        callback_id=cb.id,
        agent_id=world["li"],
        outcome="resolved",
        now=NOW,
        score=score,
        policy=POLICY,
    )
    assert (cb.status, cb.score) == ("done", stored)


def test_settled_callbacks_are_not_touched(session, world):
    cb = _callback(session, world, status="missed", attempts=3)
    record_attempt(
        session=session,
        callback_id=cb.id,
        agent_id=world["li"],
        outcome="resolved",
        now=NOW,
        policy=POLICY,
    )
    assert (cb.status, cb.attempts) == ("missed", 3)


def test_save_call_records_the_attempt(session, world):
    scripts, __ = load_scripts(DATA_DIR / "scripts")
    cb = _callback(session, world)
    state = calls.CallState(
        script=scripts["callback"],
        agent_id=world["li"],
        started_at=NOW,
        customer_id=world["fang"],
        callback_id=cb.id,
        from_number=SHANGHAI,
    )
    state.values.update(satisfied="unsatisfied", score="2", improvement="Late twice")
    for i in range(1, 5):
        assert state.advance(NOW + timedelta(minutes=i)) == {}
    state.outcome = "complaint_opened"
    # Unsatisfied and no complaint opened on this call: why not (seat.loops).
    state.values["no_complaint_reason"] = "Opened by the shop already"
    call = calls.save_call(session=session, state=state, now=NOW + timedelta(minutes=5))
    assert (call.satisfaction, cb.score, cb.status) == (2, 2, "done")
    # The choices asked along the script are on the callback's record too.
    assert _events(session, cb) == [("attempt", "complaint opened; score 2; Answer: unsatisfied")]


# -- snooze and reassign --------------------------------------------------------------------


@pytest.fixture
def boss(session, world) -> int:
    return agents.ensure_agent(session=session, name="zhou.chen", role="supervisor").id


def test_snooze_moves_the_due_time_with_a_reason(session, world):
    cb = _callback(session, world)
    until = NOW + timedelta(days=2)
    snooze(
        session=session,
        callback_id=cb.id,
        agent_id=world["li"],
        until=until,
        reason="Customer travels until Wednesday",
        now=NOW,
    )
    assert (cb.due_at, cb.snooze_reason, cb.version) == (
        until,
        "Customer travels until Wednesday",
        2,
    )
    [(action, comment)] = _events(session, cb)
    assert action == "snooze" and "Customer travels until Wednesday" in comment


@pytest.mark.parametrize(
    ("until", "reason", "field"),
    [
        (NOW - timedelta(minutes=1), "asked", "until"),
        (NOW + timedelta(days=91), "asked", "until"),
        (None, "asked", "until"),
        (NOW + timedelta(hours=1), "   ", "reason"),
        (NOW + timedelta(hours=1), "x" * 501, "reason"),
    ],
)
def test_snooze_refuses_bad_input(session, world, until, reason, field):
    cb = _callback(session, world)
    before = cb.due_at
    with pytest.raises(ValidationError) as err:
        snooze(
            session=session,
            callback_id=cb.id,
            agent_id=world["li"],
            until=until,
            reason=reason,
            now=NOW,
        )
    assert field in err.value.errors
    assert cb.due_at == before and _events(session, cb) == []


def test_snooze_by_someone_else(session, world, boss):
    cb = _callback(session, world)
    with pytest.raises(PermissionDenied):
        snooze(
            session=session,
            callback_id=cb.id,
            agent_id=world["wang"],
            until=NOW + timedelta(hours=3),
            reason="mine now",
            now=NOW,
        )
    snooze(
        session=session,
        callback_id=cb.id,
        agent_id=boss,
        until=NOW + timedelta(hours=3),
        reason="Customer asked",
        now=NOW,
    )
    assert cb.due_at == NOW + timedelta(hours=3)


def test_snooze_only_open_callbacks(session, world):
    cb = _callback(session, world, status="done")
    with pytest.raises(ValidationError) as err:
        snooze(
            session=session,
            callback_id=cb.id,
            agent_id=world["li"],
            until=NOW + timedelta(hours=3),
            reason="late",
            now=NOW,
        )
    assert "callback" in err.value.errors


def test_agents_cannot_reassign(session, world):
    cb = _callback(session, world)
    with pytest.raises(PermissionDenied, match="supervisor"):
        reassign(
            session=session,
            callback_id=cb.id,
            actor_id=world["li"],
            new_owner_id=world["wang"],
            now=NOW,
        )
    assert cb.owner_id == world["li"] and _events(session, cb) == []


def test_supervisor_reassigns_and_reopens_missed(session, world, boss):
    cb = _callback(session, world, status="missed", attempts=3)
    reassign(
        session=session,
        callback_id=cb.id,
        actor_id=boss,
        new_owner_id=world["wang"],
        now=NOW,
        comment="Wang speaks English",
    )
    assert (cb.owner_id, cb.status, cb.attempts, cb.due_at) == (world["wang"], "open", 0, NOW)
    [(action, comment)] = _events(session, cb)
    assert action == "reassign"
    assert "Li Na → Wang Wei" in comment and "Wang speaks English" in comment


@pytest.mark.parametrize("who", ["same", "nobody", "inactive"])
def test_reassign_needs_another_active_agent(session, world, boss, who):
    cb = _callback(session, world)
    target = {"same": world["li"], "nobody": None, "inactive": world["wang"]}[who]
    if who == "inactive":
        session.get(Agent, world["wang"]).active = False
    with pytest.raises(ValidationError) as err:
        reassign(session=session, callback_id=cb.id, actor_id=boss, new_owner_id=target, now=NOW)
    assert "owner" in err.value.errors and cb.owner_id == world["li"]


# -- the sidebar split ----------------------------------------------------------------------


def test_sidebar_callable_and_waiting(session, world):
    tom = _callback(session, world, customer="tom", due_at=NOW - timedelta(minutes=30))
    ready, waiting = sidebar_callbacks(
        session=session, agent_id=world["li"], now=NOW, policy=POLICY
    )
    assert [c.customer_name for c in ready] == ["Wang Fang", "张敏"]  # overdue first, then due
    assert ready[0].overdue(NOW) and not ready[1].overdue(NOW)
    assert [(w.id, w.opens_at) for w in waiting] == [(tom.id, utc(2026, 11, 23, 9, 0))]
    assert waiting[0].zones == ("Europe/London",)
    # At 12:30 in Shanghai both Chinese customers rest until 14:00; London is still asleep.
    lunch = utc(2026, 11, 23, 4, 30)
    ready, waiting = sidebar_callbacks(
        session=session, agent_id=world["li"], now=lunch, policy=POLICY
    )
    assert ready == []
    assert [w.opens_at for w in waiting] == [utc(2026, 11, 23, 6, 0)] * 2 + [
        utc(2026, 11, 23, 9, 0)
    ]


def test_sidebar_respects_horizon_status_and_owner(session, world):
    _callback(session, world, due_at=NOW + timedelta(hours=30))  # beyond 24 h
    _callback(session, world, status="missed")
    _callback(session, world, owner_id=world["wang"])  # someone else's
    ready, waiting = sidebar_callbacks(
        session=session, agent_id=world["li"], now=NOW, policy=POLICY
    )
    assert len(ready) + len(waiting) == 2  # only the two open ones of the fixture world
    ready, __ = sidebar_callbacks(
        session=session,
        agent_id=world["li"],
        now=NOW,
        policy=replace(POLICY, sidebar_horizon_hours=48),
    )
    assert len(ready) == 3


def test_worklist_states(session, world, boss):
    _callback(session, world, customer="tom")
    _callback(session, world, status="missed", attempts=3)
    items, total = callbacks.worklist(session=session, now=NOW, policy=POLICY)
    assert total == 4
    # Overdue is overdue whatever the customer's hour (seat.states); opens_at says when a
    # customer inside their rest hours may be dialled.
    states = {(i.customer_name, i.state, i.opens_at is not None) for i in items}
    assert states == {
        ("Wang Fang", "overdue", False),
        ("Wang Fang", "missed", False),
        ("张敏", "due", False),
        ("Tom Baker", "overdue", True),
    }
    mine, n = callbacks.worklist(session=session, now=NOW, policy=POLICY, owner_id=world["wang"])
    assert (mine, n) == ([], 0)


@pytest.mark.parametrize(("owner", "limit"), [("li", 3), ("li", 50), (None, 4), (None, 1)])
def test_worklist_is_the_first_by_due_time_of_open_and_missed(session, world, owner, limit):
    """Open and missed ones interleaved by due time, cut at `limit`; the total is whole."""
    for n in range(8):
        _callback(session, world, due_at=NOW + timedelta(hours=n - 4),
                  status="missed" if n % 3 == 0 else "open", attempts=3 if n % 3 == 0 else 0)
    _callback(session, world, due_at=NOW - timedelta(days=9), status="done")
    _callback(session, world, due_at=NOW - timedelta(days=9), status="cancelled")
    owner_id = world[owner] if owner else None
    items, total = callbacks.worklist(session=session, now=NOW, policy=POLICY,
                                      owner_id=owner_id, limit=limit)  # fmt: skip
    where = [Callback.status.in_(("open", "missed"))]
    if owner_id is not None:
        where.append(Callback.owner_id == owner_id)
    every = session.execute(
        select(Callback.id).where(*where).order_by(Callback.due_at, Callback.id)
    ).scalars().all()  # fmt: skip
    assert total == len(every)
    assert [i.id for i in items] == every[:limit]


# -- run_scheduler (for the app's start-up worker) and import hygiene ---------------------


def test_run_scheduler_through_the_desk(engine, clock, settings, world, no_deployment_override):
    from seat.services import Desk

    desk = Desk(engine=engine, clock=clock, settings=settings)
    first = callbacks.run_scheduler(desk)
    # Wang Fang's birthday; her and 张敏's first routine call (they joined on 10-24).
    assert [s.source_key for s in first.created] == [
        f"birthday:{world['fang']}:2026",
        f"routine:{world['fang']}:2026-11-24", f"routine:{world['min']}:2026-11-24",
    ]  # fmt: skip
    assert first.created[0].due_at == _shanghai_10am(date(2026, 11, 27))
    again = callbacks.run_scheduler(desk)  # the next seat to start today: nothing to do
    assert again.skipped and again.created == []
    forced = callbacks.run_scheduler(desk, force=True)  # a person asked: runs, finds all made
    assert not forced.skipped and forced.created == []


@pytest.mark.parametrize(("cause", "retried"), [("unique", True), ("locked", False)])
def test_run_scheduler_retries_a_lost_race(
    engine, clock, settings, world, monkeypatch, cause, retried
):
    """Two seats start together: the loser's insert breaks the unique source key; it runs
    again and finds the winner's rows. Other storage trouble is reported, not retried."""
    from sqlalchemy.exc import IntegrityError, OperationalError

    from seat.services import Desk, StorageError

    desk = Desk(engine=engine, clock=clock, settings=settings)
    real_run, tries = desk.run, []

    def flaky(fn, *, write=False):
        if write:  # the day's lease: taken, given back
            return real_run(fn, write=True)
        tries.append(1)
        if len(tries) == 1:
            error = (
                IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))
                if cause == "unique"
                else OperationalError("INSERT", {}, Exception("database is locked"))
            )
            raise StorageError("Could not save") from error
        return real_run(fn)

    monkeypatch.setattr(desk, "run", flaky)
    if retried:
        assert len(callbacks.run_scheduler(desk).created) == 3 and len(tries) == 3  # + optimize
    else:
        with pytest.raises(StorageError):
            callbacks.run_scheduler(desk)
        assert len(tries) == 1
        monkeypatch.setattr(desk, "run", real_run)  # the lease was given back: a retry runs
        assert len(callbacks.run_scheduler(desk).created) == 3


@pytest.mark.parametrize("module", ["seat.callbacks", "seat.reports.callbacks"])
def test_callback_rules_never_import_textual(module):
    import subprocess
    import sys

    code = f"import {module}, sys; print(any(m.startswith('textual') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_broken_policy_file_never_stops_a_call_from_saving(tmp_path, monkeypatch):
    (tmp_path / "config.toml").write_text(f'policy_dir = "{tmp_path}"\n', encoding="utf-8")
    (tmp_path / "callbacks.toml").write_text("[attempts\n", encoding="utf-8")
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "config.toml"))
    callbacks.default_policy.cache_clear()
    try:
        assert callbacks.default_policy() == CallbackPolicy()
    finally:
        callbacks.default_policy.cache_clear()


def test_a_kept_churn_period_in_callbacks_toml_is_no_longer_read():
    """Churn is defined once, by the member rules: an old file still loads."""
    old = callbacks.policy_from_dict({"schedule": {"churn_after_days": 60}})
    assert old == replace(CallbackPolicy(), home_zone=old.home_zone)
    assert not hasattr(old, "churn_after_days")


@pytest.mark.parametrize(
    ("kind", "outcome", "answer", "kept"),
    [
        ("churned", "resolved", "price", "price"),
        ("churned", "resolved", "quality", "quality"),
        ("churned", "resolved", "cheaper elsewhere", None),  # not a reason the report counts
        ("churned", "resolved", None, None),
        ("churned", "no_answer", "price", None),  # not reached: nothing was said
        ("satisfaction", "resolved", "price", None),  # only a churn callback keeps a reason
        ("birthday", "resolved", "service", None),
    ],
)
def test_a_churn_callback_keeps_the_reason(session, world, kind, outcome, answer, kept):
    cb = Callback(customer_id=world["min"], owner_id=world["li"], kind=kind, reason="r",
                  due_at=NOW, created_at=NOW - timedelta(days=1))  # fmt: skip
    session.add(cb)
    session.flush()
    callbacks.record_call(session=session, callback_id=cb.id, script_id="callback_churned",
                          agent_id=world["li"], outcome=outcome, now=NOW, policy=POLICY,
                          churn_reason=answer)  # fmt: skip
    session.flush()
    session.refresh(cb)
    assert cb.churn_reason == kept

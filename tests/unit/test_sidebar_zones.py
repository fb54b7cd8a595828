"""The sidebar's rest hours in SQL (issue 18): each callback keeps its customer's time zones
(callback.zones), so callable now / waiting for the window is decided once per zone group
and counted from an index. The answers must be those of classifying every callback one by
one from the customer's first working number, as the sidebar did before."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import select, text, update

from seat import customers, phone
from seat.callbacks import (
    CallbackPolicy,
    callback_queue,
    create_callback,
    key_zones,
    next_window,
    number_zones,
    record_attempt,
    run_scheduler,
)
from seat.db import _alembic_config, upgrade
from seat.models import Callback, CallbackStatus, PhoneNumber
from seat.services import Desk
from tests.conftest import NOW
from tests.unit.helpers import ZONE_NUMBERS as NUMBERS

POLICY = CallbackPolicy()
WINDOWS = POLICY.rest_windows


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- the stored key and the zones it stands for (pure) --------------------------------------


@pytest.mark.parametrize(
    ("e164", "key"),
    [
        ("+8613800138000", "Asia/Shanghai"),
        ("+81312345678", "Asia/Tokyo"),
        ("+12125551234", "America/New_York"),
        ("+442079460958", "Europe/London"),
        (None, ""),
        ("", ""),
        ("+999", ""),  # not a number phonenumbers knows: no zone
    ],
)
def test_zones_key_of_a_number(e164, key):
    assert phone.zones_key(e164) == key


@pytest.mark.parametrize(
    "e164", ["+8613800138000", "+12125551234", "+79161234567", "+18005551234", None]
)
@pytest.mark.parametrize("home", ["Asia/Shanghai", "Europe/Moscow", "America/New_York"])
def test_key_zones_is_number_zones(e164, home):
    """What the sidebar derives from the stored key is what the number itself gives."""
    assert key_zones(phone.zones_key(e164), home, WINDOWS) == number_zones(e164, home, WINDOWS)


@pytest.mark.parametrize(
    ("key", "home", "zones"),
    [
        ("", "Europe/Paris", ("Europe/Paris",)),  # nothing known: the desk's zone
        ("Asia/Tokyo", "Asia/Shanghai", ("Asia/Tokyo",)),
        ("Europe/Moscow Europe/Samara", "Europe/Moscow", ("Europe/Moscow",)),  # home among them
        ("Europe/Moscow Europe/Samara", "Asia/Shanghai", ("Europe/Moscow", "Europe/Samara")),
        ("America/Bogota Asia/Bangkok", "Asia/Shanghai", ("America/Bogota",)),  # 12 h apart
    ],
)
def test_key_zones(key, home, zones):
    assert key_zones(key, home, WINDOWS) == zones


@pytest.mark.parametrize(
    ("key", "now", "opens"),
    [
        # No daylight saving: the same UTC hours all year.
        ("Asia/Shanghai", utc(2026, 1, 5, 0, 30), utc(2026, 1, 5, 1, 0)),
        ("Asia/Shanghai", utc(2026, 7, 6, 0, 30), utc(2026, 7, 6, 1, 0)),
        ("Asia/Shanghai", utc(2026, 7, 6, 2, 0), None),  # 10:00: callable
        ("Asia/Tokyo", utc(2026, 7, 6, 3, 30), utc(2026, 7, 6, 5, 0)),  # lunch in Tokyo
        # Daylight saving: New York's window opens an hour earlier in UTC once it starts.
        ("America/New_York", utc(2026, 3, 7, 13, 30), utc(2026, 3, 7, 14, 0)),  # 08:30 EST
        ("America/New_York", utc(2026, 3, 9, 13, 30), None),  # 09:30 EDT
        ("America/New_York", utc(2026, 11, 2, 13, 30), utc(2026, 11, 2, 14, 0)),  # EST again
        ("Europe/London", utc(2026, 3, 28, 8, 30), utc(2026, 3, 28, 9, 0)),  # 08:30 GMT
        ("Europe/London", utc(2026, 3, 30, 8, 30), None),  # 09:30 BST
        ("Europe/London", utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 8, 0)),  # the night it moves
        ("", utc(2026, 7, 6, 4, 30), utc(2026, 7, 6, 6, 0)),  # no zone: Shanghai's lunch
    ],
)
def test_a_zone_group_is_callable_or_waits_for_one_time(key, now, opens):
    zones = key_zones(key, "Asia/Shanghai", WINDOWS)
    found = next_window(now, zones=zones, windows=WINDOWS)
    assert (None if found == now else found) == opens


# -- the queue against classifying every callback ------------------------------------------


def _first_number(session, customer_id: int) -> str | None:
    return session.execute(
        select(PhoneNumber.e164)
        .where(PhoneNumber.customer_id == customer_id, PhoneNumber.wrong_number.is_(False))
        .order_by(PhoneNumber.id)
        .limit(1)
    ).scalar()


def _one_by_one(session, agent_id: int, now: datetime, policy: CallbackPolicy):
    """The sidebar as it was: every due callback read and classified from the customer's
    first working number."""
    rows = session.execute(
        select(Callback.id, Callback.due_at, Callback.customer_id)
        .where(
            Callback.owner_id == agent_id,
            Callback.status == CallbackStatus.OPEN,
            Callback.due_at <= now + timedelta(hours=policy.sidebar_horizon_hours),
        )
        .order_by(Callback.due_at, Callback.id)
    ).all()
    ready, waiting = [], []
    for cb_id, due_at, customer_id in rows:
        zones = number_zones(
            _first_number(session, customer_id), policy.home_zone, policy.rest_windows
        )
        opens = next_window(now, zones=zones, windows=policy.rest_windows)
        if opens is None or opens == now:
            ready.append((cb_id, zones, due_at < now))
        else:
            waiting.append((opens, due_at, cb_id, zones, due_at < now))
    waiting.sort()
    return ready, waiting


def _world(session, people, now: datetime, seed: int) -> dict[str, int]:
    """Customers in every kind of zone (one with a second number elsewhere), each with
    open callbacks around `now` for li.na, and some that must not count."""
    ids = {}
    for name, number in NUMBERS.items():
        ids[name] = customers.create_customer(
            session=session, now=now - timedelta(days=40), name=name.title(), phone_text=number
        ).id
    # A customer with numbers in two zones: rest hours follow the first working one.
    ids["two"] = customers.create_customer(
        session=session, now=now - timedelta(days=40), name="Two", phone_text="139 0000 0002"
    ).id
    session.add(PhoneNumber(customer_id=ids["two"], e164="+12125550002"))
    session.flush()
    rng = random.Random(seed)
    for __ in range(120):
        session.add(
            Callback(
                customer_id=ids[rng.choice(sorted(ids))],
                owner_id=people["li"] if rng.random() < 0.85 else people["wang"],
                reason="x",
                due_at=now + timedelta(minutes=rng.randint(-3 * 24 * 60, 30 * 60)),
                created_at=now - timedelta(days=5),
                status=CallbackStatus.OPEN if rng.random() < 0.9 else CallbackStatus.DONE,
            )
        )
    session.flush()
    return ids


def _same_answers(session, agent_id: int, now: datetime, limit: int) -> None:
    queue = callback_queue(session=session, agent_id=agent_id, now=now, policy=POLICY, limit=limit)
    ready, waiting = _one_by_one(session, agent_id, now, POLICY)
    page = max(limit, 0)
    assert [(c.id, c.zones) for c in queue.ready] == [(r[0], r[1]) for r in ready[:page]]
    assert [(w.id, w.opens_at, w.zones) for w in queue.waiting] == [
        (w[2], w[0], w[3]) for w in waiting[:page]
    ]
    # The lists may be cut; the counts never are.
    assert queue.ready_overdue == sum(r[2] for r in ready)
    assert queue.ready_due == sum(not r[2] for r in ready)
    assert queue.waiting_total == len(waiting)
    assert queue.waiting_overdue == sum(w[4] for w in waiting)


INSTANTS = [
    NOW,  # 10:00 in Shanghai, a Monday in November
    NOW + timedelta(hours=2, minutes=30),  # Shanghai's lunch rest
    utc(2026, 3, 8, 13, 30),  # New York's first morning of daylight saving
    utc(2026, 3, 29, 8, 30),  # London's first morning of summer time
    utc(2026, 7, 6, 16, 0),  # midnight in Shanghai, noon in New York
    utc(2026, 11, 1, 13, 30),  # New York's last day of daylight saving
]


@pytest.mark.parametrize("now", INSTANTS)
@pytest.mark.parametrize("stored", [True, False], ids=["zones kept", "zones not known yet"])
def test_queue_is_every_callback_classified(session, people, now, stored):
    _world(session, people, now, seed=now.toordinal())
    if not stored:  # rows from before migration 0012 or a bulk insert without them
        session.execute(update(Callback).values(zones=None))
    queue = callback_queue(session=session, agent_id=people["li"], now=now, policy=POLICY)
    assert queue.waiting_total and queue.ready_overdue + queue.ready_due  # both groups seen
    for limit in (50, 3, 0):
        _same_answers(session, people["li"], now, limit)


def test_a_customer_with_numbers_in_two_zones(session, people):
    ids = _world(session, people, NOW, seed=2)
    two = ids["two"]
    cb = create_callback(
        session=session, now=NOW, customer_id=two, owner_id=people["li"], reason="Ask again",
        due_at=NOW + timedelta(minutes=5),
    )  # fmt: skip
    assert cb.zones == "Asia/Shanghai"  # the first number, Chinese
    # 10:00 in Shanghai is 21:00 in New York: callable on the Chinese number.
    queue = callback_queue(session=session, agent_id=people["li"], now=NOW, policy=POLICY)
    assert cb.id in {c.id for c in queue.ready}
    record_attempt(
        session=session, callback_id=cb.id, outcome="wrong_number", now=NOW,
        number="+8613900000002", agent_id=people["li"], policy=POLICY,
    )  # fmt: skip
    kept = session.execute(
        select(Callback.zones).where(Callback.customer_id == two).distinct()
    ).scalars().all()
    assert kept == ["America/New_York"]  # every callback of the customer follows the number
    _same_answers(session, people["li"], NOW, 50)


def test_an_edited_number_moves_the_callbacks(session, people):
    ids = _world(session, people, NOW, seed=3)
    customers.update_customer(
        session=session, customer_id=ids["shanghai"], agent_id=people["li"], now=NOW,
        phone_text="+44 20 7946 0001",
    )  # fmt: skip
    kept = session.execute(
        select(Callback.zones).where(Callback.customer_id == ids["shanghai"]).distinct()
    ).scalars().all()
    assert kept == ["Europe/London"]
    _same_answers(session, people["li"], NOW, 50)


def test_the_rules_keep_the_zones_of_what_they_make(session, people, engine, clock, settings):
    session.commit()
    desk = Desk(engine=engine, clock=clock, settings=settings)
    report = run_scheduler(desk, force=True)
    made = [s.customer_id for s in report.created]
    rows = session.execute(select(Callback.customer_id, Callback.zones)).all()
    assert all(z is not None for __, z in rows)
    for customer_id, key in rows:
        if customer_id in made:
            assert key == phone.zones_key(_first_number(session, customer_id))


# -- migration 0012 fills in the zones of the callbacks already on file ---------------------


AGENT_SQL = "insert into agent(name, display_name, role, active) values ('li', 'Li', 'agent', :a)"
CUSTOMER_SQL = (
    "insert into customer(id, name, tier, language, created_at, updated_at)"
    " values (:id, 'C', 'gold', 'en', '2026-01-01', '2026-01-01')"
)
PHONE_SQL = (
    "insert into phone_number(customer_id, e164, label, wrong_number)"
    " values (:c, :e, 'mobile', :w)"
)
CALLBACK_SQL = (
    "insert into callback(customer_id, owner_id, kind, reason, due_at, status, attempts,"
    " created_at, version) values (:c, 1, 'manual', 'r', '2026-01-02', 'open', 0,"
    " '2026-01-01', 1)"
)


def test_migration_fills_in_the_zones(engine):
    command.downgrade(_alembic_config(engine), "0011")  # a desk from before (both backends)
    numbers = {  # customer: (number, wrong?), in id order
        1: [("+8613800138000", False)],
        2: [("+442079460958", True), ("+12125551234", False)],  # the first one found wrong
        3: [("+81312345678", False)],
    }
    with engine.begin() as c:
        c.execute(text(AGENT_SQL), {"a": True})
        for cid, phones in numbers.items():
            c.execute(text(CUSTOMER_SQL), {"id": cid})
            for e164, wrong in phones:
                c.execute(text(PHONE_SQL), {"c": cid, "e": e164, "w": wrong})
            for __ in range(2):
                c.execute(text(CALLBACK_SQL), {"c": cid})
    upgrade(engine)
    with engine.connect() as c:
        kept = dict(c.execute(text("select distinct customer_id, zones from callback")).all())
    assert kept == {1: "Asia/Shanghai", 2: "America/New_York", 3: "Asia/Tokyo"}

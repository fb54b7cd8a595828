"""Work-order clocks (on site by zone, reply after the job, weekly follow-ups) and the Z1 paths
with and without head office."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from seat import agents, order_clocks, queues, sla, supervisor, workorders
from seat.customers import ValidationError
from seat.errors import PolicyError
from seat.models import Role, WorkOrder, WorkOrderEvent
from seat.order_clocks import FOLLOW_UP, ON_SITE, REPLY
from seat.roles import PermissionDenied
from seat.workorders import Z1, Z2, WorkOrderDraft
from tests.conftest import NOW

SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY = order_clocks.parse_text(
    """
[clocks]
reply_minutes = 30
follow_up_every_days = 7
follow_up_min = 3
default_zone = "province"

[zones.inner]
label = "inner zone"
on_site_hours = 2
address_contains = ["Huangpu", "黄浦"]

[zones.city]
label = "rest of the city"
on_site_hours = 24
address_contains = ["Shanghai"]
work_centers = ["SH-REPAIR"]

[zones.province]
label = "rest of the province"
on_site_hours = 48
business_hours = true
work_centers = ["HQ-SERVICE"]
"""
)
CALENDAR = sla.Calendar(SHANGHAI)  # Monday to Friday, 9:00 to 18:00


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def boss(session, world) -> int:
    lead = agents.ensure_agent(session=session, name="zhao.lei", role=Role.SUPERVISOR)
    session.commit()
    return lead.id


def _create(session, world, *, now=NOW, **overrides) -> WorkOrder:
    draft = WorkOrderDraft(**{
        "kind": Z1, "short_text": "Washer leaks", "reporter": "Wang Fang",
        "assignee_id": world["wang"], "due_at": now + timedelta(days=9),
        "service_type": "repair", "service_address": "8 Lane 20, Suzhou",
        **overrides,
    })  # fmt: skip
    wo = workorders.create_order(
        session=session, now=now, customer_id=world["fang"], created_by_id=world["li"],
        draft=draft, clocks=POLICY, calendar=CALENDAR,
    )
    session.commit()
    return wo


def _move(session, wo_id: int, agent_id: int, action: str, *, now=NOW, **kw) -> WorkOrder:
    wo = workorders.move(session=session, now=now, work_order_id=wo_id, agent_id=agent_id,
                         action=action, clocks=POLICY, **kw)  # fmt: skip
    session.commit()
    return wo


def _follow_up(session, wo_id: int, agent_id: int, reason: str, *, now) -> WorkOrder:
    wo = workorders.follow_up(session=session, now=now, work_order_id=wo_id,
                              agent_id=agent_id, reason=reason, clocks=POLICY)  # fmt: skip
    session.commit()
    return wo


def _clock(wo: WorkOrder, name: str) -> order_clocks.OrderClock | None:
    return next((c for c in order_clocks.clocks_of(wo, POLICY) if c.name == name), None)


# -- the policy ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "work_center", "zone"),
    [
        ("12 Huangpu Road, Shanghai", None, "inner"),  # the first zone naming the address
        ("上海市黄浦区南京东路 1 号", "HQ-SERVICE", "inner"),  # the address wins
        ("99 Hongqiao Road, shanghai", None, "city"),  # case does not matter
        ("8 Lane 20, Suzhou", "SH-REPAIR", "city"),  # the work center's zone
        ("8 Lane 20, Suzhou", "HQ-SERVICE", "province"),
        ("8 Lane 20, Suzhou", None, "province"),  # the default
        (None, None, "province"),
    ],
)
def test_the_zone_comes_from_the_address_then_the_work_center(address, work_center, zone):
    assert POLICY.zone_for(address=address, work_center=work_center).id == zone


def test_the_shipped_policy_has_the_manuals_clocks(tmp_path):
    from seat.config import DATA_DIR

    policy = workorders.read_policy(DATA_DIR / "policy" / "work_orders.toml").clocks
    assert policy.reply == timedelta(minutes=30)
    assert (policy.follow_up_every, policy.follow_up_min) == (timedelta(days=7), 3)
    assert policy.zones  # the defaults when the file has none


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[clocks]\nreply = 30", "unknown key"),
        ("[clocks]\nreply_minutes = 0", "positive"),
        ("[clocks]\ndefault_zone = 'moon'", "not one of the"),
        ("[zones.inner]\nlabel = 'x'", "on_site_hours is required"),
        ("[zones.inner]\non_site_hours = -2", "positive"),
        ("[zones.inner]\non_site_hours = 2\nwork_centers = 'SH'", "list of text"),
        ("[zones.inner]\non_site_hours = 2\nbusiness_hours = 'yes'", "true or false"),
        ("[zones.inner]\non_site_hours = 2\nradius = 5", "unknown key"),
    ],
)
def test_a_broken_clock_policy_is_refused_naming_the_problem(text, problem):
    with pytest.raises(PolicyError, match=problem):
        order_clocks.parse_text(text, source="work_orders.toml")


# -- on site ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("created", "address", "zone", "due"),
    [
        # Monday 10:00; the inner zone counts every hour: 2 h.
        (local(2026, 11, 23, 10), "Huangpu Road", "inner", local(2026, 11, 23, 12)),
        # Saturday night, still every hour.
        (local(2026, 11, 28, 23), "Huangpu Road", "inner", local(2026, 11, 29, 1)),
        (local(2026, 11, 23, 10), "Hongqiao Road, Shanghai", "city", local(2026, 11, 24, 10)),
        # The province counts business hours: 48 h of 9 a day from Monday 10:00 -> 5 days
        # and 3 hours on: the next Monday 13:00.
        (local(2026, 11, 23, 10), "Suzhou", "province", local(2026, 11, 30, 13)),
        # Friday 17:00: one hour on Friday, the rest from Monday 9:00.
        (local(2026, 11, 27, 17), "Suzhou", "province", local(2026, 12, 7, 11)),
    ],
)
def test_the_on_site_promise_by_zone(session, world, created, address, zone, due):
    wo = _create(session, world, now=created, service_address=address,
                 due_at=created + timedelta(days=20))  # fmt: skip
    assert (wo.service_zone, wo.on_site_due_at) == (zone, due)


def test_a_later_requested_start_moves_the_promise(session, world):
    start = NOW + timedelta(days=1)
    wo = _create(session, world, service_address="Huangpu", requested_start=start)
    assert wo.on_site_due_at == start + timedelta(hours=2)
    assert _clock(wo, ON_SITE).started_at == start


@pytest.mark.parametrize(
    ("survey_after", "late", "phrase"),
    [
        (timedelta(hours=1), False, "met"),
        (timedelta(hours=2), False, "met"),
        (timedelta(hours=3), True, "late by 1h"),
    ],
)
def test_the_survey_stops_the_on_site_clock(session, world, survey_after, late, phrase):
    wo = _create(session, world, service_address="Huangpu")
    wo = _move(session, wo.id, world["wang"], "survey", now=NOW + survey_after)
    clock = _clock(wo, ON_SITE)
    assert (clock.stopped_at, clock.late(NOW + timedelta(days=3))) == (NOW + survey_after, late)
    assert clock.phrase(NOW + timedelta(days=3)).startswith(phrase)


@pytest.mark.parametrize(
    ("minutes", "state", "phrase"),
    [(30, "ok", "1h30 left"), (95, "amber", "25m left"), (121, "red", "late by 1m")],
)
def test_a_running_on_site_clock(session, world, minutes, state, phrase):
    wo = _create(session, world, service_address="Huangpu")
    clock = _clock(wo, ON_SITE)
    now = NOW + timedelta(minutes=minutes)
    assert (clock.state(now), clock.phrase(now)) == (state, phrase)


def test_a_delivery_exception_has_no_on_site_promise(session, world):
    wo = _create(session, world, kind=Z2, service_type=None, sales_order_no="SO-1")
    assert (wo.on_site_due_at, wo.service_zone) == (None, None)
    assert [c.name for c in order_clocks.clocks_of(wo, POLICY)] == [FOLLOW_UP]


# -- the reply after the job ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply_after", "late"),
    [(timedelta(minutes=10), False), (timedelta(minutes=30), False),
     (timedelta(minutes=31), True)],
)
def test_the_reply_within_30_minutes_after_the_job(session, world, reply_after, late):
    wo = _create(session, world, service_address="Huangpu")
    _move(session, wo.id, world["wang"], "survey", now=NOW + timedelta(hours=1))
    done = NOW + timedelta(hours=3)
    wo = _move(session, wo.id, world["wang"], "service", now=done)
    assert (wo.done_at, wo.reply_due_at, wo.follow_up_due_at) == (
        done, done + timedelta(minutes=30), None
    )
    assert _clock(wo, REPLY).running
    wo = _move(session, wo.id, world["wang"], "complete", now=done + reply_after,
               acceptance="Fixed, tested")  # fmt: skip
    clock = _clock(wo, REPLY)
    assert (clock.stopped_at, clock.late(done + timedelta(days=1))) == (done + reply_after, late)


def test_a_delivery_exceptions_reply_is_its_close(session, world):
    wo = _create(session, world, kind=Z2, service_type=None, sales_order_no="SO-1")
    _move(session, wo.id, world["li"], "reply_sales")
    wo = _move(session, wo.id, world["li"], "deliver", now=NOW + timedelta(hours=5))
    assert wo.reply_due_at == NOW + timedelta(hours=5, minutes=30)
    wo = _move(session, wo.id, world["li"], "close", now=NOW + timedelta(hours=6),
               acceptance="New top accepted")  # fmt: skip
    assert wo.replied_at == NOW + timedelta(hours=6) and _clock(wo, REPLY).late(wo.replied_at)


# -- weekly follow-ups ---------------------------------------------------------------------------


def test_an_unfinished_order_is_followed_up_weekly_with_a_reason(session, world):
    wo = _create(session, world)
    assert wo.follow_up_due_at == NOW + timedelta(days=7)
    reasons = ["waiting for the spare part", "customer away", "part arrived, booked"]
    for week, reason in enumerate(reasons, start=1):
        at = NOW + timedelta(days=7 * week)
        assert _clock(wo, FOLLOW_UP).late(at + timedelta(minutes=1))
        wo = _follow_up(session, wo.id, world["li"], reason, now=at)
        assert (wo.follow_ups, wo.follow_up_due_at) == (week, at + timedelta(days=7))
        assert not _clock(wo, FOLLOW_UP).late(at + timedelta(days=6))
    recorded = session.scalars(
        select(WorkOrderEvent.comment)
        .where(WorkOrderEvent.work_order_id == wo.id, WorkOrderEvent.action == "follow_up")
        .order_by(WorkOrderEvent.id)
    ).all()
    assert recorded == [f"Follow-up {n}: {r}" for n, r in enumerate(reasons, start=1)]
    assert wo.follow_ups >= POLICY.follow_up_min


@pytest.mark.parametrize("reason", ["", "   ", "bad\x00text"])
def test_a_follow_up_needs_the_reason(session, world, reason):
    wo = _create(session, world)
    with pytest.raises(ValidationError) as info:
        _follow_up(session, wo.id, world["li"], reason, now=NOW + timedelta(days=1))
    assert set(info.value.errors) == {"reason"}


def test_a_done_job_is_not_followed_up(session, world):
    wo = _create(session, world)
    _move(session, wo.id, world["wang"], "survey")
    wo = _move(session, wo.id, world["wang"], "service")
    assert _clock(wo, FOLLOW_UP) is None
    with pytest.raises(ValidationError, match="nothing to follow up"):
        _follow_up(session, wo.id, world["li"], "still waiting", now=NOW)


def test_a_stale_follow_up_is_refused(session, world):
    wo = _create(session, world)
    seen = wo.version
    _move(session, wo.id, world["wang"], "survey")
    with pytest.raises(workorders.StaleOrder):
        workorders.follow_up(session=session, now=NOW, work_order_id=wo.id,
                             agent_id=world["li"], reason="why", expected_version=seen)


# -- the counts are true totals ------------------------------------------------------------------


def test_late_clocks_are_counted_for_the_agent_and_the_wallboard(session, world, boss):
    inner = [_create(session, world, service_address="Huangpu") for __ in range(3)]
    _move(session, inner[0].id, world["wang"], "survey", now=NOW + timedelta(hours=1))
    done = _create(session, world, service_address="Huangpu", assignee_id=world["li"])
    _move(session, done.id, world["li"], "survey", now=NOW + timedelta(hours=1))
    _move(session, done.id, world["li"], "service", now=NOW + timedelta(hours=2))
    slow = _create(session, world)  # province: on site in 48 business hours
    now = NOW + timedelta(days=8)
    mine = queues.clock_counts(session=session, agent_id=world["wang"], now=now)
    assert (mine.on_site, mine.reply, mine.follow_up) == (3, 0, 4)
    assert mine.orders == 4 and mine.total == 7
    assert queues.clock_counts(session=session, agent_id=world["li"], now=now).reply == 1
    board = supervisor.order_clock_counts(session=session, now=now)
    assert (board.on_site, board.reply, board.follow_up) == (3, 1, 4)
    assert slow.id not in {i.id for i in queues.clock_late_orders(
        session=session, agent_id=world["wang"], now=NOW + timedelta(hours=3))}
    late = queues.clock_late_orders(session=session, agent_id=world["wang"],
                                    now=NOW + timedelta(hours=3))  # fmt: skip
    assert sorted(i.id for i in late) == sorted(w.id for w in inner[1:])


@pytest.mark.parametrize("limit", [1, 3, 7, 50])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_late_page_is_the_first_by_the_most_late_clock(session, world, limit, seed):
    """Paged in SQL clock by clock, then merged: the same page as sorting every late order
    by its most late clock (ties by id), whatever the mix of clocks."""
    import random

    rnd = random.Random(seed)
    now = NOW + timedelta(days=30)

    def maybe() -> datetime | None:
        return rnd.choice([None, now - timedelta(hours=rnd.randint(1, 300)),
                           now + timedelta(hours=rnd.randint(1, 50))])  # fmt: skip

    for i in range(40):
        session.add(WorkOrder(
            short_text=f"order {i}", customer_id=world["fang"], created_at=NOW, due_at=now,
            assignee_id=world["wang"] if i % 5 else world["li"],
            on_site_due_at=maybe(), on_site_at=rnd.choice([None, None, NOW]),
            reply_due_at=maybe(), replied_at=rnd.choice([None, None, NOW]),
            follow_up_due_at=maybe(),
        ))  # fmt: skip
    session.commit()
    expected = []
    for wo in session.exec(select(WorkOrder).where(WorkOrder.assignee_id == world["wang"])):
        dues = []
        if wo.on_site_at is None and wo.on_site_due_at and wo.on_site_due_at < now:
            dues.append((wo.on_site_due_at, 0, ON_SITE))
        if wo.replied_at is None and wo.reply_due_at and wo.reply_due_at < now:
            dues.append((wo.reply_due_at, 1, REPLY))
        if wo.follow_up_due_at and wo.follow_up_due_at < now:
            dues.append((wo.follow_up_due_at, 2, FOLLOW_UP))
        if dues:
            due, __, name = min(dues)
            expected.append((due, wo.id, name))
    expected.sort(key=lambda e: (e[0], e[1]))
    page = queues.clock_late_orders(session=session, agent_id=world["wang"], now=now,
                                    limit=limit)  # fmt: skip
    assert [(i.due_at, i.id, i.clock) for i in page] == expected[:limit]
    counts = queues.clock_counts(session=session, agent_id=world["wang"], now=now)
    assert counts.orders == len(expected)
    # The sidebar's totals (built-once statement): the same counts, each clock on its own.
    every = [wo for wo in session.exec(select(WorkOrder)) if wo.assignee_id == world["wang"]]
    assert queues.clock_totals(session=session, agent_id=world["wang"], now=now) == (
        sum(w.on_site_at is None and w.on_site_due_at is not None and w.on_site_due_at < now
            for w in every),
        sum(w.replied_at is None and w.reply_due_at is not None and w.reply_due_at < now
            for w in every),
        sum(w.follow_up_due_at is not None and w.follow_up_due_at < now for w in every),
    ) == (counts.on_site, counts.reply, counts.follow_up)  # fmt: skip


def test_the_order_list_marks_a_late_clock(session, world):
    """The list's ⏱: an order not past its expected end whose on-site clock runs late."""
    inner = _create(session, world, service_address="Huangpu")  # on site within 2 hours
    other = _create(session, world)  # province: 48 business hours
    query = workorders.OrderQuery()
    rows = {r.id: r for r in workorders.list_orders(
        session=session, query=query, now=NOW + timedelta(hours=3)).rows}  # fmt: skip
    assert rows[inner.id].clock_late and not rows[other.id].clock_late
    assert not rows[inner.id].late(NOW + timedelta(hours=3))
    unmarked = workorders.list_orders(session=session, query=query).rows
    assert not any(r.clock_late for r in unmarked)


# -- the Z1 paths --------------------------------------------------------------------------------


def test_a_local_job_closes_without_a_supervisor(session, world):
    wo = _create(session, world, service_type="paid", service_address="Huangpu")
    wo = _move(session, wo.id, world["wang"], "survey")
    assert not wo.hq_involved
    assert [s.action for s in workorders.steps_for(wo)] == ["service"]
    with pytest.raises(ValidationError, match="quote first"):
        _move(session, wo.id, world["wang"], "service")
    session.rollback()
    workorders.set_quote(session=session, now=NOW, work_order_id=wo.id,
                         agent_id=world["wang"], amount=380, needs_hq=False)
    session.commit()
    with pytest.raises(ValidationError, match="not confirmed"):
        _move(session, wo.id, world["wang"], "service")
    session.rollback()
    workorders.confirm_quote(session=session, now=NOW, work_order_id=wo.id,
                             agent_id=world["wang"])
    session.commit()
    for action in ("service", "complete", "close"):
        wo = _move(session, wo.id, world["wang"], action, acceptance="Fixed, paid 380")
    assert wo.status == "closed"
    actions = session.exec(
        select(WorkOrderEvent.action, WorkOrderEvent.agent_id)
        .where(WorkOrderEvent.work_order_id == wo.id).order_by(WorkOrderEvent.id)
    ).all()
    assert [a for a, __ in actions] == [
        "create", "survey", "quote", "quote_confirm", "service", "complete", "close"
    ]
    assert {who for __, who in actions} == {world["li"], world["wang"]}


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_a_local_job_has_no_approval(session, world, boss, action):
    wo = _create(session, world)
    _move(session, wo.id, world["wang"], "survey", hq=False)
    with pytest.raises(ValidationError, match="service done"):
        _move(session, wo.id, boss, action)


@pytest.mark.parametrize(
    ("decision", "status"), [("approve", "approved"), ("reject", "not_approved")]
)
def test_head_office_goes_through_the_supervisor(session, world, boss, decision, status):
    wo = _create(session, world)
    wo = _move(session, wo.id, world["wang"], "survey", hq=True)
    assert wo.hq_involved
    assert {s.action for s in workorders.steps_for(wo)} == {"approve", "reject"}
    with pytest.raises(ValidationError):
        _move(session, wo.id, world["wang"], "service")
    session.rollback()
    with pytest.raises(PermissionDenied):
        _move(session, wo.id, world["wang"], decision)
    session.rollback()
    assert _move(session, wo.id, boss, decision).status == status
    for action in ("reply", "service", "complete", "close"):
        wo = _move(session, wo.id, world["wang"], action, acceptance="Told and accepted")
    assert wo.status == "closed"


def test_a_head_office_quote_puts_the_order_on_the_head_office_path(session, world, boss):
    wo = _create(session, world, service_type="paid")
    _move(session, wo.id, world["wang"], "survey", hq=False)
    wo = workorders.set_quote(session=session, now=NOW, work_order_id=wo.id,
                              agent_id=world["wang"], amount=2600, needs_hq=True)
    session.commit()
    assert workorders.on_hq_path(wo)
    assert {s.action for s in workorders.steps_for(wo)} == {"approve", "reject"}


# -- the migration -------------------------------------------------------------------------------



def test_the_migration_keeps_existing_orders_on_their_path(engine, world):
    import sqlalchemy as sa
    from alembic import command
    from sqlmodel.sql.sqltypes import UTCDateTime

    from seat.db import _alembic_config, upgrade

    old = sa.table(
        "work_order", *(sa.column(n) for n in ("id", "kind", "short_text", "long_text",
                                              "customer_id", "reporter", "assignee_id", "status",
                                              "urgent", "quote_needs_hq", "version")),
        sa.column("due_at", UTCDateTime()), sa.column("created_at", UTCDateTime()),
    )  # fmt: skip

    command.downgrade(_alembic_config(engine), "0022-1")  # a desk from before
    created = NOW - timedelta(days=3)
    rows = {  # id: (kind, status, priced by head office)
        901: ("service_request", "created", False),
        902: ("service_request", "survey_done", False),  # waiting for approval
        903: ("service_request", "replied", False),
        904: ("service_request", "created", True),
        905: ("service_request", "closed", False),
        906: ("delivery_exception", "replied_sales", False),
        907: ("delivery_exception", "delivered", False),
    }
    with engine.begin() as c:
        for wo_id, (kind, status, hq) in rows.items():
            c.execute(old.insert().values(
                id=wo_id, kind=kind, short_text="old", long_text="", customer_id=world["fang"],
                reporter="r", assignee_id=world["wang"], status=status, urgent=False,
                quote_needs_hq=hq, version=1, due_at=NOW + timedelta(days=2), created_at=created,
            ))  # fmt: skip
    upgrade(engine)
    from sqlmodel import Session

    with Session(engine) as s:
        got = {w.id: w for w in s.exec(select(WorkOrder).where(WorkOrder.id.in_(rows)))}
        assert {i for i, w in got.items() if w.hq_involved} == {902, 903, 904, 905}
        assert {i for i, w in got.items() if w.follow_up_due_at} == {901, 902, 903, 904, 906}
        assert got[901].follow_up_due_at == created + timedelta(days=7)
        assert all(w.on_site_due_at is None and w.follow_ups == 0 for w in got.values())
        # The order waiting for approval is still decided by a supervisor.
        assert {s.action for s in workorders.steps_for(got[902])} == {"approve", "reject"}
        assert [s.action for s in workorders.steps_for(got[903])] == ["service"]

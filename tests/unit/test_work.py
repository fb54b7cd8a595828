"""Work from a call: callbacks, work orders, complaints, parse_when and the sidebar."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from seat import work
from seat.callbacks import CallbackPolicy, sidebar_callbacks
from seat.customers import ValidationError
from seat.models import Callback, CallbackStatus, Complaint, Customer, WorkOrder
from tests.conftest import NOW

SHANGHAI = "Asia/Shanghai"


def _count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


# -- callbacks --------------------------------------------------------------------------


def test_create_callback(session, world):
    cb = work.create_callback(
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
    assert stored.status == CallbackStatus.OPEN
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
    before = _count(session, Callback)
    with pytest.raises(ValidationError) as info:
        work.create_callback(
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
    assert _count(session, Callback) == before


# -- work orders ------------------------------------------------------------------------
# Orders are made by seat.workorders.create_order (tests/unit/test_workorders.py): the
# older work.create_work_order the app no longer used is gone, its cases folded there.


# -- complaints -------------------------------------------------------------------------


def test_create_complaint(session, world):
    c = work.create_complaint(
        session=session,
        now=NOW,
        customer_id=world["fang"],
        owner_id=world["li"],
        what_happened=" The sofa arrived torn. ",
        customer_wants=" A new cover. ",
    )
    session.commit()
    stored = session.get(Complaint, c.id)
    assert (stored.what_happened, stored.customer_wants) == (
        "The sofa arrived torn.",
        "A new cover.",
    )
    assert stored.status == "intake"
    assert stored.channel == "phone"
    assert stored.created_at == NOW


@pytest.mark.parametrize(
    ("what", "wants", "bad"),
    [
        ("", "Refund", {"what_happened"}),
        ("  ", "Refund", {"what_happened"}),
        ("Torn", "", {"customer_wants"}),
        ("", "", {"what_happened", "customer_wants"}),
        ("x" * (work.MAX_TEXT + 1), "Refund", {"what_happened"}),
        ("Torn", "x" * 5001, {"customer_wants"}),
    ],
)
def test_create_complaint_validations(session, world, what, wants, bad):
    with pytest.raises(ValidationError) as info:
        work.create_complaint(
            session=session,
            now=NOW,
            customer_id=world["fang"],
            owner_id=world["li"],
            what_happened=what,
            customer_wants=wants,
        )
    assert set(info.value.errors) == bad
    session.commit()
    assert _count(session, Complaint) == 0


# -- parse_when -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+2h", NOW + timedelta(hours=2)),
        ("+30m", NOW + timedelta(minutes=30)),
        ("+1d", NOW + timedelta(days=1)),
        ("+1.5h", NOW + timedelta(minutes=90)),
        ("+2H", NOW + timedelta(hours=2)),
        ("  +2h  ", NOW + timedelta(hours=2)),
        # NOW is 10:00 in Shanghai (UTC+8).
        ("15:00", datetime(2026, 11, 23, 7, 0, tzinfo=UTC)),
        ("10:30", datetime(2026, 11, 23, 2, 30, tzinfo=UTC)),
        ("9:05", datetime(2026, 11, 23, 1, 5, tzinfo=UTC)),
        ("2026-11-24 10:30", datetime(2026, 11, 24, 2, 30, tzinfo=UTC)),
        ("2026-11-24T10:30", datetime(2026, 11, 24, 2, 30, tzinfo=UTC)),
        ("2026-11-24 07:30", datetime(2026, 11, 23, 23, 30, tzinfo=UTC)),  # the day before in UTC
        ("2026-11-24 10:30+00:00", datetime(2026, 11, 24, 10, 30, tzinfo=UTC)),  # explicit zone
    ],
)
def test_parse_when(text, expected):
    got = work.parse_when(text, now=NOW, tz=SHANGHAI)
    assert got == expected
    assert got.utcoffset() == timedelta(0)


def test_parse_when_accepts_a_zone_object():
    got = work.parse_when("2026-11-24 10:30", now=NOW, tz=ZoneInfo(SHANGHAI))
    assert got == datetime(2026, 11, 24, 2, 30, tzinfo=UTC)


def test_parse_when_uses_the_local_day_for_hh_mm():
    """At 23:30 UTC it is already tomorrow in Shanghai: '09:00' is that local morning."""
    late = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # 07:30 on the 24th in Shanghai
    assert work.parse_when("09:00", now=late, tz=SHANGHAI) == datetime(
        2026, 11, 24, 1, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "tomorrow",
        "soon",
        "+",
        "+h",
        "+2",
        "+2x",
        "+two h",
        "+infh",
        "+nanh",
        "+1e9d",
        "+99999999d",
        "25:00",
        "24:00",
        "10:60",
        "10:",
        ":30",
        "1:2:3",
        "12345",
        "2026-13-01 10:00",
        "2026-02-30 10:00",
        "24/11/2026 10:30",
        "0001-01-01 00:00",
    ],
)
def test_parse_when_rejects_garbage_with_a_value_error(text):
    with pytest.raises(ValueError) as info:
        work.parse_when(text, now=NOW, tz=SHANGHAI)
    message = str(info.value)
    assert "+2h" in message or "+1d" in message  # tells the agent what to type


# -- the sidebar ------------------------------------------------------------------------


def _callback(
    session, world, *, due: timedelta, owner: str = "li", status: str = "open", reason: str = "cb"
):
    session.add(
        Callback(
            customer_id=world["min"],  # a Shanghai number: callable at NOW, none waiting
            owner_id=world[owner],
            reason=reason,
            due_at=NOW + due,
            status=status,
            created_at=NOW - timedelta(days=1),
        )
    )


def _callbacks(session, agent_id, horizon_hours: int = 24, limit: int = 50):
    """The sidebar's callbacks (seat.callbacks.sidebar_callbacks): callable, then waiting."""
    policy = replace(CallbackPolicy(), sidebar_horizon_hours=horizon_hours)
    ready, waiting = sidebar_callbacks(
        session=session, agent_id=agent_id, now=NOW, policy=policy, limit=limit
    )
    return [*ready, *waiting]


def test_sidebar_of_the_populated_world(session, world):
    data = work.sidebar(session=session, agent_id=world["li"])
    callbacks = _callbacks(session, world["li"])
    assert [c.reason for c in callbacks] == ["Washer repair follow-up", "Birthday greeting"]
    assert [c.overdue(NOW) for c in callbacks] == [True, False]
    assert callbacks[0].customer_name == "Wang Fang"
    assert [w.short_text for w in data.work_orders] == [
        "Sofa cover torn on delivery",
        "Dryer noisy",
        "Fridge not cooling",
    ]
    assert [w.late(NOW) for w in data.work_orders] == [False, True, False]
    assert data.complaints_open == 0


def test_sidebar_callbacks_overdue_first_then_due(session, world):
    _callback(session, world, due=timedelta(hours=5), reason="later today")
    _callback(session, world, due=timedelta(days=-2), reason="two days late")
    _callback(session, world, due=timedelta(minutes=10), reason="in ten minutes")
    session.commit()
    callbacks = _callbacks(session, world["li"])
    assert [c.reason for c in callbacks] == [
        "two days late",
        "Washer repair follow-up",
        "in ten minutes",
        "Birthday greeting",
        "later today",
    ]
    flags = [c.overdue(NOW) for c in callbacks]
    assert flags == sorted(flags, reverse=True)


def test_sidebar_callbacks_beyond_the_horizon_are_left_out(session, world):
    _callback(session, world, due=timedelta(hours=23, minutes=59), reason="inside")
    _callback(session, world, due=timedelta(hours=24), reason="at the edge")
    _callback(session, world, due=timedelta(hours=24, minutes=1), reason="beyond")
    _callback(session, world, due=timedelta(days=30), reason="next month")
    session.commit()
    reasons = [c.reason for c in _callbacks(session, world["li"])]
    assert "inside" in reasons and "at the edge" in reasons
    assert "beyond" not in reasons and "next month" not in reasons
    short = _callbacks(session, world["li"], horizon_hours=1)
    assert [c.reason for c in short] == ["Washer repair follow-up"]


def test_sidebar_leaves_out_done_and_cancelled_callbacks(session, world):
    _callback(session, world, due=timedelta(hours=-1), status="done", reason="done")
    _callback(session, world, due=timedelta(hours=1), status="cancelled", reason="cancelled")
    session.commit()
    reasons = [c.reason for c in _callbacks(session, world["li"])]
    assert "done" not in reasons and "cancelled" not in reasons
    assert len(reasons) == 2


def test_sidebar_leaves_out_other_agents_items(session, world):
    _callback(session, world, due=timedelta(hours=-1), owner="wang", reason="wang's")
    session.add(
        WorkOrder(
            short_text="Wang's order",
            customer_id=world["tom"],
            assignee_id=world["wang"],
            urgent=True,
            due_at=NOW,
            created_at=NOW,
        )
    )
    session.add(
        Complaint(
            customer_id=world["tom"],
            owner_id=world["wang"],
            what_happened="x",
            customer_wants="y",
            created_at=NOW,
        )
    )
    session.commit()
    li = work.sidebar(session=session, agent_id=world["li"])
    assert "wang's" not in [c.reason for c in _callbacks(session, world["li"])]
    assert "Wang's order" not in [w.short_text for w in li.work_orders]
    assert li.complaints_open == 0
    wang = work.sidebar(session=session, agent_id=world["wang"])
    assert [c.reason for c in _callbacks(session, world["wang"])] == ["wang's"]
    assert [w.short_text for w in wang.work_orders] == ["Wang's order"]
    assert wang.complaints_open == 1


def test_sidebar_work_orders_urgent_first_then_by_due_time(session, world):
    li = world["li"]
    for text, urgent, due in [
        ("urgent later", True, timedelta(days=2)),
        ("normal soon", False, timedelta(hours=1)),
        ("urgent overdue", True, timedelta(hours=-2)),
        ("normal overdue", False, timedelta(days=-3)),
    ]:
        session.add(
            WorkOrder(
                short_text=text,
                customer_id=world["tom"],
                assignee_id=li,
                urgent=urgent,
                due_at=NOW + due,
                created_at=NOW,
            )
        )
    session.commit()
    data = work.sidebar(session=session, agent_id=li)
    assert [w.short_text for w in data.work_orders] == [
        "urgent overdue",
        "Sofa cover torn on delivery",
        "urgent later",
        "normal overdue",
        "Dryer noisy",
        "normal soon",
        "Fridge not cooling",
    ]


def test_sidebar_leaves_out_closed_work_orders(session, world):
    order = session.execute(
        select(WorkOrder).where(WorkOrder.short_text == "Dryer noisy")
    ).scalar_one()
    order.status = "closed"
    order.closed_at = NOW
    session.add(
        WorkOrder(
            short_text="Surveyed",
            customer_id=world["tom"],
            assignee_id=world["li"],
            status="survey_done",
            due_at=NOW + timedelta(days=1),
            created_at=NOW,
        )
    )
    session.commit()
    data = work.sidebar(session=session, agent_id=world["li"])
    texts = [w.short_text for w in data.work_orders]
    assert "Dryer noisy" not in texts
    assert "Surveyed" in texts  # any status but closed stays open


def test_sidebar_counts_open_complaints_only(session, world):
    for status in ("intake", "investigate", "closed", "invalid"):
        session.add(
            Complaint(
                customer_id=world["fang"],
                owner_id=world["li"],
                what_happened="x",
                customer_wants="y",
                status=status,
                created_at=NOW,
            )
        )
    session.commit()
    assert work.sidebar(session=session, agent_id=world["li"]).complaints_open == 2


def test_sidebar_limit(session, world):
    for i in range(5):
        _callback(session, world, due=timedelta(minutes=i + 1), reason=f"r{i}")
    session.commit()
    assert len(_callbacks(session, world["li"], limit=3)) == 3
    assert len(work.sidebar(session=session, agent_id=world["li"], limit=3).work_orders) == 3


def test_sidebar_item_customer_names(session, world):
    data = work.sidebar(session=session, agent_id=world["li"])
    names = {c.customer_id: c.customer_name for c in _callbacks(session, world["li"])}
    names.update({w.customer_id: w.customer_name for w in data.work_orders})
    for cid, name in names.items():
        assert session.get(Customer, cid).name == name

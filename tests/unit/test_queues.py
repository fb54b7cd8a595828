"""The agent's queues as the sidebar shows them (seat.queues), with the callbacks beside them
(seat.callbacks.sidebar_callbacks)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from seat import queues
from seat.callbacks import CallbackPolicy, sidebar_callbacks
from seat.models import Callback, Complaint, Customer, WorkOrder
from tests.conftest import NOW

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
    data = queues.sidebar(session=session, agent_id=world["li"])
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
    li = queues.sidebar(session=session, agent_id=world["li"])
    assert "wang's" not in [c.reason for c in _callbacks(session, world["li"])]
    assert "Wang's order" not in [w.short_text for w in li.work_orders]
    assert li.complaints_open == 0
    wang = queues.sidebar(session=session, agent_id=world["wang"])
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
    data = queues.sidebar(session=session, agent_id=li)
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
    data = queues.sidebar(session=session, agent_id=world["li"])
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
    assert queues.sidebar(session=session, agent_id=world["li"]).complaints_open == 2


def test_sidebar_limit(session, world):
    for i in range(5):
        _callback(session, world, due=timedelta(minutes=i + 1), reason=f"r{i}")
    session.commit()
    assert len(_callbacks(session, world["li"], limit=3)) == 3
    assert len(queues.sidebar(session=session, agent_id=world["li"], limit=3).work_orders) == 3


def test_sidebar_item_customer_names(session, world):
    data = queues.sidebar(session=session, agent_id=world["li"])
    names = {c.customer_id: c.customer_name for c in _callbacks(session, world["li"])}
    names.update({w.customer_id: w.customer_name for w in data.work_orders})
    for cid, name in names.items():
        assert session.get(Customer, cid).name == name

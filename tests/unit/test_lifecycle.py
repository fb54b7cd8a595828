"""The lifecycle kernel (seat.lifecycle): complaints, work orders and callbacks are created
and moved one way. Each version of a row has its event, the events chain (seat.audit), and a
move that another seat made first is refused with the aggregate's own error."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlmodel import Session

from seat import audit, callbacks, complaints, lifecycle, workorders
from seat.errors import MoveRefused, StaleCallback, StaleComplaint, StaleOrder
from seat.models import (
    Callback,
    CallbackEvent,
    Complaint,
    ComplaintEvent,
    LifecycleEvent,
    Purchase,
    WorkOrder,
    WorkOrderEvent,
)
from tests.conftest import NOW

HISTORY = {
    Complaint: (ComplaintEvent, "complaint_id"),
    WorkOrder: (WorkOrderEvent, "work_order_id"),
    Callback: (CallbackEvent, "callback_id"),
}


def _made(session: Session, world, model: type):  # noqa: ANN202
    """A new row of each aggregate, made the way the desk makes it."""
    if model is Complaint:
        return complaints.create_complaint(
            session=session, now=NOW, customer_id=world["fang"], owner_id=world["li"],
            what_happened="Sofa torn", customer_wants="A new cover",
        )  # fmt: skip
    if model is WorkOrder:
        return workorders.create_order(
            session=session, now=NOW, customer_id=world["fang"], created_by_id=world["li"],
            draft=workorders.WorkOrderDraft(
                kind=workorders.Z1, short_text="Sofa torn", reporter="Wang Fang",
                assignee_id=world["li"], due_at=NOW + timedelta(days=1), service_type="repair",
            ),
        )  # fmt: skip
    return callbacks.create_callback(
        session=session, now=NOW, customer_id=world["fang"], owner_id=world["li"],
        due_at=NOW + timedelta(hours=2), reason="Confirm the visit",
    )  # fmt: skip


def _events(session: Session, row) -> list[LifecycleEvent]:  # noqa: ANN001
    event, key = HISTORY[type(row)]
    return list(
        session.execute(
            select(event).where(getattr(event, key) == row.id).order_by(event.id)
        ).scalars()
    )


def test_the_three_histories_share_one_event_shape():
    shared = {"id", "at", "action", "comment", "prev_hash", "hash"}
    for event, __ in HISTORY.values():
        assert issubclass(event, LifecycleEvent)
        assert shared | {"agent_id"} <= set(event.__table__.c.keys())
    assert not hasattr(LifecycleEvent, "__table__")  # the base is no table of its own


@pytest.mark.parametrize("model", list(HISTORY), ids=lambda m: m.__name__)
def test_creation_is_version_one_and_the_first_event(session, world, model):
    row = _made(session, world, model)
    session.commit()
    (first,) = _events(session, row)
    assert row.version == 1
    assert (first.agent_id, first.at, first.hash is not None) == (world["li"], NOW, True)
    assert first.action in ("intake", "create")


@pytest.mark.parametrize(
    ("model", "refusal"),
    [(Complaint, StaleComplaint), (WorkOrder, StaleOrder), (Callback, StaleCallback)],
    ids=lambda p: getattr(p, "__name__", ""),
)
def test_a_move_another_seat_made_first_is_refused_with_the_aggregates_error(
    session, world, model, refusal
):
    row = _made(session, world, model)
    session.commit()
    read = row.version
    # Another seat moves the row: the version this transaction read is stale.
    session.execute(
        update(model).where(model.id == row.id).values(version=model.version + 1)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    with pytest.raises(refusal):
        lifecycle.record_event(session, row, agent_id=world["li"], at=NOW, action="note")
    assert row.version == read
    assert issubclass(StaleComplaint, MoveRefused)  # the complaint screen's refusal


@pytest.mark.parametrize("model", list(HISTORY), ids=lambda m: m.__name__)
def test_every_move_claims_one_version_and_writes_one_event(session, world, model):
    row = _made(session, world, model)
    for n in range(3):
        lifecycle.record_event(session, row, agent_id=world["wang"], at=NOW, action=f"note{n}")
    session.commit()
    events = _events(session, row)
    assert row.version == len(events) == 4
    assert [e.action for e in events[1:]] == ["note0", "note1", "note2"]


def test_a_callback_missed_after_its_last_try_has_an_event_per_version(session, world):
    cb = _made(session, world, Callback)
    for n in range(callbacks.default_policy().max_attempts):
        callbacks.record_attempt(
            session=session, callback_id=cb.id, agent_id=world["li"], outcome="no_answer",
            now=NOW + timedelta(hours=3 * n + 3),
        )  # fmt: skip
    session.commit()
    events = _events(session, cb)
    assert cb.status == callbacks.MISSED
    assert [e.action for e in events][-2:] == ["attempt", callbacks.MISSED]
    assert cb.version == len(events)


@pytest.mark.parametrize(("model", "limit"), [(WorkOrder, 10000), (Callback, 5000)])
def test_a_comment_is_cut_to_its_column(session, world, model, limit):
    row = _made(session, world, model)
    event = lifecycle.record_event(
        session, row, agent_id=world["li"], at=NOW, action="note", comment="x" * 30000
    )
    assert len(event.comment) == limit


def test_the_schedulers_callbacks_are_sealed_into_the_chain(engine, session, world):
    session.add(
        Purchase(
            customer_id=world["min"], order_no="SO-1", item="Fridge",
            purchased_at=NOW - timedelta(days=5), delivered_at=NOW - timedelta(days=3),
        )
    )  # fmt: skip
    session.commit()
    made = callbacks.schedule(session=session, now=NOW, policy=callbacks.CallbackPolicy())
    session.commit()
    assert made.created
    scheduled = session.execute(
        select(func.count()).select_from(CallbackEvent).where(CallbackEvent.action == "scheduled")
    ).scalar_one()
    assert scheduled == len(made.created)
    with engine.connect() as conn:
        assert {c.table: c.broken for c in audit.verify(conn)}["callback_event"] is None

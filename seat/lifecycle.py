"""The lifecycle kernel: how a complaint, a work order or a callback comes to be and moves.

Each aggregate's own module (complaints.py, workorders.py, callbacks.py) checks a change
against its rules and makes it on the row; then `record_event` writes it down, the one way a
history grows:

- a row not yet in the database is being created: `record_event` adds it (version 1) and writes
  its first event;
- any other row moves: `record_event` claims its next version with the conditional UPDATE of
  seat.optimistic (of two seats moving the same row, the later one is refused with the
  aggregate's own error) and appends the event.

So every version of a row has its event. Events are sealed into the hash chain by
seat.audit when they are flushed; the callback scheduler's events, written in bulk, are
sealed by `record_first_events` the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from seat import audit
from seat.db import insert_many
from seat.errors import StaleCallback, StaleComplaint, StaleOrder
from seat.models import (
    Callback,
    CallbackEvent,
    Complaint,
    ComplaintEvent,
    LifecycleEvent,
    WorkOrder,
    WorkOrderEvent,
)
from seat.optimistic import claim_version

Aggregate = Complaint | WorkOrder | Callback


@dataclass(frozen=True)
class _History:
    event: type[LifecycleEvent]
    key: str
    """The event's column naming its row."""
    statuses: bool
    """The events say from which status to which."""
    stale: Callable[[int], Exception]
    """The refusal when another seat moved the row first."""

    @property
    def comment_limit(self) -> int:
        return self.event.__table__.c.comment.type.length  # type: ignore[attr-defined]


_HISTORIES: dict[type, _History] = {
    Complaint: _History(ComplaintEvent, "complaint_id", True, StaleComplaint),
    WorkOrder: _History(WorkOrderEvent, "work_order_id", True, lambda _id: StaleOrder()),
    Callback: _History(CallbackEvent, "callback_id", False, StaleCallback),
}


def record_event(
    session: Session,
    row: Aggregate,
    *,
    agent_id: int | None,
    at: datetime,
    action: str,
    comment: str = "",
    from_status: str | None = None,
) -> LifecycleEvent:
    """Write down what just happened to `row`: its creation (a row without an id) or a move
    (claims the next version first: when another seat moved the row since this transaction
    read it, the aggregate's Stale error is raised and the caller's transaction is undone).

    `agent_id` is who did it (None: the rules); the comment is cut to its column's length.
    For complaints and work orders the event runs from `from_status` to the row's status.
    """
    history = _HISTORIES[type(row)]
    if row.id is None:
        session.add(row)
        session.flush()
    else:
        claim_version(session, row, lambda: history.stale(row.id))  # type: ignore[arg-type]
        session.add(row)
    fields: dict[str, Any] = {
        history.key: row.id,
        "agent_id": agent_id,
        "at": at,
        "action": action,
        "comment": (comment or "").strip()[: history.comment_limit],
    }
    if history.statuses:
        fields |= {"from_status": from_status, "to_status": row.status}
    event = history.event(**fields)
    session.add(event)
    session.flush()
    return event


def record_first_events(
    session: Session, model: type[LifecycleEvent], rows: list[dict[str, Any]]
) -> None:
    """First events of rows made in bulk (the callback scheduler), inserted in the order given
    and sealed into the chain as `record_event`'s are."""
    if not rows:
        return
    session.flush()  # events already pending come first in the chain, as in the table
    table = model.__table__  # type: ignore[attr-defined]
    conn = session.connection()
    audit.chain_rows(conn, table.name, rows)
    if conn.dialect.name == "sqlite":  # one driver-level executemany, ids in the order given
        insert_many(conn, table, rows)
    else:
        session.execute(insert(table), rows)

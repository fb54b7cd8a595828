"""One definition for each state a person reads on more than one screen.

"Overdue" (a callback), "late" (a work order), "due" (a callback coming up) and "breached"
(a complaint clock) are decided here and nowhere else: the sidebar, the wallboard, the
callbacks view and the reports all ask these functions (the Python test for a row in
hand, the SQL filter for a COUNT), so they cannot disagree about the same data.
A complaint clock's "breached" is `seat.sla.clock_breached` (the SLA module stays free of
the database models).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_

from seat.models import OPEN_WORK_ORDER_EXCLUDES, Callback, CallbackStatus, WorkOrder

OVERDUE = "overdue"
DUE = "due"
LATE = "late"


def callback_overdue(due_at: datetime, now: datetime) -> bool:
    """An open callback is overdue once its due time has passed, whatever the hour is
    where the customer lives (rest hours decide when to dial, not whether it is late)."""
    return due_at < now


def callback_state(due_at: datetime, now: datetime) -> str:
    """overdue or due, for an open callback."""
    return OVERDUE if callback_overdue(due_at, now) else DUE


def callback_overdue_sql(now: datetime) -> Any:
    """The WHERE clause of open callbacks that `callback_overdue` calls overdue."""
    return and_(Callback.status == CallbackStatus.OPEN, Callback.due_at < now)


def callback_due_sql(now: datetime, horizon: timedelta) -> Any:
    """Open callbacks overdue or falling due within `horizon` (the sidebar's window)."""
    return and_(Callback.status == CallbackStatus.OPEN, Callback.due_at <= now + horizon)


def order_open_sql() -> Any:
    """Work orders still open (not closed)."""
    return WorkOrder.status.not_in(OPEN_WORK_ORDER_EXCLUDES)


def order_late(due_at: datetime, now: datetime) -> bool:
    """An open work order is late once its expected end has passed."""
    return due_at < now


def order_late_sql(now: datetime) -> Any:
    """The WHERE clause of open work orders that `order_late` calls late."""
    return and_(order_open_sql(), WorkOrder.due_at < now)

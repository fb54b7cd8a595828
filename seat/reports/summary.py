"""The summary report: the statistics screen's daily and weekly trends for spreadsheets.

Calls, complaints by category, callback completion and satisfaction, first by day then
by week, over local dates from..to inclusive. The numbers come from `seat.trends`, the
same functions the statistics screen draws, so the two never disagree.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from seat import trends
from seat.config import Settings
from seat.export import Table


def tables(
    *, session: Session, date_from: date, date_to: date, settings: Settings, now: datetime
) -> list[Table]:
    """Eight tables: the four measures by day, then the four by week (the days folded into
    weeks: the database is read once)."""
    days = trends.load(
        session=session, date_from=date_from, date_to=date_to, step=trends.Step.DAY,
        settings=settings, now=now,
    )  # fmt: skip
    out: list[Table] = []
    for step in trends.Step:
        out += trends.tables(days if step == trends.Step.DAY else trends.regroup(days, step))
    for table in out:
        table.meta = {**table.meta, "as of": now, "zone": settings.local_timezone}
    return out

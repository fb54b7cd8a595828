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
    """Eight tables: the four measures by day, then the four by week."""
    out: list[Table] = []
    for step in trends.Step:
        data = trends.load(
            session=session, date_from=date_from, date_to=date_to, step=step,
            settings=settings, now=now,
        )  # fmt: skip
        out += trends.tables(data)
    for table in out:
        table.meta = {**table.meta, "as of": now, "zone": settings.local_timezone}
    return out

"""The agent report: each agent's figures over a range, then by day, week and month.

Calls handled, talk and wrap-up time, first-contact resolution, satisfaction, complaints
owned and closed on time, callbacks done on time (definitions: `seat.figures`), the same
numbers the agent-figure screen shows.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from seat import figures, sla
from seat.config import Settings
from seat.export import Table


def tables(
    *, session: Session, date_from: date, date_to: date, settings: Settings, now: datetime
) -> list[Table]:
    """Four tables: the range per agent, then per agent by day, by week and by month (the
    database is read once, by day)."""
    data = figures.load(
        session=session, date_from=date_from, date_to=date_to,
        zone=ZoneInfo(settings.local_timezone), policy=sla.load_policy(settings), now=now,
    )  # fmt: skip
    out = figures.tables(data)
    for table in out:
        table.meta = {**table.meta, "as of": now, "zone": settings.local_timezone}
    return out

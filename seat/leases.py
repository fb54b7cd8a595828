"""Once a day per database: the lease a seat takes before a daily job (the callback rules).

Every seat that starts asks; the first whose conditional UPDATE matches the job's row runs it,
the others see that it ran today (or is running) and skip. A seat that dies mid-run holds the
lease only until `lease_until`; then another may take it. No Textual, no clock of its own.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlmodel import Session

from seat.models import DailyJob

CALLBACK_RULES = "callback_rules"
LEASE = timedelta(minutes=15)


def take(
    *, session: Session, name: str, now: datetime, today: date, holder: str, force: bool = False
) -> bool:
    """Take `name`'s lease for a run: True when this seat should run the job now.

    Not when it already ran on `today` (unless `force`: a person asked for a run), nor while
    another seat's lease runs."""
    _ensure(session, name)
    free = or_(DailyJob.lease_until.is_(None), DailyJob.lease_until < now)
    due = or_(DailyJob.done_on.is_(None), DailyJob.done_on < today)
    taken = session.execute(
        update(DailyJob)
        .where(DailyJob.name == name, free, *(() if force else (due,)))
        .values(holder=holder[:120], lease_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1  # type: ignore[attr-defined]


def finish(
    *, session: Session, name: str, now: datetime, today: date, holder: str,
    watermark: datetime | None = None, rules: str | None = None,
    purchase_mark: int | None = None,
) -> None:  # fmt: skip
    """The run finished: done for `today`, lease given back; with a `watermark` (the clock
    time the run saw), `rules` (what it kept) and `purchase_mark` (the highest purchase id
    it saw) for the next run to start from."""
    values: dict[str, object] = {"done_on": today, "finished_at": now, "lease_until": None}
    if watermark is not None:
        values.update(watermark=watermark, rules=rules, purchase_mark=purchase_mark)
    session.execute(
        update(DailyJob)
        .where(DailyJob.name == name, DailyJob.holder == holder[:120])
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def watermark(*, session: Session, name: str) -> tuple[datetime | None, str | None]:
    """The clock time the job's last finished run saw, and the fingerprint of its rules."""
    row = session.execute(
        select(DailyJob.watermark, DailyJob.rules).where(DailyJob.name == name)
    ).first()
    return (row[0], row[1]) if row else (None, None)


def purchase_mark(*, session: Session, name: str) -> int | None:
    """The highest purchase id the job's last finished run saw (None: not kept)."""
    return session.execute(
        select(DailyJob.purchase_mark).where(DailyJob.name == name)
    ).scalar()


def forget(*, session: Session, name: str) -> None:
    """The job's next run is a full one, as under other rules (its watermark goes)."""
    session.execute(
        update(DailyJob)
        .where(DailyJob.name == name)
        .values(watermark=None, rules=None, purchase_mark=None)
        .execution_options(synchronize_session=False)
    )


def release(*, session: Session, name: str, holder: str) -> None:
    """The run failed: give the lease back without marking the day done."""
    session.execute(
        update(DailyJob)
        .where(and_(DailyJob.name == name, DailyJob.holder == holder[:120]))
        .values(lease_until=None)
        .execution_options(synchronize_session=False)
    )


def _ensure(session: Session, name: str) -> None:
    """The job's row, made once (two seats making it together: one insert is ignored)."""
    # Imported here for start-up speed: sqlalchemy.dialects.postgresql costs a seat on SQLite
    # ~20 ms at every start (the callback rules run seconds after the desk is up).
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(DailyJob).values(name=name).on_conflict_do_nothing())


def hold(*, session: Session, name: str, now: datetime, holder: str) -> bool:
    """A run in steps keeps its lease for the next step (`lease_until` moved on): False when
    the lease is no longer this holder's (it ran out and another seat took it)."""
    kept = session.execute(
        update(DailyJob)
        .where(DailyJob.name == name, DailyJob.holder == holder[:120],
               DailyJob.lease_until.is_not(None))
        .values(lease_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    return kept.rowcount == 1  # type: ignore[attr-defined]

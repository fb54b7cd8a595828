"""What a saved call keeps for the agent figures: its talk and wrap-up seconds, and
first-contact resolution (首次解决): did the caller have to call again?

An inbound call from a number, about a need, is resolved at first contact unless another
inbound call from the same number about the same need started within 7 days after it (the
7th day's very instant included). The call row carries the answer (`Call.repeated`), kept
when a call is saved: the new call looks forward (a call saved late, after its repeat) and
marks the earlier calls it repeats. Figures over a year then count a column instead of
pairing a million calls (seat.figures).

A call that is not inbound, has no number or no need is not judged (`repeated` is None).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, exists, select, update
from sqlmodel import Session

from seat.models import Call

WINDOW = timedelta(days=7)
"""A call from the same number about the same need this soon after is a repeat."""
INBOUND = "inbound"


def time_it(call: Call) -> None:
    """Set the ended call's talk and wrap-up seconds (the figures add them up, seat.figures):
    talk from the start to wrap-up (to the end without a wrap-up time), wrap-up to the end."""
    if call.ended_at is None:
        call.talk_seconds = call.wrapup_seconds = None
        return
    talk_end = call.wrapup_at or call.ended_at
    call.talk_seconds = max(0.0, (talk_end - call.started_at).total_seconds())
    call.wrapup_seconds = (
        None if call.wrapup_at is None
        else max(0.0, (call.ended_at - call.wrapup_at).total_seconds())
    )


def judged(call: Call) -> bool:
    """Whether the call counts for first-contact resolution."""
    return call.direction == INBOUND and bool(call.from_number) and bool(call.need_category)


def mark(*, session: Session, call: Call) -> None:
    """Set the saved call's times (time_it) and own `repeated`, and mark the calls it
    repeats (flushes)."""
    time_it(call)
    if not judged(call):
        call.repeated = None
        session.flush()
        return
    same = (
        Call.from_number == call.from_number,
        Call.need_category == call.need_category,
        Call.direction == INBOUND,
        Call.id != call.id,
    )
    later = exists().where(
        *same, Call.started_at > call.started_at, Call.started_at <= call.started_at + WINDOW
    )
    with session.no_autoflush:  # the call's row is written once, with `repeated`, below
        call.repeated = bool(session.execute(select(later)).scalar())
    session.flush()
    session.execute(
        update(Call)
        .where(
            *same,
            Call.started_at >= call.started_at - WINDOW,
            Call.started_at < call.started_at,
            Call.repeated.is_(False),
        )
        .values(repeated=True)
        .execution_options(synchronize_session=False)
    )


# Every call timed and judged at once (a migrated or seeded database): the same rules in one
# UPDATE. SQLite stores times as text "YYYY-MM-DD HH:MM:SS.ffffff": 7 days later keeps the
# fraction, added to the whole seconds of the text (strftime of the whole text keeps
# milliseconds and rounds: a start at ss.9996 would move the window's end a second later).
BACKFILL = {
    "sqlite": """
UPDATE call SET
 talk_seconds = CASE WHEN ended_at IS NOT NULL THEN MAX(0.0,
   (julianday(COALESCE(wrapup_at, ended_at)) - julianday(started_at)) * 86400.0) END,
 wrapup_seconds = CASE WHEN ended_at IS NOT NULL AND wrapup_at IS NOT NULL THEN MAX(0.0,
   (julianday(ended_at) - julianday(wrapup_at)) * 86400.0) END,
 repeated = CASE
  WHEN direction = 'inbound' AND COALESCE(from_number, '') != ''
       AND COALESCE(need_category, '') != ''
  THEN EXISTS (
    SELECT 1 FROM call AS later
    WHERE later.from_number = call.from_number AND later.need_category = call.need_category
      AND later.direction = 'inbound' AND later.started_at > call.started_at
      AND later.started_at <= strftime('%Y-%m-%d %H:%M:%S', substr(call.started_at, 1, 19),
                                       '+7 days') || substr(call.started_at, 20))
  END
""",
    "postgresql": """
UPDATE "call" SET
 talk_seconds = CASE WHEN ended_at IS NOT NULL THEN GREATEST(0.0,
   EXTRACT(EPOCH FROM COALESCE(wrapup_at, ended_at) - started_at)) END,
 wrapup_seconds = CASE WHEN ended_at IS NOT NULL AND wrapup_at IS NOT NULL THEN GREATEST(0.0,
   EXTRACT(EPOCH FROM ended_at - wrapup_at)) END,
 repeated = CASE
  WHEN direction = 'inbound' AND COALESCE(from_number, '') != ''
       AND COALESCE(need_category, '') != ''
  THEN EXISTS (
    SELECT 1 FROM "call" AS later
    WHERE later.from_number = "call".from_number
      AND later.need_category = "call".need_category
      AND later.direction = 'inbound' AND later.started_at > "call".started_at
      AND later.started_at <= "call".started_at + interval '7 days')
  END
""",
}
"""The UPDATE that judges every call, per dialect (the migration 0018 runs the same)."""


def backfill(conn: Connection) -> None:
    """Time and judge every call in one statement (seeding writes calls without them)."""
    conn.exec_driver_sql(BACKFILL[conn.dialect.name])

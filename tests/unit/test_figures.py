"""Agent figures: each KPI's definition, first-contact resolution's edge cases, periods."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlmodel import Session

from seat import agents, figures, repeats, roles
from seat.figures import Step
from seat.models import Call, Callback, Complaint
from tests.conftest import NOW
from tests.unit.complaint_steps import POLICY

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 23)  # NOW's local day (Monday)
NUMBER = "+8613800138000"


def load(session: Session, first: date = DAY, last: date = DAY) -> figures.Figures:
    return figures.load(session=session, date_from=first, date_to=last, zone=SHANGHAI,
                        policy=POLICY, now=NOW + timedelta(days=30))  # fmt: skip


def add_call(session: Session, agent: int, at: datetime, *, number: str | None = NUMBER,
             need: str | None = "repair", direction: str = "inbound", talk: float | None = 4,
             wrap: float | None = 1, score: int | None = None) -> Call:  # fmt: skip
    """A saved call (minutes of talk, then of wrap-up), judged as the seat judges it."""
    wrapup = None if talk is None or wrap is None else at + timedelta(minutes=talk)
    ended = None if talk is None else at + timedelta(minutes=talk + (wrap or 0))
    call = Call(agent_id=agent, from_number=number, need_category=need, direction=direction,
                started_at=at, wrapup_at=wrapup, ended_at=ended, satisfaction=score)  # fmt: skip
    session.add(call)
    session.flush()
    repeats.mark(session=session, call=call)
    return call


def repeated(session: Session, *calls: Call) -> list[bool | None]:
    session.expire_all()
    return [session.get(Call, c.id).repeated for c in calls]


# -- first-contact resolution ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("gap", "number", "need", "direction", "first_repeated"),
    [
        (timedelta(days=7), NUMBER, "repair", "inbound", True),  # exactly 7 days: a repeat
        (timedelta(days=7, seconds=1), NUMBER, "repair", "inbound", False),  # a second later
        (timedelta(hours=2), NUMBER, "inquiry", "inbound", False),  # another need
        (timedelta(hours=2), "+8613912345678", "repair", "inbound", False),  # another number
        (timedelta(hours=2), NUMBER, "repair", "outbound", False),  # we called them
        (timedelta(0), NUMBER, "repair", "inbound", False),  # the same instant is not after
        (timedelta(days=3), NUMBER, "repair", "inbound", True),
    ],
)
@pytest.mark.parametrize("saved_first", ["earlier", "later"])
def test_first_contact_resolution(session, people, gap, number, need, direction,
                                  first_repeated, saved_first):  # fmt: skip
    """The first call is repeated when a second inbound call from the same number about the
    same need starts within 7 days after it, whichever of the two is saved first."""
    li = people["li"]
    if saved_first == "earlier":
        first = add_call(session, li, NOW)
        second = add_call(session, li, NOW + gap, number=number, need=need, direction=direction)
    else:
        second = add_call(session, li, NOW + gap, number=number, need=need, direction=direction)
        first = add_call(session, li, NOW)
    session.commit()
    judged_second = None if direction != "inbound" else False
    assert repeated(session, first, second) == [first_repeated, judged_second]


@pytest.mark.parametrize(
    ("number", "need", "direction"),
    [(None, "repair", "inbound"), (NUMBER, None, "inbound"), (NUMBER, "callback", "outbound"),
     ("", "repair", "inbound")],
)  # fmt: skip
def test_calls_not_judged(session, people, number, need, direction):
    call = add_call(session, people["li"], NOW, number=number, need=need, direction=direction)
    session.commit()
    assert repeated(session, call) == [None]


def test_a_repeat_of_a_repeat_marks_both(session, people):
    li = people["li"]
    calls = [add_call(session, li, NOW + timedelta(days=d)) for d in (0, 6, 12, 20)]
    session.commit()
    # 0 -> 6 (6 days), 6 -> 12 (6 days), 12 -> 20 (8 days: not a repeat), 20: none after
    assert repeated(session, *calls) == [True, True, False, False]


def test_backfill_judges_as_the_save_does(session, people):
    """The UPDATE the migration and the demo seed run gives the answers saving gave."""
    li = people["li"]
    gaps = [0, 1, 7, 14 * 24, 14 * 24 + 7 * 24, 30 * 24]  # hours, then 7 days exactly
    made = [add_call(session, li, NOW + timedelta(hours=h)) for h in gaps]
    made.append(add_call(session, li, NOW, need="inquiry"))
    made.append(add_call(session, li, NOW, number=None))
    made.append(add_call(session, li, NOW + timedelta(hours=1), direction="outbound"))
    session.commit()
    saved = repeated(session, *made)
    session.execute(update(Call).values(repeated=None))
    session.commit()
    repeats.backfill(session.connection())
    session.commit()
    assert repeated(session, *made) == saved
    assert saved[:6] == [True, True, False, True, False, False]


@pytest.mark.parametrize("later", [timedelta(0), timedelta(milliseconds=500)])
def test_backfill_judges_a_start_in_a_seconds_last_half_millisecond_as_the_save_does(
    session, people, later
):
    """A call started at hh:mm:ss.9996 and one 7 days later (the very instant: a repeat) or
    half a second after (not one): SQLite's strftime of the whole text would round the first
    start up to the next second and stretch its window by that second."""
    first = NOW + timedelta(seconds=59.9996)
    made = [add_call(session, people["li"], first),
            add_call(session, people["li"], first + timedelta(days=7) + later)]  # fmt: skip
    session.commit()
    saved = repeated(session, *made)
    assert saved == [later == timedelta(0), False]
    session.execute(update(Call).values(repeated=None))
    session.commit()
    repeats.backfill(session.connection())
    session.commit()
    assert repeated(session, *made) == saved


# -- each KPI ----------------------------------------------------------------------------------


def totals(session: Session, agent: int, first: date = DAY, last: date = DAY) -> figures.Sums:
    return load(session, first, last).totals().get(agent, figures.NOTHING)


@pytest.mark.parametrize(
    ("calls", "talked", "avg_talk", "wrapped", "avg_wrap"),
    [
        ([(4, 1)], 1, 240, 1, 60),
        ([(4, 1), (6, 3)], 2, 300, 2, 120),
        ([(4, None)], 1, 240, 0, None),  # no wrap-up time: all of it is talk
        ([(None, None)], 0, None, 0, None),  # not ended: counted, not timed
        ([(2, 1), (None, None)], 1, 120, 1, 60),
    ],
)
def test_handling_time_talk_and_wrap_up_apart(session, people, calls, talked, avg_talk,
                                             wrapped, avg_wrap):  # fmt: skip
    for i, (talk, wrap) in enumerate(calls):
        add_call(session, people["li"], NOW + timedelta(minutes=30 * i), talk=talk, wrap=wrap)
    session.commit()
    s = totals(session, people["li"])
    assert (s.calls, s.talked, s.avg_talk_s, s.wrapped, s.avg_wrap_s) == (
        len(calls), talked, avg_talk, wrapped, avg_wrap
    )


@pytest.mark.parametrize(
    ("scores", "satisfied", "average"),
    [([5, 4, 3, 1], 50.0, 3.25), ([5, 5], 100.0, 5.0), ([3], 0.0, 3.0), ([], None, None),
     ([4, None, None], 100.0, 4.0)],
)  # fmt: skip
def test_satisfaction_share_of_4_and_5_and_average(session, people, scores, satisfied,
                                                  average):  # fmt: skip
    for i, score in enumerate(scores):
        add_call(session, people["li"], NOW + timedelta(minutes=i), number=None, score=score)
    session.commit()
    s = totals(session, people["li"])
    assert (s.satisfied_percent, s.avg_score) == (satisfied, average)


def test_first_contact_resolution_share(session, people):
    li = people["li"]
    add_call(session, li, NOW)  # repeated by the next
    add_call(session, li, NOW + timedelta(hours=1))  # resolved
    add_call(session, li, NOW + timedelta(hours=2), need="inquiry")  # resolved
    add_call(session, li, NOW + timedelta(hours=3), number=None)  # not judged
    session.commit()
    s = totals(session, li)
    assert (s.calls, s.judged, s.repeated, s.fcr_percent) == (4, 3, 1, 66.7)


def test_the_repeat_counts_against_whoever_took_the_first_call(session, people):
    add_call(session, people["wang"], NOW)
    add_call(session, people["li"], NOW + timedelta(days=2))
    session.commit()
    data = load(session, DAY, DAY + timedelta(days=2)).totals()
    assert data[people["wang"]].fcr_percent == 0.0
    assert data[people["li"]].fcr_percent == 100.0


@pytest.mark.parametrize(
    ("status", "due", "done", "counted", "on_time"),
    [
        ("done", NOW, NOW - timedelta(hours=1), 1, 1),
        ("done", NOW, NOW, 1, 1),  # at the due time: on time
        ("done", NOW, NOW + timedelta(minutes=1), 1, 0),  # late
        ("open", NOW, None, 1, 0),  # fell due, not done
        ("cancelled", NOW, None, 0, 0),  # left out
    ],
)
def test_callbacks_done_on_time(session, people, status, due, done, counted, on_time):
    before = totals(session, people["li"])
    session.add(Callback(customer_id=people["fang"], owner_id=people["li"], reason="check",
                         due_at=due, status=status, done_at=done,
                         created_at=NOW - timedelta(days=2)))  # fmt: skip
    session.commit()
    s = totals(session, people["li"])
    assert (s.callbacks_due - before.callbacks_due,
            s.callbacks_on_time - before.callbacks_on_time) == (counted, on_time)  # fmt: skip


def test_callbacks_not_yet_due_are_not_counted(session, people):
    data = figures.load(session=session, date_from=DAY, date_to=DAY, zone=SHANGHAI,
                        policy=POLICY, now=NOW)  # fmt: skip
    # The world's birthday callback falls due two hours after NOW; the other three hours before.
    assert data.totals()[people["li"]].callbacks_due == 1


def _complaint(session, people, *, reply_after: timedelta, status: str = "closed") -> None:
    created = NOW - timedelta(days=1)
    step = created + reply_after
    closed = status == "closed"
    c = Complaint(customer_id=people["fang"], owner_id=people["li"], what_happened="Leak",
                  customer_wants="Repair", status=status, created_at=created,
                  first_reply_at=step, solution_at=step if closed else None,
                  implemented_at=step if closed else None, closed_at=step if closed else None,
                  category="repair_installation")  # fmt: skip
    session.add(c)
    session.flush()
    if closed:
        session.add(Callback(customer_id=people["fang"], owner_id=people["li"], reason="follow",
                             kind="complaint_follow_up", complaint_id=c.id, status="done",
                             due_at=step, done_at=step, created_at=step))  # fmt: skip


@pytest.mark.parametrize(
    ("cases", "owned", "closed", "on_time"),
    [
        ([(timedelta(minutes=30), "closed")], 1, 1, 100.0),
        ([(timedelta(days=20), "closed")], 1, 1, 0.0),  # every clock breached
        ([(timedelta(minutes=30), "closed"), (timedelta(days=20), "closed")], 2, 2, 50.0),
        ([(timedelta(minutes=30), "investigating")], 1, 0, None),  # still open: not judged
    ],
)
def test_complaints_owned_and_closed_on_time(session, people, cases, owned, closed, on_time):
    for after, status in cases:
        _complaint(session, people, reply_after=after, status=status)
    session.commit()
    first = DAY - timedelta(days=1)
    s = totals(session, people["li"], first, first)
    assert (s.complaints, s.closed, s.on_time_percent) == (owned, closed, on_time)


# -- days, weeks, months ---------------------------------------------------------------------


def test_local_days_split_at_local_midnight(session, people):
    li = people["li"]
    midnight = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # 00:00 on the 24th in Shanghai
    add_call(session, li, midnight - timedelta(seconds=1), number=None)
    add_call(session, li, midnight, number=None)
    add_call(session, li, midnight + timedelta(hours=1), number=None)
    session.commit()
    data = load(session, DAY, DAY + timedelta(days=1))
    assert [(p.start, per[li].calls) for p, per in data.series(Step.DAY)] == [
        (DAY, 1), (DAY + timedelta(days=1), 2)
    ]


@pytest.mark.parametrize(
    ("first", "last", "step", "expected"),
    [
        (date(2026, 11, 18), date(2026, 12, 2), Step.WEEK,
         [("11-18", "11-22"), ("11-23", "11-29"), ("11-30", "12-02")]),
        (date(2026, 11, 18), date(2027, 1, 10), Step.MONTH,
         [("11-18", "11-30"), ("12-01", "12-31"), ("01-01", "01-10")]),
        (date(2028, 2, 1), date(2028, 2, 29), Step.MONTH, [("02-01", "02-29")]),  # leap year
        (date(2026, 11, 30), date(2026, 12, 1), Step.DAY, [("11-30", "11-30"), ("12-01", "12-01")]),
    ],
)  # fmt: skip
def test_periods(first, last, step, expected):
    assert [(f"{p.start:%m-%d}", f"{p.end:%m-%d}") for p in figures.periods(first, last, step)] \
        == expected


def test_weeks_and_months_add_up_the_days(session, people):
    li = people["li"]
    for d in range(0, 40, 3):
        add_call(session, li, NOW + timedelta(days=d), score=5 if d % 2 else 3, need="inquiry")
    session.commit()
    data = load(session, DAY, DAY + timedelta(days=40))
    whole = data.totals()[li]
    for step in Step:
        folded = figures.NOTHING
        for __, per in data.series(step):
            folded = folded + per.get(li, figures.NOTHING)
        assert folded == whole


def test_tables_for_the_report(session, people):
    add_call(session, people["li"], NOW, score=5)
    session.commit()
    tables = figures.tables(load(session, DAY, DAY + timedelta(days=1)))
    assert [t.title for t in tables] == [
        "Agent figures", "Agent figures by day", "Agent figures by week",
        "Agent figures by month",
    ]
    summary = tables[0]
    li = next(r for r in summary.rows if r[0] == "li.na")
    assert li[2:5] == [1, 240, 60]
    assert summary.rows[-1][0] == "Total"
    assert [r[:3] for r in tables[1].rows] == [[DAY, "li.na", "Li Na"]]


def test_only_a_supervisor_reads_every_agents_figures(session, people):
    with pytest.raises(roles.PermissionDenied):
        figures.require_figures(agents.get_by_name(session=session, name="li.na"))
    figures.require_figures(agents.get_by_name(session=session, name="zhao.lei"))
    assert session.execute(select(Call.id)).first() is None

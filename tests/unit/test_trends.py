"""Daily and weekly trends: local day boundaries, empty days, Monday weeks, the four measures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from seat import agents, customers, i18n, trends
from seat.i18n_catalog import extract
from seat.models import Call, Callback, Complaint
from seat.trends import Measure, Period, Step
from tests.conftest import NOW

SHANGHAI = ZoneInfo("Asia/Shanghai")
CATEGORIES = [("product_quality", "Product quality"), ("delivery", "Delivery")]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def people(session: Session) -> dict[str, int]:
    li = agents.ensure_agent(session=session, name="li.na")
    fang = customers.create_customer(
        session=session, now=NOW - timedelta(days=60), name="Wang Fang",
        phone_text="138 0013 8000",
    )  # fmt: skip
    session.commit()
    return {"agent": li.id, "customer": fang.id}


def add_call(session: Session, people: dict[str, int], at: datetime, *, minutes: float | None = 5,
             score: int | None = None) -> None:  # fmt: skip
    session.add(
        Call(
            agent_id=people["agent"], customer_id=people["customer"], started_at=at,
            ended_at=None if minutes is None else at + timedelta(minutes=minutes),
            satisfaction=score,
        )
    )  # fmt: skip


# -- periods -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        # Wednesday to the Wednesday two weeks on: cut weeks at both ends, Monday starts.
        (date(2026, 11, 18), date(2026, 12, 2),
         [("11-18", "11-22"), ("11-23", "11-29"), ("11-30", "12-02")]),
        # Monday to Sunday: one whole week.
        (date(2026, 11, 16), date(2026, 11, 22), [("11-16", "11-22")]),
        # A Sunday alone, then the year turning mid-week.
        (date(2026, 11, 22), date(2026, 11, 22), [("11-22", "11-22")]),
        (date(2026, 12, 30), date(2027, 1, 5), [("12-30", "01-03"), ("01-04", "01-05")]),
    ],
)  # fmt: skip
def test_weeks_start_on_monday(first: date, last: date, expected: list[tuple[str, str]]) -> None:
    got = trends.periods(first, last, Step.WEEK)
    assert [(f"{p.start:%m-%d}", f"{p.end:%m-%d}") for p in got] == expected
    assert all(p.start.weekday() == 0 for p in got[1:])


@pytest.mark.parametrize(
    ("first", "last", "n"),
    [(date(2026, 11, 1), date(2026, 11, 30), 30), (date(2026, 11, 23), date(2026, 11, 23), 1)],
)
def test_days_are_one_period_each(first: date, last: date, n: int) -> None:  # fmt: skip
    got = trends.periods(first, last, Step.DAY)
    assert len(got) == n and all(p.start == p.end for p in got)


def test_a_range_backwards_is_refused() -> None:
    with pytest.raises(ValueError):
        trends.periods(date(2026, 11, 23), date(2026, 11, 22), Step.DAY)


# -- local day boundaries ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        # 15:59 UTC is 23:59 in Shanghai (the 22nd); 16:00 UTC is midnight of the 23rd there.
        ("Asia/Shanghai", {date(2026, 11, 22): 2, date(2026, 11, 23): 2}),
        ("UTC", {date(2026, 11, 22): 2, date(2026, 11, 23): 1}),  # the 21st is out of range
    ],
)
def test_calls_are_counted_on_the_local_day(
    session: Session, people: dict[str, int], zone: str, expected: dict[date, int]
) -> None:
    for at in (utc(2026, 11, 21, 16, 0), utc(2026, 11, 22, 15, 59), utc(2026, 11, 22, 16, 0),
               utc(2026, 11, 23, 1, 0)):  # fmt: skip
        add_call(session, people, at)
    session.commit()
    got = trends.calls(
        session=session, date_from=date(2026, 11, 22), date_to=date(2026, 11, 23),
        zone=ZoneInfo(zone), step=Step.DAY,
    )  # fmt: skip
    assert {p.period.start: p.calls for p in got} == expected


@pytest.mark.parametrize(
    ("at", "day"),
    [
        (utc(2026, 3, 28, 23, 30), date(2026, 3, 29)),  # 00:30 CET
        (utc(2026, 3, 29, 21, 59), date(2026, 3, 29)),  # 23:59 CEST, after the change
        (utc(2026, 3, 29, 22, 30), date(2026, 3, 30)),  # 00:30 CEST
        (utc(2026, 10, 24, 22, 30), date(2026, 10, 25)),  # 00:30 CEST, the night it ends
        (utc(2026, 10, 25, 22, 59), date(2026, 10, 25)),  # 23:59 CET
    ],
)
def test_days_follow_a_summer_time_change(
    session: Session, people: dict[str, int], at: datetime, day: date
) -> None:
    add_call(session, people, at)
    session.commit()
    got = trends.calls(
        session=session, date_from=date(2026, 3, 1), date_to=date(2026, 10, 31),
        zone=ZoneInfo("Europe/Berlin"), step=Step.DAY,
    )  # fmt: skip
    assert [p.period.start for p in got if p.calls] == [day]


def test_offset_spans_cut_at_the_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start, end = trends.bounds(date(2026, 3, 28), date(2026, 3, 30), berlin)
    spans = trends.offset_spans(start, end, berlin)
    assert [(a, b, off) for a, b, off in spans] == [
        (start, utc(2026, 3, 29, 1, 0), 3600),
        (utc(2026, 3, 29, 1, 0), end, 7200),
    ]
    assert trends.offset_spans(*trends.bounds(date(2026, 1, 1), date(2026, 12, 31), SHANGHAI),
                               SHANGHAI)[0][2] == 8 * 3600  # fmt: skip


# -- the measures ----------------------------------------------------------------------------


def test_empty_days_are_zero(session: Session, people: dict[str, int]) -> None:
    add_call(session, people, utc(2026, 11, 18, 2), minutes=4, score=5)
    session.commit()
    data = trends.trends(
        session=session, date_from=date(2026, 11, 16), date_to=date(2026, 11, 22),
        step=Step.DAY, zone=SHANGHAI, now=NOW, categories=CATEGORIES,
    )  # fmt: skip
    assert [p.calls for p in data.calls] == [0, 0, 1, 0, 0, 0, 0]
    assert [p.avg_seconds for p in data.calls] == [None, None, 240, None, None, None, None]
    assert [p.scored for p in data.satisfaction] == [0, 0, 1, 0, 0, 0, 0]
    assert [p.due for p in data.callbacks] == [0] * 7
    assert all(p.percent is None for p in data.callbacks)
    assert data.complaints.categories == ()
    assert [p.total for p in data.complaints.points] == [0] * 7


@pytest.mark.parametrize(
    ("step", "calls", "average", "scored", "score"),
    [
        (Step.DAY, [2, 0, 1], [450, None, 600], [2, 0, 0], [3.5, None, None]),
        (Step.WEEK, [2, 1], [450, 600], [2, 0], [3.5, None]),
    ],
)
def test_calls_and_satisfaction(
    session: Session, people: dict[str, int], step: Step, calls: list[int],
    average: list[int | None], scored: list[int], score: list[float | None],
) -> None:  # fmt: skip
    add_call(session, people, utc(2026, 11, 22, 1), minutes=5, score=4)  # Sunday
    add_call(session, people, utc(2026, 11, 22, 3), minutes=10, score=3)
    add_call(session, people, utc(2026, 11, 24, 3), minutes=10)  # Tuesday
    add_call(session, people, utc(2026, 11, 24, 4), minutes=None)  # still going: no time
    add_call(session, people, utc(2026, 11, 25, 3), minutes=1)  # after the range
    session.commit()
    common = dict(session=session, date_from=date(2026, 11, 22), date_to=date(2026, 11, 24),
                  zone=SHANGHAI, step=step)  # fmt: skip
    got = trends.calls(**common)
    assert [p.calls for p in got] == [c + (1 if i == len(calls) - 1 else 0)
                                      for i, c in enumerate(calls)]  # fmt: skip
    assert [p.avg_seconds for p in got] == average
    marks = trends.satisfaction(**common)
    assert [p.scored for p in marks] == scored
    assert [p.average for p in marks] == score


def test_complaints_by_category(session: Session, people: dict[str, int]) -> None:
    for at, category in [
        (utc(2026, 11, 16, 2), "delivery"),
        (utc(2026, 11, 16, 3), "product_quality"),
        (utc(2026, 11, 16, 17), "delivery"),  # the 17th in Shanghai
        (utc(2026, 11, 17, 2), None),
        (utc(2026, 11, 17, 3), "old_code"),  # no longer in the policy
        (utc(2026, 11, 15, 15), "delivery"),  # 23:00 on the 15th: before the range
    ]:
        session.add(Complaint(customer_id=people["customer"], owner_id=people["agent"],
                              what_happened="x", customer_wants="y", created_at=at,
                              category=category))  # fmt: skip
    session.commit()
    got = trends.complaints(
        session=session, date_from=date(2026, 11, 16), date_to=date(2026, 11, 17),
        zone=SHANGHAI, step=Step.DAY, categories=CATEGORIES,
    )  # fmt: skip
    assert got.categories == ("Product quality", "Delivery", "old_code", "(not classified)")
    assert [p.counts for p in got.points] == [(1, 1, 0, 0), (0, 1, 1, 1)]
    assert [p.total for p in got.points] == [2, 3]


def test_callback_completion(session: Session, people: dict[str, int]) -> None:
    def cb(due: datetime, status: str) -> Callback:
        return Callback(customer_id=people["customer"], owner_id=people["agent"], reason="r",
                        due_at=due, status=status, created_at=due - timedelta(days=3))  # fmt: skip

    session.add_all([
        cb(utc(2026, 11, 21, 2), "done"),
        cb(utc(2026, 11, 21, 3), "open"),  # overdue
        cb(utc(2026, 11, 21, 4), "missed"),
        cb(utc(2026, 11, 21, 5), "cancelled"),  # not counted
        cb(utc(2026, 11, 22, 2), "done"),
        cb(NOW - timedelta(minutes=1), "open"),  # due this morning
        cb(NOW + timedelta(hours=1), "open"),  # later today: not due yet
        cb(NOW + timedelta(hours=2), "done"),  # done early, due later: not counted yet
    ])  # fmt: skip
    session.commit()
    got = trends.callbacks(
        session=session, date_from=date(2026, 11, 21), date_to=date(2026, 11, 23),
        zone=SHANGHAI, step=Step.DAY, now=NOW,
    )  # fmt: skip
    assert [(p.due, p.done, p.percent) for p in got] == [(3, 1, 33.3), (1, 1, 100.0),
                                                         (1, 0, 0.0)]  # fmt: skip


def test_tables_have_a_total_row(session: Session, people: dict[str, int]) -> None:
    add_call(session, people, utc(2026, 11, 16, 2), minutes=3, score=5)
    add_call(session, people, utc(2026, 11, 17, 2), minutes=6, score=2)
    add_call(session, people, utc(2026, 11, 17, 3), minutes=6)
    session.commit()
    data = trends.trends(
        session=session, date_from=date(2026, 11, 16), date_to=date(2026, 11, 17),
        step=Step.DAY, zone=SHANGHAI, now=NOW,
    )  # fmt: skip
    calls, complaints, callbacks, scores = trends.tables(data)
    assert calls.headers == ["Day", "Calls", "Avg handling s"]
    assert calls.rows == [[date(2026, 11, 16), 1, 180], [date(2026, 11, 17), 2, 360],
                          ["Total", 3, 300]]  # fmt: skip
    assert complaints.rows[-1] == ["Total", 0]
    assert callbacks.rows[-1] == ["Total", 0, 0, None]
    assert scores.rows[-1] == ["Total", 2, 3.5]
    weekly = trends.trends(
        session=session, date_from=date(2026, 11, 16), date_to=date(2026, 11, 17),
        step=Step.WEEK, zone=SHANGHAI, now=NOW,
    )  # fmt: skip
    assert trends.table(weekly, Measure.CALLS).rows == [[date(2026, 11, 16), 3, 300],
                                                       ["Total", 3, 300]]  # fmt: skip
    assert trends.table(weekly, Measure.CALLS).headers[0] == "Week of"


def test_period_label_is_month_and_day() -> None:
    assert Period(date(2026, 11, 2), date(2026, 11, 8)).label == "11-02"


# -- languages -----------------------------------------------------------------------------

FILES = [Path(trends.__file__), Path(trends.__file__).parent / "reports" / "summary.py",
         Path(trends.__file__).parent / "screens" / "supervisor" / "statistics.py"]  # fmt: skip


@pytest.fixture
def chinese() -> Iterator[None]:
    i18n.set_language("zh_CN")
    try:
        yield
    finally:
        i18n.set_language("en")


def test_every_message_of_the_statistics_is_translated() -> None:
    chinese = i18n.catalogue("zh_CN")
    messages = extract(FILES)
    assert "Calls by day" in messages and "Nothing in this range." in messages
    untranslated = [m for m in messages if chinese.gettext(m) == m]
    assert untranslated == []


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_table_keys_stay_english_and_show_translated(
    session: Session, people: dict[str, int], lang: str
) -> None:
    add_call(session, people, utc(2026, 11, 16, 2), minutes=3, score=5)
    session.add(Complaint(customer_id=people["customer"], owner_id=people["agent"],
                          what_happened="x", customer_wants="y", created_at=utc(2026, 11, 16, 3),
                          category=None))  # fmt: skip
    session.add(Complaint(customer_id=people["customer"], owner_id=people["agent"],
                          what_happened="x", customer_wants="y", created_at=utc(2026, 11, 16, 4),
                          category="delivery"))  # fmt: skip
    session.commit()
    shown_labels = {"delivery": "送货" if lang == "zh_CN" else "Delivery"}  # the policy's
    i18n.set_language(lang)
    try:
        data = trends.trends(
            session=session, date_from=date(2026, 11, 16), date_to=date(2026, 11, 17),
            step=Step.WEEK, zone=SHANGHAI, now=NOW, categories=CATEGORIES,
            shown_labels=shown_labels,
        )  # fmt: skip
        calls = trends.table(data, Measure.CALLS)
        complaints = trends.table(data, Measure.COMPLAINTS)
        shown = (calls.shown_title, calls.shown_headers, calls.shown_rows[-1][0],
                 complaints.shown_headers)  # fmt: skip
    finally:
        i18n.set_language("en")
    # The keys scripts read (json/csv) are the same in every language...
    assert calls.title == "Calls by week"
    assert calls.headers == ["Week of", "Calls", "Avg handling s"]
    assert calls.rows[-1][0] == "Total"
    assert complaints.headers == ["Week of", "Delivery", "(not classified)", "Total"]
    # ...and people read them in theirs.
    if lang == "en":
        assert shown == ("Calls by week", calls.headers, "Total", complaints.headers)
    else:
        assert shown == ("每周通话量", ["周起始日", "通话量", "平均处理秒数"], "合计",
                         ["周起始日", "送货", "（未分类）", "合计"])  # fmt: skip


def test_chinese_keeps_numeric_ticks_and_refuses_in_chinese(chinese: None) -> None:
    assert Period(date(2026, 11, 2), date(2026, 11, 8)).label == "11-02"
    with pytest.raises(ValueError, match="结束日期早于开始日期"):
        trends.periods(date(2026, 11, 23), date(2026, 11, 22), Step.DAY)

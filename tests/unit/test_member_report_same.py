"""The member report, read by one customer-ordered statement (each customer's stretches as
bits), writes byte for byte what the computation before it wrote (one DISTINCT statement per
stretch, each first purchase as a time; kept in tests/unit/member_report_before.py), on a
seeded desk with merged, re-tiered and imported customers, purchases at the months' edges and
odd genders and birthdays, over ranges from a day to three years (more than one column of
bits) and several churn periods. Both backends (SEAT_TEST_POSTGRES_URL)."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from dataclasses import replace
from datetime import date

import pytest
from sqlmodel import Session

from seat import members
from seat.export import write
from seat.reports import members as report
from tests.conftest import NOW
from tests.unit import member_report_before as before
from tests.unit.member_desk import ZONE, seeded_desk


@pytest.fixture(scope="module")
def desk(request, module_db_url, tmp_path_factory):
    """(engine, settings) of a seeded desk, shared by this module's tests (read only)."""
    return seeded_desk(request, module_db_url, tmp_path_factory, customers=500, calls=200,
                       work_orders=50, purchases=4000)  # fmt: skip


RANGES = [
    (date(2025, 11, 24), date(2026, 11, 23)),  # a year, to today
    (date(2025, 12, 1), date(2026, 12, 31)),  # ending after now
    (date(2023, 11, 1), date(2026, 11, 30)),  # three years: more than one column of bits
    (date(2026, 3, 1), date(2026, 3, 31)),  # a month from its first local midnight
    (date(2026, 2, 15), date(2026, 4, 14)),  # months cut mid-way
    (date(2026, 11, 23), date(2026, 11, 23)),  # today
    (date(2026, 12, 1), date(2027, 2, 28)),  # all after now
]
PERIODS = [90, 30, 365, 1]


def _written(tables, fmt: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        write(tables, fmt, None)
    return out.getvalue()


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize(("first", "last"), RANGES)
def test_the_same_report_as_before(desk, first, last, period):
    engine, settings = desk
    policy = replace(members.MemberPolicy(), churn_after_days=period)
    args = dict(date_from=first, date_to=last, settings=settings, now=NOW, policy=policy)
    with Session(engine) as s:
        was = report.tables_of(before.analyse(session=s, **args), now=NOW, zone=ZONE)
        now = report.tables_of(report.analyse(session=s, **args), now=NOW, zone=ZONE)
    for fmt in ("csv", "json"):
        assert _written(now, fmt) == _written(was, fmt), fmt


def test_the_desk_holds_what_the_comparison_tests(desk):
    """Customers in several patterns: new, churned and active ones in the year, buyers
    before it, more than one column of bits over three years."""
    engine, settings = desk
    with Session(engine) as s:
        data = report.analyse(
            session=s, date_from=date(2025, 11, 24), date_to=date(2026, 11, 23),
            settings=settings, now=NOW, policy=members.MemberPolicy(),
        )  # fmt: skip
    assert sum(m.new for m in data.months) > 10
    assert sum(m.churned for m in data.months) > 10
    assert data.months[0].active_start > 10
    assert data.buyers > 100 and len(data.top) > 0
    assert any(b.label == report.UNKNOWN for b in data.ages)

"""The agent report, its per-day sums read at the driver level (seat.db.Prepared; on SQLite the
calls' sums read ahead on a second connection, seat.db.ReadAhead) and added without the frozen
dataclass's __init__, writes byte for byte what it wrote through the ORM
(the computation before, kept here as the reference), on a seeded desk. Both backends."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlmodel import Session

from seat import figures
from seat.config import Settings
from seat.db import make_engine
from seat.export import write
from seat.reports import agents as report
from seat.tools import demo
from tests.conftest import NOW


def _per_day_before(session, query, days, ahead=None, key=""):
    """Each day's statement through the ORM, on the session (never read ahead)."""
    for day, lo, hi in days:
        for row in session.execute(query.statement, {"lo": lo, "hi": hi}):
            yield day, row[0], row[1:]


def _add_before(self, other):
    mine, theirs = self.__dict__.values(), other.__dict__.values()
    return figures.Sums(*(a + b for a, b in zip(mine, theirs, strict=True)))


@pytest.fixture(scope="module")
def desk(request, module_db_url):
    url = module_db_url
    engine = make_engine(url)
    request.addfinalizer(engine.dispose)
    demo.seed(engine, customers=300, calls=3000, work_orders=200, now=NOW - timedelta(days=1))
    return engine, replace(Settings(), database_url=url, local_timezone="Asia/Shanghai")


def _written(tables, fmt: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        write(tables, fmt, None)
    return out.getvalue()


@pytest.mark.parametrize(("first", "last"), [
    (date(2025, 11, 24), date(2026, 11, 23)), (date(2026, 10, 1), date(2026, 12, 31)),
    (date(2026, 11, 23), date(2026, 11, 23)),
])  # fmt: skip
def test_the_same_report_as_through_the_orm(desk, first, last, monkeypatch):
    engine, settings = desk
    args = dict(date_from=first, date_to=last, settings=settings, now=NOW)
    started = []
    start = figures.ReadAhead.start
    with monkeypatch.context() as m:
        m.setattr("seat.db.cores", lambda: 2)  # read ahead on a machine of one core too
        m.setattr(figures.ReadAhead, "start",
                  lambda *a, **k: started.append(start(*a, **k)) or started[-1])
        with Session(engine) as s:
            now = report.tables(session=s, **args)
    # On an SQLite file the calls' sums were read ahead (PostgreSQL reads them on the session).
    assert (started[0] is not None) == (engine.dialect.name == "sqlite")
    with monkeypatch.context() as m:
        m.setattr(figures, "_per_day", _per_day_before)
        m.setattr(figures.ReadAhead, "start", lambda *a, **k: None)
        m.setattr(figures.Sums, "__add__", _add_before)
        with Session(engine) as s:
            was = report.tables(session=s, **args)
    assert sum(len(t.rows) for t in now) > 4
    for fmt in ("csv", "json"):
        assert _written(now, fmt) == _written(was, fmt), fmt

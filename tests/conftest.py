"""Shared fixtures: a temporary desk database, a fixed clock, a small known world."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from seat import agents, customers, i18n
from seat.clock import FixedClock
from seat.config import Settings
from seat.db import make_engine

# 10:00 in Shanghai on a Monday.
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def english():
    """Every test starts in English whatever the developer's locale; tests that switch to
    Chinese are put back."""
    i18n.set_language("en")
    yield
    i18n.set_language("en")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


# The suite runs once on SQLite (default) and once on PostgreSQL when this names a server
# database the tests may use to create and drop their own databases, e.g.
# postgresql+psycopg://postgres@127.0.0.1:5432/postgres
PG_ADMIN_URL = os.environ.get("SEAT_TEST_POSTGRES_URL", "")


def pytest_report_header(config) -> str:
    return f"seat backend: {'postgresql' if PG_ADMIN_URL else 'sqlite'}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file at the migration head per session (per xdist worker): each test copies
    it instead of running the migrations again (about a second a test on these machines)."""
    path = tmp_path_factory.mktemp("template") / "desk.db"
    make_engine(f"sqlite:///{path}").dispose()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=DELETE")  # one file to copy, no -wal beside it
    conn.close()
    return path


def _fresh_url(target: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated database of its own: the SQLite template copied to `target`, or a fresh
    PostgreSQL database (dropped afterwards) when the suite runs on PostgreSQL."""
    if not PG_ADMIN_URL:
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    from tests.pg import fresh_database

    with fresh_database(PG_ADMIN_URL) as url:
        yield url


@pytest.fixture
def db_url(tmp_path: Path, request: pytest.FixtureRequest):
    yield from _fresh_url(tmp_path / "desk.db", request)


@pytest.fixture
def other_url(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A second database beside db_url's (two seeded alike, compared)."""
    yield from _fresh_url(tmp_path / "other.db", request)


@pytest.fixture(scope="module")
def module_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A database of the module's own, as db_url gives a test its own: for a seeded desk that
    the module's tests only read."""
    yield from _fresh_url(tmp_path_factory.mktemp("seeded") / "desk.db", request)


@pytest.fixture
def backend(db_url: str) -> str:
    return "postgresql" if db_url.startswith("postgresql") else "sqlite"


@pytest.fixture
def engine(db_url: str):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return replace(
        Settings(),
        database_url=db_url,
        refresh_seconds=3600,
        drafts_base=tmp_path / "drafts",
        schedule_on_start=False,  # tests that want the scheduler run it on purpose
    )


@pytest.fixture
def session(engine):
    with Session(engine, expire_on_commit=False) as s:
        yield s


def populate(engine, now: datetime = NOW) -> dict[str, int]:
    """Two agents, three customers, callbacks and work orders around `now`."""
    ids: dict[str, int] = {}
    with Session(engine, expire_on_commit=False) as s:
        li = agents.ensure_agent(session=s, name="li.na")
        wang = agents.ensure_agent(session=s, name="wang.wei")
        ids["li"], ids["wang"] = li.id, wang.id
        past = now - timedelta(days=30)
        fang = customers.create_customer(
            session=s, now=past, name="Wang Fang", phone_text="138 0013 8000", tier="vip",
            birthday="1985-11-30", gender="female", address="88 Nanjing Rd, Shanghai",
        )
        min_ = customers.create_customer(
            session=s, now=past, name="张敏", phone_text="139 1234 5678", tier="gold",
        )
        tom = customers.create_customer(
            session=s, now=past, name="Tom Baker", phone_text="+44 20 7946 0958",
        )
        ids.update(fang=fang.id, min=min_.id, tom=tom.id)
        s.commit()
        # Rows dated in the past are written directly: the rules refuse past due times.
        from seat.models import Callback, WorkOrder

        s.add(Callback(customer_id=fang.id, owner_id=li.id, reason="Washer repair follow-up",
                       kind="satisfaction", due_at=now - timedelta(hours=3), created_at=past))
        s.add(Callback(customer_id=min_.id, owner_id=li.id, reason="Birthday greeting",
                       kind="birthday", due_at=now + timedelta(hours=2), created_at=past))
        s.add(WorkOrder(kind="service_request", short_text="Fridge not cooling",
                        customer_id=min_.id, assignee_id=li.id, urgent=False,
                        due_at=now + timedelta(days=1), created_at=past))
        s.add(WorkOrder(kind="delivery_exception", short_text="Sofa cover torn on delivery",
                        customer_id=fang.id, assignee_id=li.id, urgent=True,
                        due_at=now + timedelta(hours=4), created_at=past))
        s.add(WorkOrder(kind="service_request", short_text="Dryer noisy",
                        customer_id=tom.id, assignee_id=li.id, urgent=False,
                        due_at=now - timedelta(days=1), created_at=past))
        s.commit()
        from seat.callbacks import CallbackPolicy, sidebar_callbacks

        ready, _waiting = sidebar_callbacks(
            session=s, agent_id=li.id, now=now, policy=CallbackPolicy()
        )
        assert ready
    return ids


@pytest.fixture
def world(engine) -> dict[str, int]:
    return populate(engine)


@pytest.fixture
def cli_token(monkeypatch):
    """Sign the command line in, as a script would: a token for `login` in SEAT_TOKEN
    (the agent is made if the database has none by that login)."""
    from seat import agents, identity

    def issue(url: str, login: str = "zhao.lei", role: str = "supervisor") -> str:
        eng = make_engine(url)
        try:
            with Session(eng) as s:
                agent = agents.ensure_agent(session=s, name=login, role=role)
                token = identity.issue_token(session=s, agent_id=agent.id)
                s.commit()
        finally:
            eng.dispose()
        monkeypatch.setenv("SEAT_TOKEN", token)
        return token

    return issue

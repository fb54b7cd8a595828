"""Throwaway PostgreSQL databases for the tests: one per test, copied from a migrated template."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

# One template per xdist worker: a worker drops and re-creates its own at start, and CREATE
# DATABASE ... TEMPLATE refuses a template another session is connected to.
_TEMPLATE = f"seat_test_template_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
_ready: set[str] = set()


def _admin(admin_url: str):
    return create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=1, max_overflow=0)


def _ensure_template(admin_url: str) -> None:
    if admin_url in _ready:
        return
    from seat.db import make_engine

    admin = _admin(admin_url)
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{_TEMPLATE}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{_TEMPLATE}"'))
    url = make_url(admin_url).set(database=_TEMPLATE)
    engine = make_engine(url.render_as_string(hide_password=False))
    engine.dispose()
    admin.dispose()
    _ready.add(admin_url)


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new database at the current migration head; dropped afterwards."""
    _ensure_template(admin_url)
    name = f"seat_test_{uuid.uuid4().hex[:12]}"
    admin = _admin(admin_url)
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{_TEMPLATE}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

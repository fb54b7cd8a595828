"""The reads a seat makes before its first frame (the demo desk's seed check, the sign-in of
--agent) use the tables' columns: they find what the mapped classes find, and leave the
mappers unconfigured (the first read after the frame configures them)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlmodel import Session

from seat import agents
from seat.clock import FixedClock
from seat.errors import ValidationError
from seat.services import Desk, login_row
from tests.conftest import NOW


def test_login_row_finds_what_get_by_name_finds(engine):
    with Session(engine) as s:
        agents.ensure_agent(session=s, name="li.na", display_name="Li Na")
        gone = agents.ensure_agent(session=s, name="wang.wu", display_name="Wang Wu",
                                   role="shift_lead")  # fmt: skip
        gone.active = False
        s.commit()
        for name in ("li.na", "  LI.NA ", "wang.wu", "nobody", ""):
            found = agents.get_by_name(session=s, name=name)
            row = login_row(session=s, name=name)
            if found is None:
                assert row is None
            else:
                assert row == (found.id, found.name, found.display_name, found.role,
                               found.active)  # fmt: skip


def test_sign_in_refuses_a_missing_or_inactive_login(engine, settings):
    with Session(engine) as s:
        agents.ensure_agent(session=s, name="li.na", display_name="Li Na")
        agents.ensure_agent(session=s, name="wang.wu", display_name="Wang Wu").active = False
        s.commit()
    desk = Desk(engine=engine, clock=FixedClock(NOW), settings=settings)
    info = desk.sign_in(" Li.Na")
    assert (info.name, info.display_name, info.role) == ("li.na", "Li Na", "agent")
    for name in ("wang.wu", "zhao.lei"):
        with pytest.raises(ValidationError):
            desk.sign_in(name)


def test_the_demo_check_and_sign_in_configure_no_mapper(tmp_path):
    """In a fresh interpreter: seeding the demo desk configures the mappers, so it is seeded
    first; the second process checks and signs in with nothing configured."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    code = (
        "import sys; from datetime import datetime, UTC\n"
        "from seat.models import Agent\n"
        "from seat.db import make_engine\n"
        "from seat.clock import FixedClock\n"
        "from seat.config import Settings\n"
        "from seat.services import Desk\n"
        "from seat.tools.demo import ensure_demo\n"
        f"engine = make_engine({url!r})\n"
        "seeded = ensure_demo(engine, now=datetime(2026, 11, 23, tzinfo=UTC))\n"
        "desk = Desk(engine=engine, clock=FixedClock(datetime(2026, 11, 23, tzinfo=UTC)),"
        " settings=Settings(database_url='x'))\n"
        "print(seeded, desk.sign_in('li.na').name, Agent.__mapper__.registry._new_mappers)\n"
    )
    run = [sys.executable, "-c", code]
    first = subprocess.run(run, capture_output=True, text=True, timeout=300, check=True)
    assert first.stdout.split()[:2] == ["True", "li.na"]
    again = subprocess.run(run, capture_output=True, text=True, timeout=120, check=True)
    assert again.stdout.split() == ["False", "li.na", "True"]


def test_the_models_import_no_postgresql_dialect():
    from tests.unit.helpers import loaded_after_import

    assert loaded_after_import("seat.models", "sqlalchemy.dialects.postgresql") == []


def test_set_only_indexes_carry_postgresqls_where_as_if_given_to_the_constructor():
    """SetOnlyIndex (its PostgreSQL options filled in when asked for) against a plain Index
    given postgresql_where=: the same options, DDL and copy."""
    from sqlalchemy import Index, MetaData
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.schema import CreateIndex
    from sqlmodel import SQLModel

    from seat.models import SetOnlyIndex

    found = [
        (table, ix) for table in SQLModel.metadata.tables.values() for ix in table.indexes
        if isinstance(ix, SetOnlyIndex)
    ]  # fmt: skip
    assert len(found) >= 5
    counts = {table.name: len(table.indexes) for table, __ in found}
    for table, ix in found:
        where = ix.dialect_options["sqlite"]["where"]
        column = ix.expressions[0].name  # by name: an Index of the Column would join its table
        plain = Index(ix.name, column, sqlite_where=where, postgresql_where=where)
        assert dict(ix.dialect_kwargs) == dict(plain.dialect_kwargs)
        for name in ("postgresql", "sqlite"):
            assert dict(ix.dialect_options[name]) == dict(plain.dialect_options[name])
        for dialect in (postgresql.dialect(), sqlite.dialect()):
            ddl = str(CreateIndex(ix).compile(dialect=dialect))
            assert ddl.endswith(f"WHERE {column} IS NOT NULL"), ddl
        copy = table.to_metadata(MetaData())
        copied = next(i for i in copy.indexes if i.name == ix.name)
        pg = str(CreateIndex(copied).compile(dialect=postgresql.dialect()))
        assert pg.endswith("IS NOT NULL"), pg
    assert counts == {table.name: len(table.indexes) for table, __ in found}


def test_the_desk_is_composed_before_the_mapped_tables_exist(tmp_path):
    """A seat started with its agent on the demo desk: the start-up check, the demo check,
    the sign-in and the desk's composition import no mapped table (seat.lazy); the desk's
    first reads, once it is drawn, do."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    seed = (
        "from datetime import datetime, UTC\n"
        "from seat.db import make_engine\n"
        "from seat.tools.demo import ensure_demo\n"
        f"ensure_demo(make_engine({url!r}), now=datetime(2026, 11, 23, tzinfo=UTC))\n"
    )
    subprocess.run([sys.executable, "-c", seed], capture_output=True, timeout=300, check=True)
    code = (
        "import sys\n"
        "from dataclasses import replace\n"
        "from seat import cli\n"
        "from seat.config import load_settings\n"
        "from seat.screens.desk import DeskScreen\n"
        "seen = []\n"
        "compose = DeskScreen.compose\n"
        "def composed(self):\n"
        "    yield from compose(self)\n"
        "    seen.append('seat.models' in sys.modules)\n"
        "DeskScreen.compose = composed\n"
        f"settings = replace(load_settings(), database_url={url!r}, schedule_on_start=False)\n"
        "app = cli._build_seat(settings, agent='li.na', demo=True)\n"
        "built = 'seat.models' in sys.modules\n"
        "async def go():\n"
        "    async with app.run_test(size=(80, 24)) as pilot:\n"
        "        await pilot.pause()\n"
        "        for __ in range(200):\n"
        "            if 'seat.models' in sys.modules:\n"
        "                break\n"
        "            await pilot.pause(0.05)\n"
        "        print(built, seen, 'seat.models' in sys.modules)\n"
        "import asyncio\n"
        "asyncio.run(go())\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert run.stdout.split()[-3:] == ["False", "[False]", "True"]

"""The engine factory: migrations to head, SQLite pragmas, indexes, no schema drift."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlmodel import Session, SQLModel

from seat import customers, search
from seat.db import (
    BUSY_TIMEOUT_MS,
    CHECKPOINTS,
    MMAP_BYTES,
    checkpoint,
    current_revision,
    head_revision,
    make_engine,
    session_scope,
)
from seat.models import Customer
from tests.conftest import NOW

TABLES = {"agent", "customer", "phone_number", "call", "callback", "work_order", "complaint"}


sqlite_only = pytest.mark.skipif(
    bool(os.environ.get("SEAT_TEST_POSTGRES_URL")), reason="SQLite pragmas and query plans"
)


def _pragma(engine, name: str):
    with engine.connect() as conn:
        return conn.execute(text(f"PRAGMA {name}")).scalar_one()


def test_new_file_is_migrated_to_head(tmp_path):
    path = tmp_path / "sub" / "dir" / "new.db"  # missing folders are created
    engine = make_engine(f"sqlite:///{path}")
    try:
        assert path.is_file()
        assert head_revision() is not None
        assert current_revision(engine) == head_revision()
        assert TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrate_false_creates_no_tables(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'bare.db'}", migrate=False)
    try:
        assert current_revision(engine) is None
        assert not TABLES & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@sqlite_only
@pytest.mark.parametrize(
    ("pragma", "expected"),
    [
        ("journal_mode", "wal"),
        ("foreign_keys", 1),
        ("busy_timeout", BUSY_TIMEOUT_MS),
        ("mmap_size", MMAP_BYTES),
    ],
)
def test_sqlite_pragmas(engine, pragma, expected):
    assert _pragma(engine, pragma) == expected


@sqlite_only
@pytest.mark.parametrize("read_only", [False, True])
def test_every_connection_reads_through_a_memory_map(engine, read_only):
    """Both kinds of desk read the file through a map: a fresh connection too."""
    url = engine.url.render_as_string(hide_password=False)
    other = make_engine(url, read_only=read_only)
    try:
        other.dispose()
        assert _pragma(other, "mmap_size") == MMAP_BYTES
        assert _pragma(other, "foreign_keys") == 1
    finally:
        other.dispose()


@sqlite_only
def test_busy_timeout_is_positive(engine):
    assert _pragma(engine, "busy_timeout") > 0


@sqlite_only
def test_pragmas_hold_on_every_new_connection(engine):
    engine.dispose()  # drop pooled connections: the next one is fresh
    assert _pragma(engine, "foreign_keys") == 1
    assert _pragma(engine, "journal_mode") == "wal"


def _write_pages(engine, commits: int) -> None:
    """Commits, each writing about a page: 3,000 of them are three logs' worth."""
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS scratch (b TEXT)"))
    for i in range(commits):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO scratch (b) VALUES (:b)"), {"b": f"{i:04d}" * 900})


@sqlite_only
@pytest.mark.parametrize("background", [True, False])
def test_a_save_waits_for_no_checkpoint_the_log_is_copied_in_the_background(
    tmp_path, monkeypatch, background
):
    """With background checkpoints (the seat's screens) no commit copies the log back into
    the file: the file stays as it was until the checkpoint thread copies everything."""
    path = (tmp_path / "seat.db").resolve()
    engine = make_engine(f"sqlite:///{path}", background_checkpoints=background)
    assert CHECKPOINTS.settle()  # the migration's commits copied
    poked: list[str] = []
    real_poke = CHECKPOINTS.poke
    monkeypatch.setattr(CHECKPOINTS, "poke", poked.append)
    try:
        assert _pragma(engine, "wal_autocheckpoint") == (0 if background else 1000)
        size = path.stat().st_size
        _write_pages(engine, 3000)
        if not background:  # SQLite copied it in a commit, as before
            assert path.stat().st_size > size + 8_000_000 and not poked
            return
        assert path.stat().st_size == size  # nothing copied by any commit ...
        assert set(poked) == {str(path)} and len(poked) >= 3000
        real_poke(str(path))  # ... until the thread is told
        assert CHECKPOINTS.settle()
        assert path.stat().st_size > size + 8_000_000
        with engine.connect() as conn:  # every row reads back, from the file or the log
            assert conn.execute(text("SELECT count(*) FROM scratch")).scalar_one() == 3000
    finally:
        engine.dispose()


@sqlite_only
def test_only_a_commit_that_wrote_asks_for_a_checkpoint(tmp_path, monkeypatch):
    """A read's commit copies nothing: the thread is not woken by it (a screen reading every
    few seconds, the bench hundreds of times a second); a write, a trigger's too, wakes it."""
    path = (tmp_path / "seat.db").resolve()
    engine = make_engine(f"sqlite:///{path}", background_checkpoints=True)
    assert CHECKPOINTS.settle()
    poked: list[str] = []
    monkeypatch.setattr(CHECKPOINTS, "poke", poked.append)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE scratch (b TEXT)"))
            conn.execute(text("CREATE TABLE seen (n INTEGER)"))
            conn.execute(text(
                "CREATE TRIGGER scratch_seen AFTER UPDATE ON scratch BEGIN"
                " INSERT INTO seen (n) VALUES (1); END"
            ))  # fmt: skip
            conn.execute(text("INSERT INTO scratch (b) VALUES ('a')"))
        assert poked == [str(path)]
        for __ in range(3):
            with engine.begin() as conn:
                assert conn.execute(text("SELECT count(*) FROM scratch")).scalar_one() == 1
        assert poked == [str(path)]  # three reads: not woken
        with engine.begin() as conn:
            conn.execute(text("UPDATE scratch SET b = 'b' WHERE b = 'z'"))  # no row
        assert len(poked) == 1
        with engine.begin() as conn:
            conn.execute(text("UPDATE scratch SET b = 'b'"))
        assert len(poked) == 2
        with engine.begin() as conn:
            conn.execute(text("SELECT 1"))
        assert len(poked) == 2
    finally:
        engine.dispose()


@sqlite_only
def test_a_checkpoint_never_creates_a_missing_file(tmp_path):
    gone = tmp_path / "gone.db"
    assert checkpoint(str(gone)) is False
    assert not gone.exists()


def test_foreign_keys_are_enforced(engine):
    from sqlalchemy.exc import IntegrityError

    from seat.models import PhoneNumber

    with Session(engine) as s:
        s.add(PhoneNumber(customer_id=12345, e164="+8613800138000"))
        with pytest.raises(IntegrityError):
            s.commit()


@pytest.mark.parametrize(
    ("table", "index", "columns", "unique"),
    [
        ("phone_number", "ix_phone_number_e164", ["e164"], False),  # a family's landline
        ("phone_number", "ix_phone_number_customer_e164", ["customer_id", "e164"], True),
        ("callback", "ix_callback_owner_status_due", ["owner_id", "status", "due_at"], False),
        (
            "work_order",
            "ix_work_order_assignee_status",
            ["assignee_id", "status", "urgent", "due_at"],
            False,
        ),
        ("call", "ix_call_customer_started", ["customer_id", "started_at"], False),
        ("agent", "ix_agent_name", ["name"], True),
    ],
)
def test_expected_indexes_exist(engine, table, index, columns, unique):
    found = {ix["name"]: ix for ix in inspect(engine).get_indexes(table)}
    assert index in found
    assert found[index]["column_names"] == columns
    assert bool(found[index]["unique"]) is unique


@sqlite_only
def test_caller_lookup_uses_the_e164_index(engine):
    with engine.connect() as conn:
        plan = conn.execute(
            text("EXPLAIN QUERY PLAN SELECT customer_id FROM phone_number WHERE e164 = :n"),
            {"n": "+8613800138000"},
        ).all()
    assert any("ix_phone_number_e164" in str(row) for row in plan)


def test_make_engine_twice_is_harmless_and_keeps_data(tmp_path):
    url = f"sqlite:///{tmp_path / 'twice.db'}"
    first = make_engine(url)
    with session_scope(first) as s:
        customers.create_customer(session=s, now=NOW, name="Wang Fang", phone_text="138 0013 8000")
    first.dispose()
    second = make_engine(url)
    third = make_engine(url)  # a second seat opening the same file
    try:
        assert current_revision(second) == head_revision()
        with Session(third) as s:
            assert customers.count_customers(session=s) == 1
            hit = customers.find_by_phone(session=s, e164="+8613800138000")
            assert hit is not None and hit.name == "Wang Fang"
    finally:
        second.dispose()
        third.dispose()


def test_session_scope_commits_or_rolls_back(engine):
    with session_scope(engine) as s:
        customers.create_customer(session=s, now=NOW, name="Kept", phone_text="13800138000")
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        customers.create_customer(session=s, now=NOW, name="Lost", phone_text="13900000000")
        raise RuntimeError("boom")
    with Session(engine) as s:
        assert s.execute(select(Customer.name)).scalars().all() == ["Kept"]


def test_datetimes_come_back_aware_in_utc(engine):
    with session_scope(engine) as s:
        c = customers.create_customer(
            session=s, now=NOW + timedelta(hours=1), name="A", phone_text="13800138000"
        )
        cid = c.id
    with Session(engine) as s:
        stored = s.get(Customer, cid)
        assert stored.created_at == NOW + timedelta(hours=1)
        assert stored.created_at.utcoffset() == timedelta(0)


# SQLite's index of purchase times in whole seconds (migration 0043) is on an expression:
# SQLAlchemy does not reflect it (it says so), no model describes it.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_no_drift_between_models_and_migrations(engine):
    import seat.models  # noqa: F401  (registers the tables on SQLModel.metadata)

    with engine.connect() as conn:
        # The search index (an FTS5 table and its triggers, pg_trgm indexes) is the
        # migration's alone: no model describes it.
        context = MigrationContext.configure(
            conn,
            opts={"include_name": lambda name, *_a: name not in search.SCHEMA_EXTRAS},
        )
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_mostly_empty_columns_are_indexed_where_they_have_a_value(engine):
    """The migrated indexes carry the models' WHERE (compare_metadata does not look at it),
    and a lookup by value uses them even when nearly every row is NULL."""
    from sqlalchemy import inspect, text

    import seat.models as models

    partial = {
        ix.name: (table.name, str(ix.dialect_options["sqlite"]["where"]))
        for table in SQLModel.metadata.tables.values() for ix in table.indexes
        if ix.dialect_options["sqlite"]["where"] is not None
    }  # fmt: skip
    assert set(partial) >= {"ix_call_callback_id", "ix_call_call_ref", "ix_callback_complaint_id",
                            "ix_callback_work_order_id", "ix_work_order_work_center"}  # fmt: skip
    assert models.set_only("x", "y").dialect_options["postgresql"]["where"] is not None
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            sql = dict(conn.execute(text("select name, sql from sqlite_master where type='index'")
                                    ).all())  # fmt: skip
        else:
            sql = dict(conn.execute(text("select indexname, indexdef from pg_indexes")).all())
        for name, (table, where) in partial.items():
            assert name in {i["name"] for i in inspect(conn).get_indexes(table)}
            column = where.split()[0]
            assert f"{column} IS NOT NULL" in sql[name].replace("(", "").replace(")", ""), name
        if conn.dialect.name == "sqlite":
            conn.execute(text("create table t (id integer primary key, v integer, k text)"))
            conn.execute(text("create index t_k on t (k)"))
            conn.execute(text("create index t_v on t (v) where v is not null"))
            conn.execute(text(
                "with recursive n(i) as (select 1 union all select i + 1 from n where i < 20000)"
                " insert into t (v, k) select case when i % 1000 = 0 then i end, 'a' from n"
            ))  # fmt: skip
            conn.execute(text("analyze t"))
            plan = " ".join(str(r) for r in conn.execute(
                text("explain query plan select * from t where v = 5000 and k = 'a'")))  # fmt: skip
            assert "t_v" in plan


def test_upgrade_from_first_version_keeps_a_desks_data(tmp_path):
    """A desk created on revision 0001 keeps its rows through every later migration."""
    from alembic import command
    from sqlalchemy import text

    from seat.db import _alembic_config, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}", migrate=False)
    upgrade(engine, "0001")
    with engine.begin() as c:
        c.execute(
            text(
                "insert into agent(name, display_name, role, active) "
                "values ('li.na', 'Li Na', 'agent', 1)"
            )
        )
        c.execute(
            text(
                "insert into customer(name, tier, language, created_at, updated_at) "
                "values ('Wang Fang', 'vip', 'en', '2026-01-01', '2026-01-01')"
            )
        )
        c.execute(
            text(
                "insert into work_order(kind, short_text, long_text, customer_id, reporter,"
                " status, urgent, due_at, created_at) values ('service_request', 'Leak',"
                " '', 1, '', 'created', 0, '2026-01-02', '2026-01-01')"
            )
        )
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as c:
        assert c.execute(text("select short_text, version from work_order")).one() == ("Leak", 1)
    command.downgrade(_alembic_config(engine), "0001")
    upgrade(engine)
    with engine.connect() as c:
        assert c.execute(text("select name from customer")).scalar_one() == "Wang Fang"
        assert c.execute(text("pragma foreign_key_check")).all() == []
        assert c.execute(text("pragma foreign_keys")).scalar_one() == 1


# -- start-up: Alembic only when the stored revision is not the head ------------------------


def test_head_from_files_matches_alembic():
    from seat.db import head_from_files

    assert head_from_files() == head_revision()


@pytest.mark.parametrize(
    ("scripts", "head"),
    [
        ({"a.py": 'revision = "1"\ndown_revision = None\n'}, "1"),
        (
            {
                "a.py": "revision = '1'\ndown_revision = None\n",
                "b.py": "revision: str = '2'\ndown_revision: str | None = '1'\n",
            },
            "2",
        ),
        (  # two branches: Alembic decides
            {
                "a.py": "revision = '1'\ndown_revision = None\n",
                "b.py": "revision = '2'\ndown_revision = '1'\n",
                "c.py": "revision = '3'\ndown_revision = '1'\n",
            },
            None,
        ),
        (  # a merge names both parents
            {
                "a.py": "revision = '1'\ndown_revision = None\n",
                "b.py": "revision = '2'\ndown_revision = '1'\n",
                "c.py": "revision = '3'\ndown_revision = '1'\n",
                "d.py": "revision = '4'\ndown_revision = ('2', '3')\n",
            },
            "4",
        ),
        ({"a.py": "print('no revision here')\n"}, None),
    ],
)
def test_head_from_files_reads_the_chain(tmp_path, scripts, head):
    from seat.db import head_from_files

    for name, body in scripts.items():
        (tmp_path / name).write_text(body)
    assert head_from_files.__wrapped__(tmp_path) == head


def test_a_database_at_head_is_not_handed_to_alembic(tmp_path, monkeypatch):
    import seat.db

    url = f"sqlite:///{tmp_path / 'at_head.db'}"
    make_engine(url).dispose()
    calls: list[str] = []
    monkeypatch.setattr(seat.db, "upgrade", lambda engine, revision="heads": calls.append(revision))
    engine = make_engine(url)
    try:
        assert calls == []
        assert seat.db.stored_revisions(engine) == {head_revision()}
    finally:
        engine.dispose()


def test_an_older_database_is_upgraded_on_start(tmp_path):
    from seat.db import stored_revisions, upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url, migrate=False)
    assert stored_revisions(engine) is None  # no alembic_version table yet
    upgrade(engine, "0003")
    engine.dispose()
    engine = make_engine(url)
    try:
        assert stored_revisions(engine) == {head_revision()}
    finally:
        engine.dispose()


def test_a_prepared_statement_reads_what_the_core_statement_reads(engine, world):
    """seat.db.Prepared (driver level, compiled once per dialect) with stored_at gives the
    rows and times the Core statement gives, on either backend: an IN of constants, a
    datetime parameter (its bind processor), microseconds and times entered in another zone."""
    from datetime import timezone

    from sqlalchemy import bindparam

    from seat.db import Prepared, stored_at
    from seat.models import Callback

    shanghai = timezone(timedelta(hours=8))
    with Session(engine) as s:
        for i, at in enumerate([NOW + timedelta(microseconds=7), NOW.astimezone(shanghai),
                                NOW - timedelta(days=400, seconds=1), NOW + timedelta(hours=5)]):
            s.add(Callback(customer_id=world["fang"], owner_id=world["li"], reason=f"r{i}",
                           due_at=at, created_at=NOW, status="done" if i == 2 else "open",
                           done_at=NOW + timedelta(microseconds=3) if i == 2 else None))
        s.commit()
    stmt = (
        select(Callback.id, Callback.due_at, Callback.reason, Callback.done_at)
        .where(
            Callback.owner_id == bindparam("owner"),
            Callback.status.in_(("open", "done")),
            Callback.due_at < bindparam("until"),
        )
        .order_by(Callback.due_at, Callback.id)
    )
    prepared = Prepared(stmt)
    for until in (NOW + timedelta(hours=1), NOW + timedelta(days=1), NOW - timedelta(days=1)):
        for owner in (world["li"], world["wang"]):
            args = {"owner": owner, "until": until}
            with Session(engine) as s:
                core = [tuple(r) for r in s.execute(stmt, args)]
                raw = [(r[0], stored_at(r[1]), r[2], stored_at(r[3]))
                       for r in prepared.execute(s.connection(), args)]  # fmt: skip
            assert raw == core
            assert all(r[1].utcoffset() == timedelta(0) for r in raw)
    assert len(core) == 0 and len(raw) == 0  # wang: none
    with Session(engine) as s:
        soon = NOW + timedelta(seconds=1)
        mine = prepared.execute(s.connection(), {"owner": world["li"], "until": soon})
        assert {r[2] for r in mine} >= {"r1", "r2"}  # another zone, done


@pytest.mark.parametrize(
    "value",
    [
        "2026-12-04 10:00:00.123456", "2026-12-04 10:00:00", "2026-12-04T10:00:00",
        "2026-12-04 10:00:00+08:00", "2026-12-04T10:00:00Z", "2026-12-04", "2026-12-04 10",
        datetime(2026, 1, 1, 9, 30), datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=3))),
        None,
    ],
)  # fmt: skip
def test_stored_at_reads_every_form_as_utc(value):
    """stored_at's fast parse (the text read as UTC by the parser) gives what parsing and
    then setting or converting to UTC gave, offsets of the text's own included."""
    from seat.db import stored_at

    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    expected = None if at is None else (
        at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC))  # fmt: skip
    got = stored_at(value)
    assert got == expected
    assert got is None or got.tzinfo is UTC


def test_insert_many_stores_what_sqlalchemys_insert_stores(engine):
    """seat.db.insert_many (one driver-level executemany): the same stored values as
    SQLAlchemy's INSERT of the same rows, the left-out columns' defaults included."""
    from sqlalchemy import insert

    from seat.db import insert_many
    from seat.models import Callback
    from tests.conftest import populate

    ids = populate(engine)
    due = NOW + timedelta(days=2, microseconds=123456)
    table = Callback.__table__

    def rows(tag: str) -> list[dict]:
        return [
            {"customer_id": ids["fang"], "owner_id": ids["li"], "reason": f"r{i}",
             "due_at": due + timedelta(hours=i), "created_at": NOW,
             "source_key": f"{tag}:{i}", "zones": None, "customer_tier": "gold"}
            for i in range(3)
        ]  # fmt: skip

    with session_scope(engine) as s:
        conn = s.connection()
        conn.execute(insert(table), rows("orm"))
        insert_many(conn, table, rows("raw"))
    with Session(engine) as s:
        got = {
            r.source_key: r
            for r in s.execute(select(Callback).where(Callback.source_key.is_not(None)))
            .scalars()
        }
    skip = {"id", "source_key"}
    for i in range(3):
        orm, raw = got[f"orm:{i}"], got[f"raw:{i}"]
        assert {c: getattr(raw, c) for c in table.c.keys() if c not in skip} == {
            c: getattr(orm, c) for c in table.c.keys() if c not in skip
        }
        assert raw.kind == "manual" and raw.status == "open" and raw.version == 1
        assert raw.due_at == due + timedelta(hours=i)


def test_pause_waits_without_time_sleep(monkeypatch):
    """Backoffs and the checkpoint thread wait on an event, not time.sleep: under libfaketime
    (seats tried at a chosen hour) clock_nanosleep fails with EINVAL and killed the thread."""
    import time

    from seat import db

    def refused(_seconds):
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(time, "sleep", refused)
    started = time.monotonic()
    db.pause(0.05)
    assert time.monotonic() - started >= 0.04


@sqlite_only
def test_the_checkpoint_thread_outlives_a_failure(tmp_path, monkeypatch):
    """Whatever fails in a checkpoint, the thread carries on and says nothing on the terminal."""
    from seat import db

    path = (tmp_path / "seat.db").resolve()
    engine = make_engine(f"sqlite:///{path}", background_checkpoints=True)
    try:
        assert CHECKPOINTS.settle()
        calls: list[str] = []

        def broken(p: str) -> bool:
            calls.append(p)
            raise RuntimeError("boom")

        monkeypatch.setattr(db, "checkpoint", broken)
        CHECKPOINTS.poke(str(path))
        assert CHECKPOINTS.settle() and calls == [str(path)]
        monkeypatch.undo()
        _write_pages(engine, 10)
        assert CHECKPOINTS.settle()
        assert CHECKPOINTS._thread is not None and CHECKPOINTS._thread.is_alive()
    finally:
        engine.dispose()


@pytest.mark.parametrize("listened", [False, True])
def test_prepared_rows_read_what_the_core_statement_reads(engine, world, listened):
    """Prepared.rows (the driver's cursor, no SQLAlchemy result; through exec_driver_sql
    while a listener counts statements) gives the rows SQLAlchemy gives, texts cleaned the
    same way: control characters, bidirectional overrides, line breaks, a text that is not
    UTF-8 (SQLite), NULLs, numbers and texts in one column; and its errors are SQLAlchemy's."""
    from sqlalchemy import bindparam, event, literal_column
    from sqlalchemy.exc import DBAPIError

    from seat.db import Prepared, PreparedIds
    from seat.models import Callback

    reasons = ["plain", "esc \x1b[31mred", "bidi \u202eevil", "two\nlines", "tab\there",
               "中文 ok", "", "del \x7f", "c1 \x85 next"]  # fmt: skip
    with Session(engine) as s:
        ids = []
        for reason in reasons:
            cb = Callback(customer_id=world["fang"], owner_id=world["li"], reason="x",
                          due_at=NOW, created_at=NOW)  # fmt: skip
            s.add(cb)
            s.flush()
            # written around the write guard, as another tool would
            s.execute(text("UPDATE callback SET reason = :r WHERE id = :i"),
                      {"r": reason, "i": cb.id})  # fmt: skip
            ids.append(cb.id)
        if engine.dialect.name == "sqlite":
            s.execute(text("UPDATE callback SET reason = CAST(X'62616420ff' AS TEXT) "
                           "WHERE id = :i"), {"i": ids[0]})  # fmt: skip
        s.commit()
    stmt = (
        select(Callback.id, Callback.reason, Callback.done_at, Callback.attempts,
               literal_column("NULL").label("empty"))
        .where(Callback.owner_id == bindparam("owner"))
        .order_by(Callback.id)
    )  # fmt: skip
    seen: list[str] = []

    def count(_conn, _cur, sql, *_args):  # noqa: ANN001, ANN002
        seen.append(sql)

    if listened:
        event.listen(engine, "before_cursor_execute", count)
    try:
        with Session(engine) as s:
            core = [tuple(r) for r in s.execute(stmt, {"owner": world["li"]})]
            seen.clear()
            rows = Prepared(stmt).rows(s.connection(), {"owner": world["li"]})
            by_ids = PreparedIds(
                lambda ins: select(Callback.id, Callback.reason).where(Callback.id.in_(ins))
                .order_by(Callback.id)
            ).rows(s.connection(), ids)  # fmt: skip
    finally:
        if listened:
            event.remove(engine, "before_cursor_execute", count)
    assert [tuple(r) for r in rows] == core
    assert [tuple(r) for r in by_ids] == [(r[0], r[1]) for r in core if r[0] in ids]
    assert all(type(r) is tuple for r in rows)
    # a text that is not UTF-8 has each statement read again by the factory (SQLite)
    assert len(seen) == (0 if not listened else 4 if engine.dialect.name == "sqlite" else 2)
    texts = {r[1] for r in rows}
    assert not any("\x1b" in t or "\u202e" in t or "\x7f" in t for t in texts)
    if engine.dialect.name == "sqlite":
        assert "bad \ufffd" in texts
    wrong = select(literal_column("nosuch"))
    with Session(engine) as s, pytest.raises(DBAPIError) as core_error:
        s.execute(wrong)
    with Session(engine) as s, pytest.raises(DBAPIError) as ours:
        Prepared(wrong).rows(s.connection(), {})
    assert type(ours.value) is type(core_error.value)
    assert type(ours.value.orig) is type(core_error.value.orig)


def test_plain_texts_mixed_columns_are_cleaned_as_the_factory_cleans():
    """A column of numbers and texts (SQLite's types are the values'): each text as the
    connection's factory would give it."""
    from seat.db import _plain_texts
    from seat.textguard import _sqlite_text

    rows = [(1, "a\x1bb", None, 2.5), ("x\u202ey", "ok", "fine", None), (3, None, "c", "t")]
    want = [tuple(_sqlite_text(v.encode()) if type(v) is str else v for v in r) for r in rows]
    assert _plain_texts(rows, _sqlite_text) == want
    clean_rows = [(1, "a", None), ("b", "c", 2), (0, "", b"\x01")]
    assert _plain_texts(clean_rows, _sqlite_text) is clean_rows


@pytest.mark.parametrize("where", [0, 1, 2])
def test_plain_texts_find_every_character_the_factory_cleans(where):
    """Every ASCII character, and unprintable ones beyond (a line separator, a soft hyphen,
    a zero-width joiner, a bidi isolate, C1), alone in a column of clean texts, of numbers
    and texts, of Chinese: the rows are what the factory gives value by value."""
    from seat.db import _plain_texts
    from seat.textguard import _sqlite_text

    odd = [chr(c) for c in range(128)] + ["\u2028", "\u00ad", "\u200d", "\u2066", "\x85"]
    fillers = (["2026-12-04 10:00:00.000000", None], ["created", 7], ["王芳", None])
    for ch in odd:
        rows = [(1, f"a{ch}b" if i == 3 else fillers[where][i % 2]) for i in range(6)]
        want = [tuple(_sqlite_text(v.encode()) if type(v) is str else v for v in r)
                for r in rows]  # fmt: skip
        assert _plain_texts(rows, _sqlite_text) == want, repr(ch)

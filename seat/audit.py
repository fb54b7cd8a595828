"""Tamper-evident history: every history row carries a hash chained to the row before it.

The database already refuses UPDATE and DELETE on the history tables (migration 0006), but
whoever can write the file (or owns the tables on PostgreSQL) can drop a trigger, or on
SQLite slip a row past them with INSERT OR REPLACE. Each row therefore stores
`prev_hash` (the hash of the row before it in the same table, by id) and
`hash = sha256(prev_hash, table, the row's content)`. Rewriting, replacing or removing a
row breaks the chain at that row, and `seat audit verify` names the first broken link.

Rows written through the ORM are sealed in `before_flush` (one listener for every history
model); bulk inserts (the demo seeder) call `chain_rows`. On PostgreSQL a transaction-scoped
advisory lock per table keeps two seats from chaining onto the same row; SQLite serialises
writers by itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm.attributes import instance_state

GENESIS = "0" * 64
HISTORY_TABLES: tuple[str, ...] = (
    "complaint_event", "work_order_event", "callback_event", "customer_change", "access_log",
    "sign_in_event",
)  # fmt: skip
"""The sealed history tables, by name (their place here is their lock's key: keep the order).
Named, not read from the mapped classes: make_engine installs the sealing before a seat's
desk is drawn, before the mapped tables exist (seat.lazy)."""
# The sealed content of each table, fixed here (not read from the models) so that a column a
# later migration adds cannot change the hash of rows written before it.
SEALED_COLUMNS: dict[str, tuple[str, ...]] = {
    "complaint_event": (
        "complaint_id", "agent_id", "at", "action", "from_status", "to_status", "comment"
    ),
    "work_order_event": (
        "work_order_id", "agent_id", "at", "action", "from_status", "to_status", "comment"
    ),
    "callback_event": ("callback_id", "agent_id", "at", "action", "comment"),
    "customer_change": ("customer_id", "agent_id", "at", "field", "old", "new"),
    "access_log": ("agent_id", "customer_id", "at", "what", "reason"),
    "sign_in_event": ("agent_id", "login", "at", "outcome", "via"),
}
# A stable 64-bit key per table for pg_advisory_xact_lock.
_LOCK_BASE = 0x5EA7_0000


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "value"):  # an enum stored as its value
        return value.value
    return value


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""json.dumps(..., ensure_ascii=False, separators=(",", ":")), made once (json.dumps makes
an encoder at every call given options: a bulk seal of thousands of rows made as many)."""


def row_hash(prev_hash: str, table: str, content: dict[str, Any]) -> str:
    """The hash that seals one history row after `prev_hash`."""
    cols = SEALED_COLUMNS[table]
    return _sealed(prev_hash, table, [[c, _canonical(content.get(c))] for c in cols])


def _sealed(prev_hash: str, table: str, canonical: list[list[Any]]) -> str:
    body = _ENCODER.encode([table, prev_hash, canonical])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _lock(conn: Connection, table: str) -> None:
    if conn.dialect.name == "postgresql":
        key = _LOCK_BASE + HISTORY_TABLES.index(table)
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def last_hash(conn: Connection, table: str) -> str:
    """The hash of the newest sealed row of `table` (the genesis value for an empty table)."""
    row = conn.execute(
        text(f"SELECT hash FROM {table} WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1")
    ).first()
    return row[0] if row else GENESIS


_TEXT = json.encoder.encode_basestring
"""How _ENCODER writes a text (ensure_ascii=False): the same function its C encoder calls."""


def _json(value: Any) -> str:
    """_ENCODER.encode(value) of a canonical value: a text, None and an int written here
    (as the encoder writes them: an int by int.__repr__, so a bool is not one), anything
    else by the encoder."""
    kind = type(value)
    if kind is str:
        return _TEXT(value)
    if value is None:
        return "null"
    if kind is int:
        return int.__repr__(value)
    return _ENCODER.encode(value)


def chain_rows(conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """Seal rows about to be bulk-inserted into `table`, in the order given (that order must
    be the order of their ids).

    Each row's body is the text `_sealed` encodes (`[table, prev_hash, [[column, value],
    ...]]` without spaces), put together from the JSON of each value: the constant parts
    written once per bulk, a time once per instant (the callback rules seal 4,000 events a
    day, each a nested list given to the encoder cost a third more)."""
    if not rows:
        return
    _lock(conn, table)
    prev = last_hash(conn, table)
    cols = SEALED_COLUMNS[table]
    head = "[" + _TEXT(table) + ","
    named = [("[" + _TEXT(c) + ",", c) for c in cols]
    times: dict[datetime, str] = {}  # a bulk's rows share their time: written once
    for row in rows:
        parts = []
        for name, c in named:
            value = row.get(c)
            if isinstance(value, datetime):
                known = times.get(value)
                if known is None:
                    known = times[value] = _TEXT(_canonical(value))
                parts.append(name + known + "]")
            else:
                parts.append(name + _json(_canonical(value)) + "]")
        row["prev_hash"] = prev
        body = head + _TEXT(prev) + ",[" + ",".join(parts) + "]]"
        row["hash"] = prev = hashlib.sha256(body.encode("utf-8")).hexdigest()


def _seal_new_rows(session: OrmSession, _flush_context: Any, _instances: Any) -> None:
    pending: dict[str, list[Any]] = {}
    for obj in session.new:
        table = getattr(type(obj), "__tablename__", None)
        if table in SEALED_COLUMNS and getattr(obj, "hash", None) is None:
            pending.setdefault(table, []).append(obj)
    if not pending:
        return
    conn = session.connection()
    for table, objs in pending.items():
        objs.sort(key=lambda o: instance_state(o).insert_order or 0)
        _lock(conn, table)
        prev = last_hash(conn, table)
        for obj in objs:
            content = {c: getattr(obj, c, None) for c in SEALED_COLUMNS[table]}
            obj.prev_hash = prev
            obj.hash = prev = row_hash(prev, table, content)


def history_models() -> dict[str, Any]:
    """The mapped class of each history table, by name."""
    from seat import models

    found = (models.ComplaintEvent, models.WorkOrderEvent, models.CallbackEvent,
             models.CustomerChange, models.AccessLog, models.SignInEvent)  # fmt: skip
    return {m.__tablename__: m for m in found}  # type: ignore[attr-defined]


_installed = False


def install() -> None:
    """Seal history rows on every ORM flush (idempotent; called by make_engine)."""
    global _installed
    if not _installed:
        event.listen(OrmSession, "before_flush", _seal_new_rows)
        _installed = True


# Why a link is broken.
UNSEALED = "unsealed"  # a row without a hash: written around the seat
CHAIN = "chain"  # the row before it was changed, replaced or removed
CONTENT = "content"  # this row's own content was changed


@dataclass(frozen=True)
class BrokenLink:
    table: str
    row_id: int
    reason: str


@dataclass(frozen=True)
class TableCheck:
    table: str
    rows: int
    broken: BrokenLink | None


def _rows(conn: Connection, table: str) -> Iterator[dict[str, Any]]:
    t = history_models()[table].__table__
    cols = [t.c[name] for name in ("id", "prev_hash", "hash", *SEALED_COLUMNS[table])]
    result = conn.execute(select(*cols).order_by(t.c.id), execution_options={"yield_per": 5000})
    for row in result.mappings():
        yield dict(row)


def verify_table(conn: Connection, table: str) -> TableCheck:
    """Walk one history table by id and report its first broken link."""
    prev = GENESIS
    count = 0
    for row in _rows(conn, table):
        count += 1
        if row["hash"] is None or row["prev_hash"] is None:
            return TableCheck(table, count, BrokenLink(table, row["id"], UNSEALED))
        if row["prev_hash"] != prev:
            return TableCheck(table, count, BrokenLink(table, row["id"], CHAIN))
        if row_hash(prev, table, row) != row["hash"]:
            return TableCheck(table, count, BrokenLink(table, row["id"], CONTENT))
        prev = row["hash"]
    return TableCheck(table, count, None)


def verify(conn: Connection, tables: Iterable[str] = HISTORY_TABLES) -> list[TableCheck]:
    return [verify_table(conn, t) for t in tables]


def seal_existing(conn: Connection, table: str) -> int:
    """Seal every unsealed row of `table` in id order (migration 0008: rows from before the
    chain existed). The append-only triggers must be off while it runs."""
    prev = GENESIS
    sealed = 0
    updates: list[dict[str, Any]] = []
    for row in list(_rows(conn, table)):
        if row["hash"] is None or row["prev_hash"] != prev:
            row["prev_hash"] = prev
            row["hash"] = row_hash(prev, table, row)
            updates.append({"i": row["id"], "p": row["prev_hash"], "h": row["hash"]})
            sealed += 1
        prev = row["hash"]
    if updates:
        conn.execute(text(f"UPDATE {table} SET prev_hash = :p, hash = :h WHERE id = :i"), updates)
    return sealed

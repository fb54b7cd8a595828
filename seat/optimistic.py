"""The one optimistic check: claim a row's next version with a conditional UPDATE.

Comparing versions in Python is not enough: two transactions can both read version v and
both write (PostgreSQL's READ COMMITTED lets the second UPDATE through once the first
commits). `UPDATE … SET version = version + 1 WHERE id = :id AND version = :v` lets the
database decide: the second writer matches no row and is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session


def claim_version(session: Session, row: Any, refused: Callable[[], Exception]) -> None:
    """Move `row` (a table with `id` and `version`) to its next version, or raise refused().

    The version compared is the one this transaction read; after the claim the object shows
    the new version without marking it changed (the ORM writes it no second time).
    """
    table = type(row)
    claimed = session.execute(
        update(table)
        .where(table.id == row.id, table.version == row.version)
        .values(version=table.version + 1)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise refused()
    set_committed_value(row, "version", row.version + 1)

"""Merge duplicate customers: a supervisor moves everything of one customer to another.

Every row that names the merged-away customer (`other`) by a foreign key moves to the
survivor: phone numbers, calls, callbacks, work orders, complaints, suggestions, purchases
(`MOVED`; `KEPT` names the few that stay, and tests/unit/test_merge.py fails when a new
customer foreign key is in neither). A number both have is kept once (the survivor's). The
survivor keeps its own fields; an empty one is filled from the other's (`FILLED`). The other
stays as a tombstone (`Customer.merged_into_id`, `merged_at`): never deleted, so its history
stays auditable, and hidden from search and the caller lookup.

The merge is one line in the change history of each (who, when, whom, what moved and how
many: `merged_from` on the survivor, `merged_into` on the tombstone), sealed like every
history row (seat.audit), plus one line per field filled. Both customers' next versions are
claimed with a conditional UPDATE (seat.optimistic) in id order: a merge or an edit that
another seat committed meanwhile refuses this one (StaleCustomer), and two supervisors
merging the same pair crosswise cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlmodel import Session, SQLModel

from seat import customers, labels, roles
from seat.errors import StaleCustomer, ValidationError
from seat.i18n import _
from seat.models import (
    Agent,
    Call,
    Callback,
    Complaint,
    Customer,
    CustomerChange,
    PhoneNumber,
    Purchase,
    Suggestion,
    WorkOrder,
)
from seat.optimistic import claim_version

MOVED: tuple[tuple[type[SQLModel], str], ...] = (
    (PhoneNumber, "customer_id"),
    (Call, "customer_id"),
    (Callback, "customer_id"),
    (WorkOrder, "customer_id"),
    (Complaint, "customer_id"),
    (Suggestion, "customer_id"),
    (Purchase, "customer_id"),
)
"""(table, column): the rows that move to the survivor, in the order the plan names them."""

KEPT: dict[tuple[str, str], str] = {
    ("customer_change", "customer_id"): "append-only history: stays with the record it tells",
    ("access_log", "customer_id"): "append-only audit of reveals: stays with its record",
}
"""(table, column) of customer foreign keys that a merge leaves where they are, and why."""

FILLED = ("gender", "birthday", "occupation", "address", "second_address", "owner_id")
"""The survivor's fields filled from the other when the survivor's is empty."""

MERGED_FROM = "merged_from"
MERGED_INTO = "merged_into"
DUPLICATES = "duplicate_numbers"
"""The key of the numbers both had (kept once) in a plan's counts."""


@dataclass(frozen=True)
class MergePlan:
    """What a merge moves: asked before (the confirmation) and returned after."""

    survivor_id: int
    survivor_name: str
    other_id: int
    other_name: str
    counts: tuple[tuple[str, int], ...]
    """(table, rows moved) for each of MOVED, and DUPLICATES: numbers kept once."""
    filled: tuple[str, ...]
    """The survivor's empty fields the other's fill."""

    def count(self, key: str) -> int:
        return dict(self.counts).get(key, 0)

    @property
    def moved(self) -> int:
        """Rows that move (a duplicate number is not one of them: it is dropped)."""
        return sum(n for key, n in self.counts if key != DUPLICATES)

    def lines(self) -> list[str]:
        """What the merge does, in the current language, one line each: who goes into whom,
        the rows that move, the fields filled."""
        out = [
            _("Customer #{other} {other_name} will be merged into #{survivor} "
              "{survivor_name} and kept only as a record of the merge.").format(
                other=self.other_id, other_name=self.other_name,
                survivor=self.survivor_id, survivor_name=self.survivor_name,
            )
        ]  # fmt: skip
        moved = [
            _("{what}: {n}").format(what=labels.label(labels.MERGE_COUNTS, key), n=n)
            for key, n in self.counts if n
        ]  # fmt: skip
        out.append(
            _("Moves: {what}").format(what=_(", ").join(moved)) if moved
            else _("Nothing to move.")
        )  # fmt: skip
        if self.filled:
            out.append(_("Fills in: {fields}").format(
                fields=_(", ").join(labels.label(labels.MERGE_FIELDS, f) for f in self.filled)
            ))  # fmt: skip
        return out

    def summary(self) -> str:
        """The counts as the history stores them: "phone_number=2 call=3 duplicate_numbers=1",
        without zeros (language-neutral; the card words them with `describe`)."""
        return " ".join(f"{key}={n}" for key, n in self.counts if n)


def customer_foreign_keys() -> set[tuple[str, str]]:
    """(table, column) of every foreign key to `customer` the models declare."""
    found: set[tuple[str, str]] = set()
    for table in SQLModel.metadata.tables.values():
        for fk in table.foreign_keys:
            if fk.column.table.name == Customer.__tablename__:
                found.add((table.name, fk.parent.name))
    return found


def _table_name(model: type[SQLModel]) -> str:
    return model.__tablename__  # type: ignore[attr-defined,return-value]


def _shared_numbers(session: Session, survivor_id: int, other_id: int) -> list[int]:
    """The other's phone rows whose number the survivor has too (dropped by the merge)."""
    mine = select(PhoneNumber.e164).where(PhoneNumber.customer_id == survivor_id)
    return list(
        session.execute(
            select(PhoneNumber.id).where(
                PhoneNumber.customer_id == other_id, PhoneNumber.e164.in_(mine)
            )
        ).scalars()
    )


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def plan(session: Session, *, survivor_id: int, other_id: int) -> MergePlan:
    """What merging `other_id` into `survivor_id` would move. ValidationError: a customer not
    on file, the same customer twice, or one already merged."""
    if survivor_id == other_id:
        raise ValidationError({"customer": _("A customer cannot be merged into itself.")})
    survivor = customers.in_use(session, survivor_id)
    other = customers.in_use(session, other_id)
    duplicates = len(_shared_numbers(session, survivor_id, other_id))
    counts: list[tuple[str, int]] = []
    for model, column in MOVED:
        col = getattr(model, column)
        n = session.execute(select(func.count()).select_from(model).where(col == other_id))
        moved = n.scalar_one()
        if model is PhoneNumber:
            moved -= duplicates
        counts.append((_table_name(model), moved))
    counts.append((DUPLICATES, duplicates))
    filled = tuple(
        f for f in FILLED if _empty(getattr(survivor, f)) and not _empty(getattr(other, f))
    )
    return MergePlan(
        survivor_id=survivor_id, survivor_name=survivor.name, other_id=other_id,
        other_name=other.name, counts=tuple(counts), filled=filled,
    )  # fmt: skip


def _shown(session: Session, field: str, value: Any) -> str | None:
    """A filled field's value as the change history keeps it."""
    if value is None:
        return None
    if field == "owner_id":
        agent = session.get(Agent, value)
        return agent.name if agent is not None else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:500]


def merge(
    session: Session, *, survivor_id: int, other_id: int, agent_id: int, now: datetime
) -> MergePlan:
    """Merge `other_id` into `survivor_id` (supervisors only: PermissionDenied) in the
    caller's transaction; what moved. StaleCustomer when another seat changed either
    customer meanwhile (nothing is written: the transaction is the caller's to roll back)."""
    agent = session.get(Agent, agent_id)
    roles.require(agent if agent is not None and agent.active else None, roles.MERGE_CUSTOMERS)
    done = plan(session, survivor_id=survivor_id, other_id=other_id)
    survivor = session.get(Customer, survivor_id)
    other = session.get(Customer, other_id)
    assert survivor is not None and other is not None  # plan() read both
    for row in sorted((survivor, other), key=lambda c: c.id or 0):
        claim_version(session, row, lambda row=row: StaleCustomer(row.id))  # type: ignore[misc]

    # What moves is counted again under the claim: a row another seat added for the other
    # since the plan was read moves too, and is counted.
    dropped = _shared_numbers(session, survivor_id, other_id)
    if dropped:
        session.execute(delete(PhoneNumber).where(PhoneNumber.id.in_(dropped)))
    counts: list[tuple[str, int]] = []
    for model, column in MOVED:
        col = getattr(model, column)
        moved = session.execute(
            update(model).where(col == other_id).values({column: survivor_id})
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        counts.append((_table_name(model), moved))
    counts.append((DUPLICATES, len(dropped)))
    done = replace(done, counts=tuple(counts))

    lines: list[CustomerChange] = []
    for field in done.filled:
        value = getattr(other, field)
        setattr(survivor, field, value)
        lines.append(CustomerChange(
            customer_id=survivor_id, agent_id=agent_id, at=now,
            field="owner" if field == "owner_id" else field, old=None,
            new=_shown(session, field, value),
        ))  # fmt: skip
    what = done.summary()
    lines.append(CustomerChange(
        customer_id=survivor_id, agent_id=agent_id, at=now, field=MERGED_FROM,
        old=None, new=f"#{other_id} {what}".strip(),
    ))  # fmt: skip
    lines.append(CustomerChange(
        customer_id=other_id, agent_id=agent_id, at=now, field=MERGED_INTO,
        old=None, new=f"#{survivor_id} {what}".strip(),
    ))  # fmt: skip
    survivor.updated_at = now
    other.merged_into_id = survivor_id
    other.merged_at = now
    other.updated_at = now
    session.add(survivor)
    session.add(other)
    session.add_all(lines)
    session.flush()
    session.expire_all()  # the bulk UPDATEs moved rows the session may hold
    customers.refresh_callback_zones(session=session, customer_id=survivor_id)
    return done


def describe(text: str | None) -> str:
    """A merge's history line ("#12 phone_number=2 call=3") in the current language:
    "#12 phone numbers: 2, calls: 3"."""
    if not text:
        return "-"
    whom, *parts = text.split()
    words = []
    for part in parts:
        key, __, n = part.partition("=")
        words.append(_("{what}: {n}").format(what=labels.label(labels.MERGE_COUNTS, key), n=n))
    return f"{whom} " + _(", ").join(words) if words else whom

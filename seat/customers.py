"""Customers: lookup by phone, creation and edits with validation, the customer card.

Who registered a customer is `Customer.created_by_id` (the agent at the seat); customers that
come from `seat customers import` or the demo data have none, since no agent typed them in.
Every edit of a phone, address, tier, name or language writes one CustomerChange row (who,
when, old, new) in the same transaction; the history is append-only (migration 0006).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Integer, Select, bindparam, event, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from seat import phone, purchases, roles
from seat.db import PreparedIds
from seat.errors import DuplicatePhone as DuplicatePhone
from seat.errors import StaleCustomer
from seat.errors import ValidationError as ValidationError
from seat.i18n import N_, _
from seat.models import (
    CLOSED_COMPLAINT_STATUSES,
    OPEN_WORK_ORDER_EXCLUDES,
    AccessLog,
    Agent,
    Call,
    Callback,
    Complaint,
    Customer,
    CustomerChange,
    PhoneNumber,
    Tier,
    WorkOrder,
    level_for,
)
from seat.optimistic import claim_version
from seat.purchases import PurchaseSummary
from seat.textguard import check_text


@dataclass(frozen=True)
class CustomerHit:
    """The columns a caller lookup needs, nothing more."""

    id: int
    name: str
    tier: str
    e164: str

    @property
    def level(self) -> int:
        return level_for(self.tier)


@dataclass(frozen=True)
class CallLine:
    id: int
    started_at: datetime
    agent: str
    need_category: str | None
    outcome: str | None
    notes: str


@dataclass(frozen=True)
class ChangeLine:
    """One line of a customer's change history."""

    at: datetime
    agent: str | None  # None: made without an agent (an import or a script)
    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class CustomerCard:
    id: int
    name: str
    tier: str
    level: int
    gender: str | None
    birthday: date | None
    address: str | None
    phones: tuple[str, ...]
    open_complaints: tuple[tuple[int, str, str], ...] = field(default=())
    open_work_orders: tuple[tuple[int, str, str, bool], ...] = field(default=())
    last_calls: tuple[CallLine, ...] = field(default=())
    second_address: str | None = None
    created_by: str | None = None
    changes: tuple[ChangeLine, ...] = field(default=())  # newest first, a few
    change_count: int = 0
    purchases: PurchaseSummary = field(default=PurchaseSummary())
    phone_kinds: tuple[str, ...] = field(default=())
    """The kind of each of `phones` (mobile, home, work), in the same order."""


@dataclass(frozen=True)
class CustomerEdit:
    """What the edit form starts from."""

    id: int
    name: str
    phone: str | None  # E.164 of the first number
    address: str | None
    second_address: str | None
    tier: str
    language: str


TIER_CHOICES = tuple(t.value for t in Tier)
GENDERS = ("female", "male", "other")
LANGUAGES = ("en", "zh_CN")
# The fields an edit records, in the order the history names them.
TRACKED_FIELDS = ("name", "phone", "address", "second_address", "tier", "language")
REVEALABLE = ("phone", "address")



# The caller lookup and the card run statements built once, with bound parameters: building
# and cache-keying a select on every call cost more than the indexed query itself
# (seat bench: the card went from 1.0 ms to 0.45 ms at p50).
@cache
def _find_statement() -> Select:
    return (
        select(Customer.id, Customer.name, Customer.tier, PhoneNumber.e164)
        .join(PhoneNumber, PhoneNumber.customer_id == Customer.id)
        .where(PhoneNumber.e164 == bindparam("e164"), Customer.merged_into_id.is_(None))
    )


def _core(session: Session) -> Connection:
    """The session's connection, for column-only selects: Core execution skips the ORM's
    per-statement work (a third of the caller lookup's time, seat bench). Pending changes are
    flushed first, as the session's own execute would."""
    session.flush()
    return session.connection()


def find_by_phone(*, session: Session, e164: str) -> CustomerHit | None:
    """Indexed, column-only caller lookup."""
    row = _core(session).execute(_find_statement(), {"e164": e164}).first()
    return CustomerHit(*row) if row else None


SHARED_LIMIT = 20


def find_all_by_phone(
    *, session: Session, e164: str, limit: int = SHARED_LIMIT
) -> list[CustomerHit]:
    """Every customer with this number, by customer number: one, none, or a family sharing
    a landline (the lookup then asks who is calling instead of guessing)."""
    rows = _core(session).execute(_find_all_statement(limit), {"e164": e164})
    return [CustomerHit(*r) for r in rows]


@cache
def _find_all_statement(limit: int) -> Select:
    """`_find_statement` by customer number, cut at `limit`: built once per limit (built at
    every lookup, its cache key was worked out again each time)."""
    return _find_statement().order_by(Customer.id).limit(limit)


def lookup(*, session: Session, text: str, region: str = "CN") -> tuple[str, CustomerHit | None]:
    """Parse what was typed (PhoneError if invalid) and find the customer."""
    e164 = phone.normalise(text, region)
    return e164, find_by_phone(session=session, e164=e164)


def validate_customer(
    *,
    name: str,
    tier: str,
    birthday: str | date | None = None,
    gender: str | None = None,
    today: date | None = None,
) -> tuple[str, str, date | None, str | None]:
    """Check the fields of a customer; raises ValidationError naming each bad field."""
    errors: dict[str, str] = {}
    name = check_text(errors, "name", name, N_("Name"), 200, one_line=True)
    tier = (tier or "ordinary").strip().lower()
    if tier not in TIER_CHOICES:
        errors["tier"] = _("Tier must be one of: {choices}.").format(
            choices=", ".join(TIER_CHOICES)
        )
    bday: date | None = None
    if isinstance(birthday, date):
        bday = birthday
    elif birthday and birthday.strip():
        try:
            bday = date.fromisoformat(birthday.strip())
        except ValueError:
            errors["birthday"] = _("Birthday must be a date like 1985-03-14.")
    if bday and today and bday > today:
        errors["birthday"] = _("Birthday cannot be in the future.")
    gender = (gender or "").strip().lower() or None
    if gender and gender not in GENDERS:
        errors["gender"] = _("Gender must be one of: {choices}.").format(
            choices=", ".join(GENDERS)
        )
    if errors:
        raise ValidationError(errors)
    return name, tier, bday, gender


def new_customer_row(
    *,
    now: datetime,
    name: str,
    phone_text: str,
    region: str = "CN",
    tier: str = "ordinary",
    birthday: str | date | None = None,
    gender: str | None = None,
    address: str | None = None,
    occupation: str | None = None,
    language: str = "en",
    today: date | None = None,
    created_by_id: int | None = None,
) -> tuple[str, dict[str, Any]]:
    """Check every field of a new customer: the number's E.164 and the customer row's
    column values, or a ValidationError naming each bad field. Reads and writes nothing (a
    number already on file is the caller's check: create_customer, the import).

    `today` is the desk's local date (a birthday may not be after it); default: now's date.
    `created_by_id` is the agent registering the customer (None for imports and demo data).
    """
    errors: dict[str, str] = {}
    try:
        e164 = phone.normalise(phone_text, region)
    except phone.PhoneError as exc:
        errors["phone"] = str(exc)
        e164 = ""
    try:
        name, tier, bday, gender = validate_customer(
            name=name, tier=tier, birthday=birthday, gender=gender, today=today or now.date()
        )
    except ValidationError as exc:
        errors.update(exc.errors)
    _check_address(errors, "address", address)
    if language not in LANGUAGES:
        errors["language"] = _("Choose one of the languages offered.")
    occupation = check_text(
        errors, "occupation", occupation, N_("Occupation"), 120, required=False, one_line=True
    )
    if errors:
        raise ValidationError(errors)
    return e164, {
        "name": name,
        "tier": tier,
        "birthday": bday,
        "gender": gender,
        "address": (address or "").strip() or None,
        "occupation": occupation or None,
        "language": language,
        "created_at": now,
        "updated_at": now,
        "created_by_id": created_by_id,
    }


def create_customer(
    *,
    session: Session,
    now: datetime,
    name: str,
    phone_text: str,
    region: str = "CN",
    tier: str = "ordinary",
    birthday: str | date | None = None,
    gender: str | None = None,
    address: str | None = None,
    occupation: str | None = None,
    language: str = "en",
    today: date | None = None,
    created_by_id: int | None = None,
) -> Customer:
    """Validate everything first (new_customer_row), then add customer and phone; nothing
    half-made. A number already on file is DuplicatePhone."""
    e164, values = new_customer_row(
        now=now,
        name=name,
        phone_text=phone_text,
        region=region,
        tier=tier,
        birthday=birthday,
        gender=gender,
        address=address,
        occupation=occupation,
        language=language,
        today=today,
        created_by_id=created_by_id,
    )
    existing = session.execute(
        select(PhoneNumber.customer_id)
        .where(PhoneNumber.e164 == e164)
        .order_by(PhoneNumber.customer_id)
        .limit(1)
    ).scalar()
    if existing is not None:
        raise DuplicatePhone(e164, existing)
    customer = Customer(**values)
    session.add(customer)
    session.flush()
    session.add(PhoneNumber(customer_id=customer.id, e164=e164))
    session.flush()
    return customer


def zones_key(*, session: Session, customer_id: int) -> str:
    """seat.phone.zones_key of the customer's first working number: the time zones their
    callbacks keep (callback.zones) for the rest-hours rules."""
    e164 = session.execute(_FIRST_NUMBER, {"customer_id": customer_id}).scalar()
    return phone.zones_key(e164)


_WORKING_NUMBERS = PreparedIds(
    lambda ids: select(PhoneNumber.customer_id, PhoneNumber.e164)
    .where(PhoneNumber.customer_id.in_(ids), PhoneNumber.wrong_number.is_(False))
    .order_by(PhoneNumber.customer_id, PhoneNumber.id)
)
"""The working numbers of these customers, each one's in the order `_FIRST_NUMBER` takes
(at the driver level: ids and texts, nothing to convert; an IN of 500 compiled again at
every chunk cost more than the read)."""


def zones_keys(*, session: Session, customer_ids: Iterable[int]) -> dict[int, str]:
    """`zones_key` of many customers in a few statements (a chunk of customers each): what
    the callback rules keep on the thousands of callbacks a day's run makes."""
    ids = sorted(set(customer_ids))
    found: dict[int, str] = {cid: "" for cid in ids}
    for i in range(0, len(ids), 500):
        seen: set[int] = set()
        for cid, e164 in _WORKING_NUMBERS.execute(session.connection(), ids[i : i + 500]):
            if cid not in seen:  # the first working number (`_FIRST_NUMBER`'s)
                seen.add(cid)
                found[cid] = phone.zones_key(e164)
    return found


@event.listens_for(Callback, "before_insert")
def _callback_zones(_mapper: Any, connection: Connection, target: Callback) -> None:
    """A callback added without its zones (a test's, a future path's) gets them as it is
    inserted; bulk inserts (the callback rules, seeding) give them in their rows."""
    if target.zones is None:
        target.zones = phone.zones_key(
            connection.execute(_FIRST_NUMBER, {"customer_id": target.customer_id}).scalar()
        )


_FIRST_NUMBER = (
    select(PhoneNumber.e164)
    .where(
        PhoneNumber.customer_id == bindparam("customer_id"), PhoneNumber.wrong_number.is_(False)
    )
    .order_by(PhoneNumber.id)
    .limit(1)
)


def refresh_callback_zones(*, session: Session, customer_id: int) -> None:
    """After the customer's numbers changed (a number edited, added, found wrong): their
    callbacks keep the zones of the first working number again."""
    key = zones_key(session=session, customer_id=customer_id)
    session.execute(
        update(Callback)
        .where(
            Callback.customer_id == customer_id,
            or_(Callback.zones.is_(None), Callback.zones != key),
        )
        .values(zones=key)
    )


def in_use(session: Session, customer_id: int) -> Customer:
    """The customer to change: on file and not merged away (seat.merge), or ValidationError."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise ValidationError(
            {"customer": _("Customer #{id} is not on file.").format(id=customer_id)}
        )
    if customer.merged_into_id is not None:
        raise ValidationError(
            {"customer": _("Customer #{id} was merged into customer #{into}.").format(
                id=customer_id, into=customer.merged_into_id
            )}
        )  # fmt: skip
    return customer


def _check_address(errors: dict[str, str], key: str, address: str | None) -> None:
    # An address may span lines (spreadsheets export "Room 1203\r\n88 Century Ave").
    check_text(errors, key, address, N_("Address"), 500, required=False)


def editable(*, session: Session, customer_id: int) -> CustomerEdit | None:
    """The customer's editable fields as they are now."""
    c = session.get(Customer, customer_id)
    if c is None:
        return None
    first = session.execute(
        select(PhoneNumber.e164)
        .where(PhoneNumber.customer_id == customer_id)
        .order_by(PhoneNumber.id)
        .limit(1)
    ).scalar()
    return CustomerEdit(
        id=customer_id,
        name=c.name,
        phone=first,
        address=c.address,
        second_address=c.second_address,
        tier=c.tier,
        language=c.language,
    )


def update_customer(
    *,
    session: Session,
    customer_id: int,
    agent_id: int | None,
    now: datetime,
    name: str | None = None,
    phone_text: str | None = None,
    address: str | None = None,
    second_address: str | None = None,
    tier: str | None = None,
    language: str | None = None,
    region: str = "CN",
) -> list[CustomerChange]:
    """Change a customer; one CustomerChange (old, new) per field that really changed.

    A field left as None is not touched; an empty address clears it. The phone is the
    customer's first number (normalised, and refused if another customer has it). Every
    field is checked before anything is written: on a ValidationError nothing changed.
    """
    if agent_id is not None:  # a person's change (None: an import or the command line's)
        roles.require(session.get(Agent, agent_id), roles.EDIT_CUSTOMER)
    customer = in_use(session, customer_id)
    errors: dict[str, str] = {}
    new: dict[str, str | None] = {}
    if name is not None or tier is not None:
        try:
            clean_name, clean_tier, _bday, _gender = validate_customer(
                name=customer.name if name is None else name,
                tier=customer.tier if tier is None else tier,
            )
        except ValidationError as exc:
            errors.update(exc.errors)
        else:
            if name is not None:
                new["name"] = clean_name
            if tier is not None:
                new["tier"] = clean_tier
    phone_row: PhoneNumber | None = None
    if phone_text is not None:
        try:
            e164 = phone.normalise(phone_text, region)
        except phone.PhoneError as exc:
            errors["phone"] = str(exc)
        else:
            owners = set(
                session.execute(
                    select(PhoneNumber.customer_id).where(PhoneNumber.e164 == e164)
                ).scalars()
            )
            owner = customer_id if customer_id in owners else min(owners, default=None)
            phone_row = session.execute(
                select(PhoneNumber)
                .where(PhoneNumber.customer_id == customer_id)
                .order_by(PhoneNumber.id)
                .limit(1)
            ).scalar()
            if owner is not None and owner != customer_id:
                errors["phone"] = _("{e164} is already on file (customer #{id}).").format(
                    e164=e164, id=owner
                )
            elif owner == customer_id and (phone_row is None or phone_row.e164 != e164):
                errors["phone"] = _("{e164} is already this customer's other number.").format(
                    e164=e164
                )
            new["phone"] = e164
    for key, value in (("address", address), ("second_address", second_address)):
        if value is not None:
            _check_address(errors, key, value)
            new[key] = value.strip() or None
    if language is not None:
        if language not in LANGUAGES:
            errors["language"] = _("Language must be one of: {choices}.").format(
                choices=", ".join(LANGUAGES)
            )
        new["language"] = language
    if errors:
        raise ValidationError(errors)

    old_phone = phone_row.e164 if phone_row is not None else None
    changes: list[CustomerChange] = []
    for key in TRACKED_FIELDS:
        if key not in new:
            continue
        before = old_phone if key == "phone" else getattr(customer, key)
        after = new[key]
        if before == after:
            continue
        if key == "phone":
            if phone_row is None:
                session.add(PhoneNumber(customer_id=customer_id, e164=after))  # type: ignore[arg-type]
            else:
                phone_row.e164 = after  # type: ignore[assignment]
                phone_row.wrong_number = False  # a new number has not been found wrong yet
                session.add(phone_row)
        else:
            setattr(customer, key, after)
        changes.append(
            CustomerChange(
                customer_id=customer_id,
                agent_id=agent_id,
                at=now,
                field=key,
                old=before[:500] if before else before,
                new=after[:500] if after else after,
            )  # fmt: skip
        )
    if changes:
        claim_version(session, customer, lambda: StaleCustomer(customer_id))
        customer.updated_at = now
        session.add(customer)
        session.add_all(changes)
        session.flush()
        if any(c.field == "phone" for c in changes):
            refresh_callback_zones(session=session, customer_id=customer_id)
    return changes


PHONE_KINDS = ("mobile", "home", "work")


def attach_number(
    *,
    session: Session,
    customer_id: int,
    e164: str,
    agent_id: int | None,
    now: datetime,
    kind: str | None = None,
) -> CustomerChange:
    """Add a number to a customer (a caller found by search, ringing from a number not on
    file, or from another customer's: a shared landline): one more PhoneNumber of that
    kind and one CustomerChange (phone: none -> the number)."""
    customer = in_use(session, customer_id)
    kind = kind or phone.kind(e164)
    if kind not in PHONE_KINDS:
        raise ValidationError({"kind": _("Choose one of the kinds offered.")})
    owners = set(
        session.execute(
            select(PhoneNumber.customer_id).where(PhoneNumber.e164 == e164)
        ).scalars()
    )
    if customer_id in owners:
        raise ValidationError(
            {"phone": _("{e164} is already this customer's number.").format(e164=e164)}
        )
    # Another customer's number too is added: a family's landline is shared, and the
    # lookup then asks who is calling.
    claim_version(session, customer, lambda: StaleCustomer(customer_id))
    session.add(PhoneNumber(customer_id=customer_id, e164=e164, label=kind))
    change = CustomerChange(
        customer_id=customer_id, agent_id=agent_id, at=now, field="phone", old=None, new=e164
    )
    customer.updated_at = now
    session.add(customer)
    session.add(change)
    session.flush()
    return change


@cache
def _history_statements(limited: bool) -> tuple[Select, Select]:
    cid = bindparam("customer_id")
    lines = (
        select(
            CustomerChange.at,
            Agent.display_name,
            CustomerChange.field,
            CustomerChange.old,
            CustomerChange.new,
        )
        .outerjoin(Agent, Agent.id == CustomerChange.agent_id)
        .where(CustomerChange.customer_id == cid)
        .order_by(CustomerChange.at.desc(), CustomerChange.id.desc())
    )
    if limited:
        lines = lines.limit(bindparam("limit", type_=Integer))
    count = (
        select(func.count()).select_from(CustomerChange).where(CustomerChange.customer_id == cid)
    )
    return lines, count


def history(
    *, session: Session, customer_id: int, limit: int | None = None
) -> tuple[list[ChangeLine], int]:
    """The customer's changes, newest first (at most `limit`), and how many there are."""
    lines_q, count_q = _history_statements(limit is not None)
    params: dict[str, int] = {"customer_id": customer_id}
    if limit is not None:
        params["limit"] = limit
    db = _core(session)
    lines = [ChangeLine(*r) for r in db.execute(lines_q, params)]
    if limit is None or len(lines) < limit:
        return lines, len(lines)  # every change is on the page: no need to count
    count = db.execute(count_q, {"customer_id": customer_id}).scalar_one()
    return lines, count


def log_access(
    *, session: Session, agent_id: int, customer_id: int, now: datetime, what: str, reason: str
) -> AccessLog:
    """Record that an agent revealed a masked value outside a call, and why (PermissionDenied:
    a quality inspector sees personal data masked, never revealed)."""
    roles.require(session.get(Agent, agent_id), roles.REVEAL_PERSONAL)
    errors: dict[str, str] = {}
    reason = check_text(
        errors, "reason", reason, N_("The reason"), 500, missing=_("Give a reason to see this."),
        one_line=True,
    )  # fmt: skip
    if what not in REVEALABLE:
        errors["what"] = _("Only a phone number or an address can be revealed.")
    if errors:
        raise ValidationError(errors)
    row = AccessLog(agent_id=agent_id, customer_id=customer_id, at=now, what=what, reason=reason)
    session.add(row)
    session.flush()
    return row


@cache
def _card_statements() -> tuple[Select, Select, Select, Select, Select]:
    cid = bindparam("customer_id")
    return (
        select(
            Customer.id,
            Customer.name,
            Customer.tier,
            Customer.gender,
            Customer.birthday,
            Customer.address,
            Customer.second_address,
            Agent.display_name.label("created_by"),
        )
        .outerjoin(Agent, Agent.id == Customer.created_by_id)
        .where(Customer.id == cid),
        select(PhoneNumber.e164, PhoneNumber.label)
        .where(PhoneNumber.customer_id == cid)
        .order_by(PhoneNumber.id),
        select(Complaint.id, Complaint.status, Complaint.what_happened)
        .where(Complaint.customer_id == cid, Complaint.status.not_in(CLOSED_COMPLAINT_STATUSES))
        .order_by(Complaint.created_at.desc())
        .limit(5),
        select(WorkOrder.id, WorkOrder.status, WorkOrder.short_text, WorkOrder.urgent)
        .where(WorkOrder.customer_id == cid, WorkOrder.status.not_in(OPEN_WORK_ORDER_EXCLUDES))
        .order_by(WorkOrder.urgent.desc(), WorkOrder.due_at)
        .limit(5),
        select(
            Call.id,
            Call.started_at,
            Agent.display_name,
            Call.need_category,
            Call.outcome,
            Call.notes,
        )
        .join(Agent, Agent.id == Call.agent_id)
        .where(Call.customer_id == cid)
        .order_by(Call.started_at.desc())
        .limit(bindparam("last_calls", type_=Integer)),
    )


def card(
    *,
    session: Session,
    customer_id: int,
    last_calls: int = 5,
    changes: int = 3,
    now: datetime | None = None,
) -> CustomerCard | None:
    """What the customer card shows: column-only selects, bounded lists. With `now`, the
    customer's last purchases and their totals (12 months before `now`, lifetime) too."""
    customer_q, phones_q, complaints_q, orders_q, calls_q = _card_statements()
    params = {"customer_id": customer_id}
    db = _core(session)
    row = db.execute(customer_q, params).first()
    if row is None:
        return None
    numbers = db.execute(phones_q, params).all()
    phones = tuple(r[0] for r in numbers)
    complaints = tuple(tuple(r) for r in db.execute(complaints_q, params))
    orders = tuple(tuple(r) for r in db.execute(orders_q, params))
    calls = tuple(CallLine(*r) for r in db.execute(calls_q, {**params, "last_calls": last_calls}))
    change_lines, change_count = history(session=session, customer_id=customer_id, limit=changes)
    bought = (
        purchases.summary(db, customer_id=customer_id, now=now)
        if now is not None
        else purchases.PurchaseSummary()
    )
    return CustomerCard(
        id=row.id,
        name=row.name,
        tier=row.tier,
        level=level_for(row.tier),
        gender=row.gender,
        birthday=row.birthday,
        address=row.address,
        phones=phones,
        open_complaints=complaints,  # type: ignore[arg-type]
        open_work_orders=orders,  # type: ignore[arg-type]
        last_calls=calls,
        second_address=row.second_address,
        created_by=row.created_by,
        changes=tuple(change_lines),
        change_count=change_count,
        purchases=bought,
        phone_kinds=tuple(r[1] for r in numbers),
    )


def count_customers(*, session: Session) -> int:
    return session.execute(select(func.count()).select_from(Customer)).scalar_one()

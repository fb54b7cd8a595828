"""Suggestions and opinions (意见和建议): recorded, classified, answered and thanked.

A suggestion comes by any channel (seat.intake), from a customer on file or from someone
who left no number. It moves new -> replied -> thanked; it may be classified at any step
before it is thanked. Each move claims the row's next version with the conditional UPDATE
(seat.optimistic): of two seats answering the same suggestion, the later one is refused.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from seat import customers, labels, phone
from seat.errors import MoveRefused, ValidationError
from seat.i18n import N_, _
from seat.intake import Intake, check_intake
from seat.models import Agent, Customer, Suggestion
from seat.optimistic import claim_version
from seat.textguard import check_text

STATUSES = ("new", "replied", "thanked")
CATEGORIES = tuple(labels.SUGGESTION_CATEGORIES)
SCOPES = ("open", "all")
"""open: not yet thanked; all: every suggestion, newest first."""


def _stale(suggestion_id: int) -> MoveRefused:
    return MoveRefused(
        _(
            "Suggestion #{id} was changed at another seat meanwhile; "
            "the list now shows the latest. Check and try again."
        ).format(id=suggestion_id)
    )


def _check_category(errors: dict[str, str], category: str, *, required: bool) -> str:
    category = (category or "").strip()
    if (category and category not in CATEGORIES) or (required and not category):
        errors["category"] = _("Choose one of the categories.")
    return category


def record(
    *,
    session: Session,
    now: datetime,
    recorded_by_id: int,
    text: str,
    category: str = "",
    phone_text: str = "",
    region: str = "CN",
    intake: Intake | None = None,
    customer_id: int | None = None,
    call_id: int | None = None,
) -> Suggestion:
    """Record a suggestion; the customer by `customer_id`, or by the phone number typed (a
    number nobody has on file is recorded as it is, in the text: the customer left it)."""
    errors: dict[str, str] = {}
    text = check_text(errors, "text", text, N_("The suggestion"), 5000)
    category = _check_category(errors, category, required=False)
    got = check_intake(errors, intake or Intake(), now=now)
    number = (phone_text or "").strip()
    if customer_id is None and number:
        try:
            found = customers.lookup(session=session, text=number, region=region)[1]
        except phone.PhoneError as exc:
            errors["phone"] = str(exc)
        else:
            if found is not None:
                customer_id = found.id
            else:
                text = f"{text}\n(number left: {number})"
    if errors:
        raise ValidationError(errors)
    received = got.received_at or now
    row = Suggestion(
        customer_id=customer_id,
        call_id=call_id,
        recorded_by_id=recorded_by_id,
        channel=got.channel,
        channel_ref=got.channel_ref or None,
        text=text,
        category=category or None,
        created_at=received,
        registered_at=now if received < now else None,
    )
    session.add(row)
    session.flush()
    return row


def _begin(session: Session, suggestion_id: int, version: int | None) -> Suggestion:
    row = session.get(Suggestion, suggestion_id)
    if row is None:
        raise MoveRefused(_("Suggestion #{id} does not exist.").format(id=suggestion_id))
    if version is not None and version != row.version:
        raise _stale(suggestion_id)
    if row.status == "thanked":
        raise MoveRefused(
            _("Suggestion #{id} is answered and thanked: nothing is left to do.").format(
                id=suggestion_id
            )
        )
    return row


def classify(
    *, session: Session, suggestion_id: int, actor_id: int, now: datetime, category: str,
    version: int | None = None,
) -> Suggestion:  # fmt: skip
    """Put the suggestion in one of the categories (any time before it is thanked)."""
    errors: dict[str, str] = {}
    category = _check_category(errors, category, required=True)
    if errors:
        raise ValidationError(errors)
    row = _begin(session, suggestion_id, version)
    claim_version(session, row, lambda: _stale(suggestion_id))
    row.category = category
    session.flush()
    return row


def reply(
    *, session: Session, suggestion_id: int, actor_id: int, now: datetime, reply_text: str,
    version: int | None = None,
) -> Suggestion:  # fmt: skip
    """Record the answer given to the customer (again: the newer answer replaces it)."""
    errors: dict[str, str] = {}
    reply_text = check_text(errors, "reply_text", reply_text, N_("The answer"), 5000)
    if errors:
        raise ValidationError(errors)
    row = _begin(session, suggestion_id, version)
    claim_version(session, row, lambda: _stale(suggestion_id))
    row.reply_text = reply_text
    row.replied_at = now
    row.replied_by_id = actor_id
    row.status = "replied"
    session.flush()
    return row


def thank(
    *, session: Session, suggestion_id: int, actor_id: int, now: datetime,
    version: int | None = None,
) -> Suggestion:  # fmt: skip
    """The customer was thanked: the suggestion is done. It needs an answer and a category
    first (the register counts suggestions by category)."""
    row = _begin(session, suggestion_id, version)
    missing = []
    if row.reply_text is None:
        missing.append(_("answer it first (y)"))
    if row.category is None:
        missing.append(_("classify it first (k)"))
    if missing:
        raise MoveRefused(
            _("Suggestion #{id} cannot be thanked yet: {what}.").format(
                id=suggestion_id, what="; ".join(missing)
            )
        )
    claim_version(session, row, lambda: _stale(suggestion_id))
    row.status = "thanked"
    row.thanked_at = now
    session.flush()
    return row


@dataclass(frozen=True)
class SuggestionRow:
    id: int
    version: int
    received_at: datetime
    channel: str
    customer: str
    category: str | None
    status: str
    text: str
    reply_text: str | None
    recorded_by: str


def listing(
    *, session: Session, scope: str, offset: int = 0, limit: int = 50
) -> tuple[list[SuggestionRow], int]:
    """One page of suggestions (open ones oldest first; all newest first) and the total."""
    where = [Suggestion.status != "thanked"] if scope == "open" else []
    total = session.execute(select(func.count(Suggestion.id)).where(*where)).scalar_one()
    order = (
        (Suggestion.created_at, Suggestion.id)
        if scope == "open"
        else (Suggestion.created_at.desc(), Suggestion.id.desc())
    )
    rows = session.execute(
        select(
            Suggestion.id, Suggestion.version, Suggestion.created_at, Suggestion.channel,
            Customer.name, Suggestion.category, Suggestion.status, Suggestion.text,
            Suggestion.reply_text, Agent.display_name,
        )
        .outerjoin(Customer, Customer.id == Suggestion.customer_id)
        .join(Agent, Agent.id == Suggestion.recorded_by_id)
        .where(*where)
        .order_by(*order)
        .offset(offset)
        .limit(limit)
    ).all()  # fmt: skip
    return [
        SuggestionRow(r[0], r[1], r[2], r[3], r[4] or "", r[5], r[6], r[7], r[8], r[9])
        for r in rows
    ], total


def counts(
    *, session: Session, start: datetime, end: datetime
) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """Suggestions received in [start, end): by category (None as ""), channel and status."""
    by_category: Counter[str] = Counter()
    by_channel: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    for category, channel, status, n in session.execute(
        select(Suggestion.category, Suggestion.channel, Suggestion.status, func.count())
        .where(Suggestion.created_at >= start, Suggestion.created_at < end)
        .group_by(Suggestion.category, Suggestion.channel, Suggestion.status)
    ):
        by_category[category or ""] += n
        by_channel[channel] += n
        by_status[status] += n
    return by_category, by_channel, by_status

"""Customer search by anything: name, address, customer number, order number, phone number.

One query text, results ranked in three bands:

0. exact numbers: the customer number ("1234" or "#1234"), a phone number typed in any usual
   format (parsed by seat.phone), an order number (the `purchase` table's);
1. names that start with the text (Latin in any case; a one- or two-character Chinese
   surname or name);
2. fragments: every word of the text somewhere in the name, the addresses or the phone
   numbers (partial digits: "1234", "138 0013").

SQLite reads fragments from an FTS5 table with the trigram tokenizer (migration 0015:
`customer_search`, kept in step with `customer` and `phone_number` by triggers);
PostgreSQL from GIN trigram indexes (pg_trgm) with ILIKE. A trigram index needs three
characters: shorter words (Chinese names are often two) are found as a name's prefix, from
the plain index on `customer.name`, and only filter the longer words' matches.

What comes back is masked as on every screen outside a call (seat.privacy): the phone
numbers and the addresses; the name, tier and customer number are shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, or_, select, text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from seat import phone, privacy
from seat.models import Customer, PhoneNumber, Purchase, level_for

EXACT, PREFIX, FRAGMENT = 0, 1, 2
MATCH_KINDS = {EXACT: "exact", PREFIX: "name", FRAGMENT: "fragment"}
DEFAULT_LIMIT = 20
MAX_LIMIT = 200
FRAGMENT_CAP = 2000
"""At most this many fragment matches are ranked (a word as common as "138" matches most of
the file: the agent types more, never waits)."""
TRIGRAM = 3

# Database objects the migration makes that the models do not describe (the model and
# migration comparison leaves them out).
SCHEMA_EXTRAS = frozenset(
    {
        "customer_search", "customer_search_data", "customer_search_idx",
        "customer_search_content", "customer_search_docsize", "customer_search_config",
        "ix_search_customer_name", "ix_search_customer_address",
        "ix_search_customer_second_address", "ix_search_phone_number_e164",
    }
)  # fmt: skip

_NUMBERISH = re.compile(r"^[#+]?[\d\s\-().+/]+$")
_LIKE_SPECIAL = re.compile(r"([\\%_])")
_IN_USE = Customer.merged_into_id.is_(None)
"""Not a merged-away customer's tombstone (seat.merge): search never finds those."""
_TOP = "\U0010ffff"  # sorts after every character: the end of a prefix range


@dataclass(frozen=True)
class SearchHit:
    """One customer found, masked: what a results list and `seat customers search` show."""

    id: int
    name: str
    tier: str
    phones: tuple[str, ...]
    address: str
    rank: int
    """EXACT, PREFIX or FRAGMENT (MATCH_KINDS names them)."""

    @property
    def level(self) -> int:
        return level_for(self.tier)

    @property
    def matched(self) -> str:
        return MATCH_KINDS[self.rank]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "tier": self.tier,
            "level": self.level,
            "phones": list(self.phones),
            "address": self.address,
            "matched": self.matched,
        }


@dataclass(frozen=True)
class Query:
    """What was typed, read once: its words, and the number it may be."""

    text: str
    words: tuple[str, ...]
    digits: str  # the digits of a number-like text ("" otherwise)
    e164: str | None  # the text as a valid phone number
    customer_id: int | None  # the text as a customer number


def read_query(text: str, region: str = "CN") -> Query:
    """Split and read the typed text (never fails: what is not a number is words)."""
    clean = " ".join((text or "").split())
    digits = ""
    e164 = None
    customer_id = None
    if _NUMBERISH.match(clean):
        digits = re.sub(r"\D", "", clean)
        bare = clean.removeprefix("#")
        if bare.isascii() and bare.isdigit() and len(bare) <= 12:
            customer_id = int(bare)
        if not clean.startswith("#"):
            try:
                e164 = phone.normalise(clean, region)
            except phone.PhoneError:
                e164 = None
    return Query(clean, tuple(clean.split()), digits, e164, customer_id)


def _like(word: str) -> str:
    return "%" + _LIKE_SPECIAL.sub(r"\\\1", word) + "%"


def _number_fragments(digits: str) -> list[str]:
    """Partial digits as they may appear in a stored E.164 without its "+": typed as is,
    and without a national trunk prefix ("021 ...") or an international one ("0044 ..."),
    which the stored number does not hold."""
    bare = digits[2:] if digits.startswith("00") else digits.removeprefix("0")
    return [d for d in dict.fromkeys((digits, bare)) if len(d) >= TRIGRAM]


def _fts_phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _exact_ids(db: Connection, q: Query, limit: int) -> list[int]:
    ids: list[int] = []
    if q.customer_id is not None and q.customer_id < 2**31:  # an INTEGER column
        ids += db.execute(
            select(Customer.id).where(Customer.id == q.customer_id, _IN_USE)
        ).scalars()
    if q.e164:
        ids += db.execute(
            select(PhoneNumber.customer_id)
            .where(PhoneNumber.e164 == q.e164)
            .order_by(PhoneNumber.customer_id)
        ).scalars()
    if len(q.text) <= 40:
        ids += db.execute(
            select(Purchase.customer_id)
            .where(Purchase.order_no == q.text)
            .distinct()
            .order_by(Purchase.customer_id)
            .limit(limit)
        ).scalars()
    return ids


def _prefix_variants(word: str) -> list[str]:
    """A Latin name as agents type it: "zhang" finds "Zhang Wei" and "ZHANG"."""
    seen: list[str] = []
    for v in (word, word[:1].upper() + word[1:], word.title(), word.upper(), word.lower()):
        if v not in seen:
            seen.append(v)
    return seen


def _prefix_ids(db: Connection, q: Query, limit: int, postgres: bool) -> list[int]:
    if q.digits:
        return []  # a number: no name starts with it
    if postgres:
        stmt: Select = (
            select(Customer.id)
            .where(Customer.name.ilike(_like(q.text)[1:], escape="\\"), _IN_USE)
            .order_by(Customer.name, Customer.id)
            .limit(limit)
        )
        return list(db.execute(stmt).scalars())
    rows: list[tuple[str, int]] = []
    for v in _prefix_variants(q.text):
        # A range of the name index: SQLite's LIKE would read every row.
        stmt = (
            select(Customer.name, Customer.id)
            .where(Customer.name >= v, Customer.name < v + _TOP, _IN_USE)
            .order_by(Customer.name, Customer.id)
            .limit(limit)
        )
        rows += [(r[0], r[1]) for r in db.execute(stmt)]
    return [cid for __, cid in sorted(set(rows))][:limit]


def _fragment_ids(db: Connection, q: Query, limit: int, postgres: bool) -> list[int]:
    if q.digits:
        words = _number_fragments(q.digits)  # any of them (OR), not each (AND)
        short: list[str] = []
    else:
        words = [w for w in q.words if len(w) >= TRIGRAM]
        short = [w for w in q.words if len(w) < TRIGRAM]
    if not words:
        return []  # too short for a trigram index: the prefix band has them
    if postgres:
        if q.digits:
            found = or_(*(PhoneNumber.e164.like(_like(w), escape="\\") for w in words))
            candidates = (
                select(PhoneNumber.customer_id).where(found).limit(FRAGMENT_CAP).scalar_subquery()
            )
        else:
            conds = [
                or_(
                    Customer.name.ilike(_like(w), escape="\\"),
                    Customer.address.ilike(_like(w), escape="\\"),
                    Customer.second_address.ilike(_like(w), escape="\\"),
                )
                for w in words
            ]
            candidates = (
                select(Customer.id).where(and_(*conds)).limit(FRAGMENT_CAP).scalar_subquery()
            )
    else:
        match = (" OR " if q.digits else " AND ").join(_fts_phrase(w) for w in words)
        candidates = text(
            "SELECT rowid FROM customer_search WHERE customer_search MATCH :match LIMIT :cap"
        ).bindparams(match=match, cap=FRAGMENT_CAP)
    stmt = select(Customer.id).where(Customer.id.in_(candidates), _IN_USE)
    for w in short:
        p = _like(w)
        stmt = stmt.where(
            or_(
                Customer.name.ilike(p, escape="\\"),
                Customer.address.ilike(p, escape="\\"),
                Customer.second_address.ilike(p, escape="\\"),
            )
        )
    stmt = stmt.order_by(Customer.name, Customer.id).limit(limit)
    return list(db.execute(stmt).scalars())


def search(
    *, session: Session, text: str, region: str = "CN", limit: int = DEFAULT_LIMIT
) -> list[SearchHit]:
    """The customers the text finds, best first, masked; at most `limit`."""
    q = read_query(text, region)
    if not q.text:
        return []
    limit = max(1, min(limit, MAX_LIMIT))
    session.flush()
    db = session.connection()
    postgres = db.dialect.name == "postgresql"
    ranked: dict[int, int] = {}
    bands: tuple[tuple[int, Callable[[int], list[int]]], ...] = (
        (EXACT, lambda n: _exact_ids(db, q, n)),
        (PREFIX, lambda n: _prefix_ids(db, q, n, postgres)),
        (FRAGMENT, lambda n: _fragment_ids(db, q, n, postgres)),
    )
    for rank, read in bands:
        # Enough to fill the page after the customers the bands above already found.
        for cid in read(limit + len(ranked)):
            ranked.setdefault(cid, rank)
        if len(ranked) >= limit:
            break
    chosen = list(ranked)[:limit]
    return _hits(db, chosen, ranked, region)


def _hits(db: Connection, ids: list[int], ranked: dict[int, int], region: str) -> list[SearchHit]:
    if not ids:
        return []
    rows = {
        r.id: r
        for r in db.execute(
            select(
                Customer.id, Customer.name, Customer.tier, Customer.address,
                Customer.second_address,
            ).where(Customer.id.in_(ids))
        )
    }  # fmt: skip
    phones: dict[int, list[str]] = {}
    for cid, e164 in db.execute(
        select(PhoneNumber.customer_id, PhoneNumber.e164)
        .where(PhoneNumber.customer_id.in_(ids))
        .order_by(PhoneNumber.customer_id, PhoneNumber.id)
    ):
        phones.setdefault(cid, []).append(privacy.mask_phone(e164, region))
    hits = []
    for cid in ids:
        r = rows.get(cid)
        if r is None:
            continue
        address = privacy.mask_address(r.address or r.second_address)
        hits.append(
            SearchHit(
                id=cid, name=r.name, tier=r.tier, phones=tuple(phones.get(cid, ())),
                address=address, rank=ranked[cid],
            )  # fmt: skip
        )
    return hits


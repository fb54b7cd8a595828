"""Members (会员): tiers from purchase records, churn, dedicated owners (DOMAIN.md 2 and 5).

The rules are data/policy/members.toml (`load_policy`): the tiers, highest first, each with
thresholds of spend, orders and loyalty over a period; `retier` gives every customer whose
tier is not pinned the first tier whose every threshold they meet, and records each change in
the customer's history (`CustomerChange`: the tier, old and new, and the rule that decided it
as a `tier_rule` line). A supervisor pins a tier by hand (`pin_tier`, recorded; `retier`
leaves a pinned tier alone) and names the dedicated owner of a level-1 customer
(`set_owner`), who gets the customer's new callbacks first (`callback_owner`).

Churn is "no purchase for the policy's period" (`is_churned`, `churn_candidates`): the one
definition, which the callback rules' churned-member callbacks use too (seat.callbacks).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from seat import audit, roles
from seat.db import WRITE, PreparedIds
from seat.errors import PolicyError as PolicyError
from seat.errors import ValidationError
from seat.i18n import _
from seat.member_policy import (  # noqa: F401  (re-exported: the policy is read without the tables)
    _CARE_KEYS,
    _KEYS,
    DEFAULT_TIERS,
    MEMBER_POLICY,
    MemberPolicy,
    MemberStats,
    TierRule,
    _bands,
    _dates,
    _day_of_month,
    _days_ahead,
    _intervals,
    _load,
    _money_value,
    _positive_int,
    _tier_rules,
    _tiers,
    load_policy,
    months_before,
    policy_from_dict,
)
from seat.models import (
    TIER_LEVEL,
    Agent,
    CallbackKind,
    Customer,
    CustomerChange,
    Purchase,
    Tier,
    level_for,
)

RULES = "rules"
"""The `new` of a `tier_pin` history line when a pin is lifted: the rules decide again."""


# -- the rules (pure) -----------------------------------------------------------------------


def months_between(first: datetime, now: datetime) -> int:
    """Whole calendar months from `first` to `now` (0 when less than one)."""
    months = (now.year - first.year) * 12 + now.month - first.month
    if months > 0 and months_before(now, months) < first:
        months -= 1
    return max(months, 0)


def tier_for(policy: MemberPolicy, stats: MemberStats) -> TierRule:
    """The first tier (highest first) whose every threshold `stats` meet."""
    for rule in policy.tiers:
        if rule.met(stats):
            return rule
    return policy.tiers[-1]


def tier_reason(policy: MemberPolicy, stats: MemberStats, rule: TierRule) -> str:
    """Why the rules chose `rule`, as the history keeps it."""
    months = "never bought" if stats.months is None else f"member {stats.months} months"
    return (
        f"members.toml: spend {stats.spend:,.2f} and {stats.orders} orders in "
        f"{policy.period_months} months, {months} -> {rule.tier} ({rule.describe()})"
    )[:500]


def is_churned(
    *, last_purchase: datetime | None, member_since: datetime, now: datetime,
    policy: MemberPolicy,
) -> bool:  # fmt: skip
    """No purchase for the policy's period (`[churn] after_days`); a member who never bought
    counts from the day they joined."""
    last = last_purchase or member_since
    return last < now - timedelta(days=policy.churn_after_days)


def callback_owner(
    kind: str, preferred: int | None, dedicated: int | None, active: Iterable[int]
) -> int | None:
    """Who a new callback of the rules goes to: the customer's dedicated owner first, when
    still active; a complaint follow-up stays with the complaint's owner (first-contact
    ownership). None: the scheduler's own rule (last agent, round robin) decides."""
    if kind == CallbackKind.COMPLAINT_FOLLOW_UP and preferred is not None:
        return preferred
    if dedicated is not None and dedicated in set(active):
        return dedicated
    return preferred


# -- reading the purchases ------------------------------------------------------------------


def period_stats(
    session: Session, *, now: datetime, policy: MemberPolicy, customer_ids: Sequence[int] = (),
    months: bool = True,
) -> dict[int, MemberStats]:  # fmt: skip
    """Spend and orders over the policy's period, and months since the first purchase (read
    only when a tier asks for loyalty, and `months`), of the customers who bought anything
    (all, or `customer_ids`)."""
    since = policy.period_start(now)
    query = (
        select(
            Purchase.customer_id,
            func.coalesce(func.sum(Purchase.amount), 0.0),
            func.count(func.distinct(Purchase.order_no)),
        )
        .where(Purchase.purchased_at >= since, Purchase.purchased_at <= now)
        .group_by(Purchase.customer_id)
    )
    if customer_ids:
        query = query.where(Purchase.customer_id.in_(list(customer_ids)))
    found = {
        cid: MemberStats(float(spend), int(orders))
        for cid, spend, orders in session.execute(query).all()
    }
    if months and any(rule.min_months for rule in policy.tiers):
        firsts = select(Purchase.customer_id, func.min(Purchase.purchased_at)).group_by(
            Purchase.customer_id
        )
        if customer_ids:
            firsts = firsts.where(Purchase.customer_id.in_(list(customer_ids)))
        for cid, first in session.execute(firsts).all():
            base = found.get(cid, MemberStats())
            found[cid] = replace(base, months=months_between(_aware(first), now))
    return found


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def churn_cutoff(now: datetime, policy: MemberPolicy) -> datetime:
    """A member whose last purchase (or joining) is before this has churned."""
    return now - timedelta(days=policy.churn_after_days)


def last_purchase_or_joined() -> Any:
    """SQL of a customer's `last` in `is_churned`: their last purchase, or the day they
    joined when they never bought."""
    last_buy = (
        select(func.max(Purchase.purchased_at))
        .where(Purchase.customer_id == Customer.id)
        .scalar_subquery()
    )
    return func.coalesce(last_buy, Customer.created_at)


def churn_candidates(
    session: Session, *, now: datetime, policy: MemberPolicy, tiers: Sequence[str],
    where: Sequence[Any] = (),
) -> list[tuple[int, datetime]]:  # fmt: skip
    """Customers of these tiers with no purchase for the policy's period (those who never
    bought: since they joined), and that last time: what a churned-member callback needs.
    The SQL of `is_churned`; `where`: more conditions on the customer (the callback rules'
    incremental run, one open churn callback at a time)."""
    last = last_purchase_or_joined()
    rows = session.execute(
        select(Customer.id, last)
        .where(Customer.tier.in_(list(tiers)), Customer.merged_into_id.is_(None),
               last < churn_cutoff(now, policy), *where)
        .order_by(Customer.id)
    ).all()
    return [(cid, _aware(at)) for cid, at in rows]


# -- retier ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierChange:
    customer_id: int
    old: str
    new: str
    reason: str


@dataclass
class RetierReport:
    customers: int = 0
    pinned: int = 0
    changed: list[TierChange] = field(default_factory=list)

    def summary(self) -> str:
        return _(
            "{customers} customers: {changed} tiers changed, {pinned} pinned by hand left alone."
        ).format(customers=self.customers, changed=len(self.changed), pinned=self.pinned)


_CUSTOMER: Table = Customer.__table__  # type: ignore[assignment]
_CHANGE: Table = CustomerChange.__table__  # type: ignore[assignment]
CHUNK = 500


def retier(
    session: Session, *, now: datetime, policy: MemberPolicy, dry_run: bool = False
) -> RetierReport:
    """Apply the tier rules to every customer whose tier is not pinned; each change recorded
    (`tier` old -> new and its `tier_rule`), by the rules (no agent). Each change is a
    conditional UPDATE (the tier it was read with, still not pinned): a supervisor who pins
    a tier meanwhile wins, and the rules record nothing for that customer."""
    # SQLite: the write lock at BEGIN (a read first could not wait for it afterwards).
    session.connection(execution_options=None if session.in_transaction() else WRITE)
    stats = period_stats(session, now=now, policy=policy)
    report = RetierReport()
    wanted: dict[tuple[str, str], list[TierChange]] = {}
    for cid, tier, pinned in session.execute(
        select(Customer.id, Customer.tier, Customer.tier_pinned)
        .where(Customer.merged_into_id.is_(None))  # a merged-away tombstone keeps its tier
        .order_by(Customer.id)
    ).all():
        report.customers += 1
        if pinned:
            report.pinned += 1
            continue
        mine = stats.get(cid, MemberStats())
        rule = tier_for(policy, mine)
        if rule.tier != tier:
            change = TierChange(cid, tier, rule.tier, tier_reason(policy, mine, rule))
            wanted.setdefault((tier, rule.tier), []).append(change)
    if dry_run:
        report.changed = sorted(
            (c for group in wanted.values() for c in group), key=lambda c: c.customer_id
        )
        return report
    conn = session.connection()
    done: list[TierChange] = []
    for (old, new), changes in wanted.items():
        for i in range(0, len(changes), CHUNK):
            chunk = changes[i : i + CHUNK]
            applied = set(
                conn.execute(
                    update(_CUSTOMER)
                    .where(
                        _CUSTOMER.c.id.in_([c.customer_id for c in chunk]),
                        _CUSTOMER.c.tier == old,
                        _CUSTOMER.c.tier_pinned.is_(False),
                    )
                    .values(tier=new, updated_at=now)
                    .returning(_CUSTOMER.c.id)
                ).scalars()
            )
            done.extend(c for c in chunk if c.customer_id in applied)
    done.sort(key=lambda c: c.customer_id)
    _record(conn, now, None, [
        row for c in done
        for row in (("tier", c.old, c.new, c.customer_id), ("tier_rule", None, c.reason,
                                                             c.customer_id))
    ])  # fmt: skip
    report.changed = done
    return report


def _record(
    conn: Connection,
    now: datetime,
    agent_id: int | None,
    lines: Sequence[tuple[str, str | None, str | None, int]],
) -> None:
    """History lines (field, old, new, customer), sealed (seat.audit) and inserted in order."""
    rows = [
        {"customer_id": cid, "agent_id": agent_id, "at": now, "field": name,
         "old": old[:500] if old else old, "new": new[:500] if new else new}
        for name, old, new, cid in lines
    ]  # fmt: skip
    for i in range(0, len(rows), 5_000):
        chunk = rows[i : i + 5_000]
        audit.chain_rows(conn, "customer_change", chunk)
        conn.execute(insert(_CHANGE), chunk)


# -- by hand: pins and owners ---------------------------------------------------------------


def _supervisor(session: Session, agent_id: int, action: str) -> Agent:
    """The agent, read now (the role on file, not the one the seat was opened with)."""
    agent = session.get(Agent, agent_id)
    roles.require(agent if agent is not None and agent.active else None, action)
    return agent  # type: ignore[return-value]


def require_member_report(agent: roles.HasRole | None) -> None:
    """The member analysis names customers and their spend: supervisors only."""
    roles.require(agent, roles.MEMBER_REPORT)


def _customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise ValidationError(
            {"customer": _("Customer #{id} is not on file.").format(id=customer_id)}
        )
    return customer


def _why(reason: str) -> str:
    text = " ".join(reason.split())
    if not text:
        raise ValidationError({"reason": _("Say why (it goes in the customer's history).")})
    return text[:400]


def pin_tier(
    session: Session, *, customer_id: int, tier: str, agent_id: int, now: datetime, reason: str
) -> None:
    """A supervisor sets a customer's tier by hand and pins it: `retier` leaves it alone.
    Recorded: the tier (old -> new, when it changed) and the pin with its reason."""
    _supervisor(session, agent_id, roles.PIN_TIER)
    if tier not in TIER_LEVEL:
        raise ValidationError(
            {"tier": _("Tier must be one of: {choices}.").format(
                choices=", ".join(t.value for t in Tier))}
        )  # fmt: skip
    why = _why(reason)
    customer = _customer(session, customer_id)
    lines: list[tuple[str, str | None, str | None, int]] = []
    if customer.tier != tier:
        lines.append(("tier", customer.tier, tier, customer_id))
    lines.append(("tier_pin", RULES if not customer.tier_pinned else "pinned",
                  f"pinned: {why}", customer_id))  # fmt: skip
    _claim(session, customer, tier=tier, tier_pinned=True, now=now)
    _record(session.connection(), now, agent_id, lines)


def unpin_tier(
    session: Session, *, customer_id: int, agent_id: int, now: datetime, reason: str
) -> None:
    """The rules decide the customer's tier again from the next `retier` (recorded)."""
    _supervisor(session, agent_id, roles.PIN_TIER)
    why = _why(reason)
    customer = _customer(session, customer_id)
    if not customer.tier_pinned:
        return
    _claim(session, customer, tier=customer.tier, tier_pinned=False, now=now)
    _record(session.connection(), now, agent_id,
            [("tier_pin", "pinned", f"{RULES}: {why}", customer_id)])  # fmt: skip


def _claim(session: Session, customer: Customer, *, tier: str, tier_pinned: bool,
           now: datetime) -> None:  # fmt: skip
    """The conditional UPDATE of a hand-made change: the tier and pin as read, or the
    change is refused (another seat or the rules moved first)."""
    done = session.connection().execute(
        update(_CUSTOMER)
        .where(
            _CUSTOMER.c.id == customer.id,
            _CUSTOMER.c.tier == customer.tier,
            _CUSTOMER.c.tier_pinned.is_(bool(customer.tier_pinned)),
        )
        .values(tier=tier, tier_pinned=tier_pinned, updated_at=now)
    ).rowcount
    if done != 1:
        raise ValidationError(
            {"tier": _("The tier changed meanwhile; look at the customer again.")}
        )
    session.expire(customer)


def set_owner(
    session: Session, *, customer_id: int, owner_login: str | None, agent_id: int,
    now: datetime, policy: MemberPolicy,
) -> None:  # fmt: skip
    """A supervisor names the dedicated owner of a customer of an owned level (level 1 by
    the shipped policy), or takes the owner away (None). Recorded (`owner`, logins)."""
    _supervisor(session, agent_id, roles.SET_OWNER)
    customer = _customer(session, customer_id)
    owner: Agent | None = None
    if owner_login is not None:
        owner = session.execute(select(Agent).where(Agent.name == owner_login)).scalar()
        if owner is None or not owner.active:
            raise ValidationError(
                {"owner": _("No active agent signs in as {login}.").format(login=owner_login)}
            )
        if level_for(customer.tier) not in policy.owner_levels:
            raise ValidationError(
                {"owner": _("Only customers of level {levels} get a dedicated owner.").format(
                    levels=", ".join(str(n) for n in policy.owner_levels))}
            )  # fmt: skip
    before = session.get(Agent, customer.owner_id) if customer.owner_id else None
    new_id = owner.id if owner is not None else None
    if new_id == customer.owner_id:
        return
    done = session.connection().execute(
        update(_CUSTOMER)
        .where(
            _CUSTOMER.c.id == customer_id,
            _CUSTOMER.c.owner_id.is_(None)
            if customer.owner_id is None
            else _CUSTOMER.c.owner_id == customer.owner_id,
        )
        .values(owner_id=new_id, updated_at=now)
    ).rowcount
    if done != 1:
        raise ValidationError(
            {"owner": _("The owner changed meanwhile; look at the customer again.")}
        )
    session.expire(customer)
    _record(session.connection(), now, agent_id, [(
        "owner", before.name if before else None, owner.name if owner else None, customer_id
    )])  # fmt: skip


def dedicated_owners(
    session: Session, customer_ids: Iterable[int], policy: MemberPolicy
) -> dict[int, int]:
    """The active dedicated owner of each of these customers whose level has owners: what
    the callback scheduler asks before its own rule (`callback_owner`)."""
    ids = sorted(set(customer_ids))
    levels = set(policy.owner_levels)
    tiers = tuple(str(t) for t, level in TIER_LEVEL.items() if level in levels)
    found: dict[int, int] = {}
    owners = _owners_of(tiers)
    conn = session.connection()
    for i in range(0, len(ids), CHUNK):
        found.update(owners.execute(conn, ids[i : i + CHUNK]).all())  # type: ignore[arg-type]
    return found


_OWNERS: dict[tuple[str, ...], PreparedIds] = {}


def _owners_of(tiers: tuple[str, ...]) -> PreparedIds:
    """The active owners of customers of `tiers` (ids: at the driver level, nothing to
    convert; an IN of 500 customers compiled again at every chunk cost more than the read)."""
    found = _OWNERS.get(tiers)
    if found is None:
        found = _OWNERS[tiers] = PreparedIds(
            lambda ids: select(Customer.id, Customer.owner_id)
            .join(Agent, Agent.id == Customer.owner_id)
            .where(Customer.id.in_(ids), Customer.tier.in_(list(tiers)), Agent.active)
        )
    return found


def age_on(born: date, day: date) -> int:
    """Whole years from `born` to `day`."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

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
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from seat import audit, roles
from seat.config import Settings
from seat.db import WRITE, PreparedIds
from seat.errors import PolicyError as PolicyError
from seat.errors import ValidationError
from seat.i18n import _
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
from seat.policies import PolicyFile, read_toml

RULES = "rules"
"""The `new` of a `tier_pin` history line when a pin is lifted: the rules decide again."""


# -- the policy -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberStats:
    """One customer's purchases over the policy's period (`months`: since the first ever)."""

    spend: float = 0.0
    orders: int = 0
    months: int | None = None


@dataclass(frozen=True)
class TierRule:
    tier: str
    min_spend: float = 0.0
    min_orders: int = 0
    min_months: int = 0

    def met(self, stats: MemberStats) -> bool:
        return (
            stats.spend >= self.min_spend
            and stats.orders >= self.min_orders
            and (self.min_months <= 0 or (stats.months or 0) >= self.min_months)
        )

    def describe(self) -> str:
        """The thresholds, as stored in the history (English, like the callback rules')."""
        parts = []
        if self.min_spend:
            parts.append(f"spend >= {self.min_spend:,.2f}")
        if self.min_orders:
            parts.append(f"orders >= {self.min_orders}")
        if self.min_months:
            parts.append(f"member >= {self.min_months} months")
        return " and ".join(parts) or "no threshold"


DEFAULT_TIERS = (
    TierRule(Tier.VIP.value, 50_000, 12, 24),
    TierRule(Tier.DIAMOND.value, 20_000, 8),
    TierRule(Tier.PLATINUM.value, 10_000, 5),
    TierRule(Tier.GOLD.value, 3_000, 3),
    TierRule(Tier.ORDINARY.value),
)


@dataclass(frozen=True)
class MemberPolicy:
    period_months: int = 12
    churn_after_days: int = 90
    tiers: tuple[TierRule, ...] = DEFAULT_TIERS
    owner_levels: tuple[int, ...] = (1,)
    spend_bands: tuple[float, ...] = (0, 500, 2000, 5000, 10000, 50000)
    age_bands: tuple[int, ...] = (0, 25, 35, 45, 55, 65)
    top: int = 20
    # Care cadences (seat.care): renewals, holiday greetings, maintenance, routine calls.
    expiry_list_by_day: int = 5
    """Memberships ending next month are listed and called by this day of the month."""
    waive_orders: int = 3
    waive_spend: float = 1000.0
    """The renewal rule: the fee is waived after this many orders or this spend in the
    policy's period (either)."""
    holiday_greet: tuple[date, ...] = ()
    """The first days of the calendar's holidays greeted; empty: every holiday of at least
    `holiday_min_days` days (a run of the calendar's consecutive holidays is one)."""
    holiday_min_days: int = 3
    holiday_days_before: int = 1
    service_intervals: tuple[tuple[str, int], ...] = (
        ("appliance", 365), ("consumables", 90), ("service", 730),
    )  # fmt: skip
    """(purchase category, days): a product of the category is serviced (or renewed) every
    this many days from its delivery (its purchase when not delivered)."""
    service_days_before: int = 7
    service_years: int = 5
    """Purchases older than this many years get no more reminders."""
    routine_tiers: tuple[str, ...] = ("vip", "diamond", "platinum", "gold")
    routine_first_year_months: int = 1
    routine_after_months: int = 3

    def period_start(self, now: datetime) -> datetime:
        return months_before(now, self.period_months)


_KEYS: dict[str, dict[str, str]] = {
    "period": {"months": "period_months"},
    "churn": {"after_days": "churn_after_days"},
    "owners": {"levels": "owner_levels"},
    "report": {"spend_bands": "spend_bands", "age_bands": "age_bands", "top": "top"},
    "expiry": {
        "list_by_day": "expiry_list_by_day", "waive_orders": "waive_orders",
        "waive_spend": "waive_spend",
    },
    "holidays": {
        "greet": "holiday_greet", "min_days": "holiday_min_days",
        "days_before": "holiday_days_before",
    },
    "service": {
        "intervals": "service_intervals", "days_before": "service_days_before",
        "years": "service_years",
    },
    "routine": {
        "tiers": "routine_tiers", "first_year_months": "routine_first_year_months",
        "after_months": "routine_after_months",
    },
}  # fmt: skip


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}: must be a whole number of at least 1")
    return value


def _bands(value: Any, name: str) -> tuple[float, ...]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        or sorted(set(value)) != list(value)
        or value[0] < 0
    ):
        raise ValueError(f"{name}: must be a list of rising numbers from 0")
    return tuple(value)


def _tier_rules(raw: Any) -> tuple[TierRule, ...]:
    if not isinstance(raw, list) or not raw:
        raise ValueError("[[tiers]] must list the tiers, highest first")
    rules: list[TierRule] = []
    for n, body in enumerate(raw, 1):
        if not isinstance(body, dict):
            raise ValueError(f"[[tiers]] #{n}: must be a table")
        unknown = set(body) - {"tier", "min_spend", "min_orders", "min_months"}
        if unknown:
            raise ValueError(f"[[tiers]] #{n}: unknown key {sorted(unknown)[0]!r}")
        tier = body.get("tier")
        if tier not in TIER_LEVEL:
            raise ValueError(
                f"[[tiers]] #{n}: tier must be one of {', '.join(t.value for t in Tier)}"
            )
        values: dict[str, Any] = {}
        for key in ("min_spend", "min_orders", "min_months"):
            value = body.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"[[tiers]] #{n} {key}: must be a number, 0 or more")
            if key != "min_spend" and value != int(value):
                raise ValueError(f"[[tiers]] #{n} {key}: must be a whole number")
            values[key] = value if key == "min_spend" else int(value)
        rules.append(TierRule(tier, float(values["min_spend"]), values["min_orders"],
                              values["min_months"]))  # fmt: skip
    tiers = [r.tier for r in rules]
    if len(set(tiers)) != len(tiers):
        raise ValueError("[[tiers]]: a tier is listed twice")
    last = rules[-1]
    if last.min_spend or last.min_orders or last.min_months:
        raise ValueError("[[tiers]]: the last tier must have no threshold (everyone else)")
    return tuple(rules)


def _day_of_month(value: Any, name: str) -> int:
    if _positive_int(value, name) > 28:
        raise ValueError(f"{name}: must be a day from 1 to 28 (every month has it)")
    return int(value)


def _days_ahead(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name}: must be a whole number, 0 or more")
    return value


def _money_value(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{name}: must be a number, 0 or more")
    return float(value)


def _dates(value: Any, name: str) -> tuple[date, ...]:
    if not isinstance(value, list):
        raise ValueError(f"{name}: must list dates like 2026-10-01")
    out = []
    for item in value:
        try:
            out.append(item if isinstance(item, date) else date.fromisoformat(str(item)))
        except ValueError:
            raise ValueError(f"{name}: {item!r} is not a date like 2026-10-01") from None
    return tuple(sorted(set(out)))


def _intervals(value: Any, name: str) -> tuple[tuple[str, int], ...]:
    if not isinstance(value, dict):
        raise ValueError(f'{name}: must be a table of category = days ("appliance" = 365)')
    return tuple(
        (str(category), _positive_int(days, f"{name} {category}"))
        for category, days in value.items()
    )


def _tiers(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or any(t not in TIER_LEVEL for t in value):
        raise ValueError(f"{name}: must list tiers of {', '.join(t.value for t in Tier)}")
    return tuple(value)


_CARE_KEYS: dict[tuple[str, str], Any] = {
    ("expiry", "list_by_day"): _day_of_month,
    ("expiry", "waive_orders"): _days_ahead,
    ("expiry", "waive_spend"): _money_value,
    ("holidays", "greet"): _dates,
    ("holidays", "min_days"): _positive_int,
    ("holidays", "days_before"): _days_ahead,
    ("service", "intervals"): _intervals,
    ("service", "days_before"): _days_ahead,
    ("service", "years"): _positive_int,
    ("routine", "tiers"): _tiers,
    ("routine", "first_year_months"): _positive_int,
    ("routine", "after_months"): _positive_int,
}


def policy_from_dict(raw: dict[str, Any]) -> MemberPolicy:
    """Build a policy from parsed TOML; raises ValueError naming the bad key."""
    values: dict[str, Any] = {}
    for section, body in raw.items():
        if section == "tiers":
            values["tiers"] = _tier_rules(body)
            continue
        keys = _KEYS.get(section)
        if keys is None or not isinstance(body, dict):
            raise ValueError(f"unknown section [{section}]")
        for key, value in body.items():
            if key not in keys:
                raise ValueError(f"unknown key {key!r} in [{section}]")
            name = f"[{section}] {key}"
            if (section, key) in _CARE_KEYS:
                values[keys[key]] = _CARE_KEYS[section, key](value, name)
            elif key in ("spend_bands", "age_bands"):
                values[keys[key]] = _bands(value, name)
            elif key == "levels":
                if not isinstance(value, list) or not all(v in (1, 2, 3) for v in value):
                    raise ValueError(f"{name}: must list levels 1, 2 or 3")
                values[keys[key]] = tuple(value)
            else:
                values[keys[key]] = _positive_int(value, name)
    return replace(MemberPolicy(), **values)


def _load(path: Path, _zone: str) -> MemberPolicy:
    return read_toml(path, policy_from_dict)


MEMBER_POLICY: PolicyFile[MemberPolicy] = PolicyFile("members", _load)


def load_policy(settings: Settings) -> MemberPolicy:
    """The deployment's member rules (PolicyError names the file and the problem)."""
    return MEMBER_POLICY.load(settings)


# -- the rules (pure) -----------------------------------------------------------------------


def months_before(at: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day when the
    day does not exist then: 31 March - 1 month = 28/29 February)."""
    index = at.year * 12 + at.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    day = at.day
    while True:
        try:
            return at.replace(year=year, month=month, day=day)
        except ValueError:
            day -= 1


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

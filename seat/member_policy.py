"""The member rules of policy/members.toml (seat.members): tiers, churn, care, report bands,
read without the mapped tables: the start-up check (seat.preflight) runs before the desk is
drawn (seat.lazy)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from seat.config import Settings
from seat.errors import PolicyError as PolicyError
from seat.kinds import TIER_LEVEL, Tier
from seat.policies import PolicyFile, read_toml

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

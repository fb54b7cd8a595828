"""Complaint deadline clocks (服务水平): the policy, the business calendar, the arithmetic.

Pure code: every function takes the instants it needs; nothing reads the time. The policy
lives in data/policy/complaints.toml (a deployment's copy in the config directory wins,
see `config.policy_file`).

Budgets are chosen per complaint from the policy's defaults, its customer-level overrides
and its category overrides: where an override applies it wins over the default, and where
both a level and a category override the same budget the stricter one wins (VIP customers
never get a looser clock because of the category).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from seat.config import Settings, policy_file

Interval = tuple[datetime, datetime]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FIRST_REPLY, SOLUTION, CALLBACK = "first_reply", "solution", "callback"
CLOCK_LABELS = {FIRST_REPLY: "First reply", SOLUTION: "Solution", CALLBACK: "Callback"}
MAX_DAYS = 3 * 366  # a deadline further out than this means the calendar is nearly closed


class PolicyError(ValueError):
    """The policy file is wrong; the message names the file and the problem."""


# -- the policy -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Budgets:
    first_reply: timedelta = timedelta(hours=24)
    solution: timedelta = timedelta(hours=48)
    callback: timedelta = timedelta(days=7)
    follow_up_every: timedelta = timedelta(days=7)
    follow_up_min: int = 3
    business_hours: bool = False
    """Count the reply and solution clocks in opening hours only (the calendar)."""


# TOML key -> (Budgets field, converter)
_BUDGET_KEYS: dict[str, tuple[str, Any]] = {
    "first_reply_hours": ("first_reply", lambda v: timedelta(hours=_positive(v))),
    "solution_hours": ("solution", lambda v: timedelta(hours=_positive(v))),
    "callback_days": ("callback", lambda v: timedelta(days=_positive(v))),
    "follow_up_every_days": ("follow_up_every", lambda v: timedelta(days=_positive(v))),
    "follow_up_min": ("follow_up_min", lambda v: int(_positive(v))),
    "business_hours": ("business_hours", lambda v: _bool(v)),
}


def _positive(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"{value!r} is not a positive number")
    return float(value)


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{value!r} is not true or false")
    return value


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    department: str = ""
    """The department usually responsible (the judge step suggests it)."""


@dataclass(frozen=True)
class Calendar:
    zone: ZoneInfo
    hours: tuple[tuple[tuple[int, int], ...], ...] = field(
        default=tuple(((9 * 60, 18 * 60),) if d < 5 else () for d in range(7))
    )
    """Per weekday (Monday first): opening windows as minutes after local midnight."""
    holidays: frozenset[date] = frozenset()

    def windows(self, day: date) -> list[Interval]:
        """The day's opening hours as UTC intervals (none on a holiday)."""
        if day in self.holidays:
            return []
        midnight = datetime.combine(day, time.min, tzinfo=self.zone)
        return [
            (
                (midnight + timedelta(minutes=a)).astimezone(UTC),
                (midnight + timedelta(minutes=b)).astimezone(UTC),
            )
            for a, b in self.hours[day.weekday()]
        ]

    def is_open(self) -> bool:
        return any(self.hours)


@dataclass(frozen=True)
class Policy:
    default: Budgets = Budgets()
    levels: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    """Per customer level: Budgets field -> value, only what the level changes."""
    category_budgets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    categories: tuple[Category, ...] = ()
    causes: tuple[tuple[str, str], ...] = ()
    """(id, label) of the causes an investigation may record."""
    calendar: Calendar = field(default_factory=lambda: Calendar(ZoneInfo("Asia/Shanghai")))
    amber_at: float = 0.75
    source: str = "built-in defaults"

    def budgets(self, *, level: int | None, category: str | None) -> Budgets:
        """The budgets for a complaint of a customer of `level` in `category`."""
        overrides = [
            o
            for o in (self.levels.get(level or 0), self.category_budgets.get(category or ""))
            if o
        ]
        changes: dict[str, Any] = {}
        for name in {k for o in overrides for k in o}:
            values = [o[name] for o in overrides if name in o]
            if name == "business_hours":
                changes[name] = all(values)  # counting every hour is the stricter clock
            elif name == "follow_up_min":
                changes[name] = max(values)
            else:
                changes[name] = min(values)
        return replace(self.default, **changes)

    def category(self, category_id: str | None) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def category_label(self, category_id: str | None) -> str:
        found = self.category(category_id)
        return found.label if found else (category_id or "")

    def cause_label(self, cause_id: str | None) -> str:
        return dict(self.causes).get(cause_id or "", cause_id or "")


def parse_policy(raw: Mapping[str, Any], *, source: str, default_zone: str) -> Policy:
    """Build a Policy from parsed TOML; a PolicyError names `source` and the problem."""

    def fail(where: str, problem: str) -> PolicyError:
        return PolicyError(f"{source}: {where}: {problem}")

    known = {"budgets", "levels", "categories", "causes", "calendar", "amber_at"}
    for key in raw:
        if key not in known:
            raise fail(key, f"unknown key; expected one of {', '.join(sorted(known))}")

    def budget_overrides(where: str, table: Mapping[str, Any], extra: set[str]) -> dict:
        out: dict[str, Any] = {}
        for key, value in table.items():
            if key in extra:
                continue
            if key not in _BUDGET_KEYS:
                raise fail(where, f"unknown key {key!r}")
            name, convert = _BUDGET_KEYS[key]
            try:
                out[name] = convert(value)
            except ValueError as exc:
                raise fail(f"{where}.{key}", str(exc)) from None
        return out

    default = replace(Budgets(), **budget_overrides("budgets", _table(raw, "budgets"), set()))

    levels: dict[int, dict[str, Any]] = {}
    for key, table in _table(raw, "levels").items():
        if key not in ("1", "2", "3") or not isinstance(table, dict):
            raise fail(f"levels.{key}", "levels are tables named 1, 2 or 3")
        levels[int(key)] = budget_overrides(f"levels.{key}", table, set())

    categories: list[Category] = []
    category_budgets: dict[str, dict[str, Any]] = {}
    for key, table in _table(raw, "categories").items():
        if not isinstance(table, dict):
            raise fail(f"categories.{key}", "each category is a table with a label")
        label = table.get("label")
        if not isinstance(label, str) or not label.strip():
            raise fail(f"categories.{key}", "a category needs a label")
        department = table.get("department", "")
        if not isinstance(department, str):
            raise fail(f"categories.{key}.department", "is not text")
        categories.append(Category(key, label.strip(), department.strip()))
        overrides = budget_overrides(f"categories.{key}", table, {"label", "department"})
        if overrides:
            category_budgets[key] = overrides

    causes: list[tuple[str, str]] = []
    for key, label in _table(raw, "causes").items():
        if not isinstance(label, str) or not label.strip():
            raise fail(f"causes.{key}", "a cause is an id = \"label\" line")
        causes.append((key, label.strip()))

    calendar = _parse_calendar(_table(raw, "calendar"), default_zone, fail)
    if not calendar.is_open() and (
        default.business_hours
        or any(o.get("business_hours") for o in [*levels.values(), *category_budgets.values()])
    ):
        raise fail("calendar.hours", "business hours are used but no day has opening hours")

    amber = raw.get("amber_at", 0.75)
    if isinstance(amber, bool) or not isinstance(amber, int | float) or not 0 < amber < 1:
        raise fail("amber_at", "use a fraction between 0 and 1, e.g. 0.75")

    return Policy(
        default=default,
        levels=levels,
        category_budgets=category_budgets,
        categories=tuple(categories),
        causes=tuple(causes),
        calendar=calendar,
        amber_at=float(amber),
        source=source,
    )


def _table(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise PolicyError(f"{key}: must be a table")
    return value


def _parse_calendar(table: Mapping[str, Any], default_zone: str, fail: Any) -> Calendar:
    for key in table:
        if key not in ("timezone", "hours", "holidays"):
            raise fail(f"calendar.{key}", "unknown key; expected timezone, hours, holidays")
    zone_name = table.get("timezone", default_zone)
    try:
        zone = ZoneInfo(str(zone_name))
    except (ZoneInfoNotFoundError, ValueError):
        raise fail("calendar.timezone", f"unknown time zone {zone_name!r}") from None
    hours_table = table.get("hours")
    hours: tuple[tuple[tuple[int, int], ...], ...] = Calendar(zone).hours
    if hours_table is not None:
        if not isinstance(hours_table, dict):
            raise fail("calendar.hours", "must be a table of weekdays")
        for key in hours_table:
            if key not in WEEKDAYS:
                raise fail(f"calendar.hours.{key}", f"use {', '.join(WEEKDAYS)}")
        parsed = []
        for day in WEEKDAYS:
            text = hours_table.get(day, "")
            try:
                parsed.append(parse_hours(text))
            except ValueError as exc:
                raise fail(f"calendar.hours.{day}", str(exc)) from None
        hours = tuple(parsed)
    holidays: set[date] = set()
    for item in table.get("holidays", []):
        try:
            holidays.add(item if isinstance(item, date) else date.fromisoformat(str(item)))
        except ValueError:
            raise fail("calendar.holidays", f"{item!r} is not a date like 2026-10-01") from None
    return Calendar(zone=zone, hours=hours, holidays=frozenset(holidays))


def parse_hours(text: object) -> tuple[tuple[int, int], ...]:
    """'09:00-12:00, 13:00-18:00' -> ((540, 720), (780, 1080)); '' means closed."""
    if not isinstance(text, str):
        raise ValueError("write opening hours as \"09:00-12:00, 13:00-18:00\" or \"\"")
    windows: list[tuple[int, int]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            a, b = (_minutes(x) for x in part.split("-"))
        except ValueError:
            raise ValueError(f"{part!r} is not like 09:00-18:00") from None
        if b <= a:
            raise ValueError(f"{part!r} ends before it starts")
        if windows and a < windows[-1][1]:
            raise ValueError(f"{part!r} overlaps or comes before the previous window")
        windows.append((a, b))
    return tuple(windows)


def _minutes(text: str) -> int:
    hh, mm = text.strip().split(":")
    value = int(hh) * 60 + int(mm)
    if not 0 <= int(mm) < 60 or not 0 <= value <= 24 * 60:
        raise ValueError(text)
    return value


_cache: dict[tuple[str, int, str], Policy] = {}


def load_policy(settings: Settings) -> Policy:
    """The complaint policy in force (re-read when the file changes); PolicyError if wrong."""
    path = policy_file(settings, "complaints")
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return Policy(calendar=Calendar(ZoneInfo(settings.local_timezone)))
    key = (str(path), stamp, settings.local_timezone)
    if key not in _cache:
        _cache.clear()
        _cache[key] = read_policy(path, default_zone=settings.local_timezone)
    return _cache[key]


def read_policy(path: Path, *, default_zone: str) -> Policy:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise PolicyError(f"{path}: cannot be read: {exc.strerror}") from None
    return parse_policy(raw, source=str(path), default_zone=default_zone)


# -- interval arithmetic --------------------------------------------------------------------


def _subtract(spans: Iterable[Interval], holes: Sequence[Interval]) -> list[Interval]:
    """`spans` minus every interval in `holes` (both lists of half-open intervals)."""
    out: list[Interval] = []
    for a, b in spans:
        pieces = [(a, b)]
        for ha, hb in holes:
            nxt: list[Interval] = []
            for pa, pb in pieces:
                if hb <= pa or ha >= pb:
                    nxt.append((pa, pb))
                    continue
                if pa < ha:
                    nxt.append((pa, ha))
                if hb < pb:
                    nxt.append((hb, pb))
            pieces = nxt
        out.extend(pieces)
    return out


def _counting(start: datetime, calendar: Calendar | None, zone: ZoneInfo) -> Iterable[Interval]:
    """The time that counts from `start` on, in order: opening hours, or every hour."""
    day = start.astimezone(zone).date()
    for _ in range(MAX_DAYS):
        if calendar is None:
            midnight = datetime.combine(day, time.min, tzinfo=zone)
            spans = [(midnight.astimezone(UTC), (midnight + timedelta(days=1)).astimezone(UTC))]
        else:
            spans = calendar.windows(day)
        for a, b in spans:
            if b > start:
                yield (max(a, start), b)
        day += timedelta(days=1)


def elapsed(
    start: datetime,
    end: datetime,
    *,
    calendar: Calendar | None = None,
    pauses: Sequence[Interval] = (),
    zone: ZoneInfo | None = None,
) -> timedelta:
    """Time that counts between two instants: opening hours only when a calendar is given,
    never the time spent in `pauses` (closed intervals)."""
    if end <= start:
        return timedelta(0)
    zone = calendar.zone if calendar else (zone or ZoneInfo("UTC"))
    total = timedelta(0)
    for a, b in _counting(start, calendar, zone):
        if a >= end:
            break
        for pa, pb in _subtract([(a, min(b, end))], pauses):
            total += pb - pa
    return total


def deadline(
    start: datetime,
    budget: timedelta,
    *,
    calendar: Calendar | None = None,
    pauses: Sequence[Interval] = (),
    zone: ZoneInfo | None = None,
) -> datetime:
    """The instant when `budget` of counting time since `start` is used up."""
    zone = calendar.zone if calendar else (zone or ZoneInfo("UTC"))
    left = budget
    for a, b in _counting(start, calendar, zone):
        for pa, pb in _subtract([(a, b)], pauses):
            if pb - pa >= left:
                return pa + left
            left -= pb - pa
    raise ValueError("no deadline within three years: the calendar has (almost) no hours")


# -- clocks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockState:
    name: str
    """first_reply, solution or callback."""
    started_at: datetime
    budget: timedelta
    deadline: datetime
    used: timedelta
    """Counting time used so far (to the stop, or to now while running)."""
    stopped_at: datetime | None = None
    paused: bool = False
    """Waiting on the customer: the clock stands still."""
    business_hours: bool = False
    amber_at: float = 0.75

    @property
    def label(self) -> str:
        return CLOCK_LABELS.get(self.name, self.name)

    @property
    def running(self) -> bool:
        return self.stopped_at is None

    @property
    def fraction(self) -> float:
        return self.used / self.budget if self.budget else 1.0

    @property
    def left(self) -> timedelta:
        """Counting time left; negative once breached."""
        return self.budget - self.used

    @property
    def breached(self) -> bool:
        return self.fraction >= 1.0

    @property
    def state(self) -> str:
        return band(self.fraction, self.amber_at)


def band(fraction: float, amber_at: float = 0.75) -> str:
    """ok, amber (at least `amber_at` of the budget used) or red (breached)."""
    if fraction >= 1.0:
        return "red"
    if fraction >= amber_at:
        return "amber"
    return "ok"


def clock(
    name: str,
    *,
    started_at: datetime,
    budget: timedelta,
    now: datetime,
    stopped_at: datetime | None = None,
    calendar: Calendar | None = None,
    pauses: Sequence[Interval] = (),
    waiting_since: datetime | None = None,
    zone: ZoneInfo | None = None,
    amber_at: float = 0.75,
) -> ClockState:
    """One clock at `now`. While waiting on the customer the pause runs to `now`, so the
    deadline shown is the one that holds if the customer answers now."""
    holes = list(pauses)
    paused = stopped_at is None and waiting_since is not None and waiting_since <= now
    if paused:
        holes.append((waiting_since, now))  # type: ignore[arg-type]
    end = stopped_at if stopped_at is not None else now
    if stopped_at is not None:
        holes = [(a, min(b, stopped_at)) for a, b in holes if a < stopped_at]
    return ClockState(
        name=name,
        started_at=started_at,
        budget=budget,
        deadline=deadline(started_at, budget, calendar=calendar, pauses=holes, zone=zone),
        used=elapsed(started_at, end, calendar=calendar, pauses=holes, zone=zone),
        stopped_at=stopped_at,
        paused=paused,
        business_hours=calendar is not None,
        amber_at=amber_at,
    )


def most_urgent(clocks: Iterable[ClockState]) -> ClockState | None:
    """The running clock closest to (or furthest past) its budget."""
    running = [c for c in clocks if c.running]
    return max(running, key=lambda c: (c.fraction, -c.deadline.timestamp()), default=None)


def format_span(span: timedelta) -> str:
    """3d04h, 5h20, 45m (the sign is the caller's business)."""
    minutes = int(abs(span).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 48 * 60:
        return f"{minutes // 60}h{minutes % 60:02d}"
    return f"{minutes // 1440}d{(minutes % 1440) // 60:02d}h"

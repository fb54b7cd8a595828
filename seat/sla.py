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

import threading
import tomllib
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from seat.config import Settings
from seat.errors import PolicyError as PolicyError
from seat.i18n import N_, _, format_duration, language
from seat.labels import CHANNELS
from seat.policies import PolicyFile

Interval = tuple[datetime, datetime]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FIRST_REPLY, SOLUTION, CALLBACK = "first_reply", "solution", "callback"
REVIEW, PROMISED = "review", "promised_reply"
CLOCK_LABELS = {
    FIRST_REPLY: N_("First reply"), SOLUTION: N_("Solution"), CALLBACK: N_("Callback"),
    REVIEW: N_("Reviewed"), PROMISED: N_("Promise"),
}  # fmt: skip
"""N_-marked: translate with `_()` where shown."""
MAX_DAYS = 3 * 366  # a deadline further out than this means the calendar is nearly closed


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
    review: timedelta | None = None
    """From received to registered at a seat (official media: 1 h); None: no such clock."""


# TOML key -> (Budgets field, converter)
_BUDGET_KEYS: dict[str, tuple[str, Any]] = {
    "first_reply_hours": ("first_reply", lambda v: timedelta(hours=_positive(v))),
    "solution_hours": ("solution", lambda v: timedelta(hours=_positive(v))),
    "callback_days": ("callback", lambda v: timedelta(days=_positive(v))),
    "follow_up_every_days": ("follow_up_every", lambda v: timedelta(days=_positive(v))),
    "follow_up_min": ("follow_up_min", lambda v: int(_positive(v))),
    "business_hours": ("business_hours", lambda v: _bool(v)),
    "review_hours": ("review", lambda v: timedelta(hours=_positive(v))),
}


def _positive(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"{value!r} is not a positive number")
    return float(value)


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{value!r} is not true or false")
    return value


def _in_language(base: str, translations: Iterable[tuple[str, str]]) -> str:
    """`base` or, when the policy gives one for the current language, its translation."""
    return dict(translations).get(language(), base) if translations else base


@dataclass(frozen=True)
class Category:
    id: str
    base_label: str
    """The `label` of the policy file: what English screens show."""
    department: str = ""
    """The department usually responsible (the judge step suggests it)."""
    translations: tuple[tuple[str, str], ...] = ()
    """(language, label) from `label_zh_CN = "..."` lines of the policy file."""

    @property
    def label(self) -> str:
        """The label in the current language (the base label when there is no translation)."""
        return _in_language(self.base_label, self.translations)


@dataclass(frozen=True)
class Calendar:
    zone: ZoneInfo
    hours: tuple[tuple[tuple[int, int], ...], ...] = field(
        default=tuple(((9 * 60, 18 * 60),) if d < 5 else () for d in range(7))
    )
    """Per weekday (Monday first): opening windows as minutes after local midnight."""
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    """Make-up working days (调休): a Saturday or Sunday open with `workday_hours`."""
    workday_hours: tuple[tuple[int, int], ...] = ((9 * 60, 18 * 60),)
    """The hours of a normal workday (Monday's unless the policy says otherwise)."""

    def windows(self, day: date) -> list[Interval]:
        """The day's opening hours as UTC intervals (none on a holiday; a normal workday's
        on a make-up working day)."""
        if day in self.holidays:
            return []
        hours = self.workday_hours if day in self.workdays else self.hours[day.weekday()]
        midnight = datetime.combine(day, time.min, tzinfo=self.zone)
        return [
            (
                (midnight + timedelta(minutes=a)).astimezone(UTC),
                (midnight + timedelta(minutes=b)).astimezone(UTC),
            )
            for a, b in hours
        ]

    def is_open(self) -> bool:
        return any(self.hours) or bool(self.workdays and self.workday_hours)

    def entries(self, year: int) -> tuple[list[date], list[date]]:
        """The holidays and the make-up working days of `year`, each sorted."""
        return (
            sorted(d for d in self.holidays if d.year == year),
            sorted(d for d in self.workdays if d.year == year),
        )

    def years_without_entries(self, today: date) -> list[int]:
        """This year and the next when the calendar lists no holiday and no working day in
        them: nobody entered that year's official schedule yet."""
        return [y for y in (today.year, today.year + 1) if self.entries(y) == ([], [])]


def calendar_warnings(calendar: Calendar, today: date, *, source: str) -> list[str]:
    """One warning per year (this one, the next) whose holidays nobody entered yet."""
    return [
        _(
            "{source}: the business calendar has no holidays or working days for {year}: "
            "add that year's official schedule (seat policy calendar --year {year} --generate)"
        ).format(source=source, year=year)
        for year in calendar.years_without_entries(today)
    ]


@dataclass(frozen=True)
class Policy:
    default: Budgets = Budgets()
    levels: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    """Per customer level: Budgets field -> value, only what the level changes."""
    category_budgets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    channel_budgets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Per intake channel (`[channels.wechat]`): the channel clocks of the 400-desk rule."""
    categories: tuple[Category, ...] = ()
    base_causes: tuple[tuple[str, str], ...] = ()
    """(id, label) of the causes an investigation may record, as in `[causes]`."""
    cause_translations: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    """(language, ((id, label), ...)) from `[causes_zh_CN]` tables of the policy file."""
    calendar: Calendar = field(default_factory=lambda: Calendar(ZoneInfo("Asia/Shanghai")))
    amber_at: float = 0.75
    source: str = "built-in defaults"

    def budgets(
        self, *, level: int | None, category: str | None, channel: str | None = None
    ) -> Budgets:
        """The budgets for a complaint of a customer of `level` in `category` that came by
        `channel` (the strictest where several change one)."""
        overrides = [
            o
            for o in (
                self.levels.get(level or 0),
                self.category_budgets.get(category or ""),
                self.channel_budgets.get(channel or ""),
            )
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

    @property
    def causes(self) -> tuple[tuple[str, str], ...]:
        """(id, label) of the causes, labels in the current language where the policy has it."""
        shown = dict(dict(self.cause_translations).get(language(), ()))
        return tuple((cid, shown.get(cid, label)) for cid, label in self.base_causes)

    def category(self, category_id: str | None) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def category_label(self, category_id: str | None) -> str:
        found = self.category(category_id)
        return found.label if found else (category_id or "")

    def cause_label(self, cause_id: str | None) -> str:
        return dict(self.causes).get(cause_id or "", cause_id or "")


def _is_translation(key: str, prefix: str) -> bool:
    """`label_zh_CN`, `causes_zh_CN`: a prefix and a language code."""
    lang = key.removeprefix(prefix)
    return key.startswith(prefix) and bool(lang) and lang.replace("_", "").isalpha()


def parse_policy(raw: Mapping[str, Any], *, source: str, default_zone: str) -> Policy:
    """Build a Policy from parsed TOML; a PolicyError names `source` and the problem."""

    def fail(where: str, problem: str) -> PolicyError:
        return PolicyError(f"{source}: {where}: {problem}")

    known = {"budgets", "levels", "categories", "channels", "causes", "calendar", "amber_at"}
    for key in raw:
        if key not in known and not _is_translation(key, "causes_"):
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
        translated = []
        for name, value in table.items():
            if _is_translation(name, "label_"):
                if not isinstance(value, str) or not value.strip():
                    raise fail(f"categories.{key}.{name}", "is not text")
                translated.append((name.removeprefix("label_"), value.strip()))
        categories.append(
            Category(key, label.strip(), department.strip(), tuple(sorted(translated)))
        )
        extra = {"label", "department", *(n for n in table if _is_translation(n, "label_"))}
        overrides = budget_overrides(f"categories.{key}", table, extra)
        if overrides:
            category_budgets[key] = overrides

    channel_budgets: dict[str, dict[str, Any]] = {}
    for key, table in _table(raw, "channels").items():
        if key not in CHANNELS or not isinstance(table, dict):
            raise fail(f"channels.{key}", f"channels are tables named {', '.join(CHANNELS)}")
        channel_budgets[key] = budget_overrides(f"channels.{key}", table, set())

    causes: list[tuple[str, str]] = []
    for key, label in _table(raw, "causes").items():
        if not isinstance(label, str) or not label.strip():
            raise fail(f"causes.{key}", "a cause is an id = \"label\" line")
        causes.append((key, label.strip()))
    cause_translations = []
    for table_name in sorted(k for k in raw if _is_translation(k, "causes_")):
        pairs = []
        for key, label in _table(raw, table_name).items():
            if key not in dict(causes):
                raise fail(f"{table_name}.{key}", "not a cause of [causes]")
            if not isinstance(label, str) or not label.strip():
                raise fail(f"{table_name}.{key}", "a cause is an id = \"label\" line")
            pairs.append((key, label.strip()))
        cause_translations.append((table_name.removeprefix("causes_"), tuple(pairs)))

    calendar = _parse_calendar(_table(raw, "calendar"), default_zone, fail)
    if not calendar.is_open() and (
        default.business_hours
        or any(
            o.get("business_hours")
            for o in [*levels.values(), *category_budgets.values(), *channel_budgets.values()]
        )
    ):
        raise fail("calendar.hours", "business hours are used but no day has opening hours")

    amber = raw.get("amber_at", 0.75)
    if isinstance(amber, bool) or not isinstance(amber, int | float) or not 0 < amber < 1:
        raise fail("amber_at", "use a fraction between 0 and 1, e.g. 0.75")

    return Policy(
        default=default,
        levels=levels,
        category_budgets=category_budgets,
        channel_budgets=channel_budgets,
        categories=tuple(categories),
        base_causes=tuple(causes),
        cause_translations=tuple(cause_translations),
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
        if key not in ("timezone", "hours", "holidays", "workdays", "workday_hours"):
            raise fail(
                f"calendar.{key}",
                "unknown key; expected timezone, hours, holidays, workdays, workday_hours",
            )
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
    holidays = _dates(table, "holidays", fail)
    workdays = _dates(table, "workdays", fail)
    for day in sorted(workdays):
        if day in holidays:
            raise fail("calendar.workdays", f"{day} is also listed as a holiday")
        if day.weekday() < 5:
            raise fail(
                "calendar.workdays",
                f"{day} is a {WEEKDAYS[day.weekday()]}: list only make-up working days "
                "that fall on a Saturday or Sunday",
            )
    workday_hours = hours[0]
    if "workday_hours" in table:
        try:
            workday_hours = parse_hours(table["workday_hours"])
        except ValueError as exc:
            raise fail("calendar.workday_hours", str(exc)) from None
    if workdays and not workday_hours:
        raise fail(
            "calendar.workday_hours",
            "make-up working days are listed but a workday has no opening hours "
            "(set workday_hours)",
        )
    return Calendar(
        zone=zone, hours=hours, holidays=frozenset(holidays), workdays=frozenset(workdays),
        workday_hours=workday_hours,
    )


def _dates(table: Mapping[str, Any], key: str, fail: Any) -> set[date]:
    items = table.get(key, [])
    if not isinstance(items, list):
        raise fail(f"calendar.{key}", "must be a list of dates like \"2026-10-01\"")
    days: set[date] = set()
    for item in items:
        try:
            days.add(item if isinstance(item, date) else date.fromisoformat(str(item)))
        except ValueError:
            raise fail(f"calendar.{key}", f"{item!r} is not a date like 2026-10-01") from None
    return days


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


def load_policy(settings: Settings) -> Policy:
    """The complaint policy in force (re-read when the file changes); PolicyError if wrong.

    No silent handbook defaults: every deadline would be timed by rules nobody chose."""
    return COMPLAINT_POLICY.load(settings)


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
    """The time that counts from `start` on, in order: opening hours, or every hour.

    The day-by-day walk is the reference the running totals below are checked against
    (tests/unit/test_sla_fast.py) and the fallback for calendars they cannot index."""
    day = start.astimezone(zone).date()
    for __ in range(MAX_DAYS):
        if calendar is None:
            midnight = datetime.combine(day, time.min, tzinfo=zone)
            spans = [(midnight.astimezone(UTC), (midnight + timedelta(days=1)).astimezone(UTC))]
        else:
            spans = calendar.windows(day)
        for a, b in spans:
            if b > start:
                yield (max(a, start), b)
        day += timedelta(days=1)


def _elapsed_walk(
    start: datetime, end: datetime, calendar: Calendar | None, pauses: Sequence[Interval],
    zone: ZoneInfo,
) -> timedelta:  # fmt: skip
    total = timedelta(0)
    for a, b in _counting(start, calendar, zone):
        if a >= end:
            break
        for pa, pb in _subtract([(a, min(b, end))], pauses):
            total += pb - pa
    return total


def _deadline_walk(
    start: datetime, budget: timedelta, calendar: Calendar | None, pauses: Sequence[Interval],
    zone: ZoneInfo,
) -> datetime:  # fmt: skip
    left = budget
    for a, b in _counting(start, calendar, zone):
        for pa, pb in _subtract([(a, b)], pauses):
            if pb - pa >= left:
                return pa + left
            left -= pb - pa
    raise ValueError("no deadline within three years: the calendar has (almost) no hours")


# -- running totals: the same answers without walking every day ----------------------------
#
# The sidebar asks for two clocks of every open complaint on each refresh; walking the
# calendar a day at a time from each complaint's start made that the slowest query set of
# the desk. Counting time is instead read off a running total T(t) (counting time from a
# fixed origin to t) and its inverse: elapsed is a difference of totals, a deadline the
# instant where the total reaches the budget. Every value is whole microseconds, so the
# sums are exact and the answers equal the walk's to the microsecond. Where a calendar's
# windows are irregular in UTC (a daylight-saving jump inside opening hours) or a pause
# runs backwards, the walk answers instead.


class _Irregular(Exception):
    """The running totals cannot stand in for the walk here."""


_CHUNK_DAYS = 64
_HORIZON = timedelta(days=MAX_DAYS - 2)


class _WindowTotals:
    """Opening windows of a run of days, flattened, with the counting time before each."""

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar
        self.lo: date | None = None
        self.hi: date | None = None
        """Days [lo, hi) are indexed."""
        self.starts: list[datetime] = []
        self.ends: list[datetime] = []
        self.before: list[timedelta] = []
        self.upto: list[timedelta] = []
        """Counting time from the origin (the first window indexed at the first build; days
        indexed later to its left count negative) to the end of each window."""
        self.irregular = False
        """Some day's windows are not in order in UTC: the walk answers for this calendar."""
        self.lock = threading.Lock()
        """One index per calendar serves every worker thread (sidebar, wallboard, lists):
        extending it and reading it happen under this lock."""

    def cover(self, day: date) -> None:
        if self.lo is not None and self.hi is not None and self.lo <= day < self.hi:
            return
        if self.irregular:
            raise _Irregular
        ahead = day + timedelta(days=_CHUNK_DAYS)
        lo = day if self.lo is None else min(day, self.lo)
        hi = ahead if self.hi is None else max(self.hi, ahead)
        try:
            if self.lo is None or self.hi is None:
                self._add(lo, hi)
            else:
                if lo < self.lo:
                    self._prepend(lo, self.lo)
                if hi > self.hi:
                    self._add(self.hi, hi)  # extending to the right keeps what is built
        except _Irregular:
            self.irregular = True
            raise
        self.lo, self.hi = lo, hi

    def _add(self, lo: date, hi: date) -> None:
        zone = self.calendar.zone
        day = lo
        midnight = datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
        total = self.upto[-1] if self.upto else timedelta(0)
        while day < hi:
            following = day + timedelta(days=1)
            next_midnight = datetime.combine(following, time.min, tzinfo=zone).astimezone(UTC)
            for a, b in self.calendar.windows(day):
                if not (midnight <= a < b <= next_midnight) or (self.ends and a < self.ends[-1]):
                    raise _Irregular
                self.starts.append(a)
                self.ends.append(b)
                self.before.append(total)
                total += b - a
                self.upto.append(total)
            day, midnight = following, next_midnight

    def _prepend(self, lo: date, hi: date) -> None:
        """Index days [lo, hi) before what is built, counting their totals back from the
        current origin: every total handed out before (a timeline's zero, in this or
        another worker thread) stays valid."""
        left = _WindowTotals(self.calendar)
        left._add(lo, hi)
        if not left.starts:
            return
        if self.starts and left.ends[-1] > self.starts[0]:
            raise _Irregular
        offset = (self.before[0] if self.before else timedelta(0)) - left.upto[-1]
        self.starts[:0] = left.starts
        self.ends[:0] = left.ends
        self.before[:0] = [t + offset for t in left.before]
        self.upto[:0] = [t + offset for t in left.upto]

    def total(self, at: datetime) -> timedelta:
        """Counting time from the indexing origin to `at` (negative before the origin)."""
        with self.lock:
            self.cover(at.astimezone(self.calendar.zone).date())
            i = bisect_right(self.starts, at) - 1
            if i < 0:
                return self.before[0] if self.before else timedelta(0)
            return self.before[i] + (min(at, self.ends[i]) - self.starts[i])

    def instant(self, total: timedelta) -> datetime:
        """The first instant at which the running total reaches `total` (> 0, covered)."""
        with self.lock:
            j = bisect_left(self.upto, total)
            return self.starts[j] + (total - self.before[j])


_TOTALS: dict[int, tuple[Calendar, _WindowTotals]] = {}


def _window_totals(calendar: Calendar) -> _WindowTotals:
    # Keyed by identity: the loaded policy (and so its calendar) is cached by load_policy.
    hit = _TOTALS.get(id(calendar))
    if hit is not None and hit[0] is calendar:
        return hit[1]
    if len(_TOTALS) > 16:
        _TOTALS.clear()
    totals = _WindowTotals(calendar)
    _TOTALS[id(calendar)] = (calendar, totals)
    return totals


class _Timeline:
    """Counting time from `start` on, up to the walk's limit of MAX_DAYS days."""

    def __init__(self, start: datetime, calendar: Calendar | None, zone: ZoneInfo) -> None:
        self.start = start
        self.windows = None if calendar is None else _window_totals(calendar)
        self.zero = timedelta(0)
        if self.windows is None:
            # Every hour counts, so only the walk's limit matters; stopping two days short
            # of it spares working out local midnights (past the horizon the walk answers).
            self.limit = start + _HORIZON
            return
        day = start.astimezone(zone).date()
        if datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC) > start:
            raise _Irregular
        self.limit = datetime.combine(
            day + timedelta(days=MAX_DAYS), time.min, tzinfo=zone
        ).astimezone(UTC)
        self.zero = self.windows.total(start)

    def total(self, at: datetime) -> timedelta:
        """Counting time from start to `at` (start <= at <= limit)."""
        if self.windows is None:
            return at - self.start
        return self.windows.total(at) - self.zero

    def instant(self, total: timedelta) -> datetime:
        """The first instant when `total` (> 0, reachable) has counted since start."""
        if self.windows is None:
            return self.start + total
        return self.windows.instant(self.zero + total)

    def next_stop(self, at: datetime, stop: datetime) -> datetime:
        """A point after `at`, at most `stop`: lets a search index a few weeks at a time."""
        if self.windows is None:
            return stop
        day = at.astimezone(self.windows.calendar.zone).date() + timedelta(days=_CHUNK_DAYS)
        return min(stop, datetime.combine(day, time.min, tzinfo=self.windows.calendar.zone)
                   .astimezone(UTC))  # fmt: skip


def _holes(pauses: Sequence[Interval], start: datetime) -> list[Interval]:
    """The pauses that end after `start`, sorted and merged (the walk subtracts their union)."""
    out: list[Interval] = []
    for a, b in sorted(p for p in pauses if p[1] > start):
        if b < a:
            raise _Irregular  # a pause that ends before it starts: the walk's own answer
        if a == b:
            continue
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _elapsed_fast(
    start: datetime, end: datetime, calendar: Calendar | None, pauses: Sequence[Interval],
    zone: ZoneInfo,
) -> timedelta:  # fmt: skip
    line = _Timeline(start, calendar, zone)
    if end > line.limit and line.windows is None:
        raise _Irregular
    end = min(end, line.limit)
    if end <= start:
        return timedelta(0)
    used = line.total(end)
    for a, b in _holes(pauses, start):
        a, b = max(a, start), min(b, end)
        if a >= end:
            break
        if a < b:
            used -= line.total(b) - line.total(a)
    return used


def _deadline_fast(
    start: datetime, budget: timedelta, calendar: Calendar | None, pauses: Sequence[Interval],
    zone: ZoneInfo,
) -> datetime:  # fmt: skip
    if budget <= timedelta(0):
        raise _Irregular  # the walk answers "the first counting instant"
    line = _Timeline(start, calendar, zone)
    left = budget
    at = start
    for a, b in [*_holes(pauses, start), (line.limit, line.limit)]:
        stop = min(a, line.limit)
        while at < stop:
            step = line.next_stop(at, stop)
            counted = line.total(step) - line.total(at)
            if counted >= left:
                return line.instant(line.total(at) + left)
            left -= counted
            at = step
        at = max(at, b)
        if at >= line.limit:
            break
    if line.windows is None:
        raise _Irregular  # past the horizon: the walk knows the exact limit
    raise ValueError("no deadline within three years: the calendar has (almost) no hours")


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
    if calendar is None and not pauses and end - start <= _HORIZON:
        return end - start  # every hour counts: the common case needs no timeline
    zone = calendar.zone if calendar else (zone or ZoneInfo("UTC"))
    try:
        return _elapsed_fast(start, end, calendar, pauses, zone)
    except _Irregular:
        return _elapsed_walk(start, end, calendar, pauses, zone)


def deadline(
    start: datetime,
    budget: timedelta,
    *,
    calendar: Calendar | None = None,
    pauses: Sequence[Interval] = (),
    zone: ZoneInfo | None = None,
) -> datetime:
    """The instant when `budget` of counting time since `start` is used up."""
    if calendar is None and not pauses and timedelta(0) < budget <= _HORIZON:
        return start + budget
    zone = calendar.zone if calendar else (zone or ZoneInfo("UTC"))
    try:
        return _deadline_fast(start, budget, calendar, pauses, zone)
    except _Irregular:
        return _deadline_walk(start, budget, calendar, pauses, zone)


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
        return clock_breached(self.fraction)

    @property
    def state(self) -> str:
        return band(self.fraction, self.amber_at)


def clock_breached(fraction: float) -> bool:
    """The one definition of a breached clock: its whole budget used. Pausing stops the
    count but never un-breaches it (the time used stays used)."""
    return fraction >= 1.0


def band(fraction: float, amber_at: float = 0.75) -> str:
    """ok, amber (at least `amber_at` of the budget used) or red (breached)."""
    if clock_breached(fraction):
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


def budget_text(span: timedelta) -> str:
    """48h, 7d, 1.5h: a budget as the policy states it (current language)."""
    hours = span.total_seconds() / 3600
    if hours >= 72 and hours % 24 == 0:
        return _("{n}d").format(n=int(hours // 24))
    return _("{n}h").format(n=f"{hours:g}")


def clock_phrase(
    *, used: timedelta, budget: timedelta, running: bool = True, paused: bool = False
) -> str:
    """The words for one clock, built here for every screen: "late by 3h20", "5h20 left",
    "met in 20h of 48h". A paused clock says so first, and a breached one stays "late by"
    when paused (pausing stops the count; it never gives the time back)."""
    breached = clock_breached(used / budget if budget else 1.0)
    if not running:
        if breached:
            return _("late by {span}").format(span=format_duration(used - budget))
        return _("met in {used} of {budget}").format(
            used=format_duration(used), budget=budget_text(budget)
        )
    return running_phrase(budget - used, breached=breached, paused=paused)


def running_phrase(left: timedelta, *, breached: bool, paused: bool = False) -> str:
    """`clock_phrase` of a running clock from the time it has left (negative once late)."""
    what = (
        _("late by {span}").format(span=format_duration(left))
        if breached
        else _("{span} left").format(span=format_duration(left))
    )
    return _("paused · {what}").format(what=what) if paused else what


def state_phrase(clock: ClockState) -> str:
    """`clock_phrase` for a ClockState."""
    return clock_phrase(
        used=clock.used, budget=clock.budget, running=clock.running, paused=clock.paused
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


COMPLAINT_POLICY: PolicyFile[Policy] = PolicyFile(
    "complaints", lambda path, zone: read_policy(path, default_zone=zone)
)

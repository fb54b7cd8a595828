"""Work-order clocks (the 400-desk's time limits), after DOMAIN.md section 4.

Three clocks, each stored as a deadline on the order so that every count of late clocks is a
COUNT over an index (the sidebar's and the wallboard's numbers are true totals):

- **on site**: a service request's technician is on site (the survey) within the promise of
  its service zone (e.g. 2 h inside the inner zone, 24-48 h elsewhere in the province); the
  zone comes from the service address (a fragment the policy names), else from the work
  center, else the policy's default zone; a zone may count business hours only (the
  business calendar of policy/complaints.toml);
- **reply**: the desk replies within 30 minutes after the job is done (a service request's
  service, a delivery exception's delivery or return); the reply is the customer's
  acceptance of a service request, the close of a delivery exception;
- **follow-up**: an unfinished order is followed up weekly (at least 3 times), the reason it
  is not finished recorded each time; the clock runs from the order's creation, then from
  the last follow-up, and stops when the job is done.

A deadline is fixed when its clock starts, under the policy of that moment (a promise made
is not moved by a later policy change). Pure code apart from the SQL conditions: the rules
of a move live in seat.workorders, which calls these.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_

from seat import sla
from seat.errors import PolicyError
from seat.i18n import N_, _, format_duration, language
from seat.lazy import lazy

if TYPE_CHECKING:
    from seat import models
    from seat.models import WorkOrder
else:
    models = lazy("seat.models")  # the desk is drawn before it runs (seat.lazy)

ON_SITE, REPLY, FOLLOW_UP = "on_site", "reply", "follow_up"
CLOCKS = (ON_SITE, REPLY, FOLLOW_UP)
CLOCK_LABELS = {ON_SITE: N_("On site"), REPLY: N_("Reply"), FOLLOW_UP: N_("Follow-up")}
"""N_-marked: translate with `_()` where shown."""


def clock_label(name: str) -> str:
    return _(CLOCK_LABELS[name]) if name in CLOCK_LABELS else name


# -- the policy ([clocks] and [zones.*] of policy/work_orders.toml) ---------------------------


@dataclass(frozen=True)
class Zone:
    id: str
    base_label: str
    on_site: timedelta
    business_hours: bool = False
    """Count the on-site promise in the business calendar's opening hours only."""
    work_centers: tuple[str, ...] = ()
    address_contains: tuple[str, ...] = ()
    translations: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        """The policy's label in the current language (`label_zh_CN = "..."`), else the
        base label (the built-in zones' are translated)."""
        found = dict(self.translations).get(language())
        if found:
            return found
        return _(self.base_label) if self.base_label in _BUILT_IN_LABELS else self.base_label


_BUILT_IN_LABELS = (N_("inner zone"), N_("rest of the city"), N_("rest of the province"))
DEFAULT_ZONES = (
    Zone("inner", _BUILT_IN_LABELS[0], timedelta(hours=2)),
    Zone("city", _BUILT_IN_LABELS[1], timedelta(hours=24)),
    Zone("province", _BUILT_IN_LABELS[2], timedelta(hours=48)),
)


@dataclass(frozen=True)
class ClockPolicy:
    zones: tuple[Zone, ...] = DEFAULT_ZONES
    default_zone: str = "province"
    reply: timedelta = timedelta(minutes=30)
    follow_up_every: timedelta = timedelta(days=7)
    follow_up_min: int = 3
    amber_at: float = 0.75

    def zone(self, zone_id: str | None) -> Zone | None:
        return next((z for z in self.zones if z.id == zone_id), None)

    def zone_for(self, *, address: str | None, work_center: str | None) -> Zone:
        """The service zone of an order: a fragment of the service address the policy names
        (the place itself), else the zone of its work center, else the default zone."""
        text = (address or "").casefold()
        if text:
            for z in self.zones:
                if any(f.casefold() in text for f in z.address_contains):
                    return z
        if work_center:
            for z in self.zones:
                if work_center in z.work_centers:
                    return z
        found = self.zone(self.default_zone)
        assert found is not None  # parse_clocks checks the default names a zone
        return found


def _hours(value: object, where: str, fail: Any) -> timedelta:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise fail(where, f"{value!r} is not a positive number")
    return timedelta(hours=float(value))


def parse_clocks(
    clocks: object, zones: object, *, source: str
) -> ClockPolicy:
    """The [clocks] table and the [zones.*] tables of the work-order policy file."""

    def fail(where: str, problem: str) -> PolicyError:
        return PolicyError(f"{source}: {where}: {problem}")

    if clocks is None and zones is None:
        return ClockPolicy()
    table: Mapping[str, Any] = clocks if isinstance(clocks, dict) else {}
    if clocks is not None and not isinstance(clocks, dict):
        raise fail("clocks", "must be a table")
    known = {"reply_minutes", "follow_up_every_days", "follow_up_min", "default_zone", "amber_at"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise fail("clocks", f"unknown key(s): {', '.join(unknown)}")
    parsed: list[Zone] = []
    if zones is None:
        parsed = list(DEFAULT_ZONES)
    elif not isinstance(zones, dict) or not zones:
        raise fail("zones", "must hold at least one [zones.NAME] table")
    else:
        for zid, z in zones.items():
            where = f"zones.{zid}"
            if not isinstance(z, dict):
                raise fail(where, "must be a table")
            extra = sorted(
                k for k in set(z) - {"label", "on_site_hours", "business_hours", "work_centers",
                                     "address_contains"}
                if not k.startswith("label_")
            )  # fmt: skip
            if extra:
                raise fail(where, f"unknown key(s): {', '.join(extra)}")
            if "on_site_hours" not in z:
                raise fail(where, "on_site_hours is required")
            lists = {}
            for key in ("work_centers", "address_contains"):
                value = z.get(key, [])
                if not isinstance(value, list) or not all(
                    isinstance(v, str) and v.strip() for v in value
                ):
                    raise fail(f"{where}.{key}", "must be a list of text")
                lists[key] = tuple(v.strip() for v in value)
            business = z.get("business_hours", False)
            if not isinstance(business, bool):
                raise fail(f"{where}.business_hours", "must be true or false")
            label = z.get("label", zid)
            if not isinstance(label, str):
                raise fail(f"{where}.label", "must be text")
            parsed.append(
                Zone(
                    id=str(zid), base_label=label,
                    on_site=_hours(z["on_site_hours"], f"{where}.on_site_hours", fail),
                    business_hours=business,
                    translations=tuple(
                        (k.removeprefix("label_"), str(v)) for k, v in z.items()
                        if k.startswith("label_")
                    ),
                    **lists,
                )
            )  # fmt: skip
    default = table.get("default_zone", parsed[-1].id)
    if default not in {z.id for z in parsed}:
        raise fail("clocks.default_zone", f"{default!r} is not one of the [zones.*]")
    reply = table.get("reply_minutes", 30)
    every = table.get("follow_up_every_days", 7)
    least = table.get("follow_up_min", 3)
    amber = table.get("amber_at", 0.75)
    for key, value in (("reply_minutes", reply), ("follow_up_every_days", every)):
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise fail(f"clocks.{key}", f"{value!r} is not a positive number")
    if isinstance(least, bool) or not isinstance(least, int) or least < 0:
        raise fail("clocks.follow_up_min", f"{least!r} is not a whole number")
    if isinstance(amber, bool) or not isinstance(amber, int | float) or not 0 < amber <= 1:
        raise fail("clocks.amber_at", f"{amber!r} is not a fraction between 0 and 1")
    return ClockPolicy(
        zones=tuple(parsed),
        default_zone=str(default),
        reply=timedelta(minutes=float(reply)),
        follow_up_every=timedelta(days=float(every)),
        follow_up_min=least,
        amber_at=float(amber),
    )


def parse_text(text: str, *, source: str = "<text>") -> ClockPolicy:
    """A policy from TOML text holding [clocks] and [zones.*] (tests, the policy command)."""
    raw = tomllib.loads(text)
    return parse_clocks(raw.get("clocks"), raw.get("zones"), source=source)


# -- starting and stopping the clocks (seat.workorders calls these on its moves) -------------


def on_site_due(
    zone: Zone, start: datetime, *, calendar: sla.Calendar | None
) -> datetime:
    """The on-site promise of a zone from `start`: in opening hours when the zone says so."""
    return sla.deadline(start, zone.on_site, calendar=calendar if zone.business_hours else None)


def start_on_site(
    wo: WorkOrder, policy: ClockPolicy, *, now: datetime, calendar: sla.Calendar | None
) -> None:
    """A new service request: its zone and on-site promise (from the requested start when
    the customer asked for a later one)."""
    zone = policy.zone_for(address=wo.service_address, work_center=wo.work_center)
    wo.service_zone = zone.id
    start = max(now, wo.requested_start) if wo.requested_start else now
    wo.on_site_due_at = on_site_due(zone, start, calendar=calendar)


def start_follow_up(wo: WorkOrder, policy: ClockPolicy, *, now: datetime) -> None:
    wo.follow_up_due_at = now + policy.follow_up_every


def job_done(wo: WorkOrder, policy: ClockPolicy, *, now: datetime) -> None:
    """The job is done: the reply clock starts, the follow-ups stop."""
    wo.done_at = now
    wo.reply_due_at = now + policy.reply
    wo.follow_up_due_at = None


def followed_up(wo: WorkOrder, policy: ClockPolicy, *, now: datetime) -> None:
    wo.follow_ups = (wo.follow_ups or 0) + 1
    wo.follow_up_due_at = now + policy.follow_up_every


# -- reading them -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderClock:
    """One clock of one order, judged against its stored deadline."""

    name: str
    started_at: datetime
    due_at: datetime
    stopped_at: datetime | None = None
    amber_at: float = 0.75

    @property
    def label(self) -> str:
        return clock_label(self.name)

    @property
    def running(self) -> bool:
        return self.stopped_at is None

    def late(self, now: datetime) -> bool:
        """Past its deadline: running and the deadline passed, or stopped after it."""
        return (self.stopped_at or now) > self.due_at

    def state(self, now: datetime) -> str:
        """ok, amber or red (late)."""
        if self.late(now):
            return "red"
        span = (self.due_at - self.started_at).total_seconds()
        used = ((self.stopped_at or now) - self.started_at).total_seconds()
        if self.running and span > 0 and used / span >= self.amber_at:
            return "amber"
        return "ok"

    def phrase(self, now: datetime) -> str:
        """"late by 3h20", "1h10 left", "met", "late by 20m" (stopped late)."""
        end = self.stopped_at or now
        if self.late(now):
            return _("late by {span}").format(span=format_duration(end - self.due_at))
        if not self.running:
            return _("met")
        return _("{span} left").format(span=format_duration(self.due_at - now))


def clocks_of(wo: WorkOrder, policy: ClockPolicy) -> tuple[OrderClock, ...]:
    """The order's clocks that have started, in the order they run."""
    out: list[OrderClock] = []
    amber = policy.amber_at
    if wo.on_site_due_at is not None:
        start = wo.created_at
        if wo.requested_start is not None and wo.requested_start > start:
            start = wo.requested_start
        out.append(OrderClock(ON_SITE, start, wo.on_site_due_at, wo.on_site_at, amber))
    if wo.follow_up_due_at is not None:
        out.append(
            OrderClock(FOLLOW_UP, wo.follow_up_due_at - policy.follow_up_every,
                       wo.follow_up_due_at, None, amber)
        )  # fmt: skip
    if wo.reply_due_at is not None and wo.done_at is not None:
        out.append(OrderClock(REPLY, wo.done_at, wo.reply_due_at, wo.replied_at, amber))
    return tuple(out)


def worst(clocks: Iterable[OrderClock], now: datetime) -> OrderClock | None:
    """The running clock most pressing: late first, then the nearest deadline."""
    running = [c for c in clocks if c.running]
    return min(running, key=lambda c: (not c.late(now), c.due_at), default=None)


def late_sql(name: str, now: datetime | Any) -> Any:
    """The WHERE clause of orders whose clock `name` is running and late at `now` (closing an
    order stops every clock: the moves clear or stop them). `now` may be a bind parameter
    (a statement built once)."""
    wo = models.WorkOrder
    if name == ON_SITE:
        return and_(wo.on_site_at.is_(None), wo.on_site_due_at < now)
    if name == REPLY:
        return and_(wo.replied_at.is_(None), wo.reply_due_at < now)
    return wo.follow_up_due_at < now


def not_late_sql(name: str, now: datetime) -> Any:
    """The exact complement of `late_sql(name, now)`: an order without that deadline is not
    late on it (a NOT over the NULL comparison would leave it out of both)."""
    wo = models.WorkOrder
    if name == ON_SITE:
        return or_(wo.on_site_at.is_not(None), wo.on_site_due_at.is_(None),
                   wo.on_site_due_at >= now)  # fmt: skip
    if name == REPLY:
        return or_(wo.replied_at.is_not(None), wo.reply_due_at.is_(None),
                   wo.reply_due_at >= now)  # fmt: skip
    return or_(wo.follow_up_due_at.is_(None), wo.follow_up_due_at >= now)

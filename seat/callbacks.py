"""Callbacks that keep the rules (回访): rest hours, cadences, attempts, ownership.

Pure rules (rest-hour windows, next_window) take times as arguments; the session functions
take `now` from the caller's clock. The policy is a TOML file (data/policy/callbacks.toml,
overridable per deployment) loaded once into a frozen CallbackPolicy.

Ownership: a scheduled callback goes to the agent of the customer's latest call when that
agent is still active (they know the customer: first-contact ownership), otherwise round
robin over the active agents (supervisors only when there are no agents). Complaint
follow-ups go to the complaint's owner. `[owner] rule = "round_robin"` always spreads.
A level-1 customer's callbacks go to their dedicated owner first, while that owner is
active (the member rules, seat.members); churn is the member rules' too: no purchase for
members.toml's `[churn] after_days`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol, TypeVar
from uuid import uuid4
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Integer,
    String,
    bindparam,
    cast,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from seat import care, customers, labels, leases, lifecycle, members, phone, roles, sla, states
from seat.callback_policy import (  # noqa: F401  (re-exported: the policy is read without the tables)
    _DURATION,
    _KEYS,
    _SCRIPT_ID,
    _TIERS,
    CALLBACK_POLICY,
    CHURN_REASON_FIELD,
    CHURN_REASONS,
    DEFAULT_SCRIPTS,
    GENERIC_SCRIPT,
    JOINT_KINDS,
    JOINT_ORDER,
    JOINT_SCRIPT_PREFIX,
    SCORE_KINDS,
    CallbackPolicy,
    JointScripts,
    Window,
    _convert,
    _languages,
    _load,
    _own_script,
    _script_map,
    asks_score,
    churn_reason_of,
    compose_joint,
    in_rest,
    joint_kinds_of,
    joint_script_id,
    load_policy,
    parse_clock,
    parse_duration,
    policy_from_dict,
    script_for,
    script_key,
    script_problems,
    with_joint_scripts,
)
from seat.config import Settings, load_settings
from seat.customers import ValidationError
from seat.db import (
    Prepared,
    PreparedIds,
    few_collections,
    insert_many,
    kept_at,
    optimize_statistics,
    prepared,
    prune_list_changes,
    stored_at,
)
from seat.errors import PolicyError as PolicyError
from seat.errors import StaleCallback as StaleCallback
from seat.errors import StorageError
from seat.i18n import N_, _, ngettext
from seat.members import MemberPolicy
from seat.models import (
    CLOSED_COMPLAINT_STATUSES,
    Agent,
    Call,
    Callback,
    CallbackEvent,
    CallbackKind,
    CallbackStatus,
    Complaint,
    Customer,
    CustomerChange,
    Outcome,
    PhoneNumber,
    Purchase,
    Role,
    WorkOrder,
    WorkOrderEvent,
)
from seat.queues import CallbackItem
from seat.roles import REASSIGN_CALLBACK, WORK_CASES, PermissionDenied, may, require
from seat.textguard import check_text

T = TypeVar("T")
log = logging.getLogger("seat.callbacks")


class _Transactions(Protocol):
    """What run_scheduler needs of the services object (seat.services.Desk)."""

    settings: Settings

    def now(self) -> datetime: ...

    def run(self, fn: Callable[[Session], T], *, write: bool = False) -> T: ...


MISSED = "missed"  # a status beyond CallbackStatus: tries used up, stays visible
RETRY_OUTCOMES = (Outcome.NO_ANSWER.value, "busy")
KIND_LABELS = labels.CALLBACK_KINDS
STATUS_LABELS = labels.CALLBACK_STATUSES
RULE_LABELS = labels.CALLBACK_RULES


def kind_label(kind: str) -> str:
    """A callback kind as the agent reads it ("complaint follow-up"), current language."""
    return _(KIND_LABELS[kind]) if kind in KIND_LABELS else kind.replace("_", " ")


def status_label(status: str) -> str:
    """A callback status ("open", "missed") in the current language."""
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def rule_label(rule: str) -> str:
    """A scheduler cadence ("new buyer") in the current language."""
    return _(RULE_LABELS[rule]) if rule in RULE_LABELS else rule.replace("_", " ")


WRONG_NUMBER = "wrong_number"
MAX_SNOOZE = timedelta(days=90)


@lru_cache(maxsize=1)
def default_policy() -> CallbackPolicy:
    """The policy for callers that were not handed one (saving a call settles its callback).

    A broken policy file must never stop a call from being saved: the built-in defaults
    apply then, and the scheduler (run at start-up) is the one that reports the file.
    """
    try:
        settings = load_settings()
    except (OSError, ValueError):
        settings = Settings()
    try:
        return load_policy(settings)
    except PolicyError as exc:
        log.warning("%s; the built-in callback rules apply", exc)
        return replace(CallbackPolicy(), home_zone=settings.local_timezone)


# -- rest hours (pure) ----------------------------------------------------------------------


def callable_at(at: datetime, *, zones: Sequence[str], windows: Sequence[Window]) -> bool:
    """May the customer be called at this instant (outside rest hours in every zone)?"""
    return not any(in_rest(at.astimezone(ZoneInfo(z)).time(), windows) for z in zones)


def next_window(
    at: datetime,
    *,
    zones: Sequence[str],
    windows: Sequence[Window],
    horizon: timedelta = timedelta(days=3),
) -> datetime | None:
    """The first instant from `at` on when the customer may be called (`at` if now)."""
    if callable_at(at, zones=zones, windows=windows):
        return at
    candidates: set[datetime] = set()
    for name in zones:
        zone = ZoneInfo(name)
        local = at.astimezone(zone)
        for days in range(horizon.days + 2):
            day = local.date() + timedelta(days=days)
            for _start, end in windows:
                opens = datetime.combine(day, end, tzinfo=zone).astimezone(UTC)
                if at < opens <= at + horizon:
                    candidates.add(opens)
    for opens in sorted(candidates):
        if callable_at(opens, zones=zones, windows=windows):
            return opens
    return None


def number_zones(e164: str | None, home_zone: str, windows: tuple[Window, ...]) -> tuple[str, ...]:
    """The zones whose rest hours apply to a number (key_zones of its seat.phone.zones_key)."""
    return key_zones(phone.zones_key(e164), home_zone, windows)


@lru_cache(maxsize=4096)
def key_zones(key: str | None, home_zone: str, windows: tuple[Window, ...]) -> tuple[str, ...]:
    """The zones whose rest hours apply to a number whose zones are `key`
    (seat.phone.zones_key: what callback.zones keeps).

    One zone: that one. Several (a country spanning zones, a toll-free number): the desk's
    own zone if it is among them; else all of them when they share a window to call in;
    else the first listed. No zone known: the desk's zone.
    """
    zones = (key or "").split()
    if not zones:
        return (home_zone,)
    if len(zones) == 1:
        return (zones[0],)
    if home_zone in zones:
        return (home_zone,)
    refs = (datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 7, 6, tzinfo=UTC))
    if all(next_window(r, zones=zones, windows=windows) for r in refs):
        return tuple(zones)
    return (zones[0],)


def _good_phone(customer_id_col: Any) -> Any:
    """Scalar subquery: the customer's first number not flagged as wrong."""
    return (
        select(PhoneNumber.e164)
        .where(PhoneNumber.customer_id == customer_id_col, PhoneNumber.wrong_number.is_(False))
        .order_by(PhoneNumber.id)
        .limit(1)
        .scalar_subquery()
    )


def customer_zones(
    *, session: Session, customer_id: int, policy: CallbackPolicy
) -> tuple[str, ...]:
    """The zones whose rest hours apply to a customer (their first working number)."""
    e164 = session.execute(
        select(PhoneNumber.e164)
        .where(PhoneNumber.customer_id == customer_id, PhoneNumber.wrong_number.is_(False))
        .order_by(PhoneNumber.id)
        .limit(1)
    ).scalar()
    return number_zones(e164, policy.home_zone, policy.rest_windows)


@dataclass(frozen=True)
class RestClash:
    """A time asked for a callback that falls in the customer's rest hours."""

    asked: datetime
    opens_at: datetime
    """The first time from `asked` on when the customer may be called."""
    zone: str
    """The customer's time zone (the first, when rest hours apply in several)."""


def rest_clash(
    *, session: Session, customer_id: int, at: datetime, policy: CallbackPolicy
) -> RestClash | None:
    """None when the customer may be called at `at`; else when their rest hours end."""
    zones = customer_zones(session=session, customer_id=customer_id, policy=policy)
    if callable_at(at, zones=zones, windows=policy.rest_windows):
        return None
    opens = next_window(at, zones=zones, windows=policy.rest_windows)
    if opens is None:  # rest hours that never end in the zones' overlap: nothing to offer
        return None
    return RestClash(asked=at, opens_at=opens, zone=zones[0])


# -- one call for several callbacks ---------------------------------------------------------


def _work_day(due: datetime, now: datetime, zone: str) -> date:
    """The customer's day a callback is worked on: its due day, or today once overdue."""
    return max(due, now).astimezone(ZoneInfo(zone)).date()


def joint_callbacks(
    *, session: Session, callback_id: int, now: datetime, policy: CallbackPolicy
) -> list[Callback]:
    """The open callbacks walked in one call with this one (it first), by due time.

    The member-care callbacks of one customer (JOINT_KINDS: a birthday or holiday greeting,
    a renewal, a maintenance reminder, a routine call, a churned-member call) worked on the
    same day (the customer's day; an overdue one counts as today) are one call: the customer
    hears from us once, and one outcome settles them all. One callback of each kind: the
    earliest due.
    """
    cb = session.get(Callback, callback_id)
    if cb is None:
        return []
    if cb.kind not in JOINT_KINDS or cb.status != CallbackStatus.OPEN:
        return [cb]
    zone = customer_zones(session=session, customer_id=cb.customer_id, policy=policy)[0]
    day = _work_day(cb.due_at, now, zone)
    others = session.execute(
        select(Callback)
        .where(
            Callback.customer_id == cb.customer_id,
            Callback.id != cb.id,
            Callback.status == CallbackStatus.OPEN,
            Callback.kind.in_(sorted(JOINT_KINDS - {cb.kind})),
        )
        .order_by(Callback.due_at, Callback.id)
    ).scalars()
    walked, kinds = [cb], {cb.kind}
    for o in others:
        if o.kind not in kinds and _work_day(o.due_at, now, zone) == day:
            walked.append(o)
            kinds.add(o.kind)
    return walked


@dataclass(frozen=True)
class CallbackCall:
    """What a callback call reads: its script, its reason, the callbacks it settles."""

    callback_ids: tuple[int, ...]
    kinds: tuple[str, ...]
    customer_id: int
    script_id: str
    reason: str


def plan_call(
    *,
    session: Session,
    callback_id: int,
    now: datetime,
    policy: CallbackPolicy,
    scripts: Container[str],
) -> CallbackCall | None:
    """The call to make for a callback (None: it is gone)."""
    walked = joint_callbacks(session=session, callback_id=callback_id, now=now, policy=policy)
    if not walked:
        return None
    kinds = tuple(dict.fromkeys(c.kind for c in walked))
    return CallbackCall(
        callback_ids=tuple(c.id for c in walked),  # type: ignore[misc]
        kinds=kinds,
        customer_id=walked[0].customer_id,
        script_id=script_for(kinds, policy, scripts),
        reason=" · ".join(c.reason for c in walked),
    )


def record_call(
    *,
    session: Session,
    callback_id: int,
    script_id: str,
    agent_id: int,
    outcome: str,
    now: datetime,
    number: str | None = None,
    score: int | None = None,
    answers: str = "",
    policy: CallbackPolicy | None = None,
    churn_reason: str | None = None,
) -> list[Callback]:
    """Settle a callback call: its callback, and those walked with it in the same script.

    A companion is settled only when the script read covers its kind (a joint script, one
    named for it or one composed for its kinds), so a call that asked only part of it leaves
    the other callbacks open. `churn_reason`: the
    win-back script's answer, kept by the churned-member callback it settles.
    """
    policy = policy or default_policy()
    walked = joint_callbacks(session=session, callback_id=callback_id, now=now, policy=policy)
    covers = {
        kind for key, sid in policy.scripts if sid == script_id for kind in key.split("+")
    } | set(joint_kinds_of(script_id))
    settled: list[Callback] = []
    for i, cb in enumerate(walked):
        if i and cb.kind not in covers:
            continue
        note = answers
        if i:
            note = _("one call with callback #{id}").format(id=callback_id) + (
                f"; {answers}" if answers else ""
            )
        done = record_attempt(
            session=session,
            callback_id=cb.id,  # type: ignore[arg-type]
            agent_id=agent_id,
            outcome=outcome,
            now=now,
            number=number,
            score=score,
            policy=policy,
            note=note,
            churn_reason=churn_reason,
        )
        if done is not None:
            settled.append(done)
    return settled


# -- a callback is made ---------------------------------------------------------------------


def create_callback(
    *,
    session: Session,
    now: datetime,
    customer_id: int,
    owner_id: int,
    due_at: datetime | None,
    reason: str,
    kind: str = CallbackKind.MANUAL,
    call_id: int | None = None,
) -> Callback:
    """A callback an agent promised (on a call); its history starts with a "create" event."""
    errors: dict[str, str] = {}
    reason = check_text(errors, "reason", reason, N_("Reason"), 2000)
    if due_at is None:
        errors["due_at"] = _("A due time is required.")
    elif due_at <= now:
        errors["due_at"] = _("The due time is in the past; pick a time from now on.")
    if errors:
        raise ValidationError(errors)
    cb = Callback(
        customer_id=customer_id,
        owner_id=owner_id,
        call_id=call_id,
        kind=kind,
        reason=reason,
        due_at=due_at,
        created_at=now,
        zones=customers.zones_key(session=session, customer_id=customer_id),
    )
    lifecycle.record_event(session, cb, agent_id=owner_id, at=now, action="create", comment=reason)
    return cb


def get_callback(*, session: Session, callback_id: int) -> Callback | None:
    return session.get(Callback, callback_id)


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# -- attempts -------------------------------------------------------------------------------


def record_attempt(
    *,
    session: Session,
    callback_id: int,
    agent_id: int,
    outcome: str,
    now: datetime,
    number: str | None = None,
    score: int | None = None,
    policy: CallbackPolicy | None = None,
    note: str = "",
    churn_reason: str | None = None,
) -> Callback | None:
    """Settle one try at a callback; only an open callback changes.

    No answer / busy: tried again later (next call window after the retry delay) until
    `max_attempts`, then "missed". Wrong number: the number is flagged; the callback stays
    open if the customer has another number, else it is missed. Anything else: done, with
    the satisfaction score when one was given and the kind measures satisfaction, and a
    churned member's reason (`churn_reason_of`). `note` (the answers a script captured)
    goes on the attempt's event.
    """
    policy = policy or default_policy()
    cb = session.get(Callback, callback_id)
    if cb is None or cb.status != CallbackStatus.OPEN:
        return cb
    roles.require(session.get(Agent, agent_id), roles.TAKE_CALLS)

    def event(action: str, comment: str) -> None:  # each one a version (seat.lifecycle)
        lifecycle.record_event(
            session, cb, agent_id=agent_id, at=now, action=action, comment=comment
        )

    cb.attempts += 1
    cb.last_outcome = outcome
    cb.last_attempt_at = now
    comment = outcome.replace("_", " ")
    if outcome in RETRY_OUTCOMES:
        if cb.attempts >= policy.max_attempts:
            cb.status = MISSED
            event("attempt", comment)
            event(MISSED, f"{cb.attempts} tries without an answer")
        else:
            delay = policy.busy_retry_after if outcome == "busy" else policy.retry_after
            zones = customer_zones(session=session, customer_id=cb.customer_id, policy=policy)
            retry = now + delay
            cb.due_at = next_window(retry, zones=zones, windows=policy.rest_windows) or retry
            event("attempt", f"{comment}; next try {_utc(cb.due_at)}")
    elif outcome == WRONG_NUMBER:
        flagged = None
        if number:
            flagged = session.execute(
                select(PhoneNumber).where(
                    PhoneNumber.e164 == number, PhoneNumber.customer_id == cb.customer_id
                )
            ).scalar_one_or_none()
        if flagged is not None:
            flagged.wrong_number = True
            session.add(flagged)
            session.flush()
            customers.refresh_callback_zones(session=session, customer_id=cb.customer_id)
        event("attempt", f"wrong number {number or '?'}")
        left = session.execute(
            select(func.count())
            .select_from(PhoneNumber)
            .where(PhoneNumber.customer_id == cb.customer_id, PhoneNumber.wrong_number.is_(False))
        ).scalar_one()
        if not left:
            cb.status = MISSED
            event(MISSED, "no working number on file")
    else:
        cb.status = CallbackStatus.DONE
        cb.done_at = now
        if score is not None and 1 <= score <= 5 and asks_score(cb.kind):
            cb.score = score
            comment += f"; score {score}"
        reason = churn_reason_of(cb.kind, churn_reason)
        if reason is not None:
            cb.churn_reason = reason
        if note:
            comment += f"; {note}"
        event("attempt", comment)
    return cb


# -- ownership: snooze and reassign ---------------------------------------------------------


def _open_callback(session: Session, callback_id: int, statuses: Iterable[str]) -> Callback:
    cb = session.get(Callback, callback_id)
    if cb is None:
        raise ValidationError({"callback": _("Callback #{id} is gone.").format(id=callback_id)})
    if cb.status not in tuple(statuses):
        raise ValidationError(
            {
                "callback": _("Callback #{id} is {status}; it cannot change now.").format(
                    id=callback_id, status=status_label(cb.status)
                )
            }
        )
    return cb


def snooze(
    *,
    session: Session,
    callback_id: int,
    agent_id: int,
    until: datetime | None,
    reason: str,
    now: datetime,
) -> Callback:
    """Move an open callback to a new due time, with the reason recorded (owner/supervisor)."""
    errors: dict[str, str] = {}
    reason = check_text(
        errors, "reason", reason, N_("The reason"), 500,
        missing=_("Say why the callback is snoozed."),
    )  # fmt: skip
    if until is None:
        errors.setdefault("until", _("A new due time is required."))
    elif until <= now:
        errors["until"] = _("The new due time is in the past; pick a time from now on.")
    elif until > now + MAX_SNOOZE:
        errors["until"] = ngettext(
            "Snooze at most {n} day ahead.", "Snooze at most {n} days ahead.", MAX_SNOOZE.days
        ).format(n=MAX_SNOOZE.days)
    cb = _open_callback(session, callback_id, (CallbackStatus.OPEN,))
    actor = session.get(Agent, agent_id)
    if actor is None or (cb.owner_id != agent_id and not may(actor, REASSIGN_CALLBACK)):
        raise PermissionDenied(_("Only the callback's owner or a supervisor can snooze it."))
    require(actor, WORK_CASES)
    if errors:
        raise ValidationError(errors)
    assert until is not None
    old = cb.due_at
    cb.due_at = until
    cb.snooze_reason = reason
    lifecycle.record_event(
        session, cb, agent_id=agent_id, at=now, action="snooze",
        comment=f"{reason} · due {_utc(old)} → {_utc(until)}",
    )  # fmt: skip
    return cb


def reassign(
    *,
    session: Session,
    callback_id: int,
    actor_id: int,
    new_owner_id: int | None,
    now: datetime,
    comment: str = "",
) -> Callback:
    """A supervisor gives a callback to another agent; a missed one is reopened for them."""
    actor = session.get(Agent, actor_id)
    if actor is None:
        raise PermissionDenied(_("Sign in first."))
    require(actor, REASSIGN_CALLBACK)  # the whole refusal in one language
    cb = _open_callback(session, callback_id, (CallbackStatus.OPEN, MISSED))
    new = session.get(Agent, new_owner_id) if new_owner_id is not None else None
    if new is None or not new.active:
        raise ValidationError({"owner": _("Choose an active agent.")})
    if new.id == cb.owner_id:
        raise ValidationError({"owner": _("The callback is already theirs; choose someone else.")})
    errors: dict[str, str] = {}
    comment = check_text(errors, "comment", comment, N_("Comment"), 2000, required=False)
    if errors:
        raise ValidationError(errors)
    old = session.get(Agent, cb.owner_id)
    text = f"{old.display_name if old else cb.owner_id} → {new.display_name}"
    if cb.status == MISSED:
        cb.status = CallbackStatus.OPEN
        cb.attempts = 0
        cb.due_at = max(cb.due_at, now)
        text += " (reopened after missed tries)"
    if comment:
        text += f": {comment}"
    cb.owner_id = new.id  # type: ignore[assignment]
    lifecycle.record_event(session, cb, agent_id=actor_id, at=now, action="reassign", comment=text)
    return cb


# -- the scheduler --------------------------------------------------------------------------


@dataclass(frozen=True)
class Scheduled:
    source_key: str
    kind: str
    customer_id: int
    owner_id: int
    due_at: datetime
    reason: str

    @property
    def rule(self) -> str:
        """The cadence that made it: satisfaction, new_buyer, complaint, birthday, churned."""
        return self.source_key.split(":", 1)[0]


@dataclass
class ScheduleReport:
    created: list[Scheduled] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: bool = False
    """The rules already ran today, or another seat is running them: nothing was done."""

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.created:
            out[s.rule] = out.get(s.rule, 0) + 1
        return out

    def summary(self) -> str:
        """What the run did, in the current language, for the agent who ran it."""
        if self.skipped:
            return _("Another seat is running the callback rules now.")
        if not self.created and not self.cancelled:
            text = _("No new callbacks were due to be scheduled.")
        else:
            n = len(self.created)
            parts = _(", ").join(f"{rule_label(k)} {c}" for k, c in self.counts().items())
            text = ngettext("Scheduled {n} callback", "Scheduled {n} callbacks", n).format(n=n)
            if parts:
                text += _(" ({parts})").format(parts=parts)
            if self.cancelled:
                m = len(self.cancelled)
                text += ngettext(
                    "; cancelled {n} follow-up of a closed complaint",
                    "; cancelled {n} follow-ups of closed complaints",
                    m,
                ).format(n=m)
            text += _(".")
        return " ".join([text, *self.problems])


class _Owners:
    """Who gets a scheduled callback (see the module docstring)."""

    def __init__(self, session: Session, policy: CallbackPolicy) -> None:
        self.session = session
        self.policy = policy
        rows = session.execute(
            select(Agent.id, Agent.role).where(Agent.active).order_by(Agent.id)
        ).all()
        self.active = {r.id for r in rows}
        self.pool = [r.id for r in rows if r.role == Role.AGENT] or [r.id for r in rows]
        done = session.execute(
            select(func.count()).select_from(Callback).where(Callback.source_key.is_not(None))
        ).scalar_one()
        self.turn = done % len(self.pool) if self.pool else 0

    def round_robin(self) -> int:
        agent = self.pool[self.turn % len(self.pool)]
        self.turn += 1
        return agent

    def last_agents(self, customer_ids: Iterable[int]) -> dict[int, int]:
        """Each customer's latest call's agent (the latest by start, of two started
        together the later made), a chunk of customers per query: one index step back
        per customer (call's (customer_id, started_at)), not every call of theirs."""
        ids = sorted(set(customer_ids))
        found: dict[int, int] = {}
        if self.policy.owner_rule != "last_agent":
            return found
        conn = self.session.connection()
        for i in range(0, len(ids), 500):
            found.update(
                (cid, agent)
                for cid, agent in _LAST_AGENTS.execute(conn, ids[i : i + 500])
                if agent is not None
            )
        return found

    def assign(self, wanted: Sequence[tuple[int, int | None]]) -> list[int]:
        """Owners for (customer, preferred agent) pairs, in order."""
        last = self.last_agents(c for c, preferred in wanted if preferred not in self.active)
        owners = []
        for customer_id, preferred in wanted:
            if preferred in self.active:
                owners.append(preferred)
            elif last.get(customer_id) in self.active:
                owners.append(last[customer_id])
            else:
                owners.append(self.round_robin())
        return owners  # type: ignore[return-value]


_LAST_AGENTS = PreparedIds(
    lambda ids: select(
        Customer.id,
        select(Call.agent_id)
        .where(Call.customer_id == Customer.id)
        .order_by(Call.started_at.desc(), Call.id.desc())
        .limit(1)
        .scalar_subquery(),
    ).where(Customer.id.in_(ids))
)
"""Each customer's latest call's agent (ids: nothing to convert)."""
_OPEN_JOINT = PreparedIds(
    lambda ids: select(Callback.customer_id, Callback.kind, Callback.due_at, Callback.owner_id)
    .where(
        Callback.customer_id.in_(ids),
        Callback.status == CallbackStatus.OPEN.value,
        Callback.kind.in_(sorted(JOINT_KINDS)),
    )
    .order_by(Callback.due_at, Callback.id)
)
"""The open member-care callbacks of these customers (the due time as stored: `stored_at`)."""
_KEYS_MISSING = PreparedIds(
    lambda keys: text(
        "WITH wanted (i, k) AS (VALUES "
        + ", ".join(f"({i}, :{p.key})" for i, p in enumerate(keys))
        + ") SELECT wanted.i FROM wanted WHERE NOT EXISTS "
        "(SELECT 1 FROM callback WHERE callback.source_key = wanted.k)"
    ).bindparams(*keys)
)
"""The places in the list of the source keys no callback holds: a probe of the key's unique
index each, and a row only for the few missing (reading back every key held, nearly all of
them, cost as much again); places, not the texts, so a key is found as given."""
_CUSTOMER_TIERS = PreparedIds(
    lambda ids: select(Customer.id, Customer.tier).where(Customer.id.in_(ids))
)
"""Customers' tiers (ids and texts: nothing to convert)."""


class _Run:
    """One scheduler run: what exists, what to create (inserted together at the end)."""

    def __init__(
        self,
        session: Session,
        now: datetime,
        policy: CallbackPolicy,
        since: datetime | None,
        member_policy: MemberPolicy | None = None,
        holidays: Sequence[date] = (),
        purchase_mark: int | None = None,
    ) -> None:
        self.session = session
        self.now = now
        self.policy = policy
        self.members = member_policy or MemberPolicy()
        """The member rules: what churn is, which levels have a dedicated owner, care."""
        self.holidays = tuple(holidays)
        """The business calendar's holidays (complaints.toml [calendar]): greetings."""
        self.since = since
        """The clock time of the last finished run under the same policy (None: a full run)."""
        self.purchase_mark = purchase_mark if since is not None else None
        """The highest purchase id that run saw (None: not known, every line is read)."""
        self.covered: date | None = None
        """The last day of that run's look-ahead window: the care calls due by it were made
        then for what was on file (what came later is found by its own marks: a purchase's
        id, a customer's joining or tier change)."""
        if since is not None:
            zone = ZoneInfo(policy.home_zone)
            self.covered = since.astimezone(zone).date() + timedelta(days=policy.horizon_days)
        self.owners = _Owners(session, policy)
        self.report = ScheduleReport()
        self.rows: list[dict[str, Any]] = []
        self.preferred: list[int | None] = []
        self.follows: dict[int, int] = {}
        """Row index -> the row index whose owner it takes (one call for both)."""
        self.joined: set[int] = set()
        """Row indexes that join an open callback: they keep its owner (one call)."""
        self._keys: dict[int, str] = {}
        self._zones: dict[str, str] = {}
        """zones key -> the zone of its rest hours (`key_zones`'s first)."""
        self._due: dict[tuple[date, str], datetime] = {}
        self._work_days: dict[tuple[datetime, str], date] = {}
        self.found: list[care.CareCall] = []
        """The care calls a rule found, made by its next part (`_maintenance_made`)."""

    def existing(self, keys: Sequence[str]) -> set[str]:
        """The keys of `keys` that callbacks hold: all but those the database finds missing
        (`_KEYS_MISSING`, built once per size: an IN of 500 keys compiled again at every
        chunk cost more than reading it)."""
        missing: set[str] = set()
        conn = self.session.connection()
        for i in range(0, len(keys), 500):
            chunk = list(keys[i : i + 500])
            last = len(chunk) - 1  # the statement's list is padded with the last key
            missing.update(chunk[min(at, last)] for (at,) in _KEYS_MISSING.execute(conn, chunk))
        return set(keys) - missing

    def know_zones(self, customer_ids: Iterable[int]) -> None:
        """Read the zones of these customers' callbacks together (`zones_key` then reads
        nothing for them)."""
        wanted = {cid for cid in customer_ids if cid not in self._keys}
        if wanted:
            self._keys.update(customers.zones_keys(session=self.session, customer_ids=wanted))

    def zones_key(self, customer_id: int) -> str:
        """The customer's seat.phone.zones_key (what their callbacks keep)."""
        if customer_id not in self._keys:
            self._keys[customer_id] = customers.zones_key(
                session=self.session, customer_id=customer_id
            )
        return self._keys[customer_id]

    def zone(self, customer_id: int) -> str:
        key = self.zones_key(customer_id)
        zone = self._zones.get(key)
        if zone is None:
            zone = self._zones[key] = key_zones(
                key, self.policy.home_zone, self.policy.rest_windows
            )[0]
        return zone

    def due_on(self, day: date, customer_id: int) -> datetime:
        """The policy's hour of `day` in the customer's zone (thousands of a run's calls
        share a few days and zones: each instant is made once)."""
        zone = self.zone(customer_id)
        due = self._due.get((day, zone))
        if due is None:
            due = self._due[day, zone] = datetime.combine(
                day, self.policy.call_at, tzinfo=ZoneInfo(zone)
            ).astimezone(UTC)
        return due

    def work_day(self, due: datetime, customer_id: int) -> date:
        """`_work_day` of a callback of the customer's (memoised per instant and zone)."""
        zone = self.zone(customer_id)
        at = due if due > self.now else self.now  # an overdue one is worked today
        day = self._work_days.get((at, zone))
        if day is None:
            day = self._work_days[at, zone] = _work_day(at, self.now, zone)
        return day

    def local_day(self, at: datetime, customer_id: int) -> date:
        return at.astimezone(ZoneInfo(self.zone(customer_id))).date()

    def create(
        self,
        *,
        key: str,
        kind: str,
        customer_id: int,
        due_at: datetime,
        reason: str,
        owner: int | None = None,
        complaint_id: int | None = None,
        work_order_id: int | None = None,
    ) -> None:
        self.rows.append(
            {
                "customer_id": customer_id,
                "call_id": None,
                "kind": str(kind),
                "reason": reason[:2000],
                "due_at": due_at,
                "status": CallbackStatus.OPEN.value,
                "attempts": 0,
                "created_at": self.now,
                "source_key": key[:120],
                "complaint_id": complaint_id,
                "work_order_id": work_order_id,
                "version": 1,
                "zones": self.zones_key(customer_id),
            }
        )
        self.preferred.append(owner)

    def finish(self) -> ScheduleReport:
        """Insert the new callbacks and their "scheduled" events in a few statements
        (`assign`, then `write` of every row)."""
        self.assign()
        self.write(0, len(self.rows))
        return self.report

    def assign(self) -> None:
        """Each new callback's owner and customer tier, and the report's list of them.

        Owners: a customer's active dedicated owner first (members.callback_owner: level 1
        by the member rules; not a complaint follow-up, nor a callback joining an open one),
        then the scheduler's own rule (`_Owners`)."""
        dedicated = members.dedicated_owners(
            self.session, {r["customer_id"] for r in self.rows}, self.members
        ) if self.rows else {}  # fmt: skip
        wanted = [
            (
                r["customer_id"],
                p if i in self.joined else members.callback_owner(
                    r["kind"], p, dedicated.get(r["customer_id"]), self.owners.active
                ),
            )
            for i, (r, p) in enumerate(zip(self.rows, self.preferred, strict=True))
        ]  # fmt: skip
        owners = self.owners.assign(wanted)
        for row, lead in self.follows.items():
            owners[row] = owners[lead]
        for row, owner in zip(self.rows, owners, strict=True):
            row["owner_id"] = owner
            self.report.created.append(
                Scheduled(
                    row["source_key"],
                    row["kind"],
                    row["customer_id"],
                    owner,
                    row["due_at"],
                    row["reason"],
                )
            )
        # Each with its customer's tier: the triggers that keep it (migration 0035) find it
        # right and write nothing more (else a second write of every new callback).
        customers = sorted({r["customer_id"] for r in self.rows})
        tiers: dict[int, str] = {}
        conn = self.session.connection()
        for i in range(0, len(customers), 500):
            tiers.update(_CUSTOMER_TIERS.execute(conn, customers[i : i + 500]).all())  # type: ignore[arg-type]
        for row in self.rows:
            row["customer_tier"] = tiers.get(row["customer_id"])

    def write(self, start: int, stop: int) -> None:
        """Insert the assigned rows[start:stop] and their "scheduled" events: `start` a
        multiple of 500 (WRITE_CHUNK), so the rows go in the same chunks, their events in
        the same order, whether written at once or a step at a time (`DayRun`)."""
        conn = self.session.connection()
        rows = self.rows[start:stop]
        table = Callback.__table__
        made = insert(table).returning(table.c.id, table.c.source_key)  # type: ignore[attr-defined]
        written = self._write_sqlite(conn, rows) if conn.dialect.name == "sqlite" else None
        for i in range(0, len(rows), WRITE_CHUNK):
            chunk = rows[i : i + WRITE_CHUNK]
            # Their events in the order of their source keys (as a chunk's ids were read
            # back by the source key's index before).
            if written is None:
                ids = sorted(conn.execute(made, chunk).all(), key=lambda r: r[1])
            else:
                ids = sorted(((written[r["source_key"]], r["source_key"]) for r in chunk),
                             key=lambda r: r[1])  # fmt: skip
            lifecycle.record_first_events(
                self.session,
                CallbackEvent,
                [
                    {
                        "callback_id": cb_id,
                        "agent_id": None,
                        "at": self.now,
                        "action": "scheduled",
                        "comment": f"by the rules: {key}",
                    }
                    for cb_id, key in ids
                ],
            )
        self.session.flush()

    def _write_sqlite(self, conn: Any, rows: list[dict[str, Any]]) -> dict[str, int]:
        """The new callbacks in one driver-level executemany (seat.db.insert_many: SQLite
        gives executemany no RETURNING), in the order of `rows` as the chunks of RETURNING
        inserted them; their ids (source key -> id): every id this transaction gives is
        above the highest before it (it holds the write lock from its first write; a file
        changed since its reads refuses that write), one after another in the rows' order
        (checked by counting them)."""
        self.session.flush()
        if not rows:
            return {}
        before = conn.exec_driver_sql("SELECT max(id) FROM callback").scalar() or 0
        insert_many(conn, Callback.__table__, rows)
        # Each row took the next id (an INTEGER PRIMARY KEY gives max + 1), in the order
        # given: counted, not read back key by key.
        n, last = conn.exec_driver_sql(
            "SELECT count(*), max(id) FROM callback WHERE id > ?", (before,)
        ).one()
        if n != len(rows) or last != before + len(rows):
            # not expected: a row without its id would lose its first event
            raise RuntimeError(f"new callbacks not numbered in order: {n} after {before}")
        return {r["source_key"]: before + 1 + i for i, r in enumerate(rows)}


WRITE_CHUNK = 500
"""New callbacks per insert (and per batch of their events, in source-key order)."""


def _after_service(run: _Run) -> None:
    since = run.now - timedelta(days=run.policy.lookback_days)
    # Only work orders with no satisfaction callback yet, by their key or linked to them.
    key = literal("satisfaction:wo:") + cast(WorkOrder.id, String)
    no_callback = (
        ~exists().where(Callback.source_key == key),
        ~exists().where(
            Callback.work_order_id == WorkOrder.id, Callback.kind == CallbackKind.SATISFACTION
        ),
    )
    completed: dict[int, datetime] = dict(
        run.session.execute(  # type: ignore[arg-type]
            select(WorkOrderEvent.work_order_id, func.min(WorkOrderEvent.at))
            .join(WorkOrder, WorkOrder.id == WorkOrderEvent.work_order_id)
            .where(WorkOrderEvent.to_status == "completed", WorkOrderEvent.at >= since,
                   *no_callback)
            .group_by(WorkOrderEvent.work_order_id)
        ).all()
    )  # fmt: skip
    finished = func.coalesce(WorkOrder.accepted_at, WorkOrder.closed_at)
    for wo_id, at in run.session.execute(
        select(WorkOrder.id, finished).where(
            WorkOrder.status.in_(("completed", "closed")), finished >= since, *no_callback
        )
    ).all():
        completed.setdefault(wo_id, at)
    if not completed:
        return
    ids = sorted(completed)
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        rows = run.session.execute(
            select(WorkOrder.id, WorkOrder.customer_id, WorkOrder.short_text).where(
                WorkOrder.id.in_(chunk)
            )
        ).all()
        run.know_zones(r.customer_id for r in rows)
        for wo_id, customer_id, short_text in rows:
            day = run.local_day(completed[wo_id], customer_id)
            run.create(
                key=f"satisfaction:wo:{wo_id}",
                kind=CallbackKind.SATISFACTION,
                customer_id=customer_id,
                due_at=run.due_on(day + timedelta(days=run.policy.after_service_days), customer_id),
                reason=(
                    f"satisfaction with work order #{wo_id} ({short_text}), "
                    f"completed {day:%Y-%m-%d}"
                ),
                work_order_id=wo_id,
            )


def _new_buyers(run: _Run) -> None:
    since = run.now - timedelta(days=run.policy.lookback_days)
    # The lines delivered in the lookback (the delivery day's index: a GROUP BY in SQL lets
    # SQLite scan every purchase by customer to skip a sort) of the orders not called yet
    # (their key), grouped per order here: the first delivery and the least item, in the
    # order a GROUP BY gives.
    key = func.substr(
        literal("new_buyer:") + cast(Purchase.customer_id, String) + literal(":order:")
        + Purchase.order_no, 1, 120,
    )  # fmt: skip
    orders: dict[tuple[int, str], tuple[datetime, str]] = {}
    for customer_id, order_no, delivered, item in run.session.connection().execute(
        select(Purchase.customer_id, Purchase.order_no, Purchase.delivered_at, Purchase.item)
        .where(Purchase.delivered_at.is_not(None), Purchase.delivered_at >= since,
               *_new_buyer_lines(run), ~exists().where(Callback.source_key == key))
    ):  # fmt: skip
        group = (customer_id, order_no)
        seen = orders.get(group)
        if seen is None:
            orders[group] = (delivered, item)
        else:
            orders[group] = (min(seen[0], delivered), min(seen[1], item))
    rows = [(*group, *orders[group]) for group in sorted(orders)]
    keys = [f"new_buyer:{r[0]}:order:{r[1]}"[:120] for r in rows]
    have = run.existing(keys)
    run.know_zones(r[0] for key, r in zip(keys, rows, strict=True) if key not in have)
    for key, (customer_id, order_no, delivered, item) in zip(keys, rows, strict=True):
        if key in have:
            continue
        day = run.local_day(delivered, customer_id)
        run.create(
            key=key,
            kind=CallbackKind.SATISFACTION,
            customer_id=customer_id,
            due_at=run.due_on(day + timedelta(days=run.policy.new_buyer_days), customer_id),
            reason=f"how the new {item} is working (order {order_no}, delivered {day:%Y-%m-%d})",
        )


MERGED_FROM = "merged_from"
"""seat.merge.MERGED_FROM: the survivor's line in the change history (merge imports this
module, so the word is repeated here; a test checks they agree)."""


def _new_buyer_lines(run: _Run) -> tuple[Any, ...]:
    """What a run from the watermark reads of the lookback's delivered lines (nothing more
    to add to a full run's WHERE): the last run made the calls of every line on file then
    (a line is never changed, only its customer by a merge), so only the lines above its
    highest purchase id (new, whatever their dates: an import of history too), those
    delivered since it (a day's overlap: a line another seat committed late), and the lines
    of the customers who took in another's by a merge since (the call's key names the
    customer) can lack theirs. About 25,000 lines and their key probes a day on the
    bench's data, against a few hundred."""
    if run.since is None or run.purchase_mark is None:
        return ()
    since = run.since - OVERLAP
    merged = select(CustomerChange.customer_id).where(
        CustomerChange.at >= since, CustomerChange.field == MERGED_FROM
    )
    lines = union(
        select(Purchase.id).where(Purchase.id > run.purchase_mark),
        select(Purchase.id).where(Purchase.delivered_at >= since),
        select(Purchase.id).where(Purchase.customer_id.in_(merged)),
    )
    return (Purchase.id.in_(lines),)


def _complaint_follow_ups(run: _Run) -> None:
    p = run.policy
    every = timedelta(days=max(p.complaint_every_days, 1))
    too_old = run.now - timedelta(days=p.lookback_days)
    still_open = Complaint.status.not_in(CLOSED_COMPLAINT_STATUSES)
    rows = run.session.connection().execute(
        select(
            Complaint.id,
            Complaint.customer_id,
            Complaint.owner_id,
            Complaint.created_at,
            Complaint.what_happened,
        ).where(still_open)
    ).all()
    wanted: list[tuple[str, Any, int, datetime]] = []
    for row in rows:
        elapsed = int((run.now - row.created_at) / every)
        # From the first follow-up not yet too old (the weeks before it are skipped anyway).
        first = max(1, -((row.created_at - too_old) // every) - 1)
        for n in range(first, max(p.complaint_min_follow_ups, elapsed + 1) + 1):
            due = row.created_at + n * every
            if due >= too_old:
                wanted.append((f"complaint:{row.id}:week:{n}", row, n, due))
    # The keys already made, looked up in the source key's unique index alone (reading
    # the open complaints' callbacks themselves took a row read each: ten times slower).
    have = run.existing([key for key, __, __, __ in wanted])
    run.know_zones(row.customer_id for key, row, __, __ in wanted if key not in have)
    for key, row, n, due in wanted:
        if key in have:
            continue
        what = " ".join(row.what_happened.split())
        run.create(
            key=key,
            kind=CallbackKind.COMPLAINT_FOLLOW_UP,
            customer_id=row.customer_id,
            due_at=due,
            reason=f"complaint #{row.id}, weekly follow-up {n}: {what[:80]}",
            owner=row.owner_id,
            complaint_id=row.id,
        )
    # Weekly follow-ups stop when the complaint closes: its after-close callback takes over.
    closed = select(Complaint.id).where(Complaint.status.in_(CLOSED_COMPLAINT_STATUSES))
    stale = run.session.execute(
        select(Callback).where(
            Callback.complaint_id.in_(closed),  # from the complaints: each one's few callbacks
            Callback.kind == CallbackKind.COMPLAINT_FOLLOW_UP,  # only they have such keys
            Callback.status == CallbackStatus.OPEN,
            Callback.source_key.like("complaint:%:week:%"),
        )
    ).scalars()
    for cb in stale:
        try:  # the conditional UPDATE: one settled or moved meanwhile keeps what happened
            lifecycle.record_event(
                run.session, cb, agent_id=None, at=run.now, action="cancelled",
                comment=f"complaint #{cb.complaint_id} closed",
            )  # fmt: skip
        except StaleCallback:
            continue
        cb.status = CallbackStatus.CANCELLED
        run.report.cancelled.append(cb.id)  # type: ignore[arg-type]
    run.session.flush()  # the rules after read through the connection (no autoflush)


def _next_birthday(born: date, today: date) -> date:
    for year in (today.year, today.year + 1):
        try:
            day = born.replace(year=year)
        except ValueError:  # 29 February in a common year: greet on the 28th
            day = date(year, 2, 28)
        if day >= today:
            return day
    raise AssertionError("unreachable")


def _on(year: int, month: int, day: int, *, later: bool) -> date:
    """The date, or for 29 February in a common year the day before (or, `later`, after)."""
    try:
        return date(year, month, day)
    except ValueError:
        return date(year, 3, 1) if later else date(year, 2, 28)


def _birthday_ranges(
    today: date, last: date, first_born: int, last_born: int
) -> list[tuple[date, date]] | None:
    """Per year of birth, the dates of birth greeted within today..last, a day wider each
    side (a superset: 29 February is never lost; `_next_birthday` decides), so the birthday
    index reads a few days per year instead of every member. None: every day is in."""
    lo, hi = today - timedelta(days=1), last + timedelta(days=1)
    if (hi - lo).days >= 365:
        return None
    spans = [((lo.month, lo.day), (hi.month, hi.day))]
    if lo.year != hi.year:
        spans = [((lo.month, lo.day), (12, 31)), ((1, 1), (hi.month, hi.day))]
    return [
        (_on(year, *start, later=False), _on(year, *end, later=True))
        for year in range(first_born, last_born + 1)
        for start, end in spans
    ]


def _birthdays(run: _Run) -> None:
    p = run.policy
    if not p.member_tiers:
        return
    today = run.now.astimezone(ZoneInfo(p.home_zone)).date()
    last = today + timedelta(days=p.birthday_days_before + p.horizon_days)
    # Two statements: each reads one end of the birthday index (together, every entry).
    oldest = run.session.execute(select(func.min(Customer.birthday))).scalar()
    youngest = run.session.execute(select(func.max(Customer.birthday))).scalar()
    if oldest is None or youngest is None:
        return
    ranges = _birthday_ranges(today, last, oldest.year, youngest.year)

    def greeted(year: int) -> Any:  # the greeting of `year` is made (its key exists)
        key = literal("birthday:") + cast(Customer.id, String) + literal(f":{year}")
        return exists().where(Callback.source_key == key)

    rows = run.session.connection().execute(
        select(Customer.id, Customer.birthday, greeted(today.year), greeted(today.year + 1))
        .where(
            Customer.tier.in_(p.member_tiers),
            Customer.birthday.is_not(None),
            Customer.merged_into_id.is_(None),  # not a merged-away tombstone (seat.merge)
            *(() if ranges is None else (or_(*(Customer.birthday.between(lo, hi)
                                              for lo, hi in ranges)),)),
        )
    ).all()  # fmt: skip
    wanted = []
    for customer_id, born, this_year, next_year in rows:
        when = _next_birthday(born, today)
        if when <= last and not (this_year if when.year == today.year else next_year):
            wanted.append((f"birthday:{customer_id}:{when.year}", customer_id, when))
    run.know_zones(w[1] for w in wanted)
    for key, customer_id, when in wanted:
        due = run.due_on(when - timedelta(days=p.birthday_days_before), customer_id)
        run.create(
            key=key,
            kind=CallbackKind.BIRTHDAY,
            customer_id=customer_id,
            due_at=max(due, run.now),
            reason=f"birthday greetings for {when:%m-%d} and the member's birthday offer",
        )


OVERLAP = timedelta(days=1)
"""How far before the last run's watermark a run looks again: what another seat committed
late, or wrote by a clock running behind, is still seen (looking twice creates nothing)."""


def _churn_candidates(run: _Run, cutoff: datetime) -> Any:
    """The customers whose churn may have changed since the last run (`run.since`): their
    last purchase (or joining, for those who never bought) crossed the cutoff since, their
    tier changed, or one of their churn callbacks moved (settled, the member may be due
    again). Every other member is as the last run left them: churned with their callback
    made, or not churned. (Purchases written later with an earlier time, as by an import of
    history, wait for the next full run: one under other rules.)"""
    assert run.since is not None
    since = run.since - OVERLAP
    crossed = since - timedelta(days=run.members.churn_after_days)
    return union(
        select(Customer.id).where(Customer.created_at >= crossed, Customer.created_at < cutoff),
        select(Purchase.customer_id).where(
            Purchase.purchased_at >= crossed, Purchase.purchased_at < cutoff
        ),
        select(CustomerChange.customer_id).where(
            CustomerChange.at >= since, CustomerChange.field == "tier"
        ),
        # From the events since (their time's index, which holds the action and the
        # callback: a day's few thousand), not from every churn callback ever made (28,000
        # on the bench's data, 200 more a day) each looking for its events.
        select(Callback.customer_id).where(
            Callback.id.in_(
                select(CallbackEvent.callback_id).where(
                    CallbackEvent.at >= since,
                    CallbackEvent.action.not_in(("scheduled", "create")),  # made, not moved
                )
            ),
            Callback.kind == CallbackKind.CHURNED,
            Callback.status != CallbackStatus.OPEN,  # an open one still waits: none is due
        ),
    )


def _churned(run: _Run) -> None:
    """Churned members (the member rules' churn: no purchase for `[churn] after_days` of
    members.toml, `members.churn_candidates`) of the churn tiers get a win-back call."""
    p = run.policy
    if not p.churn_tiers:
        return
    cutoff = members.churn_cutoff(run.now, run.members)
    only = () if run.since is None else (Customer.id.in_(_churn_candidates(run, cutoff)),)
    pending = exists().where(
        Callback.customer_id == Customer.id,
        Callback.kind == CallbackKind.CHURNED,
        Callback.status == CallbackStatus.OPEN,
    )
    rows = members.churn_candidates(
        run.session, now=run.now, policy=run.members, tiers=p.churn_tiers,
        where=(*only, ~pending),  # one open churn callback at a time
    )  # fmt: skip
    wanted = [(f"churned:{cid}:{last:%Y-%m-%d}", cid, last) for cid, last in rows]
    have = run.existing([w[0] for w in wanted])
    run.know_zones(w[1] for w in wanted if w[0] not in have)
    for key, customer_id, last in wanted:
        if key in have:
            continue
        run.create(
            key=key,
            kind=CallbackKind.CHURNED,
            customer_id=customer_id,
            due_at=run.now,
            reason=f"no purchase since {last:%Y-%m-%d}: ask why, mention the offer",
        )


def _care(run: _Run, wanted: Sequence[care.CareCall]) -> None:
    """Create the care calls not made yet, due at the policy's hour of their day (now at
    the earliest)."""
    have = run.existing([c.key for c in wanted])
    run.know_zones(c.customer_id for c in wanted if c.key not in have)
    for c in wanted:
        if c.key in have:
            continue
        run.create(
            key=c.key,
            kind=c.kind,
            customer_id=c.customer_id,
            due_at=max(run.due_on(c.day, c.customer_id), run.now),
            reason=c.reason,
        )


def _care_window(run: _Run) -> tuple[ZoneInfo, date, date]:
    zone = ZoneInfo(run.policy.home_zone)
    today = run.now.astimezone(zone).date()
    return zone, today, today + timedelta(days=run.policy.horizon_days)


def _renewals(run: _Run) -> None:
    """Memberships ending next month: a renewal call by the policy's day (seat.care); the
    memberships whose call is made are left out by the database (their key exists)."""
    __, today, __last = _care_window(run)
    key = (literal("renewal:") + cast(Customer.id, String) + literal(":")
           + cast(Customer.member_until, String))  # fmt: skip
    _care(run, care.renewals(run.session, today=today, now=run.now, policy=run.members,
                             where=(~exists().where(Callback.source_key == key),)))  # fmt: skip


def _holidays(run: _Run) -> None:
    """Holiday greetings to members, from the business calendar (seat.care)."""
    __, today, last = _care_window(run)
    _care(run, care.holiday_greetings(
        run.session, today=today, last=last, policy=run.members, holidays=run.holidays,
        tiers=run.policy.member_tiers,
    ))  # fmt: skip


def _maintenance(run: _Run) -> None:
    """A week before a purchased product's service day (seat.care)."""
    _maintenance_found(run)
    _maintenance_made(run)


def _maintenance_found(run: _Run, categories: slice = slice(None)) -> None:
    """The reminders the window calls for (`_maintenance`'s reading, kept on the run), of
    these of the policy's categories (a category's products are groups of their own)."""
    zone, today, last = _care_window(run)
    every = run.members.service_intervals[categories]
    run.found += care.maintenance(
        run.session, today=today, last=last, now=run.now, zone=zone, covered=run.covered,
        policy=replace(run.members, service_intervals=every), above=run.purchase_mark,
    )  # fmt: skip


def _maintenance_made(run: _Run) -> None:
    """Those not made yet (`_care`), in care.maintenance's order (by day, then key)."""
    found, run.found = sorted(run.found, key=lambda c: (c.day, c.key)), []
    _care(run, found)


def _routine(run: _Run) -> None:
    """Monthly in a customer's first year, quarterly after (seat.care). A run from the
    watermark reads the days its window gained since (`run.covered`) and, over the whole
    window, the customers whose tier changed or who joined since."""
    zone, today, last = _care_window(run)
    if run.since is None or run.covered is None:
        _care(run, care.routine(run.session, today=today, last=last, policy=run.members,
                                zone=zone))  # fmt: skip
        return
    since = run.since - OVERLAP
    changed = union(
        select(Customer.id).where(Customer.created_at >= since),
        select(CustomerChange.customer_id).where(
            CustomerChange.at >= since, CustomerChange.field == "tier"
        ),
    )
    wanted = {c.key: c for c in care.routine(
        run.session, today=today, last=last, policy=run.members, zone=zone,
        where=(Customer.id.in_(changed),),
    )}  # fmt: skip
    first = max(today, run.covered + timedelta(days=1))
    if first <= last:
        for c in care.routine(run.session, today=first, last=last, policy=run.members,
                              zone=zone):  # fmt: skip
            wanted.setdefault(c.key, c)
    _care(run, sorted(wanted.values(), key=lambda c: (c.day, c.key)))


def _join_same_day(run: _Run) -> None:
    """The member-care callbacks of one customer worked on the same day (JOINT_KINDS: a
    birthday or holiday greeting, a renewal, a maintenance reminder, a routine call, a
    churned-member call) get one due time and one owner: they sit together and are made as
    one call. New ones join an open one (its time, its owner); new ones alone together take
    the earliest time and the first one's owner."""
    new = [i for i, r in enumerate(run.rows) if r["kind"] in JOINT_KINDS]
    if not new:
        return
    # The days of the new ones first (rows made in this run join too, owner decided at the
    # end): an open callback on another day of its customer's joins nothing, so it is not
    # kept (the bench's day: ~4,700 open ones read, ~130 on a new one's day).
    made: dict[tuple[int, date], list[int]] = {}
    for i in new:
        row = run.rows[i]
        made.setdefault((row["customer_id"], run.work_day(row["due_at"], row["customer_id"])),
                        []).append(i)  # fmt: skip
    customers = sorted({cid for cid, __ in made})
    opened: dict[tuple[int, date], list[tuple[str, datetime, int | None]]] = {}
    conn = run.session.connection()  # driver rows, each time converted as the column's type
    # Thousands of open callbacks share a few due instants and zones: each stored time is
    # converted, and its work day found, once per zone.
    seen: dict[tuple[Any, str], tuple[datetime, date]] = {}
    for i in range(0, len(customers), 500):
        for cid, kind, stored, owner in _OPEN_JOINT.execute(conn, customers[i : i + 500]).all():
            zone = run.zone(cid)
            known = seen.get((stored, zone))
            if known is None:
                due = stored_at(stored)
                known = seen[stored, zone] = (due, run.work_day(due, cid))  # type: ignore[arg-type]
            if (cid, known[1]) in made:  # by due time, then id (_OPEN_JOINT's order)
                opened.setdefault((cid, known[1]), []).append((kind, known[0], owner))
    for day, rows in made.items():
        open_ = opened.get(day, ())
        if len(rows) + len(open_) < 2:  # alone on its day (most): nothing to join
            continue
        kinds = {run.rows[i]["kind"] for i in rows}.union(kind for kind, __, __ in open_)
        if len(kinds) < 2:
            continue
        if open_:  # an open callback (the earliest due): the new ones join it
            __, due, owner = open_[0]
            for i in rows:
                run.rows[i]["due_at"] = due
                run.preferred[i] = owner
                run.joined.add(i)
            continue
        lead, when = rows[0], min(run.rows[i]["due_at"] for i in rows)
        for i in rows:
            run.rows[i]["due_at"] = when
            if i != lead:
                run.follows[i] = lead


def schedule(
    *,
    session: Session,
    now: datetime,
    policy: CallbackPolicy,
    since: datetime | None = None,
    member_policy: MemberPolicy | None = None,
    holidays: Sequence[date] = (),
    purchase_mark: int | None = None,
) -> ScheduleReport:
    """Create the callbacks the rules call for; running it again creates nothing twice.

    `since`: the clock time of the last finished run under these same rules, whose
    callbacks are all made. The churn rule then looks only at the members whose facts
    changed since (`_churn_candidates`) and creates exactly what a full run would.
    `member_policy`: the member rules (churn, dedicated owners, the care cadences; the
    shipped defaults when not given); `holidays`: the business calendar's (greetings).
    The care cadences (seat.care) read a window of days ahead: a run from the watermark
    reads the days its window gained since, and (routine) the customers whose tier changed
    or who joined since, (maintenance, with `purchase_mark`: the highest purchase id the
    last run saw) the orders with a newer line; the new buyers' rule (with `purchase_mark`)
    the lines above it, delivered since or moved by a merge since (`_new_buyer_lines`); it
    makes what a full one would."""
    run = _Run(
        session, now, policy, since if since is not None and since <= now else None,
        member_policy, holidays, purchase_mark,
    )  # fmt: skip
    if not run.owners.pool:
        run.report.problems.append(
            _("No active agent to own callbacks: nothing was scheduled.")
        )
        return run.report
    for rule in (_after_service, _new_buyers, _complaint_follow_ups, _birthdays, _churned,
                 _renewals, _holidays, _maintenance, _routine):  # fmt: skip
        rule(run)
    _join_same_day(run)
    return run.finish()


def run_scheduler(desk: _Transactions, *, force: bool = False) -> ScheduleReport:
    """The scheduler once a day per database, in one transaction of the desk (call it from a
    worker thread). Every seat asks at start; the one that takes the day's lease
    (seat.leases) runs the rules, the others skip (`skipped`). `force` (a person asked) runs
    again on a day it already ran, though never beside another seat's run. SQLite's planner
    statistics are refreshed after the run (`PRAGMA optimize`). The day's watermark (the
    clock time the run saw, and which rules it kept) lets the next run look only at what
    changed since (`schedule`'s `since`).

    Two seats running together may race for the same source key: the loser's transaction
    is refused by the unique index and simply runs again, finding the winner's rows.

    A seat's start runs the same day in steps (`DayRun`, `run_step`), the same callbacks;
    this runs it whole (a person's forced run from the callbacks view, a bench's first).
    """
    policy = load_policy(desk.settings)
    member_policy = members.load_policy(desk.settings)
    holidays = calendar_holidays(desk.settings)
    now = desk.now()
    today = now.astimezone(ZoneInfo(desk.settings.local_timezone)).date()
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"
    job = leases.CALLBACK_RULES
    taken = desk.run(
        lambda s: leases.take(session=s, name=job, now=now, today=today, holder=holder,
                              force=force),
        write=True,
    )  # fmt: skip
    if not taken:
        return ScheduleReport(skipped=True)
    rules = rules_fingerprint(policy, member_policy)
    seen: list[tuple[datetime, int | None]] = []

    def day_run(session: Session) -> ScheduleReport:
        at = desk.now()
        with _run_cache(session):
            mark, kept = leases.watermark(session=session, name=job)
            bought = leases.purchase_mark(session=session, name=job)
            newest = session.execute(select(func.max(Purchase.id))).scalar()
            report = schedule(
                session=session, now=at, policy=policy, since=mark if kept == rules else None,
                member_policy=member_policy, holidays=holidays, purchase_mark=bought,
            )  # fmt: skip
        seen.append((at, newest if newest is not None else 0))
        return report

    try:
        for attempt in range(2):
            try:
                # The cycle collector paused: a day's run builds tens of thousands of rows,
                # keys and calls (no cycles among them), and each collection it set off walked
                # every object of the process again (a sort of 3,000 calls took 120 ms).
                with few_collections():
                    report = desk.run(day_run)
                break
            except StorageError as exc:
                if attempt or not isinstance(exc.__cause__, IntegrityError):
                    raise
    except BaseException:
        desk.run(lambda s: leases.release(session=s, name=job, holder=holder), write=True)
        raise
    def finish(session: Session) -> None:
        leases.finish(session=session, name=job, now=desk.now(), today=today, holder=holder,
                      watermark=seen[-1][0], rules=rules, purchase_mark=seen[-1][1])
        prune_list_changes(session.connection())  # PostgreSQL's log of the lists' writers

    desk.run(finish, write=True)
    desk.run(_optimize)
    return report


STEP_ROWS = WRITE_CHUNK
"""New callbacks a write step of the day's run (`DayRun`) inserts, with their events."""
STEP_PAUSE = 1.0
"""The longest a seat waits between two steps of the day's run, in seconds (seat.app waits
twice the step's time, up to this): the cores go back to the agents' screens between the
bursts."""
Rules = Callable[[_Run], None]


def _steps(members: MemberPolicy) -> list[tuple[Rules, bool]]:
    """The day's rules a step at a time, in `schedule`'s order (its `_maintenance` a step
    per service category, then one making what they found), and whether the step writes:
    the complaint follow-ups' (those of closed complaints cancelled); the others only
    read. Each looks its rule up when it runs."""
    maintenance = [
        (lambda run, i=i: _maintenance_found(run, slice(i, i + 1)), False)
        for i in range(len(members.service_intervals))
    ]  # fmt: skip
    return [
        (lambda run: (_after_service(run), _new_buyers(run)), False),
        (lambda run: _complaint_follow_ups(run), True),
        (lambda run: _birthdays(run), False),
        (lambda run: (_churned(run), _renewals(run), _holidays(run)), False),
        *maintenance,
        (lambda run: _maintenance_made(run), False),
        (lambda run: _routine(run), False),
        (lambda run: _join_same_day(run), False),
    ]  # type: ignore[return-value]


class DayRun:
    """The day's callback rules in steps, each its own transaction and a bounded part of
    the work (`run_step`): a seat runs them with a pause between (seat.app), so a day's
    few thousand callbacks are not one burst of a second of CPU.

    The first step takes the day's lease (seat.leases: other seats skip, as for
    `run_scheduler`) and runs the first rules; the next ones run the other rules (`_steps`:
    what they find is kept here), then the owners are assigned over all of it, then
    the callbacks are written STEP_ROWS at a time (each write step keeps the lease, or
    stops), the last with the day marked done and the watermark moved. The callbacks are
    those `run_scheduler` makes (the same rules in the same order, the same owners, ids and
    events): the rules read before any is written. A run stopped part way (the seat closed
    or died, a step failed) gives the lease back (or lets it run out) with the day not done
    and the watermark where it was: the next start runs the day again, and the callbacks
    already written are found by their keys (made once)."""

    def __init__(self, desk: _Transactions, *, force: bool = False) -> None:
        self.desk = desk
        self.force = force
        self.report: ScheduleReport | None = None
        """The day's report once the run is done (skipped: another seat has the day)."""
        self.steps = 0
        """Steps run so far."""
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"
        self._run: _Run | None = None
        self._todo: list[tuple[Callable[[Session], None], bool]] = []
        self._failed = False
        self._today: date | None = None
        self._rules = ""
        self._seen: tuple[datetime, int] | None = None

    @property
    def done(self) -> bool:
        return self.report is not None

    @property
    def left(self) -> int:
        """Steps known to be left (the write steps are known once the owners are)."""
        return len(self._todo)

    def step(self) -> bool:
        """Run the next step; True when the day's run is done (or skipped)."""
        if self.report is not None:
            return True
        if self._failed:
            raise RuntimeError("this day's run stopped: start another")
        self.steps += 1
        with few_collections():  # as run_scheduler's: no cycles among the rows
            try:
                if self.steps == 1:
                    return self._begin()
                work, write = self._todo.pop(0)
                self.desk.run(work, write=write)
                if not self._todo:
                    self.desk.run(_optimize)
                    self.report = self._run.report  # type: ignore[union-attr]
                    log.info("callback rules: the day's run done in %d steps", self.steps)
                    return True
            except BaseException:
                self._failed = True
                self.desk.run(lambda s: leases.release(session=s, name=leases.CALLBACK_RULES,
                                                       holder=self.holder), write=True)  # fmt: skip
                raise
        return False

    def stop(self) -> None:
        """The seat stops before the day is done: the lease goes back, the day stays to be
        run (the next start runs it; what was written is found by its keys)."""
        if self.report is not None or self._failed or self.steps == 0:
            return
        self._failed = True
        log.warning("callback rules: the day's run stopped after step %d, %d left; the next "
                    "start runs the day again", self.steps, len(self._todo))  # fmt: skip
        self.desk.run(lambda s: leases.release(session=s, name=leases.CALLBACK_RULES,
                                               holder=self.holder), write=True)  # fmt: skip

    def _begin(self) -> bool:
        desk = self.desk
        self._policy = load_policy(desk.settings)
        self._member_policy = members.load_policy(desk.settings)
        self._holidays = calendar_holidays(desk.settings)
        now = desk.now()
        today = self._today = now.astimezone(ZoneInfo(desk.settings.local_timezone)).date()
        taken = desk.run(
            lambda s: leases.take(session=s, name=leases.CALLBACK_RULES, now=now, today=today,
                                  holder=self.holder, force=self.force),
            write=True,
        )  # fmt: skip
        if not taken:
            self.report = ScheduleReport(skipped=True)
            return True
        self._rules = rules_fingerprint(self._policy, self._member_policy)
        desk.run(self._start)
        return False

    def _start(self, session: Session) -> None:
        """The run's clock and marks (as run_scheduler's day_run reads them), then the first
        rules."""
        at = self.desk.now()
        job = leases.CALLBACK_RULES
        mark, kept = leases.watermark(session=session, name=job)
        bought = leases.purchase_mark(session=session, name=job)
        newest = session.execute(select(func.max(Purchase.id))).scalar()
        since = mark if kept == self._rules else None
        run = self._run = _Run(
            session, at, self._policy, since if since is not None and since <= at else None,
            self._member_policy, self._holidays, bought,
        )  # fmt: skip
        self._seen = (at, newest if newest is not None else 0)
        if not run.owners.pool:
            run.report.problems.append(
                _("No active agent to own callbacks: nothing was scheduled.")
            )
            self._todo = [(self._end, True)]
            return
        (first, __), *rest = _steps(run.members)
        with _run_cache(session):
            first(run)
        self._todo = [(self._rules_step(rules), write) for rules, write in rest]
        self._todo.append((self._assign_step(), False))

    def _again(self) -> Callable[[], None]:
        """What puts the run back as it is now (a step the desk runs again after a busy
        file or a serialization failure starts from it): the rules only add rows, the join
        moves their due times (and preferred owners), the owners' step sets every row's
        owner and tier again."""
        run = self._run
        assert run is not None
        n = len(run.rows)
        dues = [r["due_at"] for r in run.rows]
        kept = (list(run.preferred), dict(run.follows), set(run.joined),
                len(run.report.cancelled), len(run.report.created), list(run.found),
                run.owners.turn)  # fmt: skip

        def back() -> None:
            del run.rows[n:]
            for row, due in zip(run.rows, dues, strict=True):
                row["due_at"] = due
            run.preferred[:] = kept[0]
            run.follows = dict(kept[1])
            run.joined = set(kept[2])
            del run.report.cancelled[kept[3] :]
            del run.report.created[kept[4] :]
            run.found = list(kept[5])
            run.owners.turn = kept[6]

        return back

    def _on(self, session: Session) -> _Run:
        run = self._run
        assert run is not None
        run.session = run.owners.session = session
        return run

    def _again_step(self, body: Callable[[Session, _Run], None]) -> Callable[[Session], None]:
        """A step that changes the run (a rule family, the owners): run again by the desk
        (a busy file, a serialization failure), it starts from the run as it was before."""
        tries: list[Callable[[], None]] = []

        def go(session: Session) -> None:
            if tries:
                tries[0]()
            else:
                tries.append(self._again())
            body(session, self._on(session))

        return go

    def _rules_step(self, rules: Rules) -> Callable[[Session], None]:
        def body(session: Session, run: _Run) -> None:
            with _run_cache(session):
                rules(run)

        return self._again_step(body)

    def _assign_step(self) -> Callable[[Session], None]:
        def body(__: Session, run: _Run) -> None:
            run.assign()
            n = len(run.rows)
            self._todo[:] = [
                (self._write_step(i, min(n, i + STEP_ROWS)), True)
                for i in range(0, n, STEP_ROWS)
            ] or [(self._end, True)]

        return self._again_step(body)

    def _write_step(self, start: int, stop: int) -> Callable[[Session], None]:
        def go(session: Session) -> None:
            if not leases.hold(session=session, name=leases.CALLBACK_RULES,
                               now=self.desk.now(), holder=self.holder):  # fmt: skip
                raise StorageError(_("Another seat took over the callback rules."))
            run = self._on(session)
            with _run_cache(session):
                run.write(start, stop)
            if stop == len(run.rows):
                self._end(session)

        return go

    def _end(self, session: Session) -> None:
        """The day done: marked, the lease given back, the watermark moved (as
        run_scheduler's finish)."""
        assert self._seen is not None and self._today is not None
        leases.finish(session=session, name=leases.CALLBACK_RULES, now=self.desk.now(),
                      today=self._today, holder=self.holder, watermark=self._seen[0],
                      rules=self._rules, purchase_mark=self._seen[1])  # fmt: skip
        prune_list_changes(session.connection())


def run_step(day: DayRun) -> bool:
    """The next step of the day's callback rules (`DayRun`): True when the day is done, or
    another seat has it. A seat calls it until True, pausing STEP_PAUSE between."""
    return day.step()


RUN_CACHE_KIB = 65536
"""SQLite's page cache of the connection during a day's run, in KiB (PRAGMA cache_size):
the run changes some 5,000 pages (20 MB in the log at the commit: ~4,000 callbacks, their
events, each index's leaves; a first of the month twice that). With the default (2 MB,
~500 pages) the changed pages were written out to the log and read back again while the
run went on: the callbacks' insert took ~105 ms of CPU, ~65 ms with the changed pages
kept until the commit."""


@contextmanager
def _run_cache(session: Session) -> Iterator[None]:
    """The run's transaction on SQLite with a page cache that holds what it changes
    (RUN_CACHE_KIB), the connection's own size given back after the run's writes: the
    changed pages stay in memory until the commit writes them (a page cache never drops a
    changed page), and the memory is freed as they are written. PostgreSQL: nothing."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        yield
        return
    before = int(conn.exec_driver_sql("PRAGMA cache_size").scalar() or -2000)
    conn.exec_driver_sql(f"PRAGMA cache_size=-{RUN_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={before}")


def calendar_holidays(settings: Settings) -> tuple[date, ...]:
    """The business calendar's holidays (complaints.toml [calendar]), for the greetings;
    none when that file cannot be read (the seat's start-up check reports it)."""
    try:
        return tuple(sorted(sla.load_policy(settings).calendar.holidays))
    except PolicyError as exc:
        log.warning("%s; no holiday greetings are scheduled", exc)
        return ()


RULES_VERSION = 2
"""Raised when a release changes what the rules create: its first run is a full one.
(2: churn is the member rules' "no purchase for the period"; dedicated owners.)"""


def rules_fingerprint(
    policy: CallbackPolicy, member_policy: MemberPolicy | None = None
) -> str:
    """What identifies the rules a run kept (the callback and member policies, the rules'
    version): a run under other rules starts from scratch."""
    members_part = member_policy or MemberPolicy()
    return hashlib.sha256(
        f"{RULES_VERSION}:{policy!r}:{members_part!r}".encode()
    ).hexdigest()[:32]


def _optimize(session: Session) -> None:
    """Fresh planner statistics where they went stale (SQLite; PostgreSQL's autovacuum
    analyses by itself)."""
    if session.get_bind().dialect.name == "sqlite":
        optimize_statistics(session.connection())


# -- the sidebar and the work list ----------------------------------------------------------


@dataclass(frozen=True)
class CallableItem(CallbackItem):
    """A due or overdue callback the agent may dial now (outside the customer's rest)."""

    e164: str | None
    zones: tuple[str, ...]


@dataclass(frozen=True)
class WaitingItem(CallbackItem):
    """A callback whose customer is inside rest hours; `opens_at` is when the window opens."""

    e164: str | None
    zones: tuple[str, ...]
    opens_at: datetime


@dataclass(frozen=True)
class CallbackQueue:
    """An agent's callbacks in the sidebar's window: pages of each group, true totals.

    The lists may be cut (`limit` each); the counts never are."""

    ready: tuple[CallableItem, ...]
    """Callable now: overdue first, then by due time."""
    waiting: tuple[WaitingItem, ...]
    """Inside the customer's rest hours, by the time their window opens."""
    ready_overdue: int
    ready_due: int
    waiting_total: int
    waiting_overdue: int

    @property
    def overdue(self) -> int:
        """Every overdue callback in the queue, callable or waiting (the wallboard's count)."""
        return self.ready_overdue + self.waiting_overdue


def callback_queue(
    *, session: Session, agent_id: int, now: datetime, policy: CallbackPolicy, limit: int = 50
) -> CallbackQueue:
    """The agent's open callbacks overdue or due within the sidebar's horizon, split into
    callable now / waiting for the customer's window, with true totals of each.

    Rest hours depend on the customer's zones only, and every callback keeps them
    (callback.zones, seat.phone.zones_key): so each zone group the agent's callbacks fall in
    is callable now or waits for one opening time, decided once per group here; the counts
    are the group's whole hours kept in `callback_owner_hour` (migration 0051) plus
    index-only COUNTs of the hours now and the horizon's end cut, and the pages the first
    `limit` of each group in due order (index ix_callback_owner_status_zones_due), merged.
    Callbacks whose zones are not known yet (NULL) are looked up one by one. Overdue is
    `seat.states.callback_overdue`, the wallboard's definition.
    """
    until = now + timedelta(hours=policy.sidebar_horizon_hours)
    st = _queue_statements(max(limit, 0))
    conn = session.connection()
    mine = {"agent_id": agent_id, "status": CallbackStatus.OPEN.value}
    ready_overdue = ready_due = waiting_total = waiting_overdue = 0
    ready: list[tuple[datetime, int, str]] = []
    waiting: list[tuple[datetime, datetime, int, str]] = []
    opens_for: dict[str, datetime | None] = {}

    def opens(key: str) -> datetime | None:
        if key not in opens_for:
            zones = key_zones(key, policy.home_zone, policy.rest_windows)
            found = next_window(now, zones=zones, windows=policy.rest_windows)
            opens_for[key] = None if found is None or found == now else found
        return opens_for[key]

    # Read at the driver level (seat.db.Prepared): counts, ids and times, whose per-value
    # processing by SQLAlchemy cost more than the statements; the times converted here.
    # The groups with their counts in one statement (two index ranges counted per group).
    every = {**mine, **_group_args(now, until)}
    for key, overdue, upcoming in prepared(st.counts).rows(conn, every):
        args = {**every, "zones": key}
        due = overdue + upcoming
        if not due:
            continue
        at = opens(key)
        page = prepared(st.page).rows(conn, args) if limit > 0 else []
        if at is None:
            ready_overdue += overdue
            ready_due += due - overdue
            ready += [(kept_at(due_at), cb_id, key) for cb_id, due_at in page]
        else:
            waiting_total += due
            waiting_overdue += overdue
            waiting += [(at, kept_at(due_at), cb_id, key) for cb_id, due_at in page]
    for cb_id, due_at, e164 in prepared(st.unknown).rows(conn, {**mine, "until": until}):
        due_at = kept_at(due_at)
        key = phone.zones_key(e164)
        overdue = states.callback_overdue(due_at, now)
        at = opens(key)
        if at is None:
            ready_overdue += overdue
            ready_due += not overdue
            ready.append((due_at, cb_id, key))
        else:
            waiting_total += 1
            waiting_overdue += overdue
            waiting.append((at, due_at, cb_id, key))
    ready.sort()
    waiting.sort()
    ready = ready[:limit] if limit > 0 else []
    waiting = waiting[:limit] if limit > 0 else []
    wanted = [r[1] for r in ready] + [w[2] for w in waiting]
    details = {
        row[0]: (*row[:3], kept_at(row[3]), *row[4:])
        for row in _QUEUE_DETAILS.rows(conn, wanted)
    } if wanted else {}  # fmt: skip

    zones_of: dict[str, tuple[str, ...]] = {}

    def zones(key: str) -> tuple[str, ...]:  # one group's zones, worked out once
        found = zones_of.get(key)
        if found is None:
            found = zones_of[key] = key_zones(key, policy.home_zone, policy.rest_windows)
        return found

    return CallbackQueue(
        ready=tuple(
            CallableItem(*details[cb_id][:7], e164=details[cb_id][7], zones=zones(key))
            for _due, cb_id, key in ready
            if cb_id in details
        ),
        waiting=tuple(
            WaitingItem(
                *details[cb_id][:7], e164=details[cb_id][7], zones=zones(key), opens_at=at
            )
            for at, _due, cb_id, key in waiting
            if cb_id in details
        ),
        ready_overdue=ready_overdue,
        ready_due=ready_due,
        waiting_total=waiting_total,
        waiting_overdue=waiting_overdue,
    )


@dataclass(frozen=True)
class _QueueStatements:
    counts: Any
    """The zone groups of the agent's open callbacks, each with how many are overdue and how
    many fall due within the horizon (whole hours kept, the two cut hours counted)."""
    page: Any
    """Of one group: the first ids and due times within the horizon, in due order."""
    unknown: Any
    """The agent's callbacks within the horizon whose zones are not known yet."""


_QUEUE_STATEMENTS: dict[int, _QueueStatements] = {}


def _queue_statements(limit: int) -> _QueueStatements:
    """Built once per page size (building them cost more than running them)."""
    if limit not in _QUEUE_STATEMENTS:
        mine = (
            Callback.owner_id == bindparam("agent_id"),
            Callback.status == bindparam("status"),
        )
        group = (*mine, Callback.zones == bindparam("zones"))
        due = Callback.due_at <= bindparam("until")
        _QUEUE_STATEMENTS[limit] = _QueueStatements(
            counts=_GROUP_COUNTS,
            page=select(Callback.id, Callback.due_at)
            .where(*group, due)
            .order_by(Callback.due_at, Callback.id)
            .limit(limit),
            unknown=select(Callback.id, Callback.due_at, _good_phone(Callback.customer_id))
            .where(*mine, Callback.zones.is_(None), due),
        )  # fmt: skip
    return _QUEUE_STATEMENTS[limit]


_QUEUE_DETAILS = PreparedIds(
    lambda ids: select(
        Callback.id, Callback.customer_id, Customer.name, Callback.due_at,
        Callback.reason, Callback.kind, Callback.attempts, _good_phone(Callback.customer_id),
    )
    .join(Customer, Customer.id == Callback.customer_id)
    .where(Callback.id.in_(ids))
)  # fmt: skip
"""What the sidebar shows of the callbacks of the pages, at the driver level (the due
time converted by the caller)."""


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _hour_of(at: datetime) -> int:
    """The hour of `callback_owner_hour` an instant falls in: whole hours since 1970 UTC."""
    return (at - _EPOCH) // timedelta(hours=1)


def _group_args(now: datetime, until: datetime) -> dict[str, Any]:
    """_GROUP_COUNTS' times: now, the horizon's end, their hours and where those start."""
    hour, until_hour = _hour_of(now), _hour_of(until)
    return {
        "now": now, "until": until, "hour": hour, "until_hour": until_hour,
        "hour_start": _EPOCH + timedelta(hours=hour),
        "until_hour_start": _EPOCH + timedelta(hours=until_hour),
    }  # fmt: skip


# The zone groups of an agent's open callbacks, each with how many are overdue (due before
# now) and how many fall due from now to the horizon's end (`until`, included). The whole
# hours come added up from `callback_owner_hour` (kept by the triggers of migration 0051):
# `before`, the hours before now's; `within`, now's hour up to the one `until` falls in.
# Only the callbacks of those two cut hours are counted in the (owner, status, zones, due)
# index: `cut`, due in now's hour before now (overdue, yet in `within`), and `last`, due in
# until's hour up to `until`. So overdue = before + cut, upcoming = within - cut + last;
# counting every open callback of the heaviest agent (34,000) was most of the sidebar's
# statements' time. A group whose hours all lie after until's has nothing due: not read.
_GROUP_COUNTS = text(
    "SELECT g.zones, g.before + g.cut, g.within - g.cut + g.last FROM ("
    " SELECT k.zones, k.before, k.within,"
    " (SELECT count(*) FROM callback c WHERE c.owner_id = :agent_id AND c.status = :status"
    "  AND c.zones = k.zones AND c.due_at >= :hour_start AND c.due_at < :now) AS cut,"
    " (SELECT count(*) FROM callback c WHERE c.owner_id = :agent_id AND c.status = :status"
    "  AND c.zones = k.zones AND c.due_at >= :until_hour_start AND c.due_at <= :until) AS last"
    " FROM (SELECT zones,"
    "  sum(CASE WHEN hour < :hour THEN n ELSE 0 END) AS before,"
    "  sum(CASE WHEN hour >= :hour AND hour < :until_hour THEN n ELSE 0 END) AS within"
    "  FROM callback_owner_hour WHERE owner_id = :agent_id AND hour <= :until_hour"
    "  GROUP BY zones) AS k"
    ") AS g"
).bindparams(
    bindparam("now", type_=Callback.__table__.c.due_at.type),
    bindparam("until", type_=Callback.__table__.c.due_at.type),
    bindparam("hour_start", type_=Callback.__table__.c.due_at.type),
    bindparam("until_hour_start", type_=Callback.__table__.c.due_at.type),
)


def sidebar_callbacks(
    *, session: Session, agent_id: int, now: datetime, policy: CallbackPolicy, limit: int = 50
) -> tuple[list[CallableItem], list[WaitingItem]]:
    """The pages of `callback_queue`: callable now (overdue first, then by due time) and
    waiting for the window (by the time it opens), up to `limit` each."""
    queue = callback_queue(
        session=session, agent_id=agent_id, now=now, policy=policy, limit=limit
    )
    return list(queue.ready), list(queue.waiting)


@dataclass(frozen=True)
class Summary:
    """What a form about one callback shows at its top."""

    id: int
    customer_name: str
    kind: str
    due_at: datetime
    owner: str
    status: str
    attempts: int


def summary(*, session: Session, callback_id: int) -> Summary | None:
    row = session.execute(
        select(
            Callback.id,
            Customer.name,
            Callback.kind,
            Callback.due_at,
            Agent.display_name,
            Callback.status,
            Callback.attempts,
        )
        .join(Customer, Customer.id == Callback.customer_id)
        .join(Agent, Agent.id == Callback.owner_id)
        .where(Callback.id == callback_id)
    ).first()
    return Summary(*row) if row else None


@dataclass(frozen=True)
class WorkItem:
    """One row of the coverage view's to-do list."""

    id: int
    customer_id: int
    customer_name: str
    kind: str
    due_at: datetime
    owner: str
    attempts: int
    status: str
    state: str
    """overdue or due (seat.states, as everywhere), or missed."""
    opens_at: datetime | None
    """For an open one whose customer is inside rest hours now: when their window opens."""


_WORKLIST: dict[bool, tuple[Prepared, list[Prepared], PreparedIds]] = {}


def _worklist_statements(one_owner: bool) -> tuple[Prepared, list[Prepared], PreparedIds]:
    """`worklist`'s statements, built once: the open and missed callbacks (one owner's, the
    parameter "owner", or everyone's) counted; each status's first "n" in due order; and
    the rows of the kept ids."""
    built = _WORKLIST.get(one_owner)
    if built is not None:
        return built
    mine = [Callback.owner_id == bindparam("owner")] if one_owner else []
    count = Prepared(
        select(func.count())
        .select_from(Callback)
        .where(Callback.status.in_((CallbackStatus.OPEN, MISSED)), *mine)
    )
    firsts = [
        Prepared(
            select(Callback.id, Callback.due_at)
            .where(Callback.status == status, *mine)
            .order_by(Callback.due_at, Callback.id)
            .limit(bindparam("n", type_=Integer))
        )
        for status in (CallbackStatus.OPEN, MISSED)
    ]
    page = PreparedIds(lambda ids: (
        select(
            Callback.id, Callback.customer_id, Customer.name, Callback.kind, Callback.due_at,
            Agent.display_name, Callback.attempts, Callback.status,
            _good_phone(Callback.customer_id),
        )
        .join(Customer, Customer.id == Callback.customer_id)
        .join(Agent, Agent.id == Callback.owner_id)
        .where(Callback.id.in_(ids))
    ))  # fmt: skip
    built = _WORKLIST[one_owner] = (count, firsts, page)
    return built


def worklist(
    *,
    session: Session,
    now: datetime,
    policy: CallbackPolicy,
    owner_id: int | None = None,
    limit: int = 200,
    offset: int = 0,
) -> tuple[list[WorkItem], int]:
    """Open and missed callbacks (one agent's, or everyone's), by due time, `limit` of them
    from the `offset`-th; and the total.

    Each status is read in due order from its index, `limit` rows at most, and the two are
    merged: no sort of every open callback, and each row's phone is looked up only once it
    is kept. The statements are built once (`_worklist_statements`) and run as
    seat.db.Prepared (the callbacks view opens with this list)."""
    count, firsts, page = _worklist_statements(owner_id is not None)
    conn = session.connection()
    given = {"n": offset + limit} if owner_id is None else {"n": offset + limit, "owner": owner_id}
    total = count.execute(conn, given).scalar_one()
    kept = sorted(
        (stored_at(at), cb_id) for query in firsts for cb_id, at in query.execute(conn, given)
    )[offset : offset + limit]
    if not kept:
        return [], total
    rows = [
        (cb_id, cid, name, kind, stored_at(due), owner, attempts, status, e164)
        for cb_id, cid, name, kind, due, owner, attempts, status, e164 in page.execute(
            conn, [cb_id for __, cb_id in kept]
        )
    ]
    rows.sort(key=lambda r: (r[4], r[0]))
    items = []
    for *base, status, e164 in rows:
        opens = None
        if status == MISSED:
            state = MISSED
        else:
            state = states.callback_state(base[4], now)
            zones = number_zones(e164, policy.home_zone, policy.rest_windows)
            found = next_window(now, zones=zones, windows=policy.rest_windows)
            opens = found if found not in (None, now) else None
        items.append(WorkItem(*base, status=status, state=state, opens_at=opens))
    return items, total

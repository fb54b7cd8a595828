"""The services a seat's screens use: one object holding engine, clock and settings.

Screens call these methods and never build queries themselves. Each method is one
short transaction, so a screen can call it from a worker thread.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import column, select, table
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Session

from seat import callback_policy, faults, phone, sla
from seat.clock import Clock, parse_when
from seat.config import Settings
from seat.db import WRITE, ChangeWatch, backoff, few_collections, is_read_only, pause, retryable
from seat.errors import PolicyError, ValidationError
from seat.errors import StorageError as StorageError
from seat.i18n import _
from seat.i18n import language as seat_language
from seat.kinds import Role
from seat.lazy import lazy
from seat.scripts import Script, load_with_fallback, pick

# The desk is drawn before the mapped tables exist (seat.lazy): the modules that use them run
# at their first use, once the desk is drawn. The modules of what no desk shows before it is
# asked for (complaints, the sign-in, the search, merges, dialling, suggestions...) are
# imported by the methods that use them.
if TYPE_CHECKING:
    from seat import agents, callbacks, calls, customers, models, queues, workorders
else:
    agents, callbacks, calls = lazy("seat.agents"), lazy("seat.callbacks"), lazy("seat.calls")
    customers, models, queues = lazy("seat.customers"), lazy("seat.models"), lazy("seat.queues")
    workorders = lazy("seat.workorders")

if TYPE_CHECKING:
    from seat import (
        cases,
        complaints,
        dialer,
        figures,
        identity,
        merge,
        notices,
        originate,
        quality,
        search,
        suggestions,
        supervisor,
        trends,
    )
    from seat.export import Table
    from seat.reports.members import MemberAnalysis

T = TypeVar("T")
log = logging.getLogger("seat.services")

RestReader = Callable[[int, datetime], "callbacks.RestClash | None"]
"""`read(customer_id, at)`: the customer's rest-hours clash at `at`, read inside the save's
transaction (None: they may be called then)."""

RestCheck = Callable[[int, datetime, RestReader], None]
"""`check(customer_id, due, read)`: asked inside a callback's save once every field is valid;
what it raises (a rest-hours warning) undoes the whole save."""

ComplaintMove = Literal[
    "accept", "invalid", "investigate", "propose", "approve", "send_back", "implement",
    "close", "escalate", "pause", "resume",
]
"""A move of a complaint's flow, as the complaint screen's keys and forms name it."""


RETRIES = 6


def _storage_message(exc: OperationalError) -> str:
    """The agent's words for a database fault, told by the driver's error code."""
    code = faults.sqlite_code(exc)
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    if retryable(exc):
        return _("The database is busy; nothing was lost. Try saving again in a moment.")
    if code in (faults.SQLITE_READONLY, faults.SQLITE_PERM) or sqlstate == "25006":
        return _("The database is read-only; your input is kept.")
    if code == faults.SQLITE_FULL or sqlstate == "53100":
        return _("The disk is full; your input is kept.")
    return _("The database could not be reached; your input is kept.")


_AGENT = table(
    "agent", column("id"), column("name"), column("display_name"), column("role"),
    column("active"),
)  # fmt: skip
"""The agent table's columns the sign-in reads, named without the mapped tables (seat.lazy)."""


def login_row(*, session: Session, name: str) -> tuple[int, str, str, str, bool] | None:
    """(id, name, display name, role, active) of the agent with this login, as
    agents.get_by_name finds it, read from the table's columns: the demo desk signs in before
    its first frame, before the mapped tables exist."""
    row = session.execute(
        select(_AGENT.c.id, _AGENT.c.name, _AGENT.c.display_name, _AGENT.c.role,
               _AGENT.c.active).where(_AGENT.c.name == name.strip().lower())
    ).one_or_none()  # fmt: skip
    return None if row is None else (row[0], row[1], row[2], row[3], bool(row[4]))


@dataclass(frozen=True)
class SidebarCounts:
    """True totals behind the sidebar's cut lists (COUNT queries and full classifications)."""

    callable_overdue: int = 0
    callable_due: int = 0
    waiting: int = 0
    waiting_overdue: int = 0
    complaints_breached: int = 0
    complaints_near: int = 0
    orders_open: int = 0
    orders_urgent: int = 0
    orders_late: int = 0
    clocks_on_site: int = 0
    """Late work-order clocks (seat.order_clocks), each a true total."""
    clocks_reply: int = 0
    clocks_follow_up: int = 0

    @property
    def clocks_late(self) -> int:
        return self.clocks_on_site + self.clocks_reply + self.clocks_follow_up

    @property
    def callbacks_overdue(self) -> int:
        """Overdue callbacks, callable or waiting: the wallboard's count for this agent."""
        return self.callable_overdue + self.waiting_overdue


@dataclass(frozen=True)
class SidebarView:
    ready: tuple  # seat.callbacks.CallableItem: callable now
    waiting: tuple  # seat.callbacks.WaitingItem: inside the customer's rest hours
    work_orders: tuple[queues.WorkOrderItem, ...]
    complaints: tuple  # seat.complaints.ComplaintDeadlineItem: deadline near or breached
    complaints_open: int
    counts: SidebarCounts = SidebarCounts()
    late_orders: tuple[queues.WorkOrderItem, ...] = ()
    """The agent's late orders, longest late first (a page: counts.orders_late counts)."""
    clock_late: tuple[queues.ClockLateItem, ...] = ()
    """The agent's orders with a late clock, the longest late first (a page)."""


@dataclass(frozen=True)
class AgentInfo:
    id: int
    name: str
    display_name: str
    role: str


@dataclass(frozen=True)
class RecentCall:
    id: int
    started_at: datetime
    customer: str
    from_number: str | None
    need_category: str | None
    outcome: str | None


class Desk:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        settings: Settings,
        scripts: dict[str, Script] | None = None,
        script_problems: list[str] | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.settings = settings
        self.read_only = is_read_only(engine)
        """Opened for reading only (the file or its folder cannot be written): saves refused."""
        self.zone = ZoneInfo(settings.local_timezone)
        if scripts is None:
            scripts, self.script_problems = load_with_fallback(
                settings.scripts_dir, settings.scripts_cache
            )
        else:  # loaded by the caller (the command line's preflight): with their problems
            self.script_problems = list(script_problems or [])
        self.script_problems += self._callback_script_problems(scripts)
        self.scripts = self._with_joint_scripts(scripts)
        """The loaded scripts and those composed for joint care calls (callbacks.compose_joint)."""
        self.changes = ChangeWatch(engine)
        """Whether anything was committed since a screen last looked (refreshes)."""
        self._boards: supervisor.BoardCache | None = None
        self._clocks: complaints.ClockCache | None = None
        """Complaint clocks kept between reads of the complaint lists (made at the first)."""
        self._clocks_lock = threading.Lock()
        self._board_lock = threading.Lock()
        self._sidebars: dict[int, tuple[tuple[Any, ...], SidebarView]] = {}
        """Per agent: what the sidebar read last, and the token, minute and policies it
        was read under (a refresh with the same ones reads nothing)."""
        self._sidebar_lock = threading.Lock()
        self._complaint_rows: dict[int, Any] = {}
        """Each agent's open complaint rows and pauses as the sidebar last read them, with
        the stamp they were read under (seat.complaints.sidebar_complaints' `kept`)."""

    def _callback_script_problems(self, scripts: dict[str, Script]) -> list[str]:
        """The callback policy's kind -> script choices checked against the loaded scripts."""
        try:
            policy = callback_policy.load_policy(self.settings)
        except PolicyError:
            return []  # the scheduler reports a broken policy file when it runs
        return callback_policy.script_problems(policy, scripts)

    def _with_joint_scripts(self, scripts: dict[str, Script]) -> dict[str, Script]:
        """The scripts plus one for each joint care call without a script of its own,
        composed under the callback policy (the shipped one when its file is broken)."""
        try:
            policy = callback_policy.load_policy(self.settings)
        except PolicyError:
            policy = callback_policy.CallbackPolicy()
        return callback_policy.with_joint_scripts(scripts, policy)

    # -- policies (seat.policies: one loader, cached, errors.PolicyError) --------------------

    def complaint_policy(self) -> sla.Policy:
        """Deadlines, categories and the business calendar (policy/complaints.toml)."""
        return sla.load_policy(self.settings)

    def calendar_warnings(self) -> list[str]:
        """This year's or next year's business calendar not entered yet (shown at start)."""
        try:
            policy = self.complaint_policy()
        except sla.PolicyError:
            return []  # the start-up check refuses a broken file
        today = self.clock.now().astimezone(policy.calendar.zone).date()
        return sla.calendar_warnings(policy.calendar, today, source=policy.source)

    def work_order_policy(self) -> workorders.Policy:
        """Work centers and reason codes (policy/work_orders.toml)."""
        return workorders.load_policy(self.settings)

    def callback_policy(self) -> callbacks.CallbackPolicy:
        """Rest hours and callback rules (policy/callbacks.toml). A file that broke while the
        seat runs keeps the version read at start (seat.policies); one that was never
        readable (the start-up check reports it) gives the built-in rules, logged: saving a
        call must not stop on it."""
        try:
            return callbacks.load_policy(self.settings)
        except callbacks.PolicyError as exc:
            log.warning("%s; the built-in callback rules apply", exc)
            return callbacks.CallbackPolicy(home_zone=self.settings.local_timezone)

    # -- plumbing ---------------------------------------------------------------------------

    def run(self, fn: Callable[[Session], T], *, write: bool = False) -> T:
        """Run fn(session) in one transaction; database trouble becomes a StorageError.

        A busy or locked SQLite file, a PostgreSQL serialization failure or deadlock (told by
        the driver's error code) is retried after a jittered backoff: the transaction was
        rolled back, so fn runs again from the start. `write=True` takes SQLite's write lock
        at BEGIN; every retry does, so a retried writer waits its turn (busy timeout) instead
        of failing again the moment it writes.
        """
        if write and self.read_only:
            raise StorageError(_("The database is read-only; your input is kept."))
        immediate = write
        for attempt in range(RETRIES):
            try:
                with Session(self.engine, expire_on_commit=False) as session:
                    if immediate:
                        session.connection(execution_options=WRITE)
                    result = fn(session)
                    session.commit()
                    return result
            except SQLAlchemyError as exc:
                if retryable(exc) and attempt < RETRIES - 1:
                    immediate = True
                    pause(backoff(attempt))
                    continue
                if isinstance(exc, OperationalError):
                    raise StorageError(_storage_message(exc)) from exc
                raise StorageError(
                    _("Could not save: {error}; your input is kept.").format(
                        error=type(exc).__name__
                    )
                ) from exc
        raise AssertionError("unreachable")

    def now(self) -> datetime:
        return self.clock.now()

    def local(self, when: datetime) -> datetime:
        return when.astimezone(self.zone)

    def script(self, script_id: str, *, language: str | None = None) -> Script:
        """The script in `language` when there is such a variant, else its default."""
        return pick(self.scripts, script_id, language)

    def call_language(self, customer_id: int | None) -> str:
        """The language a call is read in: the customer's, or the seat's for an unknown caller."""
        if customer_id is None:
            return seat_language()
        found = self.run(
            lambda s: s.execute(
                select(models.Customer.language).where(models.Customer.id == customer_id)
            ).scalar()
        )
        return found or seat_language()

    def fit_script(self, state: calls.CallState) -> None:
        """Switch a call to the script variant in its customer's language.

        Variants share stages, fields and branches, so the call keeps its place and answers;
        the screen calls this when the caller becomes known (looked up or registered).
        """
        state.script = self.script(state.script.id, language=self.call_language(state.customer_id))

    # -- agents -----------------------------------------------------------------------------

    def agents(self) -> list[AgentInfo]:
        return self.run(
            lambda s: [
                AgentInfo(a.id, a.name, a.display_name, a.role)  # type: ignore[arg-type]
                for a in agents.list_agents(session=s)
            ]
        )

    def call_saved(self, uid: str) -> bool:
        """Whether a call (by the uid its draft keeps) was already saved."""
        return self.run(lambda s: calls.is_saved(session=s, uid=uid))

    def sign_in(self, name: str) -> AgentInfo:
        """The agent with this login, for a caller that has already established who it is
        (the demo desk, tests); people sign in with `authenticate`. Never creates one."""

        def go(s: Session) -> AgentInfo:
            # The row's columns, not the mapped Agent: the demo desk signs in before its
            # first frame, which then waits for no mapper configuration (the first read does).
            row = login_row(session=s, name=name)
            if row is None or not row[4]:
                raise ValidationError(
                    {"name": _("No agent with the login {login}.").format(login=name)}
                )
            return AgentInfo(row[0], row[1], row[2], row[3])

        return self.run(go)

    def authenticate(self, login: str, password: str, *, demo: bool = False) -> AgentInfo:
        """Sign in with a password (none on the demo desk); identity.SignInError if refused.
        A refusal is recorded (and counts towards the lockout) even though it raises."""

        from seat import identity

        def go(s: Session) -> identity.Identity | identity.SignInError:
            try:
                return identity.authenticate(
                    session=s, login=login, password=password, now=self.now(), via="seat",
                    demo=demo, tz=self.zone, read_only=self.read_only,
                )  # fmt: skip
            except identity.SignInError as exc:
                return exc
            finally:
                if self.read_only:
                    s.expunge_all()  # the sign-in record cannot be written

        result = self.run(go)
        if self.read_only:
            outcome = result.outcome if isinstance(result, identity.SignInError) else "ok"
            log.warning("sign-in of %r (%s) not recorded: the database is read-only",
                        login, outcome)  # fmt: skip
        if isinstance(result, identity.SignInError):
            raise result
        return AgentInfo(result.id, result.name, result.display_name, result.role)

    def create_first_supervisor(self, login: str, display_name: str, password: str) -> AgentInfo:
        """A new database's first person: a supervisor with a password (only while the
        database has no agents at all)."""

        from seat import identity

        def go(s: Session) -> AgentInfo:
            if identity.has_agents(session=s):
                raise ValidationError({"name": _("This desk already has agents: sign in.")})
            identity.check_password_rules(password)
            a = agents.ensure_agent(
                session=s, name=login, display_name=display_name.strip() or None,
                role=Role.SUPERVISOR,
            )  # fmt: skip
            identity.set_password(session=s, agent_id=a.id, password=password)  # type: ignore[arg-type]
            identity.record(session=s, login=a.name, agent_id=a.id, now=self.now(),
                            outcome="first_supervisor", via="seat")  # fmt: skip
            return AgentInfo(a.id, a.name, a.display_name, a.role)  # type: ignore[arg-type]

        return self.run(go)

    def assignable(self) -> list[tuple[int, str]]:
        return self.run(lambda s: agents.assignable_agents(session=s))

    # -- customers --------------------------------------------------------------------------

    def lookup(self, text: str) -> tuple[str, customers.CustomerHit | None]:
        """Parse a typed number (PhoneError) and find its customer."""
        e164 = phone.normalise(text, self.settings.region)
        return e164, self.run(lambda s: customers.find_by_phone(session=s, e164=e164))

    def lookup_callers(self, text: str) -> tuple[str, list[customers.CustomerHit]]:
        """Parse a typed number (PhoneError) and find everyone with it: one customer, none,
        or several sharing it (a family's landline: the agent asks who is calling)."""
        # The cycle collector paused, as in the sidebar (seat.db.few_collections): a lookup
        # makes a few thousand short-lived objects, and the collection they set off now and
        # then walked every object of the process inside the lookup (~80 ms on the bench's
        # process, the slowest lookup in a thousand or two; a young one ~5 ms).
        with few_collections():
            e164 = phone.normalise(text, self.settings.region)
            return e164, self.run(lambda s: customers.find_all_by_phone(session=s, e164=e164))

    def card(self, customer_id: int) -> customers.CustomerCard | None:
        now = self.now()
        with few_collections():  # as lookup_callers: the card comes right after it
            return self.run(
                lambda s: customers.card(session=s, customer_id=customer_id, now=now)
            )

    def search_customers(self, text: str, limit: int | None = None) -> list[search.SearchHit]:
        """Customers by name, address, customer, order or phone number: ranked, masked; at
        most `limit` (search.DEFAULT_LIMIT when None)."""
        from seat import search

        limit = search.DEFAULT_LIMIT if limit is None else limit
        region = self.settings.region
        return self.run(
            lambda s: search.search(session=s, text=text, region=region, limit=limit)
        )

    def attach_number(self, customer_id: int, e164: str, *, agent_id: int) -> None:
        """Add the caller's number to the customer found for them (kept in the history)."""
        self.run(
            lambda s: customers.attach_number(
                session=s, customer_id=customer_id, e164=e164, agent_id=agent_id,
                now=self.now(),
            ),
            write=True,
        )  # fmt: skip

    def create_customer(self, **fields: object) -> int:
        """Register a customer; their language is the seat's unless the form says otherwise."""
        fields.setdefault("language", seat_language())

        def go(s: Session) -> int:
            c = customers.create_customer(
                session=s,
                now=self.now(),
                region=self.settings.region,
                **fields,  # type: ignore[arg-type]
            )
            return c.id  # type: ignore[return-value]

        return self.run(go, write=True)

    def dial_number(self, customer_id: int) -> str | None:
        """The number to call a customer on: the first one not flagged as a wrong number."""
        from seat.models import PhoneNumber

        return self.run(
            lambda s: s.execute(
                select(PhoneNumber.e164)
                .where(PhoneNumber.customer_id == customer_id)
                .order_by(PhoneNumber.wrong_number, PhoneNumber.id)
                .limit(1)
            ).scalar()
        )

    def display_phone(self, e164: str | None) -> str:
        return phone.display(e164, self.settings.region) if e164 else ""

    def customer_name(self, customer_id: int) -> str:
        return self.run(
            lambda s: s.execute(
                select(models.Customer.name).where(models.Customer.id == customer_id)
            ).scalar_one()
        )

    # -- calls ------------------------------------------------------------------------------

    def new_call(
        self,
        *,
        agent_id: int,
        script_id: str = "inbound",
        customer_id: int | None = None,
        from_number: str | None = None,
        callback_id: int | None = None,
        call_ref: str | None = None,
    ) -> calls.CallState:
        return calls.CallState(
            script=self.script(script_id, language=self.call_language(customer_id)),
            agent_id=agent_id,
            started_at=self.now(),
            customer_id=customer_id,
            from_number=from_number,
            callback_id=callback_id,
            call_ref=call_ref,
        )

    def callback_call(
        self, callback_id: int, *, agent_id: int
    ) -> tuple[calls.CallState, callbacks.CallbackCall] | None:
        """A call for a callback, reading its kind's script (None: the callback is gone).

        Member-care callbacks of one customer due the same day (a birthday greeting and a
        churn call, a holiday greeting and a routine call...) are one call: the plan names
        every callback, the script (their joint one, else one composed from their own) asks
        them all, and saving the call settles them all.
        """
        policy = self.callback_policy()
        plan = self.run(
            lambda s: callbacks.plan_call(
                session=s,
                callback_id=callback_id,
                now=self.now(),
                policy=policy,
                scripts=self.scripts,
            )
        )
        if plan is None:
            return None
        state = self.new_call(
            agent_id=agent_id,
            script_id=plan.script_id,
            customer_id=plan.customer_id,
            from_number=self.dial_number(plan.customer_id),
            callback_id=callback_id,
        )
        return state, plan

    def rest_clash(
        self, customer_id: int, at: datetime, *, session: Session | None = None
    ) -> callbacks.RestClash | None:
        """When `at` is in the customer's rest hours: when they end (None: call any time).

        Inside a save (`session` given) it reads in that transaction.
        """
        policy = self.callback_policy()

        def go(s: Session) -> callbacks.RestClash | None:
            return callbacks.rest_clash(session=s, customer_id=customer_id, at=at, policy=policy)

        return go(session) if session is not None else self.run(go)

    def _rest_reader(self, session: Session) -> RestReader:
        """rest_clash inside the transaction of `session` (a save that minds rest hours)."""
        return lambda customer_id, at: self.rest_clash(customer_id, at, session=session)

    def dial(self, number: str, *, agent_id: int | None = None) -> originate.Originated:
        """Place a call (click-to-dial): through Asterisk's AMI when `ami_host` is set (the
        outcome comes back from the PBX; it blocks until then: call it in a worker), else
        through the configured dial command (no shell)."""
        from seat import dialer, originate

        s = self.settings
        if not s.ami_host:
            started = dialer.place_call(s.dial_command, number)
            return originate.Originated(started.started, started.message)
        extension = self.run(lambda x: x.execute(
            select(models.Agent.extension).where(models.Agent.id == agent_id)
        ).scalar()) if agent_id is not None else None  # fmt: skip
        if not extension:
            return originate.Originated(
                False, _("No phone extension is set for you: seat agents extension.")
            )
        target = originate.AmiTarget(
            host=s.ami_host, port=s.ami_port, username=s.ami_username,
            secret=os.environ.get("SEAT_AMI_SECRET", ""), context=s.ami_context,
            ring_seconds=s.ami_ring_seconds,
        )  # fmt: skip
        return originate.originate(target, number, extension, timeout=s.ami_ring_seconds + 30)

    @property
    def can_dial(self) -> bool:
        """Click-to-dial is set up (a dial command, or Asterisk's AMI)."""
        return bool(self.settings.dial_command or self.settings.ami_host)

    def open_call_recording(self, call_id: int) -> dialer.Dialled:
        """Play a saved call's recording (the URL or path the phone system sent) with the
        configured player; the message says why not when it cannot."""
        from seat import dialer

        recording = self.run(lambda s: s.execute(
            select(models.Call.recording).where(models.Call.id == call_id)
        ).scalar())  # fmt: skip
        return dialer.open_recording(self.settings.recording_command, recording)

    def save_call(self, state: calls.CallState) -> int:
        at_most = self.callback_policy().unsatisfied_at_most
        return self.run(
            lambda s: calls.save_call(
                session=s, state=state, now=self.now(), unsatisfied_at_most=at_most
            ).id,  # type: ignore[return-value]
            write=True,
        )

    def needs_no_complaint_reason(self, state: calls.CallState) -> bool:
        """Whether saving this callback call asks why no complaint is opened (the customer is
        unsatisfied and no complaint was opened or followed up: seat.loops)."""
        at_most = self.callback_policy().unsatisfied_at_most
        return self.run(
            lambda s: calls.loop_question(session=s, state=state, at_most=at_most)
        )

    def close_complaint_loop(
        self, complaint_id: int, *, actor_id: int, reason: str, version: int | None
    ) -> None:
        """A supervisor closes a complaint's unsatisfied-callback loop with a reason
        (PermissionDenied for an agent, MoveRefused when no loop is open)."""
        from seat import loops

        self.run(
            lambda s: loops.supervisor_close(
                session=s, complaint_id=complaint_id, actor_id=actor_id, now=self.now(),
                reason=reason, version=version,
            )
        )  # fmt: skip

    def recent_calls(self, agent_id: int, limit: int = 8) -> list[RecentCall]:
        def go(s: Session) -> list[RecentCall]:
            rows = s.execute(
                select(
                    models.Call.id,
                    models.Call.started_at,
                    models.Customer.name,
                    models.Call.from_number,
                    models.Call.need_category,
                    models.Call.outcome,
                )
                .outerjoin(models.Customer, models.Customer.id == models.Call.customer_id)
                .where(models.Call.agent_id == agent_id, models.Call.ended_at.is_not(None))
                .order_by(models.Call.started_at.desc())
                .limit(limit)
            ).all()
            return [RecentCall(*r) for r in rows]

        return self.run(go)

    # -- work from a call -------------------------------------------------------------------

    def parse_when(self, text: str) -> datetime:
        return parse_when(text, now=self.now(), tz=self.zone)

    def create_callback(
        self,
        state: calls.CallState,
        *,
        due_text: str,
        reason: str,
        before_commit: RestCheck | None = None,
    ) -> int:
        """A callback from the call. `before_commit(customer_id, due, read)` runs once every
        field is valid; what it raises (a rest-hours warning) undoes the whole save."""
        errors: dict[str, str] = {}
        due: datetime | None = None
        try:
            due = self.parse_when(due_text)
        except ValueError as exc:
            errors["due_at"] = str(exc)

        def go(s: Session) -> int:
            try:
                call = calls.ensure_call_row(session=s, state=state)
                cb = callbacks.create_callback(
                    session=s,
                    now=self.now(),
                    customer_id=self._need_customer(state),
                    owner_id=state.agent_id,
                    due_at=due,
                    reason=reason,
                    call_id=call.id,
                )
            except customers.ValidationError as exc:
                raise customers.ValidationError({**exc.errors, **errors}) from None
            if errors:
                raise customers.ValidationError(errors)
            if before_commit is not None:
                before_commit(cb.customer_id, cb.due_at, self._rest_reader(s))
            return cb.id  # type: ignore[return-value]

        return self._run_keeping_call_id(state, go)

    def create_work_order(self, state: calls.CallState, draft: workorders.WorkOrderDraft) -> int:
        """A full work order from the call; every problem of the draft is reported at once."""
        policy = workorders.load_policy(self.settings)

        def go(s: Session) -> int:
            customer_id = self._need_customer(state)
            call = calls.ensure_call_row(session=s, state=state)
            wo = workorders.create_order(
                session=s,
                now=self.now(),
                customer_id=customer_id,
                created_by_id=state.agent_id,
                draft=draft,
                call_id=call.id,
                reason_codes=tuple(policy.reason_codes) or None,
                clocks=policy.clocks,
                calendar=self._order_calendar(policy),
            )
            return wo.id  # type: ignore[return-value]

        return self._run_keeping_call_id(state, go)

    def create_complaint(
        self, state: calls.CallState, *, what_happened: str, customer_wants: str
    ) -> int:
        """A complaint from the call itself: by phone, received now."""
        return self.register_complaint(
            state, what_happened=what_happened, customer_wants=customer_wants, channel="phone"
        )

    def received_at(self, text: str) -> datetime | None:
        """A typed time received ("" = now; "2026-12-05 15:00", "09:30", "-1d"); a wrong one
        is a ValidationError at the received_at field."""
        if not (text or "").strip():
            return None
        try:
            return parse_when(text, now=self.now(), tz=self.zone)
        except ValueError as exc:
            raise ValidationError({"received_at": str(exc)}) from None

    def register_complaint(
        self,
        state: calls.CallState,
        *,
        what_happened: str,
        customer_wants: str,
        channel: str,
        received_text: str = "",
        channel_ref: str = "",
    ) -> int:
        """A complaint that came by `channel` (not only the phone), received at the typed
        time (earlier than now, never later), with the channel's own reference."""
        from seat import complaints, intake

        received = self.received_at(received_text)
        got = intake.Intake(channel=channel, received_at=received, channel_ref=channel_ref)

        def go(s: Session) -> int:
            call = calls.ensure_call_row(session=s, state=state)
            c = complaints.create_complaint(
                session=s,
                now=self.now(),
                customer_id=self._need_customer(state),
                owner_id=state.agent_id,
                what_happened=what_happened,
                customer_wants=customer_wants,
                call_id=call.id,
                intake=got,
                zone=self.zone,
            )
            return c.id  # type: ignore[return-value]

        return self._run_keeping_call_id(state, go)

    # -- suggestions (意见和建议) ----------------------------------------------------------

    def suggestion_list(
        self, scope: str, *, offset: int = 0, limit: int = 50
    ) -> tuple[list[suggestions.SuggestionRow], int]:
        from seat import suggestions

        return self.run(
            lambda s: suggestions.listing(session=s, scope=scope, offset=offset, limit=limit)
        )

    def record_suggestion(
        self,
        *,
        agent_id: int,
        text: str,
        category: str = "",
        phone_text: str = "",
        channel: str = "phone",
        received_text: str = "",
        channel_ref: str = "",
    ) -> int:
        """Record a suggestion that came by `channel` (the customer found by phone, if any)."""
        from seat import intake, suggestions

        received = self.received_at(received_text)
        got = intake.Intake(channel=channel, received_at=received, channel_ref=channel_ref)

        def go(s: Session) -> int:
            row = suggestions.record(
                session=s, now=self.now(), recorded_by_id=agent_id, text=text,
                category=category, phone_text=phone_text, region=self.settings.region,
                intake=got,
            )  # fmt: skip
            return row.id  # type: ignore[return-value]

        return self.run(go, write=True)

    def classify_suggestion(
        self, suggestion_id: int, *, agent_id: int, category: str, version: int | None
    ) -> None:
        from seat import suggestions

        self.run(
            lambda s: suggestions.classify(
                session=s, suggestion_id=suggestion_id, actor_id=agent_id, now=self.now(),
                category=category, version=version,
            ),
            write=True,
        )  # fmt: skip

    def reply_suggestion(
        self, suggestion_id: int, *, agent_id: int, reply_text: str, version: int | None
    ) -> None:
        from seat import suggestions

        self.run(
            lambda s: suggestions.reply(
                session=s, suggestion_id=suggestion_id, actor_id=agent_id, now=self.now(),
                reply_text=reply_text, version=version,
            ),
            write=True,
        )  # fmt: skip

    def thank_suggestion(self, suggestion_id: int, *, agent_id: int, version: int | None) -> None:
        from seat import suggestions

        self.run(
            lambda s: suggestions.thank(
                session=s, suggestion_id=suggestion_id, actor_id=agent_id, now=self.now(),
                version=version,
            ),
            write=True,
        )  # fmt: skip

    def _run_keeping_call_id(self, state: calls.CallState, fn: Callable[[Session], T]) -> T:
        """Run fn; if it fails, forget a call id that was only inserted in the rolled-back work."""
        before = state.call_id
        try:
            return self.run(fn, write=True)
        except BaseException:
            state.call_id = before
            raise

    @staticmethod
    def _need_customer(state: calls.CallState) -> int:
        if state.customer_id is None:
            raise customers.ValidationError(
                {"customer": _("Register the caller first (F4): work needs a customer.")}
            )
        return state.customer_id

    # -- the sidebar ------------------------------------------------------------------------

    def sidebar(self, agent_id: int, *, fresh: bool = False) -> SidebarView:
        """Everything the sidebar shows, in one short transaction.

        A refresh reads nothing when nothing was committed since the last read (the
        database's change token, seat.db.ChangeWatch) within the same minute and under the
        same policies: what turns by itself as time passes (a callback falling due or
        overdue, a customer's rest hours ending, a clock near its deadline, an order turning
        late) is read again at the next minute at the latest. `fresh` reads in any case."""
        from seat import callbacks, complaints, sla

        now = self.now()
        cb_policy = callbacks.load_policy(self.settings)
        sla_policy = sla.load_policy(self.settings)
        token = self.changes.token()  # before the read: a commit in between costs a read
        key = (token, now.replace(second=0, microsecond=0), cb_policy, sla_policy)
        if token is not None and not fresh:
            with self._sidebar_lock:
                kept = self._sidebars.get(agent_id)
            if kept is not None and kept[0] == key:  # policies: the same objects, parsed once
                return kept[1]

        def go(s: Session) -> SidebarView:
            base = queues.agent_orders(session=s, agent_id=agent_id, now=now)
            queue = callbacks.callback_queue(
                session=s, agent_id=agent_id, now=now, policy=cb_policy
            )
            totals: dict[str, int] = {}
            near = complaints.sidebar_complaints(
                session=s, agent_id=agent_id, now=now, policy=sla_policy, totals=totals,
                kept=self._complaint_rows,
            )
            orders = base.counts
            on_site, reply, follow_up = base.clock_totals
            clock_late = (
                queues.clock_late_orders(session=s, agent_id=agent_id, now=now, limit=20)
                if on_site or reply or follow_up else ()
            )
            return SidebarView(
                ready=queue.ready,
                waiting=queue.waiting,
                work_orders=base.page,
                complaints=tuple(near),
                complaints_open=base.complaints_open,
                counts=SidebarCounts(
                    callable_overdue=queue.ready_overdue,
                    callable_due=queue.ready_due,
                    waiting=queue.waiting_total,
                    waiting_overdue=queue.waiting_overdue,
                    complaints_breached=totals.get("breached", 0),
                    complaints_near=totals.get("near", 0),
                    orders_open=orders.open,
                    orders_urgent=orders.urgent,
                    orders_late=orders.late,
                    clocks_on_site=on_site,
                    clocks_reply=reply,
                    clocks_follow_up=follow_up,
                ),
                late_orders=base.late,
                clock_late=clock_late,
            )

        # The cycle collector paused while the rows are read and built (seat.db.few_collections):
        # a read makes thousands of short-lived objects, and a collection of the older
        # generations walks every object of the process (the slowest reads were those).
        with few_collections():
            view = self.run(go)
        if token is not None:
            with self._sidebar_lock:
                if len(self._sidebars) > 64:
                    self._sidebars.clear()
                self._sidebars[agent_id] = (key, view)
        return view

    def work_order(self, work_order_id: int) -> workorders.OrderView | None:
        """Every field of an order, with names, its lines, its events (oldest first) and its
        clocks."""
        clocks = workorders.load_policy(self.settings).clocks
        return self.run(
            lambda s: workorders.order_view(
                session=s, work_order_id=work_order_id, clocks=clocks
            )
        )

    def _order_calendar(self, policy: workorders.Policy) -> sla.Calendar | None:
        """The business calendar, when a service zone counts opening hours only."""
        if not any(z.business_hours for z in policy.clocks.zones):
            return None
        return sla.load_policy(self.settings).calendar

    def today(self) -> date:
        return self.local(self.now()).date()

    # -- customers: edit, reveal ------------------------------------------------------------

    def editable_customer(self, customer_id: int) -> customers.CustomerEdit | None:
        """The customer's editable fields as stored now (None: no longer on file)."""
        return self.run(lambda s: customers.editable(session=s, customer_id=customer_id))

    def edit_customer(
        self,
        customer_id: int,
        *,
        agent_id: int,
        name: str,
        phone_text: str | None,
        address: str | None,
        second_address: str | None,
        tier: str,
        language: str,
    ) -> list[customers.CustomerChange]:
        """Change a customer; one change (old, new) per field that really changed. A field
        given as None is left as it is (ValidationError: nothing changed)."""
        return self.run(
            lambda s: customers.update_customer(
                session=s,
                customer_id=customer_id,
                agent_id=agent_id,
                now=self.now(),
                region=self.settings.region,
                name=name,
                phone_text=phone_text,
                address=address,
                second_address=second_address,
                tier=tier,
                language=language,
            )
        )

    def reveal(self, customer_id: int, *, agent_id: int, what: str, reason: str) -> int:
        """Record in the access log that an agent revealed a customer's masked `what`, and
        why (ValidationError without a reason); the log row's id."""
        row = self.run(
            lambda s: customers.log_access(
                session=s,
                agent_id=agent_id,
                customer_id=customer_id,
                now=self.now(),
                what=what,
                reason=reason,
            )
        )
        return row.id  # type: ignore[return-value]

    # -- callbacks: the coverage view, snooze, reassign -------------------------------------

    def callback_summary(self, callback_id: int) -> callbacks.Summary | None:
        """One line's worth of a callback: customer, kind, due, owner (None: gone)."""
        return self.run(lambda s: callbacks.summary(session=s, callback_id=callback_id))

    def snooze_callback(
        self,
        callback_id: int,
        *,
        agent_id: int,
        until_text: str,
        reason: str,
        before_commit: RestCheck | None = None,
    ) -> int:
        """Move a callback to a new due time, the reason on its history (ValidationError for
        every field at once; PermissionDenied for someone else's callback).
        `before_commit(customer_id, until, read)` runs once every field is valid; what it
        raises (a rest-hours warning) undoes the snooze."""
        until: datetime | None = None
        errors: dict[str, str] = {}
        try:
            until = self.parse_when(until_text)
        except ValueError as exc:
            errors["until"] = str(exc)

        def go(s: Session) -> int:
            try:
                cb = callbacks.snooze(
                    session=s,
                    callback_id=callback_id,
                    agent_id=agent_id,
                    until=until,
                    reason=reason,
                    now=self.now(),
                )
            except ValidationError as exc:
                raise ValidationError({**exc.errors, **errors}) from None
            if errors:
                raise ValidationError(errors)
            if before_commit is not None:
                before_commit(cb.customer_id, until, self._rest_reader(s))  # type: ignore[arg-type]
            return callback_id

        return self.run(go)

    def reassign_callback(
        self, callback_id: int, *, actor_id: int, new_owner_id: int | None, comment: str
    ) -> int:
        """A supervisor gives a callback to another agent (PermissionDenied for an agent)."""

        def go(s: Session) -> int:
            callbacks.reassign(
                session=s,
                callback_id=callback_id,
                actor_id=actor_id,
                new_owner_id=new_owner_id,
                now=self.now(),
                comment=comment,
            )
            return callback_id

        return self.run(go)

    def callback_coverage(
        self, date_from: date, date_to: date, *, owner_id: int | None, limit: int
    ) -> tuple[list[Table], list[callbacks.WorkItem], int]:
        """What the callbacks view opens with, in one transaction: the coverage table and its
        list of members without a callback cut to the first `limit` lines (every count is
        whole), and the to-do list (one owner's, or everyone's; `limit` rows) with its total
        (callbacks.PolicyError: a broken policy file). `callback_breakdown` has the rest."""
        from seat.reports import callbacks as report

        policy = callbacks.load_policy(self.settings)
        now = self.now()

        def go(s: Session) -> tuple[list[Table], list[callbacks.WorkItem], int]:
            tables = report.coverage_tables(
                session=s,
                date_from=date_from,
                date_to=date_to,
                settings=self.settings,
                now=now,
                policy=policy,
                limit=limit,
            )
            todo, total = callbacks.worklist(
                session=s, now=now, policy=policy, owner_id=owner_id, limit=limit
            )
            return tables, todo, total

        return self.run(go)

    def callback_todo(
        self, *, owner_id: int | None, offset: int, limit: int
    ) -> tuple[list[callbacks.WorkItem], int]:
        """A further page of the callbacks view's to-do list, and its total."""
        policy = callbacks.load_policy(self.settings)
        return self.run(
            lambda s: callbacks.worklist(
                session=s, now=self.now(), policy=policy, owner_id=owner_id, limit=limit,
                offset=offset,
            )
        )  # fmt: skip

    def callback_without(self, date_from: date, date_to: date, *, limit: int) -> list[list[object]]:
        """The first `limit` lines of the members without a callback in a period (the
        callbacks view's further pages; nothing counted again)."""
        from seat.reports import callbacks as report

        policy = callbacks.load_policy(self.settings)
        return self.run(
            lambda s: report.lines_without(
                session=s, date_from=date_from, date_to=date_to, settings=self.settings,
                now=self.now(), policy=policy, limit=limit,
            )
        )  # fmt: skip

    def callback_breakdown(self, date_from: date, date_to: date) -> list[Table]:
        """The callback report's tables by kind, by agent and by score for a period
        (callbacks.PolicyError: a broken policy file)."""
        from seat.reports import callbacks as report

        policy = callbacks.load_policy(self.settings)
        now = self.now()
        return self.run(
            lambda s: report.breakdown_tables(
                session=s, date_from=date_from, date_to=date_to, settings=self.settings,
                now=now, policy=policy,
            )
        )  # fmt: skip

    # -- complaints -------------------------------------------------------------------------

    def complaint_case(self, complaint_id: int, policy: sla.Policy) -> complaints.CaseView | None:
        """Everything about one complaint for its page (None: it does not exist)."""
        from seat import complaints

        return self.run(
            lambda s: complaints.case(
                session=s, complaint_id=complaint_id, now=self.now(), policy=policy
            )
        )

    def _clock_cache(self) -> complaints.ClockCache:
        from seat import complaints

        with self._clocks_lock:
            if self._clocks is None:
                self._clocks = complaints.ClockCache()
            return self._clocks

    def complaint_list(
        self, scope: str, *, agent_id: int, policy: sla.Policy, offset: int, limit: int
    ) -> tuple[list[complaints.ListRow], int]:
        """A page of open complaints in a scope (mine, everyone's, ...) and their total."""
        from seat import complaints

        return self.run(
            lambda s: complaints.open_complaints(
                session=s, scope=scope, agent_id=agent_id, now=self.now(),
                policy=policy, offset=offset, limit=limit, cache=self._clock_cache(),
            )
        )  # fmt: skip

    def supervisors(self) -> list[tuple[int, str]]:
        """The active supervisors (id, name), by name: whom a complaint can go to."""
        from seat import complaints

        return self.run(lambda s: complaints.supervisors(session=s))

    def move_complaint(
        self,
        move: ComplaintMove,
        *,
        complaint_id: int,
        actor_id: int,
        version: int | None,
        **details: object,
    ) -> None:
        """One move of a complaint's flow with its details (the fields of the move's form);
        MoveRefused or PermissionDenied when the move is not allowed, ValidationError for
        the details."""
        from seat import complaints

        step = {
            "accept": complaints.accept,
            "invalid": complaints.judge_invalid,
            "investigate": complaints.investigate,
            "propose": complaints.propose,
            "approve": complaints.approve,
            "send_back": complaints.send_back,
            "implement": complaints.implement,
            "close": complaints.close,
            "escalate": complaints.escalate,
            "pause": complaints.pause,
            "resume": complaints.resume,
        }[move]
        common = dict(complaint_id=complaint_id, actor_id=actor_id, now=self.now(),
                      version=version)  # fmt: skip
        if move == "escalate":
            common["zone"] = self.zone  # the promise in the history as the agent agreed it
        self.run(lambda s: step(session=s, **common, **details))  # type: ignore[operator]

    # -- case review and the case library ----------------------------------------------------

    def closed_cases(
        self, filters: cases.CaseFilter, policy: sla.Policy, *, agent: AgentInfo
    ) -> list[cases.ClosedCase]:
        """The closed complaints the filters let through, the latest closed first (an agent
        who may not see everyone's complaints: their own)."""
        from seat import cases

        return self.run(
            lambda s: cases.closed_cases(
                session=s, filters=filters, policy=policy, zone=self.zone, now=self.now(),
                viewer=agent, viewer_id=agent.id,
            )
        )  # fmt: skip

    def case_filter_choices(self) -> tuple[list[tuple[int, str]], list[str]]:
        """Who owns closed complaints (id, name) and the departments named on them."""
        from seat import cases

        return self.run(
            lambda s: (cases.owners(session=s), cases.departments(session=s))
        )

    def mark_model_case(
        self, complaint_id: int, *, actor_id: int, solution: str, version: int | None
    ) -> None:
        """A supervisor marks a closed case as a model with its agreed solution
        (PermissionDenied, MoveRefused, ValidationError)."""
        from seat import cases

        self.run(
            lambda s: cases.mark_model(
                session=s, complaint_id=complaint_id, actor_id=actor_id, solution=solution,
                now=self.now(), version=version,
            ),
            write=True,
        )  # fmt: skip

    def search_model_cases(self, words: str, category: str | None) -> list[cases.ModelHit]:
        """The model cases of a category (None: any) holding every word."""
        from seat import cases

        return self.run(
            lambda s: cases.search_models(session=s, words=words, category=category)
        )

    def model_case(self, complaint_id: int) -> cases.ModelView | None:
        """A model case to read (None: the complaint is not one)."""
        from seat import cases

        return self.run(lambda s: cases.model_view(session=s, complaint_id=complaint_id))

    def complaint_stats(self, date_from: date, date_to: date) -> list[Table]:
        """The classification and month-by-category tables of `seat report complaints`
        (sla.PolicyError: a broken policy file)."""
        from seat.reports import complaints as report

        return self.run(
            lambda s: report.tables(
                session=s, date_from=date_from, date_to=date_to, settings=self.settings,
                now=self.now(),
            )
        )  # fmt: skip

    # -- supervisors: wallboard, an agent's queue, trends -----------------------------------

    def wallboard(
        self, policy: sla.Policy, *, offsets: dict[str, int], limit: int, fresh: bool = False
    ) -> supervisor.Board:
        """Everything the wallboard shows, one page of each list (`offsets`). A refresh reads
        nothing when nothing changed (supervisor.BoardCache); `fresh` (the screen opening)
        reads everything again."""
        from seat import supervisor

        with self._board_lock:
            opens = self._boards is None or fresh
            if opens:
                self._boards = supervisor.BoardCache()
            boards = self._boards
            now = self.now()
            if (opens or boards.unkept) and not self.read_only:
                # Before the token: this write is not taken for someone else's.
                self._keep_today(now, check=opens)
            token = self.changes.token()
            return self.run(
                lambda s: supervisor.board(
                    session=s, now=now, zone=self.zone, policy=policy,
                    offsets=offsets, limit=limit, cache=boards, token=token,
                )
            )  # fmt: skip

    def _keep_today(self, now: datetime, *, check: bool) -> None:
        """Keep today's settled quarter hours per agent (seat.call_slots), for the wallboard's
        calls today to read only the last minutes' calls. `check`: look for a missing one
        first (the last read has not told)."""
        from seat import call_slots, supervisor

        day = supervisor.settled_today(now, self.zone)
        if day is None or (check and not self.run(lambda s: call_slots.missing(s, [day]))):
            return
        try:
            self.run(lambda s: call_slots.fill(s, [day]), write=True)
        except StorageError:
            pass  # busy past the retries: kept after a later read

    def agent_queue(self, agent_id: int, policy: sla.Policy) -> list[supervisor.QueueItem]:
        """One agent's open callbacks, complaints and orders, as their supervisor sees them."""
        from seat import supervisor

        return self.run(
            lambda s: supervisor.agent_queue(
                session=s, agent_id=agent_id, now=self.now(), policy=policy
            )
        )

    def trends(self, date_from: date, date_to: date, step: trends.Step) -> trends.Trends:
        """Daily or weekly trends, the numbers of `seat report summary` (sla.PolicyError: a
        broken complaint policy)."""
        from seat import call_slots, trends

        now = self.now()
        days = trends.slot_days(date_from, date_to, self.zone, now)
        days += trends.today_slots(date_from, date_to, self.zone, now)

        def read(s: Session) -> tuple[trends.Trends, int]:
            data = trends.load(
                session=s, date_from=date_from, date_to=date_to, step=step,
                settings=self.settings, now=now,
            )  # fmt: skip
            return data, call_slots.missing(s, days)

        data, missing = self.run(read)
        if missing and not self.read_only:
            try:  # the closed days' slots for the next time (the figures above are whole)
                self.run(lambda s: call_slots.fill(s, days), write=True)
            except StorageError:
                pass  # busy past the retries: made the next time trends are read
        return data

    def agent_figures(self, date_from: date, date_to: date) -> figures.Figures:
        """Every agent's figures per local day of the range, the numbers of `seat report
        agents` (sla.PolicyError: a broken complaint policy)."""
        from seat import figures

        return self.run(
            lambda s: figures.load(
                session=s, date_from=date_from, date_to=date_to, zone=self.zone,
                policy=sla.load_policy(self.settings), now=self.now(),
            )
        )  # fmt: skip

    # -- notices (公告) -----------------------------------------------------------------------

    def current_notices(self) -> list[notices.NoticeView]:
        """The notices valid now, with the calls each drew."""
        from seat import notices

        return self.run(lambda s: notices.current(session=s, now=self.now()))

    def notices_for_caller(self, customer_id: int | None) -> list[notices.NoticeView]:
        """The notices valid now that concern this caller (their address names an outage's
        area; product / service notices concern everyone)."""
        from seat import notices

        return self.run(
            lambda s: notices.for_customer(session=s, now=self.now(), customer_id=customer_id)
        )

    def publish_notice(self, draft: notices.NoticeDraft, *, agent: AgentInfo) -> int:
        """Publish a notice (supervisors; PermissionDenied, ValidationError)."""
        from seat import notices

        return self.run(
            lambda s: notices.publish(session=s, draft=draft, agent=agent, agent_id=agent.id,
                                      now=self.now()),
            write=True,
        )  # fmt: skip

    def link_notice(self, notice_id: int, *, call_uid: str, agent_id: int) -> bool:
        """Link the call to the notice it is about (False: it already was)."""
        from seat import notices

        return self.run(
            lambda s: notices.link_call(session=s, notice_id=notice_id, call_uid=call_uid,
                                        agent_id=agent_id, now=self.now()),
            write=True,
        )  # fmt: skip

    def member_analysis(self, date_from: date, date_to: date, agent_id: int) -> MemberAnalysis:
        """The member analysis of `seat report members` (supervisors: PermissionDenied
        otherwise; errors.PolicyError: a broken policy/members.toml)."""
        from seat import members
        from seat.reports import members as member_report

        policy = members.load_policy(self.settings)
        # The permission read in a transaction of its own: the analysis begins its session's
        # (on SQLite it is read by two connections matched to one snapshot, which a session
        # that already read something cannot be).
        self.run(lambda s: members.require_member_report(s.get(models.Agent, agent_id)))
        return self.run(
            lambda s: member_report.analyse(
                session=s, date_from=date_from, date_to=date_to, settings=self.settings,
                now=self.now(), policy=policy,
            )
        )  # fmt: skip

    def pin_tier(self, customer_id: int, tier: str, *, agent_id: int, reason: str) -> None:
        """A supervisor sets and pins a customer's tier (seat.members.pin_tier)."""
        from seat import members

        now = self.now()
        self.run(
            lambda s: members.pin_tier(s, customer_id=customer_id, tier=tier,
                                       agent_id=agent_id, now=now, reason=reason),
            write=True,
        )  # fmt: skip

    # -- customers: merge duplicates (seat.merge) ------------------------------------------

    def merge_plan(self, survivor_id: int, other_id: int) -> merge.MergePlan:
        """What merging `other_id` into `survivor_id` would move (ValidationError: a
        customer not on file, the same one twice, or one merged already)."""
        from seat import merge

        return self.run(
            lambda s: merge.plan(s, survivor_id=survivor_id, other_id=other_id)
        )

    def merge_customers(self, survivor_id: int, other_id: int, *, agent_id: int) -> merge.MergePlan:
        """A supervisor merges `other_id` into `survivor_id` (PermissionDenied otherwise;
        StaleCustomer: another seat changed one of them meanwhile): what moved."""
        from seat import merge

        now = self.now()
        return self.run(
            lambda s: merge.merge(s, survivor_id=survivor_id, other_id=other_id,
                                  agent_id=agent_id, now=now),
            write=True,
        )  # fmt: skip

    # -- work orders ------------------------------------------------------------------------

    def work_order_prefill(self, customer_id: int) -> workorders.Prefill | None:
        """What a new order's form starts with for a customer (None: no such customer)."""
        from seat import workorders

        return self.run(lambda s: workorders.prefill(session=s, customer_id=customer_id))

    def work_orders(
        self, query: workorders.OrderQuery, *, page: int, page_size: int
    ) -> workorders.OrderPage:
        """One page of the filtered order list and the total, clamped to the last page."""
        from seat import workorders

        return self.run(
            lambda s: workorders.list_orders(
                session=s, query=query, page=page, page_size=page_size, now=self.now()
            )
        )

    def work_plan(
        self, day: date, *, assignee: str | None, work_center: str | None, limit: int
    ) -> tuple[list[Table], dict[int, int]]:
        """The day's plan for a technician, a work center or everyone, and the customer of
        each order in it, by order id (LookupError: no such technician)."""
        from seat import workplan

        def go(s: Session) -> tuple[list[Table], dict[int, int]]:
            tables = workplan.tables(
                session=s, day=day, assignee=assignee, work_center=work_center,
                settings=self.settings, limit=limit, now=self.now(),
            )  # fmt: skip
            no = workplan.HEADERS.index("No.")
            ids = [int(row[no]) for t in tables for row in t.rows]  # type: ignore[call-overload]
            return tables, workplan.customers_of(session=s, work_order_ids=ids)

        return self.run(go)

    def move_work_order(
        self,
        work_order_id: int,
        *,
        agent_id: int,
        expected_version: int | None,
        action: str,
        comment: str,
        acceptance: str,
    ) -> int:
        """One status change of the order's flow (ValidationError when refused)."""
        from seat import workorders

        wo = self.run(
            lambda s: workorders.move(
                session=s, now=self.now(), work_order_id=work_order_id, agent_id=agent_id,
                expected_version=expected_version, action=action, comment=comment,
                acceptance=acceptance, clocks=workorders.load_policy(self.settings).clocks,
            )
        )  # fmt: skip
        return wo.id  # type: ignore[return-value]

    def survey_work_order(
        self,
        work_order_id: int,
        *,
        agent_id: int,
        expected_version: int | None,
        hq: bool,
        comment: str,
    ) -> int:
        """The survey of a service request (KCJS): whether head office must be involved (an
        HQ quote or HQ support: the supervisor's approval follows) or it is a local job."""
        clocks = workorders.load_policy(self.settings).clocks
        wo = self.run(
            lambda s: workorders.move(
                session=s, now=self.now(), work_order_id=work_order_id, agent_id=agent_id,
                expected_version=expected_version, action="survey", comment=comment,
                hq=hq, clocks=clocks,
            ),
            write=True,
        )  # fmt: skip
        return wo.id  # type: ignore[return-value]

    def follow_up_work_order(
        self, work_order_id: int, *, agent_id: int, expected_version: int | None, reason: str
    ) -> int:
        """Record a follow-up of an unfinished order with the reason it is not finished."""
        clocks = workorders.load_policy(self.settings).clocks
        wo = self.run(
            lambda s: workorders.follow_up(
                session=s, now=self.now(), work_order_id=work_order_id, agent_id=agent_id,
                expected_version=expected_version, reason=reason, clocks=clocks,
            ),
            write=True,
        )  # fmt: skip
        return wo.id  # type: ignore[return-value]

    def reassign_work_order(
        self,
        work_order_id: int,
        *,
        agent_id: int,
        assignee_id: int,
        comment: str,
        expected_version: int | None = None,
    ) -> int:
        """Hand an order to someone else (PermissionDenied for an agent)."""
        from seat import workorders

        wo = self.run(
            lambda s: workorders.reassign(
                session=s, now=self.now(), work_order_id=work_order_id, agent_id=agent_id,
                expected_version=expected_version, assignee_id=assignee_id, comment=comment,
            )
        )  # fmt: skip
        return wo.id  # type: ignore[return-value]

    def set_urgent(
        self, work_order_id: int, *, agent_id: int, expected_version: int | None, urgent: bool
    ) -> int:
        """Mark or unmark an order urgent (ValidationError for a closed or changed order)."""
        from seat import workorders

        wo = self.run(
            lambda s: workorders.set_urgent(
                session=s, now=self.now(), work_order_id=work_order_id, agent_id=agent_id,
                expected_version=expected_version, urgent=urgent,
            ),
            write=True,
        )  # fmt: skip
        return wo.id  # type: ignore[return-value]

    def set_quote(
        self,
        work_order_id: int,
        *,
        agent_id: int,
        expected_version: int | None,
        amount: float | None,
        needs_hq: bool,
        comment: str,
    ) -> int:
        """Price a paid service; a new price needs a new confirmation (and HQ approval)."""
        from seat import workorders

        wo = self.run(
            lambda s: workorders.set_quote(
                session=s, now=self.now(), work_order_id=work_order_id, agent_id=agent_id,
                expected_version=expected_version, amount=amount, needs_hq=needs_hq,
                comment=comment,
            )
        )  # fmt: skip
        return wo.id  # type: ignore[return-value]

    def approve_quote(
        self, work_order_id: int, *, agent_id: int, expected_version: int | None, comment: str
    ) -> int:
        """A supervisor approves a head-office quote (PermissionDenied for an agent)."""
        from seat import workorders

        wo = self.run(
            lambda s: workorders.approve_quote(
                session=s, now=self.now(), work_order_id=work_order_id, agent_id=agent_id,
                expected_version=expected_version, comment=comment,
            )
        )  # fmt: skip
        return wo.id  # type: ignore[return-value]

    def confirm_quote(
        self, work_order_id: int, *, agent_id: int, expected_version: int | None, comment: str
    ) -> int:
        """Record that the customer confirmed the order's quote."""
        from seat import workorders

        wo = self.run(
            lambda s: workorders.confirm_quote(
                session=s, now=self.now(), work_order_id=work_order_id, agent_id=agent_id,
                expected_version=expected_version, comment=comment,
            )
        )  # fmt: skip
        return wo.id  # type: ignore[return-value]

    # -- quality spot-checks (质检抽查) ------------------------------------------------------

    def quality_periods(self) -> list[quality.Period]:
        """The months a spot-check is drawn for: this one and the eleven before, newest first."""
        from seat import quality

        return quality.months(self.today())

    def quality_overview(self, period: quality.Period, *, agent: AgentInfo) -> list[
        quality.AgentQuality
    ]:
        """Each agent's calls, sample and average score for the period (QUALITY_SCORE)."""
        from seat import quality, roles

        roles.require(agent, roles.QUALITY_SCORE)
        return self.run(lambda s: quality.overview(s, period=period, zone=self.zone))

    def quality_sample(
        self, agent_id: int, period: quality.Period, *, agent: AgentInfo, draw: bool = False
    ) -> list[quality.SampleRow]:
        """An agent's sample for the period; `draw`: draw it first (what was drawn stays;
        errors.PolicyError: a broken policy/quality.toml)."""
        from seat import quality, roles

        roles.require(agent, roles.QUALITY_SCORE)
        if not draw:
            return self.run(lambda s: quality.sample(s, agent_id=agent_id, period=period))
        policy = quality.load_policy(self.settings)
        return self.run(
            lambda s: quality.draw_sample(
                s, by=agent, by_id=agent.id, agent_id=agent_id, period=period, policy=policy,
                zone=self.zone, now=self.now(),
            ),
            write=True,
        )  # fmt: skip

    def quality_items(self, period: quality.Period, *, agent: AgentInfo) -> list[
        quality.ItemSums
    ]:
        """Each form item's marks over the period's scored samples, named in the seat's
        language (QUALITY_SCORE)."""
        from seat import quality, roles

        roles.require(agent, roles.QUALITY_SCORE)
        script_for = self._script_for(seat_language())
        return self.run(lambda s: quality.per_item(
            s, date_from=period.first, date_to=period.last, zone=self.zone,
            script_for=script_for,
        ))  # fmt: skip

    def _script_for(self, language: str) -> Callable[[str], Script | None]:
        """A script by id in `language` (None: no such script any more)."""

        def script_for(script_id: str) -> Script | None:
            try:
                return self.script(script_id, language=language)
            except KeyError:
                return None

        return script_for

    def quality_form(self, sample_id: int, *, agent: AgentInfo) -> quality.ScoreForm:
        """A sampled call's score form, its script's items in the seat's language."""
        from seat import quality, roles

        roles.require(agent, roles.QUALITY_SCORE)
        script_for = self._script_for(seat_language())
        return self.run(
            lambda s: quality.score_form(s, sample_id=sample_id, script_for=script_for)
        )

    def score_quality(
        self,
        sample_id: int,
        *,
        version: int,
        marks: list[tuple[str, str, int | None]],
        comments: str,
        agent: AgentInfo,
    ) -> float | None:
        """Save a sampled call's score (PermissionDenied, ValidationError, quality.StaleSample)."""
        from seat import quality

        return self.run(
            lambda s: quality.save_score(
                s, by=agent, by_id=agent.id, sample_id=sample_id, version=version, marks=marks,
                comments=comments, now=self.now(),
            ),
            write=True,
        )  # fmt: skip

    def own_quality_scores(self, agent_id: int) -> list[quality.OwnScore]:
        """The agent's own scored calls, most recently scored first, the items not met in
        the seat's language."""
        from seat import quality

        script_for = self._script_for(seat_language())
        return self.run(
            lambda s: quality.own_scores(s, agent_id=agent_id, script_for=script_for)
        )

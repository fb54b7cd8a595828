"""The services a seat's screens use: one object holding engine, clock and settings.

Screens call these methods and never build queries themselves. Each method is one
short transaction, so a screen can call it from a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Session

from seat import agents, calls, customers, phone, work
from seat.clock import Clock
from seat.config import Settings
from seat.models import Agent, Call, Customer
from seat.scripts import Script, load_scripts

T = TypeVar("T")


class StorageError(RuntimeError):
    """The database refused the work; the message is for the agent, the data is kept."""


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
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.settings = settings
        self.zone = ZoneInfo(settings.local_timezone)
        if scripts is None:
            scripts, self.script_problems = load_scripts(settings.scripts_dir)
        else:
            self.script_problems = []
        self.scripts = scripts

    # -- plumbing ---------------------------------------------------------------------------

    def run(self, fn: Callable[[Session], T]) -> T:
        """Run fn(session) in one transaction; database trouble becomes a StorageError."""
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                result = fn(session)
                session.commit()
                return result
        except OperationalError as exc:
            text = str(exc.orig).lower() if exc.orig else str(exc).lower()
            if "locked" in text or "busy" in text:
                raise StorageError(
                    "The database is busy; nothing was lost. Try saving again in a moment."
                ) from exc
            if "readonly" in text or "read-only" in text:
                raise StorageError("The database is read-only; your input is kept.") from exc
            if "full" in text or "disk" in text:
                raise StorageError("The disk is full; your input is kept.") from exc
            raise StorageError("The database could not be reached; your input is kept.") from exc
        except SQLAlchemyError as exc:
            raise StorageError(
                f"Could not save: {type(exc).__name__}; your input is kept."
            ) from exc

    def now(self) -> datetime:
        return self.clock.now()

    def local(self, when: datetime) -> datetime:
        return when.astimezone(self.zone)

    def script(self, script_id: str) -> Script:
        return self.scripts[script_id]

    # -- agents -----------------------------------------------------------------------------

    def agents(self) -> list[AgentInfo]:
        return self.run(
            lambda s: [
                AgentInfo(a.id, a.name, a.display_name, a.role)  # type: ignore[arg-type]
                for a in agents.list_agents(session=s)
            ]
        )

    def sign_in(self, name: str) -> AgentInfo:
        def go(s: Session) -> AgentInfo:
            a = agents.ensure_agent(session=s, name=name)
            return AgentInfo(a.id, a.name, a.display_name, a.role)  # type: ignore[arg-type]

        return self.run(go)

    def assignable(self) -> list[tuple[int, str]]:
        return self.run(lambda s: work.assignable_agents(session=s))

    # -- customers --------------------------------------------------------------------------

    def lookup(self, text: str) -> tuple[str, customers.CustomerHit | None]:
        """Parse a typed number (PhoneError) and find its customer."""
        e164 = phone.normalise(text, self.settings.region)
        return e164, self.run(lambda s: customers.find_by_phone(session=s, e164=e164))

    def card(self, customer_id: int) -> customers.CustomerCard | None:
        return self.run(lambda s: customers.card(session=s, customer_id=customer_id))

    def create_customer(self, **fields: object) -> int:
        def go(s: Session) -> int:
            c = customers.create_customer(
                session=s,
                now=self.now(),
                region=self.settings.region,
                **fields,  # type: ignore[arg-type]
            )
            return c.id  # type: ignore[return-value]

        return self.run(go)

    def display_phone(self, e164: str | None) -> str:
        return phone.display(e164, self.settings.region) if e164 else ""

    def customer_name(self, customer_id: int) -> str:
        return self.run(
            lambda s: s.execute(
                select(Customer.name).where(Customer.id == customer_id)
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
    ) -> calls.CallState:
        return calls.CallState(
            script=self.script(script_id),
            agent_id=agent_id,
            started_at=self.now(),
            customer_id=customer_id,
            from_number=from_number,
            callback_id=callback_id,
        )

    def save_call(self, state: calls.CallState) -> int:
        return self.run(
            lambda s: calls.save_call(session=s, state=state, now=self.now()).id  # type: ignore[return-value]
        )

    def recent_calls(self, agent_id: int, limit: int = 8) -> list[RecentCall]:
        def go(s: Session) -> list[RecentCall]:
            rows = s.execute(
                select(
                    Call.id,
                    Call.started_at,
                    Customer.name,
                    Call.from_number,
                    Call.need_category,
                    Call.outcome,
                )
                .outerjoin(Customer, Customer.id == Call.customer_id)
                .where(Call.agent_id == agent_id, Call.ended_at.is_not(None))
                .order_by(Call.started_at.desc())
                .limit(limit)
            ).all()
            return [RecentCall(*r) for r in rows]

        return self.run(go)

    # -- work from a call -------------------------------------------------------------------

    def parse_when(self, text: str) -> datetime:
        return work.parse_when(text, now=self.now(), tz=self.zone)

    def create_callback(self, state: calls.CallState, *, due_text: str, reason: str) -> int:
        errors: dict[str, str] = {}
        due: datetime | None = None
        try:
            due = self.parse_when(due_text)
        except ValueError as exc:
            errors["due_at"] = str(exc)

        def go(s: Session) -> int:
            try:
                call = calls.ensure_call_row(session=s, state=state)
                cb = work.create_callback(
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
            return cb.id  # type: ignore[return-value]

        return self._run_keeping_call_id(state, go)

    def create_work_order(
        self,
        state: calls.CallState,
        *,
        kind: str,
        short_text: str,
        assignee_id: int | None,
        urgent: bool,
        due_text: str,
        long_text: str = "",
    ) -> int:
        errors: dict[str, str] = {}
        due: datetime | None = None
        try:
            due = self.parse_when(due_text)
        except ValueError as exc:
            errors["due_at"] = str(exc)

        def go(s: Session) -> int:
            customer_id = self._need_customer(state)
            cust = s.get(Customer, customer_id)
            call = calls.ensure_call_row(session=s, state=state)
            try:
                wo = work.create_work_order(
                    session=s,
                    now=self.now(),
                    customer_id=customer_id,
                    created_by_id=state.agent_id,
                    kind=kind,
                    short_text=short_text,
                    assignee_id=assignee_id,
                    urgent=urgent,
                    due_at=due,
                    long_text=long_text,
                    reporter=cust.name if cust else "",
                    service_address=cust.address if cust else None,
                    call_id=call.id,
                )
            except customers.ValidationError as exc:
                raise customers.ValidationError({**exc.errors, **errors}) from None
            if errors:
                raise customers.ValidationError(errors)
            return wo.id  # type: ignore[return-value]

        return self._run_keeping_call_id(state, go)

    def create_complaint(
        self, state: calls.CallState, *, what_happened: str, customer_wants: str
    ) -> int:
        def go(s: Session) -> int:
            call = calls.ensure_call_row(session=s, state=state)
            c = work.create_complaint(
                session=s,
                now=self.now(),
                customer_id=self._need_customer(state),
                owner_id=state.agent_id,
                what_happened=what_happened,
                customer_wants=customer_wants,
                call_id=call.id,
            )
            return c.id  # type: ignore[return-value]

        return self._run_keeping_call_id(state, go)

    def _run_keeping_call_id(self, state: calls.CallState, fn: Callable[[Session], T]) -> T:
        """Run fn; if it fails, forget a call id that was only inserted in the rolled-back work."""
        before = state.call_id
        try:
            return self.run(fn)
        except BaseException:
            state.call_id = before
            raise

    @staticmethod
    def _need_customer(state: calls.CallState) -> int:
        if state.customer_id is None:
            raise customers.ValidationError(
                {"customer": "Register the caller first (F4): work needs a customer."}
            )
        return state.customer_id

    # -- the sidebar ------------------------------------------------------------------------

    def sidebar(self, agent_id: int) -> work.SidebarData:
        return self.run(lambda s: work.sidebar(session=s, agent_id=agent_id, now=self.now()))

    def work_order(self, work_order_id: int) -> dict[str, object] | None:
        def go(s: Session) -> dict[str, object] | None:
            wo = work.get_work_order(session=s, work_order_id=work_order_id)
            if wo is None:
                return None
            data = wo.model_dump()
            data["customer"] = s.get(Customer, wo.customer_id).name  # type: ignore[union-attr]
            assignee = s.get(Agent, wo.assignee_id) if wo.assignee_id else None
            data["assignee"] = assignee.display_name if assignee else "unassigned"
            return data

        return self.run(go)

    def callback(self, callback_id: int) -> dict[str, object] | None:
        def go(s: Session) -> dict[str, object] | None:
            cb = work.get_callback(session=s, callback_id=callback_id)
            return cb.model_dump() if cb else None

        return self.run(go)

    def today(self) -> date:
        return self.local(self.now()).date()

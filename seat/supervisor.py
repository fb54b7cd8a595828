"""The supervisor's console: the wallboard's data and who may see whose queue.

Everything here is column-only selects and pure arithmetic, so the wallboard can read it
from a worker thread every few seconds. Lists come a page at a time with their totals.
No Textual: the screens read through these functions.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import and_, false, func, or_, select, true
from sqlmodel import Session

from seat import call_slots, complaints, order_clocks, queues, seats, sla, states
from seat.db import ListChanges, few_collections
from seat.models import (
    CLOSED_COMPLAINT_STATUSES,
    Agent,
    Callback,
    CallbackEvent,
    CallbackStatus,
    Complaint,
    ComplaintEvent,
    Customer,
    CustomerChange,
    WorkOrder,
    WorkOrderEvent,
    level_for,
)
from seat.roles import ALL_COMPLAINTS, OTHERS_QUEUE, WALLBOARD, HasRole, may, require

ZONE = "Asia/Shanghai"
PAGE = 50
T = TypeVar("T")
STATE_RANK = {"call": 0, "wrapup": 1, "desk": 2}
"""A person with two seats open shows the busiest one."""


# -- who may see what -----------------------------------------------------------------------


def require_wallboard(agent: HasRole) -> None:
    """PermissionDenied (with the text for the agent) unless a supervisor."""
    require(agent, WALLBOARD)


def complaint_scopes(agent: HasRole) -> tuple[str, ...]:
    """The complaint lists a person may open: an agent only their own."""
    return complaints.SCOPES if may(agent, ALL_COMPLAINTS) else ("mine",)


def require_scope(agent: HasRole, scope: str) -> None:
    """PermissionDenied unless `agent` may open the complaint list `scope` (agents: "mine")."""
    if scope not in complaint_scopes(agent):
        require(agent, ALL_COMPLAINTS)


def queue_owner(agent: HasRole, agent_id: int) -> int | None:
    """Whose work a list shows: None (everyone's) for whom may see others' queues (shift
    leads, supervisors, quality inspectors), else their own id."""
    return None if may(agent, OTHERS_QUEUE) else agent_id


def may_see_queue(viewer: HasRole, viewer_id: int, owner_id: int) -> bool:
    """Shift leads, supervisors and quality inspectors see every agent's queue; an agent
    only their own."""
    return may(viewer, OTHERS_QUEUE) or viewer_id == owner_id


def require_queue(viewer: HasRole, viewer_id: int, owner_id: int) -> None:
    """PermissionDenied unless `viewer` may see `owner_id`'s queue."""
    if not may_see_queue(viewer, viewer_id, owner_id):
        require(viewer, OTHERS_QUEUE)


# -- the wallboard query set (timed by `seat bench`) ----------------------------------------


@dataclass(frozen=True)
class AgentDay:
    agent_id: int
    agent: str
    calls: int
    avg_handling_seconds: float | None


@dataclass(frozen=True)
class Wallboard:
    calls_today: tuple[AgentDay, ...]
    complaints_by_status: tuple[tuple[str, int], ...]
    overdue_callbacks: tuple[tuple[int, str, int], ...]
    """(agent id, name, overdue open callbacks), agents with none left out."""
    unassigned_work_orders: int
    urgent_work_orders: int
    late_work_orders: int
    """Open orders past their expected end (seat.states.order_late)."""
    attention: tuple[tuple[int, str, bool, datetime, str | None], ...]
    """First page of open orders that are unassigned or urgent: id, text, urgent, due, who."""


def local_midnight(now: datetime, zone: str | ZoneInfo) -> datetime:
    """The UTC instant the desk's local day of `now` began."""
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    local = now.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


_OPEN_ORDER = states.order_open_sql()


def _attention(now: datetime) -> Any:
    """Open orders a supervisor must look at: unassigned, urgent or late (seat.states)."""
    return or_(WorkOrder.assignee_id.is_(None), WorkOrder.urgent, states.order_late_sql(now))


def _calls_today(session: Session, now: datetime, zone: str | ZoneInfo) -> tuple[AgentDay, ...]:
    """Every active agent by name: calls started today (the desk's local day) up to `now`
    and their average handling time (start to end)."""
    return calls_today(session, now, zone)[0]


def settled_today(now: datetime, zone: str | ZoneInfo) -> call_slots.Day | None:
    """The part of today whose quarter hours are kept per agent (seat.call_slots)."""
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    return call_slots.settled_day(now.astimezone(tz).date(), local_midnight(now, tz), now)


def calls_today(
    session: Session, now: datetime, zone: str | ZoneInfo
) -> tuple[tuple[AgentDay, ...], int]:
    """`_calls_today`, and how many of today's settled quarter hours are not kept yet
    (seat.call_slots: `Desk.wallboard` keeps them after the read).

    The settled quarter hours are read from their agents' rows where kept, the rest of the
    day from the calls: the same counts, and the same handling time in whole milliseconds
    (the trends' own), as reading every call of the day."""
    midnight = local_midnight(now, zone)
    settled = settled_today(now, zone)
    sums, unkept, people = call_slots.agent_sums(
        session, midnight, now, settled[2] if settled is not None else None
    )
    rows = []
    for agent_id, name in people:
        calls, ended, millis = sums.get(agent_id, (0, 0, 0))
        rows.append(AgentDay(agent_id, name, calls, millis / ended / 1000 if ended else None))
    return tuple(rows), unkept


def _complaints_by_status(session: Session) -> tuple[tuple[str, int], ...]:
    return tuple(
        (r[0], r[1])
        for r in session.execute(
            select(Complaint.status, func.count())
            .where(Complaint.status.not_in(CLOSED_COMPLAINT_STATUSES))
            .group_by(Complaint.status)
            .order_by(Complaint.status)
        )
    )


def _order_counts(session: Session, now: datetime) -> tuple[int, int, int]:
    """Open work orders unassigned, urgent, late."""
    unassigned = session.execute(
        select(func.count())
        .select_from(WorkOrder)
        .where(_OPEN_ORDER, WorkOrder.assignee_id.is_(None))
    ).scalar_one()
    urgent = session.execute(
        select(func.count()).select_from(WorkOrder).where(_OPEN_ORDER, WorkOrder.urgent)
    ).scalar_one()
    late = session.execute(
        select(func.count()).select_from(WorkOrder).where(states.order_late_sql(now))
    ).scalar_one()
    return unassigned, urgent, late


def wallboard_queries(
    *, session: Session, now: datetime, zone: str | ZoneInfo = ZONE, limit: int = 20
) -> Wallboard:
    """The supervisor's wallboard: today per agent, open complaints, overdue callbacks, orders.

    "Today" is the desk's local day up to `now`; handling time is start to end of a call.
    """
    unassigned, urgent, late = _order_counts(session, now)
    attention = session.execute(
        select(
            WorkOrder.id,
            WorkOrder.short_text,
            WorkOrder.urgent,
            WorkOrder.due_at,
            Agent.display_name,
        )
        .outerjoin(Agent, Agent.id == WorkOrder.assignee_id)
        .where(_OPEN_ORDER, _attention(now))
        .order_by(WorkOrder.due_at)
        .limit(limit)
    ).all() if limit > 0 else []  # fmt: skip
    return Wallboard(
        calls_today=_calls_today(session, now, zone),
        complaints_by_status=_complaints_by_status(session),
        overdue_callbacks=tuple(_overdue_by_agent(session, now)),
        unassigned_work_orders=unassigned,
        urgent_work_orders=urgent,
        late_work_orders=late,
        attention=tuple(tuple(r) for r in attention),  # type: ignore[misc]
    )


# -- the rows the wallboard shows -----------------------------------------------------------


@dataclass(frozen=True)
class AgentRow:
    agent_id: int
    agent: str
    role: str
    state: str | None
    """call, wrapup or desk from a fresh heartbeat; None: no seat running."""
    calls: int
    avg_handling_seconds: float | None
    overdue_callbacks: int


@dataclass(frozen=True)
class ComplaintRow:
    id: int
    customer_name: str
    owner: str
    status: str
    clock: sla.ClockState | None
    """The most urgent running clock."""
    escalated: bool

    @property
    def breached(self) -> bool:
        return self.clock is not None and self.clock.breached

    @property
    def awaiting_approval(self) -> bool:
        return self.status == "proposed"


@dataclass(frozen=True)
class CallbackRow:
    id: int
    customer_name: str
    owner_id: int
    owner: str
    kind: str
    due_at: datetime
    attempts: int


@dataclass(frozen=True)
class OrderRow:
    id: int
    short_text: str
    urgent: bool
    status: str
    due_at: datetime
    assignee: str | None
    clock_late: bool = False
    """An on-site, reply or follow-up clock is late (seat.order_clocks)."""


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: tuple[T, ...]
    total: int
    offset: int


@dataclass(frozen=True)
class Board:
    """One refresh of the wallboard."""

    at: datetime
    agents: tuple[AgentRow, ...]
    complaints: Page[ComplaintRow]
    complaints_by_status: tuple[tuple[str, int], ...]
    breached: int
    callbacks: Page[CallbackRow]
    orders: Page[OrderRow]
    unassigned: int
    urgent: int
    late: int = 0
    """Open orders past their expected end."""
    clocks: queues.ClockCounts = queues.ClockCounts()
    """Late work-order clocks (on site, reply, follow-up), every order counted."""


def order_clock_counts(*, session: Session, now: datetime) -> queues.ClockCounts:
    """Every order's late clocks (seat.order_clocks), counted over the clocks' indexes.

    The orders late on any clock are counted as those late on the first clock, plus those
    late on the second and not the first, plus those late on the third and on neither before
    it: three index ranges read from the index alone (migration 0036), never a UNION of tens
    of thousands of ids. (`queues.clock_counts_statement` counts one agent's orders.)"""
    late = {name: order_clocks.late_sql(name, now) for name in order_clocks.CLOCKS}
    not_late = {name: order_clocks.not_late_sql(name, now) for name in order_clocks.CLOCKS}

    def count(*where: Any) -> Any:
        return select(func.count()).select_from(WorkOrder).where(*where).scalar_subquery()

    on_site, reply, follow_up = order_clocks.CLOCKS
    n_on_site, n_reply, n_follow_up, reply_only, follow_up_only = session.execute(select(
        count(late[on_site]), count(late[reply]), count(late[follow_up]),
        count(late[reply], not_late[on_site]),
        count(late[follow_up], not_late[on_site], not_late[reply]),
    )).one()  # fmt: skip
    return queues.ClockCounts(
        n_on_site, n_reply, n_follow_up, n_on_site + reply_only + follow_up_only
    )


def live_states(*, session: Session, now: datetime) -> dict[int, str]:
    """Each agent's state from fresh heartbeats (the busiest, if they run two seats)."""
    out: dict[int, str] = {}
    for agent_id, state in seats.live_seats(session=session, now=now):
        if agent_id not in out or STATE_RANK.get(state, 9) < STATE_RANK.get(out[agent_id], 9):
            out[agent_id] = state
    return out


def agent_rows(
    *, session: Session, now: datetime, zone: str | ZoneInfo, counts: Wallboard | None = None
) -> list[AgentRow]:
    """Every active agent: what they do now, calls today, handling time, overdue callbacks."""
    board = counts or wallboard_queries(session=session, now=now, zone=zone, limit=0)
    states = live_states(session=session, now=now)
    roles = dict(session.execute(select(Agent.id, Agent.role).where(Agent.active)).all())
    overdue = {a: n for a, __, n in board.overdue_callbacks}
    return [
        AgentRow(
            d.agent_id,
            d.agent,
            roles.get(d.agent_id, ""),
            states.get(d.agent_id),
            d.calls,
            d.avg_handling_seconds,
            overdue.get(d.agent_id, 0),
        )  # fmt: skip
        for d in board.calls_today
    ]


def urgency_key(row: ComplaintRow) -> tuple[int, float, int]:
    """Breached first (longest overdue first), then the least time left; no clock last."""
    return complaints.urgency_key(row.clock, row.id)


def open_complaints(
    *,
    session: Session,
    now: datetime,
    policy: sla.Policy,
    offset: int = 0,
    limit: int = PAGE,
    cache: complaints.ClockCache | None = None,
) -> tuple[Page[ComplaintRow], int]:
    """A page of every open complaint by urgency, and how many are breached.

    The clocks are pure arithmetic over column-only rows, so all open complaints are
    ranked (a floor has hundreds, not millions) and only one page leaves this function.
    With a `cache`, only the clocks of complaints that moved are computed again.
    """
    ranked, clocks = complaints.rank_open(
        session=session, where=(Complaint.status.in_(complaints.OPEN_STATUSES),), now=now,
        policy=policy, cache=cache,
    )  # fmt: skip
    breached = sum(1 for k in clocks.values() if k is not None and k.breached)
    offset = _clamp(offset, len(ranked), limit)
    page = ranked[offset : offset + limit]
    shown = {
        r.id: r
        for r in session.execute(
            select(Complaint.id, Complaint.status, Complaint.escalated_to_id, Customer.name,
                   Agent.display_name)
            .join(Customer, Customer.id == Complaint.customer_id)
            .join(Agent, Agent.id == Complaint.owner_id)
            .where(Complaint.id.in_(page))
        )
    } if page else {}  # fmt: skip
    rows = tuple(
        ComplaintRow(
            id=cid, customer_name=shown[cid].name, owner=shown[cid].display_name,
            status=shown[cid].status, clock=clocks[cid],
            escalated=shown[cid].escalated_to_id is not None,
        )
        for cid in page
        if cid in shown
    )  # fmt: skip
    return Page(rows, len(ranked), offset), breached


def overdue_callbacks(
    *,
    session: Session,
    now: datetime,
    offset: int = 0,
    limit: int = PAGE,
    per_agent: Sequence[tuple[int, str, int]] | None = None,
) -> Page[CallbackRow]:
    """Open callbacks past their due time, by agent, the longest overdue first.

    The page is cut from the per-agent counts (`Wallboard.overdue_callbacks`, read here when
    not given), so each agent's rows come from the owner/status/due index directly instead of
    sorting every overdue callback of the floor by agent name."""
    if per_agent is None:
        per_agent = _overdue_by_agent(session, now)
    total = sum(n for __, __, n in per_agent)
    offset = _clamp(offset, total, limit)
    rows: list[CallbackRow] = []
    skip, want = offset, limit
    for agent_id, name, n in per_agent:
        if want <= 0:
            break
        if skip >= n:
            skip -= n
            continue
        for r in session.execute(
            select(Callback.id, Customer.name, Callback.kind, Callback.due_at, Callback.attempts)
            .join(Customer, Customer.id == Callback.customer_id)
            .where(Callback.owner_id == agent_id, states.callback_overdue_sql(now))
            .order_by(Callback.due_at, Callback.id)
            .offset(skip).limit(want)
        ):  # fmt: skip
            rows.append(CallbackRow(r.id, r.name, agent_id, name, r.kind, r.due_at, r.attempts))
        want = limit - len(rows)
        skip = 0
    return Page(tuple(rows), total, offset)


def _overdue_by_agent(session: Session, now: datetime) -> list[tuple[int, str, int]]:
    """(agent id, name, overdue open callbacks) by name, agents with none left out."""
    return [
        (r[0], r[1], r[2])
        for r in session.execute(
            select(Agent.id, Agent.display_name, func.count(Callback.id))
            .join(Callback, Callback.owner_id == Agent.id)
            .where(states.callback_overdue_sql(now))
            .group_by(Agent.id, Agent.display_name)
            .order_by(Agent.display_name, Agent.id)
        )
    ]


@dataclass(frozen=True)
class _OrderNumbers:
    """The wallboard's counts of open work orders, each counted once per read."""

    unassigned: int
    urgent: int
    late: int
    plain_flagged: int
    """Not urgent, and unassigned or past the expected end."""
    clocks_only: int
    """Assigned, not urgent, not past the expected end, but a clock late."""


def _clocks_only(now: datetime) -> tuple[Any, ...]:
    clock_late = or_(*(order_clocks.late_sql(name, now) for name in order_clocks.CLOCKS))
    return (
        WorkOrder.urgent == false(), WorkOrder.assignee_id.is_not(None), WorkOrder.due_at >= now,
        clock_late,
    )  # fmt: skip


def _order_numbers(session: Session, now: datetime) -> _OrderNumbers:
    """Open orders unassigned, urgent, late, and the attention list's groups, each a range of
    an index: the late ones as the urgent late plus the plain late (the plain late are a
    group of the list anyway), the plain unassigned not yet late only when some open order is
    unassigned at all (else every order not yet due was read to find none)."""

    def count(*where: Any) -> int:
        return session.execute(
            select(func.count()).select_from(WorkOrder).where(_OPEN_ORDER, *where)
        ).scalar_one()

    plain, urgent = WorkOrder.urgent == false(), WorkOrder.urgent == true()
    unassigned = count(WorkOrder.assignee_id.is_(None))
    plain_late = count(plain, WorkOrder.due_at < now)
    plain_unassigned = (
        count(plain, WorkOrder.due_at >= now, WorkOrder.assignee_id.is_(None)) if unassigned
        else 0
    )  # fmt: skip
    return _OrderNumbers(
        unassigned=unassigned,
        urgent=count(urgent),
        late=count(urgent, WorkOrder.due_at < now) + plain_late,
        plain_flagged=plain_late + plain_unassigned,
        clocks_only=count(*_clocks_only(now)),
    )


def attention_orders(
    *,
    session: Session,
    now: datetime,
    offset: int = 0,
    limit: int = PAGE,
    numbers: _OrderNumbers | None = None,
) -> Page[OrderRow]:
    """Open work orders that are unassigned, urgent or late: urgent first, then by expected
    end (so the late ones lead each group). Each group is counted and paged on its own, in
    the order of ix_work_order_urgent_due, so no open order is read that is not shown.
    `numbers`: the counts, when the caller has them (`_order_numbers`)."""
    numbers = numbers or _order_numbers(session, now)
    plain = WorkOrder.urgent == false()
    clock_late = or_(*(order_clocks.late_sql(name, now) for name in order_clocks.CLOCKS))
    # Assigned, not urgent, not past its expected end, but a clock late: counted in the
    # header's "clocks late", it was on no row.
    groups = (
        (WorkOrder.urgent == true(), numbers.urgent),
        (
            and_(plain, or_(WorkOrder.assignee_id.is_(None), WorkOrder.due_at < now)),
            numbers.plain_flagged,
        ),
        (and_(*_clocks_only(now)), numbers.clocks_only),
    )
    total = sum(n for __, n in groups)
    offset = _clamp(offset, total, limit)
    rows: list[Any] = []
    skip = offset
    for where, n in groups:
        want = limit - len(rows)
        if want > 0 and skip < n:
            rows += session.execute(
                select(WorkOrder.id, WorkOrder.short_text, WorkOrder.urgent, WorkOrder.status,
                       WorkOrder.due_at, Agent.display_name, clock_late)
                .outerjoin(Agent, Agent.id == WorkOrder.assignee_id)
                .where(_OPEN_ORDER, where)
                .order_by(WorkOrder.due_at, WorkOrder.id)
                .offset(skip).limit(want)
            ).all()  # fmt: skip
        skip = max(0, skip - n)
    return Page(tuple(OrderRow(*r[:6], bool(r[6])) for r in rows), total, offset)


def _clamp(offset: int, total: int, limit: int) -> int:
    """An offset inside the list: the last page when rows went away under it."""
    if limit <= 0 or offset <= 0:
        return 0
    last = max(0, (total - 1) // limit * limit)
    return min(offset - offset % limit, last)


class BoardCache:
    """What the wallboard read last, kept by the services between refreshes.

    A refresh whose database token (seat.db.ChangeWatch) is unchanged gets the same board
    back at once, with its time moved on, until the first instant something on it turns by
    itself: the next minute (the time left it shows), a clock's breach, a callback falling
    due, a work order turning late. Otherwise it reads again, part by part: the agents' part
    (calls today, who is on a call) every time, and each list (complaints, overdue callbacks,
    work orders) only when its marks (`part_marks`) moved or its own turning instant came, so
    a seat's heartbeat re-reads the agents' part only. Clocks are computed again only for
    complaints that moved (ClockCache)."""

    def __init__(self) -> None:
        self.clocks = complaints.ClockCache()
        self.changes = ListChanges()
        self._kept: tuple[object, tuple[Any, ...], Board, datetime] | None = None
        self._parts: dict[str, tuple[tuple[Any, ...], Any, datetime, datetime]] = {}
        self._lock = threading.Lock()
        self.unkept = 0
        """Today's settled quarter hours the last read found not kept (seat.call_slots)."""

    def kept(self, token: object | None, key: tuple[Any, ...], now: datetime) -> Board | None:
        with self._lock:
            if token is None or self._kept is None:
                return None
            was_token, was_key, kept_board, until = self._kept
            if was_token != token or was_key != key or not kept_board.at <= now < until:
                return None
            return replace(kept_board, at=now)

    def keep(
        self, token: object | None, key: tuple[Any, ...], fresh: Board, until: datetime
    ) -> None:
        with self._lock:
            self._kept = (token, key, fresh, until) if token is not None else None

    def part(self, name: str, key: tuple[Any, ...] | None, now: datetime) -> Any | None:
        """The part `name` read under the same `key` (its marks and page), while still right
        at `now`; None: read it again (always, without a key)."""
        with self._lock:
            kept = self._parts.get(name)
            if key is None or kept is None:
                return None
            was_key, value, at, until = kept
            return value if was_key == key and at <= now < until else None

    def parts_until(self) -> datetime:
        """The first instant a kept part must be read again by itself."""
        with self._lock:
            return min((kept[3] for kept in self._parts.values()), default=NEVER)

    def keep_part(
        self, name: str, key: tuple[Any, ...] | None, value: Any, at: datetime, until: datetime
    ) -> None:
        with self._lock:
            if key is None:
                self._parts.pop(name, None)
            else:
                self._parts[name] = (key, value, at, until)


@dataclass(frozen=True)
class Marks:
    """What each list of the board was read from, in marks that move with every write to it:
    the newest row of each table and of its history (every change of a complaint, callback
    or work order writes a history row, seat.lifecycle; every change of a customer's name or
    tier a customer_change row), and the agents' names, roles and active flags."""

    complaints: tuple[Any, ...]
    callbacks: tuple[Any, ...]
    orders: tuple[Any, ...]


def part_marks(session: Session, changes: ListChanges | None = None) -> Marks | None:
    """The marks of the board's lists, or None where they cannot be trusted. SQLite: the
    newest row of each table and history (its writers take turns, so a row's id is given in
    commit order and a kept list whose marks did not move saw every write). PostgreSQL, with
    `changes` (the cache's): the generations of the lists written to since the last read
    (seat.db.ListChanges: a transaction still open may commit a row below the newest id);
    without, None: every list is read again."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql" and changes is not None:
        moved = changes.generations(session.connection())
        people = _people_marks(session)
        return Marks(
            complaints=(moved["complaints"], moved["customers"], people),
            callbacks=(moved["callbacks"], moved["customers"], people),
            orders=(moved["orders"], people),
        )
    if dialect != "sqlite":
        return None
    newest = session.execute(
        select(
            *(
                select(func.max(c)).scalar_subquery()
                for c in (
                    Complaint.id,
                    ComplaintEvent.id,
                    Callback.id,
                    CallbackEvent.id,
                    WorkOrder.id,
                    WorkOrderEvent.id,
                    CustomerChange.id,
                )
            )
        )  # fmt: skip
    ).one()
    people = _people_marks(session)
    complaint, complaint_event, callback, callback_event, order, order_event, customer = newest
    return Marks(
        complaints=(complaint, complaint_event, customer, people),
        callbacks=(callback, callback_event, customer, people),
        orders=(order, order_event, people),
    )


def _people_marks(session: Session) -> tuple[Any, ...]:
    """The agents' names, roles and active flags (a list shows names)."""
    return tuple(
        tuple(r)
        for r in session.execute(
            select(Agent.id, Agent.display_name, Agent.role, Agent.active).order_by(Agent.id)
        )
    )


def _next_due(session: Session, query: Any, fallback: datetime) -> datetime:
    at = session.execute(query).scalar()
    if at is None:
        return fallback
    return min(fallback, at if at.tzinfo else at.replace(tzinfo=UTC))


NEVER = datetime.max.replace(tzinfo=UTC)


def _turns_at(session: Session, now: datetime, clocks: complaints.ClockCache) -> datetime:
    """The first instant after `now` something on the board changes without a write."""
    minute = now.replace(second=0, microsecond=0)
    return min(clocks.due(minute), _callbacks_turn(session, now), _orders_turn(session, now))


def _callbacks_turn(session: Session, now: datetime) -> datetime:
    """When the next open callback falls due (the overdue list grows by itself)."""
    return _next_due(session, select(func.min(Callback.due_at)).where(
        Callback.status == CallbackStatus.OPEN, Callback.due_at > now), NEVER)  # fmt: skip


def _orders_turn(session: Session, now: datetime) -> datetime:
    """When the next open work order turns late, or the next clock of one does."""
    turn = NEVER
    for urgent in (true(), false()):  # the first open one of each range of the index
        turn = _next_due(session, select(WorkOrder.due_at).where(
            WorkOrder.urgent == urgent, WorkOrder.due_at > now, _OPEN_ORDER,
        ).order_by(WorkOrder.due_at).limit(1), turn)  # fmt: skip
    for running, due in (
        (WorkOrder.on_site_at.is_(None), WorkOrder.on_site_due_at),
        (WorkOrder.replied_at.is_(None), WorkOrder.reply_due_at),
        (WorkOrder.follow_up_due_at.is_not(None), WorkOrder.follow_up_due_at),
    ):
        turn = _next_due(session, select(func.min(due)).where(running, due > now), turn)
    return turn


def board(
    *,
    session: Session,
    now: datetime,
    zone: str | ZoneInfo,
    policy: sla.Policy,
    offsets: dict[str, int] | None = None,
    limit: int = PAGE,
    cache: BoardCache | None = None,
    token: object | None = None,
) -> Board:
    """Everything the wallboard shows, in one transaction; `offsets` pick each list's page.

    With a `cache` and the database's change `token` read before this transaction, an
    unchanged database is not read again, and after a write only the lists whose marks moved
    are (BoardCache)."""
    offsets = offsets or {}
    key = (tuple(sorted(offsets.items())), limit, id(policy), str(zone))
    if cache is not None and (kept := cache.kept(token, key, now)) is not None:
        return kept
    with few_collections():
        return _read_board(
            session=session, now=now, zone=zone, policy=policy, offsets=offsets, limit=limit,
            cache=cache, token=token, key=key,
        )  # fmt: skip


def _read_board(
    *,
    session: Session,
    now: datetime,
    zone: str | ZoneInfo,
    policy: sla.Policy,
    offsets: dict[str, int],
    limit: int,
    cache: BoardCache | None,
    token: object | None,
    key: tuple[Any, ...],
) -> Board:
    parts = cache or BoardCache()
    marks = part_marks(session, parts.changes) if cache is not None else None
    minute = now.replace(second=0, microsecond=0)

    def keyed(name: str, *page: Any) -> tuple[Any, ...] | None:
        return None if marks is None else (getattr(marks, name), *page)

    k_complaints = keyed("complaints", offsets.get("complaints", 0), limit, id(policy))
    cases = parts.part("complaints", k_complaints, now)
    if cases is None:
        page, breached = open_complaints(
            session=session, now=now, policy=policy, offset=offsets.get("complaints", 0),
            limit=limit, cache=parts.clocks,
        )  # fmt: skip
        cases = (page, breached, _complaints_by_status(session))
        parts.keep_part("complaints", k_complaints, cases, now, parts.clocks.due(minute))
    k_callbacks = keyed("callbacks", offsets.get("callbacks", 0), limit)
    calls_back = parts.part("callbacks", k_callbacks, now)
    if calls_back is None:
        per_agent = _overdue_by_agent(session, now)
        calls_back = (per_agent, overdue_callbacks(
            session=session, now=now, offset=offsets.get("callbacks", 0), limit=limit,
            per_agent=per_agent,
        ))  # fmt: skip
        parts.keep_part("callbacks", k_callbacks, calls_back, now, _callbacks_turn(session, now))
    k_orders = keyed("orders", offsets.get("orders", 0), limit)
    orders = parts.part("orders", k_orders, now)
    if orders is None:
        numbers = _order_numbers(session, now)
        orders = (
            (numbers.unassigned, numbers.urgent, numbers.late),
            attention_orders(session=session, now=now, offset=offsets.get("orders", 0),
                             limit=limit, numbers=numbers),
            order_clock_counts(session=session, now=now),
        )  # fmt: skip
        parts.keep_part("orders", k_orders, orders, now, _orders_turn(session, now))
    (unassigned, urgent, late), order_page, clock_counts = orders
    today, parts.unkept = calls_today(session, now, zone)
    counts = Wallboard(
        calls_today=today, complaints_by_status=cases[2],
        overdue_callbacks=tuple(calls_back[0]), unassigned_work_orders=unassigned,
        urgent_work_orders=urgent, late_work_orders=late, attention=(),
    )  # fmt: skip
    fresh = Board(
        at=now,
        agents=tuple(agent_rows(session=session, now=now, zone=zone, counts=counts)),
        complaints=cases[0],
        complaints_by_status=cases[2],
        breached=cases[1],
        callbacks=calls_back[1],
        orders=order_page,
        unassigned=unassigned,
        urgent=urgent,
        late=late,
        clocks=clock_counts,
    )
    if cache is not None:
        until = min(
            parts.clocks.due(minute),
            parts.parts_until(),
        ) if marks is not None else _turns_at(session, now, parts.clocks)  # fmt: skip
        cache.keep(token, key, fresh, until)
    return fresh


# -- one agent's queue ----------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    kind: str
    """callback, complaint or order."""
    id: int
    text: str
    """The customer's name (callback, complaint) or the order's short text."""
    due_at: datetime | None
    late: bool
    detail: str = ""
    """A code the screen shows translated: the callback's kind or the complaint's step."""


def agent_queue(
    *, session: Session, agent_id: int, now: datetime, policy: sla.Policy, limit: int = PAGE
) -> list[QueueItem]:
    """One agent's open work as their supervisor sees it: callbacks, complaints, orders."""
    items: list[QueueItem] = []
    for cb_id, name, kind, due in session.execute(
        select(Callback.id, Customer.name, Callback.kind, Callback.due_at)
        .join(Customer, Customer.id == Callback.customer_id)
        .where(Callback.owner_id == agent_id, Callback.status == CallbackStatus.OPEN)
        .order_by(Callback.due_at)
        .limit(limit)
    ):
        items.append(QueueItem("callback", cb_id, name, due, states.callback_overdue(due, now),
                               detail=kind))  # fmt: skip
    cases = session.execute(
        select(*complaints._CASE_COLUMNS, Customer.name, Customer.tier)
        .join(Customer, Customer.id == Complaint.customer_id)
        .where(Complaint.owner_id == agent_id, Complaint.status.in_(complaints.OPEN_STATUSES))
        .order_by(Complaint.created_at)
        .limit(limit)
    ).all()
    paused = complaints.pauses_for(session=session, complaint_ids=[r.id for r in cases])
    for r in cases:
        k = sla.most_urgent(
            complaints.clocks(r, level=level_for(r.tier), policy=policy, now=now,
                              pauses=paused.get(r.id, ()))
        )  # fmt: skip
        items.append(QueueItem("complaint", r.id, r.name, k.deadline if k else None,
                               bool(k and k.breached), detail=r.status))  # fmt: skip
    for wo_id, text, due in session.execute(
        select(WorkOrder.id, WorkOrder.short_text, WorkOrder.due_at)
        .where(WorkOrder.assignee_id == agent_id, _OPEN_ORDER)
        .order_by(WorkOrder.due_at)
        .limit(limit)
    ):
        items.append(QueueItem("order", wo_id, text, due, states.order_late(due, now)))
    return items


def handling_text(seconds: float | None) -> str:
    """Average handling time as m:ss (or h:mm:ss); '-' without finished calls."""
    if seconds is None:
        return "-"
    total = int(round(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def since(now: datetime, due: datetime) -> timedelta:
    """How long ago something fell due (never negative)."""
    return max(now - due, timedelta(0))

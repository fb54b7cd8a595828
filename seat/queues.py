"""The agent's own queues, as the desk's sidebar shows them: their open work orders (urgent
first, then by due time, a page), the true counts behind that page, the late ones, and how
many open complaints they own; and the item a callback queue shows.

The callbacks in a queue come from seat.callbacks (which knows rest hours), the complaints
near their deadlines from seat.complaints (which knows the clocks); seat.services.Desk.sidebar
puts the three together. (seat/widgets/sidebar.py is the widget that draws it.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, literal_column, select, text, union, union_all
from sqlmodel import Session

from seat import order_clocks, states
from seat.db import PreparedIds, kept_at, prepared
from seat.models import (
    CLOSED_COMPLAINT_STATUSES,
    OPEN_WORK_ORDER_EXCLUDES,
    Complaint,
    Customer,
    WorkOrder,
    WorkOrderAgentHour,
)


@dataclass(frozen=True)
class CallbackItem:
    id: int
    customer_id: int
    customer_name: str
    due_at: datetime
    reason: str
    kind: str
    attempts: int

    def overdue(self, now: datetime) -> bool:
        return states.callback_overdue(self.due_at, now)


@dataclass(frozen=True)
class WorkOrderItem:
    id: int
    customer_id: int
    customer_name: str
    short_text: str
    status: str
    urgent: bool
    due_at: datetime

    def late(self, now: datetime) -> bool:
        return states.order_late(self.due_at, now)


@dataclass(frozen=True)
class SidebarData:
    work_orders: tuple[WorkOrderItem, ...]
    complaints_open: int


def sidebar(*, session: Session, agent_id: int, limit: int = 50) -> SidebarData:
    """The agent's open work orders (urgent first, then by due time) and how many open
    complaints they own. The callbacks come from seat.callbacks.sidebar_callbacks (which
    knows rest hours), the near complaints from seat.complaints.sidebar_complaints."""
    conn = session.connection()
    page = _order_page(conn.execute(_OWN_STATUSES, {"agent_id": agent_id}).scalars(), limit)
    ids = conn.execute(page, {"agent_id": agent_id}).scalars().all() if page is not None else []
    details, count = _sidebar_statements()
    wos = conn.execute(details, {"ids": ids}).all() if ids else []
    n_complaints = conn.execute(count, {"agent_id": agent_id}).scalar_one()
    return SidebarData(
        work_orders=tuple(WorkOrderItem(*r) for r in wos),
        complaints_open=n_complaints,
    )


@dataclass(frozen=True)
class OrderCounts:
    """True totals of an agent's open work orders (the sidebar's list is cut at a page)."""

    open: int
    urgent: int
    late: int


def order_counts(*, session: Session, agent_id: int, now: datetime) -> OrderCounts:
    """COUNT queries over the (assignee, status, urgent, due) index, one range per open
    status the agent has (and per urgency for the late ones); late is seat.states'."""
    open_ = _open_statuses(session, agent_id)
    if not open_:
        return OrderCounts(open=0, urgent=0, late=0)
    row = session.execute(
        _counts_statement(), {"agent_id": agent_id, "statuses": open_, "now": now}
    ).one()
    return OrderCounts(open=row[0], urgent=row[1], late=row[2])


def late_orders(
    *, session: Session, agent_id: int, now: datetime, limit: int = 50
) -> tuple[WorkOrderItem, ...]:
    """The agent's late open orders, the longest late first (a page; order_counts counts):
    the first `limit` of each open (status, urgency) in due order, merged."""
    open_ = _open_statuses(session, agent_id)
    if not open_ or limit <= 0:
        return ()
    page = _late_page(open_, limit)
    ids = session.execute(page, {"agent_id": agent_id, "now": now}).scalars().all()
    if not ids:
        return ()
    details, __ = _sidebar_statements()
    rows = session.execute(details.order_by(None).order_by(WorkOrder.due_at, WorkOrder.id),
                           {"ids": ids}).all()  # fmt: skip
    return tuple(WorkOrderItem(*r) for r in rows)


def _open_statuses(session: Session, agent_id: int) -> tuple[str, ...]:
    """The open statuses the agent has orders in (one index seek each)."""
    found = session.connection().execute(_OWN_STATUSES, {"agent_id": agent_id}).scalars()
    return tuple(sorted(s for s in found if s not in OPEN_WORK_ORDER_EXCLUDES))


_COUNTS: list[Any] = []


def _counts_statement() -> Any:
    """Open, urgent and late orders of an agent among the given open statuses; built once."""
    if not _COUNTS:
        mine = (
            WorkOrder.assignee_id == bindparam("agent_id"),
            WorkOrder.status.in_(bindparam("statuses", expanding=True)),
        )

        def count(*where: Any) -> Any:
            return (
                select(func.count()).select_from(WorkOrder).where(*mine, *where).scalar_subquery()
            )

        _COUNTS.append(
            select(
                count(),
                count(WorkOrder.urgent.is_(True)),
                # Each (status, urgency) a range of due times: no order read row by row. One
                # count per urgency: `urgent IN (1, 0)` before the range counted an urgent
                # order due later today as late (SQLite 3.40's IN-then-range index scan).
                count(WorkOrder.urgent.is_(True), WorkOrder.due_at < bindparam("now"))
                + count(WorkOrder.urgent.is_(False), WorkOrder.due_at < bindparam("now")),
            )
        )
    return _COUNTS[0]


_LATE: dict[tuple[tuple[str, ...], int, bool], Any] = {}


def _late_page(statuses: tuple[str, ...], limit: int, *, numbered: bool = False) -> Any:
    """The ids of the page of late orders, built once per status set; `numbered` with each
    one's place in the page (pos, from 1)."""
    key = (statuses, limit, numbered)
    if key not in _LATE:
        parts = [
            select(WorkOrder.id, WorkOrder.due_at)
            .where(
                WorkOrder.assignee_id == bindparam("agent_id"),
                WorkOrder.status == status,
                WorkOrder.urgent == urgent,
                WorkOrder.due_at < bindparam("now"),
            )
            .order_by(WorkOrder.due_at, WorkOrder.id)
            .limit(limit)
            .subquery()
            for status in statuses
            for urgent in (True, False)
        ]
        merged = union_all(*(select(p.c.id, p.c.due_at) for p in parts)).subquery()
        order = (merged.c.due_at, merged.c.id)
        place = [func.row_number().over(order_by=order).label("pos")] if numbered else []
        if len(_LATE) > 64:
            _LATE.clear()
        _LATE[key] = select(merged.c.id, *place).order_by(*order).limit(limit)
    return _LATE[key]


@dataclass(frozen=True)
class ClockCounts:
    """True totals of late work-order clocks (seat.order_clocks): each clock counted over
    every order, not over a page."""

    on_site: int = 0
    reply: int = 0
    follow_up: int = 0
    orders: int = 0
    """Orders with at least one late clock."""

    @property
    def total(self) -> int:
        """Late clocks (an order late on two clocks counts twice)."""
        return self.on_site + self.reply + self.follow_up


def clock_counts_statement(now: datetime, *where: Any) -> Any:
    """One row: the late clocks of each kind and the orders late on any, among `where`.

    Each clock is one range of its index (an agent's: `ix_work_order_agent_*`, migration
    0030); the orders late on any are the UNION of the three ranges' ids, never an OR that
    reads every order of the agent."""
    late = [
        select(WorkOrder.id).where(*where, order_clocks.late_sql(name, now))
        for name in order_clocks.CLOCKS
    ]

    def count(rows: Any) -> Any:
        return select(func.count()).select_from(rows.subquery()).scalar_subquery()

    return select(*(count(q) for q in late), count(union(*late)))


def clock_counts(*, session: Session, agent_id: int, now: datetime) -> ClockCounts:
    """The agent's late clocks, counted over the clocks' indexes."""
    row = session.execute(
        clock_counts_statement(now, WorkOrder.assignee_id == agent_id)
    ).one()
    return ClockCounts(*row)


def clock_totals(*, session: Session, agent_id: int, now: datetime) -> tuple[int, int, int]:
    """The agent's late clocks of each kind (on site, reply, follow-up): clock_counts
    without the orders late on any clock, which the sidebar does not show (there are such
    orders exactly when one of these is not 0). Counting those read every late clock's id
    into a temporary b-tree (seat bench: 1.8 of the heaviest agent's sidebar's 11 ms); each
    count here is one range of its clock's index."""
    row = prepared(_clock_statements().totals).execute(
        session.connection(), {"agent_id": agent_id, "now": now}
    ).one()
    return row[0], row[1], row[2]


@dataclass(frozen=True)
class ClockLateItem:
    """An order with a late clock, as the sidebar lists it: its most late clock."""

    id: int
    customer_id: int
    customer_name: str
    short_text: str
    clock: str
    """on_site, reply or follow_up."""
    due_at: datetime


DUE_COLUMNS = {
    order_clocks.ON_SITE: WorkOrder.on_site_due_at,
    order_clocks.REPLY: WorkOrder.reply_due_at,
    order_clocks.FOLLOW_UP: WorkOrder.follow_up_due_at,
}
"""The deadline column of each order clock."""


def clock_late_orders(
    *, session: Session, agent_id: int, now: datetime, limit: int = 50
) -> tuple[ClockLateItem, ...]:
    """The agent's orders with a late clock, the longest late first (a page: clock_counts
    counts them all), each with its most late clock.

    Paged in SQL: each clock's first `limit` late orders in deadline order (read off that
    clock's index), merged. An order in the first `limit` by its most late clock is among
    the first `limit` of that clock: every order before it there is late earlier, so is
    before it overall too. A heavy agent's thousands of late orders are never all read."""
    if limit <= 0:
        return ()
    st = _clock_statements()
    conn = session.connection()
    args = {"agent_id": agent_id, "now": now, "limit": limit}
    # The clocks' pages in one statement, ids and times at the driver level (seat.db.Prepared)
    found: list[tuple[datetime, int, str]] = [
        (kept_at(at), oid, order_clocks.CLOCKS[clock])  # type: ignore[misc]
        for clock, oid, at in prepared(st.pages).rows(conn, args)
    ]
    first: dict[int, tuple[datetime, str]] = {}
    for at, oid, name in sorted(found, key=lambda f: (f[0], f[1], order_clocks.CLOCKS.index(f[2]))):
        first.setdefault(oid, (at, name))
    page = sorted(first.items(), key=lambda kv: (kv[1][0], kv[0]))[:limit]
    if not page:
        return ()
    rows = {r[0]: r for r in _CLOCK_DETAILS.rows(conn, [oid for oid, __ in page])}
    return tuple(
        ClockLateItem(oid, rows[oid][1], rows[oid][2], rows[oid][3], name, at)
        for oid, (at, name) in page
    )


_CLOCK_DETAILS = PreparedIds(
    lambda ids: select(WorkOrder.id, WorkOrder.customer_id, Customer.name, WorkOrder.short_text)
    .join(Customer, Customer.id == WorkOrder.customer_id)
    .where(WorkOrder.id.in_(ids))
)
"""The orders of a page with their customers (at the driver level: ids, numbers and
texts, nothing to convert)."""


@dataclass(frozen=True)
class _ClockStatements:
    totals: Any
    """The agent's late clocks of each kind, one index range each."""
    pages: Any
    """Per clock, the agent's first `limit` late orders in deadline order, in one statement:
    (the clock's place in order_clocks.CLOCKS, id, deadline)."""


_CLOCK_STATEMENTS: list[_ClockStatements] = []


def _clock_statements() -> _ClockStatements:
    """Built once (building them cost more than running them)."""
    if not _CLOCK_STATEMENTS:
        mine = WorkOrder.assignee_id == bindparam("agent_id")
        now = bindparam("now")

        def count(name: str) -> Any:
            return (
                select(func.count())
                .select_from(WorkOrder)
                .where(mine, order_clocks.late_sql(name, now))
                .scalar_subquery()
            )

        late = {
            name: select(WorkOrder.id, DUE_COLUMNS[name])
            .where(mine, order_clocks.late_sql(name, now))
            .order_by(DUE_COLUMNS[name], WorkOrder.id)
            .limit(bindparam("limit"))
            for name in order_clocks.CLOCKS
        }
        parts = [
            late[name].add_columns(literal_column(str(i)).label("clock")).subquery()
            for i, name in enumerate(order_clocks.CLOCKS)
        ]
        _CLOCK_STATEMENTS.append(_ClockStatements(
            totals=select(*(count(name) for name in order_clocks.CLOCKS)),
            pages=union_all(*(select(p.c.clock, *list(p.c)[:2]) for p in parts)),
        ))  # fmt: skip
    return _CLOCK_STATEMENTS[0]


@dataclass(frozen=True)
class AgentOrders:
    """An agent's orders as the sidebar shows them, read together (seat.services' sidebar)."""

    page: tuple[WorkOrderItem, ...]
    """Open orders, urgent first, then by due time (a page)."""
    counts: OrderCounts
    late: tuple[WorkOrderItem, ...]
    """Late open orders, the longest late first (a page)."""
    complaints_open: int
    clock_totals: tuple[int, int, int] = (0, 0, 0)
    """clock_totals: the late clocks of each kind (on site, reply, follow-up)."""


def agent_orders(*, session: Session, agent_id: int, now: datetime, limit: int = 50) -> AgentOrders:
    """What `sidebar`, `order_counts`, `late_orders` and `clock_totals` give, with the
    agent's statuses found once, every count in one statement and both pages' rows in
    one."""
    # The statements of ids and counts are read at the driver level (seat.db.Prepared):
    # SQLAlchemy's per-statement work cost more than most of them.
    conn = session.connection()
    mine = {"agent_id": agent_id}
    statuses = [r[0] for r in prepared(_OWN_STATUSES).rows(conn, mine)]
    open_ = tuple(sorted(s for s in statuses if s not in OPEN_WORK_ORDER_EXCLUDES))
    hour = (now - _EPOCH) // timedelta(hours=1)
    args = {"agent_id": agent_id, "now": now, "hour": hour,
            "hour_start": _EPOCH + timedelta(hours=hour)}  # fmt: skip
    totals = prepared(_totals_for(open_)).rows(conn, args)[0]
    counts = OrderCounts(*totals[:3]) if open_ else OrderCounts(open=0, urgent=0, late=0)
    complaints_open, on_site, reply, follow_up = totals[-4:]
    # Both pages with their rows in one statement. Urgent first: with a page's worth of
    # urgent orders, the page is urgent orders only.
    pages: tuple[list[WorkOrderItem], list[WorkOrderItem]] = ([], [])
    if open_ and limit > 0:
        both = _pages_statement(open_, limit, urgent_only=counts.urgent >= limit,
                                late=counts.late > 0)  # fmt: skip
        found = prepared(both).rows(conn, {"agent_id": agent_id, "now": now})
        for src, oid, customer_id, name, short_text, status, urgent, due_at in found:
            pages[src].append(WorkOrderItem(oid, customer_id, name, short_text, status,
                                            bool(urgent), kept_at(due_at)))  # type: ignore[arg-type]  # fmt: skip
        # Each page in its own order (the statement's join keeps none): urgent first, then
        # by due time; the late ones by due time.
        pages[0].sort(key=lambda w: (not w.urgent, w.due_at, w.id))
        pages[1].sort(key=lambda w: (w.due_at, w.id))
    return AgentOrders(
        page=tuple(pages[0]),
        counts=counts,
        late=tuple(pages[1]),
        complaints_open=complaints_open,
        clock_totals=(on_site, reply, follow_up),
    )


_BOTH: dict[tuple[tuple[str, ...], int, bool, bool], Any] = {}


def _pages_statement(statuses: tuple[str, ...], limit: int, *, urgent_only: bool,
                     late: bool) -> Any:  # fmt: skip
    """The page of open orders (`_order_page`'s) and, with `late`, the page of late ones
    (`_late_page`'s), each row with its details and customer: (0 for the open page, 1 for the
    late one; `_sidebar_statements`' details), in no order. Built once per status set.

    Each page is one compound SELECT of its (status, urgency) ranges with the page's ORDER
    BY and LIMIT on the whole: SQLite merges the ranges in their index order and stops at
    the page's end (PostgreSQL: a Merge Append under the Limit), where a LIMIT on each range
    read `limit` rows of each and sorted every one (seat bench: 1,000 of the heaviest
    agent's)."""
    key = (statuses, limit, urgent_only, late)
    if key not in _BOTH:
        mine = WorkOrder.assignee_id == bindparam("agent_id")
        open_ = union_all(*(
            select(WorkOrder.id, WorkOrder.urgent, WorkOrder.due_at)
            .where(mine, WorkOrder.status == status, WorkOrder.urgent == urgent)
            for status in statuses
            for urgent in ((True,) if urgent_only else (True, False))
        ))  # fmt: skip
        o = open_.selected_columns
        parts = [open_.order_by(o.urgent.desc(), o.due_at, o.id).limit(limit).subquery()]
        if late:
            late_ = union_all(*(
                select(WorkOrder.id, WorkOrder.due_at).where(
                    mine, WorkOrder.status == status, WorkOrder.urgent == urgent,
                    WorkOrder.due_at < bindparam("now"),
                )
                for status in statuses
                for urgent in (True, False)
            ))  # fmt: skip
            lc = late_.selected_columns
            parts.append(late_.order_by(lc.due_at, lc.id).limit(limit).subquery())
        ids = union_all(*(
            select(literal_column(str(i)).label("src"), q.c.id) for i, q in enumerate(parts)
        )).subquery()  # fmt: skip
        if len(_BOTH) > 64:
            _BOTH.clear()
        _BOTH[key] = select(
            ids.c.src, WorkOrder.id, WorkOrder.customer_id, Customer.name,
            WorkOrder.short_text, WorkOrder.status, WorkOrder.urgent, WorkOrder.due_at,
        ).join_from(ids, WorkOrder, WorkOrder.id == ids.c.id).join(
            Customer, Customer.id == WorkOrder.customer_id
        )  # fmt: skip
    return _BOTH[key]


_TOTALS_FOR: dict[tuple[str, ...], Any] = {}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _totals_for(statuses: tuple[str, ...]) -> Any:
    """One row of every count agent_orders gives: with open statuses, the open, urgent and
    late orders among them; then the open complaints (_sidebar_statements) and the late
    clocks of each kind. Built once per status set.

    The orders' counts are whole hours kept per agent (`work_order_agent_hour`, migration
    0051, kept by the triggers on work_order) added up: every open and urgent order, the
    late ones and the late clocks of the hours before now's; only the orders due in now's
    hour before now are counted here, one short range of each index (the statements of
    _counts_statement and clock_totals counted each of the heaviest agent's 5,500 open
    orders and 5,300 running clocks). Late is seat.states' (due before now); a clock is late
    as order_clocks.late_sql says."""
    if statuses not in _TOTALS_FOR:
        if len(_TOTALS_FOR) > 64:
            _TOTALS_FOR.clear()
        agent, now = bindparam("agent_id"), bindparam("now")
        start = bindparam("hour_start")

        def kept(measure: str, *, before_now: bool = False) -> Any:
            hours = (WorkOrderAgentHour.hour < bindparam("hour"),) if before_now else ()
            return select(func.coalesce(func.sum(WorkOrderAgentHour.n), 0)).where(
                WorkOrderAgentHour.assignee_id == agent,
                WorkOrderAgentHour.measure == measure, *hours,
            ).scalar_subquery()  # fmt: skip

        def counted(*where: Any) -> Any:
            return (
                select(func.count()).select_from(WorkOrder)
                .where(WorkOrder.assignee_id == agent, *where).scalar_subquery()
            )  # fmt: skip

        orders: list[Any] = []
        if statuses:
            mine = WorkOrder.status.in_(bindparam("statuses", expanding=True))
            # One count per urgency: `urgent IN (1, 0)` before the range counted an urgent
            # order due later today as late (SQLite 3.40's IN-then-range index scan).
            cut = [
                counted(mine, WorkOrder.urgent.is_(urgent), WorkOrder.due_at >= start,
                        WorkOrder.due_at < now)
                for urgent in (True, False)
            ]  # fmt: skip
            late = kept("open", before_now=True) + cut[0] + cut[1]
            orders = [kept("open"), kept("urgent"), late]
        clocks = [
            kept(name, before_now=True)
            + counted(order_clocks.late_sql(name, now), DUE_COLUMNS[name] >= start)
            for name in order_clocks.CLOCKS
        ]
        __, complaints = _sidebar_statements()
        totals = select(*orders, complaints.scalar_subquery(), *clocks)
        # the statuses built in (seat.db.Prepared takes no list)
        _TOTALS_FOR[statuses] = totals.params(statuses=list(statuses)) if statuses else totals
    return _TOTALS_FOR[statuses]


_STATEMENTS: list[Any] = []


def _sidebar_statements() -> tuple[Any, Any]:
    """The orders of a page with their customers, and the open complaints count; built once
    (building them cost more than running them)."""
    if not _STATEMENTS:
        details = (
            select(
                WorkOrder.id,
                WorkOrder.customer_id,
                Customer.name,
                WorkOrder.short_text,
                WorkOrder.status,
                WorkOrder.urgent,
                WorkOrder.due_at,
            )
            .join(Customer, Customer.id == WorkOrder.customer_id)
            .where(WorkOrder.id.in_(bindparam("ids", expanding=True)))
            .order_by(WorkOrder.urgent.desc(), WorkOrder.due_at, WorkOrder.id)
        )
        count = (
            select(func.count())
            .select_from(Complaint)
            .where(
                Complaint.owner_id == bindparam("agent_id"),
                Complaint.status.not_in(CLOSED_COMPLAINT_STATUSES),
            )
        )
        _STATEMENTS[:] = [details, count]
    return _STATEMENTS[0], _STATEMENTS[1]


# The (assignee, status, urgent, due) index gives each (status, urgent) pair in due order,
# but "open" is every status but a few, so ordering the agent's open orders by urgency and
# due time sorted all of them (seat bench: 1.4 ms for an agent with 8,000 open orders).
# Instead the agent's statuses are found by skipping through the index (one seek each),
# and the page is merged from the first `limit` of each open (status, urgent) pair.
_OWN_STATUSES = text(
    "WITH RECURSIVE own(status) AS ("
    " SELECT min(status) FROM work_order WHERE assignee_id = :agent_id"
    " UNION ALL SELECT (SELECT min(w.status) FROM work_order w"
    "  WHERE w.assignee_id = :agent_id AND w.status > own.status)"
    " FROM own WHERE own.status IS NOT NULL)"
    " SELECT status FROM own WHERE status IS NOT NULL"
)
_PAGES: dict[tuple[tuple[str, ...], int, bool, bool], Any] = {}


def _order_page(
    statuses: Iterable[str], limit: int, *, urgent_only: bool = False, numbered: bool = False
) -> Any:
    """The statement for the ids of the page of open orders, built once per status set;
    `urgent_only` reads the urgent ones only (when there are at least `limit` of them);
    `numbered` gives each one's place in the page too (pos, from 1)."""
    open_ = tuple(sorted(s for s in statuses if s not in OPEN_WORK_ORDER_EXCLUDES))
    if not open_:
        return None
    key = (open_, limit, urgent_only, numbered)
    if key not in _PAGES:
        parts = [
            select(WorkOrder.id, WorkOrder.urgent, WorkOrder.due_at)
            .where(
                WorkOrder.assignee_id == bindparam("agent_id"),
                WorkOrder.status == status,
                WorkOrder.urgent == urgent,
            )
            .order_by(WorkOrder.due_at, WorkOrder.id)
            .limit(limit)
            .subquery()
            for status in open_
            for urgent in ((True,) if urgent_only else (True, False))
        ]
        merged = union_all(*(select(p.c.id, p.c.urgent, p.c.due_at) for p in parts)).subquery()
        order = (merged.c.urgent.desc(), merged.c.due_at, merged.c.id)
        place = [func.row_number().over(order_by=order).label("pos")] if numbered else []
        if len(_PAGES) > 64:
            _PAGES.clear()
        _PAGES[key] = select(merged.c.id, *place).order_by(*order).limit(limit)
    return _PAGES[key]

"""SQLModel tables. Times are aware datetimes stored in UTC."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import uuid4

from pydantic import ConfigDict
from sqlalchemy import (
    BigInteger,
    Connection,
    Index,
    UniqueConstraint,
    event,
    false,
    select,
    text,
    util,
)
from sqlmodel import Field, SQLModel

# Plain enumerations, importable without the tables (the desk's first frame: seat.lazy).
from seat.kinds import (  # noqa: F401  (the tables' names for them, as before)
    TIER_LEVEL,
    CallbackKind,
    CallbackStatus,
    ChurnReason,
    NeedCategory,
    NoticeKind,
    Outcome,
    Role,
    Tier,
    WorkOrderKind,
    level_for,
)

# Named constraints, so migrations can alter them on SQLite (batch mode) and PostgreSQL alike.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}



def set_only(name: str, column: str) -> Index:
    """An index of a column that is mostly empty (NULL), over the rows that have it: the
    planner's statistics then describe the rows a lookup can find. A plain index of a
    million calls with 999,000 NULL `callback_id`s tells SQLite each value matches a million
    rows, so it scans another index instead (the first day's callback rules took minutes on
    the bench desk; migration 0026). `column = value` implies `column IS NOT NULL`, so
    every equality lookup uses it."""
    return SetOnlyIndex(name, column, text(f"{column} IS NOT NULL"))


class SetOnlyIndex(Index):
    """`set_only`'s index: WHERE on both databases. The PostgreSQL one is given when
    PostgreSQL's options are first asked for (a PostgreSQL engine's DDL, `dialect_kwargs`,
    Alembic), not as `postgresql_where=`, which imports SQLAlchemy's PostgreSQL dialect to
    check the name at import (~25 ms of every seat's start, on SQLite too)."""

    def __init__(self, name: str, column: str, where: Any) -> None:
        self._postgresql_where = where
        super().__init__(name, column, sqlite_where=where)

    @util.memoized_property
    def dialect_options(self) -> util.PopulateDict[str, Any]:
        return util.PopulateDict(self._options_of)

    def _options_of(self, dialect_name: str) -> Any:
        options = self._kw_reg_for_dialect_cls(dialect_name)
        if dialect_name == "postgresql":
            options["where"] = self._postgresql_where
        return options

    @property
    def dialect_kwargs(self) -> Any:
        """Every dialect's options, PostgreSQL's among them (as if given to the constructor)."""
        self.dialect_options["postgresql"]  # noqa: B018  (fills them in)
        return super().dialect_kwargs


class TableBase(SQLModel):
    """The base of every table. A table row is never validated by pydantic (SQLModel builds
    it without), so pydantic builds a table's validator and serializer only when one is first
    asked for (`model_dump`) instead of at import: ~25 ms less at every start of a seat."""

    model_config = ConfigDict(defer_build=True)  # type: ignore[assignment]


class Agent(TableBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True, max_length=64)
    display_name: str = Field(max_length=120)
    role: str = Field(default=Role.AGENT, max_length=16)
    active: bool = True
    # Sign-in (seat.identity): an argon2 hash, never the password; None = no password yet.
    password_hash: str | None = Field(default=None, max_length=200)
    failed_sign_ins: int = 0
    locked_until: datetime | None = None
    # A token for scripts (SEAT_TOKEN): its argon2 hash; the token itself is shown once.
    token_hash: str | None = Field(default=None, max_length=200)
    # The phone extension the phone system names this agent by (seat cti serve's `user`).
    extension: str | None = Field(default=None, max_length=20, unique=True)


class Customer(TableBase, table=True):
    __table_args__ = (
        # A callback's customer tier read without the row (coverage counts per tier).
        Index("ix_customer_id_tier", "id", "tier"),
        # Birthdays by date: the greetings due in a period, per year of birth.
        Index("ix_customer_birthday_tier", "birthday", "tier"),
        # Members who became a customer on a given day (the day's churn rule, seat.callbacks),
        # with their tier: the routine calls' days of the month, index only (migration 0039).
        Index("ix_customer_created_at", "created_at", "tier"),
        # Search (seat.search): a name's prefix read from the index (one or two characters,
        # too short for the trigram index).
        Index("ix_customer_name", "name"),
        # Memberships ending in a month: the renewal calls (seat.care, migration 0020).
        Index("ix_customer_member_until", "member_until"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    tier: str = Field(default=Tier.ORDINARY, max_length=16)
    gender: str | None = Field(default=None, max_length=16)
    birthday: date | None = None
    occupation: str | None = Field(default=None, max_length=120)
    address: str | None = Field(default=None, max_length=500)
    second_address: str | None = Field(default=None, max_length=500)
    language: str = Field(default="en", max_length=16)
    created_at: datetime
    updated_at: datetime
    # The agent who registered the customer; NULL for `seat customers import` and demo data,
    # which no agent typed in.
    created_by_id: int | None = Field(default=None, foreign_key="agent.id")
    # A tier a supervisor set by hand: `seat members retier` leaves it alone (seat.members).
    # (A database default too: rows written by hand-made SQL leave it out.)
    tier_pinned: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # The dedicated owner (专人负责) of a level-1 customer: gets their callbacks first.
    owner_id: int | None = Field(default=None, foreign_key="agent.id")
    # The last day of the customer's membership (会员到期); NULL: no membership that ends.
    # Memberships ending next month are called by the policy day (seat.care).
    member_until: date | None = None
    # A duplicate merged into another customer (seat.merge): kept as a tombstone, its rows
    # moved to the survivor, hidden from search and lookup (NULL: a customer in use). No FK:
    # a customer is never deleted, and SQLite could not drop the column again (downgrade).
    merged_into_id: int | None = None
    merged_at: datetime | None = None
    # The optimistic check of a merge and of edits (seat.optimistic.claim_version).
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})

    @property
    def level(self) -> int:
        return level_for(self.tier)


class PhoneNumber(TableBase, table=True):
    """One of a customer's numbers. A number may be several customers' (a family's landline:
    the lookup asks who is calling), but a customer's own numbers differ."""

    __tablename__ = "phone_number"
    __table_args__ = (
        Index("ix_phone_number_customer_e164", "customer_id", "e164", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    e164: str = Field(index=True, max_length=20)
    label: str = Field(default="mobile", max_length=16)  # the kind: mobile, home, work
    wrong_number: bool = False


class Call(TableBase, table=True):
    __table_args__ = (
        Index("ix_call_customer_started", "customer_id", "started_at"),
        set_only("ix_call_callback_id", "callback_id"),
        set_only("ix_call_call_ref", "call_ref"),
        # An agent's last calls and calls today (desk, wallboard): seek, no sort. The times
        # and the score make the calls per day (trends, the summary report) index only.
        Index("ix_call_agent_started", "agent_id", "started_at", "ended_at", "satisfaction"),
        # A repeat call (seat.repeats): the calls from one number about one need, by time.
        Index("ix_call_number_need_started", "from_number", "need_category", "started_at"),
        # The agent figures per day (seat.figures), index only.
        Index(
            "ix_call_agent_figures",
            "agent_id", "started_at", "talk_seconds", "wrapup_seconds", "satisfaction",
            "repeated",
        ),  # fmt: skip
    )

    id: int | None = Field(default=None, primary_key=True)
    # Made by the seat when the call starts and kept in the draft: saving the same call twice
    # (a draft resumed after it was saved) finds this row instead of writing a second one.
    uid: str = Field(default_factory=lambda: uuid4().hex, max_length=40, unique=True)
    agent_id: int = Field(foreign_key="agent.id")
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    from_number: str | None = Field(default=None, max_length=20)
    direction: str = Field(default="inbound", max_length=16)
    script: str = Field(default="inbound", max_length=64)
    # No FK: callback.call_id already points at call, and the two would form a cycle.
    callback_id: int | None = None
    started_at: datetime
    ended_at: datetime | None = None
    greeting_at: datetime | None = None
    discovery_at: datetime | None = None
    resolution_at: datetime | None = None
    closing_at: datetime | None = None
    wrapup_at: datetime | None = None
    need_category: str | None = Field(default=None, max_length=32)
    outcome: str | None = Field(default=None, max_length=32)
    satisfaction: int | None = None
    notes: str = Field(default="", max_length=20000)
    # From the phone system (seat cti serve): its call id, when the call was answered and
    # hung up, and the recording it made. None for calls it did not announce.
    call_ref: str | None = Field(default=None, max_length=120)
    answered_at: datetime | None = None
    hung_up_at: datetime | None = None
    recording: str | None = Field(default=None, max_length=500)
    talk_seconds: float | None = None
    """From the start to wrap-up (to the end without a wrap-up time); set when saved."""
    wrapup_seconds: float | None = None
    """From wrap-up to the save; None without a wrap-up time."""
    repeated: bool | None = None
    """First-contact resolution (seat.repeats): True when the same number called again about
    the same need within 7 days, False when it did not (yet); None for a call not judged (not
    inbound, no number or no need)."""


class CallSlot(TableBase, table=True):
    """The calls that started in one quarter hour of UTC time, added up (seat.call_slots):
    trends read a closed day from its 96 rows instead of from every call. A trigger on `call`
    deletes a slot's row when one of its calls is inserted, changed or deleted."""

    __tablename__ = "call_slot"

    slot: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    """Seconds since 1970-01-01 UTC divided by 900."""
    calls: int
    ended: int
    """Calls with an end time (their handling time is in `millis`)."""
    millis: int = Field(sa_type=BigInteger)
    """Handling time (start to end) of the ended calls, in whole milliseconds, added up."""
    scored: int
    score_sum: int


class CallAgentSlot(TableBase, table=True):
    """One agent's calls that started in one quarter hour of UTC time, added up: the
    wallboard's calls today per agent (seat.call_slots.agent_sums). Made with its slot's
    `CallSlot` row and only valid with it: the triggers on `call` delete both when one of
    the slot's calls is inserted, deleted, or changed in its start, end, score or agent
    (migration 0049). An agent without calls in the slot has no row."""

    __tablename__ = "call_agent_slot"

    slot: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    agent_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    calls: int
    ended: int
    millis: int = Field(sa_type=BigInteger)


class ListChange(TableBase, table=True):
    """A PostgreSQL transaction (its id) that wrote to one of the wallboard's lists, written
    by statement triggers (migration 0038; seat.db.ListChanges): a refresh reads again only
    the lists a transaction its last read could not see has written to. Empty on SQLite."""

    __tablename__ = "list_change"

    xid: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    list: str = Field(primary_key=True, max_length=16)
    """complaints, callbacks, orders or customers."""
    at: int = Field(sa_type=BigInteger)
    """When, in seconds since 1970 (the server's clock): rows older than a day are deleted."""


class CallbackOwnerHour(TableBase, table=True):
    """How many open callbacks with known zones of one agent and zone group fall due in one
    hour of UTC time: the sidebar's totals add up the whole hours and count only the hours
    cut by now and the horizon's end (seat.callbacks.callback_queue). Kept by the triggers
    on `callback` (migration 0051) on every insert, delete and change of owner, status,
    zones or due time; an hour with none has no row."""

    __tablename__ = "callback_owner_hour"

    owner_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    zones: str = Field(primary_key=True)
    hour: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    """Seconds since 1970-01-01 UTC divided by 3600, rounded down."""
    n: int


class WorkOrderAgentHour(TableBase, table=True):
    """How many of one agent's work orders count in one measure, per hour of UTC time:
    "open" (not closed) and "urgent" (open and urgent) by due time, "on_site", "reply" and
    "follow_up" (the clock running: seat.order_clocks.late_sql) by that clock's deadline.
    The sidebar's open, urgent, late and late-clock totals add them up, counting only the
    hour cut by now (seat.queues.agent_orders). Kept by the triggers on `work_order`
    (migration 0051); an hour with none has no row."""

    __tablename__ = "work_order_agent_hour"

    assignee_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    measure: str = Field(primary_key=True)
    hour: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    """Seconds since 1970-01-01 UTC divided by 3600, rounded down."""
    n: int


class ComplaintOwnerStamp(TableBase, table=True):
    """A number per complaint owner that grows with every change to what the sidebar reads
    of their complaints (a complaint's row, its pauses, its customer's name and tier): the
    sidebar reads their rows again only when it moved (seat.complaints.sidebar_complaints).
    Kept by the triggers on `complaint`, `complaint_event` and `customer` (migration 0065);
    an agent no change has touched since may have no row."""

    __tablename__ = "complaint_owner_stamp"

    owner_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    n: int = Field(sa_type=BigInteger)


class Callback(TableBase, table=True):
    __table_args__ = (
        Index("ix_callback_owner_status_due", "owner_id", "status", "due_at"),
        set_only("ix_callback_complaint_id", "complaint_id"),
        set_only("ix_callback_work_order_id", "work_order_id"),
        # The callback report's counts per kind, agent and status over a period, index only.
        Index(
            "ix_callback_kind_owner_status_due",
            "kind", "owner_id", "status", "due_at", "customer_id", "done_at", "score",
        ),  # fmt: skip
        # A period's callbacks in due order (the coverage list's first page).
        Index("ix_callback_due_status", "due_at", "status", "customer_id"),
        # The sidebar: an agent's open callbacks per zone group in due order, so callable
        # now / waiting for the window are counted and paged from the index (migration 0012).
        Index("ix_callback_owner_status_zones_due", "owner_id", "status", "zones", "due_at"),
        # The coverage counts: a period's callbacks of the member tiers, from the index only.
        Index("ix_callback_tier_due", "customer_tier", "due_at", "status"),
        # A customer's callbacks; the open ones of some kinds with their due times and
        # owners from the index alone (the rules' joint days, migration 0039).
        Index("ix_callback_customer_id", "customer_id", "status", "kind", "due_at", "owner_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    owner_id: int = Field(foreign_key="agent.id")
    call_id: int | None = Field(default=None, foreign_key="call.id")
    kind: str = Field(default=CallbackKind.MANUAL, max_length=32)
    reason: str = Field(max_length=2000)
    due_at: datetime
    status: str = Field(default=CallbackStatus.OPEN, max_length=16)
    attempts: int = 0
    created_at: datetime
    done_at: datetime | None = None
    # Scheduler idempotency: e.g. "satisfaction:wo:12"; NULL for manual callbacks.
    source_key: str | None = Field(default=None, unique=True, max_length=120)
    complaint_id: int | None = Field(default=None, foreign_key="complaint.id")
    work_order_id: int | None = Field(default=None, foreign_key="work_order.id")
    score: int | None = None
    last_outcome: str | None = Field(default=None, max_length=32)
    last_attempt_at: datetime | None = None
    snooze_reason: str | None = Field(default=None, max_length=500)
    version: int = 1
    churn_reason: str | None = Field(default=None, max_length=16)
    """A churned-member callback's outcome: why they stopped buying (ChurnReason), chosen on
    the win-back call; the member report counts them (migration 0020)."""
    no_complaint_reason: str | None = Field(default=None, max_length=2000)
    """Unsatisfied, yet no complaint was opened: why not (seat.loops, migration 0023)."""
    zones: str | None = None
    """The time zones of the customer's first working number (seat.phone.zones_key), kept
    when the callback is made and when the customer's numbers change
    (seat.customers.refresh_callback_zones); NULL: not known yet (looked up when read)."""
    customer_tier: str | None = Field(default=None, max_length=16)
    """The customer's tier, a copy kept by the database (migration 0035): triggers set it
    when the callback is moved to another customer or written, and when the customer's tier
    changes; PostgreSQL also when it is made. On SQLite the writer gives it (the ORM does,
    below); NULL: not known yet, looked up when read (seat.reports.callbacks)."""


class WorkOrder(TableBase, table=True):
    __tablename__ = "work_order"
    __table_args__ = (
        Index("ix_work_order_assignee_status", "assignee_id", "status", "urgent", "due_at"),
        set_only("ix_work_order_work_center", "work_center"),
        # The list by state and due time; the finish times make "finished in a period"
        # (the callback report) index only.
        Index("ix_work_order_status_due", "status", "due_at", "accepted_at", "closed_at"),
        Index("ix_work_order_created", "created_at"),
        # The wallboard: urgent ones, late ones and their counts, read from the index; the
        # clocks' columns make "assigned, not yet late, a clock late" index only (0034).
        Index("ix_work_order_urgent_due", "urgent", "due_at", "status", "assignee_id",
              "on_site_at", "on_site_due_at", "replied_at", "reply_due_at", "follow_up_due_at"),
        # The clocks (seat.order_clocks): the late ones of each, counted from the index; the
        # earlier clocks' columns count "late on this clock and on none before it" from the
        # index too (the wallboard's orders late on any, 0036).
        Index("ix_work_order_on_site_due", "on_site_at", "on_site_due_at", "assignee_id"),
        Index("ix_work_order_reply_due", "replied_at", "reply_due_at", "assignee_id",
              "on_site_at", "on_site_due_at"),
        Index("ix_work_order_follow_up_due", "follow_up_due_at", "assignee_id",
              "on_site_at", "on_site_due_at", "replied_at", "reply_due_at"),
        # An agent's late clocks (the sidebar): a range each, counted and paged in deadline
        # order (migration 0030).
        Index("ix_work_order_agent_on_site", "assignee_id", "on_site_at", "on_site_due_at"),
        Index("ix_work_order_agent_reply", "assignee_id", "replied_at", "reply_due_at"),
        Index("ix_work_order_agent_follow_up", "assignee_id", "follow_up_due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default=WorkOrderKind.SERVICE_REQUEST, max_length=32)
    short_text: str = Field(max_length=200)
    long_text: str = Field(default="", max_length=20000)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    call_id: int | None = Field(default=None, foreign_key="call.id")
    reporter: str = Field(default="", max_length=200)
    service_address: str | None = Field(default=None, max_length=500)
    assignee_id: int | None = Field(default=None, foreign_key="agent.id")
    created_by_id: int | None = Field(default=None, foreign_key="agent.id")
    status: str = Field(default="created", max_length=16)
    urgent: bool = False
    due_at: datetime  # expected end
    created_at: datetime
    closed_at: datetime | None = None
    service_type: str | None = Field(default=None, max_length=16)  # repair/paid/complaint
    sales_order_no: str | None = Field(default=None, max_length=40)
    requested_start: datetime | None = None
    work_center: str | None = Field(default=None, max_length=40)
    product_type: str | None = Field(default=None, max_length=80)
    product_colour: str | None = Field(default=None, max_length=40)
    reason_code: str | None = Field(default=None, max_length=16)
    quote_amount: float | None = None
    quote_needs_hq: bool = False
    quote_approved_by_id: int | None = Field(default=None, foreign_key="agent.id")
    quote_approved_at: datetime | None = None
    quote_confirmed_at: datetime | None = None
    customer_acceptance: str | None = Field(default=None, max_length=2000)
    accepted_at: datetime | None = None
    hq_involved: bool = False
    """Head office must be involved (an HQ quote or HQ support), set at survey: the Z1 order
    goes through a supervisor's approval (ZGPZ / BPZ) and the department's reply (ZBHF)."""
    service_zone: str | None = Field(default=None, max_length=32)
    """The service zone the on-site promise was taken from (policy/work_orders.toml)."""
    on_site_due_at: datetime | None = None
    """The on-site promise (None: no promise, e.g. a delivery exception or an older order)."""
    on_site_at: datetime | None = None
    """When the technician was on site (the survey)."""
    done_at: datetime | None = None
    """When the job was done (service done; delivered or returned): the reply clock starts."""
    reply_due_at: datetime | None = None
    replied_at: datetime | None = None
    """When the desk replied after the job (the customer's acceptance; a Z2's close)."""
    follow_up_due_at: datetime | None = None
    """The next weekly follow-up of an unfinished order (None once the job is done)."""
    follow_ups: int = 0
    version: int = 1


class Complaint(TableBase, table=True):
    __table_args__ = (
        Index("ix_complaint_owner_status", "owner_id", "status"),
        Index("ix_complaint_created", "created_at"),  # a period's complaints (reports, trends)
        Index("ix_complaint_status", "status", "version", "customer_id"),  # the open ones
        Index("ix_complaint_status_closed", "status", "closed_at"),  # a period's closed ones
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    call_id: int | None = Field(default=None, foreign_key="call.id")
    owner_id: int = Field(foreign_key="agent.id")
    channel: str = Field(default="phone", max_length=16)
    channel_ref: str | None = Field(default=None, max_length=120)
    """The channel's own reference: an e-mail's subject or id, a post's link, a letter's no."""
    what_happened: str = Field(max_length=20000)
    customer_wants: str = Field(max_length=5000)
    status: str = Field(default="intake", max_length=16)
    created_at: datetime
    """When the complaint reached the company (the time received): its clocks start here."""
    registered_at: datetime | None = None
    """When a seat registered it, when that was later than received (None: at once)."""
    closed_at: datetime | None = None
    category: str | None = Field(default=None, max_length=40)
    department: str | None = Field(default=None, max_length=80)
    responsible_person: str | None = Field(default=None, max_length=120)
    cause: str | None = Field(default=None, max_length=5000)
    invalid_reason: str | None = Field(default=None, max_length=5000)
    reply_text: str | None = Field(default=None, max_length=5000)
    solution_options: str | None = Field(default=None, max_length=10000)
    chosen_solution: str | None = Field(default=None, max_length=5000)
    customer_accepted: bool | None = None
    root_cause: str | None = Field(default=None, max_length=5000)
    summary: str | None = Field(default=None, max_length=10000)
    first_reply_at: datetime | None = None
    solution_at: datetime | None = None
    implemented_at: datetime | None = None
    escalated_to_id: int | None = Field(default=None, foreign_key="agent.id")
    waiting_since: datetime | None = None  # the clocks pause while waiting on the customer
    promised_at: datetime | None = None
    """When a reply time was agreed with the customer (escalated beyond the agent)."""
    promised_reply_at: datetime | None = None
    """The reply time promised to the customer: its own clock runs to it."""
    version: int = 1


class ComplaintLoop(TableBase, table=True):
    """An unsatisfied callback's loop (seat.loops): the complaint it opened (or the open
    complaint it came back to) cannot close until a follow-up callback is satisfied or a
    supervisor closes the loop with a reason (migration 0023)."""

    __tablename__ = "complaint_loop"
    __table_args__ = (Index("ix_complaint_loop_complaint_status", "complaint_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaint.id")
    callback_id: int = Field(foreign_key="callback.id", unique=True)
    """The unsatisfied callback that opened the loop."""
    opened_at: datetime
    opened_by_id: int = Field(foreign_key="agent.id")
    status: str = Field(default="open", max_length=16)
    """open / closed"""
    closed_at: datetime | None = None
    closed_by_id: int | None = Field(default=None, foreign_key="agent.id")
    closed_by_callback_id: int | None = Field(default=None, foreign_key="callback.id")
    """The satisfied follow-up that closed it (None: a supervisor closed it)."""
    close_reason: str | None = Field(default=None, max_length=2000)


class Suggestion(TableBase, table=True):
    """A suggestion or opinion (意见和建议): recorded, classified, answered and thanked."""

    __table_args__ = (Index("ix_suggestion_created", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    call_id: int | None = Field(default=None, foreign_key="call.id")
    recorded_by_id: int = Field(foreign_key="agent.id")
    channel: str = Field(default="phone", max_length=16)
    channel_ref: str | None = Field(default=None, max_length=120)
    text: str = Field(max_length=5000)
    category: str | None = Field(default=None, max_length=40)
    status: str = Field(default="new", max_length=16)
    created_at: datetime
    """When it was received."""
    registered_at: datetime | None = None
    reply_text: str | None = Field(default=None, max_length=5000)
    replied_at: datetime | None = None
    replied_by_id: int | None = Field(default=None, foreign_key="agent.id")
    thanked_at: datetime | None = None
    version: int = 1


class LifecycleEvent(TableBase):
    """What every history of a complaint, a work order or a callback records (not a table):
    when, what was done, a comment, and the hash chain (seat.audit). Written only through
    seat.lifecycle.record_event; who did it (`agent_id`) is declared per table (nullable for
    callbacks, which the rules also move)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    action: str = Field(max_length=32)
    comment: str = Field(default="", max_length=10000)
    prev_hash: str | None = Field(default=None, max_length=64)  # seat.audit: the chain
    hash: str | None = Field(default=None, max_length=64)


class ComplaintEvent(LifecycleEvent, table=True):
    """Append-only history of a complaint: every move, who, when, from, to, comment."""

    __tablename__ = "complaint_event"
    # The pauses of the open complaints (their clocks), without reading every event.
    __table_args__ = (Index("ix_complaint_event_action", "action", "complaint_id", "at"),)

    complaint_id: int = Field(foreign_key="complaint.id", index=True)
    agent_id: int = Field(foreign_key="agent.id")
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)


class WorkOrderLine(TableBase, table=True):
    """Material and quantity lines of a work order."""

    __tablename__ = "work_order_line"

    id: int | None = Field(default=None, primary_key=True)
    work_order_id: int = Field(foreign_key="work_order.id", index=True)
    material: str = Field(max_length=120)
    quantity: float = Field(default=1.0, sa_column_kwargs={"server_default": "1"})
    unit: str = Field(default="pc", max_length=16)


class WorkOrderEvent(LifecycleEvent, table=True):
    """Append-only history of a work order's status changes and dispatch."""

    __tablename__ = "work_order_event"
    # The orders first completed in a period, index only.
    __table_args__ = (
        Index("ix_work_order_event_to_status_at", "to_status", "at", "work_order_id"),
        Index("ix_work_order_event_order_status_at", "work_order_id", "to_status", "at"),
    )

    work_order_id: int = Field(foreign_key="work_order.id", index=True)
    agent_id: int = Field(foreign_key="agent.id")
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)


class CallbackEvent(LifecycleEvent, table=True):
    """Append-only history of a callback: attempts, snoozes, reassignments."""

    __tablename__ = "callback_event"
    # What moved since a time (the day's churn rule: churn callbacks settled since the last run).
    __table_args__ = (Index("ix_callback_event_at", "at", "action", "callback_id"),)

    callback_id: int = Field(foreign_key="callback.id", index=True)
    agent_id: int | None = Field(default=None, foreign_key="agent.id")  # None: the rules
    comment: str = Field(default="", max_length=5000)  # shorter than the others' (0002)


class Purchase(TableBase, table=True):
    """What a customer bought (one line of an order): drives new-buyer and churn callbacks,
    the tiers and the member analysis (seat.members)."""

    __table_args__ = (
        # A customer's purchases by time; with the amount, the member report's spend per
        # customer is read from the index alone in customer order (no sort).
        Index("ix_purchase_customer_at", "customer_id", "purchased_at", "amount"),
        # The orders delivered in a period, per customer (new-buyer coverage), index only.
        Index("ix_purchase_delivered_customer_order", "delivered_at", "customer_id", "order_no"),
        # The same, of the member tiers only (new-buyer coverage, the callbacks view).
        Index("ix_purchase_tier_delivered", "customer_tier", "delivered_at", "customer_id",
              "order_no"),  # fmt: skip
        # Who bought on a given day (the day's churn rule, seat.callbacks).
        Index("ix_purchase_purchased_at", "purchased_at"),
        # A period's buyers and spend (the member report, retier), index only.
        Index("ix_purchase_at_customer", "purchased_at", "customer_id", "amount"),
        # `seat purchases import`: the same order line imported again is found, not doubled.
        # NULL line_no (rows from before the import) never clash.
        UniqueConstraint("order_no", "line_no"),
        # Search (seat.search): a customer by one of their order numbers.
        Index("ix_purchase_order_no", "order_no"),
        # Maintenance reminders (seat.care): a category's lines that started in a range of
        # days, delivered ones by their delivery, the others (no delivery) by their purchase;
        # their customer and order from the index alone.
        Index("ix_purchase_category_delivered", "category", "delivered_at", "purchased_at",
              "customer_id", "order_no"),  # fmt: skip
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    order_no: str = Field(max_length=40)
    line_no: int | None = None
    item: str = Field(max_length=200)
    category: str | None = Field(default=None, max_length=80)
    quantity: float = Field(default=1.0, sa_column_kwargs={"server_default": "1"})
    amount: float = 0.0
    store: str | None = Field(default=None, max_length=120)
    purchased_at: datetime
    delivered_at: datetime | None = None
    customer_tier: str | None = Field(default=None, max_length=16)
    """The customer's tier, a copy kept by the database (migration 0035), as
    `Callback.customer_tier` (NULL: not known yet, looked up when read)."""



class PurchaseHour(TableBase, table=True):
    """How many purchases (order lines) fall in one hour of UTC time and their amounts
    added up: the member report's spend per month is the month's whole hours added up plus
    the purchases of an hour cut by the month's edge, read live (seat.reports.members). Kept
    by the triggers on `purchase` (migration 0063) on every insert, delete and change of
    time or amount; an hour with none has no row."""

    __tablename__ = "purchase_hour"

    hour: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    """Seconds since 1970-01-01 UTC divided by 3600, rounded down."""
    n: int
    amount: float
class NewBuyerLine(TableBase, table=True):
    """A delivered purchase line whose order has no new-buyer callback (no callback with
    the scheduler's key, substr('new_buyer:' || customer || ':order:' || order, 1, 120)):
    its customer, order, delivery and kept tier as on the purchase. The callbacks report and
    view read a period's member lines from it, no callback looked up per line. Kept by the
    triggers on `purchase` and `callback` (migration 0067); never written by the code."""

    __tablename__ = "new_buyer_line"
    __table_args__ = (
        # A period's lines of the member tiers (the callbacks report and view), index only.
        Index("ix_new_buyer_line_tier_delivered", "customer_tier", "delivered_at",
              "customer_id", "order_no"),  # fmt: skip
        # An order's lines, when its callback is made or deleted (the triggers).
        Index("ix_new_buyer_line_order_no", "order_no"),
    )

    purchase_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    customer_id: int
    order_no: str = Field(max_length=40)
    delivered_at: datetime
    customer_tier: str | None = Field(default=None, max_length=16)


OPEN_WORK_ORDER_EXCLUDES = ("closed",)
CLOSED_COMPLAINT_STATUSES = ("closed", "invalid")


class ScreenPop(TableBase, table=True):
    """An incoming call announced by the phone system (`seat pop`), claimed by one seat."""

    __tablename__ = "screen_pop"
    __table_args__ = (Index("ix_screen_pop_pending", "claimed_at", "agent_id"),)

    id: int | None = Field(default=None, primary_key=True)
    e164: str = Field(max_length=20)
    agent_id: int | None = Field(default=None, foreign_key="agent.id")  # None: any free seat
    created_at: datetime
    claimed_by_id: int | None = Field(default=None, foreign_key="agent.id")
    claimed_at: datetime | None = None
    call_ref: str | None = Field(default=None, max_length=120)  # the phone system's call id


class CtiCall(TableBase, table=True):
    """A call as the phone system reported it (seat cti serve): one row per call id, its
    events' times; the seat's call row carries the same call_ref once it is saved."""

    __tablename__ = "cti_call"

    id: int | None = Field(default=None, primary_key=True)
    call_ref: str = Field(max_length=120, unique=True)
    direction: str = Field(default="inbound", max_length=16)
    from_number: str = Field(default="", max_length=40)
    to_number: str = Field(default="", max_length=40)
    extension: str = Field(default="", max_length=40)
    queue: str = Field(default="", max_length=80)
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    pop_id: int | None = Field(default=None, foreign_key="screen_pop.id")
    new_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    cause: str = Field(default="", max_length=40)
    recording: str | None = Field(default=None, max_length=500)


class Presence(TableBase, table=True):
    """A running seat: who sits there and what they are doing, refreshed by a heartbeat."""

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", index=True)
    host: str = Field(max_length=120)
    pid: int
    state: str = Field(default="desk", max_length=16)  # desk / call / wrapup
    started_at: datetime
    heartbeat_at: datetime



class DailyJob(TableBase, table=True):
    """Work one seat does once a day for the whole database (the callback rules): the seat
    whose conditional UPDATE takes the lease runs it, the others skip (seat.leases)."""

    __tablename__ = "daily_job"

    name: str = Field(primary_key=True, max_length=32)
    done_on: date | None = None
    """The desk's local day of the last run that finished."""
    holder: str | None = Field(default=None, max_length=120)
    lease_until: datetime | None = None
    """While a run is under way; a seat that died mid-run frees it when this passes."""
    finished_at: datetime | None = None
    watermark: datetime | None = None
    """The clock time the last finished run saw: the next one looks only at what changed
    since (seat.callbacks' churn rule)."""
    rules: str | None = Field(default=None, max_length=64)
    """A fingerprint of the policy that run kept: another policy means a full run."""
    purchase_mark: int | None = None
    """The highest purchase id the last finished run saw: lines above it are new to the
    next run (imported purchases carry the order system's times, often days back). On
    PostgreSQL an import committing while a run starts may leave lines below the mark
    unseen until their service days enter a later window (or the next full run)."""


class CustomerChange(TableBase, table=True):
    """变更查询: every change to a customer's phone, address or tier (who, when, old, new).

    Append-only: the app writes rows and never edits or deletes them.
    """

    __tablename__ = "customer_change"
    __table_args__ = (
        Index("ix_customer_change_customer_at", "customer_id", "at"),
        # The changes since a time (the day's churn rule: tiers changed since the last run).
        Index("ix_customer_change_at", "at", "field", "customer_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    at: datetime
    field: str = Field(max_length=32)  # phone / address / second_address / tier / ...
    old: str | None = Field(default=None, max_length=500)
    new: str | None = Field(default=None, max_length=500)
    prev_hash: str | None = Field(default=None, max_length=64)  # seat.audit: the chain
    hash: str | None = Field(default=None, max_length=64)


class SignInEvent(TableBase, table=True):
    """Every sign-in and every refused one (seat.identity): who tried, when, from where, how
    it ended. Append-only and hash-chained like the other histories."""

    __tablename__ = "sign_in_event"

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    login: str = Field(max_length=64, index=True)
    at: datetime
    outcome: str = Field(max_length=24)  # ok / wrong_password / unknown / locked / disabled ...
    via: str = Field(max_length=64)  # the seat, or the command that asked (e.g. "report")
    prev_hash: str | None = Field(default=None, max_length=64)  # seat.audit: the chain
    hash: str | None = Field(default=None, max_length=64)


class AccessLog(TableBase, table=True):
    """A masked phone number or address revealed outside a call: who, when, why."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_customer_at", "customer_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id")
    customer_id: int = Field(foreign_key="customer.id")
    at: datetime
    what: str = Field(max_length=32)  # phone / address
    reason: str = Field(max_length=500)
    prev_hash: str | None = Field(default=None, max_length=64)  # seat.audit: the chain
    hash: str | None = Field(default=None, max_length=64)


class Notice(TableBase, table=True):
    """公告: a notice agents read out to callers while it is valid (seat.notices). An outage
    names its area, cause and expected restoration; a product or service notice is for
    every caller."""

    __table_args__ = (Index("ix_notice_valid", "valid_to", "valid_from"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default=NoticeKind.SERVICE, max_length=16)
    title: str = Field(max_length=200)
    text: str = Field(max_length=5000)
    """What the agent reads out."""
    area: str | None = Field(default=None, max_length=200)
    """An outage's area, as addresses name it (matched within the customer's address)."""
    cause: str | None = Field(default=None, max_length=500)
    valid_from: datetime
    valid_to: datetime
    restore_at: datetime | None = None
    """An outage's expected restoration."""
    created_at: datetime
    created_by_id: int = Field(foreign_key="agent.id")


class NoticeCall(TableBase, table=True):
    """A call linked to a notice (the notice drew it): how many calls each notice drew."""

    __tablename__ = "notice_call"
    __table_args__ = (UniqueConstraint("notice_id", "call_uid"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    call_uid: str = Field(max_length=40, index=True)
    """The call's own id (seat.calls: made when the call starts, before its row is saved)."""
    agent_id: int = Field(foreign_key="agent.id")
    at: datetime


class CallStage(TableBase, table=True):
    """A stage of the script walked on a call, and the time spent in it (seat.calls): the
    seconds of every visit added up (F3 back and F2 again count both times)."""

    __tablename__ = "call_stage"
    __table_args__ = (UniqueConstraint("call_id", "stage_id"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", index=True)
    position: int
    """The order in which the stages were first entered (0: the first)."""
    stage_id: str = Field(max_length=64)
    phase: str = Field(max_length=16)
    seconds: float


class CallCheck(TableBase, table=True):
    """A checklist item of a stage walked on a call: its text as the agent read it, and
    whether the agent ticked it."""

    __tablename__ = "call_check"
    __table_args__ = (UniqueConstraint("call_id", "stage_id", "item_no"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", index=True)
    stage_id: str = Field(max_length=64)
    item_no: int
    item: str = Field(max_length=500)
    ticked: bool


class QualitySample(TableBase, table=True):
    """A call drawn for a quality spot-check (抽查) of its agent over a period
    (seat.quality), and its score once an inspector or supervisor scored it."""

    __tablename__ = "quality_sample"
    __table_args__ = (
        UniqueConstraint("period_from", "period_to", "call_id"),
        Index("ix_quality_sample_agent_period", "agent_id", "period_from", "period_to"),
    )

    id: int | None = Field(default=None, primary_key=True)
    period_from: date
    period_to: date
    agent_id: int = Field(foreign_key="agent.id")
    call_id: int = Field(foreign_key="call.id", index=True)
    kind: str = Field(max_length=16)
    """"call" (taken) or "callback" (a callback's call)."""
    need: str = Field(max_length=32)
    """The stratum it was drawn from: the call's need ("callback" for a callback's call)."""
    drawn_at: datetime
    drawn_by_id: int = Field(foreign_key="agent.id")
    version: int = 1
    scored_at: datetime | None = None
    scored_by_id: int | None = Field(default=None, foreign_key="agent.id")
    score: float | None = None
    """The share of the applicable items met, in percent (None: not scored yet)."""
    comments: str = Field(default="", max_length=5000)


class QualityMark(TableBase, table=True):
    """One item of a sample's score form: a checklist item of the call's script or a manner,
    met (1), not met (0) or not applicable (None)."""

    __tablename__ = "quality_mark"
    __table_args__ = (UniqueConstraint("sample_id", "item_key"),)

    id: int | None = Field(default=None, primary_key=True)
    sample_id: int = Field(foreign_key="quality_sample.id", index=True)
    item_key: str = Field(max_length=160)
    """"manner:greeting" … or "<script>:<stage>.<item number>" for a script's checklist item."""
    label: str = Field(max_length=500)
    mark: int | None = None


class ModelCase(TableBase, table=True):
    """A closed complaint a supervisor marked as a model for the case library (seat.cases),
    with the solution agreed at the case meeting; the marking is an event of the complaint."""

    __tablename__ = "model_case"

    complaint_id: int = Field(foreign_key="complaint.id", primary_key=True)
    solution: str = Field(max_length=5000)
    """The agreed solution, as an agent reads it to handle the next such complaint."""
    marked_by_id: int = Field(foreign_key="agent.id")
    marked_at: datetime


def _customer_tier_on_insert(_mapper: Any, connection: Connection, target: Any) -> None:
    """A callback or purchase written through the ORM carries its customer's tier: the
    copy the triggers keep (migration 0035) is right from its first write, on SQLite too
    (where a row written without it is looked up when read)."""
    target.customer_tier = connection.execute(
        select(Customer.tier).where(Customer.id == target.customer_id)  # type: ignore[arg-type]
    ).scalar()


for _model in (Callback, Purchase):
    event.listen(_model, "before_insert", _customer_tier_on_insert)

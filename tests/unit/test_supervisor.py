"""The wallboard's data and the role checks of the supervisor's console."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlmodel import Session

from seat import agents, complaints, i18n, sla, supervisor
from seat.config import DATA_DIR
from seat.models import Agent, Call, Callback, Complaint, Presence, WorkOrder
from seat.roles import PermissionDenied
from tests.conftest import NOW

POLICY = sla.read_policy(DATA_DIR / "policy" / "complaints.toml", default_zone="Asia/Shanghai")
ZONE = "Asia/Shanghai"


@dataclass
class Person:
    role: str


# -- roles ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "scopes", "owner"),
    [
        ("supervisor", complaints.SCOPES, None),
        ("agent", ("mine",), 7),
        ("", ("mine",), 7),  # an unknown role is never a supervisor
    ],
)
def test_what_each_role_sees(role, scopes, owner):
    person = Person(role)
    assert supervisor.complaint_scopes(person) == scopes
    assert supervisor.queue_owner(person, 7) == owner


@pytest.mark.parametrize(
    ("role", "viewer", "owner", "allowed"),
    [
        ("supervisor", 1, 2, True),
        ("supervisor", 1, 1, True),
        ("agent", 1, 1, True),
        ("agent", 1, 2, False),
    ],
)
def test_whose_queue(role, viewer, owner, allowed):
    assert supervisor.may_see_queue(Person(role), viewer, owner) is allowed


@pytest.mark.parametrize(("role", "refused"), [("agent", True), ("supervisor", False)])
def test_the_wallboard_is_for_supervisors(role, refused):
    if refused:
        with pytest.raises(PermissionDenied, match="Only a supervisor can open the wallboard"):
            supervisor.require_wallboard(Person(role))
    else:
        supervisor.require_wallboard(Person(role))


# -- pure helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "-"), (0, "0:00"), (59.6, "1:00"), (200, "3:20"), (3725, "1:02:05")],
)
def test_handling_text(seconds, text):
    assert supervisor.handling_text(seconds) == text


@pytest.mark.parametrize(
    ("offset", "total", "limit", "clamped"),
    [
        (0, 0, 50, 0),
        (50, 120, 50, 50),
        (60, 120, 50, 50),  # not on a page boundary: the page it falls in
        (150, 120, 50, 100),  # rows went away under the last page
        (100, 100, 50, 50),
        (-5, 10, 50, 0),
        (10, 10, 0, 0),
    ],
)
def test_clamp(offset, total, limit, clamped):
    assert supervisor._clamp(offset, total, limit) == clamped


@pytest.mark.parametrize(
    ("midnight_of", "expected"),
    [
        (NOW, NOW - timedelta(hours=10)),  # 10:00 in Shanghai
        (NOW + timedelta(hours=15), NOW + timedelta(hours=14)),  # 01:00 on Tuesday
    ],
)
def test_local_midnight(midnight_of, expected):
    assert supervisor.local_midnight(midnight_of, ZONE) == expected


# -- presence -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("beats", "expected"),
    [
        ([("call", 5)], "call"),
        ([("wrapup", 1)], "wrapup"),
        ([("call", 60)], None),  # stale heartbeat: the seat is gone
        ([("desk", 2), ("call", 3)], "call"),  # two seats: the busiest one
        ([("wrapup", 2), ("desk", 1)], "wrapup"),
        ([], None),
    ],
)
def test_live_states(engine, world, clock, beats, expected):
    with Session(engine) as s:
        for state, age in beats:
            at = clock.now() - timedelta(seconds=age)
            s.add(Presence(agent_id=world["li"], host="h", pid=1, state=state,
                           started_at=at, heartbeat_at=at))  # fmt: skip
        s.commit()
        states = supervisor.live_states(session=s, now=clock.now())
    assert states.get(world["li"]) == expected


# -- complaints by urgency ------------------------------------------------------------------


def _complaint(s: Session, owner: int, customer: int, at, text: str) -> int:
    return complaints.create_complaint(
        session=s, now=at, customer_id=customer, owner_id=owner,
        what_happened=text, customer_wants="-",
    ).id  # fmt: skip


@pytest.mark.parametrize(
    ("ages_hours", "order"),
    [
        # Wang Fang is VIP (reply within 4 h): 6 h old is breached by 2 h, 5 h by 1 h.
        ((1, 5, 6), [2, 1, 0]),
        ((3, 1), [0, 1]),  # neither breached: the least time left first
        ((5, 1), [0, 1]),
    ],
)
def test_breached_first_then_least_time_left(engine, world, clock, ages_hours, order):
    with Session(engine) as s:
        ids = [
            _complaint(s, world["li"], world["fang"], clock.now() - timedelta(hours=h), f"c{i}")
            for i, h in enumerate(ages_hours)
        ]
        s.commit()
        page, breached = supervisor.open_complaints(session=s, now=clock.now(), policy=POLICY)
    assert [r.id for r in page.rows] == [ids[i] for i in order]
    assert breached == sum(1 for h in ages_hours if h >= 4)
    assert page.total == len(ages_hours)


def test_complaints_page_and_approval_flag(engine, world, clock):
    with Session(engine) as s:
        boss = agents.ensure_agent(session=s, name="zhao.lei", role="supervisor").id
        ids = [
            _complaint(s, world["li"], world["min"], clock.now() - timedelta(hours=i), f"c{i}")
            for i in range(5)
        ]
        complaints.accept(session=s, complaint_id=ids[0], actor_id=world["li"], now=clock.now(),
                          department="After-sales", reply_text="We are on it")  # fmt: skip
        complaints.investigate(session=s, complaint_id=ids[0], actor_id=world["li"],
                               now=clock.now(), cause="other", responsible_person="Zhou",
                               department="After-sales")  # fmt: skip
        complaints.propose(session=s, complaint_id=ids[0], actor_id=world["li"], now=clock.now(),
                           solution_options="Repair")  # fmt: skip
        closed = s.get(Complaint, ids[4])
        closed.status = "closed"
        s.commit()
        first, __ = supervisor.open_complaints(session=s, now=clock.now(), policy=POLICY, limit=3)
        second, __ = supervisor.open_complaints(
            session=s, now=clock.now(), policy=POLICY, offset=3, limit=3
        )
    assert boss
    assert first.total == 4 and len(first.rows) == 3 and len(second.rows) == 1
    shown = {r.id: r for r in (*first.rows, *second.rows)}
    assert set(shown) == set(ids[:4])
    assert shown[ids[0]].awaiting_approval and not shown[ids[1]].awaiting_approval


# -- callbacks and orders -------------------------------------------------------------------


def test_overdue_callbacks_by_agent(engine, world, clock):
    now = clock.now()
    with Session(engine) as s:
        for owner, hours, status in (
            (world["wang"], -5, "open"),
            (world["wang"], -1, "open"),
            (world["wang"], -9, "done"),
            (world["wang"], 3, "open"),
        ):
            due = now + timedelta(hours=hours)
            s.add(Callback(customer_id=world["tom"], owner_id=owner, reason="x", due_at=due,
                           created_at=now, status=status))  # fmt: skip
        s.commit()
        page = supervisor.overdue_callbacks(session=s, now=now)
        small = supervisor.overdue_callbacks(session=s, now=now, offset=2, limit=2)
    # Li Na has one overdue from the world (3 h); Wang Wei two; by name, oldest first.
    assert [(r.owner, round((now - r.due_at).total_seconds() / 3600)) for r in page.rows] == [
        ("Li Na", 3),
        ("Wang Wei", 5),
        ("Wang Wei", 1),
    ]
    assert page.total == 3 and small.offset == 2 and len(small.rows) == 1


def test_orders_needing_attention(engine, world, clock):
    now = clock.now()
    with Session(engine) as s:
        for text, assignee, urgent, status in (
            ("Nobody's", None, False, "created"),
            ("Urgent, Wang's", world["wang"], True, "survey_done"),
            ("Closed urgent", world["wang"], True, "closed"),
            ("Plain", world["wang"], False, "created"),
        ):
            s.add(WorkOrder(short_text=text, customer_id=world["tom"], assignee_id=assignee,
                            urgent=urgent, status=status, due_at=now + timedelta(days=2),
                            created_at=now))  # fmt: skip
        s.commit()
        page = supervisor.attention_orders(session=s, now=now)
    # Urgent first (the world's sofa order is urgent and due sooner), then by due time:
    # the world's late dryer order (seat.states.order_late) before the unassigned one.
    assert [r.short_text for r in page.rows] == [
        "Sofa cover torn on delivery",
        "Urgent, Wang's",
        "Dryer noisy",
        "Nobody's",
    ]
    assert page.rows[-1].assignee is None


def test_orders_with_a_late_clock_are_listed_too(engine, world, clock):
    # The wallboard's header said "clocks late: on site 12 ... follow-up 16" while its list
    # held only urgent, unassigned and past-end orders: an order 13 days late on site but
    # due to end next week was on no row.
    now = clock.now()
    with Session(engine) as s:
        for text, clocks in (
            ("Late on site", dict(on_site_due_at=now - timedelta(days=13))),
            ("Arrived late", dict(on_site_due_at=now - timedelta(days=13),
                                  on_site_at=now - timedelta(days=1))),
            ("Follow-up late", dict(follow_up_due_at=now - timedelta(hours=1))),
            ("Reply late", dict(reply_due_at=now - timedelta(minutes=5))),
            ("Clocks fine", dict(on_site_due_at=now + timedelta(hours=1))),
        ):
            s.add(WorkOrder(short_text=text, customer_id=world["tom"], assignee_id=world["wang"],
                            urgent=False, status="created", due_at=now + timedelta(days=5),
                            created_at=now, **clocks))  # fmt: skip
        s.commit()
        page = supervisor.attention_orders(session=s, now=now)
    listed = {r.short_text: r.clock_late for r in page.rows}
    assert {k: v for k, v in listed.items() if v} == {
        "Late on site": True, "Follow-up late": True, "Reply late": True,
    }  # fmt: skip
    assert "Arrived late" not in listed and "Clocks fine" not in listed
    assert page.total == len(page.rows)


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_attention_pages_run_on_from_the_urgent_ones_to_the_others(engine, world, clock, limit):
    """Urgent orders and the others are paged on their own: the pages put together are the
    whole list, in order, whatever the page size."""
    now = clock.now()
    with Session(engine) as s:
        for text, assignee, urgent, hours in (
            ("Urgent late", world["wang"], True, -2),
            ("Nobody's", None, False, 30),
            ("Late", world["wang"], False, -5),
            ("Fine", world["wang"], False, 5),  # neither: not on the list
        ):
            s.add(WorkOrder(short_text=text, customer_id=world["tom"], assignee_id=assignee,
                            urgent=urgent, status="created",
                            due_at=now + timedelta(hours=hours), created_at=now))  # fmt: skip
        s.commit()
        whole = supervisor.attention_orders(session=s, now=now)
        pages = [
            supervisor.attention_orders(session=s, now=now, offset=o, limit=limit)
            for o in range(0, whole.total, limit)
        ]
    assert [r.short_text for r in whole.rows] == [
        "Urgent late", "Sofa cover torn on delivery", "Dryer noisy", "Late", "Nobody's",
    ]  # fmt: skip
    assert whole.total == 5 and {p.total for p in pages} == {5}
    assert [r for p in pages for r in p.rows] == list(whole.rows)


# -- the whole board ------------------------------------------------------------------------


def test_board(engine, world, clock):
    now = clock.now()
    with Session(engine) as s:
        for agent, start, seconds in (
            (world["li"], now - timedelta(hours=1), 300),
            (world["li"], now - timedelta(hours=2), 100),
            (world["li"], now - timedelta(hours=11), 60),  # yesterday in Shanghai
            (world["wang"], now - timedelta(minutes=3), None),  # on the line now
        ):
            end = start + timedelta(seconds=seconds) if seconds else None
            s.add(Call(agent_id=agent, customer_id=world["fang"], started_at=start, ended_at=end))
        s.add(Presence(agent_id=world["wang"], host="h", pid=2, state="call",
                       started_at=now, heartbeat_at=now - timedelta(seconds=2)))  # fmt: skip
        _complaint(s, world["li"], world["fang"], now - timedelta(hours=5), "late reply")
        s.commit()
        board = supervisor.board(session=s, now=now, zone=ZONE, policy=POLICY)
    by_name = {a.agent: a for a in board.agents}
    li, wang = by_name["Li Na"], by_name["Wang Wei"]
    assert (li.calls, li.avg_handling_seconds, li.state, li.overdue_callbacks) == (
        2, pytest.approx(200, abs=0.01), None, 1,
    )  # fmt: skip
    assert (wang.calls, wang.avg_handling_seconds, wang.state) == (1, None, "call")
    assert board.breached == 1 and board.complaints_by_status == (("intake", 1),)
    assert (board.unassigned, board.urgent, board.late, board.orders.total) == (0, 1, 1, 2)
    assert board.callbacks.total == 1


def test_agent_queue(engine, world, clock):
    with Session(engine) as s:
        _complaint(s, world["li"], world["fang"], clock.now() - timedelta(hours=5), "late")
        s.commit()
        items = supervisor.agent_queue(
            session=s, agent_id=world["li"], now=clock.now(), policy=POLICY
        )
        other = supervisor.agent_queue(
            session=s, agent_id=world["wang"], now=clock.now(), policy=POLICY
        )
    kinds = [(i.kind, i.late) for i in items]
    assert kinds == [
        ("callback", True),
        ("callback", False),
        ("complaint", True),
        ("order", True),  # the dryer, a day late
        ("order", False),
        ("order", False),
    ]
    # Codes, not words: the screen shows them in the seat's language.
    assert [(i.text, i.detail) for i in items[:3]] == [
        ("Wang Fang", "satisfaction"), ("张敏", "birthday"), ("Wang Fang", "intake"),
    ]  # fmt: skip
    assert (items[3].text, items[3].detail) == ("Dryer noisy", "")
    assert other == []


# -- in the seat's language -----------------------------------------------------------------


@pytest.fixture
def lang():
    """Switch the language for one test; English again afterwards."""
    yield i18n.set_language
    i18n.set_language("en")


@pytest.mark.parametrize(
    ("kind", "detail", "en", "zh"),
    [
        ("callback", "satisfaction", "Wang Fang · satisfaction", "Wang Fang · 满意度回访"),
        ("callback", "complaint_follow_up", "Wang Fang · complaint follow-up",
         "Wang Fang · 投诉回访"),
        ("complaint", "proposed", "Wang Fang · for approval", "Wang Fang · 待批准"),
        ("complaint", "intake", "Wang Fang · intake", "Wang Fang · 受理"),
        ("callback", "new_kind", "Wang Fang · new kind", "Wang Fang · new kind"),
        ("order", "", "Wang Fang", "Wang Fang"),
    ],
)  # fmt: skip
def test_queue_text_in_each_language(lang, kind, detail, en, zh):
    from seat.screens.supervisor.agent_queue import what_text

    item = supervisor.QueueItem(kind, 1, "Wang Fang", None, False, detail=detail)
    assert what_text(item) == en
    lang("zh_CN")
    assert what_text(item) == zh


@pytest.mark.parametrize(
    ("text", "width", "shown"),
    [
        ("王芳", 10, "王芳"),
        ("欧阳文娟娟娟娟娟", 10, "欧阳文娟…"),  # 9 cells: no half character, no gap
        ("欧阳文娟娟娟娟娟", 11, "欧阳文娟娟…"),
        ("Wang 芳芳芳芳", 9, "Wang 芳…"),
        ("Sofa cover torn on delivery", 21, "Sofa cover torn on d…"),
        ("Sofa cover torn on delivery", 27, "Sofa cover torn on delivery"),
    ],
)
def test_fit_cuts_whole_characters(text, width, shown):
    from rich.cells import cell_len
    from rich.text import Text

    from seat.widgets.lines import fit

    cell = fit(Text(text, style="bold"), width)
    assert cell.plain == shown and cell_len(cell.plain) <= width and cell.style == "bold"
    if text.isascii():  # English is cut exactly as before (Rich's own ellipsis)
        rich = Text(text)
        rich.truncate(width, overflow="ellipsis")
        assert cell.plain == rich.plain


def test_wallboard_refusal_in_chinese(lang):
    lang("zh_CN")
    with pytest.raises(PermissionDenied, match="只有主管才能打开大屏"):
        supervisor.require_wallboard(Person("agent"))


def test_domain_does_not_import_textual():
    """In a fresh interpreter (this one has Textual loaded already)."""
    import subprocess
    import sys

    code = "import sys, seat.supervisor; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- refreshing: nothing read when nothing changed --------------------------------------------


def _counting(engine):
    """How many statements the engine ran since the last look."""
    from sqlalchemy import event

    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_change_watch_moves_on_every_commit(engine, world, clock, backend):
    from seat.db import ChangeWatch

    watch = ChangeWatch(engine)
    first = watch.token()
    assert first is not None
    if backend == "sqlite":  # PostgreSQL's snapshot also moves for other databases' writes
        assert watch.token() == first  # (the parallel tests'): only reads nothing then
        with Session(engine) as s:
            s.execute(Complaint.__table__.select()).all()
            s.commit()
        assert watch.token() == first
    with Session(engine) as s:
        _complaint(s, world["li"], world["fang"], clock.now(), "new")
        s.commit()
    assert watch.token() != first
    watch.close()


def test_an_in_memory_database_cannot_tell():
    from seat.db import ChangeWatch, make_engine

    assert ChangeWatch(make_engine("sqlite://")).token() is None


def test_the_board_is_kept_while_nothing_changes(engine, world, clock):
    """The same token: not one statement; a new token (a commit): read again."""
    cache = supervisor.BoardCache()
    now = clock.now()

    def read(at, token):
        with Session(engine) as s:
            return supervisor.board(session=s, now=at, zone=ZONE, policy=POLICY,
                                    cache=cache, token=token)  # fmt: skip

    first = read(now, "t1")
    seen = _counting(engine)
    again = read(now + timedelta(seconds=3), "t1")
    assert seen == []
    assert again.at == now + timedelta(seconds=3) and again.agents == first.agents
    with Session(engine) as s:
        _complaint(s, world["li"], world["fang"], now - timedelta(hours=1), "fresh")
        s.commit()
    after = read(now + timedelta(seconds=6), "t2")
    assert after.complaints.total == first.complaints.total + 1


def test_a_refresh_through_the_services_reads_nothing_when_nothing_changed(
    engine, world, clock, settings, backend
):
    """Desk.wallboard with the real change token: on SQLite not one statement but the
    token's own (PostgreSQL's snapshot moves with the parallel tests' databases too)."""
    from seat.services import Desk

    if backend != "sqlite":
        pytest.skip("other databases of the shared test cluster move its snapshot")
    desk = Desk(engine=engine, clock=clock, settings=settings)
    desk.wallboard(POLICY, offsets={}, limit=50, fresh=True)
    seen = _counting(engine)
    desk.wallboard(POLICY, offsets={}, limit=50)
    assert seen == []  # the token is read on its own connection, outside the engine's events


def test_the_board_turns_by_itself_when_a_callback_falls_due(engine, world, clock):
    """No write, yet a callback falls due: the kept board is not shown past that instant."""
    from seat.db import ChangeWatch

    now = clock.now()
    with Session(engine) as s:
        s.add(Callback(customer_id=world["tom"], owner_id=world["wang"], reason="x",
                       due_at=now + timedelta(seconds=20), created_at=now))  # fmt: skip
        s.commit()
    watch, cache = ChangeWatch(engine), supervisor.BoardCache()

    def read(at):
        token = watch.token()
        with Session(engine) as s:
            return supervisor.board(session=s, now=at, zone=ZONE, policy=POLICY,
                                    cache=cache, token=token)  # fmt: skip

    before = read(now)
    assert read(now + timedelta(seconds=19)).callbacks.total == before.callbacks.total
    assert read(now + timedelta(seconds=21)).callbacks.total == before.callbacks.total + 1
    watch.close()


def test_a_clock_breaching_is_shown_without_a_write(engine, world, clock):
    """Wang Fang is VIP (reply within 4 h): a 4 h old complaint breaches a second later."""
    from seat.db import ChangeWatch

    now = clock.now()
    with Session(engine) as s:
        _complaint(s, world["li"], world["fang"], now - timedelta(hours=4, seconds=-30), "edge")
        s.commit()
    watch, cache = ChangeWatch(engine), supervisor.BoardCache()

    def read(at):
        token = watch.token()
        with Session(engine) as s:
            return supervisor.board(session=s, now=at, zone=ZONE, policy=POLICY,
                                    cache=cache, token=token)  # fmt: skip

    assert read(now).breached == 0
    assert read(now + timedelta(seconds=10)).breached == 0
    assert read(now + timedelta(seconds=31)).breached == 1
    watch.close()


def test_kept_clocks_rank_as_fresh_ones(engine, world, clock):
    """The clocks a cache keeps rank the complaints and count the breaches exactly as a fresh
    read does; the time left they show is at most the minute old (the shown unit)."""
    now = clock.now()
    with Session(engine) as s:
        for i, h in enumerate((1, 3, 5, 7, 30)):
            _complaint(s, world["li"], world["fang"], now - timedelta(hours=h), f"c{i}")
        s.commit()
        cache = complaints.ClockCache()
        supervisor.open_complaints(session=s, now=now, policy=POLICY, cache=cache)
        for later in (timedelta(seconds=5), timedelta(minutes=1, seconds=5), timedelta(hours=2)):
            kept = supervisor.open_complaints(session=s, now=now + later, policy=POLICY,
                                              cache=cache)  # fmt: skip
            fresh = supervisor.open_complaints(session=s, now=now + later, policy=POLICY)
            assert [r.id for r in kept[0].rows] == [r.id for r in fresh[0].rows]
            assert kept[1] == fresh[1]
            for k, f in zip(kept[0].rows, fresh[0].rows, strict=True):
                assert timedelta(0) <= k.clock.left - f.clock.left < timedelta(minutes=1)


@pytest.mark.parametrize("scope", ["mine", "all"])
def test_the_complaint_list_ranks_the_same_with_kept_clocks(engine, world, clock, scope):
    """The complaint list shares the services' ClockCache: the same page, in the same order,
    as a fresh read, also after one complaint moved (its version)."""
    now = clock.now()
    with Session(engine) as s:
        ids = [
            _complaint(s, world["li"], world["fang"], now - timedelta(hours=h), f"c{h}")
            for h in (1, 3, 5, 7)
        ]
        s.commit()
        cache = complaints.ClockCache()

        def both(at):
            args = dict(session=s, scope=scope, agent_id=world["li"], now=at, policy=POLICY)
            return complaints.open_complaints(**args, cache=cache), complaints.open_complaints(
                **args
            )

        kept, fresh = both(now)
        assert kept == fresh
        complaints.accept(session=s, complaint_id=ids[0], actor_id=world["li"], now=now,
                          department="After-sales", reply_text="On it")  # fmt: skip
        s.commit()
        kept, fresh = both(now + timedelta(seconds=5))
        assert [r.id for r in kept[0]] == [r.id for r in fresh[0]] and kept[1] == fresh[1]
        moved = {r.id: r for r in kept[0]}[ids[0]]
        assert moved.next_clock == {r.id: r for r in fresh[0]}[ids[0]].next_clock


# -- a refresh after a write reads again only the parts the write could change -------------


def _read_board(engine, cache, at, token):
    with Session(engine) as s:
        return supervisor.board(session=s, now=at, zone=ZONE, policy=POLICY, cache=cache,
                                token=token)  # fmt: skip


def _fresh_board(engine, at):
    with Session(engine) as s:
        return supervisor.board(session=s, now=at, zone=ZONE, policy=POLICY)


def _shown(board):
    """A board as compared here: kept clocks show the time left at most a minute old (the
    unit shown), so a complaint row compares by its deadline."""
    rows = tuple(
        replace(r, clock=r.clock and (r.clock.deadline, r.clock.breached))
        for r in board.complaints.rows
    )
    return replace(board, complaints=replace(board.complaints, rows=rows))


def test_a_heartbeat_reads_the_agents_part_only(engine, world, clock, backend):
    """A seat's heartbeat moves no list's marks: only the agents' part is read again (no
    complaint, callback or work-order statement), and the board is the one a fresh read
    shows."""
    from seat import seats

    cache, now = supervisor.BoardCache(), clock.now()
    _read_board(engine, cache, now, "t1")
    with Session(engine) as s:
        seats.heartbeat(session=s, now=now, agent_id=world["li"], state="call", presence_id=None)
        s.commit()
    seen = _counting(engine)
    later = now + timedelta(seconds=3)
    after = _read_board(engine, cache, later, "t2")
    assert seen and not [q for q in seen if ".status" in q or "due_at" in q]
    assert {a.agent: a.state for a in after.agents}["Li Na"] == "call"
    assert _shown(after) == _shown(_fresh_board(engine, later))


def _new_complaint(s, w, now):
    _complaint(s, w["li"], w["fang"], now - timedelta(hours=1), "new")


def _complaint_accepted(s, w, now):
    cid = s.execute(select(Complaint.id).order_by(Complaint.id)).scalars().first()
    complaints.accept(session=s, complaint_id=cid, actor_id=w["wang"], now=now,
                      department="After-sales", reply_text="On it")  # fmt: skip


def _callback_written_directly(s, w, now):  # as `seat demo` writes them: no history row
    s.add(Callback(customer_id=w["tom"], owner_id=w["wang"], reason="x",
                   due_at=now - timedelta(hours=1), created_at=now))  # fmt: skip


def _callback_settled(s, w, now):
    from seat import callbacks

    cid = s.execute(select(Callback.id).where(Callback.due_at < now)).scalars().first()
    callbacks.record_attempt(session=s, callback_id=cid, agent_id=w["li"],
                             outcome="resolved", now=now)  # fmt: skip


def _order_reassigned(s, w, now):
    from seat import workorders

    boss = agents.ensure_agent(session=s, name="zhao.lei", role="supervisor")
    oid = s.execute(select(WorkOrder.id).where(WorkOrder.urgent)).scalars().first()
    workorders.reassign(session=s, now=now, work_order_id=oid, agent_id=boss.id,
                        assignee_id=w["wang"])  # fmt: skip


def _order_made_urgent(s, w, now):
    from seat import workorders

    oid = s.execute(select(WorkOrder.id).where(WorkOrder.due_at < now)).scalars().first()
    workorders.set_urgent(session=s, now=now, work_order_id=oid, agent_id=w["li"], urgent=True)


def _customer_renamed(s, w, now):
    from seat import customers

    customers.update_customer(session=s, customer_id=w["fang"], agent_id=w["li"], now=now,
                              name="Fang Wang")  # fmt: skip


def _agent_renamed(s, w, now):
    s.execute(update(Agent).where(Agent.id == w["li"]).values(display_name="Na Li"))


@pytest.mark.parametrize(
    "write",
    [
        _new_complaint, _complaint_accepted, _callback_written_directly, _callback_settled,
        _order_reassigned, _order_made_urgent, _customer_renamed, _agent_renamed,
    ],
)  # fmt: skip
def test_the_parts_a_write_changes_are_read_again(engine, world, clock, write):
    """After any write the board kept part by part is the board a fresh read shows."""
    cache, now = supervisor.BoardCache(), clock.now()
    with Session(engine) as s:
        _complaint(s, world["wang"], world["tom"], now - timedelta(hours=2), "old")
        s.commit()
    before = _read_board(engine, cache, now, "t1")
    later = now + timedelta(seconds=5)
    with Session(engine) as s:
        write(s, world, later)
        s.commit()
    after = _read_board(engine, cache, later + timedelta(seconds=1), "t2")
    assert _shown(after) == _shown(_fresh_board(engine, later + timedelta(seconds=1)))
    assert replace(after, at=before.at) != before  # the write shows on the board


def test_a_write_committed_below_the_newest_id_is_read_again(engine, world, clock, backend):
    """PostgreSQL: a transaction open while the board is read commits an overdue callback whose
    id is below one committed before the read (ids do not follow commit order there): the
    next refresh reads the callbacks again (seat.db.ListChanges) and shows both."""
    if backend != "postgresql":
        pytest.skip("SQLite's writers take turns: a second writer waits for the first")
    cache, now = supervisor.BoardCache(), clock.now()

    def overdue(s, customer):
        row = Callback(customer_id=customer, owner_id=world["wang"], reason="x",
                       due_at=now - timedelta(hours=1), created_at=now)  # fmt: skip
        s.add(row)
        s.flush()
        return row.id

    early = Session(engine)
    try:
        lower = overdue(early, world["fang"])
        with Session(engine) as s:
            higher = overdue(s, world["tom"])
            s.commit()
        assert lower < higher
        before = _read_board(engine, cache, now, "t1")
        shown = {r.id for r in before.callbacks.rows}
        assert higher in shown and lower not in shown
        early.commit()
    finally:
        early.close()
    later = now + timedelta(seconds=3)
    after = _read_board(engine, cache, later, "t2")
    assert {r.id for r in after.callbacks.rows} == shown | {lower}
    assert _shown(after) == _shown(_fresh_board(engine, later))
    # Nothing is read again when nothing was written (the token moved all the same).
    seen = _counting(engine)
    again = _read_board(engine, cache, later + timedelta(seconds=3), "t3")
    assert not [q for q in seen if ".status" in q or "due_at" in q]
    assert _shown(again) == _shown(_fresh_board(engine, later + timedelta(seconds=3)))


def test_the_list_change_log_is_pruned_after_a_day(engine, world, clock, backend):
    """PostgreSQL's triggers log each writing transaction per list; rows older than a day go
    (run after the day's callback rules)."""
    from sqlalchemy import text

    from seat.db import prune_list_changes

    if backend != "postgresql":
        pytest.skip("the log is PostgreSQL's (SQLite's marks are its newest ids)")
    with Session(engine) as s:
        _complaint(s, world["li"], world["fang"], clock.now(), "logged")
        s.commit()
    with engine.begin() as conn:
        logged = set(conn.exec_driver_sql("SELECT list FROM list_change").scalars())
        assert {"complaints"} <= logged
        conn.execute(text("INSERT INTO list_change (xid, list, at) VALUES (1, 'orders', 0)"))
        prune_list_changes(conn)
        left = set(conn.exec_driver_sql("SELECT xid FROM list_change").scalars())
    assert 1 not in left and left

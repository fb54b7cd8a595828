"""The supervisor's wallboard: two seats on one database file, refusal for agents, snapshots."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from seat import agents, complaints, i18n, sla
from seat.app import make_app
from seat.config import DATA_DIR
from seat.db import make_engine
from seat.models import (
    Agent,
    Call,
    Callback,
    CallbackEvent,
    Complaint,
    ComplaintEvent,
    Customer,
    Presence,
    WorkOrder,
)
from seat.screens.complaints.forms import ApproveForm
from seat.screens.desk import DeskScreen
from seat.screens.supervisor.wallboard import WallboardScreen
from tests.conftest import NOW
from tests.ui.helpers import choose, freeze, settle
from tests.ui.screen_checks import misaligned, plain, stray_english

POLICY = sla.read_policy(DATA_DIR / "policy" / "complaints.toml", default_zone="Asia/Shanghai")


@pytest.fixture
def boss(engine, world) -> int:
    with Session(engine) as s:
        boss = agents.ensure_agent(
            session=s, name="zhao.lei", display_name="Zhao Lei", role="supervisor"
        )
        s.commit()
        return boss.id


def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


def sidebar_ids(app) -> list[str]:
    options = app.screen.query_one("#sidebar-list")
    return [options.get_option_at_index(i).id or "" for i in range(options.option_count)]


async def until(pilot, check, tries: int = 60) -> None:
    """Wait (real time) until check() holds: the wallboard refreshes on its own timer."""
    for __ in range(tries):
        if check():
            return
        await pilot.pause(0.1)
    assert check()


@pytest.fixture
def two_seats(settings, clock, db_url, boss):
    """An agent's seat and a supervisor's seat, each with its own engine on the same file,
    as two `seat` processes would be. The supervisor's board refreshes every 0.3 s."""
    engines = [make_engine(db_url), make_engine(db_url)]
    agent = make_app(settings=settings, clock=clock, agent="li.na", engine=engines[0])
    chief = make_app(
        settings=replace(settings, refresh_seconds=0.3), clock=clock, agent="zhao.lei",
        engine=engines[1],
    )  # fmt: skip
    yield agent, chief
    for e in engines:
        e.dispose()


# -- roles --------------------------------------------------------------------------------------


async def test_an_agent_is_refused_the_wallboard(make_seat, world):
    app = make_seat()  # li.na, an agent
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        assert any("Only a supervisor can open the wallboard" in n for n in notes(app))


async def test_an_agent_sees_only_their_own_complaint_list(make_seat, engine, world):
    with Session(engine) as s:
        complaints.create_complaint(session=s, now=NOW, customer_id=world["tom"],
                                    owner_id=world["wang"], what_happened="Wang's case",
                                    customer_wants="-")  # fmt: skip
        s.commit()
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("a")  # mine -> all: refused for an agent
        await settle(pilot)
        assert app.screen.scope == "mine"
        assert app.screen.query_one("#cl-table").row_count == 0  # Wang's case is not listed
        assert any("Only a supervisor can see every agent's complaints" in n for n in notes(app))


# -- two seats on one database file -------------------------------------------------------------


async def test_agent_logs_supervisor_approves_agent_sees_it(two_seats, engine, clock, world, boss):
    agent, chief = two_seats
    async with agent.run_test(size=(80, 24)) as pilot, chief.run_test(size=(80, 24)) as sup:
        await settle(pilot)
        await settle(sup)
        await sup.press("v")
        await sup.pause()
        board = chief.screen
        assert isinstance(board, WallboardScreen)
        await until(sup, lambda: board.board is not None)
        assert board.board.complaints.total == 0

        # The agent logs a complaint on a call, by keys (Wang Fang, VIP).
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"138 0013 8000", "enter")
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await choose(pilot, "complaint")  # the need
        await pilot.press("f2", "f7")
        await settle(pilot)
        await pilot.press(*"Sofa delivered torn", "tab", *"A new cover", "ctrl+s")
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(agent.screen, DeskScreen)
        with Session(engine) as s:
            cid = s.exec(select(Complaint.id).where(Complaint.owner_id == world["li"])).one()

        # The supervisor's board shows it on its next refresh, with its reply clock.
        def shown() -> bool:
            return board.board is not None and any(r.id == cid for r in board.board.complaints.rows)

        await until(sup, shown)
        table = board.query_one("#wb-complaints")
        assert table.get_row_index(f"cp:{cid}") == 0
        assert board.board.complaints.rows[0].status == "intake"

        # Judge, investigate, propose: prepared with the domain functions (the complaint
        # screen's keys for these steps are covered by test_complaints_ui).
        with Session(engine) as s:
            common = dict(session=s, complaint_id=cid, actor_id=world["li"])
            complaints.accept(
                **common,
                now=clock.now() + timedelta(hours=1),
                department="Logistics",
                reply_text="A new cover is on its way.",
            )
            complaints.investigate(
                **common,
                now=clock.now() + timedelta(hours=2),
                cause="delivery_damage",
                responsible_person="Sun Hao",
                department="Logistics",
                policy=POLICY,
            )
            complaints.propose(
                **common,
                now=clock.now() + timedelta(hours=3),
                solution_options="Send a new cover\nRefund 20 %",
            )
            s.commit()  # fmt: skip
        clock.advance(hours=20)  # the VIP's 24 h solution clock is amber now

        # The agent's sidebar lists the complaint as near its deadline.
        await pilot.press("r")
        await settle(pilot)
        assert f"cp:{cid}" in sidebar_ids(agent)

        # The supervisor sees it waiting for approval and approves it from the board by keys.
        await until(sup, lambda: board.board.complaints.rows[0].awaiting_approval)
        await sup.pause()
        assert board.check_action("approve", ()) is True
        await sup.press("a")
        await settle(sup)
        assert isinstance(chief.screen, ApproveForm)
        await choose(sup, "Send a new cover")
        await sup.press("ctrl+s")
        await settle(sup)
        assert chief.screen is board
        with Session(engine) as s:
            row = s.get(Complaint, cid)
            assert (row.status, row.chosen_solution) == ("approved", "Send a new cover")
            event = s.exec(
                select(ComplaintEvent).where(ComplaintEvent.complaint_id == cid)
                .order_by(ComplaintEvent.id.desc())
            ).first()  # fmt: skip
            assert (event.action, event.agent_id) == ("approve", boss)
        await until(sup, lambda: board.board.complaints.rows[0].status == "approved")
        assert board.check_action("approve", ()) is False

        # The agent's sidebar: the solution deadline is met, the case leaves the near list.
        await pilot.press("r")
        await settle(pilot)
        assert f"cp:{cid}" not in sidebar_ids(agent)
        assert not [n for n in notes(agent) if "database" in n.lower()]


async def test_two_seats_write_at_the_same_moment(two_seats, engine, clock, world, boss):
    """One seat holds a write transaction while the other saves by keys and refreshes:
    the second waits its turn (busy timeout), nothing errors, both writes are kept."""
    agent, chief = two_seats
    async with agent.run_test(size=(80, 24)) as pilot, chief.run_test(size=(80, 24)) as sup:
        await settle(pilot)
        await settle(sup)
        await sup.press("v")
        board = chief.screen
        await until(sup, lambda: board.board is not None and board.board.callbacks.total == 1)
        first_read = board.board.at
        await sup.press("3")  # the overdue callbacks: the world's one for Li Na
        await sup.pause()
        assert board.highlighted()[0] == "cb"
        cb_id = board.highlighted()[1]

        holding, release = threading.Event(), threading.Event()

        def hold(s: Session) -> None:
            s.add(Call(agent_id=world["li"], customer_id=world["tom"], started_at=clock.now()))
            s.flush()  # the agent's seat now holds the write lock
            holding.set()
            release.wait(5)

        writer = asyncio.create_task(asyncio.to_thread(agent.desk.run, hold))
        await asyncio.to_thread(holding.wait, 5)
        # The wallboard keeps reading while the other seat writes (WAL: readers never wait).
        clock.advance(seconds=1)
        await until(sup, lambda: board.board.at > first_read)
        # The supervisor reassigns the callback by keys; the lock is let go meanwhile.
        await sup.press("r")
        await settle(sup)
        await choose(sup, "Wang Wei")
        threading.Timer(0.3, release.set).start()
        await sup.press("ctrl+s")
        await settle(sup)
        await writer

        # Many small writes from both seats at once: none is lost, none errors.
        def log(desk, n: int) -> None:
            for i in range(n):
                call = Call(agent_id=world["li"], customer_id=world["fang"],
                            started_at=clock.now(), notes=f"{i}")  # fmt: skip
                desk.run(lambda s, call=call: s.add(call))

        await asyncio.gather(
            asyncio.to_thread(log, agent.desk, 25), asyncio.to_thread(log, chief.desk, 25)
        )
        await settle(pilot)
        await settle(sup)

    with Session(engine) as s:
        assert s.get(Callback, cb_id).owner_id == world["wang"]
        assert s.exec(select(CallbackEvent.action).where(CallbackEvent.callback_id == cb_id)).all()
        assert s.exec(select(func.count()).select_from(Call)).one() == 51
    for app in (agent, chief):
        assert not [n for n in notes(app) if "busy" in n or "could not" in n.lower()]


# -- snapshots ----------------------------------------------------------------------------------


@pytest.fixture
def floor(engine, world, boss) -> None:
    """A morning on the floor: calls, seats, late and waiting complaints, callbacks, orders."""
    li, wang = world["li"], world["wang"]
    with Session(engine, expire_on_commit=False) as s:
        for who, minutes_ago, seconds in ((li, 90, 320), (li, 50, 185), (wang, 40, 410),
                                          (wang, 4, None)):  # fmt: skip
            start = NOW - timedelta(minutes=minutes_ago)
            end = start + timedelta(seconds=seconds) if seconds else None
            s.add(Call(agent_id=who, customer_id=world["fang"], started_at=start, ended_at=end))
        s.add(
            Presence(
                agent_id=wang,
                host="seat-2",
                pid=2,
                state="call",
                started_at=NOW - timedelta(hours=2),
                heartbeat_at=NOW,
            )
        )
        s.add(
            Presence(
                agent_id=li,
                host="seat-1",
                pid=1,
                state="wrapup",
                started_at=NOW - timedelta(hours=2),
                heartbeat_at=NOW,
            )
        )
        late = complaints.create_complaint(
            session=s,
            now=NOW - timedelta(hours=6),
            customer_id=world["fang"],
            owner_id=li,
            what_happened="Sofa torn",
            customer_wants="A new cover",
        )
        complaints.create_complaint(
            session=s,
            now=NOW - timedelta(hours=2),
            customer_id=world["tom"],
            owner_id=wang,
            what_happened="Noisy dryer",
            customer_wants="Fix",
        )
        waiting = complaints.create_complaint(
            session=s,
            now=NOW - timedelta(hours=30),
            customer_id=world["min"],
            owner_id=wang,
            what_happened="Late delivery",
            customer_wants="A date",
        )
        common = dict(session=s, complaint_id=waiting.id, actor_id=wang)
        complaints.accept(
            **common,
            now=NOW - timedelta(hours=29),
            department="Logistics",
            reply_text="We are checking with logistics.",
        )
        complaints.investigate(
            **common,
            now=NOW - timedelta(hours=20),
            cause="delivery_damage",
            responsible_person="Sun Hao",
            department="Logistics",
            policy=POLICY,
        )
        complaints.propose(
            **common,
            now=NOW - timedelta(hours=3),
            solution_options="Deliver tomorrow morning\nRefund the delivery fee",
        )
        complaints.escalate(
            session=s,
            complaint_id=late.id,
            actor_id=li,
            now=NOW - timedelta(hours=1),
            supervisor_id=boss,
            comment="VIP asks for the manager",
        )
        s.add(
            Callback(
                customer_id=world["tom"],
                owner_id=wang,
                reason="Dryer follow-up",
                kind="manual",
                due_at=NOW - timedelta(hours=26),
                created_at=NOW,
            )
        )
        s.add(
            WorkOrder(
                short_text="Washer hose replacement",
                customer_id=world["tom"],
                assignee_id=None,
                due_at=NOW + timedelta(hours=30),
                created_at=NOW,
            )
        )
        s.commit()  # fmt: skip


@pytest.fixture
def chief_app(make_seat, floor):
    return make_seat(agent="zhao.lei")


def test_wallboard_complaints(snap_compare, chief_app):
    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("v")
        await freeze(pilot)
        await pilot.press("down")  # the second row: the proposal waiting for approval
        await freeze(pilot)

    assert snap_compare(chief_app, terminal_size=(80, 24), run_before=run_before)


def test_wallboard_agents(snap_compare, chief_app):
    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("v")
        await freeze(pilot)
        await pilot.press("1")
        await freeze(pilot)

    assert snap_compare(chief_app, terminal_size=(80, 24), run_before=run_before)


async def test_supervisor_reassigns_an_order_and_opens_an_agents_queue(make_seat, engine, world,
                                                                        boss):  # fmt: skip
    app = make_seat(agent="zhao.lei")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        board = app.screen
        await pilot.press("4")  # orders: the world's urgent sofa order, Li Na's
        await settle(pilot)
        kind, wo_id = board.highlighted()
        assert kind == "wo" and board.check_action("approve", ()) is False
        await pilot.press("r")
        await settle(pilot)
        await choose(pilot, "Wang Wei")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is board
        with Session(engine) as s:
            assert s.get(WorkOrder, wo_id).assignee_id == world["wang"]
        assert board.board.orders.rows[0].assignee == "Wang Wei"

        await pilot.press("1", "enter")  # the first agent: Li Na
        await settle(pilot)
        from seat.screens.supervisor.agent_queue import AgentQueueScreen

        queue = app.screen
        assert isinstance(queue, AgentQueueScreen) and queue.agent_id == world["li"]
        table = queue.query_one("#aq-table")
        keys = [k.value for k in table.rows]
        assert "callback:1" in keys and f"order:{wo_id}" not in keys  # it is Wang's now
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is board


# -- in Chinese ---------------------------------------------------------------------------------

CJK_NAMES = {
    "agents": {"li.na": "李娜", "wang.wei": "欧阳文娟娟娟娟娟", "zhao.lei": "赵磊"},
    "customers": {"Wang Fang": "王芳", "Tom Baker": "司马相如相如相如"},
}
"""Agent and customer names in Chinese, two of them too long for their columns."""


@pytest.fixture
def chinese():
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


@pytest.fixture
def cjk_floor(engine, floor) -> None:
    """The same morning, with the people named in Chinese."""
    with Session(engine) as s:
        for agent in s.exec(select(Agent)):
            agent.display_name = CJK_NAMES["agents"].get(agent.name, agent.display_name)
        for customer in s.exec(select(Customer)):
            customer.name = CJK_NAMES["customers"].get(customer.name, customer.name)
        s.commit()


@pytest.mark.parametrize(("tab", "down"), [("1", 0), ("2", 1)], ids=["agents", "complaints"])
def test_wallboard_in_chinese(snap_compare, make_seat, cjk_floor, chinese, tab, down):
    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("v")
        await freeze(pilot)
        await pilot.press(tab, *["down"] * down)  # complaints: the proposal awaiting approval
        await freeze(pilot)

    app = make_seat(agent="zhao.lei")
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_wallboard_tables_align_in_chinese(make_seat, engine, cjk_floor, chinese):
    app = make_seat(agent="zhao.lei")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        board = app.screen
        for key, tab in (("1", "agents"), ("2", "complaints"), ("3", "callbacks"),
                         ("4", "orders")):  # fmt: skip
            await pilot.press(key)
            await settle(pilot)
            table = board.query_one(f"#wb-{tab}")
            assert table.row_count >= 2 and not misaligned(table), misaligned(table)
            assert not stray_english(app, engine), stray_english(app, engine)
        assert plain(board.query_one("#wb-orders").get_row_at(0)[3]) == "李娜"
        assert "11月23日 周一 10:00:00" in plain(board.query_one("#wb-head").render())
        callbacks = board.query_one("#wb-callbacks")
        assert [plain(callbacks.get_row_at(i)[3]) for i in range(2)] == ["满意度回访", "手动"]

        await pilot.press("1", "enter")  # Li Na's queue
        await settle(pilot)
        queue = app.screen.query_one("#aq-table")
        assert not misaligned(queue), misaligned(queue)
        assert not stray_english(app, engine), stray_english(app, engine)
        whats = [plain(queue.get_row_at(i)[2]) for i in range(queue.row_count)]
        assert whats[:3] == ["王芳 · 满意度回访", "张敏 · 生日问候", "王芳 · 受理"]
        assert plain(app.screen.query_one("#aq-head").render()) == "李娜的队列 · 未完成 6 项"


async def test_every_agent_with_overdue_callbacks_is_named(make_seat, engine, world, boss):
    """The per-agent line wraps: at 80 columns it had cut the last agents, ending in '·'."""
    names = [f"Agent Longname {n}" for n in range(6)]
    with Session(engine) as s:
        for n, name in enumerate(names):
            who = agents.ensure_agent(session=s, name=f"agent{n}", display_name=name)
            s.add(Callback(customer_id=world["min"], owner_id=who.id, kind="manual",
                           reason="x", due_at=NOW - timedelta(hours=n + 1),
                           created_at=NOW - timedelta(days=1)))  # fmt: skip
        s.commit()
    app = make_seat(agent="zhao.lei")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        line = app.screen.query_one("#wb-sum-callbacks")
        assert all(f"{name} 1" in str(line.render()) for name in names)
        assert line.size.height >= 2 and line.size.width <= 80  # wrapped, every name shown

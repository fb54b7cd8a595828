"""Snapshots of the complaint page mid-lifecycle and of the statistics, 80x24, fixed clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from seat import agents, complaints, sla, workorders
from seat.config import DATA_DIR
from tests.conftest import NOW
from tests.ui.helpers import freeze

POLICY = sla.read_policy(DATA_DIR / "policy" / "complaints.toml", default_zone="Asia/Shanghai")


@pytest.fixture
def cases(engine, world) -> dict[str, int]:
    """A VIP complaint sent back by the supervisor, and two more for the statistics."""
    with Session(engine, expire_on_commit=False) as s:
        boss = agents.ensure_agent(
            session=s, name="zhao.lei", display_name="Zhao Lei", role="supervisor"
        ).id
        li = world["li"]
        start = NOW - timedelta(hours=20)
        c = complaints.create_complaint(
            session=s, now=start, customer_id=world["fang"], owner_id=li,
            what_happened="Sofa cover torn on delivery; second time this year.",
            customer_wants="A new cover and an apology",
        )  # fmt: skip
        common = dict(session=s, complaint_id=c.id, actor_id=li)
        complaints.accept(
            **common, now=start + timedelta(hours=1), department="Logistics",
            category="delivery", policy=POLICY,
            reply_text="We are sorry; logistics will call you by tomorrow noon.",
        )  # fmt: skip
        complaints.investigate(
            **common, now=start + timedelta(hours=3), cause="delivery_damage",
            responsible_person="Sun Hao", department="Logistics", policy=POLICY,
            comment="Driver folded the sofa to fit the lift",
        )  # fmt: skip
        complaints.propose(
            **common, now=start + timedelta(hours=5),
            solution_options="Send a new cover within 3 days\nRefund 20 % of the sofa",
        )  # fmt: skip
        complaints.send_back(
            session=s, complaint_id=c.id, actor_id=boss, now=start + timedelta(hours=6),
            comment="Add a free cleaning visit as an apology",
        )  # fmt: skip
        complaints.escalate(
            **common, now=start + timedelta(hours=7), supervisor_id=boss,
            comment="VIP asks for the manager",
        )  # fmt: skip
        workorders.create_order(
            session=s, now=start + timedelta(hours=2), customer_id=world["fang"],
            created_by_id=li,
            draft=workorders.WorkOrderDraft(
                kind="delivery_exception", short_text="Collect torn cover",
                assignee_id=world["wang"], urgent=True, due_at=NOW + timedelta(hours=4),
                reporter="Wang Fang", sales_order_no="SO-1001",
            ),
        )  # fmt: skip
        other = complaints.create_complaint(
            session=s, now=NOW - timedelta(days=3), customer_id=world["tom"], owner_id=li,
            what_happened="Dryer noisy", customer_wants="Repair",
        )  # fmt: skip
        complaints.create_complaint(
            session=s, now=NOW - timedelta(hours=1), customer_id=world["min"], owner_id=li,
            what_happened="Technician late", customer_wants="Apology",
        )  # fmt: skip
        s.commit()
        return {"sofa": c.id, "dryer": other.id}


def test_complaint_page_mid_lifecycle(snap_compare, make_seat, cases):
    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("c")
        await freeze(pilot)
        await pilot.press("down", "enter")  # oldest first: the dryer, then the sofa
        await freeze(pilot)

    assert snap_compare(make_seat(), terminal_size=(80, 24), run_before=run_before)


def test_complaint_list(snap_compare, make_seat, cases):
    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("c")
        await freeze(pilot)

    assert snap_compare(make_seat(), terminal_size=(80, 24), run_before=run_before)


def test_complaint_statistics(snap_compare, make_seat, cases):
    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("t")
        await freeze(pilot)

    assert snap_compare(make_seat(), terminal_size=(80, 24), run_before=run_before)

"""Snapshots of what intake by channel adds, 80x24, fixed clock, in English and Chinese: a
WeChat complaint received the day before and escalated with a promised reply time (its
Reviewed and Promised reply clocks), the complaint form's channel fields, the suggestions
register."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from seat import agents, complaints, i18n, suggestions
from seat.intake import Intake
from tests.conftest import NOW
from tests.ui.helpers import choose, freeze


@pytest.fixture(params=["en", "zh_CN"])
def language(request):
    i18n.set_language(request.param)
    yield request.param
    i18n.set_language("en")


@pytest.fixture
def channel_world(engine, world) -> None:
    with Session(engine, expire_on_commit=False) as s:
        boss = agents.ensure_agent(
            session=s, name="zhao.lei", display_name="Zhao Lei", role="supervisor"
        ).id
        c = complaints.create_complaint(
            session=s, now=NOW - timedelta(hours=2), customer_id=world["min"],
            owner_id=world["li"], what_happened="Rude answer to a post on our WeChat account",
            customer_wants="An apology from the store",
            intake=Intake("wechat", NOW - timedelta(hours=20), "wx-msg-7781"),
        )  # fmt: skip
        complaints.escalate(
            session=s, complaint_id=c.id, actor_id=world["li"], now=NOW - timedelta(hours=1),
            supervisor_id=boss, comment="The store manager must answer",
            promised_reply_at=NOW + timedelta(hours=2),
        )  # fmt: skip
        for text, category, channel in (
            ("Open the store on Sundays", "store", "weibo"),
            ("Show delivery times in the app", None, "email"),
        ):
            suggestions.record(
                session=s, now=NOW - timedelta(hours=3), recorded_by_id=world["li"], text=text,
                category=category or "", intake=Intake(channel), customer_id=world["fang"],
            )  # fmt: skip
        s.commit()


def test_wechat_complaint_with_a_promise(snap_compare, make_seat, channel_world, language):
    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("c")
        await freeze(pilot)
        await pilot.press("enter")
        await freeze(pilot)

    assert snap_compare(make_seat(), terminal_size=(80, 24), run_before=run_before)


def test_complaint_form_channel_fields(snap_compare, make_seat, channel_world, language):
    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("n")
        await freeze(pilot)
        await pilot.press(*"139 1234 5678", "enter")
        await freeze(pilot)
        await pilot.press("f2")
        await freeze(pilot)
        await choose(pilot, "complaint")  # the call script's words: the customer's language
        await pilot.press("f2", "f7")
        await freeze(pilot)
        await pilot.press(*"Letter about a late delivery", "tab", *"A call", "tab")
        await choose(pilot, i18n._("letter"))
        await pilot.press("tab", *"2026-11-20 09:00", "tab", *"L-2026-118")
        await freeze(pilot)

    assert snap_compare(make_seat(), terminal_size=(80, 24), run_before=run_before)


def test_suggestions_register(snap_compare, make_seat, channel_world, language):
    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("o")
        await freeze(pilot)

    assert snap_compare(make_seat(), terminal_size=(80, 24), run_before=run_before)

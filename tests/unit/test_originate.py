"""Click-to-dial through Asterisk (seat.originate): an AMI Originate against a TCP server that
speaks the AMI protocol, its OriginateResponse telling the outcome; numbers that could reach
another context are refused before anything is sent."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import update
from sqlmodel import Session

from seat import originate
from seat.clock import FixedClock
from seat.models import Agent
from seat.services import Desk
from tests.conftest import NOW
from tests.unit.helpers import ScriptedOriginate as ScriptedAsterisk


def _target(port: int) -> originate.AmiTarget:
    return originate.AmiTarget(host="127.0.0.1", port=port, username="seat", secret="s3cret",
                               context="from-internal", ring_seconds=20)  # fmt: skip


@pytest.mark.parametrize(
    ("reason", "outcome"), [(4, "answered"), (5, "busy"), (3, "no_answer"), (8, "no_answer")]
)
def test_the_outcome_comes_from_asterisk(reason, outcome):
    with ScriptedAsterisk(reason) as pbx:
        done = originate.originate(_target(pbx.port), "+8613800138000", "201", timeout=20)
    assert done.started and done.outcome == outcome
    (sent,) = [a for a in pbx.actions if a.get("Action") == "Originate"]
    assert sent["Channel"] == "Local/+8613800138000@from-internal"
    assert sent["Exten"] == "201" and sent["Context"] == "from-internal"
    assert sent["Timeout"] == "20000" and sent["Async"] == "true"
    assert [a["Action"] for a in pbx.actions][0] == "Login"


def test_a_refused_or_failed_originate_says_why():
    with ScriptedAsterisk(4, accept=False) as pbx:
        done = originate.originate(_target(pbx.port), "13800138000", "201", timeout=20)
    assert not done.started and "Extension does not exist" in done.message
    with ScriptedAsterisk(0) as pbx:
        done = originate.originate(_target(pbx.port), "13800138000", "201", timeout=20)
    assert not done.started and done.outcome is None and "reason 0" in done.message


@pytest.mark.parametrize(
    "number",
    ["123@evil-context", "sip:1/2", "$(id)", "`id`", "138;rm", "+", "１３８００１３８０００", ""],
)
def test_a_number_that_could_reach_another_context_is_never_sent(number):
    with ScriptedAsterisk(4) as pbx:
        done = originate.originate(_target(pbx.port), number, "201", timeout=20)
    assert not done.started and pbx.actions == []


def test_nobody_listening_is_said_plainly():
    with ScriptedAsterisk(4) as pbx:
        port = pbx.port
    done = originate.originate(_target(port), "13800138000", "201", timeout=20)
    assert not done.started and "Asterisk did not answer" in done.message


def test_the_desk_dials_the_agents_extension_through_ami(engine, settings, world, monkeypatch):
    monkeypatch.setenv("SEAT_AMI_SECRET", "s3cret")
    with ScriptedAsterisk(5) as pbx:
        ami = replace(settings, ami_host="127.0.0.1", ami_port=pbx.port, ami_username="seat")
        desk = Desk(engine=engine, clock=FixedClock(NOW), settings=ami)
        assert desk.can_dial
        none = desk.dial("+8613800138000", agent_id=world["li"])
        assert not none.started and "seat agents extension" in none.message
        with Session(engine) as s:
            s.execute(update(Agent).where(Agent.id == world["li"]).values(extension="201"))
            s.commit()
        done = desk.dial("+8613800138000", agent_id=world["li"])
    assert done.started and done.outcome == "busy"
    login = pbx.actions[0]
    assert login["Username"] == "seat" and login["Secret"] == "s3cret"

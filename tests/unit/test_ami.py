"""Asterisk natively (seat.ami): AMI events to seat.cti steps, and the listener against a
TCP server that speaks the AMI protocol (event text as in Asterisk's documentation)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, update
from sqlmodel import Session

from seat import ami
from seat.models import Agent, CtiCall, ScreenPop
from tests.conftest import NOW

CALLER = {
    "Channel": "PJSIP/trunk-00000001", "ChannelState": "6", "ChannelStateDesc": "Up",
    "CallerIDNum": "13800138000", "CallerIDName": "<unknown>", "Context": "from-trunk",
    "Exten": "4008001234", "Priority": "3", "Uniqueid": "1700000000.1",
    "Linkedid": "1700000000.1", "Queue": "sales",
}  # fmt: skip


def _member(ext: str, name: str, n: int) -> dict[str, str]:
    return {
        "DestChannel": f"PJSIP/{ext}-0000000{n}", "DestUniqueid": f"1700000000.{n}",
        "DestLinkedid": "1700000000.1", "Interface": f"PJSIP/{ext}", "MemberName": name,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("interface", "ext"),
    [("PJSIP/201", "201"), ("SIP/201", "201"), ("Local/201@from-queue/n", "201"),
     ("IAX2/li-na", "li-na"), ("", ""), ("nonsense", "")],
)  # fmt: skip
def test_a_members_interface_names_its_extension(interface, ext):
    assert ami.member_extension(interface) == ext


@pytest.mark.parametrize(
    ("event", "kind", "user"),
    [
        ({"Event": "AgentCalled", **CALLER, **_member("201", "Li Na", 2)}, "ring", "201"),
        ({"Event": "AgentConnect", **CALLER, **_member("201", "Li Na", 2), "HoldTime": "3",
          "RingTime": "2"}, "answer", "201"),
        ({"Event": "Hangup", **CALLER, "Cause": "16", "Cause-txt": "Normal Clearing"},
         "hangup", ""),
        ({"Event": "Hangup", **CALLER, "Uniqueid": "1700000000.2", "Cause": "16"}, None, ""),
        ({"Event": "Newchannel", **CALLER}, None, ""),
        ({"Event": "AgentCalled", "Queue": "sales"}, None, ""),  # no call id: nothing to follow
    ],
)  # fmt: skip
def test_which_events_the_seat_follows(event, kind, user):
    step = ami.step_for(event)
    assert (step.kind if step else None) == kind
    if step is not None:
        assert step.call_ref == "1700000000.1" and step.user == user


def _ami_text(fields: dict[str, str]) -> bytes:
    return ("".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n").encode()


class ScriptedAsterisk:
    """Speaks enough AMI: the banner, a Login answered with Success, then the events."""

    def __init__(self, events: list[dict[str, str]]) -> None:
        self.events = events
        self.logins: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/5.0.1\r\n")
        await writer.drain()
        while True:
            block = await reader.readuntil(b"\r\n\r\n")
            fields = dict(
                line.split(": ", 1) for line in block.decode().strip().split("\r\n") if ": " in line
            )
            if fields.get("Action") == "Login":
                self.logins.append(fields.get("Username", ""))
                writer.write(_ami_text({"Response": "Success", "ActionID": fields["ActionID"],
                                        "Message": "Authentication accepted"}))  # fmt: skip
                writer.write(_ami_text({"Event": "FullyBooted", "Privilege": "system,all",
                                        "Status": "Fully Booted"}))  # fmt: skip
                for event in self.events:
                    writer.write(_ami_text(event))
                await writer.drain()
            elif "ActionID" in fields:  # Ping and the like
                writer.write(_ami_text({"Response": "Success", "ActionID": fields["ActionID"],
                                        "Ping": "Pong"}))  # fmt: skip
                await writer.drain()


async def test_a_queue_call_pops_on_the_member_rung_and_stays_with_who_answered(engine, world):
    with Session(engine) as s:
        s.execute(update(Agent).where(Agent.id == world["li"]).values(extension="201"))
        s.execute(update(Agent).where(Agent.id == world["wang"]).values(extension="202"))
        s.commit()
    events = [
        {"Event": "AgentCalled", **CALLER, **_member("202", "Wang Wei", 2)},
        {"Event": "AgentRingNoAnswer", **CALLER, **_member("202", "Wang Wei", 2)},
        {"Event": "AgentCalled", **CALLER, **_member("201", "Li Na", 3)},
        {"Event": "AgentConnect", **CALLER, **_member("201", "Li Na", 3), "HoldTime": "9",
         "RingTime": "4"},
        {"Event": "Hangup", **CALLER, "Uniqueid": "1700000000.3", "Cause": "16",
         "Cause-txt": "Normal Clearing"},  # the agent's leg: not the end of the call
        {"Event": "Hangup", **CALLER, "Cause": "16", "Cause-txt": "Normal Clearing"},
    ]  # fmt: skip
    pbx = ScriptedAsterisk(events)
    server = await asyncio.start_server(pbx.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    log: list[str] = []
    listener = asyncio.create_task(ami.listen(
        engine, host="127.0.0.1", port=port, username="seat", secret="s3cret", region="CN",
        now=lambda: NOW, log=log.append, stop=stop,
    ))  # fmt: skip

    def ended() -> bool:
        with Session(engine) as s:
            return s.execute(select(CtiCall.ended_at)).scalar() is not None

    for __ in range(400):  # the events arrive and are applied on their own
        if ended():
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(listener, 30)
    server.close()
    await server.wait_closed()
    assert pbx.logins == ["seat"]
    with Session(engine) as s:
        call = s.execute(select(CtiCall)).scalar_one()
        assert call.call_ref == "1700000000.1" and call.queue == "sales"
        assert call.agent_id == world["li"] and call.answered_at == NOW
        assert call.ended_at == NOW and call.cause == "Normal Clearing"
        pop = s.execute(select(ScreenPop)).scalar_one()
        assert pop.e164 == "+8613800138000" and pop.agent_id == world["li"]
        assert pop.call_ref == "1700000000.1"
    assert log[:2] == ["ring 1700000000.1 202", "ring 1700000000.1 201"]

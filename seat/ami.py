"""Asterisk natively (`seat cti ami`, the optional extra `seat[asterisk]`): follow the queue's
AMI events and feed them to seat.cti, so a queue call pops on the agent it rings and stays
with the one who answered.

- AgentCalled (a member is rung): the call is announced (newCall) for that member's agent;
  when the queue rings another member, the pop (if no seat took it yet) moves there.
- AgentConnect (a member answered): answer, for that member.
- Hangup of the caller's own channel (its Uniqueid is the call's Linkedid): hangup, with
  Asterisk's cause text.

A member's interface (PJSIP/201, SIP/201, Local/201@from-queue/n) names the extension; the
agent is the one with that extension (`seat agents extension`), else the one whose login is
the member's name. The AMI connection itself is panoramisk's.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from seat import cti
from seat.cli_help import add_db_option, example
from seat.config import Settings
from seat.i18n import _

_INTERFACE = re.compile(r"^(?:[A-Za-z0-9]+)/([^@/;]+)")


@dataclass(frozen=True)
class Step:
    """What one AMI event means for seat.cti: an event to apply, or a ring to move."""

    kind: str  # "newCall" (first ring), "ring", "answer", "hangup"
    call_ref: str
    user: str = ""
    member: str = ""
    from_number: str = ""
    queue: str = ""
    cause: str = ""


def member_extension(interface: str) -> str:
    """PJSIP/201 -> 201; Local/201@from-queue/n -> 201; '' when it names none."""
    found = _INTERFACE.match(interface.strip())
    return found.group(1) if found else ""


def step_for(event: Mapping[str, str]) -> Step | None:
    """The step an AMI event (its fields) stands for, or None for one the seat ignores."""
    name = (event.get("Event") or "").strip()
    call_ref = (event.get("Linkedid") or event.get("Uniqueid") or "").strip()
    if not call_ref:
        return None
    ext = member_extension(event.get("Interface") or event.get("DestChannel") or "")
    member = (event.get("MemberName") or "").strip()
    if name == "AgentCalled":
        return Step("ring", call_ref, ext, member, (event.get("CallerIDNum") or "").strip(),
                    (event.get("Queue") or "").strip())  # fmt: skip
    if name == "AgentConnect":
        return Step("answer", call_ref, ext, member)
    if name == "Hangup" and event.get("Uniqueid") == event.get("Linkedid"):
        cause = (event.get("Cause-txt") or event.get("Cause") or "").strip()
        return Step("hangup", call_ref, cause=cause[:40])
    return None


def apply_step(engine: Engine, step: Step, *, now: datetime, region: str) -> cti.Applied | None:
    """One step in its own transaction. A first ring announces the call; later rings move
    its pop; answer and hangup for a call never rung are ignored (not a queue call)."""
    from sqlalchemy import select

    from seat.db import WRITE, session_scope
    from seat.models import CtiCall

    with session_scope(engine) as session:
        session.connection(execution_options=WRITE)  # SQLite: waits for the lock at BEGIN
        known = session.execute(
            select(CtiCall.id).where(CtiCall.call_ref == step.call_ref)
        ).scalar()
        user = step.user
        if step.member and cti.agent_for(session, user) is None:
            user = step.member  # no agent has the extension: the member's name as a login
        if step.kind == "ring":
            if known is not None:
                cti.ring(session=session, call_ref=step.call_ref, user=user)
                return None
            fields = {"event": "newCall", "callId": step.call_ref, "from": step.from_number,
                      "direction": "in", "user": user, "queue": step.queue}  # fmt: skip
        elif known is None:
            return None
        elif step.kind == "answer":
            fields = {"event": "answer", "callId": step.call_ref, "user": user}
        else:
            fields = {"event": "hangup", "callId": step.call_ref, "cause": step.cause}
        clean = {k: v for k, v in fields.items() if v}
        return cti.apply(session=session, event=cti.parse(clean), now=now, region=region)


def _apply_now(
    engine: Engine, step: Step, now: Callable[[], datetime], region: str
) -> cti.Applied | None:
    return apply_step(engine, step, now=now(), region=region)


def add_parser(csub: argparse._SubParsersAction) -> None:
    ami = csub.add_parser(
        "ami", help=_("follow Asterisk's queue events (AMI; the asterisk extra)"),
        description=_("Log in to Asterisk's manager interface and pop queue calls on the "
                      "agent they ring; the secret comes from SEAT_AMI_SECRET."),
        epilog=example("seat cti ami --ami-host pbx.local --username seat"),
    )  # fmt: skip
    ami.add_argument("--ami-host", dest="ami_host", default="127.0.0.1", metavar="HOST",
                     help=_("Asterisk's address (default: %(default)s)"))  # fmt: skip
    ami.add_argument("--ami-port", dest="ami_port", type=int, default=5038, metavar="N",
                     help=_("the AMI port (default: %(default)s)"))  # fmt: skip
    ami.add_argument("--username", required=True, help=_("the AMI user (manager.conf)"))
    add_db_option(ami)


async def listen(
    engine: Engine, *, host: str, port: int, username: str, secret: str, region: str,
    now: Callable[[], datetime], log: Callable[[str], None] = lambda _m: None,
    stop: asyncio.Event | None = None,
) -> None:  # fmt: skip
    """Follow the AMI events until `stop` is set (or forever); the database work runs in a
    thread so the connection keeps reading."""
    from panoramisk import Manager

    loop = asyncio.get_running_loop()
    manager = Manager(loop=loop, host=host, port=port, username=username, secret=secret,
                      ping_delay=10, ping_interval=10, reconnect_timeout=2)  # fmt: skip
    steps: asyncio.Queue[Step] = asyncio.Queue()

    def on_event(_manager: Any, message: Any) -> None:
        step = step_for({str(k): str(v) for k, v in dict(message).items()})
        if step is not None:
            steps.put_nowait(step)

    async def apply_in_order() -> None:
        """One at a time, in the order Asterisk sent them; the database in a thread."""
        while True:
            step = await steps.get()
            try:
                await loop.run_in_executor(None, _apply_now, engine, step, now, region)
                log(f"{step.kind} {step.call_ref} {step.user or step.member}".rstrip())
            except Exception as exc:  # one bad event never stops the listener
                log(f"{step.kind} {step.call_ref}: not saved: {type(exc).__name__}: {exc}")
            finally:
                steps.task_done()

    worker = asyncio.create_task(apply_in_order())
    for name in ("AgentCalled", "AgentConnect", "Hangup"):
        manager.register_event(name, on_event)
    await manager.connect()
    try:
        await (stop.wait() if stop is not None else asyncio.Event().wait())
        await steps.join()  # what arrived before the stop is applied
    finally:
        worker.cancel()
        manager.close()


def run(settings: Settings, args: argparse.Namespace) -> int:
    """`seat cti ami`: until Ctrl+C; 2 with a message when it cannot start."""
    import os

    from seat.clock import SystemClock
    from seat.db import make_engine
    from seat.errors import StorageError

    try:
        import panoramisk  # noqa: F401 (the optional extra)
    except ImportError:
        print("seat cti ami: needs the asterisk extra: pip install 'seat[asterisk]'",
              file=sys.stderr)  # fmt: skip
        return 2
    secret = os.environ.get("SEAT_AMI_SECRET", "")
    if not secret:
        print("seat cti ami: set SEAT_AMI_SECRET to the AMI user's secret", file=sys.stderr)
        return 2
    try:
        engine = make_engine(settings.database_url, background_checkpoints=True)
    except StorageError as exc:
        print(f"seat cti ami: {exc}", file=sys.stderr)
        return 2
    print(f"seat cti ami: following {args.ami_host}:{args.ami_port} (Ctrl+C stops)",
          file=sys.stderr, flush=True)  # fmt: skip
    try:
        asyncio.run(listen(
            engine, host=args.ami_host, port=args.ami_port, username=args.username,
            secret=secret, region=settings.region, now=SystemClock().now,
            log=lambda m: print(m, file=sys.stderr, flush=True),
        ))  # fmt: skip
    except KeyboardInterrupt:
        pass
    finally:
        engine.dispose()
    return 0

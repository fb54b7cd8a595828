"""Click-to-dial through Asterisk: an AMI Originate whose outcome comes back from the PBX.

The customer is rung first (`Local/<number>@<context>`); when they answer, Asterisk connects
the agent's extension. Asterisk's OriginateResponse then tells how the attempt went: answered,
no answer, busy. The connection is panoramisk's (the optional extra `seat[asterisk]`). The
number must be digits (a leading + allowed): it goes into a channel name, where `@` or `/`
would reach another context.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from seat.i18n import _

# Asterisk's originate reasons (the control frame the attempt ended on).
REASONS = {4: "answered", 5: "busy", 3: "no_answer", 1: "no_answer", 8: "no_answer"}


@dataclass(frozen=True)
class AmiTarget:
    host: str
    port: int
    username: str
    secret: str
    context: str
    ring_seconds: int = 30


@dataclass(frozen=True)
class Originated:
    started: bool
    message: str
    outcome: str | None = None
    """answered / no_answer / busy, as the phone system told; None when it could not tell."""


def dialable(number: str) -> str | None:
    """The number as Asterisk dials it (digits, a leading + kept), or None if it is not one."""
    text = number.strip()
    digits = text[1:] if text.startswith("+") else text
    return text if digits.isdigit() and digits.isascii() and 3 <= len(digits) <= 20 else None


def originate(target: AmiTarget, number: str, extension: str, *, timeout: float = 60) -> Originated:
    """Place the call and wait for Asterisk's answer (in a worker thread: it blocks)."""
    dial = dialable(number)
    if dial is None:
        return Originated(False, _("{number} cannot be dialled: digits only.").format(
            number=number))  # fmt: skip
    if dialable(extension) is None:
        return Originated(False, _("The extension {ext} cannot be dialled.").format(
            ext=extension))  # fmt: skip
    try:
        import panoramisk  # noqa: F401 (the optional extra)
    except ImportError:
        return Originated(False, _("Dialling through Asterisk needs: pip install 'seat[asterisk]'"))
    try:
        return asyncio.run(asyncio.wait_for(_originate(target, dial, extension), timeout))
    except (OSError, TimeoutError) as exc:
        return Originated(False, _("Asterisk did not answer: {error}").format(
            error=str(exc) or type(exc).__name__))  # fmt: skip


async def _originate(target: AmiTarget, number: str, extension: str) -> Originated:
    from panoramisk import Manager

    loop = asyncio.get_running_loop()
    action_id = uuid.uuid4().hex
    outcome: asyncio.Future[Any] = loop.create_future()

    def on_response(_manager: Any, event: Any) -> None:
        if event.get("ActionID") == action_id and not outcome.done():
            outcome.set_result(event)

    manager = Manager(loop=loop, host=target.host, port=target.port, username=target.username,
                      secret=target.secret, ping_delay=3600, reconnect_timeout=3600)  # fmt: skip
    manager.register_event("OriginateResponse", on_response)
    try:
        await manager.connect()
        queued = await manager.send_action({
            "Action": "Originate", "ActionID": action_id,
            "Channel": f"Local/{number}@{target.context}", "Context": target.context,
            "Exten": extension, "Priority": "1", "Async": "true",
            "Timeout": str(target.ring_seconds * 1000), "CallerID": number,
        })  # fmt: skip
        # panoramisk gives an Originate's answer as a list (the response, then the event)
        first = queued[0] if isinstance(queued, list) else queued
        for message in queued if isinstance(queued, list) else ():
            if message.get("Event") == "OriginateResponse" and not outcome.done():
                outcome.set_result(message)
        queued = first
        if not queued.success:
            message = queued.get("Message") or "refused"
            return Originated(False, _("Asterisk refused the call: {reason}").format(
                reason=message))  # fmt: skip
        event = await outcome
    finally:
        manager.close()
    try:
        reason = int(event.get("Reason", "0"))
    except ValueError:
        reason = 0
    result = REASONS.get(reason)
    if result is None:
        return Originated(False, _("The call could not be placed (Asterisk reason {n}).").format(
            n=reason))  # fmt: skip
    shown = {"answered": _("Answered."), "busy": _("Busy."), "no_answer": _("No answer.")}
    return Originated(True, shown[result], result)

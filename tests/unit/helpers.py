"""Helpers shared by unit tests."""

from __future__ import annotations

import ast
import asyncio
import subprocess
import sys
import threading

ZONE_NUMBERS = {
    "shanghai": "138 0013 8001",  # no daylight saving
    "tokyo": "+81 3-1234-5678",  # no daylight saving
    "new_york": "+1 212-555-1234",  # daylight saving from March to November
    "london": "+44 20 7946 0123",  # daylight saving from late March to late October
    "russia": "+7 916 123-45-67",  # a country of many zones: rest hours in several
    "toll_free": "+1 800 555 1234",  # every zone of the country, no shared window
}
"""Customers' numbers in every kind of time zone (the sidebar's zone groups' tests)."""


def loaded_after_import(module: str, *prefixes: str) -> list[str]:
    """Modules starting with any of `prefixes` present after importing `module` afresh."""
    code = (
        f"import {module}, sys; "
        f"print(repr(sorted(m for m in sys.modules if m.startswith({prefixes!r}))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return ast.literal_eval(out.stdout.strip().splitlines()[-1])


# -- Asterisk's manager interface, scripted (click-to-dial tests) ------------------------


def _ami_text(fields: dict[str, str]) -> bytes:
    return ("".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n").encode()


class ScriptedOriginate:
    """Answers Login with Success and an Originate with "queued", then OriginateResponse with
    the given reason; keeps the actions it was sent."""

    def __init__(self, reason: int, accept: bool = True) -> None:
        self.reason = reason
        self.accept = accept
        self.actions: list[dict[str, str]] = []
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self.handle, "127.0.0.1", 0)
        )
        self.port = self.server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    def __enter__(self) -> ScriptedOriginate:
        self.thread.start()
        self.ready.wait(10)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def _originated(self, fields: dict[str, str], aid: str) -> bytes:
        if not self.accept:
            return _ami_text({"Response": "Error", "ActionID": aid,
                              "Message": "Extension does not exist."})  # fmt: skip
        queued = _ami_text({"Response": "Success", "ActionID": aid,
                            "Message": "Originate successfully queued"})  # fmt: skip
        return queued + _ami_text({
            "Event": "OriginateResponse", "Privilege": "call,all", "ActionID": aid,
            "Response": "Success" if self.reason == 4 else "Failure",
            "Channel": fields.get("Channel", ""), "Context": fields.get("Context", ""),
            "Exten": fields.get("Exten", ""), "Reason": str(self.reason),
            "Uniqueid": "1700000000.9", "CallerIDNum": "<unknown>",
        })  # fmt: skip

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/5.0.1\r\n")
        try:
            while True:
                block = await reader.readuntil(b"\r\n\r\n")
                fields = dict(line.split(": ", 1) for line in block.decode().strip().split("\r\n")
                              if ": " in line)  # fmt: skip
                self.actions.append(fields)
                aid = fields.get("ActionID", "")
                if fields.get("Action") == "Login":
                    writer.write(_ami_text({"Response": "Success", "ActionID": aid,
                                            "Message": "Authentication accepted"}))  # fmt: skip
                elif fields.get("Action") == "Originate":
                    writer.write(self._originated(fields, aid))
                else:
                    writer.write(_ami_text({"Response": "Success", "ActionID": aid}))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass

"""Crash-safe call drafts: the call in progress, written to a local file as the agent types.

A local file, not the database: the draft must survive exactly the cases where the database
cannot take a write (locked, read-only, unreachable). Files are written atomically (temp
file, fsync, rename), one per agent and database.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from seat.calls import CallState
from seat.i18n import _
from seat.scripts import Script, pick
from seat.textguard import shown

VERSION = 1


@dataclass
class Draft:
    """A call state plus what the screen needs to show it again."""

    state: CallState
    customer_name: str = ""
    reason: str = ""
    created: list[tuple[str, int]] = field(default_factory=list)
    saved_at: datetime | None = None


def _file(directory: Path, agent: str) -> Path:
    safe = re.sub(r"[^a-z0-9._-]", "_", agent.lower())
    return directory / f"{safe}.json"


def to_dict(draft: Draft, now: datetime) -> dict[str, Any]:
    s = draft.state
    return {
        "version": VERSION,
        "saved_at": now.isoformat(),
        "script": s.script.id,
        "language": s.script.language,
        "agent_id": s.agent_id,
        "started_at": s.started_at.isoformat(),
        "from_number": s.from_number,
        "customer_id": s.customer_id,
        "callback_id": s.callback_id,
        "call_id": s.call_id,
        "uid": s.uid,
        "call_ref": s.call_ref,
        "stage_id": s.stage_id,
        "values": dict(s.values),
        "phase_times": {k: v.isoformat() for k, v in s.phase_times.items()},
        "history": list(s.history),
        "ticks": {k: list(v) for k, v in s.ticks.items()},
        "visits": [[sid, at.isoformat()] for sid, at in s.visits],
        "in_wrapup": s.in_wrapup,
        "wrapup_at": s.wrapup_at.isoformat() if s.wrapup_at else None,
        "outcome": s.outcome,
        "notes": s.notes,
        "customer_name": draft.customer_name,
        "reason": draft.reason,
        "created": [list(c) for c in draft.created],
    }


def from_dict(data: dict[str, Any], scripts: dict[str, Script]) -> Draft:
    """Rebuild a draft; raises ValueError if it cannot be used (unknown script, bad data)."""
    if data.get("version") != VERSION:
        raise ValueError(_("draft from another version of seat"))
    try:
        # The variant the agent was reading; drafts from before variants carry no language.
        script = pick(scripts, str(data["script"]), data.get("language"))
    except KeyError:
        raise ValueError(
            _("the call script {name!r} is no longer available").format(name=data["script"])
        ) from None
    stage_id = data["stage_id"]
    script.stage(stage_id)  # KeyError if the script changed under the draft
    state = CallState(
        script=script,
        agent_id=int(data["agent_id"]),
        started_at=datetime.fromisoformat(data["started_at"]),
        from_number=data.get("from_number"),
        customer_id=data.get("customer_id"),
        callback_id=data.get("callback_id"),
        call_id=data.get("call_id"),
        call_ref=data.get("call_ref"),
        stage_id=stage_id,
        values={str(k): str(v) for k, v in data.get("values", {}).items()},
        phase_times={k: datetime.fromisoformat(v) for k, v in data["phase_times"].items()},
        history=[str(h) for h in data.get("history", [])],
        in_wrapup=bool(data.get("in_wrapup")),
        wrapup_at=datetime.fromisoformat(data["wrapup_at"]) if data.get("wrapup_at") else None,
        outcome=str(data.get("outcome", "")),
        notes=str(data.get("notes", "")),
        # Drafts from before the checklist was kept carry neither: the time from the start.
        ticks={str(k): [int(i) for i in v] for k, v in data.get("ticks", {}).items()},
        visits=[(str(sid), datetime.fromisoformat(at)) for sid, at in data.get("visits", [])],
    )
    if data.get("uid"):
        state.uid = str(data["uid"])
    return Draft(
        state=state,
        # A draft is a file anyone with the account can edit: shown text, not raw bytes.
        customer_name=shown(str(data.get("customer_name", ""))),
        reason=shown(str(data.get("reason", ""))),
        created=[(str(k), int(i)) for k, i in data.get("created", [])],
        saved_at=datetime.fromisoformat(data["saved_at"]) if data.get("saved_at") else None,
    )


def save(directory: Path, agent: str, draft: Draft, now: datetime) -> Path:
    return write(directory, agent, to_dict(draft, now))


def write(directory: Path, agent: str, data: dict[str, Any]) -> Path:
    """Write a draft atomically; the previous draft stays intact if this write fails."""
    target = _file(directory, agent)
    tmp = _write_temp(directory, data)
    try:
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def _write_temp(directory: Path, data: dict[str, Any]) -> Path:
    """The draft's bytes in a synced temp file next to the target (renamed over it after)."""
    directory.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(data, ensure_ascii=False).encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".draft-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


class DraftFile:
    """One call's draft: written by a worker thread, closed by the screen that ends the call.

    close() is a fence: the rename of a write happens under the lock and only while the file
    is open, so a write that was mid-way (slow fsync) when the call was saved never brings the
    saved call's draft back, and none starts after.
    """

    def __init__(self, directory: Path, agent: str) -> None:
        self.directory = directory
        self.agent = agent
        self._lock = threading.Lock()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def write(self, data: dict[str, Any]) -> Path | None:
        """Write the draft atomically; None (nothing written) once the file is closed."""
        if self._closed:
            return None
        tmp = _write_temp(self.directory, data)
        with self._lock:
            if self._closed:
                tmp.unlink(missing_ok=True)
                return None
            target = _file(self.directory, self.agent)
            try:
                os.replace(tmp, target)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            return target

    def close(self, *, discard: bool) -> None:
        """No more writes; remove the draft when the call was saved or abandoned."""
        with self._lock:
            self._closed = True
            if discard:
                _file(self.directory, self.agent).unlink(missing_ok=True)


def load(directory: Path, agent: str, scripts: dict[str, Script]) -> Draft | None:
    """The agent's draft, or None; an unreadable draft is kept aside, never deleted."""
    path = _file(directory, agent)
    if not path.is_file():
        return None
    try:
        return from_dict(json.loads(path.read_text(encoding="utf-8")), scripts)
    except (ValueError, KeyError, TypeError, json.JSONDecodeError):
        path.replace(path.with_suffix(".unreadable.json"))
        return None


def discard(directory: Path, agent: str) -> None:
    _file(directory, agent).unlink(missing_ok=True)

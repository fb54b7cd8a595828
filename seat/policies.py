"""One way to load a deployment's policy file (complaints, callbacks, work orders).

`PolicyFile.load(settings)` finds the file (`config.policy_file`: the deployment's own, else
the shipped one), parses it once per file version (its modification time) and time zone,
and raises `errors.PolicyError` naming the file and the problem. A file that breaks while
seats are running keeps the version last read from it, logged once: the start-up check
(seat.preflight) refuses to open a seat on a broken file, so a running seat never falls
back to rules nobody chose.
"""

from __future__ import annotations

import logging
import threading
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from seat.config import Settings, policy_file
from seat.errors import PolicyError

P = TypeVar("P")
log = logging.getLogger("seat.policies")


class PolicyFile(Generic[P]):
    """The policy of one kind ("complaints", "callbacks", "work_orders"), cached."""

    def __init__(self, kind: str, parse: Callable[[Path, str], P]) -> None:
        self.kind = kind
        self._parse = parse
        """parse(path, local time zone) -> the policy, or PolicyError."""
        self._cache: dict[tuple[Path, str], tuple[int, P]] = {}
        self._lock = threading.Lock()

    def path(self, settings: Settings) -> Path:
        return policy_file(settings, self.kind)

    def load(self, settings: Settings) -> P:
        path = self.path(settings)
        zone = settings.local_timezone
        try:
            stamp = path.stat().st_mtime_ns
        except OSError as exc:
            stamp = -1
            missing: PolicyError | None = PolicyError(
                f"{path}: cannot be read: {exc.strerror}"
            )
        else:
            missing = None
        key = (path, zone)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            if missing is not None:
                raise missing
            policy = self._parse(path, zone)
        except PolicyError as exc:
            if cached is None:
                raise
            log.warning("%s; keeping the version read before", exc)
            with self._lock:
                self._cache[key] = (stamp, cached[1])  # logged once per broken version
            return cached[1]
        with self._lock:
            self._cache[key] = (stamp, policy)
        return policy

    def forget(self) -> None:
        """Drop what was read (tests that edit a policy file within one second)."""
        with self._lock:
            self._cache.clear()


def read_toml(path: Path, parse: Callable[[dict], P]) -> P:
    """A policy file parsed by `parse`; PolicyError names the file and the problem (a file
    that cannot be read, a missing one too: no silent built-in defaults)."""
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
        return parse(raw)
    except OSError as exc:
        raise PolicyError(f"{path}: cannot be read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise PolicyError(f"{path}: {exc}") from None

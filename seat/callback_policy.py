"""The callback rules of policy/callbacks.toml (seat.callbacks), read without the mapped tables:
the start-up check (seat.preflight) runs before the desk is drawn (seat.lazy)."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import time, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from seat.config import Settings
from seat.errors import PolicyError as PolicyError
from seat.i18n import _
from seat.kinds import CallbackKind, ChurnReason
from seat.policies import PolicyFile, read_toml
from seat.scripts import Script, ScriptBook, ScriptError, compose, pick

log = logging.getLogger("seat.callbacks")

DEFAULT_SCRIPTS: tuple[tuple[str, str], ...] = (
    ("satisfaction", "callback"),
    ("complaint_follow_up", "callback_follow_up"),
    ("birthday", "callback_birthday"),
    ("churned", "callback_churned"),
    ("manual", "callback_manual"),
    ("renewal", "callback_renewal"),
    ("holiday", "callback_holiday"),
    ("maintenance", "callback_maintenance"),
    ("routine", "callback_routine"),
    ("birthday+churned", "callback_birthday_churned"),
)
"""Script id per kind ("a+b": one call for both); data/policy/callbacks.toml [scripts]."""


_SCRIPT_ID = re.compile(r"^[a-z][a-z0-9_]{0,40}\Z")


def script_key(kinds: Iterable[str]) -> str:
    """The [scripts] key of one call walking these kinds: "churned", "birthday+churned"."""
    return "+".join(sorted(set(kinds)))


Window = tuple[time, time]


def in_rest(local: time, windows: Sequence[Window]) -> bool:
    """Is this local time of day inside a rest window? Windows may cross midnight."""
    for start, end in windows:
        if start < end:
            if start <= local < end:
                return True
        elif start > end and (local >= start or local < end):
            return True
    return False


# -- which words each kind of callback says -------------------------------------------------

SCORE_KINDS = frozenset({CallbackKind.SATISFACTION.value, CallbackKind.COMPLAINT_FOLLOW_UP.value})
"""The kinds that measure satisfaction: only their scripts ask for a 1-5 score."""
JOINT_ORDER: tuple[str, ...] = (
    CallbackKind.BIRTHDAY.value,
    CallbackKind.HOLIDAY.value,
    CallbackKind.RENEWAL.value,
    CallbackKind.MAINTENANCE.value,
    CallbackKind.ROUTINE.value,
    CallbackKind.CHURNED.value,
)
"""The member-care kinds in the order one call reads them: wishes first, the win-back last."""
JOINT_KINDS = frozenset(JOINT_ORDER)
"""Due for one customer on the same day, these become one call (one script, one outcome).
Satisfaction, complaint follow-up and manual callbacks stay calls of their own: they ask a
score or follow a case."""
JOINT_SCRIPT_PREFIX = "callback_"
"""A composed joint script's id: this, then the kinds' script_key ("callback_holiday+routine")."""
GENERIC_SCRIPT = "callback_manual"  # asks no score: the fallback for a kind without a script
CHURN_REASON_FIELD = "why"
"""The choice field of a win-back script that records why the member stopped buying: its
answer (a ChurnReason) is kept on the churned-member callback (`Callback.churn_reason`)."""
CHURN_REASONS = tuple(r.value for r in ChurnReason)


def churn_reason_of(kind: str, answer: str | None) -> str | None:
    """The reason a callback of this kind keeps from the script's answer: only a churned
    member's callback keeps one, and only one of ChurnReason."""
    if kind != CallbackKind.CHURNED or answer not in CHURN_REASONS:
        return None
    return answer


def asks_score(kind: str) -> bool:
    """Does a callback of this kind ask the customer for a satisfaction score?"""
    return kind in SCORE_KINDS


def joint_script_id(kinds: Iterable[str]) -> str:
    """The id of the script composed for one call of these kinds (`compose_joint`)."""
    return JOINT_SCRIPT_PREFIX + script_key(kinds)


def joint_kinds_of(script_id: str) -> tuple[str, ...]:
    """The kinds a composed joint script walks, in reading order (empty: not one)."""
    key = script_id.removeprefix(JOINT_SCRIPT_PREFIX)
    kinds = key.split("+")
    if key == script_id or len(kinds) < 2 or not set(kinds) <= JOINT_KINDS:
        return ()
    return tuple(k for k in JOINT_ORDER if k in kinds)


def _own_script(kind: str, policy: CallbackPolicy, available: Container[str]) -> str | None:
    """The script a call of this kind alone reads: the policy's, else the shipped one."""
    for sid in (dict(policy.scripts).get(kind), dict(DEFAULT_SCRIPTS).get(kind)):
        if sid and sid in available:
            return sid
    return None


def script_for(
    kinds: Iterable[str], policy: CallbackPolicy, available: Container[str]
) -> str:
    """The id of the script a callback call of these kinds reads.

    The policy's choice when that script is loaded, else the shipped one, else (for a joint
    call whose kinds each have their script) one composed from theirs (`compose_joint`),
    else the first kind's own, else a script that asks no score unless the kind measures
    satisfaction: a birthday greeting never falls back to a 1-5 question.
    """
    kinds = sorted(set(kinds))
    key = script_key(kinds)
    mapped, shipped = dict(policy.scripts), dict(DEFAULT_SCRIPTS)
    scored = any(asks_score(k) for k in kinds)
    wanted = [mapped.get(key), shipped.get(key)]
    for sid in wanted:
        if sid and sid in available:
            return sid
    if (
        len(kinds) > 1
        and set(kinds) <= JOINT_KINDS
        and all(_own_script(k, policy, available) for k in kinds)
    ):
        return joint_script_id(kinds)
    for kind in kinds:
        wanted += [mapped.get(kind), shipped.get(kind)]
    wanted += ["callback", GENERIC_SCRIPT] if scored else [GENERIC_SCRIPT]
    for sid in wanted:
        if sid and sid in available:
            return sid
    return "inbound"


def script_problems(policy: CallbackPolicy, scripts: Mapping[str, Script]) -> list[str]:
    """What is wrong with the policy's kind -> script choices, given the loaded scripts."""
    problems: list[str] = []
    for key, sid in policy.scripts:
        script = scripts.get(sid)
        if script is None:
            problems.append(
                _("Callback scripts: '{key}' names the script '{id}', which is not loaded.").format(
                    key=key, id=sid
                )
            )
            continue
        scored = any(asks_score(k) for k in key.split("+"))
        if script.kind != "callback":
            problems.append(
                _("Callback scripts: '{id}' (for '{key}') is not a callback script.").format(
                    key=key, id=sid
                )
            )
        elif script.asks_score and not scored:
            problems.append(
                _(
                    "Callback scripts: '{id}' asks for a score, but '{key}' does not measure "
                    "satisfaction."
                ).format(key=key, id=sid)
            )
        elif scored and not script.asks_score:
            problems.append(
                _(
                    "Callback scripts: '{id}' asks for no score, but '{key}' measures "
                    "satisfaction."
                ).format(key=key, id=sid)
            )
    return problems


def compose_joint(
    kinds: Iterable[str],
    policy: CallbackPolicy,
    scripts: Mapping[str, Script],
    language: str | None,
) -> Script:
    """The script of one call for these care kinds, composed from each kind's own script in
    `language` (seat.scripts.compose): the first kind's greeting (JOINT_ORDER), each kind's
    middle stages in that order, one closing. Raises ScriptError (or KeyError: a kind's
    script is not loaded) when it cannot be made."""
    order = [k for k in JOINT_ORDER if k in set(kinds)]
    parts = []
    for kind in order:
        sid = _own_script(kind, policy, scripts)
        if sid is None:
            raise KeyError(kind)
        parts.append((kind, pick(scripts, sid, language)))
    title = " · ".join(dict.fromkeys(s.title for __, s in parts))
    return compose(parts, script_id=joint_script_id(order), title=title)


def with_joint_scripts(scripts: Mapping[str, Script], policy: CallbackPolicy) -> ScriptBook:
    """The loaded scripts plus one composed for each joint call of two or more care kinds
    that has no script of its own (policy [scripts] "a+b", or a shipped one), in every
    language its parts are read in. A combination that cannot be composed is left out (its
    calls read the first kind's script, as before). Each is composed when first asked for
    (JointScripts): a seat starts without composing dozens of scripts it may never read."""
    return JointScripts(scripts, policy)


class JointScripts(ScriptBook):
    """A ScriptBook whose joint care scripts (`with_joint_scripts`) are composed on first
    use: asking for one by id (`[]`, `get`, `in`, `pick`, `has`, `languages`) composes it in
    every language; going through the book (keys, values, items, len) composes them all, so
    it reads exactly like the book composed at once. Safe to share between worker threads."""

    def __init__(self, scripts: Mapping[str, Script], policy: CallbackPolicy) -> None:
        self._base = scripts
        self._policy = policy
        self._lock = threading.RLock()
        self._pending: dict[str, tuple[str, ...]] = {}
        super().__init__(scripts)
        if isinstance(scripts, ScriptBook):
            self.variants.update(scripts.variants)
        for n in range(2, len(JOINT_ORDER) + 1):
            for kinds in combinations(JOINT_ORDER, n):
                sid = joint_script_id(kinds)
                if script_for(kinds, policy, scripts) == sid:
                    self._pending[sid] = kinds

    def _make(self, script_id: object) -> None:
        if script_id not in self._pending:
            return
        with self._lock:
            kinds = self._pending.pop(script_id, None)  # type: ignore[call-overload]
            if kinds is None:
                return
            policy, scripts = self._policy, self._base
            languages = sorted({
                lang for k in kinds for lang in _languages(scripts, _own_script(k, policy, scripts))
            })  # fmt: skip
            for language in languages or [None]:
                try:
                    self.add(compose_joint(kinds, policy, scripts, language))
                except (ScriptError, KeyError) as exc:
                    log.warning("cannot compose the joint script %s: %s", script_id, exc)
                    break

    def _make_all(self) -> None:
        for sid in list(self._pending):
            self._make(sid)

    def __missing__(self, key: str) -> Script:
        self._make(key)
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        self._make(key)
        return dict.__contains__(self, key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self._make(key)
        return dict.get(self, key, default)

    def pick(self, script_id: str, language: str | None) -> Script:
        self._make(script_id)
        return super().pick(script_id, language)

    def has(self, script_id: str, language: str) -> bool:
        self._make(script_id)
        return super().has(script_id, language)

    def languages(self, script_id: str) -> list[str]:
        self._make(script_id)
        return super().languages(script_id)

    def __iter__(self) -> Any:
        self._make_all()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._make_all()
        return dict.__len__(self)

    def keys(self) -> Any:
        self._make_all()
        return dict.keys(self)

    def values(self) -> Any:
        self._make_all()
        return dict.values(self)

    def items(self) -> Any:
        self._make_all()
        return dict.items(self)


def _languages(scripts: Mapping[str, Script], script_id: str | None) -> list[str]:
    if isinstance(scripts, ScriptBook) and script_id:
        return scripts.languages(script_id)
    return []


# -- the policy -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackPolicy:
    rest_windows: tuple[Window, ...] = ((time(12), time(14)), (time(21), time(9)))
    home_zone: str = "Asia/Shanghai"
    max_attempts: int = 3
    retry_after: timedelta = timedelta(hours=2)
    busy_retry_after: timedelta = timedelta(minutes=30)
    after_service_days: int = 3
    new_buyer_days: int = 7
    complaint_every_days: int = 7
    complaint_min_follow_ups: int = 3
    birthday_days_before: int = 3
    done_within_days: int = 3
    call_at: time = time(10)
    lookback_days: int = 30
    horizon_days: int = 7
    member_tiers: tuple[str, ...] = ("vip", "diamond", "platinum", "gold")
    churn_tiers: tuple[str, ...] = ("vip", "diamond", "platinum", "gold")
    owner_rule: str = "last_agent"
    sidebar_horizon_hours: int = 24
    unsatisfied_at_most: int = 2
    """A satisfaction score at or under this is unsatisfied: the loop opens (seat.loops)."""
    scripts: tuple[tuple[str, str], ...] = DEFAULT_SCRIPTS
    """(kind or "kind+kind", script id) pairs: the words each kind of callback says."""


_KEYS: dict[str, dict[str, str]] = {
    "rest_hours": {"windows": "rest_windows", "default_timezone": "home_zone"},
    "attempts": {
        "max": "max_attempts",
        "retry_after": "retry_after",
        "busy_retry_after": "busy_retry_after",
    },
    "schedule": {
        k: k
        for k in (
            "after_service_days",
            "new_buyer_days",
            "complaint_every_days",
            "complaint_min_follow_ups",
            "birthday_days_before",
            "done_within_days",
            "call_at",
            "lookback_days",
            "horizon_days",
        )
    },
    "members": {"tiers": "member_tiers", "churn_tiers": "churn_tiers"},
    "owner": {"rule": "owner_rule"},
    "sidebar": {"horizon_hours": "sidebar_horizon_hours"},
    "satisfaction": {"unsatisfied_at_most": "unsatisfied_at_most"},
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$")
_TIERS = ("vip", "diamond", "platinum", "gold", "ordinary")


def parse_duration(text: str) -> timedelta:
    m = _DURATION.match(str(text))
    if not m:
        raise ValueError(f"{text!r} is not a duration like 30m, 2h or 1d")
    return timedelta(minutes=float(m[1]) * {"m": 1, "h": 60, "d": 1440}[m[2]])


def parse_clock(text: str) -> time:
    try:
        hh, mm = str(text).split(":")
        return time(int(hh), int(mm))
    except ValueError:
        raise ValueError(f"{text!r} is not a time of day like 09:00") from None


def _convert(name: str, value: Any) -> Any:
    default = getattr(CallbackPolicy(), name)
    if name == "rest_windows":
        return tuple((parse_clock(a), parse_clock(b)) for a, b in value)
    if name in ("retry_after", "busy_retry_after"):
        return parse_duration(value)
    if name == "call_at":
        return parse_clock(value)
    if name in ("member_tiers", "churn_tiers"):
        tiers = tuple(str(t).lower() for t in value)
        if bad := [t for t in tiers if t not in _TIERS]:
            raise ValueError(f"unknown tier {bad[0]!r}")
        return tiers
    if name == "owner_rule":
        if value not in ("last_agent", "round_robin"):
            raise ValueError("owner rule must be last_agent or round_robin")
        return value
    if name == "home_zone":
        return str(value)
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{value!r} is not a whole number >= 0")
        return value
    return value


def _script_map(body: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """[scripts]: kind (or "kind+kind") = script id; kinds left out keep the shipped script."""
    known = {k.value for k in CallbackKind}
    chosen = dict(DEFAULT_SCRIPTS)
    for key, value in body.items():
        kinds = key.split("+")
        if any(k not in known for k in kinds) or key != script_key(kinds):
            raise ValueError(
                f"[scripts] {key}: not a callback kind (or kinds joined by + in a-z order)"
            )
        if not isinstance(value, str) or not _SCRIPT_ID.match(value):
            raise ValueError(f"[scripts] {key}: {value!r} is not a script id")
        chosen[key] = value
    return tuple(chosen.items())


def policy_from_dict(raw: dict[str, Any], *, home_zone: str = "Asia/Shanghai") -> CallbackPolicy:
    """Build a policy from parsed TOML; raises ValueError naming the bad key."""
    values: dict[str, Any] = {"home_zone": home_zone}
    for section, body in raw.items():
        if section == "scripts" and isinstance(body, dict):
            values["scripts"] = _script_map(body)
            continue
        keys = _KEYS.get(section)
        if keys is None or not isinstance(body, dict):
            raise ValueError(f"unknown section [{section}]")
        for key, value in body.items():
            if (section, key) == ("schedule", "churn_after_days"):
                # Before churn was the member rules' alone: a file kept from then still loads.
                log.warning(
                    "callbacks.toml [schedule] churn_after_days is no longer read: churn is "
                    "the member rules' (members.toml [churn] after_days)"
                )
                continue
            if key not in keys:
                raise ValueError(f"unknown key {key!r} in [{section}]")
            try:
                converted = _convert(keys[key], value)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"[{section}] {key}: {exc}") from None
            if keys[key] == "home_zone" and not converted:
                continue
            values[keys[key]] = converted
    policy = replace(CallbackPolicy(), **values)
    try:
        ZoneInfo(policy.home_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {policy.home_zone!r}") from None
    if all(in_rest(time(h, m), policy.rest_windows) for h in range(24) for m in (0, 30)):
        raise ValueError("[rest_hours] windows cover the whole day: no time is left to call")
    if policy.max_attempts < 1:
        raise ValueError("[attempts] max must be at least 1")
    return policy


def load_policy(settings: Settings) -> CallbackPolicy:
    """The deployment's callback policy (PolicyError names the file and the problem).

    Parsed once per file version: the sidebar asks on every refresh.
    """
    return CALLBACK_POLICY.load(settings)


def _load(path: Path, home_zone: str) -> CallbackPolicy:
    return read_toml(path, lambda raw: policy_from_dict(raw, home_zone=home_zone))


CALLBACK_POLICY: PolicyFile[CallbackPolicy] = PolicyFile("callbacks", _load)

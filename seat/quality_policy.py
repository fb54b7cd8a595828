"""The spot-check rules of policy/quality.toml (seat.quality), read without the mapped tables:
the start-up check (seat.preflight) runs before the desk is drawn (seat.lazy)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from seat.config import Settings
from seat.policies import PolicyFile, read_toml

# -- the policy ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QualityPolicy:
    share: Fraction = Fraction(1, 5)
    """At least this share of each need's calls is drawn (rounded up)."""
    min_per_need: int = 1
    """And at least this many of each need (all of them when there are fewer)."""


def policy_from_dict(raw: Mapping[str, Any]) -> QualityPolicy:
    """A policy from a parsed file (ValueError says what is wrong)."""
    values: dict[str, Any] = {}
    for section, body in raw.items():
        if section != "sample" or not isinstance(body, dict):
            raise ValueError(f"unknown section [{section}]")
        for key, value in body.items():
            if key == "share":
                if (
                    isinstance(value, bool)
                    or not isinstance(value, int | float)
                    or not (0 < value <= 1)
                ):
                    raise ValueError("[sample] share: must be a number above 0, at most 1")
                values["share"] = Fraction(str(value))  # 0.2 is 1/5, not 0.2000000000000000111
            elif key == "min_per_need":
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError("[sample] min_per_need: must be a whole number, 0 or more")
                values["min_per_need"] = value
            else:
                raise ValueError(f"unknown key {key!r} in [sample]")
    return replace(QualityPolicy(), **values)


def _load(path: Path, _zone: str) -> QualityPolicy:
    return read_toml(path, policy_from_dict)


QUALITY_POLICY: PolicyFile[QualityPolicy] = PolicyFile("quality", _load)


def load_policy(settings: Settings) -> QualityPolicy:
    """The deployment's spot-check rules (PolicyError names the file and the problem)."""
    return QUALITY_POLICY.load(settings)

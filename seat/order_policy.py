"""The work-order rules of policy/work_orders.toml (seat.workorders): work centers, reason codes,
the service zones and clocks, read without the mapped tables: the start-up check
(seat.preflight) runs before the desk is drawn (seat.lazy)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from seat import order_clocks
from seat.config import Settings
from seat.errors import PolicyError as PolicyError
from seat.i18n import N_
from seat.order_clocks import ClockPolicy
from seat.policies import PolicyFile

# -- policy: the desk's work centers and reason codes ----------------------------------------

DEFAULT_WORK_CENTERS = ("SH-REPAIR", "SH-INSTALL", "SH-LOGISTICS", "HQ-SERVICE")
DEFAULT_REASON_CODES = {
    "Q01": N_("quality defect"),
    "I01": N_("installation fault"),
    "U01": N_("wrong use"),
    "W01": N_("wear and tear"),
    "D01": N_("damaged in delivery"),
    "D02": N_("wrong item or colour"),
    "D03": N_("parts missing"),
    "D04": N_("late delivery"),
    "O01": N_("other"),
}


@dataclass(frozen=True)
class Policy:
    work_centers: tuple[str, ...] = DEFAULT_WORK_CENTERS
    reason_codes: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_REASON_CODES))
    clocks: ClockPolicy = field(default_factory=ClockPolicy)
    """The service zones and the clocks ([clocks], [zones.*])."""


def load_policy(settings: Settings) -> Policy:
    """Work centers and reason codes from policy/work_orders.toml; PolicyError if unusable.

    Re-read when the file changes. A file broken while seats are running keeps the policy
    last read from it (the start-up check refuses to open a seat on a broken file).
    """
    return WORK_ORDER_POLICY.load(settings)


def read_policy(path: Path) -> Policy:
    """Parse one work-order policy file; PolicyError names the file and the problem."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise PolicyError(f"{path}: cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise PolicyError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from None
    unknown = sorted(set(raw) - {"work_centers", "reason_codes", "clocks", "zones"})
    if unknown:
        raise PolicyError(f"{path}: unknown key(s): {', '.join(unknown)}")
    centers = raw.get("work_centers", list(DEFAULT_WORK_CENTERS))
    if (
        not isinstance(centers, list)
        or not centers
        or not all(isinstance(c, str) and c.strip() for c in centers)
    ):
        raise PolicyError(f"{path}: work_centers must be a non-empty list of names")
    codes = raw.get("reason_codes", DEFAULT_REASON_CODES)
    if not isinstance(codes, dict) or not all(isinstance(v, str) for v in codes.values()):
        raise PolicyError(f'{path}: [reason_codes] must map codes to text (Q01 = "...")')
    return Policy(
        work_centers=tuple(c.strip()[:40] for c in centers),
        reason_codes={str(k)[:16]: v for k, v in codes.items()},
        clocks=order_clocks.parse_clocks(raw.get("clocks"), raw.get("zones"), source=str(path)),
    )


WORK_ORDER_POLICY: PolicyFile[Policy] = PolicyFile(
    "work_orders", lambda path, zone: read_policy(path)
)

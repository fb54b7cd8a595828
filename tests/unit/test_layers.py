"""The layers of ARCHITECTURE.md hold: import-linter's contracts (pyproject.toml) are kept, and
every module of the seat has its place in them, so a new module cannot slip past the check."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import seat

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _contracts() -> dict[str, dict]:
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    return {c["id"]: c for c in config["contracts"]}


def _layered() -> set[str]:
    return {
        name.strip()
        for layer in _contracts()["layers"]["layers"]
        for name in layer.replace("|", ":").split(":")
    }


def test_the_import_contracts_are_kept():
    """Run as CI runs it: a broken contract prints the offending import chain."""
    out = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command;"
         " sys.exit(lint_imports_command())", "--no-cache"],
        capture_output=True, text=True, cwd=PYPROJECT.parent, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_module_of_the_seat_has_a_layer():
    top = {f"seat.{m.name}" for m in pkgutil.iter_modules(seat.__path__)} - {"seat.data"}
    assert top - _layered() == set()


def test_below_the_screens_nothing_is_left_out_of_the_textual_ban():
    """Every layer under the widgets is in the forbidden contract's sources."""
    layers = _contracts()["layers"]["layers"]
    below = layers[layers.index("seat.services") :]
    names = {n.strip() for layer in below for n in layer.replace("|", ":").split(":")}
    assert names == set(_contracts()["no-textual-below-screens"]["source_modules"])


def test_screens_refresh_each_other_one_way_only():
    """After a change, screens learn of it from the app's work_changed signal
    (seat/widgets/door.py), never by reaching into the screen below or by a dismiss callback
    that reloads."""
    package = Path(seat.__file__).parent
    offenders = []
    for path in [*(package / "screens").rglob("*.py"), *(package / "widgets").rglob("*.py")]:
        text = path.read_text("utf-8")
        for needle in ("screen_stack[", "lambda __: self.action_refresh()", "below.query("):
            if needle in text:
                offenders.append(f"{path.relative_to(package)}: {needle}")
    assert offenders == []



DOOR_NEEDLES = (
    ".run(lambda", "desk.run(", "services.run(", ".run(go)", "Session", "session=",
    "from sqlmodel", "import sqlmodel", "from sqlalchemy", "import sqlalchemy", "select(",
)  # fmt: skip
"""What only the services may write: a transaction of its own, a Session, a query."""


def _door_breaches(text: str) -> list[str]:
    return [needle for needle in DOOR_NEEDLES if needle in text]


def test_screens_reach_the_domain_only_through_the_services():
    """One typed door: a screen or widget calls a named method of seat.services.Desk; it never
    opens a transaction of its own (`desk.run(...)`), receives a Session, or builds a query."""
    package = Path(seat.__file__).parent
    offenders = [
        f"{path.relative_to(package)}: {needle}"
        for path in [*(package / "screens").rglob("*.py"), *(package / "widgets").rglob("*.py")]
        for needle in _door_breaches(path.read_text("utf-8"))
    ]
    assert offenders == []


def test_the_door_check_sees_a_screen_opening_a_transaction():
    """Guard against a check that can never fail: the shapes the screens used to have."""
    assert _door_breaches("data = desk.run(\n    lambda s: trends.load(session=s)\n)")
    assert _door_breaches("wo = self.services.run(lambda s: self.apply(s, self))")
    assert _door_breaches("from sqlmodel import Session")
    assert _door_breaches("rows = s.execute(select(Agent.id))")
    assert _door_breaches("return self.services.trends(first, last, step)") == []


def test_screens_never_load_a_policy():
    """Policies come from the services (Desk.complaint_policy, work_order_policy,
    callback_policy: seat/policies.py caches them); a screen never reads a policy file."""
    package = Path(seat.__file__).parent
    offenders = [
        f"{path.relative_to(package)}"
        for path in [*(package / "screens").rglob("*.py"), *(package / "widgets").rglob("*.py")]
        if "load_policy(" in path.read_text("utf-8") or "read_policy(" in path.read_text("utf-8")
    ]
    assert offenders == []

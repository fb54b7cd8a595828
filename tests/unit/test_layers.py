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

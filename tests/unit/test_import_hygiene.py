"""The domain never imports Textual; the command line starts without heavy imports.

Each check runs in a fresh interpreter: this test process has Textual loaded already.
"""

from __future__ import annotations

import importlib.util
import pkgutil
import tomllib
from pathlib import Path

import pytest

from tests.unit.helpers import loaded_after_import


def _domain() -> list[str]:
    """The modules below the screens, as pyproject's import contract names them (ARCHITECTURE.md),
    with their submodules: the list cannot miss a module (tests/unit/test_layers.py)."""
    config = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    contract = next(
        c for c in config["tool"]["importlinter"]["contracts"]
        if c["id"] == "no-textual-below-screens"
    )  # fmt: skip
    found = ["seat"]
    for name in contract["source_modules"]:
        found.append(name)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            inside = pkgutil.walk_packages(spec.submodule_search_locations, f"{name}.")
            found += [m.name for m in inside]
    return found


DOMAIN = _domain()


def test_the_domain_list_is_complete():
    for required in ("seat.models", "seat.phone", "seat.scripts", "seat.services"):
        assert required in DOMAIN


@pytest.mark.parametrize("module", DOMAIN)
def test_domain_module_does_not_import_textual(module):
    assert loaded_after_import(module, "textual") == []


def test_all_domain_modules_together_do_not_import_textual():
    assert loaded_after_import(", ".join(DOMAIN), "textual") == []


def test_cli_imports_neither_textual_nor_the_geocoder():
    loaded = loaded_after_import("seat.cli", "textual", "phonenumbers.geocoder")
    assert loaded == []


def test_the_check_itself_sees_textual():
    """Guard against a check that can never fail."""
    assert "textual.app" in loaded_after_import("seat.app", "textual")


def test_a_seat_starts_without_what_its_desk_does_not_show():
    """What `seat --agent` imports before the desk is drawn: no complaints, sign-in, search,
    merge, dialling or suggestions module (their desk methods import them), no sign-in screen,
    no PostgreSQL dialect on SQLite and no Alembic (a migration is not due)."""
    loaded = loaded_after_import(
        "seat.cli, seat.preflight, seat.app",
        "seat.complaints", "seat.identity", "seat.search", "seat.merge", "seat.suggestions",
        "seat.dialer", "seat.originate", "seat.screens.agent_picker",
        "sqlalchemy.dialects.postgresql", "alembic",
    )  # fmt: skip
    assert loaded == []
    assert "seat.services" in loaded_after_import("seat.app", "seat.services")


# The modules a seat's first frame runs without (seat.lazy): the mapped tables and the domain
# modules built on them. Each is imported at its first use, once the desk is drawn.
AFTER_THE_FRAME = (
    "seat.models", "seat.agents", "seat.audit_cli", "seat.callbacks", "seat.calls", "seat.care",
    "seat.customers", "seat.members", "seat.quality", "seat.queues", "seat.seats",
    "seat.workorders", "seat.notices", "seat.tools",
)  # fmt: skip


def test_the_first_frames_modules_import_no_mapped_table():
    loaded = loaded_after_import("seat.cli, seat.preflight, seat.app", *AFTER_THE_FRAME)
    assert [m for m in loaded if m in AFTER_THE_FRAME or m.startswith("seat.tools.")] == []


def test_the_check_of_the_mapped_tables_can_fail():
    """Guard against a check that can never fail: the domain does map the tables."""
    assert loaded_after_import("seat.callbacks", "seat.models") == ["seat.models"]


def test_the_seat_never_sleeps_with_time_sleep():
    # Seats are tried at a chosen hour under libfaketime, where time.sleep (clock_nanosleep)
    # fails with EINVAL: a worker that slept so ended the seat (the day's callback rules
    # pausing between steps). seat.db.pause waits on an event instead.
    import ast

    root = Path(__file__).resolve().parents[2] / "seat"
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "time":
                found += [f"{path.name}: from time import sleep"
                          for alias in node.names if alias.name == "sleep"]  # fmt: skip
            elif (isinstance(node, ast.Attribute) and node.attr == "sleep"
                  and isinstance(node.value, ast.Name) and node.value.id == "time"):  # fmt: skip
                found.append(f"{path.name}:{node.lineno}: time.sleep")
    assert found == []

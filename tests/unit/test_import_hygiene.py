"""The domain never imports Textual; the command line starts without heavy imports.

Each check runs in a fresh interpreter: this test process has Textual loaded already.
"""

from __future__ import annotations

import ast
import importlib.util
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest


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


def _loaded_after_import(module: str, *prefixes: str) -> list[str]:
    """Modules starting with any of `prefixes` present after importing `module` afresh."""
    code = (
        f"import {module}, sys; "
        f"print(repr(sorted(m for m in sys.modules if m.startswith({prefixes!r}))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return ast.literal_eval(out.stdout.strip().splitlines()[-1])


def test_the_domain_list_is_complete():
    for required in ("seat.models", "seat.phone", "seat.scripts", "seat.services"):
        assert required in DOMAIN


@pytest.mark.parametrize("module", DOMAIN)
def test_domain_module_does_not_import_textual(module):
    assert _loaded_after_import(module, "textual") == []


def test_all_domain_modules_together_do_not_import_textual():
    assert _loaded_after_import(", ".join(DOMAIN), "textual") == []


def test_cli_imports_neither_textual_nor_the_geocoder():
    loaded = _loaded_after_import("seat.cli", "textual", "phonenumbers.geocoder")
    assert loaded == []


def test_the_check_itself_sees_textual():
    """Guard against a check that can never fail."""
    assert "textual.app" in _loaded_after_import("seat.app", "textual")

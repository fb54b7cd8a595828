"""The domain never imports Textual; the command line starts without heavy imports.

Each check runs in a fresh interpreter: this test process has Textual loaded already.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys

import pytest

DOMAIN = [
    "seat",
    "seat.models",
    "seat.db",
    "seat.phone",
    "seat.customers",
    "seat.agents",
    "seat.work",
    "seat.calls",
    "seat.desk",
    "seat.scripts",
    "seat.scripts.engine",
    "seat.config",
    "seat.clock",
    "seat.demo",
    "seat.importer",
    "seat.workorders",
    "seat.workplan",
    "seat.complaints",
    "seat.sla",
    "seat.wording",
    "seat.callbacks",
    "seat.seats",
    "seat.drafts",
    "seat.ops",
    "seat.textguard",
    "seat.roles",
    "seat.export",
    "seat.reports.complaints",
    "seat.reports.callbacks",
    "seat.reports.summary",
    "seat.trends",
    "seat.supervisor",
    "seat.states",
    "seat.privacy",
    "seat.i18n",
]
DOMAIN = [m for m in DOMAIN if importlib.util.find_spec(m) is not None]


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
    for required in ("seat.models", "seat.phone", "seat.scripts", "seat.desk"):
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

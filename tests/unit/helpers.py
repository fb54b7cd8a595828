"""Helpers shared by unit tests."""

from __future__ import annotations

import ast
import subprocess
import sys


def loaded_after_import(module: str, *prefixes: str) -> list[str]:
    """Modules starting with any of `prefixes` present after importing `module` afresh."""
    code = (
        f"import {module}, sys; "
        f"print(repr(sorted(m for m in sys.modules if m.startswith({prefixes!r}))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return ast.literal_eval(out.stdout.strip().splitlines()[-1])

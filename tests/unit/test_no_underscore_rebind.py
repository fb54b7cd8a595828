"""Nothing rebinds `_`, the translation function (STYLE.md rule 18).

`kind, _, rest = oid.partition(":")` once made `_` a string in the sidebar: the next `_("…")`
in that function crashed the seat with "'str' object is not callable". This test reads every
module under seat/ and tests/ and fails on any binding of the name `_`: assignment and
augmented/annotated assignment targets, walrus, for-loop and comprehension targets, with-as,
except-as, function and lambda parameters, function or class definitions, imports (only
`from seat.i18n import _` may bring it in), `global _` and `del _`. (In a match, `_` is a
wildcard and binds nothing.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("seat", "tests")
NAME = "_"
DEFINED_IN = ROOT / "seat" / "i18n.py"  # the one place `def _` belongs


def _param_names(args: ast.arguments) -> list[ast.arg]:
    found = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    found += [a for a in (args.vararg, args.kwarg) if a is not None]
    return found


def underscore_bindings(source: str, *, may_define: bool = False) -> list[tuple[int, str]]:
    """(line, what) for every place `source` binds or deletes the name `_`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and node.id == NAME and not isinstance(node.ctx, ast.Load):
            what = "assigned" if isinstance(node.ctx, ast.Store) else "deleted"
            found.append((node.lineno, what))
        elif isinstance(node, ast.arg) and node.arg == NAME:
            found.append((node.lineno, "parameter"))
        elif isinstance(node, ast.ExceptHandler) and node.name == NAME:
            found.append((node.lineno, "except-as"))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name == NAME and not may_define:
                found.append((node.lineno, "defined"))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                if bound != NAME:
                    continue
                allowed = (
                    isinstance(node, ast.ImportFrom)
                    and node.module == "seat.i18n"
                    and node.level == 0
                    and alias.name == NAME
                    and alias.asname is None
                )
                if not allowed:
                    found.append((node.lineno, "imported"))
        elif isinstance(node, (ast.Global, ast.Nonlocal)) and NAME in node.names:
            found.append((node.lineno, "global/nonlocal"))
    return sorted(found)


def _modules() -> list[Path]:
    return sorted(p for d in SCANNED for p in (ROOT / d).rglob("*.py"))


def test_the_scan_sees_the_modules():
    names = {p.relative_to(ROOT).as_posix() for p in _modules()}
    assert {"seat/i18n.py", "seat/widgets/sidebar.py", "tests/conftest.py"} <= names
    assert len(names) > 100


@pytest.mark.parametrize(
    "snippet",
    [
        "kind, _, rest = 'a:b'.partition(':')",
        "_ = 1",
        "_: int = 1",
        "_ += 1",
        "(_ := 3)",
        "for _ in range(3): pass",
        "for a, _ in []: pass",
        "[0 for _ in range(3)]",
        "{k: 0 for k, _ in []}",
        "(0 for _ in ())",
        "{0 for _ in ()}",
        "with open('x') as _: pass",
        "with open('x') as (a, _): pass",
        "try:\n    pass\nexcept Exception as _:\n    pass",
        "def f(_): pass",
        "def f(a, /, _=1): pass",
        "def f(*, _): pass",
        "def f(*_): pass",
        "def f(**_): pass",
        "async def f(_): pass",
        "lambda _: None",
        "def _(): pass",
        "class _: pass",
        "import gettext as _",
        "from gettext import gettext as _",
        "from gettext import _",
        "from seat.i18n import ngettext as _",
        "from .i18n import _",
        "del _",
        "global _",
        "x = [*(_ for _ in ())]",
    ],
)
def test_the_check_catches(snippet):
    assert underscore_bindings(snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "from seat.i18n import _",
        "from seat.i18n import N_, _, ngettext",
        "print(_('x'))",
        "kind, __, rest = 'a:b'.partition(':')",
        "for __ in range(3): pass",
        "lambda _i: None",
        "match 1:\n    case _: pass",  # wildcards bind nothing (`as _`, `**_` do not compile)
        "match 1:\n    case [*_]: pass",
        "x = obj._",
        "obj._ = 1",
    ],
)
def test_the_check_allows(snippet):
    assert underscore_bindings(snippet) == [], snippet


def test_only_i18n_may_define_it():
    assert underscore_bindings("def _(m): return m", may_define=True) == []


def test_no_module_rebinds_underscore():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: `_` {what}"
        for path in _modules()
        for line, what in underscore_bindings(
            path.read_text(encoding="utf-8"), may_define=path == DEFINED_IN
        )
    ]
    assert offenders == [], "use `__` or a real name (STYLE.md rule 18):\n" + "\n".join(offenders)

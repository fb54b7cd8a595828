"""The README's table of roles is seat/roles.py's PERMISSIONS, and `seat agents` offers
every role."""

from __future__ import annotations

import re
from pathlib import Path

from seat import agents_cli, roles
from seat.models import Role

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\s*\|\s*(?P<words>.+?) \(`(?P<action>[\w.]+)`\)\s*\|(?P<cells>.*)\|\s*$")


def readme_table() -> tuple[list[str], dict[str, tuple[str, set[str]]]]:
    """The roles table of the README: its role columns and, per action, its words and the
    roles ticked."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if "<!-- roles table" in line)
    header = [c.strip() for c in lines[start + 1].strip().strip("|").split("|")]
    columns = header[1:]
    rows: dict[str, tuple[str, set[str]]] = {}
    for line in lines[start + 3 :]:
        match = ROW.match(line)
        if match is None:
            break
        cells = [c.strip() for c in match["cells"].split("|")]
        ticked = {role for role, cell in zip(columns, cells, strict=True) if cell == "✓"}
        rows[match["action"]] = (match["words"], ticked)
    return columns, rows


def test_readme_table_is_the_permission_table():
    columns, rows = readme_table()
    assert columns == list(roles.ROLES)
    assert list(rows) == list(roles.PERMISSIONS)
    for action, (words, ticked) in rows.items():
        assert words == roles.ACTIONS[action], action
        assert ticked == set(roles.PERMISSIONS[action]), action


def test_every_role_is_named_and_offered():
    assert set(roles.ROLES) == set(Role)
    assert set(roles.ROLE_NAMES) == set(Role)
    assert agents_cli.ROLES == roles.ROLES


def test_agents_add_and_role_accept_the_new_roles():
    from seat.cli import build_parser

    parser = build_parser()
    for role in roles.ROLES:
        args = parser.parse_args(["agents", "add", "qian.yu", "--role", role])
        assert args.role == role
        args = parser.parse_args(["agents", "role", "qian.yu", role])
        assert args.role == role

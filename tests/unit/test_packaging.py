"""The package is complete: data/ ships as seat.data, and a seat that cannot load its call
script or a policy says so at start-up, naming the file (never a silent fallback)."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from importlib import resources
from pathlib import Path

import pytest
import setuptools

from seat import cli, preflight
from seat.config import DATA_DIR, shipped_data_dir

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_package_of_the_tree_is_in_the_wheel_list():
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = set(setuptools.find_packages(str(ROOT), include=["seat", "seat.*"]))
    assert found | {"seat.data"} == listed


def test_data_is_read_through_the_package():
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {"seat.data": "data"}
    assert shipped_data_dir() == DATA_DIR == Path(str(resources.files("seat.data")))
    shipped = {p.relative_to(DATA_DIR).as_posix() for p in DATA_DIR.rglob("*.toml")}
    assert {"scripts/inbound.toml", "scripts/callback.toml", "policy/complaints.toml",
            "policy/callbacks.toml", "policy/work_orders.toml"} <= shipped  # fmt: skip


def test_shipped_data_patterns_cover_every_file():
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["seat.data"]
    files = {p for p in DATA_DIR.rglob("*") if p.is_file() and p.suffix != ".pyc"}
    covered = {p for pattern in patterns for p in DATA_DIR.glob(pattern)}
    assert files - covered <= {DATA_DIR / "__init__.py"}


@pytest.fixture
def isolated(tmp_path, monkeypatch, settings):
    """No deployment override from the developer's own config directory."""
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "config" / "config.toml"))
    return settings


def test_the_shipped_files_pass_the_start_up_check(isolated):
    assert preflight.check(isolated) == []


def test_missing_policies_are_each_named(isolated, tmp_path):
    nowhere = tmp_path / "nowhere"
    problems = preflight.check(replace(isolated, policy_dir=nowhere))
    assert len(problems) == 5
    names = ("complaints", "callbacks", "work_orders", "members", "quality")
    for name, problem in zip(names, problems, strict=True):
        assert str(nowhere / f"{name}.toml") in problem and "cannot be read" in problem


def test_broken_policy_names_file_and_problem(isolated, tmp_path):
    own = tmp_path / "policy"
    own.mkdir()
    for path in (DATA_DIR / "policy").glob("*.toml"):
        (own / path.name).write_bytes(path.read_bytes())
    (own / "complaints.toml").write_text("[budgets\n", encoding="utf-8")
    (own / "work_orders.toml").write_text("work_centres = ['A']\n", encoding="utf-8")
    problems = preflight.check(replace(isolated, policy_dir=own))
    assert len(problems) == 2
    assert str(own / "complaints.toml") in problems[0] and "not valid TOML" in problems[0]
    assert str(own / "work_orders.toml") in problems[1] and "work_centres" in problems[1]


def test_a_missing_inbound_script_is_named(isolated, tmp_path):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "callback.toml").write_bytes((DATA_DIR / "scripts" / "callback.toml").read_bytes())
    problems = preflight.check(replace(isolated, scripts_dir=scripts))
    assert problems == [f"{scripts / 'inbound.toml'}: no usable inbound call script: not found"]


def test_a_broken_inbound_script_without_a_good_copy_is_named(isolated, tmp_path):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "inbound.toml").write_text("[script]\nid = 'inbound'\n", encoding="utf-8")
    settings = replace(isolated, scripts_dir=scripts, drafts_base=tmp_path / "fresh" / "drafts")
    [problem] = preflight.check(settings)
    assert problem.startswith(f"{scripts / 'inbound.toml'}: no usable inbound call script: ")
    assert "inbound.toml:" in problem.split("call script: ", 1)[1]


def test_the_seat_refuses_to_open_and_says_why(isolated, tmp_path, capsys, monkeypatch):
    opened: list[object] = []
    monkeypatch.setattr("seat.app.SeatApp.run", lambda self: opened.append(self))
    settings = replace(isolated, policy_dir=tmp_path / "nowhere")
    assert cli.run_app(settings, agent="li.na", demo=False) == 2
    assert opened == []
    err = capsys.readouterr().err
    assert f"seat: Policy not usable: {tmp_path / 'nowhere' / 'complaints.toml'}" in err
    assert cli.run_app(isolated, agent="li.na", demo=False) == 0
    assert len(opened) == 1


def test_the_seat_reads_its_scripts_once_and_keeps_their_problems(isolated, tmp_path, monkeypatch):
    """The command line reads the call scripts for its preflight and hands them to the seat: a
    rejected script the seat may open without is still told on its screen."""
    from seat import scripts as script_package
    from seat import services

    scripts = tmp_path / "scripts"
    scripts.mkdir()
    for path in (DATA_DIR / "scripts").glob("*.toml"):
        (scripts / path.name).write_bytes(path.read_bytes())
    (scripts / "extra.toml").write_text("[script\n", encoding="utf-8")
    reads: list[Path] = []
    load = script_package.load_with_fallback

    def counted(directory, cache):
        reads.append(directory)
        return load(directory, cache)

    monkeypatch.setattr(script_package, "load_with_fallback", counted)
    monkeypatch.setattr(services, "load_with_fallback", counted)
    opened: list[object] = []
    monkeypatch.setattr("seat.app.SeatApp.run", lambda self: opened.append(self))
    settings = replace(isolated, scripts_dir=scripts, drafts_base=tmp_path / "drafts")
    assert cli.run_app(settings, agent="li.na", demo=False) == 0
    assert reads == [scripts]
    [app] = opened
    assert "inbound" in app.desk.scripts
    assert [p for p in app.desk.script_problems if p.startswith("extra.toml:")]


def _third_party_imports() -> set[str]:
    import ast
    import sys

    found: set[str] = set()
    for path in (ROOT / "seat").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names} - {"seat", "__future__"}


def test_every_imported_library_is_a_declared_dependency():
    """An installed wheel has only what pyproject declares (a missing one shows first in an
    installed seat, never in the checkout where everything happens to be installed)."""
    import re
    from importlib.metadata import packages_distributions

    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    declared = {norm(re.split(r"[\[<>=!~; ]", d, maxsplit=1)[0])
                for d in PYPROJECT["project"]["dependencies"]}  # fmt: skip
    declared |= {"psycopg"}  # optional: the postgres extra, imported only for a PostgreSQL URL
    declared |= {"panoramisk"}  # optional: the asterisk extra, imported only by seat cti ami
    owners = packages_distributions()
    missing = {m: owners.get(m) for m in _third_party_imports()
               if not {norm(d) for d in owners.get(m, [m])} & declared}  # fmt: skip
    assert missing == {}

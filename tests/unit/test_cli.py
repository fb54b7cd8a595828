"""The command line: `seat demo`, `seat customers import/find` as scripts call them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from seat.cli import build_parser, main, settings_for
from seat.db import make_engine
from seat.models import Call, Customer, PhoneNumber

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "customers-sample.csv"


def test_demo_then_find_by_any_format(tmp_path, capsys, cli_token):
    db = tmp_path / "demo.db"
    assert (
        main(["demo", "--db", str(db), "--customers", "50", "--calls", "400", "--seed", "3"]) == 0
    )
    out = capsys.readouterr().out
    assert "50 customers" in out and "400 calls" in out
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Customer)).one() == 50
        assert s.exec(select(func.count()).select_from(Call)).one() == 400
        e164 = s.exec(select(PhoneNumber.e164).order_by(PhoneNumber.id)).first()
    cli_token(f"sqlite:///{db}")  # a supervisor: numbers whole
    national = e164.removeprefix("+86")
    typed = f"+86 ({national[:3]}) {national[3:7]}-{national[7:]}"
    assert main(["customers", "find", typed, "--json", "--db", str(db)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["found"] and data["phone"] == e164
    assert data["customer"]["level"] in (1, 2, 3)
    assert main(["customers", "find", f"0086{national}", "--db", str(db)]) == 0
    assert data["customer"]["name"] in capsys.readouterr().out


def test_find_unknown_and_invalid(tmp_path, capsys, cli_token):
    db = str(tmp_path / "x.db")
    cli_token(f"sqlite:///{db}")
    assert main(["customers", "find", "139 0000 0000", "--json", "--db", db]) == 1
    assert json.loads(capsys.readouterr().out) == {"phone": "+8613900000000", "found": False}
    assert main(["customers", "find", "hello", "--db", db]) == 2
    assert "digits" in capsys.readouterr().err


def test_import_sample_reports_lines_and_duplicates(tmp_path, capsys):
    db = str(tmp_path / "imp.db")
    assert main(["customers", "import", str(SAMPLE), "--db", db]) == 1  # some rows rejected
    out = capsys.readouterr().out
    assert "line 4: phone: Too short" in out
    assert "line 8:" in out and "already appears on line 3" in out
    assert "Imported 9 customers; 1 duplicate; 2 rows rejected." in out
    # Importing again: every good row is now a duplicate, nothing is doubled.
    main(["customers", "import", str(SAMPLE), "--db", db])
    out = capsys.readouterr().out
    assert "Imported 0 customers" in out
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Customer)).one() == 9


def test_import_missing_file(tmp_path, capsys):
    assert (
        main(["customers", "import", str(tmp_path / "nope.csv"), "--db", str(tmp_path / "d.db")])
        == 2
    )
    assert "nope.csv" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (["--db", "/tmp/a.db"], {}, "sqlite:////tmp/a.db"),
        (["--db", "postgresql+psycopg://u@h/seat"], {}, "postgresql+psycopg://u@h/seat"),
        ([], {"SEAT_DATABASE_URL": "sqlite:////tmp/env.db"}, "sqlite:////tmp/env.db"),
        (
            ["--db", "/tmp/b.db"],
            {"SEAT_DATABASE_URL": "sqlite:////tmp/env.db"},
            "sqlite:////tmp/b.db",
        ),
    ],
)
def test_database_choice(argv, env, expected, monkeypatch, tmp_path):
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.delenv("SEAT_DATABASE_URL", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert settings_for(build_parser().parse_args(argv)).database_url == expected


def test_default_and_demo_databases_live_in_the_user_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.delenv("SEAT_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    default = settings_for(build_parser().parse_args([])).database_url
    demo = settings_for(build_parser().parse_args(["--demo"])).database_url
    assert default == f"sqlite:///{tmp_path}/data/seat/seat.db"
    assert demo == f"sqlite:///{tmp_path}/data/seat/demo.db"


def test_console_script_help_runs():
    out = subprocess.run(
        [sys.executable, "-m", "seat", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "--demo" in out and "customers" in out

"""config.toml is validated (one message naming the file, the key and what is expected) and
`seat config show` tells where each effective setting came from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seat.cli import main
from seat.config import ConfigError, load_config


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    for var in ("SEAT_DATABASE_URL", "SEAT_REGION", "SEAT_DRAFTS_DIR", "SEAT_LOG_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "config.toml"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('databse_url = "x.db"\n', "unknown key databse_url (did you mean database_url?)"),
        ('refresh_seconds = "fast"\n', "refresh_seconds must be a number of seconds greater"),
        ("refresh_seconds = -1\n", "refresh_seconds must be a number of seconds greater"),
        ('schedule_on_start = "yes"\n', 'schedule_on_start must be true or false, not "yes"'),
        ('local_timezone = "Mars/Olympus"\n', "local_timezone must be a time zone name"),
        ('region = "China"\n', "region must be a two-letter region code"),
        ("region = [\n", "not valid TOML"),
        ('company = "unterminated\n', "not valid TOML"),
    ],
)
def test_a_bad_config_is_one_message_naming_file_and_key(isolated, text, expected, capsys):
    isolated.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert str(caught.value).startswith(f"{isolated}: ")
    assert expected in str(caught.value)
    assert main(["config", "show"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(isolated) in err and expected in err
    assert "Traceback" not in err


def test_the_seat_command_with_a_bad_config_exits_non_zero_without_traceback(isolated, tmp_path):
    import subprocess
    import sys

    isolated.write_text('refresh_seconds = "fast"\n', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "seat", "customers", "find", "13800138000"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f'seat: {isolated}: refresh_seconds must be a number of seconds greater than 0, e.g. 3, '
        'not "fast"'
    ]


def test_good_file_values_and_their_sources(isolated):
    isolated.write_text(
        'database_url = "floor.db"\nrefresh_seconds = 2\nregion = "gb"\nscripts_dir = "s"\n'
        "schedule_on_start = false\n",
        encoding="utf-8",
    )
    loaded = load_config()
    s = loaded.settings
    assert s.database_url == f"sqlite:///{isolated.parent / 'floor.db'}"
    assert s.refresh_seconds == 2.0 and s.region == "GB" and s.schedule_on_start is False
    assert s.scripts_dir == isolated.parent / "s"  # relative to the file's folder
    assert loaded.sources["refresh_seconds"] == "file"
    assert loaded.sources["company"] == "default"


@pytest.mark.parametrize(
    ("argv", "env", "key", "value", "source"),
    [
        ([], {}, "region", "CN", "default"),
        ([], {}, "region", "GB", "file"),
        ([], {"SEAT_REGION": "fr"}, "region", "FR", "environment"),
        (["--region", "de"], {"SEAT_REGION": "fr"}, "region", "DE", "option"),
        ([], {"SEAT_DATABASE_URL": "sqlite:////tmp/env.db"}, "database_url",
         "sqlite:////tmp/env.db", "environment"),
        (["--db", "/tmp/opt.db"], {"SEAT_DATABASE_URL": "sqlite:////tmp/env.db"},
         "database_url", "sqlite:////tmp/opt.db", "option"),
        ([], {"SEAT_LOG_DIR": "/tmp/seat-logs"}, "log_dir", "/tmp/seat-logs", "environment"),
    ],
)
def test_config_show_names_each_source(isolated, monkeypatch, capsys, argv, env, key, value,
                                       source):
    if source == "file":
        isolated.write_text('region = "GB"\n', encoding="utf-8")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert main([*argv, "config", "show", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config_file"] == str(isolated)
    assert data["settings"][key] == {"value": value, "source": source}
    assert main([*argv, "config", "show"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith(f"config file: {isolated}")
    assert table[1].split() == ["key", "value", "source"]
    row = next(line.split() for line in table if line.split()[0] == key)
    assert row == [key, value, source]


def test_config_show_hides_a_password(isolated, monkeypatch, capsys):
    monkeypatch.setenv("SEAT_DATABASE_URL", "postgresql+psycopg://seat:s3cret@db.example/seat")
    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out
    assert "s3cret" not in out and "postgresql+psycopg://seat:***@db.example/seat" in out


def test_settings_api_unchanged():
    from dataclasses import replace

    from seat.config import Settings

    s = replace(Settings(), refresh_seconds=5)
    assert s.refresh_seconds == 5 and s.with_database("sqlite://").database_url == "sqlite://"
    assert Path(Settings().policy_dir).name == "policy"

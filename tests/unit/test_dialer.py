"""Click-to-dial (seat.dialer): the number is one argument of a program started without a
shell, whatever it holds."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from seat import dialer
from seat.config import ConfigError, load_config

HOSTILE = [
    "+8613800138000",
    "+86138;touch pwned",
    "$(touch pwned)",
    "`touch pwned`",
    "1 && touch pwned",
    "{number}",
    "'\"; touch pwned #",
]


@pytest.mark.parametrize("number", HOSTILE)
def test_the_number_is_one_argument_as_it_is(number):
    template = ["softphone", "--call", "sip:{number}@pbx"]
    assert dialer.command_for(template, number) == ["softphone", "--call", f"sip:{number}@pbx"]


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ([], "program first"),
        (["", "{number}"], "program first"),
        (["softphone"], "exactly one"),
        (["softphone", "{number}", "{number}"], "exactly one"),
        (["{number}"], "cannot be the number"),
    ],
)
def test_a_template_that_cannot_work_is_refused(template, problem):
    with pytest.raises(dialer.DialError, match=problem):
        dialer.check_template(template)
    assert not dialer.place_call(template, "+8613800138000").started


def _recorder(tmp_path: Path) -> list[str]:
    """A program that writes the arguments it was given to args.json."""
    script = tmp_path / "record.py"
    script.write_text(
        "import json, sys, pathlib\n"
        "out = pathlib.Path(sys.argv[1])\n"
        "out.with_suffix('.tmp').write_text(json.dumps(sys.argv[2:]))\n"
        "out.with_suffix('.tmp').replace(out)\n"
    )
    return [sys.executable, str(script), str(tmp_path / "args.json"), "--to", "{number}"]


def _wait_for(path: Path) -> list[str]:
    for __ in range(600):  # the program runs on its own: wait for what it wrote
        if path.exists():
            return json.loads(path.read_text())
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


@pytest.mark.parametrize("number", HOSTILE)
def test_a_hostile_number_reaches_the_program_as_text_and_runs_nothing(
    tmp_path, monkeypatch, number
):
    monkeypatch.chdir(tmp_path)
    dialled = dialer.place_call(_recorder(tmp_path), number)
    assert dialled.started, dialled.message
    assert _wait_for(tmp_path / "args.json") == ["--to", number]
    assert not (tmp_path / "pwned").exists()


def test_a_program_that_is_not_there_says_so():
    dialled = dialer.place_call(["/nonexistent/softphone", "{number}"], "+8613800138000")
    assert not dialled.started and "could not start" in dialled.message


def test_config_takes_a_dial_template_and_refuses_a_broken_one(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('dial_command = ["microsip.exe", "{number}"]\n')
    assert load_config(cfg, environ={}).settings.dial_command == ("microsip.exe", "{number}")
    cfg.write_text('dial_command = "microsip.exe {number}"\n')
    with pytest.raises(ConfigError, match="dial_command"):
        load_config(cfg, environ={})
    cfg.write_text('dial_command = ["microsip.exe"]\n')
    with pytest.raises(ConfigError, match="holding {number}"):
        load_config(cfg, environ={})


@pytest.mark.parametrize(
    ("recording", "template", "started", "message"),
    [
        (None, ["mpv", "{recording}"], False, "no recording"),
        ("https://pbx/r.wav", [], False, "recording_command"),
        ("https://pbx/r.wav", ["mpv"], False, "one holding {recording}"),
        ("https://pbx/r.wav", ["/nonexistent/player", "{recording}"], False, "could not start"),
    ],
)
def test_a_recording_that_cannot_be_played_says_why(recording, template, started, message):
    opened = dialer.open_recording(template, recording)
    assert opened.started is started and message in opened.message


def test_a_recording_reaches_the_player_as_one_argument(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    template = [*_recorder(tmp_path)[:-1], "{recording}"]
    hostile = "https://pbx/rec/1.wav;touch pwned"
    assert dialer.open_recording(template, hostile).started
    assert _wait_for(tmp_path / "args.json") == ["--to", hostile]
    assert not (tmp_path / "pwned").exists()

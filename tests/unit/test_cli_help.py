"""The command line as scripts and people meet it: --version, --lang before help, readable
metavars, help and an example for every subcommand."""

from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys

import pytest

from seat import __version__, i18n
from seat.cli import build_parser, choose_language, main, parse_args

CJK = re.compile(r"[\u4e00-\u9fff]")


def subcommands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """Every (path, parser) below `parser`, depth first."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield (*path, name), child
                yield from subcommands(child, (*path, name))


def test_version_from_the_entry_point():
    done = subprocess.run([sys.executable, "-m", "seat", "--version"], capture_output=True,
                          text=True, timeout=120, check=True)
    assert done.stdout.strip() == f"seat {__version__}"


def test_lang_applies_before_help_is_built():
    done = subprocess.run([sys.executable, "-m", "seat", "--lang", "zh_CN", "--help"],
                          capture_output=True, text=True, timeout=120, check=True,
                          env={"PATH": "/usr/bin:/bin", "LANG": "C"})
    out = done.stdout
    assert "用法" in out and "选项" in out and "示例" in out
    assert "A keyboard-driven" not in out and "show this help" not in out


@pytest.mark.parametrize("argv", [["--lang", "zh_CN"], ["--lang=zh_CN"], ["x", "--lang", "zh"]])
def test_choose_language(argv):
    choose_language(argv)
    assert i18n.language() == "zh_CN"


def test_every_help_string_translated():
    i18n.set_language("zh_CN")
    parser = build_parser()
    untranslated = []
    for path, sub in [((), parser), *subcommands(parser)]:
        for action in sub._actions:
            if action.help and action.help is not argparse.SUPPRESS and not CJK.search(
                action.help
            ):
                untranslated.append((path, action.dest, action.help))
        if not CJK.search(sub.description or ""):
            untranslated.append((path, "description", sub.description))
    assert untranslated == []


def test_metavars_and_every_subcommand_has_help_and_an_example():
    parser = build_parser()
    assert "--db PATH|URL" in parser.format_help()
    found = dict(subcommands(parser))
    assert len(found) >= 20
    for path, sub in found.items():
        text = sub.format_help()
        for internal in ("SUB_DB", "DATE_FROM", "DATE_TO", "POP_AGENT", "WORK_CENTER"):
            assert internal not in text, (path, internal)
        assert sub.description, path
        assert "Examples:\n  seat " in (sub.epilog or ""), path
        for action in sub._actions:
            if not isinstance(action, argparse._SubParsersAction):  # its choices have help
                assert action.help, (path, action.dest)  # options and positionals alike
    assert "--from DATE" in found[("report", "complaints")].format_help()
    assert "--agent LOGIN" in found[("pop",)].format_help()
    assert "FILE.csv" in found[("customers", "import")].format_help()


def test_existing_commands_and_options_keep_their_names():
    parser = build_parser()
    args = parser.parse_args(["report", "summary", "--from", "2026-11-01", "--to",
                              "2026-11-30", "--format", "txt", "--output", "x", "--db", "d"])
    assert (args.report_name, args.date_from.day, args.format, args.sub_db) == (
        "summary", 1, "txt", "d")
    args = parser.parse_args(["pop", "13800138000", "--agent", "li.na"])
    assert args.pop_agent == "li.na" and args.number == "13800138000"
    args = parser.parse_args(["workplan", "--date", "2026-11-23", "--work-center", "SH01"])
    assert args.work_center == "SH01"


def test_a_usage_error_is_translated_and_exits_2(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["--lang", "zh_CN", "report", "summary"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "用法" in err and "错误" in err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--demo"],
        ["--demo", "--agent", "li.na"],
        ["--db", "floor.db", "--agent=li.na", "--region", "gb", "--lang", "en"],
        ["--agent", "report"],  # a value, not the report command
        ["--db="],
        ["--region", "cn", "--region", "us"],
    ],
)
def test_opening_the_seat_parses_as_the_whole_command_line(argv):
    """`seat` with only its own options is parsed without the commands' parsers (start-up):
    the same namespace as the whole parser's."""
    assert parse_args(argv) == build_parser().parse_args(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["--agent"],
        ["--agent", "--demo"],
        ["--dem"],  # argparse's abbreviation of --demo: the whole parser decides
        ["--demo", "--", "x"],
        ["--nonsense"],
        ["--lang", "zh_CN", "--bogus"],
    ],
)
def test_anything_else_gets_the_whole_parsers_answer(argv, capsys):
    def outcome(parse):
        try:
            return ("ok", parse(argv))
        except SystemExit as exc:
            return ("exit", exc.code, capsys.readouterr())

    assert outcome(parse_args) == outcome(lambda a: build_parser().parse_args(a))


def test_the_seat_alone_builds_no_commands_parser():
    code = (
        "import sys; from seat.cli import parse_args; parse_args(['--demo', '--agent', 'li.na']);"
        " print(sorted(m for m in ('seat.tools.bench', 'seat.ops', 'seat.agents_cli',"
        " 'seat.audit_cli', 'seat.reports') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "[]"



def test_a_reader_that_goes_away_is_not_an_error(tmp_path, monkeypatch, capsys):
    """`seat … | head`: the pipe closes under the seat; it ends quietly (141, as a shell's
    SIGPIPE), no "Unexpected error" and no traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone
    closed = io.TextIOWrapper(os.fdopen(write_end, "wb", buffering=0), write_through=True)
    monkeypatch.setattr("sys.stdout", closed)
    try:
        code = main(["--db", str(tmp_path / "desk.db"), "policy", "calendar", "--year", "2026",
                     "--format", "json"])  # fmt: skip
    finally:
        monkeypatch.undo()
        closed.close()
    assert code == 141
    err = capsys.readouterr().err
    assert "Unexpected error" not in err and "Traceback" not in err

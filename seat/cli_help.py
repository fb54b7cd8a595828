"""The command line's help: argparse in the seat's language, readable metavars, examples.

Shared by every module that adds a subcommand (cli, ops, bench)."""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Iterable
from typing import Any, NoReturn

from seat.i18n import N_, _


class SeatHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's layout (examples kept as written) with its headings in the seat's language."""

    def add_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[argparse._MutuallyExclusiveGroup],
        prefix: str | None = None,
    ) -> None:
        super().add_usage(usage, actions, groups, prefix if prefix is not None else _("usage: "))

    def start_section(self, heading: str | None) -> None:
        super().start_section(_(heading) if heading else heading)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        # Prose is wrapped; indented lines (the examples) are kept as written.
        return "\n".join(
            line if line[:1].isspace() or not line else textwrap.fill(
                line, width, initial_indent=indent, subsequent_indent=indent
            )
            for line in text.splitlines()
        )


# argparse's own headings, translated by SeatHelpFormatter.start_section.
N_("positional arguments")
N_("options")


class SeatParser(argparse.ArgumentParser):
    """An ArgumentParser whose own words (-h, errors) are translated too; subcommands inherit
    it (argparse builds subparsers with the parent's class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", SeatHelpFormatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self.add_argument("-h", "--help", action="help", help=_("show this help and exit"))

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, _("{prog}: error: {message}").format(prog=self.prog, message=message) + "\n")


def example(*lines: str) -> str:
    """A subcommand's epilog: "Example:" and the command lines, indented."""
    return _("Examples:") + "\n" + "\n".join(f"  {line}" for line in lines)


def add_db_option(parser: argparse.ArgumentParser, text: str | None = None) -> None:
    """`--db PATH|URL` on a subcommand (it wins over the one before the subcommand)."""
    parser.add_argument(
        "--db",
        dest="sub_db",
        metavar="PATH|URL",
        help=text or _("database file or SQLAlchemy URL (default: SEAT_DATABASE_URL, config)"),
    )


def add_identity_option(parser: argparse.ArgumentParser) -> None:
    """`--as LOGIN` on a command that needs to know who runs it (seat.cli_identity)."""
    parser.add_argument(
        "--as", dest="as_login", metavar="LOGIN",
        help=_("sign in as LOGIN (the password is asked; scripts set SEAT_TOKEN instead)"),
    )  # fmt: skip

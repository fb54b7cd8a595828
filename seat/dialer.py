"""Click-to-dial through a configured command: the number is one argument, never shell text.

`dial_command` in config.toml is a list of arguments, one of which holds `{number}`, e.g.
`["microsip.exe", "{number}"]` or `["baresip-dial", "--to", "sip:{number}@pbx"]`. The seat
starts it without a shell (an argument list to the operating system), so whatever a number
holds (`;`, `$(…)`, backticks) reaches the program as text and runs nothing.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from seat.i18n import _

PLACEHOLDER = "{number}"


class DialError(ValueError):
    """The dial command cannot be used as configured (said at start and in seat config)."""


def check_template(template: Sequence[str]) -> None:
    """A usable template: a program, then arguments; exactly one holds {number}."""
    if not template or not template[0].strip():
        raise DialError(_("dial_command needs the program first"))
    holders = [arg for arg in template if PLACEHOLDER in arg]
    if len(holders) != 1:
        raise DialError(_("exactly one argument of dial_command must hold {number}"))
    if PLACEHOLDER in template[0]:
        raise DialError(_("the program of dial_command cannot be the number"))


def command_for(template: Sequence[str], number: str) -> list[str]:
    """The argument list for `number`: the template's own arguments, the number put into
    the one that holds {number} (a plain replace: braces in a number stay text)."""
    check_template(template)
    return [arg.replace(PLACEHOLDER, number) if PLACEHOLDER in arg else arg for arg in template]


@dataclass(frozen=True)
class Dialled:
    started: bool
    message: str


def place_call(template: Sequence[str], number: str) -> Dialled:
    """Start the dial command for `number` and leave it running (the phone system places the
    call; its events, if sent to seat cti serve, tell how it ended)."""
    if not number:
        return Dialled(False, _("No number to dial."))
    try:
        argv = command_for(template, number)
        subprocess.Popen(  # noqa: S603 (an argument list, no shell: the point of this module)
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True, shell=False,
        )  # fmt: skip
    except DialError as exc:
        return Dialled(False, str(exc))
    except OSError as exc:
        return Dialled(False, _("The dial command could not start: {error}").format(
            error=exc.strerror or exc))  # fmt: skip
    return Dialled(True, _("Dialling {number}…").format(number=number))

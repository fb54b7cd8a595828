"""Click-to-dial (and opening a call's recording) through a configured command: the number
(or the recording's URL or path) is one argument, never shell text.

`dial_command` in config.toml is a list of arguments, one of which holds `{number}`, e.g.
`["microsip.exe", "{number}"]` or `["baresip-dial", "--to", "sip:{number}@pbx"]`. The seat
starts it without a shell (an argument list to the operating system), so whatever a number
holds (`;`, `$(…)`, backticks) reaches the program as text and runs nothing.
`recording_command` works the same way with `{recording}`, e.g. `["mpv", "{recording}"]`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from seat.i18n import _

PLACEHOLDER = "{number}"
RECORDING = "{recording}"


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


def command_for(
    template: Sequence[str], number: str, placeholder: str = PLACEHOLDER
) -> list[str]:
    """The argument list for `number`: the template's own arguments, the number put into
    the one that holds the placeholder (a plain replace: braces in a number stay text)."""
    if placeholder == PLACEHOLDER:
        check_template(template)
    else:
        check_recording_template(template)
    return [arg.replace(placeholder, number) if placeholder in arg else arg for arg in template]


def check_recording_template(template: Sequence[str]) -> None:
    """As check_template, for recording_command and {recording}."""
    holders = [arg for arg in template if RECORDING in arg]
    if not template or not template[0].strip() or len(holders) != 1 or RECORDING in template[0]:
        raise DialError(
            _("recording_command must be the program, then arguments, one holding {recording}")
        )


def _start(argv: list[str]) -> None:
    subprocess.Popen(  # noqa: S603 (an argument list, no shell: the point of this module)
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True, shell=False,
    )  # fmt: skip


def open_recording(template: Sequence[str], recording: str | None) -> Dialled:
    """Start the recording player for a call's recording (a URL or path the PBX sent)."""
    if not recording:
        return Dialled(False, _("This call has no recording."))
    if not template:
        return Dialled(False, _("No player is set: recording_command in config.toml."))
    try:
        _start(command_for(template, recording, RECORDING))
    except DialError as exc:
        return Dialled(False, str(exc))
    except OSError as exc:
        return Dialled(False, _("The recording player could not start: {error}").format(
            error=exc.strerror or exc))  # fmt: skip
    return Dialled(True, _("Opening the recording…"))


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
        _start(command_for(template, number))
    except DialError as exc:
        return Dialled(False, str(exc))
    except OSError as exc:
        return Dialled(False, _("The dial command could not start: {error}").format(
            error=exc.strerror or exc))  # fmt: skip
    return Dialled(True, _("Dialling {number}…").format(number=number))

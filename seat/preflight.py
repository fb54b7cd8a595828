"""What a seat needs before it opens: a usable inbound call script and every policy file.

Each problem names the file and what is wrong with it. The command line prints them and
stops: a seat that quietly ran on built-in defaults would time every complaint, schedule
every callback and offer every work center by rules nobody chose.
"""

from __future__ import annotations

from seat import callback_policy, member_policy, order_policy, quality_policy, sla
from seat.config import Settings, policy_file
from seat.errors import PolicyError
from seat.i18n import _
from seat.scripts import ScriptBook, load_with_fallback

REQUIRED_SCRIPTS = ("inbound",)


def check(
    settings: Settings, loaded: tuple[ScriptBook, list[str]] | None = None
) -> list[str]:
    """Everything that keeps a seat from opening; empty when it may open. `loaded`: the
    scripts and their problems as `load_with_fallback` gave them (read here when None)."""
    scripts, rejected = loaded or load_with_fallback(settings.scripts_dir, settings.scripts_cache)
    return script_problems(settings, scripts, rejected) + policy_problems(settings)


def script_problems(settings: Settings, scripts: ScriptBook, rejected: list[str]) -> list[str]:
    """The required scripts that did not load (after the last-good fallback), each with why."""
    problems: list[str] = []
    for script_id in REQUIRED_SCRIPTS:
        if script_id in scripts:
            continue
        path = settings.scripts_dir / f"{script_id}.toml"
        why = next((p for p in rejected if p.startswith(f"{path.name}:")), None)
        if why is None:
            why = _("not found") if not path.is_file() else _("not loaded")
        problems.append(
            _("{path}: no usable {script} call script: {problem}").format(
                path=path, script=script_id, problem=why
            )
        )
    return problems


def policy_problems(settings: Settings) -> list[str]:
    """Every policy file that cannot be used, each message naming the file."""
    problems: list[str] = []
    checks = (
        ("complaints", sla.load_policy),
        ("callbacks", callback_policy.load_policy),
        ("work_orders", order_policy.load_policy),
        ("members", member_policy.load_policy),
        ("quality", quality_policy.load_policy),
    )
    # Each policy's own module (not the module of its rules): the check runs before the desk
    # is drawn, before the mapped tables exist (seat.lazy).
    for name, load in checks:
        try:
            load(settings)
        except PolicyError as exc:
            message = str(exc)
            path = str(policy_file(settings, name))
            if path not in message:
                message = f"{path}: {message}"
            problems.append(_("Policy not usable: {problem}").format(problem=message))
    return problems

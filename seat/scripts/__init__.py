"""The call-script engine: stages, branches and required fields, loaded from TOML."""

from seat.scripts.compose import compose
from seat.scripts.engine import (
    PHASES,
    Field,
    Script,
    ScriptBook,
    ScriptError,
    Stage,
    check_script,
    load_script,
    load_scripts,
    load_with_fallback,
    pick,
    render,
    same_structure,
)

__all__ = [
    "PHASES",
    "Field",
    "Script",
    "ScriptBook",
    "ScriptError",
    "Stage",
    "check_script",
    "compose",
    "load_script",
    "load_scripts",
    "load_with_fallback",
    "pick",
    "render",
    "same_structure",
]

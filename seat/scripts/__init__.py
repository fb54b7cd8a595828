"""The call-script engine: stages, branches and required fields, loaded from TOML."""

from seat.scripts.engine import (
    PHASES,
    Field,
    Script,
    ScriptError,
    Stage,
    load_script,
    load_scripts,
    load_with_fallback,
    render,
)

__all__ = [
    "PHASES",
    "Field",
    "Script",
    "ScriptError",
    "Stage",
    "load_script",
    "load_scripts",
    "load_with_fallback",
    "render",
]

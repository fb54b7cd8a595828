"""Modules the desk's first frame does not need, imported when first used.

A seat draws its desk before the mapped tables (seat.models: ~130 ms of CPU) and the domain
modules that use them exist: the modules the first frame runs (seat.app, the desk screen, its
widgets, seat.services) name those modules through `lazy`, a stand-in whose first attribute
read imports the module. The import is Python's own (`importlib.import_module`), so a module
a worker thread and the screen both reach first is imported once, the second waiting for it
(the import system's lock per module); every read goes to the module itself, so what a test
or a later assignment puts in the module is what the stand-in gives.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """The module `name`, imported at the first attribute read."""

    __slots__ = ("_name", "_module")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not yet imported"
        return f"<lazy module {self._name!r} ({state})>"


def lazy(name: str) -> Any:
    """A stand-in for the module `name` that imports it at its first attribute read (typed
    Any: name the module under TYPE_CHECKING for the checker)."""
    return LazyModule(name)

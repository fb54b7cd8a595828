"""seat.db.few_collections: the collector paused, and back on as it was (nothing left frozen,
nothing unfrozen that was frozen before, cycles made meanwhile still collected)."""

from __future__ import annotations

import gc
import weakref

import pytest

from seat.db import few_collections, freeze_start_up, thaw_start_up


class _Node:
    pass


def test_paused_inside_and_back_on_with_nothing_frozen() -> None:
    assert gc.isenabled()
    with few_collections():
        assert not gc.isenabled()
        rows = [[i, "x"] for i in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    assert rows[-1] == [999, "x"]


def test_a_cycle_made_while_paused_is_still_collected() -> None:
    with few_collections():
        a, b = _Node(), _Node()
        a.other, b.other = b, a  # type: ignore[attr-defined]
        gone = weakref.ref(a)
        del a, b
    assert gone() is not None  # a cycle: reference counting alone keeps it
    gc.collect()
    assert gone() is None


def test_what_start_up_froze_stays_frozen(monkeypatch) -> None:
    """The seat's start-up frozen (seat.cli.run_app) stays frozen, and few_collections
    never counts the frozen objects (gc.get_freeze_count walks every one of them)."""
    freeze_start_up()
    try:
        frozen = gc.get_freeze_count()
        with monkeypatch.context() as m:
            m.setattr(gc, "get_freeze_count", lambda: pytest.fail("frozen objects counted"))
            with few_collections():
                [[i] for i in range(100)]
        assert gc.isenabled()
        assert gc.get_freeze_count() == frozen
    finally:
        thaw_start_up()
    assert gc.get_freeze_count() == 0


def test_not_paused_when_off_already_or_asked_not_to() -> None:
    with few_collections(pause=False):
        assert gc.isenabled()
    gc.disable()
    try:
        with few_collections():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()

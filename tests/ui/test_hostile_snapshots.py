"""Snapshot: CJK, emoji and Arabic names on the desk and in the sidebar, at 80x24."""

from __future__ import annotations

import pytest

from tests.ui.helpers import add_wide_world, freeze


@pytest.fixture
def wide_desk(make_seat, engine, world):
    add_wide_world(engine, world)
    return make_seat()


def test_cjk_desk(snap_compare, wide_desk):
    assert snap_compare(wide_desk, terminal_size=(80, 24), run_before=freeze)

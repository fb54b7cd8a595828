"""Helpers for Pilot tests."""

from __future__ import annotations


async def settle(pilot) -> None:
    """Let workers finish and the screen repaint."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()

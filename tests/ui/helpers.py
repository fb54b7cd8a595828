"""Helpers for Pilot tests."""

from __future__ import annotations


async def settle(pilot) -> None:
    """Let workers finish and the screen repaint."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def freeze(pilot) -> None:
    """Settle, then stop cursors blinking so a snapshot is the same every time."""
    await settle(pilot)
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False
    await pilot.pause()

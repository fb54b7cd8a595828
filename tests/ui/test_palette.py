"""The command palette closed while it is still searching does not end the seat. A random walk
found it on PostgreSQL (seed 20261124, agent, 12:30, zh_CN: ctrl+p, twenty digits, the
palette closed): Textual's search worker looked for the command list of a palette that was
gone. The timing could not be forced here, so this drives the path and checks the seat
survives; the guard itself is `seat.app.SeatCommandPalette`."""

from __future__ import annotations

from seat.app import SeatApp
from tests.ui.helpers import settle


async def _type_and_close(app: SeatApp, rounds: int) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for __ in range(rounds):
            await pilot.press("ctrl+p")
            await pilot.pause()
            palette = app.screen
            palette.query_one("Input").value = "9" * 20  # a search starts in a worker ...
            app.pop_screen()  # ... and the palette is gone before it runs
            await pilot.pause()
        await settle(pilot)
        assert app.is_running


async def test_closing_the_palette_mid_search_keeps_the_seat(make_seat, world):
    await _type_and_close(make_seat(), rounds=8)


async def test_every_palette_the_seat_opens_is_the_guarded_one(make_seat, world):
    """The palette's "Change theme" opens a second palette (Textual's search_themes): a random
    walk (seed 20261124, supervisor, 12:30, zh_CN) typed into it and left while it searched.
    Every palette the seat opens is the guarded kind, and leaving mid-search keeps the seat."""
    from seat.app import SeatCommandPalette

    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for open_palette in (app.action_command_palette, app.search_themes):
            for __ in range(4):
                open_palette()
                await pilot.pause()
                assert isinstance(app.screen, SeatCommandPalette)
                app.screen.query_one("Input").value = "pei 2"
                app.pop_screen()
                await pilot.pause()
        app.search_commands([])
        await pilot.pause()
        assert isinstance(app.screen, SeatCommandPalette)
        await pilot.press("escape")
        await settle(pilot)
        assert app.is_running

"""The suggestions register by keys: record one from an e-mail, answer it, thank: read back."""

from __future__ import annotations

from sqlmodel import Session, select

from seat.models import Suggestion
from seat.screens.complaints.suggestions import SuggestionForm, SuggestionListScreen
from tests.conftest import NOW
from tests.ui.helpers import choose, settle


async def test_record_answer_and_thank_a_suggestion(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, SuggestionListScreen)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, SuggestionForm)
        await pilot.press(*"Longer opening hours on Sundays", "tab")
        await choose(pilot, "store")
        await pilot.press("tab", *"139 1234 5678", "tab")
        await choose(pilot, "email")
        await pilot.press("tab", "tab", *"Re: Sunday hours", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, SuggestionListScreen)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press(*"Thank you; the store manager will consider it.", "ctrl+s")
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        assert any("thanked" in n.message for n in app._notifications)
        await pilot.press("a")  # every suggestion: the thanked one is listed there
        await settle(pilot)
        table = app.screen.query_one("#sg-table")
        assert table.row_count == 1
        # Every column on screen at 80 columns, the text cut with '…' (a fixed width ran
        # past the edge: "Longer opening ho", no mark).
        assert table.virtual_size.width <= table.scrollable_content_region.width
        assert str(table.get_row_at(0)[-1]).endswith("…")
    with Session(engine) as s:
        row = s.exec(select(Suggestion)).one()
    assert (row.channel, row.channel_ref, row.category, row.status) == (
        "email", "Re: Sunday hours", "store", "thanked"
    )
    assert row.customer_id == world["min"] and row.thanked_at == NOW
    assert row.reply_text == "Thank you; the store manager will consider it."


async def test_classify_opens_with_its_number_and_records_the_category(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Bigger parking", "ctrl+s")
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)
        assert app.screen.query_one("#form").border_title.endswith("#1")
        await choose(pilot, "store")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, SuggestionListScreen)
    with Session(engine) as s:
        assert s.exec(select(Suggestion)).one().category == "store"

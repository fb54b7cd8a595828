"""Build seats the way the command line does (make_app), with a fixed clock."""

from __future__ import annotations

import pytest

from seat.app import SeatApp, make_app


@pytest.fixture
def make_seat(settings, clock, engine):
    def build(agent: str | None = "li.na", **overrides) -> SeatApp:
        return make_app(settings=settings, clock=clock, agent=agent, engine=engine, **overrides)

    return build

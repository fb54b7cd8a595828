"""Fixtures shared by unit tests."""

from __future__ import annotations

import pytest

from seat import agents


@pytest.fixture
def people(session, world) -> dict[str, int]:
    boss = agents.ensure_agent(
        session=session, name="zhao.lei", display_name="Zhao Lei", role="supervisor"
    )
    session.commit()
    return {**world, "boss": boss.id}

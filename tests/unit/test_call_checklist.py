"""What happened on a call is recorded: the checklist items ticked per stage, the time spent
in each stage (seat.calls), kept across a draft and saved once with the call."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import select

from seat import calls, drafts
from seat.config import DATA_DIR
from seat.customers import ValidationError
from seat.models import Call, CallCheck, CallStage
from seat.scripts import Script, load_scripts
from tests.conftest import NOW

MIN = timedelta(minutes=1)


@pytest.fixture(scope="module")
def scripts() -> dict[str, Script]:
    found, problems = load_scripts(DATA_DIR / "scripts")
    assert problems == []
    return found


def _state(scripts, world) -> calls.CallState:
    return calls.CallState(
        script=scripts["inbound"], agent_id=world["li"], started_at=NOW,
        from_number="+8613800138000", customer_id=world["fang"],
    )  # fmt: skip


def test_time_per_stage_adds_up_the_visits_and_leaves_out_wrap_up(scripts):
    state = calls.CallState(script=scripts["inbound"], agent_id=1, started_at=NOW)
    state.advance(NOW + 1 * MIN)  # greeting 1 min
    state.values["need_category"] = "repair"
    state.advance(NOW + 3 * MIN)  # discovery 2 min
    assert state.back(NOW + 4 * MIN)  # resolution 1 min, back to discovery
    state.advance(NOW + 6 * MIN)  # discovery 2 more
    state.advance(NOW + 7 * MIN)  # resolution 1 more
    state.advance(NOW + 10 * MIN)  # closing 3, then wrap-up
    assert state.stage_seconds(NOW + 20 * MIN) == {
        "greeting": 60.0, "discovery": 240.0, "resolution": 120.0, "closing": 180.0,
    }  # fmt: skip


def test_save_writes_stages_and_ticks_once(session, world, scripts):
    state = _state(scripts, world)
    state.tick("greeting", [2, 0])
    state.advance(NOW + 1 * MIN)
    state.values["need_category"] = "repair"
    state.tick("discovery", [1])
    state.tick("discovery", [])  # unticked again
    state.advance(NOW + 3 * MIN)
    state.advance(NOW + 4 * MIN)
    state.tick("closing", [0, 1, 2])
    state.advance(NOW + 6 * MIN)
    state.outcome = "resolved"
    call = calls.save_call(session=session, state=state, now=NOW + 7 * MIN)
    calls.save_call(session=session, state=state, now=NOW + 8 * MIN)  # saved again: no twice
    session.commit()
    stages = session.exec(
        select(CallStage).where(CallStage.call_id == call.id).order_by(CallStage.position)
    ).all()
    assert [(s.stage_id, s.phase, s.seconds) for s in stages] == [
        ("greeting", "greeting", 60.0), ("discovery", "discovery", 120.0),
        ("resolution", "resolution", 60.0), ("closing", "closing", 120.0),
    ]  # fmt: skip
    checks = session.exec(
        select(CallCheck).where(CallCheck.call_id == call.id)
        .order_by(CallCheck.id)
    ).all()  # fmt: skip
    script = scripts["inbound"]
    assert len(checks) == sum(len(s.checklist) for s in script.stages)
    ticked = {(c.stage_id, c.item_no) for c in checks if c.ticked}
    assert ticked == {("greeting", 0), ("greeting", 2), ("closing", 0), ("closing", 1),
                      ("closing", 2)}  # fmt: skip
    first = next(c for c in checks if (c.stage_id, c.item_no) == ("greeting", 0))
    assert first.item == script.stage("greeting").checklist[0]


def test_ticks_and_visits_survive_a_draft(scripts):
    state = calls.CallState(script=scripts["inbound"], agent_id=1, started_at=NOW)
    state.tick("greeting", [1])
    state.advance(NOW + 2 * MIN)
    data = drafts.to_dict(drafts.Draft(state=state), NOW + 3 * MIN)
    back = drafts.from_dict(data, scripts).state
    assert back.ticks == {"greeting": [1]}
    assert back.visits == [("greeting", NOW), ("discovery", NOW + 2 * MIN)]


def test_a_draft_from_before_keeps_the_time_from_the_start(scripts):
    state = calls.CallState(script=scripts["inbound"], agent_id=1, started_at=NOW)
    data = drafts.to_dict(drafts.Draft(state=state), NOW)
    del data["ticks"], data["visits"]
    back = drafts.from_dict(data, scripts).state
    assert back.ticks == {}
    assert back.stage_seconds(NOW + MIN) == {"greeting": 60.0}


@pytest.mark.parametrize("bad", ["\x1b[31mred", "a\x00b", "\u202eevil", "tab\x7f"])
def test_a_checklist_text_with_control_characters_saves_nothing(session, world, scripts, bad):
    """The stages and items go in as multi-row INSERTs, past the ORM's text guard: they are
    checked all the same, and a refused save leaves no call, stage or item behind."""
    script = scripts["inbound"]
    greeting = script.stage("greeting")
    broken = replace(script, stages=tuple(
        replace(s, checklist=(bad, *s.checklist[1:])) if s is greeting else s
        for s in script.stages
    ))  # fmt: skip
    state = _state({"inbound": broken}, world)
    state.advance(NOW + 1 * MIN)
    state.values["need_category"] = "repair"
    for __ in range(3):
        state.advance(NOW + 2 * MIN)
    state.outcome = "resolved"
    with pytest.raises(ValidationError) as refused:
        calls.save_call(session=session, state=state, now=NOW + 3 * MIN)
    assert "item" in refused.value.errors
    session.rollback()
    assert session.exec(select(Call)).all() == []
    assert session.exec(select(CallStage)).all() == []
    assert session.exec(select(CallCheck)).all() == []

"""One call is one row: a draft resumed after its call was saved, or a save repeated, writes
nothing twice; the draft writer is fenced off before the draft is removed."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from seat import calls, drafts
from seat.config import DATA_DIR
from seat.db import session_scope
from seat.models import Call
from seat.scripts import Script, load_scripts
from tests.conftest import NOW

MIN = timedelta(minutes=1)


@pytest.fixture(scope="module")
def scripts() -> dict[str, Script]:
    found, problems = load_scripts(DATA_DIR / "scripts")
    assert problems == []
    return found


def _walked(scripts, world) -> calls.CallState:
    state = calls.CallState(
        script=scripts["inbound"],
        agent_id=world["li"],
        started_at=NOW,
        from_number="+8613800138000",
        customer_id=world["fang"],
    )
    assert state.advance(NOW + MIN) == {}
    state.values["need_category"] = "repair"
    for k in (2, 3, 4):
        assert state.advance(NOW + k * MIN) == {}
    state.outcome = "resolved"
    return state


def _calls(engine) -> int:
    with session_scope(engine) as s:
        return s.execute(select(func.count()).select_from(Call)).scalar_one()


def test_saving_the_same_draft_twice_writes_one_row(engine, world, scripts, tmp_path):
    state = _walked(scripts, world)
    data = drafts.to_dict(drafts.Draft(state=state), NOW)  # written before the row existed
    with session_scope(engine) as s:
        first = calls.save_call(session=s, state=state, now=NOW + 5 * MIN).id
    again = drafts.from_dict(data, scripts).state
    assert again.call_id is None and again.uid == state.uid
    with session_scope(engine) as s:
        second = calls.save_call(session=s, state=again, now=NOW + 9 * MIN)
        assert second.id == first
        assert second.ended_at == NOW + 5 * MIN  # the first save stands
    assert _calls(engine) == 1


def test_two_sessions_saving_one_call_write_one_row(engine, world, scripts):
    """Two sessions race: the table's UNIQUE uid turns the loser's insert into a lookup."""
    state = _walked(scripts, world)
    twin = drafts.from_dict(drafts.to_dict(drafts.Draft(state=state), NOW), scripts).state
    with session_scope(engine) as a:
        calls.ensure_call_row(session=a, state=state)
    with session_scope(engine) as b:
        assert calls.ensure_call_row(session=b, state=twin).id == state.call_id
    assert _calls(engine) == 1


def test_a_write_caught_mid_way_never_brings_a_saved_draft_back(
    engine, world, scripts, tmp_path, monkeypatch
):
    """The reported interleaving, made deterministic: the writer thread is inside fsync when
    the call is saved and its draft removed; the rename must not happen after that."""
    state = _walked(scripts, world)
    folder = tmp_path / "drafts"
    file = drafts.DraftFile(folder, "li.na")
    assert file.write(drafts.to_dict(drafts.Draft(state=state), NOW)) is not None
    in_fsync, release = threading.Event(), threading.Event()
    real_fsync = drafts.os.fsync

    def slow_fsync(fd: int) -> None:
        in_fsync.set()
        assert release.wait(10)
        real_fsync(fd)

    monkeypatch.setattr(drafts.os, "fsync", slow_fsync)
    stale = drafts.to_dict(drafts.Draft(state=state), NOW + MIN)  # call_id still empty
    writer = threading.Thread(target=file.write, args=(stale,))
    writer.start()
    try:
        assert in_fsync.wait(10)
        with session_scope(engine) as s:
            calls.save_call(session=s, state=state, now=NOW + 5 * MIN)
        file.close(discard=True)  # what ctrl+s does after the save
    finally:
        release.set()
        writer.join(10)
    assert not writer.is_alive()
    assert drafts.load(folder, "li.na", scripts) is None
    assert list(folder.iterdir()) == []  # no temp file left behind either
    assert file.write(stale) is None  # and nothing is written after the close
    assert _calls(engine) == 1


def test_resuming_a_reappeared_draft_saves_no_second_call(engine, world, scripts, tmp_path):
    """Even if a stale draft survives (another seat process, an old version), resuming and
    saving it again finds the saved row."""
    state = _walked(scripts, world)
    drafts.write(tmp_path, "li.na", drafts.to_dict(drafts.Draft(state=state), NOW))
    with session_scope(engine) as s:
        calls.save_call(session=s, state=state, now=NOW + 5 * MIN)
    resumed = drafts.load(tmp_path, "li.na", scripts)
    assert resumed is not None
    with session_scope(engine) as s:
        assert calls.save_call(session=s, state=resumed.state, now=NOW + 8 * MIN).id == (
            state.call_id
        )
    assert _calls(engine) == 1


def test_a_draft_edited_by_hand_shows_no_escape(world, scripts):
    state = _walked(scripts, world)
    data = drafts.to_dict(drafts.Draft(state=state, customer_name="x"), NOW)
    data["customer_name"] = "Wang\x1b]0;pwned\x07\nFang"
    assert drafts.from_dict(data, scripts).customer_name == "Wang]0;pwned Fang"

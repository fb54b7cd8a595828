"""Screen pops and presence: who takes an incoming call."""

from __future__ import annotations

from datetime import timedelta

import pytest

from seat import seats
from tests.conftest import NOW


@pytest.fixture
def ids(world):
    return world


def test_named_pop_goes_to_that_agent_first(session, ids):
    seats.announce(session=session, now=NOW, e164="+8613800138000", agent_id=ids["li"])
    assert seats.claim_next(session=session, now=NOW, agent_id=ids["wang"]) is None
    got = seats.claim_next(session=session, now=NOW, agent_id=ids["li"])
    assert got is not None and got.e164 == "+8613800138000"
    assert seats.claim_next(session=session, now=NOW, agent_id=ids["li"]) is None  # taken once


def test_named_pop_falls_back_to_any_free_seat(session, ids):
    seats.announce(session=session, now=NOW, e164="+8613800138000", agent_id=ids["li"])
    later = NOW + seats.FALLBACK
    assert seats.claim_next(session=session, now=later, agent_id=ids["wang"]) is not None


def test_unnamed_pop_any_seat_and_expiry(session, ids):
    seats.announce(session=session, now=NOW, e164="+8613912345678")
    too_late = NOW + seats.POP_TTL + timedelta(seconds=1)
    assert seats.claim_next(session=session, now=too_late, agent_id=ids["li"]) is None
    assert seats.claim_next(session=session, now=NOW, agent_id=ids["wang"]) is not None


def test_own_pops_before_others(session, ids):
    seats.announce(session=session, now=NOW, e164="+8613912345678")
    seats.announce(session=session, now=NOW, e164="+8613800138000", agent_id=ids["li"])
    assert seats.claim_next(session=session, now=NOW, agent_id=ids["li"]).e164 == "+8613800138000"


def test_release_and_waiting(session, ids):
    p = seats.announce(session=session, now=NOW, e164="+8613800138000", agent_id=ids["li"])
    seats.claim_next(session=session, now=NOW, agent_id=ids["li"])
    assert seats.waiting_for(session=session, now=NOW, agent_id=ids["li"]) == []
    seats.release(session=session, pop_id=p.id)
    assert [w.id for w in seats.waiting_for(session=session, now=NOW, agent_id=ids["li"])] == [p.id]


def test_heartbeat_presence(session, ids):
    pid = seats.heartbeat(
        session=session, now=NOW, agent_id=ids["li"], state="desk", presence_id=None
    )
    assert (
        seats.heartbeat(
            session=session,
            now=NOW + timedelta(seconds=5),
            agent_id=ids["li"],
            state="call",
            presence_id=pid,
        )
        == pid
    )
    assert seats.live_seats(session=session, now=NOW + timedelta(seconds=6)) == [
        (ids["li"], "call")
    ]
    assert seats.live_seats(session=session, now=NOW + timedelta(minutes=5)) == []
    seats.leave(session=session, presence_id=pid)
    assert seats.live_seats(session=session, now=NOW) == []

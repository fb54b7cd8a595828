"""Eight seats writing at once lose nothing and surface no raw database error."""

from __future__ import annotations

import multiprocessing as mp
from dataclasses import replace

from sqlalchemy import func, select, update
from sqlmodel import Session

from seat.models import Call, Callback

WORKERS = 8
ROUNDS = 12


def _writer(url: str, worker: int, agent_id: int, customer_id: int, shared_cb: int, out) -> None:
    """One seat: log calls with a callback each, and bump a shared counter, ROUNDS times."""
    from seat.clock import SystemClock
    from seat.config import Settings
    from seat.db import make_engine
    from seat.services import Desk, StorageError

    engine = make_engine(url, migrate=False)
    desk = Desk(engine=engine, clock=SystemClock(), settings=replace(Settings(), database_url=url))
    errors: list[str] = []
    for i in range(ROUNDS):
        try:
            state = desk.new_call(agent_id=agent_id, customer_id=customer_id,
                                  from_number="+8613800138000")
            state.values["need_category"] = "inquiry"
            while not state.in_wrapup:
                assert not state.advance(desk.now())
            desk.create_callback(state, due_text="+1d", reason=f"worker {worker} round {i}")
            state.outcome = "callback_promised"
            state.notes = f"worker {worker} round {i}"
            desk.save_call(state)
            desk.run(lambda s: s.execute(
                update(Callback).where(Callback.id == shared_cb)
                .values(attempts=Callback.attempts + 1)
            ))
        except StorageError as exc:
            errors.append(str(exc))
        except Exception as exc:  # anything raw reaching here would reach an agent's screen
            errors.append(f"{type(exc).__name__}: {exc}")
    engine.dispose()
    out.put((worker, errors))


def test_eight_writers_lose_nothing(engine, db_url, world):
    with Session(engine) as s:
        shared = s.get(Callback, 1)
        shared.attempts = 0
        s.commit()
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(db_url, w, world["li"], world["fang"], 1, out))
        for w in range(WORKERS)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=240) for __ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert all(errors == [] for __, errors in results), results
    with Session(engine) as s:
        calls = s.execute(select(func.count()).select_from(Call)).scalar_one()
        linked = s.execute(
            select(func.count()).select_from(Callback).where(Callback.call_id.is_not(None))
        ).scalar_one()
        notes = set(s.execute(select(Call.notes)).scalars())
        counter = s.get(Callback, 1).attempts
    assert calls == WORKERS * ROUNDS
    assert linked == WORKERS * ROUNDS
    assert notes == {f"worker {w} round {i}" for w in range(WORKERS) for i in range(ROUNDS)}
    assert counter == WORKERS * ROUNDS

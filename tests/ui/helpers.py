"""Helpers for Pilot tests."""

from __future__ import annotations

import textual._wait
from textual.widgets import OptionList, Select

TEXTUAL_WAIT_FOR_IDLE = textual._wait.wait_for_idle
"""Textual's own idle wait (20 ms steps), kept before tests/ui/conftest.py speeds Pilot up."""


async def settle(pilot) -> None:
    """Let workers finish and the screen repaint.

    An exclusive worker (a sidebar refresh, a list load) is cancelled when a newer one of its
    group starts; waiting on it raises WorkerCancelled although nothing went wrong: wait
    again for the ones still running (each pass removes finished workers from the manager).
    """
    from textual.worker import WorkerCancelled

    await pilot.pause()
    for __ in range(50):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            await pilot.pause()
            continue
        break
    await pilot.pause()


async def freeze(pilot) -> None:
    """Settle so a snapshot is the same every time (cursors never blink in tests:
    tests/ui/conftest.py).

    Ends with Textual's own, slower idle wait, then waits until no table has rows or cells
    left to measure: a table sizes its columns when it goes idle after its rows arrive, and
    a snapshot must not catch it before (the fast wait of tests/ui/conftest.py is for the
    keys in between)."""
    await settle(pilot)
    await TEXTUAL_WAIT_FOR_IDLE()
    # A screen just opened may start its load now, and a table measures new rows only when
    # its queue goes idle: wait until no worker runs and no table has rows left to measure.
    for __ in range(400):
        if not any(not worker.is_finished for worker in pilot.app.workers) and not any(
            table._require_update_dimensions or table._updated_cells or table._new_rows
            for table in pilot.app.screen.query("DataTable")
        ):
            break
        await pilot.pause(0.005)
    await TEXTUAL_WAIT_FOR_IDLE()
    await pilot.pause()


# -- a busy floor, and the checks a long walk ends with (random-key and shift tests) --------

FLOOR_ZONE = "Asia/Shanghai"


def floor(engine) -> dict[str, int]:
    """tests.conftest.populate (at its NOW) plus a supervisor, complaints in several states, a
    US customer, and a crowd of Shanghai callbacks falling due over the next day."""
    from datetime import timedelta

    from sqlmodel import Session

    from seat import agents, callbacks, complaints, customers, sla
    from seat.config import DATA_DIR
    from seat.models import Callback
    from tests.conftest import NOW, populate

    ids = populate(engine, NOW)
    policy = sla.read_policy(DATA_DIR / "policy" / "complaints.toml", default_zone=FLOOR_ZONE)
    with Session(engine, expire_on_commit=False) as s:
        ids["boss"] = agents.ensure_agent(
            session=s, name="zhao.lei", display_name="Zhao Lei", role="supervisor"
        ).id
        past = NOW - timedelta(days=20)
        amy = customers.create_customer(
            session=s, now=past, name="Amy Chen", phone_text="+1 415 555 0134", tier="gold"
        )
        ids["amy"] = amy.id
        li = ids["li"]
        old = complaints.create_complaint(
            session=s, now=NOW - timedelta(days=3), customer_id=ids["fang"], owner_id=li,
            what_happened="Washer leaked twice", customer_wants="A new washer",
        )  # fmt: skip
        mid = complaints.create_complaint(
            session=s, now=NOW - timedelta(hours=20), customer_id=ids["min"], owner_id=li,
            what_happened="Sofa cover torn on delivery", customer_wants="A new cover",
        )  # fmt: skip
        complaints.accept(
            session=s, complaint_id=mid.id, actor_id=li, now=NOW - timedelta(hours=19),
            department="Logistics", category="delivery", policy=policy,
            reply_text="Logistics calls you tomorrow",
        )  # fmt: skip
        ids["complaint"], ids["complaint2"] = old.id, mid.id
        callbacks.create_callback(
            session=s, now=NOW, customer_id=amy.id, owner_id=li,
            due_at=NOW + timedelta(hours=1), reason="Check the part arrived",
        )  # fmt: skip
        # Twelve Shanghai customers, a callback each, due through the next day (some inside
        # the customers' rest hours): the queue has callable and waiting rows at every hour.
        for n in range(12):
            c = customers.create_customer(
                session=s, now=past, name=f"客户{n:02d}", phone_text=f"139 0000 {n:04d}"
            )
            s.add(Callback(customer_id=c.id, owner_id=li, reason=f"Follow-up {n}",
                           kind="satisfaction", due_at=NOW + timedelta(hours=2 * n - 4),
                           created_at=past))  # fmt: skip
        s.commit()
    return ids


def high_water(engine) -> dict[str, int]:
    """The largest id of every table the seat writes: rows above it were made by the test."""
    from sqlalchemy import func, select
    from sqlmodel import Session

    from seat.models import Call, Callback, Complaint, Customer, WorkOrder

    with Session(engine) as s:
        return {
            t.__tablename__: s.execute(select(func.coalesce(func.max(t.id), 0))).scalar_one()
            for t in (Call, Callback, Complaint, Customer, WorkOrder)
        }


def integrity_problems(engine, since: dict[str, int]) -> list[str]:
    """The database's own integrity check (SQLite), and rows the seat made half-way: every
    row made after `since` (high_water) must be whole."""
    from sqlalchemy import text

    problems: list[str] = []
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            result = [r[0] for r in conn.execute(text("PRAGMA integrity_check"))]
            if result != ["ok"]:
                problems.append(f"integrity_check: {result}")
            bad_keys = list(conn.execute(text("PRAGMA foreign_key_check")))
            if bad_keys:
                problems.append(f"foreign_key_check: {bad_keys}")

        def rows(sql: str, table: str) -> list:
            return list(conn.execute(text(sql), {"since": since[table]}))

        checks = [
            ("call", "a saved call without outcome, wrap-up time or a known outcome code",
             'SELECT id FROM "call" WHERE id > :since AND ended_at IS NOT NULL AND (outcome IS NULL'
             " OR wrapup_at IS NULL OR outcome NOT IN ('resolved', 'callback_promised',"
             " 'work_order_created', 'complaint_opened', 'escalated', 'no_answer', 'busy',"
             " 'wrong_number'))"),
            ("call", "an answered inbound call saved without its need",
             'SELECT id FROM "call" WHERE id > :since AND ended_at IS NOT NULL'
             " AND direction = 'inbound' AND outcome <> 'no_answer' AND need_category IS NULL"),
            ("call", "a call that ends before it starts",
             'SELECT id FROM "call" WHERE id > :since AND ended_at < started_at'),
            ("complaint", "a complaint without its intake event",
             "SELECT id FROM complaint c WHERE id > :since AND NOT EXISTS (SELECT 1 FROM"
             " complaint_event e WHERE e.complaint_id = c.id AND e.action = 'intake')"),
            ("complaint", "a complaint without what happened or what the customer wants",
             "SELECT id FROM complaint WHERE id > :since AND (TRIM(what_happened) = ''"
             " OR TRIM(customer_wants) = '')"),
            ("work_order", "a work order without its create event",
             "SELECT id FROM work_order w WHERE id > :since AND NOT EXISTS (SELECT 1 FROM"
             " work_order_event e WHERE e.work_order_id = w.id AND e.action = 'create')"),
            ("work_order", "a work order without its short text",
             "SELECT id FROM work_order WHERE id > :since AND TRIM(short_text) = ''"),
            ("callback", "a callback without its creation event",
             "SELECT id FROM callback c WHERE id > :since AND NOT EXISTS (SELECT 1 FROM"
             " callback_event e WHERE e.callback_id = c.id)"),
            ("callback", "a callback without a reason",
             "SELECT id FROM callback WHERE id > :since AND TRIM(reason) = ''"),
            ("call", "a saved callback call whose callback has no attempt",
             'SELECT c.id FROM "call" c JOIN callback b ON b.id = c.callback_id WHERE c.id > :since'
             " AND c.ended_at IS NOT NULL AND b.attempts = 0"),
            ("callback", "a done callback without its done time",
             "SELECT id FROM callback WHERE status = 'done' AND done_at IS NULL"),
            ("customer", "a customer without a phone number",
             "SELECT id FROM customer c WHERE id > :since AND NOT EXISTS (SELECT 1 FROM"
             " phone_number p WHERE p.customer_id = c.id)"),
        ]
        for table, what, sql in checks:
            found = [r[0] for r in rows(sql, table)]
            if found:
                problems.append(f"{what}: {table} ids {found}")
    return problems


# -- journeys: the keys people press ----------------------------------------------------


def option_labels(select: Select) -> list[str]:
    """The labels of a Select's options as its list shows them, the blank one (its prompt)
    included, in the seat's language."""
    overlay = select.query_one(OptionList)
    return [_plain(overlay.get_option_at_index(i).prompt) for i in range(overlay.option_count)]


def _plain(prompt: object) -> str:
    return prompt.plain if hasattr(prompt, "plain") else str(prompt)


async def choose(pilot, label: str, *, select: str | None = None) -> None:
    """Pick the option labelled `label` (as shown, in the language the seat runs in) in the
    focused Select, or in the one `select` finds, by keys: Enter opens its list, ↓ or ↑ as
    many times as the labels say, Enter. A label no option has exactly may be a part of one
    option's label ("Q01" for "Q01 quality defect")."""
    widget = pilot.app.screen.query_one(select, Select) if select else pilot.app.focused
    assert isinstance(widget, Select), f"not on a Select but on {widget!r}"
    if select:
        widget.focus()
        await pilot.pause()
    labels = option_labels(widget)
    matches = [i for i, shown in enumerate(labels) if shown == label] or [
        i for i, shown in enumerate(labels) if label in shown
    ]
    assert len(matches) == 1, f"{label!r} names {len(matches)} of the options {labels}"
    await pilot.press("enter")
    await pilot.pause()
    here = widget.query_one(OptionList).highlighted or 0
    step = "down" if matches[0] > here else "up"
    await pilot.press(*[step] * abs(matches[0] - here), "enter")
    await pilot.pause()
    chosen = widget.query_one(OptionList).highlighted
    assert chosen == matches[0], f"{labels[chosen or 0]!r} chosen, not {label!r}"


# -- worlds -----------------------------------------------------------------------------


def add_wide_world(engine, world: dict[str, int]) -> dict[str, int]:
    """Customers with CJK, emoji and Arabic names, each with a callback or an order."""
    from datetime import timedelta

    from sqlmodel import Session

    from seat.customers import create_customer
    from seat.models import Call, Callback, WorkOrder
    from tests.conftest import NOW

    names = ["王小明 👨‍👩‍👧‍👦 上海浦东新区张江高科", "مريم الحسن", "佐藤 花子 🌸🌸🌸🌸🌸🌸"]
    ids = dict(world)
    with Session(engine) as s:
        for i, name in enumerate(names):
            c = create_customer(
                session=s, now=NOW - timedelta(days=9), name=name,
                phone_text=f"139 0000 000{i}", tier="gold", address="上海市徐汇区漕溪北路 88 号",
            )  # fmt: skip
            ids[f"wide{i}"] = c.id
            s.add(Callback(customer_id=c.id, owner_id=world["li"], reason="生日问候 🎂",
                           kind="birthday", due_at=NOW + timedelta(minutes=30 + i),
                           created_at=NOW - timedelta(days=1)))  # fmt: skip
        s.add(WorkOrder(kind="service_request", short_text="冰箱不制冷，压缩机异响 ❄️🔧",
                        customer_id=ids["wide0"], assignee_id=world["li"], urgent=True,
                        due_at=NOW + timedelta(hours=3), created_at=NOW - timedelta(days=1)))
        s.add(Call(agent_id=world["li"], customer_id=ids["wide0"], started_at=NOW - timedelta(
            hours=1), ended_at=NOW - timedelta(minutes=50), need_category="repair",
            outcome="work_order_created"))  # fmt: skip
        s.commit()
    return ids

"""Hostile input: hypothesis feeds every domain entry point that takes typed text.

For each entry point the properties are the same:
- no exception but its documented refusal (ValidationError, PhoneError, ImportFileError,
  ScriptError, ValueError);
- a refusal leaves nothing behind: the row count of every table is unchanged in the
  very transaction that was refused;
- what is accepted reads back from the database exactly as typed (CJK, emoji with ZWJ
  sequences, combining marks and right-to-left text kept, no normalisation) and fits its
  column: SQLite ignores VARCHAR lengths, PostgreSQL refuses the whole transaction.

The examples share one SQLite file per module; each runs in its own transaction and is
rolled back, so they cannot see each other.
"""

from __future__ import annotations

import csv
import io
import os
import re
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, func, select
from sqlmodel import Session, SQLModel

from seat import agents, callbacks, calls, complaints, customers, phone, workorders
from seat.clock import parse_when
from seat.config import DATA_DIR
from seat.customers import ValidationError
from seat.db import make_engine
from seat.importer import ImportFileError, import_csv
from seat.models import (
    Agent,
    Call,
    Callback,
    Complaint,
    ComplaintEvent,
    Customer,
    PhoneNumber,
    WorkOrder,
    WorkOrderEvent,
)
from seat.scripts import Script, ScriptError, load_script, load_scripts
from seat.scripts.engine import MAX_FILE_BYTES
from tests.conftest import NOW, populate

ZONE = ZoneInfo("Asia/Shanghai")

# Few examples each: the whole module stays well under a minute (SEAT_FUZZ_EXAMPLES=2000 digs
# deeper). No example database: nothing is written to the working tree.
FUZZ = settings(
    max_examples=int(os.environ.get("SEAT_FUZZ_EXAMPLES", "60")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
FEW = settings(FUZZ, max_examples=max(25, FUZZ.max_examples // 3))

# -- what hostile typing looks like -------------------------------------------------------------

SQL = [
    "'; DROP TABLE customer; --",
    "Robert'); DROP TABLE call;--",
    "1' OR '1'='1",
    '" OR ""="',
    "%' UNION SELECT name, display_name FROM agent --",
    "\\'; DELETE FROM phone_number WHERE 1=1; --",
    "$1; --",
]
CJK = "王芳张敏李娜客服投诉回访工单满意度한국어テストｱｲｳ１２３"
RTL = ["مرحبا بالعالم", "שלום עולם", "مريم الحسن", "עברית 123 عربي", "\u202eevil\u202c", "\u200f"]
EMOJI = [
    "👨‍👩‍👧‍👦",  # a ZWJ family
    "🏳️‍🌈",
    "👍🏽",
    "🇨🇳",
    "❤️",
    "e\u0301",  # combining acute
    "Z\u0351\u0358a\u0336l\u0337g\u0335o",
    "\u200b",  # zero-width space
    "\ufeff",
]
CONTROL = [chr(c) for c in range(32)] + ["\x7f", "\x85", "\x9b", "\x1b[31m", "\x1b]0;pwned\x07"]
PIECES = SQL + RTL + EMOJI + CONTROL + list(CJK) + [" ", "a", "Z", "0", "\n", "\t"]

# Single-line fields refuse these; multi-line fields keep only newline and tab.
SINGLE_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
MULTI_LINE_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# What a call's notes and typed answers drop: the above and the bidirectional controls.
NOTES_DROPPED = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
ADDRESS_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def long_text() -> st.SearchStrategy[str]:
    """Strings at and around the limits of the columns, in narrow and wide characters."""
    sizes = st.sampled_from([199, 200, 201, 499, 500, 501, 1999, 2000, 2001, 5001, 20001, 60000])
    unit = st.sampled_from(["x", "王", "👍", "ع", " ", "e\u0301"])
    return st.builds(lambda n, u, pad: pad + u * n + pad, sizes, unit, st.sampled_from(["", " "]))


def hostile(max_size: int = 200) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=max_size),  # any code point but lone surrogates
        st.lists(st.sampled_from(PIECES), max_size=24).map("".join),
        st.sampled_from(SQL + RTL + EMOJI + CONTROL),
        st.text(alphabet=CJK + " ", min_size=1, max_size=40),
        long_text(),
    )


def visible(max_size: int = 120) -> st.SearchStrategy[str]:
    """Text an agent can type: every printable script, symbol and emoji, no control codes."""
    chars = st.characters(blacklist_categories=("Cc", "Cs"))
    pieces = st.lists(st.sampled_from(SQL + RTL[:4] + EMOJI[:7] + list(CJK)), max_size=6)
    return st.one_of(
        st.text(chars, min_size=1, max_size=max_size), pieces.map("".join)
    ).filter(lambda t: t.strip())


def phone_text() -> st.SearchStrategy[str]:
    mobile = st.builds(
        lambda head, rest, sep: sep.join([head, rest[:4], rest[4:]]),
        st.sampled_from(["138", "139", "186", "１３９", "١٣٩"]),
        st.text(alphabet="0123456789", min_size=8, max_size=8),
        st.sampled_from(["", " ", "-", "\u00a0"]),
    )
    digitish = st.text(alphabet="0123456789０１٣٤۵ +-()./\u00a0x#*", max_size=30)
    return st.one_of(mobile, digitish, hostile(40))


# -- the desk every example works in --------------------------------------------------------------


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'desk.db'}")
    ids = populate(engine)
    yield engine, ids
    engine.dispose()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("files")


@pytest.fixture(scope="module")
def scripts() -> dict[str, Script]:
    found, problems = load_scripts(DATA_DIR / "scripts")
    assert problems == []
    return found


def counts(session: Session) -> dict[str, int]:
    """Rows in every table, as this transaction sees them (pending objects flushed)."""
    session.flush()
    return {
        t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
        for t in SQLModel.metadata.sorted_tables
    }


def fits(row: SQLModel) -> None:
    """Every text value fits its column's declared length (PostgreSQL enforces it)."""
    for column in row.__table__.columns:  # type: ignore[attr-defined]
        value = getattr(row, column.key)
        if isinstance(column.type, String) and column.type.length and isinstance(value, str):
            assert len(value) <= column.type.length, f"{column.key}: {len(value)} characters"


def stored(session: Session, column, row_id: int):  # noqa: ANN201
    """A value read from the database itself, not from the session's copy."""
    table = column.class_
    return session.execute(select(column).where(table.id == row_id)).scalar_one()


def attempt(session: Session, fn, refusals):  # noqa: ANN001, ANN201
    """fn() or its refusal; a refusal must leave every table as it was."""
    before = counts(session)
    try:
        return fn(), None
    except refusals as exc:
        assert counts(session) == before, f"half-saved after {exc!r}"
        assert str(exc)  # a message for the agent
        return None, exc


# -- phone numbers ---------------------------------------------------------------------------


@FUZZ
@given(text=phone_text(), region=st.sampled_from(["CN", "US", "GB", "cn", "ZZ", "", "中国"]))
@example(text="１３８ ００１３ ８０００", region="CN")
@example(text="٠٠٨٦١٣٨٠٠١٣٨٠٠٠", region="CN")
@example(text="+" + "9" * 300, region="CN")
@example(text="138 0013 8000\x00", region="CN")
def test_phone_parse_refuses_or_gives_e164(text, region):
    try:
        parsed = phone.parse(text, region)
    except phone.PhoneError as exc:
        assert str(exc)
        return
    assert re.fullmatch(r"\+[1-9]\d{4,14}", parsed.e164)
    assert phone.normalise(parsed.e164, region or "CN") == parsed.e164
    assert phone.normalise(phone.display(parsed.e164), "CN") == parsed.e164


@pytest.mark.parametrize(
    "typed",
    [
        "１３８００１３８０００",
        "١٣٨٠٠١٣٨٠٠٠",
        "۱۳۸۰۰۱۳۸۰۰۰",
        "138\u00a00013\u00a08000",
        "(0086) 138-0013-8000",
    ],
)
def test_wide_and_arabic_indic_digits_are_digits(typed):
    assert phone.normalise(typed) == "+8613800138000"


# -- customers -------------------------------------------------------------------------------


@FUZZ
@given(
    name=hostile(),
    tier=st.one_of(st.sampled_from(customers.TIER_CHOICES), hostile(20)),
    birthday=st.one_of(st.none(), st.dates().map(str), hostile(20)),
    gender=st.one_of(st.none(), st.sampled_from(customers.GENDERS), hostile(20)),
)
def test_validate_customer_refuses_or_cleans(name, tier, birthday, gender):
    try:
        got = customers.validate_customer(
            name=name, tier=tier, birthday=birthday, gender=gender, today=date(2026, 11, 23)
        )
    except ValidationError as exc:
        assert set(exc.errors) <= {"name", "tier", "birthday", "gender"}
        return
    clean_name, clean_tier, _bday, clean_gender = got
    assert clean_name == name.strip()
    assert not SINGLE_LINE_CONTROL.search(clean_name)
    assert clean_tier in customers.TIER_CHOICES
    assert clean_gender in (None, *customers.GENDERS)


@FUZZ
@given(
    name=st.one_of(visible(), hostile()),
    phone_typed=phone_text(),
    address=st.one_of(st.none(), visible(), hostile()),
    occupation=st.one_of(st.none(), visible(), hostile()),
)
@example(name="'; DROP TABLE customer; --", phone_typed="139 8765 4321", address=None,
         occupation=None)  # fmt: skip
@example(name="王芳 👨‍👩‍👧‍👦", phone_typed="139 8765 4321", address="上海市南京路88号",
         occupation="工程师")  # fmt: skip
@example(name="مريم الحسن", phone_typed="139 8765 4321", address="שלום 1", occupation=None)
@example(name="Ana", phone_typed="139 8765 4321", address="a\x1b[2Jb", occupation=None)
@example(name="Ana", phone_typed="139 8765 4321", address=None, occupation="x" * 121)
@example(name="Ana", phone_typed="139 8765 4321", address="Room 1\r\n88 Ave\tB", occupation=None)
@example(name="Ana\x85", phone_typed="139 8765 4321", address=None, occupation=None)
@example(name="\x1cAna\x1f", phone_typed="139 8765 4321", address=None, occupation="cook\x1e")
def test_create_customer(db, name, phone_typed, address, occupation):
    engine, __ = db
    with Session(engine) as s:
        made, refused = attempt(
            s,
            lambda: customers.create_customer(
                session=s, now=NOW, name=name, phone_text=phone_typed,
                address=address, occupation=occupation,
            ),  # fmt: skip
            ValidationError,
        )
        if refused is not None:
            assert set(refused.errors) <= {"name", "phone", "address", "occupation"}
            return
        fits(made)
        assert stored(s, Customer.name, made.id) == name.strip()
        assert stored(s, Customer.address, made.id) == ((address or "").strip() or None)
        assert stored(s, Customer.occupation, made.id) == ((occupation or "").strip() or None)
        # The rule: surrounding whitespace is stripped first (str.strip, which counts \x1c-\x1f
        # and \x85 as whitespace), then a control character left in the text refuses it. So
        # what is stored holds none, whatever the typed text ended with.
        kept = (stored(s, Customer.name, made.id) or "") + (made.occupation or "")
        assert not SINGLE_LINE_CONTROL.search(kept)
        assert not ADDRESS_CONTROL.search(made.address or "")  # line breaks only
        card = customers.card(session=s, customer_id=made.id)
        assert card.name == name.strip()
        assert card.phones == (phone.normalise(phone_typed),)
        s.rollback()


@pytest.mark.parametrize(
    "name",
    [
        "王芳",
        "张敏 (Zhang Min)",
        "مريم الحسن",
        "דוד כהן",
        "Jose\u0301 Mu\u0303oz",  # decomposed: kept decomposed, never normalised
        "José Muñoz",
        "👨‍👩‍👧‍👦 Family",
        "佐藤 🏳️‍🌈",
        "'; DROP TABLE customer; --",
        "Robert'); DROP TABLE call;--",
    ],
)
def test_customer_names_read_back_exactly(db, name):
    engine, __ = db
    with Session(engine) as s:
        made = customers.create_customer(
            session=s, now=NOW, name=name, phone_text="139 1111 2222", address=f"{name} 地址"
        )
        hit = customers.find_by_phone(session=s, e164="+8613911112222")
        assert hit is not None and hit.name == name
        assert stored(s, Customer.address, made.id) == f"{name} 地址"
        assert s.execute(select(func.count()).select_from(Agent)).scalar_one() == 2  # tables intact
        s.rollback()


@pytest.mark.parametrize("field", ["name", "address", "occupation"])
@pytest.mark.parametrize(
    "bad", ["\x00", "\x1b[2J", "\x1b]0;pwned\x07", "\x7f", "\x9b31m", "\ud800"]
)
def test_customer_text_with_control_characters_is_refused(db, field, bad):
    engine, __ = db
    typed = {"name": "Ana", "address": None, "occupation": None, field: f"A{bad}B"}
    with Session(engine) as s:
        __, refused = attempt(
            s,
            lambda: customers.create_customer(
                session=s, now=NOW, phone_text="139 1111 2222", **typed
            ),
            ValidationError,
        )
        assert refused is not None and "control characters" in refused.errors[field]


# -- agents ----------------------------------------------------------------------------------


@FUZZ
@given(name=st.one_of(hostile(80), st.from_regex(r"[a-z0-9][a-z0-9._-]{0,70}", fullmatch=True)))
@example(name="li.na\n")
@example(name="\u212a")  # KELVIN SIGN lower-cases to an ASCII k
def test_ensure_agent(db, name):
    engine, __ = db
    with Session(engine) as s:
        agent, refused = attempt(
            s, lambda: agents.ensure_agent(session=s, name=name), ValidationError
        )
        if refused is not None:
            assert set(refused.errors) == {"name"}
            return
        fits(agent)
        assert re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,63}", agent.name)
        assert agents.get_by_name(session=s, name=name).id == agent.id
        s.rollback()


# -- work made on a call ------------------------------------------------------------------------

WHEN = st.one_of(
    hostile(30),
    st.sampled_from(["+2h", "+30m", "+1d", "+1e308h", "+nanh", "+infd", "+-5m", "+١h", "15:00",
                     "25:99", "1:2:3", "2026-11-24 10:30", "2026-11-24T10:30+05:00",
                     "0001-01-01 00:00", "9999-12-31 23:59", "2026-02-30 10:00"]),
)  # fmt: skip


@FUZZ
@given(text=WHEN)
def test_parse_when_refuses_with_value_error(text):
    try:
        when = parse_when(text, now=NOW, tz=ZONE)
    except ValueError as exc:
        assert str(exc)
        return
    assert when.tzinfo is not None


@FUZZ
@given(reason=st.one_of(visible(), hostile()), due=WHEN)
@example(reason="回访：客户对维修满意吗？😀", due="+1d")
@example(reason="'; DROP TABLE callback; --", due="+2h")
def test_create_callback(db, reason, due):
    engine, ids = db
    with Session(engine) as s:

        def go() -> Callback:
            due_at = parse_when(due, now=NOW, tz=ZONE)
            return callbacks.create_callback(
                session=s, now=NOW, customer_id=ids["min"], owner_id=ids["li"],
                due_at=due_at, reason=reason,
            )  # fmt: skip

        cb, refused = attempt(s, go, (ValidationError, ValueError))
        if refused is not None:
            return
        fits(cb)
        assert stored(s, Callback.reason, cb.id) == reason.strip()
        s.rollback()


@FUZZ
@given(
    kind=st.one_of(st.sampled_from(workorders.KINDS), hostile(20)),
    short_text=st.one_of(visible(), hostile()),
    long_text=st.one_of(st.just(""), visible(400), hostile()),
)
@example(kind="service_request", short_text="洗衣机漏水 🚿", long_text="门封坏了\n需要上门")
def test_create_work_order(db, kind, short_text, long_text):
    engine, ids = db
    with Session(engine) as s:
        wo, refused = attempt(
            s,
            lambda: workorders.create_order(
                session=s, now=NOW, customer_id=ids["min"], created_by_id=ids["li"],
                draft=workorders.WorkOrderDraft(
                    kind=kind, short_text=short_text, assignee_id=ids["wang"], urgent=False,
                    due_at=NOW + timedelta(days=1), long_text=long_text, reporter="张敏",
                    service_type="repair", sales_order_no="SO-1001",
                ),
            ),  # fmt: skip
            ValidationError,
        )
        if refused is not None:
            return
        fits(wo)
        assert stored(s, WorkOrder.short_text, wo.id) == short_text.strip()
        assert stored(s, WorkOrder.long_text, wo.id) == long_text.strip()
        s.rollback()


@FEW
@given(
    short_text=st.one_of(visible(), hostile()),
    reporter=st.one_of(visible(), hostile()),
    address=st.one_of(st.none(), visible(), hostile()),
    lines_text=st.one_of(st.just(""), hostile(80)),
    amount=st.one_of(st.just(""), hostile(20)),
)
def test_create_order_from_the_form(db, short_text, reporter, address, lines_text, amount):
    """The full work-order form path (seat.workorders), with its own parsers."""
    engine, ids = db
    with Session(engine) as s:

        def go() -> WorkOrder:
            return workorders.create_order(
                session=s, now=NOW, customer_id=ids["min"], created_by_id=ids["li"],
                draft=workorders.WorkOrderDraft(
                    kind="service_request", short_text=short_text, reporter=reporter,
                    assignee_id=ids["wang"], due_at=NOW + timedelta(days=1),
                    service_type="paid", service_address=address,
                    lines=tuple(workorders.parse_lines(lines_text)),
                    quote_amount=workorders.parse_amount(amount),
                ),
            )  # fmt: skip

        wo, refused = attempt(s, go, (ValidationError, ValueError))
        if refused is not None:
            return
        fits(wo)
        assert stored(s, WorkOrder.short_text, wo.id) == short_text.strip()
        assert stored(s, WorkOrder.reporter, wo.id) == reporter.strip()
        events = s.execute(
            select(WorkOrderEvent.action).where(WorkOrderEvent.work_order_id == wo.id)
        ).all()
        assert [e.action for e in events] == ["create"]
        s.rollback()


@FUZZ
@given(what=st.one_of(visible(400), hostile()), wants=st.one_of(visible(), hostile()))
@example(what="技术员态度恶劣，还说“不知道”。😡", wants="道歉 + 换新")
@example(what="'; DROP TABLE complaint; --", wants="مرحبا")
def test_create_complaint(db, what, wants):
    engine, ids = db
    with Session(engine) as s:
        c, refused = attempt(
            s,
            lambda: complaints.create_complaint(
                session=s, now=NOW, customer_id=ids["min"], owner_id=ids["li"],
                what_happened=what, customer_wants=wants,
            ),  # fmt: skip
            ValidationError,
        )
        if refused is not None:
            return
        fits(c)
        assert stored(s, Complaint.what_happened, c.id) == what.strip()
        assert stored(s, Complaint.customer_wants, c.id) == wants.strip()
        event = s.execute(
            select(ComplaintEvent).where(ComplaintEvent.complaint_id == c.id)
        ).scalar_one()
        fits(event)
        s.rollback()


# -- the call ---------------------------------------------------------------------------------


def _walked_state(script: Script, agent_id: int, customer_id: int) -> calls.CallState:
    """A call taken through every stage to wrap-up with plain, valid answers."""
    state = calls.CallState(
        script=script, agent_id=agent_id, started_at=NOW, customer_id=customer_id,
        from_number="+8613912345678",
    )  # fmt: skip
    for minute in range(1, len(script.stages) + 2):
        if state.in_wrapup:
            break
        for f in state.stage.fields:
            state.values[f.id] = {"choice": f.choices[0] if f.choices else "", "score": "5"}.get(
                f.type, "ok"
            )
        assert state.advance(NOW + timedelta(minutes=minute)) == {}
    assert state.in_wrapup
    return state


@FUZZ
@given(
    script_id=st.sampled_from(["inbound", "callback"]),
    answers=st.dictionaries(st.sampled_from(["need_notes", "suggestion", "improvement", "x"]),
                            st.one_of(visible(), hostile()), max_size=3),
    score=st.one_of(st.sampled_from(["", "1", "5", "0", "6", "²", "٣", "99999"]), hostile(5)),
    notes=st.one_of(st.just(""), visible(400), hostile()),
    outcome=st.one_of(st.sampled_from(calls.OUTCOMES), hostile(20)),
)  # fmt: skip
@example(script_id="inbound", answers={"need_notes": "冰箱不制冷 ❄️"}, score="",
         notes="客户很着急\n下午再打", outcome="resolved")  # fmt: skip
@example(script_id="inbound", answers={"need_notes": "n" * 5000}, score="",
         notes="x" * 19000, outcome="resolved")  # fmt: skip
@example(script_id="callback", answers={}, score="²", notes="", outcome="resolved")
@example(script_id="inbound", answers={"need_notes": "\u202eevil\u202c"}, score="",
         notes="a\u2066b\u2069 c\u202e", outcome="resolved")  # fmt: skip
def test_save_call(db, scripts, script_id, answers, score, notes, outcome):
    engine, ids = db
    state = _walked_state(scripts[script_id], ids["li"], ids["min"])
    state.values.update(answers)
    state.values["score"] = score
    state.notes = notes
    state.outcome = outcome
    with Session(engine) as s:
        call, refused = attempt(
            s, lambda: calls.save_call(session=s, state=state, now=NOW), ValidationError
        )
        if refused is not None:
            assert set(refused.errors) <= {"outcome", "notes", "need_category"}
            assert state.call_id is None  # no row to forget: nothing was inserted
            return
        fits(call)
        kept = stored(s, Call.notes, call.id)
        assert not NOTES_DROPPED.search(kept)
        typed = NOTES_DROPPED.sub("", notes).strip()
        assert kept.startswith(typed)
        assert stored(s, Call.satisfaction, call.id) in (None, 1, 2, 3, 4, 5)
        s.rollback()


@FUZZ
@given(
    steps=st.lists(
        st.one_of(
            st.sampled_from(["advance", "back", "no_answer"]),
            st.tuples(st.sampled_from(["need_category", "need_notes", "satisfied", "score", "??"]),
                      hostile(30)),
        ),
        max_size=20,
    ),
    script_id=st.sampled_from(["inbound", "callback"]),
)  # fmt: skip
def test_walking_a_script_with_junk_never_raises(scripts, steps, script_id):
    state = calls.CallState(script=scripts[script_id], agent_id=1, started_at=NOW)
    for i, step in enumerate(steps):
        at = NOW + timedelta(seconds=i)
        if step == "advance":
            problems = state.advance(at)
            assert all(isinstance(m, str) and m for m in problems.values())
        elif step == "back":
            state.back()
        elif step == "no_answer":
            state.no_answer(at)
        else:
            state.values[step[0]] = step[1]
        assert state.stage.id in {s.id for s in state.script.stages}
    calls.validate_wrapup(state)


# -- script files -----------------------------------------------------------------------------

INBOUND = (DATA_DIR / "scripts" / "inbound.toml").read_text(encoding="utf-8")


def _mutate(text: str, cut: int, length: int, insert: str) -> str:
    cut %= len(text) + 1
    return text[:cut] + insert + text[cut + length :]


@FUZZ
@given(data=st.one_of(st.binary(max_size=2000), st.text(max_size=500).map(str.encode)))
@example(data=b"\xff\xfe\x00garbage")
@example(data=b"a=" + b"[" * 60000 + b"]" * 60000)
@example(data=b"a=" + b"{b=" * 30000 + b"1" + b"}" * 30000)
@example(data=b"x" * (MAX_FILE_BYTES + 1))
def test_load_script_random_bytes(scratch, data):
    path = scratch / "random.toml"
    path.write_bytes(data)
    try:
        load_script(path)
    except ScriptError as exc:
        assert str(exc).startswith("random.toml: ")


@FUZZ
@given(
    cut=st.integers(0, len(INBOUND)),
    length=st.integers(0, 200),
    insert=st.one_of(
        hostile(60),
        st.sampled_from(['next = "greeting"', "[[stages]]", 'say = "\\u001b[2J"', "\n[x]\n",
                         'type = "score"', 'id = "Greeting"', "required = 1", "= ="]),
    ),
)  # fmt: skip
def test_load_script_mutated(scratch, cut, length, insert):
    path = scratch / "mutated.toml"
    path.write_text(_mutate(INBOUND, cut, length, insert), encoding="utf-8")
    try:
        script = load_script(path)
    except ScriptError as exc:
        assert str(exc).startswith("mutated.toml: ")
        return
    # A script that loads can be walked to its end with nothing captured but the choices.
    stage, seen = script.first, set()
    while stage is not None:
        assert stage.id not in seen
        seen.add(stage.id)
        for f in stage.fields:
            assert not MULTI_LINE_CONTROL.search(f.label + f.help)
        assert not MULTI_LINE_CONTROL.search(stage.say + stage.title)
        values = {f.id: (f.choices[0] if f.choices else "1") for f in stage.fields}
        stage = script.next_stage(stage, values)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('title = "Greeting"', 'title = "Greeting\\u0000"'),
        ('say = "Good day,', 'say = "\\u001b]0;pwned\\u0007 Good day,'),
        ('"Confirm who is calling"', '"Confirm who is calling\\u001b[2J"'),
        ('label = "Need"', 'label = "Need\\u009b"'),
    ],
)
def test_script_text_with_terminal_escapes_is_rejected(scratch, old, new):
    assert old in INBOUND
    path = scratch / "escapes.toml"
    path.write_text(INBOUND.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ScriptError, match="control character"):
        load_script(path)


def test_script_path_that_is_a_directory_is_rejected(scratch):
    folder = scratch / "folder.toml"
    folder.mkdir(exist_ok=True)
    with pytest.raises(ScriptError, match="folder.toml: cannot read"):
        load_script(folder)


# -- CSV import ---------------------------------------------------------------------------------

COLUMNS = ["name", "phone", "tier", "birthday", "gender", "address", "occupation", "language"]


def _import(engine, path: Path):  # noqa: ANN202
    """Import in one transaction; return (report or error, counts before, counts after)."""
    with Session(engine) as s:
        before = counts(s)
        try:
            # One transaction, rolled back below: the examples share the database.
            report = import_csv(session=s, path=path, now=NOW, batch_rows=None)
        except ImportFileError as exc:
            assert str(exc)
            s.rollback()
            assert counts(s) == before
            return exc, before, before
        after = counts(s)
        names = s.execute(
            select(Customer.name).where(Customer.created_at == NOW).order_by(Customer.id)
        ).scalars().all()
        phones = s.execute(
            select(PhoneNumber.customer_id).join(Customer).where(Customer.created_at == NOW)
        ).scalars().all()
        s.rollback()
    assert len(names) == len(phones) == report.imported  # no customer without its number
    return (report, names), before, after


@FUZZ
@given(data=st.one_of(st.binary(max_size=3000), hostile(300).map(lambda t: t.encode("utf-8"))))
@example(data="name,phone\n王芳,139 8765 4321\n".encode("gbk"))
@example(data=b"name,phone\n\"Ann,139 8765 4321\n")
@example(data=b"name,phone\nAnn,139 8765 4321\x00\n")
@example(data=b"name,phone\n" + b"x" * 200_000 + b",139 8765 4321\n")
@example(data=b'name,phone\n"' + b"x" * 200_000 + b'",139 8765 4321\n')
def test_import_random_bytes(db, scratch, data):
    engine, __ = db
    path = scratch / "random.csv"
    path.write_bytes(data)
    result, before, after = _import(engine, path)
    if isinstance(result, ImportFileError):
        return
    report, names = result
    assert after["customer"] - before["customer"] == report.imported
    assert after["phone_number"] - before["phone_number"] == report.imported
    assert after["agent"] == before["agent"] and after["call"] == before["call"]


def _csv_bytes(header: list[str], rows: list[list[str]], quoting: int, newline: str, bom: bool) -> bytes:  # noqa: E501
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=quoting, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


cell = st.one_of(visible(40), hostile(60), phone_text(), st.just(""))
row = st.lists(cell, min_size=0, max_size=10)  # wrong column counts included


@FUZZ
@given(
    header=st.one_of(
        st.permutations(COLUMNS).map(list),
        st.lists(st.one_of(st.sampled_from(COLUMNS + ["NAME ", " Phone", "extra"]), hostile(10)),
                 max_size=10),
    ),
    rows=st.lists(row, max_size=8),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    bom=st.booleans(),
)  # fmt: skip
@example(header=COLUMNS, rows=[["王芳 👩‍💻", "139 8765 4321", "gold", "1985-03-14", "female",
                                "上海\n南京路 88 号", "工程师", "zh"],
                               ["'; DROP TABLE customer; --", "139 8765 4322"],
                               ["مريم الحسن", "139 8765 4323", "", "", "", "", "", "", "extra"]],
         quoting=csv.QUOTE_MINIMAL, newline="\r\n", bom=True)  # fmt: skip
def test_import_rows(db, scratch, header, rows, quoting, newline, bom):
    engine, __ = db
    path = scratch / "rows.csv"
    path.write_bytes(_csv_bytes(header, rows, quoting, newline, bom))
    result, before, after = _import(engine, path)
    if isinstance(result, ImportFileError):
        return
    report, names = result
    assert after["customer"] - before["customer"] == report.imported
    # Every record is accounted for: imported, duplicate or rejected with its line. (Read
    # back with the csv module: the writer leaves a lone "\r" unquoted, which ends a record.)
    text = path.read_bytes().decode("utf-8-sig")
    records = [r for r in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in r)]
    titles, data_rows = records[0], records[1:]
    assert report.imported + report.rejected == len(data_rows)
    col = {h.strip().lower(): i for i, h in reversed(list(enumerate(titles)))}
    typed = {r[col["name"]].strip() for r in data_rows if col["name"] < len(r)}
    for name in names:
        assert name in typed  # exactly as in the file, CJK and emoji included
        assert not SINGLE_LINE_CONTROL.search(name)
    for problem in report.errors + report.duplicates:
        assert problem.line >= 2 and problem.reason

"""Merging duplicate customers (seat.merge): every row with a customer foreign key moves,
numbers both had are kept once, the survivor's empty fields are filled, the other stays as a
tombstone hidden from search and lookup, and both histories tell it."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from seat import agents, audit, customers, merge, phone, search
from seat.callbacks import CallbackPolicy, schedule
from seat.cli import main
from seat.errors import PermissionDenied, StaleCustomer, ValidationError
from seat.models import (
    Call,
    Callback,
    Complaint,
    Customer,
    CustomerChange,
    PhoneNumber,
    Purchase,
    Suggestion,
    WorkOrder,
)
from tests.conftest import NOW


@pytest.fixture
def desk(session) -> dict[str, int]:
    """A supervisor, an agent, and two records of one person: the survivor (older, with
    work of its own) and a duplicate registered later with another number."""
    boss = agents.ensure_agent(session=session, name="zhao.lei", role="supervisor")
    li = agents.ensure_agent(session=session, name="li.na")
    keep = customers.create_customer(
        session=session, now=NOW - timedelta(days=90), name="Wang Fang",
        phone_text="138 0013 8000", tier="vip",
    )  # fmt: skip
    dup = customers.create_customer(
        session=session, now=NOW - timedelta(days=3), name="王芳 Wang Fang",
        phone_text="139 8765 4321", address="88 Nanjing Rd, Shanghai", birthday="1985-11-30",
        gender="female",
    )  # fmt: skip
    session.commit()
    return {"boss": boss.id, "li": li.id, "keep": keep.id, "dup": dup.id}


def _work_for(session: Session, customer_id: int, agent_id: int) -> None:
    """One row of every moved kind for the customer."""
    call = Call(agent_id=agent_id, customer_id=customer_id, started_at=NOW - timedelta(days=1))
    session.add(call)
    session.flush()
    session.add_all([
        Callback(customer_id=customer_id, owner_id=agent_id, reason="Follow up",
                 due_at=NOW + timedelta(days=1), created_at=NOW, call_id=call.id),
        WorkOrder(short_text="Washer leaks", customer_id=customer_id, due_at=NOW,
                  created_at=NOW, call_id=call.id),
        Complaint(customer_id=customer_id, owner_id=agent_id, what_happened="Late",
                  customer_wants="Refund", created_at=NOW),
        Suggestion(customer_id=customer_id, recorded_by_id=agent_id, text="Open on Sundays",
                   created_at=NOW),
        Purchase(customer_id=customer_id, order_no="SO-77", line_no=1, item="Washer",
                 amount=2999.0, purchased_at=NOW - timedelta(days=20)),
    ])  # fmt: skip
    session.commit()


def _numbers(session: Session, customer_id: int) -> list[str]:
    return sorted(
        session.execute(
            select(PhoneNumber.e164).where(PhoneNumber.customer_id == customer_id)
        ).scalars()
    )


def _merge(session: Session, desk: dict[str, int], **kw) -> merge.MergePlan:
    done = merge.merge(
        session, survivor_id=desk["keep"], other_id=desk["dup"],
        agent_id=kw.get("agent_id", desk["boss"]), now=NOW,
    )  # fmt: skip
    session.commit()
    return done


def test_every_customer_foreign_key_is_moved_or_kept_on_purpose():
    """A new table (or column) naming a customer fails here until the merge moves its rows
    (merge.MOVED) or says why they stay (merge.KEPT)."""
    moved = {(m.__tablename__, column) for m, column in merge.MOVED}  # type: ignore[attr-defined]
    assert not moved & set(merge.KEPT)
    assert merge.customer_foreign_keys() == moved | set(merge.KEPT)


def test_every_row_of_the_other_moves_to_the_survivor(session, desk):
    _work_for(session, desk["dup"], desk["li"])
    before = merge.plan(session, survivor_id=desk["keep"], other_id=desk["dup"])
    assert before.summary() == (
        "phone_number=1 call=1 callback=1 work_order=1 complaint=1 suggestion=1 purchase=1"
    )
    done = _merge(session, desk)
    assert done == before
    for model, column in merge.MOVED:
        col = getattr(model, column)
        left = session.execute(
            select(func.count()).select_from(model).where(col == desk["dup"])
        ).scalar_one()
        assert left == 0, model
    moved = session.execute(select(Call.customer_id)).scalars().all()
    assert moved == [desk["keep"]]
    assert session.execute(select(Purchase.customer_id)).scalar_one() == desk["keep"]


@pytest.mark.parametrize(
    ("extra", "expected", "duplicates"),
    [
        # Different numbers: the survivor has both.
        ((), ["+8613800138000", "+8613987654321"], 0),
        # The duplicate had the survivor's number too: kept once.
        (("138 0013 8000",), ["+8613800138000", "+8613987654321"], 1),
        # A family landline both had: once on the survivor, still the third customer's.
        (("021 6234 5678",), ["+862162345678", "+8613800138000", "+8613987654321"], 1),
    ],
    ids=["distinct", "duplicate", "shared-landline"],
)
def test_numbers_move_and_duplicates_collapse(session, desk, extra, expected, duplicates):
    third = customers.create_customer(session=session, now=NOW, name="Wang Lei",
                                      phone_text="138 1111 2222")  # fmt: skip
    for text in extra:
        e164 = phone.normalise(text, "CN")
        customers.attach_number(session=session, customer_id=desk["dup"], e164=e164,
                                agent_id=desk["li"], now=NOW)  # fmt: skip
        if text.startswith("021"):
            for cid in (desk["keep"], third.id):
                customers.attach_number(session=session, customer_id=cid, e164=e164,
                                        agent_id=desk["li"], now=NOW)  # fmt: skip
    session.commit()
    done = _merge(session, desk)
    assert done.count(merge.DUPLICATES) == duplicates
    assert _numbers(session, desk["keep"]) == sorted(expected)
    assert _numbers(session, desk["dup"]) == []
    if duplicates and extra[0].startswith("021"):
        assert "+862162345678" in _numbers(session, third.id)
    # The lookup by each number finds the survivor, never the tombstone.
    for e164 in expected:
        found = customers.find_all_by_phone(session=session, e164=e164)
        assert desk["keep"] in [h.id for h in found]
        assert desk["dup"] not in [h.id for h in found]


def test_the_survivor_keeps_its_fields_and_fills_its_empty_ones(session, desk):
    done = _merge(session, desk)
    assert set(done.filled) == {"address", "birthday", "gender"}
    keep = session.get(Customer, desk["keep"])
    assert (keep.name, keep.tier) == ("Wang Fang", "vip")  # its own
    assert keep.address == "88 Nanjing Rd, Shanghai"  # filled
    assert keep.birthday == date(1985, 11, 30)
    assert keep.gender == "female"


@pytest.mark.parametrize(
    ("query", "finds_survivor"),
    [
        ("王芳", False),  # only the tombstone's name has it
        ("#{dup}", False),
        ("Nanjing", True),  # the address filled in from the duplicate
        ("139 8765 4321", True),  # the duplicate's number, moved
        ("SO-77", True),  # the duplicate's order, moved
        ("Wang Fang", True),
    ],
)
def test_the_tombstone_is_kept_and_hidden_from_search(session, desk, query, finds_survivor):
    _work_for(session, desk["dup"], desk["li"])
    _merge(session, desk)
    session.expire_all()
    tomb = session.get(Customer, desk["dup"])
    assert tomb is not None  # not deleted: its history stays
    assert (tomb.merged_into_id, tomb.merged_at) == (desk["keep"], NOW)
    text = query.format(dup=desk["dup"])
    ids = [h.id for h in search.search(session=session, text=text)]
    assert desk["dup"] not in ids
    assert (desk["keep"] in ids) == finds_survivor


def test_the_merge_is_in_both_histories_sealed(session, desk):
    _work_for(session, desk["dup"], desk["li"])
    _merge(session, desk)
    lines, __ = customers.history(session=session, customer_id=desk["keep"])
    fields = {line.field: line for line in lines}
    assert fields["merged_from"].agent == "Zhao Lei"
    assert fields["merged_from"].at == NOW
    assert fields["merged_from"].new.startswith(f"#{desk['dup']} phone_number=1 call=1")
    assert fields["address"].old is None and fields["address"].new == "88 Nanjing Rd, Shanghai"
    tomb, __ = customers.history(session=session, customer_id=desk["dup"])
    assert tomb[0].field == "merged_into"
    assert tomb[0].new.startswith(f"#{desk['keep']} phone_number=1")
    assert merge.describe(tomb[0].new).startswith(f"#{desk['keep']} phone numbers: 1, calls: 1")
    check = audit.verify_table(session.connection(), "customer_change")
    assert check.broken is None


def test_an_agent_may_not_merge(session, desk):
    with pytest.raises(PermissionDenied, match="Only a supervisor can merge customers"):
        _merge(session, desk, agent_id=desk["li"])
    session.rollback()
    assert session.get(Customer, desk["dup"]).merged_into_id is None
    assert _numbers(session, desk["dup"]) == ["+8613987654321"]


@pytest.mark.parametrize("case", ["itself", "missing", "merged-other", "merged-survivor"])
def test_refused_merges_change_nothing(session, desk, case):
    if case.startswith("merged"):
        _merge(session, desk)
    survivor, other = {
        "itself": (desk["keep"], desk["keep"]),
        "missing": (desk["keep"], 999_999),
        "merged-other": (desk["keep"], desk["dup"]),
        "merged-survivor": (desk["dup"], desk["keep"]),
    }[case]
    count = session.execute(select(func.count()).select_from(CustomerChange)).scalar_one()
    with pytest.raises(ValidationError):
        merge.merge(session, survivor_id=survivor, other_id=other, agent_id=desk["boss"],
                    now=NOW)  # fmt: skip
    session.rollback()
    after = session.execute(select(func.count()).select_from(CustomerChange)).scalar_one()
    assert after == count


def test_a_change_committed_meanwhile_refuses_the_merge(session, engine, desk):
    """This seat read both customers; another seat edits the duplicate and commits; the
    merge's conditional UPDATE on the version finds it changed and writes nothing."""
    seen = session.get(Customer, desk["dup"])  # read, and kept by this session
    assert seen.version == 1
    session.commit()  # (SQLite would refuse a write on a read snapshot as old as this)
    with Session(engine) as other_seat:
        customers.update_customer(session=other_seat, customer_id=desk["dup"],
                                  agent_id=desk["li"], now=NOW, address="1 Other Rd")  # fmt: skip
        other_seat.commit()
    with pytest.raises(StaleCustomer):
        merge.merge(session, survivor_id=desk["keep"], other_id=desk["dup"],
                    agent_id=desk["boss"], now=NOW)  # fmt: skip
    session.rollback()
    session.expire_all()
    assert session.get(Customer, desk["dup"]).merged_into_id is None
    assert session.get(Customer, desk["dup"]).version == 2


def test_a_tombstone_cannot_be_edited_or_given_a_number(session, desk):
    _merge(session, desk)
    with pytest.raises(ValidationError, match="merged into"):
        customers.update_customer(session=session, customer_id=desk["dup"],
                                  agent_id=desk["li"], now=NOW, address="x")  # fmt: skip
    with pytest.raises(ValidationError, match="merged into"):
        customers.attach_number(session=session, customer_id=desk["dup"],
                                e164="+8613700001111", agent_id=desk["li"], now=NOW)  # fmt: skip


# -- seat customers merge SURVIVOR OTHER [--yes] ----------------------------------------------


def _merged_into(engine, customer_id: int) -> int | None:
    with Session(engine) as s:
        return s.get(Customer, customer_id).merged_into_id


@pytest.mark.parametrize(
    ("answer", "flags", "code", "merged"),
    [
        ("", ["--yes"], 0, True),
        ("y\n", [], 0, True),
        ("n\n", [], 1, False),
        ("\n", [], 1, False),
    ],
    ids=["yes-flag", "answered-y", "answered-n", "no-answer"],
)
def test_command_line_merge(
    db_url, engine, desk, cli_token, capsys, monkeypatch, answer, flags, code, merged
):
    with Session(engine) as s:
        _work_for(s, desk["dup"], desk["li"])
    cli_token(db_url, login="zhao.lei")
    monkeypatch.setattr("sys.stdin", io.StringIO(answer))
    argv = ["customers", "merge", str(desk["keep"]), str(desk["dup"]), *flags, "--db", db_url]
    assert main(argv) == code
    out = capsys.readouterr().out
    assert f"Customer #{desk['dup']} 王芳 Wang Fang will be merged into #{desk['keep']}" in out
    assert "Moves: phone numbers: 1, calls: 1, callbacks: 1" in out
    assert "Fills in: gender, birthday, address" in out
    assert (_merged_into(engine, desk["dup"]) == desk["keep"]) == merged
    assert ("Merged: customer" in out) == merged


@pytest.mark.parametrize(
    ("login", "role", "args", "message"),
    [
        ("li.na", "agent", ["{keep}", "{dup}"], "Only a supervisor can merge customers"),
        ("zhao.lei", "supervisor", ["{keep}", "999999"], "Customer #999999 is not on file."),
        ("zhao.lei", "supervisor", ["{keep}", "{keep}"], "cannot be merged into itself"),
    ],
    ids=["agent", "missing", "itself"],
)
def test_command_line_merge_refused(db_url, engine, desk, cli_token, capsys, login, role,
                                    args, message):  # fmt: skip
    cli_token(db_url, login=login, role=role)
    argv = ["customers", "merge", *(a.format(**desk) for a in args), "--yes", "--db", db_url]
    assert main(argv) == 1
    assert message in capsys.readouterr().err
    assert _merged_into(engine, desk["dup"]) is None


def test_command_line_merge_usage(db_url, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["customers", "merge", "12", "--db", db_url])
    assert exited.value.code == 2


@pytest.mark.parametrize("merged", [False, True])
def test_the_callback_rules_leave_a_tombstone_alone(session, desk, merged):
    """A tombstone keeps its birthday and has no calls or purchases left: without the
    merge check the rules would greet it and call it back as churned."""
    old = customers.create_customer(
        session=session, now=NOW - timedelta(days=400), name="Old Friend",
        phone_text="139 5555 0001", tier="vip", birthday="1980-11-28",
    )  # fmt: skip
    session.commit()
    if merged:
        merge.merge(session, survivor_id=desk["keep"], other_id=old.id, agent_id=desk["boss"],
                    now=NOW)  # fmt: skip
        session.commit()
    schedule(session=session, now=NOW, policy=CallbackPolicy())
    session.commit()
    kinds = set(
        session.execute(select(Callback.kind).where(Callback.customer_id == old.id)).scalars()
    )
    assert kinds == (set() if merged else {"birthday", "churned"})

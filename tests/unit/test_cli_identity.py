"""The command line knows who runs it: commands that print personal data sign in first, mask
phones and addresses for agents as the screens do, and log every use; `seat agents` is for
supervisors (and the first supervisor's bootstrap)."""

from __future__ import annotations

import io
import json

import pytest
from sqlmodel import Session, select

from seat import identity
from seat.cli import main
from seat.models import Agent, SignInEvent


@pytest.fixture
def passwords(engine, world):
    with Session(engine) as s:
        identity.set_password(session=s, agent_id=world["li"], password="lina-secret-1")
        boss = Agent(name="zhao.lei", display_name="Zhao Lei", role="supervisor")
        s.add(boss)
        s.flush()
        identity.set_password(session=s, agent_id=boss.id, password="boss-secret-1")
        s.commit()


def _stdin(monkeypatch, *lines: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{line}\n" for line in lines)))


def _uses(engine) -> list[tuple[str, str, str]]:
    with Session(engine) as s:
        rows = s.exec(select(SignInEvent).order_by(SignInEvent.id)).all()
        return [(r.login, r.outcome, r.via) for r in rows]


def test_find_without_signing_in_prints_nothing(db_url, passwords, capsys, monkeypatch):
    monkeypatch.delenv("SEAT_TOKEN", raising=False)
    assert main(["customers", "find", "138 0013 8000", "--json", "--db", db_url]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "--as LOGIN" in out.err


def test_an_agent_sees_masked_numbers_and_the_use_is_logged(
    db_url, engine, passwords, capsys, monkeypatch
):
    monkeypatch.delenv("SEAT_TOKEN", raising=False)
    _stdin(monkeypatch, "lina-secret-1")
    argv = ["customers", "find", "138 0013 8000", "--json", "--as", "li.na", "--db", db_url]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)["customer"]
    assert data["phones"] == ["138****8000"]
    assert "Nanjing" not in (data["address"] or "") and "*" in data["address"]
    assert _uses(engine)[-1] == ("li.na", "ok", "customers find")


def test_a_supervisor_token_sees_them_whole(db_url, engine, passwords, capsys, cli_token):
    cli_token(db_url, "zhao.lei")
    assert main(["customers", "find", "138 0013 8000", "--json", "--db", db_url]) == 0
    data = json.loads(capsys.readouterr().out)["customer"]
    assert data["phones"] == ["+8613800138000"]
    assert data["address"] == "88 Nanjing Rd, Shanghai"
    assert _uses(engine)[-1] == ("zhao.lei", "ok_token", "customers find")


def test_a_wrong_password_or_a_forged_token_is_refused_and_logged(
    db_url, engine, passwords, capsys, monkeypatch
):
    _stdin(monkeypatch, "guess-guess")
    assert main(["workplan", "--date", "2026-11-23", "--as", "li.na", "--db", db_url]) == 2
    assert "Wrong login or password" in capsys.readouterr().err
    monkeypatch.setenv("SEAT_TOKEN", "seat_zhao.lei:forged")
    assert main(["report", "callbacks", "--from", "2026-11-01", "--to", "2026-11-23",
                 "--db", db_url]) == 2  # fmt: skip
    assert "not valid" in capsys.readouterr().err
    assert _uses(engine)[-2:] == [
        ("li.na", "wrong_password", "workplan"),
        ("zhao.lei", "bad_token", "report callbacks"),
    ]


def test_the_work_plan_printed_by_an_agent_masks_addresses(
    db_url, engine, passwords, capsys, monkeypatch
):
    """The world's work orders go to Wang Fang, 88 Nanjing Rd, 138 0013 8000."""
    from seat.privacy import ADDRESS_MASK

    _stdin(monkeypatch, "lina-secret-1")
    assert main(["workplan", "--date", "2026-11-23", "--format", "csv", "--as", "li.na",
                 "--db", db_url]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "Nanjing" not in out
    assert "+8613800138000" not in out and "138 0013 8000" not in out
    assert "Wang Fang" in out and ADDRESS_MASK in out


def test_agents_commands_need_a_supervisor(db_url, passwords, capsys, monkeypatch):
    monkeypatch.delenv("SEAT_TOKEN", raising=False)
    _stdin(monkeypatch, "lina-secret-1")
    assert main(["agents", "list", "--as", "li.na", "--db", db_url]) == 2
    assert "Only a supervisor" in capsys.readouterr().err
    _stdin(monkeypatch, "boss-secret-1")
    assert main(["agents", "list", "--as", "zhao.lei", "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert "li.na" in out and "can sign in" in out and "wang.wei" in out and "no password" in out


def test_a_supervisor_adds_disables_and_promotes(db_url, engine, passwords, capsys, monkeypatch):
    monkeypatch.delenv("SEAT_TOKEN", raising=False)
    _stdin(monkeypatch, "boss-secret-1", "fang-secret-1")
    assert main(["agents", "add", "wu.fang", "--name", "Wu Fang", "--as", "zhao.lei",
                 "--db", db_url]) == 0  # fmt: skip
    with Session(engine) as s:
        who = identity.authenticate(session=s, login="wu.fang", password="fang-secret-1",
                                    now=identity_now(), via="test")  # fmt: skip
        assert who.display_name == "Wu Fang" and not who.supervisor
    _stdin(monkeypatch, "boss-secret-1")
    assert main(["agents", "role", "wu.fang", "supervisor", "--as", "zhao.lei",
                 "--db", db_url]) == 0  # fmt: skip
    _stdin(monkeypatch, "boss-secret-1")
    assert main(["agents", "disable", "li.na", "--as", "zhao.lei", "--db", db_url]) == 0
    _stdin(monkeypatch, "lina-secret-1")
    assert main(["customers", "find", "138 0013 8000", "--as", "li.na", "--db", db_url]) == 2
    assert "disabled" in capsys.readouterr().err
    with Session(engine) as s:
        assert s.exec(select(Agent.role).where(Agent.name == "wu.fang")).one() == "supervisor"


def test_an_agent_changes_their_own_password_only(db_url, engine, passwords, capsys, monkeypatch):
    monkeypatch.delenv("SEAT_TOKEN", raising=False)
    _stdin(monkeypatch, "lina-secret-1", "lina-secret-2")
    assert main(["agents", "passwd", "li.na", "--as", "li.na", "--db", db_url]) == 0
    _stdin(monkeypatch, "lina-secret-2", "boss-took-over")
    assert main(["agents", "passwd", "zhao.lei", "--as", "li.na", "--db", db_url]) == 2
    with Session(engine) as s:
        identity.authenticate(session=s, login="zhao.lei", password="boss-secret-1",
                              now=identity_now(), via="test")  # fmt: skip


def test_the_first_supervisor_gets_a_password_without_signing_in_once(
    db_url, engine, world, capsys, monkeypatch
):
    monkeypatch.delenv("SEAT_TOKEN", raising=False)
    _stdin(monkeypatch, "first-boss-1")
    assert main(["agents", "add", "zhao.lei", "--role", "supervisor", "--db", db_url]) == 0
    # From now on a supervisor can sign in, so nobody else gets in that way.
    _stdin(monkeypatch, "intruder-pw-1")
    assert main(["agents", "add", "mallory", "--role", "supervisor", "--db", db_url]) == 2
    with Session(engine) as s:
        assert s.exec(select(Agent).where(Agent.name == "mallory")).first() is None


def identity_now():
    from tests.conftest import NOW

    return NOW


def test_a_supervisor_sets_an_agents_phone_extension(db_url, engine, passwords, capsys,
                                                      monkeypatch):  # fmt: skip
    """`seat agents extension`: the extension `seat cti serve` maps to the agent; one agent
    per extension; "-" clears it; nonsense is refused."""
    monkeypatch.delenv("SEAT_TOKEN", raising=False)

    def ext(login: str, value: str) -> int:
        _stdin(monkeypatch, "boss-secret-1")
        return main(["agents", "extension", login, value, "--as", "zhao.lei", "--db", db_url])

    assert ext("li.na", "201") == 0
    assert ext("zhao.lei", "201") == 2
    assert "belongs to li.na" in capsys.readouterr().err
    assert ext("zhao.lei", "20 1; rm") == 2
    assert "up to 20 letters" in capsys.readouterr().err
    with Session(engine) as s:
        assert s.exec(select(Agent.extension).where(Agent.name == "li.na")).one() == "201"
    assert ext("li.na", "-") == 0
    with Session(engine) as s:
        assert s.exec(select(Agent.extension).where(Agent.name == "li.na")).one() is None


def test_agents_add_and_role_take_the_floor_roles(db_url, engine, passwords, capsys,
                                                  monkeypatch):  # fmt: skip
    monkeypatch.delenv("SEAT_TOKEN", raising=False)
    _stdin(monkeypatch, "boss-secret-1", "qian-secret-1")
    assert main(["agents", "add", "qian.yu", "--name", "Qian Yu", "--role", "quality",
                 "--as", "zhao.lei", "--db", db_url]) == 0  # fmt: skip
    _stdin(monkeypatch, "boss-secret-1")
    assert main(["agents", "role", "li.na", "shift_lead", "--as", "zhao.lei",
                 "--db", db_url]) == 0  # fmt: skip
    with Session(engine) as s:
        found = dict(s.exec(select(Agent.name, Agent.role)).all())
    assert (found["qian.yu"], found["li.na"]) == ("quality", "shift_lead")
    _stdin(monkeypatch, "boss-secret-1")
    assert main(["agents", "list", "--as", "zhao.lei", "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert "quality" in out and "shift_lead" in out
    # neither manages agents: that stays a supervisor's
    _stdin(monkeypatch, "qian-secret-1")
    assert main(["agents", "list", "--as", "qian.yu", "--db", db_url]) == 2

"""The phone system's call events (seat.cti) and the HTTP endpoint that carries them
(seat.cti_server), driven with real HTTP requests."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlmodel import Session

from seat import calls, cti
from seat.cti_server import CtiServer, read_token
from seat.models import Agent, Call, CtiCall, ScreenPop
from seat.scripts import load_scripts
from tests.conftest import NOW

TOKEN = "t0ken-for-the-tests-0123456789"


# -- the contract -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"event": "ring", "callId": "1"}, "event must be one of"),
        ({"event": "newCall"}, "callId is required"),
        ({"event": "newCall", "callId": "  "}, "callId is required"),
        ({"event": "newCall", "callId": "1", "direction": "sideways"}, "direction must be"),
        ({"event": "newCall", "callId": "1", "from": "1" * 41}, "from is longer than 40"),
        ({"event": "newCall", "callId": "1", "user": "li\x1b[31m"}, "control characters"),
        ({"event": "newCall", "callId": "1", "colour": "red"}, "unknown field(s): colour"),
        ({"event": "newCall", "callId": 7}, "callId must be text"),
        ({"event": "answer", "callId": "1", "recording": "/r.wav"}, "recording comes with"),
    ],
)
def test_a_bad_event_says_why(fields, reason):
    with pytest.raises(cti.CtiError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        cti.parse(fields)


@pytest.mark.parametrize(
    ("direction", "expected"),
    [("in", "inbound"), ("out", "outbound"), ("IN", "inbound"), ("", "inbound")],
)
def test_directions(direction, expected):
    event = cti.parse({"event": "newCall", "callId": "9", "direction": direction})
    assert event.direction == expected


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13800138000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("anonymous", ""),
        ("Anonymous", ""),
        ("", ""),
        ("sip:anonymous@anonymous.invalid", ""),
        ("withheld", ""),
        ("not a number", ""),
    ],
)
def test_the_caller_as_the_seat_looks_them_up(raw, e164):
    assert cti.caller_e164(raw, "CN") == e164


# -- applying events --------------------------------------------------------------------------


def _apply(engine, **fields):
    with Session(engine, expire_on_commit=False) as s:
        done = cti.apply(session=s, event=cti.parse(fields), now=NOW, region="CN")
        s.commit()
        return done


def _pops(engine) -> list[ScreenPop]:
    with Session(engine) as s:
        return list(s.execute(select(ScreenPop).order_by(ScreenPop.id)).scalars())


def test_a_new_call_pops_on_the_agent_its_extension_names(engine, world):
    with Session(engine) as s:
        s.execute(update(Agent).where(Agent.id == world["li"]).values(extension="201"))
        s.commit()
    done = _apply(engine, event="newCall", callId="c1", **{"from": "13800138000"}, user="201")
    assert done.agent_id == world["li"] and not done.duplicate
    (pop,) = _pops(engine)
    assert (pop.e164, pop.agent_id, pop.call_ref) == ("+8613800138000", world["li"], "c1")


def test_a_login_names_the_agent_too_and_nobody_means_any_free_seat(engine, world):
    assert _apply(engine, event="newCall", callId="a", user="wang.wei").agent_id == world["wang"]
    assert _apply(engine, event="newCall", callId="b", user="9999").agent_id is None
    assert [p.agent_id for p in _pops(engine)] == [world["wang"], None]


def test_the_same_call_announced_twice_pops_once(engine, world):
    _apply(engine, event="newCall", callId="dup", **{"from": "13800138000"})
    again = _apply(engine, event="newCall", callId="dup", **{"from": "13800138000"})
    assert again.duplicate and len(_pops(engine)) == 1


def test_an_anonymous_caller_pops_as_unknown(engine, world):
    _apply(engine, event="newCall", callId="anon", **{"from": "anonymous"}, user="li.na")
    (pop,) = _pops(engine)
    assert pop.e164 == "" and pop.agent_id == world["li"]


def test_an_outbound_call_pops_nothing(engine, world):
    _apply(engine, event="newCall", callId="out", direction="out", to="13800138000",
           user="li.na")  # fmt: skip
    assert _pops(engine) == []


def test_a_queue_call_rings_the_agent_who_answered(engine, world):
    _apply(engine, event="newCall", callId="q1", queue="sales", **{"from": "13800138000"})
    _apply(engine, event="answer", callId="q1", user="wang.wei")
    (pop,) = _pops(engine)
    assert pop.agent_id == world["wang"]
    with Session(engine) as s:
        row = s.execute(select(CtiCall)).scalar_one()
        assert row.answered_at == NOW and row.agent_id == world["wang"]


def test_events_for_a_call_never_announced_change_nothing(engine, world):
    for event in ("answer", "hangup"):
        with pytest.raises(cti.CtiError) as caught:
            _apply(engine, event=event, callId="ghost")
        assert caught.value.status == 404
    with Session(engine) as s:
        assert s.execute(select(func.count()).select_from(CtiCall)).scalar() == 0


def test_the_saved_call_carries_the_phone_systems_times_and_recording(engine, world, settings):
    """Events before the save reach the call when it is saved; a hang-up after it updates it."""
    _apply(engine, event="newCall", callId="x1", **{"from": "13800138000"}, user="li.na")
    with Session(engine) as s:
        cti.apply(session=s, event=cti.parse({"event": "answer", "callId": "x1"}),
                  now=NOW + timedelta(seconds=4), region="CN")  # fmt: skip
        s.commit()
    scripts, __ = load_scripts(settings.scripts_dir)
    state = calls.CallState(script=scripts["inbound"], agent_id=world["li"], started_at=NOW,
                            customer_id=world["fang"], call_ref="x1")  # fmt: skip
    state.in_wrapup, state.outcome = True, "resolved"
    state.values["need_category"] = "inquiry"
    with Session(engine) as s:
        saved = calls.save_call(session=s, state=state, now=NOW + timedelta(minutes=3))
        s.commit()
        call_id = saved.id
    with Session(engine) as s:
        cti.apply(session=s, event=cti.parse({"event": "hangup", "callId": "x1",
                                              "cause": "normalClearing",
                                              "recording": "https://pbx/rec/x1.wav"}),
                  now=NOW + timedelta(minutes=2), region="CN")  # fmt: skip
        s.commit()
    with Session(engine) as s:
        call = s.get(Call, call_id)
        assert call.call_ref == "x1"
        assert call.answered_at == NOW + timedelta(seconds=4)
        assert call.hung_up_at == NOW + timedelta(minutes=2)
        assert call.recording == "https://pbx/rec/x1.wav"
        assert call.ended_at == NOW + timedelta(minutes=3)  # the seat's own end: wrap-up saved
        row = s.execute(select(CtiCall)).scalar_one()
        assert row.cause == "normalClearing"


# -- the token --------------------------------------------------------------------------------


def test_the_token_comes_from_the_environment_or_a_file(tmp_path, monkeypatch):
    monkeypatch.delenv("SEAT_CTI_TOKEN", raising=False)
    with pytest.raises(ValueError, match="no token"):
        read_token(None)
    monkeypatch.setenv("SEAT_CTI_TOKEN", "short")
    with pytest.raises(ValueError, match="at least 16"):
        read_token(None)
    monkeypatch.setenv("SEAT_CTI_TOKEN", TOKEN)
    assert read_token(None) == TOKEN
    f = tmp_path / "token"
    f.write_text("from-the-file-0123456789\n")
    assert read_token(f) == "from-the-file-0123456789"


# -- over HTTP ----------------------------------------------------------------------------------


@pytest.fixture
def server(engine, world):
    logged: list[str] = []
    srv = CtiServer(("127.0.0.1", 0), engine=engine, token=TOKEN, region="CN",
                    now=lambda: NOW, log=logged.append)  # fmt: skip
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    srv.logged = logged  # type: ignore[attr-defined]
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(10)


def _post(srv, body: bytes | str | dict, *, token: str = TOKEN, kind: str | None = None,
          method: str = "POST", path: str | None = None):  # fmt: skip
    port = srv.server_address[1]
    if isinstance(body, dict):
        body = urllib.parse.urlencode(body)
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path or '/cti/' + token}",
        data=data if method == "POST" else None, method=method,
        headers={"Content-Type": kind or "application/x-www-form-urlencoded"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=30) as got:
            return got.status, json.loads(got.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def test_pop_answer_hangup_over_http(server, engine, world):
    status, body = _post(server, {
        "event": "newCall", "callId": "h1", "from": "13800138000", "to": "4008001234",
        "direction": "in", "user": "li.na",
    })  # fmt: skip
    assert status == 200 and body["ok"] and body["agent"] == world["li"] and body["pop"]
    assert _post(server, {"event": "answer", "callId": "h1", "user": "li.na"})[0] == 200
    status, body = _post(server, json.dumps({"event": "hangup", "callId": "h1",
                                             "cause": "normalClearing"}),
                         kind="application/json")  # fmt: skip
    assert status == 200
    with Session(engine) as s:
        row = s.execute(select(CtiCall)).scalar_one()
        assert row.answered_at == NOW and row.ended_at == NOW and row.cause == "normalClearing"
    assert not any(TOKEN in line for line in server.logged)  # the path is never logged


def test_an_anonymous_caller_over_http(server, engine, world):
    status, __ = _post(server, {"event": "newCall", "callId": "an", "from": "anonymous"})
    assert status == 200
    assert _pops(engine)[0].e164 == ""


@pytest.mark.parametrize(
    ("body", "kind", "token", "method", "path", "status", "reason"),
    [
        ({"event": "newCall", "callId": "1"}, None, "wrong-token-0123456789", "POST", None, 403,
         "wrong token"),
        ({"event": "newCall", "callId": "1"}, None, TOKEN, "GET", None, 405, "POST"),
        ({"event": "newCall", "callId": "1"}, None, TOKEN, "POST", "/other", 404, "/cti/"),
        ("{not json", "application/json", TOKEN, "POST", None, 400, "not JSON"),
        ("[1, 2]", "application/json", TOKEN, "POST", None, 400, "must be an object"),
        ("event=newCall&callId=1&callId=2", None, TOKEN, "POST", None, 400, "more than once"),
        ("event=newCall&&&=", None, TOKEN, "POST", None, 400, "cannot be read"),
        (b"event=newCall&callId=\xff", None, TOKEN, "POST", None, 400, "not UTF-8"),
        ("<xml/>", "text/xml", TOKEN, "POST", None, 415, "send a form or JSON"),
        ("x=" + "a" * 20000, None, TOKEN, "POST", None, 413, "at most"),
        ({"event": "hangup", "callId": "never"}, None, TOKEN, "POST", None, 404, "never"),
        ({"event": "newCall", "callId": "1", "from": "$(rm -rf /)`id`;"}, None, TOKEN, "POST",
         None, 200, ""),
    ],
)
def test_bad_requests_get_a_4xx_with_the_reason_and_change_nothing(
    server, engine, body, kind, token, method, path, status, reason
):
    got, answer = _post(server, body, token=token, kind=kind, method=method, path=path)
    assert got == status, answer
    if status != 200:
        assert reason in answer["error"]
        assert _pops(engine) == []
    else:  # a hostile caller id is only text: it pops as unknown, nothing runs
        assert _pops(engine)[0].e164 == ""
    assert _post(server, {"event": "newCall", "callId": "after"})[0] == 200  # still serving


def test_a_burst_of_a_thousand_events_is_all_processed(server, engine, world):
    events = [{"event": "newCall", "callId": f"b{i}", "from": f"1390000{i:04d}"}
              for i in range(500)]  # fmt: skip
    events += [{"event": "newCall", "callId": f"b{i}"} for i in range(0, 500, 2)]  # repeats
    events += [{"event": "hangup", "callId": f"b{i}", "cause": "busy"} for i in range(250)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        first = list(pool.map(lambda e: _post(server, e)[0], events[:750]))
        rest = list(pool.map(lambda e: _post(server, e)[0], events[750:]))
    assert first + rest == [200] * 1000
    with Session(engine) as s:
        assert s.execute(select(func.count()).select_from(CtiCall)).scalar() == 500
        assert s.execute(select(func.count()).select_from(ScreenPop)).scalar() == 500
        ended = s.execute(
            select(func.count()).select_from(CtiCall).where(CtiCall.ended_at.is_not(None))
        ).scalar()
        assert ended == 250

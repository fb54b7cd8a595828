"""Quality spot-checks (seat.quality): the draw (reproducible, at least the policy's share,
stratified by need), the score form, scoring and what the report adds up."""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from seat import agents, quality, roles
from seat.cli import main
from seat.clock import SystemClock
from seat.config import DATA_DIR
from seat.errors import PolicyError
from seat.models import Call, CallCheck, CallStage, QualityMark, QualitySample, Role
from seat.reports import REPORTS
from seat.reports import quality as quality_report
from seat.scripts import load_scripts
from tests.conftest import NOW

ZONE = ZoneInfo("Asia/Shanghai")
NOVEMBER = quality.Period(date(2026, 11, 1), date(2026, 11, 30))
POLICY = quality.QualityPolicy()


def _calls(needs: dict[str, int]) -> list[tuple[int, str]]:
    out, next_id = [], 1
    for need, count in needs.items():
        for __ in range(count):
            out.append((next_id, need))
            next_id += 1
    return out


NEEDS = {"repair": 37, "inquiry": 12, "complaint": 4, "callback": 9, "notice": 1}


def test_the_draw_is_reproducible_and_seeded_by_period_and_agent():
    calls = _calls(NEEDS)
    seed = quality.seed_for(NOVEMBER.first, NOVEMBER.last, 7)
    first = quality.draw(calls, policy=POLICY, seed=seed)
    assert quality.draw(list(reversed(calls)), policy=POLICY, seed=seed) == first
    others = {
        tuple(quality.draw(calls, policy=POLICY, seed=quality.seed_for(NOVEMBER.first,
                                                                        NOVEMBER.last, agent)))
        for agent in range(8, 14)
    }  # fmt: skip
    assert tuple(first) not in others or len(others) > 1  # another agent: another draw
    december = quality.seed_for(date(2026, 12, 1), date(2026, 12, 31), 7)
    assert quality.draw(calls, policy=POLICY, seed=december) != first


@pytest.mark.parametrize("share", [Fraction(1, 5), Fraction(1, 10), Fraction(1, 3), Fraction(1)])
@pytest.mark.parametrize("min_per_need", [0, 1, 3])
def test_the_draw_takes_at_least_the_share_of_every_need(share, min_per_need):
    policy = quality.QualityPolicy(share=share, min_per_need=min_per_need)
    calls = _calls(NEEDS)
    need_of = dict(calls)
    chosen = quality.draw(calls, policy=policy, seed="s")
    assert len(chosen) == len(set(chosen))
    drawn = Counter(need_of[c] for c in chosen)
    for need, count in NEEDS.items():
        assert drawn[need] >= share * count  # stratified: every need holds its share
        assert drawn[need] == min(count, max(min_per_need, math.ceil(share * count)))
    assert len(chosen) >= share * len(calls)


def test_a_fifth_of_fifteen_is_three_not_four():
    # 0.2 * 15 is 3.0000000000000004 in floating point: the policy reads 0.2 as 1/5.
    policy = quality.policy_from_dict({"sample": {"share": 0.2, "min_per_need": 0}})
    assert quality.wanted(15, policy) == 3


@pytest.mark.parametrize(
    "raw, problem",
    [
        ({"sample": {"share": 0}}, "share"),
        ({"sample": {"share": 1.5}}, "share"),
        ({"sample": {"share": True}}, "share"),
        ({"sample": {"min_per_need": -1}}, "min_per_need"),
        ({"sample": {"every": 3}}, "unknown key"),
        ({"draw": {}}, "unknown section"),
    ],
)
def test_a_bad_policy_says_what_is_wrong(raw, problem):
    with pytest.raises(ValueError, match=problem):
        quality.policy_from_dict(raw)


def test_the_shipped_policy_is_a_fifth(tmp_path):
    # The checkout's own file (DATA_DIR may be another checkout's, installed editable).
    shipped = Path(__file__).resolve().parents[2] / "data" / "policy" / "quality.toml"
    policy = quality._load(shipped, "UTC")
    assert policy == quality.QualityPolicy(share=Fraction(1, 5), min_per_need=1)
    broken = tmp_path / "quality.toml"
    broken.write_text("[sample\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="quality.toml"):
        quality._load(broken, "UTC")


def test_months_newest_first():
    got = quality.months(date(2026, 1, 15), 3)
    assert [(p.first, p.last) for p in got] == [
        (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2025, 12, 1), date(2025, 12, 31)),
        (date(2025, 11, 1), date(2025, 11, 30)),
    ]
    assert got[0].label == "2026-01"


# -- against the database ------------------------------------------------------------------


@pytest.fixture
def boss(session):
    row = agents.ensure_agent(session=session, name="zhao.lei", role=Role.SUPERVISOR)
    session.commit()
    return row


def _add_calls(session, agent_id: int, needs: dict[str, int], *, outcome: str = "resolved"):
    ids = []
    for i, (need, count) in enumerate((n, c) for n, c in needs.items() for __ in range(1)):
        for j in range(count):
            started = NOW - timedelta(days=1 + (i * 7 + j) % 20, minutes=j)
            call = Call(
                agent_id=agent_id, started_at=started, ended_at=started + timedelta(minutes=4),
                need_category=None if need == "callback" else need,
                callback_id=1 if need == "callback" else None, outcome=outcome,
                script="callback" if need == "callback" else "inbound",
                direction="outbound" if need == "callback" else "inbound",
            )  # fmt: skip
            session.add(call)
            session.flush()
            ids.append(call.id)
    session.commit()
    return ids


def test_draw_sample_stores_a_stratified_sample_once(session, world, boss):
    _add_calls(session, world["li"], {"repair": 11, "inquiry": 6, "callback": 4})
    _add_calls(session, world["li"], {"repair": 3}, outcome="no_answer")  # reached nobody
    _add_calls(session, world["wang"], {"repair": 5})
    first = quality.draw_sample(
        session, by=boss, by_id=boss.id, agent_id=world["li"], period=NOVEMBER, policy=POLICY,
        zone=ZONE, now=NOW,
    )  # fmt: skip
    session.commit()
    assert Counter(r.need for r in first) == {"repair": 3, "inquiry": 2, "callback": 1}
    assert {r.kind for r in first if r.need == "callback"} == {"callback"}
    again = quality.draw_sample(
        session, by=boss, by_id=boss.id, agent_id=world["li"], period=NOVEMBER, policy=POLICY,
        zone=ZONE, now=NOW + timedelta(hours=1),
    )  # fmt: skip
    session.commit()
    assert [r.call_id for r in again] == [r.call_id for r in first]
    assert session.exec(select(QualitySample)).all().__len__() == 6
    over = {a.agent_id: a for a in quality.overview(session, period=NOVEMBER, zone=ZONE)}
    assert (over[world["li"]].calls, over[world["li"]].sampled) == (21, 6)
    assert (over[world["wang"]].calls, over[world["wang"]].sampled) == (5, 0)


def test_only_a_supervisor_draws_or_scores(session, world):
    li = session.get(agents.Agent, world["li"])
    with pytest.raises(roles.PermissionDenied):
        quality.draw_sample(session, by=li, by_id=li.id, agent_id=li.id, period=NOVEMBER,
                            policy=POLICY, zone=ZONE, now=NOW)  # fmt: skip
    with pytest.raises(roles.PermissionDenied):
        quality.save_score(session, by=li, by_id=li.id, sample_id=1, version=1,
                           marks=[("manner:greeting", "x", 1)], comments="", now=NOW)  # fmt: skip


def _scripts():
    found, problems = load_scripts(DATA_DIR / "scripts")
    assert problems == []
    return found


def test_the_form_lists_the_walked_stages_ticks_and_manners(session, world, boss):
    (call_id,) = _add_calls(session, world["li"], {"repair": 1})
    for position, sid in enumerate(("greeting", "discovery")):
        session.add(CallStage(call_id=call_id, position=position, stage_id=sid, phase=sid,
                              seconds=30.0 * (position + 1)))  # fmt: skip
    session.add(CallCheck(call_id=call_id, stage_id="greeting", item_no=1, item="x", ticked=True))
    session.commit()
    (row,) = quality.draw_sample(session, by=boss, by_id=boss.id, agent_id=world["li"],
                                 period=NOVEMBER, policy=POLICY, zone=ZONE, now=NOW)  # fmt: skip
    scripts = _scripts()
    form = quality.score_form(session, sample_id=row.sample_id, script_for=scripts.get)
    inbound = scripts["inbound"]
    greeting, discovery = inbound.stage("greeting"), inbound.stage("discovery")
    expected = len(greeting.checklist) + len(discovery.checklist) + 5
    assert len(form.items) == expected
    assert form.items[1].key == "inbound:greeting.1" and form.items[1].ticked is True
    assert form.items[0].ticked is None  # not recorded
    assert [i.key for i in form.items[-5:]] == [
        "manner:greeting", "manner:identity", "manner:need_restated",
        "manner:forbidden_phrases", "manner:closing",
    ]  # fmt: skip
    assert all(i.mark == 1 for i in form.items)  # a new form starts all met
    assert form.stage_seconds == (("Greeting", 30.0), ("Need discovery", 60.0))
    assert not form.scored


def _score(session, boss, sample_id, version, marks, comments=""):
    return quality.save_score(session, by=boss, by_id=boss.id, sample_id=sample_id,
                              version=version, marks=marks, comments=comments, now=NOW)  # fmt: skip


def test_scoring_saves_marks_and_refuses_a_stale_form(session, world, boss):
    _add_calls(session, world["li"], {"repair": 1})
    (row,) = quality.draw_sample(session, by=boss, by_id=boss.id, agent_id=world["li"],
                                 period=NOVEMBER, policy=POLICY, zone=ZONE, now=NOW)  # fmt: skip
    marks = [("inbound:greeting.0", "Name", 1), ("inbound:greeting.1", "Confirm", 0),
             ("manner:closing", "Closing", None), ("manner:greeting", "Greet", 1)]  # fmt: skip
    assert _score(session, boss, row.sample_id, 1, marks, "  Forgot to confirm.  ") == 66.7
    session.commit()
    sample = session.get(QualitySample, row.sample_id)
    assert (sample.version, sample.comments, sample.scored_by_id) == (2, "Forgot to confirm.",
                                                                      boss.id)  # fmt: skip
    with pytest.raises(quality.StaleSample):
        _score(session, boss, row.sample_id, 1, marks)  # read before the first score
    session.rollback()
    assert _score(session, boss, row.sample_id, 2, marks[:1]) == 100.0  # scored again
    session.commit()
    assert len(session.exec(select(QualityMark)).all()) == 1
    with pytest.raises(quality.ValidationError):
        _score(session, boss, row.sample_id, 3, [("manner:closing", "c", 2)])
    own = quality.own_scores(session, agent_id=world["li"])
    assert [(o.score, o.missed) for o in own] == [(100.0, ())]


def test_the_report_adds_up_per_agent_and_per_item(session, world, boss, settings):
    _add_calls(session, world["li"], {"repair": 2})
    _add_calls(session, world["wang"], {"repair": 1})
    one = quality.QualityPolicy(share=Fraction(1), min_per_need=1)
    drawn = []
    for agent_id in (world["li"], world["wang"]):
        drawn += quality.draw_sample(session, by=boss, by_id=boss.id, agent_id=agent_id,
                                     period=NOVEMBER, policy=one, zone=ZONE, now=NOW)  # fmt: skip
    li1, li2, wang1 = drawn
    _score(session, boss, li1.sample_id, 1, [("inbound:greeting.0", "Name", 1),
                                             ("manner:closing", "Closing", 1)])  # fmt: skip
    _score(session, boss, li2.sample_id, 1, [("inbound:greeting.0", "Name", 0),
                                             ("manner:closing", "Closing", 1)])  # fmt: skip
    _score(session, boss, wang1.sample_id, 1, [("inbound:greeting.0", "Name", None),
                                               ("manner:closing", "Closing", 0)])  # fmt: skip
    session.commit()
    per_agent = {a.agent: a for a in quality.per_agent(
        session, date_from=NOVEMBER.first, date_to=NOVEMBER.last, zone=ZONE)}  # fmt: skip
    assert (per_agent["li.na"].sampled, per_agent["li.na"].scored) == (2, 2)
    assert (per_agent["li.na"].average, per_agent["li.na"].lowest) == (75.0, 50.0)
    assert per_agent["wang.wei"].average == 0.0
    items = quality.per_item(session, date_from=NOVEMBER.first, date_to=NOVEMBER.last,
                             zone=ZONE)  # fmt: skip
    assert [(i.key, i.met, i.not_met, i.not_applicable, i.met_percent) for i in items] == [
        ("inbound:greeting.0", 1, 1, 1, 50.0),
        ("manner:closing", 2, 1, 0, 66.7),
    ]
    assert items[1].label.startswith("Manners:")
    tables = quality_report.tables(session=session, date_from=NOVEMBER.first,
                                   date_to=NOVEMBER.last, settings=settings, now=NOW)  # fmt: skip
    assert [t.title for t in tables] == ["Quality scores per agent",
                                         "Quality per checklist item"]  # fmt: skip
    assert tables[0].rows[0][:4] == ["li.na", per_agent["li.na"].display_name, 2, 2]
    october = quality.per_agent(session, date_from=date(2026, 10, 1), date_to=date(2026, 10, 31),
                                zone=ZONE)  # fmt: skip
    assert october == []


def _script_for(language: str):
    book = _scripts()

    def script_for(script_id: str):
        try:
            return book.pick(script_id, language)
        except KeyError:
            return None

    return script_for


@pytest.mark.parametrize(
    ("key", "language", "expected"),
    [
        ("inbound:greeting.1", "en", "Confirm who is calling"),
        ("inbound:greeting.1", "zh_CN", "确认来电人的身份"),
        ("inbound:greeting.99", "zh_CN", "as stored"),  # the item is gone from the script
        ("inbound:no_such_stage.0", "en", "as stored"),
        ("gone_script:greeting.0", "en", "as stored"),
        ("inbound:greeting.x", "en", "as stored"),  # not a key this seat writes
        ("manner:closing", "en", "Closed with what happens next and thanks"),
        ("manner:no_such_manner", "en", "as stored"),
    ],
)
def test_an_item_is_read_in_the_readers_language(key, language, expected):
    assert quality.item_text(key, "as stored", _script_for(language)) == expected


def test_items_scored_in_chinese_read_in_english(session, world, boss):
    """The inspector scored in Chinese (the labels stored are Chinese); the agent, the
    screen and the report read the script's items in their own language."""
    _add_calls(session, world["li"], {"repair": 1})
    (row,) = quality.draw_sample(session, by=boss, by_id=boss.id, agent_id=world["li"],
                                 period=NOVEMBER, policy=POLICY, zone=ZONE, now=NOW)  # fmt: skip
    _score(session, boss, row.sample_id, 1, [("inbound:greeting.1", "确认来电人的身份", 0),
                                             ("manner:closing", "礼貌结束通话", 1)])  # fmt: skip
    session.commit()
    english = _script_for("en")
    (own,) = quality.own_scores(session, agent_id=world["li"], script_for=english)
    assert own.missed == ("Confirm who is calling",)
    (stored,) = quality.own_scores(session, agent_id=world["li"])  # no scripts at hand
    assert stored.missed == ("确认来电人的身份",)
    items = quality.per_item(session, date_from=NOVEMBER.first, date_to=NOVEMBER.last,
                             zone=ZONE, script_for=english)  # fmt: skip
    assert [i.label for i in items][0] == "Confirm who is calling"


@pytest.fixture
def fixed_now(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(SystemClock, "now", lambda self: NOW)
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "none.toml"))


def test_seat_report_quality(db_url, session, world, boss, capsys, fixed_now, tmp_path):
    assert "quality" in REPORTS
    _add_calls(session, world["li"], {"repair": 1})
    (row,) = quality.draw_sample(session, by=boss, by_id=boss.id, agent_id=world["li"],
                                 period=NOVEMBER, policy=POLICY, zone=ZONE, now=NOW)  # fmt: skip
    _score(session, boss, row.sample_id, 1, [("inbound:greeting.0", "Name the company", 1),
                                             ("manner:identity", "Confirmed", 0)])  # fmt: skip
    session.commit()
    argv = ["report", "quality", "--from", "2026-11-01", "--to", "2026-11-30",
            "--db", db_url.removeprefix("sqlite:///")]  # fmt: skip
    assert main([*argv, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert list(doc) == ["Quality scores per agent", "Quality per checklist item"]
    (li,) = doc["Quality scores per agent"]["rows"]
    assert (li["Agent"], li["Sampled"], li["Scored"], li["Average %"]) == ("li.na", 1, 1, 50.0)
    items = doc["Quality per checklist item"]["rows"]
    assert [(i["Item"], i["Met %"]) for i in items] == [
        # the script's own words (the inspector's label was "Name the company")
        ("Name the company and yourself", 100.0), ("Manners: Confirmed who is calling", 0.0),
    ]
    out = tmp_path / "quality.xlsx"
    assert main([*argv, "--format", "xlsx", "--output", str(out)]) == 0
    assert capsys.readouterr().out == ""
    assert load_workbook(out).sheetnames[:2] == ["Quality scores per agent",
                                                  "Quality per checklist item"]  # fmt: skip

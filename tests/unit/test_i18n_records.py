"""Customers, callbacks, complaints and work speak the seat's language: refusals, validation
and the scheduler's report come back in Chinese with zh_CN active, in English by default;
complaint categories and causes carry their Chinese labels in the policy file."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from rich.cells import cell_len
from sqlalchemy import select

from seat import agents, callbacks, complaints, customers, i18n, sla
from seat.clock import parse_when
from seat.config import DATA_DIR
from seat.customers import ValidationError
from seat.models import Callback
from seat.roles import PermissionDenied
from seat.widgets.card import cut, summary
from tests.conftest import NOW

POLICY = sla.read_policy(DATA_DIR / "policy" / "complaints.toml", default_zone="Asia/Shanghai")
LATIN = re.compile(r"[A-Za-z]{2,}")


@pytest.fixture(params=["en", "zh_CN"])
def lang(request) -> Iterator[str]:
    """Run the test once per language; English is restored afterwards."""
    i18n.set_language(request.param)
    try:
        yield request.param
    finally:
        i18n.set_language("en")


def _message(fn: Callable[[], object]) -> str:
    """What the agent reads from the refusal `fn` raises."""
    try:
        fn()
    except ValidationError as exc:
        return " | ".join(exc.errors.values())
    except (PermissionDenied, complaints.MoveRefused, ValueError) as exc:
        return str(exc)
    raise AssertionError("no refusal")


@pytest.fixture
def people(session, world) -> dict[str, int]:
    boss = agents.ensure_agent(
        session=session, name="zhao.lei", display_name="Zhao Lei", role="supervisor"
    )
    session.commit()
    return {**world, "boss": boss.id}


def _proposed_complaint(session, people) -> int:
    """A complaint waiting for a supervisor's approval."""
    c = complaints.create_complaint(
        session=session, now=NOW, customer_id=people["min"], owner_id=people["li"],
        what_happened="Washer leaks", customer_wants="A new washer",
    )  # fmt: skip
    cid = c.id
    complaints.accept(
        session=session, complaint_id=cid, actor_id=people["li"], now=NOW,
        department="After-sales service", reply_text="We will look into it.", policy=POLICY,
    )  # fmt: skip
    complaints.investigate(
        session=session, complaint_id=cid, actor_id=people["li"], now=NOW,
        cause="installation_error", responsible_person="Zhou Qiang",
        department="After-sales service", policy=POLICY,
    )  # fmt: skip
    complaints.propose(
        session=session, complaint_id=cid, actor_id=people["li"], now=NOW,
        solution_options="Replace the washer",
    )  # fmt: skip
    session.commit()
    return cid


# -- the supervisor's refusal: one sentence in one language ---------------------------------

REFUSALS = {
    "approve": (
        "Only a supervisor can approve a solution; ask your shift lead.",
        "只有主管才能批准方案，请联系值班长。",
    ),
    "send_back": (
        "Only a supervisor can send a proposal back; ask your shift lead.",
        "只有主管才能退回方案，请联系值班长。",
    ),
}


@pytest.mark.parametrize("action", sorted(REFUSALS))
def test_complaint_supervisor_refusal_is_one_language(session, people, lang, action):
    cid = _proposed_complaint(session, people)
    fn = complaints.approve if action == "approve" else complaints.send_back
    extra = {"chosen_solution": "Replace the washer"} if action == "approve" else {}
    message = _message(
        lambda: fn(
            session=session, complaint_id=cid, actor_id=people["li"], now=NOW,
            comment="ok", **extra,
        )  # fmt: skip
    )
    assert message == REFUSALS[action][lang != "en"]


def test_callback_reassign_refusal_is_one_language(session, world, lang):
    cb_id = session.execute(select(Callback.id)).scalars().first()
    message = _message(
        lambda: callbacks.reassign(
            session=session, callback_id=cb_id, actor_id=world["li"],
            new_owner_id=world["wang"], now=NOW,
        )  # fmt: skip
    )
    expected = {
        "en": "Only a supervisor can reassign a callback; ask your shift lead.",
        "zh_CN": "只有主管才能转派回访，请联系值班长。",
    }
    assert message == expected[lang]


def test_state_refusal_names_status_and_next_step_in_chinese(session, people, lang):
    cid = _proposed_complaint(session, people)
    case = session.get(complaints.Complaint, cid)
    assert case is not None
    message = complaints.refusal("close", case)
    if lang == "en":
        assert message == (
            "Cannot close the complaint while it is at solution proposed: "
            "a supervisor approves the proposal or sends it back."
        )
    else:
        assert message == "投诉处于“已提出方案”时不能结案：由主管批准方案或退回。"


# -- validation -----------------------------------------------------------------------------

VALIDATION: dict[str, tuple[Callable[..., object], str, str]] = {
    "customer name": (
        lambda **__: customers.validate_customer(name=" ", tier="gold"),
        "Name is required.",
        "姓名为必填项。",
    ),
    "customer tier": (
        lambda **__: customers.validate_customer(name="张敏", tier="bronze"),
        "Tier must be one of: vip, diamond, platinum, gold, ordinary.",
        "会员等级必须是以下之一：vip, diamond, platinum, gold, ordinary。",
    ),
    "complaint text": (
        lambda session, world: complaints.create_complaint(
            session=session, now=NOW, customer_id=world["min"], owner_id=world["li"],
            what_happened="", customer_wants="x",
        ),  # fmt: skip
        "What happened is required.",
        "投诉内容为必填项。",
    ),
    "callback due": (
        lambda session, world: callbacks.create_callback(
            session=session, now=NOW, customer_id=world["min"], owner_id=world["li"],
            due_at=NOW - timedelta(hours=1), reason="Call back",
        ),  # fmt: skip
        "The due time is in the past; pick a time from now on.",
        "到期时间已过去，请选择现在以后的时间。",
    ),
    "relative time": (
        lambda **__: parse_when("+2x", now=NOW, tz="Asia/Shanghai"),
        "Use +30m, +2h or +1d for a relative time.",
        "相对时间请写成 +30m、+2h 或 +1d。",
    ),
    "snooze reason": (
        lambda session, world: callbacks.snooze(
            session=session, callback_id=1, agent_id=world["li"],
            until=NOW + callbacks.MAX_SNOOZE + timedelta(days=1), reason=" ", now=NOW,
        ),  # fmt: skip
        "Say why the callback is snoozed. | Snooze at most {n} days ahead.",
        "请说明推迟回访的原因。 | 最多推迟 {n} 天。",
    ),
}


@pytest.mark.parametrize("case", sorted(VALIDATION))
def test_validation_messages(session, world, lang, case):
    fn, english, chinese = VALIDATION[case]
    message = _message(lambda: fn(session=session, world=world))
    expected = english if lang == "en" else chinese
    assert message == expected.replace("{n}", str(callbacks.MAX_SNOOZE.days))


# -- the scheduler's report -----------------------------------------------------------------


def _scheduled(rule: str) -> callbacks.Scheduled:
    return callbacks.Scheduled(f"{rule}:1", "satisfaction", 1, 1, NOW, "why")


SUMMARIES = [
    ((), (), "No new callbacks were due to be scheduled.", "没有需要新安排的回访。"),
    (("birthday",), (), "Scheduled 1 callback (birthday 1).", "已安排 1 个回访（生日问候 1）。"),
    (
        ("satisfaction", "new_buyer", "new_buyer"),
        (7,),
        "Scheduled 3 callbacks (satisfaction 1, new buyer 2); "
        "cancelled 1 follow-up of a closed complaint.",
        "已安排 3 个回访（满意度回访 1，新购客户 2）；已取消 1 个已结投诉的跟进回访。",
    ),
    (
        ("complaint",),
        (7, 8),
        "Scheduled 1 callback (complaint follow-up 1); "
        "cancelled 2 follow-ups of closed complaints.",
        "已安排 1 个回访（投诉回访 1）；已取消 2 个已结投诉的跟进回访。",
    ),
]


@pytest.mark.parametrize(("rules", "cancelled", "english", "chinese"), SUMMARIES)
def test_scheduler_summary(lang, rules, cancelled, english, chinese):
    report = callbacks.ScheduleReport(
        created=[_scheduled(r) for r in rules], cancelled=list(cancelled)
    )
    assert report.summary() == (english if lang == "en" else chinese)


def test_scheduler_without_agents_says_so(session, lang):
    report = callbacks.schedule(session=session, now=NOW, policy=callbacks.CallbackPolicy())
    assert report.summary() == {
        "en": "No new callbacks were due to be scheduled. "
        "No active agent to own callbacks: nothing was scheduled.",
        "zh_CN": "没有需要新安排的回访。 没有在职坐席可负责回访：未安排任何回访。",
    }[lang]


# -- labels ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "english", "chinese"),
    [
        (lambda: callbacks.kind_label("complaint_follow_up"), "complaint follow-up", "投诉回访"),
        (lambda: callbacks.status_label("missed"), "missed", "未接通"),
        (lambda: complaints.status_label("invalid"), "closed as invalid", "无效结案"),
        (lambda: complaints.move_label("approve"), "approve a solution", "批准方案"),
        (lambda: complaints.next_step("intake"), "judge it first: valid or invalid",
         "请先判定：有效还是无效"),
        (lambda: complaints.status_label("someday"), "someday", "someday"),
    ],
)  # fmt: skip
def test_domain_labels(lang, label, english, chinese):
    assert label() == (english if lang == "en" else chinese)


@pytest.mark.parametrize(
    ("category", "english", "chinese"),
    [
        ("product_quality", "Product quality 产品质量", "产品质量"),
        ("safety", "Safety 安全隐患", "安全隐患"),
        ("not_in_policy", "not_in_policy", "not_in_policy"),
    ],
)
def test_policy_category_labels(lang, category, english, chinese):
    assert POLICY.category_label(category) == (english if lang == "en" else chinese)


def test_policy_causes_follow_the_language(lang):
    causes = dict(POLICY.causes)
    assert causes["installation_error"] == (
        "Installation error 安装问题" if lang == "en" else "安装问题"
    )
    assert POLICY.cause_label("other") == ("Other 其他" if lang == "en" else "其他")
    assert [c for c, _label in POLICY.causes] == [c for c, _label in POLICY.base_causes]


def test_every_shipped_category_and_cause_has_a_chinese_label():
    for c in POLICY.categories:
        assert dict(c.translations).get("zh_CN"), c.id
    chinese = dict(dict(POLICY.cause_translations)["zh_CN"])
    assert set(chinese) == {cid for cid, _label in POLICY.base_causes}


def test_a_category_without_translation_keeps_its_label():
    policy = sla.parse_policy(
        {"categories": {"noise": {"label": "Noise"}}}, source="x.toml", default_zone="UTC"
    )
    i18n.set_language("zh_CN")
    try:
        assert policy.category_label("noise") == "Noise"
    finally:
        i18n.set_language("en")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"categories": {"noise": {"label": "Noise", "label_zh_CN": 3}}},
         "categories.noise.label_zh_CN: is not text"),
        ({"causes": {"loud": "Loud"}, "causes_zh_CN": {"quiet": "安静"}},
         "causes_zh_CN.quiet: not a cause of [causes]"),
        ({"categories": {"noise": {"label": "Noise", "label_zz": "x", "nonsense": 1}}},
         "categories.noise: unknown key 'nonsense'"),
    ],
)  # fmt: skip
def test_bad_translations_in_the_policy_are_named(raw, problem):
    with pytest.raises(sla.PolicyError, match=re.escape(problem)):
        sla.parse_policy(raw, source="x.toml", default_zone="UTC")


# -- the card's CJK cutting -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cells", "expected"),
    [("张敏张敏", 3, "张…"), ("张敏张敏", 4, "张…"), ("ab张敏", 3, "ab…"), ("张敏", 4, "张敏"),
     ("Washer leaks", 6, "Washe…"), ("short", 30, "short"), ("exact", 5, "exact")],
)  # fmt: skip
def test_card_cut_never_halves_a_wide_character(text, cells, expected):
    """A cut text ends in an ellipsis (the card cut 'two days late' to 'two d')."""
    assert cut(text, cells) == expected
    assert cell_len(cut(text, cells)) <= cells


@pytest.mark.parametrize(
    ("text", "expected"),
    [("The AC still drips\n(Said on a callback about: the new AC)",
      "The AC still drips (Said on a…"),
     ("空调漏水\n\n（回访时客户所说）还有别的问题", "空调漏水 （回访时客户所说）还…"),
     ("short", "short")],
)  # fmt: skip
def test_card_summary_is_one_line_marked_where_cut(text, expected):
    # A complaint opened from a callback carries a second line; the card showed
    # "(#8 intake: The AC still drips" and then "(Said on a c)" on a line of its own.
    assert summary(text) == expected
    assert "\n" not in summary(text) and cell_len(summary(text)) <= 30


def test_chinese_messages_have_no_english_words_left(lang):
    if lang == "en":
        return
    for text in (
        complaints.refusal("resume", _Case()),
        callbacks.ScheduleReport(created=[_scheduled("churned")]).summary(),
    ):
        assert text and not LATIN.search(text), text


class _Case:
    id = 5
    status = "investigating"
    waiting_since = None
    cause = None
    responsible_person = None

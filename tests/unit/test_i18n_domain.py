"""The domain speaks the seat's language: its refusals come back in Chinese with zh_CN active,
in English by default (translated when raised, so switching the language needs no reimport)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from seat import calls, export, i18n, importer, phone, roles, wording, workorders
from seat.config import DATA_DIR
from seat.customers import ValidationError
from seat.models import Role
from seat.scripts import ScriptError, load_script, load_scripts
from seat.services import _storage_message
from tests.conftest import NOW


@pytest.fixture(params=["en", "zh_CN"])
def lang(request) -> Iterator[str]:
    """Run the test once per language; English is restored afterwards."""
    i18n.set_language(request.param)
    try:
        yield request.param
    finally:
        i18n.set_language("en")


def _message(fn: Callable[[], object]) -> str:
    """What the agent would read from the refusal fn raises."""
    try:
        fn()
    except ValidationError as exc:
        return " | ".join(exc.errors.values())
    except (phone.PhoneError, roles.PermissionDenied, ScriptError, LookupError) as exc:
        return str(exc)
    raise AssertionError("no refusal")


class _Clerk:
    role = Role.AGENT


SCRIPTS, __ = load_scripts(DATA_DIR / "scripts")


def _call_state(language: str) -> calls.CallState:
    return calls.CallState(
        script=SCRIPTS.pick("inbound", language), agent_id=1, started_at=NOW
    )


def _discovery_problems(language: str) -> dict[str, str]:
    state = _call_state(language)
    state.stage_id = "discovery"
    return state.problems()


@pytest.mark.parametrize(
    ("refusal", "english", "chinese"),
    [
        (lambda: phone.parse("12"), "Too short to be a phone number.", "号码太短"),
        (lambda: phone.parse(""), "Enter a phone number.", "请输入电话号码。"),
        (lambda: phone.parse("138-abc"), "may only contain digits", "电话号码只能包含数字"),
        (lambda: phone.parse("1380013800099"), "Too long for a CN number", "作为 CN 号码太长"),
        (lambda: roles.require_supervisor(_Clerk(), roles_action()), "Only a supervisor can",
         "只有主管才能批准总部报价，请联系值班长。"),
        (lambda: workorders.parse_amount("abc"), "Type the amount as a number", "金额请输入数字"),
    ],
    ids=["short-phone", "empty-phone", "letters-in-phone", "long-phone", "not-supervisor",
         "bad-amount"],
)  # fmt: skip
def test_pure_refusals(lang, refusal, english, chinese):
    try:
        refusal()
    except (phone.PhoneError, roles.PermissionDenied, ValueError) as exc:
        text = str(exc)
    else:
        raise AssertionError("no refusal")
    assert (english if lang == "en" else chinese) in text


def roles_action() -> str:
    return i18n._("approve a head-office quote")


@pytest.mark.parametrize(
    ("change", "english", "chinese"),
    [
        # The order is 'created': completing it skips the flow.
        ({"action": "complete"}, "The order is at 'created'; the next step is: survey done.",
         "通知单当前状态为“已创建”；下一步可以是：勘察完毕。"),
        ({"action": "approve"}, "the next step is: survey done",
         "下一步可以是：勘察完毕"),
    ],
    ids=["complete-from-created", "approve-from-created"],
)  # fmt: skip
def test_wrong_status_change(session, world, lang, change, english, chinese):
    wo = workorders.create_order(
        session=session, now=NOW, customer_id=world["fang"], created_by_id=world["li"],
        draft=workorders.WorkOrderDraft(
            kind=workorders.Z1, short_text="Washer leaks", reporter="Wang Fang",
            assignee_id=world["wang"], due_at=NOW + timedelta(days=2), service_type="repair",
        ),
    )  # fmt: skip
    session.commit()
    text = _message(
        lambda: workorders.move(
            session=session, now=NOW, work_order_id=wo.id, agent_id=world["li"], **change
        )
    )
    assert (english if lang == "en" else chinese) in text


@pytest.mark.parametrize(
    ("fields", "key", "english", "chinese"),
    [
        ({"short_text": "  "}, "short_text", "Short description is required.",
         "简要描述为必填项。"),
        ({"reporter": ""}, "reporter", "Reporter is required", "报告人为必填项"),
        ({"due_at": NOW - timedelta(hours=1)}, "due_at", "The expected end is in the past",
         "预计完成时间已经过去"),
        ({"short_text": "x" * 201}, "short_text", "Short description is too long (200",
         "简要描述太长（最多 200 个字符）"),
        ({"service_type": None}, "service_type", "Choose the service type", "请选择服务类型"),
    ],
    ids=["empty-short-text", "empty-reporter", "past-due", "too-long", "no-service-type"],
)  # fmt: skip
def test_work_order_field_errors(session, world, lang, fields, key, english, chinese):
    base = {
        "kind": workorders.Z1, "short_text": "Washer leaks", "reporter": "Wang Fang",
        "assignee_id": world["wang"], "due_at": NOW + timedelta(days=2), "service_type": "repair",
    }  # fmt: skip
    with pytest.raises(ValidationError) as info:
        workorders.create_order(
            session=session, now=NOW, customer_id=world["fang"], created_by_id=world["li"],
            draft=workorders.WorkOrderDraft(**{**base, **fields}),
        )
    assert (english if lang == "en" else chinese) in info.value.errors[key]


def test_required_script_field_uses_the_variants_label(lang):
    # The Chinese seat reading the Chinese script: label and sentence both Chinese.
    problems = _discovery_problems(lang)
    expected = "Need is required." if lang == "en" else "来电需求为必填项。"
    assert problems == {"need_category": expected}


def test_bad_choice_lists_the_shown_labels(lang):
    state = _call_state(lang)
    state.stage_id = "discovery"
    state.values["need_category"] = "weather"
    message = state.problems()["need_category"]
    if lang == "en":
        assert message.startswith("Need: choose one of inquiry, repair")
    else:
        assert message.startswith("来电需求：请从 咨询, 报修")


def test_wrapup_refusals(lang):
    errors = calls.validate_wrapup(_call_state(lang))
    if lang == "en":
        assert errors["outcome"] == "Choose an outcome code."
        assert errors["stage"].startswith("Finish the script first")
    else:
        assert errors["outcome"] == "请选择处理结果。"
        assert errors["stage"].startswith("请先走完话术")


def test_broken_script_file_is_reported_in_the_seats_language(lang, tmp_path):
    path = tmp_path / "x.toml"
    path.write_text("[script]\nid = 'x'\ntitle = 'X'\n", encoding="utf-8")
    text = _message(lambda: load_script(path))
    assert text.startswith("x.toml: ")  # the file name leads in every language
    assert text.endswith(
        "no [[stages]]: a script needs at least one stage."
        if lang == "en"
        else "没有 [[stages]]：话术至少需要一个阶段。"
    )


def test_storage_messages(lang):
    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorcode = 5  # told by the driver's code, not the words
    exc = OperationalError("INSERT", {}, busy)
    expected = (
        "The database is busy; nothing was lost. Try saving again in a moment."
        if lang == "en"
        else "数据库正忙，没有丢失任何内容。请稍后再保存一次。"
    )
    assert _storage_message(exc) == expected


def test_wording_warning(lang):
    text = "我们不行。" if lang == "zh_CN" else "We can't."
    message = wording.warning(text, wording.check(text))
    if lang == "en":
        assert message.startswith("Avoid “can't” at 4") and "ctrl+s again" in message
    else:
        assert message.startswith("请避免使用服务禁忌用语：第 3 个字符处的“不行”")


@pytest.mark.parametrize(
    ("text", "phrase"),
    [("这个没办法。", "没办法"), ("这事不归我管", "不归我管"), ("It is not my department.",
                                                             "not my department")],
)  # fmt: skip
def test_more_forbidden_phrases(text, phrase):
    assert [h.phrase for h in wording.check(text)] == [phrase]


def test_import_summary_counts(lang):
    report = importer.ImportReport(imported=1)
    expected = (
        "Imported 1 customer; 0 duplicates; 0 rows rejected."
        if lang == "en"
        else "已导入 1 位客户; 0 条重复; 0 行被拒绝。"
    )
    assert importer.format_report(report) == expected


def test_labels_translate_at_call_time(lang):
    zh = lang == "zh_CN"
    assert workorders.status_label("survey_done") == ("勘察完毕" if zh else "survey done")
    kind = workorders.kind_label("delivery_exception")
    assert kind == ("交付异常" if zh else "delivery exception")
    assert calls.need_label("repair") == ("报修" if zh else "repair")
    assert calls.outcome_label("no_answer") == (
        "无人接听（稍后再试）" if zh else "no answer (try again later)"
    )
    assert calls.need_label("unknown_code") == "unknown_code"
    # The maps themselves stay English: they are read at import time.
    assert workorders.STATUS_LABELS["survey_done"] == "survey done"


def test_exports_keep_english_keys_and_translate_for_people(lang):
    table = export.Table(
        title="By kind", headers=["Kind", "Done"], rows=[["total", 3]], label_columns=(0,)
    )
    doc = json.loads(export.to_json([table]))
    assert doc == {"By kind": {"rows": [{"Kind": "total", "Done": 3}]}}  # the contract
    assert export.to_csv([table]).splitlines()[0] == "Kind,Done"
    txt = export.to_txt([table])
    if lang == "en":
        assert txt.splitlines()[0] == "By kind" and "total" in txt
    else:
        assert txt.splitlines()[0] == "按类型"
        assert "类型" in txt.splitlines()[2] and "合计" in txt


def test_domain_po_is_complete_for_the_domain_modules():
    """Every message marked in the modules this part covers has a Chinese translation."""
    from seat.i18n_catalog import extract

    files = [
        "calls.py", "phone.py", "workorders.py", "workplan.py", "importer.py", "wording.py",
        "services.py", "errors.py", "drafts.py", "roles.py", "export.py", "scripts/engine.py",
        "reports/complaints.py", "reports/callbacks.py",
    ]  # fmt: skip
    package = DATA_DIR.parent / "seat"
    marked = extract([package / f for f in files])
    catalogue = i18n.catalogue("zh_CN")
    missing = [
        m.msgid
        for m in marked.values()
        if (
            catalogue.ngettext(m.msgid, m.plural, 2) == m.plural
            if m.plural
            else catalogue.gettext(m.msgid) == m.msgid
        )
    ]
    assert missing == []

"""Call scripts in two languages: the same stages, fields and branches, chosen per call."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from seat.callbacks import DEFAULT_SCRIPTS
from seat.config import DATA_DIR
from seat.scripts import (
    ScriptBook,
    ScriptError,
    load_script,
    load_scripts,
    load_with_fallback,
    pick,
    same_structure,
)

SHIPPED = DATA_DIR / "scripts"


@pytest.fixture(scope="module")
def book() -> ScriptBook:
    scripts, problems = load_scripts(SHIPPED)
    assert problems == []
    return scripts


def _shape(script) -> list[tuple]:
    return [
        (
            s.id,
            s.phase,
            s.next,
            s.branches,
            [(f.id, f.type, f.choices, f.required) for f in s.fields],
        )
        for s in script.stages
    ]


@pytest.mark.parametrize("script_id", ["inbound", "callback"])
def test_both_languages_load_with_identical_structure(book, script_id):
    assert book.languages(script_id) == ["en", "zh_CN"]
    en, zh = book.pick(script_id, "en"), book.pick(script_id, "zh_CN")
    assert (en.source, zh.source) == (f"{script_id}.toml", f"{script_id}.zh_CN.toml")
    assert (en.kind, en.id) == (zh.kind, zh.id)
    assert _shape(en) == _shape(zh)
    assert same_structure(en, zh) == []
    # Different words: every stage title and text is translated.
    for a, b in zip(en.stages, zh.stages, strict=True):
        assert a.title != b.title and a.say != b.say
        assert len(a.checklist) == len(b.checklist)
        assert [f.label for f in a.fields] != [f.label for f in b.fields] or not a.fields


@pytest.mark.parametrize(
    ("script_id", "field", "labels"),
    [
        ("inbound", "need_category",
         ["咨询", "报修", "投诉", "建议", "业务受理", "停电信息等公告"]),
        ("callback", "satisfied", ["满意", "一般", "不满意"]),
    ],
)  # fmt: skip
def test_chinese_choices_show_labels_but_store_the_codes(book, script_id, field, labels):
    zh, en = book.pick(script_id, "zh_CN"), book.pick(script_id, "en")
    fz = next(f for s in zh.stages for f in s.fields if f.id == field)
    fe = next(f for s in en.stages for f in s.fields if f.id == field)
    assert fz.choices == fe.choices  # what is stored and branched on
    assert [fz.choice_label(c) for c in fz.choices] == labels
    assert [fe.choice_label(c) for c in fe.choices] == list(fe.choices)


@pytest.mark.parametrize(
    ("answers", "path"),
    [
        ({"satisfied": "satisfied", "score": "5"},
         ["opening", "satisfaction", "suggestions", "close_satisfied"]),
        ({"satisfied": "so-so", "score": "3"},
         ["opening", "satisfaction", "improve", "close_unsatisfied"]),
    ],
)  # fmt: skip
def test_callback_branches_alike_in_both_languages(book, answers, path):
    for lang in ("en", "zh_CN"):
        script = book.pick("callback", lang)
        stage, walked = script.first, [script.first.id]
        while (stage := script.next_stage(stage, answers)) is not None:
            walked.append(stage.id)
        assert walked == path


def test_chinese_callback_follows_the_manuals_shape(book):
    """DOMAIN.md section 1: 开场 (问候、自报身份、确认客户、致歉打扰) → 交流 (感谢、是否满意;
    满意→建议, 不满意/一般→改进) → 结束 (感谢、欢迎随时联系、祝福、再见)."""
    zh = book.pick("callback", "zh_CN")
    opening = zh.stage("opening").say
    assert all(w in opening for w in ("您好", "{agent}", "{company}", "{customer}", "打扰"))
    assert all(w in zh.stage("satisfaction").say for w in ("感谢", "满意"))
    assert "建议" in zh.stage("suggestions").say
    assert "改进" in zh.stage("improve").say
    for closing in ("close_satisfied", "close_unsatisfied"):
        assert all(w in zh.stage(closing).say for w in ("谢", "再见"))
    assert "随时" in zh.stage("close_satisfied").say


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh_CN", "zh_CN"), ("zh", "zh_CN"), ("en", "en"), (None, "en"), ("fr", "en")],
)
def test_pick_prefers_the_language_then_the_default(book, language, expected):
    assert book.pick("inbound", language).language == expected


def test_plain_mapping_has_no_variants(book):
    plain = {"inbound": book["inbound"]}
    assert pick(plain, "inbound", "zh_CN") is book["inbound"]


def test_the_default_variant_is_english_whatever_the_file_order(tmp_path):
    (tmp_path / "a.toml").write_bytes((SHIPPED / "inbound.zh_CN.toml").read_bytes())
    (tmp_path / "b.toml").write_bytes((SHIPPED / "inbound.toml").read_bytes())
    scripts, problems = load_scripts(tmp_path)
    assert problems == [] and scripts["inbound"].language == "en"


def test_a_variant_shaped_differently_is_rejected(tmp_path):
    shutil.copy(SHIPPED / "inbound.toml", tmp_path)
    text = (SHIPPED / "inbound.zh_CN.toml").read_text(encoding="utf-8")
    (tmp_path / "inbound.zh_CN.toml").write_text(
        text.replace('id = "need_notes"', 'id = "notes_typed"'), encoding="utf-8"
    )
    scripts, problems = load_scripts(tmp_path)
    assert scripts.languages("inbound") == ["en"]
    assert len(problems) == 1
    assert problems[0].startswith("inbound.zh_CN.toml: does not match inbound.toml")
    assert "stage 'discovery': fields differ" in problems[0]


def test_two_files_for_one_language_clash(tmp_path):
    shutil.copy(SHIPPED / "inbound.zh_CN.toml", tmp_path / "a.toml")
    shutil.copy(SHIPPED / "inbound.zh_CN.toml", tmp_path / "b.toml")
    __, problems = load_scripts(tmp_path)
    assert problems == ["b.toml: script id 'inbound' (zh_CN) is used by another file."]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('choice_labels = ["咨询", ', 'choice_labels = ['), "one choice label per choice"),
        (('language = "zh_CN"', 'language = "中文"'), "language must be a code"),
    ],
)  # fmt: skip
def test_bad_variant_headers_and_labels(tmp_path, edit, message):
    path = tmp_path / "inbound.zh_CN.toml"
    text = (SHIPPED / "inbound.zh_CN.toml").read_text(encoding="utf-8")
    assert edit[0] in text
    path.write_text(text.replace(*edit), encoding="utf-8")
    with pytest.raises(ScriptError, match=message):
        load_script(path)


def test_each_variant_falls_back_to_its_own_last_good_copy(tmp_path: Path):
    scripts_dir, cache = tmp_path / "scripts", tmp_path / "cache"
    shutil.copytree(SHIPPED, scripts_dir)
    scripts, problems = load_with_fallback(scripts_dir, cache)
    assert problems == [] and (cache / "callback.zh_CN.toml").is_file()

    (scripts_dir / "callback.zh_CN.toml").write_text("不是 TOML [", encoding="utf-8")
    scripts, problems = load_with_fallback(scripts_dir, cache)
    assert len(problems) == 1
    assert problems[0].startswith("callback.zh_CN.toml: not valid TOML")
    assert problems[0].endswith("Using the last good copy of this script.")
    zh = scripts.pick("callback", "zh_CN")
    assert zh.language == "zh_CN" and zh.title == "满意度回访"
    assert scripts["callback"].language == "en"  # the English one is untouched
    assert set(scripts) == {"inbound", *dict(DEFAULT_SCRIPTS).values()}


def test_a_broken_variant_without_a_copy_falls_back_to_the_default(tmp_path: Path):
    scripts_dir = tmp_path / "scripts"
    shutil.copytree(SHIPPED, scripts_dir)
    (scripts_dir / "inbound.zh_CN.toml").write_text("[script]\n", encoding="utf-8")
    scripts, problems = load_with_fallback(scripts_dir, tmp_path / "empty-cache")
    assert len(problems) == 1 and problems[0].startswith("inbound.zh_CN.toml:")
    assert scripts.pick("inbound", "zh_CN").language == "en"  # the caller still gets a script

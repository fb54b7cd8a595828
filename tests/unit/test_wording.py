"""The customer-facing wording check (服务用语禁忌)."""

from __future__ import annotations

import pytest

from seat import wording


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("We will replace the washer tomorrow.", []),
        ("We can't replace it.", [("can't", 3, "can't")]),
        ("We CAN’T replace it.", [("can't", 3, "CAN’T")]),
        ("That cannot be done.", [("cannot", 5, "cannot")]),
        ("That can not be done.", [("cannot", 5, "can not")]),
        ("I don't know when.", [("don't know", 2, "don't know")]),
        ("I do not  know.", [("don't know", 2, "do not  know")]),
        ("It is not possible today.", [("not possible", 6, "not possible")]),
        ("这个不行。", [("不行", 2, "不行")]),
        ("我不知道", [("不知道", 1, "不知道")]),
        ("现在不可以退货", [("不可以", 2, "不可以")]),
        ("I can't say; 我不知道.", [("can't", 2, "can't"), ("不知道", 14, "不知道")]),
        # Whole English words only: these are fine.
        ("The canteen can take it; candidates; a cannonball.", []),
        ("Not possibly wrong; impossible-ish", []),
    ],
)
def test_check_finds_each_phrase_with_its_position(text, found):
    hits = wording.check(text)
    assert [(h.phrase, h.start, h.found) for h in hits] == found
    for h in hits:
        assert text[h.start : h.end] == h.found


def test_every_listed_phrase_is_found():
    for phrase in wording.FORBIDDEN:
        assert [h.phrase for h in wording.check(f"x {phrase} y")] == [phrase]


def test_warning_names_the_phrase_its_place_and_what_to_do():
    text = "Sorry, we really can't replace the whole washer this week."
    msg = wording.warning(text, wording.check(text))
    assert "“can't” at 18" in msg
    assert "«can't»" in msg
    assert "rephrase" in msg and "ctrl+s again" in msg


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("we can't", "we «can't»"),
        ("a long sentence where we can't do the thing at all, sorry",
         "…where we «can't» do the…"),
    ],
)  # fmt: skip
def test_excerpt(text, expected):
    assert wording.excerpt(text, wording.check(text)[0]) == expected


def test_empty_text():
    assert wording.check("") == []
    assert wording.check(None) == []  # type: ignore[arg-type]

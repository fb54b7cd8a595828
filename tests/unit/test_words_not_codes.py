"""People read words, not stored codes, and counts in proper plural forms (issue 14: 11)."""

from __future__ import annotations

import pytest

from seat import i18n, labels
from seat.i18n_catalog import extract
from seat.widgets.card import call_summary, code_word, complaint_status


def test_no_message_counts_with_an_s_in_brackets():
    """'4 open complaint(s)' is not English: counted phrases go through ngettext."""
    messages = extract()
    assert len(messages) > 500  # the scan really read the package
    bad = [
        m.msgid
        for m in messages.values()
        if "(s)" in m.msgid or (m.plural and "(s)" in m.plural)
    ]
    assert bad == []


@pytest.mark.parametrize(
    ("table", "code", "en", "zh"),
    [
        (labels.OUTCOMES, "complaint_opened", "complaint opened", "已登记客户投诉"),
        (labels.OUTCOMES, "callback_promised", "callback promised", None),
        (labels.OUTCOMES, "work_order_created", "work order created", None),
        (labels.NEEDS, "repair", "repair", None),
        (labels.TIERS, "vip", "VIP", None),
        (labels.OUTCOMES, "from_a_newer_version", "from a newer version", None),
    ],
)
def test_codes_read_as_words(table, code, en, zh):
    assert code_word(table, code) == en
    i18n.set_language("zh_CN")
    word = code_word(table, code)
    assert "_" not in word
    if zh:
        assert word == zh


@pytest.mark.parametrize(
    ("need", "outcome", "en"),
    [
        ("complaint", "complaint_opened", "complaint → complaint opened"),
        ("inquiry", "callback_promised", "inquiry → callback promised"),
        (None, "no_answer", "not recorded → no answer"),
        (None, None, "nothing recorded"),
    ],
)
def test_a_past_call_in_words(need, outcome, en):
    assert call_summary(need, outcome) == en
    assert "- → -" not in call_summary(need, outcome)
    i18n.set_language("zh_CN")
    assert not any("a" <= ch <= "z" for ch in call_summary(need, outcome))


@pytest.mark.parametrize("status", ["intake", "investigating", "proposed", "approved"])
def test_complaint_status_in_words(status):
    assert "_" not in complaint_status(status)
    i18n.set_language("zh_CN")
    assert not any("a" <= ch <= "z" for ch in complaint_status(status))


def test_language_names():
    assert labels.language_label("zh_CN") == "中文 (简体)"
    assert labels.language_label("en") == "English"
    assert labels.language_label(None) == "-"


@pytest.mark.parametrize(
    ("addresses", "expected"),
    [
        (("12 Long Road", None), " · 12 Long Road"),
        ((None, None), ""),
        (("", "  "), ""),  # blank addresses: no lone "·"
        (("12 Long Road", "Flat 3"), " · 12 Long Road · Flat 3"),
        (("masked to nothing", "Flat 3"), " · Flat 3"),
    ],
)
def test_the_card_never_shows_a_lone_dot(addresses, expected):
    from seat.widgets.card import addresses_line

    def shown(address):
        return "" if address == "masked to nothing" else address

    assert addresses_line(addresses, shown) == expected

"""One text validator (seat.textguard.check_text) for every typed field of complaints, work
orders, callbacks and customers: required, no control characters, not too long, with the
field's own label in the agent's language."""

from __future__ import annotations

from datetime import timedelta

import pytest

from seat import callbacks, customers, i18n
from seat.customers import ValidationError
from seat.i18n import N_
from seat.textguard import check_text
from tests.conftest import NOW
from tests.unit.complaint_steps import do, open_complaint


def _check(value, **kw) -> tuple[str, dict[str, str]]:  # noqa: ANN001
    errors: dict[str, str] = {}
    text = check_text(errors, "f", value, N_("Reason"), kw.pop("limit", 10), **kw)
    return text, errors


@pytest.mark.parametrize(
    ("value", "kw", "text", "message"),
    [
        ("  call back  ", {}, "call back", None),
        ("", {}, "", "Reason is required."),
        (None, {}, "", "Reason is required."),
        ("   ", {"missing": "Say why."}, "", "Say why."),
        ("", {"required": False}, "", None),
        ("x" * 11, {}, "x" * 11, "Reason is too long (10 characters at most)."),
        ("a\x1b[2Jb", {}, "a\x1b[2Jb", "Reason contains control characters; retype it."),
        ("two\nlines", {}, "two\nlines", None),
        # A right-to-left override reorders what the agent reads: refused, as ESC is.
        ("Li Na\u202egnp.exe", {}, "Li Na\u202egnp.exe",
         "Reason contains control characters; retype it."),
        ("isolate \u2066x\u2069", {}, "isolate \u2066x\u2069",
         "Reason contains control characters; retype it."),
        ("family \U0001f468\u200d\U0001f469", {}, "family \U0001f468\u200d\U0001f469", None),
        ("two\nlines", {"one_line": True}, "two\nlines",
         "Reason contains control characters; retype it."),
        ("\x1cspaces\x1f", {"one_line": True}, "spaces", None),  # str.strip takes these
    ],
)  # fmt: skip
def test_check_text(value, kw, text, message):
    got, errors = _check(value, **kw)
    assert got == text
    assert errors == ({"f": message} if message else {})


def test_the_messages_come_in_the_agents_language():
    i18n.set_language("zh_CN")
    __, errors = _check("x" * 11)
    assert errors == {"f": "事由太长（最多 10 个字符）。"}


def test_a_complaint_move_refuses_control_characters_at_its_field(session, people):
    cid = open_complaint(session, people)
    with pytest.raises(ValidationError) as info:
        do(session, people, cid, "accept", department="After-sales\x1b[2J")
    assert info.value.errors == {
        "department": "Responsible department contains control characters; retype it."
    }


def test_the_same_words_for_the_same_problem_everywhere(session, world):
    """A comment too long and a reason too long read alike at a callback and a customer."""
    with pytest.raises(ValidationError) as refused:
        callbacks.snooze(
            session=session, callback_id=1, agent_id=world["li"], reason="x" * 501,
            until=NOW + timedelta(hours=1), now=NOW,
        )  # fmt: skip
    with pytest.raises(ValidationError) as reveal:
        customers.log_access(
            session=session, agent_id=world["li"], customer_id=world["min"], now=NOW,
            what="phone", reason="x" * 501,
        )  # fmt: skip
    too_long = "The reason is too long (500 characters at most)."
    assert refused.value.errors["reason"] == reveal.value.errors["reason"] == too_long
    with pytest.raises(ValidationError) as named:
        customers.validate_customer(name="Ana\x1b", tier="gold")
    assert named.value.errors == {"name": "Name contains control characters; retype it."}

"""The suggestions register (意见和建议): record, classify, answer, thank; the count."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from seat import suggestions
from seat.config import Settings
from seat.errors import MoveRefused, ValidationError
from seat.intake import Intake
from seat.reports import complaints as complaint_report
from tests.conftest import NOW


def new(session, people, **kw):
    args = dict(session=session, now=NOW, recorded_by_id=people["li"],
                text="Open the store on Sundays", **kw)  # fmt: skip
    row = suggestions.record(**args)
    session.commit()
    return row


def test_record_classify_answer_thank(session, people):
    row = new(session, people, phone_text="139 1234 5678",
              intake=Intake("weibo", NOW - timedelta(hours=3), "weibo.com/x/1"))  # fmt: skip
    assert (row.customer_id, row.status, row.channel) == (people["min"], "new", "weibo")
    assert (row.created_at, row.registered_at) == (NOW - timedelta(hours=3), NOW)
    at = NOW + timedelta(minutes=5)
    suggestions.classify(session=session, suggestion_id=row.id, actor_id=people["li"], now=at,
                         category="store", version=1)  # fmt: skip
    suggestions.reply(session=session, suggestion_id=row.id, actor_id=people["li"], now=at,
                      reply_text="Thanks; the store manager will read it.", version=2)  # fmt: skip
    suggestions.thank(session=session, suggestion_id=row.id, actor_id=people["li"], now=at,
                      version=3)  # fmt: skip
    session.commit()
    assert (row.status, row.category, row.version, row.thanked_at) == ("thanked", "store", 4, at)
    with pytest.raises(MoveRefused, match="nothing is left to do"):
        suggestions.reply(session=session, suggestion_id=row.id, actor_id=people["li"],
                          now=at, reply_text="again")  # fmt: skip


@pytest.mark.parametrize(
    ("answered", "classified", "missing"),
    [(False, True, "answer it first"), (True, False, "classify it first"),
     (False, False, "answer it first (y); classify it first")],
)  # fmt: skip
def test_thanks_need_an_answer_and_a_category(session, people, answered, classified, missing):
    row = new(session, people, category="product" if classified else "")
    if answered:
        suggestions.reply(session=session, suggestion_id=row.id, actor_id=people["li"],
                          now=NOW, reply_text="Thanks, noted.")  # fmt: skip
    with pytest.raises(MoveRefused, match=missing.replace("(", r"\(").replace(")", r"\)")):
        suggestions.thank(session=session, suggestion_id=row.id, actor_id=people["li"], now=NOW)


def test_a_stale_screen_is_refused(session, people):
    row = new(session, people)
    suggestions.classify(session=session, suggestion_id=row.id, actor_id=people["li"], now=NOW,
                         category="price", version=1)  # fmt: skip
    session.commit()
    with pytest.raises(MoveRefused, match="changed at another seat"):
        suggestions.reply(session=session, suggestion_id=row.id, actor_id=people["li"],
                          now=NOW, reply_text="x", version=1)  # fmt: skip


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        (dict(text=" "), "text"),
        (dict(category="weather"), "category"),
        (dict(phone_text="12"), "phone"),
        (dict(intake=Intake("email", NOW + timedelta(hours=1))), "received_at"),
    ],
)
def test_bad_suggestions_are_refused_at_their_field(session, people, kw, field):
    args = dict(session=session, now=NOW, recorded_by_id=people["li"], text="A good idea")
    with pytest.raises(ValidationError) as exc:
        suggestions.record(**{**args, **kw})
    assert field in exc.value.errors


def test_an_unknown_number_is_kept_in_the_text(session, people):
    row = new(session, people, phone_text="137 0000 1111")
    assert row.customer_id is None and "137 0000 1111" in row.text


def test_listing_and_the_count_in_the_report(session, people):
    a = new(session, people, category="product")
    new(session, people, intake=Intake("email"))
    suggestions.reply(session=session, suggestion_id=a.id, actor_id=people["li"], now=NOW,
                      reply_text="Thanks")  # fmt: skip
    suggestions.thank(session=session, suggestion_id=a.id, actor_id=people["li"], now=NOW)
    session.commit()
    open_rows, open_total = suggestions.listing(session=session, scope="open")
    every, total = suggestions.listing(session=session, scope="all")
    assert (open_total, total) == (1, 2)
    assert [r.channel for r in open_rows] == ["email"]
    table = complaint_report.suggestion_counts(
        session, NOW - timedelta(days=1), NOW + timedelta(days=1)
    )
    counted = {(r[0], r[1]): r[2] for r in table.rows}
    assert counted[("All", "all suggestions")] == 2
    assert counted[("Category", "product")] == 1
    assert counted[("Category", "(not classified)")] == 1
    assert counted[("Channel", "email")] == 1 and counted[("Step", "thanked")] == 1
    report = complaint_report.tables(
        session=session, date_from=date(2026, 11, 1), date_to=date(2026, 11, 30),
        settings=Settings(), now=NOW,
    )  # fmt: skip
    assert report[-1].title == "Suggestions"

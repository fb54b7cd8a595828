"""Intake by channel: the time received, the channel's reference, the channel clocks of the
policy (official media reviewed within 1 h, a written reply within 24 h; e-mails answered
within 24 h), the report's count by channel."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from seat import complaints, sla
from seat.errors import ValidationError
from seat.intake import Intake
from seat.models import Complaint, ComplaintEvent
from seat.reports import complaints as complaint_report
from tests.conftest import NOW
from tests.unit.complaint_steps import POLICY, do, open_complaint


def register(session, people, intake: Intake, *, at=NOW) -> Complaint:
    c = complaints.create_complaint(
        session=session, now=at, customer_id=people["min"], owner_id=people["li"],
        what_happened="A post on our Weibo account", customer_wants="An answer",
        intake=intake,
    )  # fmt: skip
    session.commit()
    return c


def clocks_of(c: Complaint, now) -> dict[str, sla.ClockState]:
    return {k.name: k for k in complaints.clocks(c, level=2, policy=POLICY, now=now)}


@pytest.mark.parametrize(
    ("channel", "review", "first_reply_h"),
    [
        ("phone", None, 12),  # level 2 (gold): 12 h, no review clock
        ("email", None, 12),  # e-mails within 24 h: the level's 12 h is stricter
        ("wechat", 1, 12),
        ("weibo", 1, 12),
        ("letter", None, 12),
    ],
)
def test_channel_budgets_stricter_wins(channel, review, first_reply_h):
    b = POLICY.budgets(level=2, category=None, channel=channel)
    assert b.review == (timedelta(hours=review) if review else None)
    assert b.first_reply == timedelta(hours=first_reply_h)
    ordinary = POLICY.budgets(level=3, category=None, channel=channel)
    assert ordinary.first_reply == timedelta(hours=24)


@pytest.mark.parametrize(
    ("received_ago", "state", "phrase"),
    [
        (timedelta(minutes=40), "ok", "met in 40m of 1h"),
        (timedelta(hours=1), "red", "late by 0m"),
        (timedelta(days=1), "red", "late by 23h00"),
    ],
)
def test_official_media_review_clock_runs_from_received_to_registered(
    session, people, received_ago, state, phrase
):
    c = register(session, people, Intake("weibo", NOW - received_ago, "weibo.com/1/abc"))
    assert (c.created_at, c.registered_at, c.channel_ref) == (
        NOW - received_ago, NOW, "weibo.com/1/abc"
    )
    review = clocks_of(c, NOW + timedelta(hours=5))[sla.REVIEW]
    assert not review.running
    assert review.state == state
    assert sla.state_phrase(review) == phrase


def test_the_reply_clock_starts_when_received(session, people):
    c = register(session, people, Intake("email", NOW - timedelta(hours=10), "Re: order 88"))
    reply = clocks_of(c, NOW)[sla.FIRST_REPLY]
    assert reply.started_at == NOW - timedelta(hours=10)
    assert reply.used == timedelta(hours=10)
    assert sla.REVIEW not in clocks_of(c, NOW)


def test_registered_at_once_has_no_registration_time(session, people):
    c = register(session, people, Intake("wechat"))
    assert (c.created_at, c.registered_at) == (NOW, None)
    assert sla.state_phrase(clocks_of(c, NOW)[sla.REVIEW]) == "met in 0m of 1h"


@pytest.mark.parametrize(
    ("intake", "field", "words"),
    [
        (Intake("phone", NOW + timedelta(hours=1)), "received_at", "cannot be in the future"),
        (Intake("fax"), "channel", "Choose one of the channels"),
        (Intake("email", None, "x" * 121), "channel_ref", "too long"),
        (Intake("email", None, "line\nbreak"), "channel_ref", "control characters"),
    ],
)
def test_bad_intake_is_refused_at_its_field(session, people, intake, field, words):
    with pytest.raises(ValidationError) as exc:
        register(session, people, intake)
    assert words in exc.value.errors[field]


def test_a_received_time_seconds_ahead_is_the_seat_clock_and_taken_as_now(session, people):
    c = register(session, people, Intake("phone", NOW + timedelta(seconds=20)))
    assert c.created_at == NOW


def test_existing_complaints_came_by_phone(session, people):
    c = complaints.create_complaint(
        session=session, now=NOW, customer_id=people["min"], owner_id=people["li"],
        what_happened="x", customer_wants="y",
    )  # fmt: skip
    assert (c.channel, c.channel_ref, c.registered_at) == ("phone", None, None)


def test_the_report_counts_by_channel(session, people):
    register(session, people, Intake("wechat", NOW - timedelta(hours=2)))
    register(session, people, Intake("wechat"))
    register(session, people, Intake("email"))
    recs = complaint_report.records(
        session=session, date_from=date(2026, 11, 1), date_to=date(2026, 11, 30),
        zone=POLICY.calendar.zone, policy=POLICY, now=NOW,
    )  # fmt: skip
    table = complaint_report.classification(recs)
    by_channel = {r[1]: r[2] for r in table.rows if r[0] == "Channel"}
    assert by_channel == {"WeChat": 2, "email": 1}
    breached = {r[1]: r[-1] for r in table.rows if r[0] == "Channel"}
    assert breached["WeChat"] == 50.0  # received 2 h before it was registered: review late


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        ("[channels.fax]\nfirst_reply_hours = 1", "channels are tables named"),
        ("[channels.email]\nreview_hours = 0", "channels.email.review_hours"),
        ("[channels.email]\nreply = 1", "unknown key 'reply'"),
    ],
)
def test_bad_channel_policy_is_refused(tmp_path, toml, problem):
    path = tmp_path / "complaints.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(sla.PolicyError) as exc:
        sla.read_policy(path, default_zone="Asia/Shanghai")
    assert problem in str(exc.value)


# -- the promised reply time (beyond the agent's authority) ---------------------------------


def test_the_history_gives_the_time_received_in_the_desks_time(session, people):
    # A WeChat post received yesterday 09:08 in Shanghai read "received ... 01:08 UTC" in
    # the history, under "Received 2026-12-06 09:08" on the same page.
    c = complaints.create_complaint(
        session=session, now=NOW, customer_id=people["min"], owner_id=people["li"],
        what_happened="A post", customer_wants="An answer",
        intake=Intake("wechat", NOW - timedelta(days=1), "WX-77"),
        zone=ZoneInfo("Asia/Shanghai"),
    )  # fmt: skip
    session.commit()
    comment = session.exec(
        select(ComplaintEvent.comment).where(ComplaintEvent.complaint_id == c.id)
    ).one()
    assert "(wechat WX-77, received 2026-11-22 10:00 UTC+08:00)" in comment


def test_the_history_gives_the_promise_in_the_desks_time(session, people):
    # The agent agreed 16:00 in Shanghai; the history said "08:00 UTC" beside a page that
    # shows 16:00.
    cid = open_complaint(session, people)
    promised = NOW + timedelta(hours=6)  # 2026-11-23 08:00 UTC = 16:00 in Shanghai
    do(session, people, cid, "escalate", promised_reply_at=promised,
       zone=ZoneInfo("Asia/Shanghai"))  # fmt: skip
    comment = session.exec(
        select(ComplaintEvent.comment).where(
            ComplaintEvent.complaint_id == cid, ComplaintEvent.action == "escalate"
        )
    ).one()
    assert "by 2026-11-23 16:00 UTC+08:00]" in comment


def test_escalation_records_the_promised_reply_time_with_its_own_clock(session, people):
    cid = open_complaint(session, people)
    at = NOW + timedelta(hours=1)
    do(session, people, cid, "escalate", at=at, promised_reply_at=at + timedelta(hours=4))
    c = session.get(Complaint, cid)
    assert (c.promised_at, c.promised_reply_at) == (at, at + timedelta(hours=4))
    promised = clocks_of(c, at + timedelta(hours=3, minutes=30))[sla.PROMISED]
    assert promised.running and promised.state == "amber"
    assert promised.deadline == at + timedelta(hours=4)
    late = clocks_of(c, at + timedelta(hours=5))[sla.PROMISED]
    assert late.breached and sla.state_phrase(late) == "late by 1h00"
    # The sidebar shows it: the agent's most urgent running clock is the promise.
    items = complaints.sidebar_complaints(
        session=session, agent_id=people["li"], now=at + timedelta(hours=3, minutes=30),
        policy=POLICY,
    )  # fmt: skip
    assert [(i.id, i.clock, i.state) for i in items] == [(cid, sla.PROMISED, "amber")]


def test_the_promise_is_kept_by_the_next_reply(session, people):
    cid = open_complaint(session, people)
    do(session, people, cid, "accept", at=NOW + timedelta(minutes=10))
    do(session, people, cid, "escalate", at=NOW + timedelta(hours=1),
       promised_reply_at=NOW + timedelta(hours=6))  # fmt: skip
    do(session, people, cid, "investigate", at=NOW + timedelta(hours=2))
    do(session, people, cid, "propose", at=NOW + timedelta(hours=3))
    do(session, people, cid, "approve", at=NOW + timedelta(hours=4))  # the solution: kept
    promised = clocks_of(session.get(Complaint, cid), NOW + timedelta(hours=9))[sla.PROMISED]
    assert not promised.running and not promised.breached
    assert sla.state_phrase(promised) == "met in 3h00 of 5h"


@pytest.mark.parametrize("hours", [0, -1])
def test_a_promise_must_be_later_than_now(session, people, hours):
    cid = open_complaint(session, people)
    with pytest.raises(ValidationError) as exc:
        do(session, people, cid, "escalate", promised_reply_at=NOW + timedelta(hours=hours))
    assert "later than now" in exc.value.errors["promised"]

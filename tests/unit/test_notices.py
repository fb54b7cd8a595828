"""Notices (公告): publishing (supervisors, checked), validity, matching a caller's address,
calls linked once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from seat import agents, notices, roles
from seat.errors import ValidationError
from seat.models import Customer, NoticeCall
from seat.notices import NoticeDraft
from tests.conftest import NOW

OUTAGE = NoticeDraft(kind="outage", title="Power cut", text="Power is off until 16:00.",
                     valid_from=NOW, valid_to=NOW + timedelta(hours=8), area="Nanjing Rd",
                     cause="Cable repair", restore_at=NOW + timedelta(hours=6))  # fmt: skip
SERVICE = NoticeDraft(kind="service", title="Recall", text="W-200 washers are recalled.",
                      valid_from=NOW - timedelta(days=1), valid_to=NOW + timedelta(days=1))


def _publish(session: Session, people, draft: NoticeDraft) -> int:
    boss = agents.get_by_name(session=session, name="zhao.lei")
    found = notices.publish(session=session, draft=draft, agent=boss, agent_id=people["boss"],
                            now=NOW)  # fmt: skip
    session.commit()
    return found


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (dict(kind="weather"), "kind"),
        (dict(title=" "), "title"),
        (dict(title="a\nb"), "title"),
        (dict(text=""), "text"),
        (dict(area=""), "area"),  # an outage names its area
        (dict(restore_at=None), "restore_at"),  # and when it should be back
        (dict(valid_to=NOW), "valid_to"),  # the end after the start
        (dict(title="x" * 201), "title"),
    ],
)
def test_what_a_notice_needs(change, field):
    assert field in notices.validate(replace(OUTAGE, **change))


def test_a_service_notice_needs_no_area_nor_restoration():
    assert notices.validate(SERVICE) == {}


def test_only_a_supervisor_publishes(session, people):
    li = agents.get_by_name(session=session, name="li.na")
    with pytest.raises(roles.PermissionDenied):
        notices.publish(session=session, draft=OUTAGE, agent=li, agent_id=people["li"], now=NOW)
    with pytest.raises(ValidationError) as refused:
        _publish(session, people, replace(OUTAGE, area=""))
    assert "area" in refused.value.errors


@pytest.mark.parametrize(
    ("at", "valid"),
    [(NOW - timedelta(seconds=1), ["Recall"]), (NOW, ["Power cut", "Recall"]),
     (NOW + timedelta(hours=8), ["Recall"])],
)  # fmt: skip
def test_current_notices_are_those_valid_now(session, people, at, valid):
    _publish(session, people, OUTAGE)
    _publish(session, people, SERVICE)
    assert [n.title for n in notices.current(session=session, now=at)] == valid


@pytest.mark.parametrize(
    ("address", "second", "titles"),
    [
        ("88 Nanjing Rd, Shanghai", None, ["Power cut", "Recall"]),
        ("88 NANJING  RD", None, ["Power cut", "Recall"]),  # case and spaces ignored
        ("1 Huaihai Rd", "8 nanjing rd", ["Power cut", "Recall"]),  # the second address
        ("1 Huaihai Rd", None, ["Recall"]),  # the product notice is for everyone
        (None, None, ["Recall"]),
    ],
)
def test_notices_for_a_caller_by_address(session, people, address, second, titles):
    _publish(session, people, OUTAGE)
    _publish(session, people, SERVICE)
    customer = session.get(Customer, people["fang"])
    customer.address, customer.second_address = address, second
    session.commit()
    found = notices.for_customer(session=session, now=NOW, customer_id=people["fang"])
    assert [n.title for n in found] == titles
    # No customer on the call yet: every valid notice.
    assert len(notices.for_customer(session=session, now=NOW, customer_id=None)) == 2


def test_a_call_is_linked_once_and_the_notice_counts_it(session, people):
    power = _publish(session, people, OUTAGE)
    assert notices.link_call(session=session, notice_id=power, call_uid="a" * 32,
                             agent_id=people["li"], now=NOW)  # fmt: skip
    assert not notices.link_call(session=session, notice_id=power, call_uid="a" * 32,
                                 agent_id=people["li"], now=NOW)  # fmt: skip
    assert notices.link_call(session=session, notice_id=power, call_uid="b" * 32,
                             agent_id=people["wang"], now=NOW)  # fmt: skip
    session.commit()
    assert len(session.exec(select(NoticeCall)).all()) == 2
    [shown] = [n for n in notices.current(session=session, now=NOW) if n.id == power]
    assert shown.calls == 2
    with pytest.raises(ValidationError):
        notices.link_call(session=session, notice_id=power + 99, call_uid="c", agent_id=1,
                          now=NOW)  # fmt: skip

"""Notices (公告, 停电信息公告): what agents read out to callers while it is valid.

A supervisor publishes a notice for a period: an outage (its area, from-to, cause and
expected restoration) or a product / service notice for every caller. The desk shows the
ones valid now; on a call about a notice or an outage the seat offers those that match the
caller: every product / service notice, and the outages whose area the customer's address
(or second address) names. A call linked to a notice counts as one the notice drew.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from seat import roles
from seat.errors import ValidationError
from seat.i18n import N_, _
from seat.models import Customer, Notice, NoticeCall, NoticeKind
from seat.textguard import check_text

PUBLISH = roles.PUBLISH_NOTICE


@dataclass(frozen=True)
class NoticeDraft:
    """What the publish form gives (times are aware, already parsed)."""

    kind: str
    title: str
    text: str
    valid_from: datetime
    valid_to: datetime
    area: str = ""
    cause: str = ""
    restore_at: datetime | None = None


@dataclass(frozen=True)
class NoticeView:
    id: int
    kind: str
    title: str
    text: str
    area: str | None
    cause: str | None
    valid_from: datetime
    valid_to: datetime
    restore_at: datetime | None
    calls: int
    """Calls linked to the notice."""


def validate(draft: NoticeDraft) -> dict[str, str]:
    """Problems by field (empty: the draft can be published)."""
    errors: dict[str, str] = {}
    if draft.kind not in tuple(NoticeKind):
        errors["kind"] = _("Choose the kind of notice.")
    check_text(errors, "title", draft.title, N_("Title"), 200, one_line=True)
    check_text(errors, "text", draft.text, N_("Text to read out"), 5000)
    outage = draft.kind == NoticeKind.OUTAGE
    check_text(errors, "area", draft.area, N_("Area"), 200, required=outage, one_line=True,
               missing=_("An outage names its area, as addresses write it."))  # fmt: skip
    check_text(errors, "cause", draft.cause, N_("Cause"), 500, required=False, one_line=True)
    if draft.valid_to <= draft.valid_from:
        errors["valid_to"] = _("The end is not after the start.")
    if outage and draft.restore_at is None:
        errors["restore_at"] = _("An outage says when power or service should be back.")
    return errors


def publish(*, session: Session, draft: NoticeDraft, agent: roles.HasRole, agent_id: int,
            now: datetime) -> int:  # fmt: skip
    """Publish the notice (a supervisor's); its id. ValidationError: problems by field."""
    roles.require(agent, PUBLISH)
    errors = validate(draft)
    if errors:
        raise ValidationError(errors)
    outage = draft.kind == NoticeKind.OUTAGE
    notice = Notice(
        kind=draft.kind, title=draft.title.strip(), text=draft.text.strip(),
        area=draft.area.strip() or None, cause=draft.cause.strip() or None,
        valid_from=draft.valid_from, valid_to=draft.valid_to,
        restore_at=draft.restore_at if outage else None, created_at=now,
        created_by_id=agent_id,
    )  # fmt: skip
    session.add(notice)
    session.flush()
    assert notice.id is not None
    return notice.id


def _views(session: Session, where: list[Any]) -> list[NoticeView]:
    drawn = (
        select(NoticeCall.notice_id, func.count().label("n"))
        .group_by(NoticeCall.notice_id)
        .subquery()
    )
    rows = session.execute(
        select(Notice, func.coalesce(drawn.c.n, 0))
        .outerjoin(drawn, drawn.c.notice_id == Notice.id)
        .where(*where)
        .order_by(Notice.kind, Notice.valid_from, Notice.id)
    ).all()
    return [
        NoticeView(n.id, n.kind, n.title, n.text, n.area, n.cause, n.valid_from, n.valid_to,
                   n.restore_at, int(calls))  # fmt: skip
        for n, calls in rows
    ]


def current(*, session: Session, now: datetime) -> list[NoticeView]:
    """The notices valid at `now`, outages first."""
    return _views(session, [Notice.valid_from <= now, Notice.valid_to > now])


def matches(notice: NoticeView, addresses: list[str]) -> bool:
    """Whether the notice concerns a caller at these addresses: a product / service notice
    concerns everyone; an outage those whose address names its area (case and spaces
    ignored)."""
    if notice.kind != NoticeKind.OUTAGE:
        return True
    area = "".join((notice.area or "").split()).casefold()
    return bool(area) and any(area in "".join(a.split()).casefold() for a in addresses)


def for_customer(*, session: Session, now: datetime, customer_id: int | None
                 ) -> list[NoticeView]:  # fmt: skip
    """The notices valid now that concern the caller (no customer: every valid notice)."""
    valid = current(session=session, now=now)
    if customer_id is None:
        return valid
    customer = session.get(Customer, customer_id)
    if customer is None:
        return valid
    addresses = [a for a in (customer.address, customer.second_address) if a]
    return [n for n in valid if matches(n, addresses)]


def link_call(*, session: Session, notice_id: int, call_uid: str, agent_id: int,
              now: datetime) -> bool:  # fmt: skip
    """Link the call to the notice; False when it already was (nothing written twice)."""
    if session.get(Notice, notice_id) is None:
        raise ValidationError({"notice": _("That notice is no longer there.")})
    try:
        with session.begin_nested():
            session.add(NoticeCall(notice_id=notice_id, call_uid=call_uid, agent_id=agent_id,
                                   at=now))  # fmt: skip
    except IntegrityError:
        return False
    return True

"""Quality spot-checks (质检抽查): a sample of each agent's calls, scored on a form.

- **The sample.** For an agent and a period (a month on the screen), the calls the agent
  took or made that started in it, were saved and reached somebody (no "no answer", no
  "busy"), grouped by need (a callback's call: the need "callback"). From each need the
  policy's share is drawn, rounded up, and at least `min_per_need` (data/policy/quality.toml):
  the sample is stratified and never below the share. Random but reproducible: a call's
  place in the draw is a hash of the period, the agent and the call (SHA-256), so the same
  period and agent always draw the same calls, on any seat, and a draw repeated after more
  calls came in keeps what was drawn and adds only what the share now asks for.
- **The form.** The checklist items of the call's script, in the stages the call walked
  (with whether the agent ticked each: seat.calls), then the manners (labels.QUALITY_MANNERS).
  Each item is met, not met or not applicable; the score is the share met of the items that
  apply, in percent. Comments go with it. A score is changed with the conditional UPDATE
  of the sample's version (optimistic.claim_version): two inspectors never overwrite each
  other unseen.
- **Who.** Drawing and scoring is `roles.QUALITY_SCORE`'s (supervisors); an agent reads their
  own scores (`own_scores`).
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from seat import labels, roles
from seat.errors import Stale, ValidationError
from seat.i18n import N_, _
from seat.models import (
    Agent,
    Call,
    CallCheck,
    CallStage,
    Customer,
    Outcome,
    QualityMark,
    QualitySample,
)
from seat.optimistic import claim_version
from seat.quality_policy import (  # noqa: F401  (re-exported: the policy is read without the tables)
    QUALITY_POLICY,
    QualityPolicy,
    _load,
    load_policy,
    policy_from_dict,
)
from seat.scripts import Script
from seat.textguard import check_text

MANNER = "manner:"
NOT_REACHED = (Outcome.NO_ANSWER.value, Outcome.BUSY.value)
"""Outcomes of a call that reached nobody: nothing to score."""
MAX_COMMENTS = 5000


# -- the draw (pure) ------------------------------------------------------------------------


def seed_for(period_from: date, period_to: date, agent_id: int) -> str:
    """What makes a draw reproducible: the period and the agent."""
    return f"{period_from.isoformat()}/{period_to.isoformat()}/{agent_id}"


def _rank(seed: str, call_id: int) -> str:
    return hashlib.sha256(f"{seed}/{call_id}".encode()).hexdigest()


def wanted(count: int, policy: QualityPolicy) -> int:
    """How many of a need's `count` calls the sample takes."""
    return min(count, max(policy.min_per_need, math.ceil(policy.share * count)))


def draw(calls: Iterable[tuple[int, str]], *, policy: QualityPolicy, seed: str) -> list[int]:
    """The call ids drawn from (call id, need) pairs: per need, the `wanted` ones first in
    the seeded order. The same calls and seed always draw the same ids (sorted)."""
    by_need: dict[str, list[int]] = defaultdict(list)
    for call_id, need in calls:
        by_need[need].append(call_id)
    chosen: list[int] = []
    for ids in by_need.values():
        ids.sort(key=lambda i: _rank(seed, i))
        chosen.extend(ids[: wanted(len(ids), policy)])
    return sorted(chosen)


# -- periods -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @property
    def label(self) -> str:
        return f"{self.first:%Y-%m}" if self.first.day == 1 else f"{self.first} – {self.last}"


def months(today: date, count: int = 12) -> list[Period]:
    """This month (to its end) and the `count` - 1 before it, newest first."""
    out = []
    year, month = today.year, today.month
    for __ in range(count):
        first = date(year, month, 1)
        nxt = date(year + month // 12, month % 12 + 1, 1)
        out.append(Period(first, nxt - timedelta(days=1)))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out


def _bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return start, end


def _need(need: str | None, callback_id: int | None) -> str:
    return "callback" if callback_id is not None else (need or "other")


# -- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentQuality:
    """An agent's line on the quality screen for a period."""

    agent_id: int
    name: str
    calls: int
    """Calls that can be drawn (saved, reached somebody)."""
    sampled: int
    scored: int
    average: float | None


@dataclass(frozen=True)
class SampleRow:
    """A call of an agent's sample."""

    sample_id: int
    call_id: int
    kind: str
    need: str
    started_at: datetime
    customer: str
    talk_seconds: float | None
    recording: bool
    score: float | None
    scored_at: datetime | None


def _candidates(
    session: Session, agent_id: int | None, start: datetime, end: datetime
) -> list[tuple[int, int, str | None, int | None]]:
    """(call id, agent id, need, callback id) of the calls that can be drawn (an outbound
    call without a callback counts as a callback's: the agent called the customer back)."""
    callback = case((Call.direction == "outbound", func.coalesce(Call.callback_id, 0)),
                    else_=Call.callback_id)  # fmt: skip
    query = select(Call.id, Call.agent_id, Call.need_category, callback).where(
        Call.started_at >= start, Call.started_at < end, Call.ended_at.is_not(None),  # type: ignore[union-attr]
        func.coalesce(Call.outcome, "").not_in(NOT_REACHED),
    )  # fmt: skip
    if agent_id is not None:
        query = query.where(Call.agent_id == agent_id)
    return [tuple(r) for r in session.execute(query.order_by(Call.id))]  # type: ignore[misc]


def overview(
    session: Session, *, period: Period, zone: ZoneInfo
) -> list[AgentQuality]:
    """Each active agent with calls in the period (or a sample): calls, sampled, scored, the
    average score."""
    start, end = _bounds(period.first, period.last, zone)
    calls: dict[int, int] = defaultdict(int)
    for __, agent_id, __n, __c in _candidates(session, None, start, end):
        calls[agent_id] += 1
    sums = {
        r.agent_id: r
        for r in session.execute(
            select(
                QualitySample.agent_id,
                func.count().label("sampled"),
                func.count(QualitySample.scored_at).label("scored"),
                func.avg(QualitySample.score).label("average"),
            )
            .where(QualitySample.period_from == period.first,
                   QualitySample.period_to == period.last)
            .group_by(QualitySample.agent_id)
        )
    }  # fmt: skip
    agents = session.execute(select(Agent.id, Agent.display_name).order_by(Agent.display_name))
    out = []
    for agent_id, name in agents:
        if agent_id not in calls and agent_id not in sums:
            continue
        got = sums.get(agent_id)
        out.append(AgentQuality(
            agent_id=agent_id, name=name, calls=calls.get(agent_id, 0),
            sampled=got.sampled if got else 0, scored=got.scored if got else 0,
            average=None if not got or got.average is None else round(float(got.average), 1),
        ))  # fmt: skip
    return out


def sample(session: Session, *, agent_id: int, period: Period) -> list[SampleRow]:
    """The agent's sample for the period, oldest call first."""
    rows = session.execute(
        select(
            QualitySample.id, QualitySample.call_id, QualitySample.kind, QualitySample.need,
            Call.started_at, Customer.name, Call.talk_seconds, Call.recording,
            QualitySample.score, QualitySample.scored_at,
        )
        .join(Call, Call.id == QualitySample.call_id)
        .outerjoin(Customer, Customer.id == Call.customer_id)
        .where(QualitySample.agent_id == agent_id, QualitySample.period_from == period.first,
               QualitySample.period_to == period.last)
        .order_by(Call.started_at, Call.id)
    )  # fmt: skip
    return [
        SampleRow(
            sample_id=r[0], call_id=r[1], kind=r[2], need=r[3], started_at=r[4],
            customer=r[5] or "", talk_seconds=r[6], recording=bool(r[7]), score=r[8],
            scored_at=r[9],
        )  # fmt: skip
        for r in rows
    ]


# -- drawing -----------------------------------------------------------------------------


def draw_sample(
    session: Session,
    *,
    by: roles.HasRole,
    by_id: int,
    agent_id: int,
    period: Period,
    policy: QualityPolicy,
    zone: ZoneInfo,
    now: datetime,
) -> list[SampleRow]:
    """Draw the agent's sample for the period (what was drawn before stays, scores too) and
    return it. Two seats drawing at once add each call once (the unique period and call)."""
    roles.require(by, roles.QUALITY_SCORE)
    start, end = _bounds(period.first, period.last, zone)
    found = _candidates(session, agent_id, start, end)
    needs = {cid: _need(need, cb) for cid, __, need, cb in found}
    callbacks = {cid for cid, __, __n, cb in found if cb is not None}
    chosen = draw(needs.items(), policy=policy, seed=seed_for(period.first, period.last,
                                                               agent_id))  # fmt: skip
    have = set(session.execute(
        select(QualitySample.call_id).where(
            QualitySample.period_from == period.first, QualitySample.period_to == period.last,
            QualitySample.call_id.in_(chosen),  # type: ignore[attr-defined]
        )
    ).scalars())  # fmt: skip
    for call_id in chosen:
        if call_id in have:
            continue
        try:
            with session.begin_nested():  # another seat drew the same call first: keep theirs
                session.add(QualitySample(
                    period_from=period.first, period_to=period.last, agent_id=agent_id,
                    call_id=call_id, kind="callback" if call_id in callbacks else "call",
                    need=needs[call_id], drawn_at=now, drawn_by_id=by_id,
                ))  # fmt: skip
        except IntegrityError:
            continue
    return sample(session, agent_id=agent_id, period=period)


# -- the score form ------------------------------------------------------------------------


@dataclass(frozen=True)
class FormItem:
    key: str
    label: str
    stage: str
    """The stage's title ("" for a manner)."""
    ticked: bool | None
    """Whether the agent ticked it on the call (None: a manner, or not recorded)."""
    mark: int | None
    """1 met, 0 not met, None not applicable."""


@dataclass(frozen=True)
class ScoreForm:
    sample_id: int
    version: int
    call_id: int
    agent: str
    kind: str
    need: str
    started_at: datetime
    customer: str
    outcome: str
    talk_seconds: float | None
    recording: bool
    notes: str
    stage_seconds: tuple[tuple[str, float], ...]
    """(stage title, seconds spent) in the order walked."""
    items: tuple[FormItem, ...]
    comments: str
    score: float | None
    scored: bool


def item_key(script_id: str, stage_id: str, item_no: int) -> str:
    return f"{script_id}:{stage_id}.{item_no}"


def manner_items() -> list[tuple[str, str]]:
    """(key, label in the current language) of the manners."""
    return [(MANNER + code, _(text)) for code, text in labels.QUALITY_MANNERS.items()]


ScriptFor = Callable[[str], Script | None]
"""A script by id in the reader's language (None: no such script any more)."""


def item_text(key: str, stored: str, script_for: ScriptFor | None) -> str:
    """An item as the reader reads it: a manner in the current language, a script's item in
    `script_for`'s language (its key names the script, the stage and the item), else the
    label stored when it was scored (the script changed since, or no scripts at hand)."""
    if key.startswith(MANNER):
        text = labels.QUALITY_MANNERS.get(key[len(MANNER):])
        return _(text) if text else stored
    if script_for is None:
        return stored
    script_id, __, rest = key.partition(":")
    stage_id, __, number = rest.rpartition(".")
    script = script_for(script_id)
    if script is None or not number.isdigit():
        return stored
    try:
        checklist = script.stage(stage_id).checklist
    except KeyError:
        return stored
    return checklist[int(number)] if int(number) < len(checklist) else stored


def score_form(
    session: Session, *, sample_id: int, script_for: ScriptFor
) -> ScoreForm:
    """The form of a sampled call: its script's checklist (in `script_for`'s language) on
    the stages it walked, then the manners, with the marks given so far (new: all met)."""
    row = session.get(QualitySample, sample_id)
    if row is None:
        raise ValidationError({"_": _("This sample is no longer on file.")})
    call = session.get(Call, row.call_id)
    assert call is not None  # a foreign key
    agent = session.get(Agent, call.agent_id)
    customer = session.get(Customer, call.customer_id) if call.customer_id else None
    stages = session.execute(
        select(CallStage.stage_id, CallStage.seconds)
        .where(CallStage.call_id == call.id).order_by(CallStage.position)
    ).all()  # fmt: skip
    ticks = {
        (r.stage_id, r.item_no): r.ticked
        for r in session.execute(
            select(CallCheck.stage_id, CallCheck.item_no, CallCheck.ticked)
            .where(CallCheck.call_id == call.id)
        )
    }  # fmt: skip
    marks = {
        r.item_key: r.mark
        for r in session.execute(
            select(QualityMark.item_key, QualityMark.mark).where(QualityMark.sample_id == row.id)
        )
    }
    scored = row.scored_at is not None
    script = script_for(call.script)
    items: list[FormItem] = []
    shown_stages: list[tuple[str, float]] = []
    if script is not None:
        walked = [sid for sid, __ in stages] or [s.id for s in script.stages]
        seconds = dict(stages)
        for sid in walked:
            try:
                stage = script.stage(sid)
            except KeyError:
                continue
            if sid in seconds:
                shown_stages.append((stage.title, seconds[sid]))
            for no, text in enumerate(stage.checklist):
                key = item_key(script.id, sid, no)
                items.append(FormItem(
                    key=key, label=text, stage=stage.title, ticked=ticks.get((sid, no)),
                    mark=marks.get(key) if scored else 1,
                ))  # fmt: skip
    for key, text in manner_items():
        items.append(FormItem(key=key, label=text, stage="", ticked=None,
                              mark=marks.get(key) if scored else 1))  # fmt: skip
    return ScoreForm(
        sample_id=row.id, version=row.version, call_id=call.id,  # type: ignore[arg-type]
        agent=agent.display_name if agent else "", kind=row.kind, need=row.need,
        started_at=call.started_at, customer=customer.name if customer else "",
        outcome=call.outcome or "", talk_seconds=call.talk_seconds,
        recording=bool(call.recording), notes=call.notes, stage_seconds=tuple(shown_stages),
        items=tuple(items), comments=row.comments, score=row.score, scored=scored,
    )  # fmt: skip


def percent(marks: Iterable[int | None]) -> float | None:
    """The share met of the items that apply, in percent (None: none applies)."""
    applied = [m for m in marks if m is not None]
    if not applied:
        return None
    return round(100 * sum(applied) / len(applied), 1)


class StaleSample(Stale):
    """Another seat scored the sample since this form was read."""

    def __init__(self) -> None:
        super().__init__({"_": _(
            "Someone scored this call a moment ago; the form was read again. Check and retry."
        )})  # fmt: skip


def save_score(
    session: Session,
    *,
    by: roles.HasRole,
    by_id: int,
    sample_id: int,
    version: int,
    marks: Sequence[tuple[str, str, int | None]],
    comments: str,
    now: datetime,
) -> float | None:
    """Score a sampled call: `marks` are (item key, label as shown, 1/0/None) of its form;
    `version` the sample's version the form was read at. Returns the score."""
    roles.require(by, roles.QUALITY_SCORE)
    errors: dict[str, str] = {}
    text = check_text(errors, "comments", comments, N_("Comments"), MAX_COMMENTS,
                      required=False)  # fmt: skip
    if any(m not in (0, 1, None) for __, __l, m in marks) or not marks:
        errors["_"] = _("Every item is met, not met or not applicable.")
    if len({k for k, __, __m in marks}) != len(marks):
        errors["_"] = _("An item is marked twice.")
    if errors:
        raise ValidationError(errors)
    row = session.get(QualitySample, sample_id)
    if row is None:
        raise ValidationError({"_": _("This sample is no longer on file.")})
    if row.version != version:
        raise StaleSample()
    claim_version(session, row, StaleSample)
    session.execute(delete(QualityMark).where(QualityMark.sample_id == row.id))  # type: ignore[arg-type]
    for key, label, mark in marks:
        session.add(QualityMark(sample_id=row.id, item_key=key[:160], label=label[:500],
                                mark=mark))  # fmt: skip
    row.score = percent(m for __, __l, m in marks)
    row.comments = text
    row.scored_at = now
    row.scored_by_id = by_id
    session.add(row)
    session.flush()
    return row.score


# -- what the agent sees -------------------------------------------------------------------


@dataclass(frozen=True)
class OwnScore:
    """One of an agent's scored calls, as the agent reads it."""

    call_id: int
    started_at: datetime
    need: str
    score: float | None
    comments: str
    missed: tuple[str, ...]
    """The items not met."""
    scored_at: datetime


def own_scores(
    session: Session, *, agent_id: int, limit: int = 50, script_for: ScriptFor | None = None
) -> list[OwnScore]:
    """The agent's scored calls, the most recently scored first; the items not met in the
    reader's language (`item_text`), whatever language the inspector scored in."""
    rows = session.execute(
        select(QualitySample.id, QualitySample.call_id, Call.started_at, QualitySample.need,
               QualitySample.score, QualitySample.comments, QualitySample.scored_at)
        .join(Call, Call.id == QualitySample.call_id)
        .where(QualitySample.agent_id == agent_id, QualitySample.scored_at.is_not(None))  # type: ignore[union-attr]
        .order_by(QualitySample.scored_at.desc(), QualitySample.id.desc())  # type: ignore[union-attr]
        .limit(limit)
    ).all()  # fmt: skip
    missed: dict[int, list[str]] = defaultdict(list)
    if rows:
        for sid, key, label in session.execute(
            select(QualityMark.sample_id, QualityMark.item_key, QualityMark.label)
            .where(QualityMark.sample_id.in_([r[0] for r in rows]), QualityMark.mark == 0)  # type: ignore[attr-defined]
            .order_by(QualityMark.id)
        ):  # fmt: skip
            missed[sid].append(item_text(key, label, script_for))
    return [
        OwnScore(call_id=r[1], started_at=r[2], need=r[3], score=r[4], comments=r[5],
                 missed=tuple(missed[r[0]]), scored_at=r[6])  # fmt: skip
        for r in rows
    ]


# -- the report ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentSums:
    agent: str
    display_name: str
    sampled: int
    scored: int
    average: float | None
    lowest: float | None
    highest: float | None


@dataclass(frozen=True)
class ItemSums:
    key: str
    label: str
    met: int
    not_met: int
    not_applicable: int

    @property
    def met_percent(self) -> float | None:
        applied = self.met + self.not_met
        return round(100 * self.met / applied, 1) if applied else None


def per_agent(
    session: Session, *, date_from: date, date_to: date, zone: ZoneInfo
) -> list[AgentSums]:
    """Per agent, the sampled calls that started in the range: how many, how many scored,
    the average, lowest and highest score."""
    start, end = _bounds(date_from, date_to, zone)
    rows = session.execute(
        select(
            Agent.name, Agent.display_name, func.count(QualitySample.id),
            func.count(QualitySample.scored_at), func.avg(QualitySample.score),
            func.min(QualitySample.score), func.max(QualitySample.score),
        )
        .join(Call, Call.id == QualitySample.call_id)
        .join(Agent, Agent.id == QualitySample.agent_id)
        .where(Call.started_at >= start, Call.started_at < end)
        .group_by(Agent.id, Agent.name, Agent.display_name)
        .order_by(Agent.display_name, Agent.name)
    )  # fmt: skip
    return [
        AgentSums(agent=r[0], display_name=r[1], sampled=r[2], scored=r[3],
                  average=None if r[4] is None else round(float(r[4]), 1),
                  lowest=r[5], highest=r[6])  # fmt: skip
        for r in rows
    ]


def per_item(
    session: Session, *, date_from: date, date_to: date, zone: ZoneInfo,
    script_for: ScriptFor | None = None,
) -> list[ItemSums]:
    """Per form item over the scored samples whose call started in the range: met, not met,
    not applicable. Each is named in the reader's language (`item_text`: a manner, or a
    script's item by `script_for`), else as the inspector read it (the first label given)."""
    start, end = _bounds(date_from, date_to, zone)
    rows = session.execute(
        select(
            QualityMark.item_key, func.min(QualityMark.label),
            func.count().filter(QualityMark.mark == 1),
            func.count().filter(QualityMark.mark == 0),
            func.count().filter(QualityMark.mark.is_(None)),  # type: ignore[union-attr]
            func.min(QualityMark.id),
        )
        .join(QualitySample, QualitySample.id == QualityMark.sample_id)
        .join(Call, Call.id == QualitySample.call_id)
        .where(Call.started_at >= start, Call.started_at < end)
        .group_by(QualityMark.item_key)
    ).all()  # fmt: skip
    manners = {key: _("Manners: {item}").format(item=text) for key, text in manner_items()}
    order = {key: i for i, key in enumerate(manners)}
    # The script's items in the order forms list them (the first marked first), then manners.
    rows = sorted(rows, key=lambda r: (1, order[r[0]]) if r[0] in order else (0, r[5]))
    return [
        ItemSums(key=r[0], label=manners.get(r[0]) or item_text(r[0], r[1], script_for),
                 met=r[2], not_met=r[3], not_applicable=r[4])  # fmt: skip
        for r in rows
    ]

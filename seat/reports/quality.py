"""The quality report: spot-check scores per agent and per checklist item (seat.quality).

The sampled calls that started in the range: per agent how many were drawn and scored,
the average, lowest and highest score; per item of the score form (the scripts' checklist
items, then the manners) how often it was met, not met, not applicable, and the share met.
Items are named in the report's language (the scripts' variant for it), whatever language
the inspectors scored in.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from seat import callbacks, quality
from seat.config import Settings
from seat.errors import PolicyError
from seat.export import Table
from seat.i18n import N_
from seat.i18n import language as seat_language
from seat.scripts import Script, ScriptBook, load_scripts, pick


def tables(
    *, session: Session, date_from: date, date_to: date, settings: Settings, now: datetime
) -> list[Table]:
    """Two tables: scores per agent, then per form item."""
    zone = ZoneInfo(settings.local_timezone)
    meta = {"from": date_from, "to": date_to, "as of": now, "zone": settings.local_timezone}
    agents = quality.per_agent(session, date_from=date_from, date_to=date_to, zone=zone)
    book: ScriptBook
    book, __ = load_scripts(settings.scripts_dir)
    try:  # a joint care call read a script composed of its kinds' (seat.callbacks)
        book = callbacks.with_joint_scripts(book, callbacks.load_policy(settings))
    except PolicyError:
        pass  # its items are named as the inspector read them
    language = seat_language()

    def script_for(script_id: str) -> Script | None:
        try:
            return pick(book, script_id, language)
        except KeyError:
            return None

    items = quality.per_item(session, date_from=date_from, date_to=date_to, zone=zone,
                             script_for=script_for)  # fmt: skip
    return [
        Table(
            title=N_("Quality scores per agent"),
            headers=[N_("Agent"), N_("Name"), N_("Sampled"), N_("Scored"), N_("Average %"),
                     N_("Lowest %"), N_("Highest %")],  # fmt: skip
            rows=[[a.agent, a.display_name, a.sampled, a.scored, a.average, a.lowest,
                   a.highest] for a in agents],  # fmt: skip
            meta=dict(meta),
        ),
        Table(
            title=N_("Quality per checklist item"),
            headers=[N_("Item"), N_("Met"), N_("Not met"), N_("Not applicable"), N_("Met %")],
            rows=[[i.label, i.met, i.not_met, i.not_applicable, i.met_percent] for i in items],
            meta=dict(meta),
        ),
    ]

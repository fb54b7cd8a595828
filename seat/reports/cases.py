"""The weekly case meeting's pack: every complaint closed in the period, one case a page.

Each case is one table (one sheet in xlsx; a form feed between cases in txt): what was
reported and wanted, the classification, the clocks, the linked work, the agreed model
solution when it is a model case, then its whole history, event by event. Oldest closed
first. Times are local.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from seat import cases, complaints, labels, sla, workorders
from seat.config import Settings
from seat.export import Table
from seat.i18n import N_, _
from seat.labels import label

FORMATS = ("xlsx", "txt")
"""The formats `seat report cases` offers (a case a page: no csv or json)."""
PAGES = True
"""txt: a form feed between cases (seat.export.write)."""
HEADERS = [N_("Item"), N_("When"), N_("Who"), N_("Text")]


def tables(
    *, session: Session, date_from: date, date_to: date, settings: Settings, now: datetime
) -> list[Table]:
    """One table per case closed from `date_from` to `date_to` (local days, both included);
    a single empty table when there is none."""
    policy = sla.load_policy(settings)
    zone = ZoneInfo(settings.local_timezone)
    found = cases.closed_cases(
        session=session, filters=cases.CaseFilter(date_from=date_from, date_to=date_to),
        policy=policy, zone=zone, now=now,
    )  # fmt: skip
    meta = {"from": date_from, "to": date_to, "generated_at": now, "zone": str(zone)}
    out: list[Table] = []
    for row in reversed(found):  # the oldest closed first
        view = complaints.case(session=session, complaint_id=row.id, now=now, policy=policy)
        if view is None:
            continue
        model = cases.model_view(session=session, complaint_id=row.id)
        out.append(page(view, model, breached=row.breached, zone=zone, policy=policy))
    if not out:
        return [Table(title=N_("Cases"), headers=list(HEADERS), rows=[], meta=meta)]
    out[0].meta = meta
    return out


def page(
    view: complaints.CaseView, model: cases.ModelView | None, *, breached: bool,
    zone: ZoneInfo, policy: sla.Policy,
) -> Table:  # fmt: skip
    """One case's page: its facts, clocks, linked work and whole history."""
    c = view.complaint

    def when(at: datetime | None) -> str:
        return f"{at.astimezone(zone):%Y-%m-%d %H:%M}" if at is not None else ""

    tier = label(labels.TIERS, view.customer_tier)
    rows: list[list[object]] = [
        [N_("Customer"), "", "", f"{view.customer_name} · {tier}"],
        [N_("Received"), when(c.created_at), view.owner, label(labels.CHANNELS, c.channel)],
        [N_("Closed"), when(c.closed_at), "", complaints.status_label(c.status)],
        [N_("What happened"), "", "", c.what_happened],
        [N_("Wants"), "", "", c.customer_wants],
    ]  # fmt: skip
    facts: list[tuple[str, str | None]] = [
        (N_("Category"), policy.category_label(c.category) if c.category else None),
        (N_("Department"), c.department),
        (N_("Cause"), _(policy.cause_label(c.cause)) if c.cause else None),
        (N_("Responsible"), c.responsible_person),
        (N_("Invalid"), c.invalid_reason),
        (N_("Told customer"), c.reply_text),
        (N_("Options"), " / ".join(complaints.options_of(c.solution_options)) or None),
        (N_("Approved"), c.chosen_solution),
        (N_("Root cause"), c.root_cause),
        (N_("Summary"), c.summary),
    ]
    rows += [[name, "", "", value] for name, value in facts if value]
    rows.append([N_("Breached"), "", "", _("yes") if breached else _("no")])
    for k in view.clocks:
        rows.append([N_("Clock"), when(k.deadline), "", f"{_(k.label)}: {sla.state_phrase(k)}"])
    if view.escalated_to:
        rows.append([N_("Escalated"), "", view.escalated_to, ""])
    for w in view.work_orders:
        rows.append([N_("Work order"), when(w.due_at), "",
                     f"#{w.id} {w.short_text} · {workorders.status_label(w.status)}"])
    for cb in view.callbacks:
        rows.append([N_("Callback"), when(cb.done_at or cb.due_at), cb.owner,
                     f"#{cb.id} {label(labels.CALLBACK_KINDS, cb.kind)} · "
                     f"{label(labels.CALLBACK_STATUSES, cb.status)}"])  # fmt: skip
    if model is not None:
        rows.append([N_("Model solution"), when(model.marked_at), model.marked_by, model.solution])
    for e in view.events:
        rows.append([N_("History"), when(e.at), e.agent,
                     f"{label(labels.COMPLAINT_EVENTS, e.action)}: {e.comment}"
                     if e.comment else label(labels.COMPLAINT_EVENTS, e.action)])  # fmt: skip
    return Table(
        title=f"Case #{c.id}",
        caption=_("Case #{id}").format(id=c.id),
        headers=list(HEADERS),
        rows=rows,
        label_columns=(0,),
    )

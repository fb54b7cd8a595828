"""Case review and the case library: the closed-case filters, marking a model (supervisors
only, audited), searching the models, and `seat report cases` (a case a page)."""

from __future__ import annotations

import io
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlmodel import Session

from seat import cases, complaints, export
from seat.cli import main
from seat.customers import ValidationError
from seat.errors import MoveRefused, PermissionDenied
from seat.models import Callback, CallbackKind, Complaint, ComplaintEvent, ModelCase
from seat.reports import cases as report
from tests.conftest import NOW
from tests.unit.complaint_steps import POLICY, do, open_complaint, walk

ZONE = ZoneInfo("Asia/Shanghai")
DAY = timedelta(days=1)


@pytest.fixture
def floor(session, people) -> dict[str, int]:
    """Four complaints: quick (closed by li, not breached), slow (closed by li ten days a
    step: breached), wang's (closed a week later, another cause and category), and one
    still open."""
    quick = open_complaint(session, people)
    walk(session, people, quick, "closed")
    slow = open_complaint(session, people, customer="fang")
    walk(session, people, slow, "closed", step=timedelta(days=2))
    w = complaints.create_complaint(
        session=session, now=NOW, customer_id=people["tom"], owner_id=people["wang"],
        what_happened="Delivery came three days late", customer_wants="An apology",
    ).id  # fmt: skip
    session.commit()
    step = NOW + timedelta(hours=1)  # handled at once, closed at the case meeting 20 days on
    do(session, people, w, "accept", at=step, actor=people["wang"], category="delivery")
    do(session, people, w, "investigate", at=step, actor=people["wang"],
       cause="late_service", department="Logistics")  # fmt: skip
    do(session, people, w, "propose", at=step, actor=people["wang"],
       solution_options="Apologise\nRefund the delivery fee")  # fmt: skip
    do(session, people, w, "approve", at=step, chosen_solution="Refund the delivery fee")
    do(session, people, w, "implement", at=step, actor=people["wang"])
    do(session, people, w, "close", at=NOW + 20 * DAY, actor=people["wang"],
       category="delivery", root_cause="Carrier short of drivers",
       summary="Book a second carrier in peak weeks")  # fmt: skip
    for cid in (quick, w):  # their follow-up calls were made in time
        for cb in session.execute(
            select(Callback).where(Callback.complaint_id == cid,
                                   Callback.kind == CallbackKind.COMPLAINT_FOLLOW_UP)
        ).scalars():  # fmt: skip
            cb.done_at = session.get(Complaint, cid).implemented_at + timedelta(hours=2)
    session.commit()
    still_open = open_complaint(session, people)
    return {**people, "quick": quick, "slow": slow, "wangs": w, "open": still_open}


def listed(session, **filters) -> list[int]:
    found = cases.closed_cases(
        session=session, filters=cases.CaseFilter(**filters), policy=POLICY, zone=ZONE,
        now=NOW + 30 * DAY,
    )  # fmt: skip
    return sorted(c.id for c in found)


def test_the_policy_knows_the_categories_and_causes_used():
    assert POLICY.category("delivery") is not None
    assert "late_service" in dict(POLICY.causes)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {"quick", "slow", "wangs"}),
        ({"date_from": (NOW + 19 * DAY).date()}, {"wangs"}),
        ({"date_to": (NOW + 15 * DAY).date()}, {"quick", "slow"}),
        ({"category": "delivery"}, {"wangs"}),
        ({"category": "repair_installation"}, {"quick", "slow"}),
        ({"cause": "installation_error"}, {"quick", "slow"}),
        ({"department": "Logistics"}, {"wangs"}),
        ({"owner": "wang"}, {"wangs"}),
        ({"owner": "li"}, {"quick", "slow"}),
        ({"breached": True}, {"slow"}),
        ({"breached": False}, {"quick", "wangs"}),
        ({"owner": "li", "breached": False}, {"quick"}),
    ],
)
def test_closed_cases_filters(session, floor, filters, expected):
    if "owner" in filters:
        filters["owner_id"] = floor[filters.pop("owner")]
    assert listed(session, **filters) == sorted(floor[k] for k in expected)


def test_the_period_is_the_local_day_closed(session, floor):
    closed = session.get(Complaint, floor["wangs"]).closed_at
    day = closed.astimezone(ZONE).date()
    assert listed(session, date_from=day, date_to=day) == [floor["wangs"]]
    assert listed(session, date_from=day + DAY) == []


def test_a_supervisor_marks_a_model_case_and_it_is_audited(session, floor):
    cid = floor["quick"]
    version = session.get(Complaint, cid).version
    cases.mark_model(session=session, complaint_id=cid, actor_id=floor["boss"],
                     solution="Replace the clamp; offer a free check", now=NOW + 2 * DAY,
                     version=version)  # fmt: skip
    session.commit()
    row = session.get(ModelCase, cid)
    assert row.solution == "Replace the clamp; offer a free check"
    assert row.marked_by_id == floor["boss"]
    c = session.get(Complaint, cid)
    assert c.version == version + 1 and c.status == "closed"
    last = session.execute(
        select(ComplaintEvent).where(ComplaintEvent.complaint_id == cid)
        .order_by(ComplaintEvent.id.desc())
    ).scalars().first()  # fmt: skip
    assert (last.action, last.agent_id, last.to_status) == ("model_case", floor["boss"], "closed")
    assert "Replace the clamp" in last.comment
    # marking again replaces the agreed solution (and is one more event)
    cases.mark_model(session=session, complaint_id=cid, actor_id=floor["boss"],
                     solution="Replace the washer", now=NOW + 3 * DAY)  # fmt: skip
    session.commit()
    session.refresh(row)
    assert row.solution == "Replace the washer"
    assert listed(session, models_only=True) == [cid]
    view = cases.model_view(session=session, complaint_id=cid)
    assert view is not None and view.solution == "Replace the washer"
    assert view.marked_by == "Zhao Lei" and view.root_cause == "Installer skipped the checklist"


@pytest.mark.parametrize(
    ("which", "actor", "solution", "error"),
    [
        ("quick", "li", "Replace it", PermissionDenied),
        ("open", "boss", "Replace it", MoveRefused),
        ("quick", "boss", "   ", ValidationError),
    ],
)
def test_marking_a_model_is_refused(session, floor, which, actor, solution, error):
    with pytest.raises(error):
        cases.mark_model(session=session, complaint_id=floor[which], actor_id=floor[actor],
                         solution=solution, now=NOW + 2 * DAY)  # fmt: skip
    session.rollback()
    assert session.get(ModelCase, floor[which]) is None


def test_a_stale_screen_cannot_mark(session, floor):
    with pytest.raises(MoveRefused):
        cases.mark_model(session=session, complaint_id=floor["quick"], actor_id=floor["boss"],
                         solution="Replace it", now=NOW + 2 * DAY, version=1)  # fmt: skip


@pytest.fixture
def library(session, floor) -> dict[str, int]:
    for which, solution in (("quick", "Replace the clamp, 100% free of charge"),
                            ("wangs", "Apologise and refund the delivery fee")):  # fmt: skip
        cases.mark_model(session=session, complaint_id=floor[which], actor_id=floor["boss"],
                         solution=solution, now=NOW + 25 * DAY)  # fmt: skip
    session.commit()
    return floor


@pytest.mark.parametrize(
    ("words", "category", "expected"),
    [
        ("", None, {"quick", "wangs"}),
        ("", "delivery", {"wangs"}),
        ("washer", None, {"quick"}),  # what happened
        ("CLAMP", None, {"quick"}),  # the agreed solution, any case
        ("refund delivery", None, {"wangs"}),  # every word, anywhere
        ("refund washer", None, set()),
        ("washer", "delivery", set()),
        ("100%", None, {"quick"}),
        ("%", None, {"quick"}),  # a LIKE wildcard is a character like any other
        ("_", None, set()),
        ("skipped checklist", None, {"quick"}),  # the root cause
    ],
)
def test_search_the_library(session, library, words, category, expected):
    hits = cases.search_models(session=session, words=words, category=category)
    assert {h.complaint_id for h in hits} == {library[k] for k in expected}


def test_case_report_a_case_a_page(session, library, settings):
    tables = report.tables(session=session, date_from=NOW.date(), date_to=(NOW + 30 * DAY).date(),
                           settings=settings, now=NOW + 30 * DAY)  # fmt: skip
    assert [t.title for t in tables] == [
        f"Case #{library['quick']}", f"Case #{library['slow']}", f"Case #{library['wangs']}"
    ]
    first = tables[0]
    items = [r[0] for r in first.rows]
    assert items[:3] == ["Customer", "Received", "Closed"]
    assert "Model solution" in items
    history = [r[3] for r in first.rows if r[0] == "History"]
    assert history[0].startswith("registered") and any("closed" in h for h in history)
    assert history[-1].startswith("marked as a model case")
    breached = {t.title: next(r[3] for r in t.rows if r[0] == "Breached") for t in tables}
    assert breached[f"Case #{library['slow']}"] == "yes"
    text = export.to_pages(tables)
    assert text.count("\f") == 2
    assert text.split("\f")[1].lstrip("\n").startswith(f"Case #{library['slow']}")


def test_case_report_with_no_cases_is_one_empty_page(session, settings):
    tables = report.tables(session=session, date_from=date(2020, 1, 1), date_to=date(2020, 1, 7),
                           settings=settings, now=NOW)  # fmt: skip
    assert len(tables) == 1 and tables[0].rows == []


@pytest.mark.parametrize("fmt", ["txt", "xlsx"])
def test_case_report_command(db_url, engine, library, cli_token, monkeypatch, tmp_path, capsys,
                             fmt):  # fmt: skip
    monkeypatch.setenv("SEAT_TOKEN", cli_token(db_url))
    last = (NOW + 30 * DAY).date().isoformat()
    args = ["report", "cases", "--from", NOW.date().isoformat(), "--to", last,
            "--format", fmt, "--db", db_url]  # fmt: skip
    if fmt == "xlsx":
        out = tmp_path / "cases.xlsx"
        assert main([*args, "--output", str(out)]) == 0
        book = load_workbook(io.BytesIO(out.read_bytes()))
        assert len(book.sheetnames) == 3
        assert book.sheetnames[0] == f"Case #{library['quick']}"
        return
    assert main(args) == 0
    text = capsys.readouterr().out
    assert text.count("\f") == 2 and "Apologise and refund" in text


def test_case_report_offers_xlsx_and_txt_only(db_url, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["report", "cases", "--from", "2026-11-01", "--to", "2026-11-07",
              "--format", "csv", "--db", db_url])  # fmt: skip
    assert exc.value.code == 2


def test_report_tables_need_no_session_reuse(engine, library):
    """The report reads with a session of its own (as the command runs it)."""
    with Session(engine) as s:
        assert cases.search_models(session=s, words="clamp")


def test_an_agent_reviews_their_own_closed_cases(session, floor):
    from seat.models import Agent

    li = session.get(Agent, floor["li"])
    boss = session.get(Agent, floor["boss"])

    def seen(viewer, **filters):
        return sorted(c.id for c in cases.closed_cases(
            session=session, filters=cases.CaseFilter(**filters), policy=POLICY, zone=ZONE,
            now=NOW + 30 * DAY, viewer=viewer, viewer_id=viewer.id,
        ))  # fmt: skip

    assert seen(li) == sorted([floor["quick"], floor["slow"]])
    assert seen(li, owner_id=floor["wang"]) == sorted([floor["quick"], floor["slow"]])
    assert seen(boss) == sorted([floor["quick"], floor["slow"], floor["wangs"]])

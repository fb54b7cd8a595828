"""A complaint's steps for unit tests: open one, take a move with sensible arguments, walk
the happy path to a status. The `people` fixture (the world plus a supervisor) is in
tests/unit/conftest.py."""

from __future__ import annotations

from datetime import timedelta

from seat import complaints, sla
from seat.config import DATA_DIR
from seat.models import Complaint
from tests.conftest import NOW

POLICY = sla.read_policy(DATA_DIR / "policy" / "complaints.toml", default_zone="Asia/Shanghai")


def open_complaint(session, people, *, customer="min", call_id=None, at=NOW) -> int:
    c = complaints.create_complaint(
        session=session, now=at, customer_id=people[customer], owner_id=people["li"],
        what_happened="Washer leaks again after the repair",
        customer_wants="A new washer", call_id=call_id,
    )  # fmt: skip
    session.commit()
    return c.id


STEP_ARGS = {
    "accept": dict(department="After-sales service", category="repair_installation",
                   reply_text="We are sorry; the after-sales team will look into it today.",
                   policy=POLICY),
    "invalid": dict(invalid_reason="The washer is not ours", policy=POLICY,
                    reply_text="This model was sold by another shop; here is their number."),
    "investigate": dict(cause="installation_error", responsible_person="Zhou Qiang",
                        department="After-sales service", comment="Hose clamp left loose",
                        policy=POLICY),
    "propose": dict(solution_options="Replace the washer\nRepair free of charge, 1 year extra"),
    "approve": dict(chosen_solution="Replace the washer", comment="OK, VIP goodwill"),
    "send_back": dict(comment="Offer a repair first"),
    "implement": dict(accepted=True, comment="Customer happy with the new washer"),
    "refuse": dict(accepted=False, comment="Customer wants a refund instead"),
    "close": dict(category="repair_installation", root_cause="Installer skipped the checklist",
                  summary="Retrain installers on the clamp check", policy=POLICY),
    "escalate": dict(comment="Customer asks for a manager"),
    "pause": dict(comment="Waiting for the customer's photos"),
    "resume": dict(comment="Photos received"),
}  # fmt: skip
FUNCTIONS = {
    "accept": complaints.accept, "invalid": complaints.judge_invalid,
    "investigate": complaints.investigate, "propose": complaints.propose,
    "approve": complaints.approve, "send_back": complaints.send_back,
    "implement": complaints.implement, "refuse": complaints.implement,
    "close": complaints.close, "escalate": complaints.escalate, "pause": complaints.pause,
    "resume": complaints.resume,
}  # fmt: skip
SUPERVISOR_MOVES = {"approve", "send_back"}


def do(session, people, cid, action, *, at=NOW, actor=None, **overrides):
    args = {**STEP_ARGS[action], **overrides}
    if action == "escalate":
        args.setdefault("supervisor_id", people["boss"])
    who = actor or (people["boss"] if action in SUPERVISOR_MOVES else people["li"])
    result = FUNCTIONS[action](session=session, complaint_id=cid, actor_id=who, now=at, **args)
    session.commit()
    return result


def walk(session, people, cid, until: str, start=NOW, step=timedelta(hours=1)):
    """Take the happy path until the complaint is at `until`; returns the time used."""
    at = start
    c = session.get(Complaint, cid)
    while c.status != until:
        action = {
            "intake": "accept", "investigating": "propose" if c.cause else "investigate",
            "proposed": "approve", "approved": "implement", "implemented": "close",
        }[c.status]  # fmt: skip
        at += step
        c = do(session, people, cid, action, at=at)
    return at

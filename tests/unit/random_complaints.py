"""Random worlds of complaints (every status, levels, business-hour categories, pauses,
waiting on the customer, callbacks after the solution) and the policies they are read under,
shared by the tests that compare a fast read with the computation it replaced."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

from sqlmodel import Session

from seat import sla
from seat.complaints import OPEN_STATUSES, STATUSES
from seat.config import DATA_DIR
from seat.models import Complaint, ComplaintEvent
from tests.conftest import NOW

SHIPPED = sla.read_policy(DATA_DIR / "policy" / "complaints.toml", default_zone="Asia/Shanghai")
POLICIES = {
    "shipped": SHIPPED,
    # the solution clock is the stricter one: the reply clock must not shadow it
    "solution first": replace(
        SHIPPED,
        default=replace(SHIPPED.default, first_reply=timedelta(hours=48),
                        solution=timedelta(hours=20)),
        amber_at=0.5,
    ),  # fmt: skip
    "all business hours": replace(
        SHIPPED, default=replace(SHIPPED.default, business_hours=True), levels={}
    ),
}



def add_random_complaints(session: Session, world: dict[str, int], rng: random.Random) -> None:
    customers = [world["fang"], world["min"], world["tom"]]
    categories = [None, "product_quality", "service_attitude", "no_such_category"]
    for __ in range(rng.randrange(20, 70)):
        created = NOW - timedelta(minutes=rng.randrange(-600, 25 * 1440))
        status = rng.choice([*OPEN_STATUSES, *OPEN_STATUSES, *STATUSES])

        def later(start=created):
            return start + timedelta(minutes=rng.randrange(0, 5 * 1440))

        c = Complaint(
            customer_id=rng.choice(customers),
            owner_id=world["li"] if rng.random() < 0.9 else world["wang"],
            what_happened="x",
            customer_wants="y",
            status=status,
            created_at=created,
            category=rng.choice(categories),
            first_reply_at=later() if rng.random() < 0.5 else None,
            solution_at=later() if rng.random() < 0.3 else None,
            closed_at=later() if status in ("closed", "invalid") or rng.random() < 0.05 else None,
            waiting_since=later() if rng.random() < 0.2 else None,
        )
        if rng.random() < 0.25:
            c.implemented_at = later()
        session.add(c)
        session.flush()
        at = created
        for __ in range(rng.choice([0, 0, 0, 1, 2, 3])):
            at += timedelta(minutes=rng.randrange(1, 3000))
            session.add(ComplaintEvent(complaint_id=c.id, agent_id=world["li"], at=at,
                                       action="pause", to_status=status))  # fmt: skip
            if rng.random() < 0.8:
                at += timedelta(minutes=rng.randrange(0, 3000))
                session.add(ComplaintEvent(complaint_id=c.id, agent_id=world["li"], at=at,
                                           action="resume", to_status=status))  # fmt: skip
    session.commit()

"""Member rules: tiers from spend, orders and loyalty; churn; pins and dedicated owners."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from seat import audit, members
from seat.cli import main
from seat.config import Settings
from seat.db import make_engine
from seat.errors import PermissionDenied, PolicyError, ValidationError
from seat.models import Customer, CustomerChange, Purchase
from tests.conftest import populate

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
POLICY_DIR = Path(__file__).resolve().parents[2] / "data" / "policy"
SHIPPED = members.policy_from_dict(tomllib.loads((POLICY_DIR / "members.toml").read_text()))


def test_the_shipped_file_is_the_built_in_policy():
    assert SHIPPED == members.MemberPolicy()
    assert members.load_policy(replace(Settings(), policy_dir=POLICY_DIR)) == SHIPPED


@pytest.mark.parametrize(
    ("spend", "orders", "months", "tier"),
    [
        (0, 0, None, "ordinary"),
        (2999.99, 10, 40, "ordinary"),  # spend one fen short of gold
        (3000, 2, 40, "ordinary"),  # orders one short
        (3000, 3, None, "gold"),
        (9999, 9, 5, "gold"),
        (10_000, 5, 0, "platinum"),
        (20_000, 8, 1, "diamond"),
        (60_000, 20, 23, "diamond"),  # VIP asks 24 months of loyalty
        (50_000, 12, 24, "vip"),
        (1e9, 1000, 1000, "vip"),
    ],
)
def test_tier_for(spend, orders, months, tier):
    stats = members.MemberStats(spend, orders, months)
    rule = members.tier_for(SHIPPED, stats)
    assert rule.tier == tier
    reason = members.tier_reason(SHIPPED, stats, rule)
    assert reason.startswith("members.toml: spend") and f"-> {tier}" in reason


@pytest.mark.parametrize(
    ("last_days", "joined_days", "churned"),
    [
        (None, 10, False),  # joined lately, not bought yet
        (None, 91, True),  # never bought in 91 days
        (89, 400, False),
        (90, 400, False),  # exactly the period: not yet
        (91, 400, True),
        (400, 900, True),
    ],
)
def test_is_churned(last_days, joined_days, churned):
    last = NOW - timedelta(days=last_days, minutes=-1) if last_days is not None else None
    if last_days is not None and last_days > 90:
        last = NOW - timedelta(days=last_days)
    assert members.is_churned(
        last_purchase=last, member_since=NOW - timedelta(days=joined_days), now=NOW,
        policy=SHIPPED,
    ) is churned  # fmt: skip


@pytest.mark.parametrize(
    ("at", "months", "expected"),
    [
        (datetime(2026, 11, 23, tzinfo=UTC), 12, datetime(2025, 11, 23, tzinfo=UTC)),
        (datetime(2026, 3, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2024, 3, 31, tzinfo=UTC), 1, datetime(2024, 2, 29, tzinfo=UTC)),
        (datetime(2026, 1, 15, tzinfo=UTC), 3, datetime(2025, 10, 15, tzinfo=UTC)),
    ],
)
def test_months_before(at, months, expected):
    assert members.months_before(at, months) == expected


@pytest.mark.parametrize(
    ("first", "months"),
    [(NOW - timedelta(days=10), 0), (members.months_before(NOW, 24), 24),
     (members.months_before(NOW, 24) + timedelta(seconds=1), 23)],
)  # fmt: skip
def test_months_between(first, months):
    assert members.months_between(first, NOW) == months


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        ("[period]\nmonths = 0\n", "at least 1"),
        ("[bogus]\n", "unknown section"),
        ("[churn]\ndays = 3\n", "unknown key"),
        ('[[tiers]]\ntier = "gold"\nmin_spend = 1\n', "last tier"),
        ('[[tiers]]\ntier = "emerald"\n', "tier must be one of"),
        ('[[tiers]]\ntier = "gold"\n[[tiers]]\ntier = "gold"\n', "twice"),
        ('[[tiers]]\ntier = "vip"\nmin_orders = 1.5\n[[tiers]]\ntier = "ordinary"\n', "whole"),
        ("[report]\nspend_bands = [0, 5, 3]\n", "rising"),
        ("[owners]\nlevels = [4]\n", "levels"),
    ],
)
def test_a_bad_policy_names_the_problem(tmp_path, toml, problem):
    (tmp_path / "members.toml").write_text(toml)
    settings = replace(Settings(), policy_dir=tmp_path)
    members.MEMBER_POLICY.forget()
    with pytest.raises(PolicyError, match=problem):
        members.load_policy(settings)


def test_a_customised_tier_list(tmp_path):
    (tmp_path / "members.toml").write_text(
        '[[tiers]]\ntier = "gold"\nmin_spend = 100\n[[tiers]]\ntier = "ordinary"\n'
    )
    policy = members.load_policy(replace(Settings(), policy_dir=tmp_path))
    assert [r.tier for r in policy.tiers] == ["gold", "ordinary"]
    assert members.tier_for(policy, members.MemberStats(100, 0)).tier == "gold"


def _buy(session, customer_id, *, days, amount, order):
    session.add(Purchase(customer_id=customer_id, order_no=order, line_no=1, item="x",
                         amount=amount, purchased_at=NOW - timedelta(days=days)))  # fmt: skip


@pytest.fixture
def shop(session, people):
    """Wang Fang (vip on file) bought ¥12,000 in 5 orders this year; 张敏 (gold) ¥500 once;
    Tom (ordinary) ¥4,000 in 3 orders, one of them 13 months ago (outside the period)."""
    for n in range(5):
        _buy(session, people["fang"], days=10 + n * 30, amount=2400, order=f"F{n}")
    _buy(session, people["min"], days=5, amount=500, order="M1")
    for n, days in enumerate((20, 40, 400)):
        _buy(session, people["tom"], days=days, amount=1500 if n < 2 else 1000, order=f"T{n}")
    session.commit()
    return people


def _tiers(session) -> dict[int, tuple[str, bool]]:
    session.expire_all()
    return {c.id: (c.tier, c.tier_pinned) for c in session.execute(select(Customer)).scalars()}


def _history(session, customer_id) -> list[tuple[str, str | None, str | None, int | None]]:
    return [
        (r.field, r.old, r.new, r.agent_id)
        for r in session.execute(
            select(CustomerChange).where(CustomerChange.customer_id == customer_id)
            .order_by(CustomerChange.id)
        ).scalars()
    ]  # fmt: skip


def test_retier_applies_the_rules_and_records_why(session, shop):
    report = members.retier(session, now=NOW, policy=SHIPPED)
    session.commit()
    assert report.customers == 3 and report.pinned == 0
    assert {(c.customer_id, c.old, c.new) for c in report.changed} == {
        (shop["fang"], "vip", "platinum"),
        (shop["min"], "gold", "ordinary"),
    }  # Tom: ¥3,000 but 2 orders in the period: ordinary stays
    tiers = _tiers(session)
    assert tiers[shop["fang"]] == ("platinum", False)
    history = _history(session, shop["fang"])
    assert history[0] == ("tier", "vip", "platinum", None)
    assert history[1][0] == "tier_rule" and "spend 12,000.00 and 5 orders" in history[1][2]
    assert members.retier(session, now=NOW, policy=SHIPPED).changed == []  # settled
    assert [c.broken for c in audit.verify(session.connection(), ["customer_change"])] == [None]


def test_dry_run_changes_nothing(session, shop):
    report = members.retier(session, now=NOW, policy=SHIPPED, dry_run=True)
    assert len(report.changed) == 2
    session.rollback()
    assert _tiers(session)[shop["fang"]] == ("vip", False)
    assert _history(session, shop["fang"]) == []


def test_a_pinned_tier_is_left_alone_and_recorded(session, shop):
    members.pin_tier(session, customer_id=shop["min"], tier="diamond", agent_id=shop["boss"],
                     now=NOW, reason="group account")  # fmt: skip
    session.commit()
    report = members.retier(session, now=NOW, policy=SHIPPED)
    assert report.pinned == 1
    assert shop["min"] not in {c.customer_id for c in report.changed}
    assert _tiers(session)[shop["min"]] == ("diamond", True)
    assert _history(session, shop["min"]) == [
        ("tier", "gold", "diamond", shop["boss"]),
        ("tier_pin", "rules", "pinned: group account", shop["boss"]),
    ]
    members.unpin_tier(session, customer_id=shop["min"], agent_id=shop["boss"], now=NOW,
                       reason="contract ended")  # fmt: skip
    assert _history(session, shop["min"])[-1] == (
        "tier_pin", "pinned", "rules: contract ended", shop["boss"]
    )
    members.retier(session, now=NOW, policy=SHIPPED)
    assert _tiers(session)[shop["min"]] == ("ordinary", False)


@pytest.mark.parametrize(
    ("who", "tier", "reason", "error"),
    [
        ("li", "vip", "why", PermissionDenied),
        ("boss", "emerald", "why", ValidationError),
        ("boss", "vip", "   ", ValidationError),
    ],
)
def test_pin_refusals_change_nothing(session, shop, who, tier, reason, error):
    with pytest.raises(error):
        members.pin_tier(session, customer_id=shop["min"], tier=tier, agent_id=shop[who],
                         now=NOW, reason=reason)  # fmt: skip
    session.rollback()
    assert _tiers(session)[shop["min"]] == ("gold", False)
    assert _history(session, shop["min"]) == []


def test_retier_loses_to_a_pin_made_meanwhile(session, shop, monkeypatch):
    """The rules read the tiers, a supervisor pins one before the rules write: the
    conditional UPDATE finds the pin, and no change is recorded for that customer."""
    original = members.tier_for

    def pin_meanwhile(policy, stats):
        session.connection().execute(
            Customer.__table__.update()
            .where(Customer.__table__.c.id == shop["fang"])
            .values(tier="diamond", tier_pinned=True)
        )
        return original(policy, stats)

    monkeypatch.setattr(members, "tier_for", pin_meanwhile)
    report = members.retier(session, now=NOW, policy=SHIPPED)
    session.commit()
    assert shop["fang"] not in {c.customer_id for c in report.changed}
    assert shop["min"] in {c.customer_id for c in report.changed}
    assert _tiers(session)[shop["fang"]] == ("diamond", True)
    assert _history(session, shop["fang"]) == []


def test_dedicated_owner_gets_the_callbacks_first(session, shop):
    wang = shop["wang"]
    members.set_owner(session, customer_id=shop["fang"], owner_login="wang.wei",
                      agent_id=shop["boss"], now=NOW, policy=SHIPPED)  # fmt: skip
    with pytest.raises(ValidationError, match="level 1"):  # 张敏 is gold: level 2
        members.set_owner(session, customer_id=shop["min"], owner_login="wang.wei",
                          agent_id=shop["boss"], now=NOW, policy=SHIPPED)  # fmt: skip
    with pytest.raises(PermissionDenied):
        members.set_owner(session, customer_id=shop["fang"], owner_login="li.na",
                          agent_id=shop["li"], now=NOW, policy=SHIPPED)  # fmt: skip
    session.commit()
    assert _history(session, shop["fang"]) == [("owner", None, "wang.wei", shop["boss"])]
    owners = members.dedicated_owners(session, [shop["fang"], shop["min"]], SHIPPED)
    assert owners == {shop["fang"]: wang}


@pytest.mark.parametrize(
    ("kind", "preferred", "dedicated", "active", "owner"),
    [
        ("satisfaction", None, 7, {7}, 7),
        ("churned", 3, 7, {3, 7}, 7),
        ("birthday", None, 7, {3}, None),  # the owner left: the scheduler's own rule
        ("complaint_follow_up", 3, 7, {3, 7}, 3),  # first-contact ownership
        ("satisfaction", 3, None, {3}, 3),
    ],
)
def test_callback_owner(kind, preferred, dedicated, active, owner):
    assert members.callback_owner(kind, preferred, dedicated, active) == owner


def test_churn_candidates_are_the_sql_of_is_churned(session, shop):
    _buy(session, shop["fang"], days=100, amount=1, order="old")
    session.commit()
    # Wang Fang last bought 10 days ago; 张敏 5 days ago; Tom 20 days ago: nobody churned
    assert members.churn_candidates(session, now=NOW, policy=SHIPPED, tiers=["vip", "gold",
                                    "ordinary"]) == []  # fmt: skip
    later = NOW + timedelta(days=96)  # 张敏: 101 days, Tom 116, Wang Fang 106
    found = dict(members.churn_candidates(session, now=later, policy=SHIPPED, tiers=["gold"]))
    assert list(found) == [shop["min"]]
    assert found[shop["min"]] == NOW - timedelta(days=5)


def test_commands(db_url, cli_token, capsys, monkeypatch, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f"policy_dir = {str(POLICY_DIR)!r}\n")
    monkeypatch.setenv("SEAT_CONFIG", str(config))
    ids = populate(make_engine(db_url))
    monkeypatch.setenv("SEAT_TOKEN", cli_token(db_url))
    assert main(["members", "retier", "--dry-run", "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert "3 customers: 2 tiers changed" in out
    assert main(["members", "pin", str(ids["min"]), "vip", "--reason", "group",
                 "--db", db_url]) == 0  # fmt: skip
    assert main(["members", "owner", str(ids["min"]), "li.na", "--db", db_url]) == 0
    assert main(["members", "owner", str(ids["min"]), "--db", db_url]) == 2
    assert main(["members", "retier", "--db", db_url]) == 0
    assert "1 pinned by hand" in capsys.readouterr().out
    assert main(["members", "pin", "999", "vip", "--reason", "x", "--db", db_url]) == 1

"""Customers: validated creation, duplicate phones, caller lookup, the customer card."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from seat import customers, phone
from seat.customers import DuplicatePhone, ValidationError
from seat.models import (
    AccessLog,
    Agent,
    Call,
    Complaint,
    Customer,
    CustomerChange,
    PhoneNumber,
    Tier,
    WorkOrder,
    level_for,
)
from tests.conftest import NOW


def _counts(session) -> tuple[int, int]:
    n_customers = session.execute(select(func.count()).select_from(Customer)).scalar_one()
    n_phones = session.execute(select(func.count()).select_from(PhoneNumber)).scalar_one()
    return n_customers, n_phones


def _create(session, **overrides):
    fields = {"name": "Chen Jie", "phone_text": "137 0000 1234", "tier": "ordinary"}
    fields.update(overrides)
    return customers.create_customer(session=session, now=NOW, **fields)


# -- creation ---------------------------------------------------------------------------


def test_create_customer_writes_customer_and_phone(session):
    c = _create(
        session,
        name="  Chen Jie  ",
        tier="Gold",
        birthday="1990-05-01",
        gender="Male",
        address=" 1 Huaihai Rd ",
        occupation=" ",
    )
    session.commit()
    assert c.id is not None
    stored = session.get(Customer, c.id)
    assert stored.name == "Chen Jie"
    assert stored.tier == "gold"
    assert stored.level == 2
    assert stored.birthday == date(1990, 5, 1)
    assert stored.gender == "male"
    assert stored.address == "1 Huaihai Rd"
    assert stored.occupation is None
    assert stored.created_at == NOW == stored.updated_at
    assert session.execute(
        select(PhoneNumber.e164).where(PhoneNumber.customer_id == c.id)
    ).scalars().all() == ["+8613700001234"]
    assert _counts(session) == (1, 1)


@pytest.mark.parametrize(
    ("overrides", "bad_fields"),
    [
        ({"name": ""}, {"name"}),
        ({"name": "   "}, {"name"}),
        ({"name": "x" * 201}, {"name"}),
        ({"name": "Tab\tName"}, {"name"}),
        ({"tier": "bronze"}, {"tier"}),
        ({"tier": "level1"}, {"tier"}),
        ({"birthday": "14/03/1985"}, {"birthday"}),
        ({"birthday": "1985-02-30"}, {"birthday"}),
        ({"birthday": "yesterday"}, {"birthday"}),
        ({"birthday": (NOW + timedelta(days=1)).date().isoformat()}, {"birthday"}),
        ({"birthday": date(2030, 1, 1)}, {"birthday"}),
        ({"gender": "unknown"}, {"gender"}),
        ({"phone_text": ""}, {"phone"}),
        ({"phone_text": "12ab"}, {"phone"}),
        ({"phone_text": "1380"}, {"phone"}),
        ({"phone_text": "12345678"}, {"phone"}),
        ({"address": "x" * 501}, {"address"}),
        (
            {"name": "", "tier": "bronze", "birthday": "soon", "phone_text": "1"},
            {"name", "tier", "birthday", "phone"},
        ),
    ],
)
def test_create_customer_validates_and_writes_nothing(session, overrides, bad_fields):
    with pytest.raises(ValidationError) as info:
        _create(session, **overrides)
    assert set(info.value.errors) == bad_fields
    assert all(msg.endswith(".") for msg in info.value.errors.values())
    session.commit()
    assert _counts(session) == (0, 0)


@pytest.mark.parametrize(
    ("birthday", "message"),
    [
        ("1985/03/14", "Birthday must be a date like 1985-03-14."),
        ("2026-11-24", "Birthday cannot be in the future."),
    ],
)
def test_birthday_messages(session, birthday, message):
    with pytest.raises(ValidationError) as info:
        _create(session, birthday=birthday)
    assert info.value.errors == {"birthday": message}


def test_birthday_today_and_blank_are_accepted(session):
    assert _create(session, birthday=NOW.date().isoformat()).birthday == NOW.date()
    assert _create(session, phone_text="137 0000 1235", birthday="  ").birthday is None


def test_bad_phone_message_comes_from_the_phone_rules(session):
    with pytest.raises(ValidationError) as info:
        _create(session, phone_text="12ab")
    assert info.value.errors["phone"] == str(_phone_error("12ab"))


def _phone_error(text: str) -> phone.PhoneError:
    try:
        phone.parse(text)
    except phone.PhoneError as exc:
        return exc
    raise AssertionError("expected a PhoneError")


@pytest.mark.parametrize("typed", ["138 0013 8000", "+86 138-0013-8000", "0086 13800138000"])
def test_duplicate_phone_is_refused(session, world, typed):
    before = _counts(session)
    with pytest.raises(DuplicatePhone) as info:
        _create(session, name="Someone Else", phone_text=typed)
    assert info.value.e164 == "+8613800138000"
    assert info.value.customer_id == world["fang"]
    assert set(info.value.errors) == {"phone"}
    assert f"#{world['fang']}" in info.value.errors["phone"]
    assert isinstance(info.value, ValidationError)
    session.commit()
    assert _counts(session) == before


def test_validation_errors_come_before_the_duplicate_check(session, world):
    with pytest.raises(ValidationError) as info:
        _create(session, name="", phone_text="138 0013 8000")
    assert not isinstance(info.value, DuplicatePhone)
    assert set(info.value.errors) == {"name"}


def test_phone_of_another_region(session):
    c = _create(session, phone_text="020 7946 0958", region="GB")
    assert customers.find_by_phone(session=session, e164="+442079460958").id == c.id


# -- lookup -----------------------------------------------------------------------------


def test_find_by_phone(session, world):
    hit = customers.find_by_phone(session=session, e164="+8613800138000")
    assert hit == customers.CustomerHit(world["fang"], "Wang Fang", "vip", "+8613800138000")
    assert hit.level == 1
    assert customers.find_by_phone(session=session, e164="+8613900000000") is None
    assert customers.find_by_phone(session=session, e164="13800138000") is None  # E.164 only


@pytest.mark.parametrize(
    ("typed", "region", "who"),
    [
        ("13800138000", "CN", "fang"),
        ("138 0013 8000", "CN", "fang"),
        ("138-0013-8000", "CN", "fang"),
        ("(138) 0013-8000", "CN", "fang"),
        ("+86 138 0013 8000", "CN", "fang"),
        ("0086 138 0013 8000", "CN", "fang"),
        ("+86 138 0013 8000", "US", "fang"),
        ("139 1234 5678", "CN", "min"),
        ("+44 20 7946 0958", "CN", "tom"),
        ("020 7946 0958", "GB", "tom"),
        ("0044 20 7946 0958", "CN", "tom"),
    ],
)
def test_lookup_finds_the_same_customer_however_typed(session, world, typed, region, who):
    e164, hit = customers.lookup(session=session, text=typed, region=region)
    assert hit is not None
    assert hit.id == world[who]
    assert hit.e164 == e164


def test_lookup_of_an_unknown_number(session, world):
    assert customers.lookup(session=session, text="137 0000 0000") == ("+8613700000000", None)


def test_lookup_of_an_invalid_number_raises(session, world):
    with pytest.raises(phone.PhoneError):
        customers.lookup(session=session, text="12ab")


# -- the card ---------------------------------------------------------------------------


def _add_call(session, *, customer_id: int, agent_id: int, minutes_ago: int, notes: str = ""):
    session.add(
        Call(
            agent_id=agent_id,
            customer_id=customer_id,
            started_at=NOW - timedelta(minutes=minutes_ago),
            ended_at=NOW - timedelta(minutes=minutes_ago - 3),
            need_category="inquiry",
            outcome="resolved",
            notes=notes,
        )
    )


def test_card_of_an_unknown_customer(session, world):
    assert customers.card(session=session, customer_id=99999) is None


def test_card_basic_data(session, world):
    card = customers.card(session=session, customer_id=world["fang"])
    assert card.id == world["fang"]
    assert card.name == "Wang Fang"
    assert (card.tier, card.level) == ("vip", 1)
    assert card.gender == "female"
    assert card.birthday == date(1985, 11, 30)
    assert card.address == "88 Nanjing Rd, Shanghai"
    assert card.phones == ("+8613800138000",)
    assert card.open_complaints == ()
    assert card.last_calls == ()


def test_card_lists_open_complaints_only(session, world):
    fang, li = world["fang"], world["li"]
    for i, status in enumerate(["intake", "closed", "investigate", "invalid"]):
        session.add(
            Complaint(
                customer_id=fang,
                owner_id=li,
                what_happened=f"complaint {i}",
                customer_wants="refund",
                status=status,
                created_at=NOW - timedelta(hours=10 - i),
            )
        )
    session.commit()
    card = customers.card(session=session, customer_id=fang)
    assert [(status, text) for __, status, text in card.open_complaints] == [
        ("investigate", "complaint 2"),  # newest first
        ("intake", "complaint 0"),
    ]


def test_card_lists_open_work_orders_urgent_first(session, world):
    fang, li = world["fang"], world["li"]
    session.add(
        WorkOrder(
            short_text="Closed one",
            customer_id=fang,
            assignee_id=li,
            status="closed",
            urgent=True,
            due_at=NOW,
            created_at=NOW,
        )
    )
    session.add(
        WorkOrder(
            short_text="Later",
            customer_id=fang,
            assignee_id=li,
            urgent=False,
            due_at=NOW + timedelta(days=3),
            created_at=NOW,
        )
    )
    session.add(
        WorkOrder(
            short_text="Sooner",
            customer_id=fang,
            assignee_id=li,
            urgent=False,
            due_at=NOW + timedelta(hours=1),
            created_at=NOW,
        )
    )
    session.commit()
    card = customers.card(session=session, customer_id=fang)
    assert [(text, urgent) for __, __, text, urgent in card.open_work_orders] == [
        ("Sofa cover torn on delivery", True),
        ("Sooner", False),
        ("Later", False),
    ]
    # Other customers' orders are not on this card.
    tom_card = customers.card(session=session, customer_id=world["tom"])
    assert [text for __, __, text, __ in tom_card.open_work_orders] == ["Dryer noisy"]


def test_card_last_calls_newest_first_and_limited(session, world):
    fang, li = world["fang"], world["li"]
    for minutes_ago in (300, 20, 1000, 60, 5, 120, 700):
        _add_call(
            session,
            customer_id=fang,
            agent_id=li,
            minutes_ago=minutes_ago,
            notes=f"{minutes_ago} min ago",
        )
    _add_call(session, customer_id=world["tom"], agent_id=li, minutes_ago=1, notes="tom")
    session.commit()
    card = customers.card(session=session, customer_id=fang)
    assert [c.notes for c in card.last_calls] == [
        "5 min ago",
        "20 min ago",
        "60 min ago",
        "120 min ago",
        "300 min ago",
    ]
    assert all(c.agent == "Li Na" for c in card.last_calls)
    assert card.last_calls[0].started_at == NOW - timedelta(minutes=5)
    assert card.last_calls[0].need_category == "inquiry"
    assert card.last_calls[0].outcome == "resolved"
    card3 = customers.card(session=session, customer_id=fang, last_calls=3)
    assert [c.notes for c in card3.last_calls] == ["5 min ago", "20 min ago", "60 min ago"]


def test_card_shows_every_phone(session, world):
    session.add(PhoneNumber(customer_id=world["tom"], e164="+447911123456"))
    session.commit()
    card = customers.card(session=session, customer_id=world["tom"])
    assert sorted(card.phones) == ["+442079460958", "+447911123456"]


def test_card_call_agent_name_comes_from_the_agent(session, world):
    wang = session.get(Agent, world["wang"])
    _add_call(session, customer_id=world["min"], agent_id=wang.id, minutes_ago=10)
    session.commit()
    (line,) = customers.card(session=session, customer_id=world["min"]).last_calls
    assert line.agent == wang.display_name == "Wang Wei"


# -- tiers and levels -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "level"),
    [
        (Tier.VIP, 1),
        (Tier.DIAMOND, 1),
        (Tier.GOLD, 2),
        (Tier.PLATINUM, 2),
        (Tier.ORDINARY, 3),
    ],
)
def test_level_derived_from_tier(session, tier, level):
    assert level_for(tier) == level
    assert level_for(tier.value) == level
    c = _create(session, tier=tier.value.upper())
    assert c.tier == tier.value
    assert c.level == level
    assert customers.card(session=session, customer_id=c.id).level == level
    assert customers.find_by_phone(session=session, e164="+8613700001234").level == level


def test_every_tier_has_a_level():
    assert set(customers.TIER_CHOICES) == {t.value for t in Tier}
    for tier in customers.TIER_CHOICES:
        assert level_for(tier) in (1, 2, 3)


def test_unknown_tier_has_no_level():
    with pytest.raises(ValueError):
        level_for("bronze")


def test_count_customers(session, world):
    assert customers.count_customers(session=session) == 3


# -- who registered, edits and their history, revealing masked data ---------------------------


def _history(session, customer_id):
    rows = session.execute(
        select(CustomerChange).where(CustomerChange.customer_id == customer_id)
        .order_by(CustomerChange.id)
    ).scalars()  # fmt: skip
    return [(r.field, r.old, r.new, r.agent_id, r.at) for r in rows]


def test_create_names_the_agent_or_none(session, world):
    by_agent = _create(session, created_by_id=world["li"])
    imported = _create(session, phone_text="137 0000 9999")
    assert by_agent.created_by_id == world["li"]
    assert imported.created_by_id is None


def test_update_writes_one_change_per_changed_field(session, world):
    later = NOW + timedelta(hours=1)
    changes = customers.update_customer(
        session=session, customer_id=world["fang"], agent_id=world["li"], now=later,
        name="Wang Fang", phone_text="+86 139-0000-1111", address="1 Huaihai Rd",
        second_address="", tier="diamond", language="zh_CN",
    )  # fmt: skip
    session.commit()
    assert [c.field for c in changes] == ["phone", "address", "tier", "language"]
    assert _history(session, world["fang"]) == [
        ("phone", "+8613800138000", "+8613900001111", world["li"], later),
        ("address", "88 Nanjing Rd, Shanghai", "1 Huaihai Rd", world["li"], later),
        ("tier", "vip", "diamond", world["li"], later),
        ("language", "en", "zh_CN", world["li"], later),
    ]
    fang = session.get(Customer, world["fang"])
    assert (fang.tier, fang.address, fang.language, fang.updated_at) == (
        "diamond", "1 Huaihai Rd", "zh_CN", later,
    )  # fmt: skip
    assert customers.find_by_phone(session=session, e164="+8613900001111").id == world["fang"]
    assert customers.find_by_phone(session=session, e164="+8613800138000") is None


def test_update_with_nothing_new_writes_nothing(session, world):
    changes = customers.update_customer(
        session=session, customer_id=world["fang"], agent_id=world["li"], now=NOW,
        name=" Wang Fang ", phone_text="138 0013 8000", tier="VIP",
        address="88 Nanjing Rd, Shanghai",
    )  # fmt: skip
    assert changes == []
    assert _history(session, world["fang"]) == []


def test_clearing_an_address_is_a_change(session, world):
    customers.update_customer(
        session=session, customer_id=world["fang"], agent_id=world["wang"], now=NOW, address=" "
    )
    assert _history(session, world["fang"]) == [
        ("address", "88 Nanjing Rd, Shanghai", None, world["wang"], NOW)
    ]


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"name": " "}, {"name"}),
        ({"tier": "platinum+"}, {"tier"}),
        ({"phone_text": "12"}, {"phone"}),
        ({"phone_text": "139 1234 5678"}, {"phone"}),  # 张敏's number
        ({"address": "x" * 501}, {"address"}),
        ({"second_address": "a\x1bb"}, {"second_address"}),
        ({"language": "fr"}, {"language"}),
        ({"name": "", "phone_text": "abc", "tier": "gold"}, {"name", "phone"}),
    ],
)
def test_bad_edits_name_each_field_and_change_nothing(session, world, fields, bad):
    with pytest.raises(ValidationError) as exc:
        customers.update_customer(
            session=session, customer_id=world["fang"], agent_id=world["li"], now=NOW, **fields
        )
    assert set(exc.value.errors) == bad
    session.rollback()
    assert _history(session, world["fang"]) == []
    assert session.get(Customer, world["fang"]).tier == "vip"


def test_card_shows_history_newest_first_and_a_count(session, world):
    for i, tier in enumerate(("gold", "platinum", "diamond", "vip")):
        customers.update_customer(
            session=session, customer_id=world["min"], agent_id=world["li"],
            now=NOW + timedelta(minutes=i), tier=tier,
        )  # fmt: skip
    card = customers.card(session=session, customer_id=world["min"])
    assert card.change_count == 3  # gold -> gold is no change
    assert [(c.old, c.new, c.agent) for c in card.changes] == [
        ("diamond", "vip", "Li Na"),
        ("platinum", "diamond", "Li Na"),
        ("gold", "platinum", "Li Na"),
    ]


@pytest.mark.parametrize(
    ("what", "reason", "bad"),
    [
        ("phone", "", "reason"),
        ("phone", "   ", "reason"),
        ("address", "x" * 501, "reason"),
        ("birthday", "curious", "what"),
    ],
)
def test_reveal_needs_a_reason(session, world, what, reason, bad):
    with pytest.raises(ValidationError) as exc:
        customers.log_access(
            session=session, agent_id=world["li"], customer_id=world["fang"], now=NOW,
            what=what, reason=reason,
        )  # fmt: skip
    assert bad in exc.value.errors
    assert session.execute(select(func.count()).select_from(AccessLog)).scalar_one() == 0


def test_reveal_is_logged(session, world):
    row = customers.log_access(
        session=session, agent_id=world["wang"], customer_id=world["fang"], now=NOW,
        what="address", reason="  Technician needs the door number  ",
    )  # fmt: skip
    session.commit()
    stored = session.get(AccessLog, row.id)
    assert (stored.agent_id, stored.customer_id, stored.at, stored.what, stored.reason) == (
        world["wang"], world["fang"], NOW, "address", "Technician needs the door number",
    )  # fmt: skip


HOSTILE = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.sampled_from(["'; DROP TABLE customer; --", "x" * 600, "a\x1b[2Jb", "王芳 👨‍👩‍👧‍👦",
                     "مريم", "Room 1\r\n88 Ave", "139 1234 5678", "+44 20 7946 0958"]),
)  # fmt: skip


@hyp_settings(
    max_examples=60, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)  # fmt: skip
@given(name=HOSTILE, phone_text=HOSTILE, address=HOSTILE, tier=HOSTILE, language=HOSTILE)
def test_hostile_edits_are_refused_or_recorded_whole(
    session, world, name, phone_text, address, tier, language
):
    """Every edit either raises ValidationError and changes nothing, or is fully recorded."""
    before = customers.editable(session=session, customer_id=world["fang"])
    try:
        changes = customers.update_customer(
            session=session, customer_id=world["fang"], agent_id=world["li"], now=NOW,
            name=name, phone_text=phone_text, address=address, tier=tier, language=language,
        )  # fmt: skip
    except ValidationError:
        session.rollback()
        assert customers.editable(session=session, customer_id=world["fang"]) == before
        assert _history(session, world["fang"]) == []
        return
    session.flush()
    after = customers.editable(session=session, customer_id=world["fang"])
    recorded = {c.field: (c.old, c.new) for c in changes}
    for key in ("name", "phone", "address", "tier", "language"):
        old, new = getattr(before, key), getattr(after, key)
        assert (key in recorded) == (old != new)
        if old != new:
            assert recorded[key] == (old, new)
    session.rollback()

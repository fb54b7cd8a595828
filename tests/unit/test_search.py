"""Customer search by anything: names (Chinese, Latin, any part), addresses, customer,
order and phone numbers; ranked, masked, kept in step with the customer table."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete

from seat import customers, search
from seat.cli import main
from seat.models import Customer, PhoneNumber, Purchase
from tests.conftest import NOW


@pytest.fixture
def people(session) -> dict[str, int]:
    made = {}
    for key, name, number, address in (
        ("fang", "Wang Fang", "138 0013 8000", "88 Nanjing Rd, Shanghai"),
        ("min", "张敏", "139 1234 5678", "上海市浦东新区世纪大道88号"),
        ("wang", "王芳", "137 0000 1234", "北京市朝阳区建国路1号"),
        ("wangxl", "王小龙", "136 5555 0101", "广州市天河区体育西路3号"),
        ("tom", "Tom Baker", "+44 20 7946 0958", "12 Baker Street, London"),
        ("zhang", "Zhang Wei", "135 2222 3333", None),
    ):
        c = customers.create_customer(
            session=session, now=NOW, name=name, phone_text=number, address=address
        )
        made[key] = c.id
    session.add(
        Purchase(customer_id=made["tom"], order_no="SO-2026-0042", item="Sofa", amount=3999.0,
                 purchased_at=NOW)
    )  # fmt: skip
    session.commit()
    return made


def _ids(session, text: str, **kw) -> list[int]:
    return [h.id for h in search.search(session=session, text=text, **kw)]


@pytest.mark.parametrize(
    ("text", "who"),
    [
        ("张敏", ["min"]),  # a two-character Chinese name: the prefix band
        ("敏", []),  # one character inside a name: too short for any index (prefix only)
        ("王", ["wangxl", "wang"]),  # by name: 小 before 芳  # a surname: every 王, by name
        ("小龙", []),  # two characters inside a name: not a prefix
        ("王小龙", ["wangxl"]),  # three characters: the trigram index
        ("zhang", ["zhang"]),  # Latin in any case
        ("ZHANG WEI", ["zhang"]),
        ("fang", ["fang"]),  # any part of a Latin name
        ("世纪大道", ["min"]),  # an address fragment
        ("nanjing", ["fang"]),
        ("baker", ["tom"]),  # name and address: once
        ("Tom London", ["tom"]),  # words in different fields
        ("Tom 12", ["tom"]),  # a short word filters the longer one's matches
        ("1234", ["min", "wang"]),  # partial digits of a number, by name
        ("0013 8000", ["fang"]),
        ("SO-2026-0042", ["tom"]),  # an order number
        # A London number typed nationally at a Chinese desk: not a number on file (020 is
        # Guangzhou), but its digits are inside Tom's.
        ("020 7946 0958", ["tom"]),
        ("+44 20 7946 0958", ["tom"]),
        ("+44 (0)20 7946-0958", ["tom"]),
        ("nobody", []),
        ("   ", []),
        ("%", []),
        ("_", []),
        ('"', []),
    ],
)
def test_search_finds(session, people, text, who):
    assert _ids(session, text) == [people[k] for k in who]


def test_a_phone_number_in_any_format_is_an_exact_match(session, people):
    for typed in ("13800138000", "138-0013-8000", "+86 138 0013 8000", "(138) 0013 8000"):
        hits = search.search(session=session, text=typed)
        assert [(h.id, h.matched) for h in hits] == [(people["fang"], "exact")]


def test_customer_number_comes_first_then_name_prefix_then_fragments(session, people):
    hits = search.search(session=session, text=f"#{people['tom']}")
    assert [(h.id, h.matched) for h in hits] == [(people["tom"], "exact")]
    # "Wang" starts Wang Fang's name; it is inside nobody else's: prefix only.
    hits = search.search(session=session, text="Wang")
    assert [(h.id, h.matched) for h in hits] == [(people["fang"], "name")]
    # "ang" is inside Wang Fang and Zhang Wei: fragments, by name.
    hits = search.search(session=session, text="ang")
    assert [(h.id, h.matched) for h in hits] == [
        (people["fang"], "fragment"), (people["zhang"], "fragment"),
    ]  # fmt: skip
    # A number that is both a customer number and inside a phone number: the customer first.
    session.add(PhoneNumber(customer_id=people["zhang"], e164=f"+86137{people['tom']:08d}"))
    session.commit()
    assert _ids(session, str(people["tom"]))[0] == people["tom"]


def test_results_are_masked(session, people):
    (hit,) = search.search(session=session, text="张敏")
    assert hit.phones == ("139****5678",)
    assert hit.address == "上海市浦东新区****"
    assert hit.as_json() == {
        "id": people["min"], "name": "张敏", "tier": "ordinary", "level": 3,
        "phones": ["139****5678"], "address": "上海市浦东新区****", "matched": "name",
    }  # fmt: skip
    (tom,) = search.search(session=session, text="Baker Street")
    assert "Baker Street" not in tom.address and "7946" not in " ".join(tom.phones)


def test_limit_cuts_the_list(session, people):
    assert len(_ids(session, "王", limit=1)) == 1
    assert len(_ids(session, "a", limit=500)) <= search.MAX_LIMIT


def test_the_index_follows_every_change(session, people):
    """Edits, new numbers, removed customers: the search sees each at once."""
    customers.update_customer(
        session=session, customer_id=people["min"], agent_id=None, now=NOW,
        name="张敏华", address="杭州市西湖区文三路5号", phone_text="139 8888 7777",
    )  # fmt: skip
    session.commit()
    assert _ids(session, "张敏华") == [people["min"]]
    assert _ids(session, "文三路") == [people["min"]]
    assert _ids(session, "世纪大道") == []
    assert _ids(session, "8888 7777") == [people["min"]]
    assert _ids(session, "1234 5678") == []
    session.add(PhoneNumber(customer_id=people["min"], e164="+8613911112222", label="home"))
    session.commit()
    assert _ids(session, "1111 2222") == [people["min"]]
    session.execute(delete(PhoneNumber).where(PhoneNumber.customer_id == people["zhang"]))
    session.execute(delete(Customer).where(Customer.id == people["zhang"]))
    session.commit()
    assert _ids(session, "zhang wei") == []
    assert _ids(session, "2222 3333") == []


def test_the_migration_indexes_the_customers_already_on_file(tmp_path):
    """A desk with customers before the search index: the upgrade fills it."""
    from sqlalchemy import text
    from sqlmodel import Session

    from seat.db import make_engine, upgrade

    eng = make_engine(f"sqlite:///{tmp_path / 'old.db'}", migrate=False)
    try:
        upgrade(eng, "0011")
        with eng.begin() as conn:
            conn.execute(text(
                "INSERT INTO customer (id, name, tier, language, address, created_at, "
                "updated_at) VALUES (7, '张敏', 'gold', 'zh_CN', '上海市浦东新区世纪大道88号', "
                "'2026-01-01', '2026-01-01')"
            ))  # fmt: skip
            conn.execute(text(
                "INSERT INTO phone_number (customer_id, e164, label, wrong_number) "
                "VALUES (7, '+8613912345678', 'mobile', 0)"
            ))  # fmt: skip
        upgrade(eng)
        with Session(eng) as s:
            assert _ids(s, "世纪大道") == [7]
            assert _ids(s, "1234 5678") == [7]
            assert _ids(s, "张敏") == [7]
    finally:
        eng.dispose()


def test_command_line_search(db_url, people, cli_token, capsys):
    cli_token(db_url, login="li.na", role="agent")
    assert main(["customers", "search", "王", "--json", "--db", db_url]) == 0
    found = json.loads(capsys.readouterr().out)
    assert sorted(h["name"] for h in found) == ["王小龙", "王芳"]
    assert all("*" in h["phones"][0] for h in found)
    assert main(["customers", "search", "王", "--json", "--limit", "1", "--db", db_url]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1
    assert main(["customers", "search", "SO-2026-0042", "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert "Tom Baker" in out and "7946" not in out
    assert main(["customers", "search", "nobody", "--db", db_url]) == 1
    assert "no customer found" in capsys.readouterr().out
    assert main(["customers", "search", "nobody", "--json", "--db", db_url]) == 1
    assert json.loads(capsys.readouterr().out) == []



# -- several numbers, shared numbers ---------------------------------------------------------


def test_a_shared_landline_finds_every_customer_who_has_it(session, people):
    """A family's landline, added to a second customer: the lookup lists both, by customer
    number, instead of guessing; the search ranks both as exact."""
    customers.attach_number(session=session, customer_id=people["tom"], e164="+862155556666",
                            agent_id=None, now=NOW)  # fmt: skip
    customers.attach_number(session=session, customer_id=people["min"], e164="+862155556666",
                            agent_id=None, now=NOW)  # fmt: skip
    session.commit()
    found = customers.find_all_by_phone(session=session, e164="+862155556666")
    assert [h.id for h in found] == sorted([people["tom"], people["min"]])
    hits = search.search(session=session, text="021 5555 6666")
    assert [(h.id, h.matched) for h in hits] == [(i, "exact") for i in [h.id for h in found]]
    assert customers.find_all_by_phone(session=session, e164="+8613900000000") == []


def test_attaching_a_number_records_its_kind_and_the_change(session, people):
    change = customers.attach_number(
        session=session, customer_id=people["min"], e164="+862155556666", agent_id=None, now=NOW
    )
    session.commit()
    assert (change.field, change.old, change.new) == ("phone", None, "+862155556666")
    card = customers.card(session=session, customer_id=people["min"])
    assert card.phones == ("+8613912345678", "+862155556666")
    assert card.phone_kinds == ("mobile", "home")  # a fixed line, told by phonenumbers
    with pytest.raises(customers.ValidationError) as exc:
        customers.attach_number(session=session, customer_id=people["min"],
                                e164="+862155556666", agent_id=None, now=NOW)  # fmt: skip
    assert "already this customer's number" in exc.value.errors["phone"]
    with pytest.raises(customers.ValidationError):
        customers.attach_number(
            session=session, customer_id=people["min"], e164="+8613711112222", agent_id=None,
            now=NOW, kind="fax",
        )  # fmt: skip
    customers.attach_number(session=session, customer_id=people["min"], e164="+8613711112222",
                            agent_id=None, now=NOW, kind="work")  # fmt: skip
    session.commit()
    card = customers.card(session=session, customer_id=people["min"])
    assert card.phone_kinds == ("mobile", "home", "work")


def test_edits_and_registration_still_refuse_anothers_number(session, people):
    """Sharing is a deliberate step (the caller found and the number added to them): a new
    customer or an edit that types another customer's number is refused as before."""
    customers.attach_number(session=session, customer_id=people["min"], e164="+8613800138000",
                            agent_id=None, now=NOW)  # fmt: skip
    session.commit()
    with pytest.raises(customers.DuplicatePhone):
        customers.create_customer(session=session, now=NOW, name="Li Lei",
                                  phone_text="138 0013 8000")  # fmt: skip
    with pytest.raises(customers.ValidationError) as exc:
        customers.update_customer(session=session, customer_id=people["tom"], agent_id=None,
                                  now=NOW, phone_text="138 0013 8000")  # fmt: skip
    assert "already on file" in exc.value.errors["phone"]
    # Wang Fang's own first number, shared with 张敏, can still be kept as it is.
    kept = customers.update_customer(
        session=session, customer_id=people["fang"], agent_id=None, now=NOW,
        phone_text="138 0013 8000",
    )  # fmt: skip
    assert kept == []

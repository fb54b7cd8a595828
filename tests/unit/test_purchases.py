"""`seat purchases import`: good rows in, bad rows by line, the same order twice changes nothing;
the card's purchases; new-buyer callbacks from imported deliveries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from seat import callbacks, customers, purchases
from seat.cli import main
from seat.models import Callback, Purchase

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
ZONE = "Asia/Shanghai"
HEADER = "phone,customer,date,order,product,category,quantity,amount,store,delivered\n"


def _write(tmp_path: Path, content: str, name: str = "orders.csv") -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def _import(engine, path: Path) -> purchases.PurchaseImportReport:
    with Session(engine) as s:
        return purchases.import_csv(session=s, path=path, now=NOW, zone=ZONE)


def _count(engine) -> int:
    with Session(engine) as s:
        return s.execute(select(func.count()).select_from(Purchase)).scalar_one()


def test_good_rows_in_bad_rows_by_line_and_again_changes_nothing(engine, world, tmp_path):
    path = _write(tmp_path, HEADER + (
        "138 0013 8000,,2026-11-10,SO-1,Washer,appliance,1,2999,Xuhui,2026-11-12\n"
        "138 0013 8000,,2026-11-10,SO-1,Dryer,appliance,1,\"1,999.50\",Xuhui,\n"
        f",#{world['min']},2026-11-01,SO-2,Serum,cosmetics,2,916,Online store,\n"
        "139 0000 0000,,2026-11-01,SO-3,Lamp,,1,99,,\n"
        ",,2026-11-01,SO-4,Lamp,,1,99,,\n"
        ",99999,2026-11-01,SO-5,Lamp,,1,99,,\n"
        "138 0013 8000,,2026-13-01,SO-6,Lamp,,0,-5,,\n"
        "138 0013 8000,,2026-12-30,SO-7,Lamp,,1,5,,\n"
        "138 0013 8000,,2026-11-10,SO-8,Lamp,,1,5,,2026-11-01\n"
        "\n"
        "138 0013 8000,,2026-11-10,,,,1,5,,\n"
    ))  # fmt: skip
    report = _import(engine, path)
    assert report.imported == 3
    assert [(p.line, p.reason.split(":")[0]) for p in report.errors] == [
        (5, "phone"), (6, "customer"), (7, "customer"), (8, "date"), (9, "date"),
        (10, "delivered"), (12, "order"),
    ]  # fmt: skip
    assert "quantity" in report.errors[3].reason and "amount" in report.errors[3].reason
    assert "99999" in report.errors[2].reason
    assert report.duplicates == []
    assert _count(engine) == 3
    with Session(engine) as s:
        rows = s.execute(
            select(Purchase.order_no, Purchase.line_no, Purchase.amount, Purchase.customer_id,
                   Purchase.delivered_at).order_by(Purchase.id)
        ).all()  # fmt: skip
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("SO-1", 1, 2999.0, world["fang"]),
        ("SO-1", 2, 1999.5, world["fang"]),
        ("SO-2", 1, 916.0, world["min"]),
    ]
    # a day is the desk's local day: noon in Shanghai
    assert rows[0][4] == datetime(2026, 11, 12, 4, 0, tzinfo=UTC)

    again = _import(engine, path)
    assert again.imported == 0
    assert [p.line for p in again.duplicates] == [2, 3, 4]
    assert "already on file" in again.duplicates[0].reason
    assert len(again.errors) == 7
    assert _count(engine) == 3
    text = purchases.format_report(again)
    assert text.splitlines()[-1] == "Imported 0 purchases; 3 duplicates; 7 rows rejected."


def test_the_same_line_twice_in_a_file_is_a_duplicate(engine, world, tmp_path):
    path = _write(tmp_path, "phone,date,order,line,product\n"
                  "138 0013 8000,2026-11-10,SO-9,1,Washer\n"
                  "138 0013 8000,2026-11-10,SO-9,1,Washer\n"
                  "138 0013 8000,2026-11-10,SO-9,2,Dryer\n")  # fmt: skip
    report = _import(engine, path)
    assert report.imported == 2
    assert [(p.line, "line 2 of this file" in p.reason) for p in report.duplicates] == [(3, True)]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "empty"),
        ("name,phone\nx,1\n", "date, order, product"),
        ("customer,date,order\n", "product"),
    ],
)
def test_a_file_that_cannot_be_read(engine, tmp_path, content, problem):
    with pytest.raises(purchases.PurchaseFileError, match=problem):
        _import(engine, _write(tmp_path, content))


def test_gbk_file_is_refused_by_name(engine, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("phone,date,order,product\n138,2026-11-01,A,洗衣机\n".encode("gbk"))
    with pytest.raises(purchases.PurchaseFileError, match="UTF-8"):
        _import(engine, path)


def test_command_exit_codes(engine, db_url, world, tmp_path, capsys):
    good = _write(tmp_path, "phone,date,order,product,amount\n"
                  "138 0013 8000,2026-11-10,SO-1,Washer,10\n", "good.csv")  # fmt: skip
    assert main(["purchases", "import", str(good), "--db", db_url]) == 0
    assert main(["purchases", "import", str(good), "--db", db_url]) == 0  # a duplicate
    assert "1 duplicate" in capsys.readouterr().out
    bad = _write(tmp_path, "phone,date,order,product\n1,2026-11-10,SO-2,Lamp\n", "bad.csv")
    assert main(["purchases", "import", str(bad), "--db", db_url]) == 1
    assert main(["purchases", "import", str(tmp_path / "none.csv"), "--db", db_url]) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-10", datetime(2026, 11, 10, 4, 0, tzinfo=UTC)),
        ("2026-11-10T09:30", datetime(2026, 11, 10, 1, 30, tzinfo=UTC)),
        ("2026-11-10T09:30+00:00", datetime(2026, 11, 10, 9, 30, tzinfo=UTC)),
    ],
)
def test_days_are_local(text, expected):
    assert purchases.parse_day(text, ZoneInfo(ZONE)) == expected


def test_card_shows_last_purchases_and_totals(engine, world):
    with Session(engine) as s:
        for days, amount in ((3, 100.0), (30, 200.0), (200, 300.0), (400, 1000.0)):
            s.add(Purchase(customer_id=world["fang"], order_no=f"O{days}", line_no=1,
                           item=f"item {days}", amount=amount,
                           purchased_at=NOW - timedelta(days=days)))  # fmt: skip
        s.commit()
        card = customers.card(session=s, customer_id=world["fang"], now=NOW)
        empty = customers.card(session=s, customer_id=world["min"], now=NOW)
    assert card is not None and empty is not None
    bought = card.purchases
    assert [line.item for line in bought.last] == ["item 3", "item 30", "item 200"]
    assert (bought.count_12m, bought.spend_12m) == (3, 600.0)
    assert (bought.count_total, bought.spend_total) == (4, 1600.0)
    assert empty.purchases == purchases.PurchaseSummary()


@pytest.mark.parametrize("delivered_days_ago", [0, 3, 20])
def test_an_imported_delivery_makes_the_new_buyer_callback(
    engine, world, tmp_path, delivered_days_ago
):
    """Delivered on a day D: the new-buyer callback falls due 7 days later (within the
    handbook's 7-10 days), once, whoever runs the rules again."""
    day = (NOW.astimezone(ZoneInfo(ZONE)) - timedelta(days=delivered_days_ago)).date()
    path = _write(tmp_path, "phone,date,order,product,amount,delivered\n"
                  f"139 1234 5678,{day - timedelta(days=2)},SO-77,Sofa,5800,{day}\n")  # fmt: skip
    assert _import(engine, path).imported == 1
    policy = callbacks.default_policy()
    with Session(engine) as s:
        callbacks.schedule(session=s, now=NOW, policy=policy)
        callbacks.schedule(session=s, now=NOW, policy=policy)
        s.commit()
        rows = s.execute(
            select(Callback).where(Callback.source_key == f"new_buyer:{world['min']}:order:SO-77")
        ).scalars().all()  # fmt: skip
    assert len(rows) == 1
    due_day = rows[0].due_at.astimezone(ZoneInfo(ZONE)).date()
    assert 7 <= (due_day - day).days <= 10
    assert rows[0].kind == "satisfaction" and "Sofa" in rows[0].reason


def test_demo_desk_has_purchases_with_deliveries(engine):
    from seat.tools.demo import seed

    report = seed(engine, customers=40, calls=0, now=NOW)
    assert report.purchases == 120
    with Session(engine) as s:
        total, delivered = s.execute(
            select(func.count(), func.count(Purchase.delivered_at))
        ).one()
        recent = s.execute(
            select(func.count()).where(Purchase.delivered_at >= NOW - timedelta(days=30))
        ).scalar_one()
        first = customers.card(session=s, customer_id=1, now=NOW)
    assert total == 120 and 0 < delivered < total and recent >= 1
    assert first is not None and first.purchases.count_total >= 1
    assert isinstance(first.purchases.last[0].purchased_at.date(), date)

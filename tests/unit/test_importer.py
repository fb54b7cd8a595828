"""CSV import: good rows in, bad rows reported by line, nothing half-made."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from seat.customers import create_customer, find_by_phone
from seat.importer import ImportFileError, ImportReport, RowProblem, format_report, import_csv
from seat.models import Customer, PhoneNumber

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "customers-sample.csv"
HEADER = "name,phone,tier,birthday,gender,address,occupation,language\n"


@pytest.fixture
def eng(engine):
    return engine  # a migrated database of the backend under test (SQLite or PostgreSQL)


def _write(tmp_path: Path, content: str, encoding: str = "utf-8", name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode(encoding))
    return path


def _import(eng, path: Path, commit: bool = True) -> ImportReport:
    with Session(eng) as s:
        report = import_csv(session=s, path=path, now=NOW)
        if commit:
            s.commit()
    return report


def _counts(eng) -> tuple[int, int, int]:
    """(customers, phone numbers, customers that have a phone number)."""
    with Session(eng) as s:
        customers = s.execute(select(func.count()).select_from(Customer)).scalar_one()
        phones = s.execute(select(func.count()).select_from(PhoneNumber)).scalar_one()
        owners = s.execute(select(func.count(func.distinct(PhoneNumber.customer_id)))).scalar_one()
    return customers, phones, owners


def test_sample_file(eng):
    report = _import(eng, SAMPLE)
    assert report.imported == 9
    assert [(p.line, p.reason) for p in report.errors] == [
        (4, "phone: Too short to be a phone number."),
        (7, "birthday: Birthday must be a date like 1985-03-14."),
    ]
    assert [p.line for p in report.duplicates] == [8]
    assert "line 3" in report.duplicates[0].reason
    assert report.errors[0].name == "Li Min" and report.errors[0].phone == "1380"
    assert _counts(eng) == (9, 9, 9)
    assert format_report(report).splitlines() == [
        "line 4: phone: Too short to be a phone number.",
        "line 7: birthday: Birthday must be a date like 1985-03-14.",
        "line 8: phone: +8613912345678 already appears on line 3 of this file.",
        "Imported 9 customers; 1 duplicate; 2 rows rejected.",
    ]
    with Session(eng) as s:
        hit = find_by_phone(session=s, e164="+8613800138001")
        assert hit is not None and hit.name == "王芳" and hit.tier == "vip"
        fang = s.get(Customer, hit.id)
        assert fang.birthday == date(1985, 11, 30)
        assert fang.language == "zh_CN" and fang.gender == "female"
        assert fang.occupation == "会计" and fang.address.startswith("上海市")
        zhang = find_by_phone(session=s, e164="+8613700001111")
        assert zhang.tier == "platinum"  # "Platinum" in the file
        assert find_by_phone(session=s, e164="+442079460958").name == "Tom Baker"


def test_importing_the_same_file_twice_reports_duplicates_on_file(eng):
    _import(eng, SAMPLE)
    again = _import(eng, SAMPLE)
    assert again.imported == 0
    assert len(again.duplicates) == 10
    assert all("already on file" in p.reason for p in again.duplicates)
    assert [p.line for p in again.errors] == [4, 7]
    assert format_report(again).endswith("Imported 0 customers; 10 duplicates; 2 rows rejected.")
    assert _counts(eng) == (9, 9, 9)


def test_duplicate_of_a_customer_on_file(eng, tmp_path):
    with Session(eng) as s:
        existing = create_customer(session=s, now=NOW, name="Wang Fang", phone_text="13800138000")
        s.commit()
        existing_id = existing.id
    path = _write(tmp_path, HEADER + "Fang Wang,+86 138-0013-8000\nLi Na,13912345678\n")
    report = _import(eng, path)
    assert report.imported == 1
    assert report.duplicates == [
        RowProblem(
            2,
            f"phone: +8613800138000 is already on file (customer #{existing_id}).",
            "Fang Wang",
            "+86 138-0013-8000",
        )
    ]
    assert _counts(eng) == (2, 2, 2)


def test_duplicate_within_the_file(eng, tmp_path):
    path = _write(
        tmp_path, HEADER + "A,13912345678\nB,13812345678\nC,0086 139 1234 5678\nD,139-1234-5678\n"
    )
    report = _import(eng, path)
    assert report.imported == 2
    assert [p.line for p in report.duplicates] == [4, 5]
    assert all("appears on line 2 of this file" in p.reason for p in report.duplicates)
    assert _counts(eng) == (2, 2, 2)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (",13912345678", "name: Name is required."),
        ("Wang Fang,", "phone: Enter a phone number."),
        ("Wang Fang,1390", "phone: Too short to be a phone number."),
        ("Wang Fang,139abc45678", "phone: A phone number may only contain digits"),
        ("Wang Fang,13912345678,platinium", "tier: Tier must be one of:"),
        ("Wang Fang,13912345678,,14/03/1985", "birthday: Birthday must be a date like"),
        ("Wang Fang,13912345678,,2030-01-01", "birthday: Birthday cannot be in the future."),
        ("Wang Fang,13912345678,,,f", "gender: Gender must be one of:"),
        ("Wang Fang,13912345678,,,,,,fr", "language: Language must be one of: en, zh_CN."),
        ("Wang Fang,13912345678,,,,," + "x" * 121, "occupation: Occupation is too long"),
        ("Wang Fang,13912345678,,,," + "x" * 501, "address: Address is too long"),
    ],
)
def test_bad_row_is_rejected_with_line_and_reason(eng, tmp_path, row, reason):
    path = _write(tmp_path, HEADER + "Good One,13800138000\n" + row + "\nGood Two,13700001111\n")
    report = _import(eng, path)
    assert report.imported == 2
    assert report.duplicates == []
    assert len(report.errors) == 1
    problem = report.errors[0]
    assert problem.line == 3
    assert problem.reason.startswith(reason), problem.reason
    assert _counts(eng) == (2, 2, 2)


def test_every_bad_field_of_a_row_is_named(eng, tmp_path):
    path = _write(tmp_path, HEADER + ",12,gem,someday,x,,,klingon\n")
    report = _import(eng, path)
    (problem,) = report.errors
    for key in ("phone:", "name:", "tier:", "birthday:", "gender:", "language:"):
        assert key in problem.reason
    assert _counts(eng) == (0, 0, 0)


def test_language_rejected_even_when_the_phone_is_a_duplicate(eng, tmp_path):
    path = _write(tmp_path, HEADER + "A,13912345678\nB,13912345678,,,,,,xx\n")
    report = _import(eng, path)
    assert report.duplicates == []
    assert report.errors[0].line == 3 and "language:" in report.errors[0].reason


def test_header_is_case_insensitive_reordered_with_extra_columns(eng, tmp_path):
    path = _write(
        tmp_path,
        "Customer No, PHONE ,Notes,NAME,Language,Tier\n"
        "C-1,13912345678,call after 6,王芳,zh-CN,VIP\n"
        "C-2,13812345678,,Li Na,,\n",
    )
    report = _import(eng, path)
    assert report.imported == 2 and not report.errors
    with Session(eng) as s:
        fang = find_by_phone(session=s, e164="+8613912345678")
        assert fang.name == "王芳" and fang.tier == "vip"
        assert s.get(Customer, fang.id).language == "zh_CN"
        li = s.get(Customer, find_by_phone(session=s, e164="+8613812345678").id)
        assert li.tier == "ordinary" and li.language == "en"


def test_utf8_bom_is_accepted(eng, tmp_path):
    path = _write(tmp_path, HEADER + "王芳,13912345678\n", encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    report = _import(eng, path)
    assert report.imported == 1 and not report.errors


def test_crlf_blank_lines_and_multiline_fields_keep_physical_line_numbers(eng, tmp_path):
    content = (
        "name,phone,address\r\n"
        '"Wang Fang",13912345678,"Room 1203\r\n88 Century Ave\r\nShanghai"\r\n'  # lines 2-4
        "\r\n"  # line 5: blank, skipped
        "Li Na,12\r\n"  # line 6: bad
        "Zhang Min,13812345678,\r\n"  # line 7
    )
    report = _import(eng, _write(tmp_path, content))
    assert report.imported == 2
    assert [p.line for p in report.errors] == [6]
    with Session(eng) as s:
        hit = find_by_phone(session=s, e164="+8613912345678")
        assert s.get(Customer, hit.id).address == "Room 1203\r\n88 Century Ave\r\nShanghai"


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ("name,tier\n", "phone"),
        ("phone,tier\n", "name"),
        ("full name,mobile\n", "name, phone"),
    ],
)
def test_missing_required_column(eng, tmp_path, header, missing):
    path = _write(tmp_path, header + "Wang Fang,13912345678\n")
    with pytest.raises(ImportFileError, match=f"columns? {missing}"):
        _import(eng, path)
    assert _counts(eng) == (0, 0, 0)


@pytest.mark.parametrize("content", ["", "\n\n", "\ufeff"])
def test_empty_file(eng, tmp_path, content):
    with pytest.raises(ImportFileError, match="empty"):
        _import(eng, _write(tmp_path, content))


def test_header_only_imports_nothing(eng, tmp_path):
    report = _import(eng, _write(tmp_path, HEADER))
    assert report == ImportReport()
    assert format_report(report) == "Imported 0 customers; 0 duplicates; 0 rows rejected."


def test_non_utf8_file_is_refused_clearly(eng, tmp_path):
    path = _write(tmp_path, HEADER + "王芳,13912345678\n", encoding="gbk")
    with pytest.raises(ImportFileError, match="not UTF-8.*line 2"):
        _import(eng, path)
    assert _counts(eng) == (0, 0, 0)


def test_binary_file_is_refused(eng, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"name,phone\n\x00\x00\x00")
    with pytest.raises(ImportFileError, match="not a text file"):
        _import(eng, path)


def test_malformed_csv_is_refused(eng, tmp_path):
    path = _write(tmp_path, HEADER + 'Wang Fang,13912345678\n"Li Na,13812345678\n')
    with pytest.raises(ImportFileError, match="malformed CSV"):
        _import(eng, path)


def test_missing_file(eng, tmp_path):
    with pytest.raises(ImportFileError, match="Cannot read"):
        _import(eng, tmp_path / "nope.csv")


def test_caller_rollback_undoes_the_whole_import(eng):
    with Session(eng) as s:
        report = import_csv(session=s, path=SAMPLE, now=NOW, batch_rows=None)
    assert report.imported == 9
    assert _counts(eng) == (0, 0, 0)


def test_bad_rows_leave_nothing_behind_within_the_session(eng, tmp_path):
    rows = "".join(
        f"Customer {i},{'1391234' + str(1000 + i) if i % 3 else 'bad'}\n" for i in range(30)
    )
    path = _write(tmp_path, HEADER + rows)
    with Session(eng) as s:
        report = import_csv(session=s, path=path, now=NOW)
        customers = s.execute(select(func.count()).select_from(Customer)).scalar_one()
        phones = s.execute(select(func.count()).select_from(PhoneNumber)).scalar_one()
        s.commit()
    assert report.imported == customers == phones == 20
    assert len(report.errors) == 10
    assert _counts(eng) == (20, 20, 20)


@pytest.mark.parametrize(
    ("imported", "dups", "errors", "summary"),
    [
        (1, 0, 1, "Imported 1 customer; 0 duplicates; 1 row rejected."),
        (9, 1, 2, "Imported 9 customers; 1 duplicate; 2 rows rejected."),
    ],
)
def test_format_report_summary(imported, dups, errors, summary):
    report = ImportReport(
        imported=imported,
        duplicates=[RowProblem(10 + i, "phone: dup") for i in range(dups)],
        errors=[RowProblem(2 + i, "name: Name is required.") for i in range(errors)],
    )
    lines = format_report(report).splitlines()
    assert lines[-1] == summary
    assert lines[0] == "line 2: name: Name is required."
    assert len(lines) == dups + errors + 1


# -- big files: batches that commit, a huge field is one bad row (issue 16 #4) ---------------


def _many(n: int, start: int = 0) -> str:
    return "".join(f"Customer {i},1391{i:07d}\n" for i in range(start, start + n))


def _another_seat_writes(eng, name: str) -> None:
    """A desk saving something, not willing to wait for a lock at all."""
    insert = "INSERT INTO agent (name, display_name, role, active) VALUES ('{}', 'x', 'agent', {})"
    if eng.dialect.name == "sqlite":
        other = sqlite3.connect(eng.url.database, timeout=0)
        try:
            with other:
                other.execute(insert.format(name, 1))
        finally:
            other.close()
        return
    with eng.connect() as other:
        other.exec_driver_sql("SET lock_timeout = 1")  # milliseconds
        other.exec_driver_sql(insert.format(name, "true"))
        other.commit()


def test_a_big_import_commits_in_batches_and_frees_the_database_between_them(eng, tmp_path):
    """No transaction holds more than BATCH_ROWS rows, and after each batch another seat
    writes at once (no busy wait at all: timeout 0) — the lock is free between batches."""
    from seat import importer

    path = _write(tmp_path, HEADER + _many(1250))
    batches: list[tuple[int, int]] = []
    seat_wrote: list[int] = []

    def committed(report: ImportReport, line: int) -> None:
        batches.append((report.imported, line))
        _another_seat_writes(eng, f"seat.{len(batches)}")
        seat_wrote.append(len(batches))

    with Session(eng) as s:
        report = import_csv(session=s, path=path, now=NOW, committed=committed)
    assert report.imported == 1250
    sizes = [b - a for (a, __), (b, __) in zip([(0, 1), *batches], batches, strict=False)]
    assert sum(sizes) == 1250 and max(sizes) <= importer.BATCH_ROWS and len(sizes) >= 3
    assert batches[-1] == (1250, 1251)
    assert seat_wrote == list(range(1, len(batches) + 1))
    assert _counts(eng) == (1250, 1250, 1250)


def test_an_import_stopped_half_way_keeps_the_committed_batches(eng, tmp_path):
    path = _write(tmp_path, HEADER + _many(30))

    def stop_after_the_second(report: ImportReport, line: int) -> None:
        if report.imported >= 20:
            raise KeyboardInterrupt

    with Session(eng) as s, pytest.raises(KeyboardInterrupt):
        import_csv(session=s, path=path, now=NOW, batch_rows=10, committed=stop_after_the_second)
    assert _counts(eng) == (20, 20, 20)
    again = _import(eng, path)  # running the file again finishes it
    assert (again.imported, len(again.duplicates)) == (10, 20)


@pytest.mark.parametrize("column", ["name", "phone", "address", "occupation", "ignored"])
def test_a_one_megabyte_field_rejects_only_its_row(eng, tmp_path, column):
    huge = "x" * 1_000_000
    cells = {"name": "Big Field", "phone": "13912340002", "address": "", "occupation": "",
             "ignored": ""}  # fmt: skip
    cells[column] = huge
    row = ",".join(cells[c] for c in ("name", "phone", "address", "occupation", "ignored"))
    path = _write(tmp_path, "name,phone,address,occupation,ignored\n"
                  f"Before,13912340001,,,\n{row}\nAfter,13912340003,,,\n")  # fmt: skip
    report = _import(eng, path)
    if column == "ignored":  # a column the import does not read cannot spoil the row
        assert report.imported == 3 and report.errors == []
        return
    assert report.imported == 2
    [problem] = report.errors
    assert problem.line == 3 and problem.reason.startswith(f"{column}:")
    assert len(problem.reason) < 200 and len(problem.name) <= 200
    assert "line 3:" in format_report(report)


@pytest.mark.parametrize(
    ("cell", "until", "problem"),
    [
        ("2027-03-31", date(2027, 3, 31), None),
        ("", None, None),
        ("31/03/2027", None, "member_until: The membership's last day must be a date like"),
    ],
)
def test_the_membership_s_last_day_is_imported(eng, tmp_path, cell, until, problem):
    path = _write(tmp_path, "name,phone,member_until\nWang Fang,13912345678," + cell + "\n")
    report = _import(eng, path)
    if problem is not None:
        assert report.imported == 0 and problem in report.errors[0].reason
        return
    assert report.imported == 1
    with Session(eng) as s:
        assert s.execute(select(Customer.member_until)).scalar_one() == until

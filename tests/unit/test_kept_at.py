"""seat.db.kept_at: stored_at's value, kept per stored text (the sidebar's times)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from seat import db
from seat.db import kept_at, stored_at

TEXTS = [
    "2026-12-04 10:00:00.000000",
    "2026-12-04 10:00:00",
    "2026-12-04T10:00:00.123456",
    "2026-12-04 18:00:00+08:00",
    "2026-12-04",
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_same_value_as_stored_at_first_and_again(text: str) -> None:
    first, again = kept_at(text), kept_at(text)
    assert first == again == stored_at(text)
    assert first is not None and first.tzinfo is not None and first.utcoffset() == timedelta(0)


def test_driver_values_as_stored_at() -> None:
    assert kept_at(None) is None
    aware = datetime(2026, 12, 4, 18, tzinfo=timezone(timedelta(hours=8)))
    assert kept_at(aware) == stored_at(aware) == datetime(2026, 12, 4, 10, tzinfo=UTC)
    naive = datetime(2026, 12, 4, 10)
    assert kept_at(naive) == datetime(2026, 12, 4, 10, tzinfo=UTC)


def test_kept_texts_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "KEPT_AT_MAX", 3)
    monkeypatch.setattr(db, "_KEPT_AT", {})
    texts = [f"2026-12-04 10:00:0{i}.000000" for i in range(7)]
    for text in texts:
        assert kept_at(text) == stored_at(text)
        assert len(db._KEPT_AT) <= 3
    for text in texts:  # read again after being dropped: still the same value
        assert kept_at(text) == stored_at(text)

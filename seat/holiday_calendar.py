"""A year's official holidays and make-up working days from a well-kept library.

China's schedule (with its make-up working days, 调休) comes from `chinese-calendar`, other
regions' public holidays from `holidays`; both are the optional extra `seat[calendar]`. The
result is printed as the `[calendar]` lines of policy/complaints.toml (`seat policy calendar
--generate`): a person checks it against the official notice and pastes it in; the seat never
reads a library's calendar at run time.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from datetime import date
from importlib import metadata
from types import ModuleType

from seat.errors import PolicyError
from seat.i18n import _

CHINA = "CN"


class CalendarLibraryError(PolicyError):
    """The library is missing (the optional extra) or has no data for that year or region."""


@dataclass(frozen=True)
class YearCalendar:
    year: int
    holidays: tuple[date, ...]
    workdays: tuple[date, ...]
    """Make-up working days on a Saturday or Sunday."""
    source: str = ""
    """Where it came from, e.g. "chinese-calendar 1.11.0"."""

    def as_json(self) -> str:
        """`{"year": …, "holidays": [...], "workdays": [...]}` with ISO dates."""
        return json.dumps(
            {
                "year": self.year,
                "holidays": [d.isoformat() for d in self.holidays],
                "workdays": [d.isoformat() for d in self.workdays],
            },
            ensure_ascii=False,
        )

    def as_toml(self, region: str) -> str:
        """The `[calendar]` lines of policy/complaints.toml for this year."""

        def dates(days: tuple[date, ...]) -> str:
            rows = [
                "  " + ", ".join(f'"{d.isoformat()}"' for d in days[i : i + 5]) + ","
                for i in range(0, len(days), 5)
            ]
            return "[\n" + "\n".join(rows) + ("\n" if rows else "") + "]"

        return (
            f"# {self.year} business calendar for {region}, from {self.source}.\n"
            "# Check it against the official notice, then merge these lists into the\n"
            "# [calendar] table of policy/complaints.toml.\n"
            "[calendar]\n"
            f"holidays = {dates(self.holidays)}\n"
            f"workdays = {dates(self.workdays)}\n"
        )


def _library(module: str, distribution: str) -> tuple[ModuleType, str]:
    try:
        found = importlib.import_module(module)
    except ImportError:
        raise CalendarLibraryError(
            _(
                "generating a calendar needs the library {library}: install the optional "
                "extra with pip install 'seat[calendar]'"
            ).format(library=distribution)
        ) from None
    try:
        version = metadata.version(distribution)
    except metadata.PackageNotFoundError:
        version = "?"
    return found, f"{distribution} {version}"


def generate(year: int, region: str = CHINA) -> YearCalendar:
    """The official holidays (and, for China, make-up working days) of `year` in `region`
    ("CN", "US", "DE-BY": a country code, optionally a subdivision)."""
    country, __, subdiv = region.upper().partition("-")
    if country == CHINA and not subdiv:
        return _china(year)
    library, source = _library("holidays", "holidays")
    try:
        found = library.country_holidays(country, subdiv=subdiv or None, years=year)
    except NotImplementedError:
        raise CalendarLibraryError(
            _("{source} knows no region {region}").format(source=source, region=region)
        ) from None
    days = tuple(sorted(d for d in found if d.year == year))
    return YearCalendar(year, days, (), source)


def _china(year: int) -> YearCalendar:
    library, source = _library("chinese_calendar", "chinese-calendar")
    try:
        library.get_holiday_detail(date(year, 1, 1))
    except NotImplementedError:
        raise CalendarLibraryError(
            _(
                "{source} has no schedule for {year} yet (a newer release may have it; "
                "the State Council publishes it late in the year before)"
            ).format(source=source, year=year)
        ) from None
    holidays = tuple(sorted(d for d in library.holidays if d.year == year))
    workdays = tuple(sorted(d for d in library.workdays if d.year == year))
    return YearCalendar(year, holidays, workdays, source)

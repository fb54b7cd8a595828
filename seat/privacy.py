"""Masking of phone numbers and addresses on screens outside the current call.

Pure functions, no database and no Textual: `mask_phone("+8613812341234")` is
"138****1234"; `mask_address("上海市浦东新区世纪大道88号")` is "上海市浦东新区****".
Revealing a masked value is logged (`seat.customers.log_access`).
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

MASK = "*"
ADDRESS_MASK = "****"
_MIN_HIDDEN = 3  # never show so much that fewer than three digits are hidden

# The administrative prefix of a Chinese address: province, city, district or county.
_CN_PREFIX = re.compile(
    r"^(?:[^\d\s,，]{1,12}?(?:省|自治区|特别行政区))?"
    r"(?:[^\d\s,，]{1,12}?(?:市|自治州|州|盟|地区))?"
    r"(?:[^\d\s,，]{1,12}?(?:区|县|旗))?"
)
_SEPARATORS = re.compile(r"\s*(?:\r\n|\r|\n|,|，)\s*")


def mask_digits(digits: str) -> str:
    """Keep up to 3 leading and 4 trailing digits; at least three stay hidden."""
    n = len(digits)
    if n == 0:
        return ""
    tail = min(4, n // 2, max(0, n - _MIN_HIDDEN))
    head = min(3, max(0, n - tail - _MIN_HIDDEN))
    return digits[:head] + MASK * (n - head - tail) + digits[n - tail :]


def mask_phone(number: str | None, home_region: str = "CN") -> str:
    """A number as the desk shows it, with the middle digits hidden.

    Numbers of the desk's own region are masked in national form ("138****1234",
    "020****0958" for a London number at a UK desk); others keep their country code
    ("+44 207***0958"). Text that is not a number has its digits masked the same way.
    """
    text = (number or "").strip()
    if not text:
        return ""
    try:
        parsed = phonenumbers.parse(text, home_region.upper())
    except NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        return mask_digits(re.sub(r"\D", "", text))
    if phonenumbers.region_code_for_number(parsed) == home_region.upper():
        national = phonenumbers.format_number(parsed, PhoneNumberFormat.NATIONAL)
        return mask_digits(re.sub(r"\D", "", national))
    nsn = phonenumbers.national_significant_number(parsed)
    return f"+{parsed.country_code} {mask_digits(nsn)}"


def mask_address(address: str | None) -> str:
    """Keep where the address is (city, district), hide where exactly.

    A Chinese address keeps its province/city/district prefix; a comma- or line-separated
    one keeps up to two last parts without digits (district, city) and hides the rest
    (house, street); anything else is hidden whole.
    """
    text = (address or "").strip()
    if not text:
        return ""
    prefix = _CN_PREFIX.match(text)
    kept = prefix.group(0) if prefix else ""
    if kept and len(kept) < len(text) and not any(ch.isdigit() for ch in kept):
        return kept + ADDRESS_MASK
    parts = [p for p in _SEPARATORS.split(text) if p]
    keep: list[str] = []
    # From the end: parts without digits (district, city), two at most, never the first.
    for part in reversed(parts[1:]):
        if len(keep) == 2 or any(ch.isdigit() for ch in part):
            break
        keep.insert(0, part)
    return ", ".join([ADDRESS_MASK, *keep])


# Columns of exported tables that hold a phone number or an address, by their (English) header.
PERSONAL_COLUMNS: dict[str, str] = {
    "Phone": "phone",
    "Phones": "phone",
    "Address": "address",
    "Service address": "address",
}


def mask_tables(tables: list, home_region: str = "CN") -> None:  # type: ignore[type-arg]
    """Mask, in place, every phone and address column of export tables (seat.export.Table):
    what a command prints for someone who may not see them whole, as the screens do."""
    for table in tables:
        columns = {
            i: PERSONAL_COLUMNS[h] for i, h in enumerate(table.headers) if h in PERSONAL_COLUMNS
        }
        if not columns:
            continue
        for row in table.rows:
            for i, what in columns.items():
                if i < len(row) and isinstance(row[i], str) and row[i]:
                    row[i] = (
                        mask_phone(row[i], home_region) if what == "phone" else mask_address(row[i])
                    )

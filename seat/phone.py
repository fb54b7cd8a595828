"""Phone numbers: the one place that talks to `phonenumbers`.

Numbers are stored as E.164. Optional phonenumbers data (geocoder, time zones)
is imported lazily: the geocoder alone costs about half a second at start-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from seat.i18n import _

_ALLOWED = re.compile(r"^[\d\s\-().+/]*$")


class PhoneError(ValueError):
    """A number that cannot be used; the message is meant for the agent."""


@dataclass(frozen=True)
class Phone:
    e164: str
    region: str | None

    def national(self) -> str:
        return format_national(self.e164)

    def international(self) -> str:
        return format_international(self.e164)


def parse(text: str, region: str = "CN") -> Phone:
    """Parse what an agent typed into a validated number, or raise PhoneError."""
    raw = (text or "").strip()
    if not raw:
        raise PhoneError(_("Enter a phone number."))
    if not _ALLOWED.match(raw):
        raise PhoneError(_("A phone number may only contain digits, spaces, + - . / ( and )."))
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("00") or (raw.startswith("(") and digits.startswith("00")):
        # International call prefix typed instead of '+'.
        raw = "+" + digits[2:]
    if len(digits) < 5:
        raise PhoneError(_("Too short to be a phone number."))
    try:
        number = phonenumbers.parse(raw, region.upper())
    except NumberParseException as exc:
        raise PhoneError(_parse_message(exc)) from None
    if not phonenumbers.is_possible_number(number):
        reason = phonenumbers.is_possible_number_with_reason(number)
        if not raw.startswith("+"):
            # Typed as a national number: it may well be valid, just not in the desk's region.
            message = {
                phonenumbers.ValidationResult.TOO_LONG: _(
                    "Too long for a {region} number; for another country, "
                    "start with + and the country code."
                ),
                phonenumbers.ValidationResult.TOO_SHORT: _(
                    "Too short for a {region} number; for another country, "
                    "start with + and the country code."
                ),
            }.get(
                reason,
                _(
                    "Wrong length for a {region} number; for another country, "
                    "start with + and the country code."
                ),
            )
            raise PhoneError(message.format(region=region.upper()))
        if reason == phonenumbers.ValidationResult.TOO_SHORT:
            raise PhoneError(_("Too short to be a phone number."))
        if reason == phonenumbers.ValidationResult.TOO_LONG:
            raise PhoneError(_("Too long to be a phone number."))
        raise PhoneError(_("Not a possible phone number for that country."))
    if not phonenumbers.is_valid_number(number):
        where = phonenumbers.region_code_for_country_code(number.country_code)
        if where:
            raise PhoneError(
                _("Not a valid number in {region}; check the digits.").format(region=where)
            )
        raise PhoneError(_("Not a valid number in that country; check the digits."))
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return Phone(e164=e164, region=phonenumbers.region_code_for_number(number))


def _parse_message(exc: NumberParseException) -> str:
    kind = exc.error_type
    if kind == NumberParseException.INVALID_COUNTRY_CODE:
        return _("Unknown country code; start with + and the country code.")
    if kind in (NumberParseException.TOO_SHORT_NSN, NumberParseException.TOO_SHORT_AFTER_IDD):
        return _("Too short to be a phone number.")
    if kind == NumberParseException.TOO_LONG:
        return _("Too long to be a phone number.")
    return _("Not a phone number.")


def normalise(text: str, region: str = "CN") -> str:
    """E.164 for a typed number (raises PhoneError)."""
    return parse(text, region).e164


def try_normalise(text: str, region: str = "CN") -> str | None:
    try:
        return normalise(text, region)
    except PhoneError:
        return None


def format_national(e164: str) -> str:
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)


def format_international(e164: str) -> str:
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def display(e164: str, home_region: str = "CN") -> str:
    """National format for numbers of the desk's own region, international otherwise."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) == home_region.upper():
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def kind(e164: str) -> str:
    """What a number most likely is, from its numbering plan: "home" for a fixed line,
    "mobile" otherwise (a mobile, or a plan that does not tell)."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return "mobile"
    if phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE:
        return "home"
    return "mobile"


def time_zones(e164: str) -> tuple[str, ...]:
    """IANA time zones of a number (lazy import: the data is large)."""
    from phonenumbers import timezone as pn_timezone

    return tuple(pn_timezone.time_zones_for_number(phonenumbers.parse(e164, None)))


def stored_time_zones(e164: str) -> tuple[str, ...]:
    """`time_zones` of a number read from the database, which holds only valid numbers
    (`parse` refuses the rest): where the whole country keeps one time zone (China, most of
    the world) that zone, without parsing; otherwise `time_zones`."""
    digits = e164[1:] if e164.startswith("+") else ""
    for length in (1, 2, 3):
        zones = _country_zones().get(digits[:length])
        if zones is not None:
            return zones if len(zones) == 1 else time_zones(e164)
    return time_zones(e164)


@lru_cache(maxsize=65536)
def zones_key(e164: str | None) -> str:
    """The time zones a stored number may ring in, as one text (what a callback keeps in
    `callback.zones`, so that rest hours are a SQL predicate): the IANA names of
    `stored_time_zones` that this Python knows, space-separated; "" when none is known (no
    number, an unparsable one, "Etc/Unknown"). It depends on the number only, not on any
    policy (seat.callbacks.key_zones applies the rest-hours policy to it)."""
    if not e164:
        return ""
    try:
        zones = stored_time_zones(e164)
    except Exception:  # an unparsable stored number: no zone known
        return ""
    return _zones_text(zones)


@cache
def _zones_text(zones: tuple[str, ...]) -> str:
    """`zones_key`'s text of a number's zones: worked out once per set of zones (the
    numbers of a country with one zone share it; the callback rules make thousands of keys
    a day, each zone looked up in the zone database again cost ~5 us)."""
    return " ".join(z for z in zones if z != "Etc/Unknown" and _known_zone(z))


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@cache
def _country_zones() -> dict[str, tuple[str, ...]]:
    """Every time zone phonenumbers knows for each country calling code (those whose
    bare code has an entry of its own)."""
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE
    from phonenumbers.tzdata import TIMEZONE_DATA

    by_code: dict[str, set[str]] = {str(code): set() for code in COUNTRY_CODE_TO_REGION_CODE}
    for prefix, zones in TIMEZONE_DATA.items():
        for length in (1, 2, 3):
            if prefix[:length] in by_code:
                by_code[prefix[:length]].update(zones)
                break
    # Only where the bare code is listed: any number of that country then finds its zones.
    return {code: tuple(sorted(z)) for code, z in by_code.items() if z and code in TIMEZONE_DATA}


# -- caller ids as phone systems hand them over (`seat pop`) ------------------------------------

WITHHELD = frozenset(
    {"", "anonymous", "unknown", "restricted", "withheld", "private", "unavailable", "blocked",
     "anonymous.invalid"}
)  # fmt: skip
"""Caller ids that mean the number was not given (compared in lower case)."""
_NAME_ADDR = re.compile(r"<([^<>]*)>")  # "Zhang San" <sip:13800138000@10.0.0.1>
_SCHEME = re.compile(r"^(?:sips?|tel):", re.IGNORECASE)


def caller_id(text: str) -> str | None:
    """The number in a caller id, or None when the caller withheld it.

    Takes what dial plans pass on: a bare number, `sip:+8613800138000@pbx`,
    `tel:+86-138-0013-8000`, `"Zhang San" <sip:13800138000@10.0.0.1>`, `13800138000;ext=12`
    (the extension is dropped: the customer is found by the number). Anonymous callers
    (`anonymous`, `sip:anonymous@anonymous.invalid`, `restricted`, …) give None. What is left
    is the number as typed, for parse()/normalise() to judge.
    """
    raw = (text or "").strip()
    found = _NAME_ADDR.search(raw)
    if found:
        raw = found.group(1).strip()
    elif raw.startswith('"'):  # a display name alone: "Anonymous"
        raw = raw.strip('"').strip()
    raw = _SCHEME.sub("", raw)
    raw = raw.split("@", 1)[0]  # sip:user@host: the user part is the number
    raw = raw.split(";", 1)[0].strip()  # ;ext=… ;phone-context=… ;user=phone
    if raw.lower() in WITHHELD:
        return None
    return raw

"""Phone numbers: parsing typed numbers to E.164, refusing bad ones, display, time zones."""

from __future__ import annotations

import pytest

from seat import phone
from seat.phone import PhoneError

VALID = [
    # (typed, region, E.164, region of the number)
    ("13800138000", "CN", "+8613800138000", "CN"),  # CN mobile
    ("010 6552 9988", "CN", "+861065529988", "CN"),  # CN landline, Beijing
    ("021-6321 8888", "CN", "+862163218888", "CN"),  # CN landline, Shanghai
    ("(202) 456-1111", "US", "+12024561111", "US"),
    ("+1 202 456 1111", "CN", "+12024561111", "US"),
    ("020 7946 0958", "GB", "+442079460958", "GB"),
    ("+44 20 7946 0958", "CN", "+442079460958", "GB"),
    ("030 12345678", "DE", "+493012345678", "DE"),
    ("+49 30 12345678", "CN", "+493012345678", "DE"),
    ("03-1234-5678", "JP", "+81312345678", "JP"),  # Tokyo landline
    ("090-1234-5678", "JP", "+819012345678", "JP"),  # JP mobile
    ("+81 90 1234 5678", "CN", "+819012345678", "JP"),
]


@pytest.mark.parametrize(("typed", "region", "e164", "number_region"), VALID)
def test_valid_numbers_become_e164(typed, region, e164, number_region):
    parsed = phone.parse(typed, region)
    assert parsed.e164 == e164
    assert parsed.region == number_region
    assert phone.normalise(typed, region) == e164
    assert phone.try_normalise(typed, region) == e164


def test_region_is_case_insensitive():
    assert phone.normalise("(202) 456-1111", "us") == "+12024561111"


@pytest.mark.parametrize(
    "typed",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "138 - 0013 - 8000",
        "(138) 0013 8000",
        "  13800138000  ",
        "+86 138 0013 8000",
        "+86-138-0013-8000",
        "+86 (138) 0013-8000",
        "+8613800138000",
        "0086 138 0013 8000",
        "008613800138000",
        "(0086) 138-0013-8000",
        "138.0013.8000",
        "138/0013/8000",
        "１３８００１３８０００",  # full-width digits from a Chinese input method
    ],
)
def test_same_mobile_typed_many_ways(typed):
    assert phone.normalise(typed, "CN") == "+8613800138000"


@pytest.mark.parametrize(
    "typed",
    [
        "010 6552 9988",
        "010-65529988",
        "(010) 6552-9988",
        "01065529988",
        "+86 10 6552 9988",
        "+86 (0)10 6552 9988",
        "0086 10 6552 9988",
    ],
)
def test_same_landline_typed_many_ways(typed):
    """The trunk prefix 0 of a national number is dropped in E.164."""
    assert phone.normalise(typed, "CN") == "+861065529988"


def test_international_number_ignores_the_default_region():
    for region in ("CN", "US", "GB", "DE"):
        assert phone.normalise("+86 138 0013 8000", region) == "+8613800138000"


INVALID = [
    # (typed, region, words the message must contain)
    ("", "CN", "Enter a phone number"),
    ("   ", "CN", "Enter a phone number"),
    (None, "CN", "Enter a phone number"),
    ("abc", "CN", "only contain digits"),
    ("138abc00138", "CN", "only contain digits"),
    ("138 0013 8000 ext 5", "CN", "only contain digits"),
    ("138#0013*8000", "CN", "only contain digits"),
    ("123", "CN", "Too short"),
    ("1380", "CN", "Too short"),
    ("+", "CN", "Too short"),
    ("+86", "CN", "Too short"),
    ("0086", "CN", "Too short"),
    ("+44 20", "CN", "Too short"),
    ("1380013800012345678", "CN", "Too long"),
    ("1" * 300, "CN", "Too long"),
    ("+86 1" + "2" * 20, "CN", "Too long"),
    ("+1 202 456 11119", "CN", "Too long"),
    ("12345678", "CN", "Not a valid number in CN"),  # right length, no such range
    ("1380013800", "CN", "Not a valid number in CN"),  # a mobile with a digit missing
    ("138001380001", "CN", "Not a valid number in CN"),  # a mobile with a digit too many
    ("+1 999 456 1111", "CN", "Not a valid number in US"),  # no area code 999
    ("1234567", "US", "Not a valid number in US"),
    ("13800138000", "US", "US"),  # a CN mobile typed on a US desk
    ("020 7946 0958", "US", "US"),  # a GB national number parsed as US
    ("030 123456", "GB", "Not a valid number in GB"),  # a DE national number parsed as GB
    ("+999 1234 5678", "CN", "Unknown country code"),
    ("+0 1234 5678", "CN", "Unknown country code"),
    ("13800138000", "ZZ", "Unknown country code"),  # no default region to fall back on
]


@pytest.mark.parametrize(("typed", "region", "words"), INVALID)
def test_invalid_numbers_raise_a_specific_message(typed, region, words):
    with pytest.raises(PhoneError) as info:
        phone.parse(typed, region)
    message = str(info.value)
    assert words in message
    assert message.endswith(".")
    assert phone.try_normalise(typed, region) is None


def test_phone_error_is_a_value_error():
    assert issubclass(PhoneError, ValueError)


def test_wrong_region_message_points_to_the_country_code():
    """A GB number typed without +44 on a US desk: say it is not a US number, hint at +."""
    with pytest.raises(PhoneError) as info:
        phone.parse("020 7946 0958", "US")
    message = str(info.value)
    assert "US" in message
    assert "+" in message and "country code" in message


@pytest.mark.parametrize(
    ("e164", "national", "international"),
    [
        ("+8613800138000", "138 0013 8000", "+86 138 0013 8000"),
        ("+861065529988", "010 6552 9988", "+86 10 6552 9988"),
        ("+12024561111", "(202) 456-1111", "+1 202-456-1111"),
        ("+442079460958", "020 7946 0958", "+44 20 7946 0958"),
        ("+493012345678", "030 12345678", "+49 30 12345678"),
        ("+81312345678", "03-1234-5678", "+81 3-1234-5678"),
    ],
)
def test_national_and_international_formats(e164, national, international):
    assert phone.format_national(e164) == national
    assert phone.format_international(e164) == international
    parsed = phone.parse(e164)
    assert parsed.national() == national
    assert parsed.international() == international


@pytest.mark.parametrize(
    ("e164", "home", "shown"),
    [
        ("+8613800138000", "CN", "138 0013 8000"),
        ("+8613800138000", "cn", "138 0013 8000"),
        ("+8613800138000", "US", "+86 138 0013 8000"),
        ("+442079460958", "CN", "+44 20 7946 0958"),
        ("+442079460958", "GB", "020 7946 0958"),
        ("+12024561111", "US", "(202) 456-1111"),
        ("not a number", "CN", "not a number"),  # shown as stored rather than crashing
    ],
)
def test_display_is_national_at_home_and_international_abroad(e164, home, shown):
    assert phone.display(e164, home) == shown


@pytest.mark.parametrize(
    ("e164", "zone"),
    [
        ("+8613800138000", "Asia/Shanghai"),
        ("+861065529988", "Asia/Shanghai"),
        ("+12024561111", "America/New_York"),
        ("+442079460958", "Europe/London"),
        ("+81312345678", "Asia/Tokyo"),
    ],
)
def test_time_zones(e164, zone):
    zones = phone.time_zones(e164)
    assert isinstance(zones, tuple)
    assert zone in zones


# -- caller ids from phone systems (seat pop) -----------------------------------------------------


@pytest.mark.parametrize(
    ("given", "e164"),
    [
        ("sip:+8613800138000@pbx", "+8613800138000"),
        ("sips:+8613800138000@pbx.example;transport=tls", "+8613800138000"),
        ("SIP:13800138000@10.0.0.1", "+8613800138000"),
        ("sip:+8613800138000;user=phone@pbx", "+8613800138000"),
        ("tel:+86-138-0013-8000", "+8613800138000"),
        ("tel:+8613800138000;ext=99", "+8613800138000"),
        ('"Zhang San" <sip:13800138000@10.0.0.1>', "+8613800138000"),
        ("Zhang San <tel:+86 138 0013 8000>", "+8613800138000"),
        ("13800138000;ext=123", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("  13800138000  ", "+8613800138000"),
    ],
)
def test_caller_id_forms_give_the_number(given, e164):
    found = phone.caller_id(given)
    assert found is not None and phone.normalise(found, "CN") == e164


@pytest.mark.parametrize(
    "given",
    ["anonymous", "Anonymous", "ANONYMOUS", "unknown", "restricted", "withheld", "private", "",
     "   ", "sip:anonymous@anonymous.invalid", '"Anonymous" <sip:anonymous@anonymous.invalid>',
     "<sip:restricted@pbx>", '"Withheld"'],
)  # fmt: skip
def test_withheld_caller_ids_give_no_number(given):
    assert phone.caller_id(given) is None


def test_a_caller_id_that_is_not_a_number_is_left_for_the_parser_to_refuse():
    assert phone.caller_id("sip:alice@pbx") == "alice"
    with pytest.raises(PhoneError):
        phone.normalise("alice", "CN")


def _example_numbers() -> list[str]:
    """A valid example number of every region and number type phonenumbers knows."""
    import phonenumbers
    from phonenumbers import PhoneNumberFormat, PhoneNumberType

    out: set[str] = set()
    kinds = [getattr(PhoneNumberType, k) for k in dir(PhoneNumberType) if k.isupper()]
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in kinds:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None and phonenumbers.is_valid_number(number):
                out.add(phonenumbers.format_number(number, PhoneNumberFormat.E164))
    return sorted(out)


def test_stored_time_zones_agree_with_phonenumbers_for_every_valid_example():
    """The shortcut for one-zone countries gives exactly what the full lookup gives."""
    numbers = _example_numbers()
    assert len(numbers) > 900
    for e164 in numbers:
        assert phone.stored_time_zones(e164) == phone.time_zones(e164), e164

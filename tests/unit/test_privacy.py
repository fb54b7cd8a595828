"""Masking of phone numbers and addresses (seat.privacy): pure, parametrised."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seat.privacy import mask_address, mask_digits, mask_phone


@pytest.mark.parametrize(
    ("number", "region", "masked"),
    [
        ("+8613812341234", "CN", "138****1234"),  # mobile: first 3, last 4
        ("13812341234", "CN", "138****1234"),  # typed nationally
        ("+8602161234567", "CN", "021****4567"),  # Shanghai landline, national form
        ("+86 10 6552 9988", "CN", "010****9988"),
        ("+442079460958", "CN", "+44 207***0958"),  # foreign: country code kept
        ("+85291234567", "CN", "+852 9***4567"),  # Hong Kong, 8 digits
        ("+442079460958", "GB", "020****0958"),  # at a UK desk it is national
        ("+8613812341234", "GB", "+86 138****1234"),
        ("12345", "CN", "***45"),  # too short to be a number: still mostly hidden
        ("not a number", "CN", ""),
        ("", "CN", ""),
        (None, "CN", ""),
    ],
)
def test_mask_phone(number, region, masked):
    assert mask_phone(number, region) == masked


@pytest.mark.parametrize(
    ("digits", "masked"),
    [
        ("13812341234", "138****1234"),
        ("2079460958", "207***0958"),
        ("12345678", "1***5678"),
        ("1234567", "1***567"),
        ("1234", "***4"),  # at least three hidden (was "**34")
        ("1", "*"),
        ("", ""),
    ],
)
def test_mask_digits_always_hides_some(digits, masked):
    assert mask_digits(digits) == masked
    assert len(masked) == len(digits)


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("上海市浦东新区世纪大道88号", "上海市浦东新区****"),
        ("广东省深圳市南山区科技园南区 5 栋", "广东省深圳市南山区****"),
        ("浙江省杭州市西湖区文三路 90 号", "浙江省杭州市西湖区****"),
        ("北京市朝阳区", "****"),  # nothing beyond the district: all of it is hidden
        ("88 Nanjing Rd, Shanghai", "****, Shanghai"),
        ("Room 1203, 88 Century Ave, Pudong, Shanghai", "****, Pudong, Shanghai"),
        ("Room 1203\r\n88 Century Ave", "****"),  # streets and numbers never show
        ("Flat 2, 10 Downing St, London SW1A 2AA", "****"),
        ("somewhere", "****"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_address(address, masked):
    assert mask_address(address) == masked


# -- hostile input: never a crash, never the whole value -----------------------------------------

FUZZ = settings(max_examples=200, deadline=None, database=None)


@FUZZ
@given(text=st.text(max_size=60), region=st.sampled_from(["CN", "GB", "US", "ZZ"]))
def test_mask_phone_never_crashes(text, region):
    masked = mask_phone(text, region)
    assert isinstance(masked, str)


@FUZZ
@given(digits=st.text(alphabet="0123456789", min_size=5, max_size=20))
def test_mask_phone_hides_at_least_three_digits(digits):
    masked = mask_phone(digits, "CN")
    assert masked.count("*") >= 3
    assert digits not in masked


@FUZZ
@given(text=st.text(max_size=300))
def test_mask_address_never_crashes_and_always_masks(text):
    masked = mask_address(text)
    if text.strip():
        assert "****" in masked
        assert not any(ch.isdigit() for ch in masked.replace("****", ""))


def test_a_superscript_digit_in_a_district_is_not_shown():
    assert mask_address("上海市²区世纪大道") == "****"


@pytest.mark.parametrize(
    ("digits", "shown"),
    [
        ("1", "*"), ("12", "**"), ("123", "***"), ("1234", "***4"), ("12345", "***45"),
        ("123456", "***456"), ("1234567", "1***567"), ("13800138000", "138****8000"),
    ],
)  # fmt: skip
def test_mask_digits_hides_at_least_three_of_a_short_number(digits, shown):
    """Hypothesis found "0043000" shown as "+43 **0": a three-digit national number kept one
    digit, leaving two hidden."""
    assert mask_digits(digits) == shown


def test_an_international_number_with_three_national_digits_is_masked_whole():
    assert mask_phone("0043000", "CN") == "+43 ***"

"""protocol/numbers.py: strict parsing and the x87 long double emulation of INCRBYFLOAT.

The expected values were read from a real redis-server 7.0.15 on x86-64 with
`SET k <a>` then `INCRBYFLOAT k <b>`.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

from protocol.numbers import (
    add_long_doubles,
    format_long_double,
    parse_int,
    parse_long_double,
)

NOT_FLOAT = "ERR value is not a valid float"
NAN_INCR = "ERR increment would produce NaN or Infinity"


def incrbyfloat(current: str, incr: str) -> str:
    """What INCRBYFLOAT replies, from the three primitives the command uses."""
    a = parse_long_double(current.encode())
    b = parse_long_double(incr.encode())
    if a is None or b is None:
        return NOT_FLOAT
    total = add_long_doubles(a, b)
    if total is None:
        return NAN_INCR
    return format_long_double(total).decode()


REDIS_RESULTS = [
    ("10.5", "0.1", "10.6"),
    ("0.1", "0.2", "0.3"),
    ("3", "1.1", "4.1"),
    ("5004.1", "2.0e-17", "5004.10000000000000009"),
    ("0", "1e-4950", "0"),
    ("1", "-1.00000000000000000001", "0"),
    # An exact tie at the 17th decimal rounds to even, as glibc's printf does.
    ("0.000003814697265625", "0", "0.00000381469726562"),
    ("0.000003814697265635", "0", "0.00000381469726563"),
    ("-0.000000000000000015", "0", "-0.00000000000000002"),
    ("0.000000000000000025", "0", "0.00000000000000002"),
    ("-0.00000000000000000001", "0", "0"),
    # 64-bit significand: 2**64 + 1 is not representable.
    ("18446744073709551617", "0", "18446744073709551616"),
    ("36893488147419103233", "0", "36893488147419103232"),
    ("9223372036854775807", "1", "9223372036854775808"),
    ("-9223372036854775808", "-1", "-9223372036854775809"),
    ("1e20", "1", "100000000000000000000"),
    ("1e19", "1", "10000000000000000001"),
    ("0x1p3", "0", "8"),
    ("0X1P3", "0.5", "8.5"),
    ("-0x.8", "0", "-0.5"),
    ("+1.5", ".5", "2"),
    ("1.", "0", "1"),
    ("5e-1", "5E-1", "1"),
    ("-0", "-0", "0"),
    ("0.1", "-0.1", "0"),
    ("123456789.123456789", "0.000000001", "123456789.12345678999554366"),
    ("0x1p-16445", "0x1p-16445", "0"),
    ("3.6e-4951", "0", "0"),
    ("1.9e-4951", "0", "0"),
    ("2.5", "-2.5", "0"),
    ("1e-17", "0", "0.00000000000000001"),
    ("1e-18", "0", "0"),
    ("7.5e-18", "0", "0.00000000000000001"),
    ("-7.5e-18", "0", "-0.00000000000000001"),
    # Errors: what strtold refuses, and sums that are not finite.
    ("10", "abc", NOT_FLOAT),
    ("10", "nan", NOT_FLOAT),
    ("10", "-nan", NOT_FLOAT),
    ("10", " 1", NOT_FLOAT),
    ("10", "1 ", NOT_FLOAT),
    ("10", "", NOT_FLOAT),
    ("10", "1e", NOT_FLOAT),
    ("10", "0x", NOT_FLOAT),
    ("10", ".", NOT_FLOAT),
    ("10", "1_0", NOT_FLOAT),
    ("10", "1e5000", NOT_FLOAT),
    ("10", "-1e5000", NOT_FLOAT),
    ("10", "1e-5000", NOT_FLOAT),
    ("10", "1.8e-4951", NOT_FLOAT),
    ("0x1p-16445", "-0x1p-16446", NOT_FLOAT),
    ("1.18973149535723176508e+4932", "0", NOT_FLOAT),
    ("abc", "1", NOT_FLOAT),
    ("10", "inf", NAN_INCR),
    ("-inf", "inf", NAN_INCR),
    ("InFiNiTy", "0", NAN_INCR),
    ("0x1.fffffffffffffffep16383", "0x1p16319", NAN_INCR),
]


@pytest.mark.parametrize(("current", "incr", "expected"), REDIS_RESULTS)
def test_incrbyfloat_arithmetic_matches_redis(current: str, incr: str, expected: str) -> None:
    assert incrbyfloat(current, incr) == expected


@pytest.mark.parametrize(
    ("current", "incr", "length", "sha256"),
    [
        (
            "0x1.fffffffffffffffep16383",
            "0",
            4933,
            "39319dad6400899a3385cef1c62991c21106f7f12a7dea6f3849a857ad9131a6",
        ),
        (
            "1.18973149535723176502e+4932",
            "0",
            4933,
            "39319dad6400899a3385cef1c62991c21106f7f12a7dea6f3849a857ad9131a6",
        ),
        (
            "1e4931",
            "0",
            4932,
            "46b21ee182105649032b7a53e428575b942cc70683b8c6ef8392477eb3e11f81",
        ),
        (
            "-1e300",
            "1e283",
            301,
            "c56837da58ea38cb69ee42d3a4e81fc6190ec93b97f384415c65c473f281eea9",
        ),
    ],
)
def test_huge_results_print_every_digit_as_redis(
    current: str, incr: str, length: int, sha256: str
) -> None:
    text = incrbyfloat(current, incr).encode()
    assert len(text) == length
    assert hashlib.sha256(text).hexdigest() == sha256


def test_input_of_5120_bytes_or_more_is_refused() -> None:
    assert parse_long_double(b"1" * 4000 + b"." + b"0" * 1118) is not None
    assert parse_long_double(b"1" * 4000 + b"." + b"0" * 1119) is None


def test_absurd_exponents_are_answered_without_building_huge_numbers() -> None:
    assert parse_long_double(b"1e999999999999999999") is None
    assert parse_long_double(b"1e-999999999999999999") is None
    assert parse_long_double(b"0e999999999999999999") == 0
    assert parse_long_double(b"0x1p99999999999999") is None
    assert parse_long_double(b"0x0p99999999999999") == 0


def test_values_are_rounded_to_64_significant_bits() -> None:
    one_plus_half_ulp = Fraction(1) + Fraction(1, 2**64)
    assert parse_long_double(b"0x1.00000000000000008p0") == 1  # tie, to even
    assert parse_long_double(b"0x1.00000000000000018p0") == Fraction(1) + Fraction(1, 2**63)
    assert add_long_doubles(Fraction(1), one_plus_half_ulp - 1) == 1


@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_doubles_survive_the_long_double_round_trip(value: float) -> None:
    # Every double is exactly a long double, and %.17f of it is what Python prints.
    parsed = parse_long_double(value.hex().encode())
    assert parsed == Fraction(value)
    assert isinstance(parsed, Fraction)
    expected = f"{value:.17f}".rstrip("0").rstrip(".")
    if expected in ("-0", ""):
        expected = "0"
    assert format_long_double(parsed).decode() == expected


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"0", 0),
        (b"-1", -1),
        (b"9223372036854775807", 2**63 - 1),
        (b"-9223372036854775808", -(2**63)),
        (bytearray(b"12"), 12),
    ],
)
def test_parse_int_accepts_what_string2ll_accepts(raw: bytes, value: int) -> None:
    assert parse_int(raw) == value


@pytest.mark.parametrize(
    "raw",
    [b"", b"-", b"-0", b"01", b"+1", b" 1", b"1 ", b"1.0", b"9223372036854775808", b"1e3"],
)
def test_parse_int_refuses_what_string2ll_refuses(raw: bytes) -> None:
    assert parse_int(raw) is None

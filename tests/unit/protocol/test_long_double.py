"""protocol.numbers' long double against a real redis-server 7.0.15 (HINCRBYFLOAT)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from protocol.numbers import (
    add_long_doubles,
    format_long_double,
    parse_long_double,
)


def incr(stored: bytes, increment: bytes) -> bytes | None:
    a, b = parse_long_double(stored), parse_long_double(increment)
    assert a is not None
    assert b is not None
    total = add_long_doubles(a, b)
    return None if total is None else format_long_double(total)


@pytest.mark.parametrize(
    ("stored", "increment", "expected"),
    [
        (b"1", b"0.1", b"1.1"),
        (b"10.5", b"0.1", b"10.6"),
        (b"0.1", b"0.2", b"0.3"),
        (b"5.0e3", b"2.0e2", b"5200"),
        (b"1.5", b"-1.5", b"0"),
        (b"0", b"3.0e-18", b"0"),
        (b"0", b"0x10", b"16"),
        (b"0", b"0X1.8P1", b"3"),
        (b"-4989.9", b"0.75", b"-4989.14999999999999991"),
        # Printing rounds the exact binary value half to even at the 17th decimal.
        (b"0", b"0.000003814697265625", b"0.00000381469726562"),
        (b"0", b"0.000011444091796875", b"0.00001144409179688"),
        (b"0", b"-0.000003814697265625", b"-0.00000381469726562"),
        # 64 bits of mantissa keep what a double would lose.
        (b"0", b"1.00000000000000005", b"1.00000000000000005"),
        (b"9223372036854775807", b"1", b"9223372036854775808"),
        (b"0", b"-0.000000000000000001", b"0"),
        (b"0", b"1.9e-4951", b"0"),
        (
            b"0",
            b"1e100",
            b"99999999999999999996693535322073426194986990198284960792713915417520186694826443"
            b"24418977840117055488",
        ),
    ],
)
def test_incr_matches_redis(stored: bytes, increment: bytes, expected: bytes) -> None:
    assert incr(stored, increment) == expected


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b" 1",
        b"1 ",
        b"abc",
        b"nan",
        b"NaN",
        b"1e",
        b"0x",
        b".",
        b"e5",
        b"1e5000",
        b"-1e5000",
        b"1e-5000",
        b"1e-4951",
        b"1.8e-4951",
        b"0x1p-16446",
        b"1" * 5120,
        b"1\x00",
    ],
)
def test_parse_refuses_what_string2ld_refuses(raw: bytes) -> None:
    assert parse_long_double(raw) is None


def test_parse_accepts_infinities_and_exact_zeros() -> None:
    assert parse_long_double(b"inf") == math.inf
    assert parse_long_double(b"-Infinity") == -math.inf
    assert parse_long_double(b"0e-9999") == 0
    assert parse_long_double(b"-0") == 0
    assert parse_long_double(b"0x1.8p-16446") == Fraction(1, 2**16445)


def test_sum_past_the_largest_value_is_refused() -> None:
    huge = parse_long_double(b"1e4932")
    assert huge is not None
    assert add_long_doubles(huge, huge) is None
    assert add_long_doubles(math.inf, -math.inf) is None


def test_very_long_numbers_round_trip_past_pythons_digit_limit() -> None:
    value = parse_long_double(b"1" + b"0" * 4500)
    assert value is not None
    assert isinstance(value, Fraction)
    text = format_long_double(value)
    # The nearest long double to 10**4500 is a little below it (checked on redis-server).
    assert len(text) == 4500
    assert text.startswith(b"99999999999999999999559257859368080186337701511989")
    assert text.endswith(b"57398034325539127296")

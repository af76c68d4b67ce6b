"""protocol.numbers: Redis's float parsing edges (string2d's ERANGE rule, bare strtod ranges).

Expected values were checked against a real redis-server 7.0.15 (ZADD for string2d, ZCOUNT
for the strtod read of score ranges).
"""

from __future__ import annotations

import math

import pytest

from protocol.numbers import parse_float, parse_strtod


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"1", 1.0),
        (b"007", 7.0),
        (b"1.5", 1.5),
        (b"-inf", -math.inf),
        (b"+Infinity", math.inf),
        (b"0x10", 16.0),
        (b"4e-320", 4e-320),  # a denormal is accepted
        (b"0e-400", 0.0),  # zero is not an underflow
        (b"1e400", None),  # overflow (ERANGE, HUGE_VAL)
        (b"-1e400", None),
        (b"1e-400", None),  # underflow to zero (ERANGE, FP_ZERO)
        (b"0x1p99999", None),
        (b"0x1p-99999", None),
        (b"nan", None),
        (b" 1", None),
        (b"1 ", None),
        (b"", None),
        (b"1_0", None),
        (b"12345678901234567890", 12345678901234567890.0),
    ],
)
def test_parse_float_follows_string2d(raw: bytes, expected: float | None) -> None:
    assert parse_float(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", 0.0),
        (b" 5", 5.0),
        (b"5 ", None),
        (b" ", None),
        (b"5\x00junk", 5.0),
        (b"1e400", math.inf),
        (b"x", None),
    ],
)
def test_parse_strtod_reads_a_c_string_like_strtod(raw: bytes, expected: float | None) -> None:
    assert parse_strtod(raw) == expected


def test_parse_strtod_returns_nan_for_callers_to_refuse() -> None:
    value = parse_strtod(b"-nan")
    assert value is not None
    assert math.isnan(value)

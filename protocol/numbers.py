"""Strict number parsing and Redis-style number formatting. No I/O, no server imports.

Python's int() and float() accept far more than Redis does ("1_000", " 12", "+5", "nan"), so
client input goes through these functions instead. Each returns None on bad input; callers
turn that into the error text their protocol uses.
"""

from __future__ import annotations

import math
import re

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_INT = re.compile(rb"-?[1-9][0-9]*|0")
# strtod accepts these forms; Redis then rejects NaN and, for most callers, leading spaces.
_FLOAT = re.compile(
    rb"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity)",
    re.IGNORECASE,
)
_INF = re.compile(rb"[+-]?(?:inf|infinity)", re.IGNORECASE)
_NAN = re.compile(rb"[+-]?nan(?:\([0-9A-Za-z_]*\))?", re.IGNORECASE)
_HEX_FLOAT = re.compile(
    rb"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?"
)


def parse_int(raw: bytes) -> int | None:
    """Parse like Redis's string2ll: optional '-', no leading zeros or spaces, fits int64.

    Args:
        raw: the client's bytes.

    Returns:
        The value, or None when Redis would reject it.
    """
    if len(raw) > 20 or not _INT.fullmatch(raw):
        return None
    value = int(raw)
    if value < INT64_MIN or value > INT64_MAX:
        return None
    return value


def parse_uint64(raw: bytes) -> int | None:
    """Parse an unsigned 64-bit decimal as memcached's safe_strtoull does (digits only)."""
    if not raw or len(raw) > 20 or not raw.isdigit():
        return None
    value = int(raw)
    return value if value < 2**64 else None


def parse_float(raw: bytes) -> float | None:
    """Parse like Redis's string2d / getDoubleFromObject: strtod, whole string, no NaN.

    Accepts what strtod accepts (decimal, exponent, hex floats, inf, infinity) with no
    leading or trailing space.

    Returns:
        The value, or None when Redis would answer "value is not a valid float".
    """
    if raw.isdigit() and len(raw) < 16:  # plain integers (most scores): exact, no regex
        return float(raw)
    if not raw or len(raw) > 5120 or raw[0] in b" \t\n\r\v\f" or raw[-1] in b" \t\n\r\v\f":
        return None
    value = _strtod(raw)
    if value is None or math.isnan(value):
        return None
    # string2d also refuses what strtod flags ERANGE: overflow to +-inf, underflow to 0.
    if math.isinf(value) and not _INF.fullmatch(raw):
        return None
    if value == 0.0 and _nonzero_mantissa(raw):
        return None
    return value


def parse_strtod(raw: bytes) -> float | None:
    """Parse like a bare C strtod over the whole argument, as Redis's score ranges do.

    Unlike `parse_float`: leading whitespace is skipped, the empty string is 0, the
    argument ends at its first NUL byte (it is read as a C string), and overflow gives
    +-inf instead of an error.

    Returns:
        The value (NaN included; callers reject it), or None if strtod would stop early.
    """
    nul = raw.find(b"\0")
    if nul >= 0:
        raw = raw[:nul]
    if not raw:
        return 0.0
    stripped = raw.lstrip(b" \t\n\r\v\f")
    if not stripped or stripped[-1] in b" \t\n\r\v\f":
        return None
    if _NAN.fullmatch(stripped):
        return math.nan
    return _strtod(stripped)


def _nonzero_mantissa(raw: bytes) -> bool:
    """The digits before the exponent are not all zero (so a 0 result means underflow)."""
    body = raw.lstrip(b"+-").lower()
    if body.startswith(b"0x"):
        mantissa = body[2:].split(b"p", 1)[0]
        return mantissa.strip(b"0.") != b""
    if body.startswith(b"inf"):
        return True
    return body.split(b"e", 1)[0].strip(b"0.") != b""


def _strtod(raw: bytes) -> float | None:
    if _FLOAT.fullmatch(raw):
        return float(raw)
    if _HEX_FLOAT.fullmatch(raw):
        return _parse_hex_float(raw)
    return None


def _parse_hex_float(raw: bytes) -> float:
    text = raw.decode("ascii")
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("+-")
    if "p" not in body.lower():
        body += "p0"
    try:
        return sign * float.fromhex(body)
    except OverflowError:
        return sign * math.inf


def format_double(value: float) -> bytes:
    """Format a double as Redis 7.0 replies with it: %.17g, and inf / -inf.

    ZSCORE of 2 is b"2", of 1.1 is b"1.1000000000000001".
    """
    if math.isinf(value):
        return b"inf" if value > 0 else b"-inf"
    return b"%.17g" % value

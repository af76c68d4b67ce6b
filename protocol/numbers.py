"""Strict number parsing and Redis-style number formatting. No I/O, no server imports.

Python's int() and float() accept far more than Redis does ("1_000", " 12", "+5", "nan"), so
client input goes through these functions instead. Each returns None on bad input; callers
turn that into the error text their protocol uses.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction

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


def parse_int(raw: bytes | bytearray) -> int | None:
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


# --- long double (INCRBYFLOAT, HINCRBYFLOAT) ---
#
# Strategy: Redis parses these operands with strtold, adds them as x87 80-bit long doubles
# (64-bit significand, 15-bit exponent, subnormals) and prints the sum with "%.17Lf" before
# stripping trailing zeros (ld2string's LD_STR_HUMAN). A Python float has only 53 bits, so
# "10.5" + "0.1" would print 10.59999999999999964 instead of Redis's 10.6. We keep each finite
# value as an exact Fraction that is always representable as a long double: parsing and
# adding compute the exact rational result, then round it to 64 significant bits, half to
# even, exactly as the FPU does. Infinities are the floats inf and -inf.

LongDouble = Fraction | float

_LD_DIGITS = 64  # significand bits, integer bit included
_LD_MIN_QUANTUM_EXP = -16445  # exponent of the smallest subnormal, 2**-16445
_LD_OVERFLOW = Fraction(2**16384)  # first magnitude that rounds to infinity
_LD_MAX_CHARS = 5 * 1024  # MAX_LONG_DOUBLE_CHARS: string2ld refuses longer input
# Beyond these decimal exponents a nonzero input surely overflows or underflows to zero.
_LD_DEC_EXP_MAX = 4933
_LD_DEC_EXP_MIN = -4952
_ZERO = Fraction(0)
LONG_DOUBLE_ZERO = _ZERO  # what a missing key counts as


def _round_long_double(value: Fraction) -> LongDouble:
    """Round an exact rational to the nearest x87 long double (ties to even)."""
    if not value:
        return _ZERO
    negative = value < 0
    magnitude = -value if negative else value
    num, den = magnitude.numerator, magnitude.denominator
    exp = num.bit_length() - den.bit_length()  # floor(log2) is exp or exp - 1
    if (num << max(-exp, 0)) < (den << max(exp, 0)):
        exp -= 1
    quantum = max(exp - (_LD_DIGITS - 1), _LD_MIN_QUANTUM_EXP)
    if quantum >= 0:
        den <<= quantum
    else:
        num <<= -quantum
    mant, rest = divmod(num, den)
    if rest * 2 > den or (rest * 2 == den and mant & 1):
        mant += 1
    if not mant:
        return _ZERO
    rounded = Fraction(mant << quantum) if quantum >= 0 else Fraction(mant, 1 << -quantum)
    if rounded >= _LD_OVERFLOW:
        return -math.inf if negative else math.inf
    return -rounded if negative else rounded


def parse_long_double(raw: bytes | bytearray) -> LongDouble | None:
    """Parse like Redis's string2ld: strtold on the whole string, as an x87 long double.

    Accepts decimal and hexadecimal floats, "inf" and "infinity" (any case, signed). Refuses
    leading or trailing space, NaN, values that overflow, and nonzero values that underflow to
    zero (strtold's ERANGE), and strings of 5120 bytes or more.

    Args:
        raw: the bytes to parse.

    Returns:
        The value (a Fraction, or the float inf / -inf), or None when Redis would answer
        "value is not a valid float".
    """
    if not raw or len(raw) >= _LD_MAX_CHARS or raw[0] in b" \t\n\r\v\f":
        return None
    if _FLOAT.fullmatch(raw):
        text = raw.decode("ascii")
        if text.lstrip("+-")[:1].lower() == "i":
            return -math.inf if text[0] == "-" else math.inf
        exact = Decimal(text)
        if not exact:
            return _ZERO
        adjusted = exact.adjusted()
        if adjusted > _LD_DEC_EXP_MAX or adjusted < _LD_DEC_EXP_MIN:
            return None
        value = _round_long_double(Fraction(exact))
    elif _HEX_FLOAT.fullmatch(raw):
        hex_value = _exact_hex(raw.decode("ascii"))
        if hex_value is None:
            return None
        if not hex_value:
            return _ZERO
        value = _round_long_double(hex_value)
    else:
        return None
    if not value or isinstance(value, float):
        return None  # underflow to zero, or overflow: strtold's ERANGE
    return value


def _exact_hex(text: str) -> Fraction | None:
    """The exact value of a C hex float; None when its exponent is absurdly large."""
    negative = text.startswith("-")
    body = text.lstrip("+-")[2:].lower()
    mantissa, _, exp_text = body.partition("p")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0") or "0"
    mant = int(digits, 16)
    if not mant:
        return _ZERO
    exp_sign = -1 if exp_text.startswith("-") else 1
    exp_digits = exp_text.lstrip("+-").lstrip("0") or "0"
    if len(exp_digits) > 7:
        return None
    exp2 = exp_sign * int(exp_digits) - 4 * len(frac)
    top = mant.bit_length() + exp2
    if top > 16400 or top < -16500:
        return None
    value = Fraction(mant << exp2) if exp2 >= 0 else Fraction(mant, 1 << -exp2)
    return -value if negative else value


def add_long_doubles(a: LongDouble, b: LongDouble) -> Fraction | None:
    """a + b rounded as the x87 FPU does; None when the sum is NaN or infinite."""
    if isinstance(a, float) or isinstance(b, float):
        return None  # an infinite operand gives an infinite or NaN sum
    total = _round_long_double(a + b)
    return None if isinstance(total, float) else total


def format_long_double(value: Fraction) -> bytes:
    """Format a finite long double as Redis's ld2string(LD_STR_HUMAN) does.

    That is "%.17Lf" (exact decimal expansion, rounded half to even at 17 decimals), then
    trailing zeros and a trailing '.' removed, and "-0" written "0".

    Args:
        value: a finite value from `parse_long_double` or `add_long_doubles`.

    Returns:
        The text, e.g. b"10.6", b"3", b"0.00000000000000001".
    """
    negative = value < 0
    scaled = round((-value if negative else value) * 10**17)
    digits = _int_digits(scaled).rjust(18, "0")
    text = digits[:-17] + "." + digits[-17:]
    text = text.rstrip("0").rstrip(".")
    if negative and text != "0":
        text = "-" + text
    return text.encode("ascii")


def _int_digits(number: int) -> str:
    """str(number) for a non-negative int of any size (str() refuses over 4300 digits)."""
    if number < 10**4000:
        return str(number)
    high, low = divmod(number, 10**2000)
    return _int_digits(high) + str(low).rjust(2000, "0")

"""Exact emulation of the x87 80-bit `long double` that Redis uses for INCRBYFLOAT and
HINCRBYFLOAT. No I/O, no server imports.

Redis parses both operands with strtold, adds them in long double and prints the sum with
"%.17Lf" before trimming trailing zeros (util.c string2ld / ld2string). A Python float has
53 bits of mantissa where the x87 format has 64, so replies differ from Redis unless the
arithmetic is redone at that precision. Values are held as exact `Fraction`s that are always
representable in the 80-bit format; infinities are the floats `inf` / `-inf`.

Strategy: every operation computes the exact rational result, then rounds it once to the
nearest representable value (64-bit significand, ties to even, gradual underflow), which is
what a correctly rounded strtold and the x87 FADD both do.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Final

LongDouble = Fraction | float  # a finite value as Fraction, or +-inf as float

_MANTISSA_BITS: Final = 64
_MIN_EXP: Final = -16445  # exponent of the smallest subnormal, 2**-16445
_MAX_EXP: Final = 16383 - (_MANTISSA_BITS - 1)  # largest exponent of a 64-bit significand
_MAX_CHARS: Final = 5 * 1024  # MAX_LONG_DOUBLE_CHARS: string2ld refuses longer input

# Python refuses int <-> decimal text conversions past 4300 digits; longer ones go in chunks.
_CHUNK_DIGITS: Final = 4000
_CHUNK: Final = 10**_CHUNK_DIGITS

_DECIMAL = re.compile(rb"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?")
_HEX = re.compile(rb"([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?")
_INF = re.compile(rb"([+-]?)(?:inf|infinity)", re.IGNORECASE)


def _round_to_extended(value: Fraction) -> LongDouble:
    """Round an exact rational to the nearest 80-bit long double (ties to even)."""
    if value == 0:
        return Fraction(0)
    negative = value < 0
    num, den = abs(value.numerator), value.denominator
    # floor(log2(value)), from the bit lengths, corrected by one when needed.
    k = num.bit_length() - den.bit_length()
    if (num < den << k) if k >= 0 else (num << -k < den):
        k -= 1
    exp = max(k - (_MANTISSA_BITS - 1), _MIN_EXP)
    if exp >= 0:
        q, r = divmod(num, den << exp)
        twice_r, divisor = r << 1, den << exp
    else:
        q, r = divmod(num << -exp, den)
        twice_r, divisor = r << 1, den
    if twice_r > divisor or (twice_r == divisor and q & 1):
        q += 1
        if q == 1 << _MANTISSA_BITS:
            q >>= 1
            exp += 1
    if exp > _MAX_EXP:
        return -math.inf if negative else math.inf
    result = Fraction(q << exp) if exp >= 0 else Fraction(q, 1 << -exp)
    return -result if negative else result


def parse_long_double(raw: bytes) -> LongDouble | None:
    """Parse like Redis's string2ld: strtold over the whole string, no spaces, no NaN.

    Accepts decimal and hexadecimal floats and inf / infinity. A result that overflows, or
    that underflows to zero from a non-zero input, is refused as strtold's ERANGE makes
    Redis refuse it.

    Args:
        raw: the client's bytes.

    Returns:
        The value (Fraction, or +-inf as a float), or None when Redis would reject it.
    """
    if not raw or len(raw) >= _MAX_CHARS:
        return None
    m = _DECIMAL.fullmatch(raw)
    if m is not None:
        sign, whole, frac, exp_text = m.groups()
        frac = frac or b""
        if not whole and not frac:
            return None
        digits = (whole + frac).lstrip(b"0")
        if not digits:
            return Fraction(0)
        exp10 = (int(exp_text) if exp_text else 0) - len(frac)
        # Decide far-out exponents without building huge powers of ten.
        magnitude = exp10 + len(digits)  # value < 10**magnitude, >= 10**(magnitude-1)
        if magnitude > 4935:
            return None  # overflows to HUGE_VALL
        if magnitude < -4955:
            return None  # underflows to zero
        exact = Fraction(_decimal_to_int(digits)) * (Fraction(10) ** exp10)
        return _finish(exact, sign)
    m = _HEX.fullmatch(raw)
    if m is not None:
        sign, whole, frac, exp_text = m.groups()
        frac = frac or b""
        if not whole and not frac:
            return None
        digits = (whole + frac).lstrip(b"0")
        if not digits:
            return Fraction(0)
        exp2 = (int(exp_text) if exp_text else 0) - 4 * len(frac)
        bits = exp2 + 4 * len(digits)
        if bits > 16400:
            return None
        if bits < -16500:
            return None
        exact = Fraction(int(digits, 16)) * (Fraction(2) ** exp2)
        return _finish(exact, sign)
    m = _INF.fullmatch(raw)
    if m is not None:
        return -math.inf if m.group(1) == b"-" else math.inf
    return None


def _decimal_to_int(digits: bytes) -> int:
    if len(digits) <= _CHUNK_DIGITS:
        return int(digits)
    return _decimal_to_int(digits[:-_CHUNK_DIGITS]) * _CHUNK + int(digits[-_CHUNK_DIGITS:])


def _int_to_decimal(value: int) -> bytes:
    if value < _CHUNK:
        return b"%d" % value
    high, low = divmod(value, _CHUNK)
    return _int_to_decimal(high) + b"%0*d" % (_CHUNK_DIGITS, low)


def _finish(exact: Fraction, sign: bytes) -> LongDouble | None:
    value = _round_to_extended(exact)
    if isinstance(value, float) or value == 0:
        return None  # ERANGE: overflow to HUGE_VALL or underflow to zero
    return -value if sign == b"-" else value


def add_long_double(a: LongDouble, b: LongDouble) -> LongDouble | None:
    """a + b rounded to long double; None when the sum is NaN (inf + -inf)."""
    if isinstance(a, float):
        if isinstance(b, float) and a != b:
            return None  # inf + -inf
        return a
    if isinstance(b, float):
        return b
    return _round_to_extended(a + b)


def is_finite(value: LongDouble) -> bool:
    return not isinstance(value, float)


def format_long_double_human(value: LongDouble) -> bytes:
    """ld2string(..., LD_STR_HUMAN): "%.17Lf" with trailing zeros and point removed.

    "-0" becomes "0"; infinities are "inf" / "-inf".
    """
    if isinstance(value, float):
        return b"inf" if value > 0 else b"-inf"
    negative = value < 0
    # printf rounds the exact binary value to 17 decimals, ties to even.
    scaled = round(abs(value) * 10**17)
    whole, frac = divmod(scaled, 10**17)
    text = _int_to_decimal(whole)
    frac_text = (b"%017d" % frac).rstrip(b"0")
    if frac_text:
        text += b"." + frac_text
    if negative and text != b"0":
        text = b"-" + text
    return text

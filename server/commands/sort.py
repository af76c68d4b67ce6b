"""SORT and SORT_RO (Redis's sort.c): sort a list, set or sorted set, optionally by weights
read from other keys, fetching other keys, storing the result as a list.

Strategy (order): Redis's order exactly.

* Numeric: each weight is read as strtod reads it (the whole string, leading spaces allowed,
  hex and infinities accepted, an empty string is 0, NaN and out-of-range values are errors).
  Equal weights are ordered by the elements' bytes, so the result is total.
* ALPHA: byte order. Without STORE Redis compares with strcoll, which in the C and C.UTF-8
  locales is byte order up to the first NUL byte; with STORE it compares whole strings.
* BY with a weight missing: 0 for numeric sorts, before everything for ALPHA.
* Ties left after that (ALPHA BY with equal weights) keep the input order, as glibc's merge
  sort does; DESC reverses the comparison, not the result, so ties keep it too.
* `BY <pattern without '*'>` means no sorting: lists and sorted sets keep their order (DESC
  walks it backwards, LIMIT slices it); a set is then sorted ALPHA anyway when the result is
  stored, so the stored list is the same on every replica.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from itertools import islice
from typing import Any, Final

from server.commands.args import int_arg
from server.commands.keys import lookup_read, no_keys
from server.commands.table import Flag, Reply, command
from server.context import CommandContext
from server.errors import ERR_SORT_SCORE, ERR_SYNTAX, CommandError
from storage.errors import WrongTypeError
from storage.hashes import HashValue
from storage.lists import ListValue
from storage.sets import SetValue
from storage.values import is_string
from storage.zset import ZSet

_DBL_MIN: Final = 2.2250738585072014e-308  # smallest normal double
_SPACES: Final = b" \t\n\v\f\r"
_DECIMAL: Final = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX: Final = re.compile(rb"([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?")
_INFINITY: Final = re.compile(rb"[+-]?(?:inf|infinity)", re.IGNORECASE)


# --- weights ---


def _c_string(value: bytes) -> bytes:
    """`value` up to its first NUL byte, as C string functions see it."""
    end = value.find(0)
    return value if end < 0 else value[:end]


def strtod_weight(raw: bytes | bytearray) -> float | None:
    """A SORT weight as `strtod` reads it, or None where Redis reports a conversion error.

    The whole C string must be consumed (leading spaces allowed); an empty string is 0;
    NaN is refused; overflow, and underflow that loses precision, set ERANGE and are refused.
    """
    text = _c_string(raw if type(raw) is bytes else bytes(raw))
    if not text:
        return 0.0
    body = text.lstrip(_SPACES)
    if _DECIMAL.fullmatch(body):
        value = float(body)
        if math.isinf(value):
            return None
        if abs(value) < _DBL_MIN:
            try:
                exact = Decimal(body.decode()) == Decimal(value)
            except InvalidOperation:
                exact = False
            if not exact:
                return None
        return value
    hex_match = _HEX.fullmatch(body)
    if hex_match is not None:
        return _hex_weight(body, hex_match)
    if _INFINITY.fullmatch(body):
        return -math.inf if body[:1] == b"-" else math.inf
    return None


def _hex_weight(body: bytes, m: re.Match[bytes]) -> float | None:
    sign, whole, fraction, exponent = m.group(1), m.group(2), m.group(3) or b"", m.group(4)
    if not whole and not fraction:
        return None  # "0x" or "0x.": strtod stops after the "0"
    try:
        value = float.fromhex(body.decode())
    except OverflowError:
        return None
    if abs(value) < _DBL_MIN:
        mantissa = int(whole + fraction, 16)
        if mantissa and value == 0.0:
            return None
        if mantissa:
            power = int(exponent or b"0") - 4 * len(fraction)
            exact = Fraction(mantissa) * Fraction(2) ** power
            if exact != abs(Fraction(value)):
                return None
    return -abs(value) if sign == b"-" else value


# --- patterns ---


class _Pattern:
    """A BY or GET pattern compiled once: `#`, `prefix*suffix` or `prefix*suffix->field`.

    Redis finds '#', '*' and '->' with C string functions (up to the first NUL) but copies
    prefix, suffix and field by length; so do we.
    """

    __slots__ = ("field", "is_self", "prefix", "suffix", "usable")

    def __init__(self, pattern: bytes) -> None:
        c_pattern = _c_string(pattern)
        self.is_self = c_pattern == b"#"
        star = c_pattern.find(b"*")
        self.usable = star >= 0
        self.field: bytes | None = None
        self.prefix = pattern[: max(star, 0)]
        suffix_end = len(pattern)
        arrow = c_pattern.find(b"->", star + 1) if star >= 0 else -1
        if arrow >= 0 and arrow + 2 < len(c_pattern):
            self.field = pattern[arrow + 2 :]
            suffix_end = arrow
        self.suffix = pattern[star + 1 : suffix_end]

    def lookup(self, ctx: CommandContext, element: bytes) -> bytes | bytearray | None:
        """The string the pattern names for `element`, or None (missing, wrong type)."""
        if self.is_self:
            return element
        if not self.usable:
            return None
        value = lookup_read(ctx, self.prefix + element + self.suffix)
        if value is None:
            return None
        if self.field is not None:
            if type(value) is not HashValue:
                return None
            result: bytes | None = value.get(self.field)
            return result
        if is_string(value):
            return value
        return None


# --- the command ---


def sort_keys(argv: Sequence[bytes]) -> list[int]:
    """sortGetKeys: the sorted key, and the last STORE destination."""
    store = -1
    i, n = 2, len(argv)
    while i < n:
        word = argv[i].lower()
        if word == b"limit":
            i += 2
        elif word in (b"get", b"by"):
            i += 1
        elif word == b"store" and i + 1 < n:
            store = i + 1
        i += 1
    return [1] if store < 0 else [1, store]


def sort_ro_keys(argv: Sequence[bytes]) -> list[int]:
    return [1]


def _sort(ctx: CommandContext, argv: list[bytes], readonly: bool) -> Reply:
    desc = alpha = dontsort = False
    limit_start, limit_count = 0, -1
    store: bytes | None = None
    by: bytes | None = None
    gets: list[_Pattern] = []
    j, n = 2, len(argv)
    while j < n:
        option = argv[j].upper()
        left = n - j - 1
        if option == b"ASC":
            desc = False
        elif option == b"DESC":
            desc = True
        elif option == b"ALPHA":
            alpha = True
        elif option == b"LIMIT" and left >= 2:
            limit_start = int_arg(argv[j + 1])
            limit_count = int_arg(argv[j + 2])
            j += 2
        elif option == b"STORE" and left >= 1 and not readonly:
            store = argv[j + 1]
            j += 1
        elif option == b"BY" and left >= 1:
            by = argv[j + 1]
            # A constant pattern means "do not sort"; a later BY does not undo it (sort.c).
            if b"*" not in _c_string(by):
                dontsort = True
            j += 1
        elif option == b"GET" and left >= 1:
            gets.append(_Pattern(argv[j + 1]))
            j += 1
        else:
            raise CommandError(ERR_SYNTAX)
        j += 1

    source = lookup_read(ctx, argv[1])
    kind = type(source)
    if source is not None and kind is not ListValue and kind is not SetValue and kind is not ZSet:
        raise WrongTypeError()
    if dontsort and kind is SetValue and store is not None:
        dontsort, alpha, by = False, True, None

    # LIMIT, clamped as sort.c does: start..end inclusive, empty when end < start.
    size = 0 if source is None else len(source)
    start = min(max(limit_start, 0), size)
    limit_count = min(max(limit_count, -1), size)
    end = size - 1 if limit_count < 0 else start + limit_count - 1
    if start >= size:
        start, end = size - 1, size - 2
    end = min(end, size - 1)

    elements: list[bytes]
    if source is None or end < start:
        elements = []
    elif dontsort and kind is ListValue:
        ordered = reversed(source) if desc else iter(source)
        elements = list(islice(ordered, start, end + 1))
    elif dontsort and kind is ZSet:
        # Ranks start..end counted from the top with DESC, from the bottom otherwise.
        if desc:
            ranks = source.by_score.islice(size - 1 - end, size - start, reverse=True)
        else:
            ranks = source.by_score.islice(start, end + 1)
        elements = [member for _, member in ranks]
    else:
        elements = list(source.by_member) if kind is ZSet else list(source)
        if not dontsort:
            elements = _sorted(ctx, elements, desc, alpha, by, store is not None)
        elements = elements[start : end + 1]

    if store is None:
        if not gets:
            return elements
        return [pattern.lookup(ctx, element) for element in elements for pattern in gets]
    return _store(ctx, store, elements, gets)


def _sorted(
    ctx: CommandContext,
    elements: list[bytes],
    desc: bool,
    alpha: bool,
    by: bytes | None,
    storing: bool,
) -> list[bytes]:
    weights: list[Any]
    pattern = _Pattern(by) if by is not None else None
    if alpha:
        if pattern is None:
            weights = elements if storing else [_c_string(e) for e in elements]
        else:
            weights = []
            for element in elements:
                weight = pattern.lookup(ctx, element)
                if weight is None:
                    weights.append((0, b""))  # a missing weight sorts first
                else:
                    weight = bytes(weight)
                    weights.append((1, weight if storing else _c_string(weight)))
    else:
        weights = []
        failed = False
        for element in elements:
            raw = element if pattern is None else pattern.lookup(ctx, element)
            score = 0.0 if raw is None else strtod_weight(raw)
            if score is None:
                failed = True
                score = 0.0
            weights.append((score, element))
        if failed:
            raise CommandError(ERR_SORT_SCORE)
    order = sorted(range(len(elements)), key=weights.__getitem__, reverse=desc)
    return [elements[i] for i in order]


def _store(ctx: CommandContext, key: bytes, elements: list[bytes], gets: list[_Pattern]) -> int:
    """STORE: the result becomes a list (without TTL); an empty result deletes the key."""
    if gets:
        result = ListValue()
        for element in elements:
            for pattern in gets:
                value = pattern.lookup(ctx, element)
                result.append(b"" if value is None else bytes(value))
    else:
        result = ListValue(elements)
    db = ctx.db
    if result:
        db.set(key, result)
        db.modified(key)
        ctx.notify("l", b"sortstore", key)
        ctx.dirty += len(result)
    elif db.peek(key) is not None:
        # dbDelete, not a lookup: a logically expired key is deleted as it is, reported as "del".
        db.persist(key)
        db.delete(key)
        db.modified(key)
        ctx.notify("g", b"del", key)
        ctx.dirty += 1
    return len(result)


_ACL: Final = ("set", "sortedset", "list", "dangerous")


@command(
    "SORT",
    arity=-2,
    flags=Flag.WRITE | Flag.DENYOOM,
    keys=(1, 1, 1),
    key_finder=sort_keys,
    write_keys=no_keys,
    acl=_ACL,
)
def sort_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]]
    [ASC | DESC] [ALPHA] [STORE destination]"""
    return _sort(ctx, argv, readonly=False)


@command(
    "SORT_RO",
    arity=-2,
    flags=Flag.READONLY,
    keys=(1, 1, 1),
    key_finder=sort_ro_keys,
    acl=_ACL,
    since="7.0.0",
)
def sort_ro_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]]
    [ASC | DESC] [ALPHA]"""
    return _sort(ctx, argv, readonly=True)

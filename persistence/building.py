"""Building stored values from loaded elements, and the encoding each one gets.

The one place where persistence constructs storage values (RDB load, RESTORE, the AOF's RDB
base) and decides `.big` from the `*-max-*` limits, so the storage families can change
their constructors without touching the readers. Storage only: no RESP, no config object.

Redis decides the encoding of a loaded value once, from its size (rdbLoadObject): a hash or
sorted set is a listpack while it has at most `*-max-listpack-entries` elements and none
longer than `*-max-listpack-value` bytes; a set is an intset while every member is a
canonical 64-bit integer and there are at most `set-max-intset-entries`. Lists are always
quicklists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sortedcontainers import SortedList

from persistence.codecs import RDBFormatError
from storage.hashes import HashValue
from storage.lists import ListValue
from storage.sets import SetValue
from storage.zset import ZSet

_INT64_MAX = 2**63 - 1
_INT64_MIN = -(2**63)


@dataclass(frozen=True, slots=True)
class EncodingLimits:
    """The `*-max-*` directives that decide a loaded value's encoding."""

    hash_max_entries: int = 128
    hash_max_value: int = 64
    set_max_intset_entries: int = 512
    zset_max_entries: int = 128
    zset_max_value: int = 64

    @classmethod
    def from_config(cls, read: Callable[[str], Any]) -> EncodingLimits:
        """Read the limits through `read(name)` (a Config's `get`: no server import here)."""
        return cls(
            hash_max_entries=int(read("hash-max-listpack-entries")),
            hash_max_value=int(read("hash-max-listpack-value")),
            set_max_intset_entries=int(read("set-max-intset-entries")),
            zset_max_entries=int(read("zset-max-listpack-entries")),
            zset_max_value=int(read("zset-max-listpack-value")),
        )


DEFAULT_LIMITS = EncodingLimits()


def make_list(items: Iterable[bytes]) -> ListValue:
    """A list holding `items` in order."""
    return ListValue(items)


def _is_intset_member(member: bytes) -> bool:
    """string2ll's rules: optional '-', no leading zeros, no '+', fits in int64."""
    n = len(member)
    if n == 0 or n > 20:
        return False
    if member.isdigit():
        if member[0] == 48:
            return n == 1
        return n < 19 or int(member) <= _INT64_MAX
    if member[0] != 45 or n == 1:
        return False
    body = member[1:]
    return body.isdigit() and body[0] != 48 and (n < 20 or int(member) >= _INT64_MIN)


def make_set(members: Sequence[bytes], limits: EncodingLimits) -> SetValue:
    """A set of `members`.

    Raises:
        RDBFormatError: a member appears twice (Redis: "Duplicate set members detected").
    """
    value = SetValue()
    value.update(members)
    if len(value) != len(members):
        raise RDBFormatError("duplicate set members")
    value.big = len(value) > limits.set_max_intset_entries or not all(map(_is_intset_member, value))
    return value


def make_hash(flat: Sequence[bytes], limits: EncodingLimits) -> HashValue:
    """A hash from field, value, field, value... in that order (a listpack keeps it).

    Raises:
        RDBFormatError: an odd count or a field given twice.
    """
    if len(flat) % 2:
        raise RDBFormatError("hash with an odd number of elements")
    value = HashValue()
    it = iter(flat)
    value.update(zip(it, it, strict=True))
    if len(value) * 2 != len(flat):
        raise RDBFormatError("duplicate hash fields")
    value.big = len(value) > limits.hash_max_entries or (
        max(map(len, flat)) > limits.hash_max_value if flat else False
    )
    return value


def make_zset(pairs: Sequence[tuple[bytes, float]], limits: EncodingLimits) -> ZSet:
    """A sorted set of (member, score) pairs.

    Raises:
        RDBFormatError: a NaN score or a member given twice.
    """
    value = ZSet()
    by_member = value.by_member
    by_member.update(pairs)
    if len(by_member) != len(pairs):
        raise RDBFormatError("duplicate sorted set members")
    for _member, score in pairs:
        if score != score:
            raise RDBFormatError("sorted set score is NaN")
    value.by_score = SortedList((score, member) for member, score in by_member.items())
    value.big = len(by_member) > limits.zset_max_entries or (
        max(map(len, by_member)) > limits.zset_max_value if by_member else False
    )
    return value

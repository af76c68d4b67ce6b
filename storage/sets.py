"""The set type: a Python set of bytes. Storage only: no replies, no RESP.

Encoding (OBJECT ENCODING): Redis 7.0 keeps a set as an intset while every member is a
64-bit integer in canonical form (string2ll's rules) and there are at most
`set-max-intset-entries` of them, and converts it to a hash table for good otherwise.
`SetValue.big` records that conversion. An intset is sorted, so a small set's members are
listed in ascending numeric order (`ordered_members`), as Redis lists them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from storage.values import register_type

INTSET_MAX_ENTRIES_CAP: Final = 1 << 30  # setTypeAdd never lets an intset grow past this
_INT64_MAX: Final = 2**63 - 1
_INT64_MIN: Final = -(2**63)


class SetValue(set[bytes]):
    """A Redis set. `big` becomes True once it can no longer be an intset (never shrinks back).
    `scans` holds SSCAN snapshots (see storage.scan)."""

    __slots__ = ("big", "scans")

    def __init__(self, members: Iterable[bytes] = ()) -> None:
        super().__init__(members)
        self.big = False
        self.scans: dict[int, list[bytes]] | None = None


def is_intset_member(member: bytes) -> bool:
    """Whether an intset can hold `member`: Redis's string2ll (no '+', no leading zeros, no
    spaces, "-0" refused, fits in int64)."""
    n = len(member)
    if n == 0 or n > 20:
        return False
    if member.isdigit():
        if member[0] == 48:  # '0'
            return n == 1
        return n < 19 or int(member) <= _INT64_MAX
    if member[0] != 45 or n == 1:  # '-'
        return False
    body = member[1:]
    return body.isdigit() and body[0] != 48 and (n < 20 or int(member) >= _INT64_MIN)


def intset_limit(max_entries: int) -> int:
    """set-max-intset-entries as setTypeAdd applies it."""
    return min(max_entries, INTSET_MAX_ENTRIES_CAP)


def fits_intset(members: Iterable[bytes], size: int, max_entries: int) -> bool:
    """Whether `size` members, all of `members`, can be an intset under `max_entries`."""
    return size <= intset_limit(max_entries) and all(map(is_intset_member, members))


def new_set(members: Iterable[bytes], max_entries: int) -> SetValue:
    """A set built by adding `members` one by one to an empty intset, as SINTERSTORE,
    SUNIONSTORE and SDIFFSTORE build theirs (RDB load and RESTORE decide the same way)."""
    value = SetValue(members)
    value.big = not fits_intset(value, len(value), max_entries)
    return value


def ordered_members(value: SetValue) -> list[bytes]:
    """The members in Redis's iteration order: ascending for an intset, else unspecified."""
    if value.big:
        return list(value)
    return sorted(value, key=int)


register_type(SetValue, b"set", lambda value: b"hashtable" if value.big else b"intset")

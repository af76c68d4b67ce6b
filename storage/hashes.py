"""The hash type: a dict of field -> value bytes. Storage only: no replies, no RESP.

Encoding (OBJECT ENCODING): Redis 7.0 keeps a hash as a listpack while it has at most
`hash-max-listpack-entries` fields and no field or value longer than
`hash-max-listpack-value` bytes, and converts it to a hash table for good once either limit
is passed. `HashValue.big` records that conversion. A dict keeps insertion order, with
updates in place and deletions closing the gap, which is exactly a listpack's order, so a
small hash replies in the order Redis does.
"""

from __future__ import annotations

from collections.abc import Iterable

from storage.values import register_type


class HashValue(dict[bytes, bytes]):
    """A Redis hash. `big` becomes True once it outgrows the listpack limits (it never shrinks
    back, as in Redis). `scans` holds HSCAN snapshots (see storage.scan)."""

    __slots__ = ("big", "scans")

    def __init__(self) -> None:
        super().__init__()
        self.big = False
        self.scans: dict[int, list[bytes]] | None = None

    def note_write(self, field: bytes, value: bytes, max_entries: int, max_value: int) -> None:
        """Convert to "hashtable" if writing `field` = `value` left the hash past a listpack
        limit (hashTypeSet). Callers test `big` first, so a big hash pays nothing."""
        if len(self) > max_entries or len(field) > max_value or len(value) > max_value:
            self.big = True

    def note_writes(self, written: Iterable[bytes], max_entries: int, max_value: int) -> None:
        """`note_write` for a command that wrote several pairs; `written` holds their fields
        and values (hashTypeTryConversion checks every argument)."""
        if len(self) > max_entries or max(map(len, written)) > max_value:
            self.big = True


def needs_hashtable(value: HashValue, max_entries: int, max_value: int) -> bool:
    """Whether a hash built in one go (RDB load, RESTORE, COPY) must be a hash table."""
    return len(value) > max_entries or any(
        len(f) > max_value or len(v) > max_value for f, v in value.items()
    )


register_type(HashValue, b"hash", lambda value: b"hashtable" if value.big else b"listpack")

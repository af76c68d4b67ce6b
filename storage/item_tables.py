"""Side tables for the per-item metadata of the memcached protocol, one set per database.

Storage only: no protocol here. A Redis string needs nothing beyond its value and deadline;
an item written or read over memcached may also carry client flags, a CAS token, an access
record and stampede-protection state. Each lives in its own dict, and a key has an entry in
a table only when it needs one (DESIGN.md: no wrapper object per key):

* `flags`: the 32-bit client flags, only when not zero.
* `cas`: the CAS token, only once one was handed out (gets, mg c, ms c...) or kept (an
  applied replication effect). Any change to the key removes it; the next read that needs a
  token takes a fresh one from the counter, larger than every token handed out before, so a
  client holding an old token always sees a mismatch.
* `access`: `last_access_s * 2 + fetched`, for memcached's hit-before and last-access flags;
  written by memcached reads and writes.
* `state`: STALE, TOKEN_SENT and KEY_BINARY bits of meta commands (invalidation, recache
  wins, binary keys).

`forget(key)` drops everything when the key changes through anything but memcached (the
keyspace's `on_modified` hook) or disappears.
"""

from __future__ import annotations

from typing import Final

STALE: Final = 1  # marked stale by md I / ms I; mg answers X
TOKEN_SENT: Final = 2  # a client already won the right to recache; mg answers Z
KEY_BINARY: Final = 4  # stored by ms with a base64 key: meta replies show the key encoded


class ItemTables:
    """Client flags, CAS tokens, access records and meta state of one database's items."""

    __slots__ = ("access", "cas", "flags", "state")

    def __init__(self) -> None:
        self.flags: dict[bytes, int] = {}
        self.cas: dict[bytes, int] = {}
        self.access: dict[bytes, int] = {}
        self.state: dict[bytes, int] = {}

    def forget(self, key: bytes) -> None:
        """Drop every entry of `key`."""
        if self.flags:
            self.flags.pop(key, None)
        if self.cas:
            self.cas.pop(key, None)
        if self.access:
            self.access.pop(key, None)
        if self.state:
            self.state.pop(key, None)

    def is_empty(self) -> bool:
        return not (self.flags or self.cas or self.access or self.state)

    def __len__(self) -> int:
        """How many keys have at least one entry."""
        return len(self.flags.keys() | self.cas.keys() | self.access.keys() | self.state.keys())

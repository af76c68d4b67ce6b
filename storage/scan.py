"""Cursor iteration over one big container (HSCAN, SSCAN; usable by ZSCAN). Storage only.

Redis walks the buckets of the container's hash table in reverse-binary order, so a cursor
is just a bucket index. A Python dict or set exposes no buckets, and an index into its
iteration order shifts whenever something before it is deleted, which would skip members.

Strategy: the first call of an iteration (cursor 0) takes a snapshot of the container's
members, an O(n) list of references, keeps it on the container under a fresh id, and hands
out cursors `id << 32 | position`. Later calls continue through the snapshot and return the
members still present. So every member present for the whole iteration is returned exactly
once, members added meanwhile may be missed, and members removed meanwhile are not
returned once gone: SCAN's guarantees. The snapshot is dropped when its iteration ends. A
container keeps at most `MAX_SNAPSHOTS` (the oldest goes first); a cursor whose snapshot is
gone (evicted, another process, a made-up number) starts a new snapshot from the beginning,
which may return members twice but never misses one.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count as _counter
from typing import Final, Protocol

MAX_SNAPSHOTS: Final = 4
_POSITION_BITS: Final = 32
_POSITION_MASK: Final = (1 << _POSITION_BITS) - 1
# How many vanished members one call may step over, per member asked for (Redis bounds a
# call's work at ten buckets per COUNT the same way).
_MAX_SKIP_FACTOR: Final = 10

_snapshot_ids = _counter(1)


class Scannable(Protocol):
    """A container that can hold scan snapshots (HashValue, SetValue)."""

    scans: dict[int, list[bytes]] | None

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[bytes]: ...

    def __contains__(self, item: object, /) -> bool: ...


def _new_snapshot_id() -> int:
    sid = next(_snapshot_ids) & _POSITION_MASK
    return sid or _new_snapshot_id()


def scan_members(container: Scannable, cursor: int, count: int) -> tuple[int, list[bytes]]:
    """One step of a cursor iteration over `container`'s members (fields of a hash).

    Args:
        container: a hash or set; its `scans` attribute holds the snapshots.
        cursor: 0 to start, else a cursor this function returned.
        count: how many members to look at (COUNT); at least 1.

    Returns:
        The next cursor (0 when the iteration is complete) and the members found.
    """
    if cursor == 0 and len(container) <= count:
        return 0, list(container)
    snapshots = container.scans
    if snapshots is None:
        snapshots = container.scans = {}
    sid = cursor >> _POSITION_BITS
    pos = cursor & _POSITION_MASK
    snapshot = snapshots.get(sid) if cursor else None
    if snapshot is None:
        sid, pos, snapshot = _new_snapshot_id(), 0, list(container)
        while len(snapshots) >= MAX_SNAPSHOTS:
            del snapshots[next(iter(snapshots))]
        snapshots[sid] = snapshot
    found: list[bytes] = []
    end = len(snapshot)
    budget = count * _MAX_SKIP_FACTOR
    while pos < end and len(found) < count and budget:
        member = snapshot[pos]
        pos += 1
        budget -= 1
        if member in container:
            found.append(member)
    if pos >= end:
        del snapshots[sid]
        if not snapshots:
            container.scans = None
        return 0, found
    return sid << _POSITION_BITS | pos, found

"""The sorted-set type: dict member -> score plus a SortedList of (score, member). Storage only."""

from __future__ import annotations

from sortedcontainers import SortedList

from storage.values import register_type


class ZSet:
    """A Redis sorted set. `big` becomes True once it outgrows the listpack limits."""

    __slots__ = ("big", "by_member", "by_score")

    def __init__(self) -> None:
        self.by_member: dict[bytes, float] = {}
        self.by_score: SortedList[tuple[float, bytes]] = SortedList()
        self.big = False

    def __len__(self) -> int:
        return len(self.by_member)


register_type(ZSet, b"zset", lambda value: b"skiplist" if value.big else b"listpack")

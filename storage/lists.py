"""The list type: a deque of bytes, and the index arithmetic Redis's list commands share.

Storage only: no replies, no RESP, no keyspace. Indexes follow Redis: 0 is the head, -1 the
tail, and ranges are inclusive at both ends. Elements compare as raw bytes, which is what
Redis's listpack comparison amounts to (an integer-encoded entry only equals the canonical
spelling of its number).
"""

from __future__ import annotations

from collections import deque
from itertools import islice

from storage.values import register_type


class ListValue(deque[bytes]):
    """A Redis list. Redis 7.0 reports every list as "quicklist"."""

    __slots__ = ()


register_type(ListValue, b"list", lambda value: b"quicklist")


def clamp_range(start: int, end: int, length: int) -> tuple[int, int] | None:
    """Resolve an inclusive [start, end] range the way LRANGE and LTRIM do.

    Args:
        start: first index, negative counts from the tail.
        end: last index, negative counts from the tail.
        length: the list's length.

    Returns:
        Non-negative (start, end) within the list, or None when the range is empty.
    """
    if start < 0:
        start += length
    if end < 0:
        end += length
    if start < 0:
        start = 0
    if start > end or start >= length:
        return None
    if end >= length:
        end = length - 1
    return start, end


def range_of(lst: ListValue, start: int, end: int) -> list[bytes]:
    """Elements start..end, walking from the nearer end of the list.

    Args:
        lst: the list.
        start: first index, as `clamp_range` returned it.
        end: last index, as `clamp_range` returned it.

    Returns:
        The elements, head to tail.
    """
    n = len(lst)
    if start == 0 and end == n - 1:
        return list(lst)
    if start > n - 1 - end:
        # Closer to the tail: walk backwards and flip, so LRANGE -10 -1 is O(10).
        out = list(islice(reversed(lst), n - 1 - end, n - start))
        out.reverse()
        return out
    return list(islice(lst, start, end + 1))


def pop_many(lst: ListValue, left: bool, count: int) -> list[bytes]:
    """Pop elements from one end.

    Args:
        lst: the list.
        left: pop from the head (else the tail).
        count: how many at most.

    Returns:
        The popped elements, in the order they left the list.
    """
    pop = lst.popleft if left else lst.pop
    return [pop() for _ in range(min(count, len(lst)))]


def trim(lst: ListValue, start: int, end: int) -> int:
    """Keep only start..end (LTRIM semantics, negative indexes allowed).

    Args:
        lst: the list.
        start: first index to keep.
        end: last index to keep.

    Returns:
        How many elements were removed.
    """
    n = len(lst)
    bounds = clamp_range(start, end, n)
    if bounds is None:
        lst.clear()
        return n
    first, last = bounds
    head, tail = first, n - 1 - last
    if head + tail > last - first + 1:
        keep = range_of(lst, first, last)
        lst.clear()
        lst.extend(keep)
    else:
        for _ in range(head):
            lst.popleft()
        for _ in range(tail):
            lst.pop()
    return head + tail


def remove(lst: ListValue, value: bytes, count: int) -> int:
    """Remove occurrences of `value` (LREM).

    Args:
        lst: the list.
        value: the element to remove.
        count: how many at most: > 0 from the head, < 0 from the tail, 0 all of them.

    Returns:
        How many elements were removed.
    """
    if value not in lst:
        return 0
    if count == 1:
        lst.remove(value)
        return 1
    limit = abs(count)
    removed = 0
    keep: list[bytes] = []
    source = reversed(lst) if count < 0 else iter(lst)
    for item in source:
        if item == value and (not limit or removed < limit):
            removed += 1
        else:
            keep.append(item)
    if count < 0:
        keep.reverse()
    lst.clear()
    lst.extend(keep)
    return removed


def insert(lst: ListValue, pivot: bytes, value: bytes, after: bool) -> bool:
    """Insert `value` next to the first `pivot` from the head (LINSERT).

    Args:
        lst: the list.
        pivot: the element to find.
        value: the element to insert.
        after: insert after the pivot (else before).

    Returns:
        False when the pivot is absent (nothing changes).
    """
    try:
        i = lst.index(pivot)
    except ValueError:
        return False
    lst.insert(i + 1 if after else i, value)
    return True


def positions(
    lst: ListValue, value: bytes, rank: int, count: int, maxlen: int, unlimited: bool = False
) -> list[int]:
    """Indexes of matches of `value` (LPOS), as LINDEX would address them.

    Args:
        lst: the list.
        value: the element to look for.
        rank: 1 for the first match, 2 for the second...; negative searches from the tail.
            Never 0.
        count: stop after this many matches (0: all of them).
        maxlen: compare at most this many elements (0: the whole list).
        unlimited: ignore `count` (Redis's arithmetic overflows for RANK LLONG_MIN, which
            then returns every match).

    Returns:
        The indexes, in the order they were found.
    """
    n = len(lst)
    from_tail = rank < 0
    skip = -rank if from_tail else rank
    items = reversed(lst) if from_tail else iter(lst)
    if maxlen:
        items = islice(items, maxlen)
    found: list[int] = []
    matches = 0
    for index, item in enumerate(items):
        if item == value:
            matches += 1
            if matches >= skip:
                found.append(n - 1 - index if from_tail else index)
                if count and not unlimited and matches - skip + 1 >= count:
                    break
    return found

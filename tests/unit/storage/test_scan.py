"""storage.scan: cursor iteration over big hashes and sets keeps SCAN's guarantees."""

from __future__ import annotations

import random

from storage.hashes import HashValue
from storage.scan import MAX_SNAPSHOTS, scan_members
from storage.sets import SetValue


def _iterate(container, count: int, between=None) -> list[bytes]:
    seen: list[bytes] = []
    cursor = 0
    steps = 0
    while True:
        cursor, batch = scan_members(container, cursor, count)
        seen += batch
        steps += 1
        if cursor == 0:
            return seen
        assert steps < 100_000
        if between is not None:
            between(steps)


def test_a_small_container_comes_back_in_one_step() -> None:
    s = SetValue([b"a", b"b", b"c"])
    cursor, members = scan_members(s, 0, 10)
    assert cursor == 0
    assert sorted(members) == [b"a", b"b", b"c"]
    assert s.scans is None


def test_every_member_is_returned_once_without_changes() -> None:
    s = SetValue(b"m%d" % i for i in range(1000))
    seen = _iterate(s, 7)
    assert sorted(seen) == sorted(s)
    assert len(seen) == len(s)
    assert s.scans is None  # the snapshot is dropped when the iteration ends


def test_members_present_throughout_are_returned_despite_writes() -> None:
    rng = random.Random(7)
    h = HashValue()
    for i in range(2000):
        h[b"f%d" % i] = b"v"
    stable = {b"f%d" % i for i in range(0, 2000, 3)}
    removable = [f for f in h if f not in stable]
    rng.shuffle(removable)

    def churn(step: int) -> None:
        for _ in range(5):
            if removable:
                del h[removable.pop()]
        h[b"new%d" % step] = b"v"

    seen = _iterate(h, 10, churn)
    assert stable <= set(seen)
    # Nothing is returned twice within one iteration, and nothing that was never there.
    assert len(seen) == len(set(seen))


def test_removed_members_are_not_returned_after_removal() -> None:
    s = SetValue(b"m%d" % i for i in range(100))
    cursor, first = scan_members(s, 0, 10)
    rest = [m for m in s if m not in first]
    s.difference_update(rest[:50])
    seen = list(first)
    while cursor:
        cursor, batch = scan_members(s, cursor, 10)
        seen += batch
    assert not set(seen) & set(rest[:50])
    assert set(seen) == set(first) | set(rest[50:])


def test_an_unknown_cursor_starts_over_and_misses_nothing() -> None:
    s = SetValue(b"m%d" % i for i in range(50))
    cursor, batch = scan_members(s, 987654321, 10)
    seen = list(batch)
    while cursor:
        cursor, batch = scan_members(s, cursor, 10)
        seen += batch
    assert sorted(seen) == sorted(s)


def test_concurrent_iterations_are_bounded_and_an_evicted_one_restarts() -> None:
    s = SetValue(b"m%d" % i for i in range(100))
    cursors = [scan_members(s, 0, 10)[0] for _ in range(MAX_SNAPSHOTS + 1)]
    assert s.scans is not None
    assert len(s.scans) == MAX_SNAPSHOTS
    # The oldest iteration lost its snapshot: it starts again from the beginning.
    cursor, batch = scan_members(s, cursors[0], 100)
    assert cursor == 0
    assert sorted(batch) == sorted(s)
    # The newest one continues where it was.
    cursor, batch = scan_members(s, cursors[-1], 100)
    assert cursor == 0
    assert len(batch) == 90


def test_cursors_fit_in_an_unsigned_64_bit_number() -> None:
    s = SetValue(b"m%d" % i for i in range(100))
    cursor, _ = scan_members(s, 0, 10)
    assert 0 < cursor < 2**64

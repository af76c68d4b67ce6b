"""The sorted-set type: dict member -> score plus a SortedList of (score, member).

Storage only: no replies, no RESP, no configuration. The command layer passes the
`zset-max-listpack-*` limits in and turns results into replies.

Strategy (order and indexes):

Elements are ordered by score, then by member bytes (memcmp then length, which is how Python
compares bytes), exactly as Redis's skiplist orders them. `by_score` keeps that order, so a
rank is `bisect_left` and every range query is two bisections plus an `islice`:
O(log N + M) whatever the size. Nothing here walks the whole set except the listpack
emulation described below, which only runs on small sets.

Strategy (encoding):

Redis keeps a small sorted set as a listpack and converts it to a skiplist once an element
is added past `zset-max-listpack-entries` or a member longer than `zset-max-listpack-value`
arrives; it never converts back. `big` records that switch (OBJECT ENCODING, ZSCAN, ...).
Two listpack quirks are visible to clients and copied here: a listpack stores an integral
score as an integer, so -0 becomes 0 while the set is small; and lex-range queries on a
listpack walk it linearly, which differs from a bisection when members with different
scores break the lexicographic order (undefined territory in Redis's documentation, but
deterministic on a small set, so we reproduce it there).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from typing import Final, NamedTuple

from sortedcontainers import SortedList

from storage.errors import StorageError
from storage.values import register_type

# ZADD input flags (Redis's ZADD_IN_*).
NX: Final = 1
XX: Final = 2
GT: Final = 4
LT: Final = 8

# How many ZSCAN resume points one set remembers (see `scan`).
_SCAN_MARKS: Final = 16

Item = tuple[float, bytes]


class NaNScoreError(StorageError):
    """An increment produced NaN (inf + -inf)."""


class ScoreRange(NamedTuple):
    """A score interval; `min_ex` / `max_ex` make an end exclusive ("(1.5")."""

    min: float
    min_ex: bool
    max: float
    max_ex: bool


# Kinds of lex-range ends: a member, or Redis's "-" and "+" (below and above every member).
LEX_VALUE: Final = 0
LEX_MINUS: Final = -1
LEX_PLUS: Final = 1


class LexBound(NamedTuple):
    kind: int
    value: bytes
    exclusive: bool


class LexRange(NamedTuple):
    min: LexBound
    max: LexBound

    def is_empty(self) -> bool:
        """The interval is empty whatever the set holds (Redis's zslIsInLexRange pre-test)."""
        cmp = _cmp_bounds(self.min, self.max)
        return cmp > 0 or (cmp == 0 and (self.min.exclusive or self.max.exclusive))

    def gte_min(self, member: bytes) -> bool:
        lo = self.min
        if lo.kind != LEX_VALUE:
            return lo.kind == LEX_MINUS
        return member > lo.value if lo.exclusive else member >= lo.value

    def lte_max(self, member: bytes) -> bool:
        hi = self.max
        if hi.kind != LEX_VALUE:
            return hi.kind == LEX_PLUS
        return member < hi.value if hi.exclusive else member <= hi.value


def _cmp_bounds(a: LexBound, b: LexBound) -> int:
    if a.kind == b.kind and a.kind != LEX_VALUE:
        return 0
    if a.kind == LEX_MINUS or b.kind == LEX_PLUS:
        return -1
    if a.kind == LEX_PLUS or b.kind == LEX_MINUS:
        return 1
    return (a.value > b.value) - (a.value < b.value)


def listpack_score(score: float) -> float:
    """The score a listpack gives back: integral values are stored as integers, so -0 is 0."""
    return 0.0 if score == 0.0 else score


class ZSet:
    """A Redis sorted set. `big` becomes True once it outgrows the listpack limits.

    Attributes:
        by_member: member -> score.
        by_score: every (score, member), in Redis's order.
        big: Redis would hold it as a skiplist (never goes back to False).
        scan_marks: ZSCAN cursor -> the last element returned with it (big sets only).
    """

    __slots__ = ("big", "by_member", "by_score", "scan_marks")

    def __init__(self) -> None:
        self.by_member: dict[bytes, float] = {}
        self.by_score: SortedList[Item] = SortedList()
        self.big = False
        self.scan_marks: dict[int, Item] | None = None

    @classmethod
    def from_scores(cls, scores: dict[bytes, float], big: bool) -> ZSet:
        """A set built in one go from member -> score (ZUNIONSTORE, ZRANGESTORE, ...).

        Args:
            scores: the members; the dict is adopted, not copied.
            big: the encoding Redis would pick for the result.
        """
        zs = cls()
        zs.big = big
        if not big:
            for member, score in scores.items():
                if score == 0.0:
                    scores[member] = 0.0
        zs.by_member = scores
        zs.by_score = SortedList((s, m) for m, s in scores.items())
        return zs

    def __len__(self) -> int:
        return len(self.by_member)

    def __repr__(self) -> str:
        return f"ZSet({list(self.by_score)!r}, big={self.big})"

    # --- updates ---

    def _grow(self, member: bytes, max_entries: int, max_value: int) -> None:
        """Before adding `member`: switch to the skiplist encoding if it would not fit."""
        if len(self.by_member) >= max_entries or len(member) > max_value:
            self.big = True

    def _move(self, member: bytes, old: float, new: float) -> None:
        if new == 0.0 and not self.big:
            new = 0.0
        by_score = self.by_score
        by_score.remove((old, member))
        by_score.add((new, member))
        self.by_member[member] = new

    def update(
        self,
        member: bytes,
        score: float,
        flags: int = 0,
        max_entries: int = 128,
        max_value: int = 64,
    ) -> tuple[int, int]:
        """Set a member's score with ZADD's NX / XX / GT / LT rules (Redis's zsetAdd).

        Args:
            member: the member.
            score: its new score (never NaN).
            flags: NX, XX, GT, LT bits; the caller has rejected incompatible ones.
            max_entries: zset-max-listpack-entries.
            max_value: zset-max-listpack-value.

        Returns:
            (added, changed): 1 if the member is new; 1 if an existing score changed.
        """
        by_member = self.by_member
        current = by_member.get(member)
        if current is None:
            if flags & XX:
                return 0, 0
            if not self.big:
                self._grow(member, max_entries, max_value)
                if score == 0.0 and not self.big:
                    score = 0.0
            by_member[member] = score
            self.by_score.add((score, member))
            return 1, 0
        if flags & NX or (flags & LT and score >= current) or (flags & GT and score <= current):
            return 0, 0
        if score == current:
            return 0, 0
        self._move(member, current, score)
        return 0, 1

    def incr(
        self,
        member: bytes,
        delta: float,
        flags: int = 0,
        max_entries: int = 128,
        max_value: int = 64,
    ) -> float | None:
        """Add `delta` to a member's score (ZINCRBY, ZADD INCR) with the same flags as `update`.

        Returns:
            The resulting score as Redis replies it, or None when the flags stopped the update.

        Raises:
            NaNScoreError: the sum is NaN (inf + -inf); nothing changed.
        """
        by_member = self.by_member
        current = by_member.get(member)
        if current is None:
            if flags & XX:
                return None
            self.update(member, delta, 0, max_entries, max_value)
            return delta
        if flags & NX:
            return None
        score = current + delta
        if math.isnan(score):
            raise NaNScoreError()
        if (flags & LT and score >= current) or (flags & GT and score <= current):
            return None
        if score != current:
            self._move(member, current, score)
        return score

    def insert(self, member: bytes, score: float) -> None:
        """Add a member known to be absent, with no encoding checks (building a result)."""
        self.by_member[member] = score
        self.by_score.add((score, member))

    def remove(self, member: bytes) -> bool:
        """Remove a member; report whether it was there."""
        score = self.by_member.pop(member, None)
        if score is None:
            return False
        self.by_score.remove((score, member))
        return True

    def pop(self, count: int, from_max: bool = False) -> list[Item]:
        """Remove and return up to `count` lowest (or highest) elements, in pop order."""
        by_score = self.by_score
        by_member = self.by_member
        count = min(count, len(by_score))
        if from_max:
            popped = list(by_score.islice(len(by_score) - count, reverse=True))
            del by_score[len(by_score) - count :]
        else:
            popped = list(by_score.islice(0, count))
            del by_score[:count]
        for _, member in popped:
            del by_member[member]
        return popped

    def _delete_slice(self, lo: int, hi: int) -> int:
        if lo >= hi:
            return 0
        by_member = self.by_member
        for _, member in self.by_score.islice(lo, hi):
            del by_member[member]
        del self.by_score[lo:hi]
        return hi - lo

    # --- point queries ---

    def score(self, member: bytes) -> float | None:
        return self.by_member.get(member)

    def rank(self, member: bytes, reverse: bool = False) -> int | None:
        """0-based rank of `member` (from the highest score when `reverse`), None if absent."""
        score = self.by_member.get(member)
        if score is None:
            return None
        index = self.by_score.bisect_left((score, member))
        return len(self.by_member) - 1 - index if reverse else index

    # --- by rank ---

    def rank_bounds(self, start: int, stop: int) -> tuple[int, int]:
        """Redis's inclusive (start, stop), negative from the end -> a [lo, hi) slice."""
        n = len(self.by_member)
        if start < 0:
            start += n
        if stop < 0:
            stop += n
        start = max(start, 0)
        if start > stop or start >= n:
            return 0, 0
        return start, min(stop, n - 1) + 1

    def range_by_rank(self, start: int, stop: int, reverse: bool = False) -> Iterator[Item]:
        """Elements with ranks start..stop inclusive (negative counts from the end).

        With `reverse`, ranks count from the highest score and elements come highest first.
        """
        lo, hi = self.rank_bounds(start, stop)
        if lo >= hi:
            return iter(())
        if reverse:
            n = len(self.by_member)
            return self.by_score.islice(n - hi, n - lo, reverse=True)
        return self.by_score.islice(lo, hi)

    def remove_range_by_rank(self, start: int, stop: int) -> int:
        lo, hi = self.rank_bounds(start, stop)
        return self._delete_slice(lo, hi)

    # --- by score ---

    def score_bounds(self, spec: ScoreRange) -> tuple[int, int]:
        """[lo, hi) indexes of the elements whose score is inside `spec`.

        (x, b"") sorts before every element scored x, so bisect_left on it finds the first
        score >= x; the next double up turns "> x" into ">= x'".
        """
        by_score = self.by_score
        if spec.min_ex:
            if spec.min == math.inf:
                return 0, 0
            lo = by_score.bisect_left((math.nextafter(spec.min, math.inf), b""))
        else:
            lo = by_score.bisect_left((spec.min, b""))
        if spec.max_ex:
            hi = by_score.bisect_left((spec.max, b""))
        elif spec.max == math.inf:
            hi = len(by_score)
        else:
            hi = by_score.bisect_left((math.nextafter(spec.max, math.inf), b""))
        return (lo, hi) if lo < hi else (0, 0)

    def count_by_score(self, spec: ScoreRange) -> int:
        lo, hi = self.score_bounds(spec)
        return hi - lo

    def range_by_score(
        self, spec: ScoreRange, offset: int = 0, limit: int = -1, reverse: bool = False
    ) -> Iterator[Item]:
        """Elements in `spec`, lowest first (highest first when `reverse`).

        `offset` skips that many matches; a negative offset matches nothing and a negative
        `limit` means no limit, as in Redis.
        """
        lo, hi = self.score_bounds(spec)
        return self._window(lo, hi, offset, limit, reverse)

    def remove_range_by_score(self, spec: ScoreRange) -> int:
        lo, hi = self.score_bounds(spec)
        return self._delete_slice(lo, hi)

    def _window(self, lo: int, hi: int, offset: int, limit: int, reverse: bool) -> Iterator[Item]:
        if offset < 0 or lo >= hi:
            return iter(())
        if reverse:
            top = hi - offset
            bottom = lo if limit < 0 else max(lo, top - limit)
            if bottom >= top:
                return iter(())
            return self.by_score.islice(bottom, top, reverse=True)
        start = lo + offset
        stop = hi if limit < 0 else min(hi, start + limit)
        if start >= stop:
            return iter(())
        return self.by_score.islice(start, stop)

    # --- by lex ---

    def _lex_sorted(self) -> bool:
        """Members are in lexicographic order, so bisection answers lex queries exactly."""
        by_score = self.by_score
        return not by_score or by_score[0][0] == by_score[-1][0]

    def lex_bounds(self, spec: LexRange) -> tuple[int, int]:
        """[lo, hi) indexes of the members inside `spec`, by bisection.

        Exact when every score is equal (the documented use of lex ranges). With mixed scores
        this treats the sequence as if it were sorted by member, like a skiplist search does.
        """
        by_score = self.by_score
        n = len(by_score)
        if not n or spec.is_empty():
            return 0, 0
        if self._lex_sorted():
            score = by_score[0][0]
            lo_b, hi_b = spec.min, spec.max
            if lo_b.kind == LEX_MINUS:
                lo = 0
            elif lo_b.kind == LEX_PLUS:
                return 0, 0
            elif lo_b.exclusive:
                lo = by_score.bisect_right((score, lo_b.value))
            else:
                lo = by_score.bisect_left((score, lo_b.value))
            if hi_b.kind == LEX_PLUS:
                hi = n
            elif hi_b.kind == LEX_MINUS:
                return 0, 0
            elif hi_b.exclusive:
                hi = by_score.bisect_left((score, hi_b.value))
            else:
                hi = by_score.bisect_right((score, hi_b.value))
        else:
            lo = self._first_index(lambda m: spec.gte_min(m))
            hi = self._first_index(lambda m: not spec.lte_max(m))
        return (lo, hi) if lo < hi else (0, 0)

    def _first_index(self, pred: Callable[[bytes], bool]) -> int:
        """Binary search by position for the first member where `pred` holds."""
        by_score = self.by_score
        lo, hi = 0, len(by_score)
        while lo < hi:
            mid = (lo + hi) // 2
            if pred(by_score[mid][1]):
                hi = mid
            else:
                lo = mid + 1
        return lo

    def _listpack_lex(self) -> bool:
        """Lex queries must replay Redis's linear listpack walk (small set, mixed scores)."""
        return not self.big and not self._lex_sorted()

    def _lex_run(self, spec: LexRange) -> tuple[int, int]:
        """The forward run a listpack walk finds: first member >= min, then while <= max."""
        items = self.by_score
        n = len(items)
        if (
            not n
            or spec.is_empty()
            or not spec.gte_min(items[-1][1])
            or not spec.lte_max(items[0][1])
        ):
            return 0, 0
        lo = 0
        while not spec.gte_min(items[lo][1]):
            lo += 1
        hi = lo
        while hi < n and spec.lte_max(items[hi][1]):
            hi += 1
        return lo, hi

    def count_by_lex(self, spec: LexRange) -> int:
        lo, hi = self._lex_run(spec) if self._listpack_lex() else self.lex_bounds(spec)
        return hi - lo

    def remove_range_by_lex(self, spec: LexRange) -> int:
        lo, hi = self._lex_run(spec) if self._listpack_lex() else self.lex_bounds(spec)
        return self._delete_slice(lo, hi)

    def range_by_lex(
        self, spec: LexRange, offset: int = 0, limit: int = -1, reverse: bool = False
    ) -> Iterator[Item]:
        """Members in `spec` in order (reverse order when `reverse`); offset/limit as by score."""
        if not self._listpack_lex():
            lo, hi = self.lex_bounds(spec)
            return self._window(lo, hi, offset, limit, reverse)
        return iter(self._listpack_range_by_lex(spec, offset, limit, reverse))

    def _listpack_range_by_lex(
        self, spec: LexRange, offset: int, limit: int, reverse: bool
    ) -> list[Item]:
        # zzlFirstInLexRange / zzlLastInLexRange, then skip `offset` unchecked and emit while
        # the far end of the range still holds.
        items = list(self.by_score)
        n = len(items)
        if (
            spec.is_empty()
            or not spec.gte_min(items[-1][1])
            or not spec.lte_max(items[0][1])
            or offset < 0
        ):
            return []
        out: list[Item] = []
        if reverse:
            i = n - 1
            while not spec.lte_max(items[i][1]):
                i -= 1
            if not spec.gte_min(items[i][1]):
                return []
            i -= offset
            while i >= 0 and limit != 0 and spec.gte_min(items[i][1]):
                out.append(items[i])
                i -= 1
                limit -= 1
        else:
            i = 0
            while not spec.gte_min(items[i][1]):
                i += 1
            if not spec.lte_max(items[i][1]):
                return []
            i += offset
            while i < n and limit != 0 and spec.lte_max(items[i][1]):
                out.append(items[i])
                i += 1
                limit -= 1
        return out

    # --- random picks ---

    def random_item(self) -> Item:
        """One element picked uniformly (the set must not be empty)."""
        return self.by_score[random.randrange(len(self.by_score))]

    def random_items(self, count: int, unique: bool) -> list[Item]:
        """`count` random elements: distinct ones (at most the whole set) or with repeats.

        Asking for the whole set (or more) gives it highest first, the way Redis's set
        iterators walk it; a small set gives a few picks in set order (Redis samples a
        listpack in order).
        """
        by_score = self.by_score
        n = len(by_score)
        if not unique:
            return [by_score[random.randrange(n)] for _ in range(count)]
        if count >= n:
            return list(reversed(by_score))
        indexes = random.sample(range(n), count)
        if not self.big and count * 3 <= n:
            indexes.sort()
        return [by_score[i] for i in indexes]

    # --- ZSCAN ---

    def scan(self, cursor: int, count: int) -> tuple[int, list[Item]]:
        """One ZSCAN step: (next cursor, elements).

        A small set answers everything at once with cursor 0, as a listpack does. A big set
        walks in score order, `count` elements per call. The cursor is the position to resume
        at, and the set also remembers the last element each recent cursor returned, so a
        walk resumes right after it even if elements before it were added or removed since.
        """
        by_score = self.by_score
        if not self.big:
            return 0, list(by_score)
        marks = self.scan_marks
        mark = marks.get(cursor) if marks and cursor else None
        start = by_score.bisect_right(mark) if mark is not None else cursor
        items = list(by_score.islice(start, start + count))
        following = start + len(items)
        if not items or following >= len(by_score):
            return 0, items
        if marks is None:
            marks = self.scan_marks = {}
        elif len(marks) >= _SCAN_MARKS:
            del marks[next(iter(marks))]
        marks.pop(following, None)
        marks[following] = items[-1]
        return following, items


register_type(ZSet, b"zset", lambda value: b"skiplist" if value.big else b"listpack")

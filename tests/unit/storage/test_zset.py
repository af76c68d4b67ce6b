"""storage.zset.ZSet against a naive model: a dict plus a list sorted on every query."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from storage.values import encoding_name, type_name
from storage.zset import (
    GT,
    LEX_MINUS,
    LEX_PLUS,
    LEX_VALUE,
    LT,
    NX,
    XX,
    LexBound,
    LexRange,
    NaNScoreError,
    ScoreRange,
    ZSet,
)

MAX_ENTRIES = 8
MAX_VALUE = 4

members = st.sampled_from(
    [b"", b"a", b"b", b"ab", b"abc", b"b\x00", b"zzzzz", b"\xff", b"m1", b"m2", b"m3", b"m10"]
) | st.binary(max_size=6)
scores = st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.5, 3.0, math.inf, -math.inf]) | st.floats(
    min_value=-1e6, max_value=1e6, allow_nan=False
)
# Every flag combination ZADD accepts (NX+XX, NX+GT/LT and GT+LT are refused earlier).
flag_sets = st.sampled_from([0, NX, XX, GT, LT, XX | GT, XX | LT])
lex_bounds = st.one_of(
    st.just(LexBound(LEX_MINUS, b"", True)),
    st.just(LexBound(LEX_PLUS, b"", True)),
    st.builds(lambda v, ex: LexBound(LEX_VALUE, v, ex), members, st.booleans()),
)


def model_items(model: dict[bytes, float]) -> list[tuple[float, bytes]]:
    return sorted((s, m) for m, s in model.items())


def in_score(spec: ScoreRange, score: float) -> bool:
    low_ok = score > spec.min if spec.min_ex else score >= spec.min
    high_ok = score < spec.max if spec.max_ex else score <= spec.max
    return low_ok and high_ok


def in_lex(spec: LexRange, member: bytes) -> bool:
    lo, hi = spec.min, spec.max
    if lo.kind == LEX_PLUS or hi.kind == LEX_MINUS:
        return False
    low_ok = lo.kind == LEX_MINUS or (member > lo.value if lo.exclusive else member >= lo.value)
    high_ok = hi.kind == LEX_PLUS or (member < hi.value if hi.exclusive else member <= hi.value)
    return low_ok and high_ok


def window(items: list[Any], offset: int, limit: int) -> list[Any]:
    if offset < 0:
        return []
    items = items[offset:]
    return items if limit < 0 else items[:limit]


def naive_rank_range(
    items: list[tuple[float, bytes]], start: int, stop: int, reverse: bool
) -> list[tuple[float, bytes]]:
    n = len(items)
    if reverse:
        items = items[::-1]
    lo = start + n if start < 0 else start
    hi = stop + n if stop < 0 else stop
    lo = max(lo, 0)
    hi = min(hi, n - 1)
    return items[lo : hi + 1] if lo <= hi else []


class ZSetMachine(RuleBasedStateMachine):
    """Random adds, increments, removals and queries; the model is the specification."""

    def __init__(self) -> None:
        super().__init__()
        self.zs = ZSet()
        self.model: dict[bytes, float] = {}
        self.big = False

    # --- the model's own update rules (Redis's zsetAdd) ---

    def _model_store(self, member: bytes, score: float) -> None:
        if member not in self.model and (len(self.model) >= MAX_ENTRIES or len(member) > MAX_VALUE):
            self.big = True
        # A listpack keeps an integral score as an integer: -0 comes back as 0.
        self.model[member] = 0.0 if (score == 0 and not self.big) else score

    @rule(member=members, score=scores, flags=flag_sets)
    def add(self, member: bytes, score: float, flags: int) -> None:
        got = self.zs.update(member, score, flags, MAX_ENTRIES, MAX_VALUE)
        current = self.model.get(member)
        if current is None:
            expected = (0, 0) if flags & XX else (1, 0)
        elif (
            flags & NX
            or (flags & GT and not score > current)
            or (flags & LT and not score < current)
        ):
            expected = (0, 0)
        else:
            expected = (0, 1) if score != current else (0, 0)
        if expected != (0, 0):
            self._model_store(member, score)
        assert got == expected

    @rule(member=members, delta=scores, flags=flag_sets)
    def incr(self, member: bytes, delta: float, flags: int) -> None:
        current = self.model.get(member)
        try:
            got = self.zs.incr(member, delta, flags, MAX_ENTRIES, MAX_VALUE)
        except NaNScoreError:
            assert current is not None
            assert math.isnan(current + delta)
            return
        if current is None:
            expected = None if flags & XX else delta
        elif flags & NX:
            expected = None
        else:
            new = current + delta
            assert not math.isnan(new)
            refused = (flags & GT and not new > current) or (flags & LT and not new < current)
            expected = None if refused else new
        if expected is not None:
            self._model_store(member, expected)
        assert got == expected
        if got is not None and expected is not None:
            assert math.copysign(1, got) == math.copysign(1, expected)  # -0 is replied as -0

    @rule(member=members)
    def remove(self, member: bytes) -> None:
        assert self.zs.remove(member) == (self.model.pop(member, None) is not None)

    @rule(count=st.integers(0, 5), from_max=st.booleans())
    def pop(self, count: int, from_max: bool) -> None:
        items = model_items(self.model)
        expected = items[::-1][:count] if from_max else items[:count]
        for _, member in expected:
            del self.model[member]
        assert self.zs.pop(count, from_max) == expected

    # --- queries ---

    @rule(member=members, reverse=st.booleans())
    def rank(self, member: bytes, reverse: bool) -> None:
        items = model_items(self.model)
        if reverse:
            items.reverse()
        expected = next((i for i, (_, m) in enumerate(items) if m == member), None)
        assert self.zs.rank(member, reverse) == expected

    @rule(start=st.integers(-12, 12), stop=st.integers(-12, 12), reverse=st.booleans())
    def range_by_rank(self, start: int, stop: int, reverse: bool) -> None:
        expected = naive_rank_range(model_items(self.model), start, stop, reverse)
        assert list(self.zs.range_by_rank(start, stop, reverse)) == expected

    @rule(
        low=scores,
        low_ex=st.booleans(),
        high=scores,
        high_ex=st.booleans(),
        offset=st.integers(-2, 6),
        limit=st.integers(-2, 6),
        reverse=st.booleans(),
    )
    def range_by_score(
        self,
        low: float,
        low_ex: bool,
        high: float,
        high_ex: bool,
        offset: int,
        limit: int,
        reverse: bool,
    ) -> None:
        spec = ScoreRange(low, low_ex, high, high_ex)
        matched = [item for item in model_items(self.model) if in_score(spec, item[0])]
        assert self.zs.count_by_score(spec) == len(matched)
        if reverse:
            matched.reverse()
        expected = window(matched, offset, limit)
        assert list(self.zs.range_by_score(spec, offset, limit, reverse)) == expected

    @rule(low=scores, low_ex=st.booleans(), high=scores, high_ex=st.booleans())
    def remove_range_by_score(self, low: float, low_ex: bool, high: float, high_ex: bool) -> None:
        spec = ScoreRange(low, low_ex, high, high_ex)
        doomed = [m for m, s in self.model.items() if in_score(spec, s)]
        for member in doomed:
            del self.model[member]
        assert self.zs.remove_range_by_score(spec) == len(doomed)

    @rule(start=st.integers(-12, 12), stop=st.integers(-12, 12))
    def remove_range_by_rank(self, start: int, stop: int) -> None:
        doomed = naive_rank_range(model_items(self.model), start, stop, False)
        for _, member in doomed:
            del self.model[member]
        assert self.zs.remove_range_by_rank(start, stop) == len(doomed)

    @precondition(lambda self: len(set(self.model.values())) <= 1)
    @rule(low=lex_bounds, high=lex_bounds, offset=st.integers(-1, 4), limit=st.integers(-1, 4))
    def lex_queries_when_scores_are_equal(
        self, low: LexBound, high: LexBound, offset: int, limit: int
    ) -> None:
        spec = LexRange(low, high)
        matched = [item for item in model_items(self.model) if in_lex(spec, item[1])]
        assert self.zs.count_by_lex(spec) == len(matched)
        assert list(self.zs.range_by_lex(spec, offset, limit)) == window(matched, offset, limit)
        assert list(self.zs.range_by_lex(spec, offset, limit, reverse=True)) == window(
            matched[::-1], offset, limit
        )

    @rule(count=st.integers(1, 12), unique=st.booleans())
    def random_items(self, count: int, unique: bool) -> None:
        if not self.model:
            return
        picked = self.zs.random_items(count, unique)
        assert all(self.model[m] == s for s, m in picked)
        if unique:
            assert len(picked) == min(count, len(self.model))
            assert len({m for _, m in picked}) == len(picked)
        else:
            assert len(picked) == count

    @rule(count=st.integers(1, 5))
    def full_scan_returns_every_member(self, count: int) -> None:
        seen: set[bytes] = set()
        cursor = 0
        for _ in range(1000):
            cursor, items = self.zs.scan(cursor, count)
            seen.update(m for _, m in items)
            if cursor == 0:
                break
        assert seen == set(self.model)

    # --- invariants ---

    @invariant()
    def structures_agree(self) -> None:
        zs = self.zs
        assert zs.by_member == self.model
        assert list(zs.by_score) == model_items(self.model)
        assert len(zs) == len(self.model)
        assert zs.big == self.big
        if not zs.big:
            assert all(math.copysign(1, s) > 0 for s in zs.by_member.values() if s == 0)


TestZSetMachine = ZSetMachine.TestCase
TestZSetMachine.settings = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class SameScoreLexMachine(RuleBasedStateMachine):
    """Lex queries on sets whose members all share one score, the documented use."""

    def __init__(self) -> None:
        super().__init__()
        self.zs = ZSet()
        self.model: set[bytes] = set()

    @rule(member=members)
    def add(self, member: bytes) -> None:
        self.zs.update(member, 7.0, 0, MAX_ENTRIES, MAX_VALUE)
        self.model.add(member)

    @rule(member=members)
    def remove(self, member: bytes) -> None:
        self.zs.remove(member)
        self.model.discard(member)

    @rule(low=lex_bounds, high=lex_bounds, offset=st.integers(-1, 4), limit=st.integers(-1, 4))
    def queries(self, low: LexBound, high: LexBound, offset: int, limit: int) -> None:
        spec = LexRange(low, high)
        matched = sorted(m for m in self.model if in_lex(spec, m))
        assert self.zs.count_by_lex(spec) == len(matched)
        got = [m for _, m in self.zs.range_by_lex(spec, offset, limit)]
        assert got == window(matched, offset, limit)
        got = [m for _, m in self.zs.range_by_lex(spec, offset, limit, reverse=True)]
        assert got == window(matched[::-1], offset, limit)

    @rule(low=lex_bounds, high=lex_bounds)
    def remove_range(self, low: LexBound, high: LexBound) -> None:
        spec = LexRange(low, high)
        doomed = {m for m in self.model if in_lex(spec, m)}
        self.model -= doomed
        assert self.zs.remove_range_by_lex(spec) == len(doomed)

    @invariant()
    def same_members(self) -> None:
        assert set(self.zs.by_member) == self.model


TestSameScoreLexMachine = SameScoreLexMachine.TestCase
TestSameScoreLexMachine.settings = settings(max_examples=100, stateful_step_count=40, deadline=None)


# --- listpack lex walk with mixed scores (cases checked against a real redis-server) ---


def _mixed() -> ZSet:
    zs = ZSet()
    for score, member in [(1, b"b"), (2, b"a"), (3, b"d"), (4, b"c"), (5, b"f"), (6, b"e")]:
        zs.update(member, float(score))
    return zs


def _lex(low: bytes, high: bytes) -> LexRange:
    def bound(raw: bytes) -> LexBound:
        if raw == b"-":
            return LexBound(LEX_MINUS, b"", True)
        if raw == b"+":
            return LexBound(LEX_PLUS, b"", True)
        return LexBound(LEX_VALUE, raw[1:], raw[:1] == b"(")

    return LexRange(bound(low), bound(high))


@pytest.mark.parametrize(
    ("low", "high", "offset", "limit", "reverse", "expected"),
    [
        (b"[a", b"[c", 0, -1, False, [b"b", b"a"]),
        (b"[b", b"[e", 0, -1, False, [b"b", b"a", b"d", b"c"]),
        (b"[b", b"[d", 2, 10, False, [b"d", b"c"]),
        (b"[b", b"[e", 0, -1, True, [b"e", b"f", b"c", b"d"]),
        (b"[c", b"-", 0, -1, True, []),
        (b"-", b"[c", 0, -1, True, [b"c", b"d", b"a", b"b"]),
        (b"[b", b"[e", 1, 2, True, [b"f", b"c"]),
    ],
)
def test_small_mixed_score_lex_ranges_replay_the_listpack_walk(
    low: bytes, high: bytes, offset: int, limit: int, reverse: bool, expected: list[bytes]
) -> None:
    got = _mixed().range_by_lex(_lex(low, high), offset, limit, reverse)
    assert [m for _, m in got] == expected


def test_small_mixed_score_lex_count_and_removal_follow_the_forward_walk() -> None:
    zs = _mixed()
    assert zs.count_by_lex(_lex(b"[b", b"[e")) == 4
    assert zs.count_by_lex(_lex(b"[a", b"[c")) == 2
    assert zs.remove_range_by_lex(_lex(b"[b", b"[d")) == 4
    assert list(zs.by_score) == [(5.0, b"f"), (6.0, b"e")]


# --- encoding switch ---


def test_encoding_switches_on_entry_count_and_never_back() -> None:
    zs = ZSet()
    for i in range(MAX_ENTRIES):
        zs.update(b"m%d" % i, float(i), 0, MAX_ENTRIES, MAX_VALUE)
    assert encoding_name(zs) == b"listpack"
    zs.update(b"m0", 100.0, 0, MAX_ENTRIES, MAX_VALUE)  # an update adds nothing
    assert encoding_name(zs) == b"listpack"
    zs.update(b"new", 1.0, 0, MAX_ENTRIES, MAX_VALUE)
    assert encoding_name(zs) == b"skiplist"
    zs.pop(100)
    assert not zs
    assert encoding_name(zs) == b"skiplist"


def test_encoding_switches_on_a_long_member_only_when_it_is_added() -> None:
    zs = ZSet()
    zs.update(b"a" * (MAX_VALUE + 1), 1.0, XX, MAX_ENTRIES, MAX_VALUE)
    assert not zs
    assert encoding_name(zs) == b"listpack"
    zs.update(b"a" * (MAX_VALUE + 1), 1.0, 0, MAX_ENTRIES, MAX_VALUE)
    assert encoding_name(zs) == b"skiplist"


def test_type_name_is_zset() -> None:
    assert type_name(ZSet()) == b"zset"


def test_negative_zero_survives_only_in_a_big_set() -> None:
    small = ZSet()
    small.update(b"a", -0.0)
    assert math.copysign(1, small.by_member[b"a"]) == 1
    big = ZSet()
    big.update(b"a", -0.0, 0, 0, MAX_VALUE)
    assert big.big
    assert math.copysign(1, big.by_member[b"a"]) == -1


def test_incr_replies_the_computed_score_even_when_a_listpack_stores_zero() -> None:
    zs = ZSet()
    got = zs.incr(b"a", -0.0)
    assert got is not None
    assert got == 0
    assert math.copysign(1, got) == -1
    assert math.copysign(1, zs.by_member[b"a"]) == 1


def test_incr_to_nan_raises_and_changes_nothing() -> None:
    zs = ZSet()
    zs.update(b"a", math.inf)
    with pytest.raises(NaNScoreError):
        zs.incr(b"a", -math.inf)
    assert zs.by_member == {b"a": math.inf}


def test_from_scores_sorts_and_normalises_small_results() -> None:
    zs = ZSet.from_scores({b"b": 1.0, b"a": 1.0, b"c": -0.0}, big=False)
    assert list(zs.by_score) == [(0.0, b"c"), (1.0, b"a"), (1.0, b"b")]
    assert math.copysign(1, zs.by_member[b"c"]) == 1


# --- ZSCAN over a big set ---


def _big(n: int) -> ZSet:
    zs = ZSet()
    for i in range(n):
        zs.update(b"m%04d" % i, float(i % 10), 0, 0, 64)
    return zs


def test_scan_of_a_small_set_returns_everything_with_cursor_zero() -> None:
    zs = ZSet()
    zs.update(b"a", 1.0)
    zs.update(b"b", 2.0)
    assert zs.scan(0, 1) == (0, [(1.0, b"a"), (2.0, b"b")])


def test_scan_resumes_after_its_mark_when_earlier_members_are_removed() -> None:
    zs = _big(100)
    cursor, first = zs.scan(0, 30)
    seen = {m for _, m in first}
    for _, member in first[:20]:  # removing what was already returned shifts positions
        zs.remove(member)
    while cursor:
        cursor, items = zs.scan(cursor, 30)
        seen.update(m for _, m in items)
    assert seen == {b"m%04d" % i for i in range(100)}


def test_scan_resumes_after_its_mark_when_members_are_added_before_it() -> None:
    zs = _big(100)
    cursor, items = zs.scan(0, 25)
    returned = [m for _, m in items]
    for i in range(50):
        zs.update(b"early%d" % i, -1.0, 0, 0, 64)
    cursor, items = zs.scan(cursor, 25)
    # Nothing returned twice: the walk continues after the last element it gave.
    assert not set(returned) & {m for _, m in items}

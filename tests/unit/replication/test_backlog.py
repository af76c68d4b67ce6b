"""The replication backlog against a naive model: the whole stream kept in one bytes object."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings, strategies as st

from replication.backlog import MIN_BACKLOG_BYTES, ReplicationBacklog


class Model:
    """Everything ever appended, and what a backlog of `size` bytes must still hold."""

    def __init__(self, size: int, next_offset: int) -> None:
        self.size = size
        self.start = next_offset  # offset of stream[0]
        self.stream = b""

    def append(self, data: bytes) -> None:
        self.stream += data

    @property
    def first_offset(self) -> int:
        return self.start + max(0, len(self.stream) - self.size)

    @property
    def held(self) -> bytes:
        return self.stream[-self.size :] if self.stream else b""


def check(backlog: ReplicationBacklog, model: Model) -> None:
    assert backlog.first_offset == model.first_offset
    assert backlog.histlen == len(model.held)
    assert backlog.end_offset == model.start + len(model.stream) - 1
    first = backlog.first_offset
    assert backlog.read_from(first) == model.held
    end = first + backlog.histlen
    assert backlog.read_from(end) == b""
    for offset in (first + 1, (first + end) // 2, end - 1):
        if first <= offset <= end:
            assert backlog.read_from(offset) == model.held[offset - first :]


def test_a_new_backlog_is_empty_and_starts_at_the_next_byte() -> None:
    backlog = ReplicationBacklog(1 << 20, 101)
    assert backlog.first_offset == 101
    assert backlog.histlen == 0
    assert backlog.end_offset == 100
    assert backlog.covers(101)
    assert not backlog.covers(100)
    assert not backlog.covers(102)
    assert backlog.read_from(101) == b""


def test_reading_outside_the_backlog_is_an_error() -> None:
    backlog = ReplicationBacklog(MIN_BACKLOG_BYTES, 1)
    backlog.append(b"abc")
    assert backlog.covers(4)
    assert not backlog.covers(5)
    with pytest.raises(ValueError, match="not in the backlog"):
        backlog.read_from(5)
    with pytest.raises(ValueError, match="not in the backlog"):
        backlog.read_from(0)


def test_the_size_has_redis_s_minimum() -> None:
    assert ReplicationBacklog(1, 1).size_bytes == MIN_BACKLOG_BYTES


def test_old_bytes_are_overwritten_once_full() -> None:
    size = MIN_BACKLOG_BYTES
    backlog = ReplicationBacklog(size, 1)
    model = Model(size, 1)
    chunk = bytes(range(256)) * 10
    for _ in range(20):
        backlog.append(chunk)
        model.append(chunk)
        check(backlog, model)
    assert backlog.histlen == size
    assert not backlog.covers(1)


def test_an_append_larger_than_the_whole_backlog_keeps_its_tail() -> None:
    size = MIN_BACKLOG_BYTES
    backlog = ReplicationBacklog(size, 10)
    model = Model(size, 10)
    for data in (b"x" * 100, bytes(range(256)) * 200, b"tail"):
        backlog.append(data)
        model.append(data)
        check(backlog, model)


def test_the_ring_grows_on_demand() -> None:
    backlog = ReplicationBacklog(64 << 20, 1)
    assert backlog.allocated_bytes < 1 << 20
    backlog.append(b"y" * (3 << 20))
    assert backlog.allocated_bytes >= 3 << 20
    assert backlog.histlen == 3 << 20


def test_resizing_keeps_the_newest_bytes() -> None:
    backlog = ReplicationBacklog(MIN_BACKLOG_BYTES * 4, 1)
    model = Model(MIN_BACKLOG_BYTES * 4, 1)
    data = bytes(random.Random(3).getrandbits(8) for _ in range(MIN_BACKLOG_BYTES * 3))
    backlog.append(data)
    model.append(data)
    backlog.resize(MIN_BACKLOG_BYTES)
    model.size = MIN_BACKLOG_BYTES
    check(backlog, model)
    backlog.resize(MIN_BACKLOG_BYTES * 2)
    backlog.append(b"more")
    model.append(b"more")
    model.size = MIN_BACKLOG_BYTES * 2
    # Growing keeps what was held; the model must not claim more history than that.
    assert backlog.read_from(backlog.first_offset).endswith(b"more")
    assert backlog.end_offset == model.start + len(model.stream) - 1


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(min_value=MIN_BACKLOG_BYTES, max_value=MIN_BACKLOG_BYTES * 3),
    start=st.integers(min_value=1, max_value=10**12),
    sizes=st.lists(st.integers(min_value=0, max_value=MIN_BACKLOG_BYTES * 2), max_size=25),
)
def test_any_sequence_of_appends_matches_the_model(size: int, start: int, sizes: list[int]) -> None:
    backlog = ReplicationBacklog(size, start)
    model = Model(size, start)
    rng = random.Random(len(sizes))
    for n in sizes:
        data = rng.randbytes(n)
        backlog.append(data)
        model.append(data)
        check(backlog, model)

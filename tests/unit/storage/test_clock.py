"""The keyspace clocks: milliseconds for expiry, and the coarse second beside them."""

from __future__ import annotations

import time

import pytest

from storage.clock import NEVER_EXPIRED, FakeClock, SystemClock


def test_a_system_clock_second_moves_only_when_it_ticks(monkeypatch: pytest.MonkeyPatch) -> None:
    now_ns = [1_700_000_000_999_000_000]
    monkeypatch.setattr(time, "time_ns", lambda: now_ns[0])
    clock = SystemClock()
    assert clock.now_ms() == 1_700_000_000_999
    assert clock.second == 1_700_000_000
    now_ns[0] += 2_000_000  # 2 ms: a new second for now_ms, not yet for `second`
    assert clock.now_ms() == 1_700_000_001_001
    assert clock.second == 1_700_000_000
    clock.tick()
    assert clock.second == 1_700_000_001


def test_a_fake_clock_second_is_always_its_current_second() -> None:
    clock = FakeClock(1_700_000_000_500)
    assert clock.second == 1_700_000_000
    clock.advance(499)
    assert clock.second == 1_700_000_000
    clock.advance(1)
    assert clock.second == 1_700_000_001
    clock.tick()
    assert (clock.now_ms(), clock.second) == (1_700_000_001_000, 1_700_000_001)


def test_under_the_never_expired_clock_every_deadline_is_ahead() -> None:
    NEVER_EXPIRED.tick()
    assert NEVER_EXPIRED.now_ms() < 0
    assert NEVER_EXPIRED.second == NEVER_EXPIRED.now_ms() // 1000

"""Time for the keyspace: absolute unix milliseconds, injectable so tests control expiry."""

from __future__ import annotations

import time
from typing import Final, Protocol


class Clock(Protocol):
    """Wall-clock time in unix milliseconds (expiry is absolute, persisted and replicated).

    `second` is a coarse clock beside it, as memcached's `current_time`: the unix second as
    of the last `tick()`, for what needs whole seconds on every request (memcached's access
    records and idle times) and should not pay a clock read for them. The server ticks it
    from its cron, `hz` times a second.
    """

    def now_ms(self) -> int: ...

    @property
    def second(self) -> int: ...

    def tick(self) -> None: ...


class SystemClock:
    """The real wall clock."""

    __slots__ = ("second",)

    def __init__(self) -> None:
        self.second = self.now_ms() // 1000

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def tick(self) -> None:
        self.second = self.now_ms() // 1000


class FakeClock:
    """A clock that only moves when told to; for tests. Its `second` is always current."""

    __slots__ = ("ms",)

    def __init__(self, ms: int = 1_700_000_000_000) -> None:
        self.ms = ms

    def now_ms(self) -> int:
        return self.ms

    @property
    def second(self) -> int:
        return self.ms // 1000

    def tick(self) -> None:
        pass

    def advance(self, ms: int) -> None:
        self.ms += ms


class NeverExpiredClock:
    """A clock under which no key is expired, its time being far in the past. The keyspace
    runs on it while a dataset loads (Redis's keyIsExpired returns 0 while loading) and
    while it applies the primary's stream (expireIfNeeded returns 0 for the master client:
    the primary sends its own DEL)."""

    __slots__ = ()

    def now_ms(self) -> int:
        return -(2**62)

    @property
    def second(self) -> int:
        return -(2**62) // 1000

    def tick(self) -> None:
        pass


NEVER_EXPIRED: Final = NeverExpiredClock()

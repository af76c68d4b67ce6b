"""Differential transactions: MULTI / EXEC / DISCARD / WATCH replies and errors, EXECABORT,
and WATCH broken by a second connection, byte for byte against a real redis-server in RESP2
and RESP3."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.differential import Command, Differential
from tests.support import RealServer, ServerProcess

pytestmark = pytest.mark.integration


class Two:
    """Two connections per server (`a` and `b`), compared command by command."""

    def __init__(self, ours: int, theirs: int, resp3: bool) -> None:
        self.a = Differential(ours, theirs, resp3=resp3)
        self.b = Differential(ours, theirs, resp3=resp3)

    def close(self) -> None:
        self.a.close()
        self.b.close()

    def check(self) -> None:
        mismatches = self.a.mismatches + self.b.mismatches
        if mismatches:
            raise AssertionError(
                f"{len(mismatches)} replies differ from Redis:\n" + "\n".join(mismatches)
            )


@pytest.fixture(params=[False, True], ids=["resp2", "resp3"])
def two(
    request: pytest.FixtureRequest, shared_server: ServerProcess, real_redis: RealServer
) -> Iterator[Two]:
    t = Two(shared_server.port, real_redis.port, resp3=request.param)
    yield t
    t.close()


@pytest.fixture(params=[False, True], ids=["resp2", "resp3"])
def d(
    request: pytest.FixtureRequest, shared_server: ServerProcess, real_redis: RealServer
) -> Iterator[Differential]:
    diff = Differential(shared_server.port, real_redis.port, resp3=request.param)
    yield diff
    diff.close()


SINGLE_CLIENT: list[Command] = [
    # basics
    ("MULTI",),
    ("SET", "k", "v"),
    ("GET", "k"),
    ("DEL", "k", "nope"),
    ("EXEC",),
    ("MULTI",),
    ("EXEC",),
    # errors outside a transaction
    ("EXEC",),
    ("DISCARD",),
    ("UNWATCH",),
    ("WATCH",),
    ("MULTI", "x"),
    ("EXEC", "x"),
    ("DISCARD", "x"),
    ("UNWATCH", "x"),
    # runtime errors do not stop the transaction
    ("MULTI",),
    ("SET", "s", "abc"),
    ("SELECT", "100"),
    ("SET", "t", "1", "EX", "0"),
    ("GET", "s"),
    ("EXEC",),
    # immediate commands inside MULTI
    ("MULTI",),
    ("MULTI",),
    ("WATCH", "k"),
    ("SET", "x", "1"),
    ("EXEC",),
    # queue-time rejections abort with EXECABORT
    ("MULTI",),
    ("SET", "x", "2"),
    ("NOSUCH", "a"),
    ("EXEC",),
    ("GET", "x"),
    ("MULTI",),
    ("GET",),
    ("SET", "x", "3"),
    ("EXEC",),
    ("MULTI",),
    ("SUBSCRIBE",),
    ("EXEC",),
    ("MULTI",),
    ("CLIENT", "NOSUCH"),
    ("EXEC",),
    # EXEC itself rejected
    ("MULTI",),
    ("SET", "x", "4"),
    ("EXEC", "extra"),
    ("EXEC",),
    ("GET", "x"),
    # DISCARD
    ("MULTI",),
    ("SET", "x", "5"),
    ("DISCARD",),
    ("GET", "x"),
    ("DISCARD",),
    # queued transaction commands
    ("MULTI",),
    ("UNWATCH",),
    ("PING",),
    ("ECHO", "e"),
    ("EXEC",),
    # databases inside a transaction
    ("MULTI",),
    ("SELECT", "2"),
    ("SET", "db2", "v"),
    ("SELECT", "0"),
    ("GET", "db2"),
    ("EXEC",),
    ("SELECT", "2"),
    ("GET", "db2"),
    ("SELECT", "0"),
    # a WATCHed key written by the same client
    ("WATCH", "w"),
    ("SET", "w", "1"),
    ("MULTI",),
    ("PING",),
    ("EXEC",),
    # unchanged watched keys
    ("WATCH", "w", "w2"),
    ("DEL", "w2"),
    ("SET", "w", "1", "NX"),
    ("MULTI",),
    ("GET", "w"),
    ("EXEC",),
    ("WATCH", "w"),
    ("UNWATCH",),
    ("SET", "w", "2"),
    ("MULTI",),
    ("GET", "w"),
    ("EXEC",),
    # RESET ends a transaction
    ("WATCH", "w"),
    ("MULTI",),
    ("SET", "w", "3"),
    ("RESET",),
    ("EXEC",),
    ("GET", "w"),
]


def test_single_client_script(d: Differential) -> None:
    d.assert_same(SINGLE_CLIENT)


def test_watch_broken_by_another_connection(two: Two) -> None:
    a, b = two.a, two.b
    a.check(("SET", "k", "1"))
    a.check(("WATCH", "k"))
    b.check(("SET", "k", "2"))
    a.check(("MULTI",))
    a.check(("SET", "k", "3"))
    a.check(("EXEC",))
    a.check(("GET", "k"))
    # Broken between MULTI and EXEC.
    a.check(("WATCH", "k"))
    a.check(("MULTI",))
    a.check(("SET", "k", "11", "GET"))
    b.check(("SET", "k", "10"))
    a.check(("EXEC",))
    # Not broken: the next one succeeds.
    a.check(("WATCH", "k"))
    a.check(("MULTI",))
    a.check(("SET", "k", "11", "GET"))
    a.check(("EXEC",))
    # Writes that change nothing leave the watch intact.
    a.check(("WATCH", "k", "absent"))
    b.check(("DEL", "absent"))
    b.check(("SET", "k", "x", "NX"))
    b.check(("GET", "k"))
    a.check(("MULTI",))
    a.check(("GET", "k"))
    a.check(("EXEC",))
    # Another database's key of the same name is another key.
    a.check(("WATCH", "k"))
    b.check(("SELECT", "1"))
    b.check(("SET", "k", "other db"))
    a.check(("MULTI",))
    a.check(("PING",))
    a.check(("EXEC",))
    b.check(("SELECT", "0"))
    # DISCARD and UNWATCH forget the keys.
    a.check(("WATCH", "k"))
    a.check(("MULTI",))
    a.check(("DISCARD",))
    b.check(("SET", "k", "y"))
    a.check(("MULTI",))
    a.check(("PING",))
    a.check(("EXEC",))
    # A dirty watch stays dirty whatever else is watched.
    a.check(("WATCH", "k"))
    b.check(("SET", "k", "z"))
    a.check(("WATCH", "other"))
    a.check(("MULTI",))
    a.check(("PING",))
    a.check(("EXEC",))
    two.check()


@pytest.mark.parametrize("flush", ["FLUSHDB", "FLUSHALL"])
def test_flush_breaks_watch_only_when_the_key_existed(two: Two, flush: str) -> None:
    a, b = two.a, two.b
    a.check(("SET", "k", "1"))
    a.check(("WATCH", "k"))
    b.check((flush,))
    a.check(("MULTI",))
    a.check(("PING",))
    a.check(("EXEC",))
    a.check(("WATCH", "absent"))
    b.check(("SET", "present", "1"))
    b.check((flush,))
    a.check(("MULTI",))
    a.check(("PING",))
    a.check(("EXEC",))
    two.check()


def test_watch_inside_multi_is_refused_without_aborting(two: Two) -> None:
    a = two.a
    a.check(("WATCH", "k"))
    a.check(("MULTI",))
    a.check(("SET", "k", "1"))
    a.check(("WATCH", "j"))
    a.check(("EXEC",))
    two.check()

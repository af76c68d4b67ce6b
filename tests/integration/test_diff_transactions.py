"""Differential transactions: MULTI / EXEC / DISCARD / WATCH replies and errors, EXECABORT,
and WATCH broken by a second connection, byte for byte against a real redis-server in RESP2
and RESP3."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.differential import Command, Differential
from tests.support import RealServer, ServerProcess, wait_until

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


# Each case: setup commands (run by `b`), the key `a` watches, then what `b` runs before
# `a`'s MULTI / PING / EXEC. Whether EXEC answers null shows whether the write touched the
# key: a write that changes nothing leaves the watch alone, and some always touch it.
WATCH_CASES: list[tuple[list[Command], str, list[tuple[str, ...]]]] = [
    ([("RPUSH", "l", "a", "b")], "l", [("LPUSH", "l", "x")]),
    ([("RPUSH", "l", "a", "b")], "l", [("RPOP", "l")]),
    ([("RPUSH", "l", "a", "b")], "l", [("LTRIM", "l", "0", "-1")]),
    ([("RPUSH", "l", "a", "b")], "l", [("LREM", "l", "0", "zz")]),
    ([("RPUSH", "l", "a", "b")], "l", [("LSET", "l", "0", "a")]),
    ([("RPUSH", "l", "a", "b")], "l", [("LPUSHX", "nokey", "x")]),
    ([("RPUSH", "l", "a")], "l", [("LMOVE", "l", "dst", "LEFT", "LEFT")]),
    ([("RPUSH", "src", "a")], "dst", [("LMOVE", "src", "dst", "LEFT", "LEFT")]),
    ([("HSET", "h", "f", "v")], "h", [("HSET", "h", "f", "v")]),
    ([("HSET", "h", "f", "v")], "h", [("HSETNX", "h", "f", "w")]),
    ([("HSET", "h", "f", "v")], "h", [("HDEL", "h", "nope")]),
    ([("HSET", "h", "f", "1")], "h", [("HINCRBY", "h", "f", "0")]),
    ([("SADD", "s", "m")], "s", [("SADD", "s", "m")]),
    ([("SADD", "s", "m")], "s", [("SREM", "s", "nope")]),
    ([("SADD", "s", "m")], "s", [("SADD", "s", "n")]),
    ([("SADD", "s", "m")], "t", [("SMOVE", "s", "t", "m")]),
    ([("SADD", "a1", "1"), ("SADD", "d", "x")], "d", [("SINTERSTORE", "d", "a1", "nokey")]),
    ([("ZADD", "z", "1", "m")], "z", [("ZADD", "z", "1", "m")]),
    ([("ZADD", "z", "1", "m")], "z", [("ZADD", "z", "2", "m")]),
    ([("ZADD", "z", "1", "m")], "z", [("ZINCRBY", "z", "0", "m")]),
    ([("ZADD", "z", "1", "m")], "z", [("ZREM", "z", "nope")]),
    ([("ZADD", "z", "1", "m")], "z", [("ZREMRANGEBYSCORE", "z", "5", "6")]),
    ([("ZADD", "z", "1", "m")], "u", [("ZUNIONSTORE", "u", "1", "z")]),
    ([("ZADD", "z", "1", "m")], "z", [("ZPOPMIN", "z")]),
    ([("SET", "k", "v")], "k", [("EXPIRE", "k", "100")]),
    ([("SET", "k", "v")], "k", [("PERSIST", "k")]),
    ([("SET", "k", "v")], "k", [("RENAME", "k", "k2")]),
    ([("SET", "k", "v")], "k2", [("RENAME", "k", "k2")]),
    ([("SET", "k", "v")], "k", [("MOVE", "k", "3")]),
    ([("SET", "k", "v")], "k", [("COPY", "k", "k3")]),
    ([("SET", "k", "v")], "k3", [("COPY", "k", "k3")]),
    ([("SET", "k", "v")], "k", [("SWAPDB", "0", "4"), ("SWAPDB", "0", "4")]),
    ([("SELECT", "4"), ("SET", "k", "v"), ("SELECT", "0")], "k", [("SWAPDB", "0", "4")]),
    ([], "nokey", [("SWAPDB", "0", "4")]),
    ([("SET", "k", "v")], "k", [("APPEND", "k", "")]),
    ([("SET", "k", "v")], "k", [("SETRANGE", "k", "0", "")]),
    ([("SET", "k", "v")], "k", [("GETEX", "k")]),
    ([("SET", "k", "v")], "k", [("GETDEL", "k")]),
    ([("SET", "k", "5")], "k", [("INCRBY", "k", "0")]),
    ([("SET", "k", "v")], "k", [("SORT", "nokey", "STORE", "k")]),
    ([("SET", "k", "v")], "k", [("SET", "k", "v")]),
    ([("SET", "k", "v")], "k", [("SET", "k", "w", "NX")]),
    ([("SET", "k", "\x00")], "k", [("SETBIT", "k", "0", "0")]),
    ([("SET", "k", "1")], "k", [("INCRBYFLOAT", "k", "0")]),
    ([("SET", "k", "v")], "k", [("EXPIRE", "k", "100", "XX")]),
    ([("SET", "k", "v")], "k", [("PEXPIRE", "k", "-1")]),
    ([("SET", "k", "v")], "k", [("TOUCH", "k"), ("GET", "k"), ("OBJECT", "ENCODING", "k")]),
    ([("SET", "k", "v")], "k", [("BITFIELD", "k", "GET", "u8", "0")]),
    ([("SET", "k", "v")], "k", [("BITFIELD", "k", "SET", "u8", "0", "118")]),
    ([("SET", "k", "v")], "k", [("BITOP", "NOT", "k", "k"), ("BITOP", "NOT", "k", "k")]),
    ([("RPUSH", "l", "a")], "l", [("LINSERT", "l", "BEFORE", "zz", "x")]),
    ([("RPUSH", "l", "a")], "l", [("LPOS", "l", "a"), ("LRANGE", "l", "0", "-1")]),
    ([("RPUSH", "l", "a")], "l", [("BLMOVE", "l", "l", "LEFT", "RIGHT", "0")]),
    ([("HSET", "h", "f", "1")], "h", [("HINCRBYFLOAT", "h", "f", "0")]),
    ([("SADD", "s", "m")], "s", [("SPOP", "s", "0")]),
    ([("SADD", "s", "m")], "s", [("SMOVE", "s", "s", "m")]),
    ([("SADD", "s", "m")], "s", [("SDIFFSTORE", "s", "s", "nokey")]),
    ([("ZADD", "z", "1", "m")], "z", [("ZADD", "z", "XX", "CH", "1", "m")]),
    ([("ZADD", "z", "1", "m")], "z", [("ZRANGESTORE", "z", "z", "0", "-1")]),
    ([("ZADD", "z", "1", "m")], "z", [("ZPOPMAX", "z", "0")]),
]


@pytest.mark.parametrize(
    ("setup", "watched", "writes"),
    WATCH_CASES,
    ids=[" ".join(map(str, w[0])) for _, _, w in WATCH_CASES],
)
def test_watch_and_writes_of_every_family(
    two: Two, setup: list[Command], watched: str, writes: list[tuple[str, ...]]
) -> None:
    a, b = two.a, two.b
    b.run(setup)
    a.check(("WATCH", watched))
    b.run(writes)
    a.check(("MULTI",))
    a.check(("PING",))
    a.check(("EXEC",))
    two.check()


def test_watched_key_that_expires(two: Two) -> None:
    a, b = two.a, two.b
    # Expired before EXEC, reclaimed by another client's read. (The TTL leaves WATCH time to
    # run before the deadline even on a loaded machine.)
    a.check(("SET", "k", "v", "PX", "400"))
    a.check(("WATCH", "k"))
    wait_until(lambda: b.send("EXISTS", "k") == (b":0\r\n", b":0\r\n"))
    a.check(("MULTI",))
    a.check(("PING",))
    a.check(("EXEC",))
    # Expired before EXEC, with nobody touching it in between.
    a.check(("SET", "j", "v", "PX", "400"))
    a.check(("WATCH", "j"))
    wait_until(lambda: b.send("PTTL", "j") == (b":-2\r\n", b":-2\r\n"))
    a.check(("MULTI",))
    a.check(("PING",))
    a.check(("EXEC",))
    # Already expired when watched: not a change.
    a.check(("SET", "e", "v", "PX", "1"))
    wait_until(lambda: b.send("EXISTS", "e") == (b":0\r\n", b":0\r\n"))
    a.check(("WATCH", "e"))
    a.check(("MULTI",))
    a.check(("PING",))
    a.check(("EXEC",))
    two.check()


EXEC_REPLY_TYPES: list[Command] = [
    ("MULTI",),
    ("HSET", "h", "a", "1", "b", "2"),
    ("HGETALL", "h"),
    ("ZADD", "z", "1.5", "m", "-inf", "n"),
    ("ZSCORE", "z", "m"),
    ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
    ("ZPOPMIN", "z"),
    ("SADD", "s", "2", "1"),  # an intset: SMEMBERS's order is defined
    ("SMEMBERS", "s"),
    ("SISMEMBER", "s", "1"),
    ("SMISMEMBER", "s", "1", "q"),
    ("RPUSH", "l", "1"),
    ("BLPOP", "l", "0"),
    ("BLPOP", "l", "0"),
    ("BZPOPMAX", "z", "0"),
    ("LPOS", "nokey", "x"),
    ("HRANDFIELD", "nokey", "2", "WITHVALUES"),
    ("ZRANDMEMBER", "z", "1", "WITHSCORES"),
    ("SET", "s", "v"),
    ("SPOP", "s"),
    ("EXEC",),
]


def test_exec_replies_of_every_type(d: Differential) -> None:
    d.assert_same(EXEC_REPLY_TYPES)

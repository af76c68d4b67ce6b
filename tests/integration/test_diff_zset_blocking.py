"""Differential: BZPOPMIN, BZPOPMAX and BZMPOP against a real redis-server, in RESP2 and RESP3.

Single-connection scripts cover the immediate answers, timeouts, errors and MULTI; the
multi-client scenarios park clients on both servers and compare every reply byte for byte,
including the replies of clients served later; the write stream of the same scenarios is
compared with what a real Redis sends its replicas.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.differential import Command, Differential
from tests.multiclient import Step, run_in_process, run_on_wire
from tests.replication_tap import ReplicationTap
from tests.support import RealServer, ServerProcess, start_real_redis, wait_until

pytestmark = pytest.mark.integration

IMMEDIATE: list[Command] = [
    ("ZADD", "z", "1", "a", "2", "b", "3", "c", "1.5", "d", "inf", "top", "-inf", "bottom"),
    ("BZPOPMIN", "z", "0"),
    ("BZPOPMAX", "z", "0"),
    ("BZPOPMIN", "nokey", "z", "0"),
    ("BZPOPMAX", "nokey", "z", "nokey2", "1"),
    ("BZPOPMIN", "z", "z", "0.5"),
    ("ZADD", "y", "1e300", "huge", "-0.000001", "tiny", "12345678901234567890", "long"),
    ("BZPOPMAX", "y", "z", "0"),
    ("BZPOPMIN", "y", "0"),
    ("BZPOPMIN", "y", "0"),
    ("EXISTS", "y"),
    ("ZADD", "z", "0", "q"),
    ("BZMPOP", "0", "2", "nokey", "z", "MIN"),
    ("BZMPOP", "0", "1", "z", "max", "COUNT", "1"),
    ("ZADD", "z", "10", "j", "11", "k", "12", "l"),
    ("BZMPOP", "0.1", "2", "nokey", "z", "MAX", "COUNT", "2"),
    ("BZMPOP", "0", "1", "z", "MIN", "COUNT", "100"),
    ("EXISTS", "z"),
    ("ZRANGE", "z", "0", "-1"),
]

TIMEOUTS: list[Command] = [
    ("BZPOPMIN", "nokey", "0.01"),
    ("BZPOPMAX", "nokey", "other", "0.01"),
    ("BZMPOP", "0.01", "1", "nokey", "MIN"),
    ("BZMPOP", "0.01", "2", "nokey", "other", "MAX", "COUNT", "2"),
    ("BZPOPMIN", "nokey", "1e-400"),
    ("BZPOPMAX", "nokey", "0x1p-8"),
    ("EXISTS", "nokey"),
]

ERRORS: list[Command] = [
    ("BZPOPMIN",),
    ("BZPOPMIN", "k"),
    ("BZPOPMAX", "k"),
    ("BZMPOP", "0", "1", "k"),
    ("BZMPOP", "0", "1"),
    ("BZPOPMIN", "k", "x"),
    ("BZPOPMIN", "k", ""),
    ("BZPOPMIN", "k", " 1"),
    ("BZPOPMIN", "k", "nan"),
    ("BZPOPMIN", "k", "1e5000"),
    ("BZPOPMAX", "k", "-1"),
    ("BZPOPMAX", "k", "-0.002"),
    ("BZPOPMAX", "k", "inf"),
    ("BZPOPMAX", "k", "1e16"),
    ("BZMPOP", "x", "0", "k", "MIN"),
    ("BZMPOP", "x", "-1", "k", "MIN"),
    ("BZMPOP", "x", "y", "k", "MIN"),
    ("BZMPOP", "x", "9223372036854775808", "k", "MIN"),
    ("BZMPOP", "x", "2", "k", "MIN"),
    ("BZMPOP", "x", "1", "k", "MID"),
    ("BZMPOP", "x", "1", "k", "MIN", "COUNT", "0"),
    ("BZMPOP", "x", "1", "k", "MIN", "COUNT", "-1"),
    ("BZMPOP", "x", "1", "k", "MIN", "COUNT", "x"),
    ("BZMPOP", "x", "1", "k", "MIN", "COUNT"),
    ("BZMPOP", "x", "1", "k", "MIN", "COUNT", "1", "COUNT", "1"),
    ("BZMPOP", "x", "1", "k", "MIN", "EXTRA"),
    ("BZMPOP", "x", "1", "k", "MIN"),
    ("BZMPOP", "-1", "1", "k", "MIN"),
    ("BZMPOP", "0", "3", "a", "MIN"),
]

WRONG_TYPE: list[Command] = [
    ("SET", "str", "v"),
    ("ZADD", "z", "1", "a"),
    ("BZPOPMIN", "str", "0"),
    ("BZPOPMIN", "nokey", "str", "z", "0"),
    ("BZPOPMAX", "str", "x"),
    ("BZMPOP", "0", "2", "str", "z", "MAX"),
    ("BZMPOP", "0", "3", "nokey", "str", "z", "MIN", "COUNT", "5"),
    ("BZPOPMIN", "z", "str", "0"),
    ("RPUSH", "list", "x"),
    ("BZPOPMAX", "list", "0.01"),
    ("BZMPOP", "0.01", "1", "list", "MIN"),
    ("LLEN", "list"),
]

IN_MULTI: list[Command] = [
    ("MULTI",),
    ("BZPOPMIN", "z", "0"),
    ("BZMPOP", "0", "1", "z", "MAX", "COUNT", "2"),
    ("ZADD", "z", "1", "a", "2", "b", "3", "c"),
    ("BZPOPMAX", "z", "0"),
    ("BZMPOP", "0", "1", "z", "MIN", "COUNT", "5"),
    ("BZPOPMIN", "z", "0"),
    ("EXEC",),
    ("MULTI",),
    ("BZPOPMIN", "z", "x"),
    ("EXEC",),
    ("MULTI",),
    ("BZPOPMIN", "z"),
    ("EXEC",),
    ("EXISTS", "z"),
]

SCRIPTS = {
    "immediate": IMMEDIATE,
    "timeouts": TIMEOUTS,
    "errors": ERRORS,
    "wrong_type": WRONG_TYPE,
    "in_multi": IN_MULTI,
}


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_blocking_zset_pops_match_redis(diff: Differential, name: str) -> None:
    diff.assert_same(SCRIPTS[name])


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_blocking_zset_pops_match_redis_resp3(diff3: Differential, name: str) -> None:
    diff3.assert_same(SCRIPTS[name])


def test_an_expired_key_is_a_missing_zset(diff: Differential) -> None:
    diff.assert_same([("ZADD", "k", "1", "a"), ("PEXPIRE", "k", "1")])
    wait_until(lambda: diff.send("EXISTS", "k") == (b":0\r\n", b":0\r\n"))
    diff.assert_same([("BZPOPMIN", "k", "0.01"), ("BZMPOP", "0.01", "1", "k", "MAX")])


# --- several clients: served later ---

SCENARIOS: dict[str, list[Step]] = {
    "fifo_per_key": [
        ("park", "a", "BZPOPMIN", "z", "0"),
        ("park", "b", "BZPOPMAX", "z", "0"),
        ("park", "c", "BZMPOP", "0", "2", "other", "z", "MIN", "COUNT", "5"),
        ("park", "d", "BZPOPMIN", "z", "0"),
        ("run", "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"),
        ("reply", "a"),
        ("reply", "b"),
        ("reply", "c"),
        ("run", "ZADD", "z", "9", "x"),
        ("reply", "d"),
        ("run", "EXISTS", "z"),
    ],
    "several_keys": [
        ("park", "a", "BZPOPMAX", "k1", "k2", "k1", "0"),
        ("park", "b", "BZMPOP", "0", "2", "k2", "k1", "MAX"),
        ("run", "ZADD", "k2", "1", "m", "2", "n"),
        ("reply", "a"),
        ("reply", "b"),
        ("run", "EXISTS", "k1", "k2"),
    ],
    "stores_wake_waiters": [
        ("run", "ZADD", "src", "1", "a", "2", "b", "3", "c"),
        ("run", "ZADD", "other", "2", "b", "9", "z"),
        ("park", "u", "BZPOPMIN", "u", "0"),
        ("park", "i", "BZPOPMAX", "i", "0"),
        ("park", "d", "BZMPOP", "0", "1", "d", "MIN", "COUNT", "9"),
        ("park", "r", "BZPOPMIN", "r", "0"),
        ("run", "ZUNIONSTORE", "u", "2", "src", "other"),
        ("reply", "u"),
        ("run", "ZINTERSTORE", "i", "2", "src", "other", "AGGREGATE", "MAX"),
        ("reply", "i"),
        ("run", "ZDIFFSTORE", "d", "2", "src", "other"),
        ("reply", "d"),
        ("run", "ZRANGESTORE", "r", "src", "1", "-1"),
        ("reply", "r"),
        ("run", "ZRANGE", "u", "0", "-1", "WITHSCORES"),
        ("run", "ZRANGE", "r", "0", "-1", "WITHSCORES"),
    ],
    "other_writers_wake_waiters": [
        ("park", "x", "BZPOPMIN", "x", "0"),
        ("park", "y", "BZPOPMIN", "y", "0"),
        ("park", "w", "BZPOPMIN", "w", "0"),
        ("run", "ZINCRBY", "x", "2.5", "m"),
        ("reply", "x"),
        ("run", "ZADD", "src", "1", "a", "2", "b"),
        ("run", "COPY", "src", "y"),
        ("reply", "y"),
        ("run", "RENAME", "src", "w"),
        ("reply", "w"),
        ("park", "m", "BZPOPMAX", "mv", "0"),
        ("run", "SELECT", "1"),
        ("run", "ZADD", "mv", "1", "elsewhere", "5", "moved"),
        ("run", "MOVE", "mv", "0"),
        ("run", "SELECT", "0"),
        ("reply", "m"),
        ("run", "ZRANGE", "mv", "0", "-1"),
    ],
    "wrong_type_and_overwrite": [
        ("park", "a", "BZPOPMIN", "k", "0"),
        ("park", "b", "BLPOP", "k", "0"),
        ("run", "RPUSH", "k", "x", "y"),
        ("reply", "b"),
        ("run", "DEL", "k"),
        ("run", "SET", "k", "string"),
        ("run", "ZADD", "src", "1", "a"),
        # Redis 7.0 wakes waiters only when a key comes into existence: ZUNIONSTORE
        # replacing a string, and ZADD on the result, leave the client blocked.
        ("run", "ZUNIONSTORE", "k", "1", "src"),
        ("run", "ZADD", "k", "2", "b"),
        ("run", "TYPE", "k"),
        ("run", "ZADD", "src2", "0", "z"),
        ("run", "RENAME", "src2", "k"),
        ("reply", "a"),
        ("run", "ZRANGE", "k", "0", "-1"),
    ],
    "list_overwritten_by_sort_store": [
        ("run", "RPUSH", "src", "3", "1", "2"),
        ("park", "a", "BLPOP", "k", "0"),
        ("run", "SET", "k", "string"),
        ("run", "SORT", "src", "STORE", "k"),
        ("run", "RPUSH", "k", "4"),
        ("run", "LRANGE", "k", "0", "-1"),
        ("run", "DEL", "k"),
        ("run", "SORT", "src", "DESC", "STORE", "k"),
        ("reply", "a"),
    ],
    "multi_exec_serves_after_exec": [
        ("park", "a", "BZPOPMIN", "z", "0"),
        ("park", "b", "BZPOPMIN", "z", "0"),
        ("run", "MULTI"),
        ("run", "ZADD", "z", "1", "a", "2", "b"),
        ("run", "ZPOPMIN", "z"),
        ("run", "EXEC"),
        ("reply", "a"),
        ("run", "MULTI"),
        ("run", "ZADD", "z", "3", "c"),
        ("run", "DEL", "z"),
        ("run", "EXEC"),
        ("run", "ZADD", "z", "4", "d"),
        ("reply", "b"),
    ],
    "disconnect_while_blocked": [
        ("park", "gone", "BZPOPMIN", "z", "0"),
        ("park", "stays", "BZMPOP", "0", "1", "z", "MAX", "COUNT", "2"),
        ("close", "gone"),
        ("run", "ZADD", "z", "1", "a", "2", "b", "3", "c"),
        ("reply", "stays"),
        ("run", "ZRANGE", "z", "0", "-1"),
    ],
}


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_served_clients_match_redis(
    shared_server: ServerProcess, real_redis: RealServer, name: str, resp3: bool
) -> None:
    steps = SCENARIOS[name]
    ours = run_on_wire(shared_server.port, steps, resp3)
    theirs = run_on_wire(real_redis.port, steps, resp3)
    assert ours == theirs


# --- the write stream ---


@pytest.fixture(scope="module")
def tapped_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealServer]:
    """A real redis-server of our own, with a replica link we read the stream from."""
    proc = start_real_redis(tmp_path_factory.mktemp("tapped-redis"))
    yield proc
    proc.stop()


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_write_stream_matches_what_redis_sends_its_replicas(
    tapped_redis: RealServer, name: str
) -> None:
    steps = SCENARIOS[name]
    tap = ReplicationTap(tapped_redis.port)
    try:
        tap.commands()
        run_on_wire(tapped_redis.port, steps)
        theirs = [argv for argv in tap.commands() if argv != [b"FLUSHALL"]]
    finally:
        tap.close()
    assert run_in_process(steps) == theirs

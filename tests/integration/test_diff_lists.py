"""Differential: every list command, its errors and edge cases, against a real redis-server;
blocking commands served later compared reply by reply (several parked clients), and their
write stream compared with what a real Redis sends its replicas."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.differential import Differential
from tests.multiclient import Step, run_in_process, run_on_wire
from tests.replication_tap import ReplicationTap
from tests.support import RealServer, ServerProcess, start_real_redis, wait_until

pytestmark = pytest.mark.integration

I64_MAX = "9223372036854775807"
I64_MIN = "-9223372036854775808"
TOO_BIG = "9223372036854775808"

ARITY = [
    ("LPUSH", "k"),
    ("RPUSH",),
    ("LPUSHX", "k"),
    ("RPUSHX", "k"),
    ("LPOP",),
    ("RPOP",),
    ("LPOP", "k", "1", "2"),
    ("RPOP", "k", "1", "2"),
    ("LLEN",),
    ("LLEN", "a", "b"),
    ("LRANGE", "k", "0"),
    ("LINDEX", "k"),
    ("LSET", "k", "0"),
    ("LINSERT", "k", "BEFORE", "a"),
    ("LREM", "k", "0"),
    ("LTRIM", "k", "0"),
    ("LPOS", "k"),
    ("LMOVE", "a", "b", "LEFT"),
    ("RPOPLPUSH", "a"),
    ("LMPOP", "1", "a"),
    ("BLPOP", "k"),
    ("BRPOP", "k"),
    ("BLMOVE", "a", "b", "LEFT", "LEFT"),
    ("BRPOPLPUSH", "a", "b"),
    ("BLMPOP", "0", "1", "a"),
    ("CLIENT", "UNBLOCK"),
]

PUSH_AND_READ = [
    ("RPUSH", "k", "a", "b", "c"),
    ("LPUSH", "k", "x", "y"),
    ("LPUSHX", "k", "p"),
    ("RPUSHX", "k", "q", "r"),
    ("LPUSHX", "nokey", "p"),
    ("RPUSHX", "nokey", "p"),
    ("EXISTS", "nokey"),
    ("TYPE", "k"),
    ("LLEN", "k"),
    ("LLEN", "nokey"),
    ("LRANGE", "k", "0", "-1"),
    ("LRANGE", "k", "2", "4"),
    ("LRANGE", "k", "-3", "-1"),
    ("LRANGE", "k", "-100", "1"),
    ("LRANGE", "k", "5", "100"),
    ("LRANGE", "k", "4", "3"),
    ("LRANGE", "k", "100", "200"),
    ("LRANGE", "k", "-1", "-2"),
    ("LRANGE", "k", I64_MIN, I64_MAX),
    ("LRANGE", "k", "0", TOO_BIG),
    ("LRANGE", "k", "x", "1"),
    ("LRANGE", "k", "1", "1.5"),
    ("LRANGE", "nokey", "0", "-1"),
    ("LRANGE", "nokey", "x", "-1"),
    ("LINDEX", "k", "0"),
    ("LINDEX", "k", "-1"),
    ("LINDEX", "k", "-8"),
    ("LINDEX", "k", "8"),
    ("LINDEX", "k", I64_MIN),
    ("LINDEX", "k", "x"),
    ("LINDEX", "nokey", "0"),
    ("LINDEX", "nokey", "x"),
    ("LSET", "k", "0", "first"),
    ("LSET", "k", "-1", "last"),
    ("LSET", "k", "8", "v"),
    ("LSET", "k", "-9", "v"),
    ("LSET", "k", "x", "v"),
    ("LSET", "nokey", "0", "v"),
    ("LSET", "nokey", "x", "v"),
    ("LRANGE", "k", "0", "-1"),
    ("RPUSH", "bin", "\x00\xff", "", "a b"),
    ("LRANGE", "bin", "0", "-1"),
    ("LPOS", "bin", ""),
]

INSERT_REMOVE_TRIM = [
    ("RPUSH", "l", "a", "b", "a", "c", "a", "b"),
    ("LINSERT", "l", "BEFORE", "b", "0"),
    ("LINSERT", "l", "after", "b", "1"),
    ("LINSERT", "l", "AFTER", "zz", "1"),
    ("LINSERT", "l", "MIDDLE", "b", "1"),
    ("LINSERT", "nokey", "BEFORE", "a", "b"),
    ("LINSERT", "nokey", "MIDDLE", "a", "b"),
    ("LRANGE", "l", "0", "-1"),
    ("LREM", "l", "1", "a"),
    ("LREM", "l", "-1", "a"),
    ("LREM", "l", "0", "b"),
    ("LREM", "l", "0", "zz"),
    ("LREM", "l", "x", "a"),
    ("LREM", "nokey", "0", "a"),
    ("LREM", "nokey", "x", "a"),
    ("LRANGE", "l", "0", "-1"),
    ("LREM", "l", "0", "0"),
    ("LREM", "l", "0", "1"),
    ("LREM", "l", "0", "c"),
    ("LREM", "l", "-5", "a"),
    ("EXISTS", "l"),
    ("RPUSH", "t", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"),
    ("LTRIM", "t", "1", "-2"),
    ("LRANGE", "t", "0", "-1"),
    ("LTRIM", "t", "-3", "100"),
    ("LRANGE", "t", "0", "-1"),
    ("LTRIM", "t", "0", "-1"),
    ("LTRIM", "t", "x", "1"),
    ("LTRIM", "t", "5", "1"),
    ("EXISTS", "t"),
    ("LTRIM", "nokey", "0", "1"),
    ("LTRIM", "nokey", "0", "x"),
]

LPOS = [
    ("RPUSH", "p", "a", "b", "c", "1", "2", "3", "c", "c"),
    ("LPOS", "p", "c"),
    ("LPOS", "p", "c", "RANK", "2"),
    ("LPOS", "p", "c", "RANK", "-1"),
    ("LPOS", "p", "c", "RANK", "-3"),
    ("LPOS", "p", "c", "RANK", "4"),
    ("LPOS", "p", "c", "COUNT", "0"),
    ("LPOS", "p", "c", "COUNT", "2"),
    ("LPOS", "p", "c", "COUNT", "2", "RANK", "-1"),
    ("LPOS", "p", "c", "COUNT", "0", "MAXLEN", "7"),
    ("LPOS", "p", "c", "MAXLEN", "2"),
    ("LPOS", "p", "c", "rank", "-1", "maxlen", "1"),
    ("LPOS", "p", "zz"),
    ("LPOS", "p", "zz", "COUNT", "1"),
    ("LPOS", "p", "c", "RANK", I64_MAX),
    ("LPOS", "p", "c", "RANK", I64_MIN),
    ("LPOS", "p", "c", "RANK", I64_MIN, "COUNT", "1"),
    ("LPOS", "p", "c", "RANK", "0"),
    ("LPOS", "p", "c", "RANK", "x"),
    ("LPOS", "p", "c", "COUNT", "-1"),
    ("LPOS", "p", "c", "COUNT", "x"),
    ("LPOS", "p", "c", "MAXLEN", "-1"),
    ("LPOS", "p", "c", "MAXLEN", "x"),
    ("LPOS", "p", "c", "RANK"),
    ("LPOS", "p", "c", "FOO", "1"),
    ("LPOS", "nokey", "c"),
    ("LPOS", "nokey", "c", "COUNT", "3"),
    ("LPOS", "nokey", "c", "RANK", "0"),
]

POPS = [
    ("RPUSH", "q", "1", "2", "3", "4", "5", "6"),
    ("LPOP", "q"),
    ("RPOP", "q"),
    ("LPOP", "q", "0"),
    ("LPOP", "q", "2"),
    ("RPOP", "q", "1"),
    ("LPOP", "q", "-1"),
    ("LPOP", "q", "x"),
    ("RPOP", "q", TOO_BIG),
    ("RPOP", "q", "10"),
    ("EXISTS", "q"),
    ("LPOP", "nokey"),
    ("RPOP", "nokey"),
    ("LPOP", "nokey", "0"),
    ("LPOP", "nokey", "3"),
    ("RPOP", "nokey", "-3"),
    ("RPUSH", "m2", "a", "b", "c"),
    ("LMPOP", "2", "m1", "m2", "LEFT"),
    ("LMPOP", "2", "m1", "m2", "RIGHT", "COUNT", "1"),
    ("LMPOP", "2", "m1", "m2", "left", "count", "10"),
    ("LMPOP", "2", "m1", "m2", "LEFT"),
    ("LMPOP", "0", "a", "LEFT"),
    ("LMPOP", "-1", "a", "LEFT"),
    ("LMPOP", "x", "a", "LEFT"),
    ("LMPOP", "2", "a", "LEFT"),
    ("LMPOP", I64_MAX, "a", "LEFT"),
    ("LMPOP", "1", "a", "UP"),
    ("LMPOP", "1", "a", "LEFT", "COUNT", "0"),
    ("LMPOP", "1", "a", "LEFT", "COUNT", "-1"),
    ("LMPOP", "1", "a", "LEFT", "COUNT", "x"),
    ("LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "2"),
    ("LMPOP", "1", "a", "LEFT", "COUNT"),
    ("LMPOP", "1", "a", "LEFT", "FOO"),
]

MOVES = [
    ("RPUSH", "s", "1", "2", "3", "4"),
    ("LMOVE", "s", "d", "LEFT", "RIGHT"),
    ("LMOVE", "s", "d", "right", "left"),
    ("LMOVE", "s", "d", "LEFT", "LEFT"),
    ("LMOVE", "s", "d", "RIGHT", "RIGHT"),
    ("LMOVE", "s", "d", "LEFT", "RIGHT"),
    ("EXISTS", "s"),
    ("LRANGE", "d", "0", "-1"),
    ("LMOVE", "d", "d", "LEFT", "RIGHT"),
    ("LRANGE", "d", "0", "-1"),
    ("RPOPLPUSH", "d", "d"),
    ("LRANGE", "d", "0", "-1"),
    ("RPOPLPUSH", "d", "e"),
    ("RPOPLPUSH", "nokey", "e"),
    ("LMOVE", "nokey", "e", "LEFT", "LEFT"),
    ("LMOVE", "d", "e", "UP", "LEFT"),
    ("LMOVE", "d", "e", "LEFT", "DOWN"),
    ("LMOVE", "nokey", "e", "UP", "LEFT"),
    ("LRANGE", "e", "0", "-1"),
]

BLOCKING_WITH_DATA = [
    ("RPUSH", "b", "1", "2", "3", "4", "5"),
    ("BLPOP", "nokey", "b", "0"),
    ("BRPOP", "nokey", "b", "0"),
    ("BLPOP", "b", "b", "1"),
    ("BLMPOP", "0", "2", "nokey", "b", "LEFT"),
    ("BLMPOP", "0.5", "1", "b", "RIGHT", "COUNT", "9"),
    ("EXISTS", "b"),
    ("RPUSH", "s", "1", "2", "3"),
    ("BLMOVE", "s", "d", "LEFT", "RIGHT", "0"),
    ("BLMOVE", "s", "d", "right", "left", "0"),
    ("BRPOPLPUSH", "s", "d", "0"),
    ("EXISTS", "s"),
    ("LRANGE", "d", "0", "-1"),
    ("BLMOVE", "d", "d", "LEFT", "RIGHT", "0"),
    ("LRANGE", "d", "0", "-1"),
]

BLOCKING_TIMEOUTS = [
    ("BLPOP", "nokey", "0.01"),
    ("BRPOP", "nokey", "other", "0.01"),
    ("BLMPOP", "0.01", "1", "nokey", "LEFT"),
    ("BLMPOP", "0.01", "2", "nokey", "other", "RIGHT", "COUNT", "2"),
    ("BLMOVE", "nokey", "d", "LEFT", "LEFT", "0.01"),
    ("BRPOPLPUSH", "nokey", "d", "0.01"),
    ("BLPOP", "nokey", "1e-400"),
    ("BLPOP", "nokey", "0x1p-8"),
    ("EXISTS", "d"),
]

BLOCKING_ERRORS = [
    ("BLPOP", "k", "x"),
    ("BLPOP", "k", ""),
    ("BLPOP", "k", " 1"),
    ("BLPOP", "k", "1 "),
    ("BLPOP", "k", "nan"),
    ("BLPOP", "k", "1e5000"),
    ("BLPOP", "k", "1e-5000"),
    ("BLPOP", "k", "-1"),
    ("BLPOP", "k", "-0.002"),
    ("BRPOP", "k", "inf"),
    ("BRPOP", "k", "-inf"),
    ("BRPOP", "k", "1e16"),
    ("BLMOVE", "a", "b", "UP", "LEFT", "x"),
    ("BLMOVE", "a", "b", "LEFT", "UP", "x"),
    ("BLMOVE", "a", "b", "LEFT", "LEFT", "x"),
    ("BLMOVE", "a", "b", "LEFT", "LEFT", "-1"),
    ("BRPOPLPUSH", "a", "b", "x"),
    ("BRPOPLPUSH", "a", "b", "-1"),
    ("BLMPOP", "x", "0", "a", "LEFT"),
    ("BLMPOP", "x", "1", "a", "UP"),
    ("BLMPOP", "x", "1", "a", "LEFT", "COUNT", "0"),
    ("BLMPOP", "x", "1", "a", "LEFT"),
    ("BLMPOP", "-1", "1", "a", "LEFT"),
    ("BLMPOP", "0", "2", "a", "LEFT"),
    ("BLMPOP", "0", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1"),
]

WRONG_TYPE = [
    ("SET", "str", "v"),
    ("LPUSH", "str", "a"),
    ("RPUSH", "str", "a"),
    ("LPUSHX", "str", "a"),
    ("RPUSHX", "str", "a"),
    ("LLEN", "str"),
    ("LRANGE", "str", "0", "-1"),
    ("LRANGE", "str", "x", "-1"),
    ("LINDEX", "str", "0"),
    ("LINDEX", "str", "x"),
    ("LSET", "str", "0", "v"),
    ("LSET", "str", "x", "v"),
    ("LINSERT", "str", "BEFORE", "a", "b"),
    ("LINSERT", "str", "MIDDLE", "a", "b"),
    ("LREM", "str", "0", "a"),
    ("LTRIM", "str", "0", "1"),
    ("LPOS", "str", "a"),
    ("LPOS", "str", "a", "RANK", "0"),
    ("LPOP", "str"),
    ("RPOP", "str", "2"),
    ("LPOP", "str", "0"),
    ("LPOP", "str", "-1"),
    ("LMPOP", "2", "nokey", "str", "LEFT"),
    ("RPUSH", "list", "x"),
    ("LMOVE", "str", "list", "LEFT", "LEFT"),
    ("LMOVE", "list", "str", "LEFT", "LEFT"),
    ("RPOPLPUSH", "list", "str"),
    ("RPOPLPUSH", "nokey", "str"),
    ("LRANGE", "list", "0", "-1"),
    ("BLPOP", "nokey", "str", "0"),
    ("BRPOP", "str", "list", "0"),
    ("BLMPOP", "0", "2", "nokey", "str", "LEFT"),
    ("BLMOVE", "str", "list", "LEFT", "LEFT", "0"),
    ("BLMOVE", "list", "str", "LEFT", "LEFT", "0"),
    ("BRPOPLPUSH", "list", "str", "0"),
    ("LRANGE", "list", "0", "-1"),
    ("BLMOVE", "nokey", "str", "LEFT", "LEFT", "0.01"),
    ("CLIENT", "UNBLOCK", "1", "foo"),
    ("CLIENT", "UNBLOCK", "x", "foo"),
    ("CLIENT", "UNBLOCK", "x"),
    ("CLIENT", "UNBLOCK", "1", "timeout", "x"),
    ("CLIENT", "UNBLOCK", "999999"),
    ("CLIENT", "UNBLOCK", "-1", "ERROR"),
]

SCRIPTS = {
    "arity": ARITY,
    "push_and_read": PUSH_AND_READ,
    "insert_remove_trim": INSERT_REMOVE_TRIM,
    "lpos": LPOS,
    "pops": POPS,
    "moves": MOVES,
    "blocking_with_data": BLOCKING_WITH_DATA,
    "blocking_timeouts": BLOCKING_TIMEOUTS,
    "blocking_errors": BLOCKING_ERRORS,
    "wrong_type": WRONG_TYPE,
}


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_list_commands_match_redis(diff: Differential, name: str) -> None:
    diff.assert_same(SCRIPTS[name])


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_list_commands_match_redis_resp3(diff3: Differential, name: str) -> None:
    diff3.assert_same(SCRIPTS[name])


def test_an_expired_key_is_a_missing_list(diff: Differential) -> None:
    diff.assert_same([("SET", "k", "v", "PX", "1")])
    wait_until(lambda: diff.send("EXISTS", "k") == (b":0\r\n", b":0\r\n"))
    diff.assert_same(
        [
            ("LLEN", "k"),
            ("LPOP", "k"),
            ("LPOP", "k", "1"),
            ("LINDEX", "k", "0"),
            ("LSET", "k", "0", "v"),
            ("RPUSHX", "k", "v"),
            ("BLPOP", "k", "0.01"),
            ("RPUSH", "k", "a"),
            ("LRANGE", "k", "0", "-1"),
        ]
    )


def test_long_lists_match_redis(diff: Differential) -> None:
    values = [str(i % 7) for i in range(500)]
    diff.assert_same(
        [
            ("RPUSH", "big", *values),
            ("LRANGE", "big", "490", "-1"),
            ("LRANGE", "big", "-495", "12"),
            ("LINDEX", "big", "250"),
            ("LPOS", "big", "3", "RANK", "-5", "COUNT", "4"),
            ("LPOS", "big", "3", "COUNT", "0", "MAXLEN", "30"),
            ("LREM", "big", "-3", "6"),
            ("LREM", "big", "10", "5"),
            ("LTRIM", "big", "100", "-100"),
            ("LLEN", "big"),
            ("LPOP", "big", "17"),
            ("RPOP", "big", "23"),
            ("LRANGE", "big", "0", "-1"),
        ]
    )


# --- several clients: blocking commands served later ---

SERVED: dict[str, list[Step]] = {
    "fifo": [
        ("park", "a", "BLPOP", "k", "0"),
        ("park", "b", "BRPOP", "other", "k", "0"),
        ("park", "c", "BLMPOP", "0", "1", "k", "RIGHT", "COUNT", "5"),
        ("park", "d", "BLPOP", "k", "0"),
        ("run", "RPUSH", "k", "1", "2", "3", "4", "5"),
        ("reply", "a"),
        ("reply", "b"),
        ("reply", "c"),
        ("run", "LPUSH", "k", "x"),
        ("reply", "d"),
        ("run", "EXISTS", "k"),
    ],
    "moves_chain": [
        ("park", "m", "BLMOVE", "src", "mid", "RIGHT", "LEFT", "0"),
        ("park", "n", "BRPOPLPUSH", "mid", "dst", "0"),
        ("park", "p", "BLMPOP", "0", "1", "dst", "LEFT", "COUNT", "2"),
        ("run", "RPUSH", "src", "a", "b"),
        ("reply", "m"),
        ("reply", "n"),
        ("reply", "p"),
        ("run", "LRANGE", "src", "0", "-1"),
        ("run", "EXISTS", "mid", "dst"),
    ],
    "move_into_wrong_type": [
        ("run", "SET", "dst", "string"),
        ("park", "m", "BLMOVE", "src", "dst", "LEFT", "LEFT", "0"),
        ("park", "p", "BLPOP", "src", "0"),
        ("run", "RPUSH", "src", "v"),
        ("reply", "m"),
        ("reply", "p"),
    ],
    "wake_by_other_writers": [
        ("run", "RPUSH", "src", "1", "2", "3"),
        ("park", "a", "BLPOP", "l1", "0"),
        ("park", "b", "BRPOP", "l2", "0"),
        ("park", "c", "BLPOP", "l3", "0"),
        ("run", "LMOVE", "src", "l1", "LEFT", "RIGHT"),
        ("reply", "a"),
        ("run", "SORT", "src", "STORE", "l2"),
        ("reply", "b"),
        ("run", "RENAME", "src", "l3"),
        ("reply", "c"),
    ],
    "transaction": [
        ("park", "a", "BLPOP", "k", "0"),
        ("run", "MULTI"),
        ("run", "RPUSH", "k", "1", "2"),
        ("run", "LPOP", "k"),
        ("run", "EXEC"),
        ("reply", "a"),
        ("park", "b", "BLPOP", "k2", "0"),
        ("run", "MULTI"),
        ("run", "RPUSH", "k2", "1"),
        ("run", "DEL", "k2"),
        ("run", "EXEC"),
        ("run", "RPUSH", "k2", "2"),
        ("reply", "b"),
    ],
    "disconnect": [
        ("park", "gone", "BLPOP", "k", "0"),
        ("park", "stays", "BLMOVE", "k", "d", "LEFT", "RIGHT", "0"),
        ("close", "gone"),
        ("run", "RPUSH", "k", "1", "2"),
        ("reply", "stays"),
        ("run", "LRANGE", "k", "0", "-1"),
    ],
}


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
@pytest.mark.parametrize("name", list(SERVED))
def test_served_clients_match_redis(
    shared_server: ServerProcess, real_redis: RealServer, name: str, resp3: bool
) -> None:
    steps = SERVED[name]
    assert run_on_wire(shared_server.port, steps, resp3) == run_on_wire(
        real_redis.port, steps, resp3
    )


@pytest.fixture(scope="module")
def tapped_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealServer]:
    """A real redis-server of our own, with a replica link we read the stream from."""
    proc = start_real_redis(tmp_path_factory.mktemp("tapped-redis-lists"))
    yield proc
    proc.stop()


@pytest.mark.parametrize("name", list(SERVED))
def test_write_stream_matches_what_redis_sends_its_replicas(
    tapped_redis: RealServer, name: str
) -> None:
    tap = ReplicationTap(tapped_redis.port)
    try:
        tap.commands()
        run_on_wire(tapped_redis.port, SERVED[name])
        theirs = [argv for argv in tap.commands() if argv != [b"FLUSHALL"]]
    finally:
        tap.close()
    assert run_in_process(SERVED[name]) == theirs

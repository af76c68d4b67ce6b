"""Differential: the set family against a real redis-server, in RESP2 and RESP3."""

from __future__ import annotations

import pytest
from hiredis import Reader

from tests.differential import Command, Differential, shape, unordered
from tests.encodings import Check, Step, encoding_mismatches
from tests.support import RawClient, RealServer, ServerProcess

pytestmark = pytest.mark.integration

WRONG_TYPE: list[Command] = [
    ("SET", "str", "x"),
    ("SADD", "s", "1"),
    ("SADD", "str", "m"),
    ("SREM", "str", "m"),
    ("SCARD", "str"),
    ("SISMEMBER", "str", "m"),
    ("SMISMEMBER", "str", "m", "n"),
    ("SMEMBERS", "str"),
    ("SPOP", "str"),
    ("SPOP", "str", "1"),
    ("SRANDMEMBER", "str"),
    ("SRANDMEMBER", "str", "2"),
    ("SMOVE", "str", "s", "m"),
    ("SMOVE", "s", "str", "1"),
    ("SMOVE", "s", "str", "nope"),
    ("SMOVE", "nokey", "str", "1"),
    ("SINTER", "s", "str"),
    ("SINTER", "nokey", "str"),
    ("SINTERCARD", "2", "s", "str"),
    ("SINTERSTORE", "d", "s", "str"),
    ("SINTERSTORE", "d", "nokey", "str"),
    ("SUNION", "s", "str"),
    ("SUNIONSTORE", "d", "str"),
    ("SDIFF", "str", "s"),
    ("SDIFF", "s", "str"),
    ("SDIFF", "nokey", "str"),
    ("SDIFFSTORE", "d", "s", "str"),
    ("SSCAN", "str", "0"),
    # Argument errors come before the type check where Redis parses them first.
    ("SPOP", "str", "-1"),
    ("SPOP", "str", "x"),
    ("SRANDMEMBER", "str", "x"),
    ("SSCAN", "str", "x"),
    ("SINTERCARD", "0", "str"),
    ("SSCAN", "str", "0", "COUNT", "0"),
    ("EXISTS", "d"),
    ("GET", "str"),
]

ARITY: list[Command] = [
    ("SADD", "s"),
    ("SREM", "s"),
    ("SCARD",),
    ("SCARD", "s", "t"),
    ("SISMEMBER", "s"),
    ("SISMEMBER", "s", "a", "b"),
    ("SMISMEMBER", "s"),
    ("SMEMBERS",),
    ("SMEMBERS", "s", "t"),
    ("SPOP",),
    ("SPOP", "s", "1", "2"),
    ("SRANDMEMBER",),
    ("SRANDMEMBER", "s", "1", "2"),
    ("SMOVE", "s", "t"),
    ("SINTER",),
    ("SINTERCARD", "1"),
    ("SINTERSTORE", "d"),
    ("SUNION",),
    ("SUNIONSTORE", "d"),
    ("SDIFF",),
    ("SDIFFSTORE", "d"),
    ("SSCAN", "s"),
]

BASICS: list[Command] = [
    ("SADD", "s", "3", "1", "2"),
    ("SADD", "s", "2", "4", "4"),
    ("SADD", "s", "1"),
    ("SMEMBERS", "s"),
    ("SCARD", "s"),
    ("SCARD", "nokey"),
    ("SISMEMBER", "s", "1"),
    ("SISMEMBER", "s", "01"),
    ("SISMEMBER", "s", "9"),
    ("SISMEMBER", "nokey", "1"),
    ("SMISMEMBER", "s", "1", "9", "2", "1"),
    ("SMISMEMBER", "nokey", "1", "2"),
    ("SMEMBERS", "nokey"),
    ("SADD", "s", "-5", "9223372036854775807", "-9223372036854775808"),
    ("SMEMBERS", "s"),
    ("SREM", "s", "4", "4", "nope", "01"),
    ("SREM", "s", "nope"),
    ("SREM", "nokey", "a"),
    ("SMEMBERS", "s"),
    ("SREM", "s", "1", "2", "3", "-5", "9223372036854775807", "-9223372036854775808", "x"),
    ("EXISTS", "s"),
    ("SADD", "t", "b", "a", ""),
    unordered("SMEMBERS", "t"),
    ("SISMEMBER", "t", ""),
    ("SREM", "t", "a", "b", ""),
    ("EXISTS", "t"),
    ("TYPE", "t"),
    ("SADD", "bin", "\x00\r\n", "\xff"),
    unordered("SMEMBERS", "bin"),
]

MOVE: list[Command] = [
    ("SADD", "src", "1", "2", "a"),
    ("SADD", "dst", "5"),
    ("SMOVE", "src", "dst", "1"),
    ("SMOVE", "src", "dst", "1"),
    ("SMOVE", "src", "dst", "nope"),
    ("SMEMBERS", "dst"),
    ("SMOVE", "src", "src", "2"),
    ("SMOVE", "src", "src", "nope"),
    ("SMOVE", "src", "fresh", "2"),
    ("SMEMBERS", "fresh"),
    ("SMOVE", "src", "fresh2", "a"),
    ("SMEMBERS", "fresh2"),
    ("EXISTS", "src"),
    ("SMOVE", "nokey", "dst", "1"),
    ("SADD", "x", "5"),
    ("SMOVE", "x", "dst", "5"),
    ("EXISTS", "x"),
    ("SMEMBERS", "dst"),
]

POP_RAND: list[Command] = [
    ("SADD", "one", "only"),
    ("SPOP", "nokey"),
    ("SPOP", "nokey", "3"),
    ("SPOP", "one", "0"),
    ("SPOP", "one", "-1"),
    ("SPOP", "one", "x"),
    ("SPOP", "one", "9223372036854775808"),
    ("SPOP", "one"),
    ("EXISTS", "one"),
    ("SADD", "s", "3", "1", "2"),
    ("SPOP", "s", "3"),
    ("EXISTS", "s"),
    ("SADD", "s", "3", "1", "2"),
    ("SPOP", "s", "100"),
    ("SADD", "w", "b", "a"),
    unordered("SPOP", "w", "5"),
    ("SADD", "r", "5", "1", "3", "2", "4"),
    shape("SPOP", "r"),
    shape("SPOP", "r", "2"),
    ("SCARD", "r"),
    shape("SPOP", "r", "1"),
    ("SCARD", "r"),
    ("SADD", "one", "only"),
    ("SRANDMEMBER", "nokey"),
    ("SRANDMEMBER", "nokey", "3"),
    ("SRANDMEMBER", "nokey", "-3"),
    ("SRANDMEMBER", "one"),
    ("SRANDMEMBER", "one", "0"),
    ("SRANDMEMBER", "one", "1"),
    ("SRANDMEMBER", "one", "5"),
    ("SRANDMEMBER", "one", "-3"),
    ("SADD", "s", "30", "10", "20"),
    ("SRANDMEMBER", "s", "3"),
    ("SRANDMEMBER", "s", "100"),
    shape("SRANDMEMBER", "s"),
    shape("SRANDMEMBER", "s", "2"),
    shape("SRANDMEMBER", "s", "-10"),
    ("SRANDMEMBER", "s", "x"),
    ("SRANDMEMBER", "s", "-9223372036854775808"),
    ("SRANDMEMBER", "s", "9223372036854775807"),
    ("SRANDMEMBER", "nokey", "x"),
]

ALGEBRA: list[Command] = [
    ("SADD", "a", "1", "2", "3", "4"),
    ("SADD", "b", "3", "4", "5"),
    ("SADD", "c", "4", "x", "3", "y"),
    ("SADD", "d", "9"),
    ("SINTER", "a", "b"),
    ("SINTER", "a"),
    ("SINTER", "a", "a"),
    ("SINTER", "b", "a", "c"),
    ("SINTER", "a", "nokey"),
    ("SINTER", "nokey"),
    ("SINTER", "a", "d"),
    unordered("SINTER", "c", "c"),
    ("SINTERCARD", "2", "a", "b"),
    ("SINTERCARD", "1", "a"),
    ("SINTERCARD", "3", "a", "b", "c"),
    ("SINTERCARD", "3", "a", "b", "c", "LIMIT", "1"),
    ("SINTERCARD", "2", "a", "b", "limit", "0"),
    ("SINTERCARD", "2", "a", "b", "LIMIT", "5"),
    ("SINTERCARD", "2", "a", "nokey"),
    ("SINTERCARD", "2", "a", "a"),
    ("SINTERCARD", "0", "a"),
    ("SINTERCARD", "-1", "a"),
    ("SINTERCARD", "x", "a"),
    ("SINTERCARD", "3", "a", "b"),
    ("SINTERCARD", "1", "a", "LIMIT"),
    ("SINTERCARD", "1", "a", "LIMIT", "-1"),
    ("SINTERCARD", "1", "a", "LIMIT", "x"),
    ("SINTERCARD", "1", "a", "FOO", "1"),
    ("SINTERCARD", "1", "a", "LIMIT", "1", "LIMIT", "2"),
    ("SINTERSTORE", "dest", "a", "b"),
    ("SMEMBERS", "dest"),
    ("SINTERSTORE", "dest", "a", "c"),
    ("SMEMBERS", "dest"),
    ("SINTERSTORE", "dest", "a", "d"),
    ("EXISTS", "dest"),
    ("SINTERSTORE", "dest", "a", "d"),
    ("SINTERSTORE", "dest", "a"),
    ("SINTERSTORE", "dest", "a", "nokey"),
    ("EXISTS", "dest"),
    ("SET", "strdest", "x"),
    ("SINTERSTORE", "strdest", "a", "b"),
    ("TYPE", "strdest"),
    ("SINTERSTORE", "a", "a", "b"),
    ("SMEMBERS", "a"),
    ("SADD", "a", "1", "2"),
    ("SUNION", "a", "b"),
    ("SUNION", "a", "nokey"),
    ("SUNION", "nokey"),
    unordered("SUNION", "a", "c"),
    ("SUNIONSTORE", "u", "a", "b", "d"),
    ("SMEMBERS", "u"),
    ("SUNIONSTORE", "u", "nokey"),
    ("EXISTS", "u"),
    ("SUNIONSTORE", "u", "nokey"),
    ("SDIFF", "a", "b"),
    ("SDIFF", "a", "b", "c"),
    ("SDIFF", "a", "a"),
    ("SDIFF", "a", "b", "a"),
    ("SDIFF", "a"),
    ("SDIFF", "a", "nokey"),
    ("SDIFF", "nokey", "a"),
    unordered("SDIFF", "c", "a"),
    ("SDIFF", "c", "c", "a"),
    ("SDIFFSTORE", "df", "a", "b"),
    ("SMEMBERS", "df"),
    ("SDIFFSTORE", "df", "a", "a"),
    ("EXISTS", "df"),
    ("SDIFFSTORE", "df", "nokey", "a"),
    ("SDIFFSTORE", "a", "a", "d"),
    ("SMEMBERS", "a"),
]

SCAN: list[Command] = [
    ("SADD", "ints", "5", "3", "10", "1"),
    ("SSCAN", "ints", "0"),
    ("SSCAN", "ints", "0", "COUNT", "1"),
    ("SSCAN", "ints", "7", "MATCH", "1*"),
    ("SADD", "words", "foo"),
    ("SSCAN", "words", "0", "MATCH", "f?o"),
    ("SSCAN", "words", "0", "MATCH", "x*", "COUNT", "100"),
    ("SSCAN", "ints", "0", "COUNT", "0"),
    ("SSCAN", "ints", "0", "COUNT", "x"),
    ("SSCAN", "ints", "0", "COUNT"),
    ("SSCAN", "ints", "0", "MATCH"),
    ("SSCAN", "ints", "0", "TYPE", "set"),
    ("SSCAN", "ints", "0", "NOPE", "1"),
    ("SSCAN", "ints", "-1"),
    ("SSCAN", "ints", "x"),
    ("SSCAN", "ints", " 1"),
    ("SSCAN", "ints", "99999999999999999999"),
    ("SSCAN", "nokey", "0"),
    ("SSCAN", "nokey", "0", "BAD"),
]


def _big_sets_script() -> list[Command]:
    ints = [str(i) for i in range(600)]
    return [
        ("SADD", "bigi", *ints),
        ("SCARD", "bigi"),
        unordered("SMEMBERS", "bigi"),
        ("SADD", "small", "10", "20", "700"),
        ("SINTER", "small", "bigi"),
        ("SINTERCARD", "2", "bigi", "small"),
        ("SINTERCARD", "2", "bigi", "small", "LIMIT", "1"),
        unordered("SINTER", "bigi", "bigi"),
        unordered("SUNION", "small", "bigi"),
        unordered("SDIFF", "bigi", "small"),
        ("SDIFF", "small", "bigi"),
        ("SISMEMBER", "bigi", "599"),
        ("SMISMEMBER", "bigi", "0", "600", "-1"),
        unordered("SRANDMEMBER", "bigi", "1000"),
        shape("SRANDMEMBER", "bigi", "100"),
        shape("SRANDMEMBER", "bigi", "500"),
        shape("SRANDMEMBER", "bigi", "-700"),
        shape("SPOP", "bigi", "10"),
        shape("SPOP", "bigi", "500"),
        ("SCARD", "bigi"),
        # Which 90 remain is random; that they come back as one sorted intset is not.
        shape("SPOP", "bigi", "1000"),
        ("EXISTS", "bigi"),
        ("SMOVE", "small", "moved", "700"),
        ("SMEMBERS", "moved"),
    ]


SCRIPTS: dict[str, list[Command]] = {
    "wrong_type": WRONG_TYPE,
    "arity": ARITY,
    "basics": BASICS,
    "move": MOVE,
    "pop_rand": POP_RAND,
    "algebra": ALGEBRA,
    "scan": SCAN,
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_set_commands_match_redis(diff: Differential, name: str) -> None:
    diff.assert_same(SCRIPTS[name])


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_set_commands_match_redis_resp3(diff3: Differential, name: str) -> None:
    diff3.assert_same(SCRIPTS[name])


def test_big_sets_match_redis(diff: Differential) -> None:
    diff.assert_same(_big_sets_script())


def test_big_sets_match_redis_resp3(diff3: Differential) -> None:
    diff3.assert_same(_big_sets_script())


# --- OBJECT ENCODING: intset while every member is an integer and there are few enough ---


def _ints(start: int, stop: int) -> list[str]:
    return [str(i) for i in range(start, stop)]


SET_ENCODINGS: list[Step] = [
    ("SADD", "s", *_ints(0, 512)),
    Check("s"),
    ("SADD", "s", "0"),
    Check("s"),
    ("SADD", "s", "512"),
    Check("s"),
    ("SREM", "s", *_ints(1, 513)),
    Check("s"),
    ("DEL", "s"),
]
for i, member in enumerate(
    [
        "1",
        "-1",
        "0",
        "01",
        "-0",
        "+1",
        " 1",
        "1 ",
        "1.0",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "12345678901234567890",
        "",
        "abc",
    ]
):
    SET_ENCODINGS += [("SADD", f"m{i}", member), Check(f"m{i}")]
    SET_ENCODINGS += [("SADD", f"n{i}", "5"), ("SADD", f"n{i}", member), Check(f"n{i}")]
SET_ENCODINGS += [
    # SMOVE creates its destination for the member it moves.
    ("SADD", "src", "1", "a", "2"),
    ("SMOVE", "src", "dint", "1"),
    Check("dint"),
    ("SMOVE", "src", "dstr", "a"),
    Check("dstr"),
    ("SMOVE", "src", "dint", "2"),
    Check("dint"),
    ("SADD", "src", "x"),
    ("SMOVE", "src", "dint", "x"),
    Check("dint"),
    # The *STORE commands build their result as an intset first.
    ("SADD", "ints", "1", "2", "3"),
    ("SADD", "mixed", "1", "2", "b"),
    ("SADD", "big", *_ints(0, 600)),
    Check("big"),
    ("SINTERSTORE", "r1", "mixed", "ints"),
    Check("r1"),
    ("SINTERSTORE", "r2", "mixed", "mixed"),
    Check("r2"),
    ("SINTERSTORE", "r3", "big", "big"),
    Check("r3"),
    ("SINTERSTORE", "r4", "big", "ints"),
    Check("r4"),
    ("SUNIONSTORE", "r5", "ints", "mixed"),
    Check("r5"),
    ("SUNIONSTORE", "r6", "ints", "big"),
    Check("r6"),
    ("SUNIONSTORE", "r7", "ints"),
    Check("r7"),
    ("SDIFFSTORE", "r8", "mixed", "ints"),
    Check("r8"),
    ("SDIFFSTORE", "r9", "mixed", "b"),
    Check("r9"),
    # SDIFF's first algorithm adds only the survivors ...
    ("SADD", "hundred", *_ints(0, 100)),
    ("SDIFFSTORE", "r10", "big", "hundred"),
    Check("r10"),
    # ... its second copies the whole first set and then removes.
    ("SADD", "fifty", *_ints(0, 50)),
    ("SADD", "fifty2", *_ints(50, 100)),
    ("SDIFFSTORE", "r11", "big", "fifty", "fifty2"),
    Check("r11"),
    ("SCARD", "r11"),
    # SPOP rebuilds the set from what remains when it takes most of it.
    ("SADD", "p1", *_ints(0, 600)),
    ("SPOP", "p1", "550"),
    Check("p1"),
    ("SADD", "p2", *_ints(0, 600)),
    ("SPOP", "p2", "10"),
    Check("p2"),
    ("SADD", "p3", *_ints(0, 600)),
    ("SPOP", "p3", "80"),
    Check("p3"),
    ("SADD", "p4", *_ints(0, 600)),
    ("SPOP", "p4", "600"),
    Check("p4"),
    Check("nokey"),
]


def test_set_encodings_follow_redis(real_redis: RealServer) -> None:
    assert encoding_mismatches(real_redis.port, SET_ENCODINGS) == []


def test_set_encoding_limit_comes_from_config(real_redis: RealServer) -> None:
    steps: list[Step] = [
        ("SADD", "s", "1", "2"),
        Check("s"),
        ("SADD", "s", "3"),
        Check("s"),
        ("SUNIONSTORE", "u", "s"),
        Check("u"),
    ]
    assert encoding_mismatches(real_redis.port, steps, [("set-max-intset-entries", "2")]) == []
    zero: list[Step] = [("SADD", "s", "1"), Check("s")]
    assert encoding_mismatches(real_redis.port, zero, [("set-max-intset-entries", "0")]) == []


def _sscan_all(client: RawClient, *args: str) -> tuple[list[bytes], int]:
    collected: list[bytes] = []
    cursor = b"0"
    calls = 0
    while True:
        reader = Reader()
        reader.feed(client.command("SSCAN", "big", cursor, *args))
        cursor, members = reader.gets()
        collected += members
        calls += 1
        if cursor == b"0":
            return collected, calls


@pytest.mark.parametrize("resp3", [False, True])
def test_full_sscan_of_a_big_set_collects_what_redis_collects(
    shared_server: ServerProcess, real_redis: RealServer, resp3: bool
) -> None:
    d = Differential(shared_server.port, real_redis.port, resp3=resp3)
    try:
        d.send("SADD", "big", *[f"m{i}" for i in range(1000)])
        for args in [("COUNT", "13"), ("MATCH", "m2*", "COUNT", "40"), ()]:
            ours, our_calls = _sscan_all(d.ours, *args)
            theirs, _ = _sscan_all(d.theirs, *args)
            assert sorted(ours) == sorted(set(theirs))
            assert len(ours) == len(set(ours))
            assert our_calls > 1
    finally:
        d.close()

"""Differential: the hash family against a real redis-server, in RESP2 and RESP3."""

from __future__ import annotations

from typing import Any

import pytest
from hiredis import Reader

from tests.differential import Command, Differential, shape, unordered
from tests.encodings import Check, Step, encoding_mismatches
from tests.support import RawClient, RealServer, ServerProcess


def hiredis_parse(raw: bytes) -> Any:
    reader = Reader()
    reader.feed(raw)
    return reader.gets()


pytestmark = pytest.mark.integration

WRONG_TYPE: list[Command] = [
    ("SET", "str", "x"),
    ("HSET", "str", "f", "v"),
    ("HMSET", "str", "f", "v"),
    ("HSETNX", "str", "f", "v"),
    ("HGET", "str", "f"),
    ("HMGET", "str", "f", "g"),
    ("HDEL", "str", "f"),
    ("HLEN", "str"),
    ("HSTRLEN", "str", "f"),
    ("HEXISTS", "str", "f"),
    ("HKEYS", "str"),
    ("HVALS", "str"),
    ("HGETALL", "str"),
    ("HINCRBY", "str", "f", "1"),
    ("HINCRBYFLOAT", "str", "f", "1"),
    ("HRANDFIELD", "str"),
    ("HRANDFIELD", "str", "2"),
    ("HRANDFIELD", "str", "2", "WITHVALUES"),
    ("HSCAN", "str", "0"),
    # Argument errors come before the type check where Redis parses them first ...
    ("HINCRBY", "str", "f", "x"),
    ("HINCRBYFLOAT", "str", "f", "x"),
    ("HINCRBYFLOAT", "str", "f", "inf"),
    ("HRANDFIELD", "str", "x"),
    ("HRANDFIELD", "str", "1", "BAD"),
    ("HSCAN", "str", "x"),
    # ... and after it where Redis looks the key up first.
    ("HSCAN", "str", "0", "COUNT", "0"),
    ("GET", "str"),
]

ARITY: list[Command] = [
    ("HSET",),
    ("HSET", "h"),
    ("HSET", "h", "f"),
    ("HSET", "h", "a", "1", "b"),
    ("HMSET", "h", "f"),
    ("HMSET", "h", "a", "1", "b"),
    ("HSETNX", "h", "f"),
    ("HSETNX", "h", "f", "v", "x"),
    ("HGET", "h"),
    ("HGET", "h", "f", "g"),
    ("HMGET", "h"),
    ("HDEL", "h"),
    ("HLEN",),
    ("HLEN", "h", "x"),
    ("HSTRLEN", "h"),
    ("HEXISTS", "h"),
    ("HKEYS", "h", "x"),
    ("HVALS",),
    ("HGETALL", "h", "x"),
    ("HINCRBY", "h", "f"),
    ("HINCRBYFLOAT", "h", "f", "1", "2"),
    ("HRANDFIELD",),
    ("HSCAN", "h"),
    ("EXISTS", "h"),
]

BASICS: list[Command] = [
    ("HSET", "h", "f1", "v1"),
    ("HSET", "h", "f2", "v2", "f3", "v3"),
    ("HSET", "h", "f1", "new", "f4", "v4"),
    ("HSET", "h", "f5", "a", "f5", "b"),
    ("HMSET", "h", "f6", "v6", "f7", "v7"),
    ("HMSET", "h", "f6", "again"),
    ("HGET", "h", "f1"),
    ("HGET", "h", "f5"),
    ("HGET", "h", "nope"),
    ("HGET", "nokey", "f"),
    ("HMGET", "h", "f1", "nope", "f2", "f1"),
    ("HMGET", "nokey", "a", "b"),
    ("HLEN", "h"),
    ("HLEN", "nokey"),
    ("HSTRLEN", "h", "f1"),
    ("HSTRLEN", "h", "nope"),
    ("HSTRLEN", "nokey", "f"),
    ("HEXISTS", "h", "f1"),
    ("HEXISTS", "h", "nope"),
    ("HEXISTS", "nokey", "f"),
    ("HKEYS", "h"),
    ("HVALS", "h"),
    ("HGETALL", "h"),
    ("HKEYS", "nokey"),
    ("HVALS", "nokey"),
    ("HGETALL", "nokey"),
    ("HSET", "h", "", ""),
    ("HGET", "h", ""),
    ("HSTRLEN", "h", ""),
    ("HSET", "h", "bin\x00\r\n", "\x00\xff"),
    ("HGET", "h", "bin\x00\r\n"),
    ("HSETNX", "h", "f1", "x"),
    ("HSETNX", "h", "nf", "x"),
    ("HSETNX", "newh", "f", "v"),
    ("HGETALL", "newh"),
    ("HDEL", "h", "f1", "f1", "nope", "f2"),
    ("HDEL", "h", "nope"),
    ("HDEL", "nokey", "f"),
    ("HDEL", "newh", "f", "g"),
    ("EXISTS", "newh"),
    ("HGETALL", "h"),
    ("HDEL", "h", "f3", "f4", "f5", "f6", "f7", "nf", "", "bin\x00\r\n", "after"),
    ("EXISTS", "h"),
    ("TYPE", "h"),
]

INCR: list[Command] = [
    ("HINCRBY", "h", "n", "5"),
    ("HINCRBY", "h", "n", "-10"),
    ("HINCRBY", "h", "n", "0"),
    ("HINCRBY", "h", "s", "1"),
    ("HSET", "h", "text", "abc"),
    ("HINCRBY", "h", "text", "1"),
    ("HSET", "h", "space", " 1"),
    ("HINCRBY", "h", "space", "1"),
    ("HSET", "h", "zero", "01"),
    ("HINCRBY", "h", "zero", "1"),
    ("HSET", "h", "float", "1.5"),
    ("HINCRBY", "h", "float", "1"),
    ("HINCRBY", "h", "n", "x"),
    ("HINCRBY", "h", "n", "1.5"),
    ("HINCRBY", "h", "n", ""),
    ("HINCRBY", "h", "n", "9223372036854775808"),
    ("HINCRBY", "h", "big", "9223372036854775807"),
    ("HINCRBY", "h", "big", "1"),
    ("HINCRBY", "h", "big", "-1"),
    ("HINCRBY", "h", "neg", "-9223372036854775808"),
    ("HINCRBY", "h", "neg", "-1"),
    ("HINCRBY", "h", "neg", "1"),
    ("HINCRBY", "newkey", "f", "7"),
    ("HGETALL", "newkey"),
    ("HINCRBYFLOAT", "h", "fl", "10.5"),
    ("HINCRBYFLOAT", "h", "fl", "0.1"),
    ("HINCRBYFLOAT", "h", "fl", "-5.0e3"),
    ("HINCRBYFLOAT", "h", "fl", "3.0e-18"),
    ("HINCRBYFLOAT", "h", "fl", "0x1p-2"),
    ("HINCRBYFLOAT", "h", "n", "1.5"),
    ("HINCRBYFLOAT", "h", "float", "-1.5"),
    ("HINCRBYFLOAT", "h", "p1", "0.1"),
    ("HINCRBYFLOAT", "h", "p1", "0.2"),
    ("HINCRBYFLOAT", "h", "p1", "-0.3"),
    ("HINCRBYFLOAT", "h", "e", "1e400"),
    ("HGET", "h", "e"),
    ("HINCRBYFLOAT", "h", "tiny", "1e-4950"),
    ("HINCRBYFLOAT", "h", "neg0", "-0"),
    ("HINCRBYFLOAT", "h", "big", "1"),
    ("HINCRBYFLOAT", "h", "text", "1"),
    ("HINCRBYFLOAT", "h", "fl", "abc"),
    ("HINCRBYFLOAT", "h", "fl", ""),
    ("HINCRBYFLOAT", "h", "fl", " 1"),
    ("HINCRBYFLOAT", "h", "fl", "1 "),
    ("HINCRBYFLOAT", "h", "fl", "inf"),
    ("HINCRBYFLOAT", "h", "fl", "-infinity"),
    ("HINCRBYFLOAT", "h", "fl", "nan"),
    ("HINCRBYFLOAT", "h", "fl", "1e-5000"),
    ("HINCRBYFLOAT", "h", "fl", "1e5000"),
    ("HINCRBYFLOAT", "nofloat", "f", "inf"),
    ("EXISTS", "nofloat"),
    ("HSET", "h", "infv", "inf"),
    ("HINCRBYFLOAT", "h", "infv", "1"),
    ("HSET", "h", "nanv", "nan"),
    ("HINCRBYFLOAT", "h", "nanv", "1"),
    ("HINCRBYFLOAT", "h", "huge", "1e4932"),
    ("HINCRBYFLOAT", "h", "huge", "1e4932"),
    ("HINCRBYFLOAT", "h", "hex", "0x10"),
    ("HINCRBYFLOAT", "h", "hex", "0X1.8P1"),
    # The long values made it a hash table, whose order Redis does not define.
    unordered("HGETALL", "h"),
]

RANDFIELD: list[Command] = [
    ("HSET", "h", "a", "1", "b", "2", "c", "3"),
    ("HSET", "one", "only", "v"),
    ("HRANDFIELD", "nokey"),
    ("HRANDFIELD", "nokey", "5"),
    ("HRANDFIELD", "nokey", "-5", "WITHVALUES"),
    ("HRANDFIELD", "h", "0"),
    ("HRANDFIELD", "h", "0", "WITHVALUES"),
    ("HRANDFIELD", "h", "3"),
    ("HRANDFIELD", "h", "100"),
    ("HRANDFIELD", "h", "100", "WITHVALUES"),
    ("HRANDFIELD", "h", "3", "withvalues"),
    ("HRANDFIELD", "one"),
    ("HRANDFIELD", "one", "1"),
    ("HRANDFIELD", "one", "1", "WITHVALUES"),
    ("HRANDFIELD", "one", "-3"),
    ("HRANDFIELD", "one", "-3", "WITHVALUES"),
    shape("HRANDFIELD", "h"),
    shape("HRANDFIELD", "h", "2"),
    shape("HRANDFIELD", "h", "-7"),
    shape("HRANDFIELD", "h", "2", "WITHVALUES"),
    shape("HRANDFIELD", "h", "-7", "WITHVALUES"),
    ("HRANDFIELD", "h", "x"),
    ("HRANDFIELD", "h", "1.5"),
    ("HRANDFIELD", "h", "-9223372036854775808"),
    ("HRANDFIELD", "h", "9223372036854775808"),
    ("HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"),
    ("HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"),
    ("HRANDFIELD", "h", "4611686018427387903", "WITHVALUES"),
    ("HRANDFIELD", "h", "2", "WITHVALUE"),
    ("HRANDFIELD", "h", "2", "WITHVALUES", "x"),
    ("HRANDFIELD", "nokey", "2", "BAD"),
]

SCAN: list[Command] = [
    ("HSET", "h", "foo", "1", "bar", "2", "food", "3", "x", "4"),
    ("HSCAN", "h", "0"),
    ("HSCAN", "h", "0", "MATCH", "fo*"),
    ("HSCAN", "h", "0", "match", "*"),
    ("HSCAN", "h", "0", "MATCH", "nothing"),
    ("HSCAN", "h", "0", "COUNT", "1"),
    ("HSCAN", "h", "0", "COUNT", "1", "MATCH", "b*", "COUNT", "5"),
    ("HSCAN", "h", "123"),
    ("HSCAN", "h", "-1"),
    ("HSCAN", "h", "+5"),
    ("HSCAN", "h", ""),
    ("HSCAN", "h", "18446744073709551615"),
    ("HSCAN", "h", "18446744073709551616"),
    ("HSCAN", "h", "-18446744073709551616"),
    ("HSCAN", "h", " 0"),
    ("HSCAN", "h", "0 "),
    ("HSCAN", "h", "x"),
    ("HSCAN", "h", "0x1"),
    ("HSCAN", "h", "+"),
    ("HSCAN", "h", "0", "COUNT", "0"),
    ("HSCAN", "h", "0", "COUNT", "-1"),
    ("HSCAN", "h", "0", "COUNT", "x"),
    ("HSCAN", "h", "0", "COUNT"),
    ("HSCAN", "h", "0", "MATCH"),
    ("HSCAN", "h", "0", "TYPE", "string"),
    ("HSCAN", "h", "0", "FOO", "bar"),
    ("HSCAN", "nokey", "0"),
    ("HSCAN", "nokey", "0", "COUNT", "0"),
    ("HSCAN", "nokey", "x"),
]


def _big_hash_script() -> list[Command]:
    fields: list[str] = []
    for i in range(600):
        fields += [f"field:{i}", str(i)]
    return [
        ("HSET", "big", *fields),
        ("HLEN", "big"),
        unordered("HKEYS", "big"),
        unordered("HVALS", "big"),
        unordered("HGETALL", "big"),
        ("HMGET", "big", "field:0", "field:599", "nope"),
        ("HDEL", "big", *[f"field:{i}" for i in range(0, 600, 2)]),
        ("HLEN", "big"),
        unordered("HKEYS", "big"),
        ("HRANDFIELD", "big", "0"),
        unordered("HRANDFIELD", "big", "1000", "WITHVALUES"),
        shape("HRANDFIELD", "big", "50"),
        shape("HRANDFIELD", "big", "290", "WITHVALUES"),
        shape("HRANDFIELD", "big", "-500", "WITHVALUES"),
        ("HINCRBY", "big", "field:1", "10"),
        ("HINCRBYFLOAT", "big", "field:3", "0.5"),
        ("HMGET", "big", "field:1", "field:3"),
    ]


SCRIPTS: dict[str, list[Command]] = {
    "wrong_type": WRONG_TYPE,
    "arity": ARITY,
    "basics": BASICS,
    "incr": INCR,
    "randfield": RANDFIELD,
    "scan": SCAN,
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_hash_commands_match_redis(diff: Differential, name: str) -> None:
    diff.assert_same(SCRIPTS[name])


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_hash_commands_match_redis_resp3(diff3: Differential, name: str) -> None:
    diff3.assert_same(SCRIPTS[name])


def test_big_hash_matches_redis(diff: Differential) -> None:
    diff.assert_same(_big_hash_script())


def test_big_hash_matches_redis_resp3(diff3: Differential) -> None:
    diff3.assert_same(_big_hash_script())


# --- OBJECT ENCODING: listpack until a limit is passed, then hashtable for good ---


def _fields(n: int, prefix: str = "f") -> list[str]:
    out: list[str] = []
    for i in range(n):
        out += [f"{prefix}{i}", str(i)]
    return out


HASH_ENCODINGS: list[Step] = [
    ("HSET", "h", *_fields(512)),
    Check("h"),
    ("HSET", "h", "f0", "changed"),
    Check("h"),
    ("HSET", "h", "one-more", "v"),
    Check("h"),
    ("HDEL", "h", *[f"f{i}" for i in range(512)]),
    Check("h"),
    ("DEL", "h"),
    ("HSET", "h", "a", "1"),
    Check("h"),
    ("HSET", "v64", "f", "x" * 64),
    Check("v64"),
    ("HSET", "v65", "f", "x" * 65),
    Check("v65"),
    ("HSET", "k65", "k" * 65, "v"),
    Check("k65"),
    # An update with a long value converts too, and so does a long value in any pair.
    ("HSET", "upd", "f", "short"),
    ("HSET", "upd", "f", "y" * 65),
    Check("upd"),
    ("HSET", "multi", "a", "1", "b", "z" * 65, "c", "3"),
    Check("multi"),
    # HSETNX on an existing field changes nothing, whatever the value's length.
    ("HSET", "nx", "f", "v"),
    ("HSETNX", "nx", "f", "w" * 100),
    Check("nx"),
    ("HSETNX", "nx", "g", "w" * 100),
    Check("nx"),
    ("HINCRBY", "incr", "i" * 65, "1"),
    Check("incr"),
    ("HINCRBY", "incr2", "f", "1"),
    Check("incr2"),
    ("HINCRBYFLOAT", "flt", "f", "1e100"),
    Check("flt"),
    ("HINCRBYFLOAT", "flt2", "f", "1.5"),
    Check("flt2"),
    # A failed write converts nothing.
    ("HSET", "err", "f", "text"),
    ("HINCRBY", "err", "f", "1"),
    Check("err"),
    Check("nokey"),
]


def test_hash_encodings_follow_redis(real_redis: RealServer) -> None:
    assert encoding_mismatches(real_redis.port, HASH_ENCODINGS) == []


def test_hash_encoding_limits_come_from_config(real_redis: RealServer) -> None:
    steps: list[Step] = [
        ("HSET", "h", "a", "1", "b", "2"),
        Check("h"),
        ("HSET", "h", "c", "3"),
        Check("h"),
        ("HSET", "v", "f", "12345"),
        Check("v"),
        ("HSET", "v", "f", "123456"),
        Check("v"),
    ]
    config = [("hash-max-listpack-entries", "2"), ("hash-max-listpack-value", "5")]
    assert encoding_mismatches(real_redis.port, steps, config) == []
    zero: list[Step] = [("HSET", "h", "a", "1"), Check("h")]
    assert encoding_mismatches(real_redis.port, zero, [("hash-max-listpack-entries", "0")]) == []


def _scan_all(client: RawClient, *args: str) -> tuple[dict[bytes, bytes], int]:
    """Follow HSCAN cursors to the end; return what was collected and how many calls."""
    collected: dict[bytes, bytes] = {}
    cursor = b"0"
    calls = 0
    while True:
        reply = hiredis_parse(client.command("HSCAN", "big", cursor, *args))
        cursor, flat = reply[0], reply[1]
        collected.update(zip(flat[::2], flat[1::2], strict=True))
        calls += 1
        if cursor == b"0":
            return collected, calls


@pytest.mark.parametrize("resp3", [False, True])
def test_full_hscan_of_a_big_hash_collects_what_redis_collects(
    shared_server: ServerProcess, real_redis: RealServer, resp3: bool
) -> None:
    d = Differential(shared_server.port, real_redis.port, resp3=resp3)
    try:
        fields: list[str] = []
        for i in range(1000):
            fields += [f"k{i}", f"v{i}"]
        d.send("HSET", "big", *fields)
        for args in [("COUNT", "17"), ("MATCH", "k1*", "COUNT", "50"), ()]:
            ours, our_calls = _scan_all(d.ours, *args)
            theirs, _ = _scan_all(d.theirs, *args)
            assert ours == theirs
            assert our_calls > 1
    finally:
        d.close()

"""The command table entries of the hash and set families match Redis 7.0.15's COMMAND INFO."""

from __future__ import annotations

import pytest

import server.commands  # noqa: F401  (registers the families)
from server.commands.table import COMMANDS, FLAG_NAMES

# name, arity, flags, legacy (first key, last key, step), as a real redis-server reports them.
EXPECTED = [
    ("hset", -4, ("write", "denyoom", "fast"), (1, 1, 1)),
    ("hsetnx", 4, ("write", "denyoom", "fast"), (1, 1, 1)),
    ("hget", 3, ("readonly", "fast"), (1, 1, 1)),
    ("hmget", -3, ("readonly", "fast"), (1, 1, 1)),
    ("hmset", -4, ("write", "denyoom", "fast"), (1, 1, 1)),
    ("hdel", -3, ("write", "fast"), (1, 1, 1)),
    ("hlen", 2, ("readonly", "fast"), (1, 1, 1)),
    ("hstrlen", 3, ("readonly", "fast"), (1, 1, 1)),
    ("hexists", 3, ("readonly", "fast"), (1, 1, 1)),
    ("hkeys", 2, ("readonly",), (1, 1, 1)),
    ("hvals", 2, ("readonly",), (1, 1, 1)),
    ("hgetall", 2, ("readonly",), (1, 1, 1)),
    ("hincrby", 4, ("write", "denyoom", "fast"), (1, 1, 1)),
    ("hincrbyfloat", 4, ("write", "denyoom", "fast"), (1, 1, 1)),
    ("hrandfield", -2, ("readonly",), (1, 1, 1)),
    ("hscan", -3, ("readonly",), (1, 1, 1)),
    ("sadd", -3, ("write", "denyoom", "fast"), (1, 1, 1)),
    ("srem", -3, ("write", "fast"), (1, 1, 1)),
    ("scard", 2, ("readonly", "fast"), (1, 1, 1)),
    ("sismember", 3, ("readonly", "fast"), (1, 1, 1)),
    ("smismember", -3, ("readonly", "fast"), (1, 1, 1)),
    ("smembers", 2, ("readonly",), (1, 1, 1)),
    ("spop", -2, ("write", "fast"), (1, 1, 1)),
    ("srandmember", -2, ("readonly",), (1, 1, 1)),
    ("smove", 4, ("write", "fast"), (1, 2, 1)),
    ("sinter", -2, ("readonly",), (1, -1, 1)),
    ("sintercard", -3, ("readonly",), (0, 0, 0)),
    ("sinterstore", -3, ("write", "denyoom"), (1, -1, 1)),
    ("sunion", -2, ("readonly",), (1, -1, 1)),
    ("sunionstore", -3, ("write", "denyoom"), (1, -1, 1)),
    ("sdiff", -2, ("readonly",), (1, -1, 1)),
    ("sdiffstore", -3, ("write", "denyoom"), (1, -1, 1)),
    ("sscan", -3, ("readonly",), (1, 1, 1)),
]


@pytest.mark.parametrize(("name", "arity", "flags", "keys"), EXPECTED)
def test_table_entry_matches_redis(
    name: str, arity: int, flags: tuple[str, ...], keys: tuple[int, int, int]
) -> None:
    spec = COMMANDS[name.upper().encode()]
    assert spec.arity == arity
    assert tuple(n.decode() for f, n in FLAG_NAMES if spec.flags & f) == flags
    assert (spec.first_key, spec.last_key, spec.key_step) == keys


def test_sintercard_keys_move_with_numkeys() -> None:
    spec = COMMANDS[b"SINTERCARD"]
    assert spec.movable_keys
    argv = [b"SINTERCARD", b"2", b"a", b"b", b"LIMIT", b"1"]
    assert spec.key_indexes(argv) == [2, 3]


@pytest.mark.parametrize("name", ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE", "SMOVE"])
def test_dispatch_signals_only_the_key_always_written(name: str) -> None:
    # The STORE forms write argv[1]; SMOVE always changes argv[1] and signals argv[2] itself.
    spec = COMMANDS[name.encode()]
    assert spec.written_key_indexes([name.encode(), b"d", b"s1", b"s2"]) == [1]

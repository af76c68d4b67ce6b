"""Propagation round trip for every WRITE command in the table (STYLE.md, "Tests").

For each registered command with the WRITE flag, SCENARIOS holds a scenario: argv lists run on
a primary Runner A (with its options, its no-op cases and, for blocking commands, clients
served later). The write stream A's feed captured is replayed into a fresh Runner B whose
clock is a second later, as a replica's is; every database, key, type, value and absolute TTL
of B must then equal A's. A forgotten `ctx.dirty` loses the change on B; a relative time or a
random pick that is not rewritten makes B differ.

The table must name every WRITE command: a command added without a scenario fails
`test_every_write_command_has_a_scenario`.

Steps are tuples of argv strings, plus:

    ("@park", *argv)   run argv on a new client that can block (it must park)
    ("@advance", ms)   move A's clock forward (keys expire on A, which propagates DEL)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import hiredis
import pytest

import server.commands  # noqa: F401  (registers the command families)
from server.commands.table import COMMANDS, CommandSpec
from server.context import NO_REPLY, CommandContext
from storage.hashes import HashValue
from storage.lists import ListValue
from storage.sets import SetValue
from storage.values import is_string
from storage.zset import ZSet
from tests.support import Runner

Step = tuple[str | bytes, ...]
T = 100_000  # a TTL (ms) that outlives the replica's clock lag
LONG = "y" * 70  # past the listpack value limits

SCENARIOS: dict[str, list[Step]] = {
    # --- strings ---
    "append": [
        ("APPEND", "a", "12"),
        ("APPEND", "a", "34"),
        ("SET", "t", "x", "PX", str(T)),
        ("APPEND", "t", "y"),
    ],
    "bitfield": [
        ("BITFIELD", "b", "SET", "u8", "0", "200", "INCRBY", "u8", "0", "100"),
        ("BITFIELD", "b", "OVERFLOW", "SAT", "INCRBY", "i8", "8", "200", "GET", "u8", "0"),
        ("BITFIELD", "b", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1000"),
        ("BITFIELD", "b", "GET", "u4", "0"),
        ("BITFIELD", "b", "SET", "i16", "#3", "-5"),
    ],
    "bitop": [
        ("SET", "x", "abc"),
        ("SET", "y", "a"),
        ("BITOP", "AND", "and", "x", "y"),
        ("BITOP", "OR", "or", "x", "y", "nokey"),
        ("BITOP", "XOR", "xor", "x", "y"),
        ("BITOP", "NOT", "not", "x"),
        ("SET", "gone", "v"),
        ("BITOP", "OR", "gone", "nokey"),
    ],
    "decr": [("DECR", "n"), ("SET", "t", "5", "EX", "100"), ("DECR", "t")],
    "decrby": [("DECRBY", "n", "7"), ("DECRBY", "n", "-3"), ("DECRBY", "n", "x")],
    "getdel": [("SET", "a", "1"), ("GETDEL", "a"), ("GETDEL", "nokey")],
    "getex": [
        ("MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"),
        ("GETEX", "a", "EX", "100"),
        ("GETEX", "b", "PX", str(T)),
        ("GETEX", "c", "EXAT", "1800000000"),
        ("GETEX", "d", "PXAT", "1800000000123"),
        ("SET", "p", "1", "EX", "100"),
        ("GETEX", "p", "PERSIST"),
        ("GETEX", "e"),
        ("GETEX", "e", "EX", "-1"),
        ("SET", "old", "1"),
        ("GETEX", "old", "PXAT", "1"),
    ],
    "getset": [("GETSET", "a", "1"), ("SET", "t", "x", "EX", "100"), ("GETSET", "t", "2")],
    "incr": [("INCR", "n"), ("INCR", "n"), ("SET", "t", "5", "PX", str(T)), ("INCR", "t")],
    "incrby": [("INCRBY", "n", "41"), ("INCRBY", "n", "-100"), ("INCRBY", "n", "x")],
    "incrbyfloat": [
        ("INCRBYFLOAT", "f", "0.1"),
        ("INCRBYFLOAT", "f", "0.2"),
        ("INCRBYFLOAT", "g", "3"),
        ("SET", "t", "1.5", "EX", "100"),
        ("INCRBYFLOAT", "t", "1e3"),
        ("INCRBYFLOAT", "h", "1.00000000000000005"),
    ],
    "mset": [("MSET", "a", "1", "b", "2"), ("MSET", "a", "3", "c", LONG)],
    "msetnx": [("MSETNX", "a", "1", "b", "2"), ("MSETNX", "a", "3", "c", "4")],
    "psetex": [("PSETEX", "a", str(T), "v"), ("PSETEX", "a", "200000", "w")],
    "set": [
        ("SET", "a", "1"),
        ("SET", "b", "2", "EX", "100"),
        ("SET", "c", "3", "PX", str(T)),
        ("SET", "d", "4", "EXAT", "1800000000"),
        ("SET", "e", "5", "PXAT", "1800000000123"),
        ("SET", "b", "6", "KEEPTTL"),
        ("SET", "a", "7", "NX"),
        ("SET", "f", "8", "XX"),
        ("SET", "a", "9", "XX", "GET"),
        ("SET", "g", "10", "NX", "GET", "EX", "100"),
        ("SET", "past", "x"),
        ("SET", "past", "y", "PXAT", "1"),
    ],
    "setbit": [("SETBIT", "b", "7", "1"), ("SETBIT", "b", "100", "1"), ("SETBIT", "b", "7", "0")],
    "setex": [("SETEX", "a", "100", "v"), ("SETEX", "a", "200", "w")],
    "setnx": [("SETNX", "a", "1"), ("SETNX", "a", "2")],
    "setrange": [
        ("SETRANGE", "r", "5", "abc"),
        ("SETRANGE", "r", "0", "X"),
        ("SETRANGE", "r", "0", ""),
        ("SETRANGE", "empty", "3", ""),
    ],
    # --- generic keyspace ---
    "copy": [
        ("SET", "s", "v", "EX", "100"),
        ("COPY", "s", "d"),
        ("RPUSH", "l", "1", "2"),
        ("COPY", "l", "s", "REPLACE"),
        ("COPY", "l", "d"),
        ("COPY", "l", "x", "DB", "2"),
        ("HSET", "h", "f", "v"),
        ("COPY", "h", "x", "DB", "2", "REPLACE"),
    ],
    "del": [("MSET", "a", "1", "b", "2"), ("DEL", "a", "nokey"), ("DEL", "nokey")],
    "expire": [
        ("MSET", "a", "1", "b", "2", "c", "3", "gone", "4"),
        ("EXPIRE", "a", "100"),
        ("EXPIRE", "a", "200", "GT"),
        ("EXPIRE", "a", "50", "GT"),
        ("EXPIRE", "b", "100", "NX"),
        ("EXPIRE", "b", "300", "NX"),
        ("EXPIRE", "b", "150", "XX"),
        ("EXPIRE", "c", "150", "XX"),
        ("EXPIRE", "c", "150", "LT"),
        ("EXPIRE", "gone", "-1"),
        ("SET", "soon", "v"),
        ("EXPIRE", "soon", "1"),
        ("@advance", "1500"),
        ("GET", "soon"),
    ],
    "expireat": [
        ("MSET", "a", "1", "b", "2"),
        ("EXPIREAT", "a", "1800000000"),
        ("EXPIREAT", "a", "1800000001", "LT"),
        ("EXPIREAT", "b", "1"),
    ],
    "flushall": [("SET", "a", "1"), ("SELECT", "3"), ("SET", "b", "1"), ("FLUSHALL",)],
    "flushdb": [
        ("SET", "a", "1"),
        ("SELECT", "3"),
        ("SET", "b", "1"),
        ("FLUSHDB",),
        ("SET", "c", "1"),
        ("SELECT", "0"),
    ],
    "move": [
        ("SET", "a", "1", "EX", "100"),
        ("MOVE", "a", "5"),
        ("MOVE", "a", "5"),
        ("SET", "b", "2"),
        ("SELECT", "5"),
        ("SET", "b", "other"),
        ("SELECT", "0"),
        ("MOVE", "b", "5"),
    ],
    # --- persistence ---
    "restore": [
        # DUMP payloads Duocache wrote: a list ["a", "b"] and the string "x".
        ("RESTORE", "l", "0", b"\x01\x02\x01a\x01b\t\x00\xe2Z\xc1\xb2\x81\x85y\xf4"),
        ("RESTORE", "s", str(T), b"\x00\x01x\t\x00\xf2r\xd7\x93\xe9n+a"),
        ("RESTORE", "s", "0", b"\x00\x01x\t\x00\xf2r\xd7\x93\xe9n+a", "REPLACE"),
        ("RESTORE", "t", "1900000000000", b"\x00\x01x\t\x00\xf2r\xd7\x93\xe9n+a", "ABSTTL"),
    ],
    "persist": [("SET", "a", "1", "EX", "100"), ("PERSIST", "a"), ("PERSIST", "a")],
    "pexpire": [
        ("MSET", "a", "1", "b", "2"),
        ("PEXPIRE", "a", str(T)),
        ("PEXPIRE", "a", "1", "LT"),
        ("PEXPIRE", "b", str(T), "XX"),
        ("@advance", "5"),
        ("EXISTS", "a"),
    ],
    "pexpireat": [
        ("MSET", "a", "1", "b", "2"),
        ("PEXPIREAT", "a", "1800000000123"),
        ("PEXPIREAT", "b", "1800000000123", "NX"),
        ("PEXPIREAT", "b", "1", "GT"),
        ("PEXPIREAT", "b", "1"),
    ],
    "rename": [
        ("SET", "a", "1", "EX", "100"),
        ("RENAME", "a", "b"),
        ("SET", "c", "2"),
        ("RENAME", "c", "b"),
        ("RENAME", "b", "b"),
    ],
    "renamenx": [("MSET", "a", "1", "b", "2"), ("RENAMENX", "a", "b"), ("RENAMENX", "a", "c")],
    "sort": [
        ("RPUSH", "l", "3", "1", "2"),
        ("MSET", "w_1", "30", "w_2", "20", "w_3", "10", "o_1", "one"),
        ("SORT", "l", "STORE", "s1"),
        ("SORT", "l", "BY", "w_*", "DESC", "STORE", "s2"),
        ("SORT", "l", "BY", "nosort", "GET", "#", "GET", "o_*", "STORE", "s3"),
        ("SORT", "l", "LIMIT", "0", "1", "STORE", "s4"),
        ("SET", "s5", "string"),
        ("SORT", "nokey", "STORE", "s5"),
        ("SADD", "set", "b", "a"),
        ("SORT", "set", "ALPHA", "STORE", "s6"),
    ],
    "swapdb": [("SET", "a", "1"), ("SELECT", "1"), ("SET", "b", "2"), ("SWAPDB", "0", "1")],
    "unlink": [("MSET", "a", "1", "b", "2"), ("UNLINK", "a", "nokey")],
    # --- lists ---
    "blmove": [
        ("RPUSH", "src", "1", "2", "3"),
        ("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"),
        ("BLMOVE", "src", "dst", "right", "left", "0"),
        ("@park", "BLMOVE", "q", "w", "RIGHT", "LEFT", "0"),
        ("RPUSH", "q", "a", "b"),
    ],
    "blmpop": [
        ("RPUSH", "l", "1", "2", "3", "4"),
        ("BLMPOP", "0", "2", "nokey", "l", "LEFT", "COUNT", "2"),
        ("BLMPOP", "0", "1", "l", "RIGHT"),
        ("@park", "BLMPOP", "0", "1", "m", "RIGHT", "COUNT", "5"),
        ("RPUSH", "m", "a", "b"),
    ],
    "blpop": [
        ("RPUSH", "l", "1", "2"),
        ("BLPOP", "nokey", "l", "0"),
        ("@park", "BLPOP", "m", "0"),
        ("RPUSH", "m", "a", "b"),
    ],
    "brpop": [
        ("RPUSH", "l", "1", "2"),
        ("BRPOP", "l", "0"),
        ("@park", "BRPOP", "m", "0"),
        ("LPUSH", "m", "a", "b"),
    ],
    "brpoplpush": [
        ("RPUSH", "l", "1", "2"),
        ("BRPOPLPUSH", "l", "d", "0"),
        ("@park", "BRPOPLPUSH", "m", "d", "0"),
        ("RPUSH", "m", "x"),
    ],
    "linsert": [
        ("RPUSH", "l", "a", "c"),
        ("LINSERT", "l", "BEFORE", "c", "b"),
        ("LINSERT", "l", "AFTER", "c", "d"),
        ("LINSERT", "l", "AFTER", "zz", "d"),
    ],
    "lmove": [
        ("RPUSH", "l", "1", "2", "3"),
        ("LMOVE", "l", "d", "LEFT", "LEFT"),
        ("LMOVE", "l", "d", "RIGHT", "RIGHT"),
        ("LMOVE", "l", "l", "LEFT", "RIGHT"),
        ("LMOVE", "l", "d", "LEFT", "RIGHT"),
    ],
    "lmpop": [
        ("RPUSH", "l", "1", "2", "3"),
        ("LMPOP", "2", "nokey", "l", "LEFT"),
        ("LMPOP", "1", "l", "RIGHT", "COUNT", "10"),
    ],
    "lpop": [("RPUSH", "l", "1", "2", "3", "4"), ("LPOP", "l"), ("LPOP", "l", "2")],
    "lpush": [("LPUSH", "l", "1", "2"), ("LPUSH", "l", LONG)],
    "lpushx": [("LPUSHX", "l", "1"), ("RPUSH", "l", "a"), ("LPUSHX", "l", "1", "2")],
    "lrem": [
        ("RPUSH", "l", "a", "b", "a", "c", "a"),
        ("LREM", "l", "1", "a"),
        ("LREM", "l", "-1", "a"),
        ("LREM", "l", "0", "b"),
    ],
    "lset": [("RPUSH", "l", "a", "b"), ("LSET", "l", "0", "x"), ("LSET", "l", "-1", "y")],
    "ltrim": [
        ("RPUSH", "l", "1", "2", "3", "4"),
        ("LTRIM", "l", "1", "-2"),
        ("LTRIM", "l", "5", "9"),
    ],
    "rpop": [("RPUSH", "l", "1", "2", "3"), ("RPOP", "l"), ("RPOP", "l", "5")],
    "rpoplpush": [("RPUSH", "l", "1", "2"), ("RPOPLPUSH", "l", "d"), ("RPOPLPUSH", "l", "l")],
    "rpush": [("RPUSH", "l", "1"), ("RPUSH", "l", "2", "3")],
    "rpushx": [("RPUSHX", "l", "1"), ("RPUSH", "l", "a"), ("RPUSHX", "l", "1", "2")],
    # --- hashes ---
    "hdel": [("HSET", "h", "a", "1", "b", "2"), ("HDEL", "h", "a", "x"), ("HDEL", "h", "b")],
    "hincrby": [("HINCRBY", "h", "n", "5"), ("HINCRBY", "h", "n", "-7")],
    "hincrbyfloat": [
        ("HINCRBYFLOAT", "h", "f", "0.1"),
        ("HINCRBYFLOAT", "h", "f", "0.2"),
        ("HINCRBYFLOAT", "h", "g", "1.00000000000000005"),
    ],
    "hmset": [("HMSET", "h", "a", "1", "b", "2"), ("HMSET", "h", "a", LONG)],
    "hset": [("HSET", "h", "a", "1", "b", "2"), ("HSET", "h", "a", "3"), ("HSET", "h", LONG, "x")],
    "hsetnx": [("HSETNX", "h", "a", "1"), ("HSETNX", "h", "a", "2"), ("HSETNX", "h", "b", "3")],
    # --- sets ---
    "sadd": [("SADD", "s", "1", "2", "2"), ("SADD", "s", "x"), ("SADD", "s", "1")],
    "sdiffstore": [
        ("SADD", "a", "1", "2", "3"),
        ("SADD", "b", "2", "x"),
        ("SDIFFSTORE", "d", "a", "b"),
        ("SDIFFSTORE", "a", "a", "nokey"),
        ("SDIFFSTORE", "d", "b", "b"),
    ],
    "sinterstore": [
        ("SADD", "a", "1", "2", "3"),
        ("SADD", "b", "2", "3", "x"),
        ("SINTERSTORE", "i", "a", "b"),
        ("SINTERSTORE", "j", "a", "nokey"),
    ],
    "smove": [
        ("SADD", "a", "1", "2"),
        ("SMOVE", "a", "b", "1"),
        ("SMOVE", "a", "b", "9"),
        ("SMOVE", "a", "b", "2"),
    ],
    "spop": [
        ("SADD", "s", *[str(i) for i in range(40)]),
        ("SPOP", "s"),
        ("SPOP", "s", "3"),
        ("SPOP", "s", "30"),
        ("SADD", "t", "a", "b"),
        ("SPOP", "t", "5"),
    ],
    "srem": [("SADD", "s", "1", "2", "3"), ("SREM", "s", "1", "9"), ("SREM", "s", "2", "3")],
    "sunionstore": [
        ("SADD", "a", "1", "2"),
        ("SADD", "b", "x"),
        ("SUNIONSTORE", "u", "a", "b", "nokey"),
        ("SUNIONSTORE", "u", "nokey"),
    ],
    # --- sorted sets ---
    "bzmpop": [
        ("ZADD", "z", "1", "a", "2", "b", "3", "c"),
        ("BZMPOP", "0", "2", "nokey", "z", "MIN", "COUNT", "2"),
        ("@park", "BZMPOP", "0", "1", "w", "MAX", "COUNT", "5"),
        ("ZADD", "w", "1", "x", "2", "y"),
    ],
    "bzpopmax": [
        ("ZADD", "z", "1", "a", "2", "b"),
        ("BZPOPMAX", "nokey", "z", "0"),
        ("@park", "BZPOPMAX", "w", "0"),
        ("ZADD", "w", "1", "x", "2", "y"),
    ],
    "bzpopmin": [
        ("ZADD", "z", "1", "a", "2", "b"),
        ("BZPOPMIN", "z", "0"),
        ("@park", "BZPOPMIN", "w", "0"),
        ("ZADD", "w", "1", "x", "2", "y"),
    ],
    "zadd": [
        ("ZADD", "z", "1", "a", "2", "b"),
        ("ZADD", "z", "NX", "5", "a", "3", "c"),
        ("ZADD", "z", "XX", "CH", "5", "a", "9", "new"),
        ("ZADD", "z", "GT", "0", "a", "10", "b"),
        ("ZADD", "z", "LT", "-1", "c"),
        ("ZADD", "z", "INCR", "2.5", "a"),
        ("ZADD", "z", "1", LONG),
    ],
    "zdiffstore": [
        ("ZADD", "a", "1", "x", "2", "y"),
        ("ZADD", "b", "1", "x"),
        ("ZDIFFSTORE", "d", "2", "a", "b"),
        ("ZDIFFSTORE", "d", "1", "nokey"),
    ],
    "zincrby": [("ZINCRBY", "z", "1.5", "a"), ("ZINCRBY", "z", "-3", "a")],
    "zinterstore": [
        ("ZADD", "a", "1", "x", "2", "y"),
        ("ZADD", "b", "3", "x"),
        ("SADD", "s", "x"),
        ("ZINTERSTORE", "i", "2", "a", "b", "WEIGHTS", "2", "3", "AGGREGATE", "MAX"),
        ("ZINTERSTORE", "j", "2", "a", "s"),
    ],
    "zmpop": [
        ("ZADD", "z", "1", "a", "2", "b", "3", "c"),
        ("ZMPOP", "2", "nokey", "z", "MAX"),
        ("ZMPOP", "1", "z", "MIN", "COUNT", "5"),
    ],
    "zpopmax": [
        ("ZADD", "z", "1", "a", "2", "b", "3", "c"),
        ("ZPOPMAX", "z"),
        ("ZPOPMAX", "z", "5"),
    ],
    "zpopmin": [
        ("ZADD", "z", "1", "a", "2", "b", "3", "c"),
        ("ZPOPMIN", "z"),
        ("ZPOPMIN", "z", "1"),
    ],
    "zrangestore": [
        ("ZADD", "z", "1", "a", "2", "b", "3", "c"),
        ("ZRANGESTORE", "r1", "z", "0", "1"),
        ("ZRANGESTORE", "r2", "z", "(1", "+inf", "BYSCORE", "LIMIT", "0", "1"),
        ("ZRANGESTORE", "r3", "z", "[c", "-", "BYLEX", "REV"),
        ("ZRANGESTORE", "r1", "z", "5", "9"),
    ],
    "zrem": [("ZADD", "z", "1", "a", "2", "b"), ("ZREM", "z", "a", "x"), ("ZREM", "z", "b")],
    "zremrangebylex": [
        ("ZADD", "z", "0", "a", "0", "b", "0", "c"),
        ("ZREMRANGEBYLEX", "z", "[a", "(c"),
    ],
    "zremrangebyrank": [
        ("ZADD", "z", "1", "a", "2", "b", "3", "c"),
        ("ZREMRANGEBYRANK", "z", "0", "1"),
    ],
    "zremrangebyscore": [
        ("ZADD", "z", "1", "a", "2", "b", "3", "c"),
        ("ZREMRANGEBYSCORE", "z", "(1", "2"),
        ("ZREMRANGEBYSCORE", "z", "-inf", "+inf"),
    ],
    "zunionstore": [
        ("ZADD", "a", "1", "x", "2", "y"),
        ("ZADD", "b", "3", "x"),
        ("ZUNIONSTORE", "u", "2", "a", "b", "WEIGHTS", "1", "0.5", "AGGREGATE", "SUM"),
        ("ZUNIONSTORE", "v", "1", "nokey"),
    ],
}


def write_commands() -> set[str]:
    """Every registered command and subcommand with the WRITE flag."""
    names: set[str] = set()
    for spec in COMMANDS.values():
        for candidate in (spec, *spec.subcommands.values()):
            if candidate.is_write:
                names.add(candidate.name)
    return names


def snapshot(run: Runner) -> dict[tuple[int, bytes], Any]:
    """Every database, key, type, value and absolute TTL."""
    out: dict[tuple[int, bytes], Any] = {}
    for db in run.app.keyspace.dbs:
        for key in db.iter_keys():
            value = db.get(key)
            if is_string(value):
                shown: Any = ("string", bytes(value))
            elif type(value) is ListValue:
                shown = ("list", list(value))
            elif type(value) is HashValue:
                shown = ("hash", dict(value))
            elif type(value) is SetValue:
                shown = ("set", frozenset(value))
            elif type(value) is ZSet:
                shown = ("zset", dict(value.by_member))
            else:
                raise AssertionError(f"snapshot does not know {type(value)!r}")
            out[db.index, key] = (shown, db.get_expire(key))
    return out


def play(steps: list[Step], name: str | None = None) -> tuple[Runner, int]:
    """Run `steps` on a fresh primary; return it and how many steps of `name` changed data."""
    run = Runner()
    changed = 0
    for step in steps:
        if step[0] == "@advance":
            run.clock.advance(int(step[1]))
            continue
        ctx: CommandContext = run.ctx
        argv = step
        if step[0] == "@park":
            ctx = run.client()
            ctx.unblocked = _ignore
            argv = step[1:]
            assert run(*argv, ctx=ctx) is NO_REPLY, f"{argv!r} did not block"
        else:
            run(*argv, ctx=ctx)
        if argv[0].lower() == name and ctx.dirty:
            changed += 1
    return run, changed


def _ignore(reply: Any) -> None:
    return None


def replay(primary: Runner) -> Runner:
    """A fresh Runner fed the primary's write stream, its clock a second later."""
    replica = Runner()
    replica.clock.ms = primary.clock.ms + 1000
    reader = hiredis.Reader()
    reader.feed(b"".join(primary.feed))
    while (argv := reader.gets()) is not False:
        replica(*argv)
    return replica


def test_every_write_command_has_a_scenario() -> None:
    writes = write_commands()
    missing = sorted(writes - SCENARIOS.keys())
    stale = sorted(SCENARIOS.keys() - writes)
    assert not missing, f"WRITE commands without a propagation scenario: {missing}"
    assert not stale, f"scenarios for commands that are not WRITE commands: {stale}"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_replaying_the_stream_rebuilds_the_same_dataset(name: str) -> None:
    primary, changed = play(SCENARIOS[name], name)
    assert changed, f"no step of the {name} scenario changed anything through {name}"
    expected = snapshot(primary)
    assert snapshot(replay(primary)) == expected


# --- the round trip catches what it is meant to catch ---


@pytest.fixture
def patched() -> Iterator[Callable[[str, Callable[[CommandContext], None]], None]]:
    """Wrap a command's handler so `after(ctx)` runs after it; restored afterwards."""
    saved: list[tuple[CommandSpec, Any]] = []

    def patch(name: str, after: Callable[[CommandContext], None]) -> None:
        spec = COMMANDS[name.upper().encode()]
        original = spec.handler

        def handler(ctx: CommandContext, argv: list[bytes]) -> Any:
            reply = original(ctx, argv)
            after(ctx)
            return reply

        saved.append((spec, original))
        spec.handler = handler

    yield patch
    for spec, original in saved:
        spec.handler = original


def _forget_dirty(ctx: CommandContext) -> None:
    ctx.dirty = 0


def _forget_rewrite(ctx: CommandContext) -> None:
    ctx.rewritten = None


@pytest.mark.parametrize("name", ["hset", "lpush", "zadd", "setrange", "smove", "copy"])
def test_a_forgotten_dirty_makes_the_replica_differ(
    patched: Callable[[str, Callable[[CommandContext], None]], None], name: str
) -> None:
    patched(name, _forget_dirty)
    primary, _ = play(SCENARIOS[name])
    assert snapshot(replay(primary)) != snapshot(primary)


@pytest.mark.parametrize("name", ["expire", "set", "getex", "spop", "psetex"])
def test_a_missing_rewrite_makes_the_replica_differ(
    patched: Callable[[str, Callable[[CommandContext], None]], None], name: str
) -> None:
    patched(name, _forget_rewrite)
    primary, _ = play(SCENARIOS[name])
    assert snapshot(replay(primary)) != snapshot(primary)

"""Propagation round trip for the hash and set writes: replaying what the write stream
carried into an empty server must rebuild the same data (random picks included)."""

from __future__ import annotations

from typing import Any

import hiredis

from storage.hashes import HashValue
from storage.sets import SetValue
from tests.support import Runner


def snapshot(run: Runner) -> dict[tuple[int, bytes], Any]:
    out: dict[tuple[int, bytes], Any] = {}
    for db in run.app.keyspace.dbs:
        for key in db.iter_keys():
            value = db.get(key)
            if isinstance(value, HashValue):
                out[db.index, key] = ("hash", dict(value))
            elif isinstance(value, SetValue):
                out[db.index, key] = ("set", frozenset(value))
            else:
                out[db.index, key] = (type(value).__name__, value)
    return out


def replay(feed: list[bytes]) -> Runner:
    replica = Runner()
    reader = hiredis.Reader()
    for chunk in feed:
        reader.feed(chunk)
    while (argv := reader.gets()) is not False:
        replica(*argv)
    return replica


SCENARIO: list[tuple[str, ...]] = [
    ("HSET", "h", "a", "1", "b", "2", "c", "3"),
    ("HMSET", "h", "d", "4"),
    ("HSETNX", "h", "a", "no"),
    ("HSETNX", "h", "e", "5"),
    ("HDEL", "h", "b", "nope"),
    ("HINCRBY", "h", "n", "41"),
    ("HINCRBY", "h", "n", "1"),
    ("HINCRBYFLOAT", "h", "f", "0.1"),
    ("HINCRBYFLOAT", "h", "f", "0.2"),
    ("HINCRBYFLOAT", "h", "g", "1.00000000000000005"),
    ("HINCRBY", "h", "a", "x"),
    ("HSET", "gone", "f", "v"),
    ("HDEL", "gone", "f"),
    ("SELECT", "3"),
    ("HSET", "other-db", "f", "v"),
    ("SADD", "s3", "1", "2"),
    ("SELECT", "0"),
    ("SADD", "s", *[str(i) for i in range(40)]),
    ("SADD", "s", "x", "y", "1"),
    ("SREM", "s", "x", "nope"),
    ("SPOP", "s"),
    ("SPOP", "s", "3"),
    ("SPOP", "s", "30"),  # takes most of it: Redis rebuilds the set
    ("SPOP", "s", "0"),
    ("SADD", "whole", "a", "b"),
    ("SPOP", "whole", "10"),
    ("SADD", "one", "m"),
    ("SPOP", "one"),
    ("SADD", "src", "1", "2", "3"),
    ("SMOVE", "src", "dst", "1"),
    ("SMOVE", "src", "dst", "1"),
    ("SMOVE", "src", "src", "2"),
    ("SADD", "a", "1", "2", "3", "4"),
    ("SADD", "b", "3", "4", "5"),
    ("SINTERSTORE", "inter", "a", "b"),
    ("SUNIONSTORE", "union", "a", "b"),
    ("SDIFFSTORE", "diff", "a", "b"),
    ("SDIFFSTORE", "inter", "a", "a"),
    ("SINTERSTORE", "none", "a", "missing"),
    ("SUNIONSTORE", "a", "a", "b", "src"),
    ("SET", "str", "x"),
    ("SUNIONSTORE", "str", "b"),
]


def test_replaying_the_stream_rebuilds_the_same_hashes_and_sets() -> None:
    primary = Runner()
    for command in SCENARIO:
        primary(*command)
    expected = snapshot(primary)
    assert len(expected) > 10
    assert snapshot(replay(primary.feed)) == expected


def test_random_pops_reach_the_stream_as_the_members_removed() -> None:
    for _ in range(20):
        primary = Runner()
        primary("SADD", "s", *[f"m{i}" for i in range(30)])
        primary("SPOP", "s")
        primary("SPOP", "s", "4")
        primary("SPOP", "s", "20")
        assert snapshot(replay(primary.feed)) == snapshot(primary)


def test_no_spop_or_hincrbyfloat_reaches_the_stream() -> None:
    primary = Runner()
    primary("SADD", "s", "a", "b", "c")
    primary("SPOP", "s")
    primary("SPOP", "s", "1")
    primary("HINCRBYFLOAT", "h", "f", "1.5")
    sent = b"".join(primary.feed)
    assert b"SPOP" not in sent
    assert b"HINCRBYFLOAT" not in sent

"""Helpers for the persistence tests against real redis-server: a dataset that makes Redis
use every compact encoding, and type-specific readers to compare two servers' contents."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import redis

from tests.support import RealServer, start_real_redis

NOW_FAR_MS = 4_102_444_800_000  # 2100-01-01, a deadline no test outlives


def fill(r: Any) -> None:
    """Every type at small and large sizes in several databases, so that a Redis 7 RDB holds
    int and LZF strings, listpack and quicklist lists (packed and plain nodes), intset and
    hashtable sets, listpack and hashtable hashes, listpack and skiplist sorted sets, and
    keys with deadlines."""
    r.flushall()
    r.set("s:int", 12345)
    r.set("s:neg", -7)
    r.set("s:big-int", 2**40)
    r.set("s:short", "hi")
    r.set("s:empty", "")
    r.set("s:lzf", "abcdefgh" * 100)
    r.set("s:binary", bytes(range(256)) * 3)
    r.set("s:utf8", "héllo wörld ✓")
    r.rpush("l:small", "a", 1, 2, "x" * 30)
    r.rpush("l:big", *[f"item-{i}-" * 4 for i in range(3000)])
    r.sadd("set:int", 1, 2, 3, -5, 2**40)
    r.sadd("set:big-int", *range(600))
    r.sadd("set:str", "a", "b", "c")
    r.hset("h:small", mapping={"f1": "v1", "f2": 22, "f3": ""})
    r.hset("h:big", mapping={f"field{i}": "v" * 80 for i in range(300)})
    r.hset("h:long-value", mapping={"f": "x" * 100})
    r.zadd("z:small", {"a": 1, "b": 2.5, "c": -3, "d": float("inf"), "e": float("-inf")})
    r.zadd("z:big", {f"member{i}": i * 1.25 for i in range(400)})
    r.set("ttl:str", "v", px=3_600_000)
    r.rpush("ttl:list", "a", "b")
    r.pexpireat("ttl:list", NOW_FAR_MS)
    r.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "200")
    r.rpush("l:plain", "a", "y" * 500, "b")
    r.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", str(2**30))
    r.select(1)
    r.set("db1", "one")
    r.zadd("db1:z", {"only": 7})
    r.select(5)
    r.set("db5", "five", ex=7200)
    r.hset("db5:h", "f", "v")
    r.select(0)


def read_value(r: Any, key: bytes, kind: bytes) -> Any:
    """A value read with its type's own commands (never DUMP)."""
    if kind == b"string":
        return r.get(key)
    if kind == b"list":
        return r.lrange(key, 0, -1)
    if kind == b"set":
        return sorted(r.smembers(key))
    if kind == b"hash":
        return sorted(r.hgetall(key).items())
    if kind == b"zset":
        return r.zrange(key, 0, -1, withscores=True)
    raise AssertionError(f"unexpected type {kind!r}")


def contents(port: int, databases: int = 16) -> dict[tuple[int, bytes], Any]:
    """Everything a real Redis holds: (db, key) -> (type, value, has a deadline)."""
    out: dict[tuple[int, bytes], Any] = {}
    for db in range(databases):
        r: Any = redis.Redis(port=port, db=db, protocol=2)
        try:
            for key in r.keys("*"):
                kind = r.type(key)
                out[(db, key)] = (kind, read_value(r, key, kind), r.pttl(key) > 0)
        finally:
            r.close()
    return out


def contents_via_dump(port: int, scratch: RealServer, databases: int = 16) -> dict[Any, Any]:
    """What a Duocache holds, read with type-specific commands: strings directly, other types
    through DUMP into a scratch real Redis (this branch serves no container read commands)."""
    out: dict[tuple[int, bytes], Any] = {}
    helper: Any = redis.Redis(port=scratch.port, protocol=2)
    try:
        for db in range(databases):
            r: Any = redis.Redis(port=port, db=db, protocol=2)
            try:
                for key in r.keys("*"):
                    kind = r.type(key)
                    has_ttl = r.pttl(key) > 0
                    if kind == b"string":
                        value = r.get(key)
                    else:
                        helper.flushall()
                        helper.restore(b"k", 0, r.dump(key))
                        value = read_value(helper, b"k", kind)
                    out[(db, key)] = (kind, value, has_ttl)
            finally:
                r.close()
    finally:
        helper.close()
    return out


def redis_with_data(tmp: Path, *args: str) -> tuple[RealServer, Any]:
    server = start_real_redis(tmp, *args)
    client = redis.Redis(port=server.port, protocol=2)
    fill(client)
    return server, client


def copy_dir(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst

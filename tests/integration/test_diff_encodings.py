"""Differential: OBJECT ENCODING over the wire, for every type across its encoding thresholds.

Each walk runs writes on Duocache and on a real redis-server (RESP2) and asks both for
OBJECT ENCODING of the key after every step: strings (int / embstr / raw, and how APPEND,
SETRANGE, SETBIT, INCR, INCRBYFLOAT and COPY change them), lists, hashes (listpack to
hashtable by entries and by length, CONFIG SET thresholds), sets (intset to hashtable) and
sorted sets (listpack to skiplist, and back for the store commands).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.differential import Command, Differential, either
from tests.support import RawClient, RealServer, ServerProcess

pytestmark = pytest.mark.integration

Walk = list[tuple[Command, str]]

# The thresholds the walks change, restored on both servers after each test.
THRESHOLDS = (
    "hash-max-listpack-entries",
    "hash-max-listpack-value",
    "set-max-intset-entries",
    "zset-max-listpack-entries",
    "zset-max-listpack-value",
)


@pytest.fixture
def restored(shared_server: ServerProcess, real_redis: RealServer) -> Iterator[None]:
    saved: list[tuple[int, list[tuple[str, bytes]]]] = []
    for port in (shared_server.port, real_redis.port):
        with RawClient(port) as client:
            values = [
                (name, client.command("CONFIG", "GET", name).split(b"\r\n")[-2])
                for name in THRESHOLDS
            ]
        saved.append((port, values))
    yield
    for port, values in saved:
        with RawClient(port) as client:
            for name, value in values:
                client.command("CONFIG", "SET", name, value)


def script(walk: Walk) -> list[Command]:
    """Each step, then OBJECT ENCODING of the key it names."""
    out: list[Command] = []
    for command, key in walk:
        out.append(command)
        out.append(("OBJECT", "ENCODING", key))
    return out


LONG_MAX = str(2**63 - 1)
LONG_MIN = str(-(2**63))

STRINGS: Walk = [
    (("SET", "s", "123"), "s"),
    (("SET", "s", "0"), "s"),
    (("SET", "s", "9999"), "s"),
    (("SET", "s", "10000"), "s"),
    (("SET", "s", "-1"), "s"),
    (("SET", "s", LONG_MAX), "s"),
    (("SET", "s", LONG_MIN), "s"),
    (("SET", "s", str(2**63)), "s"),
    (("SET", "s", "12345678901234567890"), "s"),
    (("SET", "s", "0123"), "s"),
    (("SET", "s", "-0"), "s"),
    (("SET", "s", "+1"), "s"),
    (("SET", "s", " 1"), "s"),
    (("SET", "s", "1.5"), "s"),
    (("SET", "s", ""), "s"),
    (("SET", "s", "x" * 44), "s"),
    (("SET", "s", "x" * 45), "s"),
    (("SET", "s", "1" * 45), "s"),
    (("SET", "s", "7", "KEEPTTL"), "s"),
    (("SET", "s", "abc", "GET"), "s"),
    (("GETSET", "s", "42"), "s"),
    (("SETNX", "n", "5"), "n"),
    (("SETEX", "e", "100", "6"), "e"),
    (("PSETEX", "e", "100000", "text"), "e"),
    (("MSET", "m1", "1", "m2", "two", "m3", "y" * 50), "m1"),
    (("OBJECT", "ENCODING", "m2"), "m3"),
    (("MSETNX", "m4", "4", "m5", "five"), "m4"),
    (("GETEX", "m4", "PX", "100000"), "m4"),
    # APPEND: a new key is encoded like SET; an existing one becomes raw.
    (("APPEND", "a", "12"), "a"),
    (("APPEND", "a", "3"), "a"),
    (("GET", "a"), "a"),
    (("INCR", "a"), "a"),
    (("APPEND", "a2", "abc"), "a2"),
    (("APPEND", "a2", ""), "a2"),
    (("APPEND", "a3", "z" * 60), "a3"),
    # SETRANGE: a new key is raw, an edited one too; setting nothing changes nothing.
    (("SETRANGE", "r", "2", "ab"), "r"),
    (("SET", "r", "100"), "r"),
    (("SETRANGE", "r", "0", ""), "r"),
    (("SETRANGE", "r", "0", "2"), "r"),
    (("SET", "r", "abc"), "r"),
    (("SETRANGE", "r", "10", ""), "r"),
    (("SETRANGE", "r", "1", "z"), "r"),
    # INCR and friends always leave an int.
    (("INCR", "i"), "i"),
    (("INCRBY", "i", "9999"), "i"),
    (("DECRBY", "i", "20000"), "i"),
    (("DECR", "i"), "i"),
    (("SET", "i", "x" * 10), "i"),
    (("SET", "i", "5"), "i"),
    (("INCRBY", "i", LONG_MAX[:-1]), "i"),
    # INCRBYFLOAT's result is embstr (or raw when long), even when it reads as an integer.
    (("INCRBYFLOAT", "f", "1.5"), "f"),
    (("INCRBYFLOAT", "f", "1.5"), "f"),
    (("GET", "f"), "f"),
    (("INCRBYFLOAT", "f", "-3"), "f"),
    (("INCRBYFLOAT", "f", "1e50"), "f"),
    (("INCRBYFLOAT", "g", "10"), "g"),
    (("APPEND", "g", "0"), "g"),
    (("INCRBYFLOAT", "g", "0"), "g"),
    (("INCR", "g"), "g"),
    (("INCRBYFLOAT", "h", "-5"), "h"),
    (("SET", "h", "-5"), "h"),
    (("INCRBYFLOAT", "h", "123456789012345678901234"), "h"),
    # Copies keep the encoding, renames and moves keep the object.
    (("INCRBYFLOAT", "c", "3"), "c"),
    (("COPY", "c", "c2"), "c2"),
    (("RENAME", "c2", "c3"), "c3"),
    (("MOVE", "c3", "1"), "c3"),
    (("SET", "raw", "abc"), "raw"),
    (("APPEND", "raw", "d"), "raw"),
    (("COPY", "raw", "raw2"), "raw2"),
    (("SET", "num", "77"), "num"),
    (("COPY", "num", "num2"), "num2"),
    (("COPY", "raw", "num2", "REPLACE"), "num2"),
    (("SET", "emb", "hello"), "emb"),
    (("COPY", "emb", "emb2"), "emb2"),
    # Bit commands edit in place: raw.
    (("SETBIT", "b", "7", "1"), "b"),
    (("SET", "b", "1"), "b"),
    (("SETBIT", "b", "0", "0"), "b"),
    (("SET", "b", "1"), "b"),
    (("GETBIT", "b", "0"), "b"),
    (("BITFIELD", "b", "GET", "u8", "0"), "b"),
    (("BITFIELD", "b", "SET", "u8", "0", "50"), "b"),
    (("BITFIELD_RO", "b", "GET", "u8", "0"), "b"),
    (("BITOP", "OR", "bo", "b", "emb"), "bo"),
    (("SET", "bb", "2"), "bb"),
    (("BITFIELD", "bb", "INCRBY", "u8", "0", "1"), "bb"),
    (("GETDEL", "bb"), "bb"),
]

LISTS: Walk = [
    (("RPUSH", "l", "1"), "l"),
    (("RPUSH", "l", *[str(i) for i in range(200)]), "l"),
    (("LPUSH", "l2", "x" * 100), "l2"),
    (("LPOP", "l2"), "l2"),
    (("RPUSH", "src", "3", "1", "2"), "src"),
    (("SORT", "src", "STORE", "sorted"), "sorted"),
    (("LMOVE", "src", "dst", "LEFT", "RIGHT"), "dst"),
    (("LTRIM", "l", "0", "1"), "l"),
    (("LINSERT", "l", "BEFORE", "1", "y" * 100), "l"),
]

HASHES: Walk = [
    (("HSET", "h", "f", "v"), "h"),
    (("HSET", "h", *[f"f{i}" for i in range(254)]), "h"),
    (("HLEN", "h"), "h"),
    (("HSET", "h", "f127", "v"), "h"),
    (("HSET", "h", "f128", "v"), "h"),
    (("HDEL", "h", "f128", "f127", "f126"), "h"),
    (("HSET", "v", "f", "x" * 64), "v"),
    (("HSET", "v", "g", "x" * 65), "v"),
    (("HSET", "k", "x" * 65, "1"), "k"),
    (("HSETNX", "nx", "f", "x" * 64), "nx"),
    (("HSETNX", "nx", "g", "y" * 65), "nx"),
    (("HSETNX", "nx2", "f", "v"), "nx2"),
    (("HSETNX", "nx2", "f", "y" * 65), "nx2"),
    (("HMSET", "m", "a", "1", "b", "2"), "m"),
    (("HMSET", "m", "c", "z" * 70), "m"),
    # The same field many times: one entry, still a listpack.
    (("HSET", "dup", *(["f", "v"] * 200)), "dup"),
    # HINCRBY and HINCRBYFLOAT check the entry count only.
    (("HINCRBY", "inc", "x" * 65, "1"), "inc"),
    (("HINCRBYFLOAT", "inc", "y" * 65, "1.5"), "inc"),
    (("HINCRBY", "inc", "z", "1"), "inc"),
    (("COPY", "v", "v2"), "v2"),
    (("COPY", "h", "h2"), "h2"),
    (("CONFIG", "SET", "hash-max-listpack-entries", "3"), "h2"),
    (("HSET", "small", "a", "1", "b", "2", "c", "3"), "small"),
    (("HSET", "small", "d", "4"), "small"),
    (("HSET", "four", "a", "1", "b", "2", "c", "3", "d", "4"), "four"),
    (("HSET", "h2", "new", "1"), "h2"),
    (("CONFIG", "SET", "hash-max-ziplist-value", "4"), "h2"),
    (("HSET", "val", "a", "1234"), "val"),
    (("HSET", "val", "b", "12345"), "val"),
    (("CONFIG", "SET", "hash-max-listpack-entries", "0"), "val"),
    (("HSET", "zero", "a", "1"), "zero"),
    (("HSETNX", "zero2", "a", "1"), "zero2"),
    (("HINCRBY", "zero3", "a", "1"), "zero3"),
]

SETS: Walk = [
    (("SADD", "s", "1", "2", "3"), "s"),
    (("SADD", "s", LONG_MIN, LONG_MAX), "s"),
    (("SADD", "s", "a"), "s"),
    (("SREM", "s", "a"), "s"),
    (("SADD", "o", str(2**63)), "o"),
    (("SADD", "z", "01"), "z"),
    (("SADD", "z2", "-0"), "z2"),
    (("SADD", "z3", " 1"), "z3"),
    (("SADD", "big", *[str(i) for i in range(512)]), "big"),
    (("SADD", "big", "512"), "big"),
    (("SADD", "dup", *(["7"] * 600)), "dup"),
    (("SMOVE", "s", "mv", "1"), "mv"),
    (("SADD", "w", "word"), "w"),
    (("SMOVE", "w", "mv2", "word"), "mv2"),
    (("SINTERSTORE", "inter", "big", "s"), "inter"),
    (("SADD", "mixed", "1", "2", "x"), "mixed"),
    (("SUNIONSTORE", "uni", "mixed"), "uni"),
    (("SDIFFSTORE", "dif", "mixed", "w"), "dif"),
    (("SREM", "mixed", "x"), "mixed"),
    (("SDIFFSTORE", "dif2", "mixed"), "dif2"),
    (("SINTERSTORE", "inter2", "mixed", "mixed"), "inter2"),
    (("SUNIONSTORE", "uni2", "big", "s"), "uni2"),
    (either("SPOP", "big", "500"), "big"),
    (("COPY", "mixed", "mixed2"), "mixed2"),
    (("COPY", "s", "s2"), "s2"),
    (("CONFIG", "SET", "set-max-intset-entries", "2"), "s2"),
    (("SADD", "t", "1", "2"), "t"),
    (("SADD", "t", "3"), "t"),
    (("SADD", "t3", "1", "2", "3"), "t3"),
    (("SUNIONSTORE", "u3", "t"), "u3"),
    (("SMOVE", "t", "fresh", "1"), "fresh"),
]

ZSETS: Walk = [
    (("ZADD", "z", "1", "a"), "z"),
    (("ZADD", "z", *[x for i in range(127) for x in (str(i), f"m{i}")]), "z"),
    (("ZADD", "z", "1", "one-more"), "z"),
    (("ZREMRANGEBYRANK", "z", "0", "-3"), "z"),
    (("ZADD", "v", "1", "x" * 64), "v"),
    (("ZADD", "v", "1", "x" * 65), "v"),
    (("ZINCRBY", "i", "1", "y" * 65), "i"),
    (("ZADD", "w", "INCR", "1", "y" * 65), "w"),
    # ZADD sizes a new set from its arguments, duplicates included.
    (("ZADD", "dup", *(["1", "a"] * 129)), "dup"),
    (("ZADD", "dup2", *(["1", "a"] * 128)), "dup2"),
    # Store commands pick the encoding of their result.
    (("ZUNIONSTORE", "u", "1", "z"), "u"),
    (("ZUNIONSTORE", "u", "1", "v"), "u"),
    (("ZINTERSTORE", "in", "2", "z", "z"), "in"),
    (("ZDIFFSTORE", "df", "1", "v"), "df"),
    (("ZRANGESTORE", "rs", "z", "0", "0"), "rs"),
    (("ZRANGESTORE", "rs2", "v", "0", "-1"), "rs2"),
    (("ZADD", "big", *[x for i in range(200) for x in (str(i), f"b{i}")]), "big"),
    (("ZRANGESTORE", "rs3", "big", "0", "9"), "rs3"),
    (("ZUNIONSTORE", "u2", "1", "big"), "u2"),
    (("ZUNIONSTORE", "u3", "2", "big", "z"), "u3"),
    (("ZPOPMIN", "big", "195"), "big"),
    (("ZMPOP", "1", "big", "MAX", "COUNT", "2"), "big"),
    (("COPY", "big", "big2"), "big2"),
    (("COPY", "z", "z2"), "z2"),
    (("CONFIG", "SET", "zset-max-listpack-entries", "2"), "z2"),
    (("ZADD", "t", "1", "a", "2", "b"), "t"),
    (("ZADD", "t", "3", "c"), "t"),
    (("ZADD", "t3", "1", "a", "2", "b", "3", "c"), "t3"),
    (("ZUNIONSTORE", "u4", "1", "t"), "u4"),
    (("ZRANGESTORE", "rs4", "t", "0", "1"), "rs4"),
    (("CONFIG", "SET", "zset-max-ziplist-value", "3"), "t"),
    (("ZADD", "lv", "1", "abc"), "lv"),
    (("ZADD", "lv", "1", "abcd"), "lv"),
    (("CONFIG", "SET", "zset-max-listpack-entries", "0"), "lv"),
    (("ZADD", "zero", "1", "a"), "zero"),
    (("ZINCRBY", "zero2", "1", "a"), "zero2"),
    (("ZUNIONSTORE", "zero3", "1", "zero"), "zero3"),
]

WALKS = {"strings": STRINGS, "lists": LISTS, "hashes": HASHES, "sets": SETS, "zsets": ZSETS}


@pytest.mark.parametrize("name", list(WALKS))
def test_object_encoding_matches_redis(diff: Differential, restored: None, name: str) -> None:
    diff.assert_same(script(WALKS[name]))


def test_moved_keys_keep_their_encoding(diff: Differential) -> None:
    diff.assert_same(
        script(
            [
                (("INCRBYFLOAT", "c", "3"), "c"),
                (("SET", "raw", "abc"), "raw"),
                (("APPEND", "raw", "d"), "raw"),
                (("MOVE", "c", "1"), "c"),
                (("MOVE", "raw", "1"), "raw"),
                (("SELECT", "1"), "c"),
                (("OBJECT", "ENCODING", "raw"), "c"),
                (("SWAPDB", "0", "1"), "c"),
                (("SELECT", "0"), "c"),
                (("OBJECT", "ENCODING", "raw"), "c"),
            ]
        )
    )

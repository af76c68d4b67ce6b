"""Differential: keyspace notifications against a real redis-server.

A subscriber on each server listens with PSUBSCRIBE '__key*__:*' while the same script of
writes from every family runs (strings, keys with RENAME / MOVE / COPY / EXPIRE and expiry,
lists with blocking pops served later, hashes, sets, sorted sets); the sequences of
(channel, message) it receives must be equal. Each script runs with notify-keyspace-events
KEA and with KEAnm ("new" and "keymiss" too).
"""

from __future__ import annotations

import hiredis
import pytest

from tests.multiclient import Step, run_on_wire
from tests.support import RawClient, RealServer, ServerProcess

pytestmark = pytest.mark.integration

_MARKER = b"notifications-done"


class Subscriber:
    """A RESP2 connection subscribed to every keyspace and keyevent channel."""

    def __init__(self, port: int) -> None:
        self.client = RawClient(port)
        self.reader = hiredis.Reader()
        self.client.send_raw(b"*3\r\n$10\r\nPSUBSCRIBE\r\n$10\r\n__key*__:*\r\n$7\r\nmarker*\r\n")
        assert self._next()[0] == b"psubscribe"
        assert self._next()[0] == b"psubscribe"

    def _next(self) -> list[bytes]:
        while (frame := self.reader.gets()) is False:
            chunk = self.client.sock.recv(65536)
            if not chunk:
                raise ConnectionError("subscriber closed")
            self.reader.feed(chunk)
        result: list[bytes] = frame
        return result

    def events(self, port: int) -> list[tuple[bytes, bytes]]:
        """Every event up to a marker published now (delivery is in order on one server)."""
        with RawClient(port) as publisher:
            publisher.command("PUBLISH", "marker", _MARKER)
        out: list[tuple[bytes, bytes]] = []
        while True:
            kind, _pattern, channel, message = self._next()
            assert kind == b"pmessage"
            if channel == b"marker":
                return out
            out.append((channel, message))

    def close(self) -> None:
        self.client.close()


def events_on(port: int, steps: list[Step], classes: str) -> list[tuple[bytes, bytes]]:
    """Run `steps` on the server at `port` with notify-keyspace-events `classes`."""
    with RawClient(port) as admin:
        admin.command("FLUSHALL")
        admin.command("CONFIG", "SET", "notify-keyspace-events", classes)
    subscriber = Subscriber(port)
    try:
        run_on_wire(port, steps)
        return subscriber.events(port)
    finally:
        subscriber.close()
        with RawClient(port) as admin:
            admin.command("CONFIG", "SET", "notify-keyspace-events", "")


@pytest.fixture
def ports(shared_server: ServerProcess, real_redis: RealServer) -> tuple[int, int]:
    return shared_server.port, real_redis.port


LONG = "v" * 70

STRINGS: list[Step] = [
    ("run", "SET", "s", "1"),
    ("run", "SET", "s", "2", "EX", "100"),
    ("run", "SET", "s", "3", "KEEPTTL"),
    ("run", "SET", "s", "4", "NX"),
    ("run", "SET", "x", "4", "XX"),
    ("run", "SET", "s", "5", "GET"),
    ("run", "SETNX", "n", "1"),
    ("run", "SETNX", "n", "2"),
    ("run", "SETEX", "e", "100", "v"),
    ("run", "PSETEX", "p", "100000", "v"),
    ("run", "MSET", "m1", "1", "m2", "2"),
    ("run", "MSETNX", "m3", "3", "m4", "4"),
    ("run", "MSETNX", "m3", "3", "m5", "5"),
    ("run", "APPEND", "a", "x"),
    ("run", "APPEND", "a", "y"),
    ("run", "SETRANGE", "r", "3", "abc"),
    ("run", "SETRANGE", "r", "0", ""),
    ("run", "INCR", "i"),
    ("run", "INCRBY", "i", "5"),
    ("run", "DECR", "i"),
    ("run", "DECRBY", "i", "2"),
    ("run", "INCRBYFLOAT", "f", "1.5"),
    ("run", "INCR", "a"),
    ("run", "GETSET", "g", "1"),
    ("run", "GETDEL", "g"),
    ("run", "GETDEL", "g"),
    ("run", "GETEX", "m1", "EX", "100"),
    ("run", "GETEX", "m1", "PERSIST"),
    ("run", "GETEX", "m2", "PXAT", "1"),
    ("run", "GETEX", "m3"),
    ("run", "SETBIT", "b", "7", "1"),
    ("run", "SETBIT", "b", "7", "1"),
    ("run", "BITFIELD", "bf", "SET", "u8", "0", "1", "INCRBY", "u8", "0", "1"),
    ("run", "BITFIELD", "bf", "GET", "u8", "0"),
    ("run", "BITOP", "OR", "bo", "b", "bf"),
    ("run", "BITOP", "AND", "bo", "nokey"),
    ("run", "GET", "nokey"),
    ("run", "MGET", "nokey", "s"),
    ("run", "STRLEN", "nokey"),
    ("run", "GETRANGE", "nokey", "0", "1"),
    ("run", "LCS", "s", "nokey"),
]

KEYS: list[Step] = [
    ("run", "MSET", "a", "1", "b", "2", "c", "3", "d", "4"),
    ("run", "DEL", "a", "nokey"),
    ("run", "UNLINK", "b"),
    ("run", "RENAME", "c", "c2"),
    ("run", "RENAME", "c2", "d"),
    ("run", "RENAMENX", "d", "e"),
    ("run", "SET", "f", "1"),
    ("run", "RENAMENX", "e", "f"),
    ("run", "MOVE", "f", "1"),
    ("run", "MOVE", "e", "1"),
    ("run", "SET", "g", "1"),
    ("run", "COPY", "g", "h"),
    ("run", "COPY", "g", "h"),
    ("run", "COPY", "g", "h", "REPLACE"),
    ("run", "COPY", "g", "h", "DB", "2"),
    ("run", "EXPIRE", "g", "100"),
    ("run", "EXPIRE", "g", "100", "NX"),
    ("run", "PEXPIRE", "g", "200000", "GT"),
    ("run", "EXPIREAT", "g", "1900000000"),
    ("run", "PEXPIREAT", "g", "1900000000000"),
    ("run", "PERSIST", "g"),
    ("run", "PERSIST", "g"),
    ("run", "EXPIRE", "h", "-1"),
    ("run", "SET", "i", "1"),
    ("run", "PEXPIREAT", "i", "1"),
    # 30 ms, not 1: redis-server 7.0 reads its clock twice in PEXPIRE (for the deadline, then
    # to see whether it has passed), and when a millisecond ticks between the two it deletes
    # the key at once ("del" instead of "expire", then no "expired").
    ("run", "SET", "soon", "x", "PX", "30"),
    ("gone", "soon"),
    ("run", "RPUSH", "expiring", "a"),
    ("run", "PEXPIRE", "expiring", "30"),
    ("gone", "expiring"),
    ("run", "RPUSH", "src", "3", "1", "2"),
    ("run", "SORT", "src", "STORE", "sorted"),
    ("run", "SORT", "nokey", "STORE", "sorted"),
    ("run", "SORT", "nokey", "STORE", "sorted"),
    ("run", "TOUCH", "g", "nokey"),
    ("run", "TYPE", "nokey"),
    ("run", "EXISTS", "nokey"),
    ("run", "SWAPDB", "0", "1"),
    ("run", "FLUSHDB"),
]

LISTS: list[Step] = [
    ("run", "LPUSH", "l", "a", "b"),
    ("run", "RPUSH", "l", "c"),
    ("run", "LPUSHX", "l", "d"),
    ("run", "RPUSHX", "nokey", "d"),
    ("run", "LINSERT", "l", "BEFORE", "a", "x"),
    ("run", "LINSERT", "l", "BEFORE", "zz", "x"),
    ("run", "LSET", "l", "0", "y"),
    ("run", "LREM", "l", "0", "x"),
    ("run", "LREM", "l", "0", "nothing"),
    ("run", "LTRIM", "l", "0", "2"),
    ("run", "LPOP", "l"),
    ("run", "RPOP", "l", "5"),
    ("run", "RPUSH", "l", "1", "2", "3"),
    ("run", "LMOVE", "l", "m", "LEFT", "RIGHT"),
    ("run", "RPOPLPUSH", "l", "m"),
    ("run", "LMPOP", "2", "nokey", "l", "LEFT", "COUNT", "5"),
    ("run", "LTRIM", "m", "5", "9"),
    ("run", "RPUSH", "q", "1", "2"),
    ("run", "BLPOP", "q", "0"),
    ("run", "BLMOVE", "q", "q2", "LEFT", "LEFT", "0"),
    ("run", "LRANGE", "nokey", "0", "-1"),
    ("run", "LPOP", "nokey"),
    # Blocking pops served later.
    ("park", "a", "BLPOP", "w1", "0"),
    ("park", "b", "BRPOP", "w1", "0"),
    ("run", "RPUSH", "w1", "1", "2", "3"),
    ("reply", "a"),
    ("reply", "b"),
    ("park", "c", "BLMOVE", "w2", "w3", "RIGHT", "LEFT", "0"),
    ("park", "d", "BRPOPLPUSH", "w3", "w4", "0"),
    ("park", "e", "BLMPOP", "0", "1", "w4", "LEFT", "COUNT", "2"),
    ("run", "RPUSH", "w2", "x"),
    ("reply", "c"),
    ("reply", "d"),
    ("reply", "e"),
    ("park", "f", "BZPOPMIN", "w5", "0"),
    ("park", "g", "BZMPOP", "0", "1", "w5", "MAX", "COUNT", "5"),
    ("run", "ZADD", "w5", "1", "a", "2", "b", "3", "c"),
    ("reply", "f"),
    ("reply", "g"),
]

HASHES: list[Step] = [
    ("run", "HSET", "h", "a", "1", "b", "2"),
    ("run", "HSET", "h", "a", "1"),
    ("run", "HSETNX", "h", "a", "2"),
    ("run", "HSETNX", "h", "c", "3"),
    ("run", "HMSET", "h", "d", "4"),
    ("run", "HINCRBY", "h", "n", "1"),
    ("run", "HINCRBYFLOAT", "h", "f", "1.5"),
    ("run", "HINCRBY", "h", "a", "x"),
    ("run", "HDEL", "h", "a", "nope"),
    ("run", "HDEL", "h", "nope"),
    ("run", "HSET", "h2", "only", LONG),
    ("run", "HDEL", "h2", "only"),
    ("run", "HGET", "nokey", "f"),
    ("run", "HGETALL", "nokey"),
    ("run", "HEXISTS", "nokey", "f"),
]

SETS: list[Step] = [
    ("run", "SADD", "s", "1", "2", "3"),
    ("run", "SADD", "s", "1"),
    ("run", "SREM", "s", "1", "9"),
    ("run", "SREM", "s", "9"),
    ("run", "SMOVE", "s", "t", "2"),
    ("run", "SMOVE", "s", "t", "9"),
    ("run", "SMOVE", "s", "t", "3"),
    ("run", "SADD", "one", "x"),
    ("run", "SPOP", "one"),
    ("run", "SADD", "all", "x", "y"),
    ("run", "SPOP", "all", "5"),
    ("run", "SADD", "a", "1", "2"),
    ("run", "SADD", "b", "2", "3"),
    ("run", "SINTERSTORE", "i", "a", "b"),
    ("run", "SUNIONSTORE", "u", "a", "b"),
    ("run", "SDIFFSTORE", "d", "a", "b"),
    ("run", "SDIFFSTORE", "d", "a", "a"),
    ("run", "SINTERSTORE", "d", "a", "nokey"),
    ("run", "SMEMBERS", "nokey"),
    ("run", "SISMEMBER", "nokey", "x"),
    ("run", "SCARD", "nokey"),
]

ZSETS: list[Step] = [
    ("run", "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"),
    ("run", "ZADD", "z", "1", "a"),
    ("run", "ZADD", "z", "INCR", "5", "a"),
    ("run", "ZADD", "z", "NX", "INCR", "5", "a"),
    ("run", "ZINCRBY", "z", "1", "b"),
    ("run", "ZREM", "z", "b", "nope"),
    ("run", "ZREM", "z", "nope"),
    ("run", "ZREMRANGEBYSCORE", "z", "100", "200"),
    ("run", "ZREMRANGEBYSCORE", "z", "3", "3"),
    ("run", "ZADD", "z", "0", "x", "0", "y", "0", "w"),
    ("run", "ZREMRANGEBYLEX", "z", "[x", "[y"),
    ("run", "ZREMRANGEBYRANK", "z", "0", "0"),
    ("run", "ZPOPMIN", "z"),
    ("run", "ZPOPMAX", "z", "1"),
    ("run", "ZADD", "z", "1", "p", "2", "q"),
    ("run", "ZMPOP", "1", "z", "MIN", "COUNT", "10"),
    ("run", "ZADD", "a", "1", "x", "2", "y"),
    ("run", "ZADD", "b", "1", "x"),
    ("run", "ZUNIONSTORE", "u", "2", "a", "b"),
    ("run", "ZINTERSTORE", "i", "2", "a", "b"),
    ("run", "ZDIFFSTORE", "d", "2", "a", "b"),
    ("run", "ZDIFFSTORE", "d", "2", "a", "a"),
    ("run", "ZRANGESTORE", "r", "a", "0", "0"),
    ("run", "ZRANGESTORE", "r", "a", "5", "9"),
    ("run", "BZPOPMAX", "a", "0"),
    ("run", "BZMPOP", "0", "1", "a", "MIN"),
    ("run", "ZSCORE", "nokey", "m"),
    ("run", "ZRANGE", "nokey", "0", "-1"),
    ("run", "ZCARD", "nokey"),
]

SCRIPTS = {
    "strings": STRINGS,
    "keys": KEYS,
    "lists": LISTS,
    "hashes": HASHES,
    "sets": SETS,
    "zsets": ZSETS,
}


@pytest.mark.parametrize("classes", ["KEA", "KEAnm"])
@pytest.mark.parametrize("name", list(SCRIPTS))
def test_keyspace_events_match_redis(ports: tuple[int, int], name: str, classes: str) -> None:
    ours_port, theirs_port = ports
    theirs = events_on(theirs_port, SCRIPTS[name], classes)
    ours = events_on(ours_port, SCRIPTS[name], classes)
    assert len(theirs) > 10
    assert ours == theirs

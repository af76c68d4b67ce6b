"""The Python floor: the fastest a Python server on uvloop and hiredis can be on this machine.

A measuring stick for `make bench`, not a cache: one dict, no expiry, no type checks, no
statistics, no persistence, no error handling beyond what keeps a benchmark client going.
Over RESP it answers FLUSHALL and each command of the benchmark table (GET, SET, INCR,
LPUSH, LPOP, SADD, HSET, ZADD, MSET), each with the cheapest Python structure that still
keeps the command's meaning: a deque for a list, a set, a dict for a hash, and for a sorted
set a dict of scores beside a SortedList of (score, member), ordered as Redis orders it.
Over memcached's text protocol it answers get, set and mn. `make bench` runs it beside
Duocache and the real servers, so the report shows how much of the distance to redis-server
or memcached is Python's own (the floor's ratio) and how much is Duocache's (the gap between
the floor and Duocache).

    python -m benchmarks.floor --port 7000 --memcache-port 7001
"""

from __future__ import annotations

import argparse
import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any

import hiredis
import uvloop
from sortedcontainers import SortedList

_STORE: dict[bytes, Any] = {}
_NIL = b"$-1\r\n"
_OK = b"+OK\r\n"


def _incr(argv: list[bytes]) -> bytes:
    n = _STORE.get(argv[1], 0) + 1  # an int, as Redis keeps a counter
    _STORE[argv[1]] = n
    return b":%d\r\n" % n


def _lpush(argv: list[bytes]) -> bytes:
    items = _STORE.get(argv[1])
    if items is None:
        items = _STORE[argv[1]] = deque()
    items.extendleft(argv[2:])
    return b":%d\r\n" % len(items)


def _lpop(argv: list[bytes]) -> bytes:
    items = _STORE.get(argv[1])
    if not items:
        return _NIL
    value: bytes = items.popleft()
    if not items:
        del _STORE[argv[1]]
    return b"$%d\r\n%b\r\n" % (len(value), value)


def _sadd(argv: list[bytes]) -> bytes:
    members = _STORE.get(argv[1])
    if members is None:
        members = _STORE[argv[1]] = set()
    before = len(members)
    members.update(argv[2:])
    return b":%d\r\n" % (len(members) - before)


def _hset(argv: list[bytes]) -> bytes:
    fields = _STORE.get(argv[1])
    if fields is None:
        fields = _STORE[argv[1]] = {}
    before = len(fields)
    for i in range(2, len(argv), 2):
        fields[argv[i]] = argv[i + 1]
    return b":%d\r\n" % (len(fields) - before)


def _zadd(argv: list[bytes]) -> bytes:
    zset = _STORE.get(argv[1])
    if zset is None:
        scores: dict[bytes, float] = {}
        order: SortedList[tuple[float, bytes]] = SortedList()
        zset = _STORE[argv[1]] = (scores, order)
    scores, order = zset
    added = 0
    for i in range(2, len(argv), 2):
        score = float(argv[i])
        member = argv[i + 1]
        old = scores.get(member)
        if old is None:
            added += 1
        elif old != score:
            order.remove((old, member))
        else:
            continue
        scores[member] = score
        order.add((score, member))
    return b":%d\r\n" % added


def _mset(argv: list[bytes]) -> bytes:
    for i in range(1, len(argv), 2):
        _STORE[argv[i]] = argv[i + 1]
    return _OK


def _flushall(argv: list[bytes]) -> bytes:
    _STORE.clear()
    return _OK


_COMMANDS: dict[bytes, Callable[[list[bytes]], bytes]] = {
    b"INCR": _incr,
    b"LPUSH": _lpush,
    b"LPOP": _lpop,
    b"SADD": _sadd,
    b"HSET": _hset,
    b"ZADD": _zadd,
    b"MSET": _mset,
    b"FLUSHALL": _flushall,
}


class RespFloor(asyncio.Protocol):
    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.reader = hiredis.Reader()

    def data_received(self, data: bytes) -> None:
        reader = self.reader
        reader.feed(data)
        out = []
        store = _STORE
        while (argv := reader.gets()) is not False:
            name = argv[0]
            if name == b"GET":
                value = store.get(argv[1])
                out.append(_NIL if value is None else b"$%d\r\n%b\r\n" % (len(value), value))
            elif name == b"SET":
                store[argv[1]] = argv[2]
                out.append(_OK)
            elif (handler := _COMMANDS.get(name.upper())) is not None:
                out.append(handler(argv))
            else:
                out.append(b"-ERR unknown command\r\n")
        if out:
            self.transport.write(b"".join(out))


class MemcacheFloor(asyncio.Protocol):
    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.pending = b""

    def data_received(self, data: bytes) -> None:
        buf = self.pending + data if self.pending else data
        store = _STORE
        out = []
        pos = 0
        while (end := buf.find(b"\r\n", pos)) >= 0:
            tokens = buf[pos:end].split()
            verb = tokens[0] if tokens else b""
            if verb == b"get":
                for key in tokens[1:]:
                    value = store.get(key)
                    if value is not None:
                        out.append(b"VALUE %b 0 %d\r\n%b\r\n" % (key, len(value), value))
                out.append(b"END\r\n")
            elif verb == b"set":
                start = end + 2
                stop = start + int(tokens[4])
                if len(buf) < stop + 2:
                    break  # the data block is not all here yet
                store[tokens[1]] = buf[start:stop]
                end = stop
                if tokens[-1] != b"noreply":
                    out.append(b"STORED\r\n")
            elif verb == b"mn":
                out.append(b"MN\r\n")
            else:
                out.append(b"ERROR\r\n")
            pos = end + 2
        self.pending = buf[pos:]
        if out:
            self.transport.write(b"".join(out))


async def _serve(port: int, memcache_port: int) -> None:
    loop = asyncio.get_running_loop()
    await loop.create_server(RespFloor, "127.0.0.1", port)
    await loop.create_server(MemcacheFloor, "127.0.0.1", memcache_port)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--memcache-port", type=int, required=True)
    args = parser.parse_args()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_serve(args.port, args.memcache_port))


if __name__ == "__main__":
    main()

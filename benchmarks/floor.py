"""The Python floor: the fastest a Python server on uvloop and hiredis can be on this machine.

A measuring stick for `make bench`, not a cache: one dict, no expiry, no types, no
statistics, no persistence, no error handling beyond what keeps a benchmark client going.
It answers GET, SET and FLUSHALL over RESP, and get, set and mn over memcached's text
protocol. `make bench` runs it beside Duocache and the real servers, so the report shows
how much of the distance to redis-server or memcached is Python's own (the floor's ratio)
and how much is Duocache's (the gap between the floor and Duocache).

    python -m benchmarks.floor --port 7000 --memcache-port 7001
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import hiredis
import uvloop

_STORE: dict[bytes, bytes] = {}
_NIL = b"$-1\r\n"
_OK = b"+OK\r\n"


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
            elif name.upper() == b"FLUSHALL":
                store.clear()
                out.append(_OK)
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

"""A pipelining memcached text-protocol load generator on uvloop.

memaslap cannot pipeline, so this one does: each connection sends `--pipeline` requests in
one write and waits for as many replies, until `--requests` are done. It prints one JSON line:
{"ops": ..., "p50_ms": ..., "p99_ms": ...} where latencies are per batch (per request at
pipeline 1).

    python -m benchmarks.memcache_load --port 11211 --op get --pipeline 16 --clients 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import uvloop


async def _prefill(port: int, keys: int, value: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    batch = b"".join(
        b"set key:%d 0 0 %d noreply\r\n%b\r\n" % (i, len(value), value) for i in range(keys)
    )
    writer.write(batch + b"mn\r\n")
    await reader.readuntil(b"MN\r\n")
    writer.close()
    await writer.wait_closed()


async def _client(
    port: int,
    op: str,
    pipeline: int,
    batches: int,
    keys: int,
    value: bytes,
    offset: int,
    latencies: list[float],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    if op == "get":
        requests = [b"get key:%d\r\n" % ((offset + i) % keys) for i in range(pipeline)]
        terminator = b"END\r\n"
    else:
        requests = [
            b"set key:%d 0 0 %d\r\n%b\r\n" % ((offset + i) % keys, len(value), value)
            for i in range(pipeline)
        ]
        terminator = b"STORED\r\n"
    payload = b"".join(requests)
    tail_len = len(terminator) - 1
    for _ in range(batches):
        started = time.perf_counter()
        writer.write(payload)
        seen = 0
        tail = b""
        while seen < pipeline:
            chunk = await reader.read(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            data = tail + chunk
            seen += data.count(terminator)
            tail = data[-tail_len:]
        latencies.append(time.perf_counter() - started)
    writer.close()
    await writer.wait_closed()


async def run(
    port: int, op: str, pipeline: int, clients: int, requests: int, size: int
) -> dict[str, float]:
    value = b"x" * size
    keys = 10_000
    await _prefill(port, keys, value)
    batches = max(1, requests // (clients * pipeline))
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(
        *(
            _client(port, op, pipeline, batches, keys, value, i * 997, latencies)
            for i in range(clients)
        )
    )
    elapsed = time.perf_counter() - started
    latencies.sort()
    done = batches * clients * pipeline
    return {
        "ops": done / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--op", choices=["get", "set"], default="get")
    parser.add_argument("--pipeline", type=int, default=1)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--size", type=int, default=3)
    args = parser.parse_args()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        result = runner.run(
            run(args.port, args.op, args.pipeline, args.clients, args.requests, args.size)
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()

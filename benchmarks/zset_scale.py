"""Sorted-set scale check: ZADD throughput and query latencies on a 1,000,000-member zset.

Kept out of the test suite (it takes tens of seconds). Run from the repository root:

    python benchmarks/zset_scale.py                  # in-process, through dispatch
    python benchmarks/zset_scale.py --port 6379      # over RESP against a running server
    python benchmarks/zset_scale.py --members 200000 --queries 2000

In-process numbers are the command cost alone (dispatch, handler, reply value, no encoding
or socket). Over the wire, ZADD is sent in pipelined batches and each query is one round
trip, so the same script compares Duocache with a real redis-server on one machine.
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import hiredis

from protocol.resp import encode_command

Send = Callable[[list[bytes]], Any]


def in_process() -> tuple[Send, Callable[[list[list[bytes]]], None]]:
    import server.commands  # noqa: F401  (registers the command families)
    from server.app import App
    from server.config import Config
    from server.dispatch import execute

    app = App(Config())
    ctx = app.new_client("127.0.0.1:1", "127.0.0.1:2")

    def send(argv: list[bytes]) -> Any:
        return execute(ctx, argv)

    def pipeline(batch: list[list[bytes]]) -> None:
        for argv in batch:
            execute(ctx, argv)

    return send, pipeline


def over_the_wire(port: int) -> tuple[Send, Callable[[list[list[bytes]]], None]]:
    sock = socket.create_connection(("127.0.0.1", port))
    reader = hiredis.Reader()

    def read_replies(count: int) -> list[Any]:
        out: list[Any] = []
        while len(out) < count:
            reply = reader.gets()
            if reply is False:
                reader.feed(sock.recv(1 << 20))
                continue
            out.append(reply)
        return out

    def send(argv: list[bytes]) -> Any:
        sock.sendall(encode_command(argv))
        return read_replies(1)[0]

    def pipeline(batch: list[list[bytes]]) -> None:
        sock.sendall(b"".join(encode_command(argv) for argv in batch))
        read_replies(len(batch))

    return send, pipeline


def percentiles(samples_s: list[float]) -> str:
    ordered = sorted(samples_s)
    p50 = ordered[len(ordered) // 2] * 1e6
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e6
    mean = statistics.fmean(ordered) * 1e6
    return f"p50 {p50:8.1f} us   p99 {p99:8.1f} us   mean {mean:8.1f} us"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="RESP port; 0 = in-process")
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100, help="pairs per ZADD")
    parser.add_argument("--pipeline", type=int, default=50, help="ZADDs per round trip")
    parser.add_argument("--queries", type=int, default=5000)
    args = parser.parse_args()

    send, pipeline = over_the_wire(args.port) if args.port else in_process()
    key = b"zset-scale"
    send([b"DEL", key])
    rng = random.Random(7)
    n = args.members

    # ZADD: `batch` pairs per command, `pipeline` commands per round trip.
    started = time.perf_counter()
    commands: list[list[bytes]] = []
    for first in range(0, n, args.batch):
        argv = [b"ZADD", key]
        for i in range(first, min(first + args.batch, n)):
            argv += [b"%d" % rng.randrange(n), b"member:%d" % i]
        commands.append(argv)
        if len(commands) == args.pipeline:
            pipeline(commands)
            commands = []
    if commands:
        pipeline(commands)
    elapsed = time.perf_counter() - started
    card = send([b"ZCARD", key])
    print(f"ZADD {n:,} members ({args.batch}/command): {elapsed:.2f} s, {n / elapsed:,.0f} adds/s")
    print(f"ZCARD -> {card}")

    # Single-member ZADD into the big set: the common hot path.
    samples: list[float] = []
    for i in range(args.queries):
        argv = [b"ZADD", key, b"%d" % rng.randrange(n), b"member:%d" % rng.randrange(n + i)]
        t0 = time.perf_counter()
        send(argv)
        samples.append(time.perf_counter() - t0)
    print(f"{'ZADD one pair':30s}{percentiles(samples)}")

    queries: list[tuple[str, Callable[[], list[bytes]]]] = [
        (
            "ZRANGE start..start+9",
            lambda: [b"ZRANGE", key, b"%d" % (s := rng.randrange(n)), b"%d" % (s + 9)],
        ),
        (
            "ZRANGE ... WITHSCORES",
            lambda: [
                b"ZRANGE",
                key,
                b"%d" % (s := rng.randrange(n)),
                b"%d" % (s + 9),
                b"WITHSCORES",
            ],
        ),
        ("ZRANK", lambda: [b"ZRANK", key, b"member:%d" % rng.randrange(n)]),
        ("ZREVRANK", lambda: [b"ZREVRANK", key, b"member:%d" % rng.randrange(n)]),
        ("ZSCORE", lambda: [b"ZSCORE", key, b"member:%d" % rng.randrange(n)]),
        (
            "ZRANGEBYSCORE (s s+10] LIMIT",
            lambda: [
                b"ZRANGEBYSCORE",
                key,
                b"(%d" % (s := rng.randrange(n)),
                b"%d" % (s + 10),
                b"LIMIT",
                b"0",
                b"10",
            ],
        ),
        (
            "ZCOUNT s s+1000",
            lambda: [b"ZCOUNT", key, b"%d" % (s := rng.randrange(n)), b"%d" % (s + 1000)],
        ),
        ("ZRANGE -10 -1 (tail)", lambda: [b"ZRANGE", key, b"-10", b"-1"]),
    ]
    for name, make in queries:
        samples = []
        for _ in range(args.queries):
            argv = make()
            t0 = time.perf_counter()
            send(argv)
            samples.append(time.perf_counter() - t0)
        print(f"{name:30s}{percentiles(samples)}")
    send([b"DEL", key])


if __name__ == "__main__":
    main()

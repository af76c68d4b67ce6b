"""Two servers under the same load at the same time: which spends less CPU per request?

`make bench` measures servers one after another, interleaved rep by rep. On a shared VM a
rep can run 40% faster or slower than the one before it, so two builds a few percent apart
cannot be told apart that way. Here both servers are pinned to the same CPU and each gets
its own redis-benchmark, started together on the other CPU, so both live through the same
noise; what is compared is each server's CPU time per request, from /proc, rep by rep.

One process of a server can run a few percent faster than another process of the same code
(its hash seed and address layout differ): two processes of the same build measured 0.970
and 0.996 here, each steady over its reps. So each side is started afresh `--instances`
times, the two in alternating order, and the ratio is the median over all reps.

    python -m benchmarks.side_by_side rung5 duocache --test set --pipeline 1
    git worktree add /tmp/old HEAD~1
    python -m benchmarks.side_by_side duocache:/tmp/old duocache --reps 8
    python -m benchmarks.side_by_side duties duocache --memcache --test set

A side is `duocache` (this tree), `duocache:PATH` (the checkout at PATH), either with
`@PYTHON` (run by that interpreter, which must have Duocache's dependencies), `redis`,
`floor`, or `rungN` (benchmarks/ladder.py). With `--memcache` the load is `make bench`'s
memcached load generator (benchmarks/memcache_load.py, `--test` get or set) on each
server's memcached port, and the sides are `duocache`, `duocache:PATH`, `memcached`,
`floor`, or `duties` (MemcacheDuties, benchmarks/ladder.py).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.__main__ import flushall, memcache_load_cmd, redis_benchmark_cmd
from benchmarks.servers import (
    Server,
    cpu_seconds,
    start_duocache,
    start_floor,
    start_ladder,
    start_memcached,
    start_redis,
)


def start(side: str) -> Server:
    """The server a side names (see the module docstring)."""
    side, _, python = side.partition("@")
    if python and not side.startswith("duocache"):
        raise SystemExit(f"only Duocache runs under another interpreter: {side}@{python}")
    python = python or sys.executable
    if side == "duocache":
        return start_duocache(python=python)
    if side.startswith("duocache:"):
        return start_duocache(root=Path(side.partition(":")[2]).resolve(), python=python)
    if side == "floor":
        return start_floor()
    if side.startswith("rung") and side[4:].isdigit():
        return start_ladder(int(side[4:]))
    if side == "duties":
        return start_ladder(5, memcache=True)
    for name, starter in (("redis", start_redis), ("memcached", start_memcached)):
        if side == name:
            server = starter()
            if server is None:
                raise SystemExit(f"{name} is not installed")
            return server
    raise SystemExit(f"unknown side: {side}")


def load_cmd(
    server: Server, test: str, pipeline: int, requests: int, memcache: bool, size: int = 3
) -> list[str]:
    """redis-benchmark on the server's port (values of `size` bytes), or with `memcache`
    the memcached load generator on its memcached port (memcached's own, or the "memcache"
    one)."""
    if not memcache:
        return redis_benchmark_cmd(server, test, pipeline, size, requests)
    port = server.port if server.kind == "memcache" else server.extra_ports["memcache"]
    return memcache_load_cmd(port, test, pipeline, requests)


def compare(
    a: Server,
    b: Server,
    test: str,
    pipeline: int,
    requests: int,
    reps: int,
    memcache: bool = False,
    size: int = 3,
) -> list[tuple[float, float]]:
    """Per rep, (A's, B's) server CPU µs per request, both loaded at the same time; the
    side whose load starts first alternates."""
    results = []
    for rep in range(reps):
        if not memcache:  # the memcached load's gets find the keys it stores first
            for server in (a, b):
                flushall(server)
        before = [cpu_seconds(a.pid), cpu_seconds(b.pid)]
        order = (a, b) if rep % 2 == 0 else (b, a)
        loads = [
            subprocess.Popen(
                load_cmd(s, test, pipeline, requests, memcache, size), stdout=subprocess.DEVNULL
            )
            for s in order
        ]
        for load in loads:
            if load.wait() != 0:
                raise SystemExit("the load generator failed")
        a_us = (cpu_seconds(a.pid) - before[0]) * 1e6 / requests
        b_us = (cpu_seconds(b.pid) - before[1]) * 1e6 / requests
        if not (a_us and b_us):  # /proc counts in clock ticks (10 ms)
            raise SystemExit("too few requests to measure CPU time: raise --requests")
        results.append((a_us, b_us))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--test", default="set", help="a redis-benchmark test (-t)")
    parser.add_argument(
        "--memcache", action="store_true", help="memcached's protocol; --test get or set"
    )
    parser.add_argument("--pipeline", type=int, default=1)
    parser.add_argument("--size", type=int, default=3, help="value bytes (redis-benchmark -d)")
    parser.add_argument("--requests", type=int, default=200_000, help="per rep and side")
    parser.add_argument("--reps", type=int, default=4, help="per instance")
    parser.add_argument("--instances", type=int, default=3, help="fresh processes per side")
    args = parser.parse_args()
    results: list[tuple[float, float]] = []
    for instance in range(args.instances):
        first, second = (args.a, args.b) if instance % 2 == 0 else (args.b, args.a)
        started = [start(first)]
        try:
            started.append(start(second))
            a, b = started if instance % 2 == 0 else started[::-1]
            found = compare(
                a, b, args.test, args.pipeline, args.requests, args.reps, args.memcache, args.size
            )
        finally:
            for server in started:
                server.stop()
        for a_us, b_us in found:
            print(f"instance {instance}: A {a_us:.2f} µs  B {b_us:.2f} µs  B/A {b_us / a_us:.3f}")
        results += found
    ratio = statistics.median(b_us / a_us for a_us, b_us in results)
    print(
        f"{args.test} P{args.pipeline}: server CPU per request, A {args.a} "
        f"{statistics.median(r[0] for r in results):.2f} µs, B {args.b} "
        f"{statistics.median(r[1] for r in results):.2f} µs; B/A median {ratio:.3f}"
    )


if __name__ == "__main__":
    main()

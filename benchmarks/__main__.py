"""`python -m benchmarks` / `make bench`: Duocache against real redis-server and memcached.

Each server runs pinned to CPU 0 and the load generator to CPU 1 (when the machine has two).
Targets are interleaved rep by rep so they share the same noise; the report gives medians
and the median of same-rep ratios (Duocache / real server).

    python -m benchmarks             full run (several minutes)
    python -m benchmarks --quick     seconds; CI runs it to keep the suite working
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks import bgsave, failover, ladder
from benchmarks.servers import (
    CLIENT_CPU,
    Server,
    cpu_seconds,
    cpu_times,
    rss_bytes,
    start_duocache,
    start_floor,
    start_ladder,
    start_memcached,
    start_redis,
)

RESP_TESTS = ["set", "get", "incr", "lpush", "lpop", "sadd", "hset", "zadd", "mset"]
# Requests that carry a value (-d) or read one back get a row for each value size. INCR,
# SADD and ZADD send none, and LPOP pops what the run pushed first (3 B): one row each.
VALUE_TESTS = frozenset({"set", "get", "lpush", "hset", "mset"})
KEYSPACE = 100_000  # redis-benchmark -r: keys and members are drawn from this many
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def _client_cmd(cmd: list[str]) -> list[str]:
    if (os.cpu_count() or 1) > 1 and shutil.which("taskset"):
        return ["taskset", "-c", str(CLIENT_CPU), *cmd]
    return cmd


def flushall(server: Server) -> None:
    subprocess.run(
        ["redis-cli", "-p", str(server.port), "FLUSHALL"], capture_output=True, check=True
    )


def redis_benchmark_cmd(
    server: Server, test: str, pipeline: int, size: int, requests: int
) -> list[str]:
    """The redis-benchmark command line of every RESP row: 50 clients, 100,000 random keys,
    CSV output, on the load generator's CPU."""
    return _client_cmd(
        [
            "redis-benchmark",
            "-p",
            str(server.port),
            "-c",
            "50",
            "-P",
            str(pipeline),
            "-d",
            str(size),
            "-n",
            str(requests),
            "-t",
            test,
            "-r",
            "100000",
            "--csv",
            "-q",
        ]
    )


def redis_benchmark(
    server: Server, test: str, pipeline: int, size: int, requests: int
) -> dict[str, float]:
    """One redis-benchmark run; returns rps, p50/p99 ms and server CPU µs per request, in
    all and in user mode (the rest is the kernel's). The server is flushed and `fill`ed
    first."""
    flushall(server)
    fill(server, test, size, requests)
    cmd = redis_benchmark_cmd(server, test, pipeline, size, requests)
    user_before, system_before = cpu_times(server.pid)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    user_after, system_after = cpu_times(server.pid)
    user = user_after - user_before
    used = user + system_after - system_before
    rows = [line.split('","') for line in out.strip().splitlines() if line.startswith('"')]
    row = [c.strip('"') for c in rows[-1]]
    return {
        "rps": float(row[1]),
        "p50_ms": float(row[4]),
        "p99_ms": float(row[6]),
        "cpu_us": used * 1e6 / requests,
        "user_us": user * 1e6 / requests,
    }


def memcache_load_cmd(port: int, op: str, pipeline: int, requests: int) -> list[str]:
    """The command line of every memcached row (benchmarks/memcache_load.py: 50 clients),
    on the load generator's CPU."""
    return _client_cmd(
        [
            sys.executable,
            "-m",
            "benchmarks.memcache_load",
            "--port",
            str(port),
            "--op",
            op,
            "--pipeline",
            str(pipeline),
            "--requests",
            str(requests),
        ]
    )


def memcache_load(port: int, pid: int, op: str, pipeline: int, requests: int) -> dict[str, float]:
    cmd = memcache_load_cmd(port, op, pipeline, requests)
    before = cpu_seconds(pid)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    used = cpu_seconds(pid) - before
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    result["rps"] = result.pop("ops")
    result["cpu_us"] = used * 1e6 / requests
    return result


def fill(server: Server, test: str, size: int, requests: int) -> None:
    """Store what a GET or LPOP run reads, as `redis-benchmark -t set,get` or `-t lpush,lpop`
    would have left it: every key a GET may draw, and an element for each of the LPOPs."""
    item = b"$%d\r\n%b\r\n" % (size, b"x" * size)
    if test == "get":
        _send_all(
            server,
            (b"*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n%b" % (i, item) for i in range(KEYSPACE)),
        )
    elif test == "lpop":
        batch = 1000
        _send_all(
            server,
            (
                b"*%d\r\n$5\r\nLPUSH\r\n$6\r\nmylist\r\n%b" % (n + 2, item * n)
                for n in (min(batch, requests - i) for i in range(0, requests, batch))
            ),
        )


def _send_all(server: Server, requests: Iterator[bytes], batch: int = 1000) -> None:
    """Send RESP requests whose replies are one line each, `batch` at a time, and read
    every reply."""
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        while chunk := list(itertools.islice(requests, batch)):
            sock.sendall(b"".join(chunk))
            got = b""
            while got.count(b"\r\n") < len(chunk):
                data = sock.recv(1 << 20)
                if not data:
                    raise ConnectionError("server closed")
                got += data
            if got.startswith(b"-") or b"\r\n-" in got:
                raise RuntimeError(f"{server.name} refused a fill request: {got[:200]!r}")


def memory_per_key(server: Server, keys: int) -> float:
    """RSS growth per key after SETting `keys` keys with 32-byte values."""
    base = rss_bytes(server.pid)
    value = b"v" * 32
    _send_all(
        server,
        (b"*3\r\n$3\r\nSET\r\n$12\r\nkey:%08d\r\n$32\r\n%b\r\n" % (i, value) for i in range(keys)),
        batch=10_000,
    )
    time.sleep(0.5)  # let the allocator settle before reading RSS
    return (rss_bytes(server.pid) - base) / keys


def _median_ratio(ours: list[float], theirs: list[float]) -> float:
    ratios = [a / b for a, b in zip(ours, theirs, strict=True) if b]
    # A run too short for the server's CPU clock to tick gives no ratio at all.
    return statistics.median(ratios) if ratios else float("nan")


def run(args: argparse.Namespace) -> dict[str, Any]:
    reps = 1 if args.quick else args.reps
    requests = 20_000 if args.quick else args.requests
    tests = ["set", "get"] if args.quick else RESP_TESTS
    sizes = [3] if args.quick else [3, 1024]
    pipelines = [16] if args.quick else [1, 16]
    keys = 50_000 if args.quick else 1_000_000
    results: dict[str, Any] = {"resp": [], "memcache": [], "memory": {}, "reps": reps}
    duo = start_duocache()
    redis = start_redis()
    memcached = start_memcached()
    floor = start_floor()
    try:
        for test in tests:
            servers = (duo, redis, floor)
            for size in sizes if test in VALUE_TESTS else sizes[:1]:
                for pipeline in pipelines:
                    samples: dict[str, list[dict[str, float]]] = {
                        "duocache": [],
                        "redis": [],
                        "floor": [],
                    }
                    for _ in range(reps):
                        for server in servers:
                            if server is not None:
                                n = requests if pipeline > 1 else requests // 4
                                if test == "mset":  # ten keys a request: a quarter of them
                                    n //= 4
                                samples[server.name].append(
                                    redis_benchmark(server, test, pipeline, size, n)
                                )
                    results["resp"].append(_summarize(test, size, pipeline, samples, "redis"))
                    print(_line(results["resp"][-1]), flush=True)
        if redis is not None:
            results["ladder"] = ladder_rows(duo, redis, floor, reps, requests, pipelines)
        mc_port = duo.extra_ports.get("memcache")
        if memcached is not None and mc_port and _accepts(mc_port):
            duties = start_ladder(max(ladder.RUNGS), memcache=True)
            targets = {
                "duocache": (mc_port, duo.pid),
                "memcached": (memcached.port, memcached.pid),
                "floor": (floor.extra_ports["memcache"], floor.pid),
                "duties": (duties.extra_ports["memcache"], duties.pid),
            }
            try:
                for op in ["get", "set"]:
                    for pipeline in pipelines:
                        samples = {name: [] for name in targets}
                        n = requests if pipeline > 1 else requests // 4
                        for _ in range(reps):
                            for name, (port, pid) in targets.items():
                                samples[name].append(memcache_load(port, pid, op, pipeline, n))
                        row = _summarize(op, 3, pipeline, samples, "memcached")
                        results["memcache"].append(row)
                        print(_line(row), flush=True)
            finally:
                duties.stop()
        results["aof"] = aof_cost(duo, redis, reps, requests)
        print(f"appendonly everysec: {results['aof']}", flush=True)
        # Fresh processes: after the runs above, freed arenas would absorb part of the new
        # keys and RSS growth would understate what a key costs (by ~45 B here).
        for start in (start_duocache, start_redis, start_floor):
            server = start()
            if server is None:
                continue
            try:
                results["memory"][server.name] = memory_per_key(server, keys)
            finally:
                server.stop()
        results["memory"]["keys"] = keys
        print(f"memory per key: {results['memory']}", flush=True)
    finally:
        for server in (duo, redis, memcached, floor):
            if server is not None:
                server.stop()
    results["bgsave"] = bgsave.compare(keys)
    print(f"bgsave: {results['bgsave']}", flush=True)
    if not args.quick:  # a failover run takes seconds by design (down-after-milliseconds)
        results["failover"] = failover_times(reps)
    return results


LADDER_RUNS = (("set", 16), ("get", 16), ("set", 1), ("get", 1))


def ladder_rows(
    duo: Server, redis: Server, floor: Server, reps: int, requests: int, pipelines: list[int]
) -> list[dict[str, Any]]:
    """SET and GET (3 B) on the floor, each rung of benchmarks/ladder.py and Duocache,
    interleaved with redis-server; a row per server with each run's ratio and CPU."""
    runs = [(test, pipeline) for test, pipeline in LADDER_RUNS if pipeline in pipelines]
    rungs = [start_ladder(rung) for rung in ladder.RUNGS]
    order = [redis, floor, *rungs, duo]
    samples: dict[tuple[str, str], list[dict[str, float]]] = {}
    try:
        for test, pipeline in runs:
            n = requests if pipeline > 1 else requests // 4
            for _ in range(reps):
                for server in order:
                    run = redis_benchmark(server, test, pipeline, 3, n)
                    samples.setdefault((f"{test}_p{pipeline}", server.name), []).append(run)
    finally:
        for server in rungs:
            server.stop()
    rows = []
    for server in order:
        row: dict[str, Any] = {"server": server.name}
        for test, pipeline in runs:
            key = f"{test}_p{pipeline}"
            ours, theirs = samples[(key, server.name)], samples[(key, "redis")]
            row[f"{key}_ratio"] = _median_ratio(
                [r["rps"] for r in ours], [r["rps"] for r in theirs]
            )
            row[f"{key}_cpu_us"] = statistics.median(r["cpu_us"] for r in ours)
            row[f"{key}_user_us"] = statistics.median(r["user_us"] for r in ours)
        print(f"ladder: {row}", flush=True)
        rows.append(row)
    return rows


FAILOVER_COMBOS = [
    # (monitors, nodes, min-replicas-to-write 1 on the nodes)
    ("duocache", "duocache", True),
    ("redis-sentinel", "duocache", True),
    ("redis-sentinel", "redis-server", False),
]


def failover_times(reps: int) -> list[dict[str, Any]]:
    """SIGKILL of a primary (two replicas, three monitors, down-after 1000 ms) to the first
    write acknowledged by the new primary, through redis-py's Sentinel client."""
    if shutil.which("redis-sentinel") is None:
        return []
    runs: dict[tuple[str, str, bool], list[dict[str, float]]] = {c: [] for c in FAILOVER_COMBOS}
    for _ in range(reps):
        for combo in FAILOVER_COMBOS:  # interleaved like the rest
            monitors, nodes, fence = combo
            with tempfile.TemporaryDirectory() as tmp:
                runs[combo].append(failover.one_run(monitors, nodes, Path(tmp), 1000, fence))
    rows = []
    for (monitors, nodes, fence), results in runs.items():
        row: dict[str, Any] = {"monitors": monitors, "nodes": nodes, "fence": fence}
        for key in ("odown_s", "switch_s", "first_write_s"):
            row[key] = statistics.median(r[key] for r in results)
        row["first_write_all_s"] = [r["first_write_s"] for r in results]
        row["confirmed"] = sum(r["confirmed"] for r in results)
        row["lost"] = sum(r["lost"] for r in results)
        if all("old_primary_accepted" in r for r in results):
            row["old_primary_accepted"] = sum(r["old_primary_accepted"] for r in results)
        print(f"failover: {row}", flush=True)
        rows.append(row)
    return rows


AOF_REPS_MIN = 9  # the cost is a difference of two noisy figures: more reps than the table


def aof_cost(duo: Server, redis: Server | None, reps: int, requests: int) -> dict[str, Any]:
    """SET -P 16 throughput with `appendonly yes` + `appendfsync everysec` against without.

    The servers without AOF are the ones the table used; the AOF ones are started beside
    them, and the four run interleaved rep by rep. The cost is the share of throughput lost:
    the median of the reps' own costs (each rep's on/off pair ran back to back).
    """
    aof_args = ("--appendonly", "yes", "--appendfsync", "everysec")
    duo_aof = start_duocache(*aof_args)
    redis_aof = start_redis(*aof_args) if redis is not None else None
    pairs = {"duocache": (duo, duo_aof), "redis": (redis, redis_aof)}
    rps: dict[str, list[float]] = {}
    try:
        for _ in range(reps if reps == 1 else max(reps, AOF_REPS_MIN)):
            for name, (plain, logged) in pairs.items():
                if plain is None or logged is None:
                    continue
                for label, server in (("off", plain), ("on", logged)):
                    run = redis_benchmark(server, "set", 16, 3, requests)
                    rps.setdefault(f"{name}_{label}", []).append(run["rps"])
    finally:
        for started in (duo_aof, redis_aof):
            if started is not None:
                started.stop()
    result: dict[str, Any] = {}
    for name in pairs:
        if f"{name}_on" in rps:
            off, on = rps[f"{name}_off"], rps[f"{name}_on"]
            result[name] = {
                "rps_off": statistics.median(off),
                "rps_on": statistics.median(on),
                "cost": 1 - _median_ratio(on, off),
                "reps": len(on),
            }
    return result


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _summarize(
    test: str, size: int, pipeline: int, samples: dict[str, list[dict[str, float]]], other: str
) -> dict[str, Any]:
    ours, theirs = samples["duocache"], samples[other]
    row: dict[str, Any] = {"test": test, "size": size, "pipeline": pipeline, "other": other}
    for name, runs in (("duocache", ours), (other, theirs)):
        for metric in ("rps", "p50_ms", "p99_ms", "cpu_us"):
            if runs:
                row[f"{name}_{metric}"] = statistics.median(r[metric] for r in runs)
    if ours and theirs:
        row["ratio"] = _median_ratio([r["rps"] for r in ours], [r["rps"] for r in theirs])
        row["cpu_ratio"] = _median_ratio([r["cpu_us"] for r in ours], [r["cpu_us"] for r in theirs])
    for name in ("floor", "duties"):  # the Python servers run beside them
        beside = samples.get(name)
        if beside and theirs:
            row[f"{name}_rps"] = statistics.median(r["rps"] for r in beside)
            row[f"{name}_ratio"] = _median_ratio(
                [r["rps"] for r in beside], [r["rps"] for r in theirs]
            )
    return row


def _floor_cell(row: dict[str, Any]) -> str:
    return f"{row['floor_ratio']:.2f}" if "floor_ratio" in row else ""


def _line(row: dict[str, Any]) -> str:
    other = row["other"]
    return (
        f"{row['test']:>6} {row['size']:>5}B P{row['pipeline']:<3} "
        f"duocache {row.get('duocache_rps', 0):>10.0f}/s  "
        f"{other} {row.get(f'{other}_rps', 0):>10.0f}/s  "
        f"ratio {row.get('ratio', float('nan')):.2f}"
        + (f"  floor {_floor_cell(row)}" if "floor_ratio" in row else "")
    )


def write_report(results: dict[str, Any], out: Path, quick: bool) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    machine = (
        f"{_cpu_model()}, {platform.machine()}, {os.cpu_count()} CPUs; Python "
        f"{platform.python_version()}; {_version(['redis-server', '--version'])}; "
        f"{_version(['memcached', '--version'])}"
    )
    lines = [
        f"{time.strftime('%Y-%m-%d')}. Machine: {machine}. Servers pinned to CPU 0, load "
        f"generator to CPU 1. Medians of {results.get('reps', 1)} interleaved reps; ratio = "
        f"Duocache / real server, the median of same-rep ratios. Floor: the same ratio for "
        f"the Python floor (benchmarks/floor.py), a uvloop + hiredis server that keeps "
        f"each command's data in the cheapest Python structure and does nothing else "
        f"Redis or memcached does, run beside them: about the most a Python server gets "
        f"from this machine. GET runs read keys filled in before each run, LPOP runs pop "
        f"elements pushed before it; INCR, SADD and ZADD carry no value, so they and LPOP "
        f"have one row each."
        f"{' Quick mode.' if quick else ''}",
        "",
        "| test | value | pipeline | Duocache ops/s | real ops/s | ratio | floor "
        "| p50 ms (D/R) | p99 ms (D/R) | CPU µs/req (D/R) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["resp"] + results["memcache"]:
        o = row["other"]
        lines.append(
            f"| {row['test']} ({o}) | {row['size']} B | {row['pipeline']} | "
            f"{row.get('duocache_rps', 0):,.0f} | {row.get(f'{o}_rps', 0):,.0f} | "
            f"{row.get('ratio', float('nan')):.2f} | "
            f"{_floor_cell(row)} | "
            f"{row.get('duocache_p50_ms', 0):.2f} / {row.get(f'{o}_p50_ms', 0):.2f} | "
            f"{row.get('duocache_p99_ms', 0):.2f} / {row.get(f'{o}_p99_ms', 0):.2f} | "
            f"{row.get('duocache_cpu_us', 0):.1f} / {row.get(f'{o}_cpu_us', 0):.1f} |"
        )
    aof = results.get("aof", {})
    if "duocache" in aof and "redis" in aof:
        d, r = aof["duocache"], aof["redis"]
        lines += [
            "",
            f"`appendonly yes`, `appendfsync everysec` (SET, 3 B, pipeline 16, {d['reps']} reps, "
            "cost = median of the reps' own costs): Duocache "
            f"{d['rps_off']:,.0f} -> {d['rps_on']:,.0f} ops/s (costs {d['cost']:.0%}), "
            f"redis-server {r['rps_off']:,.0f} -> {r['rps_on']:,.0f} ops/s "
            f"(costs {r['cost']:.0%}).",
        ]
    if results.get("ladder"):
        lines += _ladder_report(results["ladder"])
    if any("duties_ratio" in row for row in results["memcache"]):
        lines += _memcache_duties_report(results["memcache"])
    save = results.get("bgsave", {})
    for name in ("duocache", "redis"):
        if name in save:
            b, during = save[name], save[name]["during"]
            label = "Duocache" if name == "duocache" else "redis-server"
            lines += [
                "",
                f"BGSAVE of {save['keys']:,} keys, {label}: {b['save_seconds']:.2f} s; GET "
                f"during it p50 {during['p50_ms']:.2f} ms, p99 {during['p99_ms']:.2f} ms, "
                f"max {during['max_ms']:.1f} ms; copy-on-write peak "
                f"{b['child_private_dirty_peak_mb']:.0f} MB.",
            ]
    if "load_seconds" in save:
        load = save["load_seconds"]
        lines += [
            "",
            f"Loading that snapshot: Duocache {load['duocache']:.2f} s (to its ready line), "
            f"redis-server {load['redis']:.2f} s.",
        ]
    for row in results.get("failover", []):
        monitors = "Duocache monitors" if row["monitors"] == "duocache" else "redis-sentinel"
        nodes = "Duocache" if row["nodes"] == "duocache" else "redis-server"
        fence = ", min-replicas-to-write 1" if row["fence"] else ""
        accepted = (
            f"; writes accepted by the restarted old primary: {row['old_primary_accepted']:.0f}"
            if "old_primary_accepted" in row
            else ""
        )
        lines += [
            "",
            f"Failover, {monitors} over {nodes} nodes{fence} (down-after-milliseconds 1000): "
            f"SIGKILL to first acknowledged write {row['first_write_s']:.2f} s median of "
            f"{len(row['first_write_all_s'])} (+odown {row['odown_s']:.2f} s, +switch-master "
            f"{row['switch_s']:.2f} s); writes confirmed by WAIT 1 lost: {row['lost']:.0f} of "
            f"{row['confirmed']:.0f}{accepted}.",
        ]
    mem = results["memory"]
    if mem:
        lines += [
            "",
            f"Memory per key ({mem['keys']:,} keys, 32-byte values, fresh process RSS growth): "
            f"Duocache {mem.get('duocache', 0):.0f} B, redis-server {mem.get('redis', 0):.0f} B, "
            f"the Python floor (bytes keys and values in one dict) {mem.get('floor', 0):.0f} B.",
        ]
    path = out / "latest.md"
    path.write_text("\n".join(lines) + "\n")
    (out / "latest.json").write_text(json.dumps(results, indent=2))
    _chart(results, out / "latest.png")
    return path


_LADDER_LABELS = {
    "redis": "redis-server",
    "floor": "the Python floor: a dict, names in upper case only",
    **{f"rung {rung}": f"rung {rung}, {what}" for rung, what in ladder.RUNGS.items()},
    "duocache": "Duocache",
}


def _ladder_report(rows: list[dict[str, Any]]) -> list[str]:
    runs = [(t, p) for t, p in LADDER_RUNS if f"{t}_p{p}_ratio" in rows[0]]
    lines = [
        "",
        "The ladder (benchmarks/ladder.py): the floor with Redis's per-command duties added "
        "back one rung at a time, in their cheapest Python form; 3 B values, interleaved "
        "with redis-server. Each cell: ratio to redis-server (server CPU µs per request, and "
        "the part of it spent in user mode; the rest is the kernel's).",
        "",
        "| server | " + " | ".join(f"{t.upper()} P{p}" for t, p in runs) + " |",
        "|---|" + "---|" * len(runs),
    ]
    lines.extend(
        f"| {_LADDER_LABELS.get(row['server'], row['server'])} | "
        + " | ".join(
            f"{row[f'{t}_p{p}_ratio']:.2f} ({row[f'{t}_p{p}_cpu_us']:.1f}, "
            f"user {row[f'{t}_p{p}_user_us']:.1f})"
            for t, p in runs
        )
        + " |"
        for row in rows
    )
    return lines


def _memcache_duties_report(rows: list[dict[str, Any]]) -> list[str]:
    """The memcached rows again, with the Python server that does memcached's duties."""
    lines = [
        "",
        "memcached's own duties in Python (MemcacheDuties in benchmarks/ladder.py: the "
        "floor plus the command-line checks, items with flags, CAS and deadlines, and the "
        "statistics memcached keeps), beside the table's memcached rows. Ratio to memcached.",
        "",
        "| server | " + " | ".join(f"{r['test']} P{r['pipeline']}" for r in rows) + " |",
        "|---|" + "---|" * len(rows),
    ]
    for label, key in (
        ("the Python floor", "floor_ratio"),
        ("memcached's duties", "duties_ratio"),
        ("Duocache", "ratio"),
    ):
        cells = " | ".join(f"{r[key]:.2f}" if key in r else "" for r in rows)
        lines.append(f"| {label} | {cells} |")
    return lines


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _version(cmd: list[str]) -> str:
    if shutil.which(cmd[0]) is None:
        return f"{cmd[0]} not installed"
    out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.split()
    # "Redis server v=7.0.15 sha=..." / "memcached 1.6.18"
    version = next((w[2:] for w in out if w.startswith("v=")), out[1] if len(out) > 1 else "?")
    return f"{cmd[0]} {version}"


def _chart(results: dict[str, Any], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    rows = results["resp"] + results["memcache"]
    if not rows:
        return
    labels = [f"{r['test']}\n{r['size']}B P{r['pipeline']}" for r in rows]
    ratios = [r.get("ratio", 0.0) for r in rows]
    fig, ax = plt.subplots(figsize=(max(6, len(rows) * 0.6), 4))
    ax.bar(range(len(rows)), ratios, color=["#4c72b0" if x >= 1 else "#dd8452" for x in ratios])
    floor = [(i, r["floor_ratio"]) for i, r in enumerate(rows) if "floor_ratio" in r]
    if floor:
        ax.scatter(
            [i for i, _ in floor],
            [f for _, f in floor],
            color="black",
            marker="_",
            s=120,
            label="Python floor (benchmarks/floor.py)",
            zorder=3,
        )
        ax.legend(fontsize=7, loc="upper left")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(rows)), labels, fontsize=6, rotation=90)
    ax.set_ylabel("Duocache / real server (ops/s)")
    ax.set_title("Throughput ratio, same machine, same run")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="a few seconds, for CI")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--requests", type=int, default=400_000)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if shutil.which("redis-benchmark") is None:
        print("redis-benchmark is not installed (apt-get install redis-tools)", file=sys.stderr)
        return 2
    results = run(args)
    path = write_report(results, args.out, args.quick)
    print(f"report: {path}")
    if not args.quick and args.out == RESULTS_DIR and update_readme(path.read_text()):
        print(f"README: {README} updated")
    return 0


README = RESULTS_DIR.parent.parent / "README.md"
README_START = "<!-- make bench: start -->"
README_END = "<!-- make bench: end -->"


def update_readme(report: str) -> bool:
    """Put a full run's report between the README's markers (README shows the latest run)."""
    if not README.exists():
        return False
    text = README.read_text()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        return False
    block = f"{README_START}\n{report.rstrip()}\n{README_END}"
    README.write_text(text[:start] + block + text[end + len(README_END) :])
    return True


if __name__ == "__main__":
    raise SystemExit(main())

"""BGSAVE under load and snapshot loading, Duocache against a real redis-server.

    python -m benchmarks.bgsave [--keys 1000000]

1. Start Duocache (pinned to CPU 0) and fill it with N string keys.
2. BGSAVE, with one client (CPU 1) measuring GET latency until the snapshot is renamed into
   place; the save's duration; memory sampled every 20 ms: the parent's RSS growth, the
   child's RSS and its private dirty memory (the copy-on-write cost).
3. Restart Duocache on that dump.rdb and time the load (until its ready line), then start a
   real redis-server on a copy of the same file and take the load time it logs.
4. Steps 1 and 2 on a real redis-server, for the same figures side by side.

`make bench` calls `compare`; run alone, this prints a small report.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.servers import (
    CLIENT_CPU,
    REPO_ROOT,
    SERVER_CPU,
    free_port,
    pin,
    rss_bytes,
    start_redis,
)


def _start_duocache(directory: Path, port: int) -> tuple[subprocess.Popen[bytes], float]:
    cmd = [sys.executable, "-m", "server", "--port", str(port), "--memcache-port", "0"]
    cmd += ["--dir", str(directory), "--save", "", "--logfile", str(directory / "log")]
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env)
    pin(proc.pid, SERVER_CPU)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith(b"DUOCACHE READY"):
        raise RuntimeError(f"duocache did not start: {line!r}")
    return proc, time.monotonic() - started


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(60)
    if proc.stdout is not None:
        proc.stdout.close()


class Conn:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def call(self, *args: bytes) -> bytes:
        parts = [b"*%d\r\n" % len(args)]
        parts.extend(b"$%d\r\n%b\r\n" % (len(a), a) for a in args)
        self.sock.sendall(b"".join(parts))
        return self._reply()

    def _reply(self) -> bytes:
        buf = b""
        while True:
            buf += self.sock.recv(65536)
            if buf.startswith((b"+", b"-", b":")) and buf.endswith(b"\r\n"):
                return buf
            if buf.startswith(b"$"):
                head, _, rest = buf.partition(b"\r\n")
                size = int(head[1:])
                if size < 0 or len(rest) >= size + 2:
                    return buf


def fill(port: int, keys: int) -> float:
    """MSET in batches of 1000, pipelined; returns seconds."""
    started = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", port))
    batch = 1000
    pending = 0
    for start in range(0, keys, batch):
        args = [b"MSET"]
        for i in range(start, min(start + batch, keys)):
            args += [b"key:%d" % i, b"value-%d-%s" % (i, b"x" * 16)]
        parts = [b"*%d\r\n" % len(args)]
        parts.extend(b"$%d\r\n%b\r\n" % (len(a), a) for a in args)
        sock.sendall(b"".join(parts))
        pending += 1
        if pending == 32:
            _drain(sock, pending)
            pending = 0
    _drain(sock, pending)
    sock.close()
    return time.monotonic() - started


def _drain(sock: socket.socket, replies: int) -> None:
    got = b""
    while got.count(b"\r\n") < replies:
        got += sock.recv(65536)


def latencies(port: int, keys: int, stop: threading.Event, out: list[float]) -> None:
    pin(threading.get_native_id(), CLIENT_CPU)
    conn = Conn(port)
    rng = random.Random(1)
    while not stop.is_set():
        key = b"key:%d" % rng.randrange(keys)
        t = time.perf_counter()
        conn.call(b"GET", key)
        out.append(time.perf_counter() - t)


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    n = len(ordered)
    return {
        "count": n,
        "p50_ms": ordered[n // 2] * 1000,
        "p99_ms": ordered[int(n * 0.99)] * 1000,
        "max_ms": ordered[-1] * 1000,
    }


def _child_of(pid: int) -> int | None:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return None
    return int(text[0]) if text else None


def _private_dirty(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Private_Dirty:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def measure_bgsave(port: int, pid: int, directory: Path, keys: int) -> dict[str, Any]:
    dump = directory / "dump.rdb"
    before = dump.stat().st_ino if dump.exists() else None
    stop = threading.Event()
    samples: list[float] = []
    thread = threading.Thread(target=latencies, args=(port, keys, stop, samples))
    parent_base = rss_bytes(pid)
    thread.start()
    time.sleep(0.5)
    samples.clear()
    conn = Conn(port)
    started = time.monotonic()
    reply = conn.call(b"BGSAVE")
    assert reply.startswith(b"+Background saving started"), reply
    peak_parent = parent_base
    peak_child_rss = 0
    peak_child_dirty = 0
    while True:
        child = _child_of(pid)
        if child is not None:
            peak_child_rss = max(
                peak_child_rss, rss_bytes(child) if Path(f"/proc/{child}").exists() else 0
            )
            peak_child_dirty = max(peak_child_dirty, _private_dirty(child))
        peak_parent = max(peak_parent, rss_bytes(pid))
        if dump.exists() and dump.stat().st_ino != before:
            break
        time.sleep(0.02)
    duration = time.monotonic() - started
    stop.set()
    thread.join()
    return {
        "save_seconds": duration,
        "during": summary(samples),
        "parent_rss_before_mb": parent_base / 2**20,
        "parent_growth_mb": (peak_parent - parent_base) / 2**20,
        "child_rss_peak_mb": peak_child_rss / 2**20,
        "child_private_dirty_peak_mb": peak_child_dirty / 2**20,
        "file_mb": dump.stat().st_size / 2**20,
    }


def redis_load_seconds(rdb: Path) -> float:
    directory = Path(tempfile.mkdtemp(prefix="redis-load-"))
    try:
        shutil.copy(rdb, directory / "dump.rdb")
        port = free_port()
        log = directory / "redis.log"
        proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(port),
                "--dir",
                str(directory),
                "--save",
                "",
                "--logfile",
                str(log),
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        pin(proc.pid, SERVER_CPU)
        deadline = time.monotonic() + 120
        found = None
        while time.monotonic() < deadline and found is None:
            text = log.read_text() if log.exists() else ""
            found = re.search(r"DB loaded from disk: ([0-9.]+) seconds", text)
            time.sleep(0.05)
        proc.terminate()
        proc.wait(30)
        if found is None:
            raise RuntimeError("redis-server did not report loading the file")
        return float(found.group(1))
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def compare(keys: int) -> dict[str, Any]:
    """BGSAVE under GET load on Duocache and on redis-server, then both loading Duocache's file.

    Returns {"keys", "duocache": measure_bgsave(...), "redis": ..., "load_seconds": {...}}.
    """
    result: dict[str, Any] = {"keys": keys}
    directory = Path(tempfile.mkdtemp(prefix="duocache-bgsave-"))
    port = free_port()
    try:
        proc, _ = _start_duocache(directory, port)
        fill(port, keys)
        result["duocache"] = measure_bgsave(port, proc.pid, directory, keys)
        _stop(proc)
        proc, load_s = _start_duocache(directory, port)
        _stop(proc)
        result["load_seconds"] = {
            "duocache": load_s,
            "redis": redis_load_seconds(directory / "dump.rdb"),
        }
        redis = start_redis()
        if redis is not None:
            try:
                fill(redis.port, keys)
                result["redis"] = measure_bgsave(redis.port, redis.pid, redis.workdir, keys)
            finally:
                redis.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bgsave")
    parser.add_argument("--keys", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    result = compare(args.keys)
    for name in ("duocache", "redis"):
        if name not in result:
            continue
        r, during = result[name], result[name]["during"]
        print(
            f"{name}: BGSAVE of {args.keys} keys took {r['save_seconds']:.2f} s "
            f"({r['file_mb']:.1f} MB); GET during it p50 {during['p50_ms']:.3f} ms "
            f"p99 {during['p99_ms']:.3f} ms max {during['max_ms']:.2f} ms "
            f"({during['count']} requests); parent RSS {r['parent_rss_before_mb']:.0f} MB "
            f"grew {r['parent_growth_mb']:.1f} MB; child private (copy-on-write) peak "
            f"{r['child_private_dirty_peak_mb']:.0f} MB"
        )
    load = result["load_seconds"]
    print(
        f"loading Duocache's file: Duocache ready after {load['duocache']:.2f} s (process "
        f"start included), redis-server {load['redis']:.2f} s (as it logs)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

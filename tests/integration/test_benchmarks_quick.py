"""`python -m benchmarks --quick` keeps working (the figures themselves live in benchmarks/)."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis
from pymemcache.client.base import Client as MemcacheClient

from benchmarks import ladder
from benchmarks.__main__ import KEYSPACE, fill, redis_benchmark
from benchmarks.servers import start_duocache, start_floor, start_ladder
from tests.support import REPO_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_quick_benchmark_writes_a_report(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    report = (tmp_path / "latest.md").read_text()
    assert "| set (redis) | 3 B | 16 |" in report
    # The Python floor ran beside them: its ratio fills the floor column of SET and GET.
    assert re.search(
        r"\| set \(redis\) \| 3 B \| 16 \| [\d,]+ \| [\d,]+ \| [\d.]+ \| [\d.]+ \|", report
    )
    assert re.search(
        r"\| get \(memcached\) \| 3 B \| 16 \| [\d,]+ \| [\d,]+ \| [\d.]+ \| [\d.]+ \|", report
    )
    assert "the Python floor (bytes keys and values in one dict)" in report
    assert "Memory per key" in report
    assert "`appendonly yes`, `appendfsync everysec`" in report
    assert "BGSAVE of 50,000 keys, Duocache" in report
    assert "Loading that snapshot" in report
    assert re.search(r"\| memcached's duties \| [\d.]+ \| [\d.]+ \|", report)
    # The ladder ran: a row per rung with both ratios, each with its CPU and user CPU.
    cell = r"[\d.]+ \([\d.]+, user [\d.]+\)"
    for rung in ladder.RUNGS:
        assert re.search(rf"\| rung {rung}, [^|]+ \| {cell} \| {cell} \|", report)


def test_the_floor_stores_and_answers_over_both_protocols() -> None:
    """The floor does the work it is timed on: values stored by one protocol are read back."""
    floor = start_floor()
    try:
        r = redis.Redis(port=floor.port, protocol=2)
        assert r.set("k", "v1")
        assert r.get("k") == b"v1"
        assert r.get("missing") is None
        mc = MemcacheClient(("127.0.0.1", floor.extra_ports["memcache"]))
        assert mc.get("k") == b"v1"
        assert mc.set("m", b"x" * 5000)  # a data block longer than one read
        assert mc.get("m") == b"x" * 5000
        assert r.get("m") == b"x" * 5000
        assert r.flushall()
        assert mc.get("m") is None
        mc.close()
        r.close()
    finally:
        floor.stop()


# Each command of the benchmark table, as redis-benchmark sends it, and the edge it meets.
_TABLE_COMMANDS = [
    ["INCR", "counter"],
    ["INCR", "counter"],
    ["LPUSH", "mylist", "a"],
    ["LPUSH", "mylist", "b", "c"],
    ["LPOP", "mylist"],
    ["LPOP", "mylist"],
    ["LPOP", "mylist"],
    ["LPOP", "mylist"],  # gone with its last element
    ["SADD", "myset", "a", "b", "a"],
    ["SADD", "myset", "a"],
    ["HSET", "myhash", "f", "v"],
    ["HSET", "myhash", "f", "w", "g", "x"],
    ["ZADD", "myzset", "1", "a", "2.5", "b"],
    ["ZADD", "myzset", "3", "a"],  # a new score for a member: none added
    ["ZADD", "myzset", "3", "a"],
    ["MSET", "k1", "v1", "k2", "v2"],
    ["GET", "k2"],
]


def test_the_floor_answers_each_table_command_as_duocache_does() -> None:
    """The floor's figure for a command is worth reading only if it did the command's work:
    the same replies as Duocache, edges included."""
    floor, duo = start_floor(), start_duocache()
    try:
        replies = []
        for server in (floor, duo):
            with redis.Redis(port=server.port, protocol=2) as r:
                replies.append([r.execute_command(*argv) for argv in _TABLE_COMMANDS])
        assert replies[0] == replies[1]
        assert replies[0][:2] == [1, 2]
        assert replies[0][4:8] == [b"c", b"b", b"a", None]
    finally:
        floor.stop()
        duo.stop()


@pytest.mark.skipif(shutil.which("redis-benchmark") is None, reason="needs redis-benchmark")
def test_get_and_lpop_runs_read_what_was_filled_in() -> None:
    """A GET run finds every key it draws, and an LPOP run pops an element each time, as
    after `redis-benchmark -t set,get` or `-t lpush,lpop`."""
    duo = start_duocache()
    try:
        with redis.Redis(port=duo.port, protocol=2) as r:
            redis_benchmark(duo, "get", 1, 5, 2000)
            assert r.dbsize() == KEYSPACE
            assert r.get(f"key:{KEYSPACE - 1:012d}") == b"xxxxx"
            stats = r.info("stats")
            assert (stats["keyspace_hits"], stats["keyspace_misses"]) == (2001, 0)
            fill(duo, "lpop", 3, 2500)
            assert r.llen("mylist") == 2500
            assert r.lindex("mylist", 0) == b"xxx"
            redis_benchmark(duo, "lpop", 1, 3, 2500)
            assert r.dbsize() == 0  # the run's own fill: 2,500 elements, and not one more
            assert r.info("commandstats")["cmdstat_lpop"]["calls"] == 2500
    finally:
        duo.stop()


@pytest.mark.parametrize("rung", sorted(ladder.RUNGS))
def test_each_rung_of_the_ladder_does_the_work_it_is_timed_on(rung: int) -> None:
    server = start_ladder(rung)
    try:
        r: Any = redis.Redis(port=server.port, protocol=2)  # execute_command is untyped
        assert r.set("k", "v1")
        assert r.get("k") == b"v1"
        assert r.execute_command("get", "k") == b"v1"  # names in any case
        assert r.execute_command("sEt", "k", "v2")
        assert r.get("k") == b"v2"
        assert r.get("missing") is None
        with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'get'"):
            r.execute_command("GET")
        with pytest.raises(redis.ResponseError, match="unknown command 'NOPE'"):
            r.execute_command("NOPE")
        assert r.flushall()
        assert r.get("k") is None
        r.close()
    finally:
        server.stop()


def test_rung_6_reads_requests_as_redis_does() -> None:
    """Rung 6 answers framing that hiredis accepts and Redis refuses with Redis's protocol
    errors (checked against redis-server 7.0), alone or behind a pipelined command."""
    server = start_ladder(6)
    try:
        for request, error in (
            (b"*1\r\n+GET\r\n", b"-ERR Protocol error: expected '$', got '+'\r\n"),
            (b"*2\r\n$03\r\nGET\r\n$1\r\nk\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        ):
            for before, replies in ((b"", b""), (b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", b"$-1\r\n")):
                with socket.create_connection(("127.0.0.1", server.port)) as sock:
                    sock.sendall(before + request)
                    got = b""
                    while chunk := sock.recv(65536):
                        got += chunk
                assert got == replies + error
    finally:
        server.stop()


def test_memcached_duties_answer_as_memcached_does() -> None:
    """The Python server of memcached's duties keeps flags, checks what memcached checks."""
    server = start_ladder(max(ladder.RUNGS), memcache=True)
    port = server.extra_ports["memcache"]
    try:
        mc = MemcacheClient(("127.0.0.1", port), default_noreply=False)
        assert mc.set("k", b"v1", flags=5)
        assert mc.get("k") == b"v1"
        assert mc.get_many(["k", "missing"]) == {"k": b"v1"}
        assert mc.set("m", b"x" * 5000, noreply=True) is True  # a block longer than one read
        assert mc.get("m") == b"x" * 5000
        mc.close()
        with socket.create_connection(("127.0.0.1", port)) as sock:
            # Each reply checked against memcached 1.6.
            assert _exchange(sock, b"get k\r\n") == b"VALUE k 5 2\r\nv1\r\nEND\r\n"
            # The two bytes after the block are not CRLF; the CRLF after them is a line.
            assert _exchange(sock, b"set k 0 0 2\r\nabcd\r\n") == (
                b"CLIENT_ERROR bad data chunk\r\nERROR\r\n"
            )
            bad_format = b"CLIENT_ERROR bad command line format\r\n"
            assert _exchange(sock, b"get " + b"k" * 251 + b"\r\n") == bad_format
            assert _exchange(sock, b"get " + b"k" * 250 + b"\r\n") == b"END\r\n"
            assert _exchange(sock, b"set k 0 0 -1\r\n") == bad_format
            assert _exchange(sock, b"set gone 0 -1 1\r\nx\r\nget gone\r\n") == (
                b"STORED\r\nEND\r\n"  # a negative exptime: expired at once
            )
            assert _exchange(sock, b"bogus\r\n") == b"ERROR\r\n"
    finally:
        server.stop()


def _exchange(sock: socket.socket, requests: bytes) -> bytes:
    """The replies to `requests`: everything before the reply to an `mn` sent after them."""
    sock.sendall(requests + b"mn\r\n")
    got = b""
    while not got.endswith(b"MN\r\n"):
        chunk = sock.recv(65536)
        assert chunk, "closed"
        got += chunk
    return got[: -len(b"MN\r\n")]


def run_side_by_side(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m benchmarks.side_by_side *args`, run to its end."""
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.side_by_side", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def side_by_side(*args: str) -> list[str]:
    """The lines `python -m benchmarks.side_by_side *args` prints; it must succeed."""
    out = run_side_by_side(*args)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_side_by_side_compares_two_servers_under_one_load() -> None:
    lines = side_by_side(
        "floor", "duocache", "--requests", "30000", "--reps", "1", "--instances", "2"
    )
    # One line per rep and instance, each side started afresh, then the median.
    assert [line.split(":")[0] for line in lines[:-1]] == ["instance 0", "instance 1"]
    assert re.fullmatch(
        r"set P1: server CPU per request, A floor [\d.]+ µs, B duocache [\d.]+ µs; "
        r"B/A median [\d.]+",
        lines[-1],
    )


def test_side_by_side_compares_under_the_memcached_load() -> None:
    lines = side_by_side(
        "duties",
        "duocache",
        "--memcache",
        "--test",
        "get",
        "--requests",
        "20000",
        "--reps",
        "2",
        "--instances",
        "1",
    )
    assert [line.split(":")[0] for line in lines[:-1]] == ["instance 0", "instance 0"]
    assert re.fullmatch(
        r"get P1: server CPU per request, A duties [\d.]+ µs, B duocache [\d.]+ µs; "
        r"B/A median [\d.]+",
        lines[-1],
    )


def test_start_duocache_runs_the_checkout_it_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`duocache:PATH` in side_by_side: the code of PATH runs, even when it is started from
    this tree (where `python -m` would find this tree's packages first)."""
    for package in ("server", "protocol", "storage", "persistence", "replication"):
        shutil.copytree(REPO_ROOT / package, tmp_path / package)
    monkeypatch.chdir(REPO_ROOT)
    server = start_duocache(root=tmp_path)
    try:
        client = redis.Redis(port=server.port)
        executable = client.info("server")["executable"]
        client.close()
    finally:
        server.stop()
    assert executable == str(tmp_path / "server" / "__main__.py")


def test_duocache_runs_under_the_interpreter_it_is_given(tmp_path: Path) -> None:
    """`duocache@PYTHON` in side_by_side: that interpreter runs the server; only Duocache
    takes one."""
    marker = tmp_path / "ran"
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\ntouch "{marker}"\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    server = start_duocache(python=str(python))
    try:
        client = redis.Redis(port=server.port)
        assert client.ping()
        client.close()
    finally:
        server.stop()
    assert marker.exists()
    refused = run_side_by_side(f"redis@{python}", "duocache")
    assert refused.returncode != 0
    assert "only Duocache runs under another interpreter" in refused.stderr

"""Bounded resources on the memcached listener: slow readers, large multi-gets, many
connections, the connection limit."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.memcache_support import RawMemcache
from tests.support import ServerProcess, start_duocache, wait_until

pytestmark = pytest.mark.integration

MB = 1024 * 1024


@pytest.fixture(scope="module")
def duocache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_duocache(tmp_path_factory.mktemp("duocache-limits"), memcache=True)
    yield server
    server.stop()


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def fill(port: int, count: int, size: int) -> list[bytes]:
    conn = RawMemcache(port)
    keys = [b"big:%d" % i for i in range(count)]
    value = b"v" * size
    conn.send(b"".join(b"set %b 0 0 %d noreply\r\n%b\r\n" % (k, size, value) for k in keys))
    conn.send(b"mn\r\n")
    assert conn.read_until(b"MN\r\n") == b"MN\r\n"
    conn.close()
    return keys


@pytest.mark.slow
def test_a_slow_reader_does_not_grow_server_memory(duocache: ServerProcess) -> None:
    keys = fill(duocache.memcache_port, 16, MB - 100)
    request = b"get " + b" ".join(keys) + b"\r\n"
    rounds = 25  # 25 x 16 MB of replies, far more than the server should buffer
    reader = socket.create_connection(("127.0.0.1", duocache.memcache_port))
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    baseline = rss_bytes(duocache.pid)
    reader.sendall(request * rounds + b"mn\r\n")
    # The server stops reading from this client once its socket is full; meanwhile its
    # memory holds references to the stored values, not copies of the replies.
    probe = RawMemcache(duocache.memcache_port)
    for _ in range(20):
        probe.send(b"mn\r\n")
        assert probe.read_until(b"MN\r\n") == b"MN\r\n"
    assert rss_bytes(duocache.pid) - baseline < 64 * MB
    received = 0
    tail = b""
    while not tail.endswith(b"MN\r\n"):
        chunk = reader.recv(4 * MB)
        assert chunk
        received += len(chunk)
        tail = (tail + chunk)[-8:]
    expected_per_round = sum(len(b"VALUE %b 0 %d\r\n" % (k, MB - 100)) + MB - 98 for k in keys)
    assert received == rounds * (expected_per_round + 5) + 4
    assert rss_bytes(duocache.pid) - baseline < 64 * MB
    reader.close()
    probe.close()


def test_a_large_multi_get(duocache: ServerProcess) -> None:
    conn = RawMemcache(duocache.memcache_port)
    keys = [b"mk:%05d" % i for i in range(5000)]
    conn.send(b"".join(b"set %b 0 0 5 noreply\r\n%b\r\n" % (k, k[-5:]) for k in keys))
    conn.send(b"get " + b" ".join(keys) + b" missing\r\n")
    reply = conn.read_until(b"END\r\n")
    assert reply.count(b"VALUE ") == 5000
    assert reply.startswith(b"VALUE mk:00000 0 5\r\n00000\r\n")
    conn.close()


def test_many_connections(duocache: ServerProcess) -> None:
    conns = [RawMemcache(duocache.memcache_port) for _ in range(300)]
    for i, conn in enumerate(conns):
        conn.send(b"set c%d 0 0 1\r\n%d\r\nget c%d\r\n" % (i, i % 10, i))
    for i, conn in enumerate(conns):
        assert conn.read_until(b"END\r\n") == b"STORED\r\nVALUE c%d 0 1\r\n%d\r\nEND\r\n" % (
            i,
            i % 10,
        )
    stats = RawMemcache(duocache.memcache_port)
    stats.send(b"stats\r\n")
    text = stats.read_until(b"END\r\n")
    assert b"STAT curr_connections 301\r\n" in text
    for conn in conns:
        conn.close()
    stats.close()


def test_the_connection_limit(tmp_path: Path) -> None:
    server = start_duocache(tmp_path, "--maxclients", "3", memcache=True)
    try:
        conns = [RawMemcache(server.memcache_port) for _ in range(3)]
        for conn in conns:
            conn.send(b"version\r\n")
            assert conn.read_until(b"\r\n").startswith(b"VERSION ")
        extra = RawMemcache(server.memcache_port)
        assert extra.read_until_closed() == b"ERROR Too many open connections\r\n<closed>"
        extra.close()
        conns.pop().close()

        def accepted() -> bool:
            conn = RawMemcache(server.memcache_port)
            conn.send(b"version\r\n")
            ok = conn.read_until(b"\r\n").startswith(b"VERSION")
            conn.close()
            return ok

        wait_until(accepted)
        for conn in conns:
            conn.close()
    finally:
        server.stop()

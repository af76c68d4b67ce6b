"""The server process: ready line, clients in RESP2 and RESP3, redis-cli, SIGTERM."""

from __future__ import annotations

import subprocess

import pytest
import redis

from tests.support import RawClient, ServerProcess, start_duocache

pytestmark = pytest.mark.integration


def test_redis_py_resp3_and_resp2(r: redis.Redis, r2: redis.Redis) -> None:
    assert r.set("k", "v") is True
    assert r.get("k") == b"v"
    assert r2.get("k") == b"v"
    assert r.ping() is True


def test_redis_cli_inline_and_pipe(server: ServerProcess) -> None:
    out = subprocess.run(
        ["redis-cli", "-p", str(server.port), "SET", "a", "1"], capture_output=True, check=True
    )
    assert out.stdout == b"OK\n"
    mass = b"".join(b"SET key:%d %d\r\n" % (i, i) for i in range(1000))
    out = subprocess.run(
        ["redis-cli", "-p", str(server.port), "--pipe"], input=mass, capture_output=True, check=True
    )
    assert b"errors: 0, replies: 1000" in out.stdout
    assert (
        subprocess.run(
            ["redis-cli", "-p", str(server.port), "GET", "key:999"], capture_output=True, check=True
        ).stdout
        == b"999\n"
    )


def test_protocol_error_answers_then_closes(server: ServerProcess) -> None:
    with RawClient(server.port) as client:
        client.send_raw(b"*1\r\n$4\r\nPING\r\n*1\r\n+PING\r\n")
        assert client.read_until_closed() == (
            b"+PONG\r\n-ERR Protocol error: expected '$', got '+'\r\n"
        )


def test_huge_declared_length_is_refused_at_once(server: ServerProcess) -> None:
    with RawClient(server.port) as client:
        client.send_raw(b"*1\r\n$99999999999\r\n")
        assert client.read_until_closed() == b"-ERR Protocol error: invalid bulk length\r\n"
    # The server is still fine for others.
    with RawClient(server.port) as other:
        assert other.command("PING") == b"+PONG\r\n"


def test_sigterm_exits_zero(tmp_path) -> None:
    proc = start_duocache(tmp_path)
    with RawClient(proc.port) as client:
        assert client.command("PING") == b"+PONG\r\n"
    assert proc.stop() == 0

"""The server process: ready line, clients in RESP2 and RESP3, redis-cli, SIGTERM."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest
import redis

from tests import support
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


class _Terminal:
    """redis-cli on a pseudo-terminal: its interactive mode, as a person types into it."""

    def __init__(self, port: int) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: linenoise without cursor queries
            os.environ["TERM"] = "dumb"
            os.execvp("redis-cli", ["redis-cli", "-p", str(port)])
        self.prompt = f"127.0.0.1:{port}>".encode()
        self.read_until_prompt()

    def read_until_prompt(self, timeout_s: float = 10.0) -> str:
        out = b""
        deadline = time.monotonic() + timeout_s
        while not out.rstrip().endswith(self.prompt):
            left = deadline - time.monotonic()
            assert left > 0, f"no prompt after {out!r}"
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                out += os.read(self.fd, 65536)
        return out.decode().replace("\r", "")

    def type(self, line: str) -> str:
        os.write(self.fd, line.encode() + b"\n")
        shown = self.read_until_prompt()
        # The terminal echoes the line first; what follows is redis-cli's rendering.
        return shown.split("\n", 1)[1].rsplit("\n", 1)[0].strip()

    def close(self) -> None:
        os.kill(self.pid, signal.SIGTERM)
        os.waitpid(self.pid, 0)
        os.close(self.fd)


def test_redis_cli_interactive(server: ServerProcess) -> None:
    term = _Terminal(server.port)
    try:
        assert term.type("SET greeting hello") == "OK"
        assert term.type("GET greeting") == '"hello"'
        assert term.type("HSET cli:h f v") == "(integer) 1"
        assert term.type("HGETALL cli:h") == '1) "f"\n2) "v"'
        assert term.type("LPUSH greeting x") == (
            "(error) WRONGTYPE Operation against a key holding the wrong kind of value"
        )
        assert term.type("HELLO 3").startswith('1# "server" => "redis"')
        assert term.type("HGETALL cli:h") == '1# "f" => "v"'
        assert "summary:" in term.type("help SET")
    finally:
        term.close()


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


def test_an_interrupted_start_leaves_no_server_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while a test (or make bench) waits for a server's ready line stops that server."""
    started: list[subprocess.Popen[bytes]] = []

    def interrupted(proc: subprocess.Popen[bytes], timeout_s: float) -> dict[str, int]:
        started.append(proc)
        raise KeyboardInterrupt

    monkeypatch.setattr(support, "_read_ready_line", interrupted)
    with pytest.raises(KeyboardInterrupt):
        start_duocache(tmp_path)
    assert len(started) == 1
    assert started[0].poll() is not None

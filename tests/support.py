"""Test helpers: the in-process runner, server processes, a raw RESP client, polling."""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import hiredis

from protocol.resp import encode_command
from server.app import App
from server.config import Config
from server.context import NO_REPLY, CommandContext
from server.dispatch import execute, open_fast_path
from storage.clock import FakeClock

REPO_ROOT = Path(__file__).resolve().parent.parent


def wait_until(
    predicate: Callable[[], Any], timeout_s: float = 5.0, interval_s: float = 0.01
) -> Any:
    """Poll `predicate` until it returns something truthy; fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s")
        # Polling with a deadline, not sleeping for a condition: a short, bounded back-off.
        select.select([], [], [], interval_s)


def free_port() -> int:
    """A TCP port the OS says is free on 127.0.0.1 (for servers that cannot bind port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- in-process ---


def _arg(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, (int, float)):
        return str(value).encode()
    return str(value).encode()


class Runner:
    """Runs commands against an in-process App; `run("SET", "k", "v")` returns the reply value."""

    def __init__(self, config_args: Sequence[tuple[str, Sequence[str]]] = ()) -> None:
        import server.commands  # noqa: F401  (registers the command families)

        config = Config()
        for name, values in config_args:
            config.set(name, values, startup=True)
        self.clock = FakeClock()
        self.app = App(config)
        self.app.keyspace.clock = self.clock
        self.feed: list[bytes] = []
        self.app.feed.append(self.feed.append)
        self.ctx = self.app.new_client("127.0.0.1:50000", "127.0.0.1:6379")

    def client(self) -> CommandContext:
        """Another client of the same App."""
        return self.app.new_client("127.0.0.1:50001", "127.0.0.1:6379")

    def __call__(self, *args: Any, ctx: CommandContext | None = None) -> Any:
        # Each command is a batch of its own, as one request read from a connection is.
        ctx = ctx or self.ctx
        open_fast_path(ctx)
        return execute(ctx, [_arg(a) for a in args])

    def reply_is_suppressed(self, value: Any) -> bool:
        return value is NO_REPLY


# --- processes ---


class ServerProcess:
    """A `python -m server` child process and the ports it announced."""

    def __init__(
        self, proc: subprocess.Popen[bytes], ports: dict[str, int], data_dir: Path
    ) -> None:
        self.proc = proc
        self.ports = ports
        self.data_dir = data_dir

    @property
    def port(self) -> int:
        return self.ports["resp"]

    @property
    def memcache_port(self) -> int:
        return self.ports["memcache"]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self, timeout_s: float = 10.0) -> int:
        """SIGTERM, then wait; returns the exit code (SIGKILL if it does not stop)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log(self) -> str:
        path = self.data_dir / "duocache.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _read_ready_line(proc: subprocess.Popen[bytes], timeout_s: float) -> dict[str, int]:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout_s
    buf = b""
    fd = proc.stdout.fileno()
    while b"\n" not in buf:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or proc.poll() is not None:
            raise RuntimeError(f"server did not become ready: {buf!r}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError(f"server exited before ready: {buf!r}")
            buf += chunk
    line = buf.split(b"\n", 1)[0].decode()
    if not line.startswith("DUOCACHE READY"):
        raise RuntimeError(f"unexpected first line: {line!r}")
    ports: dict[str, int] = {}
    for part in line.split()[2:]:
        name, _, value = part.partition("=")
        if name == "pid":
            continue
        if value != "-":
            ports[name] = int(value.rsplit(":", 1)[1])
    return ports


def start_duocache(
    data_dir: Path, *args: str, memcache: bool = False, timeout_s: float = 15.0
) -> ServerProcess:
    """Start `python -m server` on free ports with data in `data_dir`; wait for its ready line."""
    cmd = [
        sys.executable,
        "-m",
        "server",
        "--port",
        "0",
        "--memcache-port",
        # 0 disables the memcached listener, so it gets a free port from the OS instead.
        str(free_port()) if memcache else "0",
        "--dir",
        str(data_dir),
        "--logfile",
        str(data_dir / "duocache.log"),
        *args,
    ]
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(REPO_ROOT), env=env
    )
    try:
        ports = _read_ready_line(proc, timeout_s)
    except BaseException as e:
        proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        if not isinstance(e, Exception):
            raise  # interrupted (Ctrl-C): the child does not outlive the wait
        log = data_dir / "duocache.log"
        detail = log.read_text(errors="replace") if log.exists() else ""
        raise RuntimeError(f"duocache failed to start: {detail}") from None
    return ServerProcess(proc, ports, data_dir)


class RealServer:
    """A real redis-server (or memcached) child process on a free port."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int) -> None:
        self.proc = proc
        self.port = port

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _port_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def start_real_redis(data_dir: Path, *args: str) -> RealServer:
    """Start a real redis-server 7 on a free port (the suite requires it, CI installs it)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed; .ci/run installs it")
    for _ in range(5):
        port = free_port()
        proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(data_dir),
                "--daemonize",
                "no",
                "--enable-debug-command",
                "yes",
                *args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until(
                lambda p=proc, n=port: p.poll() is not None or _port_accepts(n),  # type: ignore[misc]
                timeout_s=10,
            )
        except BaseException as e:
            proc.kill()
            proc.wait()
            if not isinstance(e, AssertionError):
                raise  # interrupted: the child does not outlive the wait
            continue
        if proc.poll() is None:
            return RealServer(proc, port)
    raise RuntimeError("could not start redis-server")


# --- raw RESP ---


class RawClient:
    """Sends one command at a time and returns the reply's exact bytes."""

    def __init__(self, port: int, timeout_s: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_reply(self) -> bytes:
        """Bytes of exactly one reply (RESP2 or RESP3)."""
        reader = hiredis.Reader()
        raw = b""
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"connection closed after {raw!r}")
            raw += chunk
            reader.feed(chunk)
            # Attribute and push frames are separate replies to hiredis; one command's reply
            # is complete when hiredis has a value and nothing is left over.
            if reader.gets() is not False and not reader.has_data():
                return raw

    def read_until_closed(self) -> bytes:
        raw = b""
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                return raw
            raw += chunk

    def command(self, *args: Any) -> bytes:
        self.sock.sendall(encode_command([_arg(a) for a in args]))
        return self.read_reply()

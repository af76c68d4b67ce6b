"""Test helpers for sentinel mode: an in-process monitor, and processes (Duocache monitors,
real redis-server groups, real redis-sentinel) on free loopback ports."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import redis

from server.app import App
from server.commands.sentinel import install_sentinel_table, restore_table, set_monitor_lookup
from server.config import Config
from server.context import CommandContext
from server.dispatch import execute
from server.sentinel import SentinelNode, build_node, monitor_for
from storage.clock import FakeClock
from tests.support import (
    REPO_ROOT,
    ServerProcess,
    _arg,
    _read_ready_line,
    free_port,
    start_duocache,
    start_real_redis,
    wait_until,
)

# --- in-process ---


class SentinelRunner:
    """A monitor served in-process (no timer, no links): `run("SENTINEL", "MASTERS")` returns
    reply values. The command table is the monitor's until `close()`."""

    def __init__(self, path: Path, conf: str) -> None:
        import server.commands  # noqa: F401  (registers the normal table first)

        path.write_text(conf)
        config = Config()
        config.sentinel_mode = True
        config.set("port", ["26379"], startup=True)
        config.config_file = str(path)
        config.load_file(str(path))
        self.path = path
        self.clock = FakeClock()
        self.node: SentinelNode = build_node(config, self.clock)
        self.monitor = self.node.monitor
        self.events: list[Any] = []
        self.monitor.on_event = self._event
        self.app = App(config)
        self.node.bind(self.app)
        self.ctx = self.app.new_client("127.0.0.1:50000", "127.0.0.1:26379")
        # Last, so nothing can fail between taking the table and the caller's close().
        self._saved = install_sentinel_table()
        set_monitor_lookup(monitor_for)

    def _event(self, event: Any) -> None:
        self.events.append(event)
        self.node.on_event(event)

    def client(self) -> CommandContext:
        return self.app.new_client("127.0.0.1:50001", "127.0.0.1:26379")

    def __call__(self, *args: Any, ctx: CommandContext | None = None) -> Any:
        return execute(ctx or self.ctx, [_arg(a) for a in args])

    def close(self) -> None:
        restore_table(self._saved)


# --- processes ---


class RedisGroup:
    """A real redis-server primary and replicas (started with --replicaof) on free ports.

    `node_args` are added to every node's command line."""

    def __init__(
        self,
        base: Path,
        replicas: int = 2,
        priorities: Sequence[int] = (),
        node_args: Sequence[str] = (),
    ) -> None:
        self.base = base
        self.node_args = tuple(node_args)
        self.nodes: list[Any] = []
        try:
            self.primary = self.start_node(_fresh(base / "primary"))
            self.nodes.append(self.primary)
            for i in range(replicas):
                extra = ["--replicaof", "127.0.0.1", str(self.primary.port)]
                if i < len(priorities):
                    extra += ["--replica-priority", str(priorities[i])]
                self.nodes.append(self.start_node(_fresh(base / f"replica{i}"), *extra))
            wait_until(lambda: self.connected_replicas(self.primary.port) == replicas, timeout_s=10)
        except BaseException:
            self.stop()
            raise

    def start_node(self, data_dir: Path, *args: str) -> Any:
        return start_real_redis(data_dir, *self.node_args, *args)

    @property
    def replicas(self) -> list[Any]:
        return self.nodes[1:]

    @staticmethod
    def connected_replicas(port: int) -> int:
        with redis.Redis(port=port, socket_timeout=2) as r:
            info = r.info("replication")
        return int(info.get("connected_slaves", 0))

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


class DuocacheGroup(RedisGroup):
    """The same with Duocache nodes (`python -m server`, no config file, no save points)."""

    def start_node(self, data_dir: Path, *args: str) -> ServerProcess:
        return start_duocache(data_dir, "--save", "", *self.node_args, *args)

    def restart(self, node: ServerProcess) -> ServerProcess:
        """Start `node` again on its address and data directory, with the group's node
        arguments only (as a supervisor would restart a crashed primary)."""
        again = start_duocache(
            node.data_dir, "--save", "", *self.node_args, "--port", str(node.port)
        )
        self.nodes.append(again)
        return again


def _fresh(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def sentinel_conf(
    primary_port: int, quorum: int = 2, name: str = "mymaster", extra: str = ""
) -> str:
    return (
        f"sentinel monitor {name} 127.0.0.1 {primary_port} {quorum}\n"
        f"sentinel down-after-milliseconds {name} 1000\n"
        f"sentinel failover-timeout {name} 4000\n"
        f"{extra}"
    )


def start_monitors(base: Path, conf: str, count: int = 3) -> list[ServerProcess]:
    """`count` processes of `python -m server --sentinel <conf>` on free ports, started
    together (each with its own copy of the config file, as each keeps its own state)."""
    started: list[tuple[subprocess.Popen[bytes], Path]] = []
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    for i in range(count):
        data_dir = base / f"monitor{i}"
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / "sentinel.conf"
        path.write_text(conf)
        cmd = [
            sys.executable,
            "-m",
            "server",
            "--sentinel",
            str(path),
            "--port",
            str(free_port()),
            "--dir",
            str(data_dir),
            "--logfile",
            str(data_dir / "duocache.log"),
            "--loglevel",
            "verbose",
        ]
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(REPO_ROOT), env=env
        )
        started.append((proc, data_dir))
    monitors = []
    for proc, data_dir in started:
        try:
            ports = _read_ready_line(proc, 15.0)
        except BaseException:  # a start-up failure, or an interrupt: stop every one started
            for p, _ in started:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            raise
        monitors.append(ServerProcess(proc, ports, data_dir))
    return monitors


class RealSentinel:
    """A real redis-sentinel 7 on a free port, with its config file in `data_dir`."""

    def __init__(self, data_dir: Path, conf: str) -> None:
        binary = shutil.which("redis-sentinel")
        if binary is None:
            raise RuntimeError("redis-sentinel is not installed")
        data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.path = data_dir / "sentinel.conf"
        self.path.write_text(f"port {self.port}\nbind 127.0.0.1\ndir {data_dir}\n{conf}")
        self.proc = subprocess.Popen(
            [binary, str(self.path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=str(data_dir),
        )
        wait_until(lambda: self.proc.poll() is not None or _pings(self.port), timeout_s=10)
        if self.proc.poll() is not None:
            raise RuntimeError("redis-sentinel did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _pings(port: int) -> bool:
    try:
        with redis.Redis(port=port, socket_timeout=0.5) as r:
            return bool(r.ping())
    except redis.RedisError:
        return False


def sigstop(pid: int) -> None:
    os.kill(pid, signal.SIGSTOP)


def sigcont(pid: int) -> None:
    os.kill(pid, signal.SIGCONT)


class EventLog:
    """Every event the monitors publish (PSUBSCRIBE *), collected by background threads."""

    def __init__(self, monitors: list[ServerProcess]) -> None:
        self.events: list[tuple[int, str, str]] = []  # (monitor index, channel, payload)
        self.lock = threading.Lock()
        self.clients: list[redis.Redis] = []
        self.threads: list[Any] = []
        self.errors: list[BaseException] = []
        for i, monitor in enumerate(monitors):
            client: Any = redis.Redis(port=monitor.port, protocol=2, decode_responses=True)
            pubsub = client.pubsub()
            pubsub.psubscribe(**{"*": self._handler(i)})
            self.threads.append(
                pubsub.run_in_thread(sleep_time=0.01, daemon=True, exception_handler=self._failed)
            )
            self.clients.append(client)

    def _failed(self, error: BaseException, pubsub: Any, thread: Any) -> None:
        self.errors.append(error)
        thread.stop()

    def _handler(self, index: int) -> Any:
        def handle(message: dict[str, Any]) -> None:
            with self.lock:
                self.events.append((index, message["channel"], message["data"]))

        return handle

    def of(self, channel: str) -> list[tuple[int, str]]:
        with self.lock:
            return [(i, data) for i, c, data in self.events if c == channel]

    def close(self) -> None:
        for thread in self.threads:
            thread.stop()
        for thread in self.threads:
            thread.join(5)
        for client in self.clients:
            client.close()

"""A Duocache primary, Duocache replicas and real redis-sentinel processes watching them.

Used by the Sentinel tests and by benchmarks/failover_sentinel.py. Every Duocache node runs
from a config file (Sentinel rewrites it with CONFIG REWRITE inside MULTI) on a fixed port,
so a killed node can come back on the same address, as a crashed server restarted by its
supervisor would.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from tests.integration.replication.support import client, start_with_config, wait_synced
from tests.support import ServerProcess, free_port, wait_until

SERVICE = "mymaster"


@dataclass
class NodeSpec:
    """A Duocache node's directory, port and config (kept to restart it)."""

    data_dir: Path
    port: int
    conf: str
    proc: ServerProcess | None = None

    def start(self, *, restart: bool = False) -> ServerProcess:
        """Start the node; a restart keeps what CONFIG REWRITE put in its config file."""
        self.proc = start_with_config(
            self.data_dir, self.conf, "--port", str(self.port), keep_config=restart
        )
        return self.proc

    @property
    def client(self) -> redis.Redis:
        return client(self.port)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        proc = self.proc
        if proc is not None:
            proc.kill()
            for stream in (proc.proc.stdout, proc.proc.stderr):
                if stream is not None:
                    stream.close()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()


@dataclass
class SentinelGroup:
    nodes: list[NodeSpec]
    sentinel_ports: list[int]
    sentinels: list[subprocess.Popen[bytes]] = field(default_factory=list)
    base: Path = Path()

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", p) for p in self.sentinel_ports]

    def sentinel(self, i: int = 0) -> redis.Redis:
        return redis.Redis(port=self.sentinel_ports[i], protocol=2, socket_timeout=5)

    def master_address(self) -> tuple[str, int]:
        addr: Any = self.sentinel().sentinel_get_master_addr_by_name(SERVICE)
        return addr[0].decode() if isinstance(addr[0], bytes) else addr[0], int(addr[1])

    def node_at(self, port: int) -> NodeSpec:
        return next(n for n in self.nodes if n.port == port)

    def sentinels_ready(self, replicas: int) -> bool:
        """Every sentinel sees the primary, its replicas and the other sentinels."""
        try:
            for i in range(len(self.sentinel_ports)):
                state: Any = self.sentinel(i).sentinel_master(SERVICE)
                if (
                    int(state["num-slaves"]) != replicas
                    or int(state["num-other-sentinels"]) != len(self.sentinel_ports) - 1
                ):
                    return False
        except redis.RedisError:
            return False
        return True

    def stop(self) -> None:
        for s in self.sentinels:
            if s.poll() is None:
                s.send_signal(signal.SIGTERM)
                try:
                    s.wait(10)
                except subprocess.TimeoutExpired:
                    s.kill()
                    s.wait()
        for node in self.nodes:
            node.stop()

    def sentinel_log(self, i: int = 0) -> str:
        path = self.base / f"sentinel{i}" / "sentinel.log"
        return path.read_text(errors="replace") if path.exists() else ""


def start_group(
    base: Path,
    *,
    replicas: int = 2,
    sentinels: int = 3,
    quorum: int = 2,
    down_after_ms: int = 1000,
    failover_timeout_ms: int = 5000,
    node_conf: str = "",
    ready_timeout_s: float = 30.0,
) -> SentinelGroup:
    """Start a primary and its replicas (synced), then the sentinels, and wait until every
    sentinel has discovered the replicas and the other sentinels."""
    if shutil.which("redis-sentinel") is None:
        raise RuntimeError("redis-sentinel is not installed")
    nodes = [NodeSpec(base / f"node{i}", free_port(), node_conf) for i in range(replicas + 1)]
    group = SentinelGroup(nodes, [free_port() for _ in range(sentinels)], base=base)
    try:
        primary = nodes[0]
        primary.start()
        for node in nodes[1:]:
            node.conf = node_conf + f"replicaof 127.0.0.1 {primary.port}\n"
            node.start()
        wait_synced(primary.client, *(n.client for n in nodes[1:]))
        for i, port in enumerate(group.sentinel_ports):
            directory = base / f"sentinel{i}"
            directory.mkdir(parents=True)
            conf = directory / "sentinel.conf"
            conf.write_text(
                f"port {port}\n"
                "bind 127.0.0.1\n"
                f"dir {directory}\n"
                f"logfile {directory / 'sentinel.log'}\n"
                f"sentinel monitor {SERVICE} 127.0.0.1 {primary.port} {quorum}\n"
                f"sentinel down-after-milliseconds {SERVICE} {down_after_ms}\n"
                f"sentinel failover-timeout {SERVICE} {failover_timeout_ms}\n"
                f"sentinel parallel-syncs {SERVICE} {replicas}\n"
            )
            group.sentinels.append(
                subprocess.Popen(
                    ["redis-sentinel", str(conf)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        wait_until(lambda: group.sentinels_ready(replicas), timeout_s=ready_timeout_s)
    except BaseException:
        group.stop()
        raise
    return group

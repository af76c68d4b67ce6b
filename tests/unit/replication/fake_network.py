"""A fake network for failover monitors: plays Redis instances and routes monitor-to-monitor
commands, all in-process, under one fake clock. No sockets, no sleeps.

`FakeNetwork.run()` performs what every monitor left in its outbox (connections open at once
to a live address, fail for a dead one), answering each command synchronously as the
instance would. `run_for(ms)` advances the clock in 10 ms slices and runs each monitor's timer
when it is due, every 50 to 100 ms at random as Redis's sentinel timer runs (hz 10 to 19), so
monitors do not act in lockstep. `step(ms)` advances the clock and runs every timer once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from replication.failover import Monitor
from replication.instances import (
    HELLO_CHANNEL,
    Channel,
    Close,
    Connect,
    ErrorReply,
    Send,
    new_run_id,
)
from storage.clock import FakeClock


@dataclass
class FakeRedis:
    """A redis-server as the monitor sees it through PING, INFO and pub/sub."""

    host: str
    port: int
    runid: str = field(default_factory=new_run_id)
    primary: tuple[str, int] | None = None  # replicating from (host, port), None: a primary
    priority: int = 100
    offset: int = 0
    link_up: bool = True
    alive: bool = True
    paused_writes_until: int = 0  # CLIENT PAUSE ... WRITE
    replicaof_log: list[tuple[str, str]] = field(default_factory=list)
    commands: list[list[bytes]] = field(default_factory=list)
    multi: list[list[bytes]] | None = None

    @property
    def addr(self) -> tuple[str, int]:
        return (self.host, self.port)


class FakeNetwork:
    """Redis instances and monitors on one fake clock."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock()
        self.redis: dict[tuple[str, int], FakeRedis] = {}
        self.monitors: dict[tuple[str, int], Monitor] = {}
        # Monitors whose links to these addresses fail (a partition), by monitor id.
        self.cut: set[tuple[int, tuple[str, int]]] = set()
        # Open connections: conn -> (owner monitor, target address, subscribed?)
        self.conns: dict[Connect, tuple[Monitor, tuple[str, int]]] = {}
        self.subscribers: dict[tuple[str, int], list[tuple[Monitor, Send]]] = {}
        self.next_tick: dict[int, int] = {}
        self.rng = random.Random(1)

    # --- building ---

    def add_redis(self, port: int, **kwargs: Any) -> FakeRedis:
        node = FakeRedis("127.0.0.1", port, **kwargs)
        self.redis[node.addr] = node
        return node

    def add_monitor(self, port: int, monitor: Monitor) -> Monitor:
        monitor.port = port
        self.monitors[("127.0.0.1", port)] = monitor
        return monitor

    def replicas_of(self, node: FakeRedis) -> list[FakeRedis]:
        return [r for r in self.redis.values() if r.primary == node.addr and r.alive]

    # --- failures ---

    def kill(self, node: FakeRedis) -> None:
        """SIGKILL: every connection to it breaks, new ones are refused."""
        node.alive = False
        for conn, (monitor, addr) in list(self.conns.items()):
            if addr == node.addr:
                del self.conns[conn]
                monitor.connection_lost(conn)
        self.subscribers.pop(node.addr, None)

    def restart(self, node: FakeRedis, as_primary: bool = True) -> None:
        node.alive = True
        node.runid = new_run_id()
        if as_primary:
            node.primary = None

    # --- running ---

    def step(self, ms: int = 100) -> None:
        self.clock.advance(ms)
        for monitor in self.monitors.values():
            monitor.timer()
        self.run()

    def run_for(self, ms: int) -> None:
        end = self.clock.ms + ms
        while self.clock.ms < end:
            self.clock.advance(10)
            for monitor in self.monitors.values():
                due = self.next_tick.get(id(monitor), 0)
                if self.clock.ms >= due:
                    monitor.timer()
                    self.next_tick[id(monitor)] = self.clock.ms + self.rng.randrange(50, 101)
            self.run()

    def run(self) -> None:
        busy = True
        while busy:
            busy = False
            for monitor in self.monitors.values():
                while monitor.outbox:
                    busy = True
                    actions, monitor.outbox = monitor.outbox, []
                    for action in actions:
                        self._perform(monitor, action)

    def _perform(self, monitor: Monitor, action: Any) -> None:
        if isinstance(action, Connect):
            addr = (action.host, action.port)
            reachable = (id(monitor), addr) not in self.cut and (
                (addr in self.redis and self.redis[addr].alive) or addr in self.monitors
            )
            if not reachable:
                monitor.connection_lost(action)
                return
            self.conns[action] = (monitor, addr)
            monitor.connection_established(action, "127.0.0.1")
        elif isinstance(action, Close):
            self.conns.pop(action.conn, None)
            for subs in self.subscribers.values():
                subs[:] = [(m, s) for m, s in subs if s.conn is not action.conn]
        elif isinstance(action, Send):
            if action.conn not in self.conns:
                return
            _, addr = self.conns[action.conn]
            if addr in self.redis:
                self._redis_command(self.redis[addr], monitor, action)
            else:
                self._monitor_command(self.monitors[addr], action)

    # --- playing a redis-server ---

    def info(self, node: FakeRedis) -> bytes:
        lines = [
            "# Server",
            f"run_id:{node.runid}",
            "# Replication",
        ]
        if node.primary is None:
            lines.append("role:master")
            for i, r in enumerate(self.replicas_of(node)):
                lines.append(
                    f"slave{i}:ip={r.host},port={r.port},state=online,offset={r.offset},lag=0"
                )
        else:
            primary = self.redis.get(node.primary)
            up = node.link_up and primary is not None and primary.alive
            lines += [
                "role:slave",
                f"master_host:{node.primary[0]}",
                f"master_port:{node.primary[1]}",
                f"master_link_status:{'up' if up else 'down'}",
                f"master_link_down_since_seconds:{-1 if up else 5}",
                f"slave_repl_offset:{node.offset}",
                f"slave_priority:{node.priority}",
                "replica_announced:1",
            ]
        return ("\r\n".join(lines) + "\r\n").encode()

    def _redis_command(self, node: FakeRedis, monitor: Monitor, send: Send) -> None:
        argv = send.argv
        name = argv[0].upper()
        node.commands.append(argv)
        if node.multi is not None and name not in (b"EXEC", b"MULTI"):
            node.multi.append(argv)
            send.on_reply(b"QUEUED")
            return
        if name == b"PING":
            send.on_reply(b"PONG")
        elif name == b"INFO":
            send.on_reply(self.info(node))
        elif name == b"SUBSCRIBE":
            self.subscribers.setdefault(node.addr, []).append((monitor, send))
            send.on_reply([b"subscribe", argv[1], 1])
        elif name == b"PUBLISH":
            if self.clock.ms < node.paused_writes_until:
                return  # held by CLIENT PAUSE WRITE: no reply for now
            subs = self.subscribers.get(node.addr, [])
            for _, sub in list(subs):
                sub.on_reply([b"message", argv[1], argv[2]])
            send.on_reply(len(subs))
        elif name == b"MULTI":
            node.multi = []
            send.on_reply(b"OK")
        elif name == b"EXEC":
            queued, node.multi = node.multi or [], None
            send.on_reply([self._apply(node, cmd) for cmd in queued])
        else:
            send.on_reply(self._apply(node, argv))

    def _apply(self, node: FakeRedis, argv: list[bytes]) -> Any:
        name = argv[0].upper()
        if name == b"SLAVEOF":
            host, port = argv[1].decode(), argv[2].decode()
            node.replicaof_log.append((host, port))
            if host.upper() == "NO" and port.upper() == "ONE":
                node.primary = None
            else:
                node.primary = (host, int(port))
                node.link_up = True
            return b"OK"
        if name == b"CLIENT" and argv[1].upper() == b"PAUSE":
            node.paused_writes_until = self.clock.ms + int(argv[2])
            return b"OK"
        if name == b"CLIENT" and argv[1].upper() == b"UNPAUSE":
            node.paused_writes_until = 0
            return b"OK"
        return b"OK"

    # --- playing another monitor ---

    def _monitor_command(self, peer: Monitor, send: Send) -> None:
        argv = send.argv
        name = argv[0].upper()
        if name == b"PING":
            send.on_reply(b"PONG")
        elif name == b"PUBLISH":
            if argv[1] != HELLO_CHANNEL.encode():
                send.on_reply(ErrorReply("ERR Only HELLO messages are accepted"))
                return
            peer.process_hello(argv[2].decode())
            send.on_reply(1)
        elif name == b"SENTINEL" and argv[1].lower() == b"is-master-down-by-addr":
            master = peer.find_master_by_addr(argv[2].decode(), int(argv[3]))
            is_down = not peer.tilt and master is not None and master.s_down
            leader: str | None = None
            epoch = 0
            if master is not None and argv[5] != b"*":
                leader, epoch = peer.vote_leader(master, int(argv[4]), argv[5].decode())
            send.on_reply([int(is_down), (leader or "*").encode(), epoch])
        else:
            send.on_reply(b"OK")


def channel_of(send: Send) -> Channel:
    return send.conn.channel

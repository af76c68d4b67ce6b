"""App: owns the keyspace, the clients, the write stream and the listeners; start and stop.

Everything that outlives one connection lives here. Command families reach it through
`ctx.app`; persistence and replication subscribe to `feed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from protocol.resp import SimpleString, encode_command
from server.config import Config
from server.context import CommandContext
from storage.keyspace import Database, Keyspace

if TYPE_CHECKING:
    from server.commands.table import CommandSpec

logger = logging.getLogger(__name__)

FeedSubscriber = Callable[[bytes], None]

# Awaited by serve() once the listeners are up and before the ready line: loading the dataset
# while connected clients get -LOADING. A False result stops the server with exit code 1.
LOADERS: list[Callable[[App], Awaitable[bool]]] = []

REDIS_VERSION = "7.0.15"


class App:
    """One Duocache server process."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.keyspace = Keyspace(databases=config["databases"])
        self.keyspace.on_expired = self._key_expired
        self.run_id = secrets.token_hex(20)
        self.started_s = time.time()
        self.started_monotonic = time.monotonic()
        self.pid = os.getpid()
        self.clients: dict[int, CommandContext] = {}
        self._next_client_id = 1
        # Statistics (INFO).
        self.commands_processed = 0
        self.connections_received = 0
        self.rejected_connections = 0
        self.net_input_bytes = 0
        self.net_output_bytes = 0
        self.error_stats: dict[str, int] = {}
        self.total_error_replies = 0
        self.dirty = 0  # changes since the last save
        self.last_save_s = int(time.time())
        # The write stream: encoded effects for the AOF and the replication backlog.
        self.feed: list[FeedSubscriber] = []
        self._stream_db = -1
        self.monitors: list[CommandContext] = []
        # SLOWLOG.
        self.slowlog: deque[tuple[int, int, int, list[bytes], str, bytes]] = deque()
        self.slowlog_next_id = 0
        self.slowlog_threshold_ns = 0
        # Refusals for writes (OOM, NOREPLICAS, MISCONF); checked only when any is armed.
        self.guards_active = False
        self.write_guards: list[Callable[[CommandContext, CommandSpec], str | None]] = []
        self.is_replica = False
        self.replica_read_only = True
        self.loading = False
        # Set by persistence while the AOF is on: called with (transport, replies, close after)
        # before a batch's replies are written; True means it holds them until their writes
        # are durable (appendfsync always) and writes them itself (server/durability.py).
        self.reply_gate: Callable[[asyncio.Transport, bytes, bool], bool] | None = None
        # Keyspace notifications: the set of class letters enabled.
        self.notify_classes = ""
        self.publish: Callable[[bytes, bytes], int] | None = None
        self.shutdown_requested: asyncio.Event | None = None
        self.exit_code = 0
        self.servers: list[asyncio.Server] = []
        self.bound: dict[str, tuple[str, int]] = {}
        self._cron_task: asyncio.Task[None] | None = None
        self.cron_hooks: list[Callable[[], None]] = []
        self.shutdown_hooks: list[Callable[[], None]] = []
        self.client_close_hooks: list[Callable[[CommandContext], None]] = []
        # RESET undoes what other families attached to a client (subscriptions, WATCH, ...).
        self.reset_hooks: list[Callable[[CommandContext], None]] = []
        config.on_change(self._config_changed)
        for name, value in list(config.items()):
            self._config_changed(name, value)

    # --- clients ---

    def new_client(self, addr: str = "", laddr: str = "") -> CommandContext:
        ctx = CommandContext(self, self._next_client_id, addr, laddr)
        self._next_client_id += 1
        self.clients[ctx.id] = ctx
        self.connections_received += 1
        return ctx

    def client_closed(self, ctx: CommandContext) -> None:
        ctx.closed = True
        self.clients.pop(ctx.id, None)
        if ctx in self.monitors:
            self.monitors.remove(ctx)
        for hook in self.client_close_hooks:
            hook(ctx)

    # --- the write stream ---

    def propagate(self, db_index: int, argv: list[bytes]) -> None:
        """Send one effect to the AOF and the replicas, preceded by SELECT when the db changes."""
        if not self.feed:
            return
        if db_index != self._stream_db:
            self._stream_db = db_index
            self._emit(encode_command([b"SELECT", str(db_index).encode()]))
        self._emit(encode_command(argv))

    def _emit(self, data: bytes) -> None:
        for subscriber in self.feed:
            subscriber(data)

    def reset_stream_db(self) -> None:
        """Forget the stream's current db, so the next effect starts with SELECT."""
        self._stream_db = -1

    def _key_expired(self, db: Database, key: bytes) -> None:
        # Redis propagates an expiry as DEL so replicas and the AOF reclaim the same key.
        if self.feed:
            self.propagate(db.index, [b"DEL", key])
        if self.notify_classes:
            self.notify_keyspace_event("x", b"expired", key, db.index)

    # --- checks dispatch asks for ---

    def write_refusal(self, ctx: CommandContext, spec: CommandSpec) -> str | None:
        for guard in self.write_guards:
            text = guard(ctx, spec)
            if text is not None:
                return text
        return None

    def add_write_guard(self, guard: Callable[[CommandContext, CommandSpec], str | None]) -> None:
        self.write_guards.append(guard)
        self.guards_active = True

    def stats_error(self, text: str) -> None:
        code = text.split(" ", 1)[0]
        self.error_stats[code] = self.error_stats.get(code, 0) + 1
        self.total_error_replies += 1

    # --- MONITOR and SLOWLOG ---

    def feed_monitors(self, ctx: CommandContext, argv: list[bytes]) -> None:
        now = time.time()
        shown = " ".join('"' + _monitor_repr(a) + '"' for a in argv)
        where = "lua" if ctx.id < 0 else ctx.addr
        line = f"{now:.6f} [{ctx.db.index} {where}] {shown}"
        frame = SimpleString(line.encode("utf-8", "surrogateescape"))
        for monitor in list(self.monitors):
            if monitor is not ctx:
                monitor.push(frame)

    def record_slow(self, ctx: CommandContext, argv: list[bytes], usec: int) -> None:
        max_len = self.config["slowlog-max-len"]
        if max_len <= 0:
            return
        shown: list[bytes] = []
        for i, arg in enumerate(argv):
            if i == 31 and len(argv) > 32:
                shown.append(b"... (%d more arguments)" % (len(argv) - 31))
                break
            if len(arg) > 128:
                arg = arg[:128] + b"... (%d more bytes)" % (len(arg) - 128)
            shown.append(arg)
        self.slowlog.appendleft(
            (self.slowlog_next_id, int(time.time()), usec, shown, ctx.addr, ctx.name)
        )
        self.slowlog_next_id += 1
        while len(self.slowlog) > max_len:
            self.slowlog.pop()

    # --- keyspace notifications ---

    def notify_keyspace_event(self, type_class: str, event: bytes, key: bytes, db: int) -> None:
        """Publish __keyspace@<db>__:<key> and/or __keyevent@<db>__:<event> as configured.

        `notify_classes` holds the enabled class letters with 'A' already expanded.
        """
        classes = self.notify_classes
        if self.publish is None or type_class not in classes:
            return
        if "K" in classes:
            self.publish(b"__keyspace@%d__:%b" % (db, key), event)
        if "E" in classes:
            self.publish(b"__keyevent@%d__:%b" % (db, event), key)

    # --- configuration ---

    def _config_changed(self, name: str, value: Any) -> None:
        if name == "slowlog-log-slower-than":
            self.slowlog_threshold_ns = value * 1000 if value >= 0 else 2**62
        elif name == "slowlog-max-len":
            while len(self.slowlog) > value:
                self.slowlog.pop()
        elif name == "replica-read-only":
            self.replica_read_only = value
        elif name == "notify-keyspace-events":
            classes = value.replace("A", "g$lshzxetd")
            # Nothing is published unless K or E picks a channel family.
            self.notify_classes = classes if ("K" in classes or "E" in classes) else ""

    # --- lifecycle ---

    def client_count(self) -> int:
        return len(self.clients)

    async def cron(self) -> None:
        """serverCron: active expiry and periodic upkeep, `hz` times a second."""
        while True:
            hz = max(1, min(500, self.config["hz"]))
            await asyncio.sleep(1 / hz)
            try:
                # Redis gives the active expire cycle 25% of each tick.
                self.keyspace.active_expire_cycle(0.25 / hz)
                for hook in self.cron_hooks:
                    hook()
            except Exception:
                logger.exception("cron failed")

    def start_cron(self) -> None:
        self._cron_task = asyncio.get_running_loop().create_task(self.cron())

    async def stop_cron(self) -> None:
        if self._cron_task is not None:
            self._cron_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._cron_task
            self._cron_task = None

    def request_shutdown(self, exit_code: int = 0) -> None:
        self.exit_code = exit_code
        if self.shutdown_requested is not None:
            self.shutdown_requested.set()


def _monitor_repr(arg: bytes) -> str:
    """sdscatrepr: printable ASCII as is, quotes and escapes as C does."""
    out = []
    for b in arg:
        c = chr(b)
        if c in '\\"':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif c == "\a":
            out.append("\\a")
        elif c == "\b":
            out.append("\\b")
        elif 32 <= b < 127:
            out.append(c)
        else:
            out.append(f"\\x{b:02x}")
    return "".join(out)

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

from protocol.resp import SimpleString, encode_command, sds_repr
from server import multi
from server.blocking import Blocking
from server.config import BY_NAME, Config, parse_output_buffer_limits
from server.context import CommandContext
from server.memory import Memory
from server.pubsub import PubSub
from storage.keyspace import Database, Keyspace
from storage.sets import intset_limit

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

    # Slots, as on the other objects every request reads (Keyspace, Blocking): with more
    # than 30 attributes an App kept them in a full dict, a hashed lookup per read.
    __slots__ = (
        "__weakref__",  # memcached, replication and durability state hang off an App
        "_clients_cron_at",
        "_cron_task",
        "_guards_armed",
        "_held",
        "_metric_last",
        "_next_client_id",
        "_pause_timer",
        "_stream_db",
        "active_expire_enabled",
        "after_exec_hooks",
        "blocking",
        "bound",
        "call_depth",
        "client_close_hooks",
        "clients",
        "commands_processed",
        "config",
        "connections_received",
        "cron_hooks",
        "deny_stale",
        "dirty",
        "error_stats",
        "evicted_keys",
        "exit_code",
        "feed",
        "guards_active",
        "hash_max_listpack_entries",
        "hash_max_listpack_value",
        "in_exec",
        "is_replica",
        "keyspace",
        "last_save_s",
        "latency_events",
        "latency_threshold_ms",
        "loading",
        "loading_ended",
        "master_repl_offset",
        "memory",
        "metric_samples",
        "monitors",
        "net_input_bytes",
        "net_output_bytes",
        "notify_classes",
        "obuf_normal_limited",
        "output_limits",
        "pause_all",
        "pause_end",
        "pending_effects",
        "pid",
        "publish",
        "pubsub",
        "rejected_connections",
        "replica_read_only",
        "replid",
        "reply_gate",
        "reset_hooks",
        "run_id",
        "servers",
        "set_max_intset_entries",
        "shutdown_flags",
        "shutdown_hooks",
        "shutdown_prepare",
        "shutdown_requested",
        "slow_check_ns",
        "slowlog",
        "slowlog_next_id",
        "slowlog_threshold_ns",
        "soft_limited",
        "started_monotonic",
        "started_s",
        "stat_resets",
        "subscription_counts",
        "total_error_replies",
        "user_exists",
        "write_guards",
        "zset_max_listpack_entries",
        "zset_max_listpack_value",
    )

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
        # LATENCY: event -> ring of (unix s, ms) samples, one per second, and the max seen.
        self.latency_threshold_ms = 0
        self.latency_events: dict[str, tuple[deque[list[int]], list[int]]] = {}
        # Dispatch compares a command's duration with this one number (the smaller threshold).
        self.slow_check_ns = 0
        # CLIENT PAUSE: the monotonic deadline while paused, else None (dispatch's only test).
        self.pause_end: float | None = None
        self.pause_all = False
        self._pause_timer: asyncio.TimerHandle | None = None
        self._held: list[Callable[[], None]] = []
        self.evicted_keys = 0
        # client-output-buffer-limit, per class: (hard, soft, soft seconds).
        self.output_limits: dict[str, tuple[int, int, int]] = {}
        self.obuf_normal_limited = False
        # Instantaneous metrics (INFO stats): rings of per-100ms rates, as Redis samples them.
        self.metric_samples: dict[str, deque[float]] = {
            "ops": deque(maxlen=16),
            "in": deque(maxlen=16),
            "out": deque(maxlen=16),
        }
        self._metric_last = (time.monotonic(), 0, 0, 0)
        self._clients_cron_at = 0.0
        self.stat_resets: list[Callable[[], None]] = []
        # Refusals for writes (OOM, NOREPLICAS, MISCONF); checked only when any is armed.
        self.guards_active = False
        self.write_guards: list[Callable[[CommandContext, CommandSpec], str | None]] = []
        self._guards_armed: list[Callable[[], bool]] = []
        self.is_replica = False
        self.replica_read_only = True
        # A replica whose link is down with replica-serve-stale-data no: commands without the
        # STALE flag get -MASTERDOWN (maintained by server/replication.py).
        self.deny_stale = False
        # The replication history (kept current by server/replication.py): WAIT reads the
        # offset after each command, RDB files record both.
        self.replid = secrets.token_hex(20)
        self.master_repl_offset = 0
        self.loading = False
        # Called, once each, when the dataset being loaded is in (server/durability.py): the
        # memcached clients that wait for it (memcached has no LOADING reply).
        self.loading_ended: list[Callable[[], None]] = []
        # Set by persistence while the AOF is on: called with (transport, replies, close after)
        # before a batch's replies are written; True means it holds them until their writes
        # are durable (appendfsync always) and writes them itself (server/durability.py).
        self.reply_gate: Callable[[asyncio.Transport, bytes, bool], bool] | None = None
        # Keyspace notifications: the set of class letters enabled.
        self.notify_classes = ""
        # Encoding limits, read by every write to a small hash or set (OBJECT ENCODING).
        self.hash_max_listpack_entries = 0
        self.hash_max_listpack_value = 0
        self.set_max_intset_entries = 0
        self.zset_max_listpack_entries = 0
        self.zset_max_listpack_value = 0
        self.pubsub = PubSub()
        self.publish: Callable[[bytes, bytes], int] | None = self.pubsub.publish
        # Clients over a soft output limit, checked again by cron (client id -> its check).
        self.soft_limited: dict[int, Callable[[], None]] = {}
        # Effects of the running command, sent when the outermost call ends (see propagate).
        self.call_depth = 0
        self.pending_effects: list[tuple[int, list[bytes]]] = []
        # True while EXEC runs its queued commands (Redis's CLIENT_DENY_BLOCKING inside EXEC).
        self.in_exec = False
        # Called with the client after EXEC ran its commands and sent their effects: the place
        # to serve clients blocked on keys the transaction made ready.
        self.after_exec_hooks: list[Callable[[CommandContext], None]] = []
        # (channels, patterns, shard channels) of a client, for CLIENT LIST.
        self.subscription_counts: Callable[[CommandContext], tuple[int, int, int]] | None = (
            self._subscription_counts
        )
        # Replaced by the ACL family: whether a user exists (CLIENT KILL USER).
        self.user_exists: Callable[[bytes], bool] = _only_default_user
        self.shutdown_requested: asyncio.Event | None = None
        self.exit_code = 0
        self.servers: list[asyncio.Server] = []
        self.bound: dict[str, tuple[str, int]] = {}
        self._cron_task: asyncio.Task[None] | None = None
        self.cron_hooks: list[Callable[[], None]] = []
        # Shutdown, in two parts. `shutdown_prepare` runs inside SHUTDOWN, before anything
        # stops, with the flags given ("save", "nosave", "now", "force"); a False return means
        # "cannot shut down safely" and SHUTDOWN answers an error unless FORCE was given (the
        # place for the final RDB save). `shutdown_hooks` then run in serve.shutdown, after
        # the listeners closed; they read `shutdown_flags` (empty for SIGTERM / SIGINT).
        self.shutdown_prepare: list[Callable[[frozenset[str]], bool]] = []
        self.shutdown_flags: frozenset[str] = frozenset()
        self.shutdown_hooks: list[Callable[[], None]] = []
        self.active_expire_enabled = True  # DEBUG SET-ACTIVE-EXPIRE
        self.client_close_hooks: list[Callable[[CommandContext], None]] = []
        # RESET undoes what other families attached to a client (subscriptions, WATCH, ...).
        self.reset_hooks: list[Callable[[CommandContext], None]] = []
        # Pub/sub and WATCH state die with the client and with RESET.
        self.client_close_hooks += [self.pubsub.drop, multi.unwatch_all_keys]
        self.reset_hooks += [self.pubsub.drop, multi.discard_transaction]
        self.keyspace.on_watched_modified = multi.touch_watched_key
        self.keyspace.on_watched_replaced = multi.touch_all_watched_keys
        self.cron_hooks.append(self._check_soft_limited)
        # Clients parked by blocking commands, and the keys ready to serve them.
        self.blocking = Blocking(self)
        config.on_change(self._config_changed)
        for name, value in list(config.items()):
            self._config_changed(name, value)
        # maxmemory: the estimate, eviction and the OOM guard.
        self.memory = Memory(self)

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
        if ctx.held is not None:
            if ctx.held in self._held:
                self._held.remove(ctx.held)
            ctx.held = None
        if ctx in self.monitors:
            self.monitors.remove(ctx)
        for hook in self.client_close_hooks:
            hook(ctx)

    @property
    def blocked_clients(self) -> int:
        """INFO clients: blocked_clients."""
        return len(self.blocking.waiters)

    @property
    def clients_in_timeout_table(self) -> int:
        """INFO clients: clients_in_timeout_table (blocked with a timeout)."""
        return sum(1 for w in self.blocking.waiters.values() if w.block.timeout_ms > 0)

    def handle_ready_keys(self) -> None:
        """Serve clients blocked on keys that became ready (dispatch.execute does this after
        every top-level command, EXEC and scripts included; calling it again is harmless)."""
        if self.blocking.ready:
            self.blocking.handle_ready_keys()

    # --- the write stream ---

    # Strategy (execution units), as Redis 7.0's alsoPropagate / propagatePendingCommands:
    # inside a command (`call_depth` > 0) effects are collected, the lazy-expiry DELs it caused
    # included; when the outermost call ends they are sent, wrapped in MULTI ... EXEC when
    # there is more than one, so a replica applies them atomically. EXEC is one such unit: a
    # transaction that wrote once propagates that one effect bare, and one that wrote nothing
    # propagates nothing. Effects outside any command (active expiry, eviction) go out at
    # once, unwrapped. SELECT is inserted before the effect that changes database, so it
    # precedes MULTI when the first effect needs it.

    def propagate(self, db_index: int, argv: list[bytes]) -> None:
        """Send one effect to the AOF and the replicas (at the end of the running command)."""
        feed = self.feed
        if not feed:
            return
        if self.call_depth:
            self.pending_effects.append((db_index, argv))
            return
        # _propagate_now, inline: every propagated write passes here.
        if db_index != self._stream_db:
            self._select(db_index)
        data = encode_command(argv)
        for subscriber in feed:
            subscriber(data)

    def propagate_many(self, db_index: int, commands: list[list[bytes]]) -> None:
        """Send several effects of one database at once, outside any command (the fast
        path's writes of a batch): one piece of data for every subscriber."""
        feed = self.feed
        if not feed:
            return
        if db_index != self._stream_db:
            self._select(db_index)
        data = b"".join(map(encode_command, commands))
        for subscriber in feed:
            subscriber(data)

    def flush_effects(self, wrap: bool = True) -> None:
        """Send the effects collected so far; `wrap` allows MULTI ... EXEC around several."""
        pending = self.pending_effects
        if not pending:
            return
        self.pending_effects = []
        if wrap and len(pending) > 1:
            self._propagate_now(pending[0][0], [b"MULTI"])
            for db_index, argv in pending:
                self._propagate_now(db_index, argv)
            self._propagate_now(pending[-1][0], [b"EXEC"])
        else:
            for db_index, argv in pending:
                self._propagate_now(db_index, argv)

    def _propagate_now(self, db_index: int, argv: list[bytes]) -> None:
        if not self.feed:
            return
        if db_index != self._stream_db:
            self._select(db_index)
        self._emit(encode_command(argv))

    def _select(self, db_index: int) -> None:
        """The next effects are in another database: SELECT it in the stream first."""
        self._stream_db = db_index
        self._emit(encode_command([b"SELECT", str(db_index).encode()]))

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

    def add_write_guard(
        self,
        guard: Callable[[CommandContext, CommandSpec], str | None],
        armed: Callable[[], bool],
    ) -> None:
        """Register a guard that may refuse writes whenever `armed()` is true.

        `guards_active`, which the fast paths test, is true while any guard is armed; the
        owner of a guard calls refresh_guards whenever what `armed` reads changes.
        """
        self.write_guards.append(guard)
        self._guards_armed.append(armed)
        self.refresh_guards()

    def refresh_guards(self) -> None:
        self.guards_active = any(armed() for armed in self._guards_armed)

    def stats_error(self, text: str) -> None:
        code = text.split(" ", 1)[0]
        self.error_stats[code] = self.error_stats.get(code, 0) + 1
        self.total_error_replies += 1

    # --- MONITOR and SLOWLOG ---

    def feed_monitors(self, ctx: CommandContext, argv: list[bytes]) -> None:
        """One MONITOR line, as replicationFeedMonitors writes it."""
        now_us = time.time_ns() // 1000
        shown = " ".join(sds_repr(a) for a in argv)
        where = "lua" if ctx.id < 0 else ctx.addr
        line = f"{now_us // 1_000_000}.{now_us % 1_000_000:06d} [{ctx.db.index} {where}] {shown}"
        frame = SimpleString(line.encode("utf-8", "surrogateescape"))
        for monitor in list(self.monitors):
            monitor.push(frame)

    def record_slow(
        self, ctx: CommandContext, spec: CommandSpec, argv: list[bytes], usec: int
    ) -> None:
        """A command ran at least `slow_check_ns`: latency event and/or SLOWLOG entry."""
        from server.commands.table import Flag  # the table imports the families, which import us

        if self.latency_threshold_ms and usec // 1000 >= self.latency_threshold_ms:
            fast = spec.flags & Flag.FAST if spec.parent is None else spec.parent.flags & Flag.FAST
            self.latency_sample("fast-command" if fast else "command", usec // 1000)
        if usec * 1000 < self.slowlog_threshold_ns or spec.flags & Flag.SKIP_SLOWLOG:
            return
        max_len = self.config["slowlog-max-len"]
        if max_len <= 0:
            return
        if spec.name == "config|set":
            argv = _redact_config_set(argv)
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

    def latency_sample(self, event: str, ms: int) -> None:
        """latencyAddSample: one sample per second per event (the max within a second)."""
        now = int(time.time())
        entry = self.latency_events.get(event)
        if entry is None:
            entry = self.latency_events[event] = (deque(maxlen=160), [0])
        samples, peak = entry
        if samples and samples[-1][0] == now:
            samples[-1][1] = max(samples[-1][1], ms)
        else:
            samples.append([now, ms])
        peak[0] = max(peak[0], ms)

    # --- CLIENT PAUSE ---

    def pause_clients(self, end: float, pause_all: bool) -> None:
        """Pause until monotonic `end` (a longer or wider pause wins, as pauseClients does)."""
        if self.pause_end is not None:
            end = max(end, self.pause_end)
            pause_all = pause_all or self.pause_all
        self.pause_end = end
        self.pause_all = pause_all
        if self._pause_timer is not None:
            self._pause_timer.cancel()
            self._pause_timer = None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # in-process tests: dispatch notices the deadline itself
        self._pause_timer = loop.call_at(
            loop.time() + max(0.0, end - time.monotonic()), self._pause_expired
        )

    def _pause_expired(self) -> None:
        self._pause_timer = None
        if self.pause_end is not None and time.monotonic() >= self.pause_end:
            self.unpause()

    def pause_holds(self, ctx: CommandContext, spec: CommandSpec) -> bool:
        """Whether the pause in force makes this command wait (replicas never wait)."""
        assert self.pause_end is not None
        if time.monotonic() >= self.pause_end:
            self.unpause()
            return False
        if ctx.is_replica or ctx.is_primary_link:
            return False
        if self.pause_all or spec.may_replicate:
            return True
        return (
            spec.name == "exec"
            and ctx.multi is not None
            and any(queued.may_replicate for queued, _ in ctx.multi)
        )

    def hold(self, ctx: CommandContext, resume: Callable[[], None]) -> None:
        """Park a client whose command dispatch postponed; `resume` runs it after the pause."""
        ctx.held = resume
        self._held.append(resume)

    def unpause(self) -> None:
        """End the pause and let every held client run its command, in arrival order."""
        self.pause_end = None
        self.pause_all = False
        if self._pause_timer is not None:
            self._pause_timer.cancel()
            self._pause_timer = None
        held, self._held = self._held, []
        for resume in held:
            resume()

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

    def _key_created(self, db: Database, key: bytes) -> None:
        # dbAdd's "new" event (class n); the keyspace calls this only while n is enabled.
        self.notify_keyspace_event("n", b"new", key, db.index)

    def _key_missed(self, db: Database, key: bytes) -> None:
        # lookupKeyRead's "keymiss" event (class m), only while m is enabled.
        self.notify_keyspace_event("m", b"keymiss", key, db.index)

    # --- output buffer limits ---

    def _check_soft_limited(self) -> None:
        """clientsCron's output-limit check: a client over its soft limit is cut off once the
        limit's seconds have passed, even if nothing more is written to it."""
        for check in list(self.soft_limited.values()):
            check()

    # --- configuration ---

    def _config_changed(self, name: str, value: Any) -> None:
        if name == "slowlog-log-slower-than":
            self.slowlog_threshold_ns = value * 1000 if value >= 0 else 2**62
            self._update_slow_check()
        elif name == "latency-monitor-threshold":
            self.latency_threshold_ms = value
            self._update_slow_check()
        elif name == "slowlog-max-len":
            while len(self.slowlog) > value:
                self.slowlog.pop()
        elif name == "replica-read-only":
            self.replica_read_only = value
        elif name == "client-output-buffer-limit":
            self.output_limits = parse_output_buffer_limits(value)
            hard, soft, _ = self.output_limits["normal"]
            self.obuf_normal_limited = bool(hard or soft)
        elif name == "notify-keyspace-events":
            # CONFIG GET's form ("AKE"): expand 'A' into the classes it stands for.
            # Nothing is published unless K or E picks a channel family.
            expanded = value.replace("A", "g$lshzxetd")
            classes = expanded if ("K" in value or "E" in value) else ""
            self.notify_classes = classes
            keyspace = self.keyspace
            keyspace.on_new_key = self._key_created if "n" in classes else None
            keyspace.on_miss = self._key_missed if "m" in classes else None
        elif name == "hash-max-listpack-entries":
            self.hash_max_listpack_entries = value
        elif name == "hash-max-listpack-value":
            self.hash_max_listpack_value = value
        elif name == "set-max-intset-entries":
            self.set_max_intset_entries = intset_limit(value)
        elif name == "zset-max-listpack-entries":
            self.zset_max_listpack_entries = value
        elif name == "zset-max-listpack-value":
            self.zset_max_listpack_value = value

    def _subscription_counts(self, ctx: CommandContext) -> tuple[int, int, int]:
        subs = self.pubsub.peek(ctx)
        return len(subs.channels), len(subs.patterns), len(subs.shard_channels)

    def _update_slow_check(self) -> None:
        latency_ns = self.latency_threshold_ms * 1_000_000 if self.latency_threshold_ms else 2**62
        self.slow_check_ns = min(self.slowlog_threshold_ns, latency_ns)

    # --- lifecycle ---

    def client_count(self) -> int:
        return len(self.clients)

    async def cron(self) -> None:
        """serverCron: active expiry and periodic upkeep, `hz` times a second."""
        while True:
            hz = max(1, min(500, self.config["hz"]))
            await asyncio.sleep(1 / hz)
            self.keyspace.clock.tick()  # the coarse second (storage.clock), as memcached's
            try:
                # Redis gives the active expire cycle 25% of each tick; it rests while clients
                # are paused, so the dataset does not change under a paused failover.
                if self.pause_end is None and self.active_expire_enabled:
                    self.keyspace.active_expire_cycle(0.25 / hz)
                self.keyspace.settle()  # containers written since the last tick: re-price
                self._sample_metrics()
                self._clients_cron()
                for hook in self.cron_hooks:
                    hook()
            except Exception:
                logger.exception("cron failed")

    def _sample_metrics(self) -> None:
        """trackInstantaneousMetric: one rate per 100 ms, the last 16 averaged by INFO."""
        now = time.monotonic()
        at, ops, net_in, net_out = self._metric_last
        elapsed = now - at
        if elapsed < 0.1:
            return
        samples = self.metric_samples
        samples["ops"].append((self.commands_processed - ops) / elapsed)
        samples["in"].append((self.net_input_bytes - net_in) / elapsed)
        samples["out"].append((self.net_output_bytes - net_out) / elapsed)
        self._metric_last = (
            now,
            self.commands_processed,
            self.net_input_bytes,
            self.net_output_bytes,
        )

    def instantaneous(self, name: str) -> float:
        samples = self.metric_samples[name]
        return sum(samples) / len(samples) if samples else 0.0

    def _clients_cron(self) -> None:
        """Once a second: close clients idle for longer than `timeout` (clientsCron)."""
        now = time.time()
        if now - self._clients_cron_at < 1.0:
            return
        self._clients_cron_at = now
        idle_limit = self.config["timeout"]
        if not idle_limit:
            return
        for ctx in list(self.clients.values()):
            if (
                ctx.is_replica
                or ctx.is_primary_link
                or ctx.subscribed
                or ctx in self.monitors
                or ctx.blocked is not None
            ):
                continue
            if now - ctx.last_interaction_s > idle_limit:
                logger.debug("%s - closing idle client", ctx.addr)
                ctx.kill()

    def reset_stats(self) -> None:
        """CONFIG RESETSTAT: zero the counters INFO reports (resetServerStats)."""
        from server.commands.table import COMMANDS

        self.commands_processed = 0
        self.connections_received = 0
        self.rejected_connections = 0
        self.net_input_bytes = 0
        self.net_output_bytes = 0
        self.error_stats.clear()
        self.total_error_replies = 0
        self.evicted_keys = 0
        self.keyspace.expired_keys = 0
        self.keyspace.hits = 0
        self.keyspace.misses = 0
        self.memory.peak = 0
        for samples in self.metric_samples.values():
            samples.clear()
        self._metric_last = (time.monotonic(), 0, 0, 0)
        for spec in COMMANDS.values():
            for each in (spec, *spec.subcommands.values()):
                each.calls = each.usec = each.failed_calls = each.rejected_calls = 0
        for hook in self.stat_resets:
            hook()

    def start_cron(self) -> None:
        self.keyspace.clock.tick()
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


def _only_default_user(name: bytes) -> bool:
    return name == b"default"


def _redact_config_set(argv: list[bytes]) -> list[bytes]:
    """CONFIG SET of a sensitive directive shows "(redacted)" for its value, as Redis does."""
    out = list(argv)
    for i in range(2, len(argv) - 1, 2):
        param = BY_NAME.get(argv[i].decode("utf-8", "surrogateescape").lower())
        if param is not None and param.sensitive:
            out[i + 1] = b"(redacted)"
    return out

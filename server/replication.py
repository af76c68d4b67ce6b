"""The server's side of replication: its role, the primary's side of the stream, WAIT.

replication/ holds the mechanics (the backlog and IDs in state.py, the sans-IO handshake, the
primary's and the replica's I/O); this module owns what Redis keeps in `server.*` for them and
ties them to the App: it subscribes the primary's side to `App.feed`, attaches replicas
(SYNC, PSYNC), counts their ACKs (WAIT, min-replicas-to-write) and switches roles. The
replica's side (what the link to a primary does here) is server/replication_link.py; what
ROLE and INFO show is server/replication_info.py. One `Replication` per App, created by
`replication_of(app)`.

Strategy (roles), as Redis's replicationSetMaster / replicationUnsetMaster:

* A primary feeds the stream from `App.feed` once it has a backlog (created when the first
  replica attaches; freed after `repl-backlog-ttl` seconds without replicas).
* `REPLICAOF host port` makes a replica: blocked clients are disconnected, the local history
  becomes the "cached primary" (our ID and offset), so the new primary may continue it with
  a partial resync; keys are no longer expired locally; our own replicas stay attached.
* A replica feeds its backlog and its sub-replicas with the bytes it applied from its primary,
  verbatim, never with its own effects (those still go to the AOF).
* `REPLICAOF NO ONE` keeps the inherited history as replid2 (PSYNC2), takes a new replid,
  disconnects the sub-replicas (they reconnect and continue partially), and forces the next
  effect to start with SELECT.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from typing import Any, Final, NamedTuple

from protocol.resp import RawReply, string2ll
from replication.primary import (
    GETACK_COMMAND,
    PING_COMMAND,
    AttachedReplica,
    Primary,
)
from replication.replica import PrimaryLink
from replication.state import ReplicationState
from server.app import App
from server.blocking import NOT_READY, Block
from server.context import NO_REPLY, CommandContext
from server.durability import AOF_OFF, SyncTransfer, durability_of
from server.errors import (
    ERR_FILTERED_NEEDS_EOF,
    ERR_NOMASTERLINK_SYNC,
    ERR_NOREPLICAS,
    ERR_NOT_INTEGER,
    ERR_SYNC_PENDING_OUTPUT,
    ERR_UNBLOCKED_ROLE_CHANGE,
    CommandError,
)
from server.replication_link import CachedPrimary, LinkSide

logger = logging.getLogger(__name__)

# A full resync of a dataset estimated at most this big is made in memory, in the loop
# (milliseconds); a larger one by a forked child, as BGSAVE does.
IN_MEMORY_SNAPSHOT_BYTES: Final = 2 * 1024 * 1024

_INSTANCES: weakref.WeakKeyDictionary[App, Replication] = weakref.WeakKeyDictionary()


def replication_of(app: App) -> Replication:
    """The Replication of `app`, created on first use."""
    found = _INSTANCES.get(app)
    if found is None:
        found = _INSTANCES[app] = Replication(app)
    return found


class _ClientConnection:
    """A replica's client connection, as replication/primary.py writes to it."""

    __slots__ = ("ctx",)

    def __init__(self, ctx: CommandContext) -> None:
        self.ctx = ctx

    def write(self, data: bytes) -> None:
        # Through the connection, so the slave class's output buffer limit applies.
        self.ctx.push(RawReply(data))

    def close(self) -> None:
        transport = self.ctx.transport
        if transport is None:
            self.ctx.kill()
            return
        # After the current batch of this client's replies is written (what we wrote may be
        # waiting in it), and then once the transport has sent everything.
        try:
            asyncio.get_running_loop().call_soon(transport.close)
        except RuntimeError:
            transport.close()

    def abort(self) -> None:
        self.ctx.kill()


class _WaitRequest(NamedTuple):
    ctx: CommandContext
    offset: int
    replicas: int


class Replication:
    """Replication state and work for one App (Redis's server.* replication fields)."""

    def __init__(self, app: App) -> None:
        self.app = app
        config = self.config = app.config
        self.state = ReplicationState(config["repl-backlog-size"], replid=app.replid)
        self.primary = Primary(self.state)
        # --- as a replica ---
        self.primary_host: str | None = None
        self.primary_port = 0
        self.link: PrimaryLink | None = None
        self.side = LinkSide(self)
        # --- WAIT ---
        self.waiting: list[_WaitRequest] = []
        self._getack_scheduled = False
        # --- periodic work ---
        self.good_replicas = 0
        self._cron_loops = 0
        self._last_cron_s = 0.0
        self._subscribed = False
        # What each client announced with REPLCONF, by client id.
        self._announced: dict[int, dict[str, object]] = {}
        # --- wiring ---
        app.cron_hooks.append(self.cron)
        app.client_close_hooks.append(self._client_closed)
        app.shutdown_hooks.append(self.on_shutdown)
        app.add_write_guard(self._min_replicas_guard, self._min_replicas_armed)
        config.on_change(self._config_changed)
        self._config_changed("client-output-buffer-limit", None)
        self.mirror()

    # --- the role ---

    def start_from_config(self) -> None:
        """At startup, after loading: `replicaof` in the configuration starts the link."""
        value = str(self.config["replicaof"])
        if value:
            host, port = value.rsplit(" ", 1)
            self.replicate_from(host, int(port), update_config=False)

    def replicate_from(self, host: str, port: int, *, update_config: bool = True) -> None:
        """REPLICAOF host port (replicationSetMaster)."""
        app = self.app
        was_primary = not app.is_replica
        self._stop_link()
        # Clients blocked on this primary's data cannot be served by a replica.
        app.blocking.disconnect_all(ERR_UNBLOCKED_ROLE_CHANGE)
        if was_primary:
            # replicationCacheMasterUsingMyself: our own history, so the new primary (maybe
            # our old replica) can continue it partially.
            self.side.cached = CachedPrimary(self.state.replid, self.state.master_repl_offset, -1)
            self._unsubscribe()
        app.is_replica = True
        app.keyspace.expire_on_lookup = False
        self.primary_host = host
        self.primary_port = port
        if update_config:
            self.config.set("replicaof", [host, str(port)], startup=True)
        self.update_stale()
        self._start_link()

    def become_primary(self) -> None:
        """REPLICAOF NO ONE (replicationUnsetMaster)."""
        app = self.app
        if not app.is_replica:
            return
        self._stop_link()
        self.side.cached = None
        self.side.down_since_s = None
        self.primary_host = None
        self.primary_port = 0
        self.state.shift_replid()
        logger.warning(
            "Setting secondary replication ID to %s, valid up to offset: %d. New replication "
            "ID is %s",
            self.state.replid2,
            self.state.second_replid_offset,
            self.state.replid,
        )
        # Our replicas must learn the new ID; they reconnect and continue from ID2.
        self.primary.disconnect_all()
        app.is_replica = False
        app.keyspace.expire_on_lookup = True
        app.reset_stream_db()
        self.primary.no_replicas_since_s = int(time.time())
        if self.state.backlog is not None:
            self._subscribe()
        self.config.set("replicaof", ["no", "one"], startup=True)
        self.mirror()
        self.update_stale()
        durability = durability_of(app)
        if self.config["appendonly"] and durability.aof_state == AOF_OFF:
            durability.start_aof()

    def _start_link(self) -> None:
        assert self.primary_host is not None
        link = self.link = PrimaryLink(self.primary_host, self.primary_port, self.side)
        link.connect_timeout_s = float(self.config["repl-timeout"])
        # Without an event loop (in-process tests) the link stays in "connect".
        with contextlib.suppress(RuntimeError):
            link.start()

    def _stop_link(self) -> None:
        link = self.link
        if link is None:
            return
        self.link = None
        self.side.link_stopped(link)
        link.stop_nowait()

    def update_stale(self) -> None:
        """replica-serve-stale-data: refuse commands without the STALE flag while the
        link is down (dispatch reads `App.deny_stale`)."""
        app = self.app
        link = self.link
        app.deny_stale = (
            app.is_replica
            and not self.config["replica-serve-stale-data"]
            and (link is None or not link.up)
        )

    def mirror(self) -> None:
        """Copy the history's ID and offset where dispatch and the RDB writer read them."""
        self.app.replid = self.state.replid
        self.app.master_repl_offset = self.state.master_repl_offset

    # --- the primary's side: the stream, SYNC, PSYNC, ACK ---

    def _subscribe(self) -> None:
        if not self._subscribed:
            self._subscribed = True
            self.app.feed.append(self._feed)

    def _unsubscribe(self) -> None:
        if self._subscribed:
            self._subscribed = False
            with contextlib.suppress(ValueError):
                self.app.feed.remove(self._feed)

    def _feed(self, data: bytes) -> None:
        """App.feed: an encoded effect of our own (only while we are a primary)."""
        self.primary.feed(data)
        self.app.master_repl_offset = self.state.master_repl_offset

    def send_ack(self) -> None:
        """REPLCONF GETACK from our primary: acknowledge at once."""
        if self.link is not None:
            self.link.send_ack()

    def _feed_own(self, data: bytes) -> None:
        """Bytes the primary adds by itself (PING, REPLCONF GETACK): replicas only."""
        if self.app.is_replica or self.state.backlog is None:
            return
        self._feed(data)

    def announced(self, ctx: CommandContext) -> dict[str, object]:
        """The REPLCONF options a client sent (listening-port, ip-address, capa, rdb-only...)."""
        found = self._announced.get(ctx.id)
        if found is None:
            found = self._announced[ctx.id] = {"capa": set()}
        return found

    def sync(self, ctx: CommandContext, psync: tuple[bytes, bytes] | None) -> Any:
        """syncCommand: continue from the backlog, or start a full resync."""
        if ctx.is_replica:
            return NO_REPLY  # a replica asking again is ignored
        app = self.app
        if app.is_replica and (self.link is None or not self.link.up):
            raise CommandError(ERR_NOMASTERLINK_SYNC)
        if ctx.transport is None:
            raise CommandError(ERR_SYNC_PENDING_OUTPUT)
        info = self.announced(ctx)
        capa: set[bytes] = info["capa"]  # type: ignore[assignment]
        filtered = "rdb-filter-only" in info
        if filtered and b"eof" not in capa:
            raise CommandError(ERR_FILTERED_NEEDS_EOF)
        offset = 0
        if psync is not None:
            parsed = _strtoll(psync[1])
            if parsed is None:
                raise CommandError(ERR_NOT_INTEGER)
            offset = parsed
        ip = info.get("ip-address")
        replica = AttachedReplica(
            _ClientConnection(ctx),
            ctx.id,
            ip=ip.decode("utf-8", "replace") if isinstance(ip, bytes) else _peer_ip(ctx.addr),
            listening_port=int(info.get("listening-port", 0)),  # type: ignore[call-overload]
            capa_psync2=b"psync2" in capa,
            legacy=psync is None,
            rdb_only=bool(info.get("rdb-only", False)),
        )
        logger.info("Replica %s:%d asks for synchronization", replica.ip, replica.listening_port)
        if psync is not None:
            replid = psync[0].decode("utf-8", "replace")
            decision = self.state.try_partial(replid, offset)
            if decision.partial:
                ctx.is_replica = True
                self.primary.continue_partial(replica, decision.backlog_data)
                logger.info(
                    "Partial resynchronization request from %s:%d accepted. Sending %d bytes "
                    "of backlog starting from offset %d.",
                    replica.ip,
                    replica.listening_port,
                    len(decision.backlog_data),
                    offset,
                )
                self._refresh_good()
                return NO_REPLY
            if decision.reason != "?":
                self.primary.sync_partial_err += 1
                logger.info("Partial resynchronization not accepted: %s", decision.reason)
        self.primary.sync_full += 1
        ctx.is_replica = True
        self.primary.attach(replica)
        if self.state.backlog is None and len(self.primary.replicas) == 1:
            # A first backlog starts a new history: nothing before it can be continued.
            self.state.create_backlog(new_history=not app.is_replica)
            if not app.is_replica:
                self._subscribe()
            self.mirror()
            logger.info(
                "Replication backlog created, my new replication IDs are '%s' and '%s'",
                self.state.replid,
                self.state.replid2,
            )
        self._full_sync(ctx, replica, with_data=not filtered)
        return NO_REPLY

    def _full_sync(self, ctx: CommandContext, replica: AttachedReplica, with_data: bool) -> None:
        durability = durability_of(self.app)
        if not with_data or self._estimated_bytes() <= IN_MEMORY_SNAPSHOT_BYTES:
            rdb = durability.snapshot_bytes(with_data=with_data)
            self._snapshot_taken(replica)
            self.primary.send_snapshot(replica, rdb)
            self._refresh_good()
            return
        transfer = SyncTransfer(
            ctx,
            ctx.transport,
            rdb_only=replica.rdb_only,
            after=lambda _ctx: self._snapshot_sent(replica),
            on_snapshot=lambda: self._snapshot_taken(replica),
            on_sending=lambda: self.primary.snapshot_sending(replica),
        )
        durability.request_sync(transfer)

    def _snapshot_taken(self, replica: AttachedReplica) -> None:
        # The stream after the snapshot starts with SELECT (the replica's db is unknown).
        if not self.app.is_replica:
            self.app.reset_stream_db()
        self.primary.snapshot_taken(replica, self.state.master_repl_offset)

    def _snapshot_sent(self, replica: AttachedReplica) -> None:
        self.primary.snapshot_sent(replica)
        self._refresh_good()

    def _estimated_bytes(self) -> int:
        return sum(db.used for db in self.app.keyspace.dbs)

    def ack(self, ctx: CommandContext, offset: int) -> None:
        """REPLCONF ACK <offset> from one of our replicas."""
        replica = self.primary.replicas.get(ctx.id)
        if replica is None:
            return
        if offset > replica.ack_offset:
            replica.ack_offset = offset
        replica.ack_time_s = int(time.time())
        if self.waiting:
            self._serve_waiting()

    def _client_closed(self, ctx: CommandContext) -> None:
        self._announced.pop(ctx.id, None)
        if ctx.is_replica and self.primary.detach(ctx.id) is not None:
            self._refresh_good()

    # --- WAIT and min-replicas-to-write ---

    def wait(self, ctx: CommandContext, replicas: int, timeout_ms: int) -> Any:
        """waitCommand: the count at once if enough replicas acked this client's last
        write, else a Block that ends on enough ACKs or at the timeout."""
        offset = ctx.woff
        acked = self.primary.count_acked(offset)
        if acked >= replicas or ctx.multi is not None or self.app.in_exec:
            return acked
        self.waiting.append(_WaitRequest(ctx, offset, replicas))
        self.request_getack()
        return Block(
            [],
            timeout_ms,
            _never_ready,
            denied_reply=acked,
            on_timeout=lambda: self.primary.count_acked(offset),
        )

    def request_getack(self) -> None:
        """Ask every replica for an ACK before the loop sleeps (REPLCONF GETACK * once for
        every WAIT of this iteration)."""
        if self._getack_scheduled:
            return
        self._getack_scheduled = True
        try:
            asyncio.get_running_loop().call_soon(self._send_getack)
        except RuntimeError:
            self._send_getack()

    def _send_getack(self) -> None:
        self._getack_scheduled = False
        if self.primary.replicas:
            self._feed_own(GETACK_COMMAND)

    def _serve_waiting(self) -> None:
        """processClientsWaitingReplicas."""
        still: list[_WaitRequest] = []
        blocking = self.app.blocking
        for request in self.waiting:
            ctx = request.ctx
            if ctx.blocked is None or ctx.closed:
                continue  # timed out, unblocked or gone
            count = self.primary.count_acked(request.offset)
            if count >= request.replicas:
                blocking.wake(ctx, count)
            else:
                still.append(request)
        self.waiting = still

    def _min_replicas_guard(self, ctx: CommandContext, spec: Any) -> str | None:
        """checkGoodReplicasStatus, for write commands of clients we do not obey."""
        if not spec.is_write or ctx.is_primary_link or self.app.is_replica:
            return None
        config = self.config
        needed = config["min-replicas-to-write"]
        if not needed or not config["min-replicas-max-lag"]:
            return None
        if self.good_replicas < needed:
            return ERR_NOREPLICAS
        return None

    def _min_replicas_armed(self) -> bool:
        config = self.config
        return bool(config["min-replicas-to-write"] and config["min-replicas-max-lag"])

    def _refresh_good(self) -> None:
        config = self.config
        needed = config["min-replicas-to-write"]
        max_lag = config["min-replicas-max-lag"]
        if needed and max_lag:
            self.good_replicas = self.primary.count_good(int(time.time()), max_lag)

    # --- periodic work ---

    def cron(self) -> None:
        """App cron hook; replicationCron's work runs once a second."""
        now = time.time()
        if now - self._last_cron_s < 1.0:
            return
        self._last_cron_s = now
        now_s = int(now)
        config = self.config
        timeout_s = config["repl-timeout"]
        link = self.link
        if link is not None:
            if (
                not link.loading
                and (link.up or link.handshake is not None)
                and time.monotonic() - link.last_io_monotonic > timeout_s
            ):
                logger.warning("MASTER timeout: no data nor PING received...")
                link.drop()
            link.send_ack()
        primary = self.primary
        if primary.replicas:
            period = max(1, config["repl-ping-replica-period"])
            if self._cron_loops % period == 0:
                self._feed_own(PING_COMMAND)
            primary.keepalive()
            for replica in primary.timed_out(now_s, timeout_s):
                logger.warning(
                    "Disconnecting timedout replica (streaming sync): %s:%d",
                    replica.ip,
                    replica.listening_port,
                )
                replica.conn.abort()
        ttl = config["repl-backlog-ttl"]
        if (
            not primary.replicas
            and ttl
            and self.state.backlog is not None
            and not self.app.is_replica
            and now_s - primary.no_replicas_since_s > ttl
        ):
            self.state.free_backlog()
            self._unsubscribe()
            self.mirror()
            logger.info(
                "Replication backlog freed after %d seconds without connected replicas.", ttl
            )
        self._refresh_good()
        self._cron_loops += 1

    def on_shutdown(self) -> None:
        """Close the link to our primary; give our replicas the end of the stream (the
        clients are closed next: theirs gracefully, after what is queued for them)."""
        self._stop_link()
        self.primary.flush()
        for replica in self.primary.replicas.values():
            ctx = self.app.clients.get(replica.client_id)
            if ctx is not None and ctx.transport is not None:
                ctx.kill = ctx.transport.close

    def _config_changed(self, name: str, value: Any) -> None:
        if name == "repl-backlog-size":
            self.state.resize_backlog(self.config["repl-backlog-size"])
        elif name == "replica-serve-stale-data":
            self.update_stale()
        elif name in ("min-replicas-to-write", "min-replicas-max-lag"):
            self._refresh_good()
            self.app.refresh_guards()
        elif name == "client-output-buffer-limit":
            hard, _, _ = self.app.output_limits.get("slave", (0, 0, 0))
            self.primary.pending_limit_bytes = hard


def _never_ready(ctx: CommandContext, key: bytes) -> Any:
    return NOT_READY  # WAIT is woken by ACKs, never by a key


def _peer_ip(addr: str) -> str:
    return addr.rsplit(":", 1)[0] if ":" in addr else addr


def _strtoll(raw: bytes) -> int | None:
    """getLongLongFromObject: a canonical integer (string2ll)."""
    return string2ll(raw)

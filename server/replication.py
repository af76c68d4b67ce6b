"""The server's side of replication: its role, both ends of the stream, WAIT, ROLE and INFO.

replication/ holds the mechanics (the backlog and IDs in state.py, the sans-IO handshake, the
primary's and the replica's I/O); this module owns what Redis keeps in `server.*` for them and
ties them to the App: it subscribes the primary's side to `App.feed`, gives the replica's link
its hooks (load a snapshot through server/durability.py, apply the stream through dispatch as
the primary's client), and answers the commands' questions. One `Replication` per App,
created by `replication_of(app)`.

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

from protocol.resp import RawReply, RespError, string2ll
from replication.handshake import HandshakeOptions
from replication.primary import (
    GETACK_COMMAND,
    PING_COMMAND,
    AttachedReplica,
    Primary,
    ReplicaState,
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
from server.info import INFO_FIELDS, INFO_PROVIDERS, Lines

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


class CachedPrimary(NamedTuple):
    """What a replica remembers of its history to PSYNC (Redis's cached master)."""

    replid: str
    offset: int  # the last byte applied
    db: int  # the primary client's selected db (-1: the stream will start with SELECT)


class _NeverExpired:
    """The primary's client never sees a key as expired: the primary sends its DEL (Redis's
    expireIfNeeded returns 0 for the master client)."""

    __slots__ = ()

    def now_ms(self) -> int:
        return -(2**62)


_NEVER_EXPIRED: Final = _NeverExpired()


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
        self.link_ctx: CommandContext | None = None
        self.cached: CachedPrimary | None = None
        self._stream_db = 0  # repl-stream-db of the last snapshot loaded
        # When the link to our primary was lost (unix seconds; None: up, or never lost).
        self.down_since_s: int | None = None
        self._restart_aof = False
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
        app.add_write_guard(self._min_replicas_guard)
        config.on_change(self._config_changed)
        self._config_changed("client-output-buffer-limit", None)
        self._mirror()

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
            self.cached = CachedPrimary(self.state.replid, self.state.master_repl_offset, -1)
            self._unsubscribe()
        app.is_replica = True
        app.keyspace.expire_on_lookup = False
        self.primary_host = host
        self.primary_port = port
        if update_config:
            self.config.set("replicaof", [host, str(port)], startup=True)
        self._update_stale()
        self._start_link()

    def become_primary(self) -> None:
        """REPLICAOF NO ONE (replicationUnsetMaster)."""
        app = self.app
        if not app.is_replica:
            return
        self._stop_link()
        self.cached = None
        self.down_since_s = None
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
        self._mirror()
        self._update_stale()
        durability = durability_of(app)
        if self.config["appendonly"] and durability.aof_state == AOF_OFF:
            durability.start_aof()

    def _start_link(self) -> None:
        assert self.primary_host is not None
        link = self.link = PrimaryLink(self.primary_host, self.primary_port, self)
        link.connect_timeout_s = float(self.config["repl-timeout"])
        # Without an event loop (in-process tests) the link stays in "connect".
        with contextlib.suppress(RuntimeError):
            link.start()

    def _stop_link(self) -> None:
        link = self.link
        if link is None:
            return
        self.link = None
        if link.up and link.offset >= 0 and self.link_ctx is not None:
            self.cached = CachedPrimary(self.state.replid, link.offset, self.link_ctx.db.index)
        if link.up:
            self.down_since_s = int(time.time())
        link.stop_nowait()
        self._close_link_client()

    def _close_link_client(self) -> None:
        ctx = self.link_ctx
        self.link_ctx = None
        if ctx is not None and not ctx.closed:
            self.app.client_closed(ctx)

    def _update_stale(self) -> None:
        app = self.app
        link = self.link
        app.deny_stale = (
            app.is_replica
            and not self.config["replica-serve-stale-data"]
            and (link is None or not link.up)
        )

    def _mirror(self) -> None:
        self.app.replid = self.state.replid
        self.app.master_repl_offset = self.state.master_repl_offset

    # --- the stream (as a primary) ---

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

    def _feed_own(self, data: bytes) -> None:
        """Bytes the primary adds by itself (PING, REPLCONF GETACK): replicas only."""
        if self.app.is_replica or self.state.backlog is None:
            return
        self._feed(data)

    # --- SYNC and PSYNC (the primary's side) ---

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
            self._mirror()
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

    # --- WAIT ---

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

    # --- min-replicas-to-write ---

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

    def _refresh_good(self) -> None:
        config = self.config
        needed = config["min-replicas-to-write"]
        max_lag = config["min-replicas-max-lag"]
        if needed and max_lag:
            self.good_replicas = self.primary.count_good(int(time.time()), max_lag)

    # --- the link to our primary (LinkHooks) ---

    def handshake_options(self) -> HandshakeOptions:
        config = self.config
        port = config["replica-announce-port"]
        if not port:
            bound = self.app.bound.get("resp")
            port = bound[1] if bound else config["port"]
        auth = config["masterauth"]
        user = config["masteruser"]
        cached = self.cached
        return HandshakeOptions(
            listening_port=port,
            announce_ip=config["replica-announce-ip"],
            masterauth=auth.encode() if auth else None,
            masteruser=user.encode() if user and auth else None,
            psync_replid=cached.replid if cached is not None else "?",
            psync_offset=cached.offset + 1 if cached is not None else -1,
        )

    def link_changed(self) -> None:
        self._update_stale()

    def full_resync(self, replid: str, offset: int) -> None:
        """The primary chose a full resync; nothing to do until the snapshot is here."""

    async def load_snapshot(self, rdb: bytes | bytearray) -> bool:
        """replicationAttachToNewMaster, then load (readSyncBulkPayload)."""
        self.cached = None
        # Our history ends: sub-replicas must resync with the new one.
        self.primary.disconnect_all()
        self.state.discard_backlog()
        durability = durability_of(self.app)
        self._restart_aof = durability.aof_state != AOF_OFF
        if self._restart_aof:
            durability.stop_aof()
        result = await durability.load_replica_snapshot(rdb)
        if result is None:
            return False
        raw_db = result.aux.get(b"repl-stream-db", b"0")
        self._stream_db = int(raw_db) if raw_db.lstrip(b"-").isdigit() else 0
        return True

    def link_up(self, link: PrimaryLink, full: bool, replid: str | None) -> None:
        app = self.app
        state = self.state
        if full:
            state.reset_to(replid or state.replid, link.offset)
            db = self._stream_db
            if self._restart_aof:
                self._restart_aof = False
                durability_of(app).start_aof()
        else:
            if replid is not None and replid != state.replid:
                logger.warning("Master replication ID changed to %s", replid)
                state.adopt_primary_id(replid)
                # Our sub-replicas must learn the new ID (they continue with ID2).
                self.primary.disconnect_all()
            if state.backlog is None:
                state.create_backlog(new_history=False)
            cached = self.cached
            db = cached.db if cached is not None else 0
        self.cached = None
        self.down_since_s = None
        self._mirror()
        dbs = app.keyspace.dbs
        ctx = app.new_client(f"{link.host}:{link.port}", "")
        app.connections_received -= 1  # our own connection, not an accepted one
        ctx.is_primary_link = True
        ctx.authenticated = True
        ctx.db = dbs[db] if 0 <= db < len(dbs) else dbs[0]
        ctx.kill = link.drop
        self.link_ctx = ctx

    def apply(self, argv: list[bytes]) -> bool:
        from server.dispatch import execute

        ctx = self.link_ctx
        if ctx is None:
            return True
        keyspace = self.app.keyspace
        clock = keyspace.clock
        keyspace.clock = _NEVER_EXPIRED
        try:
            reply = execute(ctx, argv)
        finally:
            keyspace.clock = clock
        if type(reply) is RespError:
            logger.debug("error applying a command from the master: %s", reply.text)
        return ctx.multi is None

    def applied(self, data: bytes) -> None:
        self.primary.feed(data)
        self._mirror()

    def link_down(self, link: PrimaryLink) -> None:
        ctx = self.link_ctx
        if link is self.link and link.offset >= 0:
            db = ctx.db.index if ctx is not None else -1
            self.cached = CachedPrimary(self.state.replid, link.offset, db)
        logger.info("Connection with master lost; caching the disconnected master state.")
        self.down_since_s = int(time.time())
        if link is self.link:
            self._close_link_client()

    def send_ack(self) -> None:
        """REPLCONF GETACK from our primary: acknowledge at once."""
        if self.link is not None:
            self.link.send_ack()

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
            self._mirror()
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
            self._update_stale()
        elif name in ("min-replicas-to-write", "min-replicas-max-lag"):
            self._refresh_good()
        elif name == "client-output-buffer-limit":
            hard, _, _ = self.app.output_limits.get("slave", (0, 0, 0))
            self.primary.pending_limit_bytes = hard

    # --- what the commands and INFO show ---

    def role_reply(self) -> list[Any]:
        """ROLE: ["master", offset, [[ip, port, offset], ...]] or ["slave", host, port,
        state, offset]."""
        if not self.app.is_replica:
            replicas = [
                [r.ip.encode(), b"%d" % r.listening_port, b"%d" % r.ack_offset]
                for r in self.primary.online()
            ]
            return [b"master", self.state.master_repl_offset, replicas]
        link = self.link
        state = link.role_state if link is not None else "connect"
        offset = link.offset if link is not None and link.up else -1
        return [
            b"slave",
            (self.primary_host or "").encode(),
            self.primary_port,
            state.encode(),
            offset,
        ]

    def info_lines(self) -> Lines:
        """INFO replication, field by field in Redis 7.0's order."""
        app = self.app
        config = self.config
        state = self.state
        lines: Lines = [("role", "slave" if app.is_replica else "master")]
        if app.is_replica:
            link = self.link
            up = link is not None and link.up
            cached = self.cached
            if up and link is not None:
                offset, read_offset = link.offset, link.read_offset
            elif cached is not None:
                offset = read_offset = cached.offset
            else:
                offset = read_offset = 1
            last_io = int(time.monotonic() - link.last_io_monotonic) if up and link else -1
            lines += [
                ("master_host", self.primary_host),
                ("master_port", self.primary_port),
                ("master_link_status", "up" if up else "down"),
                ("master_last_io_seconds_ago", last_io),
                ("master_sync_in_progress", int(link is not None and link.in_transfer)),
                ("slave_read_repl_offset", read_offset),
                ("slave_repl_offset", offset),
            ]
            if link is not None and link.in_transfer and link.handshake is not None:
                hs = link.handshake
                total = hs.transfer_size
                perc = hs.transfer_read / total * 100 if total > 0 else 0.0
                lines += [
                    ("master_sync_total_bytes", total),
                    ("master_sync_read_bytes", hs.transfer_read),
                    ("master_sync_left_bytes", total - hs.transfer_read),
                    ("master_sync_perc", f"{perc:.2f}"),
                    (
                        "master_sync_last_io_seconds_ago",
                        int(time.monotonic() - link.last_io_monotonic),
                    ),
                ]
            if not up:
                since = self.down_since_s
                lines.append(
                    ("master_link_down_since_seconds", int(time.time()) - since if since else -1)
                )
            lines += [
                ("slave_priority", config["replica-priority"]),
                ("slave_read_only", int(bool(config["replica-read-only"]))),
                ("replica_announced", int(bool(config["replica-announced"]))),
            ]
        primary = self.primary
        lines.append(("connected_slaves", len(primary.replicas)))
        if config["min-replicas-to-write"] and config["min-replicas-max-lag"]:
            lines.append(("min_slaves_good_slaves", self.good_replicas))
        now_s = int(time.time())
        for i, r in enumerate(primary.replicas.values()):
            lag = now_s - r.ack_time_s if r.state is ReplicaState.ONLINE else 0
            lines.append(
                (
                    f"slave{i}",
                    f"ip={r.ip},port={r.listening_port},state={r.state.label},"
                    f"offset={r.ack_offset},lag={lag}",
                )
            )
        backlog = state.backlog
        lines += [
            ("master_failover_state", "no-failover"),
            ("master_replid", state.replid),
            ("master_replid2", state.replid2),
            ("master_repl_offset", state.master_repl_offset),
            ("second_repl_offset", state.second_replid_offset),
            ("repl_backlog_active", int(backlog is not None)),
            ("repl_backlog_size", state.backlog_size),
            ("repl_backlog_first_byte_offset", backlog.first_offset if backlog else 0),
            ("repl_backlog_histlen", backlog.histlen if backlog else 0),
        ]
        return lines

    def stats_fields(self) -> dict[str, object]:
        app = self.app
        primary = self.primary
        repl_in = self.link.input_bytes if self.link is not None else 0
        return {
            "total_net_input_bytes": app.net_input_bytes + repl_in,
            "total_net_repl_input_bytes": repl_in,
            "total_net_repl_output_bytes": primary.output_bytes,
            "sync_full": primary.sync_full,
            "sync_partial_ok": primary.sync_partial_ok,
            "sync_partial_err": primary.sync_partial_err,
        }

    def memory_fields(self) -> dict[str, object]:
        backlog = self.state.backlog
        held = backlog.allocated_bytes if backlog is not None else 0
        pending = sum(r.pending_bytes for r in self.primary.replicas.values())
        return {"mem_replication_backlog": held, "mem_total_replication_buffers": held + pending}


def _never_ready(ctx: CommandContext, key: bytes) -> Any:
    return NOT_READY  # WAIT is woken by ACKs, never by a key


def _peer_ip(addr: str) -> str:
    return addr.rsplit(":", 1)[0] if ":" in addr else addr


def _strtoll(raw: bytes) -> int | None:
    """getLongLongFromObject: a canonical integer (string2ll)."""
    return string2ll(raw)


INFO_PROVIDERS["replication"] = lambda app: replication_of(app).info_lines()
INFO_FIELDS.setdefault("stats", []).append(lambda app: replication_of(app).stats_fields())
INFO_FIELDS.setdefault("memory", []).append(lambda app: replication_of(app).memory_fields())

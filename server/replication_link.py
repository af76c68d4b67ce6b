"""The replica's side of the server: what its link to a primary asks of it (LinkHooks).

replication/replica.py moves the bytes; this module decides what they do here: a snapshot
replaces the dataset through server/durability.py (the AOF restarted around it), the stream
runs through dispatch as the primary's client (a client that never sees a key as expired:
the primary sends the DEL), and the applied bytes go on, verbatim, into our backlog and to
our own replicas. Between connections it keeps the "cached primary": the history, offset and
selected database to continue from with PSYNC.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, NamedTuple

from protocol.resp import RespError
from replication.handshake import HandshakeOptions
from replication.replica import PrimaryLink
from server.context import CommandContext
from server.durability import AOF_OFF, durability_of
from storage.clock import NEVER_EXPIRED

if TYPE_CHECKING:
    from server.replication import Replication

logger = logging.getLogger(__name__)


class CachedPrimary(NamedTuple):
    """What a replica remembers of its history to PSYNC (Redis's cached master)."""

    replid: str
    offset: int  # the last byte applied
    db: int  # the primary client's selected db (-1: the stream will start with SELECT)


class LinkSide:
    """The server's answers to its link to a primary, and what outlives one connection.

    Attributes:
        cached: the history to continue by PSYNC (None: ask for a full resync).
        client: the primary's client while the stream flows (CLIENT LIST flag M).
        down_since_s: when an established link was lost (INFO's
            master_link_down_since_seconds; None while up, or if never lost).
    """

    def __init__(self, repl: Replication) -> None:
        self.repl = repl
        self.cached: CachedPrimary | None = None
        self.client: CommandContext | None = None
        self.down_since_s: int | None = None
        self.stream_db = 0  # repl-stream-db of the last snapshot loaded
        self.restart_aof = False

    # --- LinkHooks ---

    def handshake_options(self) -> HandshakeOptions:
        repl = self.repl
        config = repl.config
        port = config["replica-announce-port"]
        if not port:
            bound = repl.app.bound.get("resp")
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
        self.repl.update_stale()

    def full_resync(self, replid: str, offset: int) -> None:
        """The primary chose a full resync; nothing to do until the snapshot is here."""

    async def load_snapshot(self, rdb: bytes | bytearray) -> bool:
        """replicationAttachToNewMaster, then load (readSyncBulkPayload)."""
        repl = self.repl
        self.cached = None
        # Our history ends: sub-replicas must resync with the new one.
        repl.primary.disconnect_all()
        repl.state.discard_backlog()
        durability = durability_of(repl.app)
        self.restart_aof = durability.aof_state != AOF_OFF
        if self.restart_aof:
            durability.stop_aof()
        result = await durability.load_replica_snapshot(rdb)
        if result is None:
            return False
        raw_db = result.aux.get(b"repl-stream-db", b"0")
        self.stream_db = int(raw_db) if raw_db.lstrip(b"-").isdigit() else 0
        return True

    def link_up(self, link: PrimaryLink, full: bool, replid: str | None) -> None:
        repl = self.repl
        app = repl.app
        state = repl.state
        if full:
            state.reset_to(replid or state.replid, link.offset)
            db = self.stream_db
            if self.restart_aof:
                self.restart_aof = False
                durability_of(app).start_aof()
        else:
            if replid is not None and replid != state.replid:
                logger.warning("Master replication ID changed to %s", replid)
                state.adopt_primary_id(replid)
                # Our sub-replicas must learn the new ID (they continue with ID2).
                repl.primary.disconnect_all()
            if state.backlog is None:
                state.create_backlog(new_history=False)
            cached = self.cached
            db = cached.db if cached is not None else 0
        self.cached = None
        self.down_since_s = None
        repl.mirror()
        dbs = app.keyspace.dbs
        ctx = app.new_client(f"{link.host}:{link.port}", "")
        app.connections_received -= 1  # our own connection, not an accepted one
        ctx.is_primary_link = True
        ctx.authenticated = True
        ctx.db = dbs[db] if 0 <= db < len(dbs) else dbs[0]
        ctx.kill = link.drop
        self.client = ctx

    def apply(self, argv: list[bytes]) -> bool:
        from server.dispatch import execute

        ctx = self.client
        if ctx is None:
            return True
        keyspace = self.repl.app.keyspace
        clock = keyspace.clock
        keyspace.clock = NEVER_EXPIRED
        try:
            reply = execute(ctx, argv)
        finally:
            keyspace.clock = clock
        if type(reply) is RespError:
            logger.debug("error applying a command from the master: %s", reply.text)
        return ctx.multi is None

    def applied(self, data: bytes) -> None:
        repl = self.repl
        repl.primary.feed(data)
        repl.mirror()

    def link_down(self, link: PrimaryLink) -> None:
        if link is not self.repl.link:
            return  # a link we stopped ourselves
        ctx = self.client
        if link.offset >= 0:
            db = ctx.db.index if ctx is not None else -1
            self.cached = CachedPrimary(self.repl.state.replid, link.offset, db)
        logger.info("Connection with master lost; caching the disconnected master state.")
        self.down_since_s = int(time.time())
        self.close_client()

    # --- for the role changes ---

    def link_stopped(self, link: PrimaryLink) -> None:
        """We close the link (REPLICAOF): its history stays cached for the next primary."""
        if link.up and link.offset >= 0 and self.client is not None:
            self.cached = CachedPrimary(self.repl.state.replid, link.offset, self.client.db.index)
        if link.up:
            self.down_since_s = int(time.time())
        self.close_client()

    def close_client(self) -> None:
        ctx = self.client
        self.client = None
        if ctx is not None and not ctx.closed:
            self.repl.app.client_closed(ctx)

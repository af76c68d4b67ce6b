"""The primary's side of replication: attached replicas, FULLRESYNC / CONTINUE, the stream.

Thin I/O. The decisions are elsewhere (state.py says whether a PSYNC may continue; the server
decides how the snapshot is made); this module keeps one `AttachedReplica` per replica
connection and moves bytes to it through the `ReplicaConnection` it is given:

* `+CONTINUE [<replid>]` and the backlog from the requested offset, then the stream;
* `+FULLRESYNC <replid> <offset>` when the snapshot is taken (not for legacy SYNC), then
  `$<len>\\r\\n<rdb>` (no trailing CRLF), then the stream from that offset;
* a newline once a second to replicas waiting for their snapshot (keep-alive), `PING` every
  `repl-ping-replica-period` and `REPLCONF GETACK *` in the stream, which count in offsets.

Strategy (the stream): every encoded effect is appended to the backlog (`ReplicationState`)
and queued for each replica; the queues are written once per event-loop iteration (Redis
writes replicas' buffers in beforeSleep), so a burst of writes costs one write(2) per
replica. A replica waiting for its snapshot queues the stream from the moment the snapshot
was taken and receives it right after the file; a replica still waiting for the snapshot to
start receives nothing (its history begins when the snapshot is taken).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from typing import Final, Protocol

from protocol.resp import encode_command
from replication.state import ReplicationState

logger = logging.getLogger(__name__)

PING_COMMAND: Final = encode_command([b"PING"])
GETACK_COMMAND: Final = encode_command([b"REPLCONF", b"GETACK", b"*"])


class ReplicaConnection(Protocol):
    """How the primary writes to one replica's connection (given by the server)."""

    def write(self, data: bytes) -> None:
        """Send raw bytes to the replica (its output buffer limit applies)."""

    def close(self) -> None:
        """Close the connection once what was written to it has gone out."""

    def abort(self) -> None:
        """Drop the connection now, discarding what it has not sent."""


class ReplicaState(enum.Enum):
    """A replica's progress (Redis's SLAVE_STATE_*)."""

    WAIT_BGSAVE_START = 1  # waiting for a snapshot to be started for it
    WAIT_BGSAVE_END = 2  # its snapshot is being made; its stream queues up
    SEND_BULK = 3  # the snapshot is being written to it
    ONLINE = 4
    RDB_TRANSMITTED = 5  # rdb-only: got its file, about to be closed

    @property
    def label(self) -> str:
        """The name INFO prints (replstateToString)."""
        return _LABELS[self]


_LABELS: Final = {
    ReplicaState.WAIT_BGSAVE_START: "wait_bgsave",
    ReplicaState.WAIT_BGSAVE_END: "wait_bgsave",
    ReplicaState.SEND_BULK: "send_bulk",
    ReplicaState.ONLINE: "online",
    ReplicaState.RDB_TRANSMITTED: "rdb_transmitted",
}


class AttachedReplica:
    """One replica connected to us (a client that sent SYNC or PSYNC).

    Attributes:
        client_id: its client's id (CLIENT LIST, CLIENT KILL).
        ip: the address it announced (REPLCONF ip-address), else its peer address.
        listening_port: what it announced with REPLCONF listening-port (0 if nothing).
        capa_psync2: it understands `+CONTINUE <replid>`.
        legacy: it used SYNC (no ACKs expected, no +FULLRESYNC line).
        rdb_only: it wants the snapshot only (closed after it).
        ack_offset / ack_time_s: its last REPLCONF ACK (unix seconds).
    """

    __slots__ = (
        "ack_offset",
        "ack_time_s",
        "capa_psync2",
        "client_id",
        "conn",
        "initial_offset",
        "ip",
        "legacy",
        "listening_port",
        "pending",
        "pending_bytes",
        "rdb_only",
        "state",
    )

    def __init__(
        self,
        conn: ReplicaConnection,
        client_id: int,
        *,
        ip: str,
        listening_port: int,
        capa_psync2: bool,
        legacy: bool = False,
        rdb_only: bool = False,
    ) -> None:
        self.conn = conn
        self.client_id = client_id
        self.ip = ip
        self.listening_port = listening_port
        self.capa_psync2 = capa_psync2
        self.legacy = legacy
        self.rdb_only = rdb_only
        self.state = ReplicaState.WAIT_BGSAVE_START
        self.ack_offset = 0
        self.ack_time_s = int(time.time())
        self.initial_offset = -1  # the offset of its snapshot
        self.pending: list[bytes] = []
        self.pending_bytes = 0

    @property
    def receives_stream(self) -> bool:
        """Whether stream bytes are queued for it now (canFeedReplicaReplBuffer)."""
        return not self.rdb_only and self.state in (
            ReplicaState.WAIT_BGSAVE_END,
            ReplicaState.SEND_BULK,
            ReplicaState.ONLINE,
        )


class Primary:
    """The replicas attached to this server and the bytes flowing to them."""

    def __init__(self, state: ReplicationState) -> None:
        self.state = state
        self.replicas: dict[int, AttachedReplica] = {}  # by client id, in attach order
        self._receivers: list[AttachedReplica] = []  # those that take the stream now
        self._flush_scheduled = False
        # The most a replica may have queued while it waits for its snapshot (the slave
        # class's hard output limit; 0: no limit).
        self.pending_limit_bytes = 0
        self.no_replicas_since_s = int(time.time())
        self.sync_full = 0
        self.sync_partial_ok = 0
        self.sync_partial_err = 0
        self.output_bytes = 0

    # --- attaching ---

    def attach(self, replica: AttachedReplica) -> None:
        self.replicas[replica.client_id] = replica
        self._update_receivers()

    def detach(self, client_id: int) -> AttachedReplica | None:
        """Forget a replica whose connection closed."""
        replica = self.replicas.pop(client_id, None)
        if replica is not None:
            self._update_receivers()
            if not self.replicas:
                self.no_replicas_since_s = int(time.time())
        return replica

    def _update_receivers(self) -> None:
        self._receivers = [r for r in self.replicas.values() if r.receives_stream]

    def continue_partial(self, replica: AttachedReplica, backlog_data: bytes) -> None:
        """+CONTINUE, then the backlog from the requested offset; the replica is online."""
        replica.state = ReplicaState.ONLINE
        replica.ack_time_s = int(time.time())
        self.attach(replica)
        if replica.capa_psync2:
            head = b"+CONTINUE %s\r\n" % self.state.replid.encode()
        else:
            head = b"+CONTINUE\r\n"
        self._write(replica, head + backlog_data)
        self.sync_partial_ok += 1

    def snapshot_taken(self, replica: AttachedReplica, offset: int) -> None:
        """The snapshot for `replica` reflects the stream up to `offset`: announce it
        (replicationSetupSlaveForFullResync) and queue the stream from here."""
        replica.initial_offset = offset
        replica.state = ReplicaState.WAIT_BGSAVE_END
        self._update_receivers()
        if not replica.legacy:
            line = b"+FULLRESYNC %s %d\r\n" % (self.state.replid.encode(), offset)
            self._write(replica, line)

    def snapshot_sending(self, replica: AttachedReplica) -> None:
        replica.state = ReplicaState.SEND_BULK

    def send_snapshot(self, replica: AttachedReplica, rdb: bytes) -> None:
        """Write a snapshot made in memory, then put the replica online."""
        replica.state = ReplicaState.SEND_BULK
        self._write(replica, b"$%d\r\n" % len(rdb) + rdb)
        logger.info(
            "Synchronization with replica %s:%d succeeded", replica.ip, replica.listening_port
        )
        self.snapshot_sent(replica)

    def snapshot_sent(self, replica: AttachedReplica) -> None:
        """The whole file went out: the queued stream follows, then the live one
        (replicaPutOnline + replicaStartCommandStream)."""
        if replica.rdb_only:
            replica.state = ReplicaState.RDB_TRANSMITTED
            self._update_receivers()
            replica.conn.close()
            return
        replica.state = ReplicaState.ONLINE
        replica.ack_time_s = int(time.time())
        self._update_receivers()
        if replica.pending:
            self._flush_one(replica)

    # --- the stream ---

    def feed(self, data: bytes) -> None:
        """Stream bytes: into the backlog and to every replica that takes the stream."""
        state = self.state
        backlog = state.backlog
        if backlog is not None:
            backlog.append(data)
            state.master_repl_offset += len(data)
        receivers = self._receivers
        if not receivers:
            return
        online = ReplicaState.ONLINE
        for replica in receivers:
            replica.pending.append(data)
            replica.pending_bytes += len(data)
            if replica.state is not online:
                self._check_pending(replica)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop (in-process tests): write at once
                self.flush()

    def _check_pending(self, replica: AttachedReplica) -> None:
        """A replica waiting for its snapshot may not queue more than the slave class's hard
        output limit (closeClientOnOutputBufferLimitReached)."""
        if self.pending_limit_bytes and replica.pending_bytes > self.pending_limit_bytes:
            logger.warning(
                "Client id=%d scheduled to be closed ASAP for overcoming of output buffer limits.",
                replica.client_id,
            )
            replica.pending.clear()
            replica.pending_bytes = 0
            replica.conn.abort()

    def flush(self) -> None:
        """Write every online replica's queue (once per loop iteration)."""
        self._flush_scheduled = False
        for replica in self._receivers:
            if replica.pending and replica.state is ReplicaState.ONLINE:
                self._flush_one(replica)

    def _flush_one(self, replica: AttachedReplica) -> None:
        pending = replica.pending
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        pending.clear()
        replica.pending_bytes = 0
        self._write(replica, data)

    def _write(self, replica: AttachedReplica, data: bytes) -> None:
        self.output_bytes += len(data)
        replica.conn.write(data)

    # --- periodic work ---

    def keepalive(self) -> None:
        """A newline to replicas waiting for their snapshot (it does not count in offsets)."""
        for replica in list(self.replicas.values()):
            if replica.state in (ReplicaState.WAIT_BGSAVE_START, ReplicaState.WAIT_BGSAVE_END):
                self._write(replica, b"\n")

    def timed_out(self, now_s: int, timeout_s: int) -> list[AttachedReplica]:
        """Online replicas (not legacy) whose last ACK is older than `timeout_s`."""
        return [
            r
            for r in self.replicas.values()
            if r.state is ReplicaState.ONLINE and not r.legacy and now_s - r.ack_time_s > timeout_s
        ]

    def online(self) -> list[AttachedReplica]:
        return [r for r in self.replicas.values() if r.state is ReplicaState.ONLINE]

    def count_acked(self, offset: int) -> int:
        """Online replicas whose ACK reached `offset` (replicationCountAcksByOffset)."""
        return sum(
            1
            for r in self.replicas.values()
            if r.state is ReplicaState.ONLINE and r.ack_offset >= offset
        )

    def count_good(self, now_s: int, max_lag_s: int) -> int:
        """Online replicas that acked within `max_lag_s` (refreshGoodSlavesCount)."""
        return sum(
            1
            for r in self.replicas.values()
            if r.state is ReplicaState.ONLINE and now_s - r.ack_time_s <= max_lag_s
        )

    def disconnect_all(self) -> None:
        """Close every replica (they reconnect and PSYNC: disconnectSlaves)."""
        for replica in list(self.replicas.values()):
            replica.conn.close()

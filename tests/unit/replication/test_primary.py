"""The primary's bookkeeping of attached replicas, with connections that record bytes."""

from __future__ import annotations

from replication.primary import AttachedReplica, Primary, ReplicaState
from replication.state import ReplicationState


def state_of(replica: AttachedReplica) -> ReplicaState:
    """Read through a call (mypy would narrow `replica.state` across method calls)."""
    return replica.state


def aborted(conn: Conn) -> bool:
    return conn.aborted


class Conn:
    def __init__(self) -> None:
        self.data = bytearray()
        self.closed = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        self.data += data

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True


def setup(**kwargs: object) -> tuple[Primary, AttachedReplica, Conn]:
    state = ReplicationState(1 << 20, replid="a" * 40)
    state.create_backlog(new_history=False)
    primary = Primary(state)
    conn = Conn()
    options: dict[str, object] = {"ip": "10.0.0.1", "listening_port": 6380, "capa_psync2": True}
    options.update(kwargs)
    replica = AttachedReplica(conn, 7, **options)  # type: ignore[arg-type]
    return primary, replica, conn


def test_a_full_resync_queues_the_stream_from_the_snapshot_on() -> None:
    primary, replica, conn = setup()
    primary.attach(replica)
    primary.feed(b"before-snapshot")  # not this replica's history: not queued
    assert state_of(replica) is ReplicaState.WAIT_BGSAVE_START
    primary.snapshot_taken(replica, primary.state.master_repl_offset)
    assert replica.state.label == "wait_bgsave"
    primary.feed(b"during-snapshot")
    assert bytes(conn.data) == b"+FULLRESYNC %s 15\r\n" % (b"a" * 40)
    primary.send_snapshot(replica, b"RDB")
    assert bytes(conn.data).endswith(b"$3\r\nRDBduring-snapshot")
    assert state_of(replica) is ReplicaState.ONLINE
    primary.feed(b"live")
    assert bytes(conn.data).endswith(b"during-snapshotlive")


def test_a_legacy_replica_gets_no_fullresync_line() -> None:
    primary, replica, conn = setup(legacy=True)
    primary.attach(replica)
    primary.snapshot_taken(replica, 0)
    primary.send_snapshot(replica, b"RDB")
    assert bytes(conn.data) == b"$3\r\nRDB"


def test_an_rdb_only_replica_is_closed_after_its_file_and_gets_no_stream() -> None:
    primary, replica, conn = setup(rdb_only=True)
    primary.attach(replica)
    primary.snapshot_taken(replica, 0)
    primary.feed(b"ignored")
    primary.send_snapshot(replica, b"RDB")
    assert conn.closed
    assert replica.state.label == "rdb_transmitted"
    assert b"ignored" not in conn.data


def test_continue_writes_the_backlog_then_the_stream() -> None:
    primary, replica, conn = setup()
    primary.continue_partial(replica, b"from-backlog")
    primary.feed(b"next")
    assert bytes(conn.data) == b"+CONTINUE %s\r\nfrom-backlognext" % (b"a" * 40)
    assert primary.sync_partial_ok == 1


def test_a_waiting_replica_over_the_output_limit_is_dropped() -> None:
    primary, replica, conn = setup()
    primary.pending_limit_bytes = 10
    primary.attach(replica)
    primary.snapshot_taken(replica, 0)
    primary.feed(b"12345")
    assert not aborted(conn)
    primary.feed(b"678901")
    assert aborted(conn)
    assert replica.pending == []


def test_keepalives_go_only_to_replicas_waiting_for_their_snapshot() -> None:
    primary, waiting, waiting_conn = setup()
    online = AttachedReplica(Conn(), 8, ip="x", listening_port=1, capa_psync2=True)
    primary.attach(waiting)
    primary.continue_partial(online, b"")
    before = bytes(online.conn.data)  # type: ignore[attr-defined]
    primary.keepalive()
    assert bytes(waiting_conn.data) == b"\n"
    assert bytes(online.conn.data) == before  # type: ignore[attr-defined]


def test_acks_counts_and_timeouts() -> None:
    primary, replica, _ = setup()
    primary.continue_partial(replica, b"")
    replica.ack_offset = 100
    replica.ack_time_s = 1000
    assert primary.count_acked(100) == 1
    assert primary.count_acked(101) == 0
    assert primary.count_good(1010, 10) == 1
    assert primary.count_good(1011, 10) == 0
    assert primary.timed_out(1061, 60) == [replica]
    assert primary.timed_out(1060, 60) == []
    legacy_primary, legacy, _ = setup(legacy=True)
    legacy_primary.continue_partial(legacy, b"")
    legacy.ack_time_s = 0
    assert legacy_primary.timed_out(10**9, 60) == []  # SYNC replicas never ACK


def test_detaching_the_last_replica_starts_the_backlog_ttl() -> None:
    primary, replica, _ = setup()
    primary.continue_partial(replica, b"")
    primary.no_replicas_since_s = 0
    assert primary.detach(7) is replica
    assert primary.no_replicas_since_s > 0
    assert primary.detach(7) is None

"""Replication in-process (no sockets): both ends of the stream, byte for byte.

The primary's side: PSYNC / SYNC from clients whose connection is a fake that records what is
written to it; the replica's side: a link that is never connected, fed the primary's bytes
directly, so offsets, MULTI boundaries and proxying to sub-replicas are checked exactly.
"""

from __future__ import annotations

from typing import Any

import pytest

from persistence.rdb import load_rdb
from protocol.resp import OK, RawReply, RespError, RESPParser, SimpleString, encode_command
from replication.replica import PrimaryLink
from server.context import NO_REPLY, CommandContext
from server.errors import (
    ERR_FILTERED_NEEDS_EOF,
    ERR_INVALID_MASTER_PORT,
    ERR_MASTERDOWN,
    ERR_NOMASTERLINK_SYNC,
    ERR_NOREPLICAS,
    ERR_NOT_INTEGER,
    ERR_READONLY,
    ERR_REPLICAOF_FROM_REPLICA,
    ERR_TIMEOUT_NEGATIVE,
    ERR_TIMEOUT_NOT_INTEGER,
    ERR_UNBLOCKED_ROLE_CHANGE,
    ERR_WAIT_ON_REPLICA,
)
from server.replication import Replication, replication_of
from storage.keyspace import Keyspace
from tests.support import Runner


class FakeTransport:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_write_buffer_size(self) -> int:
        return 0

    def write(self, data: bytes) -> None:
        raise AssertionError("replication writes through ctx.push")


class Peer:
    """A client of the in-process App whose connection records every byte sent to it."""

    def __init__(self, run: Runner) -> None:
        self.run = run
        self.ctx: CommandContext = run.client()
        self.transport = FakeTransport()
        self.ctx.transport = self.transport
        self.out = bytearray()
        self.ctx.push = self._push
        self.replies: list[Any] = []
        self.ctx.unblocked = self.replies.append

    def _push(self, value: Any) -> None:
        assert type(value) is RawReply
        self.out += value

    def __call__(self, *args: Any) -> Any:
        return self.run(*args, ctx=self.ctx)

    def take(self) -> bytes:
        data = bytes(self.out)
        self.out.clear()
        return data


def split_fullresync(data: bytes) -> tuple[str, int, bytes, bytes]:
    """+FULLRESYNC <id> <offset>\\r\\n$<len>\\r\\n<rdb><rest> -> (id, offset, rdb, rest)."""
    line, _, rest = data.partition(b"\r\n")
    words = line.split()
    assert words[0] == b"+FULLRESYNC"
    header, _, rest = rest.partition(b"\r\n")
    assert header.startswith(b"$")
    size = int(header[1:])
    return words[1].decode(), int(words[2]), rest[:size], rest[size:]


def commands(data: bytes) -> list[list[bytes]]:
    parser = RESPParser()
    parser.feed(data)
    out = []
    while (argv := parser.maybe_next_command()) is not None:
        out.append(argv)
    return out


def repl(run: Runner) -> Replication:
    return replication_of(run.app)


def info(run: Runner) -> dict[str, str]:
    lines = run("INFO", "replication").decode().split("\r\n")
    return dict(line.split(":", 1) for line in lines[1:] if ":" in line)


def attach(run: Runner) -> tuple[Peer, str]:
    """A replica doing a full resync; returns it (with its output consumed) and the replid."""
    peer = Peer(run)
    assert peer("REPLCONF", "listening-port", "7001") is OK
    assert peer("REPLCONF", "capa", "eof", "capa", "psync2") is OK
    assert peer("PSYNC", "?", "-1") is NO_REPLY
    replid, _, _, _ = split_fullresync(peer.take())
    return peer, replid


# --- a primary without replicas ---


def test_a_fresh_primary_s_role_and_info(run: Runner) -> None:
    assert run("ROLE") == [b"master", 0, []]
    fields = info(run)
    assert list(fields) == [
        "role",
        "connected_slaves",
        "master_failover_state",
        "master_replid",
        "master_replid2",
        "master_repl_offset",
        "second_repl_offset",
        "repl_backlog_active",
        "repl_backlog_size",
        "repl_backlog_first_byte_offset",
        "repl_backlog_histlen",
    ]
    assert fields["role"] == "master"
    assert fields["master_replid"] == run.app.replid
    assert fields["master_replid2"] == "0" * 40
    assert fields["second_repl_offset"] == "-1"


def test_writes_without_a_backlog_do_not_move_the_offset(run: Runner) -> None:
    run("SET", "k", "v")
    assert run("ROLE") == [b"master", 0, []]
    assert run("WAIT", "0", "0") == 0


# --- full and partial resynchronization (the primary's side) ---


def test_psync_full_resync_sends_a_loadable_snapshot_then_the_stream(run: Runner) -> None:
    run("SET", "before", "1")
    run("SELECT", "2")
    run("SET", "in2", "x")
    peer, replid = Peer(run), ""
    assert peer("PSYNC", "?", "-1") is NO_REPLY
    replid, offset, rdb, rest = split_fullresync(peer.take())
    assert (replid, offset, rest) == (run.app.replid, 0, b"")
    keyspace = Keyspace()
    load_rdb(rdb, keyspace)
    assert keyspace.dbs[0].get(b"before") == b"1"
    assert keyspace.dbs[2].get(b"in2") == b"x"
    assert peer.ctx.is_replica
    # The stream after the snapshot starts with SELECT for the db of the first effect.
    run("SET", "after", "2")
    assert commands(peer.take()) == [[b"SELECT", b"2"], [b"SET", b"after", b"2"]]
    assert run.app.master_repl_offset == info_offset(run)


def info_offset(run: Runner) -> int:
    return int(info(run)["master_repl_offset"])


def test_the_first_replica_creates_the_backlog_under_a_new_id(run: Runner) -> None:
    before = run.app.replid
    _, replid = attach(run)
    assert replid != before
    fields = info(run)
    assert fields["repl_backlog_active"] == "1"
    assert fields["repl_backlog_first_byte_offset"] == "1"
    assert fields["master_replid"] == replid


def test_psync_continue_sends_the_backlog_from_the_requested_offset(run: Runner) -> None:
    first, replid = attach(run)
    run("SET", "a", "1")
    run("SET", "b", "2")
    stream = first.take()
    a_end = len(encode_command([b"SELECT", b"0"]) + encode_command([b"SET", b"a", b"1"]))
    second = Peer(run)
    second("REPLCONF", "capa", "psync2")
    assert second("PSYNC", replid, str(a_end + 1)) is NO_REPLY
    assert second.take() == b"+CONTINUE %s\r\n" % replid.encode() + stream[a_end:]
    assert run("INFO", "stats").count(b"sync_partial_ok:1") == 1
    # Both replicas get what comes next.
    run("INCR", "n")
    assert first.take() == second.take() != b""


def test_a_replica_without_psync2_gets_a_bare_continue(run: Runner) -> None:
    _, replid = attach(run)
    peer = Peer(run)
    peer("PSYNC", replid, "1")
    assert peer.take() == b"+CONTINUE\r\n"


def test_an_offset_outside_the_backlog_gets_a_full_resync(run: Runner) -> None:
    _, replid = attach(run)
    run("SET", "k", "v")
    peer = Peer(run)
    peer("PSYNC", replid, "100000")
    assert peer.take().startswith(b"+FULLRESYNC " + replid.encode())
    stats = run("INFO", "stats")
    assert b"sync_partial_err:1" in stats
    assert b"sync_full:2" in stats


def test_psync_offset_must_be_an_integer(run: Runner) -> None:
    peer = Peer(run)
    assert peer("PSYNC", "?", "abc") == RespError(ERR_NOT_INTEGER)
    assert not peer.ctx.is_replica


def test_legacy_sync_has_no_fullresync_line(run: Runner) -> None:
    run("SET", "k", "v")
    peer = Peer(run)
    assert peer("SYNC") is NO_REPLY
    data = peer.take()
    assert data.startswith(b"$")
    header, _, rest = data.partition(b"\r\n")
    assert len(rest) == int(header[1:])
    # A second SYNC from a replica is ignored.
    assert peer("SYNC") is NO_REPLY
    assert peer.take() == b""


def test_rdb_only_clients_are_closed_after_the_file(run: Runner) -> None:
    peer = Peer(run)
    peer("REPLCONF", "rdb-only", "1")
    peer("SYNC")
    assert peer.take().startswith(b"$")
    assert peer.transport.closed


def test_a_filtered_snapshot_needs_the_eof_capability(run: Runner) -> None:
    run("SET", "k", "v")
    peer = Peer(run)
    peer("REPLCONF", "rdb-filter-only", "")
    assert peer("SYNC") == RespError(ERR_FILTERED_NEEDS_EOF)
    peer("REPLCONF", "capa", "eof")
    peer("SYNC")
    _header, _, rdb = peer.take().partition(b"\r\n")
    keyspace = Keyspace()
    load_rdb(rdb, keyspace)
    assert keyspace.dbs[0].size() == 0  # redis-cli --replica asks for no data


def test_keepalive_pings_and_timeouts(run: Runner) -> None:
    peer, _ = attach(run)
    r = repl(run)
    r._last_cron_s = 0
    r._cron_loops = 0
    r.cron()
    assert commands(peer.take()) == [[b"PING"]]
    # A replica that stops acknowledging for longer than repl-timeout is dropped.
    run("CONFIG", "SET", "repl-timeout", "1")
    killed: list[bool] = []
    peer.ctx.kill = lambda: killed.append(True)
    r.primary.replicas[peer.ctx.id].ack_time_s -= 5
    r._last_cron_s = 0
    r.cron()
    assert killed == [True]


# --- ACK, WAIT, ROLE ---


def test_acks_update_role_and_info(run: Runner) -> None:
    peer, _ = attach(run)
    run("SET", "k", "v")
    offset = run.app.master_repl_offset
    assert peer("REPLCONF", "ACK", str(offset)) is NO_REPLY
    assert peer("REPLCONF", "ACK", "1") is NO_REPLY  # never goes back
    assert run("ROLE") == [b"master", offset, [[b"127.0.0.1", b"7001", b"%d" % offset]]]
    assert f"slave0:ip=127.0.0.1,port=7001,state=online,offset={offset},lag=0" in info_lines(run)


def info_lines(run: Runner) -> list[str]:
    text: bytes = run("INFO", "replication")
    return text.decode().split("\r\n")


def test_wait_counts_replicas_that_acked_the_client_s_last_write(run: Runner) -> None:
    peer, _ = attach(run)
    writer = Peer(run)
    writer("SET", "k", "v")
    # Not yet acknowledged: the client waits, and every replica is asked for an ACK.
    assert writer("WAIT", "1", "0") is NO_REPLY
    assert commands(peer.take())[-1] == [b"REPLCONF", b"GETACK", b"*"]
    peer("REPLCONF", "ACK", str(writer.ctx.woff))
    assert writer.replies == [1]
    # A client whose last command came before any write needs nothing more.
    fresh = Peer(run)
    assert fresh("WAIT", "1", "0") == 1


def test_wait_times_out_with_the_count_reached(run: Runner) -> None:
    attach(run)
    writer = Peer(run)
    writer("SET", "k", "v")
    assert writer("WAIT", "1", "100") is NO_REPLY
    assert run.app.blocking.time_out(writer.ctx)
    assert writer.replies == [0]


def test_wait_inside_multi_does_not_block(run: Runner) -> None:
    attach(run)
    writer = Peer(run)
    writer("SET", "k", "v")
    writer("MULTI")
    writer("WAIT", "1", "0")
    assert writer("EXEC") == [0]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("x", "0"), ERR_NOT_INTEGER),
        (("0", "x"), ERR_TIMEOUT_NOT_INTEGER),
        (("0", "-1"), ERR_TIMEOUT_NEGATIVE),
    ],
)
def test_wait_argument_errors(run: Runner, args: tuple[str, str], error: str) -> None:
    assert run("WAIT", *args) == RespError(error)


# --- min-replicas-to-write ---


def test_writes_need_enough_good_replicas(run: Runner) -> None:
    repl(run)  # the server creates it at startup
    run("CONFIG", "SET", "min-replicas-to-write", "1")
    run("CONFIG", "SET", "min-replicas-max-lag", "10")
    assert run("SET", "k", "v") == RespError(ERR_NOREPLICAS)
    assert run("GET", "k") is None
    assert "min_slaves_good_slaves:0" in info_lines(run)
    peer, _ = attach(run)
    assert run("SET", "k", "v") is OK
    # Queued writes are refused at EXEC once the replica has gone stale.
    run("MULTI")
    run("SET", "k", "w")
    repl(run).primary.replicas[peer.ctx.id].ack_time_s -= 60
    repl(run)._refresh_good()
    assert run("EXEC") == RespError(
        "EXECABORT Transaction discarded because of: NOREPLICAS Not enough good replicas to write."
    )
    assert run("SET", "k", "w") == RespError(ERR_NOREPLICAS)
    # The limit off: writes go through.
    run("CONFIG", "SET", "min-replicas-to-write", "0")
    assert run("SET", "k", "w") is OK


# --- becoming a replica ---


def make_replica(run: Runner, port: int = 7000) -> Replication:
    assert run("REPLICAOF", "127.0.0.1", str(port)) is OK
    return repl(run)


def test_a_replica_s_role_and_info_while_its_link_is_down(run: Runner) -> None:
    make_replica(run)
    assert run("ROLE") == [b"slave", b"127.0.0.1", 7000, b"connect", -1]
    fields = info(run)
    assert list(fields)[:12] == [
        "role",
        "master_host",
        "master_port",
        "master_link_status",
        "master_last_io_seconds_ago",
        "master_sync_in_progress",
        "slave_read_repl_offset",
        "slave_repl_offset",
        "master_link_down_since_seconds",
        "slave_priority",
        "slave_read_only",
        "replica_announced",
    ]
    assert fields["master_link_status"] == "down"
    assert fields["master_link_down_since_seconds"] == "-1"
    assert run("CONFIG", "GET", "replicaof") == {b"replicaof": b"127.0.0.1 7000"}


def test_replicas_refuse_writes_and_serve_reads(run: Runner) -> None:
    run("SET", "k", "v")
    make_replica(run)
    assert run("SET", "k", "w") == RespError(ERR_READONLY)
    assert run("GET", "k") == b"v"
    assert run("WAIT", "0", "0") == RespError(ERR_WAIT_ON_REPLICA)
    run("CONFIG", "SET", "replica-read-only", "no")
    assert run("SET", "k", "w") is OK


def test_a_stale_replica_can_refuse_to_serve(run: Runner) -> None:
    make_replica(run)
    run("CONFIG", "SET", "replica-serve-stale-data", "no")
    assert run("GET", "k") == RespError(ERR_MASTERDOWN)
    assert run("INFO", "replication").startswith(b"# Replication")
    assert run("PING") == RespError(ERR_MASTERDOWN)
    run("MULTI")
    assert run("GET", "k") == RespError(ERR_MASTERDOWN)
    assert run("EXEC") == RespError("EXECABORT Transaction discarded because of previous errors.")
    run("CONFIG", "SET", "replica-serve-stale-data", "yes")
    assert run("GET", "k") is None


def test_sync_from_a_replica_without_a_link_is_refused(run: Runner) -> None:
    make_replica(run)
    peer = Peer(run)
    assert peer("PSYNC", "?", "-1") == RespError(ERR_NOMASTERLINK_SYNC)


def test_replicaof_the_same_primary_again(run: Runner) -> None:
    make_replica(run)
    assert run("REPLICAOF", "127.0.0.1", "7000") == SimpleString(
        b"OK Already connected to specified master"
    )
    assert run("SLAVEOF", "127.0.0.1", "7001") is OK
    assert run("ROLE")[2] == 7001


@pytest.mark.parametrize("port", ["abc", "-1", "65536", "1.5"])
def test_replicaof_port_errors(run: Runner, port: str) -> None:
    assert run("REPLICAOF", "127.0.0.1", port) == RespError(ERR_INVALID_MASTER_PORT)


def test_replicaof_no_one_on_a_primary_is_ok(run: Runner) -> None:
    replid = run.app.replid
    assert run("REPLICAOF", "NO", "ONE") is OK
    assert run.app.replid == replid


def test_a_replica_client_cannot_repoint_us(run: Runner) -> None:
    peer, _ = attach(run)
    assert peer("REPLICAOF", "127.0.0.1", "1") == RespError(ERR_REPLICAOF_FROM_REPLICA)


def test_blocked_clients_are_disconnected_when_we_become_a_replica(run: Runner) -> None:
    waiter = Peer(run)
    assert waiter("BLPOP", "list", "0") is NO_REPLY
    make_replica(run)
    assert waiter.replies == [RespError(ERR_UNBLOCKED_ROLE_CHANGE)]
    assert waiter.ctx.close_after_reply


def test_promotion_keeps_the_old_history_as_replid2(run: Runner) -> None:
    r = make_replica(run)
    link = connect(r, "a" * 40, 100)
    feed_stream(link, encode_command([b"SET", b"x", b"1"]))
    offset = 100 + len(encode_command([b"SET", b"x", b"1"]))
    assert run("REPLICAOF", "NO", "ONE") is OK
    fields = info(run)
    assert fields["master_replid2"] == "a" * 40
    assert fields["second_repl_offset"] == str(offset + 1)
    assert fields["master_replid"] != "a" * 40
    assert fields["master_repl_offset"] == str(offset)
    assert run("CONFIG", "GET", "replicaof") == {b"replicaof": b""}
    # Its writes start with SELECT (the continuing replicas' db is unknown).
    peer = Peer(run)
    peer("PSYNC", "a" * 40, str(offset + 1))
    run("SET", "y", "2")
    data = peer.take()
    assert data.startswith(b"+CONTINUE")
    assert commands(data.partition(b"\r\n")[2]) == [[b"SELECT", b"0"], [b"SET", b"y", b"2"]]


# --- the replica's side: applying the stream ---


def connect(r: Replication, replid: str, offset: int) -> PrimaryLink:
    """Bring the (never connected) link up as after a full resync at `offset`."""
    link = r.link
    assert link is not None
    link.offset = link.read_offset = offset
    link.up = True
    r.side.stream_db = 0
    r.side.link_up(link, True, replid)
    r.side.link_changed()
    return link


def feed_stream(link: PrimaryLink, data: bytes, chunk: int = 4096) -> None:
    parser = getattr(link, "_test_parser", None)
    if parser is None:
        parser = RESPParser()
        parser.from_primary = True
        link._test_parser = parser  # type: ignore[attr-defined]
        link._test_unapplied = bytearray()  # type: ignore[attr-defined]
    for i in range(0, len(data), chunk):
        link._apply_chunk(parser, link._test_unapplied, data[i : i + chunk])  # type: ignore[attr-defined]


@pytest.mark.parametrize("chunk", [1, 3, 4096])
def test_the_replica_applies_the_stream_and_counts_offsets_exactly(chunk: int) -> None:
    run = Runner([("save", [""])])
    r = make_replica(run)
    link = connect(r, "b" * 40, 1000)
    stream = (
        encode_command([b"SELECT", b"3"])
        + encode_command([b"SET", b"k", b"v"])
        + b"\n"  # a keep-alive newline counts like any byte
        + encode_command([b"PING"])
    )
    feed_stream(link, stream, chunk)
    assert link.offset == link.read_offset == 1000 + len(stream)
    assert run("ROLE") == [b"slave", b"127.0.0.1", 7000, b"connected", 1000 + len(stream)]
    run("SELECT", "3")
    assert run("GET", "k") == b"v"
    fields = info(run)
    assert fields["slave_repl_offset"] == fields["master_repl_offset"] == str(1000 + len(stream))
    assert fields["master_link_status"] == "up"
    assert fields["master_replid"] == "b" * 40


def test_the_offset_stays_at_multi_until_exec() -> None:
    run = Runner([("save", [""])])
    r = make_replica(run)
    link = connect(r, "b" * 40, 0)
    multi = encode_command([b"MULTI"]) + encode_command([b"SET", b"a", b"1"])
    feed_stream(link, multi)
    assert link.offset == 0
    assert link.read_offset == len(multi)
    assert run("GET", "a") is None
    feed_stream(link, encode_command([b"EXEC"]))
    assert link.offset == len(multi) + len(encode_command([b"EXEC"]))
    assert run("GET", "a") == b"1"


def test_getack_acknowledges_the_offset_before_it() -> None:
    run = Runner([("save", [""])])
    r = make_replica(run)
    link = connect(r, "b" * 40, 10)
    sent: list[bytes] = []
    link._write = sent.append  # type: ignore[method-assign,assignment]
    feed_stream(
        link, encode_command([b"SET", b"k", b"v"]) + encode_command([b"REPLCONF", b"GETACK", b"*"])
    )
    before = 10 + len(encode_command([b"SET", b"k", b"v"]))
    assert sent == [encode_command([b"REPLCONF", b"ACK", b"%d" % before])]


def test_the_primary_s_client_never_sees_keys_expire() -> None:
    run = Runner([("save", [""])])
    run.app.keyspace.dbs[0].set(b"gone", b"v", run.clock.ms - 1000)
    r = make_replica(run)
    link = connect(r, "b" * 40, 0)
    # Logically expired for clients, still stored until the primary's DEL arrives.
    assert run("GET", "gone") is None
    assert run("DBSIZE") == 1
    feed_stream(link, encode_command([b"SELECT", b"0"]) + encode_command([b"DEL", b"gone"]))
    assert run("DBSIZE") == 0


def test_sub_replicas_get_the_applied_bytes_verbatim() -> None:
    run = Runner([("save", [""])])
    r = make_replica(run)
    link = connect(r, "b" * 40, 0)
    sub = Peer(run)
    sub("REPLCONF", "capa", "psync2")
    sub("PSYNC", "b" * 40, "1")
    assert sub.take() == b"+CONTINUE %s\r\n" % (b"b" * 40)
    stream = encode_command([b"SELECT", b"0"]) + encode_command([b"MULTI"])
    feed_stream(link, stream)
    assert sub.take() == encode_command([b"SELECT", b"0"])  # up to the boundary only
    rest = encode_command([b"INCR", b"n"]) + encode_command([b"EXEC"])
    feed_stream(link, rest)
    assert sub.take() == encode_command([b"MULTI"]) + rest
    # The replica's own writes (replica-read-only no) reach nobody.
    run("CONFIG", "SET", "replica-read-only", "no")
    run("SET", "local", "1")
    assert sub.take() == b""
    assert run("GET", "n") == b"1"


def test_a_new_primary_id_on_continue_disconnects_sub_replicas() -> None:
    run = Runner([("save", [""])])
    r = make_replica(run)
    link = connect(r, "b" * 40, 50)
    sub = Peer(run)
    sub("PSYNC", "b" * 40, "51")
    r.side.link_up(link, False, "c" * 40)
    assert sub.transport.closed
    fields = info(run)
    assert (fields["master_replid"], fields["master_replid2"]) == ("c" * 40, "b" * 40)
    assert fields["second_repl_offset"] == "51"


def test_info_while_the_snapshot_is_transferred() -> None:
    from replication.handshake import NEED_DATA, HandshakeOptions, ReplicaHandshake

    run = Runner([("save", [""])])
    r = make_replica(run)
    link = r.link
    assert link is not None
    hs = link.handshake = ReplicaHandshake(HandshakeOptions(listening_port=1))
    hs.initiate()
    hs.receive_data(b"+PONG\r\n+OK\r\n+OK\r\n+FULLRESYNC %s 0\r\n$1000\r\n" % (b"f" * 40))
    hs.receive_data(b"x" * 250)
    while hs.next_event() is not NEED_DATA:
        pass
    assert hs.transfer_read == 250
    assert run("ROLE")[3] == b"sync"
    fields = info(run)
    assert fields["master_sync_in_progress"] == "1"
    assert fields["master_sync_total_bytes"] == "1000"
    assert fields["master_sync_read_bytes"] == "250"
    assert fields["master_sync_left_bytes"] == "750"
    assert fields["master_sync_perc"] == "25.00"
    assert "master_sync_last_io_seconds_ago" in fields


def test_the_backlog_is_freed_after_its_ttl_without_replicas(run: Runner) -> None:
    peer, replid = attach(run)
    r = repl(run)
    run("CONFIG", "SET", "repl-backlog-ttl", "10")
    run("CONFIG", "SET", "repl-backlog-size", "32kb")
    assert info(run)["repl_backlog_size"] == "32768"
    run.app.client_closed(peer.ctx)
    r._last_cron_s = 0
    r.cron()
    assert info(run)["repl_backlog_active"] == "1"  # not yet
    r.primary.no_replicas_since_s -= 11
    r._last_cron_s = 0
    r.cron()
    fields = info(run)
    assert fields["repl_backlog_active"] == "0"
    assert fields["master_replid"] != replid
    offset = int(fields["master_repl_offset"])
    run("SET", "k", "v")
    assert info_offset(run) == offset

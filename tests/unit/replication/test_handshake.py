"""The replica's handshake state machine, without sockets: the primary's side is scripted bytes.

The replies are those a real Redis 7.0.15 primary sends (shared/notes/redis-wire-formats.md
section 1), fed in chunks of every size so framing never depends on how TCP splits them.
"""

from __future__ import annotations

from typing import Any

import pytest

from protocol.resp import encode_command
from replication.handshake import (
    NEED_DATA,
    Continue,
    Failed,
    FullResync,
    HandshakeOptions,
    HandshakeState,
    ReplicaHandshake,
    Send,
    SnapshotData,
    SnapshotDone,
    TransferStarted,
)

REPLID = "cdfa79e12cc4041668e11d18f3ea8aec6b6660d8"
MARK = b"bc7fb2006a2922c43f36dc4c2ee7d889213a550f"
RDB = b"REDIS0009\xff" + bytes(8)
STREAM = encode_command([b"SELECT", b"0"]) + encode_command([b"SET", b"k", b"v"])

CHUNK_SIZES = [1, 2, 3, 7, 4096]


def state_of(hs: ReplicaHandshake) -> HandshakeState:
    """The state, read through a call (mypy would narrow `hs.state` across feeds)."""
    return hs.state


def drain(hs: ReplicaHandshake) -> list[Any]:
    out: list[Any] = []
    while True:
        event = hs.next_event()
        if event is NEED_DATA:
            return out
        out.append(event)


def feed(hs: ReplicaHandshake, data: bytes, chunk: int) -> list[Any]:
    events: list[Any] = []
    for i in range(0, len(data), chunk):
        hs.receive_data(data[i : i + chunk])
        events += drain(hs)
    return events


def merged(events: list[Any]) -> list[Any]:
    """Join consecutive SnapshotData events (their split depends on the chunk size)."""
    out: list[Any] = []
    for event in events:
        if isinstance(event, SnapshotData) and out and isinstance(out[-1], SnapshotData):
            out[-1] = SnapshotData(out[-1].data + event.data)
        else:
            out.append(event)
    return out


def sent(events: list[Any]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, Send))


def handshake(**options: Any) -> ReplicaHandshake:
    hs = ReplicaHandshake(HandshakeOptions(listening_port=6380, **options))
    assert state_of(hs) is HandshakeState.CONNECTING
    assert hs.initiate() == Send(encode_command([b"PING"]))
    assert state_of(hs) is HandshakeState.RECEIVE_PING_REPLY
    return hs


def replconfs(port: bytes = b"6380") -> bytes:
    return encode_command([b"REPLCONF", b"listening-port", port]) + encode_command(
        [b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]
    )


@pytest.mark.parametrize("chunk", CHUNK_SIZES)
def test_full_resync_with_a_sized_snapshot(chunk: int) -> None:
    hs = handshake()
    events = feed(hs, b"+PONG\r\n", chunk)
    assert sent(events) == replconfs()
    assert state_of(hs) is HandshakeState.RECEIVE_PORT_REPLY
    events = feed(hs, b"+OK\r\n+OK\r\n", chunk)
    assert sent(events) == encode_command([b"PSYNC", b"?", b"-1"])
    assert state_of(hs) is HandshakeState.RECEIVE_PSYNC_REPLY
    reply = b"\n\n+FULLRESYNC %s 1124\r\n\n\n$%d\r\n%s%s" % (REPLID.encode(), len(RDB), RDB, STREAM)
    events = merged(feed(hs, reply, chunk))
    assert events == [
        FullResync(REPLID, 1124),
        TransferStarted(len(RDB)),
        SnapshotData(RDB),
        SnapshotDone(),
    ]
    assert state_of(hs) is HandshakeState.STREAMING
    assert hs.trailing_data() == STREAM
    assert (hs.primary_replid, hs.initial_offset) == (REPLID, 1124)
    assert hs.transfer_read == hs.transfer_size == len(RDB)


@pytest.mark.parametrize("chunk", CHUNK_SIZES)
def test_full_resync_with_an_eof_marked_snapshot(chunk: int) -> None:
    hs = handshake()
    feed(hs, b"+PONG\r\n+OK\r\n+OK\r\n", chunk)
    body = RDB + b"x" * 100
    reply = b"+FULLRESYNC %s 0\r\n$EOF:%s\r\n%s%s" % (REPLID.encode(), MARK, body, MARK)
    events = merged(feed(hs, reply, chunk))
    assert events == [
        FullResync(REPLID, 0),
        TransferStarted(None),
        SnapshotData(body),
        SnapshotDone(),
    ]
    assert state_of(hs) is HandshakeState.STREAMING
    assert hs.transfer_size == len(body)


def test_the_eof_form_holds_back_what_may_be_the_mark() -> None:
    hs = handshake()
    feed(
        hs,
        b"+PONG\r\n+OK\r\n+OK\r\n+FULLRESYNC %s 0\r\n$EOF:%s\r\n" % (REPLID.encode(), MARK),
        4096,
    )
    body = RDB + b"y" * 100
    received = body + MARK[:20]
    events = feed(hs, received, 4096)
    # The last 40 bytes received could be the start of the mark: they are held back.
    assert merged(events) == [SnapshotData(received[:-40])]
    events = feed(hs, MARK[20:], 4096)
    assert events == [SnapshotData(body[len(received) - 40 :]), SnapshotDone()]
    assert hs.transfer_size == len(body)


@pytest.mark.parametrize("chunk", CHUNK_SIZES)
def test_partial_resync_names_the_primary_s_id(chunk: int) -> None:
    hs = handshake(psync_replid=REPLID, psync_offset=188)
    feed(hs, b"+PONG\r\n", chunk)
    events = feed(hs, b"+OK\r\n+OK\r\n", chunk)
    assert sent(events) == encode_command([b"PSYNC", REPLID.encode(), b"188"])
    new = "f" * 40
    events = feed(hs, b"+CONTINUE %s\r\n" % new.encode() + STREAM, chunk)
    assert events == [Continue(new)]
    assert state_of(hs) is HandshakeState.STREAMING
    assert hs.trailing_data() == STREAM


def test_a_bare_continue_names_no_id() -> None:
    hs = handshake(psync_replid=REPLID, psync_offset=5)
    feed(hs, b"+PONG\r\n+OK\r\n+OK\r\n", 4096)
    assert feed(hs, b"+CONTINUE\r\n", 4096) == [Continue(None)]


def test_auth_and_announced_ip_come_before_capa() -> None:
    hs = handshake(masterauth=b"secret", masteruser=b"repl", announce_ip="10.0.0.9")
    events = feed(hs, b"-NOAUTH Authentication required.\r\n", 4096)
    assert sent(events) == (
        encode_command([b"AUTH", b"repl", b"secret"])
        + encode_command([b"REPLCONF", b"listening-port", b"6380"])
        + encode_command([b"REPLCONF", b"ip-address", b"10.0.0.9"])
        + encode_command([b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"])
    )
    assert state_of(hs) is HandshakeState.RECEIVE_AUTH_REPLY
    feed(hs, b"+OK\r\n", 4096)
    assert state_of(hs) is HandshakeState.RECEIVE_PORT_REPLY
    feed(hs, b"+OK\r\n", 4096)
    assert state_of(hs) is HandshakeState.RECEIVE_IP_REPLY
    feed(hs, b"+OK\r\n", 4096)
    assert state_of(hs) is HandshakeState.RECEIVE_CAPA_REPLY
    events = feed(hs, b"+OK\r\n", 4096)
    assert sent(events) == encode_command([b"PSYNC", b"?", b"-1"])


def test_a_refused_auth_fails() -> None:
    hs = handshake(masterauth=b"wrong")
    feed(hs, b"+PONG\r\n", 4096)
    events = feed(hs, b"-WRONGPASS invalid username-password pair or user is disabled.\r\n", 4096)
    assert events == [
        Failed(
            "Unable to AUTH to MASTER: -WRONGPASS invalid username-password pair or user is "
            "disabled."
        )
    ]
    assert state_of(hs) is HandshakeState.FAILED
    assert feed(hs, b"+OK\r\n", 4096) == []


def test_errors_to_replconf_are_not_fatal() -> None:
    hs = handshake()
    feed(hs, b"+PONG\r\n", 4096)
    events = feed(hs, b"-ERR unknown command\r\n-ERR unknown command\r\n", 4096)
    assert sent(events) == encode_command([b"PSYNC", b"?", b"-1"])


def test_only_pong_or_an_auth_error_answers_ping() -> None:
    hs = handshake()
    events = feed(hs, b"-LOADING Redis is loading the dataset in memory\r\n", 4096)
    assert events == [
        Failed("Error reply to PING from master: '-LOADING Redis is loading the dataset in memory'")
    ]


@pytest.mark.parametrize("reply", [b"-NOMASTERLINK Can't SYNC while not connected", b"-LOADING x"])
def test_a_transient_psync_refusal_retries_later(reply: bytes) -> None:
    hs = handshake()
    feed(hs, b"+PONG\r\n+OK\r\n+OK\r\n", 4096)
    events = feed(hs, reply + b"\r\n", 4096)
    assert len(events) == 1
    assert isinstance(events[0], Failed)
    assert events[0].retry_later


def test_a_primary_without_psync_gets_sync() -> None:
    hs = handshake()
    feed(hs, b"+PONG\r\n+OK\r\n+OK\r\n", 4096)
    events = feed(hs, b"-ERR unknown command 'PSYNC'\r\n", 4096)
    assert events == [Send(b"SYNC\r\n"), FullResync("", -1)]
    events = merged(feed(hs, b"$%d\r\n%s" % (len(RDB), RDB), 4096))
    assert events == [TransferStarted(len(RDB)), SnapshotData(RDB), SnapshotDone()]


def test_a_malformed_fullresync_blanks_the_id() -> None:
    hs = handshake()
    feed(hs, b"+PONG\r\n+OK\r\n+OK\r\n", 4096)
    assert feed(hs, b"+FULLRESYNC short 10\r\n", 4096) == [FullResync("", -1)]


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (b"-ERR BGSAVE failed", "MASTER aborted replication with an error: -ERR BGSAVE failed"),
        (b"+what", "Bad protocol from MASTER, the first byte is not '$': +what"),
        (b"$abc", "Bad bulk length from MASTER: $abc"),
        (b"$-5", "Bad bulk length from MASTER: $-5"),
    ],
)
def test_a_bad_bulk_header_fails(header: bytes, reason: str) -> None:
    hs = handshake()
    feed(hs, b"+PONG\r\n+OK\r\n+OK\r\n+FULLRESYNC %s 0\r\n" % REPLID.encode(), 4096)
    assert feed(hs, header + b"\r\n", 4096) == [Failed(reason)]


def test_an_empty_snapshot_is_done_at_once() -> None:
    hs = handshake()
    events = feed(hs, b"+PONG\r\n+OK\r\n+OK\r\n+FULLRESYNC %s 0\r\n$0\r\n" % REPLID.encode(), 4096)
    assert events[-2:] == [TransferStarted(0), SnapshotDone()]


def test_a_reply_line_without_end_is_bounded() -> None:
    hs = handshake()
    events = feed(hs, b"+" + b"P" * 70000, 4096)
    assert events
    assert isinstance(events[-1], Failed)


def test_initiate_twice_is_a_bug() -> None:
    hs = handshake()
    with pytest.raises(RuntimeError):
        hs.initiate()


@pytest.mark.parametrize(
    ("state", "shown"),
    [
        (HandshakeState.CONNECTING, "connecting"),
        (HandshakeState.RECEIVE_PING_REPLY, "handshake"),
        (HandshakeState.RECEIVE_PSYNC_REPLY, "handshake"),
        (HandshakeState.RECEIVE_BULK_HEADER, "sync"),
        (HandshakeState.TRANSFER, "sync"),
        (HandshakeState.STREAMING, "connected"),
        (HandshakeState.FAILED, "connect"),
    ],
)
def test_role_shows_redis_s_state_names(state: HandshakeState, shown: str) -> None:
    assert state.role_state == shown

"""The memcached connection without sockets: a request that arrives alone, or a read of get
lines and plain sets only, skips the parser rounds (`MemcacheParser.lone_request`,
`plain_run`) and must be answered, counted and limited as in a batch; anything else is fed
to the parser."""

from __future__ import annotations

import pytest

from protocol.memcache import MemcacheParser
from server.memcache_connection import FLUSH_ENTRIES, SINGLE_WRITE_BYTES, MemcacheConnection
from server.memcache_state import service_for
from tests.support import Runner
from tests.unit.test_connection_batch import FakeTransport


def connect(run: Runner) -> tuple[MemcacheConnection, FakeTransport]:
    conn = MemcacheConnection(run.app, service_for(run.app))
    transport = FakeTransport()
    conn.connection_made(transport)  # type: ignore[arg-type]
    return conn, transport


def stats(conn: MemcacheConnection, transport: FakeTransport) -> dict[bytes, bytes]:
    transport.written.clear()
    conn.data_received(b"stats\r\n")
    lines = b"".join(transport.written).split(b"\r\n")
    return {line.split()[1]: line.split()[2] for line in lines if line.startswith(b"STAT ")}


def count_rounds(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """A list that gains an entry each time any parser is asked for its next request."""
    rounds: list[bytes] = []
    next_request = MemcacheParser.next_request

    def spy(self: MemcacheParser) -> object:
        rounds.append(b"round")
        return next_request(self)

    monkeypatch.setattr(MemcacheParser, "next_request", spy)
    return rounds


def test_a_lone_get_or_set_is_answered_without_a_parser_round(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = Runner()
    conn, transport = connect(run)
    rounds = count_rounds(monkeypatch)
    sent: list[bytes] = []

    def send(data: bytes) -> bytes:
        sent.append(data)
        transport.written.clear()
        conn.data_received(data)
        return b"".join(transport.written)

    assert send(b"set k 5 0 3\r\nabc\r\n") == b"STORED\r\n"
    assert send(b"get k missing\r\n") == b"VALUE k 5 3\r\nabc\r\nEND\r\n"
    assert send(b"set k 0 0 3\r\nabcXY") == b"CLIENT_ERROR bad data chunk\r\n"
    assert send(b"get " + b"k" * 251 + b"\r\n") == b"CLIENT_ERROR bad command line format\r\n"
    assert send(b"set n 9 0 2 noreply\r\nno\r\n") == b""  # pymemcache's default set
    assert send(b"get n\r\n") == b"VALUE n 9 2\r\nno\r\nEND\r\n"
    assert rounds == []
    assert conn.ctx is not None
    assert conn.ctx.state == "conn_waiting"
    # The same bytes in other shapes take the parser and get the same answers.
    assert send(b"get k\r\nget k\r\n") == b"VALUE k 5 3\r\nabc\r\nEND\r\n" * 2
    assert send(b"set k 7 0 2\r\n") == b""  # the data block has not come yet
    assert conn.ctx.state == "conn_nread"
    assert send(b"xy\r\n") == b"STORED\r\n"
    assert send(b"get  k\r\n") == b"VALUE k 7 2\r\nxy\r\nEND\r\n"
    assert len(rounds) > 0
    rounds.clear()
    counted = stats(conn, transport)
    assert counted[b"cmd_get"] == b"6"  # `get k missing` counts two
    assert counted[b"get_hits"] == b"5"
    assert counted[b"get_misses"] == b"1"
    assert counted[b"cmd_set"] == b"4"
    assert counted[b"bytes_read"] == b"%d" % (sum(map(len, sent)) + len(b"stats\r\n"))


def test_pipelined_gets_and_sets_are_answered_in_one_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A read holding only get lines and plain sets (what a client pipelining them sends) is
    read by `plain_run` and run without parser rounds: the replies, in order, and the
    statistics are those of the same bytes fed piece by piece. Past the reply budget the
    parser reads it."""
    run = Runner()
    conn, transport = connect(run)
    other, other_transport = connect(run)  # fed one byte at a time: the parser's answers
    rounds = count_rounds(monkeypatch)
    names = (b"cmd_get", b"get_hits", b"get_misses", b"cmd_set")
    before = stats(conn, transport)
    transport.written.clear()
    rounds.clear()
    data = (
        b"set a 3 0 1\r\nx\r\nget a\r\nset b 0 0 2\r\nyzXYget b missing a\r\n"
        b"get " + b"k" * 251 + b" a\r\nset a 0 0 2\r\nvw\r\nget a nothing\r\n"
        b"set c 7 0 1 noreply\r\nz\r\nset d 0 0 1 noreply\r\nzXYget c d\r\n"
    )
    conn.data_received(data)
    assert rounds == []
    assert b"".join(transport.written) == (
        b"STORED\r\nVALUE a 3 1\r\nx\r\nEND\r\n"
        b"CLIENT_ERROR bad data chunk\r\n"
        b"VALUE a 3 1\r\nx\r\nEND\r\n"  # the bad chunk stored nothing
        b"CLIENT_ERROR bad command line format\r\n"
        b"STORED\r\nVALUE a 0 2\r\nvw\r\nEND\r\n"
        b"VALUE c 7 1\r\nz\r\nEND\r\n"  # noreply: no STORED, and no error either
    )
    replies = b"".join(transport.written)
    middle = stats(conn, transport)
    run("FLUSHALL")
    for byte in range(len(data)):
        other.data_received(data[byte : byte + 1])
    assert rounds != []
    assert b"".join(other_transport.written) == replies
    after = stats(conn, transport)
    one_pass = [int(middle[name]) - int(before[name]) for name in names]
    fed = [int(after[name]) - int(middle[name]) for name in names]
    assert one_pass == fed == [8, 4, 4, 5]  # the too-long key's line counts no key
    rounds.clear()
    many = b"get a\r\n" * (FLUSH_ENTRIES // 4)  # over the budget: the parser reads it
    transport.written.clear()
    conn.data_received(many)
    assert rounds != []
    assert b"".join(transport.written) == b"VALUE a 0 2\r\nvw\r\nEND\r\n" * (FLUSH_ENTRIES // 4)


def test_a_lone_set_meets_the_item_size_limit_set_since_the_last_read() -> None:
    run = Runner()
    conn, transport = connect(run)
    value = b"x" * 1500
    conn.data_received(b"set k 0 0 1500\r\n" + value + b"\r\n")
    assert transport.written == [b"STORED\r\n"]
    run("CONFIG", "SET", "memcache-max-item-size", "1024")
    transport.written.clear()
    conn.data_received(b"set k 0 0 1500\r\n" + value + b"\r\n")
    assert transport.written == [b"SERVER_ERROR object too large for cache\r\n"]
    transport.written.clear()
    conn.data_received(b"get k\r\n")  # a failed set drops the old value, as memcached does
    assert transport.written == [b"END\r\n"]


def test_a_lone_request_waits_while_the_client_does_not_read() -> None:
    run = Runner()
    conn, transport = connect(run)
    other, other_transport = connect(run)
    conn.pause_writing()
    conn.data_received(b"set k 0 0 1\r\nv\r\n")
    conn.data_received(b"get k\r\n")
    assert transport.written == []
    other.data_received(b"get k\r\n")
    assert other_transport.written == [b"END\r\n"]  # the set has not run yet
    conn.resume_writing()
    assert b"".join(transport.written) == b"STORED\r\nVALUE k 0 1\r\nv\r\nEND\r\n"


def test_a_lone_get_of_a_large_item_is_written_by_reference() -> None:
    """Past SINGLE_WRITE_BYTES a reply is written from references, not joined into one
    copy, however few pieces it has."""
    run = Runner()
    run("CONFIG", "SET", "memcache-max-item-size", str(4 * 1024 * 1024))
    conn, transport = connect(run)
    value = bytes(range(256)) * (SINGLE_WRITE_BYTES // 256 + 1)
    conn.data_received(b"set k 0 0 %d\r\n%b\r\n" % (len(value), value))
    assert transport.written == [b"STORED\r\n"]
    transport.written.clear()
    conn.data_received(b"get k\r\n")
    assert len(transport.written) > 1
    stored = run.app.keyspace.dbs[0].get(b"k")
    assert any(piece is stored for piece in transport.written)  # not a copy
    assert b"".join(transport.written) == b"VALUE k 0 %d\r\n%b\r\nEND\r\n" % (len(value), value)
    counted = stats(conn, transport)
    assert counted[b"bytes_written"] == b"%d" % (
        len(b"STORED\r\nVALUE k 0 \r\n\r\nEND\r\n") + len(str(len(value))) + len(value)
    )


def _counters(conn: MemcacheConnection, transport: FakeTransport) -> dict[bytes, bytes]:
    """`stats` and `stats slabs` without what moves with time or differs per connection."""
    moving = (b"time", b"uptime", b"rusage_user", b"rusage_system", b"bytes_read")
    counted = {k: v for k, v in stats(conn, transport).items() if k not in moving}
    transport.written.clear()
    conn.data_received(b"stats slabs\r\n")
    for line in b"".join(transport.written).split(b"\r\n"):
        if line.startswith(b"STAT "):
            counted[line.split()[1]] = line.split()[2]
    return counted


def test_a_lone_request_is_answered_and_counted_as_the_parser_answers_it() -> None:
    """Each request sent alone takes `get_one` or `store_plain`; the same bytes sent one at a
    time take the parser's rounds. Replies, counters, slab counters and the access records
    (mg's h and l flags) must agree, for hits with and without flags, long values, misses,
    an expired key, a RESP value changed in place (a bytearray), a key of another type and
    too long a key."""
    requests = [
        b"set a 0 0 3\r\nabc\r\n",
        b"set f 42 0 2\r\nxy\r\n",
        b"set long 0 0 1500\r\n" + b"L" * 1500 + b"\r\n",
        b"set e 0 5 1\r\ne\r\n",
        b"set q 3 0 1 noreply\r\nq\r\n",
        b"set bad 0 0 1\r\nxyz",
        b"get a\r\n",
        b"get f\r\n",
        b"get long\r\n",
        b"get missing\r\n",
        b"get e\r\n",  # still there
        b"ADVANCE",
        b"get e\r\n",  # expired since
        b"get ranged\r\n",
        b"get list\r\n",
        b"get " + b"k" * 251 + b"\r\n",
        b"get q\r\n",
        b"mg a h l t\r\n",
        b"mg f h l t\r\n",
        b"mg never h l\r\n",
    ]
    answers = []
    counters = []
    for alone in (True, False):
        run = Runner()
        run("SET", "ranged", "abc")
        run("SETRANGE", "ranged", "1", "Z")  # a bytearray now
        run("RPUSH", "list", "x")
        conn, transport = connect(run)
        replies = []
        for request in requests:
            if request == b"ADVANCE":
                run.clock.advance(6000)
                continue
            transport.written.clear()
            if alone:
                conn.data_received(request)
            else:
                for i in range(len(request)):
                    conn.data_received(request[i : i + 1])
            replies.append(b"".join(transport.written))
        answers.append(replies)
        counters.append(_counters(conn, transport))
    assert answers[0] == answers[1]
    assert answers[0][6:11] == [
        b"VALUE a 0 3\r\nabc\r\nEND\r\n",
        b"VALUE f 42 2\r\nxy\r\nEND\r\n",
        b"VALUE long 0 1500\r\n" + b"L" * 1500 + b"\r\nEND\r\n",
        b"END\r\n",
        b"VALUE e 0 1\r\ne\r\nEND\r\n",
    ]
    assert answers[0][11:] == [
        b"END\r\n",
        b"VALUE ranged 0 3\r\naZc\r\nEND\r\n",
        b"END\r\n",
        b"CLIENT_ERROR bad command line format\r\n",
        b"VALUE q 3 1\r\nq\r\nEND\r\n",
        b"HD h1 l6 t-1\r\n",
        b"HD h1 l6 t-1\r\n",
        b"EN\r\n",
    ]
    assert counters[0] == counters[1]
    assert counters[0][b"get_expired"] == b"1"
    assert counters[0][b"get_misses"] == b"4"  # mg counts its miss too


class PausingTransport(FakeTransport):
    """Tells the protocol to stop writing once a write takes more than `limit` bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.protocol: MemcacheConnection | None = None

    def write(self, data: bytes) -> None:
        super().write(data)
        if len(data) > self.limit and self.protocol is not None:
            self.protocol.pause_writing()


def test_a_read_takes_the_one_pass_paths_only_when_nothing_comes_before_it() -> None:
    """A part of a request held by the parser, a data block awaited, credentials awaited, an
    outbox not yet written: each comes before the next read, which must not be answered
    ahead of it however much it looks like a lone get."""
    run = Runner()
    conn, transport = connect(run)

    def send(data: bytes) -> bytes:
        transport.written.clear()
        conn.data_received(data)
        return b"".join(transport.written)

    assert send(b"set k 0 0 7\r\n") == b""
    assert send(b"get k\r\n") == b""  # the data block, not a request
    assert send(b"\r\n") == b"STORED\r\n"
    assert send(b"get k\r\n") == b"VALUE k 0 7\r\nget k\r\n\r\nEND\r\n"
    assert send(b"stats") == b""
    assert send(b"get k\r\n") == b"ERROR\r\n"  # `statsget k`
    assert send(b"get k\r\n") == b"VALUE k 0 7\r\nget k\r\n\r\nEND\r\n"

    run("CONFIG", "SET", "memcache-max-item-size", str(2 * SINGLE_WRITE_BYTES))
    paused = PausingTransport(SINGLE_WRITE_BYTES)
    other = MemcacheConnection(run.app, service_for(run.app))
    other.connection_made(paused)  # type: ignore[arg-type]
    paused.protocol = other
    big = b"b" * (SINGLE_WRITE_BYTES + 1)
    other.data_received(b"set big 0 0 %d noreply\r\n%b\r\n" % (len(big), big))
    other.data_received(b"get big big\r\n")  # through the outbox, which the client stalls
    written = len(paused.written)
    other.data_received(b"get k\r\n")
    assert len(paused.written) == written  # waits behind the outbox
    paused.limit = 1 << 40
    other.resume_writing()
    assert b"".join(paused.written).endswith(b"END\r\nVALUE k 0 7\r\nget k\r\n\r\nEND\r\n")

    secured = Runner([("requirepass", ["secret"])])
    locked, locked_transport = connect(secured)
    locked.data_received(b"get k\r\n")
    assert locked_transport.written == [b"CLIENT_ERROR unauthenticated\r\n"]

"""A whole pipeline in one read, without sockets: the batch reader, dispatch's fast path and
the state changes inside a batch that must close it (MULTI, AUTH, CLIENT REPLY, MONITOR,
maxmemory, a parked client), plus the statistics the fast path keeps and the GC settings."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from protocol.resp import encode_command
from server import dispatch
from server.connection import RESPConnection
from server.serve import GC_THRESHOLDS, tune_gc
from tests.support import Runner


class FakeTransport:
    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closed = False

    def get_write_buffer_size(self) -> int:
        return 0

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> Any:
        return None

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def connect(run: Runner) -> tuple[RESPConnection, FakeTransport]:
    conn = RESPConnection(run.app)
    transport = FakeTransport()
    conn.connection_made(transport)  # type: ignore[arg-type]
    return conn, transport


def pipeline(conn: RESPConnection, transport: FakeTransport, *commands: list[bytes]) -> bytes:
    """Send every command in one read; return what the connection wrote."""
    transport.written.clear()
    conn.data_received(b"".join(encode_command(c) for c in commands))
    return b"".join(transport.written)


def test_a_pipeline_is_answered_in_one_write() -> None:
    run = Runner()
    conn, transport = connect(run)
    out = pipeline(conn, transport, *([[b"INCR", b"n"]] * 16))
    assert len(transport.written) == 1
    assert out == b"".join(b":%d\r\n" % i for i in range(1, 17))


def test_multi_inside_a_batch_queues_the_commands_after_it() -> None:
    run = Runner()
    conn, transport = connect(run)
    out = pipeline(
        conn,
        transport,
        [b"SET", b"a", b"1"],
        [b"MULTI"],
        [b"SET", b"b", b"2"],
        [b"GET", b"a"],
        [b"EXEC"],
        [b"GET", b"b"],
    )
    assert out == b"+OK\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n$1\r\n1\r\n$1\r\n2\r\n"


def test_auth_inside_a_batch_opens_the_commands_after_it() -> None:
    run = Runner([("requirepass", ["pw"])])
    conn, transport = connect(run)
    out = pipeline(
        conn,
        transport,
        [b"GET", b"k"],
        [b"AUTH", b"pw"],
        [b"SET", b"k", b"x" * 20000],  # over the unauthenticated bulk limit
        [b"STRLEN", b"k"],
    )
    assert out == b"-NOAUTH Authentication required.\r\n+OK\r\n+OK\r\n:20000\r\n"


def test_client_reply_off_inside_a_batch_silences_the_commands_after_it() -> None:
    run = Runner()
    conn, transport = connect(run)
    out = pipeline(
        conn,
        transport,
        [b"SET", b"a", b"1"],
        [b"CLIENT", b"REPLY", b"SKIP"],
        [b"SET", b"b", b"2"],
        [b"GET", b"b"],
        [b"CLIENT", b"REPLY", b"OFF"],
        [b"GET", b"a"],
        [b"CLIENT", b"REPLY", b"ON"],
        [b"GET", b"a"],
    )
    assert out == b"+OK\r\n$1\r\n2\r\n+OK\r\n$1\r\n1\r\n"


def test_a_monitor_started_between_batches_sees_the_next_batch() -> None:
    run = Runner()
    conn, transport = connect(run)
    monitor, monitor_transport = connect(run)
    pipeline(conn, transport, [b"SET", b"a", b"1"])
    pipeline(monitor, monitor_transport, [b"MONITOR"])
    monitor_transport.written.clear()
    pipeline(conn, transport, [b"SET", b"a", b"2"], [b"GET", b"a"])
    lines = b"".join(monitor_transport.written)
    assert b'"SET" "a" "2"' in lines
    assert b'"GET" "a"' in lines


def test_maxmemory_set_inside_a_batch_refuses_the_writes_after_it() -> None:
    run = Runner()
    conn, transport = connect(run)
    out = pipeline(
        conn,
        transport,
        [b"SET", b"a", b"x" * 1000],
        [b"CONFIG", b"SET", b"maxmemory", b"1"],
        [b"SET", b"b", b"1"],
        [b"GET", b"a"],
    )
    assert out.startswith(b"+OK\r\n+OK\r\n-OOM command not allowed")
    assert out.endswith(b"$1000\r\n" + b"x" * 1000 + b"\r\n")


async def test_a_parked_client_runs_the_rest_of_its_batch_once_served() -> None:
    run = Runner()
    conn, transport = connect(run)
    out = pipeline(conn, transport, [b"SET", b"a", b"1"], [b"BLPOP", b"l", b"0"], [b"GET", b"a"])
    assert out == b"+OK\r\n"
    assert run.app.blocked_clients == 1
    assert run("RPUSH", "l", "v") == 1
    assert transport.written[-1] == b"*2\r\n$1\r\nl\r\n$1\r\nv\r\n"
    conn._resume_after_block()  # what the loop runs next (call_soon)
    assert transport.written[-1] == b"$1\r\n1\r\n"


def test_the_fast_path_keeps_commandstats_and_slowlog() -> None:
    run = Runner()
    conn, transport = connect(run)
    pipeline(conn, transport, [b"CONFIG", b"SET", b"slowlog-log-slower-than", b"0"])
    pipeline(conn, transport, [b"CONFIG", b"RESETSTAT"])
    pipeline(conn, transport, *([[b"SET", b"k", b"v"]] * 3), [b"GET", b"k"], [b"HSET", b"h"])
    logged = [entry[3][0] for entry in run.app.slowlog]
    assert logged[:4] == [b"GET", b"SET", b"SET", b"SET"]  # newest first; HSET was rejected
    info = run("INFO", "commandstats").decode()
    assert "cmdstat_set:calls=3," in info
    assert "cmdstat_get:calls=1," in info
    assert "cmdstat_hset:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1," in info


def test_a_grown_container_is_repriced_before_used_memory_is_read() -> None:
    run = Runner()
    conn, transport = connect(run)
    pipeline(conn, transport, [b"RPUSH", b"l", b"x"])
    small = run.app.memory.used()
    pipeline(conn, transport, *([[b"RPUSH", b"l", b"y" * 100]] * 50))
    assert run.app.memory.used() - small >= 50 * 100


def test_tune_gc_delays_full_collections_and_freezes_startup_objects() -> None:
    before = gc.get_threshold()
    try:
        tune_gc()
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_lower_case_data_commands_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    run = Runner()
    conn, transport = connect(run)
    full_path: list[bytes] = []
    checked = dispatch._execute_checked

    def spy(ctx: Any, spec: Any, argv: list[bytes]) -> Any:
        full_path.append(argv[0])
        return checked(ctx, spec, argv)

    monkeypatch.setattr(dispatch, "_execute_checked", spy)
    out = pipeline(
        conn, transport, [b"set", b"k", b"v"], [b"get", b"k"], [b"GET", b"k"], [b"gEt", b"k"]
    )
    assert out == b"+OK\r\n" + b"$1\r\nv\r\n" * 3
    assert full_path == [b"gEt"]  # mixed case is looked up again in upper case


def test_errors_inside_a_fast_batch_keep_their_places() -> None:
    run = Runner()
    conn, transport = connect(run)
    out = pipeline(
        conn,
        transport,
        [b"SET", b"a", b"1"],
        [b"GET"],  # arity: the full path answers, the batch goes on
        [b"LPUSH", b"a", b"x"],  # WRONGTYPE from a fast-path handler
        [b"NOSUCH"],
        [b"INCR", b"a"],
        [b"SET", b"n", b"007"],
        [b"INCR", b"n"],  # leading zeros: not an integer for Redis
        [b"GET", b"a"],
    )
    assert out == (
        b"+OK\r\n"
        b"-ERR wrong number of arguments for 'get' command\r\n"
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
        b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n"
        b":2\r\n"
        b"+OK\r\n"
        b"-ERR value is not an integer or out of range\r\n"
        b"$1\r\n2\r\n"
    )


def test_a_fast_batch_sends_its_writes_in_pieces_that_keep_their_order() -> None:
    """The fast path keeps a batch's plain writes and sends them together; a rewritten
    write, an effect of another kind (a lazy-expiry DEL) and a command off the fast path
    send them first."""
    run = Runner()
    conn, transport = connect(run)
    run("SET", "gone", "x", "PX", "10")
    run.clock.advance(20)
    run.feed.clear()
    replies = pipeline(
        conn,
        transport,
        [b"SET", b"a", b"1"],
        [b"INCR", b"n"],
        [b"SET", b"e", b"1", b"PX", b"100000"],
        [b"GET", b"gone"],
        [b"SET", b"c", b"3"],
        [b"CLIENT", b"SETNAME", b"x"],
        [b"SET", b"d", b"4"],
    )
    assert replies == b"+OK\r\n:1\r\n+OK\r\n$-1\r\n+OK\r\n+OK\r\n+OK\r\n"
    deadline = b"%d" % (run.clock.now_ms() + 100000)
    assert run.feed == [
        encode_command([b"SET", b"a", b"1"]) + encode_command([b"INCR", b"n"]),
        encode_command([b"SET", b"e", b"1", b"PXAT", deadline]),  # a rewritten write
        encode_command([b"DEL", b"gone"]),
        encode_command([b"SET", b"c", b"3"]),
        encode_command([b"SET", b"d", b"4"]),
    ]


def test_a_blocked_client_served_inside_a_fast_batch_writes_after_the_push() -> None:
    async def scenario() -> None:  # a served client resumes through the running loop
        run = Runner()
        waiter, waiter_transport = connect(run)
        waiter.data_received(encode_command([b"BLPOP", b"q", b"0"]))
        assert waiter_transport.written == []  # parked
        conn, transport = connect(run)
        run("SET", "before", "1")  # the stream has selected db 0
        run.feed.clear()
        pipeline(
            conn, transport, [b"SET", b"a", b"1"], [b"LPUSH", b"q", b"x"], [b"SET", b"b", b"2"]
        )
        assert b"".join(waiter_transport.written) == b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n"
        assert b"".join(run.feed) == b"".join(
            encode_command(c)
            for c in (
                [b"SET", b"a", b"1"],
                [b"LPUSH", b"q", b"x"],
                [b"LPOP", b"q"],
                [b"SET", b"b", b"2"],
            )
        )

    asyncio.run(scenario())


def test_a_lone_request_is_answered_without_the_batch_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A request that arrives alone on the fast path runs straight from data_received;
    one the fast path cannot take, or that comes while the client waits, takes `_process`
    and is answered as in a batch."""

    async def scenario() -> None:  # a served client resumes through the running loop
        run = Runner()
        run("CONFIG", "RESETSTAT")  # commandstats live in the process-wide command table
        conn, transport = connect(run)
        batches: list[object] = []
        process = RESPConnection._process

        def spy(self: RESPConnection, *args: Any) -> None:
            batches.append(args[-1])  # the command handed over, or None for fed bytes
            process(self, *args)

        monkeypatch.setattr(RESPConnection, "_process", spy)

        def send(*argv: bytes) -> bytes:
            transport.written.clear()
            conn.data_received(encode_command(list(argv)))
            return b"".join(transport.written)

        assert send(b"SET", b"k", b"v") == b"+OK\r\n"
        assert send(b"GET", b"k") == b"$1\r\nv\r\n"
        assert send(b"LPUSH", b"k", b"x") == (
            b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
        )
        assert batches == []
        assert send(b"ECHO", b"hi") == b"$2\r\nhi\r\n"  # off the fast path
        assert batches == [[b"ECHO", b"hi"]]
        assert send(b"MULTI") == b"+OK\r\n"  # not plain: the full path, then the path closes
        assert send(b"GET", b"k") == b"+QUEUED\r\n"  # the fast path is closed in MULTI
        assert send(b"EXEC") == b"*1\r\n$1\r\nv\r\n"
        batches.clear()
        assert send(b"BLPOP", b"q", b"0") == b""  # parked
        assert send(b"GET", b"k") == b""  # waits in the parser behind BLPOP
        assert batches == [[b"BLPOP", b"q", b"0"], None]
        other, _ = connect(run)
        other.data_received(encode_command([b"RPUSH", b"q", b"a"]))
        for _ in range(100):  # the served client resumes on the next loop turns
            await asyncio.sleep(0)
            if len(transport.written) == 2:
                break
        assert transport.written == [b"*2\r\n$1\r\nq\r\n$1\r\na\r\n", b"$1\r\nv\r\n"]
        assert b"cmdstat_get:calls=3," in run("INFO", "commandstats")

    asyncio.run(scenario())


def test_lone_requests_see_what_other_clients_change_in_the_server() -> None:
    """Between lone requests a client's own half of the fast-path state stays in
    `ctx.fast_path`; the server's half (MONITOR, maxmemory, CLIENT PAUSE), which other
    clients change, is tested again for each request."""
    run = Runner()
    conn, transport = connect(run)
    other, _ = connect(run)

    def send(client: RESPConnection, *argv: bytes) -> None:
        client.data_received(encode_command(list(argv)))

    def lone(*argv: bytes) -> bytes:
        transport.written.clear()
        send(conn, *argv)
        return b"".join(transport.written)

    assert lone(b"SET", b"a", b"1") == b"+OK\r\n"
    assert lone(b"SET", b"a", b"2") == b"+OK\r\n"
    assert conn.ctx is not None
    assert conn.ctx.fast_path
    monitor, monitor_transport = connect(run)
    send(monitor, b"MONITOR")
    monitor_transport.written.clear()
    assert lone(b"SET", b"a", b"3") == b"+OK\r\n"
    assert b'"SET" "a" "3"' in b"".join(monitor_transport.written)
    monitor.connection_lost(None)
    assert lone(b"SET", b"a", b"4") == b"+OK\r\n"
    assert conn.ctx.fast_path  # the round through _process opened the path again
    send(other, b"CONFIG", b"SET", b"maxmemory", b"1")
    assert lone(b"SET", b"b", b"1").startswith(b"-OOM command not allowed")
    send(other, b"CONFIG", b"SET", b"maxmemory", b"0")
    assert lone(b"SET", b"b", b"1") == b"+OK\r\n"
    send(other, b"CLIENT", b"PAUSE", b"100000", b"WRITE")
    assert lone(b"SET", b"c", b"1") == b""  # held until the pause ends
    send(other, b"CLIENT", b"UNPAUSE")
    assert transport.written == [b"+OK\r\n"]
    assert run("GET", "c") == b"1"


_LONE_SEQUENCE = [
    [b"SET", b"a", b"1"],
    [b"INCR", b"a"],
    [b"EXPIRE", b"a", b"100"],  # rewritten for the stream: PEXPIREAT
    [b"GET", b"gone"],  # expired: a DEL is propagated before the reply
    [b"LPUSH", b"a", b"x"],  # WRONGTYPE
    [b"LPUSH", b"q", b"x"],  # serves the parked client: its LPOP follows the LPUSH
    [b"get", b"a"],
    [b"DEL", b"nothing"],  # nothing changed: nothing propagated
    [b"INCR", b"a"],
]


def _calls(info: bytes) -> dict[bytes, bytes]:
    """INFO commandstats as command -> calls."""
    return {
        line.split(b":")[0]: line.split(b"calls=")[1].split(b",")[0]
        for line in info.splitlines()
        if line.startswith(b"cmdstat_")
    }


def _one_by_one_or_batched(batched: bool) -> tuple[Any, ...]:
    """_LONE_SEQUENCE sent one request per read (`run_lone`) or in one read (`run_fast`):
    the replies, the parked client's, the write stream, the commandstats calls, the dirty
    count and the commands processed."""
    result: list[Any] = []

    async def scenario() -> None:
        run = Runner()
        run("CONFIG", "RESETSTAT")  # commandstats live in the process-wide command table
        run("SET", "gone", "x", "PX", "10")
        run.clock.advance(20)
        waiter, waiter_transport = connect(run)
        waiter.data_received(encode_command([b"BLPOP", b"q", b"0"]))
        conn, transport = connect(run)
        run.feed.clear()
        dirty = run.app.dirty
        processed = run.app.commands_processed
        if batched:
            conn.data_received(b"".join(map(encode_command, _LONE_SEQUENCE)))
        else:
            for argv in _LONE_SEQUENCE:
                conn.data_received(encode_command(argv))
        result.extend(
            [
                b"".join(transport.written),
                b"".join(waiter_transport.written),
                b"".join(run.feed),
                _calls(run("INFO", "commandstats")),
                run.app.dirty - dirty,
                run.app.commands_processed - processed,
            ]
        )

    asyncio.run(scenario())
    return tuple(result)


def test_a_lone_request_runs_as_it_runs_in_a_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """A request that came alone runs through `run_lone`, which repeats `run_fast`'s body
    for one command: the replies, the stream (a rewritten write, a lazy-expiry DEL, the
    write of a served client), the statistics and the dirty count are those of a batch."""
    lone_calls: list[bytes] = []
    run_lone = dispatch.run_lone

    def spy(ctx: Any, argv: list[bytes], out: list[bytes]) -> bool:
        ran = run_lone(ctx, argv, out)
        if ran:
            lone_calls.append(argv[0])
        return ran

    monkeypatch.setattr("server.connection.run_lone", spy)
    one_by_one = _one_by_one_or_batched(batched=False)
    assert lone_calls == [argv[0] for argv in _LONE_SEQUENCE]
    lone_calls.clear()
    batched = _one_by_one_or_batched(batched=True)
    assert lone_calls == []
    assert one_by_one == batched
    replies, served, stream, calls, dirty, processed = batched
    assert replies.startswith(b"+OK\r\n:2\r\n:1\r\n$-1\r\n-WRONGTYPE")
    assert served == b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n"
    for written in (b"PEXPIREAT", b"DEL\r\n$4\r\ngone", b"LPOP"):
        assert written in stream
    assert calls[b"cmdstat_incr"] == calls[b"cmdstat_get"] == b"2"
    assert dirty == 6
    assert processed == len(_LONE_SEQUENCE) + 1  # and the BLPOP served

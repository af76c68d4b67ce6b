"""Blocking commands over the wire with several real clients: fairness, timeouts, wake-ups,
disconnects, CLIENT UNBLOCK, pipelining behind a parked command."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import hiredis
import pytest
import redis

import server.commands  # noqa: F401  (the table, to know which commands this build has)
from protocol.resp import encode_command
from server.commands.table import COMMANDS
from tests.support import RawClient, ServerProcess, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def port(shared_server: ServerProcess) -> int:
    with RawClient(shared_server.port) as client:
        client.command("FLUSHALL")
    return shared_server.port


@pytest.fixture
def control(port: int) -> Iterator[redis.Redis]:
    client = redis.Redis(port=port, protocol=3)
    yield client
    client.close()


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=4) as executor:
        yield executor


class Conn(RawClient):
    """A raw connection that keeps one parser, so replies arriving together are not lost."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.reader = hiredis.Reader()

    def __enter__(self) -> Conn:
        return self

    def reply(self) -> Any:
        while (value := self.reader.gets()) is False:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.reader.feed(chunk)
        return value


def wire(*commands: tuple[Any, ...]) -> bytes:
    return b"".join(encode_command([str(a).encode() for a in cmd]) for cmd in commands)


def park(client: Conn, control: redis.Redis, *commands: tuple[Any, ...]) -> None:
    """Send a marker push and then `commands` in one write, and wait until the server ran
    the marker: the first command (next in the same request buffer) has then run too."""
    before = control.llen("parked")
    client.send_raw(wire(("RPUSH", "parked", "x"), *commands))
    wait_until(lambda: control.llen("parked") > before)
    assert client.reply() == before + 1


def wait_closed(sock: socket.socket) -> None:
    sock.settimeout(5)
    assert sock.recv(1) == b""


# --- fairness ---


def test_three_blocked_clients_are_served_in_arrival_order(port: int, control: redis.Redis) -> None:
    clients = [Conn(port) for _ in range(3)]
    try:
        for c in clients:
            park(c, control, ("BLPOP", "k", "0"))
        control.rpush("k", "1", "2", "3")
        assert [c.reply() for c in clients] == [[b"k", b"1"], [b"k", b"2"], [b"k", b"3"]]
        assert control.exists("k") == 0
    finally:
        for c in clients:
            c.close()


def test_one_push_serves_only_the_first_waiter(port: int, control: redis.Redis) -> None:
    with Conn(port) as first, Conn(port) as second:
        park(first, control, ("BRPOP", "k", "0"), ("PING",))
        park(second, control, ("BRPOP", "k", "0"), ("PING",))
        control.lpush("k", "only")
        assert first.reply() == [b"k", b"only"]
        assert first.reply() == b"PONG"
        control.lpush("k", "next")
        assert second.reply() == [b"k", b"next"]
        assert second.reply() == b"PONG"


# --- timeouts ---


@pytest.mark.parametrize("protocol", [2, 3])
def test_timeout_returns_after_the_timeout_and_well_before_a_second(
    port: int, protocol: int
) -> None:
    client = redis.Redis(port=port, protocol=protocol)
    try:
        started = time.monotonic()
        assert client.blpop(["nokey"], timeout=0.1) is None
        elapsed = time.monotonic() - started
        assert 0.1 <= elapsed < 1.0
    finally:
        client.close()


def test_timeout_reply_shapes_per_protocol(port: int) -> None:
    with RawClient(port) as c2, RawClient(port) as c3:
        c3.command("HELLO", "3")
        for cmd in [
            ("BLPOP", "nokey", "0.01"),
            ("BLMPOP", "0.01", "1", "nokey", "LEFT"),
            ("BLMOVE", "nokey", "d", "LEFT", "LEFT", "0.01"),
            ("BRPOPLPUSH", "nokey", "d", "0.01"),
        ]:
            assert c2.command(*cmd) == b"*-1\r\n"
            assert c3.command(*cmd) == b"_\r\n"


# --- wake-ups ---


def test_redis_py_blpop_is_woken_by_a_push(
    port: int, control: redis.Redis, pool: ThreadPoolExecutor
) -> None:
    client = redis.Redis(port=port, protocol=3)
    try:
        pipe = client.pipeline(transaction=False)
        pipe.rpush("parked", "x")
        pipe.blpop(["k"], 5)
        future = pool.submit(pipe.execute)
        wait_until(lambda: control.llen("parked") == 1)
        assert not future.done()
        control.rpush("k", "v")
        assert future.result(timeout=5) == [1, [b"k", b"v"]]
    finally:
        client.close()


def test_lmove_into_the_waited_key_wakes_the_client(port: int, control: redis.Redis) -> None:
    control.rpush("src", "1", "2")
    with Conn(port) as c:
        park(c, control, ("BLPOP", "dst", "0"))
        assert control.lmove("src", "dst", "LEFT", "RIGHT") == b"1"
        assert c.reply() == [b"dst", b"1"]
    assert control.lrange("src", 0, -1) == [b"2"]
    assert control.exists("dst") == 0


def test_blmove_served_feeds_the_next_waiter(port: int, control: redis.Redis) -> None:
    with Conn(port) as mover, Conn(port) as popper:
        park(mover, control, ("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"))
        park(popper, control, ("BLPOP", "dst", "0"))
        control.rpush("src", "a", "b")
        assert mover.reply() == b"b"
        assert popper.reply() == [b"dst", b"b"]
    assert control.lrange("src", 0, -1) == [b"a"]


@pytest.mark.skipif(b"MULTI" not in COMMANDS, reason="MULTI/EXEC is not on this branch yet")
def test_push_inside_multi_serves_after_exec_with_the_whole_transaction_visible(
    port: int, control: redis.Redis
) -> None:
    with Conn(port) as waiter, Conn(port) as writer:
        park(waiter, control, ("BLPOP", "k", "0"), ("GET", "flag"))
        writer.send_raw(wire(("MULTI",), ("RPUSH", "k", "v"), ("SET", "flag", "set"), ("EXEC",)))
        assert [writer.reply() for _ in range(4)] == [b"OK", b"QUEUED", b"QUEUED", [1, b"OK"]]
        assert waiter.reply() == [b"k", b"v"]
        # Its next command ran after the whole transaction.
        assert waiter.reply() == b"set"
    assert control.exists("k") == 0


# --- disconnects and CLIENT UNBLOCK ---


def test_a_client_that_disconnects_while_blocked_loses_nothing(
    port: int, control: redis.Redis
) -> None:
    with Conn(port) as gone, Conn(port) as stays:
        park(gone, control, ("BLPOP", "k", "0"))
        park(stays, control, ("BLPOP", "k", "0"))
        # Half-close, then wait for the server's close: it has dropped the client by then.
        gone.sock.shutdown(socket.SHUT_WR)
        wait_closed(gone.sock)
        control.rpush("k", "1", "2")
        assert stays.reply() == [b"k", b"1"]
    assert control.lrange("k", 0, -1) == [b"2"]


def test_client_unblock_timeout_and_error(port: int, control: redis.Redis) -> None:
    with Conn(port) as a, Conn(port) as b:
        a.send_raw(wire(("CLIENT", "ID")))
        b.send_raw(wire(("CLIENT", "ID")))
        a_id, b_id = a.reply(), b.reply()
        park(a, control, ("BLPOP", "k", "0"), ("PING",))
        park(b, control, ("BLMOVE", "k", "d", "LEFT", "LEFT", "0"), ("PING",))
        assert control.client_unblock(a_id) is True
        assert a.reply() is None
        assert a.reply() == b"PONG"
        assert control.client_unblock(b_id, error=True) is True
        error = b.reply()
        assert isinstance(error, hiredis.ReplyError)
        assert str(error) == "UNBLOCKED client unblocked via CLIENT UNBLOCK"
        assert b.reply() == b"PONG"
        assert control.client_unblock(a_id) is False
        # Nothing was taken for them.
        control.rpush("k", "v")
        assert control.lrange("k", 0, -1) == [b"v"]
        assert control.exists("d") == 0


def test_redis_py_sees_the_unblock_error(
    port: int, control: redis.Redis, pool: ThreadPoolExecutor
) -> None:
    client = redis.Redis(port=port, protocol=3)
    try:
        client_id = client.client_id()
        future = pool.submit(client.blpop, ["k"], 0)
        # 0 until the client is parked; then 1, and the wait ends with the error.
        wait_until(lambda: control.client_unblock(client_id, error=True))
        with pytest.raises(redis.ResponseError, match="UNBLOCKED client unblocked"):
            future.result(timeout=5)
    finally:
        client.close()


# --- pipelining behind a parked command ---


def test_pipelined_commands_wait_for_the_blocking_command(port: int, control: redis.Redis) -> None:
    with Conn(port) as c:
        park(c, control, ("BLPOP", "k", "0"), ("SET", "after", "1"), ("GET", "after"))
        # The commands behind the BLPOP have not run.
        assert control.get("after") is None
        control.rpush("k", "v")
        assert c.reply() == [b"k", b"v"]
        assert c.reply() == b"OK"
        assert c.reply() == b"1"
    assert control.get("after") == b"1"


def test_pipeline_after_a_timeout_resumes(port: int) -> None:
    with Conn(port) as c:
        c.send_raw(
            wire(("BLPOP", "nokey", "0.05"), ("PING",), ("BRPOP", "nokey", "0.01"), ("PING",))
        )
        assert [c.reply() for _ in range(4)] == [None, b"PONG", None, b"PONG"]


def test_commands_sent_while_parked_run_after_it(port: int, control: redis.Redis) -> None:
    with Conn(port) as c:
        park(c, control, ("BLPOP", "k", "0"))
        c.send_raw(wire(("RPUSH", "late", "x"), ("LLEN", "late")))
        assert control.exists("late") == 0
        control.rpush("k", "v")
        assert [c.reply() for _ in range(3)] == [[b"k", b"v"], 1, 1]

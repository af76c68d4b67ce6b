"""The connection's push path without sockets: frame order inside a client's own batch, and
the client-output-buffer-limit checks (hard at once, soft after its seconds, also from cron)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from protocol.resp import encode_command
from server import connection as connection_module
from server.connection import RESPConnection
from tests.support import Runner


class FakeTransport:
    """Keeps everything written as unsent, as if the peer never read."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.buffered = 0
        self.aborted = False

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def write(self, data: bytes) -> None:
        self.written.append(data)
        self.buffered += len(data)

    def is_closing(self) -> bool:
        return self.aborted

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        self.aborted = True

    def get_extra_info(self, name: str) -> Any:
        return None

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(connection_module, "monotonic", fake)
    return fake


def connect(run: Runner) -> tuple[RESPConnection, FakeTransport]:
    conn = RESPConnection(run.app)
    transport = FakeTransport()
    conn.connection_made(transport)  # type: ignore[arg-type]
    return conn, transport


def send(conn: RESPConnection, *argv: bytes) -> None:
    conn.data_received(encode_command(list(argv)))


def test_frames_pushed_during_the_own_batch_keep_their_place() -> None:
    run = Runner()
    conn, transport = connect(run)
    send(conn, b"HELLO", b"3")
    transport.written.clear()
    conn.data_received(
        encode_command([b"SUBSCRIBE", b"c"])
        + encode_command([b"SET", b"k", b"v"])
        + encode_command([b"PUBLISH", b"c", b"m"])
    )
    assert transport.written == [
        b">3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n"
        b"+OK\r\n"
        b">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n"
        b":1\r\n"
    ]


def test_messages_from_others_are_written_at_once() -> None:
    run = Runner()
    conn, transport = connect(run)
    send(conn, b"SUBSCRIBE", b"c")
    transport.written.clear()
    assert run("PUBLISH", "c", "hello") == 1
    assert transport.written == [b"*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$5\r\nhello\r\n"]


def test_hard_limit_cuts_a_subscriber_off_at_once(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    run = Runner([("client-output-buffer-limit", ["pubsub", "100", "0", "0"])])
    conn, transport = connect(run)
    send(conn, b"SUBSCRIBE", b"c")
    run("PUBLISH", "c", "small")
    assert not transport.is_closing()
    with caplog.at_level(logging.WARNING):
        run("PUBLISH", "c", "x" * 100)
    assert transport.is_closing()
    assert "scheduled to be closed ASAP for overcoming of output buffer limits" in caplog.text
    assert "sub=1" in caplog.text
    # Nothing more is written to a client being closed.
    written = len(transport.written)
    run("PUBLISH", "c", "more")
    assert len(transport.written) == written


def test_soft_limit_tolerates_its_seconds_then_cuts_off(clock: Clock) -> None:
    run = Runner([("client-output-buffer-limit", ["pubsub", "0", "100", "2"])])
    conn, transport = connect(run)
    send(conn, b"SUBSCRIBE", b"c")
    run("PUBLISH", "c", "x" * 200)  # over the soft limit: its clock starts
    assert not transport.is_closing()
    clock.now += 2.0
    run("PUBLISH", "c", "x")
    assert not transport.is_closing()
    clock.now += 0.5
    run("PUBLISH", "c", "x")
    assert transport.is_closing()


def test_soft_limit_is_enforced_by_cron_without_new_messages(clock: Clock) -> None:
    run = Runner([("client-output-buffer-limit", ["pubsub", "0", "100", "1"])])
    conn, transport = connect(run)
    send(conn, b"SUBSCRIBE", b"c")
    run("PUBLISH", "c", "x" * 200)
    assert run.app.soft_limited
    for hook in run.app.cron_hooks:
        hook()
    assert not transport.is_closing()
    clock.now += 1.5
    for hook in run.app.cron_hooks:
        hook()
    assert transport.is_closing()
    assert not run.app.soft_limited


def test_draining_below_the_soft_limit_resets_its_clock(clock: Clock) -> None:
    run = Runner([("client-output-buffer-limit", ["pubsub", "0", "100", "1"])])
    conn, transport = connect(run)
    send(conn, b"SUBSCRIBE", b"c")
    run("PUBLISH", "c", "x" * 200)
    clock.now += 0.5
    transport.buffered = 0  # the client caught up
    run("PUBLISH", "c", "x")
    assert not run.app.soft_limited
    clock.now += 5
    run("PUBLISH", "c", "x" * 200)  # over again: a new clock
    assert not transport.is_closing()


def test_pubsub_limits_do_not_apply_to_clients_without_subscriptions(clock: Clock) -> None:
    run = Runner([("client-output-buffer-limit", ["pubsub", "1000", "0", "0"])])
    conn, transport = connect(run)
    send(conn, b"SUBSCRIBE", b"c")
    send(conn, b"UNSUBSCRIBE")
    conn.push([b"x" * 100])  # under the pubsub limit either way
    assert not transport.is_closing()
    # A MONITOR-like push to a client that is not subscribed is judged by the normal class.
    conn.push([b"x" * 2000])
    assert not transport.is_closing()


def test_closing_forgets_the_client(clock: Clock) -> None:
    run = Runner([("client-output-buffer-limit", ["pubsub", "0", "100", "1"])])
    conn, _ = connect(run)
    send(conn, b"SUBSCRIBE", b"c")
    run("PUBLISH", "c", "x" * 200)
    conn.connection_lost(None)
    assert not run.app.soft_limited
    assert run("PUBLISH", "c", "x") == 0

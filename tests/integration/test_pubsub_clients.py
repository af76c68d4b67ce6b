"""Pub/sub, keyspace notifications and WATCH through redis-py, in RESP2 and RESP3, and the
pubsub output buffer limit cutting off a subscriber that stops reading."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from protocol.resp import encode_command
from tests.support import ServerProcess, start_duocache, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def events_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the module, publishing every keyspace event class (KEA plus n and m)."""
    proc = start_duocache(tmp_path_factory.mktemp("pubsub"), "--notify-keyspace-events", "KEAnm")
    yield proc
    proc.stop()


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def client(request: pytest.FixtureRequest, events_server: ServerProcess) -> Iterator[redis.Redis]:
    c = redis.Redis(port=events_server.port, protocol=request.param)
    yield c
    c.close()


@pytest.fixture
def other(events_server: ServerProcess) -> Iterator[redis.Redis]:
    c = redis.Redis(port=events_server.port, protocol=3)
    yield c
    c.close()


def next_message(pubsub: Any, timeout_s: float = 5.0) -> dict[str, Any]:
    """The next message (confirmations included) the PubSub object receives."""
    return wait_until(lambda: pubsub.get_message(timeout=0.05), timeout_s=timeout_s)  # type: ignore[no-any-return]


# --- pub/sub with redis-py's PubSub ---


def test_subscribe_and_receive(client: Any, other: Any) -> None:
    p = client.pubsub()
    p.subscribe("news.a", "news.b")
    assert next_message(p) == {
        "type": "subscribe",
        "pattern": None,
        "channel": b"news.a",
        "data": 1,
    }
    assert next_message(p) == {
        "type": "subscribe",
        "pattern": None,
        "channel": b"news.b",
        "data": 2,
    }
    assert other.publish("news.a", "hello") == 1
    assert next_message(p) == {
        "type": "message",
        "pattern": None,
        "channel": b"news.a",
        "data": b"hello",
    }
    assert other.pubsub_numsub("news.a", "news.b") == [(b"news.a", 1), (b"news.b", 1)]
    p.unsubscribe("news.a")
    assert next_message(p)["type"] == "unsubscribe"
    assert other.publish("news.a", "x") == 0
    p.close()
    wait_until(lambda: other.pubsub_numsub("news.b") == [(b"news.b", 0)])


def test_pattern_subscription(client: Any, other: Any) -> None:
    p = client.pubsub()
    p.psubscribe("orders.*")
    assert next_message(p)["type"] == "psubscribe"
    assert other.pubsub_numpat() == 1
    assert other.publish("orders.eu", "o1") == 1
    assert next_message(p) == {
        "type": "pmessage",
        "pattern": b"orders.*",
        "channel": b"orders.eu",
        "data": b"o1",
    }
    p.close()
    wait_until(lambda: other.pubsub_numpat() == 0)


def test_handler_callbacks_in_a_thread(client: Any, other: Any) -> None:
    got: list[bytes] = []
    p = client.pubsub()
    p.subscribe(**{"cb.chan": lambda message: got.append(message["data"])})
    thread = p.run_in_thread(sleep_time=0.01, daemon=True)
    try:
        wait_until(lambda: other.pubsub_numsub("cb.chan") == [(b"cb.chan", 1)])
        for i in range(5):
            other.publish("cb.chan", f"m{i}")
        wait_until(lambda: len(got) == 5)
        assert got == [b"m0", b"m1", b"m2", b"m3", b"m4"]
    finally:
        thread.stop()
        thread.join(5)
        p.close()


def test_sharded_pubsub(client: Any, other: Any) -> None:
    p = client.pubsub()
    p.ssubscribe("shard.a")
    assert next_message(p)["type"] == "ssubscribe"
    assert other.spublish("shard.a", "s") == 1
    message = next_message(p)
    assert (message["type"], message["channel"], message["data"]) == ("smessage", b"shard.a", b"s")
    p.close()


def test_resp2_subscriber_cannot_run_other_commands(events_server: ServerProcess) -> None:
    c: Any = redis.Redis(port=events_server.port, protocol=2, single_connection_client=True)
    try:
        c.execute_command("SUBSCRIBE", "locked")
        with pytest.raises(redis.ResponseError, match="only \\(P\\|S\\)SUBSCRIBE"):
            c.execute_command("GET", "k")
    finally:
        c.close()


def test_resp3_subscriber_can_run_other_commands(events_server: ServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", events_server.port), timeout=5) as s:
        s.sendall(
            encode_command([b"HELLO", b"3"])
            + encode_command([b"SUBSCRIBE", b"free"])
            + encode_command([b"SET", b"free-k", b"v"])
            + encode_command([b"GET", b"free-k"])
        )
        expected = b">3\r\n$9\r\nsubscribe\r\n$4\r\nfree\r\n:1\r\n+OK\r\n$1\r\nv\r\n"
        data = b""
        while not data.endswith(expected):
            chunk = s.recv(65536)
            assert chunk, data
            data += chunk


# --- keyspace notifications ---


def test_keyspace_and_keyevent_notifications(client: Any, other: Any) -> None:
    p = client.pubsub()
    p.psubscribe("__keyspace@0__:note.*", "__keyevent@0__:*")
    next_message(p)
    next_message(p)
    other.set("note.k", "v")
    seen = [(m["channel"], m["data"]) for m in (next_message(p) for _ in range(4))]
    assert seen == [
        (b"__keyspace@0__:note.k", b"new"),
        (b"__keyevent@0__:new", b"note.k"),
        (b"__keyspace@0__:note.k", b"set"),
        (b"__keyevent@0__:set", b"note.k"),
    ]
    other.delete("note.k")
    seen = [(m["channel"], m["data"]) for m in (next_message(p) for _ in range(2))]
    assert seen == [(b"__keyspace@0__:note.k", b"del"), (b"__keyevent@0__:del", b"note.k")]
    other.get("note.missing")
    seen = [(m["channel"], m["data"]) for m in (next_message(p) for _ in range(2))]
    assert seen == [
        (b"__keyspace@0__:note.missing", b"keymiss"),
        (b"__keyevent@0__:keymiss", b"note.missing"),
    ]
    p.close()


def test_expired_event_from_active_expiry(client: Any, other: Any) -> None:
    p = client.pubsub()
    p.subscribe("__keyevent@0__:expired")
    next_message(p)
    other.set("note.ttl", "v", px=50)
    # Nobody reads the key: the server's own expiry cycle must reclaim it and say so.
    message = next_message(p, timeout_s=10)
    assert (message["channel"], message["data"]) == (b"__keyevent@0__:expired", b"note.ttl")
    p.close()


# --- WATCH races ---


def test_watch_broken_by_another_client(client: Any, other: Any) -> None:
    client.set("w.k", "1")
    with client.pipeline() as pipe:
        pipe.watch("w.k")
        other.set("w.k", "2")
        pipe.multi()
        pipe.set("w.k", "3")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert client.get("w.k") == b"2"
    with client.pipeline() as pipe:
        pipe.watch("w.k")
        pipe.multi()
        pipe.set("w.k", "4")
        assert pipe.execute() == [True]
    assert client.get("w.k") == b"4"


def test_watched_key_that_expires_breaks_exec(client: Any, other: Any) -> None:
    client.set("w.ttl", "1", px=100)
    with client.pipeline() as pipe:
        pipe.watch("w.ttl")
        wait_until(lambda: other.exists("w.ttl") == 0)
        pipe.multi()
        pipe.set("w.ttl", "again")
        with pytest.raises(redis.WatchError):
            pipe.execute()


def test_flushall_breaks_watch(client: Any, other: Any) -> None:
    client.set("w.f", "1")
    with client.pipeline() as pipe:
        pipe.watch("w.f")
        other.flushall()
        pipe.multi()
        pipe.set("w.f", "2")
        with pytest.raises(redis.WatchError):
            pipe.execute()


def test_transaction_helper_retries_until_it_wins(client: Any, other: Any) -> None:
    client.set("w.counter", "0")
    attempts = []

    def bump(pipe: Any) -> None:
        value = int(pipe.get("w.counter"))
        attempts.append(value)
        if len(attempts) == 1:
            other.set("w.counter", "100")  # lose the first race
        pipe.multi()
        pipe.set("w.counter", str(value + 1))

    client.transaction(bump, "w.counter")
    assert attempts == [0, 100]
    assert client.get("w.counter") == b"101"


# --- the pubsub output buffer limit ---


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Subscribers may have 256 KiB unsent (hard limit), or 64 KiB for at most a second.

    The soft limit's timing is tested in-process (tests/unit/test_output_limits.py)."""
    proc = start_duocache(
        tmp_path_factory.mktemp("obuf"),
        "--client-output-buffer-limit",
        "pubsub",
        "256kb",
        "64kb",
        "1",
    )
    yield proc
    proc.stop()


def _slow_subscriber(port: int, channel: bytes) -> socket.socket:
    """A subscriber with a small receive window that never reads after subscribing."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    s.sendall(encode_command([b"SUBSCRIBE", channel]))
    confirmation = b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%b\r\n:1\r\n" % (len(channel), channel)
    data = b""
    while len(data) < len(confirmation):
        data += s.recv(len(confirmation) - len(data))
    assert data == confirmation
    return s


def _closed_by_server(s: socket.socket) -> bool:
    """Drain what the server had sent; True once it has closed the connection."""
    try:
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                return True
    except ConnectionResetError:
        return True


def test_hard_limit_cuts_off_a_subscriber_that_stops_reading(
    limited_server: ServerProcess,
) -> None:
    port = limited_server.port
    slow = _slow_subscriber(port, b"firehose")
    publisher = redis.Redis(port=port, protocol=3)
    bystander = redis.Redis(port=port, protocol=2)
    try:
        payload = b"x" * 32 * 1024
        sent = 0
        # Publish until the subscriber is gone; bounded well above what the socket buffers
        # and the limit together can hold.
        while publisher.pubsub_numsub("firehose") == [(b"firehose", 1)]:
            publisher.publish("firehose", payload)
            sent += 1
            assert sent < 2000, "the slow subscriber was never cut off"
            # Everyone else is still served while the subscriber is over its limit.
            assert bystander.ping() is True
        assert publisher.publish("firehose", payload) == 0
        assert bystander.set("after", "1") is True
        assert _closed_by_server(slow)
        wait_until(lambda: "for overcoming of output buffer limits" in limited_server.log())
    finally:
        slow.close()
        publisher.close()
        bystander.close()

"""Differential pub/sub: confirmations, messages as a second connection receives them, PUBSUB
replies and the subscribed-mode restriction, byte for byte against a real redis-server, in
RESP2 and RESP3.

Each scenario uses two connections per server (a subscriber and a publisher) and channel
names of its own; subscriptions are dropped explicitly at the end so the session-wide
servers are left clean for the next scenario.
"""

from __future__ import annotations

from collections.abc import Iterator

import hiredis
import pytest

from tests.differential import Differential, unordered
from tests.support import RawClient, RealServer, ServerProcess

pytestmark = pytest.mark.integration


def read_replies(client: RawClient, count: int) -> bytes:
    """The bytes of exactly `count` replies (push frames included)."""
    reader = hiredis.Reader()
    raw = b""
    got = 0
    while got < count:
        chunk = client.sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed after {raw!r}")
        raw += chunk
        reader.feed(chunk)
        while reader.gets() is not False:
            got += 1
    return raw


def split_frames(raw: bytes) -> list[bytes]:
    """Cut the bytes of several replies into one bytes object per reply."""
    frames = []
    reader = hiredis.Reader()
    start = 0
    for i in range(len(raw)):
        reader.feed(raw[i : i + 1])
        if reader.gets() is not False:
            frames.append(raw[start : i + 1])
            start = i + 1
    return frames


def _partly_sorted(raw: bytes, ordered: int) -> bytes:
    frames = split_frames(raw)
    return b"".join(frames[:ordered] + sorted(frames[ordered:]))


class PubSubDiff:
    """A subscriber and a publisher on each server, compared reply by reply."""

    def __init__(self, ours: int, theirs: int, resp3: bool) -> None:
        self.sub = Differential(ours, theirs, resp3=resp3)
        self.pub = Differential(ours, theirs, resp3=resp3)
        self.mismatches: list[str] = []

    def close(self) -> None:
        self.sub.close()
        self.pub.close()

    def _compare(self, label: str, ours: bytes, theirs: bytes) -> None:
        if ours != theirs:
            self.mismatches.append(f"{label}\n    duocache: {ours!r}\n    redis:    {theirs!r}")

    def on(
        self, side: Differential, *args: object, replies: int = 1, replies3: int | None = None
    ) -> None:
        """Send a command on `side` (sub or pub) and compare its replies: `replies` of them,
        or `replies3` in RESP3 when the count differs."""
        if side.resp3 and replies3 is not None:
            replies = replies3
        for client in (side.ours, side.theirs):
            client.send_raw(_encode(args))
        ours = read_replies(side.ours, replies)
        theirs = read_replies(side.theirs, replies)
        self._compare(" ".join(map(str, args)), ours, theirs)

    def received(self, count: int, ordered: int | None = None) -> None:
        """Compare the next `count` frames the subscriber was pushed. Redis delivers the
        messages of several matching patterns in its hash table's order: with `ordered`,
        only that many first frames are compared in order, the rest as a set."""
        ours = read_replies(self.sub.ours, count)
        theirs = read_replies(self.sub.theirs, count)
        if ordered is not None:
            ours = _partly_sorted(ours, ordered)
            theirs = _partly_sorted(theirs, ordered)
        self._compare(f"{count} pushed frame(s)", ours, theirs)

    def check(self) -> None:
        self.mismatches += self.sub.mismatches + self.pub.mismatches
        if self.mismatches:
            details = "\n".join(self.mismatches)
            raise AssertionError(f"{len(self.mismatches)} replies differ from Redis:\n{details}")


def _encode(args: tuple[object, ...]) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(parts)


@pytest.fixture(params=[False, True], ids=["resp2", "resp3"])
def ps(
    request: pytest.FixtureRequest, shared_server: ServerProcess, real_redis: RealServer
) -> Iterator[PubSubDiff]:
    d = PubSubDiff(shared_server.port, real_redis.port, resp3=request.param)
    yield d
    d.close()


def test_subscribe_publish_unsubscribe(ps: PubSubDiff) -> None:
    ps.on(ps.sub, "SUBSCRIBE", "t1.a", "t1.b", "t1.a", replies=3)
    ps.on(ps.pub, "PUBLISH", "t1.a", "hello")
    ps.received(1)
    ps.on(ps.pub, "PUBLISH", "t1.b", "")
    ps.received(1)
    ps.on(ps.pub, "PUBLISH", "t1.none", "x")
    ps.on(ps.pub, "PUBLISH", "t1.a", b"bin\x00\r\nary")
    ps.received(1)
    ps.on(ps.sub, "UNSUBSCRIBE", "t1.a", "t1.zzz", replies=2)
    ps.on(ps.pub, "PUBLISH", "t1.a", "gone")
    ps.on(ps.sub, "UNSUBSCRIBE", replies=1)
    ps.on(ps.sub, "UNSUBSCRIBE", replies=1)
    ps.on(ps.pub, "PUBLISH", "t1.b", "gone")
    ps.check()


def test_patterns(ps: PubSubDiff) -> None:
    ps.on(ps.sub, "PSUBSCRIBE", "t2.*", "t2.h?llo", "t2.[ab]x", replies=3)
    ps.on(ps.pub, "PUBSUB", "NUMPAT")
    ps.on(ps.pub, "PUBLISH", "t2.hello", "m1")
    ps.received(2, ordered=0)
    ps.on(ps.pub, "PUBLISH", "t2.bx", "m2")
    ps.received(2, ordered=0)
    ps.on(ps.pub, "PUBLISH", "t3.bx", "m3")
    ps.on(ps.sub, "SUBSCRIBE", "t2.bx", replies=1)
    ps.on(ps.pub, "PUBLISH", "t2.bx", "m4")
    # The channel's subscribers come first, then the patterns.
    ps.received(3, ordered=1)
    ps.on(ps.sub, "PUNSUBSCRIBE", "t2.*", replies=1)
    ps.on(ps.pub, "PUBLISH", "t2.bx", "m5")
    ps.received(2)
    # Patterns are dropped in subscription order when PUNSUBSCRIBE has no argument.
    ps.on(ps.sub, "PUNSUBSCRIBE", replies=2)
    ps.on(ps.sub, "PUNSUBSCRIBE", replies=1)
    ps.on(ps.sub, "UNSUBSCRIBE", replies=1)
    ps.on(ps.pub, "PUBSUB", "NUMPAT")
    ps.check()


def test_shard_channels(ps: PubSubDiff) -> None:
    ps.on(ps.sub, "SSUBSCRIBE", "t4.s", replies=1)
    ps.on(ps.sub, "SUBSCRIBE", "t4.c", replies=1)
    ps.on(ps.sub, "SSUBSCRIBE", "t4.s2", replies=1)
    ps.on(ps.pub, "SPUBLISH", "t4.s", "m")
    ps.received(1)
    ps.on(ps.pub, "PUBLISH", "t4.s", "not for shard subscribers")
    ps.on(ps.pub, "SPUBLISH", "t4.c", "not for classic subscribers")
    ps.on(ps.pub, "PUBSUB", "SHARDNUMSUB", "t4.s", "t4.c")
    ps.on(ps.pub, "PUBSUB", "SHARDCHANNELS", "t4.s")
    ps.on(ps.sub, "SUNSUBSCRIBE", "t4.s", replies=1)
    ps.on(ps.sub, "SUNSUBSCRIBE", replies=1)
    ps.on(ps.sub, "SUNSUBSCRIBE", replies=1)
    ps.on(ps.sub, "UNSUBSCRIBE", "t4.c", replies=1)
    ps.check()


def test_subscribed_mode_restrictions(ps: PubSubDiff) -> None:
    ps.on(ps.sub, "SUBSCRIBE", "t5.a", replies=1)
    # RESP2 refuses everything but the pub/sub commands, PING, QUIT and RESET; RESP3 does not.
    ps.on(ps.sub, "GET", "t5.k")
    ps.on(ps.sub, "SET", "t5.k", "v")
    ps.on(ps.sub, "PUBSUB", "NUMSUB", "t5.a")
    # In RESP3 the message to itself comes first, then PUBLISH's reply.
    ps.on(ps.sub, "PUBLISH", "t5.a", "to myself", replies3=2)
    ps.on(ps.sub, "PING")
    ps.on(ps.sub, "PING", "hi")
    ps.on(ps.sub, "MULTI")
    ps.on(ps.sub, "UNSUBSCRIBE", replies=1)
    ps.on(ps.sub, "GET", "t5.k")
    ps.on(ps.sub, "DEL", "t5.k")
    ps.check()


def test_reset_leaves_subscribed_mode(ps: PubSubDiff) -> None:
    ps.on(ps.sub, "SUBSCRIBE", "t7.a", replies=1)
    ps.on(ps.sub, "PSUBSCRIBE", "t7.*", replies=1)
    ps.on(ps.sub, "RESET")
    ps.on(ps.pub, "PUBLISH", "t7.a", "x")
    ps.on(ps.sub, "GET", "t7.k")
    ps.on(ps.pub, "PUBSUB", "NUMSUB", "t7.a")
    ps.check()


def test_pubsub_introspection(ps: PubSubDiff) -> None:
    ps.on(ps.sub, "SUBSCRIBE", "t8.x", "t8.y", "t8.news", replies=3)
    ps.pub.check(unordered("PUBSUB", "CHANNELS", "t8.*"))
    ps.pub.check(("PUBSUB", "CHANNELS", "t8.n*"))
    ps.pub.check(("PUBSUB", "CHANNELS", "t8.[xz]"))
    ps.pub.check(("PUBSUB", "NUMSUB", "t8.x", "t8.nope", "t8.x"))
    ps.pub.check(("PUBSUB", "NUMSUB"))
    ps.pub.check(("PUBSUB", "SHARDNUMSUB"))
    ps.pub.check(("PUBSUB", "SHARDCHANNELS", "t8.*"))
    ps.pub.check(("PUBSUB", "HELP"))
    ps.pub.check(("pubsub", "help"))
    ps.pub.check(("PUBSUB", "HELP", "x"))
    ps.pub.check(("PUBSUB", "CHANNELS", "a", "b"))
    ps.pub.check(("PUBSUB", "shardchannels", "a", "b"))
    ps.pub.check(("PUBSUB", "NUMPAT", "x"))
    ps.pub.check(("PUBSUB", "nosuch"))
    ps.pub.check(("PUBSUB",))
    ps.pub.check(("PUBLISH", "a"))
    ps.pub.check(("SPUBLISH", "a", "b", "c"))
    ps.pub.check(("SUBSCRIBE",))
    ps.pub.check(("PSUBSCRIBE",))
    ps.pub.check(("SSUBSCRIBE",))
    ps.on(ps.sub, "UNSUBSCRIBE", "t8.x", "t8.y", "t8.news", replies=3)
    ps.check()


def test_subscribe_inside_multi(ps: PubSubDiff) -> None:
    ps.on(ps.sub, "MULTI")
    ps.on(ps.sub, "SUBSCRIBE", "t9.a", "t9.b")
    ps.on(ps.sub, "SSUBSCRIBE", "t9.s")
    # EXEC's array counts two commands but carries the two confirmations, then the error
    # follows as if it were a reply of its own.
    ps.on(ps.sub, "EXEC", replies=2)
    ps.on(ps.pub, "PUBLISH", "t9.a", "x")
    ps.received(1)
    ps.on(ps.sub, "UNSUBSCRIBE", "t9.a", "t9.b", replies=2)
    ps.check()


def test_unsubscribing_without_subscriptions(ps: PubSubDiff) -> None:
    ps.on(ps.sub, "UNSUBSCRIBE", replies=1)
    ps.on(ps.sub, "PUNSUBSCRIBE", replies=1)
    ps.on(ps.sub, "SUNSUBSCRIBE", replies=1)
    ps.on(ps.sub, "UNSUBSCRIBE", "t10.a", "t10.b", replies=2)
    ps.on(ps.sub, "PUNSUBSCRIBE", "t10.*", replies=1)
    ps.on(ps.sub, "SUNSUBSCRIBE", "t10.s", replies=1)
    # Still not in subscribed mode: ordinary commands work.
    ps.on(ps.sub, "GET", "t10.k")
    ps.on(ps.sub, "PSUBSCRIBE", "t10.*", "t10.*", replies=2)
    ps.on(ps.sub, "SUBSCRIBE", "t10.x", replies=1)
    # A channel and a pattern that both match: two deliveries, PUBLISH counts both.
    ps.on(ps.pub, "PUBLISH", "t10.x", "both")
    ps.received(2, ordered=1)
    ps.on(ps.sub, "UNSUBSCRIBE", "t10.nope", replies=1)
    ps.on(ps.sub, "PUNSUBSCRIBE", "t10.nope", replies=1)
    ps.on(ps.sub, "SUNSUBSCRIBE", "t10.nope", replies=1)
    ps.on(ps.sub, "PUNSUBSCRIBE", replies=1)
    ps.on(ps.sub, "UNSUBSCRIBE", replies=1)
    ps.check()


@pytest.fixture
def notifying(shared_server: ServerProcess, real_redis: RealServer) -> Iterator[None]:
    for port in (shared_server.port, real_redis.port):
        with RawClient(port) as client:
            client.command("CONFIG", "SET", "notify-keyspace-events", "KEA")
    yield
    for port in (shared_server.port, real_redis.port):
        with RawClient(port) as client:
            client.command("CONFIG", "SET", "notify-keyspace-events", "")


def test_keyspace_events_as_messages_and_pushes(ps: PubSubDiff, notifying: None) -> None:
    ps.on(ps.sub, "SUBSCRIBE", "__keyspace@0__:t11.k", "__keyevent@0__:del", replies=2)
    ps.on(ps.sub, "PSUBSCRIBE", "__keyevent@0__:l*", replies=1)
    ps.on(ps.pub, "SET", "t11.k", "v")
    ps.received(1)
    ps.on(ps.pub, "RPUSH", "t11.l", "a")
    ps.on(ps.pub, "LPOP", "t11.l")
    ps.received(2)
    ps.on(ps.pub, "DEL", "t11.k")
    ps.received(2)
    # Named: without arguments Redis drops channels in its hash table's order.
    ps.on(ps.sub, "UNSUBSCRIBE", "__keyspace@0__:t11.k", "__keyevent@0__:del", replies=2)
    ps.on(ps.sub, "PUNSUBSCRIBE", replies=1)
    ps.check()

"""Differential tests of sentinel mode: a Duocache monitor and a real redis-sentinel 7.0
watch the same real redis-server group (and discover each other), and answer the same
commands. Errors and stable replies must be byte for byte equal; instance descriptions must
have the same fields in the same order, with only the values that legitimately differ
(times, run ids, the other monitor's port, replication offsets) normalized."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import hiredis
import pytest
from redis.sentinel import Sentinel as _Sentinel

from tests.sentinel_support import RealSentinel, RedisGroup, sentinel_conf, start_monitors
from tests.support import RawClient, ServerProcess, wait_until

# redis-py's Sentinel API is untyped.
Sentinel: Any = _Sentinel

pytestmark = pytest.mark.integration

# Values that change from one moment to the next, or name the other monitor.
_VOLATILE = {
    b"link-pending-commands",
    b"last-ping-sent",
    b"last-ok-ping-reply",
    b"last-ping-reply",
    b"info-refresh",
    b"role-reported-time",
    b"slave-repl-offset",
    b"last-hello-message",
}


class Pair:
    """The same group watched by both monitors: ours and redis-sentinel."""

    def __init__(self, group: RedisGroup, ours: ServerProcess, real: RealSentinel) -> None:
        self.group = group
        self.ours = ours
        self.real = real


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    base = tmp_path_factory.mktemp("sentinel-diff")
    group = RedisGroup(base / "redis", replicas=2)
    conf = sentinel_conf(group.primary.port)
    real = RealSentinel(base / "real", conf)
    (ours,) = start_monitors(base / "ours", conf, 1)
    p = Pair(group, ours, real)
    try:
        wait_until(lambda: _settled(p), timeout_s=20, interval_s=0.1)
        yield p
    finally:
        ours.stop()
        real.stop()
        group.stop()


def _call(port: int, *args: Any, resp3: bool = False) -> Any:
    with RawClient(port) as c:
        if resp3:
            c.command("HELLO", "3")
        raw = c.command(*args)
    reader = hiredis.Reader()
    reader.feed(raw)
    return reader.gets()


def _raw(port: int, *args: Any, resp3: bool = False) -> bytes:
    with RawClient(port) as c:
        if resp3:
            c.command("HELLO", "3")
        return c.command(*args)


def _pairs(reply: Any) -> list[tuple[bytes, bytes]]:
    """A description as (field, value) pairs, from a RESP2 flat array or a RESP3 map."""
    if isinstance(reply, dict):
        return list(reply.items())
    return [(reply[i], reply[i + 1]) for i in range(0, len(reply), 2)]


def _settled(p: Pair) -> bool:
    for port in (p.ours.port, p.real.port):
        master = dict(_pairs(_call(port, "SENTINEL", "MASTER", "mymaster")))
        if master[b"num-slaves"] != b"2" or master[b"num-other-sentinels"] != b"1":
            return False
        if master[b"flags"] != b"master":
            return False
        for replica in _call(port, "SENTINEL", "REPLICAS", "mymaster"):
            fields = dict(_pairs(replica))
            if fields[b"flags"] != b"slave" or fields[b"master-link-status"] != b"ok":
                return False
            if fields[b"master-link-down-time"] != b"0":
                return False
        for peer in _call(port, "SENTINEL", "SENTINELS", "mymaster"):
            if dict(_pairs(peer))[b"flags"] != b"sentinel":
                return False
    return True


def _normalized(reply: Any, peer: bool = False) -> list[tuple[bytes, bytes]]:
    out = []
    for field, value in _pairs(reply):
        if field in _VOLATILE:
            value = b"<n>" if value.lstrip(b"-").isdigit() else value
        elif field == b"runid":
            value = b"<runid>" if len(value) == 40 else value
        elif peer and field in (b"name", b"port"):
            value = b"<peer>"
        out.append((field, value))
    return out


@pytest.mark.parametrize("resp3", [False, True])
def test_instance_descriptions_match(pair: Pair, resp3: bool) -> None:
    for args in (("SENTINEL", "MASTERS"), ("SENTINEL", "MASTER", "mymaster")):
        ours = _call(pair.ours.port, *args, resp3=resp3)
        real = _call(pair.real.port, *args, resp3=resp3)
        assert type(ours) is type(real), args
        if args[1] == "MASTERS":
            assert len(ours) == len(real) == 1
            ours, real = ours[0], real[0]
            assert type(ours) is type(real)
        assert _normalized(ours) == _normalized(real), args
    for sub in ("REPLICAS", "SLAVES"):
        ours_list = _call(pair.ours.port, "SENTINEL", sub, "mymaster", resp3=resp3)
        real_list = _call(pair.real.port, "SENTINEL", sub, "mymaster", resp3=resp3)
        assert len(ours_list) == len(real_list) == 2
        assert all(type(o) is type(r) for o, r in zip(ours_list, real_list, strict=True))
        ours_sorted = sorted(_normalized(x) for x in ours_list)
        real_sorted = sorted(_normalized(x) for x in real_list)
        assert ours_sorted == real_sorted
    # Each sees the other as its one peer, described with the same fields.
    ours_peers = _call(pair.ours.port, "SENTINEL", "SENTINELS", "mymaster", resp3=resp3)
    real_peers = _call(pair.real.port, "SENTINEL", "SENTINELS", "mymaster", resp3=resp3)
    assert len(ours_peers) == len(real_peers) == 1
    assert _normalized(ours_peers[0], peer=True) == _normalized(real_peers[0], peer=True)
    assert dict(_pairs(ours_peers[0]))[b"port"] == str(pair.real.port).encode()
    assert dict(_pairs(real_peers[0]))[b"port"] == str(pair.ours.port).encode()


SAME_BYTES: list[tuple[Any, ...]] = [
    ("PING",),
    ("ROLE",),
    ("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"),
    ("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "nope"),
    ("SENTINEL", "MASTER", "nope"),
    ("SENTINEL", "REPLICAS", "nope"),
    ("SENTINEL", "SLAVES", "nope"),
    ("SENTINEL", "SENTINELS", "nope"),
    ("SENTINEL", "CKQUORUM", "nope"),
    ("SENTINEL", "CKQUORUM", "mymaster"),
    ("SENTINEL", "FAILOVER", "nope"),
    ("SENTINEL", "REMOVE", "nope"),
    ("SENTINEL", "RESET", "nomatch"),
    ("SENTINEL",),
    ("SENTINEL", "MASTERS", "x"),
    ("SENTINEL", "MASTER"),
    ("SENTINEL", "FOO"),
    ("SENTINEL", "HELP"),
    ("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "x", "0", "*"),
    ("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "1", "x", "*"),
    ("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "1", "0", "*"),
    ("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "1", "0"),
    ("SENTINEL", "MONITOR", "m2", "127.0.0.1", "7000", "x"),
    ("SENTINEL", "MONITOR", "m2", "127.0.0.1", "x", "2"),
    ("SENTINEL", "MONITOR", "m2", "127.0.0.1", "7000", "0"),
    ("SENTINEL", "MONITOR", "m2", "localhost", "7000", "2"),
    ("SENTINEL", "MONITOR", "m2", "127.0.0.1", "70000", "2"),
    ("SENTINEL", "MONITOR", "mymaster", "127.0.0.1", "7000", "2"),
    ("SENTINEL", "MONITOR", "m2", "127.0.0.1", "7000"),
    ("SENTINEL", "SET", "mymaster", "foo", "1"),
    ("SENTINEL", "SET", "mymaster", "quorum", "0"),
    ("SENTINEL", "SET", "mymaster", "down-after-milliseconds", "abc"),
    ("SENTINEL", "SET", "mymaster", "quorum"),
    ("SENTINEL", "SET", "nope", "quorum", "1"),
    ("SENTINEL", "SET", "mymaster", "notification-script", "/bin/true"),
    ("SENTINEL", "CONFIG", "GET", "*"),
    ("SENTINEL", "CONFIG", "GET", "announce-*"),
    ("SENTINEL", "CONFIG", "GET", "nomatch"),
    ("SENTINEL", "CONFIG", "SET", "foo", "bar"),
    ("SENTINEL", "CONFIG", "SET", "announce-port", "abc"),
    ("SENTINEL", "CONFIG", "SET", "resolve-hostnames", "maybe"),
    ("SENTINEL", "CONFIG", "FOO", "x"),
    ("SENTINEL", "CONFIG"),
    ("SENTINEL", "DEBUG"),
    ("SENTINEL", "DEBUG", "foo"),
    ("SENTINEL", "DEBUG", "ping-period", "x"),
    ("SENTINEL", "DEBUG", "ping-period", "0"),
    ("SENTINEL", "SIMULATE-FAILURE", "help"),
    ("SENTINEL", "SIMULATE-FAILURE", "foo"),
    ("SENTINEL", "SIMULATE-FAILURE"),
    ("SENTINEL", "PENDING-SCRIPTS"),
    ("SENTINEL", "INFO-CACHE", "nope"),
    ("SENTINEL", "INFO-CACHE"),
    ("SENTINEL", "MYID", "x"),
    ("PUBLISH", "foo", "bar"),
    ("PUBLISH", "foo"),
    ("SUBSCRIBE",),
    ("get", "k"),
    ("SET", "k", "v"),
    ("MULTI",),
    ("quit",),
    ("select", "1"),
    ("config", "get", "port"),
    ("RESET",),
    ("FLUSHALL",),
    ("CLIENT", "NO-TOUCH", "on"),
]


@pytest.mark.parametrize("resp3", [False, True])
@pytest.mark.parametrize("args", SAME_BYTES, ids=lambda a: " ".join(a)[:60])
def test_same_bytes(pair: Pair, args: tuple[Any, ...], resp3: bool) -> None:
    assert _raw(pair.ours.port, *args, resp3=resp3) == _raw(pair.real.port, *args, resp3=resp3)


@pytest.mark.parametrize("resp3", [False, True])
def test_is_master_down_for_the_primary_without_a_vote(pair: Pair, resp3: bool) -> None:
    args = ("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", str(pair.group.primary.port))
    request = (*args, "0", "*")
    assert _raw(pair.ours.port, *request, resp3=resp3) == _raw(
        pair.real.port, *request, resp3=resp3
    )


def test_myid_hello_and_info(pair: Pair) -> None:
    ours = _call(pair.ours.port, "SENTINEL", "MYID")
    real = _call(pair.real.port, "SENTINEL", "MYID")
    assert len(ours) == len(real) == 40
    ours_hello = _call(pair.ours.port, "HELLO", "3")
    real_hello = _call(pair.real.port, "HELLO", "3")
    assert list(ours_hello) == list(real_hello)
    for key in (b"server", b"version", b"proto", b"mode", b"modules"):
        assert ours_hello[key] == real_hello[key]
    ours_info = _call(pair.ours.port, "INFO", "sentinel").decode()
    real_info = _call(pair.real.port, "INFO", "sentinel").decode()
    assert ours_info == real_info
    sections = []
    for port in (pair.ours.port, pair.real.port):
        text = _call(port, "INFO").decode()
        sections.append([line for line in text.split("\r\n") if line.startswith("#")])
    assert sections[0] == sections[1]
    for resp3 in (False, True):
        # A bulk string in both protocols (not a verbatim string).
        assert _raw(pair.ours.port, "INFO", "sentinel", resp3=resp3)[:1] == b"$"
        assert _raw(pair.real.port, "INFO", "sentinel", resp3=resp3)[:1] == b"$"


def test_info_cache_shape(pair: Pair) -> None:
    ours = _call(pair.ours.port, "SENTINEL", "INFO-CACHE", "mymaster")
    real = _call(pair.real.port, "SENTINEL", "INFO-CACHE", "mymaster")
    assert ours[0] == real[0] == b"mymaster"
    assert len(ours[1]) == len(real[1]) == 3
    for ours_entry, real_entry in zip(ours[1], real[1], strict=True):
        assert isinstance(ours_entry[0], int)
        assert isinstance(real_entry[0], int)
        assert b"run_id:" in ours_entry[1]
        assert b"run_id:" in real_entry[1]


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_sentinel_client_finds_the_group(pair: Pair, protocol: int) -> None:
    """redis-py's Sentinel asks SENTINEL MASTERS / SLAVES and checks the flags."""
    sentinel = Sentinel(
        [("127.0.0.1", pair.ours.port)],
        min_other_sentinels=1,
        sentinel_kwargs={"protocol": protocol},
        protocol=protocol,
    )
    try:
        primary = pair.group.primary.port
        assert sentinel.discover_master("mymaster") == ("127.0.0.1", primary)
        assert sorted(sentinel.discover_slaves("mymaster")) == sorted(
            ("127.0.0.1", r.port) for r in pair.group.replicas
        )
        client = sentinel.master_for("mymaster")
        assert client.set("via-sentinel", "1")
        assert client.get("via-sentinel") == b"1"
        client.close()
    finally:
        sentinel.close()

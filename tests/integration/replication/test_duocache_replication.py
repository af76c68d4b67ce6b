"""Duocache replicating from Duocache over loopback: full and partial resynchronization,
chains, promotion (PSYNC2 continuity), WAIT, READONLY, NOREPLICAS, MASTERDOWN, AUTH.

Three server processes serve the whole module; each test starts from three empty primaries.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.integration.replication.support import (
    client,
    link_up,
    offset,
    repl_info,
    stats,
    wait_synced,
)
from tests.support import ServerProcess, free_port, start_duocache, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("replication-duocache")]


class Node:
    def __init__(self, proc: ServerProcess) -> None:
        self.proc = proc
        self.port = proc.port
        self.c = client(proc.port)

    def replicaof(self, other: Node | None) -> None:
        if other is None:
            assert self.c.replicaof("NO", "ONE")
        else:
            assert self.c.replicaof("127.0.0.1", other.port)


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Node]]:
    procs = [start_duocache(tmp_path_factory.mktemp(f"node{i}"), "--save", "") for i in range(3)]
    yield [Node(p) for p in procs]
    for p in procs:
        p.stop()


@pytest.fixture
def trio(nodes: list[Node]) -> list[Node]:
    """Three independent, empty primaries with default replication settings."""
    for node in nodes:
        node.replicaof(None)
    for node in nodes:
        node.c.config_set("repl-backlog-size", "1mb")
        node.c.config_set("min-replicas-to-write", "0")
        node.c.config_set("replica-serve-stale-data", "yes")
        node.c.config_set("replica-read-only", "yes")
        node.c.flushall()
    return nodes


def test_full_sync_then_the_stream(trio: list[Node]) -> None:
    a, b, _ = trio
    a.c.set("s", "v")
    a.c.rpush("l", 1, 2, 3)
    a.c.hset("h", mapping={"f": "1", "g": "2"})
    a.c.zadd("z", {"m": 2.5})
    a.c.sadd("set", "x", "y")
    a.c.set("ttl", "v", ex=1000)
    client(a.port, db=4).set("db4", "here")
    b.replicaof(a)
    wait_synced(a.c, b.c)
    assert b.c.get("s") == b"v"
    assert b.c.lrange("l", 0, -1) == [b"1", b"2", b"3"]
    assert b.c.hgetall("h") == {b"f": b"1", b"g": b"2"}
    assert b.c.zscore("z", "m") == 2.5
    assert b.c.smembers("set") == {b"x", b"y"}
    assert 990_000 < b.c.pttl("ttl") <= 1_000_000
    assert client(b.port, db=4).get("db4") == b"here"
    # The stream: effects in several dbs, a transaction, a relative expiry made absolute.
    client(a.port, db=7).set("db7", "yes")
    with a.c.pipeline(transaction=True) as tx:
        tx.incr("n")
        tx.incr("n")
        tx.expire("n", 500)
        tx.execute()
    a.c.spop("set")
    wait_synced(a.c, b.c)
    assert client(b.port, db=7).get("db7") == b"yes"
    assert b.c.get("n") == b"2"
    assert b.c.pttl("n") > 0
    assert b.c.smembers("set") == a.c.smembers("set")
    assert b.c.role() == [b"slave", b"127.0.0.1", a.port, b"connected", offset(a.c)]
    role = a.c.role()
    assert role[0] == b"master"
    assert role[2] == [[b"127.0.0.1", str(b.port).encode(), role[2][0][2]]]


def test_replicas_refuse_writes_and_wait_counts_them(trio: list[Node]) -> None:
    a, b, c = trio
    b.replicaof(a)
    c.replicaof(a)
    wait_synced(a.c, b.c, c.c)
    with pytest.raises(redis.ReadOnlyError, match="read only replica"):
        b.c.set("k", "v")
    writer = client(a.port)
    writer.set("k", "v")
    assert writer.wait(2, 5000) == 2
    assert writer.wait(3, 50) == 2  # times out with the count reached
    assert b.c.get("k") == c.c.get("k") == b"v"
    with pytest.raises(redis.ResponseError, match="WAIT cannot be used with replica"):
        b.c.wait(0, 0)


def test_a_cut_link_resumes_with_a_partial_resync(trio: list[Node]) -> None:
    a, b, _ = trio
    b.replicaof(a)
    a.c.set("first", "1")
    wait_synced(a.c, b.c)
    before = stats(a.c)
    # Cut the TCP connection from the replica's side; it reconnects and continues.
    assert b.c.client_kill_filter(_type="master") == 1
    for i in range(100):
        a.c.set(f"k{i}", i)
    wait_synced(a.c, b.c)
    after = stats(a.c)
    assert after["sync_partial_ok"] == before["sync_partial_ok"] + 1
    assert after["sync_full"] == before["sync_full"]
    assert b.c.get("k99") == b"99"
    # The same from the primary's side.
    assert a.c.client_kill_filter(_type="replica") == 1
    a.c.set("last", "x")
    wait_synced(a.c, b.c)
    assert stats(a.c)["sync_partial_ok"] == after["sync_partial_ok"] + 1
    assert b.c.get("last") == b"x"


def test_a_history_the_backlog_no_longer_holds_needs_a_full_resync(trio: list[Node]) -> None:
    a, b, _ = trio
    a.c.config_set("repl-backlog-size", "16kb")
    b.replicaof(a)
    wait_synced(a.c, b.c)
    # Point the replica elsewhere (the link is down, its history cached), write more
    # than the backlog holds, then come back.
    b.c.replicaof("127.0.0.1", free_port())
    for i in range(50):
        a.c.set(f"big{i}", "x" * 1000)
    before = stats(a.c)
    b.replicaof(a)
    wait_synced(a.c, b.c)
    after = stats(a.c)
    assert after["sync_full"] == before["sync_full"] + 1
    assert after["sync_partial_err"] == before["sync_partial_err"] + 1
    assert b.c.get("big49") == b"x" * 1000
    # Within the backlog, the same detour ends with a partial resync.
    b.c.replicaof("127.0.0.1", free_port())
    a.c.set("small", "1")
    b.replicaof(a)
    wait_synced(a.c, b.c)
    assert stats(a.c)["sync_partial_ok"] == after["sync_partial_ok"] + 1


def test_chains_and_promotion_keep_one_history(trio: list[Node]) -> None:
    a, b, c = trio
    b.replicaof(a)
    c.replicaof(b)
    for i in range(20):
        a.c.set(f"k{i}", i)
    wait_synced(a.c, b.c)
    wait_synced(a.c, c.c)
    assert offset(a.c) == offset(b.c) == offset(c.c)
    history = repl_info(a.c)["master_replid"]
    assert repl_info(c.c)["master_replid"] == history
    # B is promoted: it keeps A's history as replid2; C continues from it partially.
    before = stats(b.c)
    b.replicaof(None)
    info = repl_info(b.c)
    assert info["master_replid2"] == history
    assert int(info["second_repl_offset"]) == offset(a.c) + 1
    b.c.set("after", "promotion")
    wait_synced(b.c, c.c)
    assert c.c.get("after") == b"promotion"
    # A, the old primary, becomes B's replica and continues partially too (same history
    # up to the promotion, nothing written on A since).
    a.replicaof(b)
    wait_synced(b.c, a.c)
    after = stats(b.c)
    assert after["sync_partial_ok"] == before["sync_partial_ok"] + 2
    assert after["sync_full"] == before["sync_full"]
    assert a.c.get("after") == b"promotion"
    assert repl_info(c.c)["master_replid"] == repl_info(b.c)["master_replid"]


def test_a_returning_primary_with_writes_of_its_own_resyncs_fully(trio: list[Node]) -> None:
    a, b, _ = trio
    b.replicaof(a)
    wait_synced(a.c, b.c)
    b.replicaof(None)  # a failover: B is the new primary
    a.c.set("split-brain", "lost")  # A still takes a write
    b.c.set("new", "primary")
    before = stats(b.c)
    a.replicaof(b)
    wait_synced(b.c, a.c)
    assert stats(b.c)["sync_full"] == before["sync_full"] + 1
    assert a.c.get("split-brain") is None
    assert a.c.get("new") == b"primary"


def test_noreplicas_until_enough_replicas_acknowledge(trio: list[Node]) -> None:
    a, b, _ = trio
    a.c.config_set("min-replicas-max-lag", "10")
    a.c.config_set("min-replicas-to-write", "1")
    with pytest.raises(redis.ResponseError, match="Not enough good replicas to write"):
        a.c.set("k", "v")
    assert a.c.get("k") is None
    b.replicaof(a)
    wait_until(lambda: repl_info(a.c).get("min_slaves_good_slaves") == 1)
    assert a.c.set("k", "v")
    b.replicaof(None)
    wait_until(lambda: repl_info(a.c)["connected_slaves"] == 0)
    with pytest.raises(redis.ResponseError, match="Not enough good replicas"):
        a.c.set("k", "w")


def test_masterdown_while_the_link_is_down(trio: list[Node]) -> None:
    _, b, _ = trio
    b.c.set("k", "v")
    b.c.config_set("replica-serve-stale-data", "no")
    b.c.replicaof("127.0.0.1", free_port())
    with pytest.raises(
        redis.ResponseError, match="Link with MASTER is down and replica-serve-stale-data"
    ):
        b.c.get("k")
    assert repl_info(b.c)["master_link_status"] == "down"
    b.c.config_set("replica-serve-stale-data", "yes")
    assert b.c.get("k") == b"v"


def test_replicas_authenticate_with_masterauth(trio: list[Node], tmp_path: Path) -> None:
    a, b, _ = trio
    a.c.config_set("requirepass", "s3cret")
    try:
        authed = client(a.port, password="s3cret")
        authed.set("k", "v")
        b.c.config_set("masterauth", "wrong")
        b.replicaof(a)
        wait_until(lambda: "Unable to AUTH to MASTER" in b.proc.log())
        assert not link_up(b.c)
        b.c.config_set("masterauth", "s3cret")
        wait_synced(authed, b.c)
        assert b.c.get("k") == b"v"
    finally:
        client(a.port, password="s3cret").config_set("requirepass", "")
        b.c.config_set("masterauth", "")


def test_info_shows_the_replica_and_the_primary(trio: list[Node]) -> None:
    a, b, _ = trio
    b.c.config_set("replica-announce-ip", "10.1.2.3")
    b.c.config_set("replica-priority", "42")
    try:
        b.replicaof(a)
        a.c.set("k", "v")
        wait_synced(a.c, b.c)
        wait_until(lambda: repl_info(a.c)["slave0"]["offset"] == offset(a.c))
        slave0 = repl_info(a.c)["slave0"]
        assert slave0["ip"] == "10.1.2.3"
        assert slave0["port"] == b.port
        assert slave0["state"] == "online"
        info = repl_info(b.c)
        assert info["slave_priority"] == 42
        assert info["master_port"] == a.port
        assert info["master_sync_in_progress"] == 0
    finally:
        b.c.config_set("replica-announce-ip", "")
        b.c.config_set("replica-priority", "100")

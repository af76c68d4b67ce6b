"""Differential tests of the replication commands: Duocache and a real redis-server 7 in the
same role (a primary with one replica, the replica, a replica whose link is down) answer
ROLE, INFO replication, REPLICAOF, WAIT, PSYNC and the role errors alike.

Ports, IDs and offsets differ between the two pairs, so INFO and ROLE are compared by field
names, shapes and the values that do not depend on them; everything else byte for byte.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import hiredis
import pytest

from protocol.resp import encode_command
from tests.differential import Differential, shape
from tests.integration.replication.support import client, wait_synced
from tests.support import (
    RawClient,
    RealServer,
    ServerProcess,
    free_port,
    start_duocache,
    start_real_redis,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("replication-diff")]


class Pair:
    """A primary and its replica, as ports."""

    def __init__(self, primary: int, replica: int) -> None:
        self.primary = primary
        self.replica = replica


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pair, Pair]]:
    """(Duocache pair, real Redis pair), each replica attached to its primary."""
    real: list[RealServer] = [
        start_real_redis(tmp_path_factory.mktemp(f"real{i}"), "--repl-diskless-sync-delay", "0")
        for i in range(2)
    ]
    duo: list[ServerProcess] = [
        start_duocache(tmp_path_factory.mktemp(f"duo{i}"), "--save", "") for i in range(2)
    ]
    ours = Pair(duo[0].port, duo[1].port)
    theirs = Pair(real[0].port, real[1].port)
    yield ours, theirs
    for s in real:
        s.stop()
    for p in duo:
        p.stop()


@pytest.fixture
def attached(pairs: tuple[Pair, Pair]) -> tuple[Pair, Pair]:
    for pair in pairs:
        primary, replica = client(pair.primary), client(pair.replica)
        replica.config_set("replica-serve-stale-data", "yes")
        replica.replicaof("127.0.0.1", pair.primary)
        primary.flushall()
        wait_synced(primary, replica)
        # A real primary puts a replica online at its first REPLCONF ACK after the sync.
        wait_until(functools.partial(_replicas_online, pair.primary))
    return pairs


def _replicas_online(port: int) -> bool:
    fields = dict(info_fields(port))
    return fields["connected_slaves"] != "0" and "state=online" in fields.get("slave0", "")


def info_fields(port: int) -> list[tuple[str, str]]:
    with RawClient(port) as c:
        raw = c.command("INFO", "replication")
    reader = hiredis.Reader()
    reader.feed(raw)
    text: bytes = reader.gets()
    return [
        tuple(line.split(":", 1))  # type: ignore[misc]
        for line in text.decode().split("\r\n")[1:]
        if ":" in line
    ]


# Fields whose value is the same whatever the ports, IDs and offsets.
STABLE = {
    "role",
    "master_host",
    "master_link_status",
    "master_sync_in_progress",
    "connected_slaves",
    "master_failover_state",
    "repl_backlog_active",
    "repl_backlog_size",
    "slave_priority",
    "slave_read_only",
    "replica_announced",
    "master_link_down_since_seconds",
}


def comparable(fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
    out = []
    for name, value in fields:
        if name.startswith("slave") and name[5:].isdigit():
            # slave0:ip=...,port=...,state=online,offset=...,lag=...: keys and the state.
            parts = dict(p.split("=", 1) for p in value.split(","))
            value = ",".join(f"{k}={parts[k] if k in ('ip', 'state') else '*'}" for k in parts)
        elif name == "second_repl_offset":
            value = "-1" if value == "-1" else "n"
        elif name == "master_replid2":
            value = "none" if set(value) == {"0"} else "id"
        elif name not in STABLE:
            value = "*"
        out.append((name, value))
    return out


def test_info_replication_of_a_primary_with_a_replica(attached: tuple[Pair, Pair]) -> None:
    ours, theirs = attached
    assert comparable(info_fields(ours.primary)) == comparable(info_fields(theirs.primary))


def test_info_replication_of_a_connected_replica(attached: tuple[Pair, Pair]) -> None:
    ours, theirs = attached
    assert comparable(info_fields(ours.replica)) == comparable(info_fields(theirs.replica))


def test_info_and_role_of_a_replica_whose_primary_is_gone(pairs: tuple[Pair, Pair]) -> None:
    ours, theirs = pairs
    dead = free_port()
    for pair in pairs:
        client(pair.replica).replicaof("127.0.0.1", dead)
    try:
        assert comparable(info_fields(ours.replica)) == comparable(info_fields(theirs.replica))
        d = Differential(ours.replica, theirs.replica)
        try:
            # ROLE: "slave", the host, the port (ours and theirs are the same dead port), the
            # state ("connect" between attempts) and -1 as no offset is known... or the
            # cached one, so only the shape.
            d.assert_same([shape("ROLE")])
        finally:
            d.close()
    finally:
        for pair in pairs:
            client(pair.replica).replicaof("NO", "ONE")


def test_role_shapes(attached: tuple[Pair, Pair]) -> None:
    ours, theirs = attached
    for mine_port, real_port in ((ours.primary, theirs.primary), (ours.replica, theirs.replica)):
        assert _shape(client(mine_port).role()) == _shape(client(real_port).role())
    replica_role: Any = client(ours.replica).role()
    assert replica_role[:1] == [b"slave"]
    assert replica_role[3] == b"connected"


def _shape(value: Any) -> Any:
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return type(value).__name__


def test_replica_replies(attached: tuple[Pair, Pair]) -> None:
    ours, theirs = attached
    d = Differential(ours.replica, theirs.replica)
    try:
        d.assert_same(
            [
                ("SET", "k", "v"),
                ("WAIT", "0", "0"),
                ("WAIT", "x", "y"),
                ("REPLICAOF", "127.0.0.1", "abc"),
                ("REPLICAOF", "127.0.0.1", "70000"),
                ("REPLICAOF", "127.0.0.1"),
                ("SLAVEOF", "a", "b", "c"),
                ("MULTI",),
                ("SET", "k", "v"),
                ("EXEC",),
                ("INCR", "counter"),
                ("GET", "k"),
                ("PSYNC", "?", "abc"),
            ]
        )
    finally:
        d.close()
    # The same primary again: "+OK Already connected to specified master", byte for byte.
    with RawClient(ours.replica) as a, RawClient(theirs.replica) as b:
        assert a.command("REPLICAOF", "127.0.0.1", ours.primary) == b.command(
            "REPLICAOF", "127.0.0.1", theirs.primary
        )


def test_masterdown_replies(pairs: tuple[Pair, Pair]) -> None:
    ours, theirs = pairs
    dead = free_port()
    for pair in pairs:
        c = client(pair.replica)
        c.config_set("replica-serve-stale-data", "no")
        c.replicaof("127.0.0.1", dead)
    d = Differential(ours.replica, theirs.replica)
    try:
        d.assert_same(
            [
                ("GET", "k"),
                ("PING",),
                ("DBSIZE",),
                ("MULTI",),
                ("GET", "k"),
                ("EXEC",),
                ("CONFIG", "SET", "replica-serve-stale-data", "yes"),
                ("GET", "k"),
            ]
        )
    finally:
        d.close()
        for pair in pairs:
            client(pair.replica).replicaof("NO", "ONE")


def test_primary_replies(attached: tuple[Pair, Pair]) -> None:
    ours, theirs = attached
    d = Differential(ours.primary, theirs.primary)
    try:
        d.assert_same(
            [
                ("SET", "k", "v"),
                ("WAIT", "1", "5000"),
                ("WAIT", "2", "10"),
                ("WAIT", "0", "0"),
                ("WAIT", "1", "-1"),
                ("WAIT", "1", "1.5"),
                ("WAIT", "99999999999999999999", "0"),
                ("WAIT",),
                ("MULTI",),
                ("WAIT", "5", "0"),
                # Inside MULTI, WAIT counts the replicas that acknowledged the client's offset
                # without blocking. That offset includes the REPLCONF GETACK the blocked
                # "WAIT 2 10" sent, so whether the replica's answer to it has arrived yet is a
                # race, in Redis too (0 or 1): compare only the reply's shape.
                shape("EXEC"),
                ("REPLICAOF", "NO", "ONE"),
                ("SLAVEOF", "no", "one"),
                ("PSYNC", "?", "abc"),
                ("PSYNC", "x"),
                ("MULTI",),
                ("SYNC",),
                ("PSYNC", "?", "-1"),
                ("EXEC",),
                ("PING",),
            ]
        )
    finally:
        d.close()
    # ACK and GETACK from a client that is not a replica: no reply at all.
    silent = encode_command([b"REPLCONF", b"ACK", b"10"]) + encode_command(
        [b"REPLCONF", b"GETACK", b"*"]
    )
    replies = []
    for port in (ours.primary, theirs.primary):
        with RawClient(port) as c:
            c.send_raw(silent + encode_command([b"PING"]))
            replies.append(c.read_reply())
    assert replies == [b"+PONG\r\n", b"+PONG\r\n"]

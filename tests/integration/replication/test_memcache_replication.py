"""memcached and replication: items written over memcached reach Duocache replicas with their
flags (and real Redis replicas as plain strings), and a replica's memcached listener serves
reads and refuses writes with SERVER_ERROR.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.integration.replication.support import client, wait_synced
from tests.support import ServerProcess, start_duocache, start_real_redis

pytest.importorskip("server.memcache", reason="the memcached family is not in this tree")

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("replication-memcache")]


def mc(port: int, request: bytes) -> bytes:
    """One memcached text-protocol exchange; the reply up to its terminating line."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        reply = b""
        while not reply.endswith((b"END\r\n", b"STORED\r\n", b"ERROR\r\n")) and (
            b"SERVER_ERROR" not in reply and b"CLIENT_ERROR" not in reply
        ):
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
        return reply


@pytest.fixture(scope="module")
def nodes(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    primary = start_duocache(tmp_path_factory.mktemp("mcp"), "--save", "", memcache=True)
    replica = start_duocache(tmp_path_factory.mktemp("mcr"), "--save", "", memcache=True)
    yield primary, replica
    primary.stop()
    replica.stop()


def test_memcached_items_replicate_with_their_flags(
    nodes: tuple[ServerProcess, ServerProcess],
) -> None:
    primary, replica = nodes
    p, r = client(primary.port), client(replica.port)
    assert mc(primary.memcache_port, b"set before 42 0 5\r\nhello\r\n") == b"STORED\r\n"
    r.replicaof("127.0.0.1", primary.port)
    wait_synced(p, r)  # the snapshot carries the flags
    assert mc(replica.memcache_port, b"get before\r\n") == b"VALUE before 42 5\r\nhello\r\nEND\r\n"
    assert mc(primary.memcache_port, b"set after 7 0 3\r\nabc\r\n") == b"STORED\r\n"
    wait_synced(p, r)  # the stream carries them too
    assert mc(replica.memcache_port, b"get after\r\n") == b"VALUE after 7 3\r\nabc\r\nEND\r\n"
    assert r.get("after") == b"abc"
    # A replica serves memcached reads and refuses memcached writes.
    assert mc(replica.memcache_port, b"set x 0 0 1\r\ny\r\n") == (
        b"SERVER_ERROR You can't write against a read only replica.\r\n"
    )
    assert mc(replica.memcache_port, b"get x\r\n") == b"END\r\n"
    r.replicaof("NO", "ONE")


def test_a_real_replica_gets_memcached_items_as_strings(
    nodes: tuple[ServerProcess, ServerProcess], tmp_path_factory: pytest.TempPathFactory
) -> None:
    primary, _ = nodes
    real = start_real_redis(tmp_path_factory.mktemp("mcreal"))
    try:
        p, q = client(primary.port), client(real.port)
        q.replicaof("127.0.0.1", primary.port)
        wait_synced(p, q)
        assert mc(primary.memcache_port, b"set for-redis 3 0 2\r\nhi\r\n") == b"STORED\r\n"
        wait_synced(p, q)
        assert q.get("for-redis") == b"hi"
    finally:
        real.stop()

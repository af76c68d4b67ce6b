"""Replication both ways between Duocache and a real redis-server 7, and redis-cli's
replication modes (`--replica`, `--rdb`) against Duocache.

A real Redis replica of Duocache must load our snapshot and follow our stream, full and
partial; a Duocache replica of real Redis must load Redis's compact RDB encodings (listpack,
intset, quicklist, LZF), apply its stream and acknowledge it exactly.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from persistence.rdb import load_rdb
from storage.keyspace import Keyspace
from tests.integration.persist_helpers import contents, fill
from tests.integration.replication.support import (
    client,
    offset,
    repl_info,
    stats,
    wait_synced,
)
from tests.support import RealServer, ServerProcess, start_duocache, start_real_redis, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("replication-interop")]


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealServer]:
    server = start_real_redis(tmp_path_factory.mktemp("real"), "--repl-diskless-sync-delay", "0")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def duo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_duocache(tmp_path_factory.mktemp("duo"), "--save", "")
    yield proc
    proc.stop()


@pytest.fixture
def pair(real: RealServer, duo: ServerProcess) -> tuple[redis.Redis, redis.Redis]:
    """(real Redis, Duocache), both primaries and empty."""
    r, d = client(real.port), client(duo.port)
    for c in (r, d):
        c.replicaof("NO", "ONE")
    for c in (r, d):
        c.flushall()
    return r, d


class _WithoutDebug:
    """A client for `fill` on Duocache: its DEBUG QUICKLIST-PACKED-THRESHOLD calls are dropped
    (they only shape Redis's own encodings)."""

    def __init__(self, c: redis.Redis) -> None:
        self._c = c

    def __getattr__(self, name: str) -> Any:
        return getattr(self._c, name)

    def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        if args and args[0] == "DEBUG":
            return None
        c: Any = self._c
        return c.execute_command(*args, **kwargs)


def fill_duocache(d: redis.Redis) -> None:
    fill(_WithoutDebug(d))


def encodings(r: Any) -> set[bytes]:
    found = set()
    for db in (0, 1, 5):
        c = client(r.connection_pool.connection_kwargs["port"], db=db)
        for key in c.keys("*"):
            found.add(c.object("encoding", key))
    return found


def test_a_real_replica_follows_duocache_full_then_partial(
    pair: tuple[redis.Redis, redis.Redis], real: RealServer, duo: ServerProcess
) -> None:
    r, d = pair
    fill_duocache(d)
    assert r.replicaof("127.0.0.1", duo.port)
    wait_synced(d, r)
    assert contents(real.port) == contents(duo.port)
    # The stream: several dbs, a transaction, effects rewritten to be deterministic.
    client(duo.port, db=3).set("db3", "x", ex=100)
    with d.pipeline(transaction=True) as tx:
        tx.lpush("l:small", "new")
        tx.hincrbyfloat("h:small", "f2", 0.5)
        tx.spop("set:str")
        tx.execute()
    d.zincrby("z:small", 2, "a")
    wait_synced(d, r)
    assert contents(real.port) == contents(duo.port)
    # The real replica acknowledges: WAIT counts it.
    assert d.wait(1, 5000) == 1
    wait_until(lambda: r.role()[4] == offset(d))
    # Cut the link on the replica's side: it continues partially.
    before = stats(d)
    assert r.client_kill_filter(_type="master") == 1
    for i in range(50):
        d.set(f"after-cut-{i}", i)
    wait_synced(d, r)
    after = stats(d)
    assert after["sync_partial_ok"] == before["sync_partial_ok"] + 1
    assert after["sync_full"] == before["sync_full"]
    assert contents(real.port) == contents(duo.port)


def test_duocache_follows_a_real_primary_and_loads_its_compact_encodings(
    pair: tuple[redis.Redis, redis.Redis], real: RealServer, duo: ServerProcess
) -> None:
    r, d = pair
    fill(r)
    assert {b"listpack", b"intset", b"quicklist", b"skiplist", b"hashtable", b"int"} <= encodings(r)
    assert d.replicaof("127.0.0.1", real.port)
    wait_synced(r, d)
    assert contents(duo.port) == contents(real.port)
    # The real primary's stream: a script's effects, rewritten commands, several dbs.
    r.eval("redis.call('set', 'lua', 'ran') redis.call('incr', 'lua:n')", 0)
    r.incrbyfloat("float", 1.25)
    r.spop("set:big-int")
    client(real.port, db=9).set("db9", "nine")
    r.set("gone", "soon", px=1)
    wait_until(lambda: r.get("gone") is None)  # lazily expired: Redis sends DEL
    with r.pipeline(transaction=True) as tx:
        tx.hset("h:small", "tx", "1")
        tx.expire("h:small", 1000)
        tx.rpush("l:small", "z")
        tx.execute()
    wait_synced(r, d)
    assert contents(duo.port) == contents(real.port)
    # Our ACKs count for WAIT on the real primary.
    assert r.wait(1, 5000) == 1
    # Cut the link on our side: Redis accepts our PSYNC.
    before = stats(r)
    assert d.client_kill_filter(_type="master") == 1
    r.set("after-cut", "1")
    wait_synced(r, d)
    after = stats(r)
    assert after["sync_partial_ok"] == before["sync_partial_ok"] + 1
    assert after["sync_full"] == before["sync_full"]
    assert d.get("after-cut") == b"1"


def test_duocache_takes_a_real_primary_s_disk_snapshot(
    pair: tuple[redis.Redis, redis.Redis], real: RealServer, duo: ServerProcess
) -> None:
    r, d = pair
    r.config_set("repl-diskless-sync", "no")
    try:
        fill(r)
        assert d.replicaof("127.0.0.1", real.port)
        wait_synced(r, d)
        assert contents(duo.port) == contents(real.port)
        assert repl_info(d)["master_replid"] == repl_info(r)["master_replid"]
    finally:
        r.config_set("repl-diskless-sync", "yes")


def test_redis_cli_rdb_and_replica_modes(
    pair: tuple[redis.Redis, redis.Redis], duo: ServerProcess, tmp_path: Path
) -> None:
    _, d = pair
    fill_duocache(d)
    target = tmp_path / "cli.rdb"
    done = subprocess.run(
        ["redis-cli", "-p", str(duo.port), "--rdb", str(target)],
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert b"Transfer finished with success" in done.stderr + done.stdout
    keyspace = Keyspace()
    load_rdb(target.read_bytes(), keyspace)
    assert keyspace.dbs[0].get(b"s:lzf") == b"abcdefgh" * 100
    assert keyspace.dbs[5].size() == 2
    # --replica prints the stream.
    cli = subprocess.Popen(
        ["redis-cli", "-p", str(duo.port), "--replica"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    printed = b""

    def shows_the_write() -> bool:
        nonlocal printed
        assert cli.stdout is not None
        while select.select([cli.stdout], [], [], 0)[0]:
            chunk = os.read(cli.stdout.fileno(), 65536)
            if not chunk:
                break
            printed += chunk
        return b'"SET","seen","by redis-cli"' in printed

    try:
        wait_until(lambda: repl_info(d)["connected_slaves"] == 1)
        d.set("seen", "by redis-cli")
        wait_until(shows_the_write)
    finally:
        cli.send_signal(signal.SIGINT)
        _, err = cli.communicate(timeout=10)
    assert b"SYNC done. Logging commands from master." in err


def test_duocache_chained_behind_a_real_replica(
    pair: tuple[redis.Redis, redis.Redis],
    real: RealServer,
    duo: ServerProcess,
    tmp_path: Path,
) -> None:
    """Duocache primary -> real Redis replica -> Duocache replica: one history, one offset."""
    r, d = pair
    (tmp_path / "tail").mkdir()
    tail = start_duocache(tmp_path / "tail", "--save", "")
    try:
        t = client(tail.port)
        d.set("k", "v")
        r.replicaof("127.0.0.1", duo.port)
        t.replicaof("127.0.0.1", real.port)
        d.set("k2", "v2")
        wait_synced(d, r)
        wait_synced(d, t)
        assert t.get("k2") == b"v2"
        assert offset(t) == offset(r) == offset(d)
    finally:
        tail.stop()


def test_a_real_replica_chained_behind_duocache(
    pair: tuple[redis.Redis, redis.Redis],
    real: RealServer,
    duo: ServerProcess,
    tmp_path: Path,
) -> None:
    """Real Redis primary -> Duocache replica -> real Redis replica: Duocache serves its own
    snapshot and proxies the primary's stream verbatim."""
    r, d = pair
    (tmp_path / "tail").mkdir()
    tail = start_real_redis(tmp_path / "tail")
    try:
        t = client(tail.port)
        fill(r)
        d.replicaof("127.0.0.1", real.port)
        t.replicaof("127.0.0.1", duo.port)
        client(real.port, db=2).set("later", "x")
        wait_synced(r, d)
        wait_synced(r, t)
        assert offset(t) == offset(d) == offset(r)
        assert contents(tail.port) == contents(real.port)
        assert repl_info(t)["master_replid"] == repl_info(r)["master_replid"]
    finally:
        tail.stop()

"""Duocache's monitors (`python -m server --sentinel`) failing over a group of Duocache nodes.

Three monitors watch a Duocache primary with two Duocache replicas, all started without a
config file (so the CONFIG REWRITE inside the monitors' MULTI answers an error, as it does on
a redis-server started the same way, and the failover must go through regardless). redis-py's
Sentinel client writes steadily (SET then WAIT 1) while the primary gets SIGKILL. Checked:
ODOWN at quorum, one leader, the replica with the best priority promoted, the other one
repointed and resynchronized partially, +switch-master from every monitor, no write that
WAIT 1 confirmed is lost, and the old primary, restarted on its address, accepts no write
and is turned into a replica of the new one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel as _Sentinel

from tests.integration.replication.support import client, repl_info, stats, wait_synced
from tests.sentinel_support import DuocacheGroup, EventLog
from tests.support import ServerProcess, wait_until

# redis-py's Sentinel API is untyped.
Sentinel: Any = _Sentinel

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# A primary that lost its replicas (the old one restarted after the failover) refuses writes.
FENCED = ("--min-replicas-to-write", "1", "--min-replicas-max-lag", "10")


class Writer(threading.Thread):
    """SET w<i> then WAIT 1, in a loop, through redis-py's Sentinel client."""

    def __init__(self, sentinel: Any) -> None:
        super().__init__(daemon=True)
        self.client = sentinel.master_for(
            "mymaster", socket_timeout=0.5, retry=Retry(NoBackoff(), 0)
        )
        self.stop = threading.Event()
        self.acked: list[int] = []
        self.confirmed: list[int] = []  # WAIT 1 said a replica has it
        self.turn = threading.Lock()  # held for each write; hold it to keep writes out

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            try:
                with self.turn:
                    self.client.set(f"w{i}", i)
                    self.acked.append(i)
                    if self.client.wait(1, 500) >= 1:
                        self.confirmed.append(i)
            except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
                self.stop.wait(0.02)
            # About a hundred writes a second: a steady load that leaves the monitors CPU.
            self.stop.wait(0.005)


@pytest.fixture
def group(tmp_path: Path) -> Iterator[DuocacheGroup]:
    # The second replica has the best (lowest) priority: it is the one to promote.
    g = DuocacheGroup(tmp_path / "nodes", replicas=2, priorities=[100, 10], node_args=FENCED)
    wait_synced(client(g.primary.port), *(client(r.port) for r in g.replicas))
    yield g
    g.stop()


def _master_state(monitor: ServerProcess) -> dict[str, str]:
    with redis.Redis(port=monitor.port, socket_timeout=2, decode_responses=True) as r:
        return dict(r.execute_command("SENTINEL", "MASTER", "mymaster"))


def _discovered(monitors: list[ServerProcess]) -> bool:
    return all(
        _master_state(m)["num-slaves"] == "2" and _master_state(m)["num-other-sentinels"] == "2"
        for m in monitors
    )


def _master_port(monitor: ServerProcess) -> int:
    with redis.Redis(port=monitor.port, socket_timeout=2) as r:
        reply = r.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")
    return int(reply[1])


def _role(port: int) -> list[Any]:
    with client(port) as r:
        return list(r.execute_command("ROLE"))


def _missing(port: int, keys: list[int]) -> list[int]:
    with client(port) as r:
        found: list[Any] = []
        for start in range(0, len(keys), 500):
            found += r.mget([f"w{i}" for i in keys[start : start + 500]])
    return [i for i, value in zip(keys, found, strict=True) if value != str(i).encode()]


def test_monitors_fail_over_a_duocache_group(
    group: DuocacheGroup, monitors: list[ServerProcess], log: EventLog
) -> None:
    wait_until(lambda: _discovered(monitors), timeout_s=15, interval_s=0.1)
    old = group.primary
    keep, best = group.replicas  # best: replica-priority 10
    with client(old.port) as r:
        assert r.set("before", "1")
        assert r.wait(2, 5000) == 2
    sentinel = Sentinel([("127.0.0.1", m.port) for m in monitors], socket_timeout=1.0)
    writer = Writer(sentinel)
    writer.start()
    try:
        wait_until(lambda: len(writer.confirmed) > 20, timeout_s=10)
        with writer.turn:
            # Both replicas level when the primary dies: WAIT 1 lets one run ahead, and the
            # new primary can only continue a replica that is not ahead of it (as in Redis);
            # a leading `keep` would resync in full, by design, not by fault.
            wait_synced(client(old.port), client(keep.port), client(best.port))
            old.kill()
        wait_until(
            lambda: all(_master_port(m) == best.port for m in monitors),
            timeout_s=20,
            interval_s=0.05,
        )
        # Writes resume on the new primary (confirmed by WAIT 1: the other replica follows).
        at_switch = len(writer.confirmed)
        wait_until(lambda: len(writer.confirmed) > at_switch + 20, timeout_s=15)
    finally:
        writer.stop.set()
        writer.join(5)
        writer.client.close()
        sentinel.close()

    # Agreement: ODOWN at quorum 2, one leader, the best-priority replica selected.
    wait_until(lambda: len(log.of("+switch-master")) == 3, timeout_s=5)
    odown = log.of("+odown")
    assert odown, log.events
    for _, payload in odown:
        assert payload.startswith(f"master mymaster 127.0.0.1 {old.port} #quorum ")
        assert payload.endswith("/2")
    assert len(log.of("+elected-leader")) == 1, log.events
    leader = log.of("+elected-leader")[0][0]
    selected = log.of("+selected-slave")
    assert [i for i, _ in selected] == [leader]
    assert selected[0][1].startswith(f"slave 127.0.0.1:{best.port} 127.0.0.1 {best.port} @")
    assert sorted(i for i, _ in log.of("+switch-master")) == [0, 1, 2]
    assert {p for _, p in log.of("+switch-master")} == {
        f"mymaster 127.0.0.1 {old.port} 127.0.0.1 {best.port}"
    }
    assert [p for _, p in log.of("+slave-reconf-done")] == [
        f"slave 127.0.0.1:{keep.port} 127.0.0.1 {keep.port} @ mymaster 127.0.0.1 {old.port}"
    ]

    # The promoted replica is a primary; the other one follows it, continued partially.
    assert _role(best.port)[0] == b"master"
    new = client(best.port)
    wait_until(lambda: _role(keep.port)[:4] == [b"slave", b"127.0.0.1", best.port, b"connected"])
    wait_synced(new, client(keep.port))
    assert stats(new)["sync_full"] == 0
    assert stats(new)["sync_partial_ok"] == 1
    assert repl_info(new)["master_replid2"] != "0" * 40

    # No write WAIT 1 confirmed is lost (those after the switch included).
    assert _missing(best.port, writer.confirmed) == []
    assert new.get("before") == b"1"

    # The old primary comes back: it accepts no write, is fenced, then converted.
    returned = group.restart(old)
    stale = redis.Redis(port=returned.port, protocol=2, socket_timeout=0.5)
    refusals: list[str] = []
    accepted = 0

    def converted() -> bool:
        nonlocal accepted
        try:
            stale.set("lost-write", "1")
            accepted += 1
        except redis.ReadOnlyError:
            return True
        except (redis.ResponseError, redis.TimeoutError) as e:
            refusals.append(type(e).__name__ + ": " + str(e))
        return bool(_role(returned.port)[0] == b"slave")

    wait_until(converted, timeout_s=30, interval_s=0.1)
    assert accepted == 0
    assert refusals, "converted before any write was tried"
    assert all(
        "NOREPLICAS" in e or "Not enough good replicas" in e or e.startswith("TimeoutError")
        for e in refusals
    ), refusals
    fence = log.of("+fence")
    assert fence, log.events
    assert fence[0][1].startswith(f"slave 127.0.0.1:{old.port} 127.0.0.1 {old.port} @")
    assert log.of("+convert-to-slave")
    wait_until(
        lambda: _role(returned.port)[:4] == [b"slave", b"127.0.0.1", best.port, b"connected"],
        timeout_s=10,
    )
    wait_synced(new, client(returned.port))
    assert client(returned.port).get("before") == b"1"
    assert new.get("lost-write") is None
    stale.close()
    new.close()

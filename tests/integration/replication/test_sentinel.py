"""Real redis-sentinel managing a Duocache group: discovery (INFO's replica lines, run_id, the
`__sentinel__:hello` channel), failover when the primary dies (REPLICAOF NO ONE and
CONFIG REWRITE inside MULTI, CLIENT KILL TYPE ...), repointing of the other replica, and
fencing of the old primary when it comes back.

What a client can lose (see README, "Replication and failover"): writes the old primary
acknowledged but had not yet streamed to the promoted replica. A write acknowledged by
`WAIT` with every replica counted cannot be lost; `min-replicas-to-write` keeps a primary
that has lost its replicas (a returning old primary, a partitioned one) from accepting any.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from tests.integration.replication.sentinel_group import SERVICE, start_group
from tests.integration.replication.support import link_up, wait_synced
from tests.support import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.xdist_group("replication-sentinel"),
]

FENCED = "min-replicas-to-write 1\nmin-replicas-max-lag 10\n"


def test_sentinel_fails_over_and_the_old_primary_returns_fenced(tmp_path: Path) -> None:
    group = start_group(tmp_path, node_conf=FENCED)
    try:
        old = group.nodes[0]
        primary = old.client
        for i in range(200):
            primary.set(f"k{i}", i)
        assert primary.wait(2, 5000) == 2  # every write is on both replicas
        old.kill()

        def promoted() -> int | None:
            _, port = group.master_address()
            return port if port != old.port else None

        new_port = wait_until(promoted, timeout_s=30)
        new = group.node_at(new_port)
        other = next(n for n in group.nodes if n not in (old, new))
        fresh = new.client
        assert fresh.role()[0] == b"master"
        assert all(fresh.get(f"k{i}") == str(i).encode() for i in range(200))
        # The other replica was repointed, and its config rewritten, by Sentinel.
        wait_until(lambda: other.client.role()[1:3] == [b"127.0.0.1", new.port], timeout_s=30)
        wait_until(lambda: link_up(other.client), timeout_s=30)
        assert f"replicaof 127.0.0.1 {new.port}" in (other.data_dir / "duocache.conf").read_text()
        assert fresh.set("after", "failover")
        assert fresh.wait(1, 5000) == 1

        # The old primary comes back (as a supervisor would restart it): a primary without
        # replicas, so min-replicas-to-write refuses every write until Sentinel converts it.
        old.start(restart=True)
        returned = old.client
        accepted = 0
        refusals: list[str] = []  # NOREPLICAS until converted

        def converted() -> bool:
            nonlocal accepted
            try:
                returned.set("stale", "write")
                accepted += 1
            except redis.ReadOnlyError:
                return True  # now a replica
            except redis.ResponseError as e:
                refusals.append(str(e))
            return bool(returned.role()[0] == b"slave")

        wait_until(converted, timeout_s=40, interval_s=0.1)
        # (Sentinel may convert it before the first attempt: then nothing was refused either.)
        assert accepted == 0
        assert all("Not enough good replicas to write" in e for e in refusals)
        wait_synced(fresh, returned)
        assert returned.get("after") == b"failover"
        assert returned.get("stale") is None
        # Converted by Sentinel: "+convert-to-slave", or "+slave-reconf-sent" when it came
        # back while the failover was still reconfiguring replicas.
        logs = "".join(group.sentinel_log(i) for i in range(3))
        assert f"+switch-master {SERVICE} 127.0.0.1 {old.port} 127.0.0.1 {new.port}" in logs
        assert f"127.0.0.1:{old.port}" in logs
    finally:
        group.stop()

"""SCAN over the wire with redis-py: scan_iter, MATCH / TYPE, and Redis's guarantee that a key
present during the whole iteration is returned while other clients add and delete keys."""

from __future__ import annotations

import random

import pytest
import redis

pytestmark = pytest.mark.integration


def _fill(client: redis.Redis, keys: list[str]) -> None:
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.set(key, "v")
    pipe.execute()


def test_scan_iter_returns_every_key_in_both_protocols(r: redis.Redis, r2: redis.Redis) -> None:
    keys = [f"user:{i}" for i in range(3000)] + [f"order:{i}" for i in range(500)]
    _fill(r, keys)
    expected = {k.encode() for k in keys}
    assert set(r.scan_iter(count=100)) == expected
    assert set(r2.scan_iter(count=7)) == expected
    assert set(r.scan_iter(match="order:*", count=1000)) == {
        k.encode() for k in keys if k.startswith("order:")
    }
    assert set(r2.scan_iter(_type="string", match="user:1??", count=50)) == {
        f"user:{i}".encode() for i in range(100, 200)
    }
    assert list(r.scan_iter(_type="list")) == []


def test_scan_guarantee_holds_while_another_client_writes(r: redis.Redis, r2: redis.Redis) -> None:
    rng = random.Random(11)
    stable = [f"stable:{i}" for i in range(2000)]
    churn = [f"churn:{i}" for i in range(2000)]
    _fill(r2, stable + churn)
    returned: list[bytes] = []
    added = 0
    for n, key in enumerate(r.scan_iter(count=20)):
        returned.append(key)
        if n % 10 == 0:
            # Another client deletes, re-creates and adds keys mid-iteration.
            pipe = r2.pipeline(transaction=False)
            for _ in range(10):
                pipe.delete(churn[rng.randrange(len(churn))])
                pipe.set(f"new:{added}", "v")
                added += 1
            pipe.set(churn[rng.randrange(len(churn))], "again")
            pipe.execute()
    assert {k.encode() for k in stable} <= set(returned)
    assert added > 100

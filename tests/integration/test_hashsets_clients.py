"""Hashes and sets through redis-py, RESP3 and RESP2: scan iterators, reply types."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.support import ServerProcess

pytestmark = pytest.mark.integration


@pytest.fixture(params=[3, 2], ids=["resp3", "resp2"])
def client(request: pytest.FixtureRequest, shared_server: ServerProcess) -> Iterator[redis.Redis]:
    c = redis.Redis(port=shared_server.port, protocol=request.param)
    c.flushall()
    yield c
    c.close()


def test_hscan_iter_returns_every_field_of_a_big_hash(client: redis.Redis) -> None:
    client.hset("h", mapping={f"field:{i}": i for i in range(1500)})
    seen = dict(client.hscan_iter("h", count=25))
    assert seen == {f"field:{i}".encode(): str(i).encode() for i in range(1500)}


def test_hscan_iter_survives_writes_during_the_iteration(client: redis.Redis) -> None:
    client.hset("h", mapping=dict.fromkeys([f"f{i}" for i in range(2000)], "v"))
    stable = {f"f{i}".encode() for i in range(0, 2000, 2)}
    seen: list[bytes] = []
    for n, (field, _) in enumerate(client.hscan_iter("h", count=20)):
        seen.append(field)
        if n % 10 == 0:
            # Remove fields that are not stable and add new ones while iterating.
            client.hdel("h", *[f"f{i}" for i in range(2 * n + 1, 2 * n + 40, 2)])
            client.hset("h", f"new{n}", "v")
    assert stable <= set(seen)
    assert len(seen) == len(set(seen))


def test_hscan_iter_with_match_on_a_small_hash(client: redis.Redis) -> None:
    client.hset("h", mapping={"foo": "1", "bar": "2", "food": "3"})
    assert list(client.hscan_iter("h", match="fo*")) == [(b"foo", b"1"), (b"food", b"3")]


def test_sscan_iter_returns_every_member(client: redis.Redis) -> None:
    members = {f"m{i}" for i in range(1200)}
    client.sadd("s", *members)
    seen = list(client.sscan_iter("s", count=30))
    assert sorted(seen) == sorted(m.encode() for m in members)
    client.sadd("ints", 5, 3, 10)
    assert list(client.sscan_iter("ints")) == [b"3", b"5", b"10"]


def test_reply_types_reach_redis_py(client: redis.Redis) -> None:
    client.hset("h", mapping={"a": "1", "b": "2"})
    assert client.hgetall("h") == {b"a": b"1", b"b": b"2"}
    assert client.hincrbyfloat("h", "f", 1.5) == 1.5
    assert client.hkeys("h") == [b"a", b"b", b"f"]
    pairs = client.hrandfield("h", 10, withvalues=True)
    assert isinstance(pairs, list)
    assert len(pairs) in (3, 6)  # RESP3 nested pairs or a RESP2 flat list
    client.sadd("s", "x", "y")
    assert client.smembers("s") == {b"x", b"y"}
    assert client.sinter(["s", "s"]) == {b"x", b"y"}
    assert client.sintercard(1, ["s"], limit=1) == 1
    assert client.spop("s", 5) in ([b"x", b"y"], [b"y", b"x"], {b"x", b"y"})
    assert client.exists("s") == 0

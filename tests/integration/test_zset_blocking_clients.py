"""BZPOPMIN, BZPOPMAX and BZMPOP with several redis-py clients over the wire: fairness,
timeouts, wake-ups by a MULTI/EXEC, disconnects, CLIENT UNBLOCK."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest
import redis

from tests.support import RawClient, ServerProcess, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def port(shared_server: ServerProcess) -> int:
    with RawClient(shared_server.port) as client:
        client.command("FLUSHALL")
    return shared_server.port


@pytest.fixture
def control(port: int) -> Iterator[redis.Redis]:
    client = redis.Redis(port=port, protocol=3)
    wait_until(lambda: client.info("clients")["blocked_clients"] == 0)
    yield client
    client.close()


@pytest.fixture
def clients(port: int) -> Iterator[Callable[[int], redis.Redis]]:
    """A factory of redis-py clients (RESP2 or RESP3), closed at the end of the test."""
    made: list[redis.Redis] = []

    def make(protocol: int = 3) -> redis.Redis:
        client = redis.Redis(port=port, protocol=protocol)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=6) as executor:
        yield executor


def blocked(control: redis.Redis) -> int:
    return int(control.info("clients")["blocked_clients"])


def park(pool: ThreadPoolExecutor, control: redis.Redis, call: Callable[[], Any]) -> Future[Any]:
    """Start a blocking call in a thread and wait until the server has parked it."""
    before = blocked(control)
    future = pool.submit(call)
    wait_until(lambda: blocked(control) == before + 1 or future.done())
    assert not future.done(), future.result()
    return future


# --- fairness ---


def test_clients_are_served_in_the_order_they_blocked(
    control: redis.Redis, clients: Callable[[int], redis.Redis], pool: ThreadPoolExecutor
) -> None:
    waiters = [clients(3) for _ in range(4)]
    futures = [park(pool, control, partial(c.bzpopmin, "z", 0)) for c in waiters]
    control.zadd("z", {"a": 1, "b": 2, "c": 3})
    assert [f.result(timeout=5) for f in futures[:3]] == [
        [b"z", b"a", 1.0],
        [b"z", b"b", 2.0],
        [b"z", b"c", 3.0],
    ]
    assert not futures[3].done()
    assert control.exists("z") == 0
    control.zadd("z", {"d": 4})
    assert futures[3].result(timeout=5) == [b"z", b"d", 4.0]


def test_bzpopmax_and_bzmpop_share_one_queue_per_key(
    control: redis.Redis, clients: Callable[[int], redis.Redis], pool: ThreadPoolExecutor
) -> None:
    first, second, third = clients(2), clients(3), clients(2)
    f1 = park(pool, control, lambda: first.bzpopmax(["nokey", "z"], 0))
    f2 = park(pool, control, lambda: second.bzmpop(0, 2, ["z", "nokey"], min=True, count=2))
    f3 = park(pool, control, lambda: third.bzpopmin("z", 0))
    control.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4})
    # RESP2 sends the score as a bulk string; redis-py turns it into a float either way.
    assert f1.result(timeout=5) == (b"z", b"d", 4.0)
    assert f2.result(timeout=5) == [b"z", [[b"a", 1.0], [b"b", 2.0]]]
    assert f3.result(timeout=5) == (b"z", b"c", 3.0)


# --- timeouts ---


@pytest.mark.parametrize("protocol", [2, 3])
def test_timeout_returns_none_after_the_timeout(
    clients: Callable[[int], redis.Redis], protocol: int
) -> None:
    client = clients(protocol)
    for call in (
        lambda: client.bzpopmin(["nokey"], timeout=0.1),
        lambda: client.bzpopmax(["nokey", "other"], timeout=0.1),
        lambda: client.bzmpop(0.1, 1, ["nokey"], max=True),
    ):
        started = time.monotonic()
        assert call() is None
        assert 0.1 <= time.monotonic() - started < 1.0


def test_a_timed_out_client_is_not_served_later(
    control: redis.Redis, clients: Callable[[int], redis.Redis], pool: ThreadPoolExecutor
) -> None:
    short, long = clients(3), clients(3)
    f_short = park(pool, control, lambda: short.bzpopmin("z", 1))
    f_long = park(pool, control, lambda: long.bzpopmin("z", 10))
    # The first in the queue times out; the key's next writer serves the second.
    assert f_short.result(timeout=5) is None
    wait_until(lambda: blocked(control) == 1)
    control.zadd("z", {"a": 1})
    assert f_long.result(timeout=5) == [b"z", b"a", 1.0]


# --- wake-ups ---


def test_a_transaction_wakes_the_client_after_exec_with_all_its_writes_visible(
    control: redis.Redis, clients: Callable[[int], redis.Redis], pool: ThreadPoolExecutor
) -> None:
    waiter = clients(3)

    def pop_then_read() -> Any:
        pipe = waiter.pipeline(transaction=False)
        pipe.bzpopmax("z", 0)
        pipe.get("flag")
        return pipe.execute()

    future = park(pool, control, pop_then_read)
    tx = control.pipeline(transaction=True)
    tx.zadd("z", {"a": 1, "b": 2})
    tx.zpopmax("z")
    tx.set("flag", "set")
    # ZPOPMAX without a count is flat even in RESP3.
    assert tx.execute() == [2, [b"b", 2.0], True]
    # Served after EXEC: the pop sees what the whole transaction left, and the command
    # pipelined behind it runs after the transaction too.
    assert future.result(timeout=5) == [[b"z", b"a", 1.0], b"set"]


def test_zunionstore_and_zrangestore_into_the_key_wake_the_client(
    control: redis.Redis, clients: Callable[[int], redis.Redis], pool: ThreadPoolExecutor
) -> None:
    control.zadd("src", {"a": 1, "b": 2, "c": 3})
    a, b = clients(3), clients(2)
    fa = park(pool, control, lambda: a.bzpopmin("u", 0))
    fb = park(pool, control, lambda: b.bzmpop(0, 1, ["r"], max=True, count=5))
    assert control.zunionstore("u", ["src"]) == 3
    assert fa.result(timeout=5) == [b"u", b"a", 1.0]
    assert control.zrangestore("r", "src", 0, 1) == 2
    # Over RESP2 the scores arrive as bulk strings, which redis-py leaves as they are.
    assert fb.result(timeout=5) == [b"r", [[b"b", b"2"], [b"a", b"1"]]]


def test_blocking_pops_inside_multi_answer_at_once(control: redis.Redis) -> None:
    tx = control.pipeline(transaction=True)
    tx.bzpopmin("z", 0)
    tx.bzmpop(0, 1, ["z"], min=True)
    tx.zadd("z", {"a": 1})
    tx.bzpopmax("z", 0)
    assert tx.execute() == [None, None, 1, [b"z", b"a", 1.0]]


# --- disconnects and CLIENT UNBLOCK ---


def test_a_client_that_disconnects_while_blocked_loses_nothing(
    port: int, control: redis.Redis, clients: Callable[[int], redis.Redis], pool: ThreadPoolExecutor
) -> None:
    gone = socket.create_connection(("127.0.0.1", port))
    gone.sendall(b"*3\r\n$8\r\nBZPOPMIN\r\n$1\r\nz\r\n$1\r\n0\r\n")
    wait_until(lambda: blocked(control) == 1)
    stays = clients(3)
    future = park(pool, control, lambda: stays.bzpopmin("z", 0))
    gone.close()
    wait_until(lambda: blocked(control) == 1)
    control.zadd("z", {"a": 1, "b": 2})
    assert future.result(timeout=5) == [b"z", b"a", 1.0]
    assert control.zrange("z", 0, -1) == [b"b"]


def test_client_unblock_ends_the_wait(
    control: redis.Redis, clients: Callable[[int], redis.Redis], pool: ThreadPoolExecutor
) -> None:
    a, b = clients(3), clients(2)
    a_id, b_id = a.client_id(), b.client_id()
    fa = park(pool, control, lambda: a.bzpopmin("z", 0))
    fb = park(pool, control, lambda: b.bzmpop(0, 1, ["z"], min=True))
    assert control.client_unblock(a_id) is True
    assert fa.result(timeout=5) is None
    assert control.client_unblock(b_id, error=True) is True
    with pytest.raises(redis.ResponseError, match="UNBLOCKED client unblocked"):
        fb.result(timeout=5)
    control.zadd("z", {"a": 1})
    assert control.zcard("z") == 1

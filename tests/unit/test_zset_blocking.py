"""BZPOPMIN, BZPOPMAX and BZMPOP in-process: parking, serving, replies, the write stream,
events and wake-ups, checked against what redis-server 7.0.15 does."""

from __future__ import annotations

from typing import Any

from protocol.resp import NULL_ARRAY, RespError
from server.context import NO_REPLY
from tests.support import Runner
from tests.unit.test_blocking import WRONGTYPE, Client, run_nested, stream


def events(run: Runner) -> list[bytes]:
    """Record keyevent notifications (class KEA plus "new") as b"event key"."""
    seen: list[bytes] = []

    def publish(channel: bytes, message: bytes) -> int:
        if channel.startswith(b"__keyevent@"):
            seen.append(channel.split(b":", 1)[1] + b" " + message)
        return 0

    run.app.publish = publish
    run.app.config.set("notify-keyspace-events", ["KEAn"])
    return seen


# --- answering at once ---


def test_bzpopmin_with_data_pops_at_once_and_propagates_zpopmin(run: Runner) -> None:
    run("ZADD", "z", "1", "a", "2", "b")
    assert run("BZPOPMIN", "nokey", "z", "0") == [b"z", b"a", 1.0]
    assert run("BZPOPMAX", "z", "0") == [b"z", b"b", 2.0]
    assert run("EXISTS", "z") == 0
    assert stream(run)[1:] == [[b"ZPOPMIN", b"z"], [b"ZPOPMAX", b"z"]]


def test_bzmpop_with_data_propagates_the_count_it_popped(run: Runner) -> None:
    run("ZADD", "z", "1", "a", "2", "b", "3", "c")
    assert run("BZMPOP", "0", "2", "nokey", "z", "MAX", "COUNT", "2") == [
        b"z",
        [[b"c", 3.0], [b"b", 2.0]],
    ]
    assert run("BZMPOP", "0", "1", "z", "min", "count", "10") == [b"z", [[b"a", 1.0]]]
    assert stream(run)[1:] == [[b"ZPOPMAX", b"z", b"2"], [b"ZPOPMIN", b"z", b"1"]]


def test_the_first_existing_key_of_another_type_is_an_error(run: Runner) -> None:
    run("SET", "s", "x")
    run("ZADD", "z", "1", "a")
    assert run("BZPOPMIN", "nokey", "s", "z", "0") == WRONGTYPE
    assert run("BZMPOP", "0", "3", "nokey", "s", "z", "MIN") == WRONGTYPE
    assert run("BZPOPMIN", "z", "s", "0") == [b"z", b"a", 1.0]


def test_arguments_are_checked_before_the_keys(run: Runner) -> None:
    run("SET", "s", "x")
    assert run("BZPOPMIN", "s", "x") == RespError("ERR timeout is not a float or out of range")
    assert run("BZPOPMAX", "s", "-1") == RespError("ERR timeout is negative")
    # BZMPOP reads numkeys, MIN|MAX and COUNT first, the timeout last.
    assert run("BZMPOP", "x", "0", "s", "MIN") == RespError("ERR numkeys should be greater than 0")
    assert run("BZMPOP", "x", "1", "s", "MIN", "COUNT", "0") == RespError(
        "ERR count should be greater than 0"
    )
    assert run("BZMPOP", "x", "1", "s", "MID") == RespError("ERR syntax error")
    assert run("BZMPOP", "x", "1", "s", "MIN") == RespError(
        "ERR timeout is not a float or out of range"
    )
    assert run("BZMPOP", "0", "1", "s", "MIN") == WRONGTYPE


# --- parking and serving ---


def test_bzpopmin_parks_and_zadd_serves_it(run: Runner) -> None:
    a = Client(run)
    assert a("BZPOPMIN", "z", "0") is NO_REPLY
    assert a.parked()
    run("ZADD", "z", "2", "b", "1", "a")
    assert a.replies == [[b"z", b"a", 1.0]]
    assert not a.parked()
    assert run("ZRANGE", "z", "0", "-1") == [b"b"]
    assert stream(run) == [[b"ZADD", b"z", b"2", b"b", b"1", b"a"], [b"ZPOPMIN", b"z"]]


def test_clients_are_served_first_come_first_served(run: Runner) -> None:
    clients = [Client(run) for _ in range(3)]
    clients[0]("BZPOPMAX", "z", "0")
    clients[1]("BZPOPMIN", "z", "0")
    clients[2]("BZMPOP", "0", "1", "z", "MAX", "COUNT", "5")
    run("ZADD", "z", "1", "a", "2", "b")
    assert clients[0].replies == [[b"z", b"b", 2.0]]
    assert clients[1].replies == [[b"z", b"a", 1.0]]
    assert clients[2].parked()
    run("ZADD", "z", "3", "c", "4", "d")
    assert clients[2].replies == [[b"z", [[b"d", 4.0], [b"c", 3.0]]]]
    assert stream(run) == [
        [b"ZADD", b"z", b"1", b"a", b"2", b"b"],
        [b"ZPOPMAX", b"z"],
        [b"ZPOPMIN", b"z"],
        [b"ZADD", b"z", b"3", b"c", b"4", b"d"],
        [b"ZPOPMAX", b"z", b"2"],
    ]


def test_a_client_waits_on_every_key_and_is_served_from_the_ready_one(run: Runner) -> None:
    a = Client(run)
    a("BZPOPMIN", "z1", "z2", "z1", "0")
    run("ZADD", "z2", "5", "m")
    assert a.replies == [[b"z2", b"m", 5.0]]
    assert run.app.keyspace.dbs[0].blocked == {}


def test_bzmpop_served_propagates_what_it_popped(run: Runner) -> None:
    a = Client(run)
    a("BZMPOP", "0", "2", "x", "z", "MIN", "COUNT", "10")
    run("ZADD", "z", "1", "a", "2", "b")
    assert a.replies == [[b"z", [[b"a", 1.0], [b"b", 2.0]]]]
    assert stream(run)[-1] == [b"ZPOPMIN", b"z", b"2"]


def test_a_key_of_another_type_keeps_zset_waiters_blocked(run: Runner) -> None:
    a, b = Client(run), Client(run)
    a("BZPOPMIN", "k", "0")
    b("BLPOP", "k", "0")
    run("RPUSH", "k", "x", "y")
    # The list waiter behind the zset waiter is served; the zset waiter keeps waiting.
    assert b.replies == [[b"k", b"x"]]
    assert a.parked()
    run("DEL", "k")
    run("ZADD", "k", "1", "m")
    assert a.replies == [[b"k", b"m", 1.0]]


def test_waiters_are_per_database(run: Runner) -> None:
    a = Client(run)
    a("SELECT", "3")
    a("BZPOPMAX", "z", "0")
    run("ZADD", "z", "1", "db0")
    assert a.parked()
    run("MOVE", "z", "3")
    assert a.replies == [[b"z", b"db0", 1.0]]
    assert run("EXISTS", "z") == 0


# --- wake-ups by other writers ---


def test_stores_into_the_waited_key_wake_the_waiter(run: Runner) -> None:
    run("ZADD", "src", "1", "a", "2", "b", "3", "c")
    run("ZADD", "other", "2", "b")
    waiters = [Client(run) for _ in range(4)]
    for w, key in zip(waiters, ["u", "r", "i", "d"], strict=True):
        w("BZPOPMIN", key, "0")
    run("ZUNIONSTORE", "u", "2", "src", "other")
    run("ZRANGESTORE", "r", "src", "1", "2")
    run("ZINTERSTORE", "i", "2", "src", "other", "WEIGHTS", "1", "10")
    run("ZDIFFSTORE", "d", "2", "src", "other")
    assert [w.replies for w in waiters] == [
        [[b"u", b"a", 1.0]],
        [[b"r", b"b", 2.0]],
        [[b"i", b"b", 22.0]],
        [[b"d", b"a", 1.0]],
    ]


def test_zincrby_copy_and_rename_wake_the_waiter(run: Runner) -> None:
    a, b, c = Client(run), Client(run), Client(run)
    a("BZPOPMIN", "x", "0")
    b("BZPOPMIN", "y", "0")
    c("BZPOPMIN", "w", "0")
    run("ZINCRBY", "x", "2.5", "m")
    run("ZADD", "src", "1", "a", "2", "b")
    run("COPY", "src", "y")
    run("RENAME", "src", "w")
    assert a.replies == [[b"x", b"m", 2.5]]
    assert b.replies == [[b"y", b"a", 1.0]]
    assert c.replies == [[b"w", b"a", 1.0]]


def test_overwriting_a_string_with_a_zset_does_not_wake_the_waiter(run: Runner) -> None:
    # Redis 7.0 signals a key only when it comes into existence (dbAdd): a string replaced
    # by ZUNIONSTORE (dbOverwrite) leaves the waiter blocked, even after more ZADDs.
    run("ZADD", "src", "1", "a")
    a = Client(run)
    a("BZPOPMIN", "k", "0")
    run("SET", "k", "string")
    run("ZUNIONSTORE", "k", "1", "src")
    run("ZADD", "k", "2", "b")
    assert a.parked()
    assert a.replies == []
    # A RENAME onto it deletes and re-adds the key: that wakes it.
    run("ZADD", "src2", "0", "z")
    run("RENAME", "src2", "k")
    assert a.replies == [[b"k", b"z", 0.0]]


# --- transactions and scripts ---


def test_zadd_inside_a_transaction_serves_after_exec(run: Runner) -> None:
    a = Client(run)
    a("BZPOPMIN", "z", "0")
    run_nested(run, "ZADD", "z", "1", "a", "2", "b")
    run_nested(run, "ZPOPMAX", "z")
    assert a.replies == []
    run.app.handle_ready_keys()
    assert a.replies == [[b"z", b"a", 1.0]]


def test_blocking_pops_inside_a_transaction_do_not_block(run: Runner) -> None:
    a = Client(run)
    run.ctx = a.ctx
    assert run_nested(run, "BZPOPMIN", "z", "0") is NULL_ARRAY
    assert run_nested(run, "BZPOPMAX", "z", "0") is NULL_ARRAY
    assert run_nested(run, "BZMPOP", "0", "1", "z", "MIN") is NULL_ARRAY
    assert not a.parked()
    run_nested(run, "ZADD", "z", "1", "a", "2", "b")
    assert run_nested(run, "BZMPOP", "0", "1", "z", "MIN") == [b"z", [[b"a", 1.0]]]


def test_multi_exec_over_the_wire_protocol(run: Runner) -> None:
    a = Client(run)
    assert a("MULTI") is not None
    a("BZPOPMIN", "z", "0")
    a("ZADD", "z", "1", "a")
    a("BZPOPMAX", "z", "0")
    assert a("EXEC") == [NULL_ARRAY, 1, [b"z", b"a", 1.0]]
    assert not a.parked()
    assert stream(run) == [
        [b"MULTI"],
        [b"ZADD", b"z", b"1", b"a"],
        [b"ZPOPMAX", b"z"],
        [b"EXEC"],
    ]


# --- ending a wait without data ---


def test_timeout_and_client_unblock(run: Runner) -> None:
    a, b, c = Client(run), Client(run), Client(run)
    a("BZPOPMIN", "z", "1")
    b("BZMPOP", "1", "1", "z", "MAX")
    c("BZPOPMAX", "z", "0")
    assert run.app.blocking.time_out(a.ctx)
    assert run("CLIENT", "UNBLOCK", str(b.ctx.id)) == 1
    assert run("CLIENT", "UNBLOCK", str(c.ctx.id), "ERROR") == 1
    assert a.replies == [NULL_ARRAY]
    assert b.replies == [NULL_ARRAY]
    assert c.replies == [RespError("UNBLOCKED client unblocked via CLIENT UNBLOCK")]
    run("ZADD", "z", "1", "a")
    assert run("ZCARD", "z") == 1


def test_a_client_that_disconnects_while_blocked_loses_nothing(run: Runner) -> None:
    a, b = Client(run), Client(run)
    a("BZPOPMIN", "z", "0")
    b("BZPOPMIN", "z", "0")
    run.app.client_closed(a.ctx)
    run("ZADD", "z", "1", "a", "2", "b")
    assert a.replies == []
    assert b.replies == [[b"z", b"a", 1.0]]
    assert run("ZRANGE", "z", "0", "-1") == [b"b"]


# --- events ---


def test_served_pops_send_the_events_redis_sends(run: Runner) -> None:
    # As observed on redis-server 7.0.15 with notify-keyspace-events KEAn.
    seen = events(run)
    a, b = Client(run), Client(run)
    a("BZPOPMIN", "z", "0")
    b("BZMPOP", "0", "1", "z", "MAX", "COUNT", "3")
    run("ZADD", "z", "1", "a", "2", "b", "3", "c")
    assert seen == [
        b"new z",
        b"zadd z",
        b"zpopmin z",
        b"zpopmax z",
        b"del z",
    ]
    assert a.replies == [[b"z", b"a", 1.0]]
    assert b.replies == [[b"z", [[b"c", 3.0], [b"b", 2.0]]]]


def test_immediate_pops_send_the_same_events(run: Runner) -> None:
    run("ZADD", "z", "1", "a")
    seen: list[Any] = events(run)
    run("BZPOPMAX", "z", "0")
    assert seen == [b"zpopmax z", b"del z"]

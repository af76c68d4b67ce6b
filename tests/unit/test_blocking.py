"""The blocking machinery in-process: parking, FIFO serving, chains, timeouts, unblocking."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from protocol.resp import NULL_ARRAY, RespError, RESPParser
from server.blocking import parse_timeout
from server.commands.table import lookup
from server.context import NO_REPLY, CommandContext
from server.dispatch import call
from server.errors import CommandError
from tests.support import Runner

WRONGTYPE = RespError("WRONGTYPE Operation against a key holding the wrong kind of value")


class Client:
    """An in-process client that can be parked: it records what it is finally sent."""

    def __init__(self, run: Runner) -> None:
        self.run = run
        self.ctx: CommandContext = run.client()
        self.replies: list[Any] = []
        self.ctx.unblocked = self.replies.append

    def __call__(self, *args: Any) -> Any:
        return self.run(*args, ctx=self.ctx)

    def parked(self) -> bool:
        return self.ctx.blocked is not None


def stream(run: Runner) -> list[list[bytes]]:
    parser = RESPParser()
    parser.feed(b"".join(run.feed))
    out = []
    while (argv := parser.maybe_next_command()) is not None:
        if argv[0] != b"SELECT":
            out.append(argv)
    return out


# --- timeouts as Redis parses them (each value checked against redis-server 7.0.15) ---


@pytest.mark.parametrize(
    ("raw", "ms"),
    [
        ("0", 0),
        ("1", 1000),
        ("0.1", 100),
        ("0.0001", 1),
        ("0.0005", 1),
        ("1e-3", 1),
        ("1e-400", 1),
        ("1e-4940", 1),
        ("0x1p-3", 125),
        ("0x10", 16000),
        (".5", 500),
        ("5.", 5000),
        ("+1", 1000),
        ("-0", 0),
        ("-0.0001", 0),
        ("-0.0009", 0),
        ("-0.001", 0),
        ("-1e-3", 0),
        ("-0.000999999999999999999966", 0),
        ("9223372036854775.807", 9223372036854775807),
    ],
)
def test_parse_timeout_matches_redis(raw: str, ms: int) -> None:
    assert parse_timeout(raw.encode()) == ms


@pytest.mark.parametrize(
    "raw",
    ["-0.002", "-1", "-0.0010000000000000000001", "inf", "-inf", "1e16", "9223372036854775.808"],
)
def test_parse_timeout_negative(raw: str) -> None:
    with pytest.raises(CommandError, match=r"^ERR timeout is negative$"):
        parse_timeout(raw.encode())


@pytest.mark.parametrize(
    "raw", ["", "abc", " 1", "1 ", "1e", "nan", "0x", "1e5000", "1e-5000", "1e99999999999", "."]
)
def test_parse_timeout_not_a_float(raw: str) -> None:
    with pytest.raises(CommandError, match=r"^ERR timeout is not a float or out of range$"):
        parse_timeout(raw.encode())


# --- parking and serving ---


def test_blpop_parks_and_a_push_serves_it(run: Runner) -> None:
    a = Client(run)
    assert a("BLPOP", "k", "0") is NO_REPLY
    assert a.parked()
    assert run.app.blocked_clients == 1
    assert run("RPUSH", "k", "x", "y") == 2
    assert a.replies == [[b"k", b"x"]]
    assert not a.parked()
    assert run.app.blocked_clients == 0
    assert run("LRANGE", "k", "0", "-1") == [b"y"]
    assert stream(run) == [[b"RPUSH", b"k", b"x", b"y"], [b"LPOP", b"k"]]


def test_clients_are_served_first_come_first_served(run: Runner) -> None:
    clients = [Client(run) for _ in range(3)]
    for c in clients:
        assert c("BRPOP", "k", "0") is NO_REPLY
    run("RPUSH", "k", "1", "2")
    assert clients[0].replies == [[b"k", b"2"]]
    assert clients[1].replies == [[b"k", b"1"]]
    assert clients[2].replies == []
    assert clients[2].parked()
    assert run("EXISTS", "k") == 0
    run("LPUSH", "k", "3")
    assert clients[2].replies == [[b"k", b"3"]]
    assert stream(run)[-2:] == [[b"LPUSH", b"k", b"3"], [b"RPOP", b"k"]]


def test_a_client_waits_on_every_key_and_is_served_from_the_ready_one(run: Runner) -> None:
    a = Client(run)
    a("BLPOP", "k1", "k2", "k1", "0")
    run("RPUSH", "k2", "v")
    assert a.replies == [[b"k2", b"v"]]
    # Nothing is left registered on the other keys.
    assert run.app.keyspace.dbs[0].blocked == {}


def test_blmpop_served_with_count_propagates_the_pop_count(run: Runner) -> None:
    a = Client(run)
    a("BLMPOP", "0", "2", "x", "k", "RIGHT", "COUNT", "5")
    run("RPUSH", "k", "1", "2", "3")
    assert a.replies == [[b"k", [b"3", b"2", b"1"]]]
    assert stream(run)[-1] == [b"RPOP", b"k", b"3"]


def test_blmove_chain_serves_the_destination_waiter_next(run: Runner) -> None:
    mover, popper = Client(run), Client(run)
    mover("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")
    popper("BLPOP", "dst", "0")
    run("RPUSH", "src", "a", "b")
    assert mover.replies == [b"b"]
    assert popper.replies == [[b"dst", b"b"]]
    assert run("LRANGE", "src", "0", "-1") == [b"a"]
    assert run("EXISTS", "dst") == 0
    assert stream(run) == [
        [b"RPUSH", b"src", b"a", b"b"],
        [b"LMOVE", b"src", b"dst", b"right", b"left"],
        [b"LPOP", b"dst"],
    ]


def test_brpoplpush_served_propagates_rpoplpush(run: Runner) -> None:
    a = Client(run)
    a("BRPOPLPUSH", "src", "dst", "0")
    run("LPUSH", "src", "v")
    assert a.replies == [b"v"]
    assert stream(run)[-1] == [b"RPOPLPUSH", b"src", b"dst"]
    assert run("LRANGE", "dst", "0", "-1") == [b"v"]


def test_blmove_served_into_a_wrong_type_ends_with_an_error_and_moves_nothing(
    run: Runner,
) -> None:
    a, b = Client(run), Client(run)
    a("BLMOVE", "src", "dst", "LEFT", "LEFT", "0")
    b("BLPOP", "src", "0")
    run("SET", "dst", "string")
    run("RPUSH", "src", "v")
    assert a.replies == [WRONGTYPE]
    # The next waiter still gets the element.
    assert b.replies == [[b"src", b"v"]]


def test_lmove_into_the_waited_key_wakes_the_waiter(run: Runner) -> None:
    a = Client(run)
    a("BLPOP", "dst", "0")
    run("RPUSH", "src", "1", "2")
    assert a.replies == []
    run("LMOVE", "src", "dst", "LEFT", "RIGHT")
    assert a.replies == [[b"dst", b"1"]]
    assert stream(run)[-2:] == [
        [b"LMOVE", b"src", b"dst", b"LEFT", b"RIGHT"],
        [b"LPOP", b"dst"],
    ]


def test_a_key_of_another_type_keeps_list_waiters_blocked(run: Runner) -> None:
    a = Client(run)
    a("BLPOP", "k", "0")
    run("SET", "k", "v")
    assert a.parked()
    run("DEL", "k")
    run("RPUSH", "k", "x")
    assert a.replies == [[b"k", b"x"]]


def test_waiters_are_per_database(run: Runner) -> None:
    a = Client(run)
    a("SELECT", "1")
    a("BLPOP", "k", "0")
    run("RPUSH", "k", "db0")
    assert a.parked()
    run("SELECT", "1")
    run("RPUSH", "k", "db1")
    assert a.replies == [[b"k", b"db1"]]
    assert run("LRANGE", "k", "0", "-1") == []
    run("SELECT", "0")
    assert run("LRANGE", "k", "0", "-1") == [b"db0"]


def test_served_pops_send_keyspace_events(run: Runner) -> None:
    seen: list[tuple[bytes, bytes]] = []

    def publish(channel: bytes, message: bytes) -> int:
        seen.append((channel, message))
        return 0

    run.app.publish = publish
    run.app.config.set("notify-keyspace-events", ["Elg"])
    a = Client(run)
    a("BLPOP", "k", "0")
    run("RPUSH", "k", "x")
    assert seen == [
        (b"__keyevent@0__:rpush", b"k"),
        (b"__keyevent@0__:lpop", b"k"),
        (b"__keyevent@0__:del", b"k"),
    ]


# --- ready keys are served after the whole command ---


def run_nested(run: Runner, *args: str) -> Any:
    """What EXEC and scripts do: run a command through `call`, not `execute`."""
    argv = [a.encode() for a in args]
    spec = lookup(argv)
    assert spec is not None
    return call(run.ctx, spec, argv)


def test_ready_keys_wait_for_the_end_of_a_transaction(run: Runner) -> None:
    a = Client(run)
    a("BLPOP", "k", "0")
    # MULTI; RPUSH k x; SET flag 1; EXEC: nothing is served until the transaction ends,
    # and then the waiter sees the whole transaction.
    run_nested(run, "RPUSH", "k", "x")
    run_nested(run, "SET", "flag", "1")
    assert a.replies == []
    run.app.handle_ready_keys()
    assert a.replies == [[b"k", b"x"]]


def test_a_key_pushed_and_emptied_in_one_transaction_serves_nobody(run: Runner) -> None:
    a = Client(run)
    a("BLPOP", "k", "0")
    run_nested(run, "RPUSH", "k", "x")
    run_nested(run, "LPOP", "k")
    run.app.handle_ready_keys()
    assert a.parked()
    assert a.replies == []


def test_blocking_commands_inside_a_transaction_do_not_block(run: Runner) -> None:
    a = Client(run)
    run.ctx = a.ctx
    assert run_nested(run, "BLPOP", "k", "0") is NULL_ARRAY
    assert run_nested(run, "BLMPOP", "0", "1", "k", "LEFT") is NULL_ARRAY
    assert run_nested(run, "BLMOVE", "k", "d", "LEFT", "LEFT", "0") is None
    assert run_nested(run, "BRPOPLPUSH", "k", "d", "0") is None
    assert not a.parked()


# --- ending a wait without data ---


def test_timeout_replies_null_array(run: Runner) -> None:
    a, b = Client(run), Client(run)
    a("BLPOP", "k", "1")
    b("BLMOVE", "k", "d", "LEFT", "LEFT", "1")
    assert run.app.clients_in_timeout_table == 2
    assert run.app.blocking.time_out(a.ctx)
    assert run.app.blocking.time_out(b.ctx)
    assert a.replies == [NULL_ARRAY]
    assert b.replies == [NULL_ARRAY]
    assert not run.app.blocking.time_out(a.ctx)
    assert run.app.keyspace.dbs[0].blocked == {}


def test_client_unblock_timeout_and_error(run: Runner) -> None:
    a, b = Client(run), Client(run)
    a("BLPOP", "k", "0")
    b("BLMOVE", "k", "d", "LEFT", "LEFT", "0")
    assert run("CLIENT", "UNBLOCK", str(a.ctx.id)) == 1
    assert a.replies == [NULL_ARRAY]
    assert run("CLIENT", "UNBLOCK", str(a.ctx.id)) == 0
    assert run("CLIENT", "UNBLOCK", str(b.ctx.id), "error") == 1
    assert b.replies == [RespError("UNBLOCKED client unblocked via CLIENT UNBLOCK")]
    assert run.app.error_stats.get("UNBLOCKED") == 1
    assert run("CLIENT", "UNBLOCK", str(run.ctx.id)) == 0


def test_client_unblock_argument_errors(run: Runner) -> None:
    assert run("CLIENT", "UNBLOCK", "1", "foo") == RespError(
        "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
    )
    # The reason is checked before the id.
    assert run("CLIENT", "UNBLOCK", "x", "foo") == RespError(
        "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
    )
    assert run("CLIENT", "UNBLOCK", "x") == RespError("ERR value is not an integer or out of range")
    assert run("CLIENT", "UNBLOCK", "1", "timeout", "x") == RespError(
        "ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP."
    )
    assert run("CLIENT", "UNBLOCK") == RespError(
        "ERR wrong number of arguments for 'client|unblock' command"
    )


def test_a_client_that_disconnects_while_blocked_loses_nothing(run: Runner) -> None:
    a, b = Client(run), Client(run)
    a("BLPOP", "k", "0")
    b("BLPOP", "k", "0")
    run.app.client_closed(a.ctx)
    assert run.app.blocked_clients == 1
    run("RPUSH", "k", "1", "2")
    assert a.replies == []
    assert b.replies == [[b"k", b"1"]]
    assert run("LRANGE", "k", "0", "-1") == [b"2"]


def test_disconnect_all_answers_and_closes(run: Runner) -> None:
    a = Client(run)
    a("BLPOP", "k", "0")
    run.app.blocking.disconnect_all("UNBLOCKED force unblock")
    assert a.replies == [RespError("UNBLOCKED force unblock")]
    assert a.ctx.close_after_reply


# --- timers (a running loop) ---


async def test_timeout_timer_fires_no_earlier_than_asked(run: Runner) -> None:
    a = Client(run)
    done = asyncio.Event()

    def unblocked(reply: Any) -> None:
        a.replies.append(reply)
        done.set()

    a.ctx.unblocked = unblocked
    started = time.monotonic()
    assert a("BLPOP", "k", "0.05") is NO_REPLY
    await asyncio.wait_for(done.wait(), 2)
    assert time.monotonic() - started >= 0.05
    assert a.replies == [NULL_ARRAY]
    assert run.app.blocked_clients == 0


async def test_serving_cancels_the_timer(run: Runner) -> None:
    a = Client(run)
    a("BLPOP", "k", "10")
    waiter = a.ctx.blocked
    assert waiter is not None
    assert waiter.timer is not None
    timer = waiter.timer
    run("RPUSH", "k", "x")
    assert timer.cancelled()
    assert a.replies == [[b"k", b"x"]]


def test_swapped_in_data_serves_clients_blocked_on_the_database_index(run: Runner) -> None:
    # SWAPDB swaps contents; clients stay blocked on their index (Redis's swapdb).
    a = Client(run)
    a("BLPOP", "k", "0")
    run("SELECT", "1")
    run("RPUSH", "k", "from-db1")
    run("SELECT", "0")
    run.app.keyspace.swap(0, 1)
    run.app.handle_ready_keys()
    assert a.replies == [[b"k", b"from-db1"]]


def test_stream_matches_what_a_redis_replica_receives(run: Runner) -> None:
    # The same scenario against redis-server 7.0.15, read from its replication stream (SYNC).
    a, b, c, d = Client(run), Client(run), Client(run), Client(run)
    a("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")
    b("BLMPOP", "0", "1", "dst", "LEFT", "COUNT", "5")
    c("BRPOPLPUSH", "q", "w", "0")
    run("RPUSH", "src", "1", "2")
    run("RPUSH", "q", "x")
    run("RPUSH", "m", "1", "2")
    run("BLMPOP", "0", "1", "m", "RIGHT", "COUNT", "5")
    run("BLMOVE", "w", "m", "left", "Right", "0")
    d("BLPOP", "z", "0")
    run("LPUSH", "z", "1")
    assert stream(run) == [
        [b"RPUSH", b"src", b"1", b"2"],
        [b"LMOVE", b"src", b"dst", b"right", b"left"],
        [b"LPOP", b"dst", b"1"],
        [b"RPUSH", b"q", b"x"],
        [b"RPOPLPUSH", b"q", b"w"],
        [b"RPUSH", b"m", b"1", b"2"],
        [b"RPOP", b"m", b"2"],
        [b"LMOVE", b"w", b"m", b"left", b"Right"],
        [b"LPUSH", b"z", b"1"],
        [b"LPOP", b"z"],
    ]


def test_served_moves_send_the_events_redis_sends(run: Runner) -> None:
    # As observed on redis-server 7.0.15 with notify-keyspace-events KElgn.
    seen: list[bytes] = []

    def publish(channel: bytes, message: bytes) -> int:
        if channel.startswith(b"__keyevent@"):
            seen.append(channel.split(b":", 1)[1] + b" " + message)
        return 0

    run.app.publish = publish
    run.app.config.set("notify-keyspace-events", ["KElgn"])
    a, b = Client(run), Client(run)
    a("BLMOVE", "s", "t", "LEFT", "RIGHT", "0")
    run("RPUSH", "s", "v")
    b("BLMPOP", "0", "1", "u", "LEFT", "COUNT", "3")
    run("RPUSH", "u", "1", "2")
    assert seen == [
        b"new s",
        b"rpush s",
        b"new t",
        b"rpush t",
        b"lpop s",
        b"del s",
        b"new u",
        b"rpush u",
        b"lpop u",
        b"del u",
    ]

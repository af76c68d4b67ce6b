"""MULTI / EXEC / DISCARD / WATCH in-process, and how a transaction reaches the write stream."""

from __future__ import annotations

import pytest

from protocol.resp import NULL_ARRAY, OK, QUEUED, RespError, SimpleString, encode_commands
from server.commands.table import COMMANDS, CommandSpec, Flag
from server.context import CommandContext
from server.errors import ERR_READONLY
from tests.support import Runner

EXECABORT = RespError("EXECABORT Transaction discarded because of previous errors.")


def feed_since(run: Runner, start: int) -> bytes:
    return b"".join(run.feed[start:])


def commands(*argvs: tuple[str, ...]) -> bytes:
    return encode_commands([[a.encode() for a in argv] for argv in argvs])


# --- MULTI / EXEC / DISCARD ---


def test_exec_returns_the_replies_of_the_queued_commands(run: Runner) -> None:
    assert run("MULTI") is OK
    assert run("SET", "k", "v") is QUEUED
    assert run("GET", "k") is QUEUED
    assert run("DEL", "k", "nope") is QUEUED
    assert run("EXEC") == [OK, b"v", 1]
    assert run.ctx.multi is None


def test_empty_transaction(run: Runner) -> None:
    run("MULTI")
    assert run("EXEC") == []


def test_runtime_error_inside_exec_does_not_stop_the_others(run: Runner) -> None:
    run("SET", "s", "abc")
    run("MULTI")
    run("SET", "x", "1")
    run("SELECT", "100")
    run("SET", "y", "2")
    assert run("EXEC") == [OK, RespError("ERR DB index is out of range"), OK]
    assert run("GET", "y") == b"2"


def test_nested_multi_is_an_error_that_keeps_the_transaction(run: Runner) -> None:
    run("MULTI")
    assert run("MULTI") == RespError("ERR MULTI calls can not be nested")
    run("SET", "x", "1")
    assert run("EXEC") == [OK]


def test_exec_and_discard_without_multi(run: Runner) -> None:
    assert run("EXEC") == RespError("ERR EXEC without MULTI")
    assert run("DISCARD") == RespError("ERR DISCARD without MULTI")


def test_discard_drops_the_queue(run: Runner) -> None:
    run("MULTI")
    run("SET", "x", "1")
    assert run("DISCARD") is OK
    assert run("GET", "x") is None
    assert run("EXEC") == RespError("ERR EXEC without MULTI")


@pytest.mark.parametrize(
    "bad",
    [("NOSUCH", "a"), ("GET",), ("SET", "k")],
    ids=["unknown", "arity", "arity2"],
)
def test_a_command_rejected_when_queued_aborts_exec(run: Runner, bad: tuple[str, ...]) -> None:
    run("MULTI")
    run("SET", "x", "1")
    assert isinstance(run(*bad), RespError)
    run("SET", "y", "1")
    assert run("EXEC") == EXECABORT
    assert run("GET", "x") is None
    assert run.ctx.multi is None
    # The next transaction starts clean.
    run("MULTI")
    run("SET", "z", "1")
    assert run("EXEC") == [OK]


def test_exec_with_arguments_discards_the_transaction(run: Runner) -> None:
    run("MULTI")
    run("SET", "x", "1")
    assert run("EXEC", "now") == RespError(
        "EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command"
    )
    assert run("EXEC") == RespError("ERR EXEC without MULTI")
    assert run("GET", "x") is None


def test_no_multi_commands_are_refused_inside_multi(run: Runner) -> None:
    spec = CommandSpec(
        name="nomultitest", handler=lambda ctx, argv: OK, arity=1, flags=Flag.NO_MULTI
    )
    COMMANDS[b"NOMULTITEST"] = spec
    try:
        assert run("NOMULTITEST") is OK
        run("MULTI")
        assert run("NOMULTITEST") == RespError("ERR Command not allowed inside a transaction")
        assert run("EXEC") == EXECABORT
    finally:
        del COMMANDS[b"NOMULTITEST"]


def test_commands_that_run_at_once_inside_multi(run: Runner) -> None:
    run("MULTI")
    assert run("WATCH", "k") == RespError("ERR WATCH inside MULTI is not allowed")
    # Neither error aborts the transaction.
    assert run("MULTI") == RespError("ERR MULTI calls can not be nested")
    run("SET", "k", "v")
    assert run("EXEC") == [OK]


def test_unwatch_and_ping_are_queued(run: Runner) -> None:
    run("MULTI")
    assert run("UNWATCH") is QUEUED
    assert run("PING") is QUEUED
    assert run("EXEC") == [OK, SimpleString(b"PONG")]


def test_reset_ends_the_transaction(run: Runner) -> None:
    run("WATCH", "k")
    run("MULTI")
    run("SET", "x", "1")
    assert run("RESET") == SimpleString(b"RESET")
    assert run.ctx.multi is None
    assert run.ctx.watched == {}
    assert run.app.keyspace.dbs[0].watched == {}
    assert run("EXEC") == RespError("ERR EXEC without MULTI")


def test_exec_on_a_read_only_replica_is_refused_when_it_writes(run: Runner) -> None:
    run("MULTI")
    run("GET", "k")
    run("SET", "k", "v")
    run.app.is_replica = True
    try:
        assert run("EXEC") == RespError(
            "EXECABORT Transaction discarded because of: " + ERR_READONLY
        )
    finally:
        run.app.is_replica = False
    assert run.ctx.multi is None


def test_exec_refused_by_a_write_guard(run: Runner) -> None:
    armed: list[bool] = []
    run.app.add_write_guard(
        lambda ctx, spec: "OOM nope" if armed and spec.denyoom else None, lambda: bool(armed)
    )
    run("MULTI")
    run("SET", "k", "v")
    armed.append(True)
    run.app.refresh_guards()
    assert run("EXEC") == RespError("EXECABORT Transaction discarded because of: OOM nope")
    assert run("GET", "k") is None


def test_exec_while_loading_is_refused_when_a_command_cannot_run_then(run: Runner) -> None:
    run("MULTI")
    run("SET", "k", "v")
    run.app.loading = True
    try:
        assert run("EXEC") == RespError(
            "EXECABORT Transaction discarded because of: LOADING Redis is loading the dataset in "
            "memory"
        )
    finally:
        run.app.loading = False


def test_monitors_see_the_queued_commands_between_multi_and_exec(run: Runner) -> None:
    lines: list[bytes] = []
    monitor = run.client()
    monitor.push = lines.append
    run.app.monitors.append(monitor)
    run("MULTI")
    run("SET", "k", "v")
    run("EXEC")
    assert [line.split(b"] ", 1)[1] for line in lines] == [
        b'"MULTI"',
        b'"SET" "k" "v"',
        b'"EXEC"',
    ]


def test_after_exec_hooks_run_after_the_commands(run: Runner) -> None:
    seen: list[bytes | None] = []
    run.app.after_exec_hooks.append(lambda ctx: seen.append(ctx.db.get(b"k")))
    run("MULTI")
    run("SET", "k", "v")
    run("EXEC")
    assert seen == [b"v"]
    assert run.app.in_exec is False


# --- WATCH ---


@pytest.fixture
def other(run: Runner) -> CommandContext:
    return run.client()


def test_watched_key_written_by_another_client_fails_exec(run: Runner, other) -> None:
    run("SET", "k", "1")
    assert run("WATCH", "k") is OK
    run("SET", "k", "2", ctx=other)
    run("MULTI")
    run("SET", "k", "3")
    assert run("EXEC") is NULL_ARRAY
    assert run("GET", "k") == b"2"
    # The failure consumed the watch: the next transaction runs.
    run("MULTI")
    run("SET", "k", "4")
    assert run("EXEC") == [OK]


def test_write_between_multi_and_exec_fails_exec(run: Runner, other) -> None:
    run("WATCH", "k")
    run("MULTI")
    run("SET", "k", "mine")
    run("SET", "k", "theirs", ctx=other)
    assert run("EXEC") is NULL_ARRAY
    assert run("GET", "k") == b"theirs"


def test_own_write_before_multi_fails_exec(run: Runner) -> None:
    run("WATCH", "k")
    run("SET", "k", "1")
    run("MULTI")
    run("PING")
    assert run("EXEC") is NULL_ARRAY


def test_writes_that_change_nothing_do_not_fail_exec(run: Runner, other) -> None:
    run("WATCH", "k", "j")
    run("DEL", "k", ctx=other)
    run("SET", "j", "v", "XX", ctx=other)
    run("GET", "k", ctx=other)
    run("MULTI")
    run("PING")
    assert run("EXEC") == [SimpleString(b"PONG")]


def test_unwatch_forgets_the_keys(run: Runner, other) -> None:
    run("WATCH", "k")
    assert run("UNWATCH") is OK
    run("SET", "k", "1", ctx=other)
    run("MULTI")
    run("PING")
    assert run("EXEC") == [SimpleString(b"PONG")]
    assert run.app.keyspace.dbs[0].watched == {}


def test_unwatch_clears_a_dirty_watch(run: Runner, other) -> None:
    run("WATCH", "k")
    run("SET", "k", "1", ctx=other)
    run("UNWATCH")
    run("MULTI")
    run("PING")
    assert run("EXEC") == [SimpleString(b"PONG")]


def test_discard_unwatches(run: Runner, other) -> None:
    run("WATCH", "k")
    run("MULTI")
    run("DISCARD")
    run("SET", "k", "1", ctx=other)
    run("MULTI")
    run("PING")
    assert run("EXEC") == [SimpleString(b"PONG")]


def test_watch_after_a_dirty_watch_stays_dirty(run: Runner, other) -> None:
    run("WATCH", "k")
    run("SET", "k", "1", ctx=other)
    run("WATCH", "j")
    run("MULTI")
    run("PING")
    assert run("EXEC") is NULL_ARRAY


def test_watch_is_per_database(run: Runner, other) -> None:
    run("WATCH", "k")
    run("SELECT", "1", ctx=other)
    run("SET", "k", "1", ctx=other)
    run("MULTI")
    run("PING")
    assert run("EXEC") == [SimpleString(b"PONG")]


def test_watched_key_that_expires_fails_exec_even_unread(run: Runner) -> None:
    run("SET", "k", "v", "PX", "100")
    run("WATCH", "k")
    run.clock.advance(200)
    run("MULTI")
    run("PING")
    assert run("EXEC") is NULL_ARRAY


def test_watched_key_reclaimed_by_a_read_fails_exec(run: Runner, other) -> None:
    run("SET", "k", "v", "PX", "100")
    run("WATCH", "k")
    run.clock.advance(200)
    assert run("GET", "k", ctx=other) is None
    run("MULTI")
    run("PING")
    assert run("EXEC") is NULL_ARRAY


def test_watched_key_reclaimed_by_active_expiry_fails_exec(run: Runner) -> None:
    run("SET", "k", "v", "PX", "100")
    run("WATCH", "k")
    run.clock.advance(200)
    assert run.app.keyspace.active_expire_cycle(1.0) == 1
    run("MULTI")
    run("PING")
    assert run("EXEC") is NULL_ARRAY


def test_key_already_expired_when_watched_is_no_change_when_reclaimed(run: Runner, other) -> None:
    run("SET", "k", "v", "PX", "100")
    run.clock.advance(200)
    run("WATCH", "k")
    run("GET", "k", ctx=other)  # reclaims it
    run("MULTI")
    run("PING")
    assert run("EXEC") == [SimpleString(b"PONG")]


def test_key_already_expired_when_watched_then_written_fails_exec(run: Runner, other) -> None:
    run("SET", "k", "v", "PX", "100")
    run.clock.advance(200)
    run("WATCH", "k")
    run("SET", "k", "new", ctx=other)
    run("MULTI")
    run("PING")
    assert run("EXEC") is NULL_ARRAY


@pytest.mark.parametrize("flush", [("FLUSHDB",), ("FLUSHALL",), ("FLUSHALL", "ASYNC")])
def test_flush_fails_exec_when_the_watched_key_existed(
    run: Runner, other, flush: tuple[str, ...]
) -> None:
    run("SET", "k", "v")
    run("WATCH", "k")
    run(*flush, ctx=other)
    run("MULTI")
    run("PING")
    assert run("EXEC") is NULL_ARRAY


def test_flush_of_an_absent_watched_key_changes_nothing(run: Runner, other) -> None:
    run("SET", "other", "v")
    run("WATCH", "k")
    run("FLUSHALL", ctx=other)
    run("MULTI")
    run("PING")
    assert run("EXEC") == [SimpleString(b"PONG")]


def test_flush_of_a_key_expired_when_watched_changes_nothing(run: Runner, other) -> None:
    run("SET", "k", "v", "PX", "100")
    run.clock.advance(200)
    run("WATCH", "k")
    run("FLUSHALL", ctx=other)
    run("MULTI")
    run("PING")
    assert run("EXEC") == [SimpleString(b"PONG")]


def test_swapdb_fails_exec_when_either_side_has_the_key(run: Runner, other) -> None:
    run("SELECT", "1", ctx=other)
    run("SET", "k", "in db1", ctx=other)
    run("WATCH", "k")  # absent in db 0
    run.app.keyspace.swap(0, 1)
    run("MULTI")
    run("PING")
    assert run("EXEC") is NULL_ARRAY
    assert run("GET", "k") == b"in db1"


def test_swapdb_without_the_key_on_either_side_changes_nothing(run: Runner) -> None:
    run("WATCH", "k")
    run.app.keyspace.swap(0, 1)
    run("MULTI")
    run("PING")
    assert run("EXEC") == [SimpleString(b"PONG")]


def test_disconnect_forgets_watched_keys(run: Runner, other) -> None:
    run("WATCH", "a", "b", ctx=other)
    assert set(run.app.keyspace.dbs[0].watched) == {b"a", b"b"}
    run.app.client_closed(other)
    assert run.app.keyspace.dbs[0].watched == {}


def test_a_dirty_client_stops_watching(run: Runner, other) -> None:
    run("WATCH", "a", "b")
    run("SET", "a", "1", ctx=other)
    assert run.ctx.dirty_cas
    assert run.app.keyspace.dbs[0].watched == {}


# --- the write stream ---


@pytest.fixture
def start(run: Runner) -> int:
    run("SET", "warmup", "1")  # the stream has selected db 0
    return len(run.feed)


def test_transaction_propagates_as_multi_effects_exec(run: Runner, start: int) -> None:
    run("MULTI")
    run("SET", "a", "1")
    run("GET", "a")
    run("SET", "b", "2", "EX", "10")
    run("EXEC")
    deadline = run.clock.now_ms() + 10_000
    assert feed_since(run, start) == commands(
        ("MULTI",), ("SET", "a", "1"), ("SET", "b", "2", "PXAT", str(deadline)), ("EXEC",)
    )


def test_transaction_with_one_write_propagates_it_alone(run: Runner, start: int) -> None:
    run("MULTI")
    run("GET", "a")
    run("SET", "a", "1")
    run("EXEC")
    assert feed_since(run, start) == commands(("SET", "a", "1"))


def test_read_only_transaction_propagates_nothing(run: Runner, start: int) -> None:
    run("MULTI")
    run("GET", "a")
    run("EXEC")
    run("MULTI")
    run("DISCARD")
    assert feed_since(run, start) == b""


def test_transaction_across_databases_selects_before_multi(run: Runner, start: int) -> None:
    run("SELECT", "3")
    run("MULTI")
    run("SET", "a", "1")
    run("SELECT", "4")
    run("SET", "b", "1")
    run("EXEC")
    run("SELECT", "0")
    run("SET", "c", "1")
    assert feed_since(run, start) == commands(
        ("SELECT", "3"),
        ("MULTI",),
        ("SET", "a", "1"),
        ("SELECT", "4"),
        ("SET", "b", "1"),
        ("EXEC",),
        ("SELECT", "0"),
        ("SET", "c", "1"),
    )


def test_lazy_expiry_inside_a_write_is_wrapped_with_it(run: Runner, start: int) -> None:
    run("SET", "k", "v", "PX", "100")
    run.clock.advance(200)
    before = len(run.feed)
    run("SET", "k", "v2")
    assert feed_since(run, before) == commands(
        ("MULTI",), ("DEL", "k"), ("SET", "k", "v2"), ("EXEC",)
    )


def test_lazy_expiry_inside_a_read_is_a_bare_del(run: Runner, start: int) -> None:
    run("SET", "k", "v", "PX", "100")
    run.clock.advance(200)
    before = len(run.feed)
    assert run("GET", "k") is None
    assert feed_since(run, before) == commands(("DEL", "k"))


def test_expired_read_inside_exec_joins_the_transaction(run: Runner, start: int) -> None:
    run("SET", "x", "1", "PX", "10")
    run.clock.advance(50)
    before = len(run.feed)
    run("MULTI")
    run("GET", "x")
    run("SET", "y", "1")
    assert run("EXEC") == [None, OK]
    assert feed_since(run, before) == commands(
        ("MULTI",), ("DEL", "x"), ("SET", "y", "1"), ("EXEC",)
    )


def test_active_expiry_is_never_wrapped(run: Runner, start: int) -> None:
    run("SET", "a", "1", "PX", "10")
    run("SET", "b", "1", "PX", "10")
    run.clock.advance(50)
    before = len(run.feed)
    run.app.keyspace.active_expire_cycle(1.0)
    assert sorted(run.feed[before:]) == sorted([commands(("DEL", "a")), commands(("DEL", "b"))])


def test_aborted_transactions_propagate_nothing(run: Runner, other, start: int) -> None:
    run("WATCH", "k")
    run("SET", "k", "x", ctx=other)
    before = len(run.feed)
    run("MULTI")
    run("SET", "a", "1")
    run("SET", "b", "1")
    assert run("EXEC") is NULL_ARRAY
    run("MULTI")
    run("SET", "a", "1")
    run("NOSUCH")
    assert run("EXEC") == EXECABORT
    assert feed_since(run, before) == b""

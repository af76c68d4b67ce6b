"""Expiry commands in-process with a fake clock: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL,
PTTL, EXPIRETIME, PEXPIRETIME, PERSIST."""

from __future__ import annotations

import pytest

from protocol.resp import RespError
from server.commands.table import COMMANDS
from server.dispatch import call
from tests.support import Runner
from tests.unit.commands.keyspace_helpers import capture_events, feed_of, keyspace_events, watch

NOT_INT = RespError("ERR value is not an integer or out of range")
LLONG_MAX = 2**63 - 1


def test_expire_sets_a_deadline_and_propagates_pexpireat(run: Runner) -> None:
    now = run.clock.now_ms()
    run("SET", "k", "v")
    assert run("EXPIRE", "k", "100") == 1
    assert run("PTTL", "k") == 100_000
    assert run.feed[-1] == feed_of(["PEXPIREAT", "k", str(now + 100_000)])[0]
    assert run("PEXPIRE", "k", "1500") == 1
    assert run.feed[-1] == feed_of(["PEXPIREAT", "k", str(now + 1500)])[0]
    assert run("EXPIREAT", "k", "1800000000") == 1
    assert run.feed[-1] == feed_of(["PEXPIREAT", "k", "1800000000000"])[0]


def test_pexpireat_is_propagated_as_sent(run: Runner) -> None:
    run("SET", "k", "v")
    assert run("pexpireat", "k", "1800000000123", "gt") == 0
    assert run("pexpireat", "k", "1800000000123") == 1
    assert run.feed[-1] == feed_of(["pexpireat", "k", "1800000000123"])[0]


def test_flags_are_kept_in_the_propagated_command(run: Runner) -> None:
    now = run.clock.now_ms()
    run("SET", "k", "v", "PX", "10")
    assert run("EXPIRE", "k", "100", "gt", "XX") == 1
    assert run.feed[-1] == feed_of(["PEXPIREAT", "k", str(now + 100_000), "gt", "XX"])[0]


def test_expire_of_a_missing_key_changes_nothing(run: Runner) -> None:
    assert run("EXPIRE", "nope", "10") == 0
    assert run("PEXPIREAT", "nope", "1") == 0
    assert run.feed == []


def test_a_deadline_in_the_past_deletes_and_propagates_del(run: Runner) -> None:
    events = capture_events(run)
    for argv in (
        ["EXPIRE", "k", "0"],
        ["EXPIRE", "k", "-10"],
        ["PEXPIRE", "k", "0"],
        ["EXPIREAT", "k", "1"],
        ["PEXPIREAT", "k", str(run.clock.now_ms())],
    ):
        run("SET", "k", "v")
        events.clear()
        assert run(*argv) == 1, argv
        assert run("EXISTS", "k") == 0
        assert run.feed[-1] == feed_of(["DEL", "k"])[0]
        assert keyspace_events(events) == [(b"__keyspace@0__:k", b"del")]


def test_deadline_one_ms_ahead_is_kept(run: Runner) -> None:
    run("SET", "k", "v")
    assert run("PEXPIREAT", "k", str(run.clock.now_ms() + 1)) == 1
    assert run("PTTL", "k") == 1
    run.clock.advance(1)
    assert run("PTTL", "k") == 0
    run.clock.advance(1)
    assert run("PTTL", "k") == -2


def test_past_deadline_with_lazyfree_lazy_expire_propagates_unlink(run: Runner) -> None:
    run.app.config.set("lazyfree-lazy-expire", ["yes"])
    run("SET", "k", "v")
    assert run("EXPIRE", "k", "-1") == 1
    assert run.feed[-1] == feed_of(["UNLINK", "k"])[0]


def test_while_loading_a_past_deadline_is_stored_not_applied(run: Runner) -> None:
    run("SET", "k", "v")
    run.app.loading = True
    argv = [b"PEXPIREAT", b"k", b"1000"]
    assert call(run.ctx, COMMANDS[b"PEXPIREAT"], argv) == 1
    run.app.loading = False
    assert run.app.keyspace.dbs[0].peek(b"k") == b"v"
    assert run("GET", "k") is None
    assert run.feed[-1] == feed_of(["DEL", "k"])[0]


def test_on_a_replica_a_past_deadline_waits_for_the_primary(run: Runner) -> None:
    run("SET", "k", "v")
    run.app.is_replica = True
    run.app.keyspace.expire_on_lookup = False
    run.ctx.is_primary_link = True
    assert run("EXPIRE", "k", "-1") == 1
    assert run.app.keyspace.dbs[0].get_expire(b"k") == run.clock.now_ms() - 1000
    assert run.app.keyspace.dbs[0].peek(b"k") == b"v"
    assert run("EXISTS", "k") == 0


def test_expire_event_and_signal(run: Runner) -> None:
    events = capture_events(run)
    run("SET", "k", "v")
    signalled = watch(run, 0, b"k")
    events.clear()
    run("EXPIRE", "k", "10")
    assert keyspace_events(events) == [(b"__keyspace@0__:k", b"expire")]
    assert signalled == [(0, b"k")]


def test_nx_xx_gt_lt(run: Runner) -> None:
    run("SET", "k", "v")
    assert run("EXPIREAT", "k", "2000000000", "XX") == 0
    assert run("EXPIREAT", "k", "2000000000", "GT") == 0
    assert run("EXPIREAT", "k", "2000000000", "LT") == 1
    assert run("EXPIREAT", "k", "2000000001", "NX") == 0
    assert run("EXPIREAT", "k", "2000000000", "GT") == 0
    assert run("EXPIREAT", "k", "2000000001", "GT") == 1
    assert run("EXPIREAT", "k", "2000000001", "LT") == 0
    assert run("EXPIREAT", "k", "2000000000", "lt", "xx") == 1
    assert run("EXPIRETIME", "k") == 2000000000
    run("PERSIST", "k")
    assert run("EXPIREAT", "k", "2000000005", "NX") == 1
    assert run("EXPIRETIME", "k") == 2000000005


def test_nothing_is_propagated_when_a_flag_refuses(run: Runner) -> None:
    run("SET", "k", "v")
    sent = len(run.feed)
    assert run("EXPIRE", "k", "10", "XX") == 0
    assert len(run.feed) == sent


@pytest.mark.parametrize(
    ("flags", "error"),
    [
        (["NX", "XX"], "ERR NX and XX, GT or LT options at the same time are not compatible"),
        (["NX", "GT"], "ERR NX and XX, GT or LT options at the same time are not compatible"),
        (["lt", "nx"], "ERR NX and XX, GT or LT options at the same time are not compatible"),
        (["GT", "LT"], "ERR GT and LT options at the same time are not compatible"),
        (["XX", "GT", "LT"], "ERR GT and LT options at the same time are not compatible"),
        (["NX", "NOPE"], "ERR Unsupported option NOPE"),
        (["nope\r\n"], "ERR Unsupported option nope"),
    ],
)
def test_option_errors(run: Runner, flags: list[str], error: str) -> None:
    run("SET", "k", "v")
    assert run("EXPIRE", "k", "10", *flags) == RespError(error)
    # Options are checked before the time argument.
    assert run("PEXPIRE", "k", "abc", *flags) == RespError(error)


@pytest.mark.parametrize(
    ("command", "value"),
    [
        ("EXPIRE", "9223372036854775807"),
        ("EXPIRE", "9223372036854776"),
        ("EXPIRE", "-9223372036854776"),
        ("EXPIRE", "9223372036854775"),  # fits as ms, overflows when now is added
        ("PEXPIRE", "9223372036854775807"),
        ("EXPIREAT", "9223372036854776"),
        ("EXPIREAT", "-9223372036854776"),
    ],
)
def test_overflow_is_an_invalid_expire_time(run: Runner, command: str, value: str) -> None:
    assert run(command, "nope", value) == RespError(
        f"ERR invalid expire time in '{command.lower()}' command"
    )


def test_extreme_absolute_deadlines_are_accepted(run: Runner) -> None:
    run("SET", "k", "v")
    assert run("PEXPIREAT", "k", str(LLONG_MAX)) == 1
    assert run("PEXPIRETIME", "k") == LLONG_MAX
    assert run("EXPIREAT", "k", "9223372036854775") == 1
    assert run("EXPIRETIME", "k") == 9223372036854775
    assert run("EXPIREAT", "k", "-9223372036854775") == 1
    assert run("EXISTS", "k") == 0


def test_time_argument_errors(run: Runner) -> None:
    run("SET", "k", "v")
    for value in ("abc", "1.5", "", " 1", "9223372036854775808"):
        assert run("EXPIRE", "k", value) == NOT_INT


def test_ttl_replies(run: Runner) -> None:
    assert [run(c, "nope") for c in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME")] == [-2] * 4
    run("SET", "k", "v")
    assert [run(c, "k") for c in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME")] == [-1] * 4
    now = run.clock.now_ms()
    run("PEXPIRE", "k", "1499")
    assert run("TTL", "k") == 1
    assert run("PTTL", "k") == 1499
    assert run("PEXPIRETIME", "k") == now + 1499
    assert run("EXPIRETIME", "k") == (now + 1499 + 500) // 1000
    run("PEXPIRE", "k", "1500")
    assert run("TTL", "k") == 2
    run.clock.advance(1500)
    assert (run("TTL", "k"), run("PTTL", "k")) == (0, 0)
    run.clock.advance(1)
    assert run("TTL", "k") == -2


def test_ttl_of_an_expired_key_reclaims_it(run: Runner) -> None:
    run("SET", "k", "v", "PX", "10")
    run.clock.advance(11)
    assert run("PTTL", "k") == -2
    assert run.feed[-1] == feed_of(["DEL", "k"])[0]
    assert run.app.keyspace.dbs[0].peek(b"k") is None


def test_persist(run: Runner) -> None:
    events = capture_events(run)
    assert run("PERSIST", "nope") == 0
    run("SET", "k", "v")
    assert run("PERSIST", "k") == 0
    run("EXPIRE", "k", "100")
    events.clear()
    sent = len(run.feed)
    assert run("PERSIST", "k") == 1
    assert run("TTL", "k") == -1
    assert run.feed[sent:] == feed_of(["PERSIST", "k"])
    assert keyspace_events(events) == [(b"__keyspace@0__:k", b"persist")]


def test_persist_of_an_expired_key(run: Runner) -> None:
    run("SET", "k", "v", "PX", "5")
    run.clock.advance(6)
    assert run("PERSIST", "k") == 0
    assert run("EXISTS", "k") == 0


def test_the_active_cycle_finds_every_way_a_deadline_arrives(run: Runner) -> None:
    """The cycle skips a database in which it found no deadline, until one arrives: with
    SET .. PX, with EXPIRE, or with a database swapped in (FLUSHALL leaves none)."""
    keyspace = run.app.keyspace
    db = keyspace.dbs[0]
    assert keyspace.active_expire_cycle(1.0) == 0
    assert db.deadlines_seen is False  # one test per cycle for this database
    run("SET", "a", "1", "PX", "10")
    run.clock.advance(50)
    assert keyspace.active_expire_cycle(1.0) == 1
    assert keyspace.active_expire_cycle(1.0) == 0
    assert db.deadlines_seen is False
    run("SET", "b", "1")
    run("EXPIRE", "b", "1")
    run.clock.advance(2000)
    assert keyspace.active_expire_cycle(1.0) == 1
    assert keyspace.active_expire_cycle(1.0) == 0
    run("SELECT", "1")
    run("SET", "c", "1", "PX", "10")
    run("SWAPDB", "0", "1")
    run.clock.advance(50)
    assert keyspace.active_expire_cycle(1.0) == 1
    assert run("DBSIZE") == 0
    run("SET", "d", "1", "PX", "10")
    assert keyspace.dbs[1].deadlines_seen is True
    run("FLUSHALL")
    assert keyspace.dbs[1].deadlines_seen is False

"""memcached verbs in-process: storage mapping, exptime with a fake clock, the shared keyspace,
propagation and the metadata effect, replicas, meta commands' stampede protection."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings, strategies as st

from protocol.resp import OK, RespError
from server.context import CommandContext
from server.dispatch import call, execute as resp_execute, resolve
from server.memcache_meta import (
    MCMETA_CHANNEL,
    apply_table,
    encode_table,
    intercept,
    meta_effect,
    parse_meta_message,
)
from server.memcache_state import forget_item_meta, service_for
from tests.memcache_support import MemcacheRunner
from tests.support import Runner

DAY_S = 24 * 60 * 60


@pytest.fixture
def mc() -> MemcacheRunner:
    return MemcacheRunner()


def cas_of(reply: bytes) -> int:
    match = re.search(rb"VALUE \S+ \d+ \d+ (\d+)\r\n", reply) or re.search(rb" c(\d+)", reply)
    assert match is not None, reply
    return int(match.group(1))


def stream(mc: MemcacheRunner) -> list[list[bytes]]:
    """The write stream captured so far, decoded into argv lists (SELECT dropped)."""
    import hiredis

    reader = hiredis.Reader()
    for chunk in mc.run.feed:
        reader.feed(chunk)
    out: list[list[bytes]] = []
    while (item := reader.gets()) is not False:
        if item[0] != b"SELECT":
            out.append(item)
    return out


# --- storage commands ---


def test_set_then_get(mc: MemcacheRunner) -> None:
    assert mc("set k 5 0 3\r\nabc\r\n") == b"STORED\r\n"
    assert mc("get k\r\n") == b"VALUE k 5 3\r\nabc\r\nEND\r\n"


def test_flags_are_32_bit_and_returned_as_given(mc: MemcacheRunner) -> None:
    mc("set k 4294967295 0 1\r\nx\r\n")
    assert mc("get k\r\n") == b"VALUE k 4294967295 1\r\nx\r\nEND\r\n"


def test_get_many_keys_skips_misses(mc: MemcacheRunner) -> None:
    mc("set a 0 0 1\r\n1\r\nset c 0 0 1\r\n3\r\n")
    assert mc("get a b c\r\n") == b"VALUE a 0 1\r\n1\r\nVALUE c 0 1\r\n3\r\nEND\r\n"


def test_noreply_sends_nothing(mc: MemcacheRunner) -> None:
    assert mc("set k 0 0 1 noreply\r\nx\r\n") == b""
    assert mc("add k 0 0 1 noreply\r\ny\r\n") == b""
    assert mc("get k\r\n") == b"VALUE k 0 1\r\nx\r\nEND\r\n"


def test_add_replace(mc: MemcacheRunner) -> None:
    assert mc("replace k 0 0 1\r\nx\r\n") == b"NOT_STORED\r\n"
    assert mc("add k 0 0 1\r\nx\r\n") == b"STORED\r\n"
    assert mc("add k 0 0 1\r\ny\r\n") == b"NOT_STORED\r\n"
    assert mc("replace k 3 0 1\r\nz\r\n") == b"STORED\r\n"
    assert mc("get k\r\n") == b"VALUE k 3 1\r\nz\r\nEND\r\n"


def test_append_prepend_keep_flags_and_ttl(mc: MemcacheRunner) -> None:
    mc("set k 7 100 2\r\nbc\r\n")
    assert mc("append k 0 0 1\r\nd\r\n") == b"STORED\r\n"
    assert mc("prepend k 9 9 1\r\na\r\n") == b"STORED\r\n"
    assert mc("get k\r\n") == b"VALUE k 7 4\r\nabcd\r\nEND\r\n"
    assert mc.run("PTTL", "k") == 100_000


def test_append_to_a_missing_key(mc: MemcacheRunner) -> None:
    assert mc("append k 0 0 1\r\nx\r\n") == b"NOT_STORED\r\n"
    assert mc("prepend k 0 0 1\r\nx\r\n") == b"NOT_STORED\r\n"


def test_append_past_the_item_size_is_not_stored(mc: MemcacheRunner) -> None:
    big = 1024 * 1024 - 48 - 2 - 2 - 8 - 10
    assert mc(b"set k 0 0 %d\r\n" % big + b"x" * big + b"\r\n") == b"STORED\r\n"
    assert mc("append k 0 0 20\r\n" + "y" * 20 + "\r\n") == b"NOT_STORED\r\n"


def test_cas(mc: MemcacheRunner) -> None:
    mc("set k 0 0 1\r\na\r\n")
    token = cas_of(mc("gets k\r\n"))
    assert mc(f"cas k 0 0 1 {token + 1}\r\nb\r\n") == b"EXISTS\r\n"
    assert mc(f"cas k 0 0 1 {token}\r\nb\r\n") == b"STORED\r\n"
    assert mc(f"cas k 0 0 1 {token}\r\nc\r\n") == b"EXISTS\r\n"
    assert mc("cas missing 0 0 1 5\r\nc\r\n") == b"NOT_FOUND\r\n"


def test_cas_with_token_zero_is_exists(mc: MemcacheRunner) -> None:
    mc("set k 0 0 1\r\na\r\n")
    assert mc("cas k 0 0 1 0\r\nb\r\n") == b"EXISTS\r\n"


def test_cas_tokens_change_with_every_write_and_are_stable_between(mc: MemcacheRunner) -> None:
    mc("set k 0 0 1\r\na\r\n")
    first = cas_of(mc("gets k\r\n"))
    assert cas_of(mc("gets k\r\n")) == first
    mc("set k 0 0 1\r\nb\r\n")
    second = cas_of(mc("gets k\r\n"))
    assert second > first
    mc("touch k 100\r\n")
    assert cas_of(mc("gets k\r\n")) == second  # touch keeps the CAS, as in memcached


def test_bad_data_chunk(mc: MemcacheRunner) -> None:
    mc("set k 0 0 1\r\nold\r\n")
    assert mc("set k 0 0 3\r\nabcde\r\n") == b"CLIENT_ERROR bad data chunk\r\nERROR\r\n"
    assert mc("get k\r\n") == b"END\r\n"  # "old\r\n" was bad too: never stored


def test_too_large_is_refused_and_drops_the_old_value(mc: MemcacheRunner) -> None:
    mc("set k 0 0 1\r\nx\r\n")
    size = 2 * 1024 * 1024
    reply = mc(b"set k 0 0 %d\r\n" % size + b"y" * size + b"\r\nget k\r\n")
    assert reply == b"SERVER_ERROR object too large for cache\r\nEND\r\n"
    assert service_for(mc.app).stats.store_too_large == 1


def test_item_size_follows_the_directive() -> None:
    mc = MemcacheRunner(Runner([("memcache-max-item-size", ["2048"])]))
    assert mc(b"set k 0 0 3000\r\n" + b"x" * 3000 + b"\r\n") == (
        b"SERVER_ERROR object too large for cache\r\n"
    )
    assert mc(b"set k 0 0 1000\r\n" + b"x" * 1000 + b"\r\n") == b"STORED\r\n"


# --- exptime ---


def test_exptime_zero_never_expires(mc: MemcacheRunner) -> None:
    mc("set k 0 0 1\r\nx\r\n")
    mc.clock.advance(400 * DAY_S * 1000)
    assert mc("get k\r\n") == b"VALUE k 0 1\r\nx\r\nEND\r\n"
    assert mc.run("PTTL", "k") == -1


def test_relative_exptime_up_to_thirty_days(mc: MemcacheRunner) -> None:
    mc(f"set k 0 0 1\r\nx\r\nset m 0 {30 * DAY_S} 1\r\ny\r\n")
    assert mc.run("PTTL", "k") == -1
    assert mc.run("PTTL", "m") == 30 * DAY_S * 1000
    mc("set k 0 10 1\r\nx\r\n")
    mc.clock.advance(10_000)
    assert mc("get k\r\n") == b"VALUE k 0 1\r\nx\r\nEND\r\n"
    mc.clock.advance(1)
    assert mc("get k\r\n") == b"END\r\n"


def test_exptime_above_thirty_days_is_a_unix_time(mc: MemcacheRunner) -> None:
    now_s = mc.clock.now_ms() // 1000
    mc(f"set k 0 {now_s + 100} 1\r\nx\r\n")
    assert mc.run("PTTL", "k") == (now_s + 100) * 1000 - mc.clock.now_ms()
    mc(f"set old 0 {30 * DAY_S + 1} 1\r\nx\r\n")  # 1970: long gone
    assert mc("get old\r\n") == b"END\r\n"


def test_negative_exptime_is_already_expired(mc: MemcacheRunner) -> None:
    mc("set k 0 0 1\r\nx\r\n")
    assert mc("set k 0 -1 1\r\ny\r\n") == b"STORED\r\n"
    assert mc("get k\r\n") == b"END\r\n"
    assert mc.run("EXISTS", "k") == 0
    assert mc("add k 0 -1 1\r\nz\r\n") == b"STORED\r\n"
    assert mc("get k\r\n") == b"END\r\n"


def test_exptime_is_an_int32_as_memcached_reads_it(mc: MemcacheRunner) -> None:
    mc("set k 0 4294967296 1\r\nx\r\n")  # truncated to 0: never expires
    assert mc.run("PTTL", "k") == -1


def test_touch_and_gat(mc: MemcacheRunner) -> None:
    assert mc("touch k 10\r\n") == b"NOT_FOUND\r\n"
    mc("set k 3 0 1\r\nx\r\n")
    assert mc("touch k 10\r\n") == b"TOUCHED\r\n"
    assert mc.run("PTTL", "k") == 10_000
    assert mc("gat 0 k\r\n") == b"VALUE k 3 1\r\nx\r\nEND\r\n"
    assert mc.run("PTTL", "k") == -1
    reply = mc("gats 20 k missing\r\n")
    assert reply.startswith(b"VALUE k 3 1 ")
    assert reply.endswith(b"\r\nx\r\nEND\r\n")
    assert mc.run("PTTL", "k") == 20_000
    assert mc("touch k -1\r\n") == b"TOUCHED\r\n"
    assert mc("get k\r\n") == b"END\r\n"


# --- incr / decr ---


def test_incr_decr(mc: MemcacheRunner) -> None:
    assert mc("incr n 1\r\n") == b"NOT_FOUND\r\n"
    mc("set n 5 0 2\r\n10\r\n")
    assert mc("incr n 5\r\n") == b"15\r\n"
    assert mc("decr n 20\r\n") == b"0\r\n"  # decr stops at 0
    assert mc("get n\r\n") == b"VALUE n 5 2\r\n0 \r\nEND\r\n"  # rewritten in place, padded


def test_incr_after_an_mg_in_the_same_batch_is_not_in_place(mc: MemcacheRunner) -> None:
    # The mg reply, not yet written, holds the item as memcached's response object does; a
    # get writes its replies at once (conn_mwrite) and holds nothing.
    mc("set n 0 0 3\r\n007\r\n")
    assert mc("mg n v\r\nincr n 1\r\nget n\r\n") == (
        b"VA 3\r\n007\r\n8\r\nVALUE n 0 1\r\n8\r\nEND\r\n"
    )
    assert mc("get n\r\nincr n 1\r\nget n\r\n").endswith(b"VALUE n 0 1\r\n9\r\nEND\r\n")
    mc("set n 0 0 3\r\n007\r\n")
    assert mc("mg n\r\nmn\r\nincr n 1\r\nget n\r\n").endswith(b"VALUE n 0 3\r\n8  \r\nEND\r\n")


def test_incr_wraps_at_two_to_the_64(mc: MemcacheRunner) -> None:
    mc("set n 0 0 20\r\n18446744073709551615\r\n")
    assert mc("incr n 2\r\n") == b"1\r\n"


def test_incr_that_grows_keeps_flags_and_ttl(mc: MemcacheRunner) -> None:
    mc("set n 9 50 2\r\n99\r\n")
    assert mc("incr n 1\r\n") == b"100\r\n"
    assert mc("get n\r\n") == b"VALUE n 9 3\r\n100\r\nEND\r\n"
    assert mc.run("PTTL", "n") == 50_000


def test_incr_non_numeric(mc: MemcacheRunner) -> None:
    mc("set n 0 0 2\r\nab\r\nset e 0 0 0\r\n\r\nset m 0 0 2\r\n-1\r\n")
    error = b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
    assert mc("incr n 1\r\n") == error
    assert mc("incr e 1\r\n") == error
    assert mc("decr m 1\r\n") == error


def test_incr_accepts_what_strtoull_accepts(mc: MemcacheRunner) -> None:
    mc("set n 0 0 4\r\n 12 \r\n")
    assert mc("incr n 1\r\n") == b"13\r\n"
    assert mc("get n\r\n") == b"VALUE n 0 4\r\n13  \r\nEND\r\n"


def test_incr_bad_delta(mc: MemcacheRunner) -> None:
    assert mc("incr n x\r\n") == b"CLIENT_ERROR invalid numeric delta argument\r\n"


# --- delete, flush_all, misc ---


def test_delete(mc: MemcacheRunner) -> None:
    assert mc("delete k\r\n") == b"NOT_FOUND\r\n"
    mc("set k 0 0 1\r\nx\r\n")
    assert mc("delete k\r\n") == b"DELETED\r\n"
    assert mc("delete k noreply\r\n") == b""


def test_flush_all_at_once(mc: MemcacheRunner) -> None:
    mc("set a 0 0 1\r\n1\r\n")
    mc.run("SET", "b", "2")
    assert mc("flush_all\r\n") == b"OK\r\n"
    assert mc.run("DBSIZE") == 0


def test_flush_all_with_a_delay(mc: MemcacheRunner) -> None:
    mc("set a 0 0 1\r\n1\r\n")
    assert mc("flush_all 10\r\n") == b"OK\r\n"
    mc.clock.advance(8_000)
    mc.service.check_flush()
    assert mc("get a\r\n") == b"VALUE a 0 1\r\n1\r\nEND\r\n"
    mc.clock.advance(1_500)  # memcached flushes items older than delay - 1 seconds
    mc.service.check_flush()
    assert mc("get a\r\n") == b"END\r\n"


def test_a_new_flush_all_replaces_a_pending_one(mc: MemcacheRunner) -> None:
    mc("set a 0 0 1\r\n1\r\n")
    mc("flush_all 10\r\nflush_all 100\r\n")
    mc.clock.advance(20_000)
    mc.service.check_flush()
    assert mc("get a\r\n") == b"VALUE a 0 1\r\n1\r\nEND\r\n"


def test_flush_all_errors(mc: MemcacheRunner) -> None:
    assert mc("flush_all x\r\n") == b"CLIENT_ERROR invalid exptime argument\r\n"
    assert mc("flush_all noreply\r\n") == b""
    assert mc.service.stats.flush_cmds == 2


def test_version_verbosity_quit(mc: MemcacheRunner) -> None:
    assert mc("version\r\n") == b"VERSION 1.6.18\r\n"
    assert mc("verbosity 5\r\n") == b"OK\r\n"
    assert mc.service.verbosity == 2
    assert mc("verbosity 1 noreply\r\n") == b""
    assert mc("get a\r\nquit\r\nget b\r\n") == b"END\r\n"
    assert mc.closed


def test_shutdown_needs_to_be_enabled(mc: MemcacheRunner) -> None:
    assert mc("shutdown\r\n") == b"ERROR: shutdown not enabled\r\n"
    enabled = MemcacheRunner(Runner([("memcache-enable-shutdown", ["yes"])]))
    assert enabled("shutdown now\r\n") == b"CLIENT_ERROR invalid shutdown mode\r\n"
    assert enabled("shutdown graceful\r\n") == b""
    assert enabled.closed


def test_get_with_an_overlong_key_discards_the_pending_replies(mc: MemcacheRunner) -> None:
    reply = mc(b"set a 0 0 1\r\n1\r\nget a " + b"k" * 251 + b"\r\n")
    assert reply == b"CLIENT_ERROR bad command line format\r\n"
    assert mc(b"get a\r\nmn\r\nget " + b"k" * 251 + b"\r\n") == (
        b"VALUE a 0 1\r\n1\r\nEND\r\nMN\r\nCLIENT_ERROR bad command line format\r\n"
    )
    # A get writes its replies at once: a later error cannot take them back.
    assert mc(b"get a\r\nset b 0 0 1\r\n2\r\nget " + b"k" * 251 + b"\r\n") == (
        b"VALUE a 0 1\r\n1\r\nEND\r\nCLIENT_ERROR bad command line format\r\n"
    )


def test_key_with_control_bytes_is_accepted_as_memcached_does(mc: MemcacheRunner) -> None:
    assert mc("set a\tb 0 0 1\r\nx\r\n") == b"STORED\r\n"
    assert mc.run("GET", "a\tb") == b"x"


# --- the shared keyspace ---


def test_a_memcached_item_is_a_redis_string(mc: MemcacheRunner) -> None:
    mc("set k 42 100 5\r\nhello\r\n")
    assert mc.run("GET", "k") == b"hello"
    assert mc.run("TYPE", "k") == b"string"
    assert mc.run("PTTL", "k") == 100_000


def test_a_redis_string_is_an_item_with_flags_zero(mc: MemcacheRunner) -> None:
    assert mc.run("SET", "k", "v") is OK
    assert mc("get k\r\n") == b"VALUE k 0 1\r\nv\r\nEND\r\n"
    assert cas_of(mc("gets k\r\n")) > 0


def test_flags_survive_a_resp_get(mc: MemcacheRunner) -> None:
    mc("set k 42 0 1\r\nx\r\n")
    assert mc.run("GET", "k") == b"x"
    assert mc("get k\r\n") == b"VALUE k 42 1\r\nx\r\nEND\r\n"


def test_a_resp_write_clears_flags_and_changes_the_cas(mc: MemcacheRunner) -> None:
    mc("set k 42 0 1\r\nx\r\n")
    token = cas_of(mc("gets k\r\n"))
    mc.run("SET", "k", "y")
    reply = mc("gets k\r\n")
    assert reply.startswith(b"VALUE k 0 1 ")
    assert cas_of(reply) != token
    assert mc(f"cas k 0 0 1 {token}\r\nz\r\n") == b"EXISTS\r\n"


def test_resp_append_and_expire_count_as_writes(mc: MemcacheRunner) -> None:
    mc("set k 42 0 1\r\nx\r\n")
    mc.run("APPEND", "k", "y")
    assert mc("get k\r\n") == b"VALUE k 0 2\r\nxy\r\nEND\r\n"
    mc("set k 42 0 1\r\nx\r\n")
    mc.run("EXPIRE", "k", "100")
    assert mc("get k\r\n") == b"VALUE k 0 1\r\nx\r\nEND\r\n"


def test_resp_writes_cost_nothing_until_memcached_metadata_exists(mc: MemcacheRunner) -> None:
    keyspace = mc.app.keyspace
    mc.run("SET", "k", "v")
    assert keyspace.on_modified is None
    mc("set m 1 0 1\r\nx\r\n")
    assert hook(mc) is forget_item_meta
    mc("flush_all\r\n")
    mc.run("SET", "k", "v")  # the first RESP write finds no table and disarms the hook
    assert hook(mc) is None


def hook(mc: MemcacheRunner) -> object:
    return mc.app.keyspace.on_modified


def test_expiry_drops_metadata(mc: MemcacheRunner) -> None:
    mc("set k 42 1 1\r\nx\r\n")
    mc.clock.advance(2_000)
    assert mc("get k\r\n") == b"END\r\n"
    mc.run("SET", "k", "v")
    assert mc("get k\r\n") == b"VALUE k 0 1\r\nv\r\nEND\r\n"


def test_swapdb_moves_metadata_with_the_keys(mc: MemcacheRunner) -> None:
    mc("set k 42 0 1\r\nx\r\n")
    mc.run("SWAPDB", "0", "1")
    assert mc("get k\r\n") == b"END\r\n"
    mc.run("SWAPDB", "0", "1")
    assert mc("get k\r\n") == b"VALUE k 42 1\r\nx\r\nEND\r\n"


@pytest.fixture
def with_hash(mc: MemcacheRunner) -> MemcacheRunner:
    """A key holding a non-string value (an empty hash object, straight into storage)."""
    from storage.hashes import HashValue

    mc.app.keyspace.dbs[0].set(b"h", HashValue())
    return mc


def test_a_container_is_a_miss_for_reads(with_hash: MemcacheRunner) -> None:
    mc = with_hash
    assert mc("get h\r\n") == b"END\r\n"
    assert mc("gets h\r\n") == b"END\r\n"
    assert mc("mg h v\r\n") == b"EN\r\n"
    assert mc("me h\r\n") == b"EN\r\n"


def test_commands_that_need_an_item_leave_a_container_alone(with_hash: MemcacheRunner) -> None:
    mc = with_hash
    assert mc("delete h\r\n") == b"NOT_FOUND\r\n"
    assert mc("incr h 1\r\n") == b"NOT_FOUND\r\n"
    assert mc("touch h 10\r\n") == b"NOT_FOUND\r\n"
    assert mc("replace h 0 0 1\r\nx\r\n") == b"NOT_STORED\r\n"
    assert mc("append h 0 0 1\r\nx\r\n") == b"NOT_STORED\r\n"
    assert mc("cas h 0 0 1 1\r\nx\r\n") == b"NOT_FOUND\r\n"
    assert mc("add h 0 0 1\r\nx\r\n") == b"NOT_STORED\r\n"
    assert mc("md h\r\n") == b"NF\r\n"
    assert mc("mg h N30 v\r\n") == b"EN\r\n"
    assert mc("ma h N0 J5\r\n") == b"NF\r\n"
    assert mc.run("TYPE", "h") == b"hash"


def test_set_overwrites_a_container_like_redis_set(with_hash: MemcacheRunner) -> None:
    mc = with_hash
    assert mc("set h 0 0 1\r\nx\r\n") == b"STORED\r\n"
    assert mc.run("GET", "h") == b"x"


def test_memcached_uses_database_zero(mc: MemcacheRunner) -> None:
    mc.run("SELECT", "1")
    mc.run("SET", "k", "db1")
    assert mc("get k\r\n") == b"END\r\n"


# --- propagation ---


def test_set_propagates_absolute_times_and_metadata(mc: MemcacheRunner) -> None:
    now = mc.clock.now_ms()
    mc("set k 7 100 1\r\nx\r\nset plain 0 0 1\r\ny\r\n")
    assert stream(mc) == [
        [b"SET", b"k", b"x", b"PXAT", str(now + 100_000).encode()],
        meta_effect(b"k", 7, 0),
        [b"SET", b"plain", b"y"],
    ]


def test_each_write_propagates_its_effect(mc: MemcacheRunner) -> None:
    mc("set n 0 0 2\r\n10\r\n")
    mc.run.feed.clear()
    now = mc.clock.now_ms()
    mc("incr n 5\r\nappend n 0 0 1\r\n0\r\nprepend n 0 0 1\r\n1\r\n")
    mc("touch n 10\r\ntouch n 0\r\ndelete n\r\nflush_all\r\n")
    assert stream(mc) == [
        [b"SET", b"n", b"15", b"KEEPTTL"],
        [b"APPEND", b"n", b"0"],
        [b"SET", b"n", b"1150", b"KEEPTTL"],
        [b"PEXPIREAT", b"n", str(now + 10_000).encode()],
        [b"PERSIST", b"n"],
        [b"DEL", b"n"],
        [b"FLUSHDB"],
    ]


def test_metadata_follows_every_effect_of_an_item_with_flags(mc: MemcacheRunner) -> None:
    mc("set k 3 0 1\r\n1\r\n")
    mc.run.feed.clear()
    mc("touch k 100\r\nincr k 1\r\n")
    effects = stream(mc)
    assert effects[1] == meta_effect(b"k", 3, 0)
    assert effects[3] == meta_effect(b"k", 3, 0)


def test_storing_an_expired_item_propagates_del(mc: MemcacheRunner) -> None:
    mc("set k 0 0 1\r\nx\r\n")
    mc.run.feed.clear()
    mc("set k 0 -1 1\r\ny\r\nset gone 0 -1 1\r\nz\r\n")
    assert stream(mc) == [[b"DEL", b"k"]]


def test_reads_and_failed_writes_propagate_nothing(mc: MemcacheRunner) -> None:
    mc("set k 0 0 1\r\nx\r\n")
    mc.run.feed.clear()
    mc("get k\r\ngets k\r\nmg k v c\r\nadd k 0 0 1\r\ny\r\nreplace m 0 0 1\r\ny\r\n")
    mc("delete m\r\nincr m 1\r\ncas k 0 0 1 99999\r\ny\r\n")
    assert stream(mc) == []


def test_ms_with_c_keeps_its_cas_on_replicas(mc: MemcacheRunner) -> None:
    reply = mc("ms k 1 F5 c\r\nx\r\n")
    token = cas_of(reply)
    assert stream(mc)[-1] == meta_effect(b"k", 5, token)
    # Invalidation takes the kept token away on replicas as well.
    mc("md k I\r\n")
    assert stream(mc)[-1] == meta_effect(b"k", 5, 0)


def replay(source: MemcacheRunner, *, loading: bool = False) -> MemcacheRunner:
    """A second server fed with the first one's write stream, as a replica or AOF load."""
    import hiredis

    target = MemcacheRunner()
    link = target.run.client()
    if loading:
        target.app.loading = True
    else:
        link.is_primary_link = True
    reader = hiredis.Reader()
    for chunk in source.run.feed:
        reader.feed(chunk)
    while (argv := reader.gets()) is not False:
        if not loading:
            resp_execute(link, argv)
            continue
        # The AOF loader runs each command past the LOADING check, as `call` does.
        spec = resolve(argv)
        if isinstance(spec, str):
            assert intercept(link, argv), spec
        else:
            call(link, spec, argv)
    target.app.loading = False
    return target


@pytest.mark.parametrize("loading", [False, True])
def test_a_replica_or_the_aof_gets_flags_and_cas(mc: MemcacheRunner, loading: bool) -> None:
    mc("set a 11 0 1\r\n1\r\nset b 0 100 1\r\n2\r\nms c 1 F9 c\r\n3\r\n")
    mc("set d 4 0 2\r\n10\r\nincr d 5\r\nappend a 0 0 1\r\n!\r\ntouch a 50\r\n")
    token = cas_of(mc("mg c c\r\n"))
    replica = replay(mc, loading=loading)
    for key in (b"a", b"b", b"d"):
        assert replica(b"get " + key + b"\r\n") == mc(b"get " + key + b"\r\n")
    assert replica("mg c c f v\r\n") == b"VA 1 c%d f9\r\n3\r\n" % token
    assert replica.run("PTTL", "a") == mc.run("PTTL", "a")
    # The replica's counter moved past the kept token: its next tokens are new.
    assert cas_of(replica("gets a\r\n")) > token


def test_a_client_publish_on_the_channel_is_not_applied(mc: MemcacheRunner) -> None:
    mc("set k 0 0 1\r\nx\r\n")
    ctx = mc.run.client()
    assert not intercept(ctx, [b"PUBLISH", MCMETA_CHANNEL, b"5 0 k"])
    assert mc("get k\r\n") == b"VALUE k 0 1\r\nx\r\nEND\r\n"


def test_the_primary_link_applies_the_effect(mc: MemcacheRunner) -> None:
    mc("set k 0 0 1\r\nx\r\n")
    link = mc.run.client()
    link.is_primary_link = True
    assert resp_execute(link, [b"PUBLISH", MCMETA_CHANNEL, b"5 77 k"]) == 0
    assert mc("gets k\r\n") == b"VALUE k 5 1 77\r\nx\r\nEND\r\n"


def test_meta_message_parsing() -> None:
    assert parse_meta_message(b"5 7 a key") == (b"a key", 5, 7)
    assert parse_meta_message(b"x 7 k") is None
    assert parse_meta_message(b"4294967296 0 k") is None


def test_metadata_table_round_trip(mc: MemcacheRunner) -> None:
    mc("set a 5 0 1\r\n1\r\nset b 0 0 1\r\n2\r\nms c 1 F7 c\r\n3\r\n")
    blob = encode_table(mc.app.keyspace.dbs[0])
    other = MemcacheRunner()
    other("set a 0 0 1\r\n1\r\nset b 0 0 1\r\n2\r\nset c 0 0 1\r\n3\r\n")
    assert apply_table(other.app, other.app.keyspace.dbs[0], blob) == 2
    assert other("get a b c\r\n") == mc("get a b c\r\n")


# --- replicas and write guards ---


def test_a_replica_serves_reads_and_refuses_writes(mc: MemcacheRunner) -> None:
    mc("set k 3 0 1\r\nx\r\n")
    mc.app.is_replica = True
    error = b"SERVER_ERROR You can't write against a read only replica.\r\n"
    assert mc("get k\r\n") == b"VALUE k 3 1\r\nx\r\nEND\r\n"
    assert mc("mg k v f\r\n") == b"VA 1 f3\r\nx\r\n"
    assert mc("set k 0 0 1\r\ny\r\n") == error
    assert mc("set k 0 0 1 noreply\r\ny\r\n") == b""
    assert mc("delete k\r\nincr k 1\r\ntouch k 1\r\nflush_all\r\n") == error * 4
    assert mc("ms k 1\r\ny\r\nmd k\r\nma k\r\nmg k T10\r\ngat 10 k\r\n") == error * 5
    assert mc("get k\r\n") == b"VALUE k 3 1\r\nx\r\nEND\r\n"


def test_a_writable_replica_takes_writes(mc: MemcacheRunner) -> None:
    mc.app.is_replica = True
    mc.app.replica_read_only = False
    assert mc("set k 0 0 1\r\ny\r\n") == b"STORED\r\n"


def test_write_guards_answer_server_error(mc: MemcacheRunner) -> None:
    mc.app.add_write_guard(
        lambda ctx, spec: "OOM command not allowed" if spec.denyoom else None, lambda: True
    )
    assert mc("set k 0 0 1\r\ny\r\n") == b"SERVER_ERROR out of memory storing object\r\n"
    assert mc("delete k\r\n") == b"NOT_FOUND\r\n"


# --- meta commands ---


def test_mg_flags(mc: MemcacheRunner) -> None:
    mc("ms k 2 T100 F5\r\nhi\r\n")
    reply = mc("mg k s v f t k Oop q\r\n")
    assert reply == b"VA 2 s2 f5 t100 kk Oop\r\nhi\r\n"
    assert mc("mg missing v q\r\nmn\r\n") == b"MN\r\n"
    assert mc("mg missing k Oop\r\n") == b"EN kmissing Oop\r\n"


def test_mg_hit_and_last_access(mc: MemcacheRunner) -> None:
    mc("set k 0 0 1\r\nx\r\n")
    mc.clock.advance(5_000)
    assert mc("mg k h l\r\n") == b"HD h0 l5\r\n"
    assert mc("mg k h l\r\n") == b"HD h1 l0\r\n"
    mc.clock.advance(3_000)
    assert mc("mg k h l u\r\n") == b"HD h1 l3\r\n"
    assert mc("mg k h l\r\n") == b"HD h1 l3\r\n"  # u did not bump


def test_mg_ttl_update_and_t_order(mc: MemcacheRunner) -> None:
    mc("set k 0 100 1\r\nx\r\n")
    assert mc("mg k t T30\r\n") == b"HD t100\r\n"
    assert mc("mg k T20 t\r\n") == b"HD t20\r\n"
    assert mc.run("PTTL", "k") == 20_000
    assert mc.service.stats.touch_cmds == 2


def test_mg_base64_key(mc: MemcacheRunner) -> None:
    assert mc("ms azE= 1 b k\r\nx\r\n") == b"HD kazE= b\r\n"
    assert mc.run("GET", "k1") == b"x"
    assert mc("mg azE= b k v\r\n") == b"VA 1 kazE= b\r\nx\r\n"
    assert mc("me azE= b\r\n").startswith(b"ME azE= exp=-1 la=0 cas=")


def test_me(mc: MemcacheRunner) -> None:
    mc("set k 5 100 1\r\nx\r\n")
    reply = mc("me k\r\n")
    assert re.fullmatch(rb"ME k exp=-100 la=0 cas=\d+ fetch=no cls=1 size=65\r\n", reply)
    mc("get k\r\n")
    assert b"fetch=yes" in mc("me k\r\n")
    assert mc("me nope\r\n") == b"EN\r\n"


def test_ms_modes(mc: MemcacheRunner) -> None:
    assert mc("ms k 1 MR\r\nx\r\n") == b"NS\r\n"
    assert mc("ms k 1 ME\r\na\r\n") == b"HD\r\n"
    assert mc("ms k 1 ME\r\nb\r\n") == b"NS\r\n"
    assert mc("ms k 1 MA\r\nc\r\nms k 1 MP\r\nd\r\nms k 1 MS\r\ne\r\n") == b"HD\r\n" * 3
    assert mc("ms k 1 MR\r\nf\r\n") == b"HD\r\n"
    assert mc.run("GET", "k") == b"f"


def test_ms_compare_and_swap(mc: MemcacheRunner) -> None:
    token = cas_of(mc("ms k 1 c\r\na\r\n"))
    assert mc(f"ms k 1 C{token + 1}\r\nb\r\n") == b"EX\r\n"
    assert mc(f"ms k 1 C{token} c\r\nb\r\n").startswith(b"HD c")
    assert mc("ms nope 1 C5\r\nb\r\n") == b"NF\r\n"


def test_ms_errors_always_show_even_quiet(mc: MemcacheRunner) -> None:
    assert mc("ms k 1 q\r\nx\r\n") == b""
    assert mc("ms k 1 q\r\nxx\r\n") == b"CLIENT_ERROR bad data chunk\r\nERROR\r\n"
    assert mc("ms k 1 q z\r\nx\r\n") == b"CLIENT_ERROR invalid flag\r\n"


def test_md(mc: MemcacheRunner) -> None:
    assert mc("md k Oq k\r\n") == b"NF Oq kk\r\n"
    mc("set k 0 0 1\r\nx\r\n")
    assert mc("md k C999\r\n") == b"EX\r\n"
    assert mc("md k q\r\nmn\r\n") == b"MN\r\n"
    assert mc.run("EXISTS", "k") == 0


def test_ma(mc: MemcacheRunner) -> None:
    assert mc("ma n\r\n") == b"NF\r\n"
    assert mc("ma n N0 J10 v\r\n") == b"VA 2\r\n10\r\n"
    assert mc("ma n D5 v\r\n") == b"VA 2\r\n15\r\n"
    assert mc("ma n MD D100 v\r\n") == b"VA 1\r\n0\r\n"
    assert mc("ma n q\r\nmn\r\n") == b"MN\r\n"
    assert mc("ma n T30 t v\r\n") == b"VA 1 t30\r\n2\r\n"
    mc("set s 0 0 1\r\nx\r\n")
    assert mc("ma s\r\n") == b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"


def test_ma_ttl_is_lost_when_the_number_grows(mc: MemcacheRunner) -> None:
    # memcached sets the TTL on the item it replaced: a memcached quirk we keep.
    mc("set n 0 0 1\r\n9\r\n")
    assert mc("ma n T30 v\r\n") == b"VA 2\r\n10\r\n"
    assert mc.run("PTTL", "n") == -1


# --- stampede protection ---


def test_autovivify_gives_one_client_the_win(mc: MemcacheRunner) -> None:
    other = mc.client()
    assert mc("mg k N30 s t v\r\n") == b"VA 0 s0 t30 W\r\n\r\n"
    assert other("mg k N30 s t v\r\n") == b"VA 0 s0 t30 Z\r\n\r\n"
    assert mc.run("PTTL", "k") == 30_000
    assert mc("ms k 5\r\nvalue\r\n") == b"HD\r\n"
    assert other("mg k N30 v\r\n") == b"VA 5\r\nvalue\r\n"


def test_recache_wins_when_the_ttl_is_low(mc: MemcacheRunner) -> None:
    mc("set k 0 10 1\r\nx\r\n")
    assert mc("mg k R5 v\r\n") == b"VA 1\r\nx\r\n"
    assert mc("mg k R30 v\r\n") == b"VA 1 W\r\nx\r\n"
    assert mc("mg k R30 v\r\n") == b"VA 1 Z\r\nx\r\n"


def test_invalidation_serves_stale_and_wins_once(mc: MemcacheRunner) -> None:
    token = cas_of(mc("ms k 1 T100 c\r\na\r\n"))
    assert mc("md k I T30\r\n") == b"HD\r\n"
    assert mc("mg k t v\r\n") == b"VA 1 t30 X W\r\na\r\n"
    assert mc("mg k v\r\n") == b"VA 1 Z X\r\na\r\n"
    # A set with the old token and I is accepted but stays stale.
    assert mc(f"ms k 1 C{token} I\r\nb\r\n") == b"HD\r\n"
    assert mc("mg k v\r\n") == b"VA 1 Z X\r\nb\r\n"
    assert mc("ms k 1\r\nc\r\n") == b"HD\r\n"
    assert mc("mg k v\r\n") == b"VA 1\r\nc\r\n"


# --- stats ---


def test_stats_counters(mc: MemcacheRunner) -> None:
    mc("set a 0 0 1\r\n1\r\nget a b\r\ndelete b\r\nincr a 1\r\ntouch a 10\r\n")
    stats = dict(
        line.split(b" ", 2)[1:]
        for line in mc("stats\r\n").split(b"\r\n")
        if line.startswith(b"STAT")
    )
    assert stats[b"cmd_get"] == b"2"
    assert stats[b"get_hits"] == b"1"
    assert stats[b"get_misses"] == b"1"
    assert stats[b"cmd_set"] == b"1"
    assert stats[b"delete_misses"] == b"1"
    assert stats[b"incr_hits"] == b"1"
    assert stats[b"touch_hits"] == b"1"
    assert stats[b"curr_items"] == b"1"
    assert stats[b"total_items"] == b"1"
    assert stats[b"bytes"] == b"61"
    assert mc("stats reset\r\n") == b"RESET\r\n"
    assert b"STAT cmd_get 0\r\n" in mc("stats\r\n")


def test_stats_subcommands(mc: MemcacheRunner) -> None:
    mc("set a 0 0 1\r\n1\r\n")
    assert mc("stats items\r\n").startswith(b"STAT items:1:number 1\r\n")
    assert mc("stats slabs\r\n").startswith(b"STAT 1:chunk_size 96\r\n")
    assert b"STAT item_size_max 1048576\r\n" in mc("stats settings\r\n")
    assert mc("stats cachedump 1 0\r\n") == b"ITEM a [1 b; 0 s]\r\nEND\r\n"
    assert mc("stats bogus\r\n") == b"ERROR\r\n"
    assert mc("stats detail\r\n") == b"CLIENT_ERROR usage: stats detail on|off|dump\r\n"


def test_keyspace_notifications_for_memcached_writes(mc: MemcacheRunner) -> None:
    events: list[tuple[bytes, bytes]] = []

    def publish(channel: bytes, message: bytes) -> int:
        events.append((channel, message))
        return 0

    mc.app.publish = publish
    mc.app.config.set("notify-keyspace-events", ["KEA"])
    mc("set k 0 10 1\r\n1\r\nincr k 1\r\ndelete k\r\n")
    names = [message for channel, message in events if channel.startswith(b"__keyspace")]
    assert names == [b"set", b"expire", b"incrby", b"del"]


def test_watch_sees_memcached_writes_and_they_keep_their_flags() -> None:
    run = Runner()
    mc = MemcacheRunner(run)
    watcher = run.client()
    seen: list[bytes] = []
    run.app.keyspace.on_watched_modified = lambda db, key, watchers: seen.append(key)
    run.app.keyspace.dbs[0].watched[b"k"] = {watcher}
    mc("set k 7 0 1\r\n1\r\ntouch k 100\r\nincr k 1\r\nappend k 0 0 1\r\n0\r\n")
    assert seen == [b"k"] * 4
    assert mc("get k\r\n") == b"VALUE k 7 2\r\n20\r\nEND\r\n"


def test_resp_error_for_unknown_publish_is_untouched() -> None:
    run = Runner()
    ctx: CommandContext = run.client()
    reply = resp_execute(ctx, [b"NOSUCH", MCMETA_CHANNEL, b"1 2 k"])
    assert isinstance(reply, RespError)


# --- authentication ---


def test_requirepass_makes_memcached_clients_authenticate() -> None:
    mc = MemcacheRunner(Runner([("requirepass", ["secret"])]))
    assert mc("get k\r\n") == b"CLIENT_ERROR unauthenticated\r\n"
    assert mc("set k 0 0 13\r\ndefault wrong\r\n") == b"CLIENT_ERROR authentication failure\r\n"
    # memcached keeps one reply per batch while authenticating: the last one.
    assert mc("get k\r\nget k\r\nset k 0 0 13\r\nnobody secret\r\n") == (
        b"CLIENT_ERROR authentication failure\r\n"
    )
    assert mc("set k 0 0 14\r\ndefault secret\r\nget k\r\n") == b"STORED\r\nEND\r\n"
    assert mc("set k 0 0 1\r\nx\r\nget k\r\n") == b"STORED\r\nVALUE k 0 1\r\nx\r\nEND\r\n"
    assert mc.service.stats.auth_cmds == 3
    assert mc.service.stats.auth_errors == 2


def test_no_requirepass_no_authentication(mc: MemcacheRunner) -> None:
    assert mc("set k 0 0 14\r\ndefault secret\r\nget k\r\n") == (
        b"STORED\r\nVALUE k 0 14\r\ndefault secret\r\nEND\r\n"
    )


# --- robustness ---

_FRAGMENTS = [
    b"set",
    b"add",
    b"cas",
    b"append",
    b"get",
    b"gets",
    b"gat",
    b"incr",
    b"decr",
    b"touch",
    b"delete",
    b"flush_all",
    b"stats",
    b"mg",
    b"ms",
    b"md",
    b"ma",
    b"me",
    b"mn",
    b"k",
    b"azE=",
    b"0",
    b"1",
    b"-1",
    b"5",
    b"99999999999999999999",
    b"noreply",
    b"v",
    b"c",
    b"q",
    b"k",
    b"b",
    b"N5",
    b"T-1",
    b"R30",
    b"I",
    b"C1",
    b"MA",
    b"ME",
    b"MD",
    b"D3",
    b"J7",
    b"Oxyz",
    b"F4",
    b" ",
    b"\r\n",
    b"\n",
    b"\x00",
    b"\t",
]


_FUZZ_APP = Runner()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.binary(max_size=4)), max_size=60))
def test_any_input_gives_replies_not_exceptions(pieces: list[bytes]) -> None:
    mc = MemcacheRunner(_FUZZ_APP)  # a new connection to one App: creating Apps is slow
    mc(b"flush_all\r\nset k 0 0 1\r\n5\r\nms azE= 1 b\r\n7\r\n")
    # Verbs run unguarded here: any internal error would raise out of the runner.
    assert isinstance(mc(b"".join(pieces)), bytes)
    mc.clock.advance(10_000)
    assert isinstance(mc(b"\r\nmn\r\nget k azE=\r\nstats\r\n"), bytes)

"""Generic keyspace commands in-process: DEL, UNLINK, EXISTS, TOUCH, TYPE, KEYS, SCAN,
RANDOMKEY, RENAME, RENAMENX, COPY, MOVE, SWAPDB, DBSIZE, FLUSHDB, FLUSHALL."""

from __future__ import annotations

import asyncio
import random

import pytest

from protocol.resp import OK, RespError
from server.commands.keys import duplicate_value, parse_scan_cursor
from server.commands.sort import sort_keys, sort_ro_keys
from server.commands.table import COMMANDS
from server.errors import CommandError
from storage.keyspace import NUM_SLOTS, key_slot
from tests.support import Runner
from tests.unit.commands.keyspace_helpers import (
    a_hash,
    a_list,
    a_set,
    a_zset,
    capture_events,
    feed_of,
    keyspace_events,
    watch,
)

NO_KEY = RespError("ERR no such key")
SAME = RespError("ERR source and destination objects are the same")
DB_RANGE = RespError("ERR DB index is out of range")
SYNTAX = RespError("ERR syntax error")
NOT_INT = RespError("ERR value is not an integer or out of range")


def db(run: Runner, index: int = 0):
    return run.app.keyspace.dbs[index]


# The table entries are checked against Redis's metadata in test_table.py.


def test_sort_key_finder_finds_the_last_store() -> None:
    argv = [b"SORT", b"k", b"BY", b"store", b"LIMIT", b"0", b"1", b"STORE", b"a", b"STORE", b"b"]
    assert sort_keys(argv) == [1, 10]
    assert sort_keys([b"SORT", b"k", b"GET", b"#"]) == [1]
    assert sort_keys([b"SORT", b"k", b"store"]) == [1]
    assert sort_ro_keys([b"SORT_RO", b"k", b"STORE", b"x"]) == [1]
    assert COMMANDS[b"SORT"].key_indexes([b"SORT", b"k", b"STORE", b"d"]) == [1, 3]


# --- DEL, UNLINK, EXISTS, TOUCH, TYPE ---


def test_del_counts_only_keys_that_existed(run: Runner) -> None:
    run("SET", "a", "1")
    run("SET", "b", "2")
    assert run("DEL", "a", "nope", "b", "a") == 2
    assert run("EXISTS", "a", "b") == 0
    assert run.feed[-1] == feed_of(["DEL", "a", "nope", "b", "a"])[0]


def test_del_that_removes_nothing_is_not_propagated(run: Runner) -> None:
    assert run("DEL", "nope") == 0
    assert run.feed == []


def test_del_signals_only_the_keys_it_removed(run: Runner) -> None:
    run("SET", "a", "1")
    signalled = watch(run, 0, b"a", b"nope")
    assert run("DEL", "a", "nope") == 1
    assert signalled == [(0, b"a")]


def test_unlink_is_propagated_as_unlink(run: Runner) -> None:
    run("SET", "a", "1")
    assert run("UNLINK", "a", "b") == 1
    assert run.feed[-1] == feed_of(["UNLINK", "a", "b"])[0]


def test_del_of_an_expired_key_reports_expiry_not_deletion(run: Runner) -> None:
    events = capture_events(run)
    run("SET", "k", "v", "PX", "10")
    run.clock.advance(11)
    events.clear()
    assert run("DEL", "k") == 0
    assert keyspace_events(events) == [(b"__keyspace@0__:k", b"expired")]
    assert run.feed[-1] == feed_of(["DEL", "k"])[0]


def test_del_event(run: Runner) -> None:
    events = capture_events(run)
    run("SET", "k", "v")
    events.clear()
    run("DEL", "k", "nope")
    assert events == [(b"__keyspace@0__:k", b"del"), (b"__keyevent@0__:del", b"k")]


def test_exists_counts_repeats_and_skips_expired(run: Runner) -> None:
    run("SET", "a", "1")
    run("SET", "b", "2", "PX", "5")
    run.clock.advance(6)
    assert run("EXISTS", "a", "a", "b", "c") == 2
    assert run("TOUCH", "a", "b", "a") == 2


def test_read_lookups_count_hits_and_misses(run: Runner) -> None:
    keyspace = run.app.keyspace
    run("SET", "a", "1")
    run("EXISTS", "a", "b")
    run("TYPE", "a")
    run("TOUCH", "nope")
    run("TTL", "a")
    assert (keyspace.hits, keyspace.misses) == (3, 2)


def test_read_misses_fire_keymiss_events(run: Runner) -> None:
    events = capture_events(run, "Km")
    run("SET", "a", "1")
    run("EXISTS", "a", "m1")
    run("TYPE", "m2")
    run("TOUCH", "m3")
    run("TTL", "m4")
    run("COPY", "m5", "x")
    run("DEL", "m6")
    run("RENAME", "m7", "x")
    assert events == [(b"__keyspace@0__:m%d" % i, b"keymiss") for i in range(1, 6)]


def test_type_names_every_value_type(run: Runner) -> None:
    d = db(run)
    d.set(b"l", a_list(b"x"))
    d.set(b"s", a_set(b"x"))
    d.set(b"z", a_zset((1.0, b"x")))
    d.set(b"h", a_hash(f=b"v"))
    d.set(b"edited", bytearray(b"v"))
    run("SET", "str", "v")
    got = [run("TYPE", k) for k in ("l", "s", "z", "h", "str", "edited", "nope")]
    assert got == [b"list", b"set", b"zset", b"hash", b"string", b"string", b"none"]


def test_type_of_an_expired_key_is_none(run: Runner) -> None:
    run("SET", "k", "v", "PX", "1")
    run.clock.advance(2)
    assert run("TYPE", "k") == b"none"


# --- KEYS ---


def test_keys_matches_globs_and_skips_expired_keys(run: Runner) -> None:
    for key in ("foo", "foobar", "bar", "h[e]llo", "hello"):
        run("SET", key, "1")
    run("SET", "fox", "1", "PX", "5")
    run.clock.advance(6)
    assert sorted(run("KEYS", "*")) == [b"bar", b"foo", b"foobar", b"h[e]llo", b"hello"]
    assert sorted(run("KEYS", "fo*")) == [b"foo", b"foobar"]
    assert run("KEYS", "h\\[e\\]llo") == [b"h[e]llo"]
    assert sorted(run("KEYS", "h[a-e]llo")) == [b"hello"]
    assert run("KEYS", "nothing") == []


# --- SCAN ---


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"0", 0),
        (b"", 0),
        (b"00", 0),
        (b"+12", 12),
        (b"-0", 0),
        (b"-1", 2**64 - 1),
        (b"18446744073709551615", 2**64 - 1),
        (b"-18446744073709551615", 1),
        (b"7\x00junk", 7),
    ],
)
def test_scan_cursor_parses_like_strtoul(raw: bytes, value: int) -> None:
    assert parse_scan_cursor(raw) == value


@pytest.mark.parametrize(
    "raw", [b" 1", b"1 ", b"-", b"+", b"x", b"1.0", b"0x1", b"18446744073709551616", b"\t0"]
)
def test_scan_cursor_rejects(raw: bytes) -> None:
    with pytest.raises(CommandError, match="ERR invalid cursor"):
        parse_scan_cursor(raw)


def full_scan(run: Runner, *options: str) -> list[bytes]:
    seen: list[bytes] = []
    cursor = b"0"
    while True:
        cursor, keys = run("SCAN", cursor, *options)
        seen.extend(keys)
        if cursor == b"0":
            return seen


def test_scan_returns_every_key_once(run: Runner) -> None:
    keys = {b"key:%d" % i for i in range(3000)}
    for key in keys:
        run("SET", key, "v")
    seen = full_scan(run, "COUNT", "25")
    assert len(seen) == len(keys)
    assert set(seen) == keys


def test_scan_cursor_is_a_slot_and_count_is_a_lower_bound(run: Runner) -> None:
    for i in range(500):
        run("SET", f"k{i}", "v")
    cursor, keys = run("SCAN", "0", "COUNT", "20")
    assert len(keys) >= 20
    slot = int(cursor)
    assert 0 < slot < NUM_SLOTS
    assert all(key_slot(k) < slot for k in keys)


def test_scan_keeps_its_guarantee_while_keys_come_and_go(run: Runner) -> None:
    """A key present for the whole iteration is returned; keys gone before are not."""
    rng = random.Random(7)
    stable = {b"stable:%d" % i for i in range(1500)}
    doomed = [b"doomed:%d" % i for i in range(1500)]
    for key in [*stable, *doomed]:
        run("SET", key, "v")
    returned: list[bytes] = []
    deleted_before_visit: set[bytes] = set()
    added = 0
    cursor = b"0"
    while True:
        cursor, keys = run("SCAN", cursor, "COUNT", "10")
        returned.extend(keys)
        if cursor == b"0":
            break
        # Between calls: delete some doomed keys, add fresh ones, rewrite stable ones.
        for _ in range(5):
            if doomed:
                victim = doomed.pop(rng.randrange(len(doomed)))
                run("DEL", victim)
                if key_slot(victim) >= int(cursor):
                    deleted_before_visit.add(victim)
            run("SET", b"fresh:%d" % added, "v")
            added += 1
        run("SET", rng.choice(sorted(stable)), "new value")
    assert stable <= set(returned)
    assert not deleted_before_visit & set(returned)
    # Slots are visited once each, so no key is ever returned twice.
    assert len(returned) == len(set(returned))


def test_scan_skips_expired_keys(run: Runner) -> None:
    run("SET", "live", "v")
    run("SET", "dead", "v", "PX", "5")
    run.clock.advance(6)
    assert full_scan(run) == [b"live"]


def test_scan_match_and_type(run: Runner) -> None:
    d = db(run)
    d.set(b"l1", a_list(b"x"))
    d.set(b"s1", a_set(b"x"))
    d.set(b"z1", a_zset((1.0, b"x")))
    d.set(b"h1", a_hash(f=b"v"))
    run("SET", "str1", "v")
    run("SET", "str2", "v")
    assert sorted(full_scan(run, "TYPE", "string")) == [b"str1", b"str2"]
    assert full_scan(run, "TYPE", "LIST") == [b"l1"]
    assert full_scan(run, "TYPE", "zset", "MATCH", "z*") == [b"z1"]
    assert full_scan(run, "TYPE", "hash", "MATCH", "z*") == []
    assert full_scan(run, "TYPE", "stream") == []
    assert sorted(full_scan(run, "MATCH", "s*")) == [b"s1", b"str1", b"str2"]


def test_scan_option_errors(run: Runner) -> None:
    assert run("SCAN", "x") == RespError("ERR invalid cursor")
    assert run("SCAN", "0", "COUNT", "0") == SYNTAX
    assert run("SCAN", "0", "COUNT", "-3") == SYNTAX
    assert run("SCAN", "0", "COUNT", "ten") == NOT_INT
    assert run("SCAN", "0", "MATCH") == SYNTAX
    assert run("SCAN", "0", "BOGUS", "1") == SYNTAX


def test_scan_beyond_the_last_slot_ends_the_iteration(run: Runner) -> None:
    run("SET", "k", "v")
    assert run("SCAN", str(NUM_SLOTS)) == [b"0", []]
    assert run("SCAN", "-1") == [b"0", []]


# --- RANDOMKEY ---


def test_randomkey(run: Runner) -> None:
    assert run("RANDOMKEY") is None
    run("SET", "dead", "v", "PX", "5")
    run.clock.advance(6)
    assert run("RANDOMKEY") is None
    run("SET", "a", "1")
    run("SET", "b", "1")
    assert {run("RANDOMKEY") for _ in range(50)} <= {b"a", b"b"}


# --- RENAME / RENAMENX ---


def test_rename_missing_key(run: Runner) -> None:
    assert run("RENAME", "nope", "x") == NO_KEY
    assert run("RENAME", "nope", "nope") == NO_KEY
    assert run("RENAMENX", "nope", "x") == NO_KEY
    assert run("RENAMENX", "nope", "nope") == NO_KEY


def test_rename_to_itself(run: Runner) -> None:
    run("SET", "k", "v")
    sent = len(run.feed)
    assert run("RENAME", "k", "k") is OK
    assert run("RENAMENX", "k", "k") == 0
    assert len(run.feed) == sent


def test_rename_keeps_the_deadline_and_drops_the_targets(run: Runner) -> None:
    run("SET", "src", "v", "PX", "5000")
    run("SET", "dst", "old", "PX", "999999")
    assert run("RENAME", "src", "dst") is OK
    assert run("GET", "src") is None
    assert run("GET", "dst") == b"v"
    assert run("PTTL", "dst") == 5000
    run("SET", "plain", "p")
    assert run("RENAME", "plain", "dst") is OK
    assert run("PTTL", "dst") == -1


def test_renamenx(run: Runner) -> None:
    run("SET", "a", "1")
    run("SET", "b", "2")
    sent = len(run.feed)
    assert run("RENAMENX", "a", "b") == 0
    assert len(run.feed) == sent
    assert run("RENAMENX", "a", "c") == 1
    assert run.feed[-1] == feed_of(["RENAMENX", "a", "c"])[0]
    assert (run("GET", "a"), run("GET", "c")) == (None, b"1")


def test_renamenx_over_an_expired_key_succeeds(run: Runner) -> None:
    run("SET", "a", "1")
    run("SET", "b", "2", "PX", "5")
    run.clock.advance(6)
    assert run("RENAMENX", "a", "b") == 1
    # Redis 7.0 wraps a command and the expiry it triggered in one MULTI/EXEC unit.
    assert run.feed[-4:] == feed_of(["MULTI"], ["DEL", "b"], ["RENAMENX", "a", "b"], ["EXEC"])


def test_rename_over_an_expired_key_reclaims_it_first(run: Runner) -> None:
    events = capture_events(run)
    run("SET", "a", "1")
    run("SET", "b", "2", "PX", "5")
    run.clock.advance(6)
    events.clear()
    assert run("RENAME", "a", "b") is OK
    assert run.feed[-4:] == feed_of(["MULTI"], ["DEL", "b"], ["RENAME", "a", "b"], ["EXEC"])
    assert keyspace_events(events)[0] == (b"__keyspace@0__:b", b"expired")


def test_rename_events_and_signals(run: Runner) -> None:
    events = capture_events(run, "KEAn")
    run("SET", "a", "1")
    signalled = watch(run, 0, b"a", b"b")
    events.clear()
    run("RENAME", "a", "b")
    assert keyspace_events(events) == [
        (b"__keyspace@0__:b", b"new"),
        (b"__keyspace@0__:a", b"rename_from"),
        (b"__keyspace@0__:b", b"rename_to"),
    ]
    assert sorted(signalled) == [(0, b"a"), (0, b"b")]


def test_rename_keeps_a_container_value(run: Runner) -> None:
    value = a_list(b"x", b"y")
    db(run).set(b"l", value)
    run("RENAME", "l", "m")
    assert db(run).get(b"m") is value


# --- COPY ---


def test_copy_basics(run: Runner) -> None:
    run("SET", "src", "v", "PX", "7000")
    assert run("COPY", "src", "dst") == 1
    assert run("GET", "dst") == b"v"
    assert run("PTTL", "dst") == 7000
    assert run("COPY", "src", "dst") == 0
    run("SET", "src", "w")
    assert run("COPY", "src", "dst", "REPLACE") == 1
    assert run("GET", "dst") == b"w"
    assert run("PTTL", "dst") == -1
    assert run("COPY", "nope", "dst") == 0
    assert run("COPY", "src", "src") == SAME
    assert run("COPY", "src", "src", "DB", "0") == SAME


def test_copy_option_errors(run: Runner) -> None:
    run("SET", "src", "v")
    assert run("COPY", "src", "x", "DB", "16") == DB_RANGE
    assert run("COPY", "src", "x", "DB", "-1") == DB_RANGE
    assert run("COPY", "src", "x", "DB", "one") == NOT_INT
    assert run("COPY", "src", "x", "DB", "2147483648") == RespError(
        "ERR value is out of range, value must between -2147483648 and 2147483647"
    )
    assert run("COPY", "src", "x", "DB") == SYNTAX
    assert run("COPY", "src", "x", "NOPE") == SYNTAX
    assert run("EXISTS", "x") == 0


def test_copy_duplicates_containers(run: Runner) -> None:
    d = db(run)
    src_list = a_list(b"a")
    src_set = a_set(b"a")
    src_set.big = True
    src_hash = a_hash(f=b"1")
    src_zset = a_zset((1.0, b"a"))
    for key, value in [(b"l", src_list), (b"s", src_set), (b"h", src_hash), (b"z", src_zset)]:
        d.set(key, value)
        assert run("COPY", key, key + b"2") == 1
        copied = d.get(key + b"2")
        assert type(copied) is type(value)
        assert copied is not value
    d.get(b"l2").append(b"b")
    d.get(b"s2").add(b"b")
    d.get(b"h2")[b"g"] = b"2"
    z2 = d.get(b"z2")
    z2.by_member[b"b"] = 2.0
    z2.by_score.add((2.0, b"b"))
    assert list(src_list) == [b"a"]
    assert set(src_set) == {b"a"}
    assert dict(src_hash) == {b"f": b"1"}
    assert list(src_zset.by_score) == [(1.0, b"a")]
    assert d.get(b"s2").big is True


def test_copy_of_an_edited_string_is_immutable() -> None:
    edited = bytearray(b"abc")
    copied = duplicate_value(edited)
    edited.extend(b"d")
    assert copied == b"abc"


def test_copy_to_another_db_signals_and_notifies_there(run: Runner) -> None:
    events = capture_events(run, "KEAn")
    run("SET", "k", "v")
    signalled = watch(run, 0, b"k", b"k2")
    run.app.keyspace.dbs[3].watched[b"k2"] = {"w"}
    events.clear()
    assert run("COPY", "k", "k2", "DB", "3") == 1
    assert signalled == [(3, b"k2")]
    assert keyspace_events(events) == [
        (b"__keyspace@3__:k2", b"new"),
        (b"__keyspace@3__:k2", b"copy_to"),
    ]
    assert db(run, 3).get(b"k2") == b"v"
    assert run.feed[-1] == feed_of(["COPY", "k", "k2", "DB", "3"])[0]


def test_copy_to_the_same_key_in_another_db(run: Runner) -> None:
    run("SET", "k", "v")
    assert run("COPY", "k", "k", "DB", "1") == 1
    assert db(run, 1).get(b"k") == b"v"


# --- MOVE ---


def test_move(run: Runner) -> None:
    run("SET", "k", "v", "PX", "9000")
    assert run("MOVE", "k", "0") == SAME
    assert run("MOVE", "nope", "0") == SAME
    assert run("MOVE", "k", "16") == DB_RANGE
    assert run("MOVE", "k", "x") == NOT_INT
    assert run("MOVE", "nope", "1") == 0
    assert run("MOVE", "k", "1") == 1
    assert run("EXISTS", "k") == 0
    assert db(run, 1).get(b"k") == b"v"
    assert db(run, 1).get_expire(b"k") == run.clock.now_ms() + 9000
    assert run("MOVE", "k", "1") == 0


def test_move_refuses_an_existing_target_but_not_an_expired_one(run: Runner) -> None:
    run("SET", "k", "here")
    db(run, 2).set(b"k", b"there")
    assert run("MOVE", "k", "2") == 0
    db(run, 2).set(b"k", b"there", run.clock.now_ms() + 5)
    run.clock.advance(6)
    assert run("MOVE", "k", "2") == 1
    assert db(run, 2).get(b"k") == b"here"


def test_move_signals_and_notifies_both_databases(run: Runner) -> None:
    events = capture_events(run, "KEAn")
    run("SET", "k", "v")
    signalled = watch(run, 0, b"k")
    run.app.keyspace.dbs[5].watched[b"k"] = {"w"}
    events.clear()
    assert run("MOVE", "k", "5") == 1
    assert sorted(signalled) == [(0, b"k"), (5, b"k")]
    assert keyspace_events(events) == [
        (b"__keyspace@5__:k", b"new"),
        (b"__keyspace@0__:k", b"move_from"),
        (b"__keyspace@5__:k", b"move_to"),
    ]


# --- SWAPDB ---


def test_swapdb_swaps_contents_for_every_client(run: Runner) -> None:
    run("SET", "a", "in0", "PX", "4000")
    other = run.client()
    run("SELECT", "1", ctx=other)
    run("SET", "b", "in1", ctx=other)
    assert run("SWAPDB", "0", "1") is OK
    assert run("GET", "a") is None
    assert run("GET", "b") == b"in1"
    assert run("GET", "a", ctx=other) == b"in0"
    assert run("PTTL", "a", ctx=other) == 4000
    assert run.feed[-1] == feed_of(["SWAPDB", "0", "1"])[0]


def test_swapdb_errors(run: Runner) -> None:
    assert run("SWAPDB", "x", "0") == RespError("ERR invalid first DB index")
    assert run("SWAPDB", "0", "x") == RespError("ERR invalid second DB index")
    assert run("SWAPDB", "x", "y") == RespError("ERR invalid first DB index")
    assert run("SWAPDB", "4294967296", "0") == RespError("ERR invalid first DB index")
    assert run("SWAPDB", "0", "16") == DB_RANGE
    assert run("SWAPDB", "-1", "0") == DB_RANGE
    assert run.feed == []


def test_swapdb_of_a_db_with_itself_is_still_propagated(run: Runner) -> None:
    assert run("SWAPDB", "2", "2") is OK
    assert run.feed[-1] == feed_of(["SWAPDB", "2", "2"])[0]


def test_swapdb_signals_watched_keys_present_on_either_side(run: Runner) -> None:
    run("SET", "in0", "v")
    db(run, 1).set(b"in1", b"v")
    signalled = watch(run, 0, b"in0", b"in1", b"nowhere")
    assert run("SWAPDB", "0", "1") is OK
    assert sorted(signalled) == [(0, b"in0"), (0, b"in1")]


# --- DBSIZE, FLUSHDB, FLUSHALL ---


def test_dbsize_counts_expired_keys_not_yet_reclaimed(run: Runner) -> None:
    run("SET", "a", "1")
    run("SET", "b", "1", "PX", "5")
    run.clock.advance(6)
    assert run("DBSIZE") == 2
    run("GET", "b")
    assert run("DBSIZE") == 1


def test_flush_options(run: Runner) -> None:
    for argv in (["FOO"], ["ASYNC", "SYNC"], ["SYNC", "x"]):
        assert run("FLUSHDB", *argv) == SYNTAX
        assert run("FLUSHALL", *argv) == SYNTAX
    assert run.feed == []


def test_flushdb_empties_one_db_and_is_always_propagated(run: Runner) -> None:
    run("SET", "a", "1")
    db(run, 1).set(b"b", b"1")
    assert run("FLUSHDB") is OK
    assert run("DBSIZE") == 0
    assert db(run, 1).size() == 1
    assert run("FLUSHDB", "sync") is OK
    assert run.feed[-2:] == feed_of(["FLUSHDB"], ["FLUSHDB", "sync"])


def test_flushall_empties_every_db(run: Runner) -> None:
    run("SET", "a", "1", "PX", "100")
    db(run, 7).set(b"b", b"1")
    signalled = watch(run, 7, b"b", b"c")
    assert run("FLUSHALL", "ASYNC") is OK
    assert all(d.size() == 0 and d.volatile_size() == 0 for d in run.app.keyspace.dbs)
    assert signalled == [(7, b"b")]
    assert run.feed[-1] == feed_of(["FLUSHALL", "ASYNC"])[0]


def test_flush_async_frees_the_old_data_from_the_event_loop(run: Runner) -> None:
    for i in range(2000):
        run("SET", f"k{i}", "v")
    old_shards = [shard for shard in db(run).data if shard]

    async def flush_and_wait() -> bool:
        assert run("FLUSHDB", "ASYNC") is OK
        cleared_at_once = not any(old_shards)
        for _ in range(1000):
            if not any(old_shards):
                break
            await asyncio.sleep(0)
        return cleared_at_once

    assert asyncio.run(flush_and_wait()) is False
    assert not any(old_shards)
    assert run("DBSIZE") == 0


def test_flush_without_option_follows_lazyfree_lazy_user_flush(run: Runner) -> None:
    run.app.config.set("lazyfree-lazy-user-flush", ["yes"])
    run("SET", "k", "v")
    old_shards = [shard for shard in db(run).data if shard]

    async def flush_and_wait() -> None:
        assert run("FLUSHALL") is OK
        assert any(old_shards)
        for _ in range(100):
            await asyncio.sleep(0)

    asyncio.run(flush_and_wait())
    assert not any(old_shards)

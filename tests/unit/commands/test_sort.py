"""SORT and SORT_RO in-process, on values built through the storage API."""

from __future__ import annotations

import math

import pytest

from protocol.resp import RespError
from server.commands.sort import strtod_weight
from storage.lists import ListValue
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

SCORE_ERROR = RespError("ERR One or more scores can't be converted into double")
SYNTAX = RespError("ERR syntax error")
WRONGTYPE = RespError("WRONGTYPE Operation against a key holding the wrong kind of value")


def put(run: Runner, key: bytes, value: object) -> None:
    run.app.keyspace.dbs[0].set(key, value)


def stored_list(run: Runner, key: bytes = b"dst") -> list[bytes]:
    value = run.app.keyspace.dbs[0].get(key)
    assert type(value) is ListValue
    return list(value)


# --- weights: strtod as glibc reads it (each case checked against redis-server 7.0) ---


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"", 0.0),
        (b"3", 3.0),
        (b"-1.5", -1.5),
        (b" 7", 7.0),
        (b"\t\n7", 7.0),
        (b"+5", 5.0),
        (b".5", 0.5),
        (b"5.", 5.0),
        (b"1E+5", 1e5),
        (b"0x10", 16.0),
        (b"0X1P3", 8.0),
        (b"0x1.8p1", 3.0),
        (b"-0x.8", -0.5),
        (b"INF", math.inf),
        (b"-Infinity", -math.inf),
        (b"1e308", 1e308),
        (b"0e-500", 0.0),
        (b"2.2250738585072014e-308", 2.2250738585072014e-308),
        (b"0x1p-1074", 5e-324),
        (b"0x1.8p-1070", float.fromhex("0x1.8p-1070")),
        (b"5\x00junk", 5.0),
    ],
)
def test_weight_parses(raw: bytes, value: float) -> None:
    assert strtod_weight(raw) == value


@pytest.mark.parametrize(
    "raw",
    [
        b"abc",
        b"   ",
        b"5 ",
        b"1e",
        b"0x",
        b"0x1p",
        b"nan",
        b"-nan",
        b"nan(123)",
        b"1e400",
        b"1.8e308",
        b"0x1p1024",
        b"1e-400",
        b"1e-310",
        b"2.2250738585072011e-308",
        b"0x1p-1075",
        b"0x1.1p-1074",
        b"1_000",
    ],
)
def test_weight_refused(raw: bytes) -> None:
    assert strtod_weight(raw) is None


# --- ordering ---


def test_numeric_sort_orders_ties_by_bytes(run: Runner) -> None:
    put(run, b"l", a_list(b"10", b"2", b"02", b"2.0", b"-1", b"1e1", b"", b"0"))
    assert run("SORT", "l") == [b"-1", b"", b"0", b"02", b"2", b"2.0", b"10", b"1e1"]
    assert run("SORT", "l", "DESC") == [b"1e1", b"10", b"2.0", b"2", b"02", b"0", b"", b"-1"]


def test_numeric_sort_error(run: Runner) -> None:
    put(run, b"l", a_list(b"1", b"x", b"2"))
    assert run("SORT", "l") == SCORE_ERROR
    assert run("SORT", "l", "STORE", "dst") == SCORE_ERROR
    assert run("EXISTS", "dst") == 0
    assert run("SORT", "l", "ALPHA") == [b"1", b"2", b"x"]
    assert run("SORT", "l", "BY", "nosort") == [b"1", b"x", b"2"]


def test_alpha_is_byte_order_up_to_nul_without_store(run: Runner) -> None:
    items = (b"a\x00c", b"a\x00b", b"\xff", b"\xc3\xa9", b"z", b"Z", b"a", b"\x80")
    put(run, b"l", a_list(*items))
    assert run("SORT", "l", "ALPHA") == [
        b"Z",
        b"a\x00c",
        b"a\x00b",
        b"a",
        b"z",
        b"\x80",
        b"\xc3\xa9",
        b"\xff",
    ]
    assert run("SORT", "l", "ALPHA", "DESC") == [
        b"\xff",
        b"\xc3\xa9",
        b"\x80",
        b"z",
        b"a\x00c",
        b"a\x00b",
        b"a",
        b"Z",
    ]
    # STORE compares whole strings.
    assert run("SORT", "l", "ALPHA", "STORE", "dst") == 8
    assert stored_list(run)[:4] == [b"Z", b"a", b"a\x00b", b"a\x00c"]


def test_by_string_weights_and_missing_weights(run: Runner) -> None:
    put(run, b"l", a_list(b"a", b"b", b"c", b"d"))
    run("SET", "w_a", "3")
    run("SET", "w_b", "1")
    run("SET", "w_d", "-2")
    # c has no weight: 0 in a numeric sort.
    assert run("SORT", "l", "BY", "w_*") == [b"d", b"c", b"b", b"a"]
    assert run("SORT", "l", "BY", "w_*", "DESC") == [b"a", b"b", b"c", b"d"]
    # ALPHA: a missing weight sorts first; "-2" < "1" < "3" bytewise.
    assert run("SORT", "l", "BY", "w_*", "ALPHA") == [b"c", b"d", b"b", b"a"]


def test_alpha_by_ties_keep_the_input_order_in_both_directions(run: Runner) -> None:
    put(run, b"l", a_list(b"x", b"y", b"z", b"w"))
    run("SET", "w_x", "same")
    run("SET", "w_y", "same")
    run("SET", "w_z", "same")
    assert run("SORT", "l", "BY", "w_*", "ALPHA") == [b"w", b"x", b"y", b"z"]
    assert run("SORT", "l", "BY", "w_*", "ALPHA", "DESC") == [b"x", b"y", b"z", b"w"]


def test_by_hash_field(run: Runner) -> None:
    put(run, b"l", a_list(b"1", b"2", b"3"))
    put(run, b"h_1", a_hash(n=b"30", name=b"carol"))
    put(run, b"h_2", a_hash(n=b"10", name=b"alice"))
    put(run, b"h_3", a_hash(n=b"20"))
    assert run("SORT", "l", "BY", "h_*->n") == [b"2", b"3", b"1"]
    assert run("SORT", "l", "BY", "h_*->name", "ALPHA") == [b"3", b"2", b"1"]
    # A string where a hash is expected, or a hash where a string is, is a missing weight.
    run("SET", "s_1", "5")
    assert run("SORT", "l", "BY", "s_*->n") == [b"1", b"2", b"3"]
    assert run("SORT", "l", "BY", "h_*") == [b"1", b"2", b"3"]
    # "->" with nothing after it is part of the key name.
    run("SET", "h_2->", "-1")
    assert run("SORT", "l", "BY", "h_*->") == [b"2", b"1", b"3"]


def test_get_patterns(run: Runner) -> None:
    put(run, b"l", a_list(b"2", b"1"))
    run("SET", "g_1", "one")
    put(run, b"h_2", a_hash(f=b"two"))
    assert run("SORT", "l", "GET", "#", "GET", "g_*", "GET", "h_*->f") == [
        b"1",
        b"one",
        None,
        b"2",
        None,
        b"two",
    ]
    assert run("SORT", "l", "GET", "constant") == [None, None]
    assert run("SORT", "l", "GET", "#", "LIMIT", "1", "1") == [b"2"]


def test_constant_by_pattern_means_no_sorting(run: Runner) -> None:
    put(run, b"l", a_list(b"3", b"1", b"x", b"2"))
    assert run("SORT", "l", "BY", "nosort") == [b"3", b"1", b"x", b"2"]
    assert run("SORT", "l", "BY", "nosort", "DESC") == [b"2", b"x", b"1", b"3"]
    assert run("SORT", "l", "BY", "nosort", "LIMIT", "1", "2") == [b"1", b"x"]
    assert run("SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "2") == [b"x", b"1"]
    # A later BY with a '*' does not turn sorting back on.
    assert run("SORT", "l", "BY", "nosort", "BY", "w_*") == [b"3", b"1", b"x", b"2"]


def test_zset_without_sorting_keeps_score_order(run: Runner) -> None:
    put(run, b"z", a_zset((3, b"c"), (1, b"a"), (2, b"b"), (2, b"bb"), (0, b"d")))
    assert run("SORT", "z", "BY", "nosort") == [b"d", b"a", b"b", b"bb", b"c"]
    assert run("SORT", "z", "BY", "nosort", "DESC") == [b"c", b"bb", b"b", b"a", b"d"]
    assert run("SORT", "z", "BY", "nosort", "LIMIT", "1", "2") == [b"a", b"b"]
    assert run("SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "2") == [b"bb", b"b"]
    assert run("SORT", "z", "BY", "nosort", "DESC", "LIMIT", "4", "10") == [b"d"]
    assert run("SORT", "z", "ALPHA") == [b"a", b"b", b"bb", b"c", b"d"]


def test_set_sorted_when_stored_even_without_sorting(run: Runner) -> None:
    put(run, b"s", a_set(b"5", b"3", b"40", b"1"))
    assert sorted(run("SORT", "s", "BY", "nosort")) == [b"1", b"3", b"40", b"5"]
    assert run("SORT", "s", "BY", "nosort", "STORE", "dst") == 4
    assert stored_list(run) == [b"1", b"3", b"40", b"5"]
    assert run("SORT", "s", "BY", "nosort", "DESC", "STORE", "dst") == 4
    assert stored_list(run) == [b"5", b"40", b"3", b"1"]
    assert run("SORT", "s") == [b"1", b"3", b"5", b"40"]


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        (("0", "0"), []),
        (("0", "-1"), [b"1", b"2", b"3", b"4", b"5"]),
        (("0", "-7"), [b"1", b"2", b"3", b"4", b"5"]),
        (("-5", "2"), [b"1", b"2"]),
        (("3", "100"), [b"4", b"5"]),
        (("4", "1"), [b"5"]),
        (("5", "1"), []),
        (("9223372036854775807", "9223372036854775807"), []),
    ],
)
def test_limit_clamping(run: Runner, limit: tuple[str, str], expected: list[bytes]) -> None:
    put(run, b"l", a_list(b"3", b"5", b"1", b"4", b"2"))
    assert run("SORT", "l", "LIMIT", *limit) == expected


def test_missing_key_sorts_as_empty(run: Runner) -> None:
    assert run("SORT", "nope") == []
    assert run("SORT_RO", "nope", "BY", "w_*", "GET", "#") == []


def test_errors(run: Runner) -> None:
    run("SET", "s", "v")
    put(run, b"h", a_hash(f=b"v"))
    assert run("SORT", "s") == WRONGTYPE
    assert run("SORT", "h") == WRONGTYPE
    assert run("SORT", "s", "FOO") == SYNTAX
    assert run("SORT", "s", "LIMIT", "1") == SYNTAX
    assert run("SORT", "s", "LIMIT", "x", "1") == RespError(
        "ERR value is not an integer or out of range"
    )
    assert run("SORT_RO", "s", "STORE", "dst") == SYNTAX
    assert run("SORT", "s", "STORE") == SYNTAX


# --- STORE ---


def test_store_creates_a_list_without_ttl_and_propagates(run: Runner) -> None:
    events = capture_events(run, "KEAn")
    put(run, b"l", a_list(b"3", b"1", b"2"))
    run("SET", "dst", "old", "PX", "5000")
    signalled = watch(run, 0, b"dst", b"l")
    events.clear()
    assert run("SORT", "l", "STORE", "dst") == 3
    stored = run.app.keyspace.dbs[0].get(b"dst")
    assert type(stored) is ListValue
    assert list(stored) == [b"1", b"2", b"3"]
    assert run("PTTL", "dst") == -1
    assert run.feed[-1] == feed_of(["SORT", "l", "STORE", "dst"])[0]
    assert run.app.dirty >= 3
    assert signalled == [(0, b"dst")]
    assert keyspace_events(events) == [(b"__keyspace@0__:dst", b"sortstore")]
    run("DEL", "dst")
    events.clear()
    run("SORT", "l", "STORE", "dst")
    assert keyspace_events(events) == [
        (b"__keyspace@0__:dst", b"new"),
        (b"__keyspace@0__:dst", b"sortstore"),
    ]


def test_store_with_get_stores_empty_strings_for_missing_values(run: Runner) -> None:
    put(run, b"l", a_list(b"2", b"1"))
    run.app.keyspace.dbs[0].set(b"g_1", bytearray(b"one"))
    assert run("SORT", "l", "GET", "g_*", "GET", "#", "STORE", "dst") == 4
    stored = stored_list(run)
    assert stored == [b"one", b"1", b"", b"2"]
    assert all(type(item) is bytes for item in stored)


def test_empty_result_deletes_the_destination(run: Runner) -> None:
    events = capture_events(run)
    run("SET", "dst", "old")
    events.clear()
    sent = len(run.feed)
    assert run("SORT", "nope", "STORE", "dst") == 0
    assert run("EXISTS", "dst") == 0
    assert keyspace_events(events) == [(b"__keyspace@0__:dst", b"del")]
    assert run.feed[sent:] == feed_of(["SORT", "nope", "STORE", "dst"])
    # Nothing to delete: nothing changed, nothing propagated.
    assert run("SORT", "nope", "STORE", "dst") == 0
    assert len(run.feed) == sent + 1


def test_sort_without_store_is_not_propagated(run: Runner) -> None:
    put(run, b"l", a_list(b"1"))
    assert run("SORT", "l") == [b"1"]
    assert run.feed == []


def test_sort_reads_count_hits_and_misses(run: Runner) -> None:
    put(run, b"l", a_list(b"1", b"2"))
    run("SET", "w_1", "5")
    keyspace = run.app.keyspace
    run("SORT", "l", "BY", "w_*")
    assert (keyspace.hits, keyspace.misses) == (2, 1)


def test_empty_result_deletes_an_expired_destination_as_a_deletion(run: Runner) -> None:
    events = capture_events(run)
    run("SET", "dst", "old", "PX", "5")
    run.clock.advance(6)
    events.clear()
    assert run("SORT", "nope", "STORE", "dst") == 0
    assert keyspace_events(events) == [(b"__keyspace@0__:dst", b"del")]
    assert run.feed[-1] == feed_of(["SORT", "nope", "STORE", "dst"])[0]
    assert run.app.keyspace.dbs[0].peek(b"dst") is None

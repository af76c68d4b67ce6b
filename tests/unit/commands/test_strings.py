"""String commands in-process: replies, stored values, TTLs, propagation and keyspace events."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from protocol.resp import OK, RespError, encode_command
from server.errors import (
    ERR_DECR_OVERFLOW,
    ERR_LCS_LEN_AND_IDX,
    ERR_LCS_MEMORY,
    ERR_LCS_WRONGTYPE,
    ERR_NAN_INCR,
    ERR_NOT_FLOAT,
    ERR_NOT_INTEGER,
    ERR_OFFSET_RANGE,
    ERR_OVERFLOW,
    ERR_STRING_TOO_LONG,
    ERR_SYNTAX,
    ERR_WRONGTYPE,
)
from storage.lists import ListValue
from storage.strings import LcsTable
from tests.support import Runner

I64_MAX = 2**63 - 1
I64_MIN = -(2**63)


def feed_of(*commands: tuple[bytes | str, ...]) -> list[bytes]:
    return [
        encode_command([a if isinstance(a, bytes) else a.encode() for a in c]) for c in commands
    ]


def propagated(run: Runner, since: int) -> list[bytes]:
    """The effects written to the stream since index `since` (SELECT lines dropped)."""
    return [e for e in run.feed[since:] if not e.startswith(b"*2\r\n$6\r\nSELECT")]


def stored(run: Runner, key: bytes) -> object:
    return run.app.keyspace.dbs[0].peek(key)


def deadline(run: Runner, key: bytes) -> int | None:
    return run.app.keyspace.dbs[0].get_expire(key)


@pytest.fixture
def small() -> Runner:
    """A server whose proto-max-bulk-len is 1 MB, the smallest Redis accepts."""
    return Runner([("proto-max-bulk-len", ["1mb"])])


# --- GET / SET variants ---


def test_plain_set_stores_the_argument_bytes(run: Runner) -> None:
    assert run("SET", "k", "v") is OK
    assert type(stored(run, b"k")) is bytes


def test_get_of_an_edited_string_is_a_snapshot(run: Runner) -> None:
    run("SET", "k", "abc")
    run("APPEND", "k", "d")
    reply = run("GET", "k")
    run("APPEND", "k", "e")
    assert reply == b"abcd"
    assert type(reply) is bytes


def test_setnx_sets_only_a_missing_key(run: Runner) -> None:
    assert run("SETNX", "k", "a") == 1
    sent = len(run.feed)
    assert run("SETNX", "k", "b") == 0
    assert run("GET", "k") == b"a"
    assert len(run.feed) == sent  # nothing changed, nothing propagated


def test_setex_and_psetex_propagate_an_absolute_deadline(run: Runner) -> None:
    now = run.clock.now_ms()
    sent = len(run.feed)
    assert run("SETEX", "k", "10", "v") is OK
    assert run("PSETEX", "p", "1500", "w") is OK
    assert deadline(run, b"k") == now + 10_000
    assert deadline(run, b"p") == now + 1500
    assert propagated(run, sent) == feed_of(
        ("SET", "k", "v", "PXAT", str(now + 10_000)), ("SET", "p", "w", "PXAT", str(now + 1500))
    )


@pytest.mark.parametrize("ttl", ["0", "-1", "9223372036854775807"])
def test_setex_bad_ttl_names_the_command(run: Runner, ttl: str) -> None:
    assert run("SETEX", "k", ttl, "v") == RespError("ERR invalid expire time in 'setex' command")
    assert run("PSETEX", "k", "0", "v") == RespError("ERR invalid expire time in 'psetex' command")
    assert run("SETEX", "k", "x", "v") == RespError(ERR_NOT_INTEGER)
    assert run("EXISTS", "k") == 0


def test_getset_returns_the_old_value_drops_the_ttl_and_propagates_set(run: Runner) -> None:
    run("SET", "k", "old", "EX", "100")
    sent = len(run.feed)
    assert run("GETSET", "k", "new") == b"old"
    assert deadline(run, b"k") is None
    assert propagated(run, sent) == feed_of(("SET", "k", "new"))
    assert run("GETSET", "missing", "v") is None


def test_getdel_propagates_del_only_when_it_deletes(run: Runner) -> None:
    run("SET", "k", "v")
    sent = len(run.feed)
    assert run("GETDEL", "k") == b"v"
    assert run("GETDEL", "k") is None
    assert propagated(run, sent) == feed_of(("DEL", "k"))


def test_getex_rewrites_each_option_as_redis_does(run: Runner) -> None:
    now = run.clock.now_ms()
    run("SET", "k", "v")
    sent = len(run.feed)
    assert run("GETEX", "k") == b"v"
    assert run("GETEX", "k", "EX", "10") == b"v"
    assert run("GETEX", "k", "PX", "500") == b"v"
    assert run("GETEX", "k", "PERSIST") == b"v"
    assert run("GETEX", "k", "PERSIST") == b"v"  # no TTL left: nothing to propagate
    assert run("GETEX", "k", "EXAT", str(now // 1000 + 50)) == b"v"
    assert run("GETEX", "k", "PXAT", str(now - 1)) == b"v"
    assert run("EXISTS", "k") == 0
    assert propagated(run, sent) == feed_of(
        ("PEXPIREAT", "k", str(now + 10_000)),
        ("PEXPIREAT", "k", str(now + 500)),
        ("PERSIST", "k"),
        ("PEXPIREAT", "k", str((now // 1000 + 50) * 1000)),
        ("DEL", "k"),
    )


def test_lazyfree_settings_turn_the_deletes_into_unlink() -> None:
    run = Runner([("lazyfree-lazy-user-del", ["yes"]), ("lazyfree-lazy-expire", ["yes"])])
    run("MSET", "a", "1", "b", "2")
    sent = len(run.feed)
    run("GETDEL", "a")
    run("GETEX", "b", "PXAT", "1")
    assert propagated(run, sent) == feed_of(("UNLINK", "a"), ("UNLINK", "b"))


def test_getex_in_the_past_on_a_replica_keeps_the_key_for_the_primary_to_delete(
    run: Runner,
) -> None:
    run("SET", "k", "v")
    run.app.is_replica = True
    run.ctx.is_primary_link = True
    assert run("GETEX", "k", "PXAT", "1") == b"v"
    assert deadline(run, b"k") == 1


def test_getex_checks_options_then_key_then_expire(run: Runner) -> None:
    assert run("GETEX", "missing", "EX", "abc") is None
    assert run("GETEX", "missing", "FOO") == RespError(ERR_SYNTAX)
    run("SET", "k", "v")
    assert run("GETEX", "k", "EX", "0") == RespError("ERR invalid expire time in 'getex' command")
    assert run("GETEX", "k", "PERSIST", "EX", "1") == RespError(ERR_SYNTAX)
    assert run("GETEX", "k", "KEEPTTL") == RespError(ERR_SYNTAX)


def test_set_get_counts_a_keyspace_hit(run: Runner) -> None:
    run("SET", "k", "v")
    hits = run.app.keyspace.hits
    assert run("SET", "k", "w", "GET") == b"v"
    assert run.app.keyspace.hits == hits + 1


# --- several keys ---


def test_mget_answers_null_for_missing_and_non_string_keys(run: Runner) -> None:
    run.app.keyspace.dbs[0].set(b"list", ListValue([b"a"]))
    run("SET", "a", "1")
    run("APPEND", "b", "2")
    run("APPEND", "b", "3")
    assert run("MGET", "a", "list", "nope", "b") == [b"1", None, None, b"23"]


def test_mset_with_a_missing_value_is_an_arity_error(run: Runner) -> None:
    assert run("MSET", "a", "1", "b") == RespError(
        "ERR wrong number of arguments for 'mset' command"
    )
    assert run("MSETNX", "a", "1", "b") == RespError(
        "ERR wrong number of arguments for 'msetnx' command"
    )


def test_mset_overwrites_types_and_ttls_and_counts_each_key(run: Runner) -> None:
    run.app.keyspace.dbs[0].set(b"list", ListValue([b"a"]))
    run("SET", "t", "v", "EX", "100")
    dirty = run.app.dirty
    assert run("MSET", "list", "1", "t", "2", "t", "3") is OK
    assert run.app.dirty == dirty + 3
    assert run("MGET", "list", "t") == [b"1", b"3"]
    assert deadline(run, b"t") is None


def test_msetnx_sets_nothing_if_any_key_exists(run: Runner) -> None:
    run("SET", "a", "1")
    sent = len(run.feed)
    assert run("MSETNX", "b", "2", "a", "3") == 0
    assert run("EXISTS", "b") == 0
    assert len(run.feed) == sent
    assert run("MSETNX", "b", "2", "c", "3") == 1
    assert run("MGET", "b", "c") == [b"2", b"3"]


# --- APPEND / SETRANGE / GETRANGE / STRLEN ---


def test_append_creates_with_the_argument_then_edits_in_place(run: Runner) -> None:
    assert run("APPEND", "k", "ab") == 2
    assert type(stored(run, b"k")) is bytes
    assert run("APPEND", "k", "cd") == 4
    value = stored(run, b"k")
    assert type(value) is bytearray
    assert run("APPEND", "k", "e") == 5
    assert stored(run, b"k") is value
    assert run("GET", "k") == b"abcde"


def test_append_and_setrange_keep_the_ttl(run: Runner) -> None:
    run("SET", "k", "v", "EX", "100")
    ttl = deadline(run, b"k")
    run("APPEND", "k", "x")
    run("SETRANGE", "k", "5", "y")
    assert deadline(run, b"k") == ttl
    assert run("GET", "k") == b"vx\0\0\0y"


def test_append_beyond_proto_max_bulk_len_is_refused(small: Runner) -> None:
    small("SETRANGE", "k", str(1024**2 - 2), "ab")
    assert small("STRLEN", "k") == 1024**2
    assert small("APPEND", "k", "x") == RespError(ERR_STRING_TOO_LONG)
    assert small("APPEND", "k", "") == 1024**2
    assert small("STRLEN", "k") == 1024**2


def test_the_primary_link_is_not_held_to_proto_max_bulk_len(small: Runner) -> None:
    small.ctx.is_primary_link = True
    assert small("SETRANGE", "k", str(1024**2), "x") == 1024**2 + 1
    assert small("APPEND", "k", "y") == 1024**2 + 2
    assert small("SETBIT", "k", str(8 * 1024**2 + 100), "1") == 0


def test_setrange_limits_and_empty_values(small: Runner) -> None:
    assert small("SETRANGE", "k", str(1024**2 - 1), "x") == 1024**2
    assert small("SETRANGE", "n", str(1024**2), "x") == RespError(ERR_STRING_TOO_LONG)
    assert small("SETRANGE", "n", str(1024**2), "") == 0
    assert small("EXISTS", "n") == 0
    assert small("SETRANGE", "k", str(10 * 1024**2), "") == 1024**2
    assert small("SETRANGE", "k", "-1", "x") == RespError(ERR_OFFSET_RANGE)
    assert small("SETRANGE", "k", "1.5", "x") == RespError(ERR_NOT_INTEGER)


def test_setrange_pads_with_zero_bytes_and_makes_a_raw_string(run: Runner) -> None:
    assert run("SETRANGE", "k", "3", "ab") == 5
    assert type(stored(run, b"k")) is bytearray
    assert run("GET", "k") == b"\0\0\0ab"
    run("SET", "s", "hello")
    assert run("SETRANGE", "s", "0", "") == 5
    assert type(stored(run, b"s")) is bytes
    assert run("SETRANGE", "s", "1", "EY") == 5
    assert run("GET", "s") == b"hEYlo"


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, -1, b"Hello!"),
        (0, 0, b"H"),
        (-1, -1, b"!"),
        (-3, -1, b"lo!"),
        (4, 2, b""),
        (-1, -5, b""),
        (-100, -200, b""),
        (-100, 2, b"Hel"),
        (2, 100, b"llo!"),
        (100, 200, b""),
        (I64_MIN, I64_MAX, b"Hello!"),
    ],
)
def test_getrange_indexes_follow_redis(run: Runner, start: int, end: int, expected: bytes) -> None:
    run("SET", "k", "Hello!")
    assert run("GETRANGE", "k", start, end) == expected
    assert run("SUBSTR", "k", start, end) == expected


def test_getrange_of_missing_or_empty_is_empty(run: Runner) -> None:
    run("SET", "e", "")
    assert run("GETRANGE", "missing", "0", "-1") == b""
    assert run("GETRANGE", "e", "-1", "0") == b""
    assert run("GETRANGE", "missing", "x", "0") == RespError(ERR_NOT_INTEGER)


def test_strlen(run: Runner) -> None:
    run("SET", "k", "abc")
    assert run("STRLEN", "k") == 3
    assert run("STRLEN", "missing") == 0


# --- counters ---


def test_incr_family_arithmetic(run: Runner) -> None:
    assert run("INCR", "n") == 1
    assert run("INCRBY", "n", "10") == 11
    assert run("DECR", "n") == 10
    assert run("DECRBY", "n", "-5") == 15
    assert run("GET", "n") == b"15"
    assert type(stored(run, b"n")) is bytes


def test_incr_keeps_the_ttl_of_an_existing_key(run: Runner) -> None:
    run("SET", "n", "5", "PX", "1000")
    ttl = deadline(run, b"n")
    assert run("INCR", "n") == 6
    assert deadline(run, b"n") == ttl


def test_incr_works_on_an_edited_string(run: Runner) -> None:
    run("SET", "n", "1")
    run("APPEND", "n", "2")
    assert run("INCR", "n") == 13
    assert type(stored(run, b"n")) is bytes


@pytest.mark.parametrize(
    "value", [" 1", "1 ", "+1", "01", "-0", "1.0", "", "abc", "9223372036854775808", "0x10"]
)
def test_incr_refuses_what_string2ll_refuses(run: Runner, value: str) -> None:
    run("SET", "n", value)
    assert run("INCR", "n") == RespError(ERR_NOT_INTEGER)
    assert run("GET", "n") == value.encode()


def test_incr_overflow_edges(run: Runner) -> None:
    run("SET", "n", str(I64_MAX))
    assert run("INCR", "n") == RespError(ERR_OVERFLOW)
    assert run("INCRBY", "n", "0") == I64_MAX
    assert run("INCRBY", "n", str(I64_MIN)) == -1
    run("SET", "n", str(I64_MIN))
    assert run("DECR", "n") == RespError(ERR_OVERFLOW)
    assert run("DECRBY", "n", "1") == RespError(ERR_OVERFLOW)
    assert run("INCRBY", "n", str(I64_MAX)) == -1
    assert run("DECRBY", "n", str(I64_MIN)) == RespError(ERR_DECR_OVERFLOW)
    assert run("INCRBY", "n", "9223372036854775808") == RespError(ERR_NOT_INTEGER)


def test_incr_that_fails_propagates_nothing(run: Runner) -> None:
    run("SET", "n", "x")
    sent = len(run.feed)
    run("INCR", "n")
    assert len(run.feed) == sent


def test_incrbyfloat_uses_long_double_arithmetic(run: Runner) -> None:
    run("SET", "f", "10.5")
    assert run("INCRBYFLOAT", "f", "0.1") == b"10.6"
    assert run("INCRBYFLOAT", "f", "-5.0e3") == b"-4989.39999999999999991"  # as Redis
    assert run("INCRBYFLOAT", "new", "3.0e3") == b"3000"


def test_incrbyfloat_propagates_set_keepttl_and_keeps_the_ttl(run: Runner) -> None:
    run("SET", "f", "1", "EX", "100")
    ttl = deadline(run, b"f")
    sent = len(run.feed)
    assert run("INCRBYFLOAT", "f", "0.5") == b"1.5"
    assert deadline(run, b"f") == ttl
    assert propagated(run, sent) == feed_of(("SET", "f", "1.5", "KEEPTTL"))


def test_incrbyfloat_errors(run: Runner) -> None:
    run("SET", "f", "abc")
    assert run("INCRBYFLOAT", "f", "1") == RespError(ERR_NOT_FLOAT)
    run("SET", "f", "1")
    assert run("INCRBYFLOAT", "f", "nan") == RespError(ERR_NOT_FLOAT)
    assert run("INCRBYFLOAT", "f", "inf") == RespError(ERR_NAN_INCR)
    run("SET", "f", "1.18e4932")
    assert run("INCRBYFLOAT", "f", "1.18e4932") == RespError(ERR_NAN_INCR)
    assert run("GET", "f") == b"1.18e4932"


# --- LCS ---


def test_lcs_reply_forms(run: Runner) -> None:
    run("MSET", "a", "ohmytext", "b", "mynewtext")
    assert run("LCS", "a", "b") == b"mytext"
    assert run("LCS", "a", "b", "LEN") == 6
    assert run("LCS", "a", "b", "IDX") == {
        b"matches": [[[4, 7], [5, 8]], [[2, 3], [0, 1]]],
        b"len": 6,
    }
    assert run("LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN") == {
        b"matches": [[[4, 7], [5, 8], 4]],
        b"len": 6,
    }


def test_lcs_errors(run: Runner) -> None:
    run.app.keyspace.dbs[0].set(b"list", ListValue([b"a"]))
    run("SET", "a", "x")
    assert run("LCS", "a", "list") == RespError(ERR_LCS_WRONGTYPE)
    assert run("LCS", "a", "a", "LEN", "IDX") == RespError(ERR_LCS_LEN_AND_IDX)
    assert run("LCS", "a", "a", "MINMATCHLEN") == RespError(ERR_SYNTAX)
    assert run("LCS", "a", "a", "MINMATCHLEN", "x") == RespError(ERR_NOT_INTEGER)
    assert run("LCS", "missing", "missing2") == b""


def test_lcs_table_size_limit_follows_proto_max_bulk_len(small: Runner) -> None:
    small("SET", "a", "x" * 600)
    small("SET", "b", "x" * 400)
    assert small("LCS", "a", "a", "LEN") == RespError(ERR_LCS_MEMORY)  # 601 * 601 * 4 > 1 MB
    assert small("LCS", "a", "b", "LEN") == 400  # 601 * 401 * 4 < 1 MB


def _naive_lcs(a: bytes, b: bytes) -> tuple[int, bytes, list[tuple[int, int, int, int]]]:
    """Redis's algorithm, cell by cell (lcsCommand)."""
    n, m = len(a), len(b)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            if a[i - 1] == b[j - 1]:
                table[i][j] = table[i - 1][j - 1] + 1
            else:
                table[i][j] = max(table[i - 1][j], table[i][j - 1])
    out = bytearray()
    ranges = []
    i, j = n, m
    a_start, a_end, b_start, b_end = n, 0, 0, 0
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            out.append(a[i - 1])
            if a_start == n:
                a_start = a_end = i - 1
                b_start = b_end = j - 1
            elif a_start == i and b_start == j:
                a_start -= 1
                b_start -= 1
            else:
                emit = True
            if a_start == 0 or b_start == 0:
                emit = True
            i -= 1
            j -= 1
        else:
            if table[i - 1][j] > table[i][j - 1]:
                i -= 1
            else:
                j -= 1
            if a_start != n:
                emit = True
        if emit:
            ranges.append((a_start, a_end, b_start, b_end))
            a_start = n
    out.reverse()
    return table[n][m], bytes(out), ranges


@settings(max_examples=300)
@given(st.binary(max_size=40).map(lambda s: bytes(c % 4 + 97 for c in s)), st.binary(max_size=40))
def test_lcs_walks_the_same_path_as_redis(a: bytes, b: bytes) -> None:
    b = bytes(c % 5 + 97 for c in b)
    table = LcsTable(a, b, keep_rows=True)
    common, ranges = table.matches()
    assert (table.length, common, ranges) == _naive_lcs(a, b)


# --- errors shared by the family ---

WRONG_TYPE_CALLS = [
    ("GET", "list"),
    ("SET", "list", "v", "GET"),
    ("GETSET", "list", "v"),
    ("GETDEL", "list"),
    ("GETEX", "list", "PERSIST"),
    ("APPEND", "list", "x"),
    ("STRLEN", "list"),
    ("SETRANGE", "list", "0", "x"),
    ("SETRANGE", "list", "0", ""),
    ("GETRANGE", "list", "0", "1"),
    ("SUBSTR", "list", "0", "1"),
    ("INCR", "list"),
    ("DECR", "list"),
    ("INCRBY", "list", "1"),
    ("DECRBY", "list", "1"),
    ("INCRBYFLOAT", "list", "1"),
]


@pytest.mark.parametrize("call", WRONG_TYPE_CALLS, ids=lambda c: " ".join(c))
def test_string_commands_refuse_other_types(run: Runner, call: tuple[str, ...]) -> None:
    run.app.keyspace.dbs[0].set(b"list", ListValue([b"a"]))
    assert run(*call) == RespError(ERR_WRONGTYPE)
    assert type(stored(run, b"list")) is ListValue


def test_overwriting_commands_replace_other_types(run: Runner) -> None:
    db = run.app.keyspace.dbs[0]
    for command in [("SET", "l", "v"), ("SETEX", "l", "10", "v"), ("MSET", "l", "v")]:
        db.set(b"l", ListValue([b"a"]))
        assert run(*command) is OK
        assert run("GET", "l") == b"v"
    db.set(b"l", ListValue([b"a"]))
    assert run("SETNX", "l", "v") == 0


# --- keyspace events ---

EVENT_SCRIPT = [
    ("SET", "k", "v"),
    ("SETNX", "k", "v"),
    ("SETNX", "n", "v"),
    ("SETEX", "k", "100", "v"),
    ("PSETEX", "k", "100000", "v"),
    ("GETSET", "k", "w"),
    ("GETEX", "k"),
    ("GETEX", "k", "EX", "100"),
    ("GETEX", "k", "PERSIST"),
    ("GETEX", "k", "PERSIST"),
    ("GETEX", "k", "PXAT", "1"),
    ("SET", "d", "v"),
    ("GETDEL", "d"),
    ("GETDEL", "d"),
    ("MSET", "a", "1", "b", "2"),
    ("MSETNX", "a", "1", "c", "2"),
    ("MSETNX", "c", "1", "e", "2"),
    ("APPEND", "ap", "x"),
    ("APPEND", "ap", "y"),
    ("SETRANGE", "sr", "0", ""),
    ("SETRANGE", "sr", "2", "x"),
    ("INCR", "i"),
    ("DECR", "i"),
    ("INCRBY", "i", "5"),
    ("DECRBY", "i", "2"),
    ("INCRBYFLOAT", "i", "1.5"),
    ("SETBIT", "b", "0", "1"),
    ("SETBIT", "b", "0", "1"),
    ("SETBIT", "b", "20", "0"),
    ("BITOP", "OR", "dest", "b"),
    ("BITOP", "AND", "dest", "nothing"),
    ("BITOP", "AND", "dest", "nothing"),
    ("BITFIELD", "bf", "SET", "u8", "0", "1"),
    ("BITFIELD", "bf", "SET", "u8", "0", "1", "SET", "u8", "8", "2"),
    ("BITFIELD", "bf2", "OVERFLOW", "FAIL", "SET", "u2", "0", "9"),
    ("SET", "s", "v", "EX", "100"),
    ("SET", "s", "v", "GET", "KEEPTTL"),
    ("INCR", "last"),
]

# Recorded from redis-server 7.0.15 with notify-keyspace-events KEA.
REDIS_EVENTS = [
    (b"set", b"k"),
    (b"set", b"n"),
    (b"set", b"k"),
    (b"expire", b"k"),
    (b"set", b"k"),
    (b"expire", b"k"),
    (b"set", b"k"),
    (b"expire", b"k"),
    (b"persist", b"k"),
    (b"del", b"k"),
    (b"set", b"d"),
    (b"del", b"d"),
    (b"set", b"a"),
    (b"set", b"b"),
    (b"set", b"c"),
    (b"set", b"e"),
    (b"append", b"ap"),
    (b"append", b"ap"),
    (b"setrange", b"sr"),
    (b"incrby", b"i"),
    (b"incrby", b"i"),
    (b"incrby", b"i"),
    (b"incrby", b"i"),
    (b"incrbyfloat", b"i"),
    (b"setbit", b"b"),
    (b"setbit", b"b"),
    (b"set", b"dest"),
    (b"del", b"dest"),
    (b"setbit", b"bf"),
    (b"setbit", b"bf"),
    (b"set", b"s"),
    (b"expire", b"s"),
    (b"set", b"s"),
    (b"incrby", b"last"),
]


def test_keyspace_events_match_redis() -> None:
    run = Runner([("notify-keyspace-events", ["KEA"])])
    events: list[tuple[bytes, bytes]] = []

    def publish(channel: bytes, message: bytes) -> int:
        if channel.startswith(b"__keyevent@0__:"):
            events.append((channel.split(b":", 1)[1], message))
        return 0

    run.app.publish = publish
    for command in EVENT_SCRIPT:
        run(*command)
    assert events == REDIS_EVENTS

"""List commands in-process: replies, errors, events, deletion of emptied lists, propagation."""

from __future__ import annotations

import pytest

from protocol.resp import NULL_ARRAY, OK, RespError, RESPParser, encode_reply
from storage.lists import ListValue, clamp_range, positions, range_of, remove, trim
from storage.values import encoding_name
from tests.support import Runner

WRONGTYPE = RespError("WRONGTYPE Operation against a key holding the wrong kind of value")
NOT_INT = RespError("ERR value is not an integer or out of range")
SYNTAX = RespError("ERR syntax error")


def feed_commands(run: Runner) -> list[list[bytes]]:
    parser = RESPParser()
    parser.feed(b"".join(run.feed))
    out = []
    while (argv := parser.maybe_next_command()) is not None:
        out.append(argv)
    return out


def events(run: Runner, classes: str = "KEA") -> list[tuple[bytes, bytes]]:
    seen: list[tuple[bytes, bytes]] = []

    def publish(channel: bytes, message: bytes) -> int:
        if channel.startswith(b"__keyevent@"):
            seen.append((channel.split(b":", 1)[1], message))
        return 0

    run.app.publish = publish
    run.app.config.set("notify-keyspace-events", [classes])
    return seen


# --- push, length, index ---


def test_push_returns_length_and_orders_elements(run: Runner) -> None:
    assert run("RPUSH", "k", "a", "b") == 2
    assert run("LPUSH", "k", "x", "y") == 4
    assert run("LRANGE", "k", "0", "-1") == [b"y", b"x", b"a", b"b"]
    assert run("LLEN", "k") == 4
    assert run("LLEN", "missing") == 0


def test_pushx_only_pushes_onto_existing_lists(run: Runner) -> None:
    assert run("LPUSHX", "k", "a") == 0
    assert run("RPUSHX", "k", "a") == 0
    assert run("EXISTS", "k") == 0
    assert run.feed == []
    run("RPUSH", "k", "a")
    assert run("LPUSHX", "k", "b", "c") == 3
    assert run("RPUSHX", "k", "d") == 4
    assert run("LRANGE", "k", "0", "-1") == [b"c", b"b", b"a", b"d"]


def test_list_commands_on_a_string_are_wrongtype(run: Runner) -> None:
    run("SET", "s", "v")
    for args in [
        ("LPUSH", "s", "a"),
        ("RPUSHX", "s", "a"),
        ("LLEN", "s"),
        ("LRANGE", "s", "0", "1"),
        ("LINDEX", "s", "0"),
        ("LSET", "s", "0", "x"),
        ("LINSERT", "s", "BEFORE", "a", "b"),
        ("LREM", "s", "0", "a"),
        ("LTRIM", "s", "0", "1"),
        ("LPOS", "s", "a"),
        ("LPOP", "s"),
        ("RPOP", "s", "2"),
        ("LMOVE", "s", "d", "LEFT", "LEFT"),
        ("RPOPLPUSH", "s", "d"),
        ("LMPOP", "1", "s", "LEFT"),
        ("BLPOP", "s", "0"),
        ("BLMPOP", "0", "1", "s", "RIGHT"),
        ("BLMOVE", "s", "d", "LEFT", "LEFT", "0"),
    ]:
        assert run(*args) == WRONGTYPE, args


def test_lindex_negative_and_out_of_range(run: Runner) -> None:
    run("RPUSH", "k", "a", "b", "c")
    assert run("LINDEX", "k", "0") == b"a"
    assert run("LINDEX", "k", "-1") == b"c"
    assert run("LINDEX", "k", "-3") == b"a"
    assert run("LINDEX", "k", "3") is None
    assert run("LINDEX", "k", "-4") is None
    assert run("LINDEX", "k", "x") == NOT_INT
    # The key is looked up before the index is parsed.
    assert run("LINDEX", "missing", "x") is None


def test_lset_errors_and_success(run: Runner) -> None:
    assert run("LSET", "missing", "0", "x") == RespError("ERR no such key")
    run("RPUSH", "k", "a", "b")
    assert run("LSET", "k", "2", "x") == RespError("ERR index out of range")
    assert run("LSET", "k", "-3", "x") == RespError("ERR index out of range")
    assert run("LSET", "k", "x", "x") == NOT_INT
    assert run("LSET", "k", "-1", "z") is OK
    assert run("LRANGE", "k", "0", "-1") == [b"a", b"z"]


# --- ranges ---


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, -1, [b"0", b"1", b"2", b"3", b"4"]),
        (1, 2, [b"1", b"2"]),
        (-2, -1, [b"3", b"4"]),
        (-100, 1, [b"0", b"1"]),
        (3, 100, [b"3", b"4"]),
        (4, 3, []),
        (5, 10, []),
        (-1, -2, []),
        (0, -6, []),
        (-9223372036854775808, 9223372036854775807, [b"0", b"1", b"2", b"3", b"4"]),
    ],
)
def test_lrange_index_rules(run: Runner, start: int, end: int, expected: list[bytes]) -> None:
    run("RPUSH", "k", "0", "1", "2", "3", "4")
    assert run("LRANGE", "k", start, end) == expected


def test_lrange_parses_indexes_before_the_lookup(run: Runner) -> None:
    assert run("LRANGE", "missing", "0", "-1") == []
    assert run("LRANGE", "missing", "x", "1") == NOT_INT


def test_range_of_walks_from_either_end() -> None:
    lst = ListValue(str(i).encode() for i in range(100))
    assert range_of(lst, 95, 99) == [b"95", b"96", b"97", b"98", b"99"]
    assert range_of(lst, 0, 2) == [b"0", b"1", b"2"]
    assert range_of(lst, 50, 50) == [b"50"]
    assert clamp_range(0, -1, 0) is None


def test_ltrim_keeps_the_range_and_deletes_an_emptied_list(run: Runner) -> None:
    run("RPUSH", "k", "0", "1", "2", "3", "4")
    assert run("LTRIM", "k", "1", "-2") is OK
    assert run("LRANGE", "k", "0", "-1") == [b"1", b"2", b"3"]
    assert run("LTRIM", "k", "5", "10") is OK
    assert run("EXISTS", "k") == 0
    assert run("LTRIM", "missing", "0", "1") is OK
    assert run("LTRIM", "missing", "x", "1") == NOT_INT


def test_trim_rebuilds_or_pops() -> None:
    lst = ListValue(b"%d" % i for i in range(10))
    assert trim(lst, 4, 5) == 8
    assert list(lst) == [b"4", b"5"]
    lst = ListValue(b"%d" % i for i in range(10))
    assert trim(lst, 1, -2) == 2
    assert list(lst) == [b"%d" % i for i in range(1, 9)]


def test_ltrim_that_removes_nothing_is_not_propagated(run: Runner) -> None:
    run("RPUSH", "k", "a", "b")
    sent = len(run.feed)
    assert run("LTRIM", "k", "0", "-1") is OK
    assert len(run.feed) == sent


# --- insert, remove, position ---


def test_linsert(run: Runner) -> None:
    assert run("LINSERT", "missing", "BEFORE", "a", "b") == 0
    assert run("LINSERT", "missing", "MIDDLE", "a", "b") == SYNTAX
    run("RPUSH", "k", "a", "c", "a")
    assert run("LINSERT", "k", "after", "a", "b") == 4
    assert run("LINSERT", "k", "BEFORE", "a", "0") == 5
    assert run("LINSERT", "k", "BEFORE", "zz", "0") == -1
    assert run("LRANGE", "k", "0", "-1") == [b"0", b"a", b"b", b"c", b"a"]


def test_lrem_directions(run: Runner) -> None:
    run("RPUSH", "k", "a", "b", "a", "c", "a")
    assert run("LREM", "k", "1", "a") == 1
    assert run("LRANGE", "k", "0", "-1") == [b"b", b"a", b"c", b"a"]
    assert run("LREM", "k", "-1", "a") == 1
    assert run("LRANGE", "k", "0", "-1") == [b"b", b"a", b"c"]
    assert run("LREM", "k", "0", "zz") == 0
    assert run("LREM", "k", "0", "b") == 1
    assert run("LREM", "k", "5", "a") == 1
    assert run("LREM", "k", "0", "c") == 1
    assert run("EXISTS", "k") == 0
    assert run("LREM", "k", "x", "a") == NOT_INT


def test_remove_counts_from_the_tail() -> None:
    lst = ListValue([b"a", b"x", b"a", b"x", b"a"])
    assert remove(lst, b"a", -2) == 2
    assert list(lst) == [b"a", b"x", b"x"]


def test_lpos_options(run: Runner) -> None:
    run("RPUSH", "k", "a", "b", "c", "1", "2", "3", "c", "c")
    assert run("LPOS", "k", "c") == 2
    assert run("LPOS", "k", "c", "RANK", "2") == 6
    assert run("LPOS", "k", "c", "RANK", "-1") == 7
    assert run("LPOS", "k", "c", "RANK", "-3") == 2
    assert run("LPOS", "k", "c", "RANK", "4") is None
    assert run("LPOS", "k", "c", "COUNT", "0") == [2, 6, 7]
    assert run("LPOS", "k", "c", "COUNT", "2") == [2, 6]
    assert run("LPOS", "k", "c", "RANK", "-1", "COUNT", "2") == [7, 6]
    assert run("LPOS", "k", "c", "MAXLEN", "2") is None
    assert run("LPOS", "k", "c", "COUNT", "0", "MAXLEN", "7") == [2, 6]
    assert run("LPOS", "k", "zz") is None
    assert run("LPOS", "k", "zz", "COUNT", "1") == []
    assert run("LPOS", "missing", "a") is None
    assert run("LPOS", "missing", "a", "COUNT", "0") == []


def test_lpos_errors(run: Runner) -> None:
    assert run("LPOS", "k", "a", "RANK", "0") == RespError(
        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
        "or use negative to start from the end of the list"
    )
    assert run("LPOS", "k", "a", "COUNT", "-1") == RespError("ERR COUNT can't be negative")
    assert run("LPOS", "k", "a", "COUNT", "x") == RespError("ERR COUNT can't be negative")
    assert run("LPOS", "k", "a", "MAXLEN", "-1") == RespError("ERR MAXLEN can't be negative")
    assert run("LPOS", "k", "a", "RANK", "x") == NOT_INT
    assert run("LPOS", "k", "a", "RANK") == SYNTAX
    assert run("LPOS", "k", "a", "FOO", "1") == SYNTAX


def test_lpos_rank_llong_min_behaves_like_redis(run: Runner) -> None:
    # Redis negates RANK in C; LLONG_MIN stays negative and matches from the tail at once.
    run("RPUSH", "k", "x", "y", "x")
    assert run("LPOS", "k", "x", "RANK", "-9223372036854775808") == 2
    assert run("LPOS", "k", "x", "RANK", "-9223372036854775808", "COUNT", "1") == [2, 0]


def test_positions_from_the_tail() -> None:
    lst = ListValue([b"a", b"b", b"a"])
    assert positions(lst, b"a", -1, 0, 0) == [2, 0]
    assert positions(lst, b"a", -1, 0, 1) == [2]


# --- pops ---


def test_pop_single_and_count(run: Runner) -> None:
    run("RPUSH", "k", "a", "b", "c", "d")
    assert run("LPOP", "k") == b"a"
    assert run("RPOP", "k") == b"d"
    assert run("LPOP", "k", "0") == []
    assert run("RPOP", "k", "5") == [b"c", b"b"]
    assert run("EXISTS", "k") == 0


def test_pop_missing_key_null_shapes(run: Runner) -> None:
    assert run("LPOP", "missing") is None
    assert run("LPOP", "missing", "2") is NULL_ARRAY
    assert run("RPOP", "missing", "0") is NULL_ARRAY
    assert encode_reply(NULL_ARRAY, False) == b"*-1\r\n"
    assert encode_reply(NULL_ARRAY, True) == b"_\r\n"
    assert encode_reply(None, False) == b"$-1\r\n"


def test_pop_count_errors(run: Runner) -> None:
    positive = RespError("ERR value is out of range, must be positive")
    run("RPUSH", "k", "a")
    assert run("LPOP", "k", "-1") == positive
    assert run("LPOP", "k", "x") == positive
    assert run("RPOP", "missing", "-1") == positive
    assert run("LPOP", "k", "1", "2") == RespError(
        "ERR wrong number of arguments for 'lpop' command"
    )
    assert run("RPOP", "k", "1", "2") == RespError(
        "ERR wrong number of arguments for 'rpop' command"
    )


def test_lmpop(run: Runner) -> None:
    run("RPUSH", "b", "1", "2", "3")
    assert run("LMPOP", "2", "a", "b", "LEFT") == [b"b", [b"1"]]
    assert run("LMPOP", "2", "a", "b", "right", "COUNT", "5") == [b"b", [b"3", b"2"]]
    assert run("LMPOP", "2", "a", "b", "LEFT") is NULL_ARRAY
    assert run("EXISTS", "b") == 0


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("0", "a", "LEFT"), "ERR numkeys should be greater than 0"),
        (("-1", "a", "LEFT"), "ERR numkeys should be greater than 0"),
        (("x", "a", "LEFT"), "ERR numkeys should be greater than 0"),
        (("2", "a", "LEFT"), "ERR syntax error"),
        (("9223372036854775807", "a", "LEFT"), "ERR syntax error"),
        (("1", "a", "UP"), "ERR syntax error"),
        (("1", "a", "LEFT", "COUNT", "0"), "ERR count should be greater than 0"),
        (("1", "a", "LEFT", "COUNT", "x"), "ERR count should be greater than 0"),
        (("1", "a", "LEFT", "COUNT", "1", "COUNT", "1"), "ERR syntax error"),
        (("1", "a", "LEFT", "COUNT"), "ERR syntax error"),
    ],
)
def test_lmpop_errors(run: Runner, args: tuple[str, ...], error: str) -> None:
    assert run("LMPOP", *args) == RespError(error)


# --- moves ---


def test_lmove_all_directions(run: Runner) -> None:
    run("RPUSH", "s", "1", "2", "3")
    assert run("LMOVE", "s", "d", "LEFT", "RIGHT") == b"1"
    assert run("LMOVE", "s", "d", "right", "left") == b"3"
    assert run("LRANGE", "d", "0", "-1") == [b"3", b"1"]
    assert run("RPOPLPUSH", "s", "d") == b"2"
    assert run("EXISTS", "s") == 0
    assert run("LRANGE", "d", "0", "-1") == [b"2", b"3", b"1"]
    assert run("LMOVE", "s", "d", "LEFT", "LEFT") is None
    assert run("LMOVE", "s", "d", "UP", "LEFT") == SYNTAX


def test_lmove_rotates_a_single_list(run: Runner) -> None:
    run("RPUSH", "k", "a", "b", "c")
    assert run("LMOVE", "k", "k", "LEFT", "RIGHT") == b"a"
    assert run("LRANGE", "k", "0", "-1") == [b"b", b"c", b"a"]
    run("RPUSH", "one", "x")
    assert run("RPOPLPUSH", "one", "one") == b"x"
    assert run("LRANGE", "one", "0", "-1") == [b"x"]


def test_lmove_to_a_wrong_type_moves_nothing(run: Runner) -> None:
    run("RPUSH", "s", "a")
    run("SET", "d", "v")
    assert run("LMOVE", "s", "d", "LEFT", "LEFT") == WRONGTYPE
    assert run("LRANGE", "s", "0", "-1") == [b"a"]


# --- blocking commands that need not wait ---


def test_blocking_pops_with_data_answer_at_once(run: Runner) -> None:
    run("RPUSH", "b", "1", "2", "3")
    assert run("BLPOP", "a", "b", "0") == [b"b", b"1"]
    assert run("BRPOP", "a", "b", "0") == [b"b", b"3"]
    run("RPUSH", "b", "4")
    assert run("BLMPOP", "0", "2", "a", "b", "LEFT", "COUNT", "10") == [b"b", [b"2", b"4"]]
    assert run("EXISTS", "b") == 0
    run("RPUSH", "s", "x", "y")
    assert run("BLMOVE", "s", "d", "RIGHT", "LEFT", "0") == b"y"
    assert run("BRPOPLPUSH", "s", "d", "0") == b"x"
    assert run("LRANGE", "d", "0", "-1") == [b"x", b"y"]


def test_blocking_commands_without_a_connection_answer_like_a_timeout(run: Runner) -> None:
    # The in-process client has no connection to resume it, so it is never parked.
    assert run("BLPOP", "a", "0") is NULL_ARRAY
    assert run("BRPOP", "a", "b", "1") is NULL_ARRAY
    assert run("BLMPOP", "0", "1", "a", "LEFT") is NULL_ARRAY
    assert run("BLMOVE", "a", "b", "LEFT", "LEFT", "0") is None
    assert run("BRPOPLPUSH", "a", "b", "0") is None
    assert run.app.blocked_clients == 0


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("BLPOP", "k", "x"), "ERR timeout is not a float or out of range"),
        (("BLPOP", "k", "-1"), "ERR timeout is negative"),
        (("BRPOP", "k", "inf"), "ERR timeout is negative"),
        (("BLMOVE", "a", "b", "UP", "LEFT", "x"), "ERR syntax error"),
        (("BLMOVE", "a", "b", "LEFT", "LEFT", "x"), "ERR timeout is not a float or out of range"),
        (("BRPOPLPUSH", "a", "b", "-0.002"), "ERR timeout is negative"),
        (("BLMPOP", "x", "0", "a", "LEFT"), "ERR numkeys should be greater than 0"),
        (("BLMPOP", "x", "1", "a", "LEFT"), "ERR timeout is not a float or out of range"),
        (("BLMPOP", "0", "1", "a", "LEFT", "COUNT", "0"), "ERR count should be greater than 0"),
    ],
)
def test_blocking_argument_errors(run: Runner, args: tuple[str, ...], error: str) -> None:
    assert run(*args) == RespError(error)


# --- encoding, events, propagation ---


def test_object_encoding_is_quicklist() -> None:
    assert encoding_name(ListValue([b"1"])) == b"quicklist"


def test_keyspace_events_follow_t_list(run: Runner) -> None:
    seen = events(run, "KElgn")
    run("RPUSH", "k", "a", "b", "c")
    run("LPUSH", "k", "z")
    run("LINSERT", "k", "BEFORE", "a", "q")
    run("LINSERT", "k", "BEFORE", "nope", "q")
    run("LSET", "k", "0", "y")
    run("LREM", "k", "0", "q")
    run("LREM", "k", "0", "nope")
    run("LTRIM", "k", "0", "-1")
    run("LMOVE", "k", "d", "LEFT", "RIGHT")
    run("RPOP", "k", "5")
    run("LPOP", "d")
    assert seen == [
        (b"new", b"k"),
        (b"rpush", b"k"),
        (b"lpush", b"k"),
        (b"linsert", b"k"),
        (b"lset", b"k"),
        (b"lrem", b"k"),
        (b"ltrim", b"k"),
        (b"new", b"d"),
        (b"rpush", b"d"),
        (b"lpop", b"k"),
        (b"rpop", b"k"),
        (b"del", b"k"),
        (b"lpop", b"d"),
        (b"del", b"d"),
    ]


def test_pops_propagate_as_plain_pops(run: Runner) -> None:
    run("RPUSH", "k", "a", "b", "c", "d", "e")
    run("LMPOP", "1", "k", "LEFT", "COUNT", "2")
    run("BLPOP", "nope", "k", "0")
    run("BRPOP", "k", "0")
    run("BLMPOP", "0", "1", "k", "RIGHT", "COUNT", "9")
    run("RPUSH", "s", "1", "2")
    run("BLMOVE", "s", "d", "left", "Right", "0")
    run("BRPOPLPUSH", "s", "d", "0")
    assert feed_commands(run)[1:] == [
        [b"RPUSH", b"k", b"a", b"b", b"c", b"d", b"e"],
        [b"LPOP", b"k", b"2"],
        [b"LPOP", b"k"],
        [b"RPOP", b"k"],
        [b"RPOP", b"k", b"1"],
        [b"RPUSH", b"s", b"1", b"2"],
        [b"LMOVE", b"s", b"d", b"left", b"Right"],
        [b"RPOPLPUSH", b"s", b"d"],
    ]


def test_feed_replays_to_the_same_lists(run: Runner) -> None:
    run("RPUSH", "k", *[str(i) for i in range(20)])
    run("LPUSH", "k", "x", "y")
    run("LINSERT", "k", "AFTER", "5", "five")
    run("LSET", "k", "-1", "last")
    run("LREM", "k", "-1", "x")
    run("LTRIM", "k", "1", "-3")
    run("LPOP", "k", "2")
    run("RPOP", "k")
    run("LMOVE", "k", "m", "RIGHT", "LEFT")
    run("RPOPLPUSH", "k", "m")
    run("LMPOP", "2", "zz", "k", "RIGHT", "COUNT", "3")
    run("BLMPOP", "0", "1", "k", "LEFT", "COUNT", "2")
    run("BLPOP", "k", "0")
    run("BLMOVE", "m", "k", "LEFT", "LEFT", "0")
    run("LPUSHX", "k", "px")
    run("RPUSHX", "nope", "px")
    replica = Runner()
    for argv in feed_commands(run):
        replica(*argv)
    for key in ("k", "m", "nope", "zz"):
        assert replica("LRANGE", key, "0", "-1") == run("LRANGE", key, "0", "-1"), key

"""Sorted-set commands in-process: replies, RESP3 shapes, encodings, events, propagation."""

from __future__ import annotations

import math
from typing import Any

import pytest

from protocol.resp import NULL_ARRAY, RespError, RESPParser, encode_reply
from server.commands.table import COMMANDS
from server.errors import (
    ERR_ZADD_GT_LT_NX,
    ERR_ZADD_INCR,
    ERR_ZADD_NAN,
    ERR_ZADD_XX_NX,
    ERR_ZRANGE_BYLEX_WITHSCORES,
    ERR_ZRANGE_LIMIT,
)
from storage.sets import SetValue
from storage.zset import ZSet
from tests.support import Runner


def zset(run: Runner, key: bytes) -> ZSet:
    value = run.app.keyspace.dbs[0].peek(key)
    assert type(value) is ZSet
    return value


def resp3(run: Runner) -> Runner:
    run.ctx.resp3 = True
    return run


# --- ZADD ---


def test_zadd_option_conflicts_are_refused_with_redis_texts(run: Runner) -> None:
    assert run("ZADD", "z", "NX", "XX", "1", "a") == RespError(ERR_ZADD_XX_NX)
    assert run("ZADD", "z", "NX", "GT", "1", "a") == RespError(ERR_ZADD_GT_LT_NX)
    assert run("ZADD", "z", "GT", "LT", "1", "a") == RespError(ERR_ZADD_GT_LT_NX)
    assert run("ZADD", "z", "INCR", "1", "a", "2", "b") == RespError(ERR_ZADD_INCR)
    assert run("EXISTS", "z") == 0


def test_zadd_incr_with_two_pairs_is_an_error(run: Runner) -> None:
    assert run("ZADD", "z", "INCR", "1", "a", "1", "b") == RespError(ERR_ZADD_INCR)


def test_zadd_ch_counts_changes_and_gt_lt_guard_updates(run: Runner) -> None:
    assert run("ZADD", "z", "1", "a", "2", "b") == 2
    assert run("ZADD", "z", "CH", "GT", "0", "a", "5", "b", "1", "c") == 2
    assert run("ZADD", "z", "LT", "3", "b") == 0
    assert run("ZRANGE", "z", "0", "-1", "WITHSCORES") == [b"a", 1.0, b"c", 1.0, b"b", 3.0]


def test_zadd_incr_answers_null_when_nx_or_xx_skips_it(run: Runner) -> None:
    run("ZADD", "z", "1", "a")
    assert run("ZADD", "z", "NX", "INCR", "1", "a") is None
    assert run("ZADD", "z", "XX", "INCR", "1", "b") is None
    assert run("ZADD", "z", "INCR", "2.5", "a") == 3.5
    assert run("ZINCRBY", "z", "-0.5", "a") == 3.0


def test_zadd_incr_to_nan_is_an_error_and_changes_nothing(run: Runner) -> None:
    run("ZADD", "z", "inf", "a")
    sent = len(run.feed)
    assert run("ZINCRBY", "z", "-inf", "a") == RespError(ERR_ZADD_NAN)
    assert run("ZSCORE", "z", "a") == math.inf
    assert len(run.feed) == sent


def test_zadd_parses_every_score_before_touching_the_key(run: Runner) -> None:
    assert run("ZADD", "z", "1", "a", "x", "b") == RespError("ERR value is not a valid float")
    assert run("EXISTS", "z") == 0


def test_zadd_on_another_type_is_wrongtype(run: Runner) -> None:
    run("SET", "s", "v")
    assert run("ZADD", "s", "1", "a") == RespError(
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    )


# --- RESP3 shapes ---


def test_withscores_is_flat_in_resp2_and_pairs_in_resp3(run: Runner) -> None:
    run("ZADD", "z", "1", "a", "2.5", "b")
    assert run("ZRANGE", "z", "0", "-1", "WITHSCORES") == [b"a", 1.0, b"b", 2.5]
    resp3(run)
    reply = run("ZRANGE", "z", "0", "-1", "WITHSCORES")
    assert reply == [[b"a", 1.0], [b"b", 2.5]]
    assert encode_reply(reply, True) == (b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n")
    assert encode_reply(run("ZSCORE", "z", "b"), True) == b",2.5\r\n"


def test_zpop_nests_pairs_in_resp3_only_with_a_count(run: Runner) -> None:
    run("ZADD", "z", "1", "a", "2", "b", "3", "c")
    resp3(run)
    assert run("ZPOPMIN", "z") == [b"a", 1.0]
    assert run("ZPOPMAX", "z", "1") == [[b"c", 3.0]]
    run.ctx.resp3 = False
    assert run("ZPOPMAX", "z", "1") == [b"b", 2.0]


def test_zmpop_always_nests_and_answers_a_null_array_when_nothing_pops(run: Runner) -> None:
    assert run("ZMPOP", "1", "nokey", "MIN") is NULL_ARRAY
    run("ZADD", "z", "1", "a", "2", "b")
    assert run("ZMPOP", "2", "nokey", "z", "MAX", "COUNT", "5") == [
        b"z",
        [[b"b", 2.0], [b"a", 1.0]],
    ]


# --- ZRANK / ZREVRANK WITHSCORE (Redis 7.2) ---


def test_zrank_withscore_returns_rank_and_score(run: Runner) -> None:
    run("ZADD", "z", "1", "a", "2", "b")
    assert run("ZRANK", "z", "b", "WITHSCORE") == [1, 2.0]
    assert run("ZREVRANK", "z", "b", "withscore") == [0, 2.0]
    assert run("ZRANK", "z", "nope", "WITHSCORE") is NULL_ARRAY
    assert run("ZRANK", "nokey", "a", "WITHSCORE") is NULL_ARRAY
    assert run("ZRANK", "nokey", "a") is None


def test_zrank_withscore_option_errors(run: Runner) -> None:
    run("ZADD", "z", "1", "a")
    assert run("ZRANK", "z", "a", "FOO") == RespError("ERR syntax error")
    assert run("ZREVRANK", "z", "a", "WITHSCORE", "x") == RespError(
        "ERR wrong number of arguments for 'zrevrank' command"
    )


# --- ZRANGE options ---


def test_zrange_option_conflicts(run: Runner) -> None:
    run("ZADD", "z", "1", "a")
    assert run("ZRANGE", "z", "0", "-1", "LIMIT", "0", "1") == RespError(ERR_ZRANGE_LIMIT)
    assert run("ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES") == RespError(
        ERR_ZRANGE_BYLEX_WITHSCORES
    )
    # Redis only notices LIMIT on a rank range when its count is not -1.
    assert run("ZRANGE", "z", "0", "-1", "LIMIT", "3", "-1") == [b"a"]
    assert run("ZRANGESTORE", "d", "z", "0", "-1", "WITHSCORES") == RespError("ERR syntax error")


def test_zrangebyscore_exclusive_and_infinite_bounds(run: Runner) -> None:
    run("ZADD", "z", "-inf", "lo", "1", "a", "2", "b", "inf", "hi")
    assert run("ZRANGEBYSCORE", "z", "(-inf", "(inf") == [b"a", b"b"]
    assert run("ZRANGEBYSCORE", "z", "-inf", "+inf") == [b"lo", b"a", b"b", b"hi"]
    assert run("ZRANGEBYSCORE", "z", "(1", "2") == [b"b"]
    assert run("ZREVRANGEBYSCORE", "z", "(inf", "(1") == [b"b"]
    assert run("ZCOUNT", "z", "(", "(2") == 1  # "(" alone is strtod("") = 0
    assert run("ZCOUNT", "z", "1", "x") == RespError("ERR min or max is not a float")


# --- sets as inputs of ZUNION & co. ---


def _with_set(run: Runner) -> None:
    members = SetValue()
    members.update({b"a", b"x"})
    run.app.keyspace.dbs[0].set(b"s", members)
    run("ZADD", "z", "5", "a", "7", "b")


def test_set_members_count_as_score_one(run: Runner) -> None:
    _with_set(run)
    assert run("ZUNION", "2", "z", "s", "WITHSCORES") == [b"x", 1.0, b"a", 6.0, b"b", 7.0]
    assert run("ZINTER", "2", "s", "z", "WEIGHTS", "3", "1", "WITHSCORES") == [b"a", 8.0]
    assert run("ZDIFF", "2", "s", "z", "WITHSCORES") == [b"x", 1.0]
    assert run("ZINTERCARD", "2", "s", "z") == 1
    assert run("ZUNIONSTORE", "d", "1", "s") == 2
    assert run("ZRANGE", "d", "0", "-1", "WITHSCORES") == [b"a", 1.0, b"x", 1.0]


def test_weights_times_infinity_and_opposite_infinities_give_zero(run: Runner) -> None:
    run("ZADD", "p", "inf", "a")
    run("ZADD", "n", "-inf", "a")
    assert run("ZUNION", "1", "p", "WEIGHTS", "0", "WITHSCORES") == [b"a", 0.0]
    assert run("ZINTER", "2", "p", "n", "WITHSCORES") == [b"a", 0.0]
    assert run("ZINTER", "2", "p", "n", "AGGREGATE", "MIN", "WITHSCORES") == [b"a", -math.inf]


def test_a_list_is_not_a_valid_input(run: Runner) -> None:
    from storage.lists import ListValue

    run.app.keyspace.dbs[0].set(b"l", ListValue([b"a"]))
    assert run("ZUNION", "1", "l") == RespError(
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    )


# --- encodings ---


def test_encoding_follows_the_listpack_limits(run: Runner) -> None:
    run("ZADD", "z", *[x for i in range(128) for x in (str(i), f"m{i}")])
    assert not zset(run, b"z").big
    run("ZADD", "z", "XX", "1", "m0")
    assert not zset(run, b"z").big
    run("ZADD", "z", "1", "one-more")
    assert zset(run, b"z").big
    run("ZREMRANGEBYRANK", "z", "0", "-3")
    assert zset(run, b"z").big  # never converts back
    run("ZADD", "long", "1", "x" * 65)
    assert zset(run, b"long").big
    run("ZADD", "short", "1", "x" * 64)
    assert not zset(run, b"short").big


def test_encoding_limits_come_from_the_config(run: Runner) -> None:
    run.app.config.set("zset-max-listpack-entries", ["0"])
    run("ZADD", "z", "1", "a")
    assert zset(run, b"z").big
    run.app.config.set("zset-max-listpack-entries", ["128"])
    run.app.config.set("zset-max-listpack-value", ["2"])
    run("ZADD", "y", "1", "ab")
    assert not zset(run, b"y").big
    run("ZADD", "y", "1", "abc")
    assert zset(run, b"y").big


def test_stored_results_pick_their_encoding_by_size(run: Runner) -> None:
    run("ZADD", "src", *[x for i in range(200) for x in (str(i), f"m{i}")])
    run("ZUNIONSTORE", "small", "1", "src", "WEIGHTS", "1")
    assert zset(run, b"small").big
    run("ZRANGESTORE", "part", "src", "0", "127")
    assert not zset(run, b"part").big
    run("ZRANGESTORE", "part", "src", "0", "128")
    assert zset(run, b"part").big
    run("ZINTERSTORE", "inter", "1", "part")
    assert zset(run, b"inter").big
    run("ZDIFFSTORE", "diff", "2", "src", "part")
    assert not zset(run, b"diff").big


def test_zscan_score_text_depends_on_the_encoding(run: Runner) -> None:
    run("ZADD", "small", "1152921504606846976", "a", "1.5", "b")
    assert run("ZSCAN", "small", "0") == [b"0", [b"b", b"1.5", b"a", b"1152921504606846976"]]
    run("ZADD", "big", "1152921504606846976", "x" * 65)
    assert run("ZSCAN", "big", "0") == [b"0", [b"x" * 65, b"1.152921504606847e+18"]]


def test_zscan_walks_a_big_zset_in_count_sized_steps(run: Runner) -> None:
    run("ZADD", "z", *[x for i in range(300) for x in (str(i), f"m{i:03d}")])
    cursor, items = run("ZSCAN", "z", "0", "COUNT", "50", "MATCH", "m0*")
    assert cursor != b"0"
    assert len(items) == 2 * 50
    seen = set(items[::2])
    while cursor != b"0":
        cursor, items = run("ZSCAN", "z", cursor, "COUNT", "50", "MATCH", "m0*")
        seen.update(items[::2])
    assert seen == {b"m%03d" % i for i in range(100)}


# --- expiry ---


def test_an_expired_zset_reads_as_missing_and_is_recreated(run: Runner) -> None:
    run("ZADD", "z", "1", "a")
    db = run.app.keyspace.dbs[0]
    db.set_expire(b"z", run.clock.now_ms() + 100)
    run.clock.advance(101)
    assert run("ZCARD", "z") == 0
    assert run("ZSCORE", "z", "a") is None
    assert run("ZADD", "z", "XX", "1", "a") == 0
    assert run("ZADD", "z", "2", "b") == 1
    assert run("ZRANGE", "z", "0", "-1") == [b"b"]


def test_a_store_replaces_the_destination_and_its_ttl(run: Runner) -> None:
    run("ZADD", "src", "1", "a")
    run("SET", "dst", "v", "PX", "10000")
    assert run("ZUNIONSTORE", "dst", "1", "src") == 1
    assert run.app.keyspace.dbs[0].get_expire(b"dst") is None


# --- keyspace events ---


@pytest.fixture
def events(run: Runner) -> list[tuple[bytes, bytes]]:
    seen: list[tuple[bytes, bytes]] = []

    def publish(channel: bytes, message: bytes) -> int:
        if channel.startswith(b"__keyevent@"):
            seen.append((channel.split(b":", 1)[1], message))
        return 0

    run.app.publish = publish
    run.app.config.set("notify-keyspace-events", ["KEA"])
    return seen


def test_write_commands_emit_redis_events_in_order(
    run: Runner, events: list[tuple[bytes, bytes]]
) -> None:
    run("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d")
    run("ZADD", "z", "NX", "1", "a")  # nothing changed: no event
    run("ZINCRBY", "z", "1", "a")
    run("ZINCRBY", "z", "0", "a")  # processed but unchanged: no event
    run("ZREM", "z", "nope")
    run("ZREM", "z", "a")
    run("ZREMRANGEBYSCORE", "z", "2", "2")
    run("ZREMRANGEBYRANK", "z", "5", "6")
    run("ZREMRANGEBYLEX", "z", "[c", "[c")
    run("ZPOPMAX", "z", "0")
    run("ZPOPMAX", "z", "5")
    run("ZADD", "z", "1", "a")
    run("ZPOPMIN", "z")
    assert events == [
        (b"zadd", b"z"),
        (b"zincr", b"z"),
        (b"zrem", b"z"),
        (b"zremrangebyscore", b"z"),
        (b"zremrangebylex", b"z"),
        (b"zpopmax", b"z"),
        (b"del", b"z"),
        (b"zadd", b"z"),
        (b"zpopmin", b"z"),
        (b"del", b"z"),
    ]


def test_store_commands_emit_their_event_or_del(
    run: Runner, events: list[tuple[bytes, bytes]]
) -> None:
    run("ZADD", "a", "1", "x")
    events.clear()
    run("ZUNIONSTORE", "d", "1", "a")
    run("ZINTERSTORE", "d", "1", "a")
    run("ZDIFFSTORE", "d", "1", "a")
    run("ZRANGESTORE", "d", "a", "0", "-1")
    run("ZRANGESTORE", "d", "a", "5", "6")
    run("ZRANGESTORE", "d", "a", "5", "6")  # nothing to delete: no event
    run("ZREM", "a", "x")
    run("ZMPOP", "1", "a", "MIN")
    run("ZADD", "q", "1", "a", "2", "b")
    run("ZMPOP", "1", "q", "MIN", "COUNT", "5")
    run("ZADD", "q", "1", "a")
    run("ZREMRANGEBYRANK", "q", "0", "-1")
    # The sequence a real redis-server 7.0.15 publishes for the same commands.
    assert events == [
        (b"zunionstore", b"d"),
        (b"zinterstore", b"d"),
        (b"zdiffstore", b"d"),
        (b"zrangestore", b"d"),
        (b"del", b"d"),
        (b"zrem", b"a"),
        (b"del", b"a"),
        (b"zadd", b"q"),
        (b"zpopmin", b"q"),
        (b"del", b"q"),
        (b"zadd", b"q"),
        (b"zremrangebyrank", b"q"),
        (b"del", b"q"),
    ]


# --- propagation ---


def _commands(feed: list[bytes]) -> list[list[bytes]]:
    parser = RESPParser()
    parser.feed(b"".join(feed))
    out: list[list[bytes]] = []
    while (argv := parser.maybe_next_command()) is not None:
        out.append(argv)
    return out


def test_zmpop_propagates_as_zpop_with_the_count_popped(run: Runner) -> None:
    run("ZADD", "z", "1", "a", "2", "b")
    run.feed.clear()
    run("ZMPOP", "2", "nokey", "z", "MAX", "COUNT", "10")
    assert _commands(run.feed) == [[b"ZPOPMAX", b"z", b"2"]]


def test_reads_and_no_op_writes_are_not_propagated(run: Runner) -> None:
    run("ZADD", "z", "1", "a")
    run.feed.clear()
    run("ZRANDMEMBER", "z", "-5")
    run("ZADD", "z", "NX", "2", "a")
    run("ZADD", "z", "XX", "2", "b")
    run("ZINCRBY", "z", "0", "a")
    run("ZREM", "z", "b")
    run("ZPOPMIN", "z", "0")
    run("ZMPOP", "1", "nokey", "MIN")
    run("ZREMRANGEBYSCORE", "z", "5", "6")
    run("ZUNIONSTORE", "nokey2", "1", "nokey")
    assert run.feed == []


def _snapshot(runner: Runner) -> dict[bytes, Any]:
    db = runner.app.keyspace.dbs[0]
    out: dict[bytes, Any] = {}
    for key in db.iter_keys():
        value = db.get(key)
        out[key] = (list(value.by_score), value.big) if type(value) is ZSet else value
    return out


def test_propagated_stream_rebuilds_the_same_data(run: Runner) -> None:
    script: list[tuple[str, ...]] = [
        ("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"),
        ("ZADD", "z", "GT", "CH", "0", "a", "9", "b"),
        ("ZADD", "z", "INCR", "0.5", "c"),
        ("ZINCRBY", "z", "-inf", "neg"),
        ("ZREM", "z", "e", "nope"),
        ("ZPOPMIN", "z"),
        ("ZMPOP", "1", "z", "MAX", "COUNT", "1"),
        ("ZADD", "y", "1", "x", "2", "c"),
        ("ZUNIONSTORE", "u", "2", "z", "y", "WEIGHTS", "2", "3", "AGGREGATE", "MAX"),
        ("ZINTERSTORE", "i", "2", "z", "y"),
        ("ZDIFFSTORE", "df", "2", "z", "y"),
        ("ZRANGESTORE", "r", "z", "(0", "+inf", "BYSCORE", "LIMIT", "1", "2"),
        ("ZADD", "l", "0", "a", "0", "b", "0", "c"),
        ("ZREMRANGEBYLEX", "l", "[b", "+"),
        ("ZREMRANGEBYRANK", "y", "0", "0"),
        ("ZREMRANGEBYSCORE", "u", "-inf", "2"),
        ("ZADD", "big", *[x for i in range(150) for x in (str(i), f"m{i}")]),
        ("ZPOPMAX", "big", "3"),
    ]
    for command in script:
        reply = run(*command)
        assert not isinstance(reply, RespError), (command, reply)
    replica = Runner()
    for argv in _commands(run.feed):
        assert not isinstance(replica(*argv), RespError), argv
    assert _snapshot(replica) == _snapshot(run)


# --- command table ---


def test_movable_keys_are_found_for_numkeys_commands() -> None:
    union_store = COMMANDS[b"ZUNIONSTORE"]
    argv = [b"ZUNIONSTORE", b"dst", b"2", b"a", b"b", b"WEIGHTS", b"1", b"2"]
    assert union_store.key_indexes(argv) == [3, 4, 1]  # Redis's order
    assert union_store.written_key_indexes(argv) == [1]
    assert COMMANDS[b"ZUNION"].key_indexes([b"ZUNION", b"2", b"a", b"b"]) == [2, 3]
    assert COMMANDS[b"ZINTERCARD"].key_indexes([b"ZINTERCARD", b"1", b"a", b"LIMIT", b"1"]) == [2]
    mpop = COMMANDS[b"ZMPOP"]
    assert mpop.key_indexes([b"ZMPOP", b"2", b"a", b"b", b"MIN"]) == [2, 3]
    assert mpop.written_key_indexes([b"ZMPOP", b"2", b"a", b"b", b"MIN"]) == []
    assert COMMANDS[b"ZRANGESTORE"].written_key_indexes([b"ZRANGESTORE", b"d", b"s"]) == [1]


def test_zmpop_signals_only_the_key_it_popped(run: Runner) -> None:
    run("ZADD", "b", "1", "x")
    modified: list[bytes] = []
    run.app.keyspace.on_modified = lambda db, key: modified.append(key)
    run("ZMPOP", "2", "a", "b", "MIN")
    assert modified == [b"b"]


@pytest.mark.parametrize(
    ("name", "arity", "flags"),
    [
        ("ZADD", -4, {"write", "denyoom", "fast"}),
        ("ZRANGE", -4, {"readonly"}),
        ("ZRANK", -3, {"readonly", "fast"}),
        ("ZPOPMIN", -2, {"write", "fast"}),
        ("ZMPOP", -4, {"write"}),
        ("ZUNIONSTORE", -4, {"write", "denyoom"}),
        ("ZINTERCARD", -3, {"readonly"}),
        ("ZSCAN", -3, {"readonly"}),
    ],
)
def test_table_entries_match_redis(name: str, arity: int, flags: set[str]) -> None:
    from server.commands.table import FLAG_NAMES

    spec = COMMANDS[name.encode()]
    assert spec.arity == arity
    assert {text.decode() for flag, text in FLAG_NAMES if flag in spec.flags} == flags

"""The set family in-process: replies, encodings, notifications and propagation."""

from __future__ import annotations

import hiredis
import pytest

from protocol.resp import RespError, RespSet, encode_reply
from storage.sets import SetValue, is_intset_member
from storage.values import encoding_name
from tests.support import Runner
from tests.unit.commands.test_hashes import keyevents

ERR_WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def encoding(run: Runner, key: str) -> bytes:
    return encoding_name(run.app.keyspace.dbs[0].get(key.encode()))


def fed_commands(run: Runner, since: int = 0) -> list[list[bytes]]:
    reader = hiredis.Reader()
    for chunk in run.feed[since:]:
        reader.feed(chunk)
    out = []
    while (argv := reader.gets()) is not False:
        out.append(argv)
    return out


# --- SADD / SREM / SISMEMBER / SMEMBERS ---


def test_sadd_counts_new_members_and_smembers_sorts_an_intset(run: Runner) -> None:
    assert run("SADD", "s", "10", "2", "-3", "2") == 3
    assert run("SADD", "s", "2") == 0
    reply = run("SMEMBERS", "s")
    assert reply == [b"-3", b"2", b"10"]
    assert type(reply) is RespSet
    assert encode_reply(reply, resp3=True).startswith(b"~3\r\n")
    assert encode_reply(reply, resp3=False).startswith(b"*3\r\n")


def test_membership(run: Runner) -> None:
    run("SADD", "s", "1", "a")
    assert run("SISMEMBER", "s", "a") == 1
    assert run("SISMEMBER", "s", "b") == 0
    assert run("SISMEMBER", "nokey", "a") == 0
    assert run("SMISMEMBER", "s", "a", "b", "1") == [1, 0, 1]
    assert run("SMISMEMBER", "nokey", "a", "b") == [0, 0]
    assert run("SCARD", "s") == 2
    assert run("SCARD", "nokey") == 0


def test_srem_deletes_the_key_when_it_empties(run: Runner) -> None:
    events = keyevents(run)
    run("SADD", "s", "a", "b")
    assert run("SREM", "s", "a", "x") == 1
    assert run("SREM", "s", "x") == 0
    assert run("SREM", "s", "b", "c") == 1
    assert run("EXISTS", "s") == 0
    assert events == [(b"sadd", b"s"), (b"srem", b"s"), (b"srem", b"s"), (b"del", b"s")]


def test_sadd_of_existing_members_is_not_propagated_or_notified(run: Runner) -> None:
    run("SADD", "s", "a")
    events = keyevents(run)
    sent = len(run.feed)
    assert run("SADD", "s", "a", "a") == 0
    assert len(run.feed) == sent
    assert events == []


def test_every_set_command_refuses_another_type(run: Runner) -> None:
    run("SET", "str", "x")
    run("SADD", "s", "1")
    for args in [
        ("SADD", "str", "m"),
        ("SREM", "str", "m"),
        ("SCARD", "str"),
        ("SISMEMBER", "str", "m"),
        ("SMISMEMBER", "str", "m"),
        ("SMEMBERS", "str"),
        ("SPOP", "str"),
        ("SPOP", "str", "2"),
        ("SRANDMEMBER", "str"),
        ("SRANDMEMBER", "str", "2"),
        ("SMOVE", "str", "s", "m"),
        ("SMOVE", "s", "str", "1"),
        ("SINTER", "nokey", "str"),
        ("SINTERCARD", "2", "s", "str"),
        ("SINTERSTORE", "d", "s", "str"),
        ("SUNION", "s", "str"),
        ("SUNIONSTORE", "d", "str"),
        ("SDIFF", "s", "str"),
        ("SDIFFSTORE", "d", "s", "str"),
        ("SSCAN", "str", "0"),
    ]:
        assert run(*args) == RespError(ERR_WRONGTYPE), args
    assert run("SMOVE", "nokey", "str", "1") == 0


# --- SMOVE ---


def test_smove_moves_and_creates_the_destination(run: Runner) -> None:
    events = keyevents(run)
    run("SADD", "src", "1", "2")
    assert run("SMOVE", "src", "dst", "1") == 1
    assert run("SMOVE", "src", "dst", "1") == 0
    assert run("SMOVE", "src", "dst", "2") == 1
    assert run("EXISTS", "src") == 0
    assert run("SMEMBERS", "dst") == [b"1", b"2"]
    assert events == [
        (b"sadd", b"src"),
        (b"srem", b"src"),
        (b"sadd", b"dst"),
        (b"srem", b"src"),
        (b"del", b"src"),
        (b"sadd", b"dst"),
    ]


def test_smove_to_itself_answers_membership_and_changes_nothing(run: Runner) -> None:
    run("SADD", "s", "a")
    sent = len(run.feed)
    assert run("SMOVE", "s", "s", "a") == 1
    assert run("SMOVE", "s", "s", "b") == 0
    assert len(run.feed) == sent


def test_smove_of_a_member_already_there_touches_only_the_source(run: Runner) -> None:
    run("SADD", "src", "a", "b")
    run("SADD", "dst", "a")
    events = keyevents(run)
    touched: list[bytes] = []
    run.app.keyspace.on_modified = lambda db, key: touched.append(key)
    before = run.app.dirty
    assert run("SMOVE", "src", "dst", "a") == 1
    assert run.app.dirty - before == 1
    assert touched == [b"src"]
    assert events == [(b"srem", b"src")]


# --- SPOP / SRANDMEMBER ---


def test_spop_propagates_srem_and_deletes_the_emptied_key(run: Runner) -> None:
    events = keyevents(run)
    run("SADD", "s", "only")
    sent = len(run.feed)
    assert run("SPOP", "s") == b"only"
    assert run("EXISTS", "s") == 0
    assert fed_commands(run, sent) == [[b"SREM", b"s", b"only"]]
    assert events[1:] == [(b"spop", b"s"), (b"del", b"s")]


def test_spop_with_count_propagates_the_members_it_removed(run: Runner) -> None:
    run("SADD", "s", *[str(i) for i in range(10)])
    sent = len(run.feed)
    popped = run("SPOP", "s", "3")
    assert type(popped) is RespSet
    assert len(set(popped)) == 3
    assert run("SCARD", "s") == 7
    (srem,) = fed_commands(run, sent)
    assert srem[:2] == [b"SREM", b"s"]
    assert sorted(srem[2:]) == sorted(popped)
    assert not set(popped) & set(run("SMEMBERS", "s"))


def test_spop_of_the_whole_set_propagates_del(run: Runner) -> None:
    events = keyevents(run)
    run("SADD", "s", "3", "1", "2")
    sent = len(run.feed)
    assert run("SPOP", "s", "5") == [b"1", b"2", b"3"]
    assert run("EXISTS", "s") == 0
    assert fed_commands(run, sent) == [[b"DEL", b"s"]]
    assert events[1:] == [(b"spop", b"s"), (b"del", b"s")]


def test_spop_count_errors_and_zero(run: Runner) -> None:
    run("SADD", "s", "a")
    positive = RespError("ERR value is out of range, must be positive")
    assert run("SPOP", "s", "-1") == positive
    assert run("SPOP", "s", "x") == positive
    assert run("SPOP", "s", "1", "2") == RespError("ERR syntax error")
    sent = len(run.feed)
    assert run("SPOP", "s", "0") == []
    assert run("SPOP", "nokey", "2") == []
    assert len(run.feed) == sent


def test_spop_taking_most_of_a_big_set_rebuilds_an_intset(run: Runner) -> None:
    run.app.config.set("set-max-intset-entries", ["10"])
    run("SADD", "s", *[str(i) for i in range(20)])
    assert encoding(run, "s") == b"hashtable"
    run("SPOP", "s", "17")  # 3 remain; 3 * 5 <= 17: Redis builds a new set from them
    assert encoding(run, "s") == b"intset"
    run("SADD", "t", *[str(i) for i in range(20)])
    run("SPOP", "t", "15")  # 5 remain; 5 * 5 > 15: removed in place
    assert encoding(run, "t") == b"hashtable"


def test_srandmember_counts(run: Runner) -> None:
    run("SADD", "s", "3", "1", "2")
    assert run("SRANDMEMBER", "s") in (b"1", b"2", b"3")
    drawn = run("SRANDMEMBER", "s", "-100")
    assert len(drawn) == 100
    assert set(drawn) == {b"1", b"2", b"3"}
    assert len(set(run("SRANDMEMBER", "s", "2"))) == 2
    assert run("SRANDMEMBER", "s", "3") == [b"1", b"2", b"3"]
    assert run("SRANDMEMBER", "s", "0") == []
    assert run("SRANDMEMBER", "nokey", "5") == []
    assert run("SRANDMEMBER", "s", "x") == RespError("ERR value is not an integer or out of range")
    assert run("SRANDMEMBER", "s", "-9223372036854775808") == RespError(
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    )
    assert run("SCARD", "s") == 3


# --- SINTER / SUNION / SDIFF and their STORE forms ---


def test_set_algebra(run: Runner) -> None:
    run("SADD", "a", "1", "2", "3", "4")
    run("SADD", "b", "3", "4", "5")
    run("SADD", "c", "x", "4")
    assert run("SINTER", "a", "b") == [b"3", b"4"]
    assert run("SINTER", "a", "b", "c") == [b"4"]
    assert run("SINTER", "a", "nokey") == []
    assert run("SUNION", "a", "b", "nokey") == [b"1", b"2", b"3", b"4", b"5"]
    assert sorted(run("SUNION", "a", "c")) == [b"1", b"2", b"3", b"4", b"x"]
    assert run("SDIFF", "a", "b") == [b"1", b"2"]
    assert run("SDIFF", "a", "b", "a") == []
    assert run("SDIFF", "nokey", "a") == []
    assert run("SINTERCARD", "2", "a", "b") == 2
    assert run("SINTERCARD", "2", "a", "b", "LIMIT", "1") == 1
    assert run("SINTERCARD", "1", "a", "LIMIT", "0") == 4


def test_sintercard_argument_errors(run: Runner) -> None:
    assert run("SINTERCARD", "0", "a") == RespError("ERR numkeys should be greater than 0")
    assert run("SINTERCARD", "x", "a") == RespError("ERR numkeys should be greater than 0")
    assert run("SINTERCARD", "2", "a") == RespError(
        "ERR Number of keys can't be greater than number of args"
    )
    assert run("SINTERCARD", "1", "a", "LIMIT", "-1") == RespError("ERR LIMIT can't be negative")
    assert run("SINTERCARD", "1", "a", "LIMIT", "x") == RespError("ERR LIMIT can't be negative")
    assert run("SINTERCARD", "1", "a", "LIMIT") == RespError("ERR syntax error")


def test_store_commands_replace_the_destination_and_its_ttl(run: Runner) -> None:
    events = keyevents(run)
    run("SADD", "a", "1", "2")
    run("SET", "d", "string", "PX", "10000")
    assert run("SUNIONSTORE", "d", "a") == 2
    assert run("TYPE", "d") == b"set"
    assert run.app.keyspace.dbs[0].get_expire(b"d") is None
    assert run("SINTERSTORE", "d", "a", "nokey") == 0
    assert run("EXISTS", "d") == 0
    assert run("SDIFFSTORE", "d", "a", "a") == 0
    assert events[1:] == [(b"set", b"d"), (b"expire", b"d"), (b"sunionstore", b"d"), (b"del", b"d")]


def test_store_of_nothing_over_nothing_is_not_propagated(run: Runner) -> None:
    sent = len(run.feed)
    assert run("SINTERSTORE", "d", "x", "y") == 0
    assert run("SUNIONSTORE", "d", "x") == 0
    assert len(run.feed) == sent


# --- SSCAN ---


def test_sscan_of_an_intset_returns_it_sorted_at_once(run: Runner) -> None:
    run("SADD", "s", "30", "4", "100", "12")
    assert run("SSCAN", "s", "99", "COUNT", "1") == [b"0", [b"4", b"12", b"30", b"100"]]
    assert run("SSCAN", "s", "0", "MATCH", "1*") == [b"0", [b"12", b"100"]]


def test_sscan_of_a_big_set_iterates(run: Runner) -> None:
    run("SADD", "s", *[f"m{i}" for i in range(300)])
    seen: list[bytes] = []
    cursor = b"0"
    while True:
        cursor, members = run("SSCAN", "s", cursor, "COUNT", "20", "MATCH", "m1*")
        seen += members
        if cursor == b"0":
            break
    assert sorted(seen) == sorted(m.encode() for m in (f"m{i}" for i in range(300)) if m[1] == "1")


# --- OBJECT ENCODING ---


@pytest.mark.parametrize(
    ("member", "is_int"),
    [
        (b"0", True),
        (b"-1", True),
        (b"9223372036854775807", True),
        (b"-9223372036854775808", True),
        (b"9223372036854775808", False),
        (b"-9223372036854775809", False),
        (b"01", False),
        (b"-0", False),
        (b"+1", False),
        (b" 1", False),
        (b"1.0", False),
        (b"", False),
        (b"-", False),
        (b"\xd9\xa1", False),
    ],
)
def test_intset_members_follow_string2ll(member: bytes, is_int: bool) -> None:
    assert is_intset_member(member) is is_int


def test_intset_until_limit_or_a_string_then_hashtable_for_good(run: Runner) -> None:
    run.app.config.set("set-max-intset-entries", ["3"])
    run("SADD", "s", "1", "2", "3")
    assert encoding(run, "s") == b"intset"
    run("SADD", "s", "4")
    assert encoding(run, "s") == b"hashtable"
    run("SREM", "s", "1", "2", "3")
    assert encoding(run, "s") == b"hashtable"
    run("SADD", "t", "1")
    run("SADD", "t", "a")
    assert encoding(run, "t") == b"hashtable"
    run("SADD", "u", "x")
    assert encoding(run, "u") == b"hashtable"


def test_store_results_start_as_intsets(run: Runner) -> None:
    run("SADD", "mixed", "1", "2", "x")
    run("SADD", "ints", "2", "3")
    run("SINTERSTORE", "r1", "mixed", "ints")
    run("SUNIONSTORE", "r2", "mixed", "ints")
    run("SDIFFSTORE", "r3", "mixed", "x", "ints")
    assert [encoding(run, k) for k in ("r1", "r2", "r3")] == [b"intset", b"hashtable", b"hashtable"]
    run("SREM", "mixed", "x")
    run("SDIFFSTORE", "r4", "mixed", "ints")
    assert encoding(run, "r4") == b"intset"
    value = run.app.keyspace.dbs[0].get(b"r4")
    assert isinstance(value, SetValue)


def test_new_key_events_come_first_as_in_redis(run: Runner) -> None:
    # Sequence and events recorded from a real redis-server with notify-keyspace-events KEAn.
    events = keyevents(run, "KEAn")
    for command in [
        ("HSET", "h", "a", "1"),
        ("HSET", "h", "b", "1"),
        ("HINCRBY", "h2", "f", "1"),
        ("SADD", "s", "1", "2"),
        ("SMOVE", "s", "d", "1"),
        ("SMOVE", "s", "d", "2"),
        ("SUNIONSTORE", "u", "d"),
        ("SUNIONSTORE", "u", "d"),
        ("SPOP", "d", "5"),
    ]:
        run(*command)
    assert [(e.decode(), k.decode()) for e, k in events] == [
        ("new", "h"),
        ("hset", "h"),
        ("hset", "h"),
        ("new", "h2"),
        ("hincrby", "h2"),
        ("new", "s"),
        ("sadd", "s"),
        ("srem", "s"),
        ("new", "d"),
        ("sadd", "d"),
        ("srem", "s"),
        ("del", "s"),
        ("sadd", "d"),
        ("new", "u"),
        ("sunionstore", "u"),
        ("sunionstore", "u"),
        ("spop", "d"),
        ("del", "d"),
    ]

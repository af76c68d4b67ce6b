"""The hash family in-process: replies, encodings, notifications and propagation."""

from __future__ import annotations

import pytest

from protocol.resp import OK, RespError, encode_reply
from storage.hashes import HashValue
from storage.values import encoding_name
from tests.support import Runner

ERR_WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def keyevents(run: Runner, classes: str = "KEA") -> list[tuple[bytes, bytes]]:
    """Turn on keyspace events; the returned list fills with (event, key) pairs."""
    events: list[tuple[bytes, bytes]] = []
    run.app.config.set("notify-keyspace-events", [classes])

    def publish(channel: bytes, message: bytes) -> int:
        if channel.startswith(b"__keyevent@"):
            events.append((channel.split(b":", 1)[1], message))
        return 0

    run.app.publish = publish
    return events


def hash_at(run: Runner, key: str) -> HashValue:
    value = run.app.keyspace.dbs[0].get(key.encode())
    assert isinstance(value, HashValue)
    return value


def encoding(run: Runner, key: str) -> bytes:
    return encoding_name(run.app.keyspace.dbs[0].get(key.encode()))


# --- HSET / HMSET / HSETNX / HGET ---


def test_hset_counts_only_new_fields(run: Runner) -> None:
    assert run("HSET", "h", "a", "1", "b", "2") == 2
    assert run("HSET", "h", "a", "3", "c", "4", "c", "5") == 1
    assert run("HGETALL", "h") == {b"a": b"3", b"b": b"2", b"c": b"5"}


def test_hset_with_a_missing_value_is_an_arity_error(run: Runner) -> None:
    assert run("HSET", "h", "a", "1", "b") == RespError(
        "ERR wrong number of arguments for 'hset' command"
    )
    assert run("HMSET", "h", "a", "1", "b") == RespError(
        "ERR wrong number of arguments for 'hmset' command"
    )
    assert run("EXISTS", "h") == 0


def test_hmset_answers_ok(run: Runner) -> None:
    assert run("HMSET", "h", "a", "1") is OK
    assert run("HGET", "h", "a") == b"1"


def test_hsetnx_sets_only_a_missing_field(run: Runner) -> None:
    assert run("HSETNX", "h", "a", "1") == 1
    assert run("HSETNX", "h", "a", "2") == 0
    assert run("HGET", "h", "a") == b"1"


def test_hsetnx_that_sets_nothing_is_not_propagated(run: Runner) -> None:
    run("HSET", "h", "a", "1")
    sent = len(run.feed)
    assert run("HSETNX", "h", "a", "2") == 0
    assert len(run.feed) == sent


def test_reads_of_a_missing_key(run: Runner) -> None:
    assert run("HGET", "h", "f") is None
    assert run("HMGET", "h", "a", "b") == [None, None]
    assert run("HLEN", "h") == 0
    assert run("HSTRLEN", "h", "f") == 0
    assert run("HEXISTS", "h", "f") == 0
    assert run("HKEYS", "h") == []
    assert run("HVALS", "h") == []
    assert run("HGETALL", "h") == {}
    assert run("HRANDFIELD", "h") is None
    assert run("HRANDFIELD", "h", "3") == []
    assert run("HSCAN", "h", "0", "COUNT", "0") == (b"0", ())


def test_every_hash_command_refuses_another_type(run: Runner) -> None:
    run("SET", "s", "x")
    for args in [
        ("HSET", "s", "f", "v"),
        ("HSETNX", "s", "f", "v"),
        ("HGET", "s", "f"),
        ("HMGET", "s", "f"),
        ("HDEL", "s", "f"),
        ("HLEN", "s"),
        ("HSTRLEN", "s", "f"),
        ("HEXISTS", "s", "f"),
        ("HKEYS", "s"),
        ("HVALS", "s"),
        ("HGETALL", "s"),
        ("HINCRBY", "s", "f", "1"),
        ("HINCRBYFLOAT", "s", "f", "1"),
        ("HRANDFIELD", "s"),
        ("HSCAN", "s", "0"),
    ]:
        assert run(*args) == RespError(ERR_WRONGTYPE), args
    assert run("GET", "s") == b"x"


def test_small_hash_keeps_insertion_order_like_a_listpack(run: Runner) -> None:
    run("HSET", "h", "a", "1", "b", "2", "c", "3")
    run("HSET", "h", "a", "updated")
    run("HDEL", "h", "b")
    run("HSET", "h", "b", "again")
    assert run("HKEYS", "h") == [b"a", b"c", b"b"]
    assert run("HVALS", "h") == [b"updated", b"3", b"again"]


def test_hgetall_is_a_map_in_resp3_and_flat_in_resp2(run: Runner) -> None:
    run("HSET", "h", "a", "1")
    reply = run("HGETALL", "h")
    assert encode_reply(reply, resp3=True) == b"%1\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert encode_reply(reply, resp3=False) == b"*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert encode_reply(run("HGETALL", "nokey"), resp3=True) == b"%0\r\n"


def test_an_expired_hash_is_gone_and_recreated_without_ttl(run: Runner) -> None:
    run("HSET", "h", "a", "1")
    db = run.app.keyspace.dbs[0]
    db.set_expire(b"h", run.clock.now_ms() + 100)
    run.clock.advance(101)
    assert run("HGET", "h", "a") is None
    assert run("HSET", "h", "b", "2") == 1
    assert run("HGETALL", "h") == {b"b": b"2"}
    assert db.get_expire(b"h") is None


# --- HDEL ---


def test_hdel_deletes_the_key_when_it_empties(run: Runner) -> None:
    events = keyevents(run)
    run("HSET", "h", "a", "1", "b", "2")
    assert run("HDEL", "h", "a", "a", "nope") == 1
    assert run("HDEL", "h", "b", "later") == 1
    assert run("EXISTS", "h") == 0
    assert events == [(b"hset", b"h"), (b"hdel", b"h"), (b"hdel", b"h"), (b"del", b"h")]


def test_hdel_of_nothing_emits_nothing(run: Runner) -> None:
    run("HSET", "h", "a", "1")
    events = keyevents(run)
    sent = len(run.feed)
    assert run("HDEL", "h", "nope") == 0
    assert run("HDEL", "missing", "f") == 0
    assert events == []
    assert len(run.feed) == sent


# --- HINCRBY / HINCRBYFLOAT ---


def test_hincrby_creates_adds_and_refuses_non_integers(run: Runner) -> None:
    assert run("HINCRBY", "h", "n", "5") == 5
    assert run("HINCRBY", "h", "n", "-7") == -2
    run("HSET", "h", "t", "1.5", "z", "01", "s", " 1")
    for field in ("t", "z", "s"):
        assert run("HINCRBY", "h", field, "1") == RespError("ERR hash value is not an integer")
    assert run("HINCRBY", "h", "n", "x") == RespError("ERR value is not an integer or out of range")


def test_hincrby_overflow_changes_nothing(run: Runner) -> None:
    run("HSET", "h", "max", "9223372036854775807", "min", "-9223372036854775808")
    overflow = RespError("ERR increment or decrement would overflow")
    assert run("HINCRBY", "h", "max", "1") == overflow
    assert run("HINCRBY", "h", "min", "-1") == overflow
    assert run("HINCRBY", "h", "max", "-1") == 9223372036854775806
    assert run("HGET", "h", "min") == b"-9223372036854775808"


def test_hincrbyfloat_uses_long_double_and_propagates_hset(run: Runner) -> None:
    assert run("HINCRBYFLOAT", "h", "f", "10.5") == b"10.5"
    assert run("HINCRBYFLOAT", "h", "f", "0.1") == b"10.6"
    assert run("HINCRBYFLOAT", "h", "g", "1.00000000000000005") == b"1.00000000000000005"
    assert run.feed[-1] == (
        b"*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\ng\r\n$19\r\n1.00000000000000005\r\n"
    )


def test_hincrbyfloat_errors(run: Runner) -> None:
    run("HSET", "h", "text", "abc", "inf", "inf")
    assert run("HINCRBYFLOAT", "h", "text", "1") == RespError("ERR hash value is not a float")
    assert run("HINCRBYFLOAT", "h", "f", "x") == RespError("ERR value is not a valid float")
    assert run("HINCRBYFLOAT", "h", "f", "inf") == RespError("ERR value is NaN or Infinity")
    assert run("HINCRBYFLOAT", "h", "inf", "1") == RespError(
        "ERR increment would produce NaN or Infinity"
    )
    huge = run("HINCRBYFLOAT", "h", "f", "1e4932")
    assert len(huge) == 4933
    assert huge.startswith(b"1000000000000000000006018949")
    assert run("HINCRBYFLOAT", "h", "f", "1e4932") == RespError(
        "ERR increment would produce NaN or Infinity"
    )


def test_failed_increments_never_create_the_key(run: Runner) -> None:
    assert run("HINCRBYFLOAT", "h", "f", "inf") == RespError("ERR value is NaN or Infinity")
    assert run("HINCRBYFLOAT", "h", "f", "nan") == RespError("ERR value is not a valid float")
    assert run("HINCRBY", "h", "f", "x") == RespError("ERR value is not an integer or out of range")
    assert run("EXISTS", "h") == 0


def test_increment_events(run: Runner) -> None:
    events = keyevents(run)
    run("HINCRBY", "h", "a", "1")
    run("HINCRBYFLOAT", "h", "b", "1.5")
    run("HSETNX", "h", "c", "1")
    run("HSETNX", "h", "c", "1")
    assert events == [(b"hincrby", b"h"), (b"hincrbyfloat", b"h"), (b"hset", b"h")]


# --- HRANDFIELD ---


def test_hrandfield_negative_count_repeats(run: Runner) -> None:
    run("HSET", "h", "a", "1", "b", "2")
    fields = run("HRANDFIELD", "h", "-50")
    assert len(fields) == 50
    assert set(fields) == {b"a", b"b"}  # with 50 draws both show up (p = 2**-49 otherwise)


def test_hrandfield_positive_count_is_distinct(run: Runner) -> None:
    run("HSET", "h", *[str(i) for i in range(40)])  # 20 fields
    fields = run("HRANDFIELD", "h", "15")
    assert len(set(fields)) == 15
    fields = run("HRANDFIELD", "h", "5")
    assert len(set(fields)) == 5
    assert run("HRANDFIELD", "h", "100") == [str(i).encode() for i in range(0, 40, 2)]


def test_hrandfield_withvalues_pairs_in_resp3_flat_in_resp2(run: Runner) -> None:
    run("HSET", "h", "a", "1")
    assert run("HRANDFIELD", "h", "-2", "WITHVALUES") == [b"a", b"1", b"a", b"1"]
    run("HELLO", "3")
    assert run("HRANDFIELD", "h", "-2", "WITHVALUES") == [[b"a", b"1"], [b"a", b"1"]]
    assert run("HRANDFIELD", "h", "5", "withvalues") == [[b"a", b"1"]]


def test_hrandfield_argument_errors(run: Runner) -> None:
    run("HSET", "h", "a", "1")
    assert run("HRANDFIELD", "h", "-9223372036854775808") == RespError(
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    )
    assert run("HRANDFIELD", "h", "4611686018427387904", "WITHVALUES") == RespError(
        "ERR value is out of range"
    )
    assert run("HRANDFIELD", "h", "1", "WITHSCORES") == RespError("ERR syntax error")
    assert run("HRANDFIELD", "h", "1", "WITHVALUES", "x") == RespError("ERR syntax error")


# --- HSCAN ---


def test_hscan_of_a_listpack_hash_returns_everything_at_once(run: Runner) -> None:
    run("HSET", "h", "foo", "1", "bar", "2", "food", "3")
    assert run("HSCAN", "h", "0", "COUNT", "1") == [
        b"0",
        [b"foo", b"1", b"bar", b"2", b"food", b"3"],
    ]
    assert run("HSCAN", "h", "0", "MATCH", "fo*") == [b"0", [b"foo", b"1", b"food", b"3"]]


def test_hscan_of_a_big_hash_iterates_with_a_cursor(run: Runner) -> None:
    pairs = [f"f{i}" if j == 0 else str(i) for i in range(600) for j in range(2)]
    run("HSET", "h", *pairs)
    assert encoding(run, "h") == b"hashtable"
    seen: dict[bytes, bytes] = {}
    cursor = b"0"
    calls = 0
    while True:
        cursor, flat = run("HSCAN", "h", cursor, "COUNT", "50")
        calls += 1
        seen.update(zip(flat[::2], flat[1::2], strict=True))
        if cursor == b"0":
            break
    assert calls > 5
    assert seen == {f"f{i}".encode(): str(i).encode() for i in range(600)}


def test_hscan_argument_errors(run: Runner) -> None:
    run("HSET", "h", "a", "1")
    assert run("HSCAN", "h", "x") == RespError("ERR invalid cursor")
    assert run("HSCAN", "h", " 0") == RespError("ERR invalid cursor")
    assert run("HSCAN", "h", "18446744073709551616") == RespError("ERR invalid cursor")
    assert run("HSCAN", "h", "-1") == [b"0", [b"a", b"1"]]
    assert run("HSCAN", "h", "0", "COUNT", "0") == RespError("ERR syntax error")
    assert run("HSCAN", "h", "0", "TYPE", "hash") == RespError("ERR syntax error")
    assert run("HSCAN", "h", "0", "MATCH") == RespError("ERR syntax error")


# --- OBJECT ENCODING ---


def test_listpack_until_entries_limit_then_hashtable_for_good(run: Runner) -> None:
    run.app.config.set("hash-max-listpack-entries", ["3"])
    run("HSET", "h", "a", "1", "b", "2", "c", "3")
    assert encoding(run, "h") == b"listpack"
    run("HSET", "h", "d", "4")
    assert encoding(run, "h") == b"hashtable"
    run("HDEL", "h", "a", "b", "c")
    assert encoding(run, "h") == b"hashtable"
    run("DEL", "h")
    run("HSET", "h", "a", "1")
    assert encoding(run, "h") == b"listpack"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("HSET", "h", "f", "x" * 8), b"listpack"),
        (("HSET", "h", "f", "x" * 9), b"hashtable"),
        (("HSET", "h", "x" * 9, "v"), b"hashtable"),
        (("HMSET", "h", "a", "1", "b", "x" * 9), b"hashtable"),
        (("HSETNX", "h", "f", "x" * 9), b"hashtable"),
        (("HINCRBY", "h", "x" * 9, "1"), b"hashtable"),
        (("HINCRBY", "h", "f", "123456789"), b"hashtable"),
        (("HINCRBYFLOAT", "h", "f", "0.5"), b"listpack"),
        (("HINCRBYFLOAT", "h", "f", "100000000.5"), b"hashtable"),
    ],
)
def test_a_long_field_or_value_converts(
    run: Runner, args: tuple[str, ...], expected: bytes
) -> None:
    run.app.config.set("hash-max-listpack-value", ["8"])
    run(*args)
    assert encoding(run, "h") == expected


def test_hsetnx_on_an_existing_field_converts_nothing(run: Runner) -> None:
    run.app.config.set("hash-max-listpack-value", ["8"])
    run("HSET", "h", "f", "v")
    assert run("HSETNX", "h", "f", "x" * 100) == 0
    assert encoding(run, "h") == b"listpack"


def test_a_big_hash_skips_the_encoding_check(run: Runner, monkeypatch) -> None:
    run.app.config.set("hash-max-listpack-entries", ["1"])
    run("HSET", "h", "a", "1", "b", "2")
    assert hash_at(run, "h").big

    def fail(*args, **kwargs):
        raise AssertionError("note_write called on a big hash")

    monkeypatch.setattr(HashValue, "note_write", fail)
    monkeypatch.setattr(HashValue, "note_writes", fail)
    assert run("HSET", "h", "c", "3") == 1
    assert run("HSET", "h", "d", "4", "e", "5") == 2
    assert run("HINCRBY", "h", "n", "1") == 1
    assert run("HINCRBYFLOAT", "h", "n", "1") == b"2"


def test_hset_event_and_dirty_count(run: Runner) -> None:
    events = keyevents(run)
    before = run.app.dirty
    run("HSET", "h", "a", "1", "a", "2", "b", "3")
    assert run.app.dirty - before == 3
    assert events == [(b"hset", b"h")]

"""String encodings in-process: INCRBYFLOAT's integer-looking results are "embstr" (stored as
EmbstrBytes), and such a value behaves like any other string in every command."""

from __future__ import annotations

from typing import Any

import pytest

from protocol.resp import encode_reply
from storage.values import EmbstrBytes, encoding_name, float_result, string_encoding
from tests.support import Runner


def test_incrbyfloat_results_that_read_as_integers_are_embstr(run: Runner) -> None:
    assert run("INCRBYFLOAT", "f", "3") == b"3"
    stored = run.app.keyspace.dbs[0].get(b"f")
    assert type(stored) is EmbstrBytes
    assert run("OBJECT", "ENCODING", "f") == b"embstr"
    assert run("INCRBYFLOAT", "f", "0.5") == b"3.5"
    assert type(run.app.keyspace.dbs[0].get(b"f")) is bytes
    assert run("OBJECT", "ENCODING", "f") == b"embstr"
    run("SET", "f", "3")
    assert run("OBJECT", "ENCODING", "f") == b"int"


@pytest.mark.parametrize(
    ("text", "stored_as"),
    [
        (b"3", EmbstrBytes),
        (b"-9223372036854775808", EmbstrBytes),
        (b"9223372036854775808", bytes),
        (b"3.5", bytes),
        (b"1" * 50, bytes),
    ],
)
def test_float_result_marks_only_what_would_read_as_int(text: bytes, stored_as: type) -> None:
    value = float_result(text)
    assert type(value) is stored_as
    assert value == text
    assert string_encoding(value) == (b"embstr" if len(text) <= 44 else b"raw")


def test_encoding_name_of_each_string_kind() -> None:
    assert encoding_name(b"12") == b"int"
    assert encoding_name(EmbstrBytes(b"12")) == b"embstr"
    assert encoding_name(bytearray(b"12")) == b"raw"


def test_the_encoder_sends_a_bytes_subclass_as_a_bulk_string() -> None:
    assert encode_reply([EmbstrBytes(b"7")], False) == b"*1\r\n$1\r\n7\r\n"
    assert encode_reply(EmbstrBytes(b"7"), True) == b"$1\r\n7\r\n"


# Every command that reads or edits a string, run once on a value made by SET and once on
# the same text made by INCRBYFLOAT: the replies must be the same.
COMMANDS: list[tuple[Any, ...]] = [
    ("GET", "K"),
    ("MGET", "K", "nokey", "K"),
    ("STRLEN", "K"),
    ("GETRANGE", "K", "0", "-1"),
    ("SUBSTR", "K", "0", "0"),
    ("TYPE", "K"),
    ("EXISTS", "K"),
    ("GETBIT", "K", "1"),
    ("BITCOUNT", "K"),
    ("BITPOS", "K", "1"),
    ("BITFIELD_RO", "K", "GET", "u8", "0"),
    ("BITOP", "NOT", "dest", "K"),
    ("GET", "dest"),
    ("LCS", "K", "K"),
    ("SORT", "list", "BY", "K", "GET", "K"),
    ("SORT", "list", "GET", "K"),
    ("SET", "copy", "x"),
    ("COPY", "K", "copy", "REPLACE"),
    ("GET", "copy"),
    ("OBJECT", "ENCODING", "copy"),
    ("APPEND", "copy", "9"),
    ("GET", "copy"),
    ("INCR", "K"),
    ("INCRBY", "K", "-1"),
    ("INCRBYFLOAT", "K", "0"),
    ("GET", "K"),
    ("GETEX", "K", "PX", "100000"),
    ("SETRANGE", "K", "0", "1"),
    ("GET", "K"),
    ("INCRBYFLOAT", "K", "0"),
    ("SET", "K", "5", "GET"),
    ("INCRBYFLOAT", "K", "0"),
    ("GETSET", "K", "6"),
    ("INCRBYFLOAT", "K", "0"),
    ("GETDEL", "K"),
    ("INCRBYFLOAT", "K", "42"),
    ("RENAME", "K", "K2"),
    ("GET", "K2"),
    ("SETBIT", "K2", "0", "1"),
    ("GET", "K2"),
    ("MEMORY", "USAGE", "nokey"),
]


def _replies(key: str, make: tuple[str, ...]) -> list[Any]:
    run = Runner()
    run("RPUSH", "list", "1")
    run(*make)
    out = []
    for cmd in COMMANDS:
        args = [key if a == "K" else key + "2" if a == "K2" else a for a in cmd]
        out.append(run(*args))
    return out


def test_an_embstr_integer_behaves_like_any_string() -> None:
    plain = _replies("p", ("SET", "p", "3"))
    made_by_float = _replies("f", ("INCRBYFLOAT", "f", "3"))
    # OBJECT ENCODING of the copy is the one expected difference.
    index = COMMANDS.index(("OBJECT", "ENCODING", "copy"))
    assert plain[index] == b"int"
    assert made_by_float[index] == b"embstr"
    del plain[index], made_by_float[index]
    assert made_by_float == plain

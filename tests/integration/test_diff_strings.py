"""Differential: every string and bitmap command against a real redis-server, RESP2 and RESP3.

Wrong-type cases need a container key, and TTL / encoding checks need TTL and OBJECT; those
scripts run once the commands that create or read them are in the table, and are skipped
until then.
"""

from __future__ import annotations

import random

import pytest

from server.commands.table import COMMANDS
from tests.differential import Command, Differential
from tests.support import wait_until

pytestmark = pytest.mark.integration

I64_MAX = "9223372036854775807"
I64_MIN = "-9223372036854775808"
FAR_FUTURE_S = "4102444800"  # 2100-01-01
FAR_FUTURE_MS = FAR_FUTURE_S + "000"


def _arity_errors(*names: str) -> list[Command]:
    script: list[Command] = [(name,) for name in names]
    script += [(name.lower(), "k") for name in names]
    return script


SET_FAMILY: list[Command] = [
    ("SETNX", "k", "v"),
    ("SETNX", "k", "w"),
    ("GET", "k"),
    ("SETNX", "k"),
    ("SETEX", "k", "100", "v2"),
    ("GET", "k"),
    ("SETEX", "k", "0", "v"),
    ("SETEX", "k", "-1", "v"),
    ("SETEX", "k", "abc", "v"),
    ("SETEX", "k", "1.5", "v"),
    ("SETEX", "k", I64_MAX, "v"),
    ("SETEX", "k", "9223372036854775", "v"),
    ("SETEX", "k", "9223372036854776", "v"),
    ("SETEX", "k", "10"),
    ("PSETEX", "k", "100000", "v3"),
    ("GET", "k"),
    ("PSETEX", "k", "0", "v"),
    ("PSETEX", "k", "-5", "v"),
    ("PSETEX", "k", I64_MAX, "v"),
    ("PSETEX", "k", "x", "v"),
    ("GETSET", "k", "new"),
    ("GETSET", "k", "newer"),
    ("GET", "k"),
    ("GETSET", "missing", "v"),
    ("GETSET", "k"),
    ("GETDEL", "k"),
    ("GETDEL", "k"),
    ("EXISTS", "k"),
    ("GETDEL", "k", "x"),
    ("GETDEL",),
    # GETEX: options are parsed first, then the key, then the expire value.
    ("GETEX", "missing"),
    ("GETEX", "missing", "EX", "abc"),
    ("GETEX", "missing", "FOO"),
    ("SET", "g", "val"),
    ("GETEX", "g"),
    ("GETEX", "g", "EX", "100"),
    ("GETEX", "g", "ex", "100"),
    ("GETEX", "g", "PX", "100000"),
    ("GETEX", "g", "EXAT", FAR_FUTURE_S),
    ("GETEX", "g", "PXAT", FAR_FUTURE_MS),
    ("GETEX", "g", "PERSIST"),
    ("GETEX", "g", "persist"),
    ("GETEX", "g", "EX", "0"),
    ("GETEX", "g", "EX", "-1"),
    ("GETEX", "g", "PX", "0"),
    ("GETEX", "g", "EXAT", "0"),
    ("GETEX", "g", "EX", "abc"),
    ("GETEX", "g", "EX", "1.5"),
    ("GETEX", "g", "EX", I64_MAX),
    ("GETEX", "g", "PX", I64_MAX),
    ("GETEX", "g", "PXAT", I64_MAX),
    ("GETEX", "g", "EX"),
    ("GETEX", "g", "EX", "10", "PX", "10"),
    ("GETEX", "g", "EX", "10", "EX", "10"),
    ("GETEX", "g", "PERSIST", "EX", "10"),
    ("GETEX", "g", "EX", "10", "PERSIST"),
    ("GETEX", "g", "KEEPTTL"),
    ("GETEX", "g", "NX"),
    ("GETEX", "g", "GET"),
    ("GETEX", "g", "FOO"),
    ("GETEX", "g", "EXAT", "1"),
    ("EXISTS", "g"),
    ("SET", "g", "val"),
    ("GETEX", "g", "PXAT", "1"),
    ("EXISTS", "g"),
    ("GETEX",),
    # SET with GET keeps working alongside.
    ("SET", "s", "a"),
    ("SET", "s", "b", "GET"),
    ("SET", "s", "c", "GET", "NX"),
    ("SET", "s", "c", "get", "XX", "GET"),
    ("GET", "s"),
]

MULTI_KEY: list[Command] = [
    ("MSET",),
    ("MSET", "a"),
    ("MSET", "a", "1", "b"),
    ("MSET", "a", "1", "b", "2"),
    ("MGET", "a", "b", "c"),
    ("MGET", "c"),
    ("MGET",),
    ("MSETNX", "a", "1", "c", "3"),
    ("MGET", "a", "b", "c"),
    ("MSETNX", "c", "3", "d", "4"),
    ("MGET", "a", "b", "c", "d"),
    ("MSETNX", "e"),
    ("MSETNX", "e", "1", "f"),
    ("MSET", "a", "1", "a", "2"),
    ("GET", "a"),
    ("MSETNX", "x", "1", "x", "2"),
    ("GET", "x"),
    ("MSET", "bin", b"\x00\xff\r\n", "empty", ""),
    ("MGET", "bin", "empty", "nothing"),
]

APPEND_RANGE: list[Command] = [
    ("APPEND", "ap", "abc"),
    ("APPEND", "ap", "def"),
    ("GET", "ap"),
    ("APPEND", "ap", ""),
    ("APPEND", "ap", b"\x00\r\n"),
    ("GET", "ap"),
    ("STRLEN", "ap"),
    ("STRLEN", "missing"),
    ("APPEND", "fresh", ""),
    ("EXISTS", "fresh"),
    ("STRLEN", "fresh"),
    ("SET", "num", "12"),
    ("APPEND", "num", "34"),
    ("GET", "num"),
    ("INCR", "num"),
    ("APPEND", "num", "x"),
    ("STRLEN", "num"),
    ("APPEND",),
    ("APPEND", "k"),
    ("STRLEN",),
    ("STRLEN", "a", "b"),
    # SETRANGE
    ("SETRANGE", "missing", "0", ""),
    ("SETRANGE", "missing", "10", ""),
    ("EXISTS", "missing"),
    ("SETRANGE", "r", "5", "abc"),
    ("GET", "r"),
    ("SETRANGE", "r", "0", "X"),
    ("SETRANGE", "r", "1", "YZ"),
    ("GET", "r"),
    ("SETRANGE", "r", "7", "tail!"),
    ("GET", "r"),
    ("SETRANGE", "r", "0", ""),
    ("SETRANGE", "r", "-1", "x"),
    ("SETRANGE", "r", "abc", "x"),
    ("SETRANGE", "r", "9223372036854775808", "x"),
    ("SETRANGE", "r", "536870912", "x"),
    ("SETRANGE", "r", "536870911", "xx"),
    ("SETRANGE", "r", "536870912", ""),
    ("SETRANGE", "r", I64_MAX, "x"),
    ("SETRANGE", "bigmissing", "536870912", "x"),
    ("SETRANGE", "bigmissing", I64_MAX, "x"),
    ("EXISTS", "bigmissing"),
    ("SETRANGE", "far", "100000", "x"),
    ("STRLEN", "far"),
    ("GETRANGE", "far", "99998", "-1"),
    ("SETRANGE", "n", "0", "1"),
    ("SETRANGE", "n", "1", "2"),
    ("INCR", "n"),
    ("SETRANGE", "r", "0"),
    ("SETRANGE",),
    ("GETRANGE", "r", "0"),
    ("SUBSTR", "r"),
]


def _range_grid(name: str, key: str) -> list[Command]:
    edges = ["0", "1", "2", "5", "6", "7", "100", "-1", "-2", "-5", "-6", "-7", "-100"]
    script: list[Command] = [(name, key, a, b) for a in edges for b in edges]
    script += [
        (name, key, I64_MAX, I64_MAX),
        (name, key, I64_MIN, I64_MAX),
        (name, key, I64_MIN, I64_MIN),
        (name, key, "0", "9223372036854775808"),
        (name, key, "a", "0"),
        (name, key, "0", "b"),
        (name, key, "1.5", "2"),
        (name, "missing", "0", "-1"),
        (name, "missing", "x", "y"),
        (name, "empty", "0", "-1"),
        (name, "empty", "-1", "0"),
    ]
    return script


GETRANGE: list[Command] = [
    ("SET", "gr", "Hello!"),
    ("SET", "empty", ""),
    *_range_grid("GETRANGE", "gr"),
    *_range_grid("SUBSTR", "gr"),
]

COUNTERS: list[Command] = [
    ("INCR", "n"),
    ("INCR", "n"),
    ("INCRBY", "n", "10"),
    ("INCRBY", "n", "-5"),
    ("DECR", "n"),
    ("DECRBY", "n", "3"),
    ("DECRBY", "n", "-3"),
    ("DECR", "fresh"),
    ("DECRBY", "fresh2", "7"),
    ("INCRBY", "fresh3", "-7"),
    ("GET", "n"),
    ("DECRBY", "n", I64_MIN),
    ("INCRBY", "n", "abc"),
    ("INCRBY", "n", "1.5"),
    ("INCRBY", "n", " 1"),
    ("INCRBY", "n", "+1"),
    ("INCRBY", "n", "01"),
    ("INCRBY", "n", ""),
    ("INCRBY", "n", "9223372036854775808"),
    ("DECRBY", "n", "x"),
    ("SET", "n", I64_MAX),
    ("INCR", "n"),
    ("INCRBY", "n", "1"),
    ("INCRBY", "n", "0"),
    ("INCRBY", "n", I64_MIN),
    ("DECRBY", "n", I64_MAX),
    ("GET", "n"),
    ("SET", "n", I64_MIN),
    ("DECR", "n"),
    ("DECRBY", "n", "1"),
    ("INCRBY", "n", "-1"),
    ("INCRBY", "n", I64_MAX),
    ("GET", "n"),
    ("SET", "n", "-9223372036854775807"),
    ("DECR", "n"),
    ("DECR", "n"),
    ("SET", "n", "9223372036854775806"),
    ("INCR", "n"),
    ("INCR", "n"),
    ("INCR",),
    ("INCR", "a", "b"),
    ("INCRBY", "n"),
    ("DECRBY", "n"),
    ("DECR",),
]

for bad in [" 1", "1 ", "+1", "01", "-0", "1.0", "", "abc", "1e3", "9223372036854775808",
            "-9223372036854775809", "0x10", "1\x00", "99999999999999999999999"]:  # fmt: skip
    COUNTERS += [("SET", "bad", bad), ("INCR", "bad"), ("DECRBY", "bad", "1"), ("GET", "bad")]
for good in ["0", "-1", "12345", I64_MIN, I64_MAX]:
    COUNTERS += [("SET", "good", good), ("INCRBY", "good", "0"), ("GET", "good")]

INCRBYFLOAT: list[Command] = [
    ("SET", "f", "10.5"),
    ("INCRBYFLOAT", "f", "0.1"),
    ("INCRBYFLOAT", "f", "-5.0e3"),
    ("INCRBYFLOAT", "f", "5.0e3"),
    ("INCRBYFLOAT", "f", "2.0e-17"),
    ("GET", "f"),
    ("INCRBYFLOAT", "newf", "3.0e3"),
    ("INCRBYFLOAT", "newf2", "-0"),
    ("INCRBYFLOAT", "newf3", "0x1p3"),
    ("INCRBYFLOAT", "f", "abc"),
    ("INCRBYFLOAT", "f", "nan"),
    ("INCRBYFLOAT", "f", "inf"),
    ("INCRBYFLOAT", "f", "-inf"),
    ("INCRBYFLOAT", "f", " 1"),
    ("INCRBYFLOAT", "f", "1 "),
    ("INCRBYFLOAT", "f", ""),
    ("INCRBYFLOAT", "f", "1e5000"),
    ("INCRBYFLOAT", "f", "1e-5000"),
    ("INCRBYFLOAT", "f", "1e-4950"),
    ("INCRBYFLOAT", "f", "0e-99999"),
    ("INCRBYFLOAT", "f", "1" * 5120),
    ("INCRBYFLOAT", "f", "1" * 5119),
    ("SET", "f", "0"),
    ("INCRBYFLOAT", "f", "1.18e4932"),
    ("INCRBYFLOAT", "f", "1.18e4932"),
    ("GET", "f"),
    ("SET", "f", "abc"),
    ("INCRBYFLOAT", "f", "1"),
    ("SET", "f", "inf"),
    ("INCRBYFLOAT", "f", "1"),
    ("SET", "f", " 1"),
    ("INCRBYFLOAT", "f", "1"),
    ("SET", "f", "0x10"),
    ("INCRBYFLOAT", "f", "0"),
    ("SET", "f", "3"),
    ("INCRBYFLOAT", "f", "1.1"),
    ("INCRBYFLOAT", "f", "-4.1"),
    ("SET", "f", "0.000003814697265625"),
    ("INCRBYFLOAT", "f", "0"),
    ("SET", "f", "1"),
    ("INCRBYFLOAT", "f", "-1.00000000000000000001"),
    ("SET", "f", "-0.000000000000000015"),
    ("INCRBYFLOAT", "f", "0"),
    ("SET", "f", I64_MAX),
    ("INCRBYFLOAT", "f", "1"),
    ("INCRBYFLOAT", "f", "0.5"),
    ("SET", "f", "1e20"),
    ("INCRBYFLOAT", "f", "1"),
    ("INCRBYFLOAT",),
    ("INCRBYFLOAT", "f"),
]

_rng = random.Random(20240501)
for _ in range(60):
    a = f"{_rng.uniform(-1e6, 1e6):.{_rng.randrange(0, 20)}f}"
    b = _rng.choice(
        [
            f"{_rng.uniform(-100, 100):.{_rng.randrange(1, 25)}f}",
            f"{_rng.uniform(-10, 10):.{_rng.randrange(1, 18)}e}",
            str(_rng.randint(-(10**12), 10**12)),
        ]
    )
    INCRBYFLOAT += [("SET", "rf", a), ("INCRBYFLOAT", "rf", b), ("INCRBYFLOAT", "rf", b)]


def _random_text(rng: random.Random, size: int, alphabet: str) -> str:
    return "".join(rng.choice(alphabet) for _ in range(size))


_lcs_rng = random.Random(7)
LCS: list[Command] = [
    ("SET", "la", "ohmytext"),
    ("SET", "lb", "mynewtext"),
    ("LCS", "la", "lb"),
    ("LCS", "la", "lb", "LEN"),
    ("LCS", "la", "lb", "len"),
    ("LCS", "la", "lb", "IDX"),
    ("LCS", "la", "lb", "IDX", "MINMATCHLEN", "4"),
    ("LCS", "la", "lb", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"),
    ("LCS", "la", "lb", "IDX", "WITHMATCHLEN"),
    ("LCS", "la", "lb", "WITHMATCHLEN"),
    ("LCS", "la", "lb", "MINMATCHLEN", "2"),
    ("LCS", "la", "lb", "IDX", "MINMATCHLEN", "-5"),
    ("LCS", "la", "lb", "IDX", "MINMATCHLEN", "0"),
    ("LCS", "la", "lb", "IDX", "MINMATCHLEN", "100"),
    ("LCS", "la", "lb", "LEN", "IDX"),
    ("LCS", "la", "lb", "IDX", "LEN"),
    ("LCS", "la", "lb", "LEN", "LEN"),
    ("LCS", "la", "lb", "FOO"),
    ("LCS", "la", "lb", "MINMATCHLEN"),
    ("LCS", "la", "lb", "MINMATCHLEN", "x"),
    ("LCS", "la", "lb", "MINMATCHLEN", "x", "LEN", "IDX"),
    ("LCS", "la", "lb", "LEN", "IDX", "FOO"),
    ("LCS", "la", "missing"),
    ("LCS", "missing", "lb", "IDX"),
    ("LCS", "missing", "missing2", "LEN"),
    ("LCS", "missing", "missing2", "IDX", "WITHMATCHLEN"),
    ("LCS", "la", "la", "IDX", "WITHMATCHLEN"),
    ("LCS", "la"),
    ("LCS",),
    ("SET", "n1", "12345"),
    ("SET", "n2", "2345"),
    ("LCS", "n1", "n2", "IDX", "WITHMATCHLEN"),
    ("SET", "rep1", "aaaaaaaaaa"),
    ("SET", "rep2", "aaa"),
    ("LCS", "rep1", "rep2", "IDX", "WITHMATCHLEN"),
    ("LCS", "rep2", "rep1", "IDX", "WITHMATCHLEN"),
]
for size_a, size_b in [(30, 40), (200, 150), (1, 300), (300, 1), (500, 500)]:
    LCS += [
        ("SET", "ra", _random_text(_lcs_rng, size_a, "ACGT")),
        ("SET", "rb", _random_text(_lcs_rng, size_b, "ACGT")),
        ("LCS", "ra", "rb"),
        ("LCS", "ra", "rb", "LEN"),
        ("LCS", "ra", "rb", "IDX", "WITHMATCHLEN"),
        ("LCS", "rb", "ra", "IDX", "MINMATCHLEN", "3", "WITHMATCHLEN"),
    ]
# (11586)^2 * 4 bytes of table is over 512 MB: Redis refuses before computing anything.
LCS += [
    ("SET", "huge1", "x" * 11585),
    ("SET", "huge2", "x" * 11585),
    ("LCS", "huge1", "huge2", "LEN"),
    ("LCS", "huge1", "la", "LEN"),
]

SETBIT_GETBIT: list[Command] = [
    ("SETBIT", "b", "7", "1"),
    ("SETBIT", "b", "7", "1"),
    ("GET", "b"),
    ("SETBIT", "b", "7", "0"),
    ("GETBIT", "b", "7"),
    ("SETBIT", "b", "0", "1"),
    ("GETBIT", "b", "0"),
    ("GETBIT", "b", "1"),
    ("SETBIT", "b", "100", "1"),
    ("STRLEN", "b"),
    ("GET", "b"),
    ("SETBIT", "b", "-1", "1"),
    ("SETBIT", "b", "abc", "1"),
    ("SETBIT", "b", "1.5", "1"),
    ("SETBIT", "b", "0", "2"),
    ("SETBIT", "b", "0", "-1"),
    ("SETBIT", "b", "0", "abc"),
    ("SETBIT", "b", "0", "01"),
    ("SETBIT", "b", "0", ""),
    ("SETBIT", "b", "4294967296", "1"),
    ("SETBIT", "b", I64_MAX, "1"),
    ("SETBIT", "b", "-1", "2"),
    ("SETBIT", "b", "x", "2"),
    ("SETBIT", "nb", "4294967296", "1"),
    ("EXISTS", "nb"),
    ("SETBIT", "b", "100000", "1"),
    ("STRLEN", "b"),
    ("GETBIT", "b", "100000"),
    ("GETBIT", "b", "4294967295"),
    ("GETBIT", "b", "4294967296"),
    ("GETBIT", "b", "-1"),
    ("GETBIT", "b", "x"),
    ("GETBIT", "missing", "0"),
    ("GETBIT", "missing", "-1"),
    ("SET", "i", "12"),
    ("GETBIT", "i", "2"),
    ("GETBIT", "i", "3"),
    ("SETBIT", "i", "6", "1"),
    ("GET", "i"),
    ("SETBIT", "z", "0", "0"),
    ("GET", "z"),
    ("SETBIT", "z", "0", "0"),
    ("SETBIT",),
    ("SETBIT", "b", "0"),
    ("GETBIT", "b"),
]

BITCOUNT: list[Command] = [
    ("SET", "s", "foobar"),
    ("SET", "empty", ""),
    ("BITCOUNT", "s"),
    ("BITCOUNT", "empty"),
    ("BITCOUNT", "missing"),
    ("BITCOUNT", "missing", "0"),
    ("BITCOUNT", "missing", "a", "b", "c", "d"),
    ("BITCOUNT", "s", "0"),
    ("BITCOUNT", "s", "0", "1", "BIT", "x"),
    ("BITCOUNT", "s", "0", "-1", "FOO"),
    ("BITCOUNT", "s", "-1", "-5", "FOO"),
    ("BITCOUNT", "s", "-1", "-5"),
    ("BITCOUNT", "s", "a", "0"),
    ("BITCOUNT", "s", "0", "a"),
    ("BITCOUNT", "s", "0", "0", "bit"),
    ("BITCOUNT", "s", "0", "0", "byte"),
    ("BITCOUNT", "s", "5", "30", "BIT"),
    ("BITCOUNT", "s", "0", I64_MAX, "BIT"),
    ("BITCOUNT", "s", I64_MIN, "-1", "BIT"),
    ("BITCOUNT", "s", I64_MIN, I64_MAX),
    ("BITCOUNT", "empty", "0", "-1", "BIT"),
    ("BITCOUNT",),
]
_bit_edges = ["0", "1", "3", "7", "8", "9", "15", "46", "47", "48", "100", "-1", "-2", "-8", "-9",
              "-47", "-48", "-49", "-100"]  # fmt: skip
_byte_edges = ["0", "1", "2", "5", "6", "10", "-1", "-2", "-6", "-7", "-10"]
for _a in _byte_edges:
    for _b in _byte_edges:
        BITCOUNT += [("BITCOUNT", "s", _a, _b), ("BITCOUNT", "s", _a, _b, "BYTE")]
for _a in _bit_edges:
    for _b in _bit_edges:
        BITCOUNT.append(("BITCOUNT", "s", _a, _b, "BIT"))

BITPOS: list[Command] = [
    ("SET", "p", b"\xff\xf0\x00"),
    ("SET", "ones", b"\xff\xff\xff"),
    ("SET", "zeros", b"\x00\x00\x00"),
    ("SET", "empty", ""),
    ("BITPOS", "p", "0"),
    ("BITPOS", "p", "1"),
    ("BITPOS", "ones", "0"),
    ("BITPOS", "ones", "1"),
    ("BITPOS", "zeros", "0"),
    ("BITPOS", "zeros", "1"),
    ("BITPOS", "empty", "0"),
    ("BITPOS", "empty", "1"),
    ("BITPOS", "empty", "0", "0"),
    ("BITPOS", "empty", "0", "0", "-1", "BIT"),
    ("BITPOS", "missing", "0"),
    ("BITPOS", "missing", "1"),
    ("BITPOS", "missing", "1", "a", "b", "c", "d"),
    ("BITPOS", "missing", "2"),
    ("BITPOS", "p", "2"),
    ("BITPOS", "p", "-1"),
    ("BITPOS", "p", "abc"),
    ("BITPOS", "p", "0", "x"),
    ("BITPOS", "p", "0", "0", "x"),
    ("BITPOS", "p", "0", "5", "BIT"),
    ("BITPOS", "p", "0", "0", "x", "FOO"),
    ("BITPOS", "p", "0", "0", "-1", "FOO"),
    ("BITPOS", "p", "0", "0", "-1", "bit"),
    ("BITPOS", "p", "0", "0", "-1", "byte"),
    ("BITPOS", "p", "1", "0", "1", "2", "3"),
    ("BITPOS", "p", "1", I64_MIN, I64_MAX, "BIT"),
    ("BITPOS", "p", "0", I64_MAX),
    ("BITPOS", "ones", "0", "0"),
    ("BITPOS", "ones", "0", "0", "-1"),
    ("BITPOS", "ones", "0", "0", "-1", "BIT"),
    ("BITPOS", "ones", "0", "3", "-1", "BIT"),
    ("BITPOS", "ones", "0", "3", "BIT"),
    ("BITPOS",),
    ("BITPOS", "p"),
]
for _key in ["p", "ones", "zeros"]:
    for _bit in ["0", "1"]:
        for _a in _byte_edges[:8]:
            BITPOS.append(("BITPOS", _key, _bit, _a))
            BITPOS.extend(("BITPOS", _key, _bit, _a, _b) for _b in _byte_edges[:8])
        for _a in _bit_edges:
            BITPOS.extend(("BITPOS", _key, _bit, _a, _b, "BIT") for _b in _bit_edges)

BITOP: list[Command] = [
    ("SET", "a", b"\xff\x0f\xaa"),
    ("SET", "b", b"\x0f"),
    ("SET", "c", b"\x00\xf0\x55\x01"),
    ("BITOP", "AND", "d", "a", "b"),
    ("GET", "d"),
    ("BITOP", "OR", "d", "a", "b", "c"),
    ("GET", "d"),
    ("BITOP", "XOR", "d", "a", "b", "c"),
    ("GET", "d"),
    ("BITOP", "NOT", "d", "a"),
    ("GET", "d"),
    ("BITOP", "not", "d", "c"),
    ("GET", "d"),
    ("BITOP", "and", "d", "a", "missing"),
    ("GET", "d"),
    ("BITOP", "Or", "d", "missing", "b"),
    ("GET", "d"),
    ("BITOP", "AND", "d", "a"),
    ("GET", "d"),
    ("BITOP", "AND", "a", "a", "c"),
    ("GET", "a"),
    ("BITOP", "NOT", "d", "a", "b"),
    ("BITOP", "NOT", "d"),
    ("BITOP", "FOO", "d", "a"),
    ("BITOP", "FOO", "d", "a", "b"),
    ("BITOP", "ANDX", "d", "a"),
    ("BITOP", "AND", "d", "missing1", "missing2"),
    ("EXISTS", "d"),
    ("BITOP", "NOT", "d", "missing"),
    ("SET", "d", "x"),
    ("BITOP", "XOR", "d", "missing"),
    ("EXISTS", "d"),
    ("SET", "empty", ""),
    ("BITOP", "OR", "d", "empty", "empty"),
    ("EXISTS", "d"),
    ("SET", "num", "123"),
    ("BITOP", "XOR", "d", "num", "b"),
    ("GET", "d"),
    ("SET", "long1", bytes(range(200))),
    ("SET", "long2", bytes(range(255, 55, -1))),
    ("BITOP", "AND", "d", "long1", "long2"),
    ("GET", "d"),
    ("BITOP", "OR", "d", "long1", "long2", "a"),
    ("GET", "d"),
    ("BITOP", "XOR", "d", "long1", "long2", "long1"),
    ("GET", "d"),
    ("BITOP", "NOT", "d", "long2"),
    ("GET", "d"),
    ("BITOP", "AND", "d"),
    ("BITOP",),
]

BITFIELD: list[Command] = [
    ("BITFIELD", "bf"),
    ("EXISTS", "bf"),
    ("BITFIELD", "bf", "SET", "i8", "0", "-100"),
    ("BITFIELD", "bf", "GET", "i8", "0", "GET", "u8", "0", "GET", "u4", "4", "GET", "i4", "2"),
    ("BITFIELD", "bf", "INCRBY", "i8", "0", "300"),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "300"),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-300"),
    ("BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "-300"),
    ("BITFIELD", "bf", "overflow", "fail", "incrby", "i8", "0", "1", "get", "i8", "0"),
    ("BITFIELD", "bf", "OVERFLOW", "WRAP", "INCRBY", "u8", "0", "300"),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "300", "INCRBY", "u8", "0", "-300"),
    ("BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "300", "INCRBY", "u8", "0", "-1"),
    ("BITFIELD", "bf", "SET", "u8", "0", "256", "GET", "u8", "0"),
    ("BITFIELD", "bf", "SET", "u8", "0", "-1", "GET", "u8", "0"),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "u8", "0", "-1", "GET", "u8", "0"),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "u8", "0", "300", "GET", "u8", "0"),
    ("BITFIELD", "bf", "OVERFLOW", "FAIL", "SET", "u8", "0", "300", "GET", "u8", "0"),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "i8", "0", "200", "GET", "i8", "0"),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "i8", "0", "-200", "GET", "i8", "0"),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "i8", "0", I64_MIN, "GET", "i8", "0"),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "i8", "0", I64_MAX, "GET", "i8", "0"),
    ("BITFIELD", "bf", "OVERFLOW", "WRAP", "SET", "i8", "0", I64_MIN, "GET", "i8", "0"),
    ("BITFIELD", "bf", "OVERFLOW", "FAIL", "SET", "i8", "0", I64_MIN),
    ("BITFIELD", "bf", "SET", "i64", "0", I64_MAX, "INCRBY", "i64", "0", "1"),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "i64", "0", I64_MAX, "INCRBY", "i64", "0", "1"),
    ("BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "i64", "0", "1"),
    ("BITFIELD", "bf", "SET", "i64", "0", I64_MIN, "INCRBY", "i64", "0", "-1"),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "i64", "0", I64_MIN, "INCRBY", "i64", "0", "-1"),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i64", "0", I64_MIN),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i64", "0", I64_MAX),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i64", "0", I64_MAX),
    ("BITFIELD", "bf", "SET", "u63", "0", I64_MAX, "INCRBY", "u63", "0", "1"),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "u63", "0", I64_MAX),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "u63", "0", I64_MIN),
    ("BITFIELD", "bf", "OVERFLOW", "WRAP", "INCRBY", "u63", "0", I64_MIN),
    ("BITFIELD", "bf", "SET", "i1", "3", "1", "GET", "i1", "3", "GET", "u1", "3"),
    ("BITFIELD", "bf", "INCRBY", "i1", "3", "1", "INCRBY", "u1", "3", "1"),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i1", "3", "5", "INCRBY", "i1", "3", "-5"),
    ("BITFIELD", "bf", "SET", "u5", "7", "23", "GET", "u5", "7", "GET", "u16", "0"),
    ("BITFIELD", "bf", "SET", "i13", "#3", "-1000", "GET", "i13", "#3", "GET", "u13", "39"),
    ("BITFIELD", "bf", "SET", "u8", "#1", "255", "GET", "u8", "8", "GET", "u8", "#1"),
    ("BITFIELD", "bf", "GET", "u8", "#2305843009213693953"),
    ("BITFIELD", "bf", "GET", "u8", "#" + I64_MAX),
    ("BITFIELD", "bf", "GET", "u8", "#-1"),
    ("BITFIELD", "bf", "GET", "u8", "#"),
    ("BITFIELD", "bf", "GET", "u8", "#abc"),
    ("BITFIELD", "bf", "GET", "u8", "-1"),
    ("BITFIELD", "bf", "GET", "u8", "abc"),
    ("BITFIELD", "bf", "GET", "u8", "4294967288"),
    ("BITFIELD", "bf", "GET", "u8", "4294967296"),
    ("BITFIELD", "bf", "GET", "u8", "#536870911"),
    ("BITFIELD", "bf", "GET", "u8", "#536870912"),
    ("BITFIELD", "bf", "GET", "i64", "4294967280"),
    ("BITFIELD", "bf", "GET", "u64", "0"),
    ("BITFIELD", "bf", "GET", "i65", "0"),
    ("BITFIELD", "bf", "GET", "i0", "0"),
    ("BITFIELD", "bf", "GET", "u0", "0"),
    ("BITFIELD", "bf", "GET", "I8", "0"),
    ("BITFIELD", "bf", "GET", "U8", "0"),
    ("BITFIELD", "bf", "GET", "x8", "0"),
    ("BITFIELD", "bf", "GET", "i", "0"),
    ("BITFIELD", "bf", "GET", "i08", "0"),
    ("BITFIELD", "bf", "GET", "i-8", "0"),
    ("BITFIELD", "bf", "GET", "", "0"),
    ("BITFIELD", "bf", "GET", "u8"),
    ("BITFIELD", "bf", "SET", "u8", "0"),
    ("BITFIELD", "bf", "INCRBY", "u8", "0"),
    ("BITFIELD", "bf", "SET", "u8", "0", "abc"),
    ("BITFIELD", "bf", "INCRBY", "u8", "0", "1.5"),
    ("BITFIELD", "bf", "SET", "u8", "0", "9223372036854775808"),
    ("BITFIELD", "bf", "OVERFLOW"),
    ("BITFIELD", "bf", "OVERFLOW", "FOO"),
    ("BITFIELD", "bf", "OVERFLOW", "FOO", "GET", "u8", "0"),
    ("BITFIELD", "bf", "GET", "u8", "0", "OVERFLOW", "FOO"),
    ("BITFIELD", "bf", "FOO"),
    ("BITFIELD", "bf", "FOO", "u8", "0"),
    ("BITFIELD", "bf", "GET", "u8", "0", "FOO"),
    ("BITFIELD", "bf", "OVERFLOW", "SAT"),
    ("BITFIELD", "bf", "SET", "u8", "1000", "1", "GET", "u8", "1000"),
    ("STRLEN", "bf"),
    ("GET", "bf"),
    ("BITFIELD", "bf", "SET", "u8", "4294967288", "1"),
    ("BITFIELD", "missing", "GET", "u8", "0", "GET", "i64", "100"),
    ("EXISTS", "missing"),
    # Under OVERFLOW FAIL the string is still created and padded first (bitfieldGeneric).
    ("BITFIELD", "nk", "OVERFLOW", "FAIL", "SET", "u2", "20", "10"),
    ("GET", "nk"),
    ("BITFIELD", "nk", "OVERFLOW", "FAIL", "INCRBY", "u2", "40", "10"),
    ("GET", "nk"),
    ("SET", "num", "12"),
    ("BITFIELD", "num", "GET", "u8", "0", "GET", "u16", "0", "GET", "u8", "16"),
    ("BITFIELD", "num", "SET", "u8", "0", "51"),
    ("GET", "num"),
    ("BITFIELD", "num", "SET", "u8", "0", "51"),
    ("BITFIELD", "z", "SET", "u8", "0", "0"),
    ("GET", "z"),
    ("BITFIELD",),
    # BITFIELD_RO
    ("BITFIELD_RO", "bf", "GET", "i8", "0", "GET", "u4", "4"),
    ("BITFIELD_RO", "bf"),
    ("BITFIELD_RO", "bf", "SET", "i8", "0", "1"),
    ("BITFIELD_RO", "bf", "INCRBY", "i8", "0", "1"),
    ("BITFIELD_RO", "bf", "GET", "i8", "0", "OVERFLOW", "SAT"),
    ("BITFIELD_RO", "bf", "OVERFLOW", "FOO"),
    ("BITFIELD_RO", "bf", "GET", "u64", "0"),
    ("BITFIELD_RO", "bf", "SET", "u64", "0", "1"),
    ("BITFIELD_RO", "missing2", "GET", "u4", "0"),
    ("BITFIELD_RO", "missing2", "SET", "u4", "0", "1"),
    ("EXISTS", "missing2"),
    ("BITFIELD_RO",),
]

_bf_rng = random.Random(99)
for _ in range(150):
    ops: list[str] = []
    for _ in range(_bf_rng.randrange(1, 4)):
        kind = _bf_rng.choice(["GET", "SET", "INCRBY", "OVERFLOW"])
        if kind == "OVERFLOW":
            ops += ["OVERFLOW", _bf_rng.choice(["WRAP", "SAT", "FAIL"])]
            continue
        signed = _bf_rng.random() < 0.5
        bits = _bf_rng.randint(1, 64 if signed else 63)
        ops += [kind, ("i" if signed else "u") + str(bits), str(_bf_rng.randrange(0, 80))]
        if kind != "GET":
            limit = 1 << _bf_rng.choice([3, 8, 16, 40, 62, 63])
            ops.append(str(_bf_rng.randint(-limit, limit - 1)))
    BITFIELD.append(("BITFIELD", "rbf", *ops))
BITFIELD.append(("GET", "rbf"))

ARITY: list[Command] = _arity_errors(
    "SETNX", "SETEX", "PSETEX", "GETSET", "GETRANGE", "SETRANGE", "SUBSTR", "INCRBY", "DECRBY",
    "INCRBYFLOAT", "APPEND", "LCS", "SETBIT", "GETBIT", "BITOP", "MSET", "MSETNX",
)  # fmt: skip


SCRIPTS = {
    "set_family": SET_FAMILY,
    "multi_key": MULTI_KEY,
    "append_range": APPEND_RANGE,
    "getrange": GETRANGE,
    "counters": COUNTERS,
    "incrbyfloat": INCRBYFLOAT,
    "lcs": LCS,
    "setbit_getbit": SETBIT_GETBIT,
    "bitcount": BITCOUNT,
    "bitpos": BITPOS,
    "bitop": BITOP,
    "bitfield": BITFIELD,
    "arity": ARITY,
}


@pytest.fixture(params=["resp2", "resp3"])
def both(request: pytest.FixtureRequest, diff: Differential, diff3: Differential) -> Differential:
    return diff if request.param == "resp2" else diff3


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_string_commands_match_redis(both: Differential, name: str) -> None:
    both.run([("FLUSHALL",)])
    both.assert_same(SCRIPTS[name])


# --- expired keys ---

EXPIRED_TARGETS: list[tuple[str, list[Command]]] = [
    ("GET", [("GET", "{k}")]),
    ("GETSET", [("GETSET", "{k}", "v"), ("GET", "{k}")]),
    ("GETDEL", [("GETDEL", "{k}")]),
    ("GETEX", [("GETEX", "{k}", "PERSIST")]),
    ("SETNX", [("SETNX", "{k}", "x"), ("GET", "{k}")]),
    ("MGET", [("MGET", "{k}", "{k}")]),
    ("MSETNX", [("MSETNX", "{k}", "x"), ("GET", "{k}")]),
    ("APPEND", [("APPEND", "{k}", "x"), ("GET", "{k}")]),
    ("STRLEN", [("STRLEN", "{k}")]),
    ("SETRANGE", [("SETRANGE", "{k}", "2", "x"), ("GET", "{k}")]),
    ("GETRANGE", [("GETRANGE", "{k}", "0", "-1")]),
    ("INCR", [("INCR", "{k}")]),
    ("INCRBYFLOAT", [("INCRBYFLOAT", "{k}", "1.5")]),
    ("LCS", [("LCS", "{k}", "{k}", "IDX")]),
    ("SETBIT", [("SETBIT", "{k}", "9", "1"), ("GET", "{k}")]),
    ("GETBIT", [("GETBIT", "{k}", "0")]),
    ("BITCOUNT", [("BITCOUNT", "{k}")]),
    ("BITPOS", [("BITPOS", "{k}", "0"), ("BITPOS", "{k}", "1")]),
    ("BITOP", [("BITOP", "OR", "{k}-dest", "{k}"), ("EXISTS", "{k}-dest")]),
    ("BITFIELD", [("BITFIELD", "{k}", "INCRBY", "u8", "0", "1")]),
    ("BITFIELD_RO", [("BITFIELD_RO", "{k}", "GET", "u8", "0")]),
]


def test_commands_see_expired_keys_as_missing(diff: Differential) -> None:
    diff.run([("FLUSHALL",)])
    for name, _ in EXPIRED_TARGETS:
        diff.check(("SET", f"exp:{name}", "12", "PX", "1"))
    # Set last, so once it is gone on both servers every target has expired too.
    diff.check(("SET", "probe", "v", "PX", "1"))
    wait_until(lambda: diff.send("EXISTS", "probe") == (b":0\r\n", b":0\r\n"))
    for name, script in EXPIRED_TARGETS:
        key = f"exp:{name}"
        diff.run([tuple(a.replace("{k}", key) for a in cmd) for cmd in script])  # type: ignore[union-attr]
    diff.assert_same()


# --- scripts that need other families' commands ---


def _requires(*names: str) -> pytest.MarkDecorator:
    missing = [n for n in names if n.encode() not in COMMANDS]
    return pytest.mark.skipif(bool(missing), reason=f"needs {', '.join(missing)} (other family)")


WRONG_TYPE: list[Command] = [
    ("LPUSH", "list", "a"),
    ("GET", "list"),
    ("SET", "list", "v", "GET"),
    ("SETNX", "list", "v"),
    ("GETSET", "list", "v"),
    ("GETDEL", "list"),
    ("GETEX", "list"),
    ("GETEX", "list", "EX", "abc"),
    ("GETEX", "list", "FOO"),
    ("MGET", "list", "missing"),
    ("APPEND", "list", "x"),
    ("STRLEN", "list"),
    ("SETRANGE", "list", "0", "x"),
    ("SETRANGE", "list", "0", ""),
    ("SETRANGE", "list", "-1", "x"),
    ("GETRANGE", "list", "0", "-1"),
    ("GETRANGE", "list", "x", "-1"),
    ("SUBSTR", "list", "0", "-1"),
    ("INCR", "list"),
    ("DECR", "list"),
    ("INCRBY", "list", "1"),
    ("INCRBY", "list", "x"),
    ("DECRBY", "list", "1"),
    ("DECRBY", "list", I64_MIN),
    ("INCRBYFLOAT", "list", "1"),
    ("INCRBYFLOAT", "list", "x"),
    ("LCS", "list", "missing"),
    ("LCS", "missing", "list", "FOO"),
    ("SETBIT", "list", "0", "1"),
    ("SETBIT", "list", "-1", "1"),
    ("SETBIT", "list", "0", "2"),
    ("GETBIT", "list", "0"),
    ("GETBIT", "list", "-1"),
    ("BITCOUNT", "list"),
    ("BITCOUNT", "list", "0"),
    ("BITPOS", "list", "1"),
    ("BITPOS", "list", "2"),
    ("BITOP", "AND", "dest", "list"),
    ("BITOP", "AND", "dest", "missing", "list"),
    ("BITOP", "FOO", "dest", "list"),
    ("SET", "s", "abc"),
    ("BITOP", "AND", "list", "s"),
    ("GET", "list"),
    ("LPUSH", "list", "a"),
    ("BITOP", "AND", "list", "missing"),
    ("EXISTS", "list"),
    ("LPUSH", "list", "a"),
    ("BITFIELD", "list", "GET", "u8", "0"),
    ("BITFIELD", "list", "SET", "u8", "0", "1"),
    ("BITFIELD", "list", "GET", "u64", "0"),
    ("BITFIELD", "list"),
    ("BITFIELD_RO", "list", "GET", "u8", "0"),
    ("BITFIELD_RO", "list", "SET", "u8", "0", "1"),
    ("MSET", "list", "v"),
    ("GET", "list"),
    ("LPUSH", "list2", "a"),
    ("MSETNX", "list2", "v", "other", "v"),
    ("SETEX", "list2", "100", "v"),
    ("GET", "list2"),
]


@_requires("LPUSH")
def test_wrong_type_errors_match_redis(both: Differential) -> None:
    both.run([("FLUSHALL",)])
    both.assert_same(WRONG_TYPE)


TTL_KEPT: list[Command] = [
    ("SET", "t", "12", "EX", "1000"),
    ("APPEND", "t", "3"),
    ("TTL", "t"),
    ("SETRANGE", "t", "5", "x"),
    ("TTL", "t"),
    ("SETBIT", "t", "100", "1"),
    ("TTL", "t"),
    ("BITFIELD", "t", "SET", "u8", "200", "1"),
    ("TTL", "t"),
    ("SET", "t", "12", "EX", "1000"),
    ("INCR", "t"),
    ("TTL", "t"),
    ("INCRBYFLOAT", "t", "1.5"),
    ("TTL", "t"),
    ("GETEX", "t"),
    ("TTL", "t"),
    ("GETEX", "t", "PERSIST"),
    ("TTL", "t"),
    ("GETEX", "t", "EX", "500"),
    ("TTL", "t"),
    ("GETSET", "t", "v"),
    ("TTL", "t"),
    ("SETEX", "t", "100", "v"),
    ("TTL", "t"),
    ("MSET", "t", "v"),
    ("TTL", "t"),
    ("PSETEX", "t", "100000", "v"),
    ("BITOP", "NOT", "t", "t"),
    ("TTL", "t"),
]


@_requires("TTL")
def test_string_edits_keep_the_ttl_as_redis_does(both: Differential) -> None:
    both.run([("FLUSHALL",)])
    both.assert_same(TTL_KEPT)


ENCODINGS: list[Command] = [
    ("APPEND", "a", "abc"),
    ("OBJECT", "ENCODING", "a"),
    ("APPEND", "a", "def"),
    ("OBJECT", "ENCODING", "a"),
    ("SET", "a2", "abc"),
    ("APPEND", "a2", ""),
    ("OBJECT", "ENCODING", "a2"),
    ("SETRANGE", "r", "0", "abc"),
    ("OBJECT", "ENCODING", "r"),
    ("SET", "r2", "abc"),
    ("SETRANGE", "r2", "0", ""),
    ("OBJECT", "ENCODING", "r2"),
    ("SETRANGE", "r2", "0", "x"),
    ("OBJECT", "ENCODING", "r2"),
    ("SET", "n", "10"),
    ("INCR", "n"),
    ("OBJECT", "ENCODING", "n"),
    ("APPEND", "n", "1"),
    ("OBJECT", "ENCODING", "n"),
    ("INCR", "n"),
    ("OBJECT", "ENCODING", "n"),
    ("SETBIT", "b", "1", "1"),
    ("OBJECT", "ENCODING", "b"),
    ("SET", "b2", "x"),
    ("SETBIT", "b2", "1", "1"),
    ("OBJECT", "ENCODING", "b2"),
    ("BITOP", "NOT", "d", "b2"),
    ("OBJECT", "ENCODING", "d"),
    ("SET", "bf", "x"),
    ("BITFIELD", "bf", "GET", "u8", "0"),
    ("OBJECT", "ENCODING", "bf"),
    ("BITFIELD", "bf", "SET", "u8", "0", "1"),
    ("OBJECT", "ENCODING", "bf"),
    ("MSET", "m", "123", "m2", "x" * 50),
    ("OBJECT", "ENCODING", "m"),
    ("OBJECT", "ENCODING", "m2"),
    ("INCRBYFLOAT", "f", "1.5"),
    ("OBJECT", "ENCODING", "f"),
]


@_requires("OBJECT")
def test_in_place_edits_make_raw_strings_as_redis_does(both: Differential) -> None:
    both.run([("FLUSHALL",)])
    both.assert_same(ENCODINGS)


@_requires("MULTI")
def test_multi_exec_replies_are_taken_when_each_command_runs(both: Differential) -> None:
    both.run([("FLUSHALL",)])
    both.assert_same(
        [
            ("SET", "k", "abc"),
            ("APPEND", "k", "d"),
            ("MULTI",),
            ("GET", "k"),
            ("APPEND", "k", "e"),
            ("MGET", "k"),
            ("SETRANGE", "k", "0", "X"),
            ("GETRANGE", "k", "0", "-1"),
            ("SETBIT", "k", "0", "0"),
            ("GETDEL", "k"),
            ("EXEC",),
        ]
    )

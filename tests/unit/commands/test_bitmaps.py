"""Bitmap commands in-process, and a Hypothesis model of SETBIT / GETBIT / BITFIELD."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from protocol.resp import RespError, encode_command
from server.errors import (
    ERR_BIT_ARGUMENT,
    ERR_BIT_OFFSET,
    ERR_BIT_VALUE,
    ERR_BITFIELD_OVERFLOW,
    ERR_BITFIELD_RO,
    ERR_BITFIELD_TYPE,
    ERR_BITOP_NOT,
    ERR_NOT_INTEGER,
    ERR_SYNTAX,
    ERR_WRONGTYPE,
)
from storage.lists import ListValue
from storage.strings import bit_count, bit_position
from tests.support import Runner

I64_MAX = 2**63 - 1
I64_MIN = -(2**63)


def stored(run: Runner, key: bytes) -> Any:
    return run.app.keyspace.dbs[0].peek(key)


def effects(run: Runner, since: int) -> list[bytes]:
    return [e for e in run.feed[since:] if not e.startswith(b"*2\r\n$6\r\nSELECT")]


# --- SETBIT / GETBIT ---


def test_setbit_returns_the_old_bit_and_grows_the_string(run: Runner) -> None:
    assert run("SETBIT", "b", "7", "1") == 0
    assert run("SETBIT", "b", "7", "1") == 1
    assert run("GET", "b") == b"\x01"
    assert run("SETBIT", "b", "17", "0") == 0
    assert run("GET", "b") == b"\x01\x00\x00"
    assert type(stored(run, b"b")) is bytearray


def test_setbit_that_changes_nothing_is_not_propagated(run: Runner) -> None:
    run("SETBIT", "b", "3", "1")
    sent = len(run.feed)
    assert run("SETBIT", "b", "3", "1") == 1
    assert run("SETBIT", "b", "4", "0") == 0
    assert effects(run, sent) == []
    assert run("SETBIT", "b", "9", "0") == 0  # grows the string: a change
    assert len(effects(run, sent)) == 1


def test_setbit_keeps_the_ttl(run: Runner) -> None:
    run("SET", "b", "x", "EX", "100")
    ttl = run.app.keyspace.dbs[0].get_expire(b"b")
    run("SETBIT", "b", "100", "1")
    assert run.app.keyspace.dbs[0].get_expire(b"b") == ttl


@pytest.mark.parametrize(
    ("offset", "value", "error"),
    [
        ("-1", "1", ERR_BIT_OFFSET),
        ("x", "1", ERR_BIT_OFFSET),
        ("4294967296", "1", ERR_BIT_OFFSET),
        ("0", "2", ERR_BIT_VALUE),
        ("0", "-1", ERR_BIT_VALUE),
        ("0", "01", ERR_BIT_VALUE),
        ("-1", "2", ERR_BIT_OFFSET),
    ],
)
def test_setbit_errors(run: Runner, offset: str, value: str, error: str) -> None:
    assert run("SETBIT", "b", offset, value) == RespError(error)
    assert run("EXISTS", "b") == 0


def test_bit_offsets_follow_proto_max_bulk_len() -> None:
    run = Runner([("proto-max-bulk-len", ["1mb"])])
    assert run("SETBIT", "b", str(8 * 1024**2), "1") == RespError(ERR_BIT_OFFSET)
    assert run("GETBIT", "b", str(8 * 1024**2)) == RespError(ERR_BIT_OFFSET)
    assert run("GETBIT", "b", str(8 * 1024**2 - 1)) == 0
    assert run("BITFIELD", "b", "GET", "u8", "#1048576") == RespError(ERR_BIT_OFFSET)


def test_getbit_reads_zero_past_the_end(run: Runner) -> None:
    run("SET", "k", b"\x80")
    assert run("GETBIT", "k", "0") == 1
    assert run("GETBIT", "k", "1") == 0
    assert run("GETBIT", "k", "1000") == 0
    assert run("GETBIT", "missing", "0") == 0


# --- BITCOUNT / BITPOS ---


def test_bitcount_forms(run: Runner) -> None:
    run("SET", "s", "foobar")
    assert run("BITCOUNT", "s") == 26
    assert run("BITCOUNT", "s", "1", "1") == 6
    assert run("BITCOUNT", "s", "5", "30", "BIT") == 17
    assert run("BITCOUNT", "s", "-1", "-5", "FOO") == 0  # empty before the unit is read
    assert run("BITCOUNT", "s", "0", "-1", "FOO") == RespError(ERR_SYNTAX)
    assert run("BITCOUNT", "s", "0") == RespError(ERR_SYNTAX)
    assert run("BITCOUNT", "missing", "0") == 0


def test_bitpos_forms(run: Runner) -> None:
    run("SET", "p", b"\xff\xf0\x00")
    run("SET", "ones", b"\xff\xff")
    assert run("BITPOS", "p", "0") == 12
    assert run("BITPOS", "p", "1", "2") == -1
    assert run("BITPOS", "ones", "0") == 16  # zero padding on the right
    assert run("BITPOS", "ones", "0", "0", "-1") == -1  # not with an explicit end
    assert run("BITPOS", "missing", "0") == 0
    assert run("BITPOS", "missing", "1") == -1
    assert run("BITPOS", "p", "2") == RespError(ERR_BIT_ARGUMENT)
    assert run("BITPOS", "p", "0", "0", "x", "FOO") == RespError(ERR_SYNTAX)
    assert run("BITPOS", "p", "0", "0", "x") == RespError(ERR_NOT_INTEGER)


def _resolve(start: int, end: int, total: int) -> tuple[int, int]:
    start = max(start + total if start < 0 else start, 0)
    end = max(end + total if end < 0 else end, 0)
    return start, min(end, total - 1)


def _bits(value: bytes) -> list[int]:
    return [(byte >> (7 - i)) & 1 for byte in value for i in range(8)]


indexes = st.integers(min_value=-40, max_value=40)


@settings(max_examples=300)
@given(st.binary(max_size=5), indexes, indexes, st.booleans())
def test_bitcount_counts_the_bits_of_the_resolved_range(
    value: bytes, start: int, end: int, in_bits: bool
) -> None:
    bits = _bits(value)
    if start < 0 and end < 0 and start > end:
        expected = 0
    else:
        lo, hi = _resolve(start, end, len(bits) if in_bits else len(value))
        if not in_bits:
            lo, hi = lo * 8, hi * 8 + 7
        expected = sum(bits[lo : hi + 1])
    assert bit_count(value, start, end, in_bits) == expected


@settings(max_examples=300)
@given(
    st.binary(min_size=1, max_size=5),
    st.integers(0, 1),
    indexes,
    st.none() | indexes,
    st.booleans(),
)
def test_bitpos_finds_the_first_bit_of_the_resolved_range(
    value: bytes, bit: int, start: int, end: int | None, in_bits: bool
) -> None:
    bits = _bits(value)
    total = len(bits) if in_bits else len(value)
    lo, hi = _resolve(start, total - 1 if end is None else end, total)
    if not in_bits:
        lo, hi = lo * 8, hi * 8 + 7
    if lo > hi:
        expected = -1
    else:
        found = [i for i in range(lo, hi + 1) if bits[i] == bit]
        if found:
            expected = found[0]
        elif bit == 0 and end is None:
            expected = len(bits)  # the zero padding right after the string
        else:
            expected = -1
    assert bit_position(value, bit, start, end, in_bits) == expected


# --- BITOP ---


def test_bitop_pads_with_zeros_and_stores_a_raw_string(run: Runner) -> None:
    run("SET", "a", b"\xff\x0f")
    run("SET", "b", b"\x0f")
    assert run("BITOP", "AND", "d", "a", "b") == 2
    assert run("GET", "d") == b"\x0f\x00"
    assert type(stored(run, b"d")) is bytearray
    assert run("BITOP", "OR", "d", "a", "b", "missing") == 2
    assert run("GET", "d") == b"\xff\x0f"
    assert run("BITOP", "XOR", "d", "a", "b") == 2
    assert run("GET", "d") == b"\xf0\x0f"
    assert run("BITOP", "NOT", "d", "b") == 1
    assert run("GET", "d") == b"\xf0"


def test_bitop_with_only_empty_sources_deletes_the_destination(run: Runner) -> None:
    run.app.keyspace.dbs[0].set(b"d", ListValue([b"x"]))
    sent = len(run.feed)
    assert run("BITOP", "AND", "d", "missing") == 0
    assert run("EXISTS", "d") == 0
    assert effects(run, sent) == [encode_command([b"BITOP", b"AND", b"d", b"missing"])]
    assert run("BITOP", "AND", "d", "missing") == 0
    assert len(effects(run, sent)) == 1


def test_bitop_errors(run: Runner) -> None:
    run.app.keyspace.dbs[0].set(b"list", ListValue([b"x"]))
    assert run("BITOP", "NOT", "d", "a", "b") == RespError(ERR_BITOP_NOT)
    assert run("BITOP", "NAND", "d", "a") == RespError(ERR_SYNTAX)
    assert run("BITOP", "OR", "d", "missing", "list") == RespError(ERR_WRONGTYPE)


def test_bitop_reports_only_the_destination_as_written(run: Runner) -> None:
    from server.commands.table import COMMANDS

    argv = [b"BITOP", b"OR", b"d", b"a", b"b"]
    assert COMMANDS[b"BITOP"].key_indexes(argv) == [2, 3, 4]
    assert COMMANDS[b"BITOP"].written_key_indexes(argv) == [2]


# --- BITFIELD ---


def test_bitfield_wraps_saturates_and_fails(run: Runner) -> None:
    assert run("BITFIELD", "k", "SET", "i8", "0", "100", "INCRBY", "i8", "0", "100") == [0, -56]
    assert run("BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-100") == [-128]
    assert run("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "-1") == [None]
    assert run("BITFIELD", "k", "GET", "i8", "0", "GET", "u8", "0") == [-128, 128]


def test_bitfield_sat_of_a_huge_negative_signed_set_follows_redis_c_arithmetic(
    run: Runner,
) -> None:
    # Redis computes max - value in 64 bits; it wraps, and the value counts as too large.
    assert run("BITFIELD", "k", "OVERFLOW", "SAT", "SET", "i8", "0", str(I64_MIN)) == [0]
    assert run("BITFIELD", "k", "GET", "i8", "0") == [127]
    assert run("BITFIELD", "k", "OVERFLOW", "SAT", "SET", "u8", "0", "-1") == [127]
    assert run("BITFIELD", "k", "GET", "u8", "0") == [255]


def test_bitfield_hash_offsets_are_multiplied_in_64_bits(run: Runner) -> None:
    run("SET", "k", b"\x01\x02\x03")
    assert run("BITFIELD", "k", "GET", "u8", "#1") == [2]
    assert run("BITFIELD", "k", "GET", "u8", "#2305843009213693953") == [2]  # wraps to 8
    assert run("BITFIELD", "k", "GET", "u8", f"#{I64_MAX}") == RespError(ERR_BIT_OFFSET)


def test_bitfield_under_fail_still_creates_the_string_without_propagating(run: Runner) -> None:
    sent = len(run.feed)
    assert run("BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "u2", "20", "10") == [None]
    assert run("GET", "k") == b"\x00\x00\x00"
    assert effects(run, sent) == []


def test_bitfield_errors(run: Runner) -> None:
    for bad in ["u64", "i65", "i0", "I8", "x8", "i", "i08", ""]:
        assert run("BITFIELD", "k", "GET", bad, "0") == RespError(ERR_BITFIELD_TYPE)
    assert run("BITFIELD", "k", "OVERFLOW", "FOO") == RespError(ERR_BITFIELD_OVERFLOW)
    assert run("BITFIELD", "k", "GET", "u8") == RespError(ERR_SYNTAX)
    assert run("BITFIELD", "k", "SET", "u8", "0", "x") == RespError(ERR_NOT_INTEGER)
    assert run("BITFIELD_RO", "k", "SET", "u8", "0", "1") == RespError(ERR_BITFIELD_RO)
    assert run("BITFIELD_RO", "k", "GET", "u64", "0") == RespError(ERR_BITFIELD_TYPE)
    assert run("EXISTS", "k") == 0


def test_bitfield_read_only_paths_never_create_the_key(run: Runner) -> None:
    assert run("BITFIELD", "k") == []
    assert run("BITFIELD", "k", "GET", "u4", "0") == [0]
    assert run("BITFIELD_RO", "k", "GET", "i64", "100") == [0]
    assert run("EXISTS", "k") == 0


@pytest.mark.parametrize(
    "call",
    [
        ("SETBIT", "list", "0", "1"),
        ("GETBIT", "list", "0"),
        ("BITCOUNT", "list"),
        ("BITPOS", "list", "1"),
        ("BITFIELD", "list", "GET", "u8", "0"),
        ("BITFIELD", "list", "SET", "u8", "0", "1"),
        ("BITFIELD_RO", "list", "GET", "u8", "0"),
    ],
    ids=lambda c: " ".join(c),
)
def test_bitmap_commands_refuse_other_types(run: Runner, call: tuple[str, ...]) -> None:
    run.app.keyspace.dbs[0].set(b"list", ListValue([b"a"]))
    assert run(*call) == RespError(ERR_WRONGTYPE)


# --- a naive bit-array model ---


class BitModel:
    """A string as a list of bits, with Redis's BITFIELD rules written the obvious way."""

    def __init__(self) -> None:
        self.bits: list[int] = []
        self.exists = False

    def grow(self, max_bit: int) -> bool:
        size = (max_bit // 8 + 1) * 8
        created = not self.exists
        self.exists = True
        if len(self.bits) < size:
            self.bits += [0] * (size - len(self.bits))
            return True
        return created

    def read(self, offset: int, bits: int, signed: bool) -> int:
        value = 0
        for i in range(offset, offset + bits):
            value = value * 2 + (self.bits[i] if i < len(self.bits) else 0)
        if signed and value >= 2 ** (bits - 1):
            value -= 2**bits
        return value

    def write(self, offset: int, bits: int, value: int) -> None:
        value %= 2**bits
        for i in range(bits):
            self.bits[offset + i] = (value >> (bits - 1 - i)) & 1

    def setbit(self, offset: int, on: int) -> int:
        self.grow(offset)
        old = self.bits[offset]
        self.bits[offset] = on
        return old

    def getbit(self, offset: int) -> int:
        return self.bits[offset] if offset < len(self.bits) else 0

    def bitfield(self, ops: list[tuple[str, str, int, int, str]]) -> list[int | None]:
        writes = [off + int(t[1:]) - 1 for kind, t, off, _, _ in ops if kind != "GET"]
        if writes:
            self.grow(max(writes))
        out: list[int | None] = []
        for kind, type_, offset, value, mode in ops:
            signed, bits = type_[0] == "i", int(type_[1:])
            low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
            old = self.read(offset, bits, signed)
            if kind == "GET":
                out.append(old)
                continue
            # An unsigned SET takes its value as C's uint64_t.
            target = old + value if kind == "INCRBY" else value if signed else value % 2**64
            if low <= target <= high:
                new = target
            elif mode == "FAIL":
                out.append(None)
                continue
            elif mode == "SAT":
                new = high if target > high else low
            else:
                new = (target - low) % 2**bits + low
            self.write(offset, bits, new)
            out.append(new if kind == "INCRBY" else old)
        return out

    def value(self) -> bytes | None:
        if not self.exists:
            return None
        return bytes(
            int("".join(map(str, self.bits[i : i + 8])), 2) for i in range(0, len(self.bits), 8)
        )


field_types = st.sampled_from(["i", "u"]).flatmap(
    lambda s: st.integers(1, 64 if s == "i" else 63).map(lambda n: f"{s}{n}")
)
field_ops = st.tuples(
    st.sampled_from(["GET", "SET", "INCRBY"]),
    field_types,
    st.integers(0, 90),
    # Values in +-2**62 keep clear of C's 64-bit wraparound quirks, tested separately above.
    st.integers(-(2**62), 2**62) | st.integers(-300, 300),
    st.sampled_from(["WRAP", "SAT", "FAIL"]),
)
commands = st.one_of(
    st.tuples(st.just("SETBIT"), st.integers(0, 100), st.integers(0, 1)),
    st.tuples(st.just("GETBIT"), st.integers(0, 100)),
    st.tuples(st.just("BITFIELD"), st.lists(field_ops, min_size=1, max_size=4)),
)


@functools.cache
def _shared_runner() -> Runner:
    return Runner()  # building an App per example would dominate the test's time


@settings(max_examples=250, deadline=None)
@given(st.lists(commands, max_size=12))
def test_bit_commands_agree_with_a_naive_bit_array(script: list[tuple[Any, ...]]) -> None:
    run = _shared_runner()
    run("DEL", "k")
    model = BitModel()
    for command in script:
        if command[0] == "SETBIT":
            assert run("SETBIT", "k", command[1], command[2]) == model.setbit(*command[1:])
        elif command[0] == "GETBIT":
            assert run("GETBIT", "k", command[1]) == model.getbit(command[1])
        else:
            argv: list[Any] = []
            for kind, type_, offset, value, mode in command[1]:
                argv += ["OVERFLOW", mode, kind, type_, offset]
                if kind != "GET":
                    argv.append(value)
            assert run("BITFIELD", "k", *argv) == model.bitfield(command[1])
        assert run("GET", "k") == model.value()

"""Bitmap commands (Redis group "bitmap"): SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD.

A bitmap is a string; bit 0 is the most significant bit of byte 0. Writes grow the string with
zero bytes and edit it in place as a bytearray (see strings.py).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from protocol.numbers import parse_int
from server.commands.args import int_arg
from server.commands.strings import obeys_blindly, read_string, writable_string
from server.commands.table import Flag, Reply, command
from server.context import CommandContext
from server.errors import (
    ERR_BIT_ARGUMENT,
    ERR_BIT_OFFSET,
    ERR_BIT_VALUE,
    ERR_BITFIELD_OVERFLOW,
    ERR_BITFIELD_RO,
    ERR_BITFIELD_TYPE,
    ERR_BITOP_NOT,
    ERR_SYNTAX,
    CommandError,
)
from storage.errors import WrongTypeError
from storage.strings import (
    OVERFLOW_FAIL,
    OVERFLOW_SAT,
    OVERFLOW_WRAP,
    bit_count,
    bit_op,
    bit_position,
    first_bit,
    get_signed,
    get_unsigned,
    popcount,
    set_bits,
    signed_overflow,
    unsigned_overflow,
)
from storage.values import is_string

_BITMAP = ("bitmap",)
_U64 = (1 << 64) - 1

# --- helpers ---


def _bit_offset(ctx: CommandContext, raw: bytes, bits: int = 0) -> int:
    """getBitOffsetFromArgument: a bit offset, or "#n" meaning n * bits for BITFIELD."""
    by_width = bits > 0 and raw[:1] == b"#"
    offset = parse_int(raw[1:] if by_width else raw)
    if offset is None:
        raise CommandError(ERR_BIT_OFFSET)
    if by_width:
        # C multiplies in 64 bits and wraps; a wrapped negative offset is refused below.
        offset = (offset * bits) & _U64
        if offset >> 63:
            offset -= 1 << 64
    if offset < 0 or (
        offset >> 3 >= ctx.app.config["proto-max-bulk-len"] and not obeys_blindly(ctx)
    ):
        raise CommandError(ERR_BIT_OFFSET)
    return offset


def _bits_for_write(ctx: CommandContext, key: bytes, max_bit: int) -> tuple[bytearray, bool]:
    """lookupStringForBitCommand: the string, created or zero-padded to hold `max_bit`.

    Returns:
        The editable value and whether it was created or grown.
    """
    db = ctx.db
    value = db.get_string(key)
    size = (max_bit >> 3) + 1
    if value is None:
        created = bytearray(size)
        db.set(key, created)
        return created, True
    mutable = writable_string(ctx, key, value)
    if len(mutable) < size:
        mutable += bytes(size - len(mutable))
        return mutable, True
    return mutable, False


def _unit(raw: bytes) -> bool:
    """BIT or BYTE: True when ranges are in bits."""
    unit = raw.upper()
    if unit == b"BIT":
        return True
    if unit == b"BYTE":
        return False
    raise CommandError(ERR_SYNTAX)


# --- single bits ---


@command(
    "SETBIT",
    arity=4,
    flags=Flag.WRITE | Flag.DENYOOM,
    keys=(1, 1, 1),
    acl=_BITMAP,
    group="bitmap",
    since="2.2.0",
)
def setbit_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SETBIT key offset value"""
    offset = _bit_offset(ctx, argv[2])
    on = parse_int(argv[3])
    if on is None or on & ~1:
        raise CommandError(ERR_BIT_VALUE)
    data, grown = _bits_for_write(ctx, argv[1], offset)
    index = offset >> 3
    shift = 7 - (offset & 7)
    old = (data[index] >> shift) & 1
    if grown or old != on:
        data[index] = (data[index] & ~(1 << shift)) | (on << shift)
        ctx.dirty = 1
        ctx.notify("$", b"setbit", argv[1])
    return old


@command(
    "GETBIT",
    arity=3,
    flags=Flag.READONLY | Flag.FAST,
    keys=(1, 1, 1),
    acl=_BITMAP,
    group="bitmap",
    since="2.2.0",
)
def getbit_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """GETBIT key offset"""
    offset = _bit_offset(ctx, argv[2])
    value = read_string(ctx, argv[1])
    if value is None or offset >> 3 >= len(value):
        return 0
    return (value[offset >> 3] >> (7 - (offset & 7))) & 1


# --- counting and searching ---


@command(
    "BITCOUNT",
    arity=-2,
    flags=Flag.READONLY,
    keys=(1, 1, 1),
    acl=_BITMAP,
    group="bitmap",
    since="2.6.0",
)
def bitcount_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """BITCOUNT key [start end [BYTE | BIT]]"""
    # A missing key counts 0 before the arguments are even looked at (bitcountCommand).
    value = read_string(ctx, argv[1])
    if value is None:
        return 0
    argc = len(argv)
    if argc == 2:
        return popcount(value)
    if argc not in (4, 5):
        raise CommandError(ERR_SYNTAX)
    start = int_arg(argv[2])
    end = int_arg(argv[3])
    if start < 0 and end < 0 and start > end:
        return 0
    in_bits = _unit(argv[4]) if argc == 5 else False
    return bit_count(value, start, end, in_bits)


@command(
    "BITPOS",
    arity=-3,
    flags=Flag.READONLY,
    keys=(1, 1, 1),
    acl=_BITMAP,
    group="bitmap",
    since="2.8.7",
)
def bitpos_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """BITPOS key bit [start [end [BYTE | BIT]]]"""
    bit = int_arg(argv[2])
    if bit != 0 and bit != 1:
        raise CommandError(ERR_BIT_ARGUMENT)
    value = read_string(ctx, argv[1])
    if value is None:
        # A missing key is an endless run of zeros.
        return -1 if bit else 0
    argc = len(argv)
    if argc == 3:
        return first_bit(value, bit) if value else -1
    if argc > 6:
        raise CommandError(ERR_SYNTAX)
    start = int_arg(argv[3])
    in_bits = _unit(argv[5]) if argc == 6 else False
    end = int_arg(argv[4]) if argc >= 5 else None
    return bit_position(value, bit, start, end, in_bits)


# --- BITOP ---


@command(
    "BITOP",
    arity=-4,
    flags=Flag.WRITE | Flag.DENYOOM,
    keys=(2, -1, 1),
    write_keys=lambda argv: [2],
    acl=_BITMAP,
    group="bitmap",
    since="2.6.0",
)
def bitop_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """BITOP <AND | OR | XOR | NOT> destkey key [key ...]"""
    op = argv[1].upper()
    if op not in (b"AND", b"OR", b"XOR", b"NOT"):
        raise CommandError(ERR_SYNTAX)
    if op == b"NOT" and len(argv) != 4:
        raise CommandError(ERR_BITOP_NOT)
    db = ctx.db
    sources: list[bytes | bytearray] = []
    for key in argv[3:]:
        value = db.read(key)
        if value is None:
            sources.append(b"")
        elif is_string(value):
            sources.append(value)
        else:
            raise WrongTypeError()
    result = bit_op(op, sources)
    target = argv[2]
    if result:
        # A computed string is a private "raw" one in Redis, never a shared or embedded one.
        db.set(target, bytearray(result))
        ctx.dirty = 1
        ctx.notify("$", b"set", target)
    elif db.delete(target):
        ctx.dirty = 1
        ctx.notify("g", b"del", target)
    return len(result)


# --- BITFIELD ---


class _FieldOp(NamedTuple):
    opcode: bytes  # GET, SET or INCRBY
    signed: bool
    bits: int
    offset: int
    value: int  # the SET value or INCRBY increment
    overflow: int


_OVERFLOW_MODES = {b"WRAP": OVERFLOW_WRAP, b"SAT": OVERFLOW_SAT, b"FAIL": OVERFLOW_FAIL}


def _field_type(raw: bytes) -> tuple[bool, int]:
    """getBitfieldTypeFromArgument: i1..i64 or u1..u63 (lower-case letter only)."""
    sign = raw[:1]
    if sign != b"i" and sign != b"u":
        raise CommandError(ERR_BITFIELD_TYPE)
    signed = sign == b"i"
    bits = parse_int(raw[1:])
    if bits is None or bits < 1 or bits > (64 if signed else 63):
        raise CommandError(ERR_BITFIELD_TYPE)
    return signed, bits


def _parse_field_ops(ctx: CommandContext, argv: list[bytes]) -> tuple[list[_FieldOp], int]:
    """The operations in order, and the highest bit a write reaches (-1 for read-only)."""
    ops: list[_FieldOp] = []
    overflow = OVERFLOW_WRAP
    highest = -1
    i = 2
    n = len(argv)
    while i < n:
        left = n - i - 1
        sub = argv[i].upper()
        if sub == b"OVERFLOW" and left >= 1:
            mode = _OVERFLOW_MODES.get(argv[i + 1].upper())
            if mode is None:
                raise CommandError(ERR_BITFIELD_OVERFLOW)
            overflow = mode
            i += 2
            continue
        if not ((sub == b"GET" and left >= 2) or (sub in (b"SET", b"INCRBY") and left >= 3)):
            raise CommandError(ERR_SYNTAX)
        signed, bits = _field_type(argv[i + 1])
        offset = _bit_offset(ctx, argv[i + 2], bits)
        value = 0
        if sub != b"GET":
            highest = max(highest, offset + bits - 1)
            value = int_arg(argv[i + 3])
        ops.append(_FieldOp(sub, signed, bits, offset, value, overflow))
        i += 3 if sub == b"GET" else 4
    return ops, highest


def _bitfield(ctx: CommandContext, argv: list[bytes], read_only_command: bool) -> Reply:
    ops, highest = _parse_field_ops(ctx, argv)
    key = argv[1]
    grown = False
    data: bytes | bytearray
    if highest < 0:
        value = read_string(ctx, key)
        data = b"" if value is None else value
    else:
        if read_only_command:
            raise CommandError(ERR_BITFIELD_RO)
        # Redis pads the string before running the operations, so even operations that all
        # fail under OVERFLOW FAIL leave it created or grown (without propagating it).
        data, grown = _bits_for_write(ctx, key, highest)
    replies: list[Any] = []
    changes = 0
    for op in ops:
        if op.opcode == b"GET":
            read = get_signed if op.signed else get_unsigned
            replies.append(read(data, op.offset, op.bits))
            continue
        assert isinstance(data, bytearray)
        if op.signed:
            old = get_signed(data, op.offset, op.bits)
            if op.opcode == b"INCRBY":
                direction, limit = signed_overflow(old, op.value, op.bits, op.overflow)
                new = limit if direction else old + op.value
                reply = new
            else:
                direction, limit = signed_overflow(op.value, 0, op.bits, op.overflow)
                new = limit if direction else op.value
                reply = old
        else:
            old = get_unsigned(data, op.offset, op.bits)
            if op.opcode == b"INCRBY":
                direction, limit = unsigned_overflow(old, op.value, op.bits, op.overflow)
                new = limit if direction else (old + op.value) & _U64
                reply = new
            else:
                requested = op.value & _U64
                direction, limit = unsigned_overflow(requested, 0, op.bits, op.overflow)
                new = limit if direction else requested
                reply = old
        if direction and op.overflow == OVERFLOW_FAIL:
            replies.append(None)
            continue
        replies.append(reply)
        set_bits(data, op.offset, op.bits, new)
        if grown or old != new:
            changes += 1
    if changes:
        ctx.dirty = changes
        ctx.notify("$", b"setbit", key)
    return replies


@command(
    "BITFIELD",
    arity=-2,
    flags=Flag.WRITE | Flag.DENYOOM,
    keys=(1, 1, 1),
    acl=_BITMAP,
    group="bitmap",
    since="3.2.0",
)
def bitfield_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """BITFIELD key [GET encoding offset | [OVERFLOW <WRAP | SAT | FAIL>]
    <SET encoding offset value | INCRBY encoding offset increment>
    [GET encoding offset | [OVERFLOW <WRAP | SAT | FAIL>]
    <SET encoding offset value | INCRBY encoding offset increment> ...]]"""
    return _bitfield(ctx, argv, read_only_command=False)


@command(
    "BITFIELD_RO",
    arity=-2,
    flags=Flag.READONLY | Flag.FAST,
    keys=(1, 1, 1),
    acl=_BITMAP,
    group="bitmap",
    since="6.0.0",
)
def bitfield_ro_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """BITFIELD_RO key [GET encoding offset [GET encoding offset ...]]"""
    return _bitfield(ctx, argv, read_only_command=True)

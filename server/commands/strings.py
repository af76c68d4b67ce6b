"""String commands (Redis group "string"). Strings are bytes, or bytearray once edited in place.

Strategy (in-place edits): APPEND, SETRANGE, SETBIT and BITFIELD writes turn a stored bytes
value into a bytearray and then grow it in place, as Redis's dbUnshareStringValue turns a
shared or embedded string into a private "raw" one; the key keeps its TTL. Replies never hand
out a stored bytearray itself: MULTI/EXEC encodes its replies after later commands ran, so a
reply must not change when the value does (`reply_bytes`).
"""

from __future__ import annotations

from typing import Any

from protocol.numbers import (
    INT64_MAX,
    INT64_MIN,
    LONG_DOUBLE_ZERO,
    add_long_doubles,
    format_long_double,
    parse_int,
    parse_long_double,
)
from protocol.resp import OK
from server.commands.args import int_arg
from server.commands.table import Flag, Reply, command
from server.context import CommandContext
from server.errors import (
    ERR_DECR_OVERFLOW,
    ERR_LCS_LEN_AND_IDX,
    ERR_LCS_MEMORY,
    ERR_LCS_TOO_LONG,
    ERR_LCS_WRONGTYPE,
    ERR_NAN_INCR,
    ERR_NOT_FLOAT,
    ERR_NOT_INTEGER,
    ERR_OFFSET_RANGE,
    ERR_OVERFLOW,
    ERR_STRING_TOO_LONG,
    ERR_SYNTAX,
    CommandError,
    err_arity,
    err_invalid_expire,
)
from storage.errors import WrongTypeError
from storage.strings import LcsTable, get_range, set_range
from storage.values import float_result, is_string

_LLONG_MAX = 2**63 - 1
_STRING = ("string",)

# --- shared helpers (bitmaps.py uses them too) ---


def reply_bytes(value: bytes | bytearray) -> bytes:
    """A stored string as a reply: bytes are immutable and go out as they are."""
    return value if type(value) is bytes else bytes(value)


def read_string(ctx: CommandContext, key: bytes) -> bytes | bytearray | None:
    """Redis's lookupKeyRead plus checkType: the string at `key` (counting hits and misses)."""
    value = ctx.db.read(key)
    if value is None or type(value) is bytes or is_string(value):
        return value
    raise WrongTypeError()


def obeys_blindly(ctx: CommandContext) -> bool:
    """Redis's mustObeyClient: the primary's link and the AOF loader skip size limits."""
    return ctx.is_primary_link or ctx.app.loading


def check_string_length(ctx: CommandContext, size: int, append: int) -> None:
    """checkStringLength: refuse a result longer than proto-max-bulk-len."""
    if size + append > ctx.app.config["proto-max-bulk-len"] and not obeys_blindly(ctx):
        raise CommandError(ERR_STRING_TOO_LONG)


def writable_string(ctx: CommandContext, key: bytes, value: bytes | bytearray) -> bytearray:
    """dbUnshareStringValue: the stored value as a bytearray that can be edited in place."""
    if type(value) is bytearray:
        return value
    mutable = bytearray(value)
    ctx.db.set_keep_ttl(key, mutable)
    return mutable


# --- GET / SET and their variants ---


@command(
    "GET", arity=2, flags=Flag.READONLY | Flag.FAST, keys=(1, 1, 1), acl=_STRING, group="string"
)
def get_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """GET key"""
    value = ctx.db.read(argv[1])
    if value is None or type(value) is bytes:
        return value
    if is_string(value):
        return bytes(value)  # a bytearray or EmbstrBytes
    raise WrongTypeError()


# Option bits of parseExtendedStringArgumentsOrReply (t_string.c).
_NX, _XX, _GET, _KEEPTTL, _EX, _PX, _EXAT, _PXAT, _PERSIST = (1 << i for i in range(9))
_EXPIRE_UNITS = {b"EX": _EX, b"PX": _PX, b"EXAT": _EXAT, b"PXAT": _PXAT}


def parse_expire_options(
    argv: list[bytes], start: int, allow_set_options: bool
) -> tuple[int, bytes | None]:
    """Parse SET / GETEX options as Redis does; returns (option bits, raw expire argument)."""
    flags = 0
    expire: bytes | None = None
    i = start
    n = len(argv)
    while i < n:
        opt = argv[i].upper()
        has_next = i + 1 < n
        time_opts = _EX | _PX | _EXAT | _PXAT
        if opt == b"NX" and allow_set_options and not flags & _XX:
            flags |= _NX
        elif opt == b"XX" and allow_set_options and not flags & _NX:
            flags |= _XX
        elif opt == b"GET" and allow_set_options:
            flags |= _GET
        elif opt == b"KEEPTTL" and allow_set_options and not flags & (_PERSIST | time_opts):
            flags |= _KEEPTTL
        elif opt == b"PERSIST" and not allow_set_options and not flags & time_opts:
            flags |= _PERSIST
        elif (
            opt in _EXPIRE_UNITS
            and has_next
            and not flags & (_KEEPTTL | _PERSIST | (time_opts & ~_EXPIRE_UNITS[opt]))
        ):
            flags |= _EXPIRE_UNITS[opt]
            expire = argv[i + 1]
            i += 1
        else:
            raise CommandError(ERR_SYNTAX)
        i += 1
    return flags, expire


def expire_at_ms(ctx: CommandContext, raw: bytes, flags: int, command: str) -> int:
    """getExpireMillisecondsOrReply: the absolute deadline in unix ms, validated."""
    value = int_arg(raw)
    seconds = bool(flags & (_EX | _EXAT))
    if value <= 0 or (seconds and value > _LLONG_MAX // 1000):
        raise CommandError(err_invalid_expire(command))
    if seconds:
        value *= 1000
    if flags & (_EX | _PX):
        value += ctx.app.keyspace.clock.now_ms()
    if value <= 0 or value > _LLONG_MAX:
        raise CommandError(err_invalid_expire(command))
    return value


@command(
    "SET",
    arity=-3,
    flags=Flag.WRITE | Flag.DENYOOM,
    keys=(1, 1, 1),
    acl=_STRING,
    group="string",
)
def set_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds |
    PXAT unix-time-milliseconds | KEEPTTL]"""
    if len(argv) == 3:
        ctx.db.set(argv[1], argv[2])
        ctx.dirty = 1
        if ctx.app.notify_classes:
            ctx.notify("$", b"set", argv[1])
        return OK
    flags, raw_expire = parse_expire_options(argv, 3, True)
    deadline = expire_at_ms(ctx, raw_expire, flags, "set") if raw_expire is not None else None
    db = ctx.db
    key = argv[1]
    reply: Reply = OK
    if flags & _GET:
        old = read_string(ctx, key)
        reply = None if old is None else reply_bytes(old)
        found = old is not None
    else:
        found = db.exists(key)
    if (flags & _NX and found) or (flags & _XX and not found):
        return reply if flags & _GET else None
    if flags & _KEEPTTL:
        db.set_keep_ttl(key, argv[2])
    else:
        db.set(key, argv[2], deadline)
    ctx.dirty = 1
    ctx.notify("$", b"set", key)
    if deadline is not None:
        ctx.notify("g", b"expire", key)
        # Redis propagates SET .. EX as PXAT so the AOF replays the same deadline (t_string.c).
        ctx.propagate([b"SET", key, argv[2], b"PXAT", str(deadline).encode()])
    elif flags & _GET:
        ctx.propagate([a for j, a in enumerate(argv) if j < 3 or a.upper() != b"GET"])
    return reply


@command(
    "SETNX",
    arity=3,
    flags=Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    keys=(1, 1, 1),
    acl=_STRING,
    group="string",
)
def setnx_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SETNX key value"""
    db = ctx.db
    if db.exists(argv[1]):
        return 0
    db.set(argv[1], argv[2])
    ctx.dirty = 1
    ctx.notify("$", b"set", argv[1])
    return 1


def _set_with_expire(ctx: CommandContext, argv: list[bytes], unit: int, name: str) -> Reply:
    """SETEX / PSETEX key ttl value: SET with a relative deadline, propagated as PXAT."""
    key, value = argv[1], argv[3]
    deadline = expire_at_ms(ctx, argv[2], unit, name)
    ctx.db.set(key, value, deadline)
    ctx.dirty = 1
    ctx.notify("$", b"set", key)
    ctx.notify("g", b"expire", key)
    ctx.propagate([b"SET", key, value, b"PXAT", str(deadline).encode()])
    return OK


@command(
    "SETEX",
    arity=4,
    flags=Flag.WRITE | Flag.DENYOOM,
    keys=(1, 1, 1),
    acl=_STRING,
    group="string",
    since="2.0.0",
)
def setex_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SETEX key seconds value"""
    return _set_with_expire(ctx, argv, _EX, "setex")


@command(
    "PSETEX",
    arity=4,
    flags=Flag.WRITE | Flag.DENYOOM,
    keys=(1, 1, 1),
    acl=_STRING,
    group="string",
    since="2.6.0",
)
def psetex_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """PSETEX key milliseconds value"""
    return _set_with_expire(ctx, argv, _PX, "psetex")


@command(
    "GETSET",
    arity=3,
    flags=Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    keys=(1, 1, 1),
    acl=_STRING,
    group="string",
)
def getset_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """GETSET key value"""
    key = argv[1]
    old = read_string(ctx, key)
    ctx.db.set(key, argv[2])  # drops any TTL, as setKey does
    ctx.dirty = 1
    ctx.notify("$", b"set", key)
    ctx.propagate([b"SET", key, argv[2]])
    return None if old is None else reply_bytes(old)


@command(
    "GETDEL",
    arity=2,
    flags=Flag.WRITE | Flag.FAST,
    keys=(1, 1, 1),
    acl=_STRING,
    group="string",
    since="6.2.0",
)
def getdel_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """GETDEL key"""
    key = argv[1]
    value = read_string(ctx, key)
    if value is None:
        return None
    ctx.db.delete(key)
    ctx.dirty = 1
    lazy = ctx.app.config["lazyfree-lazy-user-del"]
    ctx.propagate([b"UNLINK" if lazy else b"DEL", key])
    ctx.notify("g", b"del", key)
    return reply_bytes(value)


@command(
    "GETEX",
    arity=-2,
    flags=Flag.WRITE | Flag.FAST,
    keys=(1, 1, 1),
    acl=_STRING,
    group="string",
    since="6.2.0",
)
def getex_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
    PXAT unix-time-milliseconds | PERSIST]"""
    flags, raw_expire = parse_expire_options(argv, 2, False)
    key = argv[1]
    value = read_string(ctx, key)
    if value is None:
        return None
    reply = reply_bytes(value)
    db = ctx.db
    app = ctx.app
    if raw_expire is not None:
        deadline = expire_at_ms(ctx, raw_expire, flags, "getex")
        # GETEX is never propagated as itself: as DEL, PEXPIREAT or PERSIST (t_string.c).
        if (
            flags & (_EXAT | _PXAT)
            and deadline <= app.keyspace.clock.now_ms()
            and not app.loading
            and not app.is_replica
        ):
            db.delete(key)
            lazy = app.config["lazyfree-lazy-expire"]
            ctx.propagate([b"UNLINK" if lazy else b"DEL", key])
            ctx.notify("g", b"del", key)
        else:
            db.set_expire(key, deadline)
            ctx.propagate([b"PEXPIREAT", key, str(deadline).encode()])
            ctx.notify("g", b"expire", key)
        ctx.dirty = 1
    elif flags & _PERSIST and db.persist(key):
        ctx.propagate([b"PERSIST", key])
        ctx.notify("g", b"persist", key)
        ctx.dirty = 1
    return reply


# --- several keys ---


@command(
    "MGET", arity=-2, flags=Flag.READONLY | Flag.FAST, keys=(1, -1, 1), acl=_STRING, group="string"
)
def mget_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """MGET key [key ...]"""
    read = ctx.db.read
    out: list[Any] = []
    for key in argv[1:]:
        value = read(key)
        if type(value) is bytes:
            out.append(value)
        elif is_string(value):
            out.append(bytes(value))
        else:
            out.append(None)  # missing, or not a string: MGET never fails
    return out


def _check_pairs(argv: list[bytes], name: str) -> None:
    if len(argv) % 2 == 0:
        raise CommandError(err_arity(name))


@command(
    "MSET",
    arity=-3,
    flags=Flag.WRITE | Flag.DENYOOM,
    keys=(1, -1, 2),
    acl=_STRING,
    group="string",
    since="1.0.1",
)
def mset_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """MSET key value [key value ...]"""
    _check_pairs(argv, "mset")
    db = ctx.db
    if ctx.app.notify_classes:
        for i in range(1, len(argv), 2):  # each key's "new" event before its "set", as Redis
            db.set(argv[i], argv[i + 1])
            ctx.notify("$", b"set", argv[i])
    else:
        db.set_many(argv[1::2], argv[2::2])
    ctx.dirty = len(argv) // 2
    return OK


@command(
    "MSETNX",
    arity=-3,
    flags=Flag.WRITE | Flag.DENYOOM,
    keys=(1, -1, 2),
    acl=_STRING,
    group="string",
    since="1.0.1",
)
def msetnx_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """MSETNX key value [key value ...]"""
    _check_pairs(argv, "msetnx")
    db = ctx.db
    if any(db.exists(argv[i]) for i in range(1, len(argv), 2)):
        return 0
    for i in range(1, len(argv), 2):
        db.set(argv[i], argv[i + 1])
        ctx.notify("$", b"set", argv[i])
    ctx.dirty = len(argv) // 2
    return 1


# --- editing in place ---


@command(
    "APPEND",
    arity=3,
    flags=Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    keys=(1, 1, 1),
    acl=_STRING,
    group="string",
    since="2.0.0",
)
def append_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """APPEND key value"""
    key, data = argv[1], argv[2]
    value = ctx.db.get_string(key)
    if value is None:
        # A new key holds the argument itself, as Redis stores the argument object.
        ctx.db.set(key, data)
        total = len(data)
    else:
        check_string_length(ctx, len(value), len(data))
        mutable = writable_string(ctx, key, value)
        mutable += data
        total = len(mutable)
    ctx.dirty = 1
    ctx.notify("$", b"append", key)
    return total


@command(
    "STRLEN",
    arity=2,
    flags=Flag.READONLY | Flag.FAST,
    keys=(1, 1, 1),
    acl=_STRING,
    group="string",
    since="2.2.0",
)
def strlen_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """STRLEN key"""
    value = read_string(ctx, argv[1])
    return 0 if value is None else len(value)


@command(
    "SETRANGE",
    arity=4,
    flags=Flag.WRITE | Flag.DENYOOM,
    keys=(1, 1, 1),
    acl=_STRING,
    group="string",
    since="2.2.0",
)
def setrange_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SETRANGE key offset value"""
    key, data = argv[1], argv[3]
    offset = int_arg(argv[2])
    if offset < 0:
        raise CommandError(ERR_OFFSET_RANGE)
    db = ctx.db
    value = db.get_string(key)
    if value is None:
        if not data:
            return 0  # setting nothing on a missing key creates nothing
        check_string_length(ctx, offset, len(data))
        mutable = bytearray(offset)
        mutable += data
        db.set(key, mutable)
    else:
        if not data:
            return len(value)
        check_string_length(ctx, offset, len(data))
        mutable = writable_string(ctx, key, value)
        set_range(mutable, offset, data)
    ctx.dirty = 1
    ctx.notify("$", b"setrange", key)
    return len(mutable)


def _getrange(ctx: CommandContext, argv: list[bytes]) -> Reply:
    start = int_arg(argv[2])
    end = int_arg(argv[3])
    value = read_string(ctx, argv[1])
    return b"" if value is None else get_range(value, start, end)


@command(
    "GETRANGE",
    arity=4,
    flags=Flag.READONLY,
    keys=(1, 1, 1),
    acl=_STRING,
    group="string",
    since="2.4.0",
)
def getrange_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """GETRANGE key start end"""
    return _getrange(ctx, argv)


@command("SUBSTR", arity=4, flags=Flag.READONLY, keys=(1, 1, 1), acl=_STRING, group="string")
def substr_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SUBSTR key start end"""
    return _getrange(ctx, argv)


# --- counters ---


def _incr(ctx: CommandContext, key: bytes, delta: int) -> int:
    """incrDecrCommand: add `delta` to the integer at `key`, keeping its TTL."""
    db = ctx.db
    value = db.get(key)
    if value is None:
        current = 0
    elif type(value) is bytes and value.isdigit() and len(value) < 19 and value[0] != 48:
        current = int(value)  # the common counter: string2ll's answer without its checks
    elif is_string(value):
        parsed = parse_int(value)
        if parsed is None:
            raise CommandError(ERR_NOT_INTEGER)
        current = parsed
    else:
        raise WrongTypeError()
    result = current + delta
    if result > INT64_MAX or result < INT64_MIN:
        raise CommandError(ERR_OVERFLOW)
    if value is None:
        db.set(key, b"%d" % result)
    else:
        db.set_keep_ttl(key, b"%d" % result)
    ctx.dirty = 1
    if ctx.app.notify_classes:
        ctx.notify("$", b"incrby", key)
    return result


_COUNTER = Flag.WRITE | Flag.DENYOOM | Flag.FAST


@command("INCR", arity=2, flags=_COUNTER, keys=(1, 1, 1), acl=_STRING, group="string")
def incr_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """INCR key"""
    return _incr(ctx, argv[1], 1)


@command("DECR", arity=2, flags=_COUNTER, keys=(1, 1, 1), acl=_STRING, group="string")
def decr_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """DECR key"""
    return _incr(ctx, argv[1], -1)


@command("INCRBY", arity=3, flags=_COUNTER, keys=(1, 1, 1), acl=_STRING, group="string")
def incrby_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """INCRBY key increment"""
    return _incr(ctx, argv[1], int_arg(argv[2]))


@command("DECRBY", arity=3, flags=_COUNTER, keys=(1, 1, 1), acl=_STRING, group="string")
def decrby_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """DECRBY key decrement"""
    delta = int_arg(argv[2])
    if delta == INT64_MIN:
        raise CommandError(ERR_DECR_OVERFLOW)  # its negation does not fit in 64 bits
    return _incr(ctx, argv[1], -delta)


@command(
    "INCRBYFLOAT",
    arity=3,
    flags=_COUNTER,
    keys=(1, 1, 1),
    acl=_STRING,
    group="string",
    since="2.6.0",
)
def incrbyfloat_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """INCRBYFLOAT key increment"""
    db = ctx.db
    key = argv[1]
    value = db.get_string(key)
    current = LONG_DOUBLE_ZERO if value is None else parse_long_double(value)
    if current is None:
        raise CommandError(ERR_NOT_FLOAT)
    incr = parse_long_double(argv[2])
    if incr is None:
        raise CommandError(ERR_NOT_FLOAT)
    total = add_long_doubles(current, incr)
    if total is None:
        raise CommandError(ERR_NAN_INCR)
    text = format_long_double(total)
    # Stored as Redis makes it: "embstr" even when the text reads as an integer.
    stored = float_result(text)
    if value is None:
        db.set(key, stored)
    else:
        db.set_keep_ttl(key, stored)
    ctx.dirty = 1
    ctx.notify("$", b"incrbyfloat", key)
    # The exact result travels, so float formatting can never make a replica differ.
    ctx.propagate([b"SET", key, text, b"KEEPTTL"])
    return text


# --- LCS ---


@command(
    "LCS",
    arity=-3,
    flags=Flag.READONLY,
    keys=(1, 2, 1),
    acl=_STRING,
    group="string",
    since="7.0.0",
)
def lcs_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]"""
    db = ctx.db
    first = db.read(argv[1])
    second = db.read(argv[2])
    if (first is not None and not is_string(first)) or (
        second is not None and not is_string(second)
    ):
        raise CommandError(ERR_LCS_WRONGTYPE)
    a: bytes | bytearray = b"" if first is None else first
    b: bytes | bytearray = b"" if second is None else second
    want_len = want_idx = with_len = False
    min_len = 0
    i = 3
    while i < len(argv):
        opt = argv[i].upper()
        if opt == b"IDX":
            want_idx = True
        elif opt == b"LEN":
            want_len = True
        elif opt == b"WITHMATCHLEN":
            with_len = True
        elif opt == b"MINMATCHLEN" and i + 1 < len(argv):
            min_len = max(int_arg(argv[i + 1]), 0)
            i += 1
        else:
            raise CommandError(ERR_SYNTAX)
        i += 1
    if want_len and want_idx:
        raise CommandError(ERR_LCS_LEN_AND_IDX)
    if len(a) >= 2**32 - 1 or len(b) >= 2**32 - 1:
        raise CommandError(ERR_LCS_TOO_LONG)
    # Redis refuses when its table of 32-bit lengths would outgrow proto-max-bulk-len; we
    # need far less memory, but answer the same.
    if (len(a) + 1) * (len(b) + 1) * 4 > ctx.app.config["proto-max-bulk-len"]:
        raise CommandError(ERR_LCS_MEMORY)
    walk = want_idx or not want_len
    table = LcsTable(a, b, keep_rows=walk)
    if not walk:
        return table.length
    common, ranges = table.matches()
    if not want_idx:
        return common
    matches: list[Any] = []
    for a_start, a_end, b_start, b_end in ranges:
        size = a_end - a_start + 1
        if min_len == 0 or size >= min_len:
            match: list[Any] = [[a_start, a_end], [b_start, b_end]]
            if with_len:
                match.append(size)
            matches.append(match)
    return {b"matches": matches, b"len": table.length}

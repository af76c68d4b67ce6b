"""Hash commands (Redis group "hash"), as t_hash.c implements them in Redis 7.0.

A hash is a storage.hashes.HashValue (a dict). Writes keep its OBJECT ENCODING honest by
calling `note_write` while it is still a listpack; a big hash pays nothing for that.
"""

from __future__ import annotations

import random
from fractions import Fraction
from itertools import islice
from typing import Final

from protocol.numbers import (
    LongDouble,
    add_long_doubles,
    format_long_double,
    parse_int,
    parse_long_double,
)
from protocol.resp import OK
from server.commands.args import int_arg
from server.commands.container_scan import EMPTY_SCAN, scan_cursor, scan_options
from server.commands.table import Flag, Reply, command
from server.context import CommandContext
from server.errors import (
    ERR_HASH_NOT_FLOAT,
    ERR_HASH_NOT_INTEGER,
    ERR_NAN_INCR,
    ERR_NAN_OR_INFINITY,
    ERR_NOT_FLOAT,
    ERR_OUT_OF_RANGE,
    ERR_OUT_OF_RANGE_LONG,
    ERR_OVERFLOW,
    ERR_SYNTAX,
    CommandError,
    err_arity,
)
from storage.errors import WrongTypeError
from storage.hashes import HashValue
from storage.keyspace import Database
from storage.scan import scan_members

_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_LONG_MAX: Final = _INT64_MAX
_WRITE: Final = Flag.WRITE | Flag.DENYOOM | Flag.FAST
_READ_FAST: Final = Flag.READONLY | Flag.FAST
_MISSING: Final = object()


def _hash(db: Database, key: bytes) -> HashValue | None:
    """lookupKeyWrite + checkType: the hash at `key`, or None."""
    value = db.get(key)
    if value is None or type(value) is HashValue:
        return value
    raise WrongTypeError()


def _read_hash(db: Database, key: bytes) -> HashValue | None:
    """lookupKeyRead + checkType (counts keyspace hits and misses)."""
    value = db.read(key)
    if value is None or type(value) is HashValue:
        return value
    raise WrongTypeError()


def _create(ctx: CommandContext, key: bytes) -> HashValue:
    """hashTypeLookupWriteOrCreate's creation: an empty hash, and dbAdd's "new" event."""
    value = HashValue()
    ctx.db.set(key, value)  # the "new" event comes from Database.set (dbAdd)
    return value


def _note_write(ctx: CommandContext, h: HashValue, field: bytes, value: bytes) -> None:
    app = ctx.app
    h.note_write(field, value, app.hash_max_listpack_entries, app.hash_max_listpack_value)


def _random_field(h: HashValue) -> bytes:
    """A uniformly random field. O(n) for big hashes: a dict has no random access."""
    return next(islice(h, random.randrange(len(h)), None))


# --- long double arithmetic (HINCRBYFLOAT) ---


def _parse_increment(raw: bytes) -> LongDouble:
    """getLongDoubleFromObjectOrReply, then HINCRBYFLOAT's own NaN / infinity check."""
    value = parse_long_double(raw)
    if value is None:
        raise CommandError(ERR_NOT_FLOAT)
    if isinstance(value, float):  # only infinities are floats
        raise CommandError(ERR_NAN_OR_INFINITY)
    return value


def _add_long_double(stored: bytes | None, increment: LongDouble) -> bytes:
    """The stored value plus the increment in long double, printed as Redis prints it."""
    current: LongDouble = Fraction(0)
    if stored is not None:
        parsed = parse_long_double(stored)
        if parsed is None:
            raise CommandError(ERR_HASH_NOT_FLOAT)
        current = parsed
    total = add_long_doubles(current, increment)
    if total is None:
        raise CommandError(ERR_NAN_INCR)
    return format_long_double(total)


# --- writes ---


@command("HSET", arity=-4, flags=_WRITE, keys=(1, 1, 1), acl=("hash",), group="hash", since="2.0.0")
def hset_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """HSET key field value [field value ...]"""
    return _hset(ctx, argv, "hset")


@command(
    "HMSET", arity=-4, flags=_WRITE, keys=(1, 1, 1), acl=("hash",), group="hash", since="2.0.0"
)
def hmset_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """HMSET key field value [field value ...]"""
    _hset(ctx, argv, "hmset")
    return OK


def _hset(ctx: CommandContext, argv: list[bytes], name: str) -> int:
    n = len(argv)
    if n & 1:
        raise CommandError(err_arity(name))
    db = ctx.db
    key = argv[1]
    h = db.get(key)
    if h is None:
        h = _create(ctx, key)
    elif type(h) is not HashValue:
        raise WrongTypeError()
    before = len(h)
    if n == 4:
        h[argv[2]] = argv[3]
        if not h.big:
            _note_write(ctx, h, argv[2], argv[3])
    else:
        for i in range(2, n, 2):
            h[argv[i]] = argv[i + 1]
        if not h.big:
            app = ctx.app
            h.note_writes(
                islice(argv, 2, None), app.hash_max_listpack_entries, app.hash_max_listpack_value
            )
    ctx.dirty += (n - 2) >> 1
    if ctx.app.notify_classes:
        ctx.notify("h", b"hset", key)
    return len(h) - before


@command(
    "HSETNX", arity=4, flags=_WRITE, keys=(1, 1, 1), acl=("hash",), group="hash", since="2.0.0"
)
def hsetnx_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """HSETNX key field value"""
    db = ctx.db
    key, field = argv[1], argv[2]
    h = _hash(db, key)
    if h is None:
        h = _create(ctx, key)
    elif field in h:
        return 0
    h[field] = argv[3]
    if not h.big:
        _note_write(ctx, h, field, argv[3])
    ctx.dirty += 1
    ctx.notify("h", b"hset", key)
    return 1


@command(
    "HINCRBY", arity=4, flags=_WRITE, keys=(1, 1, 1), acl=("hash",), group="hash", since="2.0.0"
)
def hincrby_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """HINCRBY key field increment"""
    increment = int_arg(argv[3])
    db = ctx.db
    key, field = argv[1], argv[2]
    h = _hash(db, key)
    value = 0
    if h is not None:
        stored = h.get(field)
        if stored is not None:
            parsed = parse_int(stored)
            if parsed is None:
                raise CommandError(ERR_HASH_NOT_INTEGER)
            value = parsed
    value += increment
    if value < _INT64_MIN or value > _INT64_MAX:
        raise CommandError(ERR_OVERFLOW)
    if h is None:
        h = _create(ctx, key)
    text = b"%d" % value
    h[field] = text
    if not h.big:
        _note_write(ctx, h, field, text)
    ctx.dirty += 1
    ctx.notify("h", b"hincrby", key)
    return value


@command(
    "HINCRBYFLOAT",
    arity=4,
    flags=_WRITE,
    keys=(1, 1, 1),
    acl=("hash",),
    group="hash",
    since="2.6.0",
)
def hincrbyfloat_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """HINCRBYFLOAT key field increment"""
    increment = _parse_increment(argv[3])
    db = ctx.db
    key, field = argv[1], argv[2]
    h = _hash(db, key)
    text = _add_long_double(h.get(field) if h is not None else None, increment)
    if h is None:
        h = _create(ctx, key)
    h[field] = text
    if not h.big:
        _note_write(ctx, h, field, text)
    ctx.dirty += 1
    ctx.notify("h", b"hincrbyfloat", key)
    # Redis replicates the result, never the increment, so replicas and the AOF agree
    # whatever their float formatting (t_hash.c).
    ctx.propagate([b"HSET", key, field, text])
    return text


@command(
    "HDEL",
    arity=-3,
    flags=Flag.WRITE | Flag.FAST,
    keys=(1, 1, 1),
    acl=("hash",),
    group="hash",
    since="2.0.0",
)
def hdel_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """HDEL key field [field ...]"""
    db = ctx.db
    key = argv[1]
    h = _hash(db, key)
    if h is None:
        return 0
    deleted = 0
    emptied = False
    for field in islice(argv, 2, None):
        if h.pop(field, _MISSING) is not _MISSING:
            deleted += 1
            if not h:
                db.delete(key)
                emptied = True
                break
    if deleted:
        ctx.dirty += deleted
        ctx.notify("h", b"hdel", key)
        if emptied:
            ctx.notify("g", b"del", key)
    return deleted


# --- reads ---


@command(
    "HGET", arity=3, flags=_READ_FAST, keys=(1, 1, 1), acl=("hash",), group="hash", since="2.0.0"
)
def hget_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """HGET key field"""
    h = ctx.db.read(argv[1])
    if h is None:
        return None
    if type(h) is not HashValue:
        raise WrongTypeError()
    return h.get(argv[2])


@command(
    "HMGET", arity=-3, flags=_READ_FAST, keys=(1, 1, 1), acl=("hash",), group="hash", since="2.0.0"
)
def hmget_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """HMGET key field [field ...]"""
    h = _read_hash(ctx.db, argv[1])
    if h is None:
        return [None] * (len(argv) - 2)
    get = h.get
    return [get(field) for field in islice(argv, 2, None)]


@command(
    "HLEN", arity=2, flags=_READ_FAST, keys=(1, 1, 1), acl=("hash",), group="hash", since="2.0.0"
)
def hlen_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """HLEN key"""
    h = _read_hash(ctx.db, argv[1])
    return 0 if h is None else len(h)


@command(
    "HSTRLEN", arity=3, flags=_READ_FAST, keys=(1, 1, 1), acl=("hash",), group="hash", since="3.2.0"
)
def hstrlen_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """HSTRLEN key field"""
    h = _read_hash(ctx.db, argv[1])
    return 0 if h is None else len(h.get(argv[2], b""))


@command(
    "HEXISTS", arity=3, flags=_READ_FAST, keys=(1, 1, 1), acl=("hash",), group="hash", since="2.0.0"
)
def hexists_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """HEXISTS key field"""
    h = _read_hash(ctx.db, argv[1])
    return 1 if h is not None and argv[2] in h else 0


@command(
    "HKEYS",
    arity=2,
    flags=Flag.READONLY,
    keys=(1, 1, 1),
    acl=("hash",),
    group="hash",
    since="2.0.0",
)
def hkeys_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """HKEYS key"""
    h = _read_hash(ctx.db, argv[1])
    return [] if h is None else list(h)


@command(
    "HVALS",
    arity=2,
    flags=Flag.READONLY,
    keys=(1, 1, 1),
    acl=("hash",),
    group="hash",
    since="2.0.0",
)
def hvals_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """HVALS key"""
    h = _read_hash(ctx.db, argv[1])
    return [] if h is None else list(h.values())


@command(
    "HGETALL",
    arity=2,
    flags=Flag.READONLY,
    keys=(1, 1, 1),
    acl=("hash",),
    group="hash",
    since="2.0.0",
)
def hgetall_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """HGETALL key"""
    h = _read_hash(ctx.db, argv[1])
    # A plain dict is a RESP3 map and a flat RESP2 array.
    return {} if h is None else dict(h)


@command(
    "HRANDFIELD",
    arity=-2,
    flags=Flag.READONLY,
    keys=(1, 1, 1),
    acl=("hash",),
    group="hash",
    since="6.2.0",
)
def hrandfield_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """HRANDFIELD key [count [WITHVALUES]]"""
    if len(argv) == 2:
        h = _read_hash(ctx.db, argv[1])
        return None if h is None else _random_field(h)
    count = int_arg(argv[2])
    if count < -_LONG_MAX:
        raise CommandError(ERR_OUT_OF_RANGE_LONG)
    withvalues = False
    if len(argv) > 4 or (len(argv) == 4 and argv[3].upper() != b"WITHVALUES"):
        raise CommandError(ERR_SYNTAX)
    if len(argv) == 4:
        withvalues = True
        if count < -(_LONG_MAX // 2) or count > _LONG_MAX // 2:
            raise CommandError(ERR_OUT_OF_RANGE)
    h = _read_hash(ctx.db, argv[1])
    if h is None or count == 0:
        return []
    if count < 0 or count == 1:
        # Independent draws: repeats allowed, any order (CASE 1 of hrandfieldWithCountCommand).
        fields = random.choices(list(h), k=-count) if count < 0 else [_random_field(h)]
    elif count >= len(h):
        fields = list(h)  # the whole hash, in its own order
    else:
        fields = random.sample(list(h), count)
    if not withvalues:
        return fields
    if ctx.resp3:
        return [[f, h[f]] for f in fields]
    flat: list[bytes] = []
    for f in fields:
        flat.append(f)
        flat.append(h[f])
    return flat


@command(
    "HSCAN",
    arity=-3,
    flags=Flag.READONLY,
    keys=(1, 1, 1),
    acl=("hash",),
    group="hash",
    since="2.8.0",
)
def hscan_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """HSCAN key cursor [MATCH pattern] [COUNT count]"""
    cursor = scan_cursor(argv[2])
    h = _read_hash(ctx.db, argv[1])
    if h is None:
        return EMPTY_SCAN
    count, matcher = scan_options(argv, 3)
    if h.big:
        cursor, fields = scan_members(h, cursor, count)
    else:
        # A listpack hash is small: Redis returns all of it at once and ends the iteration.
        cursor, fields = 0, list(h)
    flat: list[bytes] = []
    for f in fields:
        if matcher is None or matcher(f):
            flat.append(f)
            flat.append(h[f])
    return [b"%d" % cursor, flat]

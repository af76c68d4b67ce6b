"""Expiry commands (Redis's expire.c): EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL,
EXPIRETIME, PEXPIRETIME and PERSIST.

Strategy (propagation): a deadline always reaches the write stream as
`PEXPIREAT key <unix ms> [flags]`, so the AOF and replicas apply the same instant. A deadline
that has already passed deletes the key at once and is propagated as DEL (UNLINK with
lazyfree-lazy-expire), except while loading or on a replica, which store the past deadline
and wait for the primary's DEL, as checkAlreadyExpired decides.
"""

from __future__ import annotations

from typing import Final

from server.commands.args import int_arg
from server.commands.keys import lookup_read
from server.commands.table import Flag, Reply, command
from server.context import CommandContext
from server.errors import (
    ERR_EXPIRE_GT_AND_LT,
    ERR_EXPIRE_NX_AND_OTHERS,
    CommandError,
    err_invalid_expire,
    err_unsupported_option,
)

_LLONG_MAX: Final = 2**63 - 1
# C's LLONG_MAX / 1000 and LLONG_MIN / 1000 (division truncates toward zero).
_SECONDS_MAX: Final = _LLONG_MAX // 1000
_SECONDS_MIN: Final = -_SECONDS_MAX

_NX: Final = 1
_XX: Final = 2
_GT: Final = 4
_LT: Final = 8
_FLAG_BITS: Final = {b"NX": _NX, b"XX": _XX, b"GT": _GT, b"LT": _LT}


def _expire(
    ctx: CommandContext, argv: list[bytes], name: str, relative: bool, seconds: bool
) -> Reply:
    """expireGenericCommand: options, then the time, then the key."""
    flags = 0
    for i in range(3, len(argv)):
        bit = _FLAG_BITS.get(argv[i].upper())
        if bit is None:
            raise CommandError(err_unsupported_option(argv[i]))
        flags |= bit
    if flags & _NX and flags & (_XX | _GT | _LT):
        raise CommandError(ERR_EXPIRE_NX_AND_OTHERS)
    if flags & _GT and flags & _LT:
        raise CommandError(ERR_EXPIRE_GT_AND_LT)

    when = int_arg(argv[2])
    if seconds:
        if when > _SECONDS_MAX or when < _SECONDS_MIN:
            raise CommandError(err_invalid_expire(name))
        when *= 1000
    app = ctx.app
    now = app.keyspace.clock.now_ms()
    if relative:
        if when > _LLONG_MAX - now:
            raise CommandError(err_invalid_expire(name))
        when += now

    db = ctx.db
    key = argv[1]
    if db.get(key) is None:
        return 0
    if flags:
        current = db.get_expire(key)
        if flags & _NX and current is not None:
            return 0
        if flags & _XX and current is None:
            return 0
        # A key without a deadline lives forever: GT never beats it, LT always does.
        if flags & _GT and (current is None or when <= current):
            return 0
        if flags & _LT and current is not None and when >= current:
            return 0

    if when <= now and not app.loading and not app.is_replica:
        db.pop(key)
        ctx.dirty += 1
        lazy = app.config["lazyfree-lazy-expire"]
        ctx.propagate([b"UNLINK" if lazy else b"DEL", key])
        ctx.notify("g", b"del", key)
        return 1

    db.set_expire(key, when)
    if relative or seconds:
        ctx.propagate([b"PEXPIREAT", key, b"%d" % when, *argv[3:]])
    ctx.notify("g", b"expire", key)
    ctx.dirty += 1
    return 1


_EXPIRE_FLAGS: Final = Flag.WRITE | Flag.FAST


@command("EXPIRE", arity=-3, flags=_EXPIRE_FLAGS, keys=(1, 1, 1), acl=("keyspace",))
def expire_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """EXPIRE key seconds [NX | XX | GT | LT]"""
    return _expire(ctx, argv, "expire", relative=True, seconds=True)


@command("PEXPIRE", arity=-3, flags=_EXPIRE_FLAGS, keys=(1, 1, 1), acl=("keyspace",), since="2.6.0")
def pexpire_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """PEXPIRE key milliseconds [NX | XX | GT | LT]"""
    return _expire(ctx, argv, "pexpire", relative=True, seconds=False)


@command(
    "EXPIREAT", arity=-3, flags=_EXPIRE_FLAGS, keys=(1, 1, 1), acl=("keyspace",), since="1.2.0"
)
def expireat_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """EXPIREAT key unix-time-seconds [NX | XX | GT | LT]"""
    return _expire(ctx, argv, "expireat", relative=False, seconds=True)


@command(
    "PEXPIREAT", arity=-3, flags=_EXPIRE_FLAGS, keys=(1, 1, 1), acl=("keyspace",), since="2.6.0"
)
def pexpireat_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]"""
    return _expire(ctx, argv, "pexpireat", relative=False, seconds=False)


# --- reading and removing deadlines ---


def _ttl(ctx: CommandContext, key: bytes, ms: bool, absolute: bool) -> int:
    """ttlGenericCommand: -2 for a missing key, -1 without a deadline."""
    if lookup_read(ctx, key) is None:
        return -2
    deadline = ctx.db.get_expire(key)
    if deadline is None:
        return -1
    ttl = deadline if absolute else deadline - ctx.app.keyspace.clock.now_ms()
    if ttl < 0:
        ttl = 0
    return ttl if ms else (ttl + 500) // 1000


_TTL_FLAGS: Final = Flag.READONLY | Flag.FAST


@command("TTL", arity=2, flags=_TTL_FLAGS, keys=(1, 1, 1), acl=("keyspace",))
def ttl_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """TTL key"""
    return _ttl(ctx, argv[1], ms=False, absolute=False)


@command("PTTL", arity=2, flags=_TTL_FLAGS, keys=(1, 1, 1), acl=("keyspace",), since="2.6.0")
def pttl_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """PTTL key"""
    return _ttl(ctx, argv[1], ms=True, absolute=False)


@command("EXPIRETIME", arity=2, flags=_TTL_FLAGS, keys=(1, 1, 1), acl=("keyspace",), since="7.0.0")
def expiretime_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """EXPIRETIME key"""
    return _ttl(ctx, argv[1], ms=False, absolute=True)


@command("PEXPIRETIME", arity=2, flags=_TTL_FLAGS, keys=(1, 1, 1), acl=("keyspace",), since="7.0.0")
def pexpiretime_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """PEXPIRETIME key"""
    return _ttl(ctx, argv[1], ms=True, absolute=True)


@command(
    "PERSIST",
    arity=2,
    flags=Flag.WRITE | Flag.FAST,
    keys=(1, 1, 1),
    acl=("keyspace",),
    since="2.2.0",
)
def persist_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """PERSIST key"""
    db = ctx.db
    key = argv[1]
    if db.get(key) is None or not db.persist(key):
        return 0
    ctx.notify("g", b"persist", key)
    ctx.dirty += 1
    return 1

"""Generic keyspace commands (Redis group "generic"): DEL, EXISTS, TYPE, EXPIRE, SCAN, ..."""

from __future__ import annotations

from protocol.resp import OK, SimpleString
from server.commands.table import Flag, Reply, command
from server.context import CommandContext
from server.errors import ERR_SYNTAX, CommandError
from storage.values import type_name


@command("DEL", arity=-2, flags=Flag.WRITE, keys=(1, -1, 1), acl=("keyspace",))
def del_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """DEL key [key ...]"""
    db = ctx.db
    removed = 0
    for key in argv[1:]:
        if db.delete(key):
            removed += 1
            ctx.notify("g", b"del", key)
    ctx.dirty += removed
    return removed


@command(
    "EXISTS",
    arity=-2,
    flags=Flag.READONLY | Flag.FAST,
    keys=(1, -1, 1),
    acl=("keyspace",),
    since="1.0.0",
)
def exists_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """EXISTS key [key ...]"""
    db = ctx.db
    # lookupKeyRead: counts hits and misses and emits keymiss, as Redis's EXISTS does.
    return sum(1 for key in argv[1:] if db.read(key) is not None)


@command("TYPE", arity=2, flags=Flag.READONLY | Flag.FAST, keys=(1, 1, 1), acl=("keyspace",))
def type_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """TYPE key"""
    value = ctx.db.read(argv[1])
    return SimpleString(b"none" if value is None else type_name(value))


@command("DBSIZE", arity=1, flags=Flag.READONLY | Flag.FAST, acl=("keyspace",), group="server")
def dbsize_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """DBSIZE"""
    return ctx.db.size()


def _flush_mode(argv: list[bytes]) -> None:
    if len(argv) > 2 or (len(argv) == 2 and argv[1].upper() not in (b"ASYNC", b"SYNC")):
        raise CommandError(ERR_SYNTAX)


@command("FLUSHDB", arity=-1, flags=Flag.WRITE, acl=("keyspace", "dangerous"), group="server")
def flushdb_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """FLUSHDB [ASYNC | SYNC]"""
    _flush_mode(argv)
    ctx.db.flush()
    # Redis counts a flush as a change even on an empty db, so it always propagates.
    ctx.dirty += 1
    return OK


@command("FLUSHALL", arity=-1, flags=Flag.WRITE, acl=("keyspace", "dangerous"), group="server")
def flushall_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """FLUSHALL [ASYNC | SYNC]"""
    _flush_mode(argv)
    for db in ctx.app.keyspace.dbs:
        db.flush()
    ctx.dirty += 1
    return OK

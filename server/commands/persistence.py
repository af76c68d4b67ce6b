"""Persistence commands (Redis groups "server" and "generic"): SAVE, BGSAVE, LASTSAVE,
BGREWRITEAOF, DUMP, RESTORE, and DEBUG RELOAD.

The work itself is in server/durability.py (the server's persistence state) and persistence/
(the formats). Importing this module also registers the startup loader with server.serve.

DEBUG: Redis's DEBUG has many subcommands and belongs to the admin family. This branch has no
DEBUG yet, so DEBUG is registered here with RELOAD only (`debug_reload` is the function the
admin family's DEBUG calls for RELOAD once both exist).
"""

from __future__ import annotations

import logging

from persistence.building import EncodingLimits
from persistence.codecs import RDBFormatError
from persistence.rdb import dump_payload, load_payload, payload_is_valid
from protocol.resp import OK, SimpleString
from server.app import LOADERS, App
from server.commands.args import int_arg
from server.commands.table import Flag, Reply, command
from server.context import CommandContext
from server.durability import durability_of
from server.errors import (
    ERR_BAD_DATA_FORMAT,
    ERR_BGREWRITEAOF_FAILED,
    ERR_BGREWRITEAOF_IN_PROGRESS,
    ERR_BGSAVE_CHILD_ACTIVE,
    ERR_BGSAVE_IN_PROGRESS,
    ERR_BUSYKEY,
    ERR_DEBUG_RELOAD_OPTIONS,
    ERR_DUMP_PAYLOAD,
    ERR_INVALID_FREQ,
    ERR_INVALID_IDLETIME,
    ERR_INVALID_TTL,
    ERR_PLAIN,
    ERR_SYNTAX,
    CommandError,
)

logger = logging.getLogger(__name__)

_SAVE_FLAGS = Flag.NO_ASYNC_LOADING | Flag.ADMIN | Flag.NOSCRIPT


async def _load(app: App) -> bool:
    durability = durability_of(app)
    ok = await durability.load_at_startup()
    durability.mark_started()
    return ok


LOADERS.append(_load)


# --- snapshots ---


@command("SAVE", arity=1, flags=_SAVE_FLAGS | Flag.NO_MULTI, group="server")
def save_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SAVE"""
    durability = durability_of(ctx.app)
    child = durability.child
    if child is not None and child.kind == "rdb":
        raise CommandError(ERR_BGSAVE_IN_PROGRESS)
    if not durability.save():
        raise CommandError(ERR_PLAIN)
    return OK


@command("BGSAVE", arity=-1, flags=_SAVE_FLAGS, group="server")
def bgsave_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """BGSAVE [SCHEDULE]"""
    schedule = False
    if len(argv) > 1:
        if len(argv) == 2 and argv[1].upper() == b"SCHEDULE":
            schedule = True
        else:
            raise CommandError(ERR_SYNTAX)
    durability = durability_of(ctx.app)
    child = durability.child
    in_exec = ctx.multi is not None
    if child is not None and child.kind == "rdb":
        raise CommandError(ERR_BGSAVE_IN_PROGRESS)
    if child is not None or in_exec:
        if schedule or in_exec:
            durability.bgsave_scheduled = True
            return SimpleString(b"Background saving scheduled")
        raise CommandError(ERR_BGSAVE_CHILD_ACTIVE)
    if durability.bgsave():
        return SimpleString(b"Background saving started")
    raise CommandError(ERR_PLAIN)


@command(
    "LASTSAVE",
    arity=1,
    flags=Flag.LOADING | Flag.STALE | Flag.FAST,
    acl=("admin", "dangerous"),
    group="server",
)
def lastsave_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """LASTSAVE"""
    return ctx.app.last_save_s


@command("BGREWRITEAOF", arity=1, flags=_SAVE_FLAGS, group="server")
def bgrewriteaof_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """BGREWRITEAOF"""
    durability = durability_of(ctx.app)
    if ctx.multi is not None and not (durability.child and durability.child.kind == "aof"):
        durability.aof_rewrite_scheduled = True
        return SimpleString(b"Background append only file rewriting scheduled")
    outcome = durability.request_rewrite()
    if outcome == "in_progress":
        raise CommandError(ERR_BGREWRITEAOF_IN_PROGRESS)
    if outcome == "scheduled":
        return SimpleString(b"Background append only file rewriting scheduled")
    if outcome == "started":
        return SimpleString(b"Background append only file rewriting started")
    raise CommandError(ERR_BGREWRITEAOF_FAILED)


# --- DUMP / RESTORE ---


@command(
    "DUMP",
    arity=2,
    flags=Flag.READONLY,
    keys=(1, 1, 1),
    acl=("keyspace",),
    group="generic",
    since="2.6.0",
)
def dump_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """DUMP key"""
    value = ctx.db.read(argv[1])
    if value is None:
        return None
    return dump_payload(value)


@command(
    "RESTORE",
    arity=-4,
    flags=Flag.WRITE | Flag.DENYOOM,
    keys=(1, 1, 1),
    acl=("keyspace", "dangerous"),
    group="generic",
    since="2.6.0",
)
def restore_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]"""
    replace = absttl = False
    idle = freq = -1
    i = 4
    n = len(argv)
    while i < n:
        option = argv[i].upper()
        more = n - i - 1
        if option == b"REPLACE":
            replace = True
        elif option == b"ABSTTL":
            absttl = True
        elif option == b"IDLETIME" and more >= 1 and freq == -1:
            idle = int_arg(argv[i + 1])
            if idle < 0:
                raise CommandError(ERR_INVALID_IDLETIME)
            i += 1
        elif option == b"FREQ" and more >= 1 and idle == -1:
            freq = int_arg(argv[i + 1])
            if freq < 0 or freq > 255:
                raise CommandError(ERR_INVALID_FREQ)
            i += 1
        else:
            raise CommandError(ERR_SYNTAX)
        i += 1
    db = ctx.db
    key = argv[1]
    if not replace and db.get(key) is not None:
        raise CommandError(ERR_BUSYKEY)
    ttl = int_arg(argv[2])
    if ttl < 0:
        raise CommandError(ERR_INVALID_TTL)
    payload = argv[3]
    if not payload_is_valid(payload):
        raise CommandError(ERR_DUMP_PAYLOAD)
    app = ctx.app
    try:
        value = load_payload(payload, EncodingLimits.from_config(app.config.get))
    except RDBFormatError as e:
        logger.warning("RESTORE of a payload Duocache cannot read: %s", e)
        raise CommandError(ERR_BAD_DATA_FORMAT) from None
    deleted = db.delete(key) if replace else False
    now = app.keyspace.clock.now_ms()
    if ttl and not absttl:
        ttl += now
    # checkAlreadyExpired: not while loading, not on a replica.
    if ttl and ttl <= now and not app.loading and not app.is_replica:
        if deleted:
            ctx.propagate([b"DEL", key])
            ctx.notify("g", b"del", key)
            ctx.dirty += 1
        return OK
    db.set(key, value, ttl or None)
    if ttl and not absttl:
        # Propagated with the absolute deadline, as Redis 7.0 does (cluster.c).
        ctx.propagate([argv[0], key, b"%d" % ttl, *argv[3:], b"ABSTTL"])
    ctx.notify("g", b"restore", key)
    ctx.dirty += 1
    return OK


# --- DEBUG (RELOAD only on this branch) ---


def debug_reload(ctx: CommandContext, options: list[bytes]) -> Reply:
    """DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty the keyspace, load it back."""
    save = flush = True
    merge = False
    for option in options:
        word = option.upper()
        if word == b"MERGE":
            merge = True
        elif word == b"NOFLUSH":
            flush = False
        elif word == b"NOSAVE":
            save = False
        else:
            raise CommandError(ERR_DEBUG_RELOAD_OPTIONS)
    error = durability_of(ctx.app).debug_reload(save=save, flush=flush, merge=merge)
    if error is not None:
        raise CommandError(error)
    return OK

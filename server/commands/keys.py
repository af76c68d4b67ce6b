"""Generic keyspace commands (Redis's db.c): existence, deletion, iteration, renaming, moving,
copying, SWAPDB and flushing. The expiry commands are in expire.py, SORT in sort.py.

Strategy (WATCH signalling): after a write that changed something, dispatch signals the
command's keys in the client's current database. Commands that change keys in another
database (MOVE, COPY ... DB, SWAPDB) or only some of their keys (DEL, UNLINK) declare
`write_keys=no_keys` and signal exactly what they changed, as Redis's signalModifiedKey calls
in db.c do.

Strategy (lookups): read commands look keys up as Redis's lookupKeyRead does: an expired key
is reclaimed and reported missing, keyspace hits and misses are counted, and a miss fires the
"keymiss" event (class 'm'). Writes use `Database.get`, like lookupKeyWrite: no statistics.
"""

from __future__ import annotations

import asyncio
import copy
import re
from collections.abc import Sequence
from typing import Any, Final

from protocol.resp import OK, SimpleString
from server.commands.args import int_arg
from server.commands.table import Flag, Reply, command
from server.context import CommandContext
from server.errors import (
    ERR_DB_INDEX,
    ERR_INT_RANGE,
    ERR_INVALID_CURSOR,
    ERR_NO_SUCH_KEY,
    ERR_SAME_OBJECT,
    ERR_SWAPDB_FIRST,
    ERR_SWAPDB_SECOND,
    ERR_SYNTAX,
    CommandError,
)
from storage.glob import compile_pattern
from storage.hashes import HashValue
from storage.keyspace import NUM_SLOTS, Database
from storage.lists import ListValue
from storage.sets import SetValue
from storage.values import EmbstrBytes, type_name
from storage.zset import ZSet

_INT_MIN: Final = -(2**31)
_INT_MAX: Final = 2**31 - 1
_ULONG_MAX: Final = 2**64 - 1
_SCAN_CURSOR: Final = re.compile(rb"([+-]?)([0-9]*)")
# Shards freed per event-loop iteration after FLUSHDB / FLUSHALL ASYNC.
_LAZYFREE_SHARDS_PER_STEP: Final = 8


def no_keys(argv: Sequence[bytes]) -> list[int]:
    """`write_keys` for commands that signal their changed keys themselves."""
    return []


def lookup_read(ctx: CommandContext, key: bytes) -> Any | None:
    """Redis's lookupKeyRead: the live value or None, counting hits and misses (and the
    keymiss event, which Database.read reports)."""
    return ctx.db.read(key)


def notify_in(ctx: CommandContext, db: Database, type_class: str, event: bytes, key: bytes) -> None:
    """A keyspace event for a key of `db`, which may not be the client's database."""
    app = ctx.app
    if app.notify_classes:
        app.notify_keyspace_event(type_class, event, key, db.index)


def db_index_arg(ctx: CommandContext, raw: bytes) -> Database:
    """A database named by a C int argument (getIntFromObjectOrReply, then selectDb)."""
    index = int_arg(raw)
    if index < _INT_MIN or index > _INT_MAX:
        raise CommandError(ERR_INT_RANGE)
    dbs = ctx.app.keyspace.dbs
    if index < 0 or index >= len(dbs):
        raise CommandError(ERR_DB_INDEX)
    return dbs[index]


def duplicate_value(value: Any) -> Any:
    """A deep copy of a stored value for COPY (immutable strings are shared). The copy keeps
    the encoding, as Redis's dupStringObject does: a raw string stays raw."""
    t = type(value)
    if t is bytes or t is EmbstrBytes:
        return value
    if t is bytearray:
        return bytearray(value)
    if t is ListValue:
        return ListValue(value)
    if t is SetValue:
        new_set = SetValue()
        new_set.update(value)
        new_set.big = value.big
        return new_set
    if t is HashValue:
        new_hash = HashValue()
        new_hash.update(value)
        new_hash.big = value.big
        return new_hash
    if t is ZSet:
        new_zset = ZSet()
        new_zset.by_member.update(value.by_member)
        new_zset.by_score.update(value.by_score)
        new_zset.big = value.big
        return new_zset
    return copy.deepcopy(value)


# --- existence and deletion ---


def _delete(ctx: CommandContext, argv: list[bytes]) -> int:
    db = ctx.db
    removed = 0
    for i in range(1, len(argv)):
        key = argv[i]
        if db.delete(key):
            db.modified(key)
            ctx.notify("g", b"del", key)
            removed += 1
    ctx.dirty += removed
    return removed


@command("DEL", arity=-2, flags=Flag.WRITE, keys=(1, -1, 1), write_keys=no_keys, acl=("keyspace",))
def del_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """DEL key [key ...]"""
    return _delete(ctx, argv)


@command(
    "UNLINK",
    arity=-2,
    flags=Flag.WRITE | Flag.FAST,
    keys=(1, -1, 1),
    write_keys=no_keys,
    acl=("keyspace",),
    since="4.0.0",
)
def unlink_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """UNLINK key [key ...]"""
    # Freeing happens when the last reference goes; a single value is freed in one go either
    # way, so UNLINK and DEL behave the same here.
    return _delete(ctx, argv)


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
    found = 0
    for i in range(1, len(argv)):
        if lookup_read(ctx, argv[i]) is not None:
            found += 1
    return found


@command(
    "TOUCH",
    arity=-2,
    flags=Flag.READONLY | Flag.FAST,
    keys=(1, -1, 1),
    acl=("keyspace",),
    since="3.2.1",
)
def touch_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """TOUCH key [key ...]"""
    return exists_command(ctx, argv)


@command("TYPE", arity=2, flags=Flag.READONLY | Flag.FAST, keys=(1, 1, 1), acl=("keyspace",))
def type_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """TYPE key"""
    value = lookup_read(ctx, argv[1])
    return SimpleString(b"none" if value is None else type_name(value))


@command("DBSIZE", arity=1, flags=Flag.READONLY | Flag.FAST, acl=("keyspace",), group="server")
def dbsize_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """DBSIZE"""
    return ctx.db.size()


# --- iteration ---


@command("KEYS", arity=2, flags=Flag.READONLY, acl=("keyspace", "dangerous"))
def keys_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """KEYS pattern"""
    match = compile_pattern(argv[1])
    if match.match_all:
        return list(ctx.db.iter_keys())
    return [key for key in ctx.db.iter_keys() if match(key)]


def parse_scan_cursor(raw: bytes) -> int:
    """SCAN's cursor as Redis reads it with strtoul: sign allowed, no spaces, up to 2**64-1.

    Raises:
        CommandError: "ERR invalid cursor".
    """
    text = raw.split(b"\0", 1)[0]  # strtoul reads a C string
    m = _SCAN_CURSOR.fullmatch(text)
    if m is None or (m.group(1) and not m.group(2)):
        raise CommandError(ERR_INVALID_CURSOR)
    digits = m.group(2)
    value = int(digits) if digits else 0
    if value > _ULONG_MAX:
        raise CommandError(ERR_INVALID_CURSOR)
    return (-value) & _ULONG_MAX if m.group(1) == b"-" else value


@command(
    "SCAN",
    arity=-2,
    flags=Flag.READONLY | Flag.TOUCHES_ARBITRARY_KEYS,
    acl=("keyspace",),
    since="2.8.0",
)
def scan_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]"""
    cursor = parse_scan_cursor(argv[1])
    count = 10
    pattern: bytes | None = None
    wanted_type: bytes | None = None
    i, n = 2, len(argv)
    while i < n:
        option = argv[i].upper()
        if n - i < 2:
            raise CommandError(ERR_SYNTAX)
        if option == b"COUNT":
            count = int_arg(argv[i + 1])
            if count < 1:
                raise CommandError(ERR_SYNTAX)
        elif option == b"MATCH":
            pattern = argv[i + 1]
        elif option == b"TYPE":
            wanted_type = argv[i + 1].lower()
        else:
            raise CommandError(ERR_SYNTAX)
        i += 2
    if cursor >= NUM_SLOTS:
        # Not a cursor this server hands out: nothing lies beyond the last slot.
        return [b"0", []]
    keys, next_slot = ctx.db.scan_slots(cursor, count)
    if pattern is not None and pattern != b"*":
        match = compile_pattern(pattern)
        keys = [key for key in keys if match(key)]
    if wanted_type is not None:
        kept = []
        for key in keys:
            value = lookup_read(ctx, key)
            if (b"none" if value is None else type_name(value)) == wanted_type:
                kept.append(key)
        keys = kept
    return [b"%d" % next_slot, keys]


@command("RANDOMKEY", arity=1, flags=Flag.READONLY | Flag.TOUCHES_ARBITRARY_KEYS, acl=("keyspace",))
def randomkey_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """RANDOMKEY"""
    return ctx.db.random_key()


# --- renaming, moving, copying ---


def _rename(ctx: CommandContext, argv: list[bytes], nx: bool) -> Reply:
    db = ctx.db
    src, dst = argv[1], argv[2]
    value = db.get(src)
    if value is None:
        raise CommandError(ERR_NO_SUCH_KEY)
    if src == dst:
        return 0 if nx else OK
    deadline = db.get_expire(src)
    # Looked up even without NX, so an expired destination is reclaimed (and its DEL
    # propagated) before it is overwritten, as lookupKeyWrite does.
    if db.get(dst) is not None:
        if nx:
            return 0
        # Redis deletes an existing destination and adds the key anew (dbDelete + dbAdd).
        db.pop(dst)
    db.pop(src)
    db.set(dst, value, deadline)
    # Database.set emitted "new" for the destination (dbAdd); rename_from and rename_to follow.
    ctx.notify("g", b"rename_from", src)
    ctx.notify("g", b"rename_to", dst)
    ctx.dirty += 1
    return 1 if nx else OK


@command("RENAME", arity=3, flags=Flag.WRITE, keys=(1, 2, 1), acl=("keyspace",))
def rename_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """RENAME key newkey"""
    return _rename(ctx, argv, nx=False)


@command("RENAMENX", arity=3, flags=Flag.WRITE | Flag.FAST, keys=(1, 2, 1), acl=("keyspace",))
def renamenx_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """RENAMENX key newkey"""
    return _rename(ctx, argv, nx=True)


@command("MOVE", arity=3, flags=Flag.WRITE | Flag.FAST, keys=(1, 1, 1), acl=("keyspace",))
def move_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """MOVE key db"""
    src = ctx.db
    dst = db_index_arg(ctx, argv[2])
    if dst is src:
        raise CommandError(ERR_SAME_OBJECT)
    key = argv[1]
    value = src.get(key)
    if value is None:
        return 0
    deadline = src.get_expire(key)
    if dst.get(key) is not None:
        return 0
    dst.set(key, value, deadline)
    src.pop(key)
    # Dispatch signals the key in the source database; the target is ours to signal.
    dst.modified(key)
    ctx.notify("g", b"move_from", key)
    notify_in(ctx, dst, "g", b"move_to", key)
    ctx.dirty += 1
    return 1


@command(
    "COPY",
    arity=-3,
    flags=Flag.WRITE | Flag.DENYOOM,
    keys=(1, 2, 1),
    write_keys=no_keys,
    acl=("keyspace",),
    since="6.2.0",
)
def copy_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """COPY source destination [DB destination-db] [REPLACE]"""
    src = dst = ctx.db
    replace = False
    j, n = 3, len(argv)
    while j < n:
        option = argv[j].upper()
        if option == b"REPLACE":
            replace = True
        elif option == b"DB" and j + 1 < n:
            dst = db_index_arg(ctx, argv[j + 1])
            j += 1
        else:
            raise CommandError(ERR_SYNTAX)
        j += 1
    key, newkey = argv[1], argv[2]
    if src is dst and key == newkey:
        raise CommandError(ERR_SAME_OBJECT)
    value = lookup_read(ctx, key)
    if value is None:
        return 0
    deadline = src.get_expire(key)
    if dst.get(newkey) is not None:
        if not replace:
            return 0
        # REPLACE deletes the destination and adds the copy anew (dbDelete + dbAdd).
        dst.pop(newkey)
    dst.set(newkey, duplicate_value(value), deadline)
    dst.modified(newkey)
    notify_in(ctx, dst, "g", b"copy_to", newkey)
    ctx.dirty += 1
    return 1


@command(
    "SWAPDB",
    arity=3,
    flags=Flag.WRITE | Flag.FAST,
    acl=("keyspace", "dangerous"),
    group="server",
    since="4.0.0",
)
def swapdb_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SWAPDB index1 index2"""
    first = int_arg(argv[1], ERR_SWAPDB_FIRST)
    if first < _INT_MIN or first > _INT_MAX:
        raise CommandError(ERR_SWAPDB_FIRST)
    second = int_arg(argv[2], ERR_SWAPDB_SECOND)
    if second < _INT_MIN or second > _INT_MAX:
        raise CommandError(ERR_SWAPDB_SECOND)
    keyspace = ctx.app.keyspace
    dbs = keyspace.dbs
    if not (0 <= first < len(dbs) and 0 <= second < len(dbs)):
        raise CommandError(ERR_DB_INDEX)
    # Keyspace.swap tells the watchers of both databases (touchAllWatchedKeysInDb).
    keyspace.swap(first, second)
    ctx.dirty += 1
    return OK


# --- flushing ---


def _flush_is_async(ctx: CommandContext, argv: list[bytes]) -> bool:
    """getFlushCommandFlags: SYNC, ASYNC, or lazyfree-lazy-user-flush when neither is given."""
    if len(argv) == 1:
        return bool(ctx.app.config["lazyfree-lazy-user-flush"])
    if len(argv) == 2:
        mode = argv[1].upper()
        if mode == b"ASYNC":
            return True
        if mode == b"SYNC":
            return False
    raise CommandError(ERR_SYNTAX)


def _flush(db: Database, lazy: bool) -> int:
    """Empty `db`; with `lazy`, the old shards are freed a few at a time by the event loop."""
    old: list[dict[bytes, Any]] = [*db.data, *db.expires]
    removed = db.flush()
    if lazy:
        _free_later(old)
    return removed


def _free_later(shards: list[dict[bytes, Any]]) -> None:
    """Free the dicts of a flushed database between client batches instead of all at once."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return  # no event loop (in-process tests): freed when the list is dropped
    pending = [shard for shard in shards if shard]
    if not pending:
        return

    def step() -> None:
        for _ in range(_LAZYFREE_SHARDS_PER_STEP):
            if not pending:
                return
            pending.pop().clear()
        if pending:
            loop.call_soon(step)

    loop.call_soon(step)


@command("FLUSHDB", arity=-1, flags=Flag.WRITE, acl=("keyspace", "dangerous"), group="server")
def flushdb_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """FLUSHDB [ASYNC | SYNC]"""
    removed = _flush(ctx.db, _flush_is_async(ctx, argv))
    # Redis forces the propagation of a flush even when nothing was removed.
    ctx.dirty += max(removed, 1)
    return OK


@command("FLUSHALL", arity=-1, flags=Flag.WRITE, acl=("keyspace", "dangerous"), group="server")
def flushall_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """FLUSHALL [ASYNC | SYNC]"""
    lazy = _flush_is_async(ctx, argv)
    removed = 0
    for db in ctx.app.keyspace.dbs:
        removed += _flush(db, lazy)
    ctx.dirty += max(removed, 1)
    return OK

"""memcached items on database 0: lookups, stores, arithmetic and their write effects.

The operations the verbs of server/memcache.py share: memcached's do_store_item and
do_add_delta, expiry times, CAS tokens, and the effects each change sends to the write
stream (with the metadata effect of server/memcache_meta.py after them). No replies here.
"""

from __future__ import annotations

from typing import Any, Final

from protocol.memcache import CRLF, REALTIME_MAXDELTA, c_strtoull, item_total_bytes
from server.errors import (
    MC_ERR_OUT_OF_MEMORY,
    MC_ERR_REPLICA_WRITE,
)
from server.memcache_meta import meta_effect
from server.memcache_state import (
    CAS_BADVAL,
    CAS_HITS,
    DECR_HITS,
    INCR_HITS,
    SLAB_CHUNK_MAX,
    MemcacheContext,
    item_tables,
    slab_class,
)
from storage.item_tables import KEY_BINARY, STALE, TOKEN_SENT, ItemTables

# do_store_item's commands and results.
SET, ADD, REPLACE, APPEND, PREPEND, CAS = range(6)
STORE_COMMANDS: Final = {
    b"set": SET,
    b"add": ADD,
    b"replace": REPLACE,
    b"append": APPEND,
    b"prepend": PREPEND,
    b"cas": CAS,
}
MS_MODES: Final = {0: SET, 83: SET, 69: ADD, 65: APPEND, 80: PREPEND, 82: REPLACE}
STATUS_STORED, STATUS_NOT_STORED, STATUS_EXISTS, STATUS_NOT_FOUND = range(4)

NEVER: Final = -1  # deadline: no expiry
EXPIRED: Final = -2  # deadline: already expired


# --- time and items ---


def item_deadline(exptime: int, now_ms: int) -> int:
    """memcached's realtime() as an absolute unix-ms deadline, NEVER or EXPIRED."""
    if exptime == 0:
        return NEVER
    if exptime < 0:
        return EXPIRED
    if exptime > REALTIME_MAXDELTA:
        if exptime * 1000 <= now_ms:
            return EXPIRED
        return exptime * 1000
    return now_ms + exptime * 1000


def ttl_seconds(deadline: int | None, now_ms: int) -> int:
    """Seconds left as mg's t flag shows them (-1: never expires)."""
    if deadline is None:
        return -1
    return ((deadline - now_ms + 999) // 1000) & 0xFFFFFFFF


def as_item(value: Any) -> bytes | None:
    """The item a stored value is, or None when it is no string (not an item)."""
    if type(value) is bytes:
        return value
    if type(value) is bytearray:
        return bytes(value)
    return None


def access_code(now_ms: int, fetched: bool) -> int:
    return (now_ms // 1000) * 2 + (1 if fetched else 0)


def item_class(tables: ItemTables | None, key: bytes, value: bytes) -> int:
    flags = tables.flags.get(key, 0) if tables is not None else 0
    return slab_class(item_total_bytes(len(key), flags, len(value)))


def cas_of(ctx: MemcacheContext, tables: ItemTables, key: bytes) -> int:
    """The item's CAS token, taking a fresh one when it has none."""
    cas = tables.cas.get(key)
    if cas is None:
        cas = tables.cas[key] = ctx.service.next_cas()
    return cas


def refusal(ctx: MemcacheContext, redis_command: bytes) -> bytes | None:
    """The SERVER_ERROR for a write this server must refuse, or None."""
    app = ctx.app
    if app.is_replica and app.replica_read_only:
        return MC_ERR_REPLICA_WRITE
    if app.guards_active:
        from server.commands.table import COMMANDS
        from server.context import CommandContext

        spec = COMMANDS.get(redis_command)
        if spec is not None:
            if ctx.guard_ctx is None:
                ctx.guard_ctx = CommandContext(app, 0, ctx.addr, ctx.laddr)
            text = app.write_refusal(ctx.guard_ctx, spec)
            if text is not None:
                if text.startswith("OOM"):
                    ctx.service.stats.store_no_memory += 1
                    return MC_ERR_OUT_OF_MEMORY
                return b"SERVER_ERROR " + text.encode() + CRLF
    return None


# --- the write stream ---


def emit(ctx: MemcacheContext, key: bytes, argv: list[bytes] | None) -> None:
    """Count a change, propagate its effect and then the item's metadata, as one unit."""
    app = ctx.app
    app.dirty += 1
    if not app.feed:
        return
    if argv is not None:
        app.propagate(0, argv)
    tables = ctx.db.mc
    if tables is not None:
        flags = tables.flags.get(key, 0)
        cas = tables.cas.get(key, 0)
        if flags or cas:
            app.propagate(0, meta_effect(key, flags, cas))


def notify(ctx: MemcacheContext, type_class: str, event: bytes, key: bytes) -> None:
    app = ctx.app
    if app.notify_classes:
        app.notify_keyspace_event(type_class, event, key, 0)


def signal_modified(ctx: MemcacheContext, key: bytes) -> None:
    """signalModifiedKey, for WATCH only: a memcached write sets the key's metadata itself,
    so the keyspace hook that drops it on RESP writes must not run."""
    db = ctx.db
    if db.watched:
        watchers = db.watched.get(key)
        if watchers:
            db.keyspace.on_watched_modified(db, key, watchers)


def deadline_effect(key: bytes, deadline: int) -> list[bytes]:
    if deadline == NEVER:
        return [b"PERSIST", key]
    return [b"PEXPIREAT", key, str(deadline).encode()]


def set_deadline(ctx: MemcacheContext, key: bytes, deadline: int) -> bool:
    """Give an existing item a new deadline; False when that expired it (it is deleted)."""
    db = ctx.db
    signal_modified(ctx, key)
    if deadline == EXPIRED:
        delete_key(ctx, key)
        return False
    if deadline == NEVER:
        had = db.persist(key)
        if had:
            notify(ctx, "g", b"persist", key)
        emit(ctx, key, [b"PERSIST", key] if had else None)
    else:
        db.set_expire(key, deadline)
        notify(ctx, "g", b"expire", key)
        emit(ctx, key, deadline_effect(key, deadline))
    return True


def delete_key(ctx: MemcacheContext, key: bytes) -> None:
    db = ctx.db
    if db.pop(key) is None:
        return
    tables = db.mc
    if tables is not None:
        tables.forget(key)
    notify(ctx, "g", b"del", key)
    emit(ctx, key, [b"DEL", key])


def drop_item(ctx: MemcacheContext, key: bytes) -> None:
    """Delete the item at `key` (never another type) when this server may write."""
    if as_item(ctx.db.get(key)) is not None and refusal(ctx, b"DEL") is None:
        signal_modified(ctx, key)
        delete_key(ctx, key)


def write_item(
    ctx: MemcacheContext,
    key: bytes,
    value: bytes,
    flags: int,
    deadline: int,
    *,
    keep_ttl: bool = False,
    state: int = 0,
    fetched: bool = False,
    event: bytes = b"set",
    effect: list[bytes] | None = None,
) -> list[bytes] | None:
    """Link a new version of an item with fresh metadata (do_item_link / item_replace).

    Returns:
        The stream effect: `effect` when given, else `SET key value [PXAT ms]`; `DEL key`
        when the item was already expired and replaced a value; None when nothing changed.
    """
    db = ctx.db
    signal_modified(ctx, key)
    ctx.service.stats.total_items += 1
    if deadline == EXPIRED and not keep_ttl:
        # Linked already expired, so nobody will see it; the old value goes away.
        existed = db.pop(key) is not None
        if db.mc is not None:
            db.mc.forget(key)
        if not existed:
            return None
        notify(ctx, "g", b"del", key)
        return [b"DEL", key]
    if keep_ttl:
        db.set_keep_ttl(key, value)
    else:
        db.set(key, value, None if deadline == NEVER else deadline)
    tables = item_tables(db)
    if flags:
        tables.flags[key] = flags
    elif tables.flags:
        tables.flags.pop(key, None)
    if tables.cas:
        tables.cas.pop(key, None)
    if state:
        tables.state[key] = state
    elif tables.state:
        tables.state.pop(key, None)
    tables.access[key] = access_code(db.keyspace.clock.now_ms(), fetched)
    notify(ctx, "$", event, key)
    if effect is not None:
        return effect
    if deadline >= 0 and not keep_ttl:
        notify(ctx, "g", b"expire", key)
        return [b"SET", key, value, b"PXAT", str(deadline).encode()]
    return [b"SET", key, value]


def bump(tables: ItemTables | None, key: bytes, now_ms: int) -> None:
    """A fetch: the item has been hit, at this time (do_item_bump)."""
    if tables is not None:
        tables.access[key] = access_code(now_ms, True)


def cas_for_reply(ctx: MemcacheContext, key: bytes) -> int:
    """The CAS of a just-stored item (a fresh token, not kept, when it expired at once)."""
    if ctx.db.peek(key) is None:
        return ctx.service.next_cas()
    return cas_of(ctx, item_tables(ctx.db), key)


_CAS_NONE, _CAS_MATCH, _CAS_BADVAL, _CAS_STALE = range(4)


def store_item(
    ctx: MemcacheContext,
    comm: int,
    key: bytes,
    data: bytes,
    flags: int,
    exptime: int,
    req_cas: int = 0,
    set_stale: bool = False,
    binary: bool = False,
) -> tuple[int, list[bytes] | None]:
    """do_store_item: store `data` at `key` as `comm` asks.

    Returns:
        The status (STATUS_STORED ...) and the stream effect to propagate (None: none).
    """
    db = ctx.db
    stats = ctx.service.stats
    now = db.keyspace.clock.now_ms()
    deadline = item_deadline(exptime, now)
    present = db.get(key)
    old = as_item(present)
    state = KEY_BINARY if binary else 0
    if old is None:
        if comm == SET or (comm == ADD and present is None):
            return STATUS_STORED, write_item(ctx, key, data, flags, deadline, state=state)
        if comm == CAS:
            stats.cas_misses += 1
            return STATUS_NOT_FOUND, None
        return STATUS_NOT_STORED, None
    tables = db.mc
    cas_res = _CAS_NONE
    if req_cas and comm in (CAS, APPEND, PREPEND):
        old_cas = cas_of(ctx, item_tables(db), key)
        if req_cas == old_cas:
            cas_res = _CAS_MATCH
        elif set_stale and req_cas < old_cas:
            cas_res = _CAS_STALE
        else:
            cas_res = _CAS_BADVAL
    if comm == ADD:
        # add only adds a missing item, but counts as a use of the existing one.
        if tables is not None:
            code = tables.access.get(key)
            if code is not None:
                tables.access[key] = (now // 1000) * 2 + (code & 1)
        return STATUS_NOT_STORED, None
    if comm == CAS:
        old_class = item_class(tables, key, old)
        if cas_res == _CAS_MATCH:
            stats.slab[old_class][CAS_HITS] += 1
            return STATUS_STORED, write_item(ctx, key, data, flags, deadline, state=state)
        if cas_res == _CAS_STALE:
            # A lower token with I: store, keep the TTL, mark stale, keep a sent win token.
            stats.slab[old_class][CAS_HITS] += 1
            old_state = tables.state.get(key, 0) if tables is not None else 0
            state |= STALE | (old_state & TOKEN_SENT)
            effect = [b"SET", key, data, b"KEEPTTL"]
            return STATUS_STORED, write_item(
                ctx, key, data, flags, deadline, keep_ttl=True, state=state, effect=effect
            )
        stats.slab[old_class][CAS_BADVAL] += 1
        return STATUS_EXISTS, None
    if comm in (APPEND, PREPEND):
        if cas_res not in (_CAS_NONE, _CAS_MATCH):
            return STATUS_EXISTS, None
        old_flags = tables.flags.get(key, 0) if tables is not None else 0
        size = item_total_bytes(len(key), old_flags, len(old) + len(data))
        if size > ctx.service.max_item_bytes:
            return STATUS_NOT_STORED, None  # the combined item cannot be allocated
        if comm == APPEND:
            effect = [b"APPEND", key, data]
            value, event = old + data, b"append"
        else:
            value = data + old
            effect, event = [b"SET", key, value, b"KEEPTTL"], b"set"
        return STATUS_STORED, write_item(
            ctx, key, value, old_flags, deadline, keep_ttl=True, event=event, effect=effect
        )
    # SET and REPLACE of an existing item.
    return STATUS_STORED, write_item(ctx, key, data, flags, deadline, state=state)


DELTA_OK, DELTA_NON_NUMERIC, DELTA_NOT_FOUND, DELTA_CAS_MISMATCH = range(4)


def _item_number(value: bytes) -> int | None:
    """safe_strtoull over an item's data, which memcached reads as a C string ending at CRLF."""
    nul = value.find(b"\0")
    if nul >= 0:
        value = value[:nul]
    return c_strtoull(value + b"\r")


def add_delta(
    ctx: MemcacheContext, key: bytes, incr: bool, delta: int, req_cas: int = 0
) -> tuple[int, bytes, bool]:
    """do_add_delta: incr / decr the number at `key`.

    Returns:
        (result, the new number as a decimal string, whether a new item replaced the old
        one rather than the number being rewritten in place).
    """
    db = ctx.db
    value = as_item(db.get(key))
    if value is None:
        return DELTA_NOT_FOUND, b"", False
    tables = db.mc
    flags = tables.flags.get(key, 0) if tables is not None else 0
    total = item_total_bytes(len(key), flags, len(value))
    if not value or total > SLAB_CHUNK_MAX:
        return DELTA_NON_NUMERIC, b"", False  # empty, or a chunked (large) item
    if req_cas and cas_of(ctx, item_tables(db), key) != req_cas:
        return DELTA_CAS_MISMATCH, b"", False
    number = _item_number(value)
    if number is None:
        return DELTA_NON_NUMERIC, b"", False
    # incr wraps at 2**64; decr stops at 0.
    number = (number + delta) % 2**64 if incr else max(number - delta, 0)
    stats = ctx.service.stats
    stats.slab[slab_class(total)][INCR_HITS if incr else DECR_HITS] += 1
    result = b"%d" % number
    # memcached rewrites the number in place only when nobody else holds the item (its
    # refcount is 2); a reply of this batch still waiting to be written does. Otherwise,
    # and when the number got longer, a new item of the exact length replaces it.
    replaced = len(result) > len(value) or key in ctx.held
    event = b"incrby" if incr else b"decrby"
    now = db.keyspace.clock.now_ms()
    if replaced:
        # A new, longer item: same flags and TTL, fresh state.
        stored = result
        effect = write_item(
            ctx,
            key,
            stored,
            flags,
            NEVER,
            keep_ttl=True,
            event=event,
            effect=[b"SET", key, result, b"KEEPTTL"],
        )
    else:
        # Rewritten in place, padded with spaces to the old length; new CAS, same flags.
        stored = result + b" " * (len(value) - len(result))
        signal_modified(ctx, key)
        db.set_keep_ttl(key, stored)
        tables = item_tables(db)
        tables.cas.pop(key, None)
        code = tables.access.get(key, 0)
        tables.access[key] = (now // 1000) * 2 + (code & 1)
        notify(ctx, "$", event, key)
        effect = [b"SET", key, stored, b"KEEPTTL"]
    emit(ctx, key, effect)
    return DELTA_OK, result, replaced

"""memcached verbs on database 0 of the shared keyspace: one `mc_<verb>` per command.

The item operations they share (do_store_item, do_add_delta, expiry, CAS, write effects) are
in server/memcache_items.py; the per-server state (counters, CAS counter, slab classes, the
connection context) in server/memcache_state.py; `stats` in server/memcache_stats.py.

Each verb `mc_<verb>(ctx, request)` takes a parsed request (protocol/memcache.py) and appends
its reply bytes to `ctx.out`; it sends nothing itself. Semantics follow memcached 1.6.18's
proto_text.c and do_store_item / do_add_delta (memcached.c) command by command, including its
quirks: incr/decr rewrite a number in place padded with spaces when it got shorter, a classic
`cas` with token 0 answers EXISTS, `ma` with a TTL change keeps the old TTL when the number
had to move to a new item, meta errors ignore quiet mode.

Strategy (the shared keyspace):

* A memcached item is a Redis string: `set` writes a string GET can read, and a string
  written over RESP is an item with flags 0. Client flags, CAS tokens, access records and
  stale/win state live in storage/item_tables.py, on the database. A RESP write clears them
  through `Keyspace.on_modified`, which is set only once a table exists, so RESP writes cost
  nothing extra until memcached metadata does.
* A key holding a list, hash, set or sorted set is not an item. Reads (get, gets, gat, mg,
  me) see a miss; commands that need an item (replace, append, prepend, cas, incr, decr,
  touch, delete, md, ma) answer NOT_STORED / NOT_FOUND / NF and leave it alone; add answers
  NOT_STORED (the key exists) and the autovivifying N flags create nothing (mg answers EN,
  ma NF); only set (and ms in set mode) overwrites it, as Redis's SET does.
* CAS tokens are taken lazily from one counter: a read that shows a token (gets, gats, mg c,
  me) or a write asked for one (ms c, ma c) takes a fresh one when the key has none, and any
  change to the key removes it. Tokens therefore differ after every change, grow with time and
  never repeat, which is all a client can observe. `gets` on a key written over RESP works.
* exptime as memcached: 0 never, up to 30 days relative, above that a unix time, negative
  already expired. An item stored already expired is not kept (the old value is deleted),
  and the reply is STORED, as memcached's is.
* Every write goes through App.propagate with absolute times, followed by the metadata effect
  of server/memcache_meta.py when the item has flags or a kept CAS. Keyspace notifications
  are those of the equivalent RESP command (set, append, incrby, decrby, expire, persist,
  del). WATCH sees memcached writes.
* On a read-only replica every write answers `SERVER_ERROR You can't write against a read
  only replica.` (MC_ERR_REPLICA_WRITE); OOM and the other write guards answer SERVER_ERROR too.
* flush_all empties database 0 (FLUSHDB), at once or, with a delay, when it falls due.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any, Final

from protocol.memcache import (
    CRLF,
    DELETED,
    EN,
    END,
    EXISTS,
    KEY_MAX_BYTES,
    MN,
    NOT_FOUND,
    NOT_STORED,
    OK,
    OPAQUE_MAX_BYTES,
    REALTIME_MAXDELTA,
    STORED,
    TOUCHED,
    Auth,
    Close,
    Command,
    ErrorReply,
    MemcacheRequest,
    Meta,
    PlainRequest,
    PlainSet,
    Retrieval,
    Storage,
    base64_encode,
    c_strtol,
    item_total_bytes,
    value_header,
)
from server.errors import (
    MC_ERR_AUTH_FAILURE,
    MC_ERR_BAD_CHUNK,
    MC_ERR_BAD_FORMAT,
    MC_ERR_INVALID_EXPTIME,
    MC_ERR_NON_NUMERIC,
    MC_ERR_OPAQUE_TOO_LONG,
    MC_ERR_SHUTDOWN_DISABLED,
    MC_ERR_SHUTDOWN_MODE,
    MC_ERR_TOO_LARGE,
)
from server.memcache_items import (
    ADD,
    CAS,
    DELTA_CAS_MISMATCH,
    DELTA_NON_NUMERIC,
    DELTA_NOT_FOUND,
    DELTA_OK,
    EXPIRED,
    MS_MODES,
    NEVER,
    REPLACE,
    SET,
    STATUS_STORED,
    STORE_COMMANDS,
    add_delta,
    as_item,
    bump,
    cas_for_reply,
    cas_of,
    delete_key,
    drop_item,
    emit,
    item_class,
    item_deadline,
    notify,
    refusal,
    set_deadline,
    signal_modified,
    store_item,
    ttl_seconds,
    write_item,
)
from server.memcache_meta import meta_effect
from server.memcache_state import (
    CLASS_BY_SIZE,
    DELETE_HITS,
    GET_HITS,
    ITEM_UPDATE_INTERVAL_S,
    LARGEST_CLASS,
    SET_CMDS,
    SLAB_CHUNK_MAX,
    TOUCH_HITS,
    MemcacheContext,
    flush_database,
    item_tables,
    slab_class,
)
from storage.item_tables import KEY_BINARY, STALE, TOKEN_SENT

_CLASSIC_STATUS: Final = (STORED, NOT_STORED, EXISTS, NOT_FOUND)  # by STATUS_* value
_META_STATUS: Final = (b"HD", b"NS", b"EX", b"NF")

MEMCACHED_VERSION: Final = b"1.6.18"
MAX_VERBOSITY_LEVEL: Final = 2

# The end of a VALUE line for flags 0 and each short size: " 0 <bytes>\r\n".
_SHORT_VALUE: Final = 1024
_NO_FLAGS_TAILS: Final = [b" 0 %d\r\n" % size for size in range(_SHORT_VALUE)]
_CRLF_END: Final = CRLF + END
_JOIN_MAX: Final = 1024 * 1024  # a lone get copies a value up to this size into its reply


# --- classic commands ---


def mc_storage(ctx: MemcacheContext, req: Storage) -> None:
    """set / add / replace / append / prepend / cas (process_update_command, complete_nread)."""
    stats = ctx.service.stats
    key = req.key
    data = req.data
    if data is None:
        stats.store_too_large += 1
        if not req.noreply:
            ctx.out.append(MC_ERR_TOO_LARGE)
        # memcached drops the old value so a failed set cannot leave stale data behind.
        if req.command == b"set":
            drop_item(ctx, key)
        return
    if req.command == b"set" and req.exptime >= 0:
        reply = store_plain(ctx, (key, req.flags, req.exptime, data, req.chunk_ok, req.noreply))
        if reply is not None:
            ctx.out.append(reply)
        return
    total = 59 + len(key) + len(data) + (4 if req.flags else 0)  # item_total_bytes
    stats.slab[CLASS_BY_SIZE[total] if total <= SLAB_CHUNK_MAX else LARGEST_CLASS][SET_CMDS] += 1
    if not req.chunk_ok:
        if not req.noreply:
            ctx.out.append(MC_ERR_BAD_CHUNK)
        return
    app = ctx.app
    if app.is_replica or app.guards_active:
        refused = refusal(ctx, b"SET")
        if refused is not None:
            if not req.noreply:
                ctx.out.append(refused)
            return
    status, effect = store_item(
        ctx, STORE_COMMANDS[req.command], key, data, req.flags, req.exptime, req.cas
    )
    if effect is not None:
        emit(ctx, key, effect)
    if not req.noreply:
        ctx.out.append(_CLASSIC_STATUS[status])


def mc_get(ctx: MemcacheContext, req: Retrieval) -> None:
    """gets / gat / gats key* (process_get_command); `get` is mc_plain_get."""
    command = req.command
    touch = command[1] == 97  # gat, gats
    with_cas = command[-1] == 115  # gets, gats
    out = ctx.out
    db = ctx.db
    stats = ctx.service.stats
    now = db.keyspace.clock.now_ms()
    deadline = NEVER
    if touch:
        refused = refusal(ctx, b"EXPIRE")
        if refused is not None:
            out.append(refused)
            return
        deadline = item_deadline(req.exptime, now)
    keyspace = db.keyspace
    for key in req.keys:
        if len(key) > KEY_MAX_BYTES:
            # memcached throws away every reply not yet sent, then answers the error.
            del out[ctx.mark :]
            out.append(MC_ERR_BAD_FORMAT)
            return
        expired_before = keyspace.expired_keys
        value = as_item(db.get(key))
        if value is None:
            if touch:
                stats.touch_cmds += 1
                stats.touch_misses += 1
            else:
                stats.get_cmds += 1
                stats.get_misses += 1
                if keyspace.expired_keys != expired_before:
                    stats.get_expired += 1
            continue
        tables = db.mc
        flags = tables.flags.get(key, 0) if tables is not None else 0
        if with_cas:
            if tables is None:
                tables = item_tables(db)
            out.append(value_header(key, flags, len(value), cas_of(ctx, tables, key)))
        else:
            out.append(value_header(key, flags, len(value)))
        out.append(value)
        out.append(CRLF)
        cls = slab_class(item_total_bytes(len(key), flags, len(value)))
        if touch:
            stats.touch_cmds += 1
            stats.slab[cls][TOUCH_HITS] += 1
            if tables is None:
                tables = item_tables(db)
            bump(tables, key, now)
            set_deadline(ctx, key, deadline)
        else:
            stats.get_cmds += 1
            stats.slab[cls][GET_HITS] += 1
            if tables is None:
                tables = item_tables(db)
            tables.access[key] = (now // 1000) * 2 + 1
    out.append(END)
    _flushed(ctx)


def mc_plain_get(ctx: MemcacheContext, req: Retrieval) -> None:
    """get key* (process_get_command without CAS or touch)."""
    run_plain(ctx, [req.keys])


def run_plain(ctx: MemcacheContext, run: list[PlainRequest]) -> None:
    """What `MemcacheParser.plain_run` (or `lone_request`) read: each get line (its keys) as
    `get` answers it, each plain set as `store_plain` answers it, in order; the hot path, with
    what they look up fetched once for the run."""
    out = ctx.out
    append = out.append
    db = ctx.db
    keyspace = db.keyspace
    stats = ctx.service.stats
    slab = stats.slab
    code = ctx.access_s * 2 + 1
    for request in run:
        if isinstance(request, tuple):
            reply = store_plain(ctx, request)
            if reply is not None:
                append(reply)
            continue
        for key in request:
            if len(key) > KEY_MAX_BYTES:
                # memcached throws away every reply not yet sent, then answers the error.
                del out[ctx.mark :]
                append(MC_ERR_BAD_FORMAT)
                break
            stats.get_cmds += 1
            expired_before = keyspace.expired_keys
            stored: Any = db.get(key)  # Any: narrowed by `kind` below, without a cast call
            kind = type(stored)
            if kind is bytes:
                value: bytes = stored
            elif kind is bytearray:
                value = bytes(stored)
            else:
                stats.get_misses += 1
                if stored is None and keyspace.expired_keys != expired_before:
                    stats.get_expired += 1
                continue
            # Read after the lookup: a key that expired there may have taken the tables with
            # it.
            tables = db.mc
            flags = tables.flags.get(key, 0) if tables is not None and tables.flags else 0
            size = len(value)
            if flags or size >= _SHORT_VALUE:
                append(b"VALUE %b %d %d\r\n" % (key, flags, size))
            else:
                append(b"VALUE " + key + _NO_FLAGS_TAILS[size])  # cheaper than %-formatting
            append(value)
            append(CRLF)
            total = 59 + len(key) + size + (4 if flags else 0)
            slab[CLASS_BY_SIZE[total] if total <= SLAB_CHUNK_MAX else LARGEST_CLASS][GET_HITS] += 1
            if tables is None:
                tables = item_tables(db)
            tables.access[key] = code
        else:
            append(END)
            ctx.mark = len(out)  # _flushed, inline on the hot path
            if ctx.held:
                ctx.held.clear()


def get_one(ctx: MemcacheContext, key: bytes, write: Callable[[bytes], None]) -> None:
    """`get <key>` arriving alone (what a client sends at pipeline 1), answered through
    `write` as `run_plain` answers the line: in one piece when that copies at most
    _JOIN_MAX bytes of the value, else with the value by reference. A lone request is a batch
    of its own, so its END throws away and flushes nothing.

    Its lookup repeats `run_plain`'s for one key: shared as a function, it cost 2.3% more
    instructions per request here and 3.7% at pipeline 16."""
    stats = ctx.service.stats
    if len(key) > KEY_MAX_BYTES:
        stats.bytes_written += len(MC_ERR_BAD_FORMAT)
        write(MC_ERR_BAD_FORMAT)
        return
    db = ctx.db
    keyspace = db.keyspace
    stats.get_cmds += 1
    expired_before = keyspace.expired_keys
    stored: Any = db.get(key)
    kind = type(stored)
    if kind is bytes:
        value: bytes = stored
    elif kind is bytearray:
        value = bytes(stored)
    else:
        stats.get_misses += 1
        if stored is None and keyspace.expired_keys != expired_before:
            stats.get_expired += 1
        stats.bytes_written += len(END)
        write(END)
        return
    tables = db.mc
    if tables is None:
        tables = item_tables(db)
    tables.access[key] = ctx.access_s * 2 + 1
    flags = tables.flags.get(key, 0) if tables.flags else 0
    size = len(value)
    if not flags and size < _SHORT_VALUE:
        # item_total_bytes is at most 59 + 250 + 1023 here: no class past the table.
        stats.slab[CLASS_BY_SIZE[59 + len(key) + size]][GET_HITS] += 1
        reply = b"VALUE " + key + _NO_FLAGS_TAILS[size] + value + _CRLF_END
        stats.bytes_written += len(reply)
        write(reply)
        return
    total = 59 + len(key) + size + (4 if flags else 0)
    stats.slab[CLASS_BY_SIZE[total] if total <= SLAB_CHUNK_MAX else LARGEST_CLASS][GET_HITS] += 1
    if size <= _JOIN_MAX:
        reply = b"VALUE %b %d %d\r\n%b\r\nEND\r\n" % (key, flags, size, value)
    else:
        header = b"VALUE %b %d %d\r\n" % (key, flags, size)
        stats.bytes_written += len(header) + size + len(_CRLF_END)
        write(header)
        write(value)
        write(_CRLF_END)
        return
    stats.bytes_written += len(reply)
    write(reply)


def store_plain(ctx: MemcacheContext, request: PlainSet) -> bytes | None:
    """A plain set (`set <key> <flags> <exptime> <bytes> [noreply]`, exptime not negative)
    as mc_storage answers it, through store_item(SET, ...) without the detours: its reply,
    None under noreply."""
    key, flags, exptime, data, chunk_ok, noreply = request
    total = 59 + len(key) + len(data) + (4 if flags else 0)  # item_total_bytes
    stats = ctx.service.stats
    stats.slab[CLASS_BY_SIZE[total] if total <= SLAB_CHUNK_MAX else LARGEST_CLASS][SET_CMDS] += 1
    if not chunk_ok:
        return None if noreply else MC_ERR_BAD_CHUNK
    app = ctx.app
    if app.is_replica or app.guards_active:
        refused = refusal(ctx, b"SET")
        if refused is not None:
            return None if noreply else refused
    db = ctx.db
    deadline = None
    if exptime:
        deadline = item_deadline(exptime, db.keyspace.clock.now_ms())
        if deadline == EXPIRED:  # an absolute time already past
            effect = write_item(ctx, key, data, flags, EXPIRED)
            if effect is not None:
                emit(ctx, key, effect)
            return None if noreply else STORED
    if db.watched:
        signal_modified(ctx, key)
    db.set(key, data, deadline)
    tables = db.mc
    if tables is None:
        tables = item_tables(db)
    if flags:
        tables.flags[key] = flags
    elif tables.flags:
        tables.flags.pop(key, None)
    if tables.cas:
        tables.cas.pop(key, None)
    if tables.state:
        tables.state.pop(key, None)
    tables.access[key] = ctx.access_s * 2
    stats.total_items += 1
    app.dirty += 1
    if app.notify_classes:
        notify(ctx, "$", b"set", key)
        if deadline is not None:
            notify(ctx, "g", b"expire", key)
    if app.feed:
        if deadline is None:
            app.propagate(0, [b"SET", key, data])
        else:
            app.propagate(0, [b"SET", key, data, b"PXAT", str(deadline).encode()])
        if flags:
            app.propagate(0, meta_effect(key, flags, 0))
    return None if noreply else STORED


def _flushed(ctx: MemcacheContext) -> None:
    """memcached writes its pending replies after every get and mn (conn_mwrite): from here
    on they can no longer be thrown away, and the items they held are released."""
    ctx.mark = len(ctx.out)
    if ctx.held:
        ctx.held.clear()


def mc_delete(ctx: MemcacheContext, req: Command) -> None:
    """delete <key> [0] [noreply]"""
    refused = refusal(ctx, b"DEL")
    if refused is not None:
        if not req.noreply:
            ctx.out.append(refused)
        return
    db = ctx.db
    key = req.key
    value = as_item(db.get(key))
    stats = ctx.service.stats
    if value is None:
        stats.delete_misses += 1
        if not req.noreply:
            ctx.out.append(NOT_FOUND)
        return
    stats.slab[item_class(db.mc, key, value)][DELETE_HITS] += 1
    signal_modified(ctx, key)
    delete_key(ctx, key)
    if not req.noreply:
        ctx.out.append(DELETED)


def mc_incr(ctx: MemcacheContext, req: Command) -> None:
    """incr / decr <key> <delta> [noreply] (process_arithmetic_command)"""
    out = ctx.out
    refused = refusal(ctx, b"INCRBY")
    if refused is not None:
        if not req.noreply:
            out.append(refused)
        return
    incr = req.command == b"incr"
    result, number, _ = add_delta(ctx, req.key, incr, req.number)
    if result == DELTA_NOT_FOUND:
        stats = ctx.service.stats
        if incr:
            stats.incr_misses += 1
        else:
            stats.decr_misses += 1
    if req.noreply:
        return
    if result == DELTA_OK:
        out.append(number + CRLF)
    elif result == DELTA_NON_NUMERIC:
        out.append(MC_ERR_NON_NUMERIC)
    else:
        out.append(NOT_FOUND)


def mc_touch(ctx: MemcacheContext, req: Command) -> None:
    """touch <key> <exptime> [noreply]"""
    refused = refusal(ctx, b"EXPIRE")
    if refused is not None:
        if not req.noreply:
            ctx.out.append(refused)
        return
    db = ctx.db
    key = req.key
    stats = ctx.service.stats
    stats.touch_cmds += 1
    value = as_item(db.get(key))
    if value is None:
        stats.touch_misses += 1
        if not req.noreply:
            ctx.out.append(NOT_FOUND)
        return
    now = db.keyspace.clock.now_ms()
    tables = item_tables(db)
    stats.slab[item_class(tables, key, value)][TOUCH_HITS] += 1
    bump(tables, key, now)
    set_deadline(ctx, key, item_deadline(req.number, now))
    if not req.noreply:
        ctx.out.append(TOUCHED)


def mc_flush_all(ctx: MemcacheContext, req: Command) -> None:
    """flush_all [delay] [noreply] (process_flush_all_command)"""
    service = ctx.service
    service.stats.flush_cmds += 1
    tokens = req.tokens
    delay = 0
    if len(tokens) != (2 if req.noreply else 1):
        parsed = c_strtol(tokens[1])
        if parsed is None:
            if not req.noreply:
                ctx.out.append(MC_ERR_INVALID_EXPTIME)
            return
        delay = parsed
    refused = refusal(ctx, b"FLUSHDB")
    if refused is not None:
        if not req.noreply:
            ctx.out.append(refused)
        return
    now = ctx.db.keyspace.clock.now_ms()
    now_s = now // 1000
    # memcached marks items older than (its clock + delay - 1) as gone; a delay of 1 or less
    # is at once, and an absolute time at or before the server started does nothing.
    service.flush_at_ms = None
    due_s: int | None
    if delay > REALTIME_MAXDELTA:
        started_s = int(service.started_s) - ITEM_UPDATE_INTERVAL_S - 2  # process_started
        due_s = None if delay <= started_s else delay - 1
    elif delay > 0:
        due_s = now_s + delay - 1
    else:
        due_s = now_s - 1
    if due_s is not None:
        service.oldest_live_s = due_s
        if due_s <= now_s:
            flush_database(ctx.app, ctx.db)
        else:
            service.flush_at_ms = due_s * 1000
    if not req.noreply:
        ctx.out.append(OK)


def mc_version(ctx: MemcacheContext, req: Command) -> None:
    """version"""
    ctx.out.append(b"VERSION " + MEMCACHED_VERSION + CRLF)


def mc_verbosity(ctx: MemcacheContext, req: Command) -> None:
    """verbosity <level> [noreply]"""
    ctx.service.verbosity = min(req.number, MAX_VERBOSITY_LEVEL)
    if not req.noreply:
        ctx.out.append(OK)


def mc_quit(ctx: MemcacheContext, req: Command) -> None:
    """quit: close once the pending replies are written."""
    ctx.close_after_write = True


def mc_shutdown(ctx: MemcacheContext, req: Command) -> None:
    """shutdown [graceful]: only with memcache-enable-shutdown (memcached's -A)."""
    if not ctx.app.config["memcache-enable-shutdown"]:
        ctx.out.append(MC_ERR_SHUTDOWN_DISABLED)
        return
    tokens = req.tokens
    if len(tokens) == 1 or (len(tokens) == 2 and tokens[1] == b"graceful"):
        ctx.close_after_write = True
        ctx.app.request_shutdown(0)
        return
    ctx.out.append(MC_ERR_SHUTDOWN_MODE)


def mc_mn(ctx: MemcacheContext, req: Meta) -> None:
    """mn: a no-op that ends a pipeline of quiet meta commands (and flushes the replies)."""
    ctx.out.append(MN)
    _flushed(ctx)


# --- meta commands ---


def _key_token(key: bytes, binary: bool) -> bytes:
    """META_KEY: ` k<key>`, base64 with ` b` for binary keys."""
    if binary:
        return b" k" + base64_encode(key) + b" b"
    return b" k" + key


def mc_mg(ctx: MemcacheContext, req: Meta) -> None:
    """mg <key> <flags>* (process_mget_command)"""
    f = req.flags
    out = ctx.out
    if f.new_ttl or f.vivify:
        refused = refusal(ctx, b"SET" if f.vivify else b"EXPIRE")
        if refused is not None:
            out.append(refused)
            return
    db = ctx.db
    key = req.key
    stats = ctx.service.stats
    now = db.keyspace.clock.now_ms()
    present = db.get(key)
    value = as_item(present)
    created = False
    if value is None and f.vivify and present is None:
        value = b""
        created = True
    if value is None:
        stats.get_cmds += 1
        stats.get_misses += 1
        parts = [b"EN"]
        for token in req.tokens:
            head = token[0]
            if head == 79:  # O
                if len(token) > OPAQUE_MAX_BYTES:
                    out.append(MC_ERR_OPAQUE_TOO_LONG)
                    return
                parts.append(b" " + token)
            elif head == 107:  # k
                parts.append(_key_token(key, f.key_binary))
        if not f.no_reply:
            parts.append(CRLF)
            out.append(b"".join(parts))
        return

    tables = db.mc
    flags = 0
    state = 0
    access: int | None = None
    if tables is not None and not created:
        flags = tables.flags.get(key, 0)
        state = tables.state.get(key, 0)
        access = tables.access.get(key)
    if created:
        # memcached links an empty item first, then gives it the N token's TTL.
        created_effect = write_item(ctx, key, b"", 0, NEVER)
        deadline = NEVER
    else:
        deadline = db.get_expire(key) or NEVER
    ttl_set = False
    won = False
    parts = [b"VA %d" % len(value) if f.value else b"HD"]
    error = False
    for token in req.tokens:
        head = token[0]
        if head == 84:  # T
            ttl_set = True
            deadline = item_deadline(f.exptime, now)
        elif head == 78:  # N
            if created:
                deadline = item_deadline(f.autoviv_exptime, now)
                won = True
        elif head == 82:  # R
            recache = item_deadline(f.recache_time, now)
            if not state & TOKEN_SENT and not created and deadline >= 0 and recache >= 0:
                won = won or deadline < recache
        elif head == 115:  # s
            parts.append(b" s%d" % len(value))
        elif head == 116:  # t
            parts.append(b" t%d" % ttl_seconds(None if deadline == NEVER else deadline, now))
        elif head == 99:  # c
            parts.append(b" c%d" % cas_of(ctx, item_tables(db), key))
        elif head == 102:  # f
            parts.append(b" f%d" % flags)
        elif head == 108:  # l
            last = 0 if access is None else now // 1000 - (access >> 1)
            parts.append(b" l%d" % last)
        elif head == 104:  # h
            parts.append(b" h1" if access is not None and access & 1 else b" h0")
        elif head == 79:  # O
            if len(token) > OPAQUE_MAX_BYTES:
                error = True
                break
            parts.append(b" " + token)
        elif head == 107:  # k
            parts.append(_key_token(key, bool(state & KEY_BINARY)))
    # The item changes made by T and N stand even when an opaque token fails the reply.
    if created:
        if deadline == EXPIRED:
            db.pop(key)
            item_tables(db).forget(key)
        else:
            if deadline != NEVER:
                db.set_expire(key, deadline)
                created_effect = [b"SET", key, b"", b"PXAT", str(deadline).encode()]
            emit(ctx, key, created_effect)
    elif ttl_set:
        set_deadline(ctx, key, deadline)
    if error:
        out.append(MC_ERR_OPAQUE_TOO_LONG)
        return
    if state & TOKEN_SENT:
        parts.append(b" Z")
    if state & STALE:
        parts.append(b" X")
        if not state & TOKEN_SENT:
            won = True
    live = db.peek(key) is not None
    if won:
        parts.append(b" W")
        if live:
            item_tables(db).state[key] = state | TOKEN_SENT
    parts.append(CRLF)
    out.append(b"".join(parts))
    if f.value:
        out.append(value)
        out.append(CRLF)
    ctx.held.add(key)
    if live and not f.no_update:
        bump(item_tables(db), key, now)
    cls = slab_class(item_total_bytes(len(key), flags, len(value)))
    if ttl_set:
        stats.touch_cmds += 1
        stats.slab[cls][TOUCH_HITS] += 1
    else:
        stats.get_cmds += 1
        stats.slab[cls][GET_HITS] += 1


def mc_ms(ctx: MemcacheContext, req: Meta) -> None:
    """ms <key> <datalen> <flags>* (process_mset_command, _finalize_mset)"""
    f = req.flags
    key = req.key
    out = ctx.out
    stats = ctx.service.stats
    data = req.data
    if data is None:
        stats.store_too_large += 1
        out.append(MC_ERR_TOO_LARGE)
        drop_item(ctx, key)
        return
    comm = MS_MODES[f.mode]
    if f.has_cas and comm in (SET, REPLACE):
        comm = CAS
    stats.slab[slab_class(item_total_bytes(len(key), f.client_flags, len(data)))][SET_CMDS] += 1
    if not req.chunk_ok:
        out.append(MC_ERR_BAD_CHUNK)
        return
    refused = refusal(ctx, b"SET")
    if refused is not None:
        out.append(refused)
        return
    status, effect = store_item(
        ctx,
        comm,
        key,
        data,
        f.client_flags,
        f.exptime,
        f.req_cas,
        f.set_stale and comm == CAS,
        f.key_binary,
    )
    wants_cas = any(token[0] == 99 for token in req.tokens)
    cas = cas_for_reply(ctx, key) if status == STATUS_STORED and wants_cas else 0
    if effect is not None:
        emit(ctx, key, effect)
    if status == STATUS_STORED and f.no_reply:
        return
    parts = [_META_STATUS[status]]
    for token in req.tokens:
        head = token[0]
        if head == 79:  # O
            parts.append(b" " + token)
        elif head == 107:  # k
            parts.append(_key_token(key, f.key_binary))
        elif head == 99:  # c
            parts.append(b" c%d" % cas)
    parts.append(CRLF)
    out.append(b"".join(parts))


def _opaque_and_key(req: Meta, parts: list[bytes]) -> bool:
    """Append the O and k return flags; False when an opaque token is too long."""
    for token in req.tokens:
        head = token[0]
        if head == 79:
            if len(token) > OPAQUE_MAX_BYTES:
                return False
            parts.append(b" " + token)
        elif head == 107:
            parts.append(_key_token(req.key, req.flags.key_binary))
    return True


def mc_md(ctx: MemcacheContext, req: Meta) -> None:
    """md <key> <flags>* (process_mdelete_command)"""
    f = req.flags
    out = ctx.out
    refused = refusal(ctx, b"DEL")
    if refused is not None:
        out.append(refused)
        return
    flags_out: list[bytes] = []
    _opaque_and_key(req, flags_out)  # the parser already refused long opaque tokens
    db = ctx.db
    key = req.key
    stats = ctx.service.stats
    value = as_item(db.get(key))
    if value is None:
        stats.delete_misses += 1
        out.append(b"NF" + b"".join(flags_out) + CRLF)
        return
    if f.has_cas and cas_of(ctx, item_tables(db), key) != f.req_cas:
        stats.delete_misses += 1
        out.append(b"EX" + b"".join(flags_out) + CRLF)
        return
    if f.set_stale:
        # Keep the item, mark it stale with a new CAS, let the next fetch win the recache.
        tables = item_tables(db)
        if f.new_ttl:
            set_deadline(ctx, key, item_deadline(f.exptime, db.keyspace.clock.now_ms()))
        if db.peek(key) is not None:
            state = tables.state.get(key, 0)
            tables.state[key] = (state | STALE) & ~TOKEN_SENT
            app = ctx.app
            if tables.cas.pop(key, None) is not None and app.feed:
                # A replica that kept the old token must drop it too.
                app.propagate(0, meta_effect(key, tables.flags.get(key, 0), 0))
    else:
        stats.slab[item_class(db.mc, key, value)][DELETE_HITS] += 1
        signal_modified(ctx, key)
        delete_key(ctx, key)
    if not f.no_reply:
        out.append(b"HD" + b"".join(flags_out) + CRLF)


def mc_ma(ctx: MemcacheContext, req: Meta) -> None:
    """ma <key> <flags>* (process_marithmetic_command)"""
    f = req.flags
    out = ctx.out
    refused = refusal(ctx, b"INCRBY")
    if refused is not None:
        out.append(refused)
        return
    db = ctx.db
    key = req.key
    stats = ctx.service.stats
    incr = f.mode not in (68, 45)  # D -
    result, number, replaced = add_delta(ctx, key, incr, f.delta, f.req_cas)
    status = b"HD"
    created = False
    if result == DELTA_NON_NUMERIC:
        out.append(MC_ERR_NON_NUMERIC)
        return
    if result == DELTA_NOT_FOUND:
        if f.vivify and db.get(key) is None:
            number = b"%d" % f.initial
            stored, effect = store_item(ctx, ADD, key, number, 0, 0)
            if effect is not None:
                emit(ctx, key, effect)
            created = stored == STATUS_STORED
            if not created:
                status = b"NS"
        else:
            if incr:
                stats.incr_misses += 1
            else:
                stats.decr_misses += 1
            status = b"NF"
    elif result == DELTA_CAS_MISMATCH:
        status = b"EX"
    if result != DELTA_OK and not created:
        parts = [status]
        if not _opaque_and_key(req, parts):
            out.append(MC_ERR_OPAQUE_TOO_LONG)
            return
        out.append(b"".join(parts) + CRLF)
        return
    now = db.keyspace.clock.now_ms()
    parts = [b"VA %d" % len(number) if f.value else b"HD"]
    deadline: int | None = None  # a TTL the flags gave the item memcached holds
    error = False
    for token in req.tokens:
        head = token[0]
        if head == 99:  # c
            parts.append(b" c%d" % cas_for_reply(ctx, key))
        elif head == 116:  # t
            current = deadline if deadline is not None else (db.get_expire(key) or NEVER)
            parts.append(b" t%d" % ttl_seconds(None if current == NEVER else current, now))
        elif head == 84:  # T
            deadline = item_deadline(f.exptime, now)
        elif head == 78:  # N
            if created:
                deadline = item_deadline(f.autoviv_exptime, now)
        elif head == 79:  # O
            if len(token) > OPAQUE_MAX_BYTES:
                error = True
                break
            parts.append(b" " + token)
        elif head == 107:  # k
            parts.append(_key_token(key, f.key_binary))
    # memcached sets the TTL on the item it holds: when the number moved to a new item, that
    # is the old one, so the reply shows the new TTL and the stored item keeps its own.
    if deadline is not None and not replaced and db.peek(key) is not None:
        set_deadline(ctx, key, deadline)
    if error:
        out.append(MC_ERR_OPAQUE_TOO_LONG)
        return
    if f.no_reply and result == DELTA_OK:
        return
    if f.value:
        parts.append(CRLF)
        parts.append(number)
    parts.append(CRLF)
    out.append(b"".join(parts))


def mc_me(ctx: MemcacheContext, req: Meta) -> None:
    """me <key> [b] (process_meta_command): the item's metadata, for humans."""
    db = ctx.db
    key = req.key
    stats = ctx.service.stats
    stats.meta_cmds += 1
    value = as_item(db.get(key))
    if value is None:
        ctx.out.append(EN)
        return
    now = db.keyspace.clock.now_ms()
    tables = item_tables(db)
    flags = tables.flags.get(key, 0)
    binary = bool(tables.state.get(key, 0) & KEY_BINARY)
    access = tables.access.get(key)
    deadline = db.get_expire(key)
    exp = -1 if deadline is None else -((deadline - now + 999) // 1000)
    last = 0 if access is None else now // 1000 - (access >> 1)
    total = item_total_bytes(len(key), flags, len(value))
    ctx.out.append(
        b"ME %b exp=%d la=%d cas=%d fetch=%b cls=%d size=%d\r\n"
        % (
            base64_encode(key) if binary else key,
            exp,
            last,
            cas_of(ctx, tables, key),
            b"yes" if access is not None and access & 1 else b"no",
            slab_class(total),
            total,
        )
    )


# --- the verb table ---

Verb = Callable[[MemcacheContext, Any], None]


def _stats(ctx: MemcacheContext, req: Command) -> None:
    from server.memcache_stats import mc_stats

    mc_stats(ctx, req)


VERBS: Final[dict[bytes, Verb]] = {
    b"get": mc_plain_get,
    b"gets": mc_get,
    b"gat": mc_get,
    b"gats": mc_get,
    b"set": mc_storage,
    b"add": mc_storage,
    b"replace": mc_storage,
    b"append": mc_storage,
    b"prepend": mc_storage,
    b"cas": mc_storage,
    b"delete": mc_delete,
    b"incr": mc_incr,
    b"decr": mc_incr,
    b"touch": mc_touch,
    b"flush_all": mc_flush_all,
    b"version": mc_version,
    b"verbosity": mc_verbosity,
    b"quit": mc_quit,
    b"shutdown": mc_shutdown,
    b"stats": _stats,
    b"mg": mc_mg,
    b"ms": mc_ms,
    b"md": mc_md,
    b"ma": mc_ma,
    b"me": mc_me,
    b"mn": mc_mn,
}


def execute(ctx: MemcacheContext, request: MemcacheRequest) -> bool:
    """Run one parsed request, appending its reply (if any) to `ctx.out`.

    Returns:
        False when the connection must close once the replies are written.
    """
    verb = VERBS.get(request.command)
    if verb is not None:
        verb(ctx, request)
        return not ctx.close_after_write
    if not ctx.authenticated:
        if type(request) is Close:
            return False
        if type(request) is Auth:
            reply = STORED if authenticate(ctx, request) else MC_ERR_AUTH_FAILURE
        else:
            reply = request.line + CRLF  # type: ignore[union-attr]
        # memcached writes every reply of its authentication phase into one response
        # object, so within a batch each one replaces the one before.
        out = ctx.out
        if 0 <= ctx.auth_reply_at < len(out):
            out[ctx.auth_reply_at] = reply
        else:
            ctx.auth_reply_at = len(out)
            out.append(reply)
        return True
    if type(request) is ErrorReply:
        if not request.noreply:
            ctx.out.append(request.line + CRLF)
        return True
    return False  # Close: line too long, an HTTP request


def authenticate(ctx: MemcacheContext, request: Auth) -> bool:
    """memcached's ASCII authentication against Redis's default user and requirepass."""
    stats = ctx.service.stats
    stats.auth_cmds += 1
    password = ctx.app.config["requirepass"].encode()
    if request.user == b"default" and hmac.compare_digest(request.password, password):
        ctx.authenticated = True
        return True
    stats.auth_errors += 1
    return False

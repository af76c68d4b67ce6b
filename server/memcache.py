"""memcached verbs on database 0 of the shared keyspace: storage calls, replies, write effects.

Each verb `mc_<verb>(ctx, request)` takes a parsed request (protocol/memcache.py) and appends
its reply bytes to `ctx.out`; it sends nothing itself. Semantics follow memcached 1.6.18's
proto_text.c and do_store_item / do_add_delta (memcached.c) command by command, including its
quirks: incr/decr rewrite a number in place padded with spaces when it got shorter, a classic
`cas` with token 0 answers EXISTS, `ma` with a TTL change and a number that grew keeps the old
TTL, meta errors ignore quiet mode.

Strategy (the shared keyspace):

* A memcached item is a Redis string: `set` writes a string GET can read, and a string
  written over RESP is an item with flags 0. Client flags, CAS tokens, access records and
  stale/win state live in storage/item_tables.py, on the database. A RESP write clears them
  through `Keyspace.on_modified`, which is set only once a table exists, so RESP writes cost
  nothing extra until memcached metadata does.
* A key holding a list, hash, set or sorted set is not an item. Reads (get, gets, gat, mg,
  me) see a miss; commands that need an item (replace, append, prepend, cas, incr, decr,
  touch, delete, md, ma) answer NOT_STORED / NOT_FOUND / NF and leave it alone; add and the
  autovivifying N flags answer as for an existing item (NOT_STORED, no win) without touching
  it; only set (and ms in set mode) overwrites it, as Redis's SET does.
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
  only replica.` (ERR_REPLICA_WRITE); OOM and the other write guards answer SERVER_ERROR too.
* flush_all empties database 0 (FLUSHDB), at once or, with a delay, when it falls due.
"""

from __future__ import annotations

import hmac
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, cast

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
    Retrieval,
    Storage,
    base64_encode,
    c_strtol,
    c_strtoull,
    item_total_bytes,
    value_header,
)
from server.memcache_meta import meta_effect
from storage.item_tables import KEY_BINARY, STALE, TOKEN_SENT, ItemTables
from storage.keyspace import Database

if TYPE_CHECKING:
    from server.app import App
    from server.context import CommandContext

# --- replies (memcached's text, byte for byte) ---

ERR_NON_NUMERIC: Final = b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
ERR_BAD_FORMAT: Final = b"CLIENT_ERROR bad command line format\r\n"
ERR_BAD_CHUNK: Final = b"CLIENT_ERROR bad data chunk\r\n"
ERR_TOO_LARGE: Final = b"SERVER_ERROR object too large for cache\r\n"
ERR_OPAQUE_TOO_LONG: Final = b"CLIENT_ERROR opaque token too long\r\n"
ERR_INVALID_EXPTIME: Final = b"CLIENT_ERROR invalid exptime argument\r\n"
ERR_SHUTDOWN_DISABLED: Final = b"ERROR: shutdown not enabled\r\n"
ERR_SHUTDOWN_MODE: Final = b"CLIENT_ERROR invalid shutdown mode\r\n"
ERR_OUT_OF_MEMORY: Final = b"SERVER_ERROR out of memory storing object\r\n"
ERR_AUTH_FAILURE: Final = b"CLIENT_ERROR authentication failure\r\n"
# Duocache's own: memcached has no replicas. Redis's wording after memcached's error class.
ERR_REPLICA_WRITE: Final = b"SERVER_ERROR You can't write against a read only replica.\r\n"

MEMCACHED_VERSION: Final = b"1.6.18"
MAX_VERBOSITY_LEVEL: Final = 2
ITEM_UPDATE_INTERVAL_S: Final = 60

# do_store_item's commands and results.
SET, ADD, REPLACE, APPEND, PREPEND, CAS = range(6)
_STORE_COMMANDS: Final = {
    b"set": SET,
    b"add": ADD,
    b"replace": REPLACE,
    b"append": APPEND,
    b"prepend": PREPEND,
    b"cas": CAS,
}
_MS_MODES: Final = {0: SET, 83: SET, 69: ADD, 65: APPEND, 80: PREPEND, 82: REPLACE}
STATUS_STORED, STATUS_NOT_STORED, STATUS_EXISTS, STATUS_NOT_FOUND = range(4)
_CLASSIC_STATUS: Final = (STORED, NOT_STORED, EXISTS, NOT_FOUND)
_META_STATUS: Final = (b"HD", b"NS", b"EX", b"NF")

# Per-slab-class counters (memcached's slab_stats), indexes into MemcacheStats.slab rows.
SET_CMDS, GET_HITS, TOUCH_HITS, DELETE_HITS, INCR_HITS, DECR_HITS, CAS_HITS, CAS_BADVAL = range(8)
SLAB_COUNTERS: Final = 8

_NEVER: Final = -1  # deadline: no expiry
_EXPIRED: Final = -2  # deadline: already expired

# --- slab classes (slabs_init with memcached's defaults: -n 48, -f 1.25, 1 MB pages) ---

SLAB_PAGE_BYTES: Final = 1024 * 1024
SLAB_CHUNK_MAX: Final = SLAB_PAGE_BYTES // 2
MAX_SLAB_CLASSES: Final = 64


def _slab_sizes() -> list[int]:
    sizes: list[int] = []
    size = 48 + 48  # sizeof(item) + chunk_size
    while len(sizes) < MAX_SLAB_CLASSES - 2 and size < SLAB_CHUNK_MAX / 1.25:
        if size % 8:
            size += 8 - size % 8
        sizes.append(size)
        size = int(size * 1.25)
    sizes.append(SLAB_CHUNK_MAX)
    return sizes


SLAB_SIZES: Final = _slab_sizes()  # chunk size of class i + 1


def _class_table() -> bytes:
    """Byte i is the slab class of an item of i bytes, for every size up to SLAB_CHUNK_MAX."""
    parts = [b"\x01" * (SLAB_SIZES[0] + 1)]
    parts.extend(
        bytes([cls + 1]) * (SLAB_SIZES[cls] - SLAB_SIZES[cls - 1])
        for cls in range(1, len(SLAB_SIZES))
    )
    return b"".join(parts)


_CLASS_BY_SIZE: Final = _class_table()
_LARGEST_CLASS: Final = len(SLAB_SIZES)


def slab_class(total_bytes: int) -> int:
    """slabs_clsid: the class whose chunks hold an item of this total size (1-based).

    Items larger than the largest chunk are chunked by memcached and counted there.
    """
    if total_bytes <= SLAB_CHUNK_MAX:
        return _CLASS_BY_SIZE[total_bytes]
    return _LARGEST_CLASS


# --- the per-server state ---


class MemcacheStats:
    """memcached's thread and global counters (`stats`, `stats reset`)."""

    __slots__ = (
        "auth_cmds",
        "auth_errors",
        "bytes_read",
        "bytes_written",
        "cas_misses",
        "decr_misses",
        "delete_misses",
        "flush_cmds",
        "get_cmds",
        "get_expired",
        "get_flushed",
        "get_misses",
        "incr_misses",
        "meta_cmds",
        "rejected_conns",
        "slab",
        "store_no_memory",
        "store_too_large",
        "total_conns",
        "total_items",
        "touch_cmds",
        "touch_misses",
    )

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.get_cmds = self.get_misses = self.get_expired = self.get_flushed = 0
        self.touch_cmds = self.touch_misses = 0
        self.delete_misses = self.incr_misses = self.decr_misses = self.cas_misses = 0
        self.flush_cmds = self.meta_cmds = 0
        self.store_too_large = self.store_no_memory = 0
        self.auth_cmds = self.auth_errors = 0
        self.bytes_read = self.bytes_written = 0
        self.total_items = self.total_conns = self.rejected_conns = 0
        self.slab = [[0] * SLAB_COUNTERS for _ in range(MAX_SLAB_CLASSES)]


class MemcacheService:
    """What memcached keeps process-wide: counters, the CAS counter, a pending flush_all."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.cas_id = 0
        self.stats = MemcacheStats()
        self.verbosity = 0
        self.flush_at_ms: int | None = None
        self.oldest_live_s = 0  # `stats settings` "oldest"
        self.started_s = time.time()
        self.connections: dict[int, MemcacheContext] = {}  # by socket fd
        self.curr_connections = 0
        self.slab_pages: dict[int, int] = {}  # slab class -> pages memcached would hold
        self.stats.total_conns = 1  # memcached counts its listening connection
        self.max_item_bytes: int = app.config["memcache-max-item-size"]
        app.config.on_change(self._config_changed)
        app.cron_hooks.append(self.check_flush)

    def _config_changed(self, name: str, value: Any) -> None:
        if name == "memcache-max-item-size":
            self.max_item_bytes = value

    def next_cas(self) -> int:
        self.cas_id += 1
        return self.cas_id

    def check_flush(self) -> None:
        """Run a delayed flush_all that fell due (cron, and before each batch)."""
        due = self.flush_at_ms
        if due is not None and self.app.keyspace.clock.now_ms() >= due:
            self.flush_at_ms = None
            flush_database(self.app, self.app.keyspace.dbs[0])


_SERVICES: weakref.WeakKeyDictionary[App, MemcacheService] = weakref.WeakKeyDictionary()


def service_for(app: App) -> MemcacheService:
    """The memcached state of an App, created on first use."""
    service = _SERVICES.get(app)
    if service is None:
        service = _SERVICES[app] = MemcacheService(app)
    return service


def item_tables(db: Database) -> ItemTables:
    """The item tables of `db`, created (and the RESP-write hook armed) on first use."""
    tables = db.mc
    if tables is None:
        tables = db.mc = ItemTables()
        db.keyspace.on_modified = forget_item_meta
    return tables


def forget_item_meta(db: Database, key: bytes) -> None:
    """Keyspace.on_modified: a key changed through RESP (or expired): drop its metadata."""
    tables = db.mc
    if tables is not None:
        tables.forget(key)
        if tables.is_empty():
            db.mc = None
        else:
            return
    # No table left anywhere: disarm the hook so RESP writes cost nothing again.
    if all(d.mc is None for d in db.keyspace.dbs):
        db.keyspace.on_modified = None


class MemcacheContext:
    """One memcached connection as the verbs see it.

    `out` collects the replies of the current batch; `mark` is where the replies not yet
    flushed begin (memcached's pending response chain, which a get with an overlong key
    throws away).
    """

    __slots__ = (
        "access_s",
        "addr",
        "app",
        "auth_reply_at",
        "authenticated",
        "close_after_write",
        "db",
        "fd",
        "guard_ctx",
        "kill",
        "laddr",
        "last_cmd_s",
        "mark",
        "out",
        "service",
        "state",
    )

    def __init__(self, app: App, addr: str = "", laddr: str = "", fd: int = -1) -> None:
        self.app = app
        self.service = service_for(app)
        self.db: Database = app.keyspace.dbs[0]
        self.out: list[bytes] = []
        self.mark = 0
        self.close_after_write = False
        # memcached's -Y: with requirepass set, a connection must authenticate first.
        self.authenticated = not app.config["requirepass"]
        self.auth_reply_at = -1  # where this batch's authentication-phase reply is in `out`
        self.addr = addr
        self.laddr = laddr
        self.fd = fd
        self.last_cmd_s = time.time()
        self.state = "conn_waiting"
        self.guard_ctx: CommandContext | None = None
        self.kill: Callable[[], None] | None = None  # set by the connection
        # The clock's second for access records, read once per batch (-1: read it now).
        self.access_s = -1


# --- time and items ---


def _deadline(exptime: int, now_ms: int) -> int:
    """memcached's realtime() as an absolute unix-ms deadline, _NEVER or _EXPIRED."""
    if exptime == 0:
        return _NEVER
    if exptime < 0:
        return _EXPIRED
    if exptime > REALTIME_MAXDELTA:
        if exptime * 1000 <= now_ms:
            return _EXPIRED
        return exptime * 1000
    return now_ms + exptime * 1000


def _ttl_s(deadline: int | None, now_ms: int) -> int:
    """Seconds left as mg's t flag shows them (-1: never expires)."""
    if deadline is None:
        return -1
    return ((deadline - now_ms + 999) // 1000) & 0xFFFFFFFF


def _string(value: Any) -> bytes | None:
    """The item a stored value is, or None when it is no string (not an item)."""
    if type(value) is bytes:
        return value
    if type(value) is bytearray:
        return bytes(value)
    return None


def _access_code(now_ms: int, fetched: bool) -> int:
    return (now_ms // 1000) * 2 + (1 if fetched else 0)


def _item_class(tables: ItemTables | None, key: bytes, value: bytes) -> int:
    flags = tables.flags.get(key, 0) if tables is not None else 0
    return slab_class(item_total_bytes(len(key), flags, len(value)))


def _cas_of(ctx: MemcacheContext, tables: ItemTables, key: bytes) -> int:
    """The item's CAS token, taking a fresh one when it has none."""
    cas = tables.cas.get(key)
    if cas is None:
        cas = tables.cas[key] = ctx.service.next_cas()
    return cas


def _refused(ctx: MemcacheContext, redis_command: bytes) -> bytes | None:
    """The SERVER_ERROR for a write this server must refuse, or None."""
    app = ctx.app
    if app.is_replica and app.replica_read_only:
        return ERR_REPLICA_WRITE
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
                    return ERR_OUT_OF_MEMORY
                return b"SERVER_ERROR " + text.encode() + CRLF
    return None


# --- the write stream ---


def _effect(ctx: MemcacheContext, key: bytes, argv: list[bytes] | None) -> None:
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


def _notify(ctx: MemcacheContext, type_class: str, event: bytes, key: bytes) -> None:
    app = ctx.app
    if app.notify_classes:
        app.notify_keyspace_event(type_class, event, key, 0)


def _signal(ctx: MemcacheContext, key: bytes) -> None:
    """signalModifiedKey for WATCH; the key's metadata is dropped by the caller or the hook."""
    db = ctx.db
    if db.watched:
        db.modified(key)


def _deadline_effect(key: bytes, deadline: int) -> list[bytes]:
    if deadline == _NEVER:
        return [b"PERSIST", key]
    return [b"PEXPIREAT", key, str(deadline).encode()]


def _set_deadline(ctx: MemcacheContext, key: bytes, deadline: int) -> bool:
    """Give an existing item a new deadline; False when that expired it (it is deleted)."""
    db = ctx.db
    _signal(ctx, key)
    if deadline == _EXPIRED:
        _delete_key(ctx, key)
        return False
    if deadline == _NEVER:
        had = db.persist(key)
        if had:
            _notify(ctx, "g", b"persist", key)
        _effect(ctx, key, [b"PERSIST", key] if had else None)
    else:
        db.set_expire(key, deadline)
        _notify(ctx, "g", b"expire", key)
        _effect(ctx, key, _deadline_effect(key, deadline))
    return True


def _delete_key(ctx: MemcacheContext, key: bytes) -> None:
    db = ctx.db
    if db.pop(key) is None:
        return
    tables = db.mc
    if tables is not None:
        tables.forget(key)
    _notify(ctx, "g", b"del", key)
    _effect(ctx, key, [b"DEL", key])


def _drop_item(ctx: MemcacheContext, key: bytes) -> None:
    """Delete the item at `key` (never another type) when this server may write."""
    if _string(ctx.db.get(key)) is not None and _refused(ctx, b"DEL") is None:
        _signal(ctx, key)
        _delete_key(ctx, key)


def flush_database(app: App, db: Database) -> None:
    """flush_all: empty database 0 as FLUSHDB does, and propagate it."""
    db.flush()
    app.dirty += 1
    if app.feed:
        app.propagate(db.index, [b"FLUSHDB"])


def _write_item(
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
    _signal(ctx, key)
    ctx.service.stats.total_items += 1
    if deadline == _EXPIRED and not keep_ttl:
        # Linked already expired, so nobody will see it; the old value goes away.
        existed = db.pop(key) is not None
        if db.mc is not None:
            db.mc.forget(key)
        if not existed:
            return None
        _notify(ctx, "g", b"del", key)
        return [b"DEL", key]
    if keep_ttl:
        db.set_keep_ttl(key, value)
    else:
        db.set(key, value, None if deadline == _NEVER else deadline)
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
    tables.access[key] = _access_code(db.keyspace.clock.now_ms(), fetched)
    _notify(ctx, "$", event, key)
    if effect is not None:
        return effect
    if deadline >= 0 and not keep_ttl:
        _notify(ctx, "g", b"expire", key)
        return [b"SET", key, value, b"PXAT", str(deadline).encode()]
    return [b"SET", key, value]


def _bump(tables: ItemTables | None, key: bytes, now_ms: int) -> None:
    """A fetch: the item has been hit, at this time (do_item_bump)."""
    if tables is not None:
        tables.access[key] = _access_code(now_ms, True)


def _cas_for_reply(ctx: MemcacheContext, key: bytes) -> int:
    """The CAS of a just-stored item (a fresh token, not kept, when it expired at once)."""
    if ctx.db.peek(key) is None:
        return ctx.service.next_cas()
    return _cas_of(ctx, item_tables(ctx.db), key)


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
    deadline = _deadline(exptime, now)
    present = db.get(key)
    old = _string(present)
    state = KEY_BINARY if binary else 0
    if old is None:
        if comm == SET or (comm == ADD and present is None):
            return STATUS_STORED, _write_item(ctx, key, data, flags, deadline, state=state)
        if comm == CAS:
            stats.cas_misses += 1
            return STATUS_NOT_FOUND, None
        return STATUS_NOT_STORED, None
    tables = db.mc
    cas_res = _CAS_NONE
    if req_cas and comm in (CAS, APPEND, PREPEND):
        old_cas = _cas_of(ctx, item_tables(db), key)
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
        old_class = _item_class(tables, key, old)
        if cas_res == _CAS_MATCH:
            stats.slab[old_class][CAS_HITS] += 1
            return STATUS_STORED, _write_item(ctx, key, data, flags, deadline, state=state)
        if cas_res == _CAS_STALE:
            # A lower token with I: store, keep the TTL, mark stale, keep a sent win token.
            stats.slab[old_class][CAS_HITS] += 1
            old_state = tables.state.get(key, 0) if tables is not None else 0
            state |= STALE | (old_state & TOKEN_SENT)
            effect = [b"SET", key, data, b"KEEPTTL"]
            return STATUS_STORED, _write_item(
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
        return STATUS_STORED, _write_item(
            ctx, key, value, old_flags, deadline, keep_ttl=True, event=event, effect=effect
        )
    # SET and REPLACE of an existing item.
    return STATUS_STORED, _write_item(ctx, key, data, flags, deadline, state=state)


def mc_storage(ctx: MemcacheContext, req: Storage) -> None:
    """set / add / replace / append / prepend / cas (process_update_command, complete_nread)."""
    stats = ctx.service.stats
    key = req.key
    data = req.data
    if data is None:
        stats.store_too_large += 1
        if not req.noreply:
            ctx.out.append(ERR_TOO_LARGE)
        # memcached drops the old value so a failed set cannot leave stale data behind.
        if req.command == b"set":
            _drop_item(ctx, key)
        return
    flags = req.flags
    total = 59 + len(key) + len(data) + (4 if flags else 0)  # item_total_bytes
    stats.slab[_CLASS_BY_SIZE[total] if total <= SLAB_CHUNK_MAX else _LARGEST_CLASS][SET_CMDS] += 1
    if not req.chunk_ok:
        if not req.noreply:
            ctx.out.append(ERR_BAD_CHUNK)
        return
    app = ctx.app
    if app.is_replica or app.guards_active:
        refused = _refused(ctx, b"SET")
        if refused is not None:
            if not req.noreply:
                ctx.out.append(refused)
            return
    if req.command == b"set" and req.exptime >= 0:
        _fast_set(ctx, key, data, flags, req.exptime)
        if not req.noreply:
            ctx.out.append(STORED)
        return
    status, effect = store_item(
        ctx, _STORE_COMMANDS[req.command], key, data, req.flags, req.exptime, req.cas
    )
    if effect is not None:
        _effect(ctx, key, effect)
    if not req.noreply:
        ctx.out.append(_CLASSIC_STATUS[status])


def _fast_set(ctx: MemcacheContext, key: bytes, data: bytes, flags: int, exptime: int) -> None:
    """A plain `set` that does not expire at once: store_item(SET, ...) without the detours."""
    db = ctx.db
    app = ctx.app
    deadline = None
    now = 0
    if exptime:
        now = db.keyspace.clock.now_ms()
        deadline = _deadline(exptime, now)
        if deadline == _EXPIRED:  # an absolute time already past
            effect = _write_item(ctx, key, data, flags, _EXPIRED)
            if effect is not None:
                _effect(ctx, key, effect)
            return
    elif ctx.access_s < 0:
        now = db.keyspace.clock.now_ms()
    if db.watched:
        db.modified(key)
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
    tables.access[key] = (now // 1000 if ctx.access_s < 0 else ctx.access_s) * 2
    ctx.service.stats.total_items += 1
    app.dirty += 1
    if app.notify_classes:
        _notify(ctx, "$", b"set", key)
        if deadline is not None:
            _notify(ctx, "g", b"expire", key)
    if app.feed:
        if deadline is None:
            app.propagate(0, [b"SET", key, data])
        else:
            app.propagate(0, [b"SET", key, data, b"PXAT", str(deadline).encode()])
        if flags:
            app.propagate(0, meta_effect(key, flags, 0))


# --- retrieval: get, gets, gat, gats ---


def mc_get(ctx: MemcacheContext, req: Retrieval) -> None:
    """get / gets / gat / gats key* (process_get_command)."""
    command = req.command
    if command == b"get":
        _plain_get(ctx, req.keys)
        return
    touch = command[1] == 97  # gat, gats
    with_cas = command[-1] == 115  # gets, gats
    out = ctx.out
    db = ctx.db
    stats = ctx.service.stats
    now = db.keyspace.clock.now_ms()
    deadline = _NEVER
    if touch:
        refused = _refused(ctx, b"EXPIRE")
        if refused is not None:
            out.append(refused)
            return
        deadline = _deadline(req.exptime, now)
    keyspace = db.keyspace
    for key in req.keys:
        if len(key) > KEY_MAX_BYTES:
            # memcached throws away every reply not yet sent, then answers the error.
            del out[ctx.mark :]
            out.append(ERR_BAD_FORMAT)
            return
        expired_before = keyspace.expired_keys
        value = _string(db.get(key))
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
            out.append(value_header(key, flags, len(value), _cas_of(ctx, tables, key)))
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
            _bump(tables, key, now)
            _set_deadline(ctx, key, deadline)
        else:
            stats.get_cmds += 1
            stats.slab[cls][GET_HITS] += 1
            if tables is None:
                tables = item_tables(db)
            tables.access[key] = (now // 1000) * 2 + 1
    out.append(END)


def _plain_get(ctx: MemcacheContext, keys: list[bytes]) -> None:
    """`get`, the hot path: no CAS, no touch."""
    out = ctx.out
    db = ctx.db
    stats = ctx.service.stats
    slab = stats.slab
    keyspace = db.keyspace
    tables = db.mc
    flags_of = tables.flags if tables is not None else None
    access = ctx.access_s
    if access < 0:
        access = keyspace.clock.now_ms() // 1000
    code = access * 2 + 1
    for key in keys:
        if len(key) > KEY_MAX_BYTES:
            # memcached throws away every reply not yet sent, then answers the error.
            del out[ctx.mark :]
            out.append(ERR_BAD_FORMAT)
            return
        stats.get_cmds += 1
        expired_before = keyspace.expired_keys
        stored = db.get(key)
        kind = type(stored)
        if kind is bytes:
            value: bytes = cast(bytes, stored)
        elif kind is bytearray:
            value = bytes(cast(bytearray, stored))
        else:
            stats.get_misses += 1
            if stored is None and keyspace.expired_keys != expired_before:
                stats.get_expired += 1
            continue
        flags = flags_of.get(key, 0) if flags_of else 0
        size = len(value)
        out.append(b"VALUE %b %d %d\r\n" % (key, flags, size))
        out.append(value)
        out.append(CRLF)
        total = 59 + len(key) + size + (4 if flags else 0)
        slab[_CLASS_BY_SIZE[total] if total <= SLAB_CHUNK_MAX else _LARGEST_CLASS][GET_HITS] += 1
        if tables is None:
            tables = item_tables(db)
            flags_of = tables.flags
        tables.access[key] = code
    out.append(END)


# --- delete, incr / decr, touch ---


def mc_delete(ctx: MemcacheContext, req: Command) -> None:
    """delete <key> [0] [noreply]"""
    refused = _refused(ctx, b"DEL")
    if refused is not None:
        if not req.noreply:
            ctx.out.append(refused)
        return
    db = ctx.db
    key = req.key
    value = _string(db.get(key))
    stats = ctx.service.stats
    if value is None:
        stats.delete_misses += 1
        if not req.noreply:
            ctx.out.append(NOT_FOUND)
        return
    stats.slab[_item_class(db.mc, key, value)][DELETE_HITS] += 1
    _signal(ctx, key)
    _delete_key(ctx, key)
    if not req.noreply:
        ctx.out.append(DELETED)


_DELTA_OK, _DELTA_NON_NUMERIC, _DELTA_NOT_FOUND, _DELTA_CAS_MISMATCH = range(4)


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
        (result, the new number as a decimal string, whether the item was replaced by a
        longer one rather than rewritten in place).
    """
    db = ctx.db
    value = _string(db.get(key))
    if value is None:
        return _DELTA_NOT_FOUND, b"", False
    tables = db.mc
    flags = tables.flags.get(key, 0) if tables is not None else 0
    total = item_total_bytes(len(key), flags, len(value))
    if not value or total > SLAB_CHUNK_MAX:
        return _DELTA_NON_NUMERIC, b"", False  # empty, or a chunked (large) item
    if req_cas and _cas_of(ctx, item_tables(db), key) != req_cas:
        return _DELTA_CAS_MISMATCH, b"", False
    number = _item_number(value)
    if number is None:
        return _DELTA_NON_NUMERIC, b"", False
    # incr wraps at 2**64; decr stops at 0.
    number = (number + delta) % 2**64 if incr else max(number - delta, 0)
    stats = ctx.service.stats
    stats.slab[slab_class(total)][INCR_HITS if incr else DECR_HITS] += 1
    result = b"%d" % number
    grew = len(result) > len(value)
    event = b"incrby" if incr else b"decrby"
    now = db.keyspace.clock.now_ms()
    if grew:
        # A new, longer item: same flags and TTL, fresh state.
        stored = result
        effect = _write_item(
            ctx,
            key,
            stored,
            flags,
            _NEVER,
            keep_ttl=True,
            event=event,
            effect=[b"SET", key, result, b"KEEPTTL"],
        )
    else:
        # Rewritten in place, padded with spaces to the old length; new CAS, same flags.
        stored = result + b" " * (len(value) - len(result))
        _signal(ctx, key)
        db.set_keep_ttl(key, stored)
        tables = item_tables(db)
        tables.cas.pop(key, None)
        code = tables.access.get(key, 0)
        tables.access[key] = (now // 1000) * 2 + (code & 1)
        _notify(ctx, "$", event, key)
        effect = [b"SET", key, stored, b"KEEPTTL"]
    _effect(ctx, key, effect)
    return _DELTA_OK, result, grew


def mc_incr(ctx: MemcacheContext, req: Command) -> None:
    """incr / decr <key> <delta> [noreply] (process_arithmetic_command)"""
    out = ctx.out
    refused = _refused(ctx, b"INCRBY")
    if refused is not None:
        if not req.noreply:
            out.append(refused)
        return
    incr = req.command == b"incr"
    result, number, _ = add_delta(ctx, req.key, incr, req.number)
    if result == _DELTA_NOT_FOUND:
        stats = ctx.service.stats
        if incr:
            stats.incr_misses += 1
        else:
            stats.decr_misses += 1
    if req.noreply:
        return
    if result == _DELTA_OK:
        out.append(number + CRLF)
    elif result == _DELTA_NON_NUMERIC:
        out.append(ERR_NON_NUMERIC)
    else:
        out.append(NOT_FOUND)


def mc_touch(ctx: MemcacheContext, req: Command) -> None:
    """touch <key> <exptime> [noreply]"""
    refused = _refused(ctx, b"EXPIRE")
    if refused is not None:
        if not req.noreply:
            ctx.out.append(refused)
        return
    db = ctx.db
    key = req.key
    stats = ctx.service.stats
    stats.touch_cmds += 1
    value = _string(db.get(key))
    if value is None:
        stats.touch_misses += 1
        if not req.noreply:
            ctx.out.append(NOT_FOUND)
        return
    now = db.keyspace.clock.now_ms()
    tables = item_tables(db)
    stats.slab[_item_class(tables, key, value)][TOUCH_HITS] += 1
    _bump(tables, key, now)
    _set_deadline(ctx, key, _deadline(req.number, now))
    if not req.noreply:
        ctx.out.append(TOUCHED)


# --- flush_all, version, verbosity, quit, shutdown ---


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
                ctx.out.append(ERR_INVALID_EXPTIME)
            return
        delay = parsed
    refused = _refused(ctx, b"FLUSHDB")
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
        ctx.out.append(ERR_SHUTDOWN_DISABLED)
        return
    tokens = req.tokens
    if len(tokens) == 1 or (len(tokens) == 2 and tokens[1] == b"graceful"):
        ctx.close_after_write = True
        ctx.app.request_shutdown(0)
        return
    ctx.out.append(ERR_SHUTDOWN_MODE)


def mc_mn(ctx: MemcacheContext, req: Meta) -> None:
    """mn: a no-op that ends a pipeline of quiet meta commands (and flushes the replies)."""
    ctx.out.append(MN)
    ctx.mark = len(ctx.out)


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
        refused = _refused(ctx, b"SET" if f.vivify else b"EXPIRE")
        if refused is not None:
            out.append(refused)
            return
    db = ctx.db
    key = req.key
    stats = ctx.service.stats
    now = db.keyspace.clock.now_ms()
    present = db.get(key)
    value = _string(present)
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
                    out.append(ERR_OPAQUE_TOO_LONG)
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
        created_effect = _write_item(ctx, key, b"", 0, _NEVER)
        deadline = _NEVER
    else:
        deadline = db.get_expire(key) or _NEVER
    ttl_set = False
    won = False
    parts = [b"VA %d" % len(value) if f.value else b"HD"]
    error = False
    for token in req.tokens:
        head = token[0]
        if head == 84:  # T
            ttl_set = True
            deadline = _deadline(f.exptime, now)
        elif head == 78:  # N
            if created:
                deadline = _deadline(f.autoviv_exptime, now)
                won = True
        elif head == 82:  # R
            recache = _deadline(f.recache_time, now)
            if not state & TOKEN_SENT and not created and deadline >= 0 and recache >= 0:
                won = won or deadline < recache
        elif head == 115:  # s
            parts.append(b" s%d" % len(value))
        elif head == 116:  # t
            parts.append(b" t%d" % _ttl_s(None if deadline == _NEVER else deadline, now))
        elif head == 99:  # c
            parts.append(b" c%d" % _cas_of(ctx, item_tables(db), key))
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
        if deadline == _EXPIRED:
            db.pop(key)
            item_tables(db).forget(key)
        else:
            if deadline != _NEVER:
                db.set_expire(key, deadline)
                created_effect = [b"SET", key, b"", b"PXAT", str(deadline).encode()]
            _effect(ctx, key, created_effect)
    elif ttl_set:
        _set_deadline(ctx, key, deadline)
    if error:
        out.append(ERR_OPAQUE_TOO_LONG)
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
    if live and not f.no_update:
        _bump(item_tables(db), key, now)
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
        out.append(ERR_TOO_LARGE)
        _drop_item(ctx, key)
        return
    comm = _MS_MODES[f.mode]
    if f.has_cas and comm in (SET, REPLACE):
        comm = CAS
    stats.slab[slab_class(item_total_bytes(len(key), f.client_flags, len(data)))][SET_CMDS] += 1
    if not req.chunk_ok:
        out.append(ERR_BAD_CHUNK)
        return
    refused = _refused(ctx, b"SET")
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
    cas = _cas_for_reply(ctx, key) if status == STATUS_STORED and wants_cas else 0
    if effect is not None:
        _effect(ctx, key, effect)
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
    refused = _refused(ctx, b"DEL")
    if refused is not None:
        out.append(refused)
        return
    flags_out: list[bytes] = []
    _opaque_and_key(req, flags_out)  # the parser already refused long opaque tokens
    db = ctx.db
    key = req.key
    stats = ctx.service.stats
    value = _string(db.get(key))
    if value is None:
        stats.delete_misses += 1
        out.append(b"NF" + b"".join(flags_out) + CRLF)
        return
    if f.has_cas and _cas_of(ctx, item_tables(db), key) != f.req_cas:
        stats.delete_misses += 1
        out.append(b"EX" + b"".join(flags_out) + CRLF)
        return
    if f.set_stale:
        # Keep the item, mark it stale with a new CAS, let the next fetch win the recache.
        tables = item_tables(db)
        if f.new_ttl:
            _set_deadline(ctx, key, _deadline(f.exptime, db.keyspace.clock.now_ms()))
        if db.peek(key) is not None:
            state = tables.state.get(key, 0)
            tables.state[key] = (state | STALE) & ~TOKEN_SENT
            tables.cas.pop(key, None)
    else:
        stats.slab[_item_class(db.mc, key, value)][DELETE_HITS] += 1
        _signal(ctx, key)
        _delete_key(ctx, key)
    if not f.no_reply:
        out.append(b"HD" + b"".join(flags_out) + CRLF)


def mc_ma(ctx: MemcacheContext, req: Meta) -> None:
    """ma <key> <flags>* (process_marithmetic_command)"""
    f = req.flags
    out = ctx.out
    refused = _refused(ctx, b"INCRBY")
    if refused is not None:
        out.append(refused)
        return
    db = ctx.db
    key = req.key
    stats = ctx.service.stats
    incr = f.mode not in (68, 45)  # D -
    result, number, grew = add_delta(ctx, key, incr, f.delta, f.req_cas)
    status = b"HD"
    created = False
    if result == _DELTA_NON_NUMERIC:
        out.append(ERR_NON_NUMERIC)
        return
    if result == _DELTA_NOT_FOUND:
        if f.vivify and db.get(key) is None:
            number = b"%d" % f.initial
            stored, effect = store_item(ctx, ADD, key, number, 0, 0)
            if effect is not None:
                _effect(ctx, key, effect)
            created = stored == STATUS_STORED
            if not created:
                status = b"NS"
        else:
            if incr:
                stats.incr_misses += 1
            else:
                stats.decr_misses += 1
            status = b"NF"
    elif result == _DELTA_CAS_MISMATCH:
        status = b"EX"
    if result != _DELTA_OK and not created:
        parts = [status]
        if not _opaque_and_key(req, parts):
            out.append(ERR_OPAQUE_TOO_LONG)
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
            parts.append(b" c%d" % _cas_for_reply(ctx, key))
        elif head == 116:  # t
            current = deadline if deadline is not None else (db.get_expire(key) or _NEVER)
            parts.append(b" t%d" % _ttl_s(None if current == _NEVER else current, now))
        elif head == 84:  # T
            deadline = _deadline(f.exptime, now)
        elif head == 78:  # N
            if created:
                deadline = _deadline(f.autoviv_exptime, now)
        elif head == 79:  # O
            if len(token) > OPAQUE_MAX_BYTES:
                error = True
                break
            parts.append(b" " + token)
        elif head == 107:  # k
            parts.append(_key_token(key, f.key_binary))
    # memcached sets the TTL on the item it holds: after a number grew, that is the old,
    # replaced item, so the reply shows the new TTL and the stored item keeps its own.
    if deadline is not None and not grew and db.peek(key) is not None:
        _set_deadline(ctx, key, deadline)
    if error:
        out.append(ERR_OPAQUE_TOO_LONG)
        return
    if f.no_reply and result == _DELTA_OK:
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
    value = _string(db.get(key))
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
            _cas_of(ctx, tables, key),
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
    b"get": mc_get,
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
            reply = STORED if authenticate(ctx, request) else ERR_AUTH_FAILURE
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

"""The memcached side of an App: counters, the CAS counter, slab classes, connections.

What memcached keeps process-wide lives in a `MemcacheService`, one per App (`service_for`);
each connection is a `MemcacheContext`. Item metadata lives on the database
(storage/item_tables.py), reached through `item_tables`, which also arms the keyspace hook
that drops it when RESP changes a key. No protocol and no verbs here.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from storage.item_tables import ItemTables
from storage.keyspace import Database

if TYPE_CHECKING:
    from server.app import App
    from server.context import CommandContext

ITEM_UPDATE_INTERVAL_S: Final = 60

# Per-slab-class counters (memcached's slab_stats), indexes into MemcacheStats.slab rows.
SET_CMDS, GET_HITS, TOUCH_HITS, DELETE_HITS, INCR_HITS, DECR_HITS, CAS_HITS, CAS_BADVAL = range(8)
SLAB_COUNTERS: Final = 8


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


CLASS_BY_SIZE: Final = _class_table()
LARGEST_CLASS: Final = len(SLAB_SIZES)


def slab_class(total_bytes: int) -> int:
    """slabs_clsid: the class whose chunks hold an item of this total size (1-based).

    Items larger than the largest chunk are chunked by memcached and counted there.
    """
    if total_bytes <= SLAB_CHUNK_MAX:
        return CLASS_BY_SIZE[total_bytes]
    return LARGEST_CLASS


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
        "held",
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
        # Keys whose values pending replies hold (memcached's item references until the
        # replies are written): incr/decr cannot rewrite those in place.
        self.held: set[bytes] = set()
        self.close_after_write = False
        # memcached's -Y: with requirepass set, a connection must authenticate first.
        self.authenticated = not app.config["requirepass"]
        self.auth_reply_at = -1  # where this batch's authentication-phase reply is in `out`
        self.addr = addr
        self.laddr = laddr
        self.fd = fd
        # The clock's second of the last request (memcached's coarse clock).
        self.last_cmd_s = app.keyspace.clock.second
        self.state = "conn_waiting"
        self.guard_ctx: CommandContext | None = None
        self.kill: Callable[[], None] | None = None  # set by the connection
        # The clock's second for access records, read once per batch (-1: read it now).
        self.access_s = -1


def flush_database(app: App, db: Database) -> None:
    """flush_all: empty database 0 as FLUSHDB does, and propagate it."""
    db.flush()
    app.dirty += 1
    if app.feed:
        app.propagate(db.index, [b"FLUSHDB"])

"""memcached's `stats` family: general, settings, items, slabs, sizes, conns, cachedump, reset.

Field names and their order are those of memcached 1.6.18 as Debian builds it (with extstore
and TLS support compiled in), so tools that parse `stats` find what they expect. Values are
Duocache's where it has an equivalent (counters of memcached commands, items, connections,
settings that map to a directive) and memcached's defaults where the field describes machinery
Duocache does not have (slab rebalancer, LRU crawler, extstore, TLS).

Items and slab classes are derived from database 0: every string is an item of
`item_total_bytes` bytes in the slab class memcached would pick for it. Counting walks the
database, exactly up to EXACT_ITEM_LIMIT keys and from a sample above that.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator
from typing import Final

from protocol.memcache import (
    END,
    RESET,
    Command,
    c_strtoul,
    item_total_bytes,
    stat_line,
)
from server.errors import (
    MC_ERR_BAD_COMMAND_LINE,
    MC_ERR_BAD_FORMAT,
    MC_ERR_ILLEGAL_SLAB,
    MC_ERR_USAGE_DETAIL,
)
from server.memcache import MEMCACHED_VERSION
from server.memcache_state import (
    CAS_BADVAL,
    CAS_HITS,
    DECR_HITS,
    DELETE_HITS,
    GET_HITS,
    INCR_HITS,
    MAX_SLAB_CLASSES,
    SET_CMDS,
    SLAB_CHUNK_MAX,
    SLAB_PAGE_BYTES,
    SLAB_SIZES,
    TOUCH_HITS,
    MemcacheContext,
    MemcacheService,
    slab_class,
)

EXACT_ITEM_LIMIT: Final = 200_000
_SAMPLE_KEYS: Final = 20_000
CACHEDUMP_MAX_BYTES: Final = 2 * 1024 * 1024

ERROR: Final = b"ERROR\r\n"


# --- items of database 0 ---


class ItemCensus:
    """Items per slab class: count and bytes (memcached's sizes and sizes_bytes)."""

    __slots__ = ("bytes", "count", "total_bytes", "total_count")

    def __init__(self) -> None:
        self.count = [0] * MAX_SLAB_CLASSES
        self.bytes = [0] * MAX_SLAB_CLASSES
        self.total_count = 0
        self.total_bytes = 0


def _items(ctx: MemcacheContext) -> Iterator[tuple[bytes, int, int]]:
    """(key, flags, value length) of the strings of database 0."""
    db = ctx.db
    tables = db.mc
    flags = tables.flags if tables is not None else {}
    for shard in db.data:
        for key, value in shard.items():
            if type(value) is bytes or type(value) is bytearray:
                yield key, flags.get(key, 0), len(value)


def census(ctx: MemcacheContext) -> ItemCensus:
    """Count the items of database 0 by slab class (sampled beyond EXACT_ITEM_LIMIT keys)."""
    result = ItemCensus()
    size = ctx.db.size()
    scale = 1.0
    for seen, (key, flags, nbytes) in enumerate(_items(ctx), 1):
        total = item_total_bytes(len(key), flags, nbytes)
        cls = slab_class(total)
        result.count[cls] += 1
        result.bytes[cls] += total
        if size > EXACT_ITEM_LIMIT and seen >= _SAMPLE_KEYS:
            scale = size / seen
            break
    if scale != 1.0:
        result.count = [round(c * scale) for c in result.count]
        result.bytes = [round(b * scale) for b in result.bytes]
    result.total_count = sum(result.count)
    result.total_bytes = sum(result.bytes)
    return result


def _chunks_per_page(cls: int) -> int:
    return SLAB_PAGE_BYTES // SLAB_SIZES[cls - 1]


def _pages(service: MemcacheService, items: ItemCensus) -> dict[int, int]:
    """Slab pages per class: a page once the class was used, never given back (as memcached)."""
    pages = service.slab_pages
    for cls in range(1, len(SLAB_SIZES) + 1):
        used = items.count[cls]
        if used or service.stats.slab[cls][SET_CMDS]:
            per_page = _chunks_per_page(cls)
            pages[cls] = max(pages.get(cls, 0), 1, -(-used // per_page))
    return pages


# --- stats ---


def _general(ctx: MemcacheContext) -> list[bytes]:
    service = ctx.service
    app = ctx.app
    s = service.stats
    slab = s.slab
    now = time.time()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    items = census(ctx)

    def total(index: int) -> int:
        return sum(row[index] for row in slab)

    loop_name = _loop_name(app.config["loop"])
    fields: list[tuple[bytes, int | bytes | str]] = [
        (b"pid", os.getpid()),
        (b"uptime", int(now - service.started_s)),
        (b"time", int(now)),
        (b"version", MEMCACHED_VERSION),
        (b"libevent", loop_name),
        (b"pointer_size", 64),
        (b"rusage_user", _seconds(usage.ru_utime)),
        (b"rusage_system", _seconds(usage.ru_stime)),
        (b"max_connections", app.config["maxclients"]),
        (b"curr_connections", service.curr_connections),
        (b"total_connections", s.total_conns),
        (b"rejected_connections", s.rejected_conns),
        (b"connection_structures", service.curr_connections + 1),
        (b"response_obj_oom", 0),
        (b"response_obj_count", 1),
        (b"response_obj_bytes", 16384),
        (b"read_buf_count", service.curr_connections + 1),
        (b"read_buf_bytes", 16384 * (service.curr_connections + 1)),
        (b"read_buf_bytes_free", 0),
        (b"read_buf_oom", 0),
        (b"reserved_fds", 5),
        (b"cmd_get", s.get_cmds),
        (b"cmd_set", total(SET_CMDS)),
        (b"cmd_flush", s.flush_cmds),
        (b"cmd_touch", s.touch_cmds),
        (b"cmd_meta", s.meta_cmds),
        (b"get_hits", total(GET_HITS)),
        (b"get_misses", s.get_misses),
        (b"get_expired", s.get_expired),
        (b"get_flushed", s.get_flushed),
        (b"delete_misses", s.delete_misses),
        (b"delete_hits", total(DELETE_HITS)),
        (b"incr_misses", s.incr_misses),
        (b"incr_hits", total(INCR_HITS)),
        (b"decr_misses", s.decr_misses),
        (b"decr_hits", total(DECR_HITS)),
        (b"cas_misses", s.cas_misses),
        (b"cas_hits", total(CAS_HITS)),
        (b"cas_badval", total(CAS_BADVAL)),
        (b"touch_hits", total(TOUCH_HITS)),
        (b"touch_misses", s.touch_misses),
        (b"store_too_large", s.store_too_large),
        (b"store_no_memory", s.store_no_memory),
        (b"auth_cmds", s.auth_cmds),
        (b"auth_errors", s.auth_errors),
        (b"bytes_read", s.bytes_read),
        (b"bytes_written", s.bytes_written),
        (b"limit_maxbytes", app.config["maxmemory"]),
        (b"accepting_conns", 1),
        (b"listen_disabled_num", 0),
        (b"time_in_listen_disabled_us", 0),
        (b"threads", 1),
        (b"conn_yields", 0),
        (b"hash_power_level", max(16, (ctx.db.size() * 2).bit_length())),
        (b"hash_bytes", 8 << max(16, (ctx.db.size() * 2).bit_length())),
        (b"hash_is_expanding", 0),
        (b"slab_reassign_rescues", 0),
        (b"slab_reassign_chunk_rescues", 0),
        (b"slab_reassign_evictions_nomem", 0),
        (b"slab_reassign_inline_reclaim", 0),
        (b"slab_reassign_busy_items", 0),
        (b"slab_reassign_busy_deletes", 0),
        (b"slab_reassign_running", 0),
        (b"slabs_moved", 0),
        (b"lru_crawler_running", 0),
        (b"lru_crawler_starts", 0),
        (b"lru_maintainer_juggles", 0),
        (b"malloc_fails", 0),
        (b"log_worker_dropped", 0),
        (b"log_worker_written", 0),
        (b"log_watcher_skipped", 0),
        (b"log_watcher_sent", 0),
        (b"log_watchers", 0),
        (b"unexpected_napi_ids", 0),
        (b"round_robin_fallback", 0),
        (b"bytes", items.total_bytes),
        (b"curr_items", items.total_count),
        (b"total_items", s.total_items),
        (b"slab_global_page_pool", 0),
        (b"expired_unfetched", 0),
        (b"evicted_unfetched", 0),
        (b"evicted_active", 0),
        (b"evictions", 0),
        (b"reclaimed", 0),
        (b"crawler_reclaimed", 0),
        (b"crawler_items_checked", 0),
        (b"lrutail_reflocked", 0),
        (b"moves_to_cold", 0),
        (b"moves_to_warm", 0),
        (b"moves_within_lru", 0),
        (b"direct_reclaims", 0),
        (b"lru_bumps_dropped", 0),
    ]
    return [stat_line(name, value) for name, value in fields]


def _seconds(value: float) -> bytes:
    whole = int(value)
    return b"%d.%06d" % (whole, round((value - whole) * 1_000_000) % 1_000_000)


def _loop_name(setting: str) -> str:
    """What drives the event loop, in the field where memcached names its libevent."""
    if setting == "asyncio":
        return "asyncio"
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"uvloop-{version('uvloop')}"
    except PackageNotFoundError:
        return "asyncio"


def _settings(ctx: MemcacheContext) -> list[bytes]:
    app = ctx.app
    config = app.config
    service = ctx.service
    port = app.bound.get("memcache", ("", config["memcache-port"]))[1]
    policy = config["maxmemory-policy"]
    fields: list[tuple[bytes, int | bytes | str]] = [
        (b"maxbytes", config["maxmemory"]),
        (b"maxconns", config["maxclients"]),
        (b"tcpport", port),
        (b"udpport", 0),
        (b"inter", config["bind"] or "NULL"),
        (b"verbosity", service.verbosity),
        (b"oldest", max(0, service.oldest_live_s - int(service.started_s))),
        (b"evictions", "off" if policy == "noeviction" else "on"),
        (b"domain_socket", "NULL"),
        (b"umask", "700"),
        (b"shutdown_command", "yes" if config["memcache-enable-shutdown"] else "no"),
        (b"growth_factor", "1.25"),
        (b"chunk_size", 48),
        (b"num_threads", 1),
        (b"num_threads_per_udp", 1),
        (b"stat_key_prefix", ":"),
        (b"detail_enabled", "no"),
        (b"reqs_per_event", 20),
        (b"cas_enabled", "yes"),
        (b"tcp_backlog", config["tcp-backlog"]),
        (b"binding_protocol", "ascii"),
        (b"auth_enabled_sasl", "no"),
        (b"auth_enabled_ascii", "requirepass" if config["requirepass"] else "no"),
        (b"item_size_max", config["memcache-max-item-size"]),
        (b"maxconns_fast", "yes"),
        (b"hashpower_init", 0),
        (b"slab_reassign", "yes"),
        (b"slab_automove", 1),
        (b"slab_automove_ratio", "0.80"),
        (b"slab_automove_window", 30),
        (b"slab_chunk_max", SLAB_CHUNK_MAX),
        (b"lru_crawler", "yes"),
        (b"lru_crawler_sleep", 100),
        (b"lru_crawler_tocrawl", 0),
        (b"tail_repair_time", 0),
        (b"flush_enabled", "yes"),
        (b"dump_enabled", "yes"),
        (b"hash_algorithm", "crc16"),
        (b"lru_maintainer_thread", "yes"),
        (b"lru_segmented", "yes"),
        (b"hot_lru_pct", 20),
        (b"warm_lru_pct", 40),
        (b"hot_max_factor", "0.20"),
        (b"warm_max_factor", "2.00"),
        (b"temp_lru", "no"),
        (b"temporary_ttl", 61),
        (b"idle_timeout", config["timeout"]),
        (b"watcher_logbuf_size", 262144),
        (b"worker_logbuf_size", 65536),
        (b"read_buf_mem_limit", 0),
        (b"track_sizes", "no"),
        (b"inline_ascii_response", "no"),
        (b"ext_item_size", 512),
        (b"ext_item_age", 4294967295),
        (b"ext_low_ttl", 0),
        (b"ext_recache_rate", 2000),
        (b"ext_wbuf_size", 4194304),
        (b"ext_compact_under", 0),
        (b"ext_drop_under", 0),
        (b"ext_max_sleep", 1000000),
        (b"ext_max_frag", "0.80"),
        (b"slab_automove_freeratio", "0.010"),
        (b"ext_drop_unread", "no"),
        (b"ssl_enabled", "no"),
        (b"ssl_chain_cert", "(null)"),
        (b"ssl_key", "(null)"),
        (b"ssl_verify_mode", 0),
        (b"ssl_keyformat", 1),
        (b"ssl_ciphers", "NULL"),
        (b"ssl_ca_cert", "NULL"),
        (b"ssl_wbuf_size", 16384),
        (b"ssl_session_cache", "no"),
        (b"ssl_kernel_tls", "no"),
        (b"ssl_min_version", "tlsv1.2"),
        (b"num_napi_ids", "(null)"),
        (b"memory_file", "(null)"),
    ]
    return [stat_line(name, value) for name, value in fields]


_ITEM_ZERO_FIELDS: Final = (
    b"evicted",
    b"evicted_nonzero",
    b"evicted_time",
    b"outofmemory",
    b"tailrepairs",
    b"reclaimed",
    b"expired_unfetched",
    b"evicted_unfetched",
    b"evicted_active",
    b"crawler_reclaimed",
    b"crawler_items_checked",
    b"lrutail_reflocked",
    b"moves_to_cold",
    b"moves_to_warm",
    b"moves_within_lru",
    b"direct_reclaims",
)


def _item_stats(ctx: MemcacheContext) -> list[bytes]:
    """`stats items`: every item counts as hot (Duocache has one LRU-free pool)."""
    items = census(ctx)
    slab = ctx.service.stats.slab
    out: list[bytes] = []
    for cls in range(1, MAX_SLAB_CLASSES):
        number = items.count[cls]
        if not number:
            continue

        def stat(name: bytes, value: int, cls: int = cls) -> bytes:
            return b"STAT items:%d:%b %d\r\n" % (cls, name, value)

        out += [
            stat(b"number", number),
            stat(b"number_hot", number),
            stat(b"number_warm", 0),
            stat(b"number_cold", 0),
            stat(b"age_hot", 0),
            stat(b"age_warm", 0),
            stat(b"age", 0),
            stat(b"mem_requested", items.bytes[cls]),
        ]
        out += [stat(name, 0) for name in _ITEM_ZERO_FIELDS]
        out += [
            stat(b"hits_to_hot", slab[cls][GET_HITS]),
            stat(b"hits_to_warm", 0),
            stat(b"hits_to_cold", 0),
            stat(b"hits_to_temp", 0),
        ]
    return out


_SLAB_COUNTER_FIELDS: Final = (
    (b"get_hits", GET_HITS),
    (b"cmd_set", SET_CMDS),
    (b"delete_hits", DELETE_HITS),
    (b"incr_hits", INCR_HITS),
    (b"decr_hits", DECR_HITS),
    (b"cas_hits", CAS_HITS),
    (b"cas_badval", CAS_BADVAL),
    (b"touch_hits", TOUCH_HITS),
)


def _slab_stats(ctx: MemcacheContext) -> list[bytes]:
    items = census(ctx)
    pages = _pages(ctx.service, items)
    slab = ctx.service.stats.slab
    out: list[bytes] = []
    total_pages = 0
    for cls in sorted(pages):
        count = pages[cls]
        per_page = _chunks_per_page(cls)
        used = items.count[cls]
        total_pages += count

        def stat(name: bytes, value: int, cls: int = cls) -> bytes:
            return b"STAT %d:%b %d\r\n" % (cls, name, value)

        out += [
            stat(b"chunk_size", SLAB_SIZES[cls - 1]),
            stat(b"chunks_per_page", per_page),
            stat(b"total_pages", count),
            stat(b"total_chunks", count * per_page),
            stat(b"used_chunks", used),
            stat(b"free_chunks", max(0, count * per_page - used)),
            stat(b"free_chunks_end", 0),
        ]
        out += [stat(name, slab[cls][index]) for name, index in _SLAB_COUNTER_FIELDS]
    out.append(stat_line(b"active_slabs", len(pages)))
    out.append(stat_line(b"total_malloced", total_pages * SLAB_PAGE_BYTES))
    return out


def _conn_stats(ctx: MemcacheContext) -> list[bytes]:
    service = ctx.service
    now = time.time()
    now_s = ctx.app.keyspace.clock.second  # the clock of `last_cmd_s`
    out: list[bytes] = []
    listener = _listener(ctx)
    entries: list[tuple[int, list[tuple[bytes, bytes | int]]]] = []
    if listener is not None:
        fd, addr = listener
        entries.append(
            (
                fd,
                [
                    (b"addr", b"tcp:" + addr.encode()),
                    (b"state", b"conn_listening"),
                    (b"secs_since_last_cmd", int(now - service.started_s)),
                ],
            )
        )
    for fd, conn in service.connections.items():
        state = b"conn_parse_cmd" if conn is ctx else conn.state.encode()
        entries.append(
            (
                fd,
                [
                    (b"addr", b"tcp:" + conn.addr.encode()),
                    (b"listen_addr", b"tcp:" + conn.laddr.encode()),
                    (b"state", state),
                    (b"secs_since_last_cmd", now_s - conn.last_cmd_s),
                ],
            )
        )
    for fd, fields in sorted(entries):
        for name, value in fields:
            if isinstance(value, int):
                out.append(b"STAT %d:%b %d\r\n" % (fd, name, value))
            else:
                out.append(b"STAT %d:%b %b\r\n" % (fd, name, value))
    return out


def _listener(ctx: MemcacheContext) -> tuple[int, str] | None:
    bound = ctx.app.bound.get("memcache")
    if bound is None:
        return None
    for server in ctx.app.servers:
        for sock in server.sockets:
            name = sock.getsockname()
            if name[1] == bound[1]:
                return sock.fileno(), f"{name[0]}:{name[1]}"
    return None


def _cachedump(ctx: MemcacheContext, tokens: list[bytes]) -> bytes:
    if len(tokens) < 4:
        return MC_ERR_BAD_COMMAND_LINE
    cls = c_strtoul(tokens[2])
    limit = c_strtoul(tokens[3])
    if cls is None or limit is None:
        return MC_ERR_BAD_FORMAT
    if cls >= MAX_SLAB_CLASSES:
        return MC_ERR_ILLEGAL_SLAB
    db = ctx.db
    tables = db.mc
    out = bytearray()
    shown = 0
    for key, flags, nbytes in _items(ctx):
        if limit and shown >= limit:
            break
        if slab_class(item_total_bytes(len(key), flags, nbytes)) != cls:
            continue
        if tables is not None and tables.state.get(key, 0) & 4:  # KEY_BINARY: not printed
            continue
        deadline = db.get_expire(key)
        line = b"ITEM %b [%d b; %d s]\r\n" % (
            key.split(b"\0", 1)[0],
            nbytes,
            0 if deadline is None else deadline // 1000,
        )
        if len(out) + len(line) + 6 > CACHEDUMP_MAX_BYTES:
            break
        out += line
        shown += 1
    return bytes(out) + END


def mc_stats(ctx: MemcacheContext, req: Command) -> None:
    """stats [settings | items | slabs | sizes | conns | detail | cachedump | reset]"""
    tokens = req.tokens
    out = ctx.out
    if len(tokens) == 1:
        out += _general(ctx)
        out.append(END)
        return
    sub = tokens[1]
    if sub == b"reset":
        ctx.service.stats.reset()
        out.append(RESET)
    elif sub == b"detail":
        if len(tokens) < 3 or tokens[2] not in (b"on", b"off", b"dump"):
            out.append(MC_ERR_USAGE_DETAIL)
        elif tokens[2] == b"dump":
            out.append(END)
        else:
            out.append(b"OK\r\n")
    elif sub == b"settings":
        out += _settings(ctx)
        out.append(END)
    elif sub == b"cachedump":
        out.append(_cachedump(ctx, tokens))
    elif sub == b"conns":
        out += _conn_stats(ctx)
        out.append(END)
    elif sub == b"extstore":
        out.append(END)
    elif sub == b"items":
        out += _item_stats(ctx)
        out.append(END)
    elif sub == b"slabs":
        out += _slab_stats(ctx)
        out.append(END)
    elif sub in (b"sizes", b"sizes_disable"):
        out.append(b"STAT sizes_status disabled\r\nEND\r\n")
    elif sub == b"sizes_enable":
        out.append(b"STAT sizes_status error\r\nSTAT sizes_error disabled by Duocache\r\nEND\r\n")
    else:
        out.append(ERROR)

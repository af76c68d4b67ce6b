"""INFO: the sections and field names of Redis 7.0's genRedisInfoString, from our own state.

Fields whose subject Duocache does not have (jemalloc, Lua, forks, io-threads, active defrag,
modules) are printed with the value Redis prints when that subject is idle or absent, so tools
that parse INFO find every field. Replication and persistence fields start from the current
truth of a primary that has no replicas and saves nothing; those families may register
`INFO_PROVIDERS` to replace a section's lines.

Format: each section is "# Title\\r\\n" and "name:value\\r\\n" lines; sections are separated by
an empty line ("\\r\\n"), as Redis writes them.
"""

from __future__ import annotations

import os
import platform
import resource
import secrets
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from server.commands.table import COMMANDS, CommandSpec
from server.memory import USED_MEMORY_STARTUP, format_bytes

if TYPE_CHECKING:
    from server.app import App

REDIS_VERSION: Final = "7.0.15"
# A section's lines: (name, value) pairs, in Redis's order.
Lines = list[tuple[str, object]]
# Families that own a section's truth (replication, persistence) register a builder here.
INFO_PROVIDERS: dict[str, Callable[[App], Lines]] = {}
# Families that own a few fields of another section (replication's sync_full in stats)
# register a function returning {field: value}; those fields' values are replaced.
INFO_FIELDS: dict[str, list[Callable[[App], dict[str, object]]]] = {}

DEFAULT_SECTIONS: Final = (
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
)
ALL_SECTIONS: Final = (
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
)
_TITLES: Final = {
    "server": "Server",
    "clients": "Clients",
    "memory": "Memory",
    "persistence": "Persistence",
    "stats": "Stats",
    "replication": "Replication",
    "cpu": "CPU",
    "modules": "Modules",
    "commandstats": "Commandstats",
    "errorstats": "Errorstats",
    "latencystats": "Latencystats",
    "cluster": "Cluster",
    "keyspace": "Keyspace",
}
_BUILD_ID: Final = secrets.token_hex(8)[:15]
_REPLID: dict[int, str] = {}


def rss_bytes() -> int:
    """The process's resident set size (used_memory_rss)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _total_system_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (OSError, ValueError):
        return 0


def info_text(app: App, requested: list[str]) -> str:
    """The INFO reply text for the requested sections ([] means "default")."""
    wanted: list[str] = []
    if not requested:
        requested = ["default"]
    for name in requested:
        if name == "default":
            names: tuple[str, ...] = DEFAULT_SECTIONS
        elif name in ("all", "everything"):
            names = ALL_SECTIONS
        else:
            names = (name,)
        for each in names:
            if each in _TITLES and each not in wanted:
                wanted.append(each)
    # Keep Redis's section order whatever order they were asked in.
    ordered = [s for s in ALL_SECTIONS if s in wanted]
    parts = []
    for section in ordered:
        builder = INFO_PROVIDERS.get(section) or _BUILDERS[section]
        lines = builder(app)
        for fields in INFO_FIELDS.get(section, ()):
            values = fields(app)
            lines = [(k, values.get(k, v)) for k, v in lines]
        body = "".join(f"{k}:{v}\r\n" for k, v in lines)
        parts.append(f"# {_TITLES[section]}\r\n{body}")
    return "\r\n".join(parts)


# --- sections ---


def _server(app: App) -> Lines:
    now = time.time()
    uptime = int(time.monotonic() - app.started_monotonic)
    config = app.config
    mode = (
        "sentinel"
        if config.sentinel_mode
        else ("cluster" if config["cluster-enabled"] else "standalone")
    )
    uname = platform.uname()
    bound = app.bound.get("resp")
    return [
        ("redis_version", REDIS_VERSION),
        ("redis_git_sha1", "00000000"),
        ("redis_git_dirty", 0),
        ("redis_build_id", _BUILD_ID),
        ("redis_mode", mode),
        ("os", f"{uname.system} {uname.release} {uname.machine}"),
        ("arch_bits", 64 if sys.maxsize > 2**32 else 32),
        ("monotonic_clock", "POSIX clock_gettime"),
        ("multiplexing_api", "epoll" if sys.platform.startswith("linux") else "kqueue"),
        ("atomicvar_api", "c11-builtin"),
        ("gcc_version", "0.0.0"),
        ("process_id", app.pid),
        ("process_supervised", "no"),
        ("run_id", app.run_id),
        ("tcp_port", bound[1] if bound else config["port"]),
        ("server_time_usec", time.time_ns() // 1000),
        ("uptime_in_seconds", uptime),
        ("uptime_in_days", uptime // 86400),
        ("hz", max(1, min(500, config["hz"]))),
        ("configured_hz", config["hz"]),
        ("lru_clock", int(now) & ((1 << 24) - 1)),
        ("executable", os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""),
        ("config_file", os.path.abspath(config.config_file) if config.config_file else ""),
        ("io_threads_active", 0),
    ]


def _clients(app: App) -> Lines:
    clients = list(app.clients.values())
    return [
        ("connected_clients", sum(1 for c in clients if not c.is_replica)),
        ("cluster_connections", 0),
        ("maxclients", app.config["maxclients"]),
        ("client_recent_max_input_buffer", 0),
        ("client_recent_max_output_buffer", 0),
        ("blocked_clients", sum(1 for c in clients if c.blocked)),
        ("tracking_clients", 0),
        ("clients_in_timeout_table", sum(1 for c in clients if c.blocked)),
    ]


def _ratio(a: float, b: float) -> str:
    return f"{(a / b) if b else 0:.2f}"


def _memory(app: App) -> Lines:
    memory = app.memory
    used = memory.used()
    peak = max(memory.peak, used)
    rss = rss_bytes()
    dataset = memory.dataset()
    system = _total_system_memory()
    maxmemory = memory.maxmemory
    return [
        ("used_memory", used),
        ("used_memory_human", format_bytes(used)),
        ("used_memory_rss", rss),
        ("used_memory_rss_human", format_bytes(rss)),
        ("used_memory_peak", peak),
        ("used_memory_peak_human", format_bytes(peak)),
        ("used_memory_peak_perc", f"{used * 100 / peak if peak else 0:.2f}%"),
        ("used_memory_overhead", USED_MEMORY_STARTUP),
        ("used_memory_startup", USED_MEMORY_STARTUP),
        ("used_memory_dataset", dataset),
        ("used_memory_dataset_perc", f"{dataset * 100 / used if used else 0:.2f}%"),
        ("allocator_allocated", used),
        ("allocator_active", used),
        ("allocator_resident", rss),
        ("total_system_memory", system),
        ("total_system_memory_human", format_bytes(system)),
        ("used_memory_lua", 0),
        ("used_memory_vm_eval", 0),
        ("used_memory_lua_human", "0B"),
        ("used_memory_scripts_eval", 0),
        ("number_of_cached_scripts", 0),
        ("number_of_functions", 0),
        ("number_of_libraries", 0),
        ("used_memory_vm_functions", 0),
        ("used_memory_vm_total", 0),
        ("used_memory_vm_total_human", "0B"),
        ("used_memory_functions", 0),
        ("used_memory_scripts", 0),
        ("used_memory_scripts_human", "0B"),
        ("maxmemory", maxmemory),
        ("maxmemory_human", format_bytes(maxmemory)),
        ("maxmemory_policy", memory.policy),
        ("allocator_frag_ratio", "1.00"),
        ("allocator_frag_bytes", 0),
        ("allocator_rss_ratio", _ratio(rss, used)),
        ("allocator_rss_bytes", rss - used),
        ("rss_overhead_ratio", "1.00"),
        ("rss_overhead_bytes", 0),
        ("mem_fragmentation_ratio", _ratio(rss, used)),
        ("mem_fragmentation_bytes", rss - used),
        ("mem_not_counted_for_evict", 0),
        ("mem_replication_backlog", 0),
        ("mem_total_replication_buffers", 0),
        ("mem_clients_slaves", 0),
        ("mem_clients_normal", 0),
        ("mem_cluster_links", 0),
        ("mem_aof_buffer", 0),
        ("mem_allocator", "libc"),
        ("active_defrag_running", 0),
        ("lazyfree_pending_objects", 0),
        ("lazyfreed_objects", 0),
    ]


def _persistence(app: App) -> Lines:
    aof = app.config["appendonly"]
    return [
        ("loading", int(app.loading)),
        ("async_loading", 0),
        ("current_cow_peak", 0),
        ("current_cow_size", 0),
        ("current_cow_size_age", 0),
        ("current_fork_perc", "0.00"),
        ("current_save_keys_processed", 0),
        ("current_save_keys_total", 0),
        ("rdb_changes_since_last_save", app.dirty),
        ("rdb_bgsave_in_progress", 0),
        ("rdb_last_save_time", app.last_save_s),
        ("rdb_last_bgsave_status", "ok"),
        ("rdb_last_bgsave_time_sec", -1),
        ("rdb_current_bgsave_time_sec", -1),
        ("rdb_saves", 0),
        ("rdb_last_cow_size", 0),
        ("rdb_last_load_keys_expired", 0),
        ("rdb_last_load_keys_loaded", 0),
        ("aof_enabled", int(aof)),
        ("aof_rewrite_in_progress", 0),
        ("aof_rewrite_scheduled", 0),
        ("aof_last_rewrite_time_sec", -1),
        ("aof_current_rewrite_time_sec", -1),
        ("aof_last_bgrewrite_status", "ok"),
        ("aof_rewrites", 0),
        ("aof_rewrites_consecutive_failures", 0),
        ("aof_last_write_status", "ok"),
        ("aof_last_cow_size", 0),
        ("module_fork_in_progress", 0),
        ("module_fork_last_cow_size", 0),
    ]


def _stats(app: App) -> Lines:
    keyspace = app.keyspace
    return [
        ("total_connections_received", app.connections_received),
        ("total_commands_processed", app.commands_processed),
        ("instantaneous_ops_per_sec", int(app.instantaneous("ops"))),
        ("total_net_input_bytes", app.net_input_bytes),
        ("total_net_output_bytes", app.net_output_bytes),
        ("total_net_repl_input_bytes", 0),
        ("total_net_repl_output_bytes", 0),
        ("instantaneous_input_kbps", f"{app.instantaneous('in') / 1024:.2f}"),
        ("instantaneous_output_kbps", f"{app.instantaneous('out') / 1024:.2f}"),
        ("instantaneous_input_repl_kbps", "0.00"),
        ("instantaneous_output_repl_kbps", "0.00"),
        ("rejected_connections", app.rejected_connections),
        ("sync_full", 0),
        ("sync_partial_ok", 0),
        ("sync_partial_err", 0),
        ("expired_keys", keyspace.expired_keys),
        ("expired_stale_perc", "0.00"),
        ("expired_time_cap_reached_count", 0),
        ("expire_cycle_cpu_milliseconds", 0),
        ("evicted_keys", app.evicted_keys),
        ("evicted_clients", 0),
        ("total_eviction_exceeded_time", 0),
        ("current_eviction_exceeded_time", 0),
        ("keyspace_hits", keyspace.hits),
        ("keyspace_misses", keyspace.misses),
        ("pubsub_channels", 0),
        ("pubsub_patterns", 0),
        ("pubsubshard_channels", 0),
        ("latest_fork_usec", 0),
        ("total_forks", 0),
        ("migrate_cached_sockets", 0),
        ("slave_expires_tracked_keys", 0),
        ("active_defrag_hits", 0),
        ("active_defrag_misses", 0),
        ("active_defrag_key_hits", 0),
        ("active_defrag_key_misses", 0),
        ("total_active_defrag_time", 0),
        ("current_active_defrag_time", 0),
        ("tracking_total_keys", 0),
        ("tracking_total_items", 0),
        ("tracking_total_prefixes", 0),
        ("unexpected_error_replies", 0),
        ("total_error_replies", app.total_error_replies),
        ("dump_payload_sanitizations", 0),
        ("total_reads_processed", app.commands_processed),
        ("total_writes_processed", app.commands_processed),
        ("io_threaded_reads_processed", 0),
        ("io_threaded_writes_processed", 0),
        ("reply_buffer_shrinks", 0),
        ("reply_buffer_expands", 0),
    ]


def _replication(app: App) -> Lines:
    replid = _REPLID.setdefault(id(app), secrets.token_hex(20))
    return [
        ("role", "slave" if app.is_replica else "master"),
        ("connected_slaves", 0),
        ("master_failover_state", "no-failover"),
        ("master_replid", replid),
        ("master_replid2", "0" * 40),
        ("master_repl_offset", 0),
        ("second_repl_offset", -1),
        ("repl_backlog_active", 0),
        ("repl_backlog_size", app.config["repl-backlog-size"]),
        ("repl_backlog_first_byte_offset", 0),
        ("repl_backlog_histlen", 0),
    ]


def _cpu(app: App) -> Lines:
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return [
        ("used_cpu_sys", f"{me.ru_stime:.6f}"),
        ("used_cpu_user", f"{me.ru_utime:.6f}"),
        ("used_cpu_sys_children", f"{children.ru_stime:.6f}"),
        ("used_cpu_user_children", f"{children.ru_utime:.6f}"),
        ("used_cpu_sys_main_thread", f"{me.ru_stime:.6f}"),
        ("used_cpu_user_main_thread", f"{me.ru_utime:.6f}"),
    ]


def _modules(app: App) -> Lines:
    return []


def _all_specs() -> list[CommandSpec]:
    out: list[CommandSpec] = []
    for spec in COMMANDS.values():
        if spec.subcommands:
            out.extend(spec.subcommands.values())
        else:
            out.append(spec)
    return out


def _commandstats(app: App) -> Lines:
    lines: Lines = []
    for spec in _all_specs():
        if not (spec.calls or spec.failed_calls or spec.rejected_calls):
            continue
        per_call = spec.usec / spec.calls if spec.calls else 0.0
        lines.append(
            (
                f"cmdstat_{spec.name}",
                f"calls={spec.calls},usec={spec.usec},usec_per_call={per_call:.2f},"
                f"rejected_calls={spec.rejected_calls},failed_calls={spec.failed_calls}",
            )
        )
    return lines


def _errorstats(app: App) -> Lines:
    return [(f"errorstat_{code}", f"count={n}") for code, n in sorted(app.error_stats.items())]


def _latencystats(app: App) -> Lines:
    # Per-command latency histograms are not kept (they would cost on every call); the
    # section is present and empty, as Redis prints it with latency-tracking off.
    return []


def _cluster(app: App) -> Lines:
    return [("cluster_enabled", int(bool(app.config["cluster-enabled"])))]


def _keyspace(app: App) -> Lines:
    lines: Lines = []
    now = app.keyspace.clock.now_ms()
    for db in app.keyspace.dbs:
        keys = db.size()
        if not keys:
            continue
        expires = db.volatile_size()
        avg_ttl = _avg_ttl(db.expires, now) if expires else 0
        lines.append((f"db{db.index}", f"keys={keys},expires={expires},avg_ttl={avg_ttl}"))
    return lines


def _avg_ttl(shards: list[dict[bytes, int]], now: int) -> int:
    """The average remaining TTL in ms, estimated from up to 64 sampled deadlines per call
    (Redis keeps a running estimate fed by its expire cycle's samples)."""
    total = 0
    seen = 0
    for shard in shards:
        for deadline in shard.values():
            if deadline > now:
                total += deadline - now
                seen += 1
            if seen >= 64:
                return total // seen
    return total // seen if seen else 0


_BUILDERS: Final[dict[str, Callable[[App], Lines]]] = {
    "server": _server,
    "clients": _clients,
    "memory": _memory,
    "persistence": _persistence,
    "stats": _stats,
    "replication": _replication,
    "cpu": _cpu,
    "modules": _modules,
    "commandstats": _commandstats,
    "errorstats": _errorstats,
    "latencystats": _latencystats,
    "cluster": _cluster,
    "keyspace": _keyspace,
}

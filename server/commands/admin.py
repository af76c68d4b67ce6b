"""Server administration (Redis group "server" and OBJECT): CONFIG, INFO, TIME, MEMORY,
SLOWLOG, LATENCY, MONITOR, DEBUG, SHUTDOWN, OBJECT.

CLIENT lives with the other connection commands (commands/connection.py); INFO's text is built
in server/info.py and the memory limit in server/memory.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from protocol.numbers import parse_float
from protocol.resp import OK, RespError, SimpleString, Verbatim
from server.commands.args import int_arg
from server.commands.persistence import debug_reload
from server.commands.table import Flag, Reply, command, container
from server.config import ConfigSetError
from server.context import NO_REPLY, CommandContext
from server.errors import (
    ERR_DEBUG_DISABLED,
    ERR_LFU_NOT_SELECTED,
    ERR_LFU_SELECTED,
    ERR_NO_CONFIG_FILE,
    ERR_REWRITE_FAILED,
    ERR_SHUTDOWN_ABORT_NOT_RUNNING,
    ERR_SHUTDOWN_ERRORS,
    ERR_SLOWLOG_COUNT,
    ERR_SYNTAX,
    CommandError,
    err_subcommand_syntax,
)
from server.info import info_text
from server.memory import format_bytes
from server.rewrite import rewrite_config
from storage.keyspace import ACCESS_LFU
from storage.sizes import entry_size, value_size
from storage.values import encoding_name, string_encoding

logger = logging.getLogger(__name__)

_ADMIN = Flag.ADMIN | Flag.NOSCRIPT | Flag.LOADING | Flag.STALE


def help_reply(argv: list[bytes], lines: Sequence[str]) -> list[SimpleString]:
    """addReplyHelp: a header naming the command, the lines, then HELP's own entry."""
    name = argv[0].decode("utf-8", "surrogateescape").upper()
    out = [
        SimpleString(f"{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".encode())
    ]
    out.extend(SimpleString(line.encode()) for line in lines)
    out.append(SimpleString(b"HELP"))
    out.append(SimpleString(b"    Prints this help."))
    return out


def text_reply(ctx: CommandContext, text: str) -> Reply:
    """A report: a verbatim string (txt) in RESP3, a bulk string in RESP2."""
    data = text.encode("utf-8", "surrogateescape")
    return Verbatim(data, b"txt") if ctx.resp3 else data


# --- CONFIG ---

container("CONFIG", group="server", since="2.0.0")


@command("CONFIG|GET", arity=-3, flags=_ADMIN, group="server", since="2.0.0")
def config_get_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """CONFIG GET parameter [parameter ...]"""
    return dict(ctx.app.config.matching(argv[2:]))


@command("CONFIG|SET", arity=-4, flags=_ADMIN, group="server", since="2.0.0")
def config_set_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """CONFIG SET parameter value [parameter value ...]"""
    if len(argv) % 2:
        raise CommandError(ERR_SYNTAX)
    pairs = [(argv[i], argv[i + 1]) for i in range(2, len(argv), 2)]
    try:
        ctx.app.config.set_many(pairs, loading=ctx.app.loading)
    except ConfigSetError as e:
        raise CommandError(e.text) from None
    return OK


@command("CONFIG|RESETSTAT", arity=2, flags=_ADMIN, group="server", since="2.0.0")
def config_resetstat_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """CONFIG RESETSTAT"""
    ctx.app.reset_stats()
    return OK


@command("CONFIG|REWRITE", arity=2, flags=_ADMIN, group="server", since="2.8.0")
def config_rewrite_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """CONFIG REWRITE"""
    config = ctx.app.config
    if config.config_file is None:
        raise CommandError(ERR_NO_CONFIG_FILE)
    try:
        rewrite_config(config, config.config_file)
    except OSError as e:
        logger.warning("CONFIG REWRITE failed: %s", e.strerror)
        raise CommandError(ERR_REWRITE_FAILED % e.strerror) from None
    logger.info("CONFIG REWRITE executed with success.")
    return OK


@command("CONFIG|HELP", arity=2, flags=Flag.LOADING | Flag.STALE, group="server", since="5.0.0")
def config_help_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """CONFIG HELP"""
    return help_reply(
        argv,
        [
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    )


# --- INFO, TIME ---


@command(
    "INFO",
    arity=-1,
    flags=Flag.LOADING | Flag.STALE | Flag.SENTINEL,
    acl=("dangerous",),
    group="server",
)
def info_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """INFO [section [section ...]]"""
    sections = [a.decode("utf-8", "surrogateescape").lower() for a in argv[1:]]
    return text_reply(ctx, info_text(ctx.app, sections))


@command(
    "TIME", arity=1, flags=Flag.LOADING | Flag.STALE | Flag.FAST, group="server", since="2.6.0"
)
def time_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """TIME"""
    now_us = time.time_ns() // 1000
    return [str(now_us // 1_000_000).encode(), str(now_us % 1_000_000).encode()]


# --- MEMORY ---

container("MEMORY", group="server", since="4.0.0")


@command(
    "MEMORY|USAGE", arity=-3, flags=Flag.READONLY, keys=(2, 2, 1), group="server", since="4.0.0"
)
def memory_usage_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """MEMORY USAGE key [SAMPLES count]"""
    samples = 5
    i = 3
    while i < len(argv):
        if argv[i].upper() == b"SAMPLES" and i + 1 < len(argv):
            samples = int_arg(argv[i + 1])
            if samples < 0:
                raise CommandError(ERR_SYNTAX)
            i += 2
        else:
            raise CommandError(ERR_SYNTAX)
    keyspace = ctx.app.keyspace
    keyspace.no_touch = True
    try:
        value = ctx.db.get(argv[2])
    finally:
        keyspace.no_touch = False
    if value is None:
        return None
    return entry_size(argv[2]) + value_size(value, samples)


@command("MEMORY|STATS", arity=2, group="server", since="4.0.0")
def memory_stats_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """MEMORY STATS"""
    app = ctx.app
    memory = app.memory
    from server.info import rss_bytes
    from server.memory import USED_MEMORY_STARTUP

    used = memory.used()
    dataset = memory.dataset()
    rss = rss_bytes()
    keys = sum(db.size() for db in app.keyspace.dbs)
    stats: dict[bytes, Any] = {
        b"peak.allocated": memory.peak,
        b"total.allocated": used,
        b"startup.allocated": USED_MEMORY_STARTUP,
        b"replication.backlog": 0,
        b"clients.slaves": 0,
        b"clients.normal": 0,
        b"cluster.links": 0,
        b"aof.buffer": 0,
        b"lua.caches": 0,
        b"functions.caches": 0,
    }
    for db in app.keyspace.dbs:
        n = db.size()
        if n:
            stats[f"db.{db.index}".encode()] = {
                b"overhead.hashtable.main": n * 36,
                b"overhead.hashtable.expires": db.volatile_size() * 36,
                b"overhead.hashtable.slot-to-keys": 0,
            }
    stats.update(
        {
            b"overhead.total": USED_MEMORY_STARTUP,
            b"keys.count": keys,
            b"keys.bytes-per-key": (dataset // keys) if keys else 0,
            b"dataset.bytes": dataset,
            b"dataset.percentage": (dataset * 100.0 / used) if used else 0.0,
            b"peak.percentage": (used * 100.0 / memory.peak) if memory.peak else 0.0,
            b"allocator.allocated": used,
            b"allocator.active": used,
            b"allocator.resident": rss,
            b"allocator-fragmentation.ratio": 1.0,
            b"allocator-fragmentation.bytes": 0,
            b"allocator-rss.ratio": (rss / used) if used else 0.0,
            b"allocator-rss.bytes": rss - used,
            b"rss-overhead.ratio": 1.0,
            b"rss-overhead.bytes": 0,
            b"fragmentation": (rss / used) if used else 0.0,
            b"fragmentation.bytes": rss - used,
        }
    )
    if ctx.resp3:
        return stats
    flat: list[Any] = []
    for key, value in stats.items():
        flat.append(key)
        flat.append(_flatten(value))
    return flat


def _flatten(value: Any) -> Any:
    """MEMORY STATS in RESP2: nested maps become flat arrays, doubles become bulk strings."""
    if isinstance(value, dict):
        out: list[Any] = []
        for k, v in value.items():
            out.extend((k, _flatten(v)))
        return out
    if isinstance(value, float):
        return repr(value).encode()
    return value


@command("MEMORY|DOCTOR", arity=2, group="server", since="4.0.0")
def memory_doctor_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """MEMORY DOCTOR"""
    app = ctx.app
    memory = app.memory
    if memory.dataset() < 5 * 1024 * 1024:
        report = (
            "Hi Sam, this instance is empty or is using very little memory, my issues detector "
            "can't be used in these conditions. Please, leave for your mission on Earth and fill "
            "it with some data. The new Sam and I will be back to our programming as soon as I "
            "finished rebooting."
        )
    else:
        used = memory.used()
        problems = []
        if memory.peak > used * 3 // 2:
            problems.append(
                f" * Peak memory: in the past this instance used more than 150% the memory that "
                f"is currently using ({format_bytes(memory.peak)} against "
                f"{format_bytes(used)} now)."
            )
        if memory.maxmemory and used > memory.maxmemory:
            problems.append(" * Used memory is over maxmemory.")
        if problems:
            report = (
                "Sam, I detected a few issues in this Redis instance memory implants:\n\n"
                + "\n\n".join(problems)
                + "\n\nI'm here to keep you safe, Sam. I want to help you.\n"
            )
        else:
            report = "Hi Sam, I can't find any memory issue in your instance. I can only account "
            report += "for what occurs on this base."
    return text_reply(ctx, report)


@command("MEMORY|MALLOC-STATS", arity=2, group="server", since="4.0.0")
def memory_malloc_stats_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """MEMORY MALLOC-STATS"""
    return text_reply(ctx, "Stats not supported for the current allocator")


@command("MEMORY|PURGE", arity=2, group="server", since="4.0.0")
def memory_purge_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """MEMORY PURGE"""
    return OK


@command("MEMORY|HELP", arity=2, flags=Flag.LOADING | Flag.STALE, group="server", since="4.0.0")
def memory_help_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """MEMORY HELP"""
    return help_reply(
        argv,
        [
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    )


# --- SLOWLOG ---

container("SLOWLOG", group="server", since="2.2.12")
_SLOWLOG = Flag.ADMIN | Flag.LOADING | Flag.STALE


@command("SLOWLOG|GET", arity=-2, flags=_SLOWLOG, group="server", since="2.2.12")
def slowlog_get_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SLOWLOG GET [count]"""
    if len(argv) > 3:
        raise CommandError(err_subcommand_syntax(argv))
    entries = ctx.app.slowlog
    count = 10
    if len(argv) == 3:
        count = int_arg(argv[2], ERR_SLOWLOG_COUNT)
        if count < -1:
            raise CommandError(ERR_SLOWLOG_COUNT)
        if count == -1:
            count = len(entries)
    out = []
    for entry_id, when, usec, shown, addr, name in list(entries)[:count]:
        out.append([entry_id, when, usec, list(shown), addr.encode(), name])
    return out


@command("SLOWLOG|LEN", arity=2, flags=_SLOWLOG, group="server", since="2.2.12")
def slowlog_len_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SLOWLOG LEN"""
    return len(ctx.app.slowlog)


@command("SLOWLOG|RESET", arity=2, flags=_SLOWLOG, group="server", since="2.2.12")
def slowlog_reset_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SLOWLOG RESET"""
    ctx.app.slowlog.clear()
    return OK


@command("SLOWLOG|HELP", arity=2, flags=Flag.LOADING | Flag.STALE, group="server", since="6.2.0")
def slowlog_help_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SLOWLOG HELP"""
    return help_reply(
        argv,
        [
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    )


# --- LATENCY ---

container("LATENCY", group="server", since="2.8.13")


@command("LATENCY|LATEST", arity=2, flags=_ADMIN, group="server", since="2.8.13")
def latency_latest_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """LATENCY LATEST"""
    out = []
    for event, (samples, peak) in ctx.app.latency_events.items():
        last = samples[-1]
        out.append([event.encode(), last[0], last[1], peak[0]])
    return out


@command("LATENCY|HISTORY", arity=3, flags=_ADMIN, group="server", since="2.8.13")
def latency_history_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """LATENCY HISTORY event"""
    entry = ctx.app.latency_events.get(argv[2].decode("utf-8", "surrogateescape"))
    if entry is None:
        return []
    return [[when, ms] for when, ms in entry[0]]


@command("LATENCY|RESET", arity=-2, flags=_ADMIN, group="server", since="2.8.13")
def latency_reset_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """LATENCY RESET [event [event ...]]"""
    events = ctx.app.latency_events
    if len(argv) == 2:
        count = len(events)
        events.clear()
        return count
    resets = 0
    for raw in argv[2:]:
        if events.pop(raw.decode("utf-8", "surrogateescape"), None) is not None:
            resets += 1
    return resets


@command("LATENCY|DOCTOR", arity=2, flags=_ADMIN, group="server", since="2.8.13")
def latency_doctor_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """LATENCY DOCTOR"""
    app = ctx.app
    if not app.latency_events:
        report = (
            "Dave, no latency spike was observed during the lifetime of this Redis instance, "
            "not in the slightest bit. I honestly think you ought to sleep tonight.\n"
        )
    else:
        lines = [
            "Dave, I have observed latency spikes in this Redis instance. You don't mind "
            "talking about it, do you Dave?\n"
        ]
        for n, (event, (samples, peak)) in enumerate(app.latency_events.items(), 1):
            total = sum(ms for _, ms in samples)
            lines.append(
                f"{n}. {event}: {len(samples)} latency spikes (average {total // len(samples)}ms, "
                f"mean deviation 0ms, period 0 sec). Worst all time event {peak[0]}ms.\n"
            )
        lines.append("\nI have a few advices for you:\n\n")
        lines.append(
            "- Check your Slow Log to understand what are the commands you are running which "
            "are too slow to execute. Please check https://redis.io/commands/slowlog for more "
            "information.\n"
        )
        report = "".join(lines)
    return text_reply(ctx, report)


@command("LATENCY|HELP", arity=2, flags=Flag.LOADING | Flag.STALE, group="server", since="2.8.13")
def latency_help_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """LATENCY HELP"""
    return help_reply(
        argv,
        [
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram "
            "for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    )


# --- MONITOR ---


@command("MONITOR", arity=1, flags=_ADMIN, group="server")
def monitor_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """MONITOR"""
    # A replica link cannot become a monitor; a monitor asking again is a no-op (Redis ignores it).
    if ctx.is_replica or ctx.is_primary_link:
        return NO_REPLY
    monitors = ctx.app.monitors
    if ctx not in monitors:
        monitors.append(ctx)
    return OK


# --- DEBUG ---


def _debug_allowed(ctx: CommandContext) -> bool:
    mode = ctx.app.config["enable-debug-command"]
    if mode == "yes":
        return True
    return mode == "local" and ctx.addr.rsplit(":", 1)[0] in ("127.0.0.1", "::1")


@command("DEBUG", arity=-2, flags=_ADMIN | Flag.PROTECTED, group="server")
def debug_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """DEBUG subcommand [argument]"""
    if not _debug_allowed(ctx):
        raise CommandError(ERR_DEBUG_DISABLED)
    sub = argv[1].upper()
    n = len(argv)
    app = ctx.app
    if sub == b"RELOAD":
        return debug_reload(ctx, argv[2:])
    if sub == b"HELP" and n == 2:
        return help_reply(
            argv,
            [
                "RELOAD [option ...]",
                "    Save the RDB on disk and reload it back to memory. Options: MERGE, NOFLUSH,",
                "    NOSAVE.",
                "ERROR <string>",
                "    Return a Redis protocol error with <string> as message. Useful for clients",
                "    unit tests to simulate Redis errors.",
                "LOG <message>",
                "    Write <message> to the server log.",
                "OBJECT <key>",
                "    Show low level info about `key` and associated value.",
                "PROTOCOL <type>",
                "    Reply with a test value of the specified type. <type> can be: string,",
                "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
                "    true, false.",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background when they are not",
                "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
                "    default.",
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
            ],
        )
    if sub == b"SLEEP" and n == 3:
        seconds = parse_float(argv[2]) or 0.0
        # Redis blocks its event loop for this long; so do we, on purpose.
        if seconds > 0:
            time.sleep(seconds)
        return OK
    if sub == b"SET-ACTIVE-EXPIRE" and n == 3:
        app.active_expire_enabled = argv[2] != b"0"
        return OK
    if sub == b"LOG" and n == 3:
        logger.warning("DEBUG LOG: %s", argv[2].decode("utf-8", "replace"))
        return OK
    if sub == b"ERROR" and n == 3:
        return RespError(argv[2].decode("utf-8", "surrogateescape"))
    if sub == b"OBJECT" and n == 3:
        value = ctx.db.peek(argv[2])
        if value is None:
            raise CommandError("ERR no such key")
        idle = app.keyspace.idle_ms(ctx.db, argv[2]) // 1000
        encoding = encoding_name(value).decode()
        length = len(value) if isinstance(value, (bytes, bytearray)) else value_size(value)
        return SimpleString(
            f"Value at:0x{id(value):x} refcount:{_refcount(ctx, value)} encoding:{encoding} "
            f"serializedlength:{length} lru:{int(time.time()) & 0xFFFFFF} "
            f"lru_seconds_idle:{idle}".encode()
        )
    if sub == b"PROTOCOL" and n == 3:
        return _debug_protocol(ctx, argv[2].lower())
    raise CommandError(err_subcommand_syntax(argv))


def _debug_protocol(ctx: CommandContext, name: bytes) -> Reply:
    from protocol.resp import RespSet

    values: dict[bytes, Any] = {
        b"string": b"Hello World",
        b"integer": 12345,
        b"double": 3.141,
        b"null": None,
        b"array": [0, 1, 2],
        b"set": RespSet([0, 1, 2]),
        b"map": {0: False, 1: True, 2: False},
        b"true": True,
        b"false": False,
        b"verbatim": Verbatim(b"This is a verbatim\nstring", b"txt"),
    }
    if name in values:
        return values[name]
    raise CommandError(
        "ERR Wrong protocol type name. Please use one of the following: string|integer|"
        "double|bignum|null|array|set|map|attrib|push|verbatim|true|false"
    )


# --- SHUTDOWN ---


@command(
    "SHUTDOWN",
    arity=-1,
    flags=_ADMIN | Flag.NO_MULTI | Flag.SENTINEL | Flag.ALLOW_BUSY,
    group="server",
)
def shutdown_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]"""
    flags: set[str] = set()
    abort = False
    for arg in argv[1:]:
        word = arg.lower()
        if word in (b"nosave", b"save", b"now", b"force"):
            flags.add(word.decode())
        elif word == b"abort":
            abort = True
        else:
            raise CommandError(ERR_SYNTAX)
    if (abort and flags) or {"save", "nosave"} <= flags:
        raise CommandError(ERR_SYNTAX)
    app = ctx.app
    if abort:
        # Our shutdown never waits for replicas, so there is nothing in progress to abort.
        raise CommandError(ERR_SHUTDOWN_ABORT_NOT_RUNNING)
    if app.loading or app.config.sentinel_mode:
        flags |= {"nosave", "force"}
    # Steps that may refuse (a failed final save without FORCE) run now, so the client
    # can be told; the rest runs in serve.shutdown through app.shutdown_hooks.
    for prepare in app.shutdown_prepare:
        if not prepare(frozenset(flags)) and "force" not in flags:
            raise CommandError(ERR_SHUTDOWN_ERRORS)
    app.shutdown_flags = frozenset(flags)
    logger.warning("User requested shutdown...")
    app.request_shutdown(0)
    # Redis sends no reply: the client sees the connection close.
    ctx.close_after_reply = True
    return NO_REPLY


# --- OBJECT ---

container("OBJECT", group="generic", since="2.2.3")
_OBJECT = Flag.READONLY


def _object_lookup(ctx: CommandContext, key: bytes) -> Any:
    keyspace = ctx.app.keyspace
    keyspace.no_touch = True
    try:
        return ctx.db.get(key)
    finally:
        keyspace.no_touch = False


def _refcount(ctx: CommandContext, value: Any) -> int:
    """Small integers are shared objects in Redis (refcount INT_MAX) unless an LRU/LFU
    policy needs per-key access data."""
    if type(value) is bytes and string_encoding(value) == b"int" and 0 <= int(value) < 10000:
        memory = ctx.app.memory
        if not (memory.maxmemory and memory.policy.endswith(("-lru", "-lfu"))):
            return 2147483647
    return 1


@command(
    "OBJECT|ENCODING",
    arity=3,
    flags=_OBJECT,
    keys=(2, 2, 1),
    acl=("keyspace",),
    group="generic",
    since="2.2.3",
)
def object_encoding_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """OBJECT ENCODING key"""
    value = _object_lookup(ctx, argv[2])
    return None if value is None else encoding_name(value)


@command(
    "OBJECT|REFCOUNT",
    arity=3,
    flags=_OBJECT,
    keys=(2, 2, 1),
    acl=("keyspace",),
    group="generic",
    since="2.2.3",
)
def object_refcount_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """OBJECT REFCOUNT key"""
    value = _object_lookup(ctx, argv[2])
    return None if value is None else _refcount(ctx, value)


@command(
    "OBJECT|IDLETIME",
    arity=3,
    flags=_OBJECT,
    keys=(2, 2, 1),
    acl=("keyspace",),
    group="generic",
    since="2.2.3",
)
def object_idletime_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """OBJECT IDLETIME key"""
    value = _object_lookup(ctx, argv[2])
    if value is None:
        return None
    app = ctx.app
    if app.memory.policy.endswith("-lfu"):
        raise CommandError(ERR_LFU_SELECTED)
    app.memory.want_idle_time()
    return app.keyspace.idle_ms(ctx.db, argv[2]) // 1000


@command(
    "OBJECT|FREQ",
    arity=3,
    flags=_OBJECT,
    keys=(2, 2, 1),
    acl=("keyspace",),
    group="generic",
    since="4.0.0",
)
def object_freq_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """OBJECT FREQ key"""
    value = _object_lookup(ctx, argv[2])
    if value is None:
        return None
    keyspace = ctx.app.keyspace
    if keyspace.access_mode != ACCESS_LFU:
        raise CommandError(ERR_LFU_NOT_SELECTED)
    return keyspace.lfu_counter(ctx.db, argv[2])


@command(
    "OBJECT|HELP",
    arity=2,
    flags=Flag.LOADING | Flag.STALE,
    acl=("keyspace",),
    group="generic",
    since="6.2.0",
)
def object_help_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """OBJECT HELP"""
    return help_reply(
        argv,
        [
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    )

"""Configuration: redis.conf-style directives with Redis's names, from a file or argv.

`PARAMS` declares every directive once, with Redis 7.0's type, default, bounds and flags
(config.c's table), plus Duocache's own. `Config` holds the current values; the command line,
config files and CONFIG GET / SET / REWRITE all go through it, so a value reads the same
whichever way it was given.

Strategy (values): each directive has a kind that fixes how its text is parsed and printed.

* bool      "yes" / "no"                       -> bool
* int       string2ll, bounds checked          -> int
* memory    memtoull ("1gb", "100mb", "4096")  -> int (bytes); printed in bytes
* percent   a memory value or "<n>%"           -> int (a percentage is stored negated)
* octal     "0777"                             -> int; printed in octal
* enum      one of `choices`, case-insensitive -> str
* string    any text                           -> str
* special   save, client-output-buffer-limit, notify-keyspace-events, bind, replicaof, ...:
            parsed and validated by their own function, stored in the normalized text
            CONFIG GET prints, so every reader sees one canonical form.

Many directives are accepted and stored only so that tools and clients that read or set them
get Redis's answers (cluster-*, active-defrag-*, jemalloc-*, ...); they change nothing here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from protocol.resp import split_inline, string2ll
from storage.glob import stringmatch


class ConfigError(Exception):
    """A directive is unknown or its value is invalid; `text` says why, as Redis words it."""

    def __init__(self, text: str, name: str = "") -> None:
        super().__init__(text)
        self.text = text
        self.name = name


class ConfigSetError(Exception):
    """CONFIG SET refused; `text` is the whole error line ("ERR ..." or "LOADING ...")."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


_MEMORY_UNITS: Final = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1024,
    "m": 1000**2,
    "mb": 1024**2,
    "g": 1000**3,
    "gb": 1024**3,
}


def parse_memory(text: str) -> int | None:
    """Redis's memtoull: "1gb", "100mb", "4096" -> bytes; None when malformed."""
    if not text or text[0] == "-":
        return None
    i = 0
    while i < len(text) and "0" <= text[i] <= "9":
        i += 1
    unit = text[i:].lower()
    if unit not in _MEMORY_UNITS or len(text) > 127:
        return None
    digits = text[:i]
    # strtoull on an empty digit string gives 0 (so "mb" alone is 0, as in Redis).
    value = int(digits) if digits else 0
    value *= _MEMORY_UNITS[unit]
    return value if value < 2**64 else None


@dataclass(frozen=True, slots=True)
class Param:
    """One directive (see the module docstring for `kind`)."""

    name: str
    kind: str
    default: str  # as written in a config file
    minimum: int = 0
    maximum: int = 0
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    immutable: bool = False  # CONFIG SET refuses it
    protected: bool = False  # CONFIG SET only with enable-protected-configs
    sensitive: bool = False  # redacted from SLOWLOG
    hidden: bool = False  # CONFIG GET patterns skip it; an exact name still works
    multi_arg: bool = False  # CONFIG SET splits the value on spaces
    deny_loading: bool = False  # CONFIG SET answers LOADING while the dataset loads

    @property
    def mutable(self) -> bool:
        return not self.immutable


P = Param

_INT_MAX: Final = 2**31 - 1
_INT_MIN: Final = -(2**31)
_UINT_MAX: Final = 2**32 - 1
_LL_MAX: Final = 2**63 - 1
_ULL_MAX: Final = 2**64 - 1

PARAMS: Final[list[Param]] = [
    # --- Redis 7.0's table (config.c), TLS directives left out as in a build without TLS ---
    P("rdbchecksum", "bool", "yes", immutable=True),
    P("daemonize", "bool", "no", immutable=True),
    P("io-threads-do-reads", "bool", "no", immutable=True),
    P("always-show-logo", "bool", "no", immutable=True),
    P("protected-mode", "bool", "yes"),
    P("rdbcompression", "bool", "yes"),
    P("rdb-del-sync-files", "bool", "no"),
    P("activerehashing", "bool", "yes"),
    P("stop-writes-on-bgsave-error", "bool", "yes"),
    P("set-proc-title", "bool", "yes", immutable=True),
    P("dynamic-hz", "bool", "yes"),
    P("lazyfree-lazy-eviction", "bool", "no"),
    P("lazyfree-lazy-expire", "bool", "no"),
    P("lazyfree-lazy-server-del", "bool", "no"),
    P("lazyfree-lazy-user-del", "bool", "no"),
    P("lazyfree-lazy-user-flush", "bool", "no"),
    P("repl-disable-tcp-nodelay", "bool", "no"),
    P("repl-diskless-sync", "bool", "yes"),
    P("aof-rewrite-incremental-fsync", "bool", "yes"),
    P("no-appendfsync-on-rewrite", "bool", "no"),
    P("cluster-require-full-coverage", "bool", "yes"),
    P("rdb-save-incremental-fsync", "bool", "yes"),
    P("aof-load-truncated", "bool", "yes"),
    P("aof-use-rdb-preamble", "bool", "yes"),
    P("aof-timestamp-enabled", "bool", "no"),
    P("cluster-replica-no-failover", "bool", "no", aliases=("cluster-slave-no-failover",)),
    P("replica-lazy-flush", "bool", "no", aliases=("slave-lazy-flush",)),
    P("replica-serve-stale-data", "bool", "yes", aliases=("slave-serve-stale-data",)),
    P("replica-read-only", "bool", "yes", aliases=("slave-read-only",)),
    P("replica-ignore-maxmemory", "bool", "yes", aliases=("slave-ignore-maxmemory",)),
    P("jemalloc-bg-thread", "bool", "yes"),
    P("activedefrag", "bool", "no"),
    P("syslog-enabled", "bool", "no", immutable=True),
    P("cluster-enabled", "bool", "no", immutable=True),
    P("appendonly", "bool", "no", deny_loading=True),
    P("cluster-allow-reads-when-down", "bool", "no"),
    P("cluster-allow-pubsubshard-when-down", "bool", "yes"),
    P("crash-log-enabled", "bool", "yes"),
    P("crash-memcheck-enabled", "bool", "yes"),
    P("use-exit-on-panic", "bool", "no", hidden=True),
    P("disable-thp", "bool", "yes", immutable=True),
    P("cluster-allow-replica-migration", "bool", "yes"),
    P("replica-announced", "bool", "yes"),
    P("latency-tracking", "bool", "yes"),
    P("aof-disable-auto-gc", "bool", "no"),
    P("replica-ignore-disk-write-errors", "bool", "no"),
    P("aclfile", "string", "", immutable=True),
    P("unixsocket", "string", "", immutable=True),
    P("pidfile", "string", "", immutable=True),
    P("replica-announce-ip", "string", "", aliases=("slave-announce-ip",)),
    P("masteruser", "string", "", sensitive=True),
    P("cluster-announce-ip", "string", ""),
    P("cluster-config-file", "string", "nodes.conf", immutable=True),
    P("cluster-announce-hostname", "string", ""),
    P("syslog-ident", "string", "redis", immutable=True),
    P("dbfilename", "string", "dump.rdb", protected=True),
    P("appendfilename", "string", "appendonly.aof", immutable=True),
    P("appenddirname", "string", "appendonlydir", immutable=True),
    P("server_cpulist", "string", "", immutable=True),
    P("bio_cpulist", "string", "", immutable=True),
    P("aof_rewrite_cpulist", "string", "", immutable=True),
    P("bgsave_cpulist", "string", "", immutable=True),
    P("ignore-warnings", "string", ""),
    P("proc-title-template", "string", "{title} {listen-addr} {server-mode}"),
    P("bind-source-addr", "string", ""),
    P("logfile", "string", "", immutable=True),
    P("masterauth", "string", "", sensitive=True),
    P("requirepass", "string", "", sensitive=True),
    P("supervised", "enum", "no", choices=("upstart", "systemd", "auto", "no"), immutable=True),
    P(
        "syslog-facility",
        "enum",
        "local0",
        choices=(
            "user",
            "local0",
            "local1",
            "local2",
            "local3",
            "local4",
            "local5",
            "local6",
            "local7",
        ),
        immutable=True,
    ),
    P(
        "repl-diskless-load",
        "enum",
        "disabled",
        choices=("disabled", "on-empty-db", "swapdb"),
        deny_loading=True,
    ),
    P("loglevel", "enum", "notice", choices=("debug", "verbose", "notice", "warning")),
    P(
        "maxmemory-policy",
        "enum",
        "noeviction",
        choices=(
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "noeviction",
        ),
    ),
    P("appendfsync", "enum", "everysec", choices=("everysec", "always", "no")),
    P("oom-score-adj", "enum", "no", choices=("no", "yes", "relative", "absolute")),
    P("acl-pubsub-default", "enum", "resetchannels", choices=("allchannels", "resetchannels")),
    P("sanitize-dump-payload", "enum", "no", choices=("no", "yes", "clients")),
    P("enable-protected-configs", "enum", "no", choices=("no", "yes", "local"), immutable=True),
    P("enable-debug-command", "enum", "yes", choices=("no", "yes", "local"), immutable=True),
    P("enable-module-command", "enum", "no", choices=("no", "yes", "local"), immutable=True),
    P(
        "cluster-preferred-endpoint-type",
        "enum",
        "ip",
        choices=("ip", "hostname", "unknown-endpoint"),
    ),
    P(
        "propagation-error-behavior",
        "enum",
        "ignore",
        choices=("ignore", "panic", "panic-on-replicas"),
    ),
    P(
        "shutdown-on-sigint",
        "enum",
        "default",
        choices=("default", "save", "nosave", "now", "force"),
        multi_arg=True,
    ),
    P(
        "shutdown-on-sigterm",
        "enum",
        "default",
        choices=("default", "save", "nosave", "now", "force"),
        multi_arg=True,
    ),
    P("databases", "int", "16", minimum=1, maximum=_INT_MAX, immutable=True),
    # Duocache cannot rebind its listeners at run time: port and bind are fixed once started.
    P("port", "int", "6379", minimum=0, maximum=65535, immutable=True),
    P("io-threads", "int", "1", minimum=1, maximum=128, immutable=True),
    P("auto-aof-rewrite-percentage", "int", "100", minimum=0, maximum=_INT_MAX),
    P(
        "cluster-replica-validity-factor",
        "int",
        "10",
        minimum=0,
        maximum=_INT_MAX,
        aliases=("cluster-slave-validity-factor",),
    ),
    P(
        "list-max-listpack-size",
        "int",
        "-2",
        minimum=_INT_MIN,
        maximum=_INT_MAX,
        aliases=("list-max-ziplist-size",),
    ),
    P("tcp-keepalive", "int", "300", minimum=0, maximum=_INT_MAX),
    P("cluster-migration-barrier", "int", "1", minimum=0, maximum=_INT_MAX),
    P("active-defrag-cycle-min", "int", "1", minimum=1, maximum=99),
    P("active-defrag-cycle-max", "int", "25", minimum=1, maximum=99),
    P("active-defrag-threshold-lower", "int", "10", minimum=0, maximum=1000),
    P("active-defrag-threshold-upper", "int", "100", minimum=0, maximum=1000),
    P("lfu-log-factor", "int", "10", minimum=0, maximum=_INT_MAX),
    P("lfu-decay-time", "int", "1", minimum=0, maximum=_INT_MAX),
    P("replica-priority", "int", "100", minimum=0, maximum=_INT_MAX, aliases=("slave-priority",)),
    P("repl-diskless-sync-delay", "int", "5", minimum=0, maximum=_INT_MAX),
    P("maxmemory-samples", "int", "5", minimum=1, maximum=_INT_MAX),
    P("maxmemory-eviction-tenacity", "int", "10", minimum=0, maximum=100),
    P("timeout", "int", "0", minimum=0, maximum=_INT_MAX),
    P(
        "replica-announce-port",
        "int",
        "0",
        minimum=0,
        maximum=65535,
        aliases=("slave-announce-port",),
    ),
    P("tcp-backlog", "int", "511", minimum=0, maximum=_INT_MAX, immutable=True),
    P("cluster-port", "int", "0", minimum=0, maximum=65535, immutable=True),
    P("cluster-announce-bus-port", "int", "0", minimum=0, maximum=65535),
    P("cluster-announce-port", "int", "0", minimum=0, maximum=65535),
    P("cluster-announce-tls-port", "int", "0", minimum=0, maximum=65535),
    P("repl-timeout", "int", "60", minimum=1, maximum=_INT_MAX),
    P(
        "repl-ping-replica-period",
        "int",
        "10",
        minimum=1,
        maximum=_INT_MAX,
        aliases=("repl-ping-slave-period",),
    ),
    P("list-compress-depth", "int", "0", minimum=0, maximum=_INT_MAX),
    P("rdb-key-save-delay", "int", "0", minimum=_INT_MIN, maximum=_INT_MAX, hidden=True),
    P("key-load-delay", "int", "0", minimum=_INT_MIN, maximum=_INT_MAX, hidden=True),
    P("active-expire-effort", "int", "1", minimum=1, maximum=10),
    P("hz", "int", "10", minimum=0, maximum=_INT_MAX),
    P(
        "min-replicas-to-write",
        "int",
        "0",
        minimum=0,
        maximum=_INT_MAX,
        aliases=("min-slaves-to-write",),
    ),
    P(
        "min-replicas-max-lag",
        "int",
        "10",
        minimum=0,
        maximum=_INT_MAX,
        aliases=("min-slaves-max-lag",),
    ),
    P("watchdog-period", "int", "0", minimum=0, maximum=_INT_MAX, hidden=True),
    P("shutdown-timeout", "int", "10", minimum=0, maximum=_INT_MAX),
    P("repl-diskless-sync-max-replicas", "int", "0", minimum=0, maximum=_INT_MAX),
    P("maxclients", "int", "10000", minimum=1, maximum=_UINT_MAX),
    P("unixsocketperm", "octal", "0", minimum=0, maximum=511, immutable=True),
    P("socket-mark-id", "int", "0", minimum=0, maximum=_UINT_MAX, immutable=True),
    P("active-defrag-max-scan-fields", "int", "1000", minimum=1, maximum=_LL_MAX),
    P("slowlog-max-len", "int", "128", minimum=0, maximum=_LL_MAX),
    P("acllog-max-len", "int", "128", minimum=0, maximum=_LL_MAX),
    P(
        "busy-reply-threshold",
        "int",
        "5000",
        minimum=0,
        maximum=_LL_MAX,
        aliases=("lua-time-limit",),
    ),
    P("cluster-node-timeout", "int", "15000", minimum=0, maximum=_LL_MAX),
    P("slowlog-log-slower-than", "int", "10000", minimum=-1, maximum=_LL_MAX),
    P("latency-monitor-threshold", "int", "0", minimum=0, maximum=_LL_MAX),
    P("proto-max-bulk-len", "memory", "536870912", minimum=1048576, maximum=_LL_MAX),
    P("stream-node-max-entries", "int", "100", minimum=0, maximum=_LL_MAX),
    P("repl-backlog-size", "memory", "1048576", minimum=1, maximum=_LL_MAX),
    P("maxmemory", "memory", "0", minimum=0, maximum=_ULL_MAX),
    P("cluster-link-sendbuf-limit", "memory", "0", minimum=0, maximum=_ULL_MAX),
    P(
        "hash-max-listpack-entries",
        "int",
        "512",
        minimum=0,
        maximum=_LL_MAX,
        aliases=("hash-max-ziplist-entries",),
    ),
    P("set-max-intset-entries", "int", "512", minimum=0, maximum=_LL_MAX),
    P(
        "zset-max-listpack-entries",
        "int",
        "128",
        minimum=0,
        maximum=_LL_MAX,
        aliases=("zset-max-ziplist-entries",),
    ),
    P("active-defrag-ignore-bytes", "memory", "104857600", minimum=1, maximum=_LL_MAX),
    P(
        "hash-max-listpack-value",
        "memory",
        "64",
        minimum=0,
        maximum=_LL_MAX,
        aliases=("hash-max-ziplist-value",),
    ),
    P("stream-node-max-bytes", "memory", "4096", minimum=0, maximum=_LL_MAX),
    P(
        "zset-max-listpack-value",
        "memory",
        "64",
        minimum=0,
        maximum=_LL_MAX,
        aliases=("zset-max-ziplist-value",),
    ),
    P("hll-sparse-max-bytes", "memory", "3000", minimum=0, maximum=_LL_MAX),
    P("tracking-table-max-keys", "int", "1000000", minimum=0, maximum=_LL_MAX),
    P("client-query-buffer-limit", "memory", "1073741824", minimum=1048576, maximum=_LL_MAX),
    P("maxmemory-clients", "percent", "0", minimum=-100, maximum=_LL_MAX),
    P("repl-backlog-ttl", "int", "3600", minimum=0, maximum=_LL_MAX),
    P("auto-aof-rewrite-min-size", "memory", "67108864", minimum=0, maximum=_LL_MAX),
    P(
        "loading-process-events-interval-bytes",
        "int",
        "2097152",
        minimum=1024,
        maximum=_INT_MAX,
        hidden=True,
    ),
    # --- special directives (their own parsers below) ---
    P("dir", "special", ".", protected=True, deny_loading=True),
    P("save", "special", "3600 1 300 100 60 10000", multi_arg=True),
    P(
        "client-output-buffer-limit",
        "special",
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        multi_arg=True,
    ),
    P("oom-score-adj-values", "special", "0 200 800", multi_arg=True),
    P("notify-keyspace-events", "special", ""),
    # Redis binds "* -::*" by default; Duocache binds loopback unless told otherwise.
    P("bind", "special", "127.0.0.1", multi_arg=True, immutable=True),
    P("replicaof", "special", "", aliases=("slaveof",), multi_arg=True, immutable=True),
    P("latency-tracking-info-percentiles", "special", "50 99 99.9", multi_arg=True),
    # --- Duocache's own ---
    P("memcache-port", "int", "11211", minimum=0, maximum=65535, immutable=True),
    P("memcache-max-item-size", "memory", "1048576", minimum=1024, maximum=1024**3),
    P("memcache-enable-shutdown", "bool", "no", immutable=True),
    P("cluster-mode", "enum", "no", choices=("no", "emulated"), immutable=True),
    P("loop", "enum", "auto", choices=("auto", "uvloop", "asyncio"), immutable=True),
    # scheduled backups (server/durability.py)
    P("backup-interval-seconds", "int", "0", minimum=0, maximum=_INT_MAX),
    P("backup-retention", "int", "7", minimum=1, maximum=_INT_MAX),
    P("backup-dir", "string", "backups"),
]

BY_NAME: Final[dict[str, Param]] = {}
for _param in PARAMS:
    BY_NAME[_param.name] = _param
    for _alias in _param.aliases:
        BY_NAME[_alias] = _param


def lookup(name: str) -> Param | None:
    """The directive called `name` or one of its aliases (case-insensitive)."""
    return BY_NAME.get(name.lower())


# --- special directives ---

_NOTIFY_ALL: Final = "g$lshzxetd"
_NOTIFY_ORDER: Final = "g$lshzxetdn"  # keyspaceEventsFlagsToString's order, before K E m


def normalize_notify_flags(text: str) -> str | None:
    """notify-keyspace-events as Redis prints it ("KEA" -> "AKE"); None for a bad class."""
    flags: set[str] = set()
    for c in text:
        if c == "A":
            flags.update(_NOTIFY_ALL)
        elif c in "g$lshzxeKEtmdn":
            flags.add(c)
        else:
            return None
    if flags.issuperset(_NOTIFY_ALL):
        out = "A" + ("n" if "n" in flags else "")  # CONFIG GET shows it without the n
    else:
        out = "".join(c for c in _NOTIFY_ORDER if c in flags)
    return out + "".join(c for c in "KEm" if c in flags)


def _parse_save(args: list[str]) -> str:
    if len(args) == 1 and args[0] == "":
        args = []
    if len(args) % 2:
        raise ConfigError("Invalid save parameters")
    values: list[int] = []
    for j, arg in enumerate(args):
        value = _strtoll(arg)
        if value is None or (j % 2 == 0 and value < 1) or (j % 2 == 1 and value < 0):
            raise ConfigError("Invalid save parameters")
        values.append(value)
    return " ".join(str(v) for v in values)


def _strtoll(text: str) -> int | None:
    """strtoll that must consume the whole string (leading spaces and '+' allowed)."""
    stripped = text.lstrip(" \t\n\r\f\v")
    body = stripped[1:] if stripped[:1] in ("+", "-") else stripped
    if not body.isdigit() or not body.isascii():
        return None
    value = int(stripped)
    return max(-(2**63), min(2**63 - 1, value))


OBUF_CLASSES: Final = ("normal", "slave", "pubsub")
_OBUF_NAMES: Final = {"normal": "normal", "slave": "slave", "replica": "slave", "pubsub": "pubsub"}


def parse_output_buffer_limits(text: str) -> dict[str, tuple[int, int, int]]:
    """A normalized client-output-buffer-limit value -> class -> (hard, soft, soft seconds)."""
    words = text.split()
    return {
        words[i]: (int(words[i + 1]), int(words[i + 2]), int(words[i + 3]))
        for i in range(0, len(words), 4)
    }


def _parse_obuf(args: list[str], current: str) -> str:
    if len(args) % 4:
        raise ConfigError("Wrong number of arguments in buffer limit configuration.")
    limits = parse_output_buffer_limits(current)
    for j in range(0, len(args), 4):
        cls = _OBUF_NAMES.get(args[j].lower())
        if cls is None:
            raise ConfigError("Invalid client class specified in buffer limit configuration.")
        hard = parse_memory(args[j + 1])
        soft = parse_memory(args[j + 2])
        seconds = _strtoll(args[j + 3]) if args[j + 3] else 0
        if hard is None or soft is None or seconds is None or seconds < 0:
            raise ConfigError(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration."
            )
        limits[cls] = (hard, soft, seconds)
    return " ".join(f"{c} {limits[c][0]} {limits[c][1]} {limits[c][2]}" for c in OBUF_CLASSES)


def _parse_oom_values(args: list[str]) -> str:
    if len(args) != 3:
        raise ConfigError("wrong number of arguments")
    values = []
    for arg in args:
        value = _strtoll(arg)
        if value is None or value < -2000 or value > 2000:
            raise ConfigError(
                "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
            )
        values.append(value)
    return " ".join(str(v) for v in values)


def _format_percentile(value: float) -> str:
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _parse_percentiles(args: list[str]) -> str:
    if len(args) == 1 and args[0] == "":
        return ""
    out = []
    for arg in args:
        try:
            value = float(arg) if arg.strip() == arg and arg else None
        except ValueError:
            value = None
        if value is None or value != value:
            raise ConfigError("Invalid latency-tracking-info-percentiles parameters")
        if value > 100.0 or value < 0.0:
            raise ConfigError(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
            )
        out.append(_format_percentile(value))
    return " ".join(out)


def _parse_replicaof(args: list[str]) -> str:
    if len(args) != 2:
        raise ConfigError("wrong number of arguments")
    if args[0].lower() == "no" and args[1].lower() == "one":
        return ""
    port = _strtoll(args[1])
    if port is None or port < 0 or port > 65535:
        raise ConfigError("Invalid master port")
    return f"{args[0]} {port}"


def _parse_special(param: Param, args: list[str], current: str) -> str:
    name = param.name
    if name == "save":
        return _parse_save(args)
    if name == "client-output-buffer-limit":
        return _parse_obuf(args, current)
    if name == "notify-keyspace-events":
        if len(args) != 1:
            raise ConfigError("wrong number of arguments")
        flags = normalize_notify_flags(args[0])
        if flags is None:
            raise ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
        return flags
    if name == "oom-score-adj-values":
        return _parse_oom_values(args)
    if name == "latency-tracking-info-percentiles":
        return _parse_percentiles(args)
    if name == "replicaof":
        return _parse_replicaof(args)
    if name == "bind":
        if len(args) > 16:
            raise ConfigError("Too many bind addresses specified.")
        return " ".join(a for a in args if a)
    if name == "dir":
        if len(args) != 1:
            raise ConfigError("wrong number of arguments")
        return args[0]
    raise ConfigError("unknown special directive")


# --- plain directives ---


def parse_value(param: Param, args: Sequence[str], current: Any = None) -> Any:
    """Parse a directive's textual arguments into its stored value.

    Raises:
        ConfigError: with Redis's reason text (the part after " - " in CONFIG SET's error).
    """
    if param.kind == "special":
        return _parse_special(param, list(args), current if isinstance(current, str) else "")
    if param.multi_arg:  # shutdown-on-sig*: a set of enum words
        words = [a.lower() for a in args if a]
        if not words or any(w not in param.choices for w in words):
            raise ConfigError(
                f"argument(s) must be one of the following: {', '.join(param.choices)}"
            )
        return " ".join(words)
    if len(args) != 1:
        raise ConfigError("wrong number of arguments")
    raw = args[0]
    kind = param.kind
    if kind == "bool":
        lowered = raw.lower()
        if lowered not in ("yes", "no"):
            raise ConfigError("argument must be 'yes' or 'no'")
        return lowered == "yes"
    if kind == "enum":
        lowered = raw.lower()
        if lowered not in param.choices:
            raise ConfigError(
                f"argument(s) must be one of the following: {', '.join(param.choices)}"
            )
        return lowered
    if kind == "string":
        return raw
    value: int | None
    if kind == "memory":
        value = parse_memory(raw)
        if value is None:
            raise ConfigError("argument must be a memory value")
    elif kind == "percent":
        if raw.endswith("%"):
            pct = string2ll(raw[:-1].encode())
            value = -pct if pct is not None and pct >= 0 else None
        else:
            value = parse_memory(raw)
        if value is None:
            raise ConfigError("argument must be a memory or percent value")
        if value < 0 and value < param.minimum:
            raise ConfigError(f"percentage argument must be less or equal to {-param.minimum}")
        return value
    elif kind == "octal":
        try:
            value = int(raw, 8) if raw and raw.isdigit() else None
        except ValueError:
            value = None
        if value is None:
            raise ConfigError("argument couldn't be parsed as an octal number")
    else:
        value = string2ll(raw.encode("utf-8", "surrogateescape"))
        if value is None:
            raise ConfigError("argument couldn't be parsed into an integer")
    if param.name == "hz" and param.minimum <= value <= param.maximum:
        # updateHZ keeps the configured rate within CONFIG_MIN_HZ .. CONFIG_MAX_HZ.
        return max(1, min(500, value))
    if value < param.minimum or value > param.maximum:
        if kind == "octal":
            raise ConfigError(
                f"argument must be between {param.minimum:o} and {param.maximum:o} inclusive"
            )
        raise ConfigError(f"argument must be between {param.minimum} and {param.maximum} inclusive")
    return value


def format_value(param: Param, value: Any) -> str:
    """A stored value as CONFIG GET prints it."""
    kind = param.kind
    if kind == "bool":
        return "yes" if value else "no"
    if kind == "octal":
        return f"{value:o}"
    if kind == "percent" and value < 0:
        return f"{-value}%"
    if param.name == "notify-keyspace-events" and value.startswith("An"):
        # keyspaceEventsFlagsToString prints "A" alone when every class is on, dropping 'n'.
        return "A" + str(value)[2:]
    if param.name == "dir":
        try:
            return os.getcwd()
        except OSError:
            return ""
    return str(value)


Listener = Callable[[str, Any], None]

_ACCUMULATE: Final = frozenset({"save"})  # repeated in a file or argv: every occurrence counts


class Config:
    """Current values of every directive, plus the file they came from (CONFIG REWRITE)."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        for p in PARAMS:
            if p.kind == "special" and not p.default:
                self._values[p.name] = ""
                continue
            words = p.default.split() if p.multi_arg else [p.default]
            self._values[p.name] = parse_value(p, words, "")
        self.config_file: str | None = None
        self.sentinel_mode = False
        # Sentinel mode: the `sentinel ...` lines of the config file, for the monitor to apply
        # (words after `sentinel`, line number, line), as Redis queues them.
        self.sentinel_directives: list[tuple[list[str], int, str]] = []
        self._listeners: list[Listener] = []
        self._seen_at_startup: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        return self._values[BY_NAME[name].name]

    def get(self, name: str) -> Any:
        return self[name]

    def text(self, name: str) -> str:
        """The CONFIG GET text of a directive."""
        param = BY_NAME[name]
        return format_value(param, self._values[param.name])

    def on_change(self, listener: Listener) -> None:
        """Call `listener(name, value)` after every successful set."""
        self._listeners.append(listener)

    def _store(self, param: Param, value: Any) -> None:
        self._values[param.name] = value
        for listener in self._listeners:
            listener(param.name, value)

    def set(self, name: str, args: Sequence[str], *, startup: bool = False) -> None:
        """Set a directive from its textual arguments (config file, command line, tests).

        Raises:
            ConfigError: unknown directive, immutable at run time, or a bad value.
        """
        param = BY_NAME.get(name.lower())
        if param is None:
            raise ConfigError("Bad directive or wrong number of arguments")
        if not startup and param.immutable:
            raise ConfigError("can't set immutable config", param.name)
        args = list(args)
        if param.multi_arg and len(args) == 1 and param.name != "bind":
            args = args[0].split(" ")
        current = self._values[param.name]
        if startup and param.name in _ACCUMULATE:
            # "save" lines add up in a file (the first one replaces the default).
            if param.name in self._seen_at_startup and args != [""]:
                args = current.split() + args
            self._seen_at_startup.add(param.name)
        value = parse_value(param, args, current)
        self._store(param, value)

    def set_many(self, pairs: Sequence[tuple[bytes, bytes]], *, loading: bool = False) -> None:
        """CONFIG SET: validate every pair, then apply them all, or change nothing.

        Raises:
            ConfigSetError: with Redis's exact error line.
        """
        params: list[Param] = []
        invalid_name: str | None = None
        err_name: str | None = None
        err: str | None = None
        deny_loading = False
        for raw_name, _ in pairs:
            shown = raw_name.decode("utf-8", "surrogateescape")
            param = BY_NAME.get(shown.lower())
            if param is None:
                if invalid_name is None and err is None and not deny_loading:
                    invalid_name = shown
                continue
            if invalid_name is not None or err is not None or deny_loading:
                continue
            if param.immutable or (param.protected and self["enable-protected-configs"] != "yes"):
                err = (
                    "can't set immutable config"
                    if param.immutable
                    else ("can't set protected config")
                )
                err_name = shown
                continue
            if loading and param.deny_loading:
                deny_loading = True
                continue
            if param in params:
                err, err_name = "duplicate parameter", shown
                continue
            params.append(param)
        if deny_loading:
            raise ConfigSetError("LOADING Redis is loading the dataset in memory")
        if invalid_name is not None:
            raise ConfigSetError(
                f"ERR Unknown option or number of arguments for CONFIG SET - '{invalid_name}'"
            )
        if err is not None:
            raise ConfigSetError(
                f"ERR CONFIG SET failed (possibly related to argument '{err_name}') - {err}"
            )
        new_values: list[Any] = []
        for param, (_, raw_value) in zip(params, pairs, strict=True):
            text = raw_value.decode("utf-8", "surrogateescape")
            args = text.split(" ") if param.multi_arg else [text]
            try:
                new_values.append(parse_value(param, args, self._values[param.name]))
            except ConfigError as e:
                raise ConfigSetError(
                    f"ERR CONFIG SET failed (possibly related to argument '{param.name}') - "
                    f"{e.text}"
                ) from None
        if any(p.name == "dir" for p in params):
            target = new_values[[p.name for p in params].index("dir")]
            try:
                os.chdir(target)
            except OSError as e:
                raise ConfigSetError(
                    f"ERR CONFIG SET failed (possibly related to argument 'dir') - {e.strerror}"
                ) from None
        for param, value in zip(params, new_values, strict=True):
            self._store(param, value)

    def matching(self, patterns: Iterable[bytes]) -> list[tuple[bytes, bytes]]:
        """CONFIG GET: (name, text) for each directive matched by any of the patterns.

        An exact name (no glob characters) is answered under the name as given, aliases
        included; a pattern matches canonical names and aliases alike (each is listed under
        its own name), hidden directives excepted.
        """
        out: dict[bytes, Param] = {}
        taken: set[bytes] = set()  # names already answered, lower-cased
        for pattern in patterns:
            if not any(c in pattern for c in b"[*?"):
                param = BY_NAME.get(pattern.decode("utf-8", "surrogateescape").lower())
                if param is not None and pattern.lower() not in taken:
                    out[pattern] = param
                    taken.add(pattern.lower())
                continue
            for name, param in BY_NAME.items():
                key = name.encode()
                if param.hidden or key in taken:
                    continue
                if stringmatch(pattern, key, nocase=True):
                    out[key] = param
                    taken.add(key)
        return [
            (name, format_value(param, self._values[param.name]).encode("utf-8", "surrogateescape"))
            for name, param in out.items()
        ]

    def items(self) -> Iterable[tuple[str, Any]]:
        return self._values.items()

    def load_file(self, path: str) -> None:
        """Read a redis.conf-style file (`include` supported)."""
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        for number, line in enumerate(lines, 1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            words = split_inline(stripped.encode())
            if words is None:
                raise ConfigError(f"line {number} of {path}: unbalanced quotes")
            args = [w.decode("utf-8", "surrogateescape") for w in words]
            if args[0].lower() == "include":
                self.load_file(os.path.join(os.path.dirname(path), args[1]))
                continue
            if args[0].lower() == "sentinel" and len(args) > 1:
                if not self.sentinel_mode:
                    raise ConfigError(
                        f"line {number} of {path} ('{stripped}'): "
                        "sentinel directive while not in sentinel mode"
                    )
                self.sentinel_directives.append((args[1:], number, stripped))
                continue
            try:
                self.set(args[0], args[1:], startup=True)
            except ConfigError as e:
                raise ConfigError(f"line {number} of {path} ('{stripped}'): {e.text}") from e


def directives_from_argv(argv: Sequence[str]) -> list[tuple[str, list[str]]]:
    """Split `--port 7000 --save "" --replicaof 127.0.0.1 6379` into directives.

    As redis-server does: every `--name` starts a directive and the words up to the next
    `--name` are its arguments.
    """
    out: list[tuple[str, list[str]]] = []
    for word in argv:
        if word.startswith("--") and len(word) > 2:
            out.append((word[2:], []))
        elif out:
            out[-1][1].append(word)
        else:
            raise ConfigError(f"unexpected argument {word!r}")
    return out

"""Configuration: redis.conf-style directives with Redis's names, from a file or argv.

`PARAMS` declares every directive once: its type, default, bounds and whether CONFIG SET may
change it. `Config` holds the current values; CONFIG GET / SET / REWRITE and the command line
all go through it, so a value reads the same whichever way it was given.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from protocol.resp import split_inline


class ConfigError(Exception):
    """A directive is unknown or its value is invalid; `text` says which, as Redis does."""

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
    lowered = text.strip().lower()
    digits = lowered.rstrip("kmgb")
    unit = lowered[len(digits) :]
    if unit not in _MEMORY_UNITS or not digits:
        return None
    try:
        value = int(digits)
    except ValueError:
        return None
    return value * _MEMORY_UNITS[unit] if value >= 0 else None


@dataclass(frozen=True, slots=True)
class Param:
    """One directive.

    kind: "bool" (yes/no), "int", "memory" (int with units), "enum", "string", "special".
    """

    name: str
    kind: str
    default: Any
    mutable: bool = True
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    # Multi-argument directives (save, client-output-buffer-limit) keep their raw text.
    multi_arg: bool = False


def _p(name: str, kind: str, default: Any, **kw: Any) -> Param:
    return Param(name, kind, default, **kw)


_INT_MAX: Final = 2**31 - 1
_LL_MAX: Final = 2**63 - 1

PARAMS: Final[list[Param]] = [
    # networking
    _p("port", "int", 6379, mutable=False, minimum=0, maximum=65535),
    _p("bind", "string", "127.0.0.1", mutable=False),
    _p("unixsocket", "string", "", mutable=False),
    _p("protected-mode", "bool", True),
    _p("tcp-backlog", "int", 511, mutable=False, minimum=0, maximum=_INT_MAX),
    _p("tcp-keepalive", "int", 300, minimum=0, maximum=_INT_MAX),
    _p("timeout", "int", 0, minimum=0, maximum=_INT_MAX),
    _p("maxclients", "int", 10000, minimum=1, maximum=_INT_MAX),
    _p("databases", "int", 16, mutable=False, minimum=1, maximum=_INT_MAX),
    # security
    _p("requirepass", "string", ""),
    _p("masterauth", "string", ""),
    _p("masteruser", "string", ""),
    _p("enable-debug-command", "enum", "yes", mutable=False, choices=("no", "yes", "local")),
    # general
    _p("dir", "string", ".", mutable=True),
    _p("dbfilename", "string", "dump.rdb"),
    _p("loglevel", "enum", "notice", choices=("debug", "verbose", "notice", "warning")),
    _p("logfile", "string", "", mutable=False),
    _p("daemonize", "bool", False, mutable=False),
    _p("pidfile", "string", "", mutable=False),
    _p("hz", "int", 10, minimum=0, maximum=_INT_MAX),
    _p("dynamic-hz", "bool", True),
    _p("io-threads", "int", 1, mutable=False, minimum=1, maximum=128),
    # memory
    _p("maxmemory", "memory", 0, minimum=0, maximum=_LL_MAX),
    _p(
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
    _p("maxmemory-samples", "int", 5, minimum=1, maximum=_INT_MAX),
    _p("maxmemory-eviction-tenacity", "int", 10, minimum=0, maximum=100),
    _p("lfu-log-factor", "int", 10, minimum=0, maximum=_INT_MAX),
    _p("lfu-decay-time", "int", 1, minimum=0, maximum=_INT_MAX),
    _p("active-expire-effort", "int", 1, minimum=1, maximum=10),
    _p("lazyfree-lazy-eviction", "bool", False),
    _p("lazyfree-lazy-expire", "bool", False),
    _p("lazyfree-lazy-server-del", "bool", False),
    _p("lazyfree-lazy-user-del", "bool", False),
    _p("lazyfree-lazy-user-flush", "bool", False),
    # limits
    _p("proto-max-bulk-len", "memory", 512 * 1024**2, minimum=1024**2, maximum=_LL_MAX),
    _p("client-query-buffer-limit", "memory", 1024**3, minimum=1024**2, maximum=_LL_MAX),
    _p(
        "client-output-buffer-limit",
        "special",
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        multi_arg=True,
    ),
    # persistence
    _p("save", "special", "3600 1 300 100 60 10000", multi_arg=True),
    _p("appendonly", "bool", False),
    _p("appendfilename", "string", "appendonly.aof", mutable=False),
    _p("appenddirname", "string", "appendonlydir", mutable=False),
    _p("appendfsync", "enum", "everysec", choices=("always", "everysec", "no")),
    _p("no-appendfsync-on-rewrite", "bool", False),
    _p("auto-aof-rewrite-percentage", "int", 100, minimum=0, maximum=_INT_MAX),
    _p("auto-aof-rewrite-min-size", "memory", 64 * 1024**2, minimum=0, maximum=_LL_MAX),
    _p("aof-load-truncated", "bool", True),
    _p("aof-use-rdb-preamble", "bool", True),
    _p("aof-timestamp-enabled", "bool", False),
    _p("rdbcompression", "bool", True),
    _p("rdbchecksum", "bool", True, mutable=False),
    _p("stop-writes-on-bgsave-error", "bool", True),
    _p("rdb-del-sync-files", "bool", False),
    _p("rdb-key-save-delay", "int", 0, minimum=-(2**31), maximum=_INT_MAX),
    # replication
    _p("replicaof", "special", "", mutable=False, aliases=("slaveof",), multi_arg=True),
    _p("replica-read-only", "bool", True, aliases=("slave-read-only",)),
    _p("replica-serve-stale-data", "bool", True, aliases=("slave-serve-stale-data",)),
    _p("replica-priority", "int", 100, minimum=0, maximum=_INT_MAX, aliases=("slave-priority",)),
    _p("replica-announce-ip", "string", "", aliases=("slave-announce-ip",)),
    _p(
        "replica-announce-port",
        "int",
        0,
        minimum=0,
        maximum=65535,
        aliases=("slave-announce-port",),
    ),
    _p("replica-announced", "bool", True),
    _p("repl-backlog-size", "memory", 1024**2, minimum=1, maximum=_LL_MAX),
    _p("repl-backlog-ttl", "int", 3600, minimum=0, maximum=_INT_MAX),
    _p("repl-timeout", "int", 60, minimum=1, maximum=_INT_MAX),
    _p("repl-ping-replica-period", "int", 10, minimum=1, maximum=_INT_MAX),
    _p("repl-diskless-sync", "bool", True),
    _p("repl-diskless-sync-delay", "int", 5, minimum=0, maximum=_INT_MAX),
    _p("min-replicas-to-write", "int", 0, minimum=0, maximum=_INT_MAX),
    _p("min-replicas-max-lag", "int", 10, minimum=0, maximum=_INT_MAX),
    # observability
    _p("slowlog-log-slower-than", "int", 10000, minimum=-1, maximum=_LL_MAX),
    _p("slowlog-max-len", "int", 128, minimum=0, maximum=_LL_MAX),
    _p("latency-monitor-threshold", "int", 0, minimum=0, maximum=_LL_MAX),
    _p("latency-tracking", "bool", True),
    _p("notify-keyspace-events", "special", ""),
    # encodings (OBJECT ENCODING)
    _p(
        "hash-max-listpack-entries",
        "int",
        128,
        minimum=0,
        maximum=_LL_MAX,
        aliases=("hash-max-ziplist-entries",),
    ),
    _p(
        "hash-max-listpack-value",
        "int",
        64,
        minimum=0,
        maximum=_LL_MAX,
        aliases=("hash-max-ziplist-value",),
    ),
    _p(
        "list-max-listpack-size",
        "int",
        -2,
        minimum=-(2**31),
        maximum=_INT_MAX,
        aliases=("list-max-ziplist-size",),
    ),
    _p("list-compress-depth", "int", 0, minimum=0, maximum=_INT_MAX),
    _p("set-max-intset-entries", "int", 512, minimum=0, maximum=_LL_MAX),
    _p(
        "zset-max-listpack-entries",
        "int",
        128,
        minimum=0,
        maximum=_LL_MAX,
        aliases=("zset-max-ziplist-entries",),
    ),
    _p(
        "zset-max-listpack-value",
        "int",
        64,
        minimum=0,
        maximum=_LL_MAX,
        aliases=("zset-max-ziplist-value",),
    ),
    _p("stream-node-max-bytes", "memory", 4096, minimum=0, maximum=_LL_MAX),
    _p("stream-node-max-entries", "int", 100, minimum=0, maximum=_LL_MAX),
    _p("activerehashing", "bool", True),
    _p(
        "lua-time-limit", "int", 5000, minimum=0, maximum=_LL_MAX, aliases=("busy-reply-threshold",)
    ),
    _p("cluster-enabled", "bool", False, mutable=False),
    # Duocache's own
    _p("memcache-port", "int", 11211, mutable=False, minimum=0, maximum=65535),
    _p("memcache-max-item-size", "memory", 1024**2, minimum=1024, maximum=1024**3),
    _p("memcache-enable-shutdown", "bool", False, mutable=False),
    _p("cluster-mode", "enum", "no", mutable=False, choices=("no", "emulated")),
    _p("loop", "enum", "auto", mutable=False, choices=("auto", "uvloop", "asyncio")),
    # scheduled backups (server/durability.py)
    _p("backup-interval-seconds", "int", 0, minimum=0, maximum=_INT_MAX),
    _p("backup-retention", "int", 7, minimum=1, maximum=_INT_MAX),
    _p("backup-dir", "string", "backups"),
]

BY_NAME: Final[dict[str, Param]] = {}
for _param in PARAMS:
    BY_NAME[_param.name] = _param
    for _alias in _param.aliases:
        BY_NAME[_alias] = _param


def format_value(param: Param, value: Any) -> str:
    """A value as CONFIG GET prints it."""
    if param.kind == "bool":
        return "yes" if value else "no"
    return str(value)


def _parse_value(param: Param, args: Sequence[str]) -> Any:
    if param.multi_arg:
        return " ".join(args)
    if len(args) != 1:
        raise ConfigError(f"wrong number of arguments for '{param.name}'")
    raw = args[0]
    if param.kind == "bool":
        lowered = raw.lower()
        if lowered not in ("yes", "no"):
            raise ConfigError("argument must be 'yes' or 'no'")
        return lowered == "yes"
    if param.kind in ("int", "memory"):
        value: int | None
        if param.kind == "memory":
            value = parse_memory(raw)
        else:
            try:
                value = int(raw)
            except ValueError:
                value = None
        if value is None:
            raise ConfigError("argument couldn't be parsed into an integer")
        if param.minimum is not None and value < param.minimum:
            raise ConfigError(
                f"argument must be between {param.minimum} and {param.maximum} inclusive"
            )
        if param.maximum is not None and value > param.maximum:
            raise ConfigError(
                f"argument must be between {param.minimum} and {param.maximum} inclusive"
            )
        return value
    if param.kind == "enum":
        lowered = raw.lower()
        if lowered not in param.choices:
            raise ConfigError(
                f"argument(s) must be one of the following: {', '.join(param.choices)}"
            )
        return lowered
    return raw


Listener = Callable[[str, Any], None]


class Config:
    """Current values of every directive, plus the file they came from (CONFIG REWRITE)."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {p.name: p.default for p in PARAMS}
        self.config_file: str | None = None
        self.sentinel_mode = False
        self._listeners: list[Listener] = []

    def __getitem__(self, name: str) -> Any:
        return self._values[BY_NAME[name].name]

    def get(self, name: str) -> Any:
        return self[name]

    def on_change(self, listener: Listener) -> None:
        """Call `listener(name, value)` after every successful set."""
        self._listeners.append(listener)

    def set(self, name: str, args: Sequence[str], *, startup: bool = False) -> None:
        """Set a directive from its textual arguments.

        Raises:
            ConfigError: unknown directive, immutable at run time, or a bad value.
        """
        param = BY_NAME.get(name.lower())
        if param is None:
            raise ConfigError("Bad directive or wrong number of arguments")
        if not startup and not param.mutable:
            raise ConfigError("can't set immutable config")
        value = _parse_value(param, args)
        self._values[param.name] = value
        for listener in self._listeners:
            listener(param.name, value)

    def matching(self, pattern: str) -> list[tuple[str, str]]:
        """(name, CONFIG GET text) for every directive or alias matching a glob pattern."""
        out: list[tuple[str, str]] = []
        lowered = pattern.lower()
        for name, param in BY_NAME.items():
            if fnmatch.fnmatchcase(name, lowered):
                out.append((name, format_value(param, self._values[param.name])))
        return out

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
            args = [w.decode() for w in words]
            if args[0].lower() == "include":
                self.load_file(os.path.join(os.path.dirname(path), args[1]))
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

"""The one command table: name, arity, flags and key positions of every command.

Dispatch, COMMAND / COMMAND INFO / COMMAND GETKEYS, the read-only-replica rule, WATCH
signalling and the propagation feed all read it. Families register their handlers at import
time with `@command`; a duplicate name raises.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from server.context import CommandContext

Reply = Any
Handler = Callable[["CommandContext", list[bytes]], Reply]
KeyFinder = Callable[[Sequence[bytes]], list[int]]


class Flag(enum.Flag):
    """Redis's command flags; COMMAND INFO prints their lower-case names."""

    WRITE = enum.auto()  # may change the keyspace; propagated when ctx.dirty > 0
    READONLY = enum.auto()  # only reads keys
    DENYOOM = enum.auto()  # may grow memory: refused above maxmemory
    ADMIN = enum.auto()
    PUBSUB = enum.auto()
    NOSCRIPT = enum.auto()
    BLOCKING = enum.auto()
    LOADING = enum.auto()  # allowed while the dataset is loading
    STALE = enum.auto()  # allowed on a replica whose link is down
    SKIP_MONITOR = enum.auto()
    SKIP_SLOWLOG = enum.auto()
    ASKING = enum.auto()
    FAST = enum.auto()  # O(1) or O(log N)
    NO_AUTH = enum.auto()  # allowed before AUTH
    MAY_REPLICATE = enum.auto()
    SENTINEL = enum.auto()
    ONLY_SENTINEL = enum.auto()
    NO_MANDATORY_KEYS = enum.auto()
    PROTECTED = enum.auto()
    NO_ASYNC_LOADING = enum.auto()
    NO_MULTI = enum.auto()  # refused inside MULTI
    ALLOW_BUSY = enum.auto()
    TOUCHES_ARBITRARY_KEYS = enum.auto()  # SCAN, RANDOMKEY (hidden in COMMAND INFO)


# The flags COMMAND INFO prints, in Redis's order (addReplyFlagsForCommand in server.c).
# MAY_REPLICATE, SENTINEL, ONLY_SENTINEL, PROTECTED and TOUCHES_ARBITRARY_KEYS are never
# printed; "movablekeys" (a command with a key_finder) is printed just before "allow_busy".
FLAG_NAMES: Final[list[tuple[Flag, bytes]]] = [
    (Flag.WRITE, b"write"),
    (Flag.READONLY, b"readonly"),
    (Flag.DENYOOM, b"denyoom"),
    (Flag.ADMIN, b"admin"),
    (Flag.PUBSUB, b"pubsub"),
    (Flag.NOSCRIPT, b"noscript"),
    (Flag.BLOCKING, b"blocking"),
    (Flag.LOADING, b"loading"),
    (Flag.STALE, b"stale"),
    (Flag.SKIP_MONITOR, b"skip_monitor"),
    (Flag.SKIP_SLOWLOG, b"skip_slowlog"),
    (Flag.ASKING, b"asking"),
    (Flag.FAST, b"fast"),
    (Flag.NO_AUTH, b"no_auth"),
    (Flag.NO_MANDATORY_KEYS, b"no_mandatory_keys"),
    (Flag.NO_ASYNC_LOADING, b"no_async_loading"),
    (Flag.NO_MULTI, b"no_multi"),
    (Flag.ALLOW_BUSY, b"allow_busy"),
]

NO_FLAGS: Final = Flag(0)

# Dispatch's fast path (dispatch.execute) takes the commands of the data groups, which read
# and write keys and nothing else: they cannot authenticate, open a transaction, subscribe,
# pause, monitor or change the server's role. Blocking commands and the noscript ones
# (WAIT-like commands that may park) are left to the full path.
_PLAIN_GROUPS: Final = frozenset(
    {"string", "list", "set", "hash", "sorted_set", "bitmap", "generic", "hyperloglog", "geo"}
)
_NOT_PLAIN: Final = Flag.BLOCKING | Flag.NOSCRIPT | Flag.ADMIN | Flag.PUBSUB | Flag.NO_MULTI


@dataclass(slots=True, eq=False)
class CommandSpec:
    """One command or subcommand.

    Attributes:
        name: lower case, as COMMAND INFO and the arity error print it ("config|get").
        arity: N means exactly N argv items, name included; -N means at least N.
        first_key / last_key / key_step: Redis's legacy key range; last_key < 0 counts from
            the end. first_key 0 means no keys.
        key_finder: for commands whose keys move (numkeys, STORE options); returns argv
            indexes and makes the command "movablekeys".
        write_keys: argv indexes of the keys a write changes, when not all of its keys.
    """

    name: str
    handler: Handler
    arity: int
    flags: Flag
    first_key: int = 0
    last_key: int = 0
    key_step: int = 1
    key_finder: KeyFinder | None = None
    write_keys: KeyFinder | None = None
    acl_categories: tuple[str, ...] = ()
    group: str = "generic"
    since: str = "1.0.0"
    summary: str = ""
    complexity: str = ""
    subcommands: dict[bytes, CommandSpec] = field(default_factory=dict)
    parent: CommandSpec | None = None
    # Precomputed for dispatch: enum.Flag tests are slow on the hot path.
    is_write: bool = False
    is_readonly: bool = False
    denyoom: bool = False
    no_auth: bool = False
    allow_loading: bool = False
    allow_stale: bool = False
    no_multi: bool = False
    is_blocking: bool = False
    is_admin: bool = False
    hidden_from_monitor: bool = False  # admin or skip_monitor: MONITOR does not show it
    may_replicate: bool = False  # write or may_replicate: held by CLIENT PAUSE WRITE
    # Its only key, read or written, is argv[1] (no finder): dispatch skips key_indexes.
    single_key: bool = False
    # May take dispatch's fast path (see dispatch.execute): a data command, which cannot
    # change what the fast path depends on; computed from group and flags.
    plain: bool = False
    # The argv lengths the arity allows (a chained comparison on the fast path, cheaper
    # than a range membership test).
    argc_min: int = 0
    argc_max: int = -1
    # Statistics for INFO commandstats.
    calls: int = 0
    usec: int = 0
    failed_calls: int = 0
    rejected_calls: int = 0

    def __post_init__(self) -> None:
        f = self.flags
        self.is_write = bool(f & Flag.WRITE)
        self.is_readonly = bool(f & Flag.READONLY)
        self.denyoom = bool(f & Flag.DENYOOM)
        self.no_auth = bool(f & Flag.NO_AUTH)
        self.allow_loading = bool(f & Flag.LOADING)
        self.allow_stale = bool(f & Flag.STALE)
        self.no_multi = bool(f & Flag.NO_MULTI)
        self.is_blocking = bool(f & Flag.BLOCKING)
        self.is_admin = bool(f & Flag.ADMIN)
        self.hidden_from_monitor = bool(f & (Flag.ADMIN | Flag.SKIP_MONITOR))
        self.may_replicate = bool(f & (Flag.WRITE | Flag.MAY_REPLICATE))
        self.plain = self.group in _PLAIN_GROUPS and not f & _NOT_PLAIN
        arity = self.arity
        self.argc_min = arity if arity > 0 else -arity
        self.argc_max = arity if arity > 0 else 2**31
        self.single_key = (
            self.key_finder is None
            and self.write_keys is None
            and self.first_key == 1
            and self.last_key == 1
        )

    def arity_ok(self, argc: int) -> bool:
        return argc == self.arity if self.arity > 0 else argc >= -self.arity

    @property
    def movable_keys(self) -> bool:
        return self.key_finder is not None

    def key_indexes(self, argv: Sequence[bytes]) -> list[int]:
        """argv indexes of this command's keys (COMMAND GETKEYS, WATCH signalling, slots)."""
        if self.key_finder is not None:
            return self.key_finder(argv)
        if self.first_key <= 0:
            return []
        last = self.last_key if self.last_key >= 0 else len(argv) + self.last_key
        last = min(last, len(argv) - 1)
        return list(range(self.first_key, last + 1, self.key_step))

    def written_key_indexes(self, argv: Sequence[bytes]) -> list[int]:
        """argv indexes of the keys a successful write changes."""
        if self.write_keys is not None:
            return self.write_keys(argv)
        return self.key_indexes(argv)


COMMANDS: dict[bytes, CommandSpec] = {}
# Dispatch's first lookup: every top-level command under its upper- and lower-case name, so
# clients that send "get" (ioredis, go-redis) find it without an upper() and a second lookup.
LOOKUP: dict[bytes, CommandSpec] = {}


def replace_table(table: dict[bytes, CommandSpec]) -> None:
    """Make `table` the command table (sentinel mode swaps it), keeping LOOKUP in step."""
    COMMANDS.clear()
    COMMANDS.update(table)
    LOOKUP.clear()
    for key, spec in table.items():
        LOOKUP[key] = LOOKUP[key.lower()] = spec


def command(
    name: str,
    *,
    arity: int,
    flags: Flag = NO_FLAGS,
    keys: tuple[int, int, int] = (0, 0, 0),
    key_finder: KeyFinder | None = None,
    write_keys: KeyFinder | None = None,
    acl: tuple[str, ...] = (),
    group: str = "generic",
    since: str = "1.0.0",
    summary: str = "",
    complexity: str = "",
) -> Callable[[Handler], Handler]:
    """Register a handler. `name` is "GET", or "CONFIG|GET" for a subcommand.

    A subcommand's container must already be registered (declare it with `container`).
    """

    def register(handler: Handler) -> Handler:
        first, last, step = keys
        spec = CommandSpec(
            name=name.lower(),
            handler=handler,
            arity=arity,
            flags=flags,
            first_key=first,
            last_key=last,
            key_step=step,
            key_finder=key_finder,
            write_keys=write_keys,
            acl_categories=acl,
            group=group,
            since=since,
            summary=summary or _first_line(handler.__doc__),
            complexity=complexity,
        )
        _add(spec)
        return handler

    return register


def container(
    name: str,
    *,
    group: str = "server",
    since: str = "1.0.0",
    summary: str = "",
    acl: tuple[str, ...] = (),
    flags: Flag = NO_FLAGS,
) -> None:
    """Register a container command (CONFIG, CLIENT, ...) whose subcommands follow."""
    spec = CommandSpec(
        name=name.lower(),
        handler=_container_handler,
        arity=-2,
        flags=flags,
        acl_categories=acl,
        group=group,
        since=since,
        summary=summary,
    )
    spec.plain = False
    _add(spec)


def _container_handler(ctx: CommandContext, argv: list[bytes]) -> Reply:
    raise AssertionError("dispatch resolves subcommands before calling a handler")


def _add(spec: CommandSpec) -> None:
    if "|" in spec.name:
        parent_name, sub = spec.name.upper().split("|", 1)
        parent = COMMANDS[parent_name.encode()]
        key = sub.encode()
        if key in parent.subcommands:
            raise ValueError(f"duplicate command {spec.name}")
        spec.parent = parent
        parent.subcommands[key] = spec
        parent.plain = False  # a container's subcommands are resolved on the full path
        return
    key = spec.name.upper().encode()
    if key in COMMANDS:
        raise ValueError(f"duplicate command {spec.name}")
    COMMANDS[key] = spec
    LOOKUP[key] = LOOKUP[key.lower()] = spec


def _first_line(doc: str | None) -> str:
    return doc.strip().splitlines()[0] if doc else ""


def lookup(argv: Sequence[bytes]) -> CommandSpec | None:
    """The spec for argv (resolving subcommands), None if unknown. Case-insensitive."""
    spec = COMMANDS.get(argv[0]) or COMMANDS.get(argv[0].upper())
    if spec is None or not spec.subcommands or len(argv) == 1:
        return spec
    return spec.subcommands.get(argv[1].upper())


# --- key finders for commands whose keys move ---
#
# Strategy: each finder mirrors one of Redis's getkeys procedures (db.c), quirks included,
# because COMMAND GETKEYS falls back to them when a command's key specs cannot answer, and
# because slot checks and WATCH signalling need the keys a command really touches. A finder
# returns argv indexes in Redis's order and [] when the arguments are malformed (the command
# itself then answers with its syntax error). Ready-made finders for Redis's commands:
#
#   numkeys_keys_at_1   ZUNION ZINTER ZDIFF LMPOP ZMPOP SINTERCARD ZINTERCARD
#   numkeys_keys_at_2   EVAL EVALSHA EVAL_RO EVALSHA_RO FCALL FCALL_RO BLMPOP BZMPOP
#   numkeys_store_keys  ZUNIONSTORE ZINTERSTORE ZDIFFSTORE (destination at 1, count at 2)
#   sort_keys           SORT (key, and the key after the last STORE)
#   first_key_only      SORT_RO (its BY/GET patterns are not keys it can name)
#   georadius_keys      GEORADIUS GEORADIUSBYMEMBER (key, and the last STORE/STOREDIST key)
#   streams_keys        XREAD XREADGROUP (the first half of what follows STREAMS)
#   migrate_keys        MIGRATE (the key argument, or everything after KEYS)
#
# KEY_FINDERS at the end of this module maps each of those Redis commands to its finder.

_C_SPACE: Final = frozenset(b" \t\n\v\f\r")


def c_atoi(raw: bytes) -> int:
    """C's atoi as glibc does it: leading spaces, a sign, digits up to the first non-digit;
    out-of-range values saturate to a 64-bit long and are then truncated to a 32-bit int."""
    i = 0
    n = len(raw)
    while i < n and raw[i] in _C_SPACE:
        i += 1
    negative = False
    if i < n and raw[i] in b"+-":
        negative = raw[i] == 45
        i += 1
    start = i
    while i < n and 48 <= raw[i] <= 57:
        i += 1
    digits = raw[start:i].lstrip(b"0")
    if len(digits) > 19:  # saturated anyway; int() also refuses very long digit strings
        value = -(2**63) if negative else 2**63 - 1
    else:
        value = int(digits) if digits else 0
        value = max(-(2**63), min(2**63 - 1, -value if negative else value))
    return ((value + 2**31) % 2**32) - 2**31


def numkeys_finder(
    numkeys_index: int, first_key_offset: int = 1, step: int = 1, store_index: int = 0
) -> KeyFinder:
    """Keys follow a count at argv[numkeys_index] (Redis's genericGetKeys).

    Args:
        numkeys_index: where the key count is.
        first_key_offset: the first key is at numkeys_index + first_key_offset.
        step: distance between keys.
        store_index: argv index of a destination key listed after the others (0: none).
    """
    first = numkeys_index + first_key_offset

    def find(argv: Sequence[bytes]) -> list[int]:
        if numkeys_index >= len(argv):
            return []
        count = c_atoi(argv[numkeys_index])
        room = len(argv) - first
        # C integer division truncates toward zero.
        if count < 1 or count > (room // step if room >= 0 else -(-room // step)):
            return []
        keys = list(range(first, first + count * step, step))
        if store_index:
            keys.append(store_index)
        return keys

    return find


def index_finder(*indexes: int) -> KeyFinder:
    """Keys at fixed argv indexes (those present); also handy for `write_keys`."""

    def find(argv: Sequence[bytes]) -> list[int]:
        return [i for i in indexes if i < len(argv)]

    return find


numkeys_keys_at_1: Final = numkeys_finder(1)
numkeys_keys_at_2: Final = numkeys_finder(2)
numkeys_store_keys: Final = numkeys_finder(2, store_index=1)
first_key_only: Final = index_finder(1)


def sort_keys(argv: Sequence[bytes]) -> list[int]:
    """SORT key [BY p] [LIMIT o c] [GET p ...] [ASC|DESC] [ALPHA] [STORE dest]: the sorted
    key and the key after the last STORE (sortGetKeys)."""
    store = 0
    i = 2
    n = len(argv)
    while i < n:
        option = argv[i].lower()
        if option == b"limit":
            i += 2
        elif option == b"store" and i + 1 < n:
            store = i + 1
        elif option in (b"get", b"by"):
            i += 1
        i += 1
    return [1, store] if store else [1]


def georadius_keys(argv: Sequence[bytes]) -> list[int]:
    """GEORADIUS / GEORADIUSBYMEMBER: the key and the key of the last STORE or STOREDIST
    (georadiusGetKeys scans from argv[5])."""
    stored = 0
    i = 5
    n = len(argv)
    while i < n:
        if argv[i].lower() in (b"store", b"storedist") and i + 1 < n:
            stored = i + 1
            i += 1
        i += 1
    return [1, stored] if stored else [1]


def streams_keys(argv: Sequence[bytes]) -> list[int]:
    """XREAD / XREADGROUP: after STREAMS come N keys then N IDs (xreadGetKeys). Options
    before STREAMS are skipped with their arguments, so a key or group named "streams" is
    not mistaken for the keyword."""
    n = len(argv)
    streams = -1
    i = 1
    while i < n:
        option = argv[i].lower()
        if option in (b"block", b"count"):
            i += 1
        elif option == b"group":
            i += 2
        elif option == b"noack":
            pass
        elif option == b"streams":
            streams = i
            break
        else:
            break
        i += 1
    if streams < 0:
        return []
    count = n - streams - 1
    if count == 0 or count % 2:
        return []
    return list(range(streams + 1, streams + 1 + count // 2))


_MIGRATE_SKIP: Final = {b"copy": 0, b"replace": 0, b"auth": 1, b"auth2": 2}


def migrate_keys(argv: Sequence[bytes]) -> list[int]:
    """MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw]
    [KEYS key ...]: argv[3], or every argument after KEYS when argv[3] is empty
    (migrateGetKeys)."""
    n = len(argv)
    first, count = 3, 1
    i = 6
    while i < n:
        option = argv[i].lower()
        if option == b"keys":
            if argv[3]:
                count = 0  # a syntax error MIGRATE reports itself
            else:
                first, count = i + 1, n - i - 1
            break
        i += _MIGRATE_SKIP.get(option, 0) + 1
    return [j for j in range(first, first + count) if j < n]


# The finder of every Redis 7.0 command whose keys move, by lower-case command name.
KEY_FINDERS: Final[dict[str, KeyFinder]] = {
    **dict.fromkeys(
        ("zunion", "zinter", "zdiff", "lmpop", "zmpop", "sintercard", "zintercard"),
        numkeys_keys_at_1,
    ),
    **dict.fromkeys(
        ("eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro", "blmpop", "bzmpop"),
        numkeys_keys_at_2,
    ),
    **dict.fromkeys(("zunionstore", "zinterstore", "zdiffstore"), numkeys_store_keys),
    "sort": sort_keys,
    "sort_ro": first_key_only,
    "georadius": georadius_keys,
    "georadiusbymember": georadius_keys,
    "xread": streams_keys,
    "xreadgroup": streams_keys,
    "migrate": migrate_keys,
}

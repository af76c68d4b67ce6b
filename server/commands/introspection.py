"""COMMAND and its subcommands (Redis group "server"): what the server says about its commands.

Cluster clients (redis-py's RedisCluster, ioredis, Lettuce) read COMMAND to learn where the
keys of each command are; redis-om and tools read COMMAND DOCS.

Strategy: only the registered commands exist (server.commands.table.COMMANDS). A reply merges
what the CommandSpec declares (name, arity, flags, legacy key range, movable keys) with what
Redis 7.0 says about the command in server/commands/meta.py (ACL categories, tips, key specs,
docs). The consistency test in tests/unit/commands/test_table.py keeps the two in agreement.
A registered command Redis 7.0 does not describe gets a description synthesized from its spec.

Replies are Python values that protocol/resp.py encodes: dicts become RESP3 maps (RESP2 flat
arrays), RespSet becomes a RESP3 set, as Redis's addReplyMapLen / addReplySetLen do. Each
command's INFO and DOCS values are built once and reused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

from protocol.resp import RespSet, SimpleString
from server.commands import meta
from server.commands.meta import ACL_CATEGORIES, CommandMeta, KeySpec, key_flag_names
from server.commands.table import (
    COMMANDS,
    FLAG_NAMES,
    CommandSpec,
    Flag,
    Reply,
    command,
    lookup,
)
from server.context import CommandContext
from server.errors import (
    ERR_GETKEYS_ARITY,
    ERR_GETKEYS_INVALID_ARGS,
    ERR_GETKEYS_INVALID_COMMAND,
    ERR_GETKEYS_NO_KEYS,
    ERR_SYNTAX,
    CommandError,
)
from storage.glob import stringmatch

# --- descriptions ---


def flag_names(flags: Flag) -> frozenset[str]:
    """Lower-case Redis names of every flag set in `flags` (hidden ones included)."""
    return frozenset(f.name.lower() for f in Flag if f in flags and f.name is not None)


def _synthesized(spec: CommandSpec) -> CommandMeta:
    """A description for a registered command Redis 7.0 does not know, from its spec."""
    specs: tuple[KeySpec, ...] = ()
    if spec.first_key > 0:
        access = {"RW", "ACCESS", "UPDATE"} if spec.is_write else {"RO", "ACCESS"}
        last = spec.last_key - spec.first_key if spec.last_key >= 0 else spec.last_key
        specs = (
            KeySpec(
                frozenset(access), ("index", spec.first_key), ("range", last, spec.key_step, 0)
            ),
        )
    if spec.movable_keys:
        specs += (KeySpec(frozenset({"RW", "ACCESS", "UPDATE"}), ("unknown",), ("unknown",)),)
    return CommandMeta(
        name=spec.name,
        arity=spec.arity,
        flags=flag_names(spec.flags),
        acl=tuple(spec.acl_categories),
        group=spec.group,
        since=spec.since,
        summary=spec.summary,
        complexity=spec.complexity or None,
        doc_flags=(),
        deprecated_since=None,
        replaced_by=None,
        history=(),
        tips=(),
        key_specs=specs,
        getkeys=spec.movable_keys,
        arguments=None,
    )


def meta_for(spec: CommandSpec) -> CommandMeta:
    """Redis's description of a registered command (synthesized when Redis has none)."""
    return meta.get(spec.name) or _synthesized(spec)


def acl_categories(spec: CommandSpec) -> list[str]:
    """The command's ACL categories in Redis's order: the explicit ones from the metadata
    plus those implied by the spec's flags (setImplicitACLCategories)."""
    explicit = frozenset(meta_for(spec).acl)
    cats = meta.implicit_acl_categories(flag_names(spec.flags), explicit)
    return [c for c in ACL_CATEGORIES if c in cats]


def _status_set(names: Iterator[str] | Sequence[str]) -> RespSet:
    return RespSet(SimpleString(n.encode()) for n in names)


def _flags_reply(spec: CommandSpec) -> RespSet:
    out = RespSet()
    for flag, name in FLAG_NAMES:
        if flag is Flag.ALLOW_BUSY and spec.movable_keys:
            out.append(SimpleString(b"movablekeys"))
        if flag in spec.flags:
            out.append(SimpleString(name))
    return out


def _key_spec_reply(spec: KeySpec) -> dict[bytes, Reply]:
    out: dict[bytes, Reply] = {}
    if spec.notes is not None:
        out[b"notes"] = spec.notes.encode()
    out[b"flags"] = _status_set(key_flag_names(spec.flags))
    begin = spec.begin_search
    if begin[0] == "index":
        out[b"begin_search"] = {b"type": b"index", b"spec": {b"index": begin[1]}}
    elif begin[0] == "keyword":
        out[b"begin_search"] = {
            b"type": b"keyword",
            b"spec": {b"keyword": begin[1].encode(), b"startfrom": begin[2]},
        }
    else:
        out[b"begin_search"] = {b"type": b"unknown", b"spec": {}}
    find = spec.find_keys
    if find[0] == "range":
        out[b"find_keys"] = {
            b"type": b"range",
            b"spec": {b"lastkey": find[1], b"keystep": find[2], b"limit": find[3]},
        }
    elif find[0] == "keynum":
        out[b"find_keys"] = {
            b"type": b"keynum",
            b"spec": {b"keynumidx": find[1], b"firstkey": find[2], b"keystep": find[3]},
        }
    else:
        out[b"find_keys"] = {b"type": b"unknown", b"spec": {}}
    return out


def _build_info(spec: CommandSpec) -> Reply:
    """One COMMAND INFO entry (addReplyCommandInfo)."""
    described = meta_for(spec)
    if spec.first_key > 0:
        first, last, step = spec.first_key, spec.last_key, spec.key_step
    else:
        first = last = step = 0
    subs: Reply = (
        [info_reply(sub) for sub in spec.subcommands.values()] if spec.subcommands else RespSet()
    )
    return [
        spec.name.encode(),
        spec.arity,
        _flags_reply(spec),
        first,
        last,
        step,
        _status_set("@" + c for c in acl_categories(spec)),
        RespSet(t.encode() for t in described.tips),
        RespSet(_key_spec_reply(s) for s in described.key_specs),
        subs,
    ]


_ARG_FLAG_ORDER: Final = ("optional", "multiple", "multiple_token")
_DOC_FLAG_ORDER: Final = ("deprecated", "syscmd")


def _argument_reply(arg: dict[str, Any]) -> dict[bytes, Reply]:
    out: dict[bytes, Reply] = {}
    for key, value in arg.items():
        if key == "flags":
            out[b"flags"] = _status_set(f for f in _ARG_FLAG_ORDER if f in value)
        elif key == "arguments":
            out[b"arguments"] = [_argument_reply(sub) for sub in value]
        elif key == "key_spec_index":
            out[b"key_spec_index"] = value
        else:
            out[key.encode()] = value.encode()
    return out


def _build_docs(spec: CommandSpec) -> Reply:
    """One COMMAND DOCS entry (addReplyCommandDocs)."""
    described = meta_for(spec)
    out: dict[bytes, Reply] = {
        b"summary": described.summary.encode(),
        b"since": described.since.encode(),
        b"group": described.group.encode(),
    }
    if described.complexity is not None:
        out[b"complexity"] = described.complexity.encode()
    if described.doc_flags:
        out[b"doc_flags"] = _status_set(f for f in _DOC_FLAG_ORDER if f in described.doc_flags)
    if described.deprecated_since is not None:
        out[b"deprecated_since"] = described.deprecated_since.encode()
    if described.replaced_by is not None:
        out[b"replaced_by"] = described.replaced_by.encode()
    if described.history:
        out[b"history"] = RespSet([v.encode(), text.encode()] for v, text in described.history)
    if described.arguments:
        out[b"arguments"] = [_argument_reply(arg) for arg in described.arguments]
    if spec.subcommands:
        out[b"subcommands"] = {
            sub.name.encode(): docs_reply(sub) for sub in spec.subcommands.values()
        }
    return out


_Cache = dict[int, tuple[CommandSpec, int, Reply]]
_INFO_CACHE: _Cache = {}
_DOCS_CACHE: _Cache = {}


def _cached(cache: _Cache, spec: CommandSpec, build: Callable[[CommandSpec], Reply]) -> Reply:
    hit = cache.get(id(spec))
    if hit is not None and hit[0] is spec and hit[1] == len(spec.subcommands):
        return hit[2]
    value = build(spec)
    cache[id(spec)] = (spec, len(spec.subcommands), value)
    return value


def info_reply(spec: CommandSpec) -> Reply:
    """COMMAND INFO's entry for a registered command (built once)."""
    return _cached(_INFO_CACHE, spec, _build_info)


def docs_reply(spec: CommandSpec) -> Reply:
    """COMMAND DOCS's entry for a registered command (built once)."""
    return _cached(_DOCS_CACHE, spec, _build_docs)


def lookup_fullname(name: bytes) -> CommandSpec | None:
    """A command by its full name, "get" or "config|get" (lookupCommandBySds: one level of
    subcommands, a container name alone names the container)."""
    parts = name.split(b"|")
    if len(parts) > 2 or not name:
        return None
    base = COMMANDS.get(parts[0].upper())
    if len(parts) == 1 or base is None:
        return base
    if not base.subcommands:
        return None
    return base.subcommands.get(parts[1].upper())


def _walk(specs: Iterator[CommandSpec]) -> Iterator[CommandSpec]:
    for spec in specs:
        yield spec
        if spec.subcommands:
            yield from _walk(iter(spec.subcommands.values()))


# --- keys of a command line ---

_KeyFlags = frozenset[str]
_RO_ACCESS: Final = frozenset({"RO", "ACCESS"})


def _set_key_flags(argv: Sequence[bytes], i: int) -> _KeyFlags:
    # setGetKeys: the GET option makes SET read the key too.
    if any(a.lower() == b"get" for a in argv[3:]):
        return frozenset({"RW", "ACCESS", "UPDATE"})
    return frozenset({"OW", "UPDATE"})


def _bitfield_key_flags(argv: Sequence[bytes], i: int) -> _KeyFlags:
    # bitfieldGetKeys: read-only unless a SET / INCRBY (or anything unparsable) appears.
    j = 2
    n = len(argv)
    while j < n:
        remaining = n - j - 1
        op = argv[j].lower()
        if op == b"get" and remaining >= 2:
            j += 3
        elif op == b"overflow" and remaining >= 1:
            j += 2
        else:
            return frozenset({"RW", "ACCESS", "UPDATE"})
    return _RO_ACCESS


def _sort_key_flags(argv: Sequence[bytes], i: int) -> _KeyFlags:
    return _RO_ACCESS if i == 1 else frozenset({"OW", "UPDATE"})


# The key flags Redis's getkeys procedures report (db.c); the others report none.
_PROC_KEY_FLAGS: Final[dict[str, Callable[[Sequence[bytes], int], _KeyFlags]]] = {
    "set": _set_key_flags,
    "bitfield": _bitfield_key_flags,
    "sort": _sort_key_flags,
    "sort_ro": lambda argv, i: _RO_ACCESS,
    "migrate": lambda argv, i: frozenset({"RW", "ACCESS", "DELETE"}),
}


def command_keys(spec: CommandSpec, argv: Sequence[bytes]) -> list[tuple[int, _KeyFlags]]:
    """Key positions and access flags of a command line, as COMMAND GETKEYS reports them
    (getKeysFromCommandWithSpecs in db.c).

    Redis prefers the key specs when they name at least one real key and none has variable
    flags; when they cannot answer (unknown or incomplete specs, bad numkeys), it asks the
    command's getkeys procedure, which here is the spec's key_indexes (its key_finder).
    """
    described = meta_for(spec)
    specs = described.key_specs
    if any("NOT_KEY" not in s.flags for s in specs) and not any(
        "VARIABLE_FLAGS" in s.flags for s in specs
    ):
        found = meta.keys_from_specs(specs, argv)
        if found is not None:
            return found
    if not described.getkeys:
        return []
    flags_of = _PROC_KEY_FLAGS.get(spec.name)
    empty: _KeyFlags = frozenset()
    return [(i, flags_of(argv, i) if flags_of else empty) for i in spec.key_indexes(argv)]


def getkeys_reply(spec: CommandSpec | None, target: Sequence[bytes], with_flags: bool) -> Reply:
    """COMMAND GETKEYS / GETKEYSANDFLAGS for the command line `target` run by `spec`
    (getKeysSubcommandImpl: the error checks in Redis's order)."""
    if spec is None:
        raise CommandError(ERR_GETKEYS_INVALID_COMMAND)
    if not meta_for(spec).has_keys:
        raise CommandError(ERR_GETKEYS_NO_KEYS)
    if not spec.arity_ok(len(target)):
        raise CommandError(ERR_GETKEYS_ARITY)
    found = command_keys(spec, target)
    if not found:
        if Flag.NO_MANDATORY_KEYS in spec.flags:
            return []
        raise CommandError(ERR_GETKEYS_INVALID_ARGS)
    if not with_flags:
        return [target[i] for i, _ in found]
    return [[target[i], _status_set(key_flag_names(flags))] for i, flags in found]


# --- commands ---

_COMMAND_FLAGS: Final = Flag.LOADING | Flag.STALE | Flag.SENTINEL


@command(
    "COMMAND",
    arity=-1,
    flags=_COMMAND_FLAGS,
    acl=("connection",),
    group="server",
    since="2.8.13",
)
def command_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """COMMAND"""
    return [info_reply(spec) for spec in COMMANDS.values()]


@command(
    "COMMAND|COUNT",
    arity=2,
    flags=_COMMAND_FLAGS,
    acl=("connection",),
    group="server",
    since="2.8.13",
)
def command_count_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """COMMAND COUNT"""
    return len(COMMANDS)


@command(
    "COMMAND|INFO",
    arity=-2,
    flags=_COMMAND_FLAGS,
    acl=("connection",),
    group="server",
    since="2.8.13",
)
def command_info_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """COMMAND INFO [command-name [command-name ...]]"""
    if len(argv) == 2:
        return [info_reply(spec) for spec in COMMANDS.values()]
    out: list[Reply] = []
    for name in argv[2:]:
        spec = lookup_fullname(name)
        out.append(None if spec is None else info_reply(spec))
    return out


@command(
    "COMMAND|DOCS",
    arity=-2,
    flags=_COMMAND_FLAGS,
    acl=("connection",),
    group="server",
    since="7.0.0",
)
def command_docs_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """COMMAND DOCS [command-name [command-name ...]]"""
    specs: Iterator[CommandSpec | None]
    specs = iter(COMMANDS.values()) if len(argv) == 2 else map(lookup_fullname, argv[2:])
    # A name given twice is listed once (Redis repeats it inside the map).
    return {spec.name.encode(): docs_reply(spec) for spec in specs if spec is not None}


@command(
    "COMMAND|LIST",
    arity=-2,
    flags=_COMMAND_FLAGS,
    acl=("connection",),
    group="server",
    since="7.0.0",
)
def command_list_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """COMMAND LIST [FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]"""
    specs = _walk(iter(COMMANDS.values()))
    if len(argv) == 2:
        return [spec.name.encode() for spec in specs]
    if len(argv) != 5 or argv[2].lower() != b"filterby":
        raise CommandError(ERR_SYNTAX)
    kind = argv[3].lower()
    value = argv[4]
    if kind == b"module":
        return []  # no modules are loaded
    if kind == b"aclcat":
        category = value.lower().decode("latin-1")
        if category not in ACL_CATEGORIES:
            return []
        return [spec.name.encode() for spec in specs if category in acl_categories(spec)]
    if kind == b"pattern":
        return [
            spec.name.encode()
            for spec in specs
            if stringmatch(value, spec.name.encode(), nocase=True)
        ]
    raise CommandError(ERR_SYNTAX)


@command(
    "COMMAND|GETKEYS",
    arity=-4,
    flags=_COMMAND_FLAGS,
    acl=("connection",),
    group="server",
    since="2.8.13",
)
def command_getkeys_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """COMMAND GETKEYS command [arg [arg ...]]"""
    return getkeys_reply(lookup(argv[2:]), argv[2:], with_flags=False)


@command(
    "COMMAND|GETKEYSANDFLAGS",
    arity=-4,
    flags=_COMMAND_FLAGS,
    acl=("connection",),
    group="server",
    since="7.0.0",
)
def command_getkeysandflags_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """COMMAND GETKEYSANDFLAGS command [arg [arg ...]]"""
    return getkeys_reply(lookup(argv[2:]), argv[2:], with_flags=True)


_HELP: Final = (
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
)


@command(
    "COMMAND|HELP",
    arity=2,
    flags=_COMMAND_FLAGS,
    acl=("connection",),
    group="server",
    since="5.0.0",
)
def command_help_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """COMMAND HELP"""
    header = argv[0].upper() + b" <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    return [SimpleString(header), *(SimpleString(line.encode()) for line in _HELP)]

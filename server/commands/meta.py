"""Redis 7.0's description of every command: the facts COMMAND, COMMAND INFO, COMMAND DOCS and
COMMAND GETKEYS report, kept as data in meta.json beside this module.

It covers every Redis 7.0 command and subcommand (plus the few later ones Duocache serves,
such as CLIENT SETINFO), whether or not Duocache implements it, so a family that registers a
command is described correctly without touching this file. Nothing here knows about the
command table or RESP: server/commands/introspection.py merges these facts with the
registered CommandSpecs and builds the replies.

meta.json holds, per full lower-case name ("get", "config|get"): arity, Redis's command flags
(lower case, the hidden ones included), the explicit ACL categories, group, since, a short
summary and history notes in our own words, the big-O complexity, doc flags,
deprecated_since / replaced_by, command tips, key specs, whether Redis has a getkeys procedure
for it, and the argument tree in the shape COMMAND DOCS prints.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

from protocol.numbers import parse_int

# --- key specs ---

# Key-spec flags in the order Redis prints them (addReplyFlagsForKeyArgs in server.c).
KEY_FLAG_ORDER: Final = (
    "RO",
    "RW",
    "OW",
    "RM",
    "access",
    "update",
    "insert",
    "delete",
    "not_key",
    "incomplete",
    "variable_flags",
)
_KEY_FLAG_RANK: Final = {name.upper(): i for i, name in enumerate(KEY_FLAG_ORDER)}


def key_flag_names(flags: frozenset[str]) -> list[str]:
    """Key-spec flags (upper case, as stored) in Redis's print order and spelling."""
    return [
        KEY_FLAG_ORDER[_KEY_FLAG_RANK[f]] for f in sorted(flags, key=_KEY_FLAG_RANK.__getitem__)
    ]


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One key spec: where the search starts and how the keys are found from there.

    begin_search: ("index", pos) | ("keyword", keyword, startfrom) | ("unknown",)
    find_keys: ("range", lastkey, keystep, limit) | ("keynum", keynumidx, firstkey, keystep)
        | ("unknown",)
    flags: upper-case names ("RO", "ACCESS", "INCOMPLETE", ...).
    """

    flags: frozenset[str]
    begin_search: tuple[Any, ...]
    find_keys: tuple[Any, ...]
    notes: str | None = None

    @property
    def is_index_range(self) -> bool:
        return bool(self.begin_search[0] == "index" and self.find_keys[0] == "range")


# --- commands ---

# ACL categories in the order Redis prints them (ACLCommandCategories in acl.c).
ACL_CATEGORIES: Final = (
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
)


def implicit_acl_categories(flags: frozenset[str], explicit: frozenset[str]) -> frozenset[str]:
    """The categories Redis adds from the command flags (setImplicitACLCategories)."""
    out = set(explicit)
    if "write" in flags:
        out.add("write")
    if "readonly" in flags and "scripting" not in explicit:
        out.add("read")
    if "admin" in flags:
        out.update(("admin", "dangerous"))
    if "pubsub" in flags:
        out.add("pubsub")
    if "fast" in flags:
        out.add("fast")
    if "blocking" in flags:
        out.add("blocking")
    if "fast" not in out:
        out.add("slow")
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class CommandMeta:
    """What Redis 7.0 says about one command or subcommand."""

    name: str
    arity: int
    flags: frozenset[str]
    acl: tuple[str, ...]
    group: str
    since: str
    summary: str
    complexity: str | None
    doc_flags: tuple[str, ...]
    deprecated_since: str | None
    replaced_by: str | None
    history: tuple[tuple[str, str], ...]
    tips: tuple[str, ...]
    key_specs: tuple[KeySpec, ...]
    getkeys: bool
    arguments: tuple[dict[str, Any], ...] | None

    @property
    def acl_categories(self) -> frozenset[str]:
        """Explicit plus implicit categories, as COMMAND INFO and ACL see them."""
        return implicit_acl_categories(self.flags, frozenset(self.acl))

    @property
    def has_keys(self) -> bool:
        """doesCommandHaveKeys: a getkeys procedure, or a key spec that is not NOT_KEY."""
        return self.getkeys or any("NOT_KEY" not in s.flags for s in self.key_specs)

    @property
    def legacy_range(self) -> tuple[tuple[int, int, int], bool]:
        """((first, last, step), movablekeys) as COMMAND INFO reports them."""
        return legacy_key_range(self.key_specs)


def _meta(name: str, raw: dict[str, Any]) -> CommandMeta:
    specs = tuple(
        KeySpec(
            flags=frozenset(s["flags"]),
            begin_search=tuple(s["begin_search"]),
            find_keys=tuple(s["find_keys"]),
            notes=s.get("notes"),
        )
        for s in raw.get("key_specs", ())
    )
    args = raw.get("arguments")
    return CommandMeta(
        name=name,
        arity=raw["arity"],
        flags=frozenset(raw["flags"]),
        acl=tuple(raw.get("acl", ())),
        group=raw["group"],
        since=raw["since"],
        summary=raw["summary"],
        complexity=raw.get("complexity"),
        doc_flags=tuple(raw.get("doc_flags", ())),
        deprecated_since=raw.get("deprecated_since"),
        replaced_by=raw.get("replaced_by"),
        history=tuple((since, text) for since, text in raw.get("history", ())),
        tips=tuple(raw.get("tips", ())),
        key_specs=specs,
        getkeys=bool(raw.get("getkeys")),
        arguments=tuple(args) if args is not None else None,
    )


@functools.cache
def all_commands() -> dict[str, CommandMeta]:
    """Every described command by full lower-case name; meta.json is read on first use."""
    text = resources.files("server.commands").joinpath("meta.json").read_text("utf-8")
    return {name: _meta(name, raw) for name, raw in json.loads(text).items()}


def get(name: str) -> CommandMeta | None:
    """The description of `name` ("get", "config|get"), None when Redis 7.0 has no such
    command."""
    return all_commands().get(name)


# --- key positions from key specs ---


def legacy_key_range(specs: tuple[KeySpec, ...]) -> tuple[tuple[int, int, int], bool]:
    """The legacy (first, last, step) triple and the movablekeys flag, derived from the key
    specs as Redis does at startup (populateCommandLegacyRangeSpec in server.c)."""
    if not specs:
        return (0, 0, 0), False
    if len(specs) == 1 and specs[0].is_index_range:
        spec = specs[0]
        first = spec.begin_search[1]
        lastkey, step = spec.find_keys[1], spec.find_keys[2]
        return (first, lastkey + first if lastkey >= 0 else lastkey, step), (
            "INCOMPLETE" in spec.flags
        )
    movable = False
    first = 2**31
    last = 0
    previous = 0
    for spec in specs:
        if not spec.is_index_range:
            movable = True
            continue
        pos = spec.begin_search[1]
        lastkey, step = spec.find_keys[1], spec.find_keys[2]
        if step != 1 or (previous and previous != pos - 1):
            movable = True
            continue
        if "INCOMPLETE" in spec.flags:
            movable = True
        first = min(first, pos)
        absolute = lastkey + pos if lastkey >= 0 else lastkey
        # Redis compares as unsigned, so a negative (count-from-the-end) last key wins.
        if absolute & 0xFFFFFFFF > last & 0xFFFFFFFF:
            last = absolute
        previous = last
    if first == 2**31:
        return (0, 0, 0), True
    return (first, last, 1), movable


def _int32(value: int) -> int:
    return ((value + 2**31) % 2**32) - 2**31


def keys_from_specs(
    specs: tuple[KeySpec, ...], argv: Sequence[bytes]
) -> list[tuple[int, frozenset[str]]] | None:
    """Key positions and flags from the key specs (getKeysUsingKeySpecs in db.c).

    Returns None when a spec cannot answer (unknown, incomplete, or arguments out of
    range); Redis then falls back to the command's getkeys procedure.
    """
    argc = len(argv)
    found: list[tuple[int, frozenset[str]]] = []
    for spec in specs:
        if "NOT_KEY" in spec.flags:
            continue
        begin = spec.begin_search
        if begin[0] == "index":
            first = begin[1]
        elif begin[0] == "keyword":
            keyword = begin[1].lower().encode()
            startfrom = begin[2]
            start = startfrom if startfrom > 0 else argc + startfrom
            end = argc - 1 if startfrom > 0 else 1
            first = 0
            i = start
            while i != end:
                if i >= argc or i < 1:
                    break
                if argv[i].lower() == keyword:
                    first = i + 1
                    break
                i = i + 1 if start <= end else i - 1
            if not first:
                continue
        else:
            return None
        find = spec.find_keys
        if find[0] == "range":
            lastkey, step, limit = find[1], find[2], find[3]
            if lastkey >= 0:
                last = first + lastkey
            elif not limit:
                last = argc + lastkey
            else:
                last = first + ((argc - first) // limit + lastkey)
        elif find[0] == "keynum":
            keynumidx, firstkey, step = find[1], find[2], find[3]
            if keynumidx >= argc or first + keynumidx >= argc:
                return None
            count = parse_int(argv[first + keynumidx])
            if count is None or count < 0:
                return None
            first += firstkey
            last = first + _int32(count) - 1
        else:
            return None
        if last >= argc or last < first or first >= argc:
            return None
        found.extend((i, spec.flags) for i in range(first, last + 1, step))
        if "INCOMPLETE" in spec.flags:
            return None
    return found

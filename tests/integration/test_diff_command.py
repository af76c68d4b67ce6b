"""Differential: COMMAND, COMMAND INFO / DOCS / COUNT / LIST / GETKEYS against a real redis-server.

Redis lists commands and subcommands in hash-table order, which changes with every process, so
those lists are compared as sets; everything else is compared byte for byte after parsing the
reply into a tree that keeps every RESP type marker. COMMAND DOCS differs on purpose in the
summary, history and complexity wording (ours is our own), so those texts are masked.

Only registered commands exist in Duocache; lists from Redis are cut down to those. The
metadata for the commands nobody registered yet is checked too, in-process: a spec is built
from it and its reply compared with Redis's, so a family registered later is described
correctly from the start.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterator
from typing import Any

import pytest

import server.commands  # noqa: F401  (registers every family)
from protocol.resp import encode_reply, error_bytes
from server.commands import introspection, meta
from server.commands.table import COMMANDS, KEY_FINDERS, CommandSpec, Flag
from server.errors import CommandError
from tests.differential import Differential
from tests.support import RawClient, RealServer

pytestmark = pytest.mark.integration

# --- a RESP reader that keeps type markers ---

Node = tuple[str, Any]  # ("$", b"x") | ("*", (children...)) | ("%", (k, v, k, v...))
_AGGREGATES = {"*": 1, "~": 1, ">": 1, "%": 2, "|": 2}


def _read(raw: bytes, pos: int) -> tuple[Node, int]:
    kind = chr(raw[pos])
    end = raw.index(b"\r\n", pos)
    head = raw[pos + 1 : end]
    pos = end + 2
    if kind in _AGGREGATES:
        count = int(head)
        if count < 0:
            return (kind, None), pos
        children = []
        for _ in range(count * _AGGREGATES[kind]):
            child, pos = _read(raw, pos)
            children.append(child)
        return (kind, tuple(children)), pos
    if kind in "$=!":
        size = int(head)
        if size < 0:
            return (kind, None), pos
        return (kind, raw[pos : pos + size]), pos + size + 2
    return (kind, head), pos


def parse(raw: bytes) -> Node:
    node, pos = _read(raw, 0)
    assert pos == len(raw), "trailing bytes after the reply"
    return node


def _is_null(node: Node) -> bool:
    return node[0] == "_" or node[1] is None


def _pairs(node: Node) -> list[tuple[Node, Node]]:
    items = node[1]
    return [(items[i], items[i + 1]) for i in range(0, len(items), 2)]


def _unpairs(kind: str, pairs: list[tuple[Node, Node]]) -> Node:
    return (kind, tuple(x for pair in pairs for x in pair))


# --- normalisation ---


def _walk(specs: Iterator[CommandSpec]) -> Iterator[CommandSpec]:
    for spec in specs:
        yield spec
        yield from _walk(iter(spec.subcommands.values()))


REGISTERED = [spec.name for spec in _walk(iter(COMMANDS.values()))]
REGISTERED_SET = frozenset(n.encode() for n in REGISTERED)
# Commands Duocache serves that Redis 7.0.15 does not have (redis-py 8 sends CLIENT SETINFO).
NEWER_THAN_70 = frozenset({b"client|setinfo"})
# Commands whose 7.2 form Duocache serves (ZRANK/ZREVRANK WITHSCORE): their metadata is 7.2's.
CHANGED_SINCE_70 = frozenset({b"zrank", b"zrevrank"})


@pytest.fixture(scope="module")
def redis_names(real_redis: RealServer) -> frozenset[bytes]:
    """Every command and subcommand name the real server has."""
    with RawClient(real_redis.port) as client:
        node = parse(client.command("COMMAND", "LIST"))
    return frozenset(child[1] for child in node[1])


def canon_info(node: Node, keep: frozenset[bytes]) -> Node:
    """A COMMAND INFO entry with its subcommand list cut to `keep` and sorted."""
    if _is_null(node):
        return node
    fields = list(node[1])
    subs = fields[9]
    if subs[0] == "*":
        kept = [canon_info(s, keep) for s in subs[1] if s[1][0][1] in keep]
        fields[9] = ("*", tuple(sorted(kept, key=repr)))
    return (node[0], tuple(fields))


_MASK = ("$", b"<our wording>")


def canon_docs(node: Node, keep: frozenset[bytes]) -> Node:
    """A COMMAND DOCS entry with our own wording masked and subcommands cut and sorted."""
    out = []
    for key, value in _pairs(node):
        name = key[1]
        if name in (b"summary", b"complexity"):
            value = _MASK
        elif name == b"history":
            value = (value[0], tuple((e[0], (e[1][0], _MASK)) for e in value[1]))
        elif name == b"subcommands":
            subs = [(k, canon_docs(v, keep)) for k, v in _pairs(value) if k[1] in keep]
            value = _unpairs(value[0], sorted(subs, key=repr))
        out.append((key, value))
    return _unpairs(node[0], out)


def _history_since(node: Node) -> list[bytes]:
    for key, value in _pairs(node):
        if key[1] == b"history":
            return [entry[1][0][1] for entry in value[1]]
    return []


@pytest.fixture(params=["resp2", "resp3"])
def both(request: pytest.FixtureRequest) -> Differential:
    """The RESP2 and the RESP3 differential pair in turn."""
    fixture = "diff" if request.param == "resp2" else "diff3"
    d: Differential = request.getfixturevalue(fixture)
    return d


# --- COMMAND INFO / COMMAND ---


def test_command_info_matches_redis_for_every_registered_command(
    both: Differential, redis_names: frozenset[bytes]
) -> None:
    keep = (REGISTERED_SET & redis_names) - CHANGED_SINCE_70
    mismatches = []
    for name in REGISTERED:
        if name.encode() in CHANGED_SINCE_70:
            continue
        ours, theirs = both.send("COMMAND", "INFO", name)
        if name.encode() not in redis_names:  # newer than 7.0, or Duocache's own
            assert _is_null(parse(theirs)[1][0])
            assert not _is_null(parse(ours)[1][0])
            continue
        if canon_info(parse(ours)[1][0], keep) != canon_info(parse(theirs)[1][0], keep):
            mismatches.append(f"{name}\n  ours:   {ours!r}\n  redis:  {theirs!r}")
    assert not mismatches, "\n".join(mismatches)


def test_command_lists_every_registered_command(
    both: Differential, redis_names: frozenset[bytes]
) -> None:
    keep = (REGISTERED_SET & redis_names) - CHANGED_SINCE_70
    ours, theirs = both.send("COMMAND")
    our_entries = parse(ours)[1]
    assert sorted(e[1][0][1] for e in our_entries) == sorted(
        n.encode() for n in REGISTERED if "|" not in n
    )
    mine = sorted(repr(canon_info(e, keep)) for e in our_entries if e[1][0][1] in keep)
    redis = sorted(repr(canon_info(e, keep)) for e in parse(theirs)[1] if e[1][0][1] in keep)
    assert mine == redis
    # COMMAND INFO without names is COMMAND.
    ours_info, _ = both.send("COMMAND", "INFO")
    assert sorted(repr(e) for e in parse(ours_info)[1]) == sorted(repr(e) for e in our_entries)


def test_command_info_lookups_and_errors(both: Differential) -> None:
    both.assert_same(
        [
            ("COMMAND", "INFO", "GET", "nosuch", "Client|Id", "client|nosuch"),
            ("COMMAND", "INFO", "get|x", "a|b|c", "client|id|x", "|get", "client|"),
            ("COMMAND", "INFO", "CLIENT|GETNAME", "command|count"),
            ("COMMAND", "COUNTX"),
            ("COMMAND", "COUNT", "x"),
            ("COMMAND", "HELP"),
            ("command", "help"),
            ("COMMAND", "HELP", "x"),
            ("COMMAND", "GETKEYS"),
            ("COMMAND", "GETKEYS", "get"),
            ("COMMAND", "DOCS", "nosuch", "a|b|c"),
        ]
    )


def test_command_count_is_the_number_of_registered_commands(both: Differential) -> None:
    ours, _ = both.send("COMMAND", "COUNT")
    assert ours == b":%d\r\n" % len(COMMANDS)


# --- COMMAND DOCS ---


def test_command_docs_match_redis_except_our_wording(
    both: Differential, redis_names: frozenset[bytes]
) -> None:
    keep = (REGISTERED_SET & redis_names) - CHANGED_SINCE_70
    mismatches = []
    for name in REGISTERED:
        if name.encode() not in redis_names or name.encode() in CHANGED_SINCE_70:
            continue
        ours, theirs = both.send("COMMAND", "DOCS", name)
        mine, redis = parse(ours), parse(theirs)
        assert len(mine[1]) == len(redis[1]) == 2
        (our_name, our_docs), (their_name, their_docs) = _pairs(mine)[0], _pairs(redis)[0]
        assert our_name == their_name
        # Our history notes are our own words, but they are as many, for the same versions.
        assert _history_since(our_docs) == _history_since(their_docs)
        if canon_docs(our_docs, keep) != canon_docs(their_docs, keep):
            mismatches.append(f"{name}\n  ours:   {ours!r}\n  redis:  {theirs!r}")
    assert not mismatches, "\n".join(mismatches)


def test_command_docs_without_names_covers_every_registered_command(
    both: Differential, redis_names: frozenset[bytes]
) -> None:
    keep = (REGISTERED_SET & redis_names) - CHANGED_SINCE_70
    ours, theirs = both.send("COMMAND", "DOCS")
    mine = {k[1]: canon_docs(v, keep) for k, v in _pairs(parse(ours))}
    assert sorted(mine) == sorted(n.encode() for n in REGISTERED if "|" not in n)
    redis = {k[1]: canon_docs(v, keep) for k, v in _pairs(parse(theirs)) if k[1] in keep}
    assert {k: v for k, v in mine.items() if k in keep} == redis


# --- COMMAND LIST ---


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("FILTERBY", "ACLCAT", "read"),
        ("FILTERBY", "aclcat", "CONNECTION"),
        ("FILTERBY", "ACLCAT", "slow"),
        ("FILTERBY", "ACLCAT", "nosuch"),
        ("FILTERBY", "PATTERN", "c*"),
        ("FILTERBY", "PATTERN", "CLIENT|*"),
        ("FILTERBY", "PATTERN", "*e[lt]*"),
        ("FILTERBY", "MODULE", "json"),
    ],
)
def test_command_list_matches_redis(
    both: Differential, redis_names: frozenset[bytes], args: tuple[str, ...]
) -> None:
    ours, theirs = both.send("COMMAND", "LIST", *args)
    mine = sorted(n[1] for n in parse(ours)[1] if n[1] in redis_names)
    redis = sorted(n[1] for n in parse(theirs)[1] if n[1] in REGISTERED_SET)
    assert mine == redis
    if not args:
        assert sorted(n[1] for n in parse(ours)[1]) == sorted(REGISTERED_SET)


def test_command_list_syntax_errors(both: Differential) -> None:
    both.assert_same(
        [
            ("COMMAND", "LIST", "FILTERBY"),
            ("COMMAND", "LIST", "FILTERBY", "ACLCAT"),
            ("COMMAND", "LIST", "FILTERBY", "NOSUCH", "x"),
            ("COMMAND", "LIST", "FILTERBY", "ACLCAT", "read", "extra"),
            ("COMMAND", "LIST", "FOO", "a", "b"),
        ]
    )


# --- COMMAND GETKEYS ---

# (command line, what it needs registered). Lines for families not registered yet are
# checked in-process below and join this differential script once they are registered.
GETKEYS_CASES: list[tuple[str, ...]] = [
    ("GET", "k"),
    ("SET", "k", "v"),
    ("SET", "k", "v", "GET"),
    ("SET", "k", "v", "get", "EX", "1"),
    ("DEL", "a", "b", "c"),
    ("EXISTS", "a"),
    ("TYPE", "t"),
    ("MSET", "a", "1", "b", "2"),
    ("MGET", "a", "b"),
    ("GETEX", "k", "PERSIST"),
    ("LMOVE", "a", "b", "LEFT", "RIGHT"),
    ("BLPOP", "a", "b", "0"),
    ("RENAME", "a", "b"),
    ("SMOVE", "a", "b", "m"),
    ("PFCOUNT", "a", "b"),
    ("XADD", "s", "*", "f", "v"),
    ("OBJECT", "ENCODING", "k"),
    ("XINFO", "STREAM", "s"),
    ("MEMORY", "USAGE", "k"),
    ("BITFIELD", "k", "GET", "u8", "0"),
    ("BITFIELD", "k", "GET", "u8", "0", "SET", "u8", "0", "1"),
    ("BITFIELD", "k", "OVERFLOW", "SAT", "GET", "u8", "0"),
    ("BITFIELD", "k", "GET", "u8"),
    ("BITFIELD_RO", "k", "GET", "u8", "0"),
    ("ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"),
    ("ZUNIONSTORE", "d", "3", "a", "b"),
    ("ZUNIONSTORE", "d", "1x", "a", "b"),
    ("ZUNIONSTORE", "d", "0", "a"),
    ("ZINTERSTORE", "d", "-1", "a"),
    ("ZDIFFSTORE", "d", "1", "a"),
    ("ZUNION", "2", "a", "b", "WITHSCORES"),
    ("ZINTER", "1x", "a", "b"),
    ("ZDIFF", "5", "a"),
    ("ZUNION", "99999999999999999999", "a"),
    ("ZUNION", "4294967297", "a"),
    ("ZUNION", " 1", "a"),
    ("ZUNION", "+1", "a", "b"),
    ("ZINTERCARD", "2", "a", "b", "LIMIT", "1"),
    ("SINTERCARD", "1", "a"),
    ("LMPOP", "2", "a", "b", "LEFT"),
    ("LMPOP", "3", "a", "LEFT"),
    ("ZMPOP", "1", "a", "MIN", "COUNT", "2"),
    ("BLMPOP", "0", "1", "a", "RIGHT"),
    ("BZMPOP", "0", "2", "a", "b", "MAX"),
    ("EVAL", "return 1", "0"),
    ("EVAL", "return 1", "2", "a", "b", "c"),
    ("EVAL", "return 1", "5", "a"),
    ("EVAL", "return 1", "-1"),
    ("EVALSHA", "abc", "1", "a"),
    ("EVAL_RO", "return 1", "1", "a"),
    ("EVALSHA_RO", "abc", "0"),
    ("FCALL", "f", "1", "a", "x"),
    ("FCALL_RO", "f", "0", "x"),
    ("SORT", "k"),
    ("SORT", "k", "BY", "w_*", "GET", "#", "STORE", "d"),
    ("SORT", "k", "STORE", "d1", "LIMIT", "0", "1", "STORE", "d2"),
    ("SORT", "k", "STORE"),
    ("SORT_RO", "k", "BY", "w_*"),
    ("GEORADIUS", "k", "0", "0", "1", "m"),
    ("GEORADIUS", "k", "0", "0", "1", "m", "STORE", "d"),
    ("GEORADIUS", "k", "0", "0", "1", "m", "STOREDIST", "d"),
    ("GEORADIUS_RO", "k", "0", "0", "1", "m", "WITHDIST"),
    ("GEORADIUSBYMEMBER", "k", "m", "1", "km", "STORE", "d"),
    ("GEOSEARCHSTORE", "d", "k", "FROMMEMBER", "m", "BYRADIUS", "1", "km"),
    ("XREAD", "STREAMS", "a", "b", "0", "0"),
    ("XREAD", "COUNT", "2", "BLOCK", "0", "STREAMS", "a", "0"),
    ("XREAD", "STREAMS", "a", "b", "0"),
    ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", ">"),
    ("MIGRATE", "h", "1", "k", "0", "5"),
    ("MIGRATE", "h", "1", "", "0", "5", "COPY", "KEYS", "a", "b"),
    ("MIGRATE", "h", "1", "", "0", "5", "AUTH2", "u", "p", "KEYS", "a"),
    ("MIGRATE", "h", "1", "k", "0", "5", "KEYS", "a"),
    # errors
    ("NOSUCH", "a"),
    ("PING", "x"),
    ("SPUBLISH", "ch", "msg"),
    ("GET", "a", "b"),
    ("CLIENT", "ID"),
    ("CLIENT", "NOSUCH"),
    ("CLIENT", "KILL", "x"),
    ("CONFIG", "GET", "x"),
    ("COMMAND", "GETKEYS", "get", "x"),
]


def _registered(case: tuple[str, ...]) -> bool:
    spec = COMMANDS.get(case[0].upper().encode())
    if spec is None:
        return case[0] == "NOSUCH"
    if spec.subcommands and len(case) > 1:
        return case[1].upper().encode() in spec.subcommands or case[1] == "NOSUCH"
    return True


def test_getkeys_matches_redis(both: Differential) -> None:
    cases = [c for c in GETKEYS_CASES if _registered(c)]
    assert len(cases) >= 12
    script: list[tuple[str, ...]] = []
    for case in cases:
        script.append(("COMMAND", "GETKEYS", *case))
        script.append(("COMMAND", "GETKEYSANDFLAGS", *case))
    both.assert_same(script)


def _spec_from_meta(name: str) -> CommandSpec:
    """A spec as a family would register it, straight from the metadata."""
    described = meta.get(name)
    assert described is not None
    flags = functools.reduce(operator.or_, (Flag[f.upper()] for f in described.flags), Flag(0))
    (first, last, step), movable = described.legacy_range
    spec = CommandSpec(
        name=name,
        handler=lambda ctx, argv: None,
        arity=described.arity,
        flags=flags,
        first_key=first,
        last_key=last,
        key_step=step,
        key_finder=KEY_FINDERS[name] if movable else None,
    )
    for sub_name in meta.all_commands():
        if sub_name.startswith(name + "|"):
            sub_spec = _spec_from_meta(sub_name)
            sub_spec.parent = spec
            spec.subcommands[sub_name.split("|")[1].upper().encode()] = sub_spec
    return spec


@functools.cache
def _all_specs() -> dict[bytes, CommandSpec]:
    return {
        name.upper().encode(): _spec_from_meta(name)
        for name, described in meta.all_commands().items()
        if "|" not in name and "only_sentinel" not in described.flags
    }


def _lookup_all(argv: list[bytes]) -> CommandSpec | None:
    spec = _all_specs().get(argv[0].upper())
    if spec is None or not spec.subcommands or len(argv) == 1:
        return spec
    return spec.subcommands.get(argv[1].upper())


def test_getkeys_logic_matches_redis_for_every_key_shape(real_redis: RealServer) -> None:
    """Every GETKEYS case, families registered or not: the reply our code builds from the
    metadata and the canonical key finders equals Redis's."""
    mismatches = []
    with RawClient(real_redis.port) as client:
        for case in GETKEYS_CASES:
            argv = [a.encode() for a in case]
            for sub, with_flags in (("GETKEYS", False), ("GETKEYSANDFLAGS", True)):
                try:
                    reply = introspection.getkeys_reply(_lookup_all(argv), argv, with_flags)
                    ours = encode_reply(reply, False)
                except CommandError as e:
                    ours = error_bytes(e.text)
                theirs = client.command("COMMAND", sub, *case)
                if ours != theirs:
                    mismatches.append(f"{sub} {case}\n  ours:  {ours!r}\n  redis: {theirs!r}")
    assert not mismatches, "\n".join(mismatches)


# --- the metadata of every Redis command ---


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_metadata_describes_every_redis_command_as_redis_does(
    real_redis: RealServer, redis_names: frozenset[bytes], resp3: bool
) -> None:
    """INFO and DOCS built from meta.json for all of Redis's commands, registered or not."""
    specs = _all_specs()
    every = frozenset(spec.name.encode() for spec in _walk(iter(specs.values())))
    assert every == redis_names | NEWER_THAN_70
    mismatches = []
    with RawClient(real_redis.port) as client:
        if resp3:
            client.command("HELLO", "3")
        for spec in _walk(iter(specs.values())):
            if spec.name.encode() in NEWER_THAN_70 | CHANGED_SINCE_70:
                continue
            theirs = parse(client.command("COMMAND", "INFO", spec.name))[1][0]
            ours = parse(encode_reply(introspection.info_reply(spec), resp3))
            if canon_info(ours, redis_names) != canon_info(theirs, redis_names):
                mismatches.append(f"INFO {spec.name}\n  ours:  {ours!r}\n  redis: {theirs!r}")
            theirs_docs = _pairs(parse(client.command("COMMAND", "DOCS", spec.name)))[0][1]
            ours_docs = parse(encode_reply(introspection.docs_reply(spec), resp3))
            if canon_docs(ours_docs, redis_names) != canon_docs(theirs_docs, redis_names) or (
                _history_since(ours_docs) != _history_since(theirs_docs)
            ):
                mismatches.append(
                    f"DOCS {spec.name}\n  ours:  {ours_docs!r}\n  redis: {theirs_docs!r}"
                )
    assert not mismatches, "\n".join(mismatches[:20])

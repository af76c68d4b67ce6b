"""The command table against Redis 7.0's metadata, and the generic key finders.

The consistency tests walk every registered command and subcommand, so a family registered
later is checked the moment it is imported by server.commands.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import server.commands  # noqa: F401  (registers every family)
from server.commands import meta
from server.commands.introspection import command_keys, flag_names
from server.commands.table import (
    COMMANDS,
    KEY_FINDERS,
    CommandSpec,
    Flag,
    c_atoi,
    first_key_only,
    georadius_keys,
    index_finder,
    migrate_keys,
    numkeys_finder,
    numkeys_keys_at_1,
    numkeys_keys_at_2,
    numkeys_store_keys,
    sort_keys,
    streams_keys,
)


def _walk(specs: Iterator[CommandSpec]) -> Iterator[CommandSpec]:
    for spec in specs:
        yield spec
        yield from _walk(iter(spec.subcommands.values()))


REGISTERED = list(_walk(iter(COMMANDS.values())))
IDS = [spec.name for spec in REGISTERED]

# Redis commands that write without naming a key: they change the whole keyspace or the
# function library.
KEYLESS_WRITES = frozenset(
    {
        "flushall",
        "flushdb",
        "swapdb",
        "function|delete",
        "function|flush",
        "function|load",
        "function|restore",
    }
)


# Commands of Duocache's own that Redis does not have. They are described from their spec
# (see introspection._synthesized); list one here, or describe it in meta.json.
# Commands from Redis versions after 7.0 that clients send (CLIENT NO-TOUCH is 7.2).
DUOCACHE_ONLY: frozenset[str] = frozenset({"client|no-touch"})


def _meta(spec: CommandSpec) -> meta.CommandMeta:
    described = meta.get(spec.name)
    assert described is not None, f"{spec.name} is not described"
    return described


# The registered commands Redis 7.0 describes: the ones compared with its metadata.
DESCRIBED = [spec for spec in REGISTERED if meta.get(spec.name) is not None]
DESCRIBED_IDS = [spec.name for spec in DESCRIBED]


def _legacy_range(spec: CommandSpec) -> tuple[int, int, int]:
    if spec.first_key <= 0:
        return (0, 0, 0)
    return (spec.first_key, spec.last_key, spec.key_step)


# --- the registered commands agree with Redis ---


def test_registry_keys_are_upper_case_names() -> None:
    for key, spec in COMMANDS.items():
        assert key == spec.name.upper().encode()
        for sub_key, sub in spec.subcommands.items():
            assert sub.name == f"{spec.name}|{sub_key.decode().lower()}"
            assert sub.parent is spec


def test_every_registered_command_is_described() -> None:
    unknown = {spec.name for spec in REGISTERED if meta.get(spec.name) is None}
    assert unknown == set(DUOCACHE_ONLY), (
        "registered commands Redis 7.0 does not have: describe them in "
        "server/commands/meta.json or list them in DUOCACHE_ONLY"
    )


@pytest.mark.parametrize("spec", DESCRIBED, ids=DESCRIBED_IDS)
def test_arity_matches_redis(spec: CommandSpec) -> None:
    assert spec.arity == _meta(spec).arity


@pytest.mark.parametrize("spec", DESCRIBED, ids=DESCRIBED_IDS)
def test_flags_match_redis(spec: CommandSpec) -> None:
    assert flag_names(spec.flags) == _meta(spec).flags


@pytest.mark.parametrize("spec", DESCRIBED, ids=DESCRIBED_IDS)
def test_key_range_and_movable_keys_match_redis(spec: CommandSpec) -> None:
    (first, last, step), movable = _meta(spec).legacy_range
    assert _legacy_range(spec) == (first, last, step)
    assert spec.movable_keys == movable, "commands whose keys move need a key_finder"


@pytest.mark.parametrize("spec", DESCRIBED, ids=DESCRIBED_IDS)
def test_declared_acl_categories_are_redis_categories(spec: CommandSpec) -> None:
    assert set(spec.acl_categories) <= _meta(spec).acl_categories


@pytest.mark.parametrize("spec", REGISTERED, ids=IDS)
def test_write_commands_have_keys_or_are_known_keyless(spec: CommandSpec) -> None:
    if spec.is_write and spec.name not in KEYLESS_WRITES:
        assert spec.first_key > 0 or spec.movable_keys


@pytest.mark.parametrize("spec", REGISTERED, ids=IDS)
def test_no_command_is_both_write_and_readonly(spec: CommandSpec) -> None:
    assert not (spec.is_write and spec.is_readonly)


def test_keyless_allowlist_is_what_redis_says() -> None:
    keyless = {
        name
        for name, described in meta.all_commands().items()
        if "write" in described.flags and not described.key_specs
    }
    assert keyless == KEYLESS_WRITES


# --- the metadata itself ---


def test_metadata_describes_every_redis_70_command() -> None:
    commands = meta.all_commands()
    # 240 commands and subcommands in Redis 7.0.15's COMMAND COUNT plus sentinel-only ones,
    # their subcommands, and CLIENT SETINFO from 7.2.
    assert len([n for n in commands if "|" not in n]) == 241
    assert len(commands) == 389
    assert "client|setinfo" in commands
    for name, described in commands.items():
        assert described.summary.endswith(".")
        assert described.name == name
        for spec in described.key_specs:
            assert spec.flags <= {f.upper() for f in meta.KEY_FLAG_ORDER}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("get", ((1, 1, 1), False)),
        ("mset", ((1, -1, 2), False)),
        ("lmove", ((1, 2, 1), False)),
        ("blpop", ((1, -2, 1), False)),
        ("zunionstore", ((1, 1, 1), True)),
        ("eval", ((0, 0, 0), True)),
        ("sort", ((1, 1, 1), True)),
        ("sort_ro", ((1, 1, 1), True)),
        ("xread", ((0, 0, 0), True)),
        ("migrate", ((3, 3, 1), True)),
        ("georadius", ((1, 1, 1), True)),
        ("spublish", ((1, 1, 1), False)),
        ("ping", ((0, 0, 0), False)),
        ("object|encoding", ((2, 2, 1), False)),
    ],
)
def test_legacy_range_is_derived_as_redis_does(name: str, expected: object) -> None:
    described = meta.get(name)
    assert described is not None
    assert described.legacy_range == expected


def test_implicit_acl_categories() -> None:
    get = meta.get("get")
    assert get is not None
    assert get.acl_categories == {"read", "string", "fast"}
    flushall = meta.get("flushall")
    assert flushall is not None
    assert flushall.acl_categories == {"keyspace", "write", "slow", "dangerous"}
    eval_ro = meta.get("eval_ro")
    assert eval_ro is not None
    # Scripting commands are never @read even when read-only.
    assert "read" not in eval_ro.acl_categories
    blpop = meta.get("blpop")
    assert blpop is not None
    assert {"blocking", "slow", "write"} <= blpop.acl_categories


def _spec_keys(name: str, *args: str) -> list[int] | None:
    described = meta.get(name)
    assert described is not None
    found = meta.keys_from_specs(described.key_specs, [name.encode(), *(a.encode() for a in args)])
    return None if found is None else [i for i, _ in found]


def test_key_specs_find_keys_like_redis() -> None:
    assert _spec_keys("mset", "a", "1", "b", "2") == [1, 3]
    assert _spec_keys("zunionstore", "d", "2", "a", "b", "WEIGHTS", "1", "2") == [1, 3, 4]
    assert _spec_keys("zunionstore", "d", "3", "a", "b") is None  # numkeys too large
    assert _spec_keys("zunionstore", "d", "x", "a") is None
    assert _spec_keys("eval", "s", "0") is None  # no keys at all: the spec fails
    assert _spec_keys("xread", "COUNT", "2", "STREAMS", "a", "b", "0", "0") == [4, 5]
    assert _spec_keys("georadius", "k", "0", "0", "1", "m", "STORE", "a", "STOREDIST", "b") == [
        1,
        7,
        9,
    ]
    assert _spec_keys("migrate", "h", "p", "", "0", "5", "KEYS", "a", "b") is None  # incomplete
    assert _spec_keys("blmpop", "0", "2", "a", "b", "LEFT") == [3, 4]


# --- key finders ---


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"12", 12),
        (b"  7x", 7),
        (b"+3", 3),
        (b"-4", -4),
        (b"", 0),
        (b"abc", 0),
        (b"99999999999999999999", -1),  # saturates at LONG_MAX, whose low 32 bits are -1
        (b"4294967297", 1),
        (b"-" + b"9" * 5000, 0),  # saturates at LONG_MIN, whose low 32 bits are 0
        (b"0" * 30 + b"12", 12),
    ],
)
def test_c_atoi(raw: bytes, value: int) -> None:
    assert c_atoi(raw) == value


def _argv(*args: str) -> list[bytes]:
    return [a.encode() for a in args]


def test_numkeys_finders_follow_generic_get_keys() -> None:
    assert numkeys_keys_at_1(_argv("ZUNION", "2", "a", "b", "WITHSCORES")) == [2, 3]
    assert numkeys_keys_at_1(_argv("LMPOP", "1", "l", "LEFT")) == [2]
    assert numkeys_keys_at_1(_argv("SINTERCARD", "3", "a", "b")) == []  # more than given
    assert numkeys_keys_at_1(_argv("ZINTERCARD", "0", "a")) == []
    assert numkeys_keys_at_1(_argv("ZINTER", "-1", "a")) == []
    assert numkeys_keys_at_1(_argv("ZDIFF", "1x", "a")) == [2]  # atoi reads the leading digits
    assert numkeys_keys_at_2(_argv("EVAL", "s", "2", "a", "b", "arg")) == [3, 4]
    assert numkeys_keys_at_2(_argv("EVAL", "s", "0", "arg")) == []
    assert numkeys_keys_at_2(_argv("BLMPOP", "0", "1", "l", "RIGHT")) == [3]
    assert numkeys_keys_at_2(_argv("FCALL", "f")) == []  # count missing
    assert numkeys_store_keys(_argv("ZUNIONSTORE", "d", "2", "a", "b")) == [3, 4, 1]
    assert numkeys_store_keys(_argv("ZINTERSTORE", "d", "3", "a", "b")) == []
    assert numkeys_finder(1, 1, 2)(_argv("X", "2", "a", "v", "b", "v")) == [2, 4]
    assert numkeys_finder(1, 1, 2)(_argv("X", "3", "a", "v", "b", "v")) == []


def test_sort_keys_finds_the_last_store() -> None:
    assert sort_keys(_argv("SORT", "k")) == [1]
    assert sort_keys(_argv("SORT", "k", "STORE", "d")) == [1, 3]
    assert sort_keys(_argv("SORT", "k", "STORE", "d1", "STORE", "d2")) == [1, 5]
    # BY and GET take a pattern, LIMIT two numbers: none of them is the STORE keyword.
    assert sort_keys(_argv("SORT", "k", "BY", "store", "GET", "store", "ALPHA")) == [1]
    assert sort_keys(_argv("SORT", "k", "LIMIT", "store", "x", "STORE", "d")) == [1, 6]
    assert sort_keys(_argv("SORT", "k", "store")) == [1]  # no key after it
    assert first_key_only(_argv("SORT_RO", "k", "BY", "w_*")) == [1]


def test_georadius_keys_take_the_last_store_option() -> None:
    base = ["GEORADIUS", "k", "0", "0", "1", "km"]
    assert georadius_keys(_argv(*base)) == [1]
    assert georadius_keys(_argv(*base, "STORE", "d")) == [1, 7]
    assert georadius_keys(_argv(*base, "STORE", "a", "storedist", "b")) == [1, 9]
    assert georadius_keys(_argv(*base, "COUNT", "3", "STORE")) == [1]
    member = ["GEORADIUSBYMEMBER", "k", "m", "1", "km", "STOREDIST", "d"]
    assert georadius_keys(_argv(*member)) == [1, 6]


def test_streams_keys_skip_options_before_streams() -> None:
    assert streams_keys(_argv("XREAD", "STREAMS", "a", "b", "0", "0")) == [2, 3]
    assert streams_keys(_argv("XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "a", "0")) == [6]
    group = ["XREADGROUP", "GROUP", "streams", "c", "NOACK", "STREAMS", "k", ">"]
    assert streams_keys(_argv(*group)) == [6]
    assert streams_keys(_argv("XREAD", "STREAMS", "a", "b", "0")) == []  # odd count
    assert streams_keys(_argv("XREAD", "STREAMS")) == []
    assert streams_keys(_argv("XREAD", "FOO", "STREAMS", "a", "0")) == []


def test_migrate_keys() -> None:
    assert migrate_keys(_argv("MIGRATE", "h", "1", "k", "0", "5")) == [3]
    assert migrate_keys(_argv("MIGRATE", "h", "1", "", "0", "5", "KEYS", "a", "b")) == [7, 8]
    with_auth = ["MIGRATE", "h", "1", "", "0", "5", "COPY", "AUTH2", "keys", "pw", "KEYS", "a"]
    assert migrate_keys(_argv(*with_auth)) == [11]
    assert migrate_keys(_argv("MIGRATE", "h", "1", "", "0", "5", "AUTH", "keys", "KEYS", "x")) == [
        9
    ]
    # A key and KEYS together is a syntax error MIGRATE reports: no keys.
    assert migrate_keys(_argv("MIGRATE", "h", "1", "k", "0", "5", "KEYS", "a")) == []


def test_index_finder_skips_missing_positions() -> None:
    assert index_finder(1, 3)(_argv("X", "a", "b")) == [1]


# Command lines for every movable-key command of Redis 7.0. Where Redis's key specs answer,
# the command's finder in KEY_FINDERS must agree with them; a registered command's own
# key_indexes must agree with KEY_FINDERS everywhere.
MOVABLE_SAMPLES: dict[str, list[list[str]]] = {
    "zunion": [["2", "a", "b", "WITHSCORES"]],
    "zinter": [["1", "a"]],
    "zdiff": [["2", "a", "b"]],
    "lmpop": [["2", "a", "b", "LEFT", "COUNT", "2"]],
    "zmpop": [["1", "a", "MIN"]],
    "sintercard": [["2", "a", "b", "LIMIT", "1"]],
    "zintercard": [["2", "a", "b"]],
    "eval": [["s", "2", "a", "b", "x"], ["s", "0"]],
    "eval_ro": [["s", "1", "a"]],
    "evalsha": [["s", "1", "a"]],
    "evalsha_ro": [["s", "1", "a"]],
    "fcall": [["f", "1", "a", "x"]],
    "fcall_ro": [["f", "2", "a", "b"]],
    "blmpop": [["0", "2", "a", "b", "LEFT"]],
    "bzmpop": [["0", "1", "a", "MAX"]],
    "zunionstore": [["d", "2", "a", "b"], ["d", "5", "a"]],
    "zinterstore": [["d", "1", "a"]],
    "zdiffstore": [["d", "2", "a", "b"]],
    "georadius": [["k", "0", "0", "1", "m"], ["k", "0", "0", "1", "m", "STORE", "d"]],
    "georadiusbymember": [["k", "m", "1", "km", "STOREDIST", "d"]],
    "xread": [["COUNT", "1", "STREAMS", "a", "b", "0", "0"]],
    "xreadgroup": [["GROUP", "g", "c", "STREAMS", "a", ">"]],
    "sort": [["k", "STORE", "d"], ["k", "LIMIT", "0", "1"]],
    "sort_ro": [["k", "BY", "x"]],
    "migrate": [["h", "1", "k", "0", "5"], ["h", "1", "", "0", "5", "KEYS", "a", "b"]],
}


def test_key_finders_cover_every_movable_redis_command() -> None:
    movable = {n for n, d in meta.all_commands().items() if d.legacy_range[1]}
    assert set(KEY_FINDERS) == movable
    assert set(MOVABLE_SAMPLES) == movable


@pytest.mark.parametrize("name", sorted(MOVABLE_SAMPLES))
def test_finder_agrees_with_key_specs(name: str) -> None:
    finder = KEY_FINDERS[name]
    described = meta.get(name)
    assert described is not None
    spec = COMMANDS.get(name.upper().encode())
    for args in MOVABLE_SAMPLES[name]:
        argv = [name.encode(), *(a.encode() for a in args)]
        found = meta.keys_from_specs(described.key_specs, argv)
        if found is not None:
            assert sorted(finder(argv)) == sorted(i for i, _ in found)
        if spec is not None:  # registered: its own finder must agree
            assert spec.key_indexes(argv) == finder(argv)


def test_command_keys_falls_back_to_the_key_finder() -> None:
    spec = CommandSpec(
        name="sort",
        handler=lambda ctx, argv: None,
        arity=-2,
        flags=Flag.WRITE | Flag.DENYOOM,
        first_key=1,
        last_key=1,
        key_step=1,
        key_finder=sort_keys,
    )
    keys = command_keys(spec, _argv("SORT", "k", "BY", "w", "STORE", "d"))
    assert keys == [(1, frozenset({"RO", "ACCESS"})), (5, frozenset({"OW", "UPDATE"}))]

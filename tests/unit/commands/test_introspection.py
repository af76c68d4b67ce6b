"""COMMAND and its subcommands, in-process."""

from __future__ import annotations

from protocol.resp import RespError, RespSet, SimpleString, encode_reply
from server.commands import introspection
from server.commands.table import COMMANDS, CommandSpec, Flag, numkeys_keys_at_1
from tests.support import Runner


def _status(*names: str) -> RespSet:
    return RespSet(SimpleString(n.encode()) for n in names)


def test_command_count_is_the_number_of_registered_commands(run: Runner) -> None:
    assert run("COMMAND", "COUNT") == len(COMMANDS)


def test_command_info_get(run: Runner) -> None:
    assert run("COMMAND", "INFO", "get") == [
        [
            b"get",
            2,
            _status("readonly", "fast"),
            1,
            1,
            1,
            _status("@read", "@string", "@fast"),
            RespSet(),
            RespSet(
                [
                    {
                        b"flags": _status("RO", "access"),
                        b"begin_search": {b"type": b"index", b"spec": {b"index": 1}},
                        b"find_keys": {
                            b"type": b"range",
                            b"spec": {b"lastkey": 0, b"keystep": 1, b"limit": 0},
                        },
                    }
                ]
            ),
            RespSet(),
        ]
    ]


def test_command_info_encodes_sets_and_maps_per_protocol(run: Runner) -> None:
    reply = run("COMMAND", "INFO", "dbsize")
    assert encode_reply(reply, False).startswith(
        b"*1\r\n*10\r\n$6\r\ndbsize\r\n:1\r\n*2\r\n+readonly\r\n+fast\r\n"
    )
    assert encode_reply(reply, True).startswith(
        b"*1\r\n*10\r\n$6\r\ndbsize\r\n:1\r\n~2\r\n+readonly\r\n+fast\r\n"
    )


def test_command_info_names_subcommands_by_full_name(run: Runner) -> None:
    (entry,) = run("COMMAND", "INFO", "CLIENT|ID")
    assert entry[0] == b"client|id"
    (client,) = run("COMMAND", "INFO", "client")
    assert b"client|id" in [sub[0] for sub in client[9]]
    assert client[2] == RespSet()  # SENTINEL is never shown
    assert client[6] == _status("@slow")


def test_command_info_unknown_names_are_null(run: Runner) -> None:
    assert run("COMMAND", "INFO", "nosuch", "get|x", "a|b|c", "client|", "|get", "") == [None] * 6


def test_command_without_arguments_lists_every_command(run: Runner) -> None:
    names = [entry[0] for entry in run("COMMAND")]
    assert names == [spec.name.encode() for spec in COMMANDS.values()]
    assert run("COMMAND", "INFO") == run("COMMAND")


def test_command_docs_set(run: Runner) -> None:
    docs = run("COMMAND", "DOCS", "set", "nosuch")
    assert list(docs) == [b"set"]
    entry = docs[b"set"]
    assert list(entry) == [
        b"summary",
        b"since",
        b"group",
        b"complexity",
        b"history",
        b"arguments",
    ]
    assert [since for since, _ in entry[b"history"]] == [b"2.6.12", b"6.0.0", b"6.2.0", b"7.0.0"]
    condition = entry[b"arguments"][2]
    assert condition[b"name"] == b"condition"
    assert condition[b"flags"] == _status("optional")
    assert condition[b"arguments"][0] == {b"name": b"nx", b"type": b"pure-token", b"token": b"NX"}


def test_command_docs_of_a_container_nests_its_subcommands(run: Runner) -> None:
    docs = run("COMMAND", "DOCS", "command")[b"command"]
    assert b"command|getkeys" in docs[b"subcommands"]
    assert run("COMMAND", "DOCS", "nosuch") == {}


def test_command_list_filters(run: Runner) -> None:
    everything = run("COMMAND", "LIST")
    assert b"get" in everything
    assert b"command|info" in everything
    assert run("COMMAND", "LIST", "FILTERBY", "PATTERN", "CLIENT|*ID") == [b"client|id"]
    read = run("COMMAND", "LIST", "FILTERBY", "ACLCAT", "READ")
    assert b"get" in read
    assert b"set" not in read
    assert run("COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch") == []
    assert run("COMMAND", "LIST", "FILTERBY", "MODULE", "x") == []
    assert run("COMMAND", "LIST", "FILTERBY", "FOO", "x") == RespError("ERR syntax error")
    assert run("COMMAND", "LIST", "FILTERBY", "PATTERN") == RespError("ERR syntax error")


def test_command_getkeys(run: Runner) -> None:
    assert run("COMMAND", "GETKEYS", "DEL", "a", "b") == [b"a", b"b"]
    assert run("COMMAND", "GETKEYSANDFLAGS", "SET", "k", "v") == [[b"k", _status("OW", "update")]]
    assert run("COMMAND", "GETKEYSANDFLAGS", "set", "k", "v", "get") == [
        [b"k", _status("RW", "access", "update")]
    ]


def test_command_getkeys_errors(run: Runner) -> None:
    assert run("COMMAND", "GETKEYS", "nosuch", "x") == RespError("ERR Invalid command specified")
    assert run("COMMAND", "GETKEYS", "client", "nosuch") == RespError(
        "ERR Invalid command specified"
    )
    assert run("COMMAND", "GETKEYS", "ping", "x") == RespError(
        "ERR The command has no key arguments"
    )
    assert run("COMMAND", "GETKEYS", "get", "a", "b") == RespError(
        "ERR Invalid number of arguments specified for command"
    )
    assert run("COMMAND", "GETKEYS", "get") == RespError(
        "ERR wrong number of arguments for 'command|getkeys' command"
    )


def test_command_help_names_the_command_as_typed(run: Runner) -> None:
    lines = run("command", "help")
    assert lines[0] == SimpleString(
        b"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    )
    assert lines[-2:] == [SimpleString(b"HELP"), SimpleString(b"    Prints this help.")]


def test_unknown_subcommand(run: Runner) -> None:
    assert run("COMMAND", "FOO") == RespError("ERR unknown subcommand 'FOO'. Try COMMAND HELP.")


def _handler(ctx: object, argv: list[bytes]) -> None:
    return None


def test_movablekeys_is_printed_before_allow_busy() -> None:
    spec = CommandSpec(
        name="zunion",
        handler=_handler,
        arity=-3,
        flags=Flag.READONLY | Flag.ALLOW_BUSY,
        key_finder=numkeys_keys_at_1,
    )
    assert introspection.info_reply(spec)[2] == _status("readonly", "movablekeys", "allow_busy")


def test_a_command_redis_does_not_know_is_described_from_its_spec() -> None:
    spec = CommandSpec(
        name="x-custom",
        handler=_handler,
        arity=-2,
        flags=Flag.WRITE | Flag.FAST,
        first_key=1,
        last_key=-1,
        key_step=1,
        acl_categories=("keyspace",),
        group="generic",
        since="0.1.0",
        summary="A command of our own.",
    )
    info = introspection.info_reply(spec)
    assert info[:7] == [
        b"x-custom",
        -2,
        _status("write", "fast"),
        1,
        -1,
        1,
        _status("@keyspace", "@write", "@fast"),
    ]
    assert info[8][0][b"flags"] == _status("RW", "access", "update")
    assert introspection.docs_reply(spec) == {
        b"summary": b"A command of our own.",
        b"since": b"0.1.0",
        b"group": b"generic",
    }
    assert introspection.command_keys(spec, [b"x-custom", b"a", b"b"]) == [
        (1, frozenset({"RW", "ACCESS", "UPDATE"})),
        (2, frozenset({"RW", "ACCESS", "UPDATE"})),
    ]

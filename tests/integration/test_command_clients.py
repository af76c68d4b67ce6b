"""redis-py's cluster key parser reads COMMAND from Duocache exactly as it reads it from Redis.

RedisCluster builds a CommandsParser from the COMMAND reply to route every command by its
keys (commands flagged movablekeys are resolved with COMMAND GETKEYS) and to pick request and
response policies from the command tips. Here one parser is pointed at Duocache and one at a
real redis-server, and what they learn about the registered commands must be the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from redis._parsers import CommandsParser

from server.commands.table import COMMANDS
from tests.support import RealServer, ServerProcess

pytestmark = pytest.mark.integration

REGISTERED = sorted(name.decode().lower() for name in COMMANDS)
SUBCOMMANDS = {
    f"{name.decode().lower()}|{sub.decode().lower()}".encode()
    for name, spec in COMMANDS.items()
    for sub in spec.subcommands
}


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def clients(
    request: pytest.FixtureRequest, shared_server: ServerProcess, real_redis: RealServer
) -> Iterator[tuple[redis.Redis, redis.Redis]]:
    ours = redis.Redis(port=shared_server.port, protocol=request.param)
    theirs = redis.Redis(port=real_redis.port, protocol=request.param)
    yield ours, theirs
    ours.close()
    theirs.close()


def parser_for(client: redis.Redis) -> Any:
    """redis-py's CommandsParser (untyped) pointed at `client`."""
    return CommandsParser(client)  # type: ignore[no-untyped-call]


def _comparable(entry: dict[str, Any], known: set[bytes]) -> dict[str, Any]:
    """A parsed COMMAND entry with its subcommands (in Redis's random order) cut and sorted."""
    out = dict(entry)
    subs = entry.get("subcommands") or []
    out["subcommands"] = sorted(
        (repr(sub) for sub in subs if sub[0] in SUBCOMMANDS and sub[0] in known), key=str
    )
    return out


def test_parser_learns_the_same_commands(clients: tuple[redis.Redis, redis.Redis]) -> None:
    ours, theirs = clients
    mine, redis_side = parser_for(ours), parser_for(theirs)
    assert sorted(mine.commands) == REGISTERED
    known = {sub[0] for entry in redis_side.commands.values() for sub in entry["subcommands"]}
    for name in REGISTERED:
        if name in ("zrank", "zrevrank"):  # Duocache serves their 7.2 form (WITHSCORE)
            continue
        assert _comparable(mine.commands[name], known) == _comparable(
            redis_side.commands[name], known
        ), name


@pytest.mark.parametrize(
    "args",
    [
        ("GET", "k"),
        ("SET", "k", "v", "EX", "10", "GET"),
        ("DEL", "a", "b", "c"),
        ("EXISTS", "x", "y"),
        ("TYPE", "t"),
        ("PING", "hello"),
        ("ECHO", "e"),
        ("CLIENT", "SETNAME", "n"),
        ("COMMAND", "INFO", "get"),
    ],
)
def test_parser_finds_the_same_keys(
    clients: tuple[redis.Redis, redis.Redis], args: tuple[str, ...]
) -> None:
    ours, theirs = clients
    keys = parser_for(ours).get_keys(ours, *args)
    assert keys == parser_for(theirs).get_keys(theirs, *args)


def test_parser_finds_keys(clients: tuple[redis.Redis, redis.Redis]) -> None:
    ours, _ = clients
    parser = parser_for(ours)
    assert parser.get_keys(ours, "GET", "k") == ["k"]
    assert parser.get_keys(ours, "DEL", "a", "b", "c") == ["a", "b", "c"]
    assert parser.get_keys(ours, "PING", "x") is None


def test_getkeys_answers_the_parser_like_redis(clients: tuple[redis.Redis, redis.Redis]) -> None:
    """The call the parser makes for a movablekeys command, and the errors it reads as
    "no keys"."""
    ours, theirs = clients
    mine, redis_side = parser_for(ours), parser_for(theirs)
    for args in [("SET", "k", "v"), ("DEL", "a", "b"), ("PING", "x"), ("GET", "a")]:
        assert mine._get_moveable_keys(ours, *args) == redis_side._get_moveable_keys(theirs, *args)
    assert mine._get_moveable_keys(ours, "PING", "x") is None


def test_command_policies_match_redis(clients: tuple[redis.Redis, redis.Redis]) -> None:
    ours, theirs = clients
    mine = parser_for(ours).get_command_policies()
    redis_side = parser_for(theirs).get_command_policies()
    assert set(mine) == {"core"}
    for name in REGISTERED:
        a, b = mine["core"][name], redis_side["core"][name]
        assert (a.request_policy, a.response_policy) == (b.request_policy, b.response_policy)

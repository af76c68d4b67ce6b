"""Differential: long seeded random sequences of hash and set commands against a real
redis-server, so interactions no hand-written script thought of are compared too."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from tests.differential import Command, Differential, unordered

pytestmark = pytest.mark.integration

_KEYS = ["h1", "h2", "s1", "s2", "s3", "str"]
_FIELDS = ["a", "b", "c", "1", "2", "-3", "10", "x" * 70, "01"]
_VALUES = ["1", "2", "-5", "1.5", "abc", "9223372036854775807", "y" * 70, ""]


def random_script(seed: int, length: int) -> list[Command]:
    """Commands whose replies Redis makes deterministic (orders relaxed where it does not)."""
    rng = random.Random(seed)

    def k() -> str:
        return rng.choice(_KEYS)

    def f() -> str:
        return rng.choice(_FIELDS)

    def v() -> str:
        return rng.choice(_VALUES)

    makers: list[Callable[[], Command]] = [
        lambda: ("HSET", k(), f(), v(), *([f(), v()] if rng.random() < 0.3 else [])),
        lambda: ("HDEL", k(), f(), f()),
        lambda: ("HINCRBY", k(), f(), rng.choice(["1", "-1", "100", "x", "9223372036854775807"])),
        lambda: ("HINCRBYFLOAT", k(), f(), rng.choice(["0.1", "-1.5", "1e10", "x", "inf", "3"])),
        lambda: ("HSETNX", k(), f(), v()),
        lambda: ("HGET", k(), f()),
        lambda: ("HMGET", k(), f(), f()),
        lambda: unordered("HGETALL", k()),
        lambda: unordered("HKEYS", k()),
        lambda: ("HLEN", k()),
        lambda: ("HSTRLEN", k(), f()),
        lambda: ("HEXISTS", k(), f()),
        lambda: ("SADD", k(), f(), *([f()] if rng.random() < 0.5 else [])),
        lambda: ("SREM", k(), f(), f()),
        lambda: unordered("SMEMBERS", k()),
        lambda: ("SCARD", k()),
        lambda: ("SISMEMBER", k(), f()),
        lambda: ("SMISMEMBER", k(), f(), f()),
        lambda: ("SMOVE", k(), k(), f()),
        lambda: unordered("SINTER", k(), k()),
        lambda: unordered("SUNION", k(), k()),
        lambda: unordered("SDIFF", k(), k(), k()),
        lambda: ("SINTERSTORE", k(), k(), k()),
        lambda: ("SUNIONSTORE", k(), k(), k()),
        lambda: ("SDIFFSTORE", k(), k(), k()),
        lambda: ("SINTERCARD", "2", k(), k(), "LIMIT", rng.choice(["0", "1", "2"])),
        # Only the counts that take every member: which members a partial SPOP takes is random.
        lambda: unordered("SPOP", k(), rng.choice(["0", "100"])),
        lambda: ("SET", "str", "v"),
        lambda: ("TYPE", k()),
    ]
    return [rng.choice(makers)() for _ in range(length)]


@pytest.mark.parametrize("seed", [1, 2])
def test_random_hash_and_set_commands_match_redis(diff: Differential, seed: int) -> None:
    diff.assert_same(random_script(seed, 2000))


@pytest.mark.parametrize("seed", [3])
def test_random_hash_and_set_commands_match_redis_resp3(diff3: Differential, seed: int) -> None:
    diff3.assert_same(random_script(seed, 2000))

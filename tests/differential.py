"""Differential testing: send the same commands to Duocache and to a real redis-server and
compare the raw reply bytes.

A script is a list of commands (tuples of str/bytes/int). Wrap a command to relax the
comparison where Redis itself is not deterministic:

    unordered(cmd)   the reply is an array (or map) whose order Redis does not define
    shape(cmd)       only the reply's type and length must match (random picks, TTL drift)
    either(cmd)      run it on both, compare nothing (setup whose reply varies)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import hiredis

from tests.support import RawClient


@dataclass(frozen=True)
class Relaxed:
    mode: str
    args: tuple[Any, ...]


Command = tuple[Any, ...] | Relaxed


def unordered(*args: Any) -> Relaxed:
    return Relaxed("unordered", args)


def shape(*args: Any) -> Relaxed:
    return Relaxed("shape", args)


def either(*args: Any) -> Relaxed:
    return Relaxed("either", args)


def _parse(raw: bytes) -> Any:
    reader = hiredis.Reader()
    reader.feed(raw)
    return reader.gets()


def _canonical(value: Any) -> Any:
    """A sortable, order-free form of a parsed reply."""
    if isinstance(value, list):
        return ("list", sorted(repr(_canonical(v)) for v in value))
    if isinstance(value, dict):
        return ("map", sorted(repr((_canonical(k), _canonical(v))) for k, v in value.items()))
    if isinstance(value, set):
        return ("set", sorted(repr(_canonical(v)) for v in value))
    return repr(value)


def _shape(raw: bytes) -> Any:
    value = _parse(raw)
    kind = raw[:1]
    if isinstance(value, (list, dict, set)):
        return (kind, len(value))
    return (kind,)


class Differential:
    """Two raw connections, one to Duocache and one to real Redis, in the same protocol."""

    def __init__(self, duocache_port: int, redis_port: int, resp3: bool = False) -> None:
        self.ours = RawClient(duocache_port)
        self.theirs = RawClient(redis_port)
        self.resp3 = resp3
        self.mismatches: list[str] = []
        for client in (self.ours, self.theirs):
            client.command("FLUSHALL")
            if resp3:
                client.command("HELLO", "3")

    def close(self) -> None:
        self.ours.close()
        self.theirs.close()

    def send(self, *args: Any) -> tuple[bytes, bytes]:
        return self.ours.command(*args), self.theirs.command(*args)

    def check(self, command: Command) -> None:
        if isinstance(command, Relaxed):
            mode, args = command.mode, command.args
        else:
            mode, args = "exact", command
        ours, theirs = self.send(*args)
        if mode == "either":
            return
        if mode == "exact":
            same = ours == theirs
        elif mode == "unordered":
            same = ours[:1] == theirs[:1] and _canonical(_parse(ours)) == _canonical(_parse(theirs))
        else:
            same = _shape(ours) == _shape(theirs)
        if not same:
            shown = " ".join(repr(a) for a in args)
            self.mismatches.append(f"{shown}\n    duocache: {ours!r}\n    redis:    {theirs!r}")

    def run(self, script: Iterable[Command]) -> None:
        for command in script:
            self.check(command)

    def assert_same(self, script: Sequence[Command] | None = None) -> None:
        if script is not None:
            self.run(script)
        if self.mismatches:
            details = "\n".join(self.mismatches)
            raise AssertionError(f"{len(self.mismatches)} replies differ from Redis:\n{details}")

"""Compare OBJECT ENCODING of real Redis with Duocache's in-process encoding_name.

The hash and set differential tests check encodings this way, running the same commands on
a real redis-server and on an in-process Runner; tests/integration/test_diff_encodings.py
compares OBJECT ENCODING over the wire for every type.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import hiredis

from protocol.resp import RespError
from storage.values import encoding_name
from tests.support import RawClient, Runner


class Check:
    """A step that compares the encoding of `key` on both sides."""

    def __init__(self, key: str) -> None:
        self.key = key


Step = tuple[Any, ...] | Check


def _parse(raw: bytes) -> Any:
    reader = hiredis.Reader()
    reader.feed(raw)
    return reader.gets()


def encoding_mismatches(
    redis_port: int, steps: Iterable[Step], config: Sequence[tuple[str, str]] = ()
) -> list[str]:
    """Run `steps` on both sides (after FLUSHALL and the CONFIG SETs in `config`); return a
    description of each Check where the encodings differ, and of replies that differ in
    kind (an error on one side only)."""
    run = Runner()
    mismatches: list[str] = []
    with RawClient(redis_port) as real:
        real.command("FLUSHALL")
        saved = [(name, _parse(real.command("CONFIG", "GET", name))[1]) for name, _ in config]
        try:
            for name, value in config:
                real.command("CONFIG", "SET", name, value)
                run.app.config.set(name, [value])
            for step in steps:
                if isinstance(step, Check):
                    theirs = _parse(real.command("OBJECT", "ENCODING", step.key))
                    stored = run.app.keyspace.dbs[0].get(step.key.encode())
                    ours = None if stored is None else encoding_name(stored)
                    if ours != theirs:
                        mismatches.append(f"{step.key}: duocache {ours!r}, redis {theirs!r}")
                    continue
                theirs_raw = real.command(*step)
                ours_value = run(*step)
                if (theirs_raw[:1] == b"-") != isinstance(ours_value, RespError):
                    shown = " ".join(str(a)[:20] for a in step)
                    mismatches.append(f"{shown}: duocache {ours_value!r}, redis {theirs_raw!r}")
        finally:
            for name, old in saved:
                real.command("CONFIG", "SET", name, old)
    return mismatches

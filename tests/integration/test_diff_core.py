"""Differential: the first commands and the error paths against a real redis-server."""

from __future__ import annotations

import pytest

from tests.differential import Differential

pytestmark = pytest.mark.integration

SCRIPT = [
    ("PING",),
    ("PING", "hello"),
    ("PING", "a", "b"),
    ("ECHO", "x"),
    ("ECHO",),
    ("NOSUCHCOMMAND", "a", "b"),
    ("nosuch", "x" * 200),
    ("SET", "k", "v"),
    ("GET", "k"),
    ("GET", "missing"),
    ("SET", "k", "v2", "GET"),
    ("SET", "k", "v3", "NX"),
    ("SET", "k", "v3", "XX", "GET"),
    ("SET", "new", "v", "XX"),
    ("SET", "k", "v", "NX", "XX"),
    ("SET", "k", "v", "EX", "0"),
    ("SET", "k", "v", "EX", "-5"),
    ("SET", "k", "v", "EX", "abc"),
    ("SET", "k", "v", "EX", "10", "PX", "100"),
    ("SET", "k", "v", "KEEPTTL", "EX", "10"),
    ("SET", "k", "v", "EX"),
    ("SET", "k", "v", "EX", "9223372036854775807"),
    ("SET", "k", "v", "PXAT", "9223372036854775807"),
    ("SET", "k", "v", "FOO"),
    ("SET", "k", "v", "EX", "100", "EX", "200"),
    ("SET", "k"),
    ("SELECT", "1"),
    ("GET", "k"),
    ("SELECT", "16"),
    ("SELECT", "-1"),
    ("SELECT", "x"),
    ("SELECT", "0"),
    ("DEL", "k", "nope", "new"),
    ("EXISTS", "k"),
    ("TYPE", "k"),
    ("DBSIZE",),
    ("FLUSHDB", "FOO"),
    ("HELLO", "4"),
    ("HELLO", "x"),
    ("HELLO", "2", "FOO"),
    ("HELLO", "2", "AUTH", "default"),
    ("HELLO", "2", "SETNAME", "bad name"),
    ("AUTH", "pw"),
    ("AUTH", "a", "b", "c"),
    ("CLIENT", "FOO"),
    ("CLIENT",),
    ("CLIENT", "SETNAME", "has space"),
    ("CLIENT", "SETNAME", "ok-name"),
    ("CLIENT", "GETNAME"),
    ("CLIENT", "ID", "extra"),
]


def test_core_commands_match_redis(diff: Differential) -> None:
    diff.assert_same(SCRIPT)


def test_core_commands_match_redis_resp3(diff3: Differential) -> None:
    diff3.assert_same(SCRIPT)


def test_inline_and_protocol_errors_match_redis(diff: Differential) -> None:
    for wire in [
        b"PING\r\n",
        b"ECHO \"a b\" 'c'\r\n",
        b"\r\n*0\r\n*-1\r\nPING\r\n",
    ]:
        diff.ours.send_raw(wire)
        diff.theirs.send_raw(wire)
        assert diff.ours.read_reply() == diff.theirs.read_reply()


def test_harness_reports_a_real_difference(diff: Differential) -> None:
    """The differential harness itself: a value set on one side only must be reported."""
    diff.ours.command("SET", "only-ours", "1")
    with pytest.raises(AssertionError, match="1 replies differ"):
        diff.assert_same([("GET", "only-ours"), ("PING",)])

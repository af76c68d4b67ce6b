"""Differential tests of the persistence commands against a real redis-server: the replies
and error texts of DUMP, RESTORE, SAVE, LASTSAVE, BGSAVE, BGREWRITEAOF, DEBUG RELOAD and
REPLCONF. DUMP's bytes legitimately differ (Redis dumps its compact encodings, Duocache the
plain types), so payloads are exchanged rather than compared."""

from __future__ import annotations

import pytest

from tests.differential import Differential, either, shape
from tests.support import wait_until

pytestmark = pytest.mark.integration


def test_restore_replies_and_errors(diff: Differential) -> None:
    # A payload made by real Redis, restored on both servers.
    diff.theirs.command("SET", "src", "a string value")
    dump = diff.theirs.command("DUMP", "src")
    payload = dump.split(b"\r\n", 1)[1][:-2]
    diff.assert_same(
        [
            ("DUMP", "missing"),
            ("RESTORE", "k", "0", payload),
            ("GET", "k"),
            ("RESTORE", "k", "0", payload),
            ("RESTORE", "k", "0", payload, "REPLACE"),
            ("RESTORE", "k", "-1", payload, "REPLACE"),
            ("RESTORE", "k", "x", payload, "REPLACE"),
            ("RESTORE", "k2", "100000", payload),
            shape("PTTL", "k2"),
            ("RESTORE", "k3", "4102444800000", payload, "ABSTTL"),
            shape("PTTL", "k3"),
            ("RESTORE", "k4", "1", payload, "ABSTTL"),
            ("EXISTS", "k4"),
            ("RESTORE", "k", "1", payload, "ABSTTL", "REPLACE"),
            ("EXISTS", "k"),
            ("RESTORE", "k5", "0", payload, "IDLETIME", "10"),
            ("RESTORE", "k6", "0", payload, "FREQ", "100"),
            ("RESTORE", "k7", "0", payload, "FREQ", "256"),
            ("RESTORE", "k7", "0", payload, "FREQ", "-1"),
            ("RESTORE", "k7", "0", payload, "IDLETIME", "-1"),
            ("RESTORE", "k7", "0", payload, "IDLETIME", "1", "FREQ", "1"),
            ("RESTORE", "k7", "0", payload, "IDLETIME"),
            ("RESTORE", "k7", "0", payload, "BOGUS"),
            ("RESTORE", "k7", "0", "not a payload"),
            ("RESTORE", "k7", "0", payload[:-1] + bytes([payload[-1] ^ 1])),
            ("RESTORE", "k7", "0"),
            ("DUMP",),
            ("DUMP", "a", "b"),
            shape("DUMP", "k5"),
        ]
    )


def test_payloads_cross_in_both_directions(diff: Differential) -> None:
    diff.send("SET", "s", "12345")
    ours = diff.ours.command("DUMP", "s").split(b"\r\n", 1)[1][:-2]
    theirs = diff.theirs.command("DUMP", "s").split(b"\r\n", 1)[1][:-2]
    diff.assert_same(
        [
            ("RESTORE", "from-duocache", "0", ours),
            ("RESTORE", "from-redis", "0", theirs),
            ("GET", "from-duocache"),
            ("GET", "from-redis"),
        ]
    )


def test_admin_command_replies(diff: Differential) -> None:
    diff.assert_same(
        [
            ("SAVE",),
            ("SAVE", "x"),
            shape("LASTSAVE"),
            ("LASTSAVE", "x"),
            ("BGSAVE", "NOW"),
            ("BGSAVE", "SCHEDULE", "x"),
            ("BGREWRITEAOF", "x"),
            ("DEBUG", "RELOAD", "BOGUS"),
            ("DEBUG", "RELOAD"),
            ("REPLCONF",),
            ("REPLCONF", "capa"),
            ("REPLCONF", "capa", "eof"),
            ("REPLCONF", "listening-port", "x"),
            ("REPLCONF", "rdb-only", "2"),
            ("REPLCONF", "rdb-only", "1"),
            ("REPLCONF", "rdb-filter-only", "nope"),
            ("REPLCONF", "bogus", "1"),
        ]
    )
    # REPLCONF ACK gets no reply at all: the PING right behind it is answered first.
    for client in (diff.ours, diff.theirs):
        client.send_raw(b"*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$2\r\n10\r\n")
        assert client.command("PING") == b"+PONG\r\n"


def test_bgsave_starts_and_completes(diff: Differential) -> None:
    diff.assert_same([("SET", "k", "v"), ("BGSAVE",)])
    for client in (diff.ours, diff.theirs):
        wait_until(lambda c=client: b"LOADING" not in c.command("PING"))  # type: ignore[misc]
        first = client.command("LASTSAVE")
        wait_until(lambda c=client, f=first: c.command("SAVE") == b"+OK\r\n")  # type: ignore[misc]
        assert first
    diff.assert_same([either("LASTSAVE")])

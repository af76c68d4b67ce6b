"""A `python -m server` process survives whatever arrives on its socket.

Hypothesis sends random garbage, truncated frames, huge declared lengths and random
well-formed commands (every command in the table but the few that would stop, reconfigure
or lock out the server) over real connections. After each example the process is alive,
answers PING on a fresh connection, and its log shows no internal error or traceback.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Final

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import server.commands  # noqa: F401  (the table, to draw command names from)
from protocol.resp import encode_command
from server.commands.table import COMMANDS
from tests.support import ServerProcess, start_duocache

pytestmark = pytest.mark.integration

# Commands that would end, reconfigure or lock out the server under test: not drawn.
_EXCLUDED: Final = frozenset(
    {"shutdown", "debug", "config", "client", "acl", "auth", "hello", "monitor", "quit"}
)
NAMES: Final = sorted(
    spec.name.encode() for spec in COMMANDS.values() if spec.name not in _EXCLUDED
)

_OPTION_WORDS: Final = (
    "NX XX GT LT CH INCR EX PX EXAT PXAT KEEPTTL GET PERSIST WITHSCORES WITHSCORE LIMIT "
    "BYSCORE BYLEX REV COUNT MATCH TYPE LEFT RIGHT BEFORE AFTER MIN MAX WEIGHTS "
    "AGGREGATE SUM ALPHA DESC ASC STORE BY REPLACE DB IDX LEN WITHMATCHLEN MINMATCHLEN "
    "RANK MAXLEN OVERFLOW WRAP SAT FAIL SET INCRBY u8 i16 #1 AND OR XOR NOT BIT BYTE "
    "NUMSUB NUMPAT CHANNELS ENCODING FREQ IDLETIME REFCOUNT USAGE STATS INFO "
    "LIST DOCS GETKEYS HISTORY LATEST RESET * ?"
)
WORDS: Final = [
    b"k0",
    b"k1",
    b"{k}2",
    b"0",
    b"1",
    b"-1",
    b"2",
    b"10",
    b"3.5",
    b"-0",
    b"inf",
    b"-inf",
    b"+inf",
    b"nan",
    b"(1",
    b"[a",
    b"-",
    b"+",
    b"9223372036854775807",
    b"9223372036854775808",
    b"-9223372036854775808",
    b"1e400",
    b"0x10",
    b"",
    *(word.encode() for word in _OPTION_WORDS.split()),
]

ARG: Final = st.one_of(st.sampled_from(WORDS), st.binary(max_size=12))
COMMAND: Final = st.builds(
    lambda name, args: encode_command([name, *args]),
    st.sampled_from(NAMES),
    st.lists(ARG, max_size=7),
)
PIPELINE: Final = st.lists(COMMAND, min_size=1, max_size=8).map(b"".join)
TRUNCATED: Final = st.tuples(PIPELINE, st.floats(0, 1)).map(lambda t: t[0][: int(len(t[0]) * t[1])])
HUGE: Final = st.sampled_from(
    [
        b"*99999999999\r\n",
        b"*2147483648\r\n$4\r\nPING\r\n",
        # Declared counts the parser accepts but that never arrive (hiredis would
        # preallocate them and take seconds to free them).
        b"*2147483647\r\n$4\r\nPING\r\n",
        b"*1\r\n$4\r\nPING\r\n*1999999999\r\n",
        b"*1048577\r\n",
        b"*-5\r\n*1\r\n$4\r\nPING\r\n",
        b"*1\r\n$536870913\r\n",
        b"*1\r\n$2147483648\r\nabc",
        b"*1\r\n$-7\r\n",
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$99999\r\nshort",
        b"*1\r\n$x\r\n",
        b"*1\r\n+PING\r\n",
        b"$4\r\nPING\r\n",
        b"PING " + b"x" * 70000,
        b"\r\n" * 1000,
        b'SET k "unbalanced\r\n',
        b"*0\r\n*1\r\n$4\r\nPING\r\n",
    ]
)
GARBAGE: Final = st.binary(max_size=400)
SESSION: Final = st.one_of(
    PIPELINE, TRUNCATED, HUGE, GARBAGE, st.tuples(HUGE, PIPELINE).map(b"".join)
)

_BAD_LOG_LINES: Final = ("internal error", "Traceback", "Exception in")


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of our own: the fuzzing writes, deletes and subscribes at random."""
    proc = start_duocache(tmp_path_factory.mktemp("fuzzed"))
    yield proc
    proc.stop()


def send(port: int, data: bytes) -> None:
    """Send `data` on a fresh connection, half-close, and read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            while sock.recv(65536):
                pass
        except (ConnectionResetError, BrokenPipeError):
            pass  # the server may close first (protocol errors, limits)


def assert_healthy(proc: ServerProcess) -> None:
    assert proc.proc.poll() is None, "the server exited"
    with socket.create_connection(("127.0.0.1", proc.port), timeout=5) as sock:
        sock.sendall(b"*1\r\n$4\r\nPING\r\n")
        assert sock.recv(64) == b"+PONG\r\n"
    log = proc.log()
    for bad in _BAD_LOG_LINES:
        assert bad not in log, log[log.index(bad) - 500 : log.index(bad) + 2000]


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sessions=st.lists(SESSION, min_size=1, max_size=3))
def test_the_server_survives_anything_on_the_wire(
    fuzzed: ServerProcess, sessions: list[bytes]
) -> None:
    for data in sessions:
        send(fuzzed.port, data)
    assert_healthy(fuzzed)


def test_an_unfinished_huge_request_does_not_stall_the_server(fuzzed: ServerProcess) -> None:
    # Two billion declared arguments, one sent, then the client leaves: the server must not
    # spend seconds on what never arrived (hiredis would have preallocated the array).
    with socket.create_connection(("127.0.0.1", fuzzed.port), timeout=5) as sock:
        sock.sendall(b"*2147483647\r\n$4\r\nPING\r\n")
    started = time.monotonic()
    assert_healthy(fuzzed)
    assert time.monotonic() - started < 1.0

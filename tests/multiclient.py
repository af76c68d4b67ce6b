"""Scenarios with several clients, some of them parked by blocking commands, run the same way
over the wire (Duocache or real Redis) or in-process, so they can be compared.

A scenario is a list of steps:

    ("park", name, *argv)   client `name` sends argv, which must leave it blocked
    ("run", *argv)          the control client runs argv (its reply is recorded)
    ("reply", name)         the reply client `name` has been sent since it parked
    ("close", name)         client `name` disconnects while parked
    ("gone", key)           wait until `key` has expired (EXISTS polls it; nothing recorded)

`run_on_wire` returns the raw bytes of every recorded reply, in order, so two servers can be
compared byte for byte; `run_in_process` runs the same steps on a Runner and returns the
write stream its feed captured.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

from protocol.resp import RESPParser, encode_command
from server.context import NO_REPLY, CommandContext
from tests.support import RawClient, Runner, wait_until

Step = tuple[Any, ...]


def _argv(args: Sequence[Any]) -> list[bytes]:
    return [a if isinstance(a, bytes) else str(a).encode() for a in args]


def frame_end(buf: bytes, pos: int) -> int | None:
    """Where the RESP2/RESP3 frame starting at `pos` ends, or None if it is incomplete."""
    line_end = buf.find(b"\r\n", pos)
    if line_end < 0:
        return None
    kind = buf[pos : pos + 1]
    after = line_end + 2
    if kind in (b"$", b"!", b"="):
        size = int(buf[pos + 1 : line_end])
        if size < 0:
            return after
        return after + size + 2 if len(buf) >= after + size + 2 else None
    if kind in (b"*", b"~", b">", b"%"):
        count = int(buf[pos + 1 : line_end])
        if kind == b"%":
            count *= 2
        cursor = after
        for _ in range(max(count, 0)):
            following = frame_end(buf, cursor)
            if following is None:
                return None
            cursor = following
        return cursor
    return after


class _Conn:
    """A raw connection that keeps one parser and returns the exact bytes of each reply."""

    def __init__(self, port: int, resp3: bool) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""
        if resp3:
            self.send(["HELLO", "3"])
            self.reply()

    def send(self, args: Sequence[Any]) -> None:
        self.sock.sendall(encode_command(_argv(args)))

    def reply(self) -> bytes:
        """The bytes of exactly one reply (a push frame counts as one)."""
        while (end := frame_end(self.buf, 0)) is None:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed after {self.buf!r}")
            self.buf += chunk
        out, self.buf = self.buf[:end], self.buf[end:]
        return out

    def close(self) -> None:
        self.sock.close()


def _info_field(control: RawClient, section: str, name: str) -> int:
    raw = control.command("INFO", section)
    for line in raw.split(b"\r\n"):
        if line.startswith(name.encode() + b":"):
            return int(line.split(b":", 1)[1])
    raise AssertionError(f"INFO {section} has no {name}")


def blocked_clients(control: RawClient) -> int:
    return _info_field(control, "clients", "blocked_clients")


def run_on_wire(port: int, steps: Sequence[Step], resp3: bool = False) -> list[bytes]:
    """Run `steps` against the server on `port` (flushed first); the recorded replies."""
    replies: list[bytes] = []
    conns: dict[str, _Conn] = {}
    with RawClient(port) as control:
        control.command("FLUSHALL")
        wait_until(lambda: blocked_clients(control) == 0)
        if resp3:
            control.command("HELLO", "3")
        parked = 0
        try:
            for step in steps:
                kind, rest = step[0], step[1:]
                if kind == "park":
                    name = rest[0]
                    if name not in conns:
                        conns[name] = _Conn(port, resp3)
                    conns[name].send(rest[1:])
                    parked += 1
                    wait_until(lambda n=parked: blocked_clients(control) == n)  # type: ignore[misc]
                elif kind == "run":
                    replies.append(control.command(*rest))
                    # Clients served by this command are no longer counted as blocked.
                elif kind == "reply":
                    replies.append(conns[rest[0]].reply())
                    parked -= 1
                elif kind == "close":
                    conns.pop(rest[0]).close()
                    parked -= 1
                    wait_until(lambda n=parked: blocked_clients(control) == n)  # type: ignore[misc]
                elif kind == "gone":
                    wait_until(lambda k=rest[0]: control.command("EXISTS", k) == b":0\r\n")  # type: ignore[misc]
                else:
                    raise ValueError(kind)
            replies.append(b"blocked:%d" % blocked_clients(control))
        finally:
            for conn in conns.values():
                conn.close()
    return replies


class _Parked:
    def __init__(self, run: Runner) -> None:
        self.ctx: CommandContext = run.client()
        self.replies: list[Any] = []
        self.ctx.unblocked = self.replies.append


def run_in_process(steps: Sequence[Step], run: Runner | None = None) -> list[list[bytes]]:
    """Run `steps` on a Runner; the write stream it propagated (SELECT left out)."""
    run = run or Runner()
    clients: dict[str, _Parked] = {}
    for step in steps:
        kind, rest = step[0], step[1:]
        if kind == "park":
            client = clients.setdefault(rest[0], _Parked(run))
            if run(*rest[1:], ctx=client.ctx) is not NO_REPLY:
                raise AssertionError(f"{rest!r} did not block in-process")
        elif kind == "run":
            run(*rest)
        elif kind == "reply":
            if not clients[rest[0]].replies:
                raise AssertionError(f"{rest[0]} was not served in-process")
            clients[rest[0]].replies.pop(0)
        elif kind == "close":
            run.app.client_closed(clients.pop(rest[0]).ctx)
        elif kind == "gone":
            raise ValueError("expiry by time is not replayed in-process")
    parser = RESPParser()
    parser.feed(b"".join(run.feed))
    out = []
    while (argv := parser.maybe_next_command()) is not None:
        if argv[0] != b"SELECT":
            out.append(argv)
    return out

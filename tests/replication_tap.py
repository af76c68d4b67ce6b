"""Read what a real redis-server propagates: attach to it as a replica (SYNC) and parse the
command stream that follows the snapshot.

The differential tests of the write stream compare it with what Duocache's feed carries for
the same scenario (Duocache has no replication link of its own yet, so its side is read
in-process from `Runner.feed`).
"""

from __future__ import annotations

import socket
import time
from typing import Final

import hiredis

from protocol.resp import encode_command

_MARKER: Final = b"__tap_marker__"


class ReplicationTap:
    """A SYNC connection to a real redis-server that collects the propagated commands."""

    def __init__(self, port: int, timeout_s: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self.port = port
        self.sock.sendall(b"SYNC\r\n")
        self.reader = hiredis.Reader()
        self._skip_snapshot()
        self._marks = 0

    def _skip_snapshot(self) -> None:
        """Read past the newline keepalives and the `$<len>\\r\\n<rdb>` payload."""
        buf = b""
        while True:
            while buf.startswith(b"\n"):
                buf = buf[1:]
            if b"\r\n" in buf and buf.startswith(b"$"):
                header, rest = buf.split(b"\r\n", 1)
                size = int(header[1:])
                while len(rest) < size:
                    rest += self._recv()
                self.reader.feed(rest[size:])
                return
            buf += self._recv()

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the primary closed the replication link")
        return chunk

    def commands(self) -> list[list[bytes]]:
        """Everything propagated since the last call (SELECT and PING left out).

        A marker write is sent through a separate client and the stream is read up to it,
        so nothing propagated before this call can still be in flight.
        """
        self._marks += 1
        mark = b"%d" % self._marks
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as client:
            client.sendall(encode_command([b"SET", _MARKER, mark]))
            if not client.recv(64).startswith(b"+OK"):
                raise AssertionError("marker write failed")
        out: list[list[bytes]] = []
        deadline = time.monotonic() + 10
        while True:
            item = self.reader.gets()
            if item is False:
                if time.monotonic() > deadline:
                    raise AssertionError(f"marker not seen in the stream after {out!r}")
                self.reader.feed(self._recv())
                continue
            argv: list[bytes] = item
            name = argv[0].upper()
            if name == b"SET" and argv[1:] == [_MARKER, mark]:
                return out
            if name not in (b"SELECT", b"PING"):
                out.append(argv)

    def close(self) -> None:
        self.sock.close()

"""`python -m server.healthcheck [port]`: exit 0 when a Duocache answers PING on 127.0.0.1.

The Docker image's HEALTHCHECK runs this. A server that wants a password answers NOAUTH,
which still proves it is up.
"""

from __future__ import annotations

import socket
import sys


def main(argv: list[str]) -> int:
    port = int(argv[0]) if argv else 6379
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2.0) as sock:
            sock.sendall(b"PING\r\n")
            reply = sock.recv(64)
    except OSError:
        return 1
    return 0 if reply.startswith((b"+PONG", b"-NOAUTH")) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

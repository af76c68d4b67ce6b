"""The monitor's connections to the instances it watches: the thin I/O half of failover.py.

`Links` performs the actions the `Monitor` leaves in its outbox: it opens TCP connections
(`Connect`), writes commands (`Send`) and hands each reply to the callback that came with the
command, in order, as hiredis's async contexts do for Sentinel; it closes connections
(`Close`). It reports a connection that opened or broke back to the monitor. Nothing here
decides anything.

Commands sent before a connection is up wait in a buffer and leave when it connects, so the
monitor may queue AUTH, CLIENT SETNAME and PING right after asking for the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any, cast

import hiredis

from protocol.resp import encode_command
from replication.failover import Monitor
from replication.instances import Close, Connect, ErrorReply, Send

logger = logging.getLogger(__name__)


class _Connection(asyncio.Protocol):
    """One connection to an instance; replies go to the callbacks in the order sent."""

    def __init__(self, links: Links, conn: Connect) -> None:
        self.links = links
        self.conn = conn
        self.reader = hiredis.Reader(replyError=cast(Any, ErrorReply))
        self.callbacks: deque[Send] = deque()
        self.transport: asyncio.Transport | None = None
        self.waiting: list[bytes] = []  # written before the connection is up
        self.closing = False  # closed by the monitor: report nothing more
        self.task: asyncio.Task[Any] | None = None

    # --- driven by Links ---

    def send(self, send: Send) -> None:
        self.callbacks.append(send)
        data = encode_command(send.argv)
        if self.transport is not None:
            self.transport.write(data)
        else:
            self.waiting.append(data)

    def close(self) -> None:
        """Write what was sent, then close; no callback runs any more."""
        self.closing = True
        self.callbacks.clear()
        if self.transport is not None:
            self.transport.close()
        elif self.task is not None and not self.waiting:
            self.task.cancel()

    # --- asyncio.Protocol ---

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        if self.waiting:
            self.transport.writelines(self.waiting)
            self.waiting = []
        if self.closing:
            self.transport.close()
            return
        sockname = transport.get_extra_info("sockname")
        local_ip = str(sockname[0]) if isinstance(sockname, tuple) and sockname else ""
        self.links.monitor.connection_established(self.conn, local_ip)
        self.links.wake()

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        reader = self.reader
        try:
            reader.feed(data)
            while True:
                reply: Any = reader.gets()
                if reply is False:
                    break
                if not self._deliver(reply):
                    return
        except hiredis.ProtocolError:
            logger.warning("protocol error from %s:%d, closing", self.conn.host, self.conn.port)
            if self.transport is not None:
                self.transport.abort()
        self.links.wake()

    def _deliver(self, reply: Any) -> bool:
        """Hand a reply to its callback; False once the connection is being closed."""
        if self.callbacks:
            send = self.callbacks[0]
            if not send.persistent:
                self.callbacks.popleft()
            try:
                send.on_reply(reply)
            except Exception:
                logger.exception("monitor failed on a reply from %s", self.conn.host)
        return not self.closing

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.callbacks.clear()
        if not self.closing:
            self.closing = True
            self.links.lost(self)


class Links:
    """Carries out a Monitor's actions on the running event loop."""

    def __init__(self, monitor: Monitor, connect_timeout_s: float = 5.0) -> None:
        self.monitor = monitor
        self.connect_timeout_s = connect_timeout_s
        self.connections: dict[Connect, _Connection] = {}
        self._scheduled = False
        self._stopped = False

    def wake(self) -> None:
        """Run the monitor's outbox at the next loop iteration (batching what piles up)."""
        if self._scheduled or self._stopped or not self.monitor.outbox:
            return
        self._scheduled = True
        asyncio.get_running_loop().call_soon(self.pump)

    def pump(self) -> None:
        """Perform every action in the monitor's outbox, in order."""
        self._scheduled = False
        monitor = self.monitor
        while monitor.outbox and not self._stopped:
            actions, monitor.outbox = monitor.outbox, []
            for action in actions:
                if isinstance(action, Connect):
                    self._open(action)
                elif isinstance(action, Send):
                    connection = self.connections.get(action.conn)
                    if connection is not None and not connection.closing:
                        connection.send(action)
                elif isinstance(action, Close):
                    connection = self.connections.pop(action.conn, None)
                    if connection is not None:
                        connection.close()

    def _open(self, conn: Connect) -> None:
        connection = _Connection(self, conn)
        self.connections[conn] = connection
        connection.task = asyncio.get_running_loop().create_task(self._connect(connection))

    async def _connect(self, connection: _Connection) -> None:
        conn = connection.conn
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout_s):
                await loop.create_connection(lambda: connection, conn.host, conn.port)
        except (OSError, TimeoutError) as e:
            logger.debug("%s link to %s:%d failed: %s", conn.channel.value, conn.host, conn.port, e)
            if not connection.closing:
                connection.closing = True
                self.lost(connection)
        except asyncio.CancelledError:
            pass

    def lost(self, connection: _Connection) -> None:
        if self.connections.get(connection.conn) is connection:
            del self.connections[connection.conn]
        if not self._stopped:
            self.monitor.connection_lost(connection.conn)

    def close_all(self) -> None:
        """Stop: close every connection and ignore the outbox from now on."""
        self._stopped = True
        for connection in list(self.connections.values()):
            connection.close()
            if connection.task is not None and not connection.task.done():
                with contextlib.suppress(Exception):
                    connection.task.cancel()
        self.connections.clear()

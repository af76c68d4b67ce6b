"""asyncio.Protocol glue: bytes in, commands run, replies out in one write per batch.

No command logic here. `data_received` feeds the parser, runs every complete command of the
batch through dispatch, encodes the replies for the client's protocol version and writes
them with a single call. Writing faster than the client reads pauses reading from it
(`pause_writing` / `resume_writing`), so a slow reader cannot grow our memory without bound.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any, cast

from protocol.errors import ProtocolError
from protocol.resp import RESPParser, encode_reply, error_bytes
from server.app import App
from server.context import NO_REPLY, REPLY_ON, REPLY_SKIP, CommandContext
from server.dispatch import execute

logger = logging.getLogger(__name__)


def _peer(transport: asyncio.BaseTransport, name: str) -> str:
    info = transport.get_extra_info(name)
    if isinstance(info, tuple) and len(info) >= 2:
        return f"{info[0]}:{info[1]}"
    return str(info or "")


class RESPConnection(asyncio.Protocol):
    """One RESP client."""

    __slots__ = ("_paused", "_transport", "app", "ctx", "parser")

    def __init__(self, app: App) -> None:
        self.app = app
        self._transport: asyncio.Transport | None = None
        self._paused = False
        config = app.config
        self.parser = RESPParser(
            max_bulk_bytes=config["proto-max-bulk-len"],
            max_buffer_bytes=config["client-query-buffer-limit"],
        )
        self.ctx: CommandContext | None = None

    # --- asyncio.Protocol ---

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = self._transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                keepalive = self.app.config["tcp-keepalive"]
                if keepalive > 0:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            except OSError:
                pass
        app = self.app
        if len(app.clients) >= app.config["maxclients"]:
            transport.write(b"-ERR max number of clients reached\r\n")
            transport.close()
            app.rejected_connections += 1
            return
        ctx = app.new_client(_peer(transport, "peername"), _peer(transport, "sockname"))
        ctx.push = self.push
        ctx.kill = self.kill
        ctx.transport = transport
        self.ctx = ctx
        self.parser.require_auth = not ctx.authenticated
        logger.debug("%s - connected", ctx.addr)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.ctx is not None:
            logger.debug("%s - disconnected", self.ctx.addr)
            self.app.client_closed(self.ctx)
        self._transport = None

    def pause_writing(self) -> None:
        # The client reads slower than we answer: stop reading its requests until it drains.
        self._paused = True
        if self._transport is not None:
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        self._paused = False
        if self._transport is not None and not self._transport.is_closing():
            self._transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        ctx = self.ctx
        transport = self._transport
        if ctx is None or transport is None or transport.is_closing():
            return
        app = self.app
        app.net_input_bytes += len(data)
        parser = self.parser
        out: list[bytes] = []
        try:
            parser.feed(data)
            while True:
                argv = parser.maybe_next_command()
                if argv is None:
                    break
                reply = execute(ctx, argv)
                if reply is NO_REPLY:
                    continue
                if ctx.reply_mode is not REPLY_ON:
                    # CLIENT REPLY OFF drops every reply; SKIP drops the next one only.
                    if ctx.reply_mode is REPLY_SKIP:
                        ctx.reply_mode = REPLY_ON
                    continue
                out.append(encode_reply(reply, ctx.resp3))
                if ctx.close_after_reply:
                    break
                if parser.require_auth and ctx.authenticated:
                    parser.require_auth = False
        except ProtocolError as e:
            if e.reply:
                out.append(error_bytes("ERR " + e.text))
                logger.debug("%s - protocol error: %s", ctx.addr, e.text)
            else:
                logger.warning("%s - closing client: %s", ctx.addr, e.text)
            ctx.close_after_reply = True
        gate = app.reply_gate
        if out:
            payload = out[0] if len(out) == 1 else b"".join(out)
            app.net_output_bytes += len(payload)
            # appendfsync always: the gate may hold the replies until their writes are durable.
            if gate is not None and gate(transport, payload, ctx.close_after_reply):
                return
            transport.write(payload)
        elif ctx.close_after_reply and gate is not None and gate(transport, b"", True):
            return
        if ctx.close_after_reply:
            transport.close()

    # --- server-initiated frames ---

    def push(self, value: Any) -> None:
        """Write a frame the client did not ask for (pub/sub message, MONITOR line)."""
        transport = self._transport
        if transport is None or transport.is_closing() or self.ctx is None:
            return
        payload = encode_reply(value, self.ctx.resp3)
        self.app.net_output_bytes += len(payload)
        transport.write(payload)

    def kill(self) -> None:
        if self._transport is not None:
            self._transport.abort()

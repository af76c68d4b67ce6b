"""MemcacheConnection: asyncio.Protocol glue for the memcached text protocol.

No command logic here. `data_received` feeds the sans-IO parser (protocol/memcache.py), runs
every complete request of the batch through the verbs (server/memcache.py) and writes the
replies of the batch with one call. A `get` or plain `set` that arrives alone and whole (what
a client sends at pipeline 1) is read by `MemcacheParser.lone_request`, and a read of whole
`get` lines and plain `set`s only (a client pipelining them) by `MemcacheParser.plain_run`,
and run without parser rounds; they are answered, counted and limited as in a batch.

Strategy (bounded memory): replies reference the stored values instead of copying them, and
a batch whose replies grow past FLUSH_ENTRIES entries is written out before the next request
runs. When the client reads slower than we answer (`pause_writing`), we stop reading from it
and stop running its buffered requests; what is already answered waits in an outbox of
references and goes out in slices of SLICE_BYTES as the socket drains. So a slow reader or a
multi-get of many large values costs the transport's high-water mark plus references, not
copies of the values. The parser bounds a request line (2048 bytes, multi-gets larger) and a
data block (the item size limit); too large a block is swallowed, not buffered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import deque
from typing import Final, cast

from protocol.memcache import Close, MemcacheParser
from server.app import App
from server.errors import (
    MC_ERR_TOO_MANY_CONNECTIONS,
)
from server.memcache import VERBS, execute, get_one, run_plain, store_plain
from server.memcache_state import MemcacheContext, MemcacheService, service_for
from server.serve import EXTRA_LISTENERS, ProtocolFactory

logger = logging.getLogger(__name__)

FLUSH_ENTRIES: Final = 4096  # reply pieces gathered before a batch writes early
SINGLE_WRITE_BYTES: Final = 1024 * 1024  # up to this, a batch goes out joined in one write
SLICE_BYTES: Final = 256 * 1024  # larger outputs are written in slices of about this size


def _address(info: object) -> str:
    if isinstance(info, tuple) and len(info) >= 2:
        return f"{info[0]}:{info[1]}"
    return str(info or "")


class MemcacheConnection(asyncio.Protocol):
    """One memcached client."""

    __slots__ = (
        "_close_when_drained",
        "_outbox",
        "_ready",
        "_transport",
        "_waiting_load",
        "_write_paused",
        "app",
        "ctx",
        "parser",
        "service",
    )

    def __init__(self, app: App, service: MemcacheService) -> None:
        self.app = app
        self.service = service
        self.parser = MemcacheParser(
            max_item_bytes=service.max_item_bytes, require_auth=bool(app.config["requirepass"])
        )
        self.ctx: MemcacheContext | None = None
        self._transport: asyncio.Transport | None = None
        self._write_paused = False
        self._outbox: deque[bytes] = deque()
        self._close_when_drained = False
        self._waiting_load = False  # held until the dataset is loaded (`_wait_for_load`)
        # The parser is idle and the client reads (so nothing waits in the outbox, which
        # holds bytes only while the client does not read): a read may take `lone_request`
        # and `plain_run`. Cleared by `pause_writing`, set again at the end of `_process`,
        # which runs whatever a read left to the parser.
        self._ready = self.parser.idle

    # --- asyncio.Protocol ---

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = self._transport = cast(asyncio.Transport, transport)
        service = self.service
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if service.curr_connections >= self.app.config["maxclients"]:
            # memcached's maxconns_fast: tell the client and hang up at once.
            service.stats.rejected_conns += 1
            transport.write(MC_ERR_TOO_MANY_CONNECTIONS)
            transport.close()
            return
        fd = sock.fileno() if sock is not None else -1 - service.stats.total_conns
        ctx = MemcacheContext(
            self.app,
            _address(transport.get_extra_info("peername")),
            _address(transport.get_extra_info("sockname")),
            fd,
        )
        ctx.kill = self.kill
        self.ctx = ctx
        service.connections[fd] = ctx
        service.curr_connections += 1
        service.stats.total_conns += 1
        logger.debug("%s - memcached client connected", ctx.addr)

    def connection_lost(self, exc: Exception | None) -> None:
        ctx = self.ctx
        if ctx is not None:
            logger.debug("%s - memcached client disconnected", ctx.addr)
            if self.service.connections.get(ctx.fd) is ctx:
                del self.service.connections[ctx.fd]
            self.service.curr_connections -= 1
            self.ctx = None
        self._outbox.clear()
        self._transport = None

    def pause_writing(self) -> None:
        # The client reads slower than we answer: stop reading and running its requests.
        self._write_paused = True
        self._ready = False
        if self._transport is not None:
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        self._write_paused = False
        self._drain()
        transport = self._transport
        if self._outbox or self._write_paused or transport is None or transport.is_closing():
            return
        transport.resume_reading()
        self.parser.max_item_bytes = self.service.max_item_bytes
        self._process()

    def data_received(self, data: bytes) -> None:
        service = self.service
        service.stats.bytes_read += len(data)
        parser = self.parser
        parser.max_item_bytes = service.max_item_bytes  # CONFIG SET may have changed it
        if not self._ready or self.app.loading:
            parser.feed(data)
            if not self._write_paused and not self._outbox:
                self._process()
            return
        request = parser.lone_request(data)  # it came alone (pipeline 1)
        if request is None:
            run = parser.plain_run(data, FLUSH_ENTRIES - 1)  # pipelined gets and sets
            if run is None:
                parser.feed(data)
                self._process()
                return
        elif type(request) is list:
            run = [request]  # a get of more keys
        else:
            run = None
        # Read in one pass while the parser holds nothing: this is all there is to run.
        # `_process`'s set-up for it, inline on the hot path (its replies stay under
        # FLUSH_ENTRIES, and no plain request closes, authenticates or waits for data).
        ctx = self.ctx
        transport = self._transport
        if ctx is None or transport is None or transport.is_closing():
            return
        if service.flush_at_ms is not None:
            service.check_flush()
        ctx.last_cmd_s = ctx.access_s = self.app.keyspace.clock.second
        if run is None:
            # A get of one key or a set, alone: a batch of its own, so no batch output to set
            # up; the client reads (no outbox, not paused), so its reply goes straight out.
            # (The parser is idle, so `ctx.state` is already conn_waiting.)
            if isinstance(request, bytes):
                get_one(ctx, request, transport.write)
            elif isinstance(request, tuple):
                reply = store_plain(ctx, request)
                if reply is not None:
                    service.stats.bytes_written += len(reply)
                    transport.write(reply)
            return
        out: list[bytes] = []
        ctx.out = out
        ctx.mark = 0
        if ctx.held:
            ctx.held.clear()
        run_plain(ctx, run)
        ctx.state = "conn_waiting"
        self._send(out)

    # --- requests and replies ---

    def _process(self) -> None:
        """Run the buffered requests until none is complete or the client stops reading."""
        ctx = self.ctx
        transport = self._transport
        if ctx is None or transport is None or transport.is_closing():
            return
        if self.app.loading:
            self._wait_for_load(transport)
            return
        service = self.service
        if service.flush_at_ms is not None:
            service.check_flush()
        parser = self.parser
        out: list[bytes] = []
        ctx.out = out
        ctx.mark = 0
        ctx.auth_reply_at = -1
        if ctx.held:
            ctx.held.clear()
        ctx.state = "conn_parse_cmd"
        ctx.access_s = self.app.keyspace.clock.second
        close = False
        ran = False
        # Only a successful authentication below ends the parser's authentication phase.
        auth_pending = parser.require_auth
        verbs = VERBS
        next_request = parser.next_request
        request = next_request()
        while request is not None:
            ran = True
            verb = verbs.get(request.command)
            if verb is not None:
                verb(ctx, request)  # execute's commonest branch, without the call
                proceed = not ctx.close_after_write
            else:
                proceed = execute(ctx, request)
            if not proceed:
                if isinstance(request, Close):
                    logger.debug("%s - closing: %s", ctx.addr, request.reason)
                close = True
                break
            if auth_pending and ctx.authenticated:
                parser.authenticated()
                auth_pending = False
            if len(out) >= FLUSH_ENTRIES:
                self._send(out)
                out = ctx.out = []
                ctx.mark = 0
                ctx.held.clear()
                if self._write_paused or self._outbox:
                    break
            request = next_request()
        if ran:
            ctx.last_cmd_s = ctx.access_s
        ctx.state = "conn_nread" if parser.awaiting_data else "conn_waiting"
        self._send(out)
        self._ready = parser.idle and not self._write_paused
        if close:
            self._close_when_drained = True
            self._drain()

    def _wait_for_load(self, transport: asyncio.Transport) -> None:
        """A dataset is loading (at startup, DEBUG RELOAD, a replica's full sync). RESP
        clients get -LOADING; memcached has no such reply, and its requests would run on a
        half-loaded keyspace whose clock expires nothing, and their writes would miss the
        AOF. So they wait, read into the parser and no further, until the load is in, as if
        the server were slow."""
        self._ready = False
        if not self._waiting_load:
            self._waiting_load = True
            transport.pause_reading()
            self.app.loading_ended.append(self._loaded)

    def _loaded(self) -> None:
        self._waiting_load = False
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if not self._write_paused:
            transport.resume_reading()
            self._process()

    def _send(self, out: list[bytes]) -> None:
        if not out:
            return
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if len(out) <= 4:
            # A single get's reply, say. Four pieces hold at most one stored value (each comes
            # with its header line and CRLF), so joining them copies at most one item; joined,
            # the size costs nothing more. Past SINGLE_WRITE_BYTES the copy is dropped below.
            payload = out[0] if len(out) == 1 else b"".join(out)
            size = len(payload)
        else:
            size = sum(map(len, out))
            payload = b""
        self.service.stats.bytes_written += size
        if size <= SINGLE_WRITE_BYTES and not self._outbox and not self._write_paused:
            transport.write(payload or b"".join(out))
            return
        self._outbox.extend(out)
        self._drain()

    def _drain(self) -> None:
        """Write the outbox in slices while the client keeps reading."""
        transport = self._transport
        if transport is None or transport.is_closing():
            self._outbox.clear()
            return
        outbox = self._outbox
        while outbox and not self._write_paused:
            parts = [outbox.popleft()]
            size = len(parts[0])
            while outbox and size < SLICE_BYTES:
                part = outbox.popleft()
                parts.append(part)
                size += len(part)
            transport.write(parts[0] if len(parts) == 1 else b"".join(parts))
        if not outbox and self._close_when_drained:
            transport.close()

    def kill(self) -> None:
        if self._transport is not None:
            self._transport.abort()


def _factory(app: App) -> ProtocolFactory:
    service = service_for(app)
    app.shutdown_hooks.append(lambda: _close_all(service))
    return lambda: MemcacheConnection(app, service)


def _close_all(service: MemcacheService) -> None:
    """Shutdown: drop the memcached clients (their replies were written batch by batch)."""
    for ctx in list(service.connections.values()):
        kill = ctx.kill
        if kill is not None:
            kill()


EXTRA_LISTENERS.append(("memcache", "memcache-port", _factory))

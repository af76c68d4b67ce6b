"""asyncio.Protocol glue: bytes in, commands run, replies out in one write per batch.

No command logic here. `data_received` feeds the parser, runs every complete command of the
batch through dispatch, encodes the replies for the client's protocol version and writes
them with a single call. Writing faster than the client reads pauses reading from it
(`pause_writing` / `resume_writing`), so a slow reader cannot grow our memory without bound.

A client parked by a blocking command (`ctx.blocked`) keeps reading, but its further
commands wait in the parser; `_unblocked` writes the parked command's reply and resumes
them on the next loop iteration.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from time import monotonic, perf_counter_ns
from typing import Any, Final, cast

from protocol.errors import ProtocolError
from protocol.resp import OK, RawReply, RESPParser, encode_reply, error_bytes
from server.app import App
from server.context import NO_REPLY, POSTPONED, REPLY_ON, REPLY_SKIP, CommandContext
from server.dispatch import execute, open_fast_path, run_fast, run_lone
from server.errors import ERR_PROTECTED_MODE

logger = logging.getLogger(__name__)

_OK_BYTES: Final = b"+OK\r\n"


def _peer(transport: asyncio.BaseTransport, name: str) -> str:
    info = transport.get_extra_info(name)
    if isinstance(info, tuple) and len(info) >= 2:
        return f"{info[0]}:{info[1]}"
    return str(info or "")


def _parked(ctx: CommandContext) -> bool:
    """Is the client waiting in a blocking command? (A call, so mypy does not narrow.)"""
    return ctx.blocked is not None


class RESPConnection(asyncio.Protocol):
    """One RESP client."""

    __slots__ = (
        "_batch",
        "_held_argv",
        "_paused",
        "_soft_limit_since",
        "_transport",
        "app",
        "ctx",
        "parser",
    )

    def __init__(self, app: App) -> None:
        self.app = app
        self._transport: asyncio.Transport | None = None
        self._paused = False
        # The replies of the batch being run; frames pushed to this client meanwhile join it.
        self._batch: list[bytes] | None = None
        # When the output buffer first went over the soft limit (0: it is not over).
        self._soft_limit_since = 0.0
        config = app.config
        self.parser = RESPParser(
            max_bulk_bytes=config["proto-max-bulk-len"],
            max_buffer_bytes=config["client-query-buffer-limit"],
        )
        self.ctx: CommandContext | None = None
        # The command CLIENT PAUSE postponed, run again when the pause ends.
        self._held_argv: list[bytes] | None = None

    # --- asyncio.Protocol ---

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = self._transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                keepalive = self.app.config["tcp-keepalive"]
                if keepalive > 0:
                    _set_keepalive(sock, keepalive)
            except OSError:
                pass
        app = self.app
        if len(app.clients) >= app.config["maxclients"]:
            transport.write(b"-ERR max number of clients reached\r\n")
            transport.close()
            app.rejected_connections += 1
            return
        peer = transport.get_extra_info("peername")
        if (
            app.config["protected-mode"]
            and not app.config["requirepass"]
            and isinstance(peer, tuple)
            and peer[0] not in ("127.0.0.1", "::1")
        ):
            # islocalClient: only these two addresses (and unix sockets) count as local.
            transport.write(error_bytes(ERR_PROTECTED_MODE))
            transport.close()
            app.rejected_connections += 1
            return
        ctx = app.new_client(_peer(transport, "peername"), _peer(transport, "sockname"))
        ctx.push = self.push
        ctx.kill = self.kill
        if sock is not None:
            ctx.fd = sock.fileno()
        ctx.unblocked = self._unblocked
        ctx.transport = transport
        self.ctx = ctx
        self.parser.require_auth = not ctx.authenticated
        open_fast_path(ctx)  # from here on its batches and commands keep ctx.fast_path
        logger.debug("%s - connected", ctx.addr)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.ctx is not None:
            logger.debug("%s - disconnected", self.ctx.addr)
            self.app.soft_limited.pop(self.ctx.id, None)
            self.app.client_closed(self.ctx)
        self._transport = None

    def pause_writing(self) -> None:
        # The client reads slower than we answer: stop reading its requests until it drains.
        self._paused = True
        if self._transport is not None:
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        self._paused = False
        transport = self._transport
        if transport is not None and not transport.is_closing() and self._held_argv is None:
            transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        ctx = self.ctx
        transport = self._transport
        if ctx is None or transport is None or transport.is_closing():
            return
        app = self.app
        app.net_input_bytes += len(data)
        ctx.last_interaction_s = time.time()
        if self._held_argv is not None:
            # Held by CLIENT PAUSE: keep the bytes for later, run nothing now.
            try:
                self.parser.feed(data)
            except ProtocolError:
                transport.close()
            return
        argv = self.parser.lone_request(data)
        if argv is None or ctx.blocked is not None:
            self._process(ctx, transport, data, None)  # parked: the input waits in the parser
            return
        # A request that came alone (pipeline 1): on the fast path it runs and is answered
        # without the batch machinery of `_process`. Whether the client's own state allows
        # the path is as its last batch or command left `ctx.fast_path`; only the server's
        # state can have changed since, so that is what is tested here (open_fast_path's
        # server half, inline: this runs for every request at pipeline 1).
        if (
            ctx.fast_path
            and not app.guards_active
            and not app.is_replica
            and not app.loading
            and app.pause_end is None
            and not app.monitors
        ):
            out: list[bytes] = []
            self._batch = out
            ctx.mark_ns = perf_counter_ns()
            try:
                ran = run_lone(ctx, argv, out)
            finally:
                self._batch = None
            if ran:
                if len(out) == 1 and app.reply_gate is None and not ctx.is_replica:
                    # `_write_replies` for one reply that no gate holds: on the fast path the
                    # client is not subscribed and no plain command asks to close it.
                    payload = out[0]
                    app.net_output_bytes += len(payload)
                    transport.write(payload)
                    if app.obuf_normal_limited:
                        self.enforce_output_limit()
                    return
                self._write_replies(ctx, transport, out)
                return
        self._process(ctx, transport, b"", argv)

    def _resume(self) -> None:
        """The pause ended: run the held command, then whatever arrived behind it."""
        argv, self._held_argv = self._held_argv, None
        ctx = self.ctx
        transport = self._transport
        if ctx is None:
            return
        ctx.held = None
        if transport is None or transport.is_closing() or argv is None:
            return
        self._process(ctx, transport, b"", argv)
        if self._held_argv is None and not self._paused and not transport.is_closing():
            transport.resume_reading()

    def _process(
        self,
        ctx: CommandContext,
        transport: asyncio.Transport,
        data: bytes,
        first: list[bytes] | None,
    ) -> None:
        """Run every complete command (`first`, then the parser's), then write the replies."""
        app = self.app
        parser = self.parser
        out: list[bytes] = []
        self._batch = out
        try:
            if data:
                parser.feed(data)
            if _parked(ctx):
                return  # the input waits in the parser
            # Every complete command of the input at once; a command that stops the batch
            # (parked, postponed) hands the ones after it back to the parser.
            batch = parser.read_commands() if first is None else [first]
            open_fast_path(ctx)
            append = out.append
            while batch:
                stop = False  # a command ended the batch: parked, postponed, closing
                i = 0
                n = len(batch)
                while i < n:
                    if ctx.fast_path:
                        # Every command from here that the fast path takes, in one call.
                        i = run_fast(ctx, batch, i, out)
                        if i == n:
                            break
                    argv = batch[i]
                    i += 1
                    reply = execute(ctx, argv)
                    if reply is NO_REPLY:
                        if _parked(ctx):
                            # A blocking command parked it: the rest waits in the parser.
                            parser.unread(batch[i:])
                            stop = True
                            break
                        continue
                    if reply is POSTPONED:
                        # CLIENT PAUSE: stop reading and park until App.unpause calls _resume.
                        self._held_argv = argv
                        parser.unread(batch[i:])
                        transport.pause_reading()
                        app.hold(ctx, self._resume)
                        stop = True
                        break
                    if ctx.reply_mode is not REPLY_ON:
                        # CLIENT REPLY OFF drops every reply; SKIP drops the next one only.
                        if ctx.reply_mode is REPLY_SKIP:
                            ctx.reply_mode = REPLY_ON
                        continue
                    if reply is OK:
                        append(_OK_BYTES)  # the commonest reply, without a call
                    else:
                        append(encode_reply(reply, ctx.resp3))
                    if ctx.close_after_reply:
                        stop = True
                        break
                    if parser.require_auth and ctx.authenticated:
                        parser.require_auth = False
                if stop:
                    break
                batch = parser.read_commands()
        except ProtocolError as e:
            if e.reply:
                out.append(error_bytes("ERR " + e.text))
                logger.debug("%s - protocol error: %s", ctx.addr, e.text)
            else:
                logger.warning("%s - closing client: %s", ctx.addr, e.text)
            ctx.close_after_reply = True
        finally:
            self._batch = None
        self._write_replies(ctx, transport, out)

    def _write_replies(
        self, ctx: CommandContext, transport: asyncio.Transport, out: list[bytes]
    ) -> None:
        """Send a batch's replies in one write, then close if a command asked for it."""
        app = self.app
        gate = app.reply_gate
        if out:
            payload = out[0] if len(out) == 1 else b"".join(out)
            app.net_output_bytes += len(payload)
            # appendfsync always: the gate may hold the replies until their writes are durable.
            if gate is not None and gate(transport, payload, ctx.close_after_reply):
                return
            transport.write(payload)
            if ctx.subscribed or ctx.is_replica or app.obuf_normal_limited:
                self.enforce_output_limit()
        elif ctx.close_after_reply and gate is not None and gate(transport, b"", True):
            return
        if ctx.close_after_reply:
            transport.close()

    # --- blocking commands ---

    def _unblocked(self, reply: Any) -> None:
        """The parked command finished (served, timed out, unblocked): reply, then resume."""
        ctx = self.ctx
        transport = self._transport
        if ctx is None or transport is None or transport.is_closing():
            return
        if ctx.reply_mode is REPLY_ON:
            payload = encode_reply(reply, ctx.resp3)
            self.app.net_output_bytes += len(payload)
            # A served pop wrote to the keyspace: under appendfsync always it waits too.
            gate = self.app.reply_gate
            if gate is None or not gate(transport, payload, ctx.close_after_reply):
                transport.write(payload)
        elif ctx.reply_mode is REPLY_SKIP:
            ctx.reply_mode = REPLY_ON
        if ctx.close_after_reply:
            transport.close()
            return
        # Like Redis's unblocked_clients: the pipeline goes on after the current event, not
        # inside the command (another client's) that served this one.
        asyncio.get_running_loop().call_soon(self._resume_after_block)

    def _resume_after_block(self) -> None:
        ctx = self.ctx
        transport = self._transport
        if ctx is None or transport is None or transport.is_closing() or ctx.blocked is not None:
            return
        self._process(ctx, transport, b"", None)

    # --- server-initiated frames ---

    def push(self, value: Any) -> None:
        """Write a frame the client did not ask for (pub/sub message, MONITOR line).

        While this client's own batch runs, the frame joins the batch's replies instead, so
        it keeps its place among them (a message a client publishes to itself comes before
        PUBLISH's reply, after the replies of the commands before it).
        """
        transport = self._transport
        ctx = self.ctx
        if transport is None or ctx is None or transport.is_closing():
            return
        payload = value if type(value) is RawReply else encode_reply(value, ctx.resp3)
        batch = self._batch
        if batch is not None:
            batch.append(payload)
            return
        self.app.net_output_bytes += len(payload)
        transport.write(payload)
        self.enforce_output_limit()

    def enforce_output_limit(self) -> None:
        """closeClientOnOutputBufferLimitReached: cut the client off when what waits to be
        written to it passes its class's hard limit, or has stayed over the soft limit for
        longer than the limit's seconds (client-output-buffer-limit).

        The class is slave for a replica, pubsub while the client has subscriptions, else
        normal (the primary's link is never limited). What is
        measured is the transport's write buffer: what the socket has not taken yet.
        """
        transport = self._transport
        ctx = self.ctx
        if transport is None or ctx is None or transport.is_closing():
            return
        app = self.app
        if ctx.is_primary_link:
            return
        cls = "slave" if ctx.is_replica else ("pubsub" if ctx.subscribed else "normal")
        hard, soft, soft_seconds = app.output_limits.get(cls, (0, 0, 0))
        if not (hard or soft):
            if self._soft_limit_since:
                self._soft_limit_since = 0.0
                app.soft_limited.pop(ctx.id, None)
            return
        used = transport.get_write_buffer_size()
        over = bool(hard) and used >= hard
        if soft and used >= soft:
            now = monotonic()
            if not self._soft_limit_since:
                # The first time the soft limit is seen reached only starts its clock.
                self._soft_limit_since = now
                app.soft_limited[ctx.id] = self.enforce_output_limit
            elif now - self._soft_limit_since > soft_seconds:
                over = True
        elif self._soft_limit_since:
            self._soft_limit_since = 0.0
            app.soft_limited.pop(ctx.id, None)
        if over:
            logger.warning(
                "Client %s scheduled to be closed ASAP for overcoming of output buffer limits.",
                _client_info(ctx, used),
            )
            app.soft_limited.pop(ctx.id, None)
            transport.abort()

    def kill(self) -> None:
        if self._transport is not None:
            self._transport.abort()


def _client_info(ctx: CommandContext, omem: int) -> str:
    """The start of a CLIENT LIST line, for the log."""
    subs = ctx.app.pubsub.peek(ctx)
    name = ctx.name.decode("utf-8", "replace")
    return (
        f"id={ctx.id} addr={ctx.addr} laddr={ctx.laddr} name={name} "
        f"sub={len(subs.channels)} psub={len(subs.patterns)} ssub={len(subs.shard_channels)} "
        f"omem={omem}"
    )


def _set_keepalive(sock: socket.socket, interval: int) -> None:
    """tcp-keepalive as anetKeepAlive sets it: idle `interval`, probes every third, 3 tries."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    if hasattr(socket, "TCP_KEEPIDLE"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, interval)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(1, interval // 3))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)

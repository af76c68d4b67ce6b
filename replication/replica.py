"""The replica's link to its primary: connect, handshake, load the snapshot, apply the stream.

Thin I/O over asyncio streams. The conversation itself is the sans-IO `ReplicaHandshake`;
what a snapshot or a command does to the dataset is the server's business, reached through
the `LinkHooks` it gives (its `apply` runs one command through dispatch as the primary's
client). This module only moves bytes and counts them.

Strategy (offsets): the link's offset is the number of stream bytes applied, counted exactly
from what the primary sent: the stream is parsed by `RESPParser` in its exact mode (the
replication link never uses the hiredis fast path, `from_primary`), and after each command
the offset is "bytes received minus bytes still buffered". As in Redis, the offset does not
move while a MULTI is open (`apply` reports whether the command left the link at a boundary),
so a link lost inside a transaction continues from the MULTI. Applied bytes are handed on
verbatim (`hooks.applied`) for our own backlog and sub-replicas, so a chain of replicas
shares one history and one set of offsets.

Strategy (reconnection): a link lost after it was up is retried at once (a partial resync
needs the backlog the primary still holds); a failed attempt is retried a second later, as
Redis's replicationCron does.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Final, Protocol

from protocol.errors import ProtocolError
from protocol.resp import RESPParser, encode_command
from replication.handshake import (
    NEED_DATA,
    Continue,
    Failed,
    FullResync,
    HandshakeOptions,
    HandshakeState,
    ReplicaHandshake,
    Send,
    SnapshotData,
    SnapshotDone,
    TransferStarted,
)

logger = logging.getLogger(__name__)

READ_BYTES: Final = 64 * 1024
RETRY_DELAY_S: Final = 1.0


class LinkHooks(Protocol):
    """What the server does for its link to a primary."""

    def handshake_options(self) -> HandshakeOptions:
        """What to announce and which history to ask for (read at each connection)."""

    def link_changed(self) -> None:
        """The link's state changed (ROLE, INFO, replica-serve-stale-data)."""

    def full_resync(self, replid: str, offset: int) -> None:
        """The primary sends a snapshot: our history ends here (sub-replicas must resync)."""

    async def load_snapshot(self, rdb: bytes | bytearray) -> bool:
        """Replace the dataset with `rdb`; False if it could not be loaded."""

    def link_up(self, link: PrimaryLink, full: bool, replid: str | None) -> None:
        """The stream starts: after a full sync (`replid` is the primary's, the offset is
        `link.offset`), or after +CONTINUE (`replid` as named, or None)."""

    def apply(self, argv: list[bytes]) -> bool:
        """Run one command of the stream; True when the link is not inside MULTI after it."""

    def applied(self, data: bytes) -> None:
        """Stream bytes that were applied, verbatim (backlog and sub-replicas)."""

    def link_down(self, link: PrimaryLink) -> None:
        """An established link was lost (the history may continue by PSYNC)."""


class LinkError(Exception):
    """The link cannot go on; the text is logged."""


class PrimaryLink:
    """One replica's connection to its primary, reconnecting until stopped.

    Attributes:
        host / port: the primary.
        offset: stream bytes applied (Redis's master->reploff); -1 before any sync.
        read_offset: stream bytes received (read_reploff).
        up: the stream is flowing (REPL_STATE_CONNECTED).
        last_io_monotonic: when anything last came from the primary (repl-timeout).
    """

    def __init__(self, host: str, port: int, hooks: LinkHooks) -> None:
        self.host = host
        self.port = port
        self.hooks = hooks
        self.handshake: ReplicaHandshake | None = None
        self.connecting = False
        self.up = False
        self.offset = -1
        self.read_offset = -1
        self.last_io_monotonic = time.monotonic()
        self.input_bytes = 0
        self.connect_timeout_s = 60.0  # repl-timeout
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        self._loading = False

    # --- control ---

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def stop_nowait(self) -> None:
        """Close the connection and stop reconnecting (the task ends on its own)."""
        self._stopped = True
        self.drop()
        task = self._task
        self._task = None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def drop(self) -> None:
        """Close the connection now (CLIENT KILL TYPE master, a timeout); it reconnects."""
        writer = self._writer
        if writer is not None:
            writer.transport.abort()

    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def loading(self) -> bool:
        """The snapshot is being loaded (nothing is read meanwhile: no timeout applies)."""
        return self._loading

    @property
    def role_state(self) -> str:
        """ROLE's state for this link: connect, connecting, handshake, sync or connected."""
        if self.up:
            return "connected"
        if self.handshake is not None:
            return self.handshake.state.role_state
        return "connecting" if self.connecting else "connect"

    @property
    def in_transfer(self) -> bool:
        hs = self.handshake
        return hs is not None and hs.state in (
            HandshakeState.RECEIVE_BULK_HEADER,
            HandshakeState.TRANSFER,
        )

    def send_ack(self) -> None:
        """REPLCONF ACK <offset> (every second, and at once on REPLCONF GETACK)."""
        if self.up and self.offset >= 0:
            self._write(encode_command([b"REPLCONF", b"ACK", b"%d" % self.offset]))

    def _write(self, data: bytes) -> None:
        writer = self._writer
        if writer is not None and not writer.transport.is_closing():
            writer.write(data)

    # --- the connection ---

    async def _run(self) -> None:
        while not self.stopped:
            was_up = False
            try:
                was_up = await self._session()
            except (OSError, EOFError, LinkError, ProtocolError, TimeoutError) as e:
                logger.warning("MASTER <-> REPLICA link with %s:%d: %s", self.host, self.port, e)
            finally:
                was_up = was_up or self.up
                self._close()
                if was_up:
                    self.hooks.link_down(self)
                self.hooks.link_changed()
            if not was_up:  # a failed attempt: the next one a second later
                await asyncio.sleep(RETRY_DELAY_S)

    def _close(self) -> None:
        writer = self._writer
        self._writer = None
        if writer is not None:
            writer.transport.abort()
        self.up = False
        self.connecting = False
        self.handshake = None

    async def _session(self) -> bool:
        """One connection: handshake, snapshot or continuation, then the stream until it
        breaks. Returns whether the stream was flowing at some point."""
        logger.info("Connecting to MASTER %s:%d", self.host, self.port)
        self.connecting = True
        self.hooks.link_changed()
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), self.connect_timeout_s
        )
        self._writer = writer
        self.connecting = False
        self.last_io_monotonic = time.monotonic()
        logger.info("MASTER <-> REPLICA sync started")
        hs = self.handshake = ReplicaHandshake(self.hooks.handshake_options())
        self.hooks.link_changed()
        writer.write(hs.initiate().data)
        rdb = bytearray()
        while True:
            event = hs.next_event()
            if event is NEED_DATA:
                data = await reader.read(READ_BYTES)
                if not data:
                    raise LinkError("connection closed by the primary during the handshake")
                self.last_io_monotonic = time.monotonic()
                self.input_bytes += len(data)
                hs.receive_data(data)
                continue
            if isinstance(event, Send):
                writer.write(event.data)
            elif isinstance(event, FullResync):
                logger.info("Full resync from master: %s:%d", event.replid, event.offset)
                self.hooks.full_resync(event.replid, event.offset)
                self.hooks.link_changed()
            elif isinstance(event, TransferStarted):
                shown = "EOF mark" if event.size is None else f"{event.size} bytes"
                logger.info("MASTER <-> REPLICA sync: receiving %s from master", shown)
            elif isinstance(event, SnapshotData):
                rdb += event.data
            elif isinstance(event, SnapshotDone):
                await self._load(rdb, hs)
                rdb = bytearray()
                self.offset = self.read_offset = hs.initial_offset
                self._go_up(full=True, replid=hs.primary_replid)
                # The first ACK at once: a diskless primary starts the stream on it.
                self.send_ack()
                break
            elif isinstance(event, Continue):
                logger.info("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.")
                self.offset = self.read_offset = hs.options.psync_offset - 1
                self._go_up(full=False, replid=event.replid)
                break
            elif isinstance(event, Failed):
                raise LinkError(event.reason)
        await self._stream(reader, hs.trailing_data())
        return True

    async def _load(self, rdb: bytes | bytearray, hs: ReplicaHandshake) -> None:
        logger.info("MASTER <-> REPLICA sync: Loading DB in memory (%d bytes)", len(rdb))
        newlines = asyncio.get_running_loop().create_task(self._newlines())
        self._loading = True
        try:
            ok = await self.hooks.load_snapshot(rdb)
        finally:
            self._loading = False
            self.last_io_monotonic = time.monotonic()
            newlines.cancel()
        if not ok:
            raise LinkError("failed loading the snapshot received from the master")
        logger.info("MASTER <-> REPLICA sync: Finished with success")

    async def _newlines(self) -> None:
        """While loading: a newline a second, so the primary does not time us out."""
        while True:
            await asyncio.sleep(1)
            self._write(b"\n")

    def _go_up(self, *, full: bool, replid: str | None) -> None:
        self.up = True
        self.hooks.link_up(self, full, replid)
        self.hooks.link_changed()

    # --- the stream ---

    async def _stream(self, reader: asyncio.StreamReader, first: bytes) -> None:
        parser = RESPParser()
        parser.from_primary = True
        unapplied = bytearray()
        data = first
        while True:
            if data:
                self._apply_chunk(parser, unapplied, data)
            data = await reader.read(READ_BYTES)
            if not data:
                raise LinkError("connection with master lost")
            self.last_io_monotonic = time.monotonic()
            self.input_bytes += len(data)

    def _apply_chunk(self, parser: RESPParser, unapplied: bytearray, data: bytes) -> None:
        self.read_offset += len(data)
        parser.feed(data)
        unapplied += data
        start = self.offset
        apply = self.hooks.apply
        while True:
            argv = parser.maybe_next_command()
            if argv is None:
                break
            if apply(argv):
                # At a boundary: everything received but not buffered is applied.
                self.offset = self.read_offset - parser.buffered_bytes()
        applied = self.offset - start
        if applied:
            self.hooks.applied(bytes(unapplied[:applied]))
            del unapplied[:applied]

"""The replica's side of the replication handshake, sans-IO: bytes in, events out.

No sockets here (h11's shape). The link task in replica.py feeds what it reads from the
primary into `receive_data`, writes the bytes of every `Send` event, and acts on the other
events; "need more data" is the ordinary `NEED_DATA` return value.

The conversation, as a Redis 7.0 replica holds it (syncWithMaster in replication.c):

    -> PING                                   <- +PONG (or -NOAUTH / -NOPERM: the AUTH follows)
    -> AUTH [masteruser] masterauth           <- +OK            (only with masterauth)
    -> REPLCONF listening-port <port>         <- +OK            (an error is only logged)
    -> REPLCONF ip-address <ip>               <- +OK            (only with replica-announce-ip)
    -> REPLCONF capa eof capa psync2          <- +OK            (an error is only logged)
    -> PSYNC <replid> <offset> | PSYNC ? -1
       <- "\\n"* then +FULLRESYNC <replid> <offset>, "\\n"*, then $<len>\\r\\n<rdb>
                 or $EOF:<40 bytes mark>\\r\\n<rdb><mark>
       <- +CONTINUE [<replid>]                 then the stream, no snapshot
       <- -NOMASTERLINK / -LOADING            try again later
       <- -ERR ...                            a primary without PSYNC: fall back to SYNC

AUTH and the REPLCONFs are written together after the PING reply, and their replies are read
in order. Everything after the snapshot (or after +CONTINUE) is the command stream; its first
bytes may arrive with the end of the handshake and are kept for `trailing_data`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from protocol.resp import encode_command

EOF_MARK_BYTES: Final = 40  # RDB_EOF_MARK_SIZE
REPLID_BYTES: Final = 40  # CONFIG_RUN_ID_SIZE
_MAX_LINE_BYTES: Final = 64 * 1024


class HandshakeState(enum.Enum):
    """Where the replica is in the conversation (Redis's REPL_STATE_* of the handshake)."""

    CONNECTING = "connecting"  # the TCP connection is being made; nothing sent yet
    RECEIVE_PING_REPLY = "receive_ping_reply"
    RECEIVE_AUTH_REPLY = "receive_auth_reply"
    RECEIVE_PORT_REPLY = "receive_port_reply"
    RECEIVE_IP_REPLY = "receive_ip_reply"
    RECEIVE_CAPA_REPLY = "receive_capa_reply"
    RECEIVE_PSYNC_REPLY = "receive_psync_reply"
    RECEIVE_BULK_HEADER = "receive_bulk_header"  # waiting for $<len> or $EOF:<mark>
    TRANSFER = "transfer"  # reading the snapshot
    STREAMING = "streaming"  # done: what follows is the command stream
    FAILED = "failed"

    @property
    def role_state(self) -> str:
        """The state ROLE shows for a replica at this point."""
        if self is HandshakeState.CONNECTING:
            return "connecting"
        if self in (HandshakeState.RECEIVE_BULK_HEADER, HandshakeState.TRANSFER):
            return "sync"
        if self is HandshakeState.STREAMING:
            return "connected"
        if self is HandshakeState.FAILED:
            return "connect"
        return "handshake"


# --- events ---


class _NeedData:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = _NeedData()


@dataclass(frozen=True, slots=True)
class Send:
    """Bytes to write to the primary."""

    data: bytes


@dataclass(frozen=True, slots=True)
class FullResync:
    """The primary will send a snapshot. `offset` is -1 after a legacy SYNC (no PSYNC)."""

    replid: str
    offset: int


@dataclass(frozen=True, slots=True)
class Continue:
    """+CONTINUE: the stream goes on from our offset. `replid` is the primary's ID when it
    named one (PSYNC2), else None."""

    replid: str | None


@dataclass(frozen=True, slots=True)
class TransferStarted:
    """The snapshot's size in bytes, or None for the EOF-marked (diskless) form."""

    size: int | None


@dataclass(frozen=True, slots=True)
class SnapshotData:
    """A piece of the snapshot, in order."""

    data: bytes


@dataclass(frozen=True, slots=True)
class SnapshotDone:
    """The whole snapshot was received; the command stream follows."""


@dataclass(frozen=True, slots=True)
class Failed:
    """The handshake cannot go on. `retry_later`: a transient refusal (the primary is loading
    or has no link to its own primary)."""

    reason: str
    retry_later: bool = False


Event = Send | FullResync | Continue | TransferStarted | SnapshotData | SnapshotDone | Failed


@dataclass(frozen=True, slots=True)
class HandshakeOptions:
    """What the replica announces and asks for.

    Attributes:
        listening_port: `replica-announce-port`, else our port.
        announce_ip: `replica-announce-ip` ("" sends no REPLCONF ip-address).
        masterauth / masteruser: credentials for AUTH (None: no AUTH).
        psync_replid / psync_offset: the history we have and the first byte we lack;
            "?" and -1 ask for a full resync.
    """

    listening_port: int
    announce_ip: str = ""
    masterauth: bytes | None = None
    masteruser: bytes | None = None
    psync_replid: str = "?"
    psync_offset: int = -1


class ReplicaHandshake:
    """The handshake and snapshot transfer of one connection to a primary.

    Use `initiate()` once connected, then `receive_data(data)` for each read followed by
    `next_event()` until it returns NEED_DATA.
    """

    def __init__(self, options: HandshakeOptions) -> None:
        self.options = options
        self.state = HandshakeState.CONNECTING
        self._buf = bytearray()
        self._events: list[Event] = []
        self._eof_mark: bytes | None = None
        self._held = b""  # EOF form: received bytes that may be the start of the mark
        self.transfer_size = -1  # -1 until known (and for the EOF form)
        self.transfer_read = 0
        self.primary_replid = ""
        self.initial_offset = -1

    # --- input ---

    def initiate(self) -> Send:
        """The first command, once the TCP connection is made."""
        if self.state is not HandshakeState.CONNECTING:
            raise RuntimeError("initiate() called twice")
        self.state = HandshakeState.RECEIVE_PING_REPLY
        return Send(encode_command([b"PING"]))

    def receive_data(self, data: bytes) -> None:
        """Bytes read from the primary."""
        if self.state is HandshakeState.TRANSFER and self._eof_mark is None and not self._buf:
            self._transfer_sized(data)
            return
        self._buf += data

    def trailing_data(self) -> bytes:
        """In STREAMING: the bytes received past the handshake (the start of the stream)."""
        data = bytes(self._buf)
        self._buf.clear()
        return data

    # --- output ---

    def next_event(self) -> Event | _NeedData:
        """The next event, or NEED_DATA when more bytes must be read first."""
        while not self._events:
            if not self._step():
                return NEED_DATA
        return self._events.pop(0)

    def _step(self) -> bool:
        """Advance by one unit of input; False when nothing more can be done now."""
        state = self.state
        if state in (HandshakeState.STREAMING, HandshakeState.FAILED, HandshakeState.CONNECTING):
            return False
        if state is HandshakeState.TRANSFER:
            return self._transfer()
        line = self._line()
        if line is None:
            return False
        if self.state is HandshakeState.FAILED:
            return True
        if state is HandshakeState.RECEIVE_PING_REPLY:
            self._on_ping_reply(line)
        elif state is HandshakeState.RECEIVE_AUTH_REPLY:
            if line.startswith(b"-"):
                self._fail(f"Unable to AUTH to MASTER: {_text(line)}")
            else:
                self.state = HandshakeState.RECEIVE_PORT_REPLY
        elif state is HandshakeState.RECEIVE_PORT_REPLY:
            # An error is only logged by Redis (old primaries lack listening-port).
            self.state = (
                HandshakeState.RECEIVE_IP_REPLY
                if self.options.announce_ip
                else HandshakeState.RECEIVE_CAPA_REPLY
            )
        elif state is HandshakeState.RECEIVE_IP_REPLY:
            self.state = HandshakeState.RECEIVE_CAPA_REPLY
        elif state is HandshakeState.RECEIVE_CAPA_REPLY:
            self._send_psync()
        elif state is HandshakeState.RECEIVE_PSYNC_REPLY:
            self._on_psync_reply(line)
        elif state is HandshakeState.RECEIVE_BULK_HEADER:
            self._on_bulk_header(line)
        return True

    def _line(self) -> bytes | None:
        """One reply line without its CRLF (a lone "\\n" keep-alive gives b"")."""
        buf = self._buf
        end = buf.find(b"\n")
        if end < 0:
            if len(buf) > _MAX_LINE_BYTES:
                self._fail("Protocol error: a handshake reply line is too long")
                return b""
            return None
        line = bytes(buf[:end])
        del buf[: end + 1]
        if line.endswith(b"\r"):
            line = line[:-1]
        return line

    def _fail(self, reason: str, retry_later: bool = False) -> None:
        self.state = HandshakeState.FAILED
        self._events.append(Failed(reason, retry_later))

    # --- the steps ---

    def _on_ping_reply(self, line: bytes) -> None:
        if not line:
            return  # a keep-alive newline
        # +PONG, or an authentication error that the AUTH below will fix.
        if not (
            line.startswith(b"+")
            or line.startswith(b"-NOAUTH")
            or line.startswith(b"-NOPERM")
            or line.startswith(b"-ERR operation not permitted")
        ):
            self._fail(f"Error reply to PING from master: '{_text(line)}'")
            return
        options = self.options
        out: list[bytes] = []
        if options.masterauth is not None:
            argv = [b"AUTH"]
            if options.masteruser:
                argv.append(options.masteruser)
            argv.append(options.masterauth)
            out.append(encode_command(argv))
        out.append(encode_command([b"REPLCONF", b"listening-port", b"%d" % options.listening_port]))
        if options.announce_ip:
            out.append(encode_command([b"REPLCONF", b"ip-address", options.announce_ip.encode()]))
        out.append(encode_command([b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]))
        self._events.append(Send(b"".join(out)))
        self.state = (
            HandshakeState.RECEIVE_AUTH_REPLY
            if options.masterauth is not None
            else HandshakeState.RECEIVE_PORT_REPLY
        )

    def _send_psync(self) -> None:
        options = self.options
        offset = b"%d" % options.psync_offset
        self._events.append(Send(encode_command([b"PSYNC", options.psync_replid.encode(), offset])))
        self.state = HandshakeState.RECEIVE_PSYNC_REPLY

    def _on_psync_reply(self, line: bytes) -> None:
        if not line:
            return  # the primary keeps the link alive while it prepares the snapshot
        if line.startswith(b"+FULLRESYNC"):
            words = line.split(b" ")
            if len(words) >= 3 and len(words[1]) == REPLID_BYTES:
                self.primary_replid = words[1].decode("ascii", "replace")
                try:
                    self.initial_offset = int(words[2])
                except ValueError:
                    self.initial_offset = -1
            else:
                # Redis blanks the ID so that the next PSYNC cannot match anything.
                self.primary_replid = ""
                self.initial_offset = -1
            self._events.append(FullResync(self.primary_replid, self.initial_offset))
            self.state = HandshakeState.RECEIVE_BULK_HEADER
            return
        if line.startswith(b"+CONTINUE"):
            rest = line[9:].strip()
            replid = rest.decode("ascii", "replace") if len(rest) == REPLID_BYTES else None
            self._events.append(Continue(replid))
            self.state = HandshakeState.STREAMING
            return
        if line.startswith(b"-NOMASTERLINK") or line.startswith(b"-LOADING"):
            self._fail(
                f"Master is currently unable to PSYNC but should be in the future: {_text(line)}",
                retry_later=True,
            )
            return
        # A primary that does not know PSYNC (or refuses it): the legacy SYNC.
        self._events.append(Send(b"SYNC\r\n"))
        self._events.append(FullResync("", -1))
        self.primary_replid = ""
        self.initial_offset = -1
        self.state = HandshakeState.RECEIVE_BULK_HEADER

    def _on_bulk_header(self, line: bytes) -> None:
        if not line:
            return  # keep-alive newlines while the primary makes the snapshot
        if line.startswith(b"-"):
            self._fail(f"MASTER aborted replication with an error: {_text(line)}")
            return
        if not line.startswith(b"$"):
            self._fail(f"Bad protocol from MASTER, the first byte is not '$': {_text(line)}")
            return
        if line.startswith(b"$EOF:") and len(line) >= 5 + EOF_MARK_BYTES:
            self._eof_mark = line[5 : 5 + EOF_MARK_BYTES]
            self.transfer_size = 0
            self._events.append(TransferStarted(None))
        else:
            try:
                size = int(line[1:])
            except ValueError:
                self._fail(f"Bad bulk length from MASTER: {_text(line)}")
                return
            if size < 0:
                self._fail(f"Bad bulk length from MASTER: {_text(line)}")
                return
            self.transfer_size = size
            self._events.append(TransferStarted(size))
        self.state = HandshakeState.TRANSFER
        if self._eof_mark is None and self.transfer_size == 0:
            self._finish_transfer()

    def _transfer(self) -> bool:
        buf = self._buf
        if not buf:
            return False
        if self._eof_mark is None:
            data = bytes(buf)
            buf.clear()
            self._transfer_sized(data)
            return True
        mark = self._eof_mark
        data = self._held + bytes(buf)
        buf.clear()
        if data.endswith(mark):
            payload = data[:-EOF_MARK_BYTES]
            self._held = b""
            if payload:
                self._emit(payload)
            self._finish_transfer()
            return True
        keep = min(len(data), EOF_MARK_BYTES)
        self._held = data[len(data) - keep :]
        if len(data) > keep:
            self._emit(data[: len(data) - keep])
        return True

    def _transfer_sized(self, data: bytes) -> None:
        remaining = self.transfer_size - self.transfer_read
        if len(data) <= remaining:
            if data:
                self._emit(data)
            if len(data) == remaining:
                self._finish_transfer()
            return
        self._emit(data[:remaining])
        self._buf += data[remaining:]
        self._finish_transfer()

    def _emit(self, data: bytes) -> None:
        self.transfer_read += len(data)
        self._events.append(SnapshotData(data))

    def _finish_transfer(self) -> None:
        if self._eof_mark is not None:
            self.transfer_size = self.transfer_read
        self._events.append(SnapshotDone())
        self.state = HandshakeState.STREAMING


def _text(line: bytes) -> str:
    return line.decode("utf-8", "replace")

"""The append-only file: reading AOF files (with or without an RDB preamble), writing the incr
file, and rewriting a base, in Redis 7's formats.

No sockets and no server state. Commands reach the keyspace only through the `execute`
function the caller passes (the server gives one that runs argv through dispatch with a
loading client), so this module never imports the command table.

Strategy (reading): an AOF is RESP multibulk requests, optionally preceded by an RDB (a base
written with `aof-use-rdb-preamble yes`, or an old single-file AOF with a preamble), with
`#` annotation lines (`#TS:<unix time>`) allowed between commands. The reader follows
loadSingleAppendOnlyFile: running out of bytes inside a command is a *truncation*, reported
with the offset of the end of the last complete command (the caller may cut the file there
if it is the last one and `aof-load-truncated` is on); any other surprise (a line that does
not start with '*' or '$', a count below 1) is a *format error* that names file and offset.
A MULTI without its EXEC at the end is undone as if it had been truncated.

Strategy (writing): the write stream's encoded effects are appended to an in-memory buffer;
the server decides when to `write()` it (before replies leave) and when to fsync (every
batch for `always`, once a second for `everysec`). `AOFWriter` only keeps the offsets that
make those decisions possible: appended, written and fsynced bytes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import IO, Any, Final

from persistence.building import DEFAULT_LIMITS, EncodingLimits
from persistence.format import AUX_MCMETA
from persistence.mcmeta import encode_mcmeta
from persistence.rdb import RDBAux, RDBLoader, write_rdb
from protocol.resp import encode_command
from storage.hashes import HashValue
from storage.keyspace import Keyspace
from storage.lists import ListValue
from storage.sets import SetValue
from storage.zset import ZSet

logger = logging.getLogger(__name__)

Execute = Callable[[list[bytes]], None]

ITEMS_PER_COMMAND: Final = 64  # AOF_REWRITE_ITEMS_PER_CMD
MCMETA_CHANNEL: Final = b"__duocache:mcmeta"  # memcached flags/CAS effect


def mcmeta_effect(key: bytes, flags: int, cas: int) -> list[bytes]:
    """`PUBLISH __duocache:mcmeta "<flags> <cas> <key>"`: the write stream's form of a memcached
    item's flags and CAS (server/memcache_meta.py; one message, as PUBLISH takes one)."""
    return [b"PUBLISH", MCMETA_CHANNEL, b"%d %d %b" % (flags, cas, key)]


def parse_mcmeta_message(message: bytes) -> tuple[bytes, int, int] | None:
    """(key, flags, cas) from such a message, or None when it is malformed."""
    parts = message.split(b" ", 2)
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    return parts[2], int(parts[0]), int(parts[1])


class AOFError(Exception):
    """An AOF cannot be loaded; the message names the file and the offset."""


class AOFFormatError(AOFError):
    """Bytes that are not a command where a command must start (damage, not truncation)."""

    def __init__(self, filename: str, offset: int, reason: str) -> None:
        super().__init__(
            f"Bad file format reading the append only file {filename} at offset {offset}: {reason}"
        )
        self.filename = filename
        self.offset = offset


class AOFTruncatedError(AOFError):
    """The file ends inside a command; `valid_up_to` is where the last whole command ends."""

    def __init__(self, filename: str, valid_up_to: int) -> None:
        super().__init__(
            f"Unexpected end of file reading the append only file {filename}: the last "
            f"complete command ends at offset {valid_up_to}"
        )
        self.filename = filename
        self.valid_up_to = valid_up_to


class AOFUnknownCommandError(AOFError):
    """The file holds a command this server does not know."""


# --- reading ---


def _atoi(raw: bytes) -> int:
    """C's atoi/strtol on a length line: optional spaces and sign, then digits."""
    text = raw.lstrip(b" \t")
    sign = 1
    if text[:1] in (b"-", b"+"):
        sign = -1 if text[:1] == b"-" else 1
        text = text[1:]
    end = 0
    while end < len(text) and 48 <= text[end] <= 57:
        end += 1
    return sign * int(text[:end]) if end else 0


def iter_commands(data: Any, start: int, filename: str) -> Iterator[tuple[list[bytes], int, int]]:
    """The commands of an AOF body from `start`: (argv, offset where it starts, where it ends).

    Args:
        data: bytes or an mmap.
        start: offset of the first command (after an RDB preamble, if any).
        filename: for error messages.

    Raises:
        AOFTruncatedError: the data ends inside a command.
        AOFFormatError: a command does not start with '*', an argument with '$'.
    """
    end = len(data)
    pos = start
    valid = start
    find = data.find
    while pos < end:
        c = data[pos]
        if c == 35:  # '#': an annotation line
            nl = find(b"\n", pos)
            pos = end if nl < 0 else nl + 1
            valid = pos
            continue
        if c != 42:  # '*'
            raise AOFFormatError(filename, pos, "expected '*'")
        nl = find(b"\n", pos)
        if nl < 0:
            raise AOFTruncatedError(filename, valid)
        argc = _atoi(bytes(data[pos + 1 : nl]))
        if argc < 1:
            raise AOFFormatError(filename, pos, "invalid argument count")
        p = nl + 1
        argv: list[bytes] = []
        for _ in range(argc):
            if p >= end:
                raise AOFTruncatedError(filename, valid)
            if data[p] != 36:  # '$'
                raise AOFFormatError(filename, p, "expected '$'")
            nl = find(b"\n", p)
            if nl < 0:
                raise AOFTruncatedError(filename, valid)
            size = _atoi(bytes(data[p + 1 : nl]))
            if size < 0:
                raise AOFFormatError(filename, p, "invalid bulk length")
            s = nl + 1
            e = s + size
            if e + 2 > end:
                raise AOFTruncatedError(filename, valid)
            argv.append(bytes(data[s:e]))
            p = e + 2
        yield argv, pos, p
        pos = valid = p


@dataclass(slots=True)
class AOFFileResult:
    """What loading one AOF file did."""

    commands: int = 0
    truncated_at: int | None = None  # set when the file ended inside a command
    rdb_keys: int = 0
    empty: bool = False


def load_aof_data(
    data: Any,
    filename: str,
    keyspace: Keyspace,
    execute: Execute,
    *,
    limits: EncodingLimits = DEFAULT_LIMITS,
    verify_checksum: bool = True,
    on_mcmeta: Callable[[bytes, int, int], None] | None = None,
    chunk_commands: int = 1024,
) -> Generator[int, None, AOFFileResult]:
    """Load one AOF file's bytes: an RDB preamble if it starts with REDIS, then commands.

    Yields the offset reached every `chunk_commands` commands (and through the RDB part).

    Args:
        data: the file's bytes (or an mmap).
        filename: for messages.
        keyspace: receives the RDB part directly; commands go through `execute`.
        execute: runs one argv (raise AOFUnknownCommandError for an unknown command).
        on_mcmeta: applies `PUBLISH __duocache:mcmeta "<flags> <cas> <key>"` effects instead of
            running them; None runs them as ordinary commands.

    Returns:
        AOFFileResult; `truncated_at` is not None when the tail was torn (the caller decides
        whether that is acceptable and truncates the file).

    Raises:
        AOFFormatError, AOFError: the file cannot be loaded.
        RDBFormatError: its RDB preamble is damaged.
    """
    result = AOFFileResult()
    if len(data) == 0:
        result.empty = True
        return result
    start = 0
    if bytes(data[:5]) == b"REDIS":
        loader = RDBLoader(data, limits=limits, origin=filename)
        rdb = yield from loader.load(keyspace, now_ms=None, verify_checksum=verify_checksum)
        result.rdb_keys = rdb.keys_loaded
        start = rdb.end_offset
    queued: list[list[bytes]] | None = None
    before_multi = start
    count = 0
    try:
        for argv, cmd_start, cmd_end in iter_commands(data, start, filename):
            name = argv[0].upper()
            if queued is not None and name != b"EXEC":
                if name == b"MULTI":
                    raise AOFFormatError(filename, cmd_start, "MULTI calls can not be nested")
                queued.append(argv)
                continue
            if name == b"MULTI":
                queued = []
                before_multi = cmd_start
            elif name == b"EXEC":
                if queued is None:
                    raise AOFFormatError(filename, cmd_start, "EXEC without MULTI")
                for queued_argv in queued:
                    _run(queued_argv, execute, on_mcmeta, filename)
                queued = None
            else:
                _run(argv, execute, on_mcmeta, filename)
            count += 1
            if count % chunk_commands == 0:
                yield cmd_end
    except AOFTruncatedError as e:
        result.truncated_at = before_multi if queued is not None else e.valid_up_to
    else:
        if queued is not None:
            logger.warning("Revert incomplete MULTI/EXEC transaction in AOF file %s", filename)
            result.truncated_at = before_multi
    result.commands = count
    return result


def _run(
    argv: list[bytes],
    execute: Execute,
    on_mcmeta: Callable[[bytes, int, int], None] | None,
    filename: str,
) -> None:
    if (
        on_mcmeta is not None
        and len(argv) == 3
        and argv[1] == MCMETA_CHANNEL
        and argv[0].upper() == b"PUBLISH"
    ):
        parsed = parse_mcmeta_message(argv[2])
        if parsed is None:
            logger.warning("ignoring a malformed memcached metadata record in %s", filename)
        else:
            on_mcmeta(*parsed)
        return
    try:
        execute(argv)
    except AOFUnknownCommandError:
        raise AOFUnknownCommandError(
            f"Unknown command '{argv[0].decode('utf-8', 'replace')}' reading the append only "
            f"file {filename}"
        ) from None


# --- writing the incr file ---


class AOFWriter:
    """The open incr file and the bytes waiting to be written to it.

    Offsets count bytes since this writer was opened: `appended_offset` what the write
    stream handed over, `written_offset` what reached the file with write(2),
    `synced_offset` what an fsync has made durable.
    """

    def __init__(self, path: str, fd: int, size: int) -> None:
        self.path = path
        self.name = os.path.basename(path)
        self.fd = fd
        self.start_size = size  # the file's size when opened
        self.buf = bytearray()
        self.appended_offset = 0
        self.written_offset = 0
        self.synced_offset = 0

    @classmethod
    def open(cls, path: str, *, truncate: bool = False) -> AOFWriter:
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if truncate else os.O_APPEND)
        fd = os.open(path, flags, 0o644)
        size = os.fstat(fd).st_size
        return cls(path, fd, size)

    def append(self, data: bytes) -> None:
        """The write stream's subscriber: keep the bytes until the next write."""
        self.buf += data
        self.appended_offset += len(data)

    @property
    def size(self) -> int:
        """The incr file's size once everything appended is written."""
        return self.start_size + self.appended_offset

    def take(self) -> bytes:
        """Hand the buffered bytes over (to a thread that writes them)."""
        data = bytes(self.buf)
        self.buf.clear()
        return data

    def write_all(self, data: bytes) -> None:
        """aofWrite: write until done, retrying short writes.

        Raises:
            OSError: the write failed; what was written stays counted.
        """
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            self.written_offset += n
            view = view[n:]

    def write_pending(self) -> None:
        """Write the buffer now (loop thread; `everysec` and `no`)."""
        if self.buf:
            data = self.take()
            try:
                self.write_all(data)
            except OSError:
                # Keep what did not reach the file, so a later retry writes it.
                done = self.written_offset - (self.appended_offset - len(data) - len(self.buf))
                self.buf[0:0] = data[max(done, 0) :]
                raise

    def fsync(self) -> int:
        """fdatasync the file (any thread); return the written offset it made durable."""
        target = self.written_offset
        os.fdatasync(self.fd)
        return target

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


# --- writing a base ---


def _bulk_double(score: float) -> bytes:
    """rioWriteBulkDouble: %.17g."""
    return b"%.17g" % score


def write_aof_commands(
    out: IO[bytes],
    keyspace: Keyspace,
    *,
    timestamp_s: int | None,
    mcmeta: dict[bytes, tuple[int, int]] | None = None,
) -> int:
    """rewriteAppendOnlyFileRio: the dataset as commands (SET, RPUSH, SADD, ZADD, HMSET,
    PEXPIREAT), at most 64 items per command. Returns the bytes written.

    `mcmeta` holds memcached flags and CAS of db 0 keys; each follows its key's commands as
    `PUBLISH __duocache:mcmeta "<flags> <cas> <key>"`, the write stream's form of it.
    """
    written = 0
    buf = bytearray()
    if timestamp_s is not None:
        buf += b"#TS:%d\r\n" % timestamp_s
    for db in keyspace.dbs:
        if not db.size():
            continue
        buf += encode_command([b"SELECT", b"%d" % db.index])
        for data, expires in zip(db.data, db.expires, strict=True):
            for key, value in data.items():
                t = type(value)
                if t is bytes or t is bytearray:
                    buf += encode_command([b"SET", key, bytes(value)])
                elif t is ListValue:
                    _chunked(buf, b"RPUSH", key, list(value))
                elif t is SetValue:
                    _chunked(buf, b"SADD", key, list(value))
                elif t is HashValue:
                    _chunked(buf, b"HMSET", key, [x for kv in value.items() for x in kv], 2)
                elif t is ZSet:
                    items = [
                        x for score, member in value.by_score for x in (_bulk_double(score), member)
                    ]
                    _chunked(buf, b"ZADD", key, items, 2)
                deadline = expires.get(key) if expires else None
                if deadline is not None:
                    buf += encode_command([b"PEXPIREAT", key, b"%d" % deadline])
                if mcmeta and db.index == 0:
                    meta = mcmeta.get(key)
                    if meta is not None:
                        buf += encode_command(mcmeta_effect(key, meta[0], meta[1]))
                if len(buf) > 1 << 20:
                    out.write(buf)
                    written += len(buf)
                    buf.clear()
    out.write(buf)
    return written + len(buf)


def _chunked(buf: bytearray, name: bytes, key: bytes, items: list[bytes], width: int = 1) -> None:
    step = ITEMS_PER_COMMAND * width
    for i in range(0, len(items), step):
        buf += encode_command([name, key, *items[i : i + step]])


def write_base(
    out: IO[bytes],
    keyspace: Keyspace,
    *,
    rdb_preamble: bool,
    aux: RDBAux,
    compress: bool,
    checksum: bool,
    timestamp_s: int | None = None,
    mcmeta: dict[bytes, tuple[int, int]] | None = None,
) -> int:
    """A base file: an RDB (with `aof-base` set) or commands. Returns its size."""
    if rdb_preamble:
        aux.aof_base = True
        extra = [(AUX_MCMETA, encode_mcmeta(mcmeta))] if mcmeta else None
        writer = write_rdb(
            out, keyspace, aux, compress=compress, checksum=checksum, extra_aux=extra
        )
        return writer.written_bytes
    return write_aof_commands(out, keyspace, timestamp_s=timestamp_s, mcmeta=mcmeta)

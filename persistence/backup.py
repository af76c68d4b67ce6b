"""Backups for users: fetch a snapshot from a running server, and seed a data directory.

`fetch_snapshot` speaks the replication protocol's snapshot transfer, as `redis-cli --rdb`
does, so it works remotely against Duocache, redis-server or a managed Redis that allows
SYNC: optional AUTH, `REPLCONF rdb-only 1`, then `SYNC`; the server answers with newline
keep-alives while it prepares the snapshot, then `$<len>\\r\\n<len bytes>` (or, from a
diskless primary, `$EOF:<40-byte mark>\\r\\n<bytes><mark>`). The bytes go to a temp file that
is fsynced and renamed over the target only once complete and valid.

`install_snapshot` validates an RDB file completely (every value, the checksum) before
copying it into place atomically, so a bad file never replaces a good one.

Progress is reported through a callback; `ProgressLine` prints one line on stderr every N%.
"""

from __future__ import annotations

import mmap
import os
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Final

from persistence.codecs import RDBFormatError
from persistence.manifest import fsync_dir
from persistence.rdb import RDBLoader, RDBLoadResult

EOF_MARK_BYTES: Final = 40
CHUNK_BYTES: Final = 1 << 20

Progress = Callable[[int, int], None]  # (bytes done, total bytes or 0 when unknown)


class BackupError(Exception):
    """The snapshot could not be fetched or is not valid."""


class ProgressLine:
    """Prints `<label>: 40% (4194304 of 10485760 bytes)` on stderr every `step` percent
    (every 16 MB when the total is unknown)."""

    def __init__(self, label: str, step_percent: int = 10, out: IO[str] | None = None) -> None:
        self.label = label
        self.step = max(1, step_percent)
        self.out = out if out is not None else sys.stderr
        self._next_percent = self.step
        self._next_bytes = 16 << 20

    def __call__(self, done: int, total: int) -> None:
        if total:
            percent = done * 100 // total
            if percent >= self._next_percent or done == total:
                self.out.write(f"{self.label}: {percent}% ({done} of {total} bytes)\n")
                self.out.flush()
                self._next_percent = (percent // self.step + 1) * self.step
        elif done >= self._next_bytes:
            self.out.write(f"{self.label}: {done} bytes\n")
            self.out.flush()
            self._next_bytes = done + (16 << 20)


def _no_progress(done: int, total: int) -> None:
    return None


# --- fetching ---


class _Conn:
    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout_s)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def send(self, *args: bytes) -> None:
        parts = [b"*%d\r\n" % len(args)]
        parts.extend(b"$%d\r\n%b\r\n" % (len(a), a) for a in args)
        self.sock.sendall(b"".join(parts))

    def _fill(self) -> None:
        chunk = self.sock.recv(CHUNK_BYTES)
        if not chunk:
            raise BackupError("the server closed the connection")
        self.buf += chunk

    def line(self) -> bytes:
        while b"\n" not in self.buf:
            self._fill()
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r")

    def read_some(self, limit: int) -> bytes:
        if not self.buf:
            self._fill()
        data, self.buf = self.buf[:limit], self.buf[limit:]
        return data


def fetch_snapshot(
    host: str,
    port: int,
    path: str,
    *,
    password: str | None = None,
    user: str | None = None,
    timeout_s: float = 60.0,
    progress: Progress = _no_progress,
) -> int:
    """Fetch a snapshot of a running server into `path`; return its size in bytes.

    Raises:
        BackupError: authentication, the transfer or the file failed (nothing is replaced).
        OSError: the connection or the file system failed.
    """
    conn = _Conn(host, port, timeout_s)
    temp = f"{path}.part-{os.getpid()}"
    try:
        if password is not None:
            if user:
                conn.send(b"AUTH", user.encode(), password.encode())
            else:
                conn.send(b"AUTH", password.encode())
            reply = conn.line()
            if not reply.startswith(b"+"):
                raise BackupError(f"AUTH failed: {reply.decode(errors='replace')}")
        conn.send(b"REPLCONF", b"rdb-only", b"1")
        conn.line()  # older servers refuse it; the transfer works all the same
        conn.sock.sendall(b"SYNC\r\n")
        header = b""
        while not header:
            header = conn.line()  # empty lines are keep-alives while the snapshot is made
        if header.startswith(b"-"):
            raise BackupError(f"SYNC refused: {header[1:].decode(errors='replace')}")
        if not header.startswith(b"$"):
            raise BackupError(f"unexpected reply to SYNC: {header[:64]!r}")
        with open(temp, "wb") as out:
            if header.startswith(b"$EOF:"):
                size = _read_until_mark(conn, out, header[5:], progress)
            else:
                size = _read_exactly(conn, out, int(header[1:]), progress)
            out.flush()
            os.fsync(out.fileno())
        validate_snapshot(temp)
        os.replace(temp, path)
        fsync_dir(os.path.dirname(os.path.abspath(path)))
        return size
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    finally:
        conn.close()


def _read_exactly(conn: _Conn, out: IO[bytes], size: int, progress: Progress) -> int:
    done = 0
    progress(0, size)
    while done < size:
        data = conn.read_some(min(CHUNK_BYTES, size - done))
        out.write(data)
        done += len(data)
        progress(done, size)
    return size


def _read_until_mark(conn: _Conn, out: IO[bytes], mark: bytes, progress: Progress) -> int:
    if len(mark) != EOF_MARK_BYTES:
        raise BackupError("invalid EOF mark in the SYNC reply")
    tail = b""
    done = 0
    while True:
        data = tail + conn.read_some(CHUNK_BYTES)
        if data.endswith(mark):
            out.write(data[: -len(mark)])
            done += len(data) - len(mark)
            progress(done, done)
            return done
        keep = EOF_MARK_BYTES
        out.write(data[:-keep])
        done += max(len(data) - keep, 0)
        tail = data[-keep:]
        progress(done, 0)


# --- validating and installing ---


@dataclass(slots=True)
class SnapshotSummary:
    size_bytes: int
    version: int
    keys: int
    redis_ver: str


def validate_snapshot(path: str, progress: Progress = _no_progress) -> SnapshotSummary:
    """Parse a whole RDB file (every value and the checksum) without keeping it.

    Raises:
        BackupError: the file is not an RDB Duocache can load, with the reason.
    """
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            raise BackupError(f"{path} is empty")
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            loader = RDBLoader(data, origin=os.path.basename(path))
            gen = loader.load(None)
            result: RDBLoadResult
            while True:
                try:
                    progress(next(gen), size)
                except StopIteration as stop:
                    result = stop.value
                    break
        except RDBFormatError as e:
            raise BackupError(str(e)) from None
        finally:
            data.close()
    progress(size, size)
    if result.end_offset != size:
        raise BackupError(
            f"{path}: {size - result.end_offset} unexpected bytes after the end of the RDB"
        )
    version = result.aux.get(b"redis-ver", b"").decode(errors="replace")
    return SnapshotSummary(size, result.version, result.keys_loaded, version)


def install_snapshot(
    source: str,
    directory: str,
    dbfilename: str = "dump.rdb",
    *,
    progress: Progress = _no_progress,
) -> SnapshotSummary:
    """Validate `source`, then copy it to `directory/dbfilename` atomically.

    Raises:
        BackupError: the file is not valid (nothing was changed).
        OSError: the copy failed (the previous file, if any, is intact).
    """
    summary = validate_snapshot(source, progress)
    os.makedirs(directory, exist_ok=True)
    target = os.path.join(directory, dbfilename)
    temp = os.path.join(directory, f"temp-restore-{os.getpid()}.rdb")
    try:
        with open(source, "rb") as src, open(temp, "wb") as dst:
            while True:
                chunk = src.read(CHUNK_BYTES)
                if not chunk:
                    break
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(temp, target)
        fsync_dir(directory)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    return summary


def backup_file_name(now_s: float | None = None) -> str:
    """`dump-YYYYmmdd-HHMMSS.rdb`: the name scheduled backups use."""
    return time.strftime("dump-%Y%m%d-%H%M%S.rdb", time.localtime(now_s))

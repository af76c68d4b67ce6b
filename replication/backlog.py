"""The replication backlog: a byte ring buffer addressed by replication offset.

Pure data structure: no I/O, no server state. It holds the most recent `size_bytes` bytes of
the replication stream so a replica that lost its link can continue from where it stopped
(`PSYNC <replid> <offset>` answered with `+CONTINUE`) instead of loading a whole snapshot.

Offsets are Redis's: the stream's bytes are numbered from 1, `master_repl_offset` is the
number of the last byte produced, and a replica asks for the first byte it has not got
(its own offset + 1). A backlog created when the stream is at offset N starts empty with
`first_offset` N + 1 (createReplicationBacklog); it then holds bytes `first_offset ..
first_offset + histlen - 1`, and can serve any request from `first_offset` up to
`first_offset + histlen` (the latter meaning "nothing to send yet").

Strategy (memory): the ring grows on demand up to `size_bytes`, as Redis 7 allocates its
replication buffer in blocks, so a large `repl-backlog-size` costs nothing until the stream
fills it. Once full, new bytes overwrite the oldest ones.
"""

from __future__ import annotations

from typing import Final

_MIN_CAPACITY: Final = 16 * 1024
MIN_BACKLOG_BYTES: Final = 16 * 1024  # CONFIG_REPL_BACKLOG_MIN_SIZE


class ReplicationBacklog:
    """The last `size_bytes` bytes of the replication stream.

    Attributes:
        size_bytes: the most the backlog keeps (`repl-backlog-size`).
        first_offset: the offset of the oldest byte held (repl_backlog_first_byte_offset).
        histlen: how many bytes are held (repl_backlog_histlen).
    """

    __slots__ = ("_buf", "_start", "first_offset", "histlen", "size_bytes")

    def __init__(self, size_bytes: int, next_offset: int) -> None:
        """Create an empty backlog.

        Args:
            size_bytes: the capacity; values below 16 KiB are raised to 16 KiB (as Redis does).
            next_offset: the offset the next byte of the stream will have
                (`master_repl_offset + 1`).
        """
        self.size_bytes = max(size_bytes, MIN_BACKLOG_BYTES)
        self.first_offset = next_offset
        self.histlen = 0
        self._buf = bytearray(min(self.size_bytes, _MIN_CAPACITY))
        self._start = 0  # index in _buf of the byte at first_offset

    @property
    def end_offset(self) -> int:
        """The offset of the last byte held (first_offset - 1 when empty)."""
        return self.first_offset + self.histlen - 1

    def append(self, data: bytes | bytearray | memoryview) -> None:
        """Add bytes at the end of the stream, dropping the oldest ones beyond the capacity."""
        n = len(data)
        if not n:
            return
        size = self.size_bytes
        if n >= size:
            # Only the newest `size` bytes survive.
            self.first_offset += self.histlen + n - size
            self.histlen = size
            self._buf = bytearray(memoryview(data)[n - size :])
            self._start = 0
            return
        needed = self.histlen + n
        capacity = len(self._buf)
        if needed > capacity and capacity < size:
            self._grow(min(size, max(needed, capacity * 2)))
            capacity = len(self._buf)
        buf = self._buf
        end = (self._start + self.histlen) % capacity
        first = min(n, capacity - end)
        buf[end : end + first] = memoryview(data)[:first]
        if first < n:
            buf[: n - first] = memoryview(data)[first:]
        if needed > capacity:
            dropped = needed - capacity
            self._start = (self._start + dropped) % capacity
            self.first_offset += dropped
            self.histlen = capacity
        else:
            self.histlen = needed

    def _grow(self, capacity: int) -> None:
        held = self._linear()
        buf = bytearray(capacity)
        buf[: len(held)] = held
        self._buf = buf
        self._start = 0

    def _linear(self) -> bytes:
        buf = self._buf
        end = self._start + self.histlen
        if end <= len(buf):
            return bytes(buf[self._start : end])
        return bytes(buf[self._start :]) + bytes(buf[: end - len(buf)])

    def covers(self, offset: int) -> bool:
        """Whether a replica asking for `offset` (its first missing byte) can be served."""
        return self.first_offset <= offset <= self.first_offset + self.histlen

    def read_from(self, offset: int) -> bytes:
        """The bytes from `offset` to the end of the stream.

        Raises:
            ValueError: `offset` is outside what `covers` accepts.
        """
        if not self.covers(offset):
            raise ValueError(f"offset {offset} is not in the backlog")
        skip = offset - self.first_offset
        count = self.histlen - skip
        if not count:
            return b""
        buf = self._buf
        start = (self._start + skip) % len(buf)
        end = start + count
        if end <= len(buf):
            return bytes(buf[start:end])
        return bytes(buf[start:]) + bytes(buf[: end - len(buf)])

    def resize(self, size_bytes: int) -> None:
        """Change the capacity (CONFIG SET repl-backlog-size), keeping the newest bytes."""
        size_bytes = max(size_bytes, MIN_BACKLOG_BYTES)
        if size_bytes == self.size_bytes:
            return
        held = self._linear()
        if len(held) > size_bytes:
            self.first_offset += len(held) - size_bytes
            held = held[len(held) - size_bytes :]
        self.size_bytes = size_bytes
        self.histlen = len(held)
        self._buf = bytearray(max(min(size_bytes, _MIN_CAPACITY), len(held)))
        self._buf[: len(held)] = held
        self._start = 0

    @property
    def allocated_bytes(self) -> int:
        """Memory held by the ring (INFO memory: mem_replication_backlog)."""
        return len(self._buf)

"""The replication backlog: the last bytes of the replication stream, addressed by offset.

Pure data structure: no I/O, no server state. It holds the most recent `size_bytes` bytes of
the replication stream so a replica that lost its link can continue from where it stopped
(`PSYNC <replid> <offset>` answered with `+CONTINUE`) instead of loading a whole snapshot.

Offsets are Redis's: the stream's bytes are numbered from 1, `master_repl_offset` is the
number of the last byte produced, and a replica asks for the first byte it has not got
(its own offset + 1). A backlog created when the stream is at offset N starts empty with
`first_offset` N + 1 (createReplicationBacklog); it then holds bytes `first_offset ..
first_offset + histlen - 1`, and can serve any request from `first_offset` up to
`first_offset + histlen` (the latter meaning "nothing to send yet").

Strategy (memory and speed): appends are the hot path (one per propagated effect), so the
bytes live in one `bytearray` that only grows at its end, which CPython does in amortized
constant time, and the oldest bytes are cut off in one `del` once the buffer holds a quarter
more than the capacity (so each byte is moved at most a few times). Logically the backlog is
a ring of `size_bytes`: it never serves more than the newest `size_bytes` bytes. Memory grows
with the stream, up to 1.25 times the capacity, so a large `repl-backlog-size` costs nothing
until the stream fills it (Redis 7 also allocates its replication buffer on demand).
"""

from __future__ import annotations

from typing import Final

MIN_BACKLOG_BYTES: Final = 16 * 1024  # CONFIG_REPL_BACKLOG_MIN_SIZE
_SLACK_MIN_BYTES: Final = 16 * 1024


class ReplicationBacklog:
    """The last `size_bytes` bytes of the replication stream.

    Attributes:
        size_bytes: the most the backlog keeps (`repl-backlog-size`).
        first_offset: the offset of the oldest byte held (repl_backlog_first_byte_offset).
        histlen: how many bytes are held (repl_backlog_histlen).
    """

    __slots__ = ("_buf", "_buf_offset", "_limit", "first_offset", "histlen", "size_bytes")

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
        self._buf = bytearray()
        self._buf_offset = next_offset  # the offset of _buf[0]
        self._limit = self.size_bytes + max(self.size_bytes // 4, _SLACK_MIN_BYTES)

    @property
    def end_offset(self) -> int:
        """The offset of the last byte held (first_offset - 1 when empty)."""
        return self.first_offset + self.histlen - 1

    def append(self, data: bytes | bytearray | memoryview) -> None:
        """Add bytes at the end of the stream, dropping the oldest ones beyond the capacity."""
        buf = self._buf
        buf += data
        held = self.histlen + len(data)
        if held > self.size_bytes:
            self.first_offset += held - self.size_bytes
            held = self.size_bytes
        self.histlen = held
        if len(buf) > self._limit:
            cut = len(buf) - held
            del buf[:cut]
            self._buf_offset += cut

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
        return bytes(self._buf[offset - self._buf_offset :])

    def resize(self, size_bytes: int) -> None:
        """Change the capacity (CONFIG SET repl-backlog-size), keeping the newest bytes."""
        size_bytes = max(size_bytes, MIN_BACKLOG_BYTES)
        self.size_bytes = size_bytes
        self._limit = size_bytes + max(size_bytes // 4, _SLACK_MIN_BYTES)
        if self.histlen > size_bytes:
            self.first_offset += self.histlen - size_bytes
            self.histlen = size_bytes
        cut = self.first_offset - self._buf_offset
        if cut:
            del self._buf[:cut]
            self._buf_offset += cut

    @property
    def allocated_bytes(self) -> int:
        """Memory held by the buffer (INFO memory: mem_replication_backlog)."""
        return len(self._buf)

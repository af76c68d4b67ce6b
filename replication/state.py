"""Replication history: the replication IDs, the offset, the backlog, and PSYNC's decision.

Pure logic (no I/O, no server state), unit-tested without sockets. A server holds one
`ReplicationState` whatever its role; the primary side asks it whether a `PSYNC` can continue
and the replica side updates it as the stream is applied.

Strategy (PSYNC2, as Redis's replication.c):

* `replid` names the history the dataset belongs to; `master_repl_offset` counts the bytes of
  that history's stream (only while a backlog exists, as Redis counts only what it feeds).
* `replid2` / `second_replid_offset` remember the previous history after a promotion
  (`shift_replid`): a replica of the old primary that asks `PSYNC <old id> <n>` with
  `n <= second_replid_offset` has the same bytes as us up to there and may continue.
* A replica's request is accepted when its id is `replid` (or `replid2` within range) and the
  backlog still holds everything from the requested offset (masterTryPartialResynchronization).
* Creating a backlog from nothing starts a new history (a fresh `replid`, no `replid2`),
  because nothing can continue from before it; so does freeing it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Final

from replication.backlog import ReplicationBacklog

NO_REPLID: Final = "0" * 40


def new_replid() -> str:
    """A random 40-character hex replication ID."""
    return secrets.token_hex(20)


@dataclass(slots=True, frozen=True)
class PsyncDecision:
    """What to do with `PSYNC <replid> <offset>`.

    Attributes:
        partial: True: answer +CONTINUE and send `backlog_data`; False: full resync.
        backlog_data: the backlog from the requested offset (partial only).
        reason: why a partial resync was refused ("" when accepted, "?" when the replica
            asked for a full resync itself).
    """

    partial: bool
    backlog_data: bytes = b""
    reason: str = ""


class ReplicationState:
    """One server's replication history (Redis's server.replid / replid2 / offsets / backlog)."""

    __slots__ = (
        "backlog",
        "backlog_size",
        "master_repl_offset",
        "replid",
        "replid2",
        "second_replid_offset",
    )

    def __init__(self, backlog_size: int, replid: str | None = None) -> None:
        self.replid = replid or new_replid()
        self.replid2 = NO_REPLID
        self.master_repl_offset = 0
        self.second_replid_offset = -1
        self.backlog: ReplicationBacklog | None = None
        self.backlog_size = backlog_size

    # --- the stream ---

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Account for bytes of the stream (a no-op without a backlog, as in Redis)."""
        backlog = self.backlog
        if backlog is None:
            return
        backlog.append(data)
        self.master_repl_offset += len(data)

    # --- IDs ---

    def change_replid(self) -> None:
        """Start a new history under a fresh ID (changeReplicationId)."""
        self.replid = new_replid()

    def clear_replid2(self) -> None:
        """Forget the previous history (clearReplicationId2)."""
        self.replid2 = NO_REPLID
        self.second_replid_offset = -1

    def shift_replid(self) -> None:
        """A replica becomes a primary: keep the inherited history as ID2, valid up to the
        next byte, and start a new one (shiftReplicationId)."""
        self.replid2 = self.replid
        self.second_replid_offset = self.master_repl_offset + 1
        self.change_replid()

    def adopt_primary_id(self, replid: str) -> None:
        """+CONTINUE named a new ID for our primary's history (it was promoted): keep ours as
        ID2 up to the next byte, so our own replicas can continue too."""
        if replid == self.replid:
            return
        self.replid2 = self.replid
        self.second_replid_offset = self.master_repl_offset + 1
        self.replid = replid

    def reset_to(self, replid: str, offset: int) -> None:
        """After a full resync: the primary's history, from its offset, with a new backlog."""
        self.replid = replid
        self.master_repl_offset = offset
        self.clear_replid2()
        self.backlog = ReplicationBacklog(self.backlog_size, offset + 1)

    # --- backlog ---

    def create_backlog(self, *, new_history: bool) -> None:
        """Create an empty backlog starting at the next byte.

        Args:
            new_history: a primary creating its first backlog takes a new ID and clears
                ID2, since nothing from before can be continued.
        """
        if self.backlog is not None:
            return
        if new_history:
            self.change_replid()
            self.clear_replid2()
        self.backlog = ReplicationBacklog(self.backlog_size, self.master_repl_offset + 1)

    def free_backlog(self) -> None:
        """Drop the backlog (repl-backlog-ttl ran out): a new ID, no ID2."""
        self.change_replid()
        self.clear_replid2()
        self.backlog = None

    def discard_backlog(self) -> None:
        """Drop the backlog without touching the IDs (a replica about to full-resync)."""
        self.backlog = None

    def resize_backlog(self, size_bytes: int) -> None:
        self.backlog_size = size_bytes
        if self.backlog is not None:
            self.backlog.resize(size_bytes)

    # --- PSYNC ---

    def try_partial(self, replid: str, offset: int) -> PsyncDecision:
        """masterTryPartialResynchronization's decision for `PSYNC replid offset`.

        Args:
            replid: the ID the replica names ("?" asks for a full resync).
            offset: the first byte the replica lacks (its own offset + 1).

        Returns:
            The decision; when partial, the backlog bytes to send after +CONTINUE.
        """
        lowered = replid.lower()
        if lowered != self.replid and (
            lowered != self.replid2 or offset > self.second_replid_offset
        ):
            if replid.startswith("?"):
                return PsyncDecision(False, reason="?")
            if lowered not in (self.replid, self.replid2):
                return PsyncDecision(False, reason="replication ID mismatch")
            return PsyncDecision(False, reason="offset past the second ID")
        backlog = self.backlog
        if backlog is None or not backlog.covers(offset):
            return PsyncDecision(False, reason="lack of backlog")
        return PsyncDecision(True, backlog.read_from(offset))

"""Per-client state and the context a handler runs in.

One `CommandContext` lives as long as its connection and is reused for every command (no
allocation per command on the hot path); dispatch resets the per-command fields.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from storage.keyspace import Database

if TYPE_CHECKING:
    from server.app import App
    from server.blocking import Waiter
    from server.commands.table import CommandSpec


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


# A handler's reply value meaning "send nothing" (CLIENT REPLY OFF, SUBSCRIBE pushes its own).
NO_REPLY: Final = _Marker("NO_REPLY")
REPLY_ON: Final = _Marker("ON")
REPLY_OFF: Final = _Marker("OFF")
REPLY_SKIP: Final = _Marker("SKIP")
# Dispatch's answer when the command must wait (CLIENT PAUSE): the connection keeps argv and
# runs it again when `App` resumes the client.
POSTPONED: Final = _Marker("POSTPONED")


class CommandContext:
    """A client, as the command handlers see it.

    Per-command fields: `dirty` (how many changes the command made; a write is propagated
    only when it is > 0) and `rewritten` (the argvs to propagate instead of the command's own,
    set through `propagate`).
    """

    __slots__ = (
        "addr",
        "app",
        "authenticated",
        "blocked",
        "close_after_reply",
        "closed",
        "created_s",
        "current_spec",
        "db",
        "dirty",
        "dirty_cas",
        "fast_path",
        "fd",
        "flags",
        "held",
        "id",
        "is_primary_link",
        "is_replica",
        "kill",
        "laddr",
        "last_command",
        "last_interaction_s",
        "lib_name",
        "lib_ver",
        "mark_ns",
        "multi",
        "multi_error",
        "name",
        "no_evict",
        "no_touch",
        "push",
        "reply_mode",
        "resp3",
        "rewritten",
        "subscribed",
        "transport",
        "unblocked",
        "user",
        "watched",
        "woff",
    )

    def __init__(self, app: App, client_id: int, addr: str = "", laddr: str = "") -> None:
        self.app = app
        self.id = client_id
        self.addr = addr
        self.laddr = laddr
        self.db: Database = app.keyspace.dbs[0]
        self.dirty = 0
        self.rewritten: list[list[bytes]] | None = None
        self.current_spec: CommandSpec | None = None
        # Dispatch's fast path is open for this client; None: never (see dispatch's Strategy).
        self.fast_path: bool | None = None
        self.mark_ns = 0  # the fast path's clock: when the current command's time started
        self.resp3 = False
        self.authenticated = not app.config["requirepass"]
        self.user = b"default"
        self.name = b""
        self.lib_name = b""
        self.lib_ver = b""
        self.created_s = time.time()
        self.last_interaction_s = self.created_s
        self.last_command = b"NULL"
        self.multi: list[tuple[CommandSpec, list[bytes]]] | None = None
        self.multi_error = False
        # WATCH: (db index, key) -> whether the key was already expired when watched.
        self.watched: dict[tuple[int, bytes], bool] = {}
        self.dirty_cas = False  # a watched key changed: EXEC will answer a null array
        self.reply_mode = REPLY_ON  # CLIENT REPLY ON | OFF | SKIP
        self.close_after_reply = False
        self.closed = False
        self.is_primary_link = False
        self.is_replica = False
        # The replication offset after this client's last command (WAIT waits for it).
        self.woff = 0
        self.no_evict = False
        self.no_touch = False
        self.flags = ""
        self.fd = -1  # the socket's descriptor (CLIENT LIST), set by the connection
        # While CLIENT PAUSE holds this client: the callback that resumes it.
        self.held: Callable[[], None] | None = None
        self.subscribed = 0  # channels + patterns + shard channels
        # Set by the connection: write a server-initiated frame (pub/sub, MONITOR).
        self.push: Callable[[Any], None] = _discard
        # Set by the connection: drop it (CLIENT KILL, timeouts).
        self.kill: Callable[[], None] = _nothing
        # Parked by a blocking command (server/blocking.py), else None.
        self.blocked: Waiter | None = None
        # Set by the connection: deliver a parked command's reply and resume the client's
        # pipeline. None (no connection to resume) means the client never blocks.
        self.unblocked: Callable[[Any], None] | None = None
        # Set by the connection: its transport, for raw transfers (SYNC sends an RDB).
        self.transport: Any = None

    def begin_command(self, spec: CommandSpec) -> None:
        """Reset the per-command fields."""
        self.dirty = 0
        self.rewritten = None
        self.current_spec = spec

    @property
    def db_index(self) -> int:
        return self.db.index

    def propagate(self, argv: list[bytes]) -> None:
        """Propagate `argv` instead of the command as received (call once per effect)."""
        if self.rewritten is None:
            self.rewritten = [argv]
        else:
            self.rewritten.append(argv)

    def notify(self, type_class: str, event: bytes, key: bytes) -> None:
        """Emit a keyspace notification (`type_class` is one of Redis's K/E class letters)."""
        app = self.app
        if app.notify_classes:
            app.notify_keyspace_event(type_class, event, key, self.db.index)


def _discard(frame: Any) -> None:
    return None


def _nothing() -> None:
    return None

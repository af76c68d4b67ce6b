"""The primary's side of snapshot transfers: REPLCONF and SYNC.

What is here serves `redis-cli --rdb`, `duocache backup` and any client that wants a snapshot
over the replication protocol: REPLCONF records the options a replica announces, and SYNC
answers with `$<len>\\r\\n` followed by the RDB (no trailing CRLF), made by a forked child
(server/durability.py, SyncTransfer). A client that sent `REPLCONF rdb-only 1` is closed
after the file, as Redis does.

Extension point for replication: `SYNC_STREAM` (None here) is called with the client once its
RDB has been sent when it is not rdb-only; the replication work installs the function that
turns the client into a replica fed from the write stream (and adds PSYNC). Until then such
a client is closed after the file.
"""

from __future__ import annotations

from collections.abc import Callable

from protocol.resp import OK, split_inline
from server.commands.args import int_arg
from server.commands.table import Flag, Reply, command
from server.context import NO_REPLY, CommandContext
from server.durability import SyncTransfer, durability_of
from server.errors import (
    ERR_RANGE_0_1,
    ERR_REPLCONF_FILTER,
    ERR_REPLCONF_FILTER_MISSING,
    ERR_REPLCONF_IP_TOO_LONG,
    ERR_REPLCONF_OPTION,
    ERR_SYNC_PENDING_OUTPUT,
    ERR_SYNTAX,
    CommandError,
)

# Installed by replication: stream the write stream to a client that synced (not rdb-only).
SYNC_STREAM: Callable[[CommandContext], None] | None = None

NET_HOST_STR_LEN = 256

# What each client announced, by client id (cleared when it disconnects).
_ANNOUNCED: dict[int, dict[str, object]] = {}


def announced(ctx: CommandContext) -> dict[str, object]:
    """The REPLCONF options a client sent (listening-port, ip-address, capa, rdb-only...)."""
    found = _ANNOUNCED.get(ctx.id)
    if found is None:
        found = _ANNOUNCED[ctx.id] = {"capa": set()}
        hooks = ctx.app.client_close_hooks
        if _forget not in hooks:
            hooks.append(_forget)
    return found


def _forget(ctx: CommandContext) -> None:
    _ANNOUNCED.pop(ctx.id, None)


@command(
    "REPLCONF",
    arity=-1,
    flags=Flag.ADMIN | Flag.NOSCRIPT | Flag.LOADING | Flag.STALE | Flag.ALLOW_BUSY,
    group="server",
    since="3.0.0",
)
def replconf_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """REPLCONF"""
    if len(argv) % 2 == 0:
        raise CommandError(ERR_SYNTAX)
    state = announced(ctx)
    for j in range(1, len(argv), 2):
        option = argv[j].lower()
        value = argv[j + 1]
        if option == b"listening-port":
            state["listening-port"] = int_arg(value)
        elif option == b"ip-address":
            if len(value) >= NET_HOST_STR_LEN:
                raise CommandError(ERR_REPLCONF_IP_TOO_LONG % len(value))
            state["ip-address"] = value
        elif option == b"capa":
            capa = value.lower()
            if capa in (b"eof", b"psync2"):
                state["capa"].add(capa)  # type: ignore[attr-defined]
        elif option == b"ack":
            # Replicas send ACKs; nobody gets a reply to one (replconfCommand returns early).
            return NO_REPLY
        elif option == b"getack":
            return NO_REPLY
        elif option == b"rdb-only":
            flag = int_arg(value)
            if flag < 0 or flag > 1:
                raise CommandError(ERR_RANGE_0_1)
            state["rdb-only"] = flag == 1
        elif option == b"rdb-filter-only":
            filters = split_inline(value)
            if filters is None:
                raise CommandError(ERR_REPLCONF_FILTER_MISSING)
            for word in filters:
                if word.lower() != b"functions":
                    shown = word.decode("utf-8", "surrogateescape")
                    raise CommandError(ERR_REPLCONF_FILTER % shown)
            state["rdb-filter-only"] = [w.lower() for w in filters]
        else:
            shown = argv[j].decode("utf-8", "surrogateescape")
            raise CommandError(ERR_REPLCONF_OPTION % shown)
    return OK


@command(
    "SYNC",
    arity=1,
    flags=Flag.NO_ASYNC_LOADING | Flag.ADMIN | Flag.NO_MULTI | Flag.NOSCRIPT,
    group="server",
)
def sync_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SYNC"""
    if ctx.is_replica:
        return NO_REPLY
    transport = ctx.transport
    if transport is None:
        raise CommandError(ERR_SYNC_PENDING_OUTPUT)
    state = announced(ctx)
    rdb_only = bool(state.get("rdb-only", False))
    ctx.is_replica = True
    durability_of(ctx.app).request_sync(
        SyncTransfer(ctx, transport, rdb_only=rdb_only, after=SYNC_STREAM)
    )
    return NO_REPLY

"""Replication commands: REPLCONF, SYNC, PSYNC, REPLICAOF / SLAVEOF, WAIT, ROLE (and SCRIPT
KILL, which Sentinel sends to a busy primary).

The work is in server/replication.py (the server's replication state) and replication/ (the
handshake, the backlog and both ends of the stream); the handlers here parse arguments in
Redis's order and answer with Redis's errors.

REPLCONF records the options a replica announces (listening-port, ip-address, capa,
rdb-only, rdb-filter-only); ACK updates what a replica of ours has applied and GETACK, from
our own primary, makes us acknowledge at once. SYNC (legacy: `redis-cli --replica`, `--rdb`)
and PSYNC attach the client as a replica: `+CONTINUE` from the backlog, or `+FULLRESYNC`
and a snapshot.
"""

from __future__ import annotations

import logging

from protocol.resp import OK, SimpleString, split_inline, string2ll
from server.app import LOADERS, App
from server.commands.args import int_arg
from server.commands.table import COMMANDS, Flag, Reply, command, container
from server.context import NO_REPLY, CommandContext
from server.errors import (
    ERR_INVALID_MASTER_PORT,
    ERR_NOTBUSY,
    ERR_RANGE_0_1,
    ERR_REPLCONF_FILTER,
    ERR_REPLCONF_FILTER_MISSING,
    ERR_REPLCONF_IP_TOO_LONG,
    ERR_REPLCONF_OPTION,
    ERR_REPLICAOF_CLUSTER,
    ERR_REPLICAOF_FROM_REPLICA,
    ERR_SYNTAX,
    ERR_TIMEOUT_NEGATIVE,
    ERR_TIMEOUT_NOT_INTEGER,
    ERR_WAIT_ON_REPLICA,
    CommandError,
)
from server.replication import replication_of
from server.replication_info import role_reply

logger = logging.getLogger(__name__)

NET_HOST_STR_LEN = 256


# --- startup ---


async def _start_link(app: App) -> bool:
    # After the dataset is loaded (LOADERS run in order; persistence's loader is earlier).
    replication_of(app).start_from_config()
    return True


LOADERS.append(_start_link)


# --- REPLCONF, SYNC, PSYNC ---


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
    state = replication_of(ctx.app).announced(ctx)
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
            # Only from a replica of ours; nobody ever gets a reply to an ACK.
            offset = string2ll(value)
            if ctx.is_replica and offset is not None:
                replication_of(ctx.app).ack(ctx, offset)
            return NO_REPLY
        elif option == b"getack":
            # From our primary: acknowledge at once, with the offset before this command.
            if ctx.is_primary_link:
                replication_of(ctx.app).send_ack()
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


_SYNC_FLAGS = Flag.NO_ASYNC_LOADING | Flag.ADMIN | Flag.NO_MULTI | Flag.NOSCRIPT


@command("SYNC", arity=1, flags=_SYNC_FLAGS, group="server")
def sync_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SYNC"""
    return replication_of(ctx.app).sync(ctx, None)


@command("PSYNC", arity=-3, flags=_SYNC_FLAGS, group="server", since="2.8.0")
def psync_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """PSYNC replicationid offset"""
    return replication_of(ctx.app).sync(ctx, (argv[1], argv[2]))


# --- REPLICAOF ---

_REPLICAOF_FLAGS = Flag.NO_ASYNC_LOADING | Flag.ADMIN | Flag.NOSCRIPT | Flag.STALE


def _replicaof(ctx: CommandContext, argv: list[bytes]) -> Reply:
    app = ctx.app
    if app.config["cluster-enabled"]:
        raise CommandError(ERR_REPLICAOF_CLUSTER)
    repl = replication_of(app)
    host, raw_port = argv[1], argv[2]
    if host.lower() == b"no" and raw_port.lower() == b"one":
        if app.is_replica:
            repl.become_primary()
            logger.info("MASTER MODE enabled (user request from '%s')", ctx.addr)
        return OK
    if ctx.is_replica:
        raise CommandError(ERR_REPLICAOF_FROM_REPLICA)
    port = int_arg(raw_port, ERR_INVALID_MASTER_PORT)
    if port < 0 or port > 65535:
        raise CommandError(ERR_INVALID_MASTER_PORT)
    shown = host.decode("utf-8", "surrogateescape")
    if (
        app.is_replica
        and repl.primary_host is not None
        and repl.primary_host.lower() == shown.lower()
        and repl.primary_port == port
    ):
        logger.info(
            "REPLICAOF would result into synchronization with the master we are already "
            "connected with. No operation performed."
        )
        return SimpleString(b"OK Already connected to specified master")
    repl.replicate_from(shown, port)
    logger.info("REPLICAOF %s:%d enabled (user request from '%s')", shown, port, ctx.addr)
    return OK


@command("REPLICAOF", arity=3, flags=_REPLICAOF_FLAGS, group="server", since="5.0.0")
def replicaof_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """REPLICAOF host port"""
    return _replicaof(ctx, argv)


@command("SLAVEOF", arity=3, flags=_REPLICAOF_FLAGS, group="server")
def slaveof_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SLAVEOF host port"""
    return _replicaof(ctx, argv)


# --- WAIT, ROLE ---


@command("WAIT", arity=3, flags=Flag.NOSCRIPT, acl=("connection",), since="3.0.0")
def wait_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """WAIT numreplicas timeout"""
    if ctx.app.is_replica:
        raise CommandError(ERR_WAIT_ON_REPLICA)
    repl = replication_of(ctx.app)
    replicas = int_arg(argv[1])
    timeout_ms = int_arg(argv[2], ERR_TIMEOUT_NOT_INTEGER)
    if timeout_ms < 0:
        raise CommandError(ERR_TIMEOUT_NEGATIVE)
    return repl.wait(ctx, replicas, timeout_ms)


# WAIT parks its client (a Block) though Redis does not flag it "blocking" in COMMAND INFO:
# tell dispatch without changing the flags it reports.
COMMANDS[b"WAIT"].is_blocking = True


@command(
    "ROLE",
    arity=1,
    flags=Flag.NOSCRIPT | Flag.LOADING | Flag.STALE | Flag.FAST | Flag.SENTINEL,
    acl=("admin", "dangerous"),
    group="server",
    since="2.8.12",
)
def role_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ROLE"""
    return role_reply(replication_of(ctx.app))


# --- SCRIPT KILL ---

container("SCRIPT", group="scripting", since="2.6.0")


@command(
    "SCRIPT|KILL",
    arity=2,
    flags=Flag.NOSCRIPT | Flag.ALLOW_BUSY,
    acl=("scripting",),
    group="scripting",
    since="2.6.0",
)
def script_kill_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SCRIPT KILL"""
    # Duocache runs no scripts, so none is ever busy (Sentinel sends this to a -BUSY primary).
    raise CommandError(ERR_NOTBUSY)

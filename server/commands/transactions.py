"""Transaction commands (Redis group "transactions"): MULTI, EXEC, DISCARD, WATCH, UNWATCH.

Dispatch queues commands between MULTI and EXEC into `ctx.multi` and answers QUEUED; a
command rejected while queueing marks `ctx.multi_error`. EXEC runs the queue through
`dispatch.call`, so statistics, WATCH signalling and propagation work as for any command,
and the App sends the transaction's effects as one unit (MULTI, effects, EXEC when there are
several). WATCH bookkeeping lives in server/multi.py.
"""

from __future__ import annotations

from typing import Any

from protocol.resp import NULL_ARRAY, OK, RawReply, encode_reply
from server import dispatch  # a module reference: dispatch imports this package in turn
from server.commands.table import CommandSpec, Flag, Reply, command
from server.context import NO_REPLY, CommandContext
from server.errors import (
    ERR_DISCARD_NO_MULTI,
    ERR_EXEC_NO_MULTI,
    ERR_EXECABORT,
    ERR_LOADING,
    ERR_MASTERDOWN,
    ERR_MULTI_NESTED,
    ERR_READONLY,
    ERR_WATCH_IN_MULTI,
    CommandError,
)
from server.multi import (
    discard_transaction,
    exec_abort,
    unwatch_all_keys,
    watch_key,
    watched_key_expired,
)

_TX = Flag.NOSCRIPT | Flag.LOADING | Flag.STALE | Flag.FAST | Flag.ALLOW_BUSY


@command("MULTI", arity=1, flags=_TX, acl=("transaction",), group="transactions", since="1.2.0")
def multi_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """MULTI"""
    if ctx.multi is not None:
        raise CommandError(ERR_MULTI_NESTED)
    ctx.multi = []
    return OK


@command("DISCARD", arity=1, flags=_TX, acl=("transaction",), group="transactions", since="2.0.0")
def discard_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """DISCARD"""
    if ctx.multi is None:
        raise CommandError(ERR_DISCARD_NO_MULTI)
    discard_transaction(ctx)
    return OK


@command(
    "WATCH",
    arity=-2,
    flags=_TX,
    keys=(1, -1, 1),
    acl=("transaction",),
    group="transactions",
    since="2.2.0",
)
def watch_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """WATCH key [key ...]"""
    if ctx.multi is not None:
        raise CommandError(ERR_WATCH_IN_MULTI)
    # A client already doomed to fail its EXEC has nothing to gain from watching more.
    if not ctx.dirty_cas:
        db = ctx.db
        for key in argv[1:]:
            watch_key(ctx, db, key)
    return OK


@command("UNWATCH", arity=1, flags=_TX, acl=("transaction",), group="transactions", since="2.2.0")
def unwatch_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """UNWATCH"""
    unwatch_all_keys(ctx)
    ctx.dirty_cas = False
    return OK


def _exec_refusal(ctx: CommandContext, queued: list[tuple[CommandSpec, list[bytes]]]) -> str | None:
    """The checks processCommand makes for EXEC with the flags of the queued commands: a
    transaction that writes is refused on a read-only replica or when a write guard (OOM,
    MISCONF, NOREPLICAS) says no, one with a command not allowed while loading is
    refused while loading, and one with a command not allowed on a replica whose link is
    down gets MASTERDOWN (replica-serve-stale-data no), even though each command was
    accepted when queued."""
    app = ctx.app
    if not (app.guards_active or app.is_replica or app.loading):
        return None
    if app.loading and not all(spec.allow_loading for spec, _ in queued):
        return ERR_LOADING
    for spec, _ in queued:
        if not (spec.is_write or spec.denyoom):
            continue
        if app.guards_active:
            refusal = app.write_refusal(ctx, spec)
            if refusal is not None:
                return refusal
        if spec.is_write and app.is_replica and app.replica_read_only and not ctx.is_primary_link:
            return ERR_READONLY
    if app.deny_stale and not ctx.is_primary_link and not all(s.allow_stale for s, _ in queued):
        return ERR_MASTERDOWN
    return None


@command(
    "EXEC",
    arity=1,
    flags=Flag.NOSCRIPT | Flag.LOADING | Flag.STALE | Flag.SKIP_SLOWLOG,
    acl=("transaction",),
    group="transactions",
    since="1.2.0",
)
def exec_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """EXEC"""
    queued = ctx.multi
    if queued is None:
        raise CommandError(ERR_EXEC_NO_MULTI)
    if ctx.watched and not ctx.dirty_cas and watched_key_expired(ctx):
        ctx.dirty_cas = True
    if ctx.multi_error or ctx.dirty_cas:
        queue_error = ctx.multi_error
        discard_transaction(ctx)
        if queue_error:
            raise CommandError(ERR_EXECABORT)
        return NULL_ARRAY
    refusal = _exec_refusal(ctx, queued)
    if refusal is not None:
        raise CommandError(exec_abort(ctx, refusal).text)

    app = ctx.app
    exec_spec = ctx.current_spec
    unwatch_all_keys(ctx)  # as early as possible: the transaction's own writes must not count
    # Frames the queued commands push to this client (subscribe confirmations, messages it
    # publishes to itself) go inside EXEC's reply, where Redis writes them.
    pushed: list[tuple[int, Any]] = []
    replies: list[Reply] = []
    own_push = ctx.push
    ctx.push = lambda frame: pushed.append((len(replies), frame))
    app.in_exec = True
    try:
        for spec, cmd_argv in queued:
            replies.append(dispatch.call(ctx, spec, cmd_argv))
    finally:
        app.in_exec = False
        ctx.push = own_push
        discard_transaction(ctx)
        # call() left the last queued command's state; EXEC itself propagates nothing.
        ctx.dirty = 0
        ctx.rewritten = None
        ctx.current_spec = exec_spec
    # The transaction's effects leave now, as one unit, before anything the hooks cause.
    app.flush_effects()
    for hook in app.after_exec_hooks:
        hook(ctx)
    if not pushed and all(reply is not NO_REPLY for reply in replies):
        return replies
    return _encode_with_pushes(ctx, replies, pushed)


def _encode_with_pushes(
    ctx: CommandContext, replies: list[Reply], pushed: list[tuple[int, Any]]
) -> RawReply:
    """EXEC's array header counts the commands; pushed frames sit before the reply of the
    command that pushed them, and commands without a reply (SUBSCRIBE) add none, exactly
    as Redis writes them into the client's buffer."""
    resp3 = ctx.resp3
    out = [b"*%d\r\n" % len(replies)]
    j = 0
    for i, reply in enumerate(replies):
        while j < len(pushed) and pushed[j][0] == i:
            out.append(encode_reply(pushed[j][1], resp3))
            j += 1
        if reply is not NO_REPLY:
            out.append(encode_reply(reply, resp3))
    return RawReply(b"".join(out))

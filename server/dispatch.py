"""execute(ctx, argv): the Redis checks in Redis's order, the handler, and propagation.

Order (processCommand in Redis 7.0's server.c): lookup, arity, auth, refused-in-MULTI,
OOM, READONLY on a replica, subscribed-mode restrictions, LOADING, queueing inside MULTI,
then the call. A rejection inside MULTI marks the transaction so EXEC answers EXECABORT.

After the call: a write that changed something (`ctx.dirty > 0`) signals its keys (WATCH,
memcached CAS) and goes to the write stream as the command itself or as the effects the
handler chose with `ctx.propagate`.

A blocking command that must wait returns a `Block`: at the top level (`execute`) the client
is parked (server/blocking.py); in a nested call (EXEC, scripts) it gets the command's
non-blocking answer instead. After every top-level command, clients blocked on keys that
command made ready are served (Redis's handleClientsBlockedOnKeys). Code that runs commands
on behalf of another command (EXEC, EVAL) must use `call`, never `execute`.
"""

from __future__ import annotations

import logging
import time
from typing import Final

from protocol.resp import QUEUED, RespError
from server.blocking import Block
from server.commands.table import COMMANDS, CommandSpec, Reply, lookup
from server.context import POSTPONED, CommandContext
from server.errors import (
    ERR_INTERNAL,
    ERR_LOADING,
    ERR_NOAUTH,
    ERR_NOT_ALLOWED_IN_MULTI,
    ERR_ONLY_IN_SUBSCRIBE,
    ERR_READONLY,
    CommandError,
    err_arity,
    err_unknown_command,
    err_unknown_subcommand,
    storage_error_text,
)
from server.multi import exec_abort
from storage.errors import StorageError

logger = logging.getLogger(__name__)

# Commands that run at once inside MULTI instead of being queued.
_MULTI_IMMEDIATE: Final = frozenset({"exec", "discard", "multi", "watch", "quit", "reset"})
# Commands a RESP2 client may send while subscribed.
_SUBSCRIBED_ALLOWED: Final = frozenset(
    {
        "ping",
        "subscribe",
        "ssubscribe",
        "unsubscribe",
        "sunsubscribe",
        "psubscribe",
        "punsubscribe",
        "quit",
        "reset",
    }
)

# Commands that may lazily expire arbitrary keys: their DELs are not wrapped in MULTI/EXEC
# (Redis's CMD_TOUCHES_ARBITRARY_KEYS).
_NO_WRAP: Final = frozenset({"scan", "randomkey"})

# Set by tests: an unexpected exception in a handler fails the suite.
internal_errors: list[BaseException] = []


def resolve(argv: list[bytes]) -> CommandSpec | str:
    """The spec for argv, or the error text for an unknown command or bad arity."""
    spec = COMMANDS.get(argv[0])
    if spec is None:
        spec = COMMANDS.get(argv[0].upper())
        if spec is None:
            return err_unknown_command(argv)
    if spec.subcommands and len(argv) > 1:
        sub = spec.subcommands.get(argv[1].upper())
        if sub is None:
            return err_unknown_subcommand(argv[1], spec.name)
        spec = sub
    arity = spec.arity
    n = len(argv)
    if (arity > 0 and n != arity) or n < -arity:
        return err_arity(spec.name)
    return spec


def execute(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """Run one command for a client and return its reply value."""
    spec = COMMANDS.get(argv[0])
    if (
        spec is None
        or spec.subcommands
        or (spec.arity > 0 and len(argv) != spec.arity)
        or len(argv) < -spec.arity
    ):
        resolved = resolve(argv)
        if type(resolved) is str:
            if argv[0].upper() == b"EXEC":
                return _reject(ctx, COMMANDS.get(b"EXEC"), resolved)
            # An arity error still counts as a rejected call of that command (commandstats).
            return _reject(ctx, lookup(argv), resolved)
        spec = resolved  # type: ignore[assignment]
    assert spec is not None
    app = ctx.app

    if not ctx.authenticated and not spec.no_auth:
        return _reject(ctx, spec, ERR_NOAUTH)
    if ctx.multi is not None and spec.no_multi:
        return _reject(ctx, spec, ERR_NOT_ALLOWED_IN_MULTI)
    if app.guards_active and (
        spec.is_write
        or spec.denyoom
        or (ctx.multi is not None and spec.name not in _MULTI_IMMEDIATE)
    ):
        refusal = app.write_refusal(ctx, spec)
        if refusal is not None:
            return _reject(ctx, spec, refusal)
    if app.is_replica and spec.is_write and app.replica_read_only and not ctx.is_primary_link:
        return _reject(ctx, spec, ERR_READONLY)
    if ctx.subscribed and not ctx.resp3 and spec.name not in _SUBSCRIBED_ALLOWED:
        return _reject(ctx, spec, ERR_ONLY_IN_SUBSCRIBE % spec.name)
    if app.loading and not spec.allow_loading:
        return _reject(ctx, spec, ERR_LOADING)
    # CLIENT PAUSE: the client waits, its command unrun, until the pause ends (processCommand
    # blocks it before MULTI queueing). The connection holds argv and runs it again later.
    if app.pause_end is not None and app.pause_holds(ctx, spec):
        return POSTPONED

    if ctx.multi is not None and spec.name not in _MULTI_IMMEDIATE:
        ctx.multi.append((spec, argv))
        return QUEUED
    reply = call(ctx, spec, argv, True)
    if app.blocking.ready:
        app.blocking.handle_ready_keys()
    return reply


def call(ctx: CommandContext, spec: CommandSpec, argv: list[bytes], top: bool = False) -> Reply:
    """Run a resolved, admitted command (also used by EXEC and the AOF loader).

    `top` is True only for a client's own command (from `execute`): only then may a
    blocking command park the client.
    """
    app = ctx.app
    ctx.begin_command(spec)
    started = time.perf_counter_ns()
    # Effects are collected until the outermost call ends (App.propagate's strategy).
    app.call_depth += 1
    try:
        try:
            if ctx.no_touch and spec.name != "touch":
                # CLIENT NO-TOUCH: reads by this client leave LRU/LFU data as they are.
                app.keyspace.no_touch = True
                try:
                    reply = spec.handler(ctx, argv)
                finally:
                    app.keyspace.no_touch = False
            else:
                reply = spec.handler(ctx, argv)
        except CommandError as e:
            reply = RespError(e.text)
            spec.failed_calls += 1
            app.stats_error(e.text)
        except StorageError as e:
            text = storage_error_text(e)
            reply = RespError(text)
            spec.failed_calls += 1
            app.stats_error(text)
        except Exception as e:
            logger.exception("internal error running %r", spec.name)
            internal_errors.append(e)
            reply = RespError(ERR_INTERNAL)
            spec.failed_calls += 1
        if spec.is_blocking and type(reply) is Block:
            reply = app.blocking.block(ctx, reply) if top else reply.denied_reply
        elapsed_ns = time.perf_counter_ns() - started
        spec.calls += 1
        spec.usec += elapsed_ns // 1000
        app.commands_processed += 1
        if elapsed_ns >= app.slow_check_ns:
            app.record_slow(ctx, spec, argv, elapsed_ns // 1000)
        # After the call, as Redis does: a transaction shows as MULTI, the queued commands,
        # then EXEC, and the line shows the db the command left selected.
        if app.monitors and not spec.hidden_from_monitor:
            app.feed_monitors(ctx, argv)
        if ctx.dirty:
            db = ctx.db
            if db.watched or db.blocked or db.keyspace.on_modified is not None:
                for i in spec.written_key_indexes(argv):
                    db.modified(argv[i])
            elif db.sized:
                # Only the memory estimate listens: a value may have grown in place, so its
                # key is re-priced, lazily (once per key however often it is written).
                if spec.single_key:
                    db.reprice_later(argv[1])
                else:
                    for i in spec.written_key_indexes(argv):
                        db.reprice_later(argv[i])
            app.dirty += ctx.dirty
            if app.feed:
                rewritten = ctx.rewritten
                if rewritten is None:
                    app.propagate(db.index, argv)
                else:
                    for effect in rewritten:
                        app.propagate(db.index, effect)
    finally:
        app.call_depth -= 1
    if app.pending_effects and not app.call_depth:
        app.flush_effects(wrap=spec.name not in _NO_WRAP)
    return reply


def _reject(ctx: CommandContext, spec: CommandSpec | None, text: str) -> RespError:
    """Redis's rejectCommand: count it, and inside MULTI mark the transaction aborted. A
    rejected EXEC, inside MULTI or not, discards any transaction at once and answers
    EXECABORT with the reason."""
    if ctx.multi is not None:
        ctx.multi_error = True
    if spec is not None:
        spec.rejected_calls += 1
        if spec.name == "exec":
            reply = exec_abort(ctx, text)
            ctx.app.stats_error(reply.text)
            return reply
    ctx.app.stats_error(text)
    return RespError(text)

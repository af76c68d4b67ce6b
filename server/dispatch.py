"""execute(ctx, argv): the Redis checks in Redis's order, the handler, and propagation.

Order (processCommand in Redis 7.0's server.c): lookup, arity, auth, refused-in-MULTI,
OOM, READONLY on a replica, subscribed-mode restrictions, LOADING, queueing inside MULTI,
then the call. A rejection inside MULTI marks the transaction so EXEC answers EXECABORT.

After the call: a write that changed something (`ctx.dirty > 0`) signals its keys (WATCH,
memcached CAS) and goes to the write stream as the command itself or as the effects the
handler chose with `ctx.propagate`.
"""

from __future__ import annotations

import logging
import time
from typing import Final

from protocol.resp import QUEUED, RespError
from server.commands.table import COMMANDS, CommandSpec, Reply
from server.context import CommandContext
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
from server.memcache_meta import intercept as intercept_memcache_meta
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
            if (ctx.is_primary_link or ctx.app.loading) and intercept_memcache_meta(ctx, argv):
                return 0  # a memcached metadata effect where PUBLISH is not registered
            return _reject(ctx, None, resolved)
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

    if ctx.multi is not None and spec.name not in _MULTI_IMMEDIATE:
        ctx.multi.append((spec, argv))
        return QUEUED
    return call(ctx, spec, argv)


def call(ctx: CommandContext, spec: CommandSpec, argv: list[bytes]) -> Reply:
    """Run a resolved, admitted command (also used by EXEC and the AOF loader)."""
    app = ctx.app
    ctx.begin_command(spec)
    if app.monitors:
        app.feed_monitors(ctx, argv)
    if (ctx.is_primary_link or app.loading) and intercept_memcache_meta(ctx, argv):
        # memcached flags and CAS travel as PUBLISH __duocache:mcmeta (server/memcache_meta.py).
        return 0
    started = time.perf_counter_ns()
    try:
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
    elapsed_ns = time.perf_counter_ns() - started
    spec.calls += 1
    spec.usec += elapsed_ns // 1000
    app.commands_processed += 1
    if elapsed_ns >= app.slowlog_threshold_ns:
        app.record_slow(ctx, argv, elapsed_ns // 1000)
    if ctx.dirty:
        db = ctx.db
        if db.watched or db.keyspace.on_modified is not None:
            for i in spec.written_key_indexes(argv):
                db.modified(argv[i])
        app.dirty += ctx.dirty
        if app.feed:
            rewritten = ctx.rewritten
            if rewritten is None:
                app.propagate(db.index, argv)
            else:
                for effect in rewritten:
                    app.propagate(db.index, effect)
    return reply


def _reject(ctx: CommandContext, spec: CommandSpec | None, text: str) -> RespError:
    """Redis's rejectCommand: count it, and inside MULTI mark the transaction aborted."""
    if ctx.multi is not None:
        ctx.multi_error = True
    if spec is not None:
        spec.rejected_calls += 1
    ctx.app.stats_error(text)
    return RespError(text)

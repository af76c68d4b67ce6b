"""execute(ctx, argv): the Redis checks in Redis's order, the handler, and propagation.

Order (processCommand in Redis 7.0's server.c): lookup, arity, auth, refused-in-MULTI,
OOM, READONLY on a replica, subscribed-mode restrictions, MASTERDOWN on a replica whose
link is down, LOADING, queueing inside MULTI, then the call. A rejection inside MULTI
marks the transaction so EXEC answers EXECABORT.

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
from time import perf_counter_ns
from typing import TYPE_CHECKING, Final

from protocol.resp import OK, QUEUED, RespError, encode_reply
from server.blocking import Block
from server.commands.table import COMMANDS, LOOKUP, CommandSpec, Reply, lookup
from server.context import POSTPONED, REPLY_ON, CommandContext
from server.errors import (
    ERR_INTERNAL,
    ERR_LOADING,
    ERR_MASTERDOWN,
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
from server.multi import exec_abort
from storage.errors import StorageError

if TYPE_CHECKING:
    from server.app import App
    from storage.keyspace import Database

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

_OK_BYTES: Final = b"+OK\r\n"

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


# Strategy (fast path): most commands meet a client and a server in their ordinary state,
# where every check of `_execute_checked` passes and `call` has nothing to do beyond the
# handler, the statistics and the write signalling. `open_fast_path` tests that state once
# per batch of input and records it in `ctx.fast_path`: the client authenticated, not in
# MULTI, not subscribed, not NO-TOUCH, not parked, replies on; the server without write
# guards (maxmemory, min-replicas, MISCONF), not a replica, not loading, not paused, no
# MONITOR. Only the client's own commands run until the batch ends, and the fast path takes
# only `plain` commands (data commands, table.py), which cannot change any of that; every
# other command takes the full path and tests the state again when it ends. So a command
# on the fast path is one that no skipped check could reject or postpone, and its body is
# `call` without the branches for NO-TOUCH, blocking replies and MONITOR: the same reply,
# statistics, slowlog, keyspace signals and propagation as on the full path.
#
# A request that comes alone (pipeline 1) does not call `open_fast_path`: the connection
# tests the server half inline and takes the client half as `ctx.fast_path` holds it. That
# value was set by the client's last batch or full-path command, and the client's state
# changes only through its own commands, none of them plain (so each ran on the full path
# and set `ctx.fast_path` again when it ended), or by other clients towards the ordinary
# state (a block served, subscriptions dropped): a stale False only sends a request round
# `_process`, which opens the path again.
#
# Two further savings, each safe for the reason given:
#
# * Timing reads the clock once per command, not twice (a clock read costs 100-200 ns on
#   the machines we measured): a command's time runs from the end of the previous one of
#   the batch (`ctx.mark_ns`, set when the path opens and after every command), so it also
#   holds the encoding of the previous reply, well under a microsecond. INFO commandstats
#   stays per command and SLOWLOG can only see a command as slower than it was, never miss
#   one.
# * `call_depth` only matters to App.propagate, which does nothing while no AOF or replica
#   listens (`app.feed` empty), and a data command cannot add a listener.


def open_fast_path(ctx: CommandContext) -> None:
    """Record whether `ctx`'s next commands may take the fast path (see the Strategy).

    The caller that feeds a client's commands calls it before each batch; a client for
    which nobody does (`ctx.fast_path` None: the AOF loader, scripts) never takes it.
    """
    app = ctx.app
    ctx.fast_path = (
        ctx.authenticated
        and ctx.multi is None
        and not ctx.subscribed
        and not ctx.no_touch
        and ctx.blocked is None
        and ctx.reply_mode is REPLY_ON
        and not ctx.close_after_reply
        and not app.guards_active
        and not app.is_replica
        and not app.loading
        and app.pause_end is None
        and not app.monitors
    )
    ctx.mark_ns = perf_counter_ns()


def execute(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """Run one command for a client, with every check, and return its reply value.

    The connection hands the commands the fast path can take to `run_fast` first.
    """
    spec = LOOKUP.get(argv[0])
    try:
        return _execute_checked(ctx, spec, argv)
    finally:
        if ctx.fast_path is not None:
            open_fast_path(ctx)  # the command may have changed the state the path needs


def run_fast(ctx: CommandContext, batch: list[list[bytes]], start: int, out: list[bytes]) -> int:
    """Run `batch[start:]` on the fast path while its commands can take it; return the index
    of the first one that cannot (`len(batch)` when all ran). Each reply is encoded and
    appended to `out`.

    The caller checks `ctx.fast_path` first. The per-batch state is read once, and a plain
    command's reply needs none of the checks the connection makes after a general command
    (a plain command cannot park or postpone the client, nor change its reply mode,
    protocol or authentication). The loop body is `call` without the branches the open
    path rules out, written out here rather than called: a call more costs every command
    of the hot path.

    While the write stream has listeners (the AOF, replicas), effects the handler causes
    (lazy-expiry DELs) are collected while it runs. A write that propagates as itself and
    caused nothing else joins `stream`, which goes to the stream in one piece
    (`App.propagate_many`) when the batch ends: the commonest write under `appendonly
    yes`. Whatever else reaches the stream first (other effects, the writes of blocked
    clients this one serves) sends `stream` before it, so the order holds.

    `run_lone` repeats this body for a request that came alone; a change to one is a change
    to both.
    """
    app = ctx.app
    fed = bool(app.feed)  # a plain command can neither add nor remove a listener
    resp3 = ctx.resp3
    append = out.append
    lookup_spec = LOOKUP.get
    ok = OK
    ok_bytes = _OK_BYTES
    stream: list[list[bytes]] = []
    i = start
    for argv in batch[start:] if start else batch:
        spec = lookup_spec(argv[0])
        if spec is None or not spec.plain or not spec.argc_min <= len(argv) <= spec.argc_max:
            break
        i += 1
        ctx.dirty = 0
        ctx.rewritten = None
        ctx.current_spec = spec
        if fed:
            app.call_depth += 1
        try:
            reply = spec.handler(ctx, argv)
        except Exception as e:
            reply = _failed(app, spec, e)
        finally:
            if fed:
                app.call_depth -= 1
        now = perf_counter_ns()
        elapsed_ns = now - ctx.mark_ns
        ctx.mark_ns = now
        spec.calls += 1
        spec.usec += elapsed_ns // 1000
        app.commands_processed += 1
        if elapsed_ns >= app.slow_check_ns:
            app.record_slow(ctx, spec, argv, elapsed_ns // 1000)
        if ctx.dirty:
            db = ctx.db
            if db.watched or db.blocked or db.sized or db.keyspace.on_modified is not None:
                _signal_written(db, spec, argv)
            app.dirty += ctx.dirty
            if fed:
                if ctx.rewritten is None and not app.pending_effects:
                    stream.append(argv)
                else:
                    _propagate_effects(ctx, spec, argv, stream)
        elif fed and app.pending_effects:
            _propagate_effects(ctx, spec, None, stream)
        if app.blocking.ready:
            if stream:
                _send_stream(ctx, stream)
            app.blocking.handle_ready_keys()
        if reply is ok:
            append(ok_bytes)
        else:
            append(encode_reply(reply, resp3))
    if stream:
        _send_stream(ctx, stream)
    if fed and i > start:
        ctx.woff = app.master_repl_offset  # WAIT waits for the replicas to reach this write
    return i


def run_lone(ctx: CommandContext, argv: list[bytes], out: list[bytes]) -> bool:
    """`run_fast` for a batch of one command, a request that came alone (pipeline 1): the
    same reply, statistics, signals and propagation, without the batch's loop and its
    per-batch state (for a lone GET, `run_fast` took 1.10 µs and this 0.84 µs). Returns
    False, having done nothing, when the command cannot take the fast path.

    The body is `run_fast`'s, one command long; a change to one is a change to both. The
    write goes to the stream at once, where `run_fast` would send a batch of one at the end.
    """
    spec = LOOKUP.get(argv[0])
    if spec is None or not spec.plain or not spec.argc_min <= len(argv) <= spec.argc_max:
        return False
    app = ctx.app
    fed = bool(app.feed)  # a plain command can neither add nor remove a listener
    ctx.dirty = 0
    ctx.rewritten = None
    ctx.current_spec = spec
    if fed:
        app.call_depth += 1
    try:
        reply = spec.handler(ctx, argv)
    except Exception as e:
        reply = _failed(app, spec, e)
    finally:
        if fed:
            app.call_depth -= 1
    now = perf_counter_ns()
    elapsed_ns = now - ctx.mark_ns
    ctx.mark_ns = now
    spec.calls += 1
    spec.usec += elapsed_ns // 1000
    app.commands_processed += 1
    if elapsed_ns >= app.slow_check_ns:
        app.record_slow(ctx, spec, argv, elapsed_ns // 1000)
    if ctx.dirty:
        db = ctx.db
        if db.watched or db.blocked or db.sized or db.keyspace.on_modified is not None:
            _signal_written(db, spec, argv)
        app.dirty += ctx.dirty
        if fed:
            if ctx.rewritten is None and not app.pending_effects:
                app.propagate_many(db.index, [argv])
            else:
                _propagate_effects(ctx, spec, argv, [])
    elif fed and app.pending_effects:
        _propagate_effects(ctx, spec, None, [])
    if app.blocking.ready:
        app.blocking.handle_ready_keys()
    out.append(_OK_BYTES if reply is OK else encode_reply(reply, ctx.resp3))
    if fed:
        ctx.woff = app.master_repl_offset  # WAIT waits for the replicas to reach this write
    return True


def _propagate_effects(
    ctx: CommandContext, spec: CommandSpec, argv: list[bytes] | None, stream: list[list[bytes]]
) -> None:
    """A fast-path command's effects other than itself as received (a rewritten write, a
    lazy-expiry DEL): the batch's kept writes first, then the effects, as one unit."""
    app = ctx.app
    if stream:
        _send_stream(ctx, stream)
    if argv is not None:  # the command wrote: it propagates as itself or as rewritten
        rewritten = ctx.rewritten
        pending = app.pending_effects
        index = ctx.db.index
        for effect in [argv] if rewritten is None else rewritten:
            pending.append((index, effect))
    app.flush_effects(wrap=spec.name not in _NO_WRAP)


def _send_stream(ctx: CommandContext, stream: list[list[bytes]]) -> None:
    """Send the batch's writes kept by `run_fast` (all in the client's database)."""
    ctx.app.propagate_many(ctx.db.index, stream)
    stream.clear()


def _execute_checked(ctx: CommandContext, spec: CommandSpec | None, argv: list[bytes]) -> Reply:
    """`execute` with every check, in Redis's order (processCommand)."""
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
    if app.deny_stale and not spec.allow_stale and not ctx.is_primary_link:
        return _reject(ctx, spec, ERR_MASTERDOWN)
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
    ctx.woff = app.master_repl_offset
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
    if (ctx.is_primary_link or app.loading) and intercept_memcache_meta(ctx, argv):
        # memcached flags and CAS travel as PUBLISH __duocache:mcmeta (server/memcache_meta.py).
        return 0
    started = perf_counter_ns()
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
        except Exception as e:
            reply = _failed(app, spec, e)
        if spec.is_blocking and type(reply) is Block:
            reply = app.blocking.block(ctx, reply) if top else reply.denied_reply
        elapsed_ns = perf_counter_ns() - started
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
            _written(ctx, spec, argv)
    finally:
        app.call_depth -= 1
    if app.pending_effects and not app.call_depth:
        app.flush_effects(wrap=spec.name not in _NO_WRAP)
    return reply


def _failed(app: App, spec: CommandSpec, e: Exception) -> RespError:
    """The reply and statistics for a handler that raised."""
    if isinstance(e, CommandError):
        text = e.text
    elif isinstance(e, StorageError):
        text = storage_error_text(e)
    else:
        logger.exception("internal error running %r", spec.name)
        internal_errors.append(e)
        spec.failed_calls += 1
        return RespError(ERR_INTERNAL)
    spec.failed_calls += 1
    app.stats_error(text)
    return RespError(text)


def _written(ctx: CommandContext, spec: CommandSpec, argv: list[bytes]) -> None:
    """A command changed something (`ctx.dirty`): signal its keys, count, propagate."""
    app = ctx.app
    db = ctx.db
    if db.watched or db.blocked or db.sized or db.keyspace.on_modified is not None:
        _signal_written(db, spec, argv)
    app.dirty += ctx.dirty
    if app.feed:
        rewritten = ctx.rewritten
        if rewritten is None:
            app.propagate(db.index, argv)
        else:
            for effect in rewritten:
                app.propagate(db.index, effect)


def _signal_written(db: Database, spec: CommandSpec, argv: list[bytes]) -> None:
    """Tell the keyspace which keys a write changed (WATCH, blocked clients, CAS, memory)."""
    if db.watched or db.blocked or db.keyspace.on_modified is not None:
        for i in spec.written_key_indexes(argv):
            db.modified(argv[i])
    elif db.sized:
        # Only the memory estimate listens: a value may have grown in place, so its key is
        # re-priced, lazily (once per key however often it is written).
        if spec.single_key:
            db.reprice_later(argv[1])
        else:
            for i in spec.written_key_indexes(argv):
                db.reprice_later(argv[i])


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

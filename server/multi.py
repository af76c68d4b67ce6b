"""WATCH bookkeeping and transaction state, as multi.c keeps them (the commands are in
server/commands/transactions.py).

A client's watched keys are `ctx.watched`: (db index, key) -> whether the key was already
expired when it was watched. Each database maps a watched key to its watchers
(`Database.watched`). The keyspace calls `touch_watched_key` when a watched key changes and
`touch_all_watched_keys` before a database is flushed or swapped; both mark the watchers
`dirty_cas`, which makes their EXEC answer a null array.

Strategy (already-expired keys): a key watched while logically expired but not yet reclaimed
is no change when it is finally reclaimed (the client saw it as absent and it still is), so
its flag is cleared instead of dirtying the client; any later write dirties as usual. A key
that was alive when watched and has expired by EXEC time dirties the client even if nothing
reclaimed it yet (Redis 7.0's isWatchedKeyExpired).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from protocol.resp import RespError
from server.errors import ERR_EXECABORT_BECAUSE

if TYPE_CHECKING:
    from server.context import CommandContext
    from storage.keyspace import Database


def watch_key(ctx: CommandContext, db: Database, key: bytes) -> None:
    """watchForKey: add `key` of `db` to the client's watched keys (once)."""
    slot = (db.index, key)
    if slot in ctx.watched:
        return
    watchers = db.watched.get(key)
    if watchers is None:
        watchers = db.watched[key] = set()
    watchers.add(ctx)
    ctx.watched[slot] = db.is_expired(key)


def unwatch_all_keys(ctx: CommandContext) -> None:
    """unwatchAllKeys: forget every watched key of the client (its dirty flag is kept)."""
    if not ctx.watched:
        return
    dbs = ctx.app.keyspace.dbs
    for index, key in ctx.watched:
        db = dbs[index]
        watchers = db.watched.get(key)
        if watchers is not None:
            watchers.discard(ctx)
            if not watchers:
                del db.watched[key]
    ctx.watched = {}


def discard_transaction(ctx: CommandContext) -> None:
    """discardTransaction: leave MULTI, clear both abort flags and unwatch everything."""
    ctx.multi = None
    ctx.multi_error = False
    ctx.dirty_cas = False
    unwatch_all_keys(ctx)


def exec_abort(ctx: CommandContext, text: str) -> RespError:
    """execCommandAbort: EXEC itself was rejected; the transaction is discarded.

    Rejections Redis formats itself (arity, ...) carry no code of their own and ours start
    with "ERR ", which is dropped; shared error replies keep their code (OOM, READONLY, ...).
    """
    discard_transaction(ctx)
    reason = text[4:] if text.startswith("ERR ") else text
    return RespError(ERR_EXECABORT_BECAUSE % reason)


def watched_key_expired(ctx: CommandContext) -> bool:
    """isWatchedKeyExpired: a key alive when watched is now past its deadline."""
    dbs = ctx.app.keyspace.dbs
    for (index, key), was_expired in ctx.watched.items():
        if not was_expired and dbs[index].is_expired(key):
            return True
    return False


def touch_watched_key(db: Database, key: bytes, watchers: set[Any]) -> None:
    """touchWatchedKey: `key` of `db` changed; its watchers' EXEC must fail."""
    slot = (db.index, key)
    for ctx in list(watchers):
        if ctx.watched.get(slot):
            # Watched while already expired: its reclamation is no logical change.
            if not db.exists_in_store(key):
                ctx.watched[slot] = False
                continue
            if db.is_expired(key):
                continue
        ctx.dirty_cas = True
        # A dirty client has nothing left to learn from its watched keys.
        unwatch_all_keys(ctx)


def touch_all_watched_keys(emptied: Database, replaced_with: Database | None) -> None:
    """touchAllWatchedKeysInDb: `emptied` is about to be flushed (`replaced_with` None) or to
    take the contents of `replaced_with` (SWAPDB). A watcher is dirtied when its key exists
    on either side, except where the change is only between "expired" and "absent"."""
    for key in list(emptied.watched):
        in_emptied = emptied.exists_in_store(key)
        in_other = replaced_with is not None and replaced_with.exists_in_store(key)
        if not (in_emptied or in_other):
            continue
        slot = (emptied.index, key)
        for ctx in list(emptied.watched.get(key, ())):
            was_expired = ctx.watched.get(slot)
            if was_expired is None:
                continue
            if was_expired:
                if not in_other:
                    ctx.watched[slot] = False  # the expired key is now gone: no change
                    continue
                assert replaced_with is not None
                if replaced_with.is_expired(key):
                    continue  # expired before, expired after
            elif not in_emptied and replaced_with is not None and replaced_with.is_expired(key):
                ctx.watched[slot] = True  # absent before, an expired key after
                continue
            ctx.dirty_cas = True
            unwatch_all_keys(ctx)

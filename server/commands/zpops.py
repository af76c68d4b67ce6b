"""Sorted-set pops and random picks: ZPOPMIN, ZPOPMAX, ZMPOP, the blocking BZPOPMIN,
BZPOPMAX and BZMPOP, and ZRANDMEMBER.

Strategy (blocking pops): a blocking pop first tries every key in order like its
non-blocking form (the first existing key of another type is a WRONGTYPE error, even if a
later key could serve). When all are absent it returns a `Block` (server/blocking.py), and
`_retry_zpop` serves it later, as Redis 7.0's serveClientsBlockedOnSortedSetKey does: the
pop with its "zpopmin"/"zpopmax" (and "del") events, then the effect on the stream.

| client ran                             | stream carries                         |
|----------------------------------------|----------------------------------------|
| BZPOPMIN / BZPOPMAX with data, or served later | ZPOPMIN / ZPOPMAX key          |
| ZMPOP / BZMPOP with data, or served later      | ZPOPMIN / ZPOPMAX key n (n popped) |

Where a client may not block (inside MULTI/EXEC, a script) and on a timeout, the reply is a
null array.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Final

from protocol.resp import NULL_ARRAY
from server.blocking import NOT_READY, Block, parse_timeout
from server.commands.table import Flag, Reply, command, numkeys_finder
from server.commands.zsets import (
    ACL,
    GROUP,
    LONG_MAX,
    delete_if_empty,
    long_in_range,
    member_list,
    read_zset,
    with_scores,
)
from server.context import CommandContext
from server.errors import (
    ERR_COUNT_POSITIVE,
    ERR_NUMKEYS_POSITIVE,
    ERR_OUT_OF_RANGE,
    ERR_OUT_OF_RANGE_POSITIVE,
    ERR_SYNTAX,
    CommandError,
)
from storage.zset import Item, ZSet

_ZPOPMIN: Final = b"ZPOPMIN"
_ZPOPMAX: Final = b"ZPOPMAX"
# --- pops ---


def pop_from(ctx: CommandContext, key: bytes, zs: ZSet, from_max: bool, count: int) -> list[Item]:
    """Pop up to `count` elements of the set at `key` with Redis's events; deletes it if emptied.

    Shared with the blocking variants, which reply and propagate on their own.
    """
    popped = zs.pop(count, from_max)
    if popped:
        ctx.dirty += len(popped)
        ctx.notify("z", b"zpopmax" if from_max else b"zpopmin", key)
        if delete_if_empty(ctx, key, zs):
            ctx.notify("g", b"del", key)
    return popped


def _zpop(ctx: CommandContext, argv: list[bytes], from_max: bool) -> Reply:
    if len(argv) > 3:
        raise CommandError(ERR_SYNTAX)
    count = -1
    if len(argv) == 3:
        count = long_in_range(argv[2], 0, LONG_MAX, ERR_OUT_OF_RANGE_POSITIVE)
    key = argv[1]
    zs = ctx.db.get_typed(key, ZSet)
    if zs is None or count == 0:
        return []
    popped = pop_from(ctx, key, zs, from_max, 1 if count == -1 else count)
    # RESP3 nests [member, score] pairs only when a count was given.
    return with_scores(popped, ctx.resp3 and count != -1)


@command(
    "ZPOPMIN",
    arity=-2,
    flags=Flag.WRITE | Flag.FAST,
    keys=(1, 1, 1),
    acl=ACL,
    group=GROUP,
    since="5.0.0",
)
def zpopmin_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZPOPMIN key [count]"""
    return _zpop(ctx, argv, False)


@command(
    "ZPOPMAX",
    arity=-2,
    flags=Flag.WRITE | Flag.FAST,
    keys=(1, 1, 1),
    acl=ACL,
    group=GROUP,
    since="5.0.0",
)
def zpopmax_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZPOPMAX key [count]"""
    return _zpop(ctx, argv, True)


def parse_mpop(argv: list[bytes], numkeys_index: int) -> tuple[list[bytes], bool, int]:
    """ZMPOP / BZMPOP arguments after the command (and timeout): (keys, from_max, count)."""
    numkeys = long_in_range(argv[numkeys_index], 1, LONG_MAX, ERR_NUMKEYS_POSITIVE)
    where = numkeys_index + numkeys + 1
    if where >= len(argv):
        raise CommandError(ERR_SYNTAX)
    side = argv[where].upper()
    if side != b"MIN" and side != b"MAX":
        raise CommandError(ERR_SYNTAX)
    count = -1
    j = where + 1
    while j < len(argv):
        if count == -1 and argv[j].upper() == b"COUNT" and j + 1 < len(argv):
            count = long_in_range(argv[j + 1], 1, LONG_MAX, ERR_COUNT_POSITIVE)
            j += 2
        else:
            raise CommandError(ERR_SYNTAX)
    return argv[numkeys_index + 1 : where], side == b"MAX", 1 if count == -1 else count


def _no_keys(argv: Sequence[bytes]) -> list[int]:
    return []


@command(
    "ZMPOP",
    arity=-4,
    flags=Flag.WRITE,
    key_finder=numkeys_finder(1),
    write_keys=_no_keys,  # only the key popped from changes; the handler signals it
    acl=ACL,
    group=GROUP,
    since="7.0.0",
)
def zmpop_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZMPOP numkeys key [key ...] MIN | MAX [COUNT count]"""
    keys, from_max, count = parse_mpop(argv, 1)
    db = ctx.db
    for key in keys:
        zs = db.get_typed(key, ZSet)
        if zs is None:
            continue
        popped = pop_from(ctx, key, zs, from_max, count)
        db.modified(key)
        # Redis rewrites ZMPOP as ZPOPMIN / ZPOPMAX with the count it could pop.
        ctx.propagate([_ZPOPMAX if from_max else _ZPOPMIN, key, b"%d" % len(popped)])
        return [key, with_scores(popped, True)]
    return NULL_ARRAY


# --- blocking pops ---


def _pop_with_key(
    ctx: CommandContext, key: bytes, zs: ZSet, from_max: bool, count: int | None
) -> Reply:
    """Pop for BZPOPMIN/BZPOPMAX (count None: [key, member, score]) or BZMPOP
    ([key, [[member, score], ...]]), propagate the plain pop and signal the key (these
    commands declare no write keys)."""
    popped = pop_from(ctx, key, zs, from_max, 1 if count is None else count)
    ctx.db.modified(key)
    name = _ZPOPMAX if from_max else _ZPOPMIN
    if count is None:
        ctx.propagate([name, key])
        score, member = popped[0]
        # The score is a double in RESP3 and a bulk string in RESP2, as in ZSCORE.
        return [key, member, score]
    ctx.propagate([name, key, b"%d" % len(popped)])
    return [key, with_scores(popped, True)]


def _retry_zpop(from_max: bool, count: int | None, ctx: CommandContext, key: bytes) -> Reply:
    """Serve a parked BZPOPMIN/BZPOPMAX/BZMPOP from `key` (serveClientsBlockedOnSortedSetKey):
    a key of another type serves nobody and leaves the client waiting."""
    zs = ctx.db.get(key)
    if type(zs) is not ZSet or not zs:
        return NOT_READY
    return _pop_with_key(ctx, key, zs, from_max, count)


def _blocking_zpop(
    ctx: CommandContext, keys: list[bytes], from_max: bool, timeout_ms: int, count: int | None
) -> Reply:
    """blockingGenericZpopCommand: pop from the first non-empty key, or wait on all."""
    db = ctx.db
    for key in keys:
        zs = db.get_typed(key, ZSet)  # lookupKeyWrite + checkType: no hit/miss counted
        if zs:
            return _pop_with_key(ctx, key, zs, from_max, count)
    return Block(keys, timeout_ms, partial(_retry_zpop, from_max, count))


_BZPOP_FLAGS: Final = Flag.WRITE | Flag.NOSCRIPT | Flag.FAST | Flag.BLOCKING


@command(
    "BZPOPMIN",
    arity=-3,
    flags=_BZPOP_FLAGS,
    keys=(1, -2, 1),
    write_keys=_no_keys,  # only the key popped from changes; the handler signals it
    acl=ACL,
    group=GROUP,
    since="5.0.0",
)
def bzpopmin_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """BZPOPMIN key [key ...] timeout"""
    return _blocking_zpop(ctx, argv[1:-1], False, parse_timeout(argv[-1]), None)


@command(
    "BZPOPMAX",
    arity=-3,
    flags=_BZPOP_FLAGS,
    keys=(1, -2, 1),
    write_keys=_no_keys,
    acl=ACL,
    group=GROUP,
    since="5.0.0",
)
def bzpopmax_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """BZPOPMAX key [key ...] timeout"""
    return _blocking_zpop(ctx, argv[1:-1], True, parse_timeout(argv[-1]), None)


@command(
    "BZMPOP",
    arity=-5,
    flags=Flag.WRITE | Flag.BLOCKING,
    key_finder=numkeys_finder(2),
    write_keys=_no_keys,
    acl=ACL,
    group=GROUP,
    since="7.0.0",
)
def bzmpop_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """BZMPOP timeout numkeys key [key ...] MIN | MAX [COUNT count]"""
    # Redis checks numkeys, MIN|MAX and COUNT before the timeout.
    keys, from_max, count = parse_mpop(argv, 2)
    return _blocking_zpop(ctx, keys, from_max, parse_timeout(argv[1]), count)


# --- random members ---


@command(
    "ZRANDMEMBER",
    arity=-2,
    flags=Flag.READONLY,
    keys=(1, 1, 1),
    acl=ACL,
    group=GROUP,
    since="6.2.0",
)
def zrandmember_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZRANDMEMBER key [count [WITHSCORES]]"""
    if len(argv) == 2:
        zs = read_zset(ctx, argv[1])
        return None if zs is None else zs.random_item()[1]
    count = long_in_range(argv[2], -LONG_MAX, LONG_MAX)
    withscores = False
    if len(argv) > 4 or (len(argv) == 4 and argv[3].upper() != b"WITHSCORES"):
        raise CommandError(ERR_SYNTAX)
    if len(argv) == 4:
        withscores = True
        if count < -LONG_MAX // 2 or count > LONG_MAX // 2:
            raise CommandError(ERR_OUT_OF_RANGE)
    zs = read_zset(ctx, argv[1])
    if zs is None or count == 0:
        return []
    items = zs.random_items(abs(count), count > 0)
    if withscores:
        return with_scores(items, ctx.resp3)
    return member_list(items)

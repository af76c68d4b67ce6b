"""List commands (Redis group "list"), blocking ones included.

Replies, errors, keyspace events and propagation follow Redis 7.0's t_list.c: option and
number parsing happen where Redis does them (some before the key lookup, some after), an
emptied list is deleted (with a "del" event after the list event), and pops that are not
deterministic from the argv alone are propagated as the plain pop that happened:

| client ran                       | stream carries                          |
|----------------------------------|-----------------------------------------|
| LMPOP / BLMPOP with data         | LPOP|RPOP key n (n = what was popped)   |
| BLPOP / BRPOP with data          | LPOP|RPOP key                           |
| BLMOVE / BRPOPLPUSH with data    | LMOVE src dst wherefrom whereto / RPOPLPUSH src dst |
| a blocked client served later    | the same, LMOVE with lower-case left/right |

The blocking commands return a `Block` when they must wait; server/blocking.py parks the
client and calls the retry functions here when a key is ready.
"""

from __future__ import annotations

from functools import partial
from typing import Final

from protocol.numbers import INT64_MIN
from protocol.resp import NULL_ARRAY, OK, RespError
from server.blocking import NOT_READY, Block, parse_timeout
from server.commands.args import int_arg
from server.commands.table import Flag, Reply, command, numkeys_finder
from server.context import CommandContext
from server.errors import (
    ERR_COUNT_POSITIVE,
    ERR_LPOS_COUNT_NEGATIVE,
    ERR_LPOS_MAXLEN_NEGATIVE,
    ERR_LPOS_RANK_ZERO,
    ERR_NUMKEYS_POSITIVE,
    ERR_POSITIVE,
    ERR_SYNTAX,
    ERR_WRONGTYPE,
    CommandError,
    err_arity,
)
from storage.errors import IndexOutOfRangeError, NoSuchKeyError, WrongTypeError
from storage.lists import (
    ListValue,
    clamp_range,
    insert,
    pop_many,
    positions,
    range_of,
    remove,
    trim,
)

_LIST = ("list",)
_LPOP: Final = b"LPOP"
_RPOP: Final = b"RPOP"


def _no_keys(argv: object) -> list[int]:
    """write_keys for commands that signal the one key they changed themselves."""
    return []


# --- helpers ---


def _read_list(ctx: CommandContext, key: bytes) -> ListValue | None:
    """lookupKeyRead + checkType: counts a keyspace hit or miss."""
    value = ctx.db.read(key)
    if value is None or type(value) is ListValue:
        return value
    raise WrongTypeError()


def _create(ctx: CommandContext, key: bytes) -> ListValue:
    """dbAdd of an empty list ("new" event); the caller fills it at once."""
    lst = ListValue()
    ctx.db.set(key, lst)  # Database.set reports the new key ("new" event)
    return lst


def _positive(raw: bytes, error: str) -> int:
    """getPositiveLongFromObjectOrReply / getRangeLong(1..): `error` for any bad input."""
    value = int_arg(raw, error)
    if value < 0:
        raise CommandError(error)
    return value


def _where(raw: bytes) -> bool:
    """LEFT or RIGHT (any case) -> True for the head."""
    word = raw.upper()
    if word == b"LEFT":
        return True
    if word == b"RIGHT":
        return False
    raise CommandError(ERR_SYNTAX)


def _removed(ctx: CommandContext, key: bytes, lst: ListValue, left: bool, count: int) -> None:
    """listElementsRemoved: the pop event, delete an emptied list, count the change."""
    ctx.notify("l", b"lpop" if left else b"rpop", key)
    if not lst:
        ctx.db.delete(key)
        ctx.notify("g", b"del", key)
    ctx.dirty += count


def _pop_with_key(
    ctx: CommandContext, key: bytes, lst: ListValue, left: bool, count: int | None
) -> Reply:
    """Pop for BLPOP/BRPOP ([key, element]) or LMPOP/BLMPOP ([key, [elements]]); propagate
    the plain pop and signal the key (these commands declare no write keys)."""
    if count is None:
        ctx.propagate([_LPOP if left else _RPOP, key])
        value = lst.popleft() if left else lst.pop()
        _removed(ctx, key, lst, left, 1)
        ctx.db.modified(key)
        return [key, value]
    popped = pop_many(lst, left, count)
    ctx.propagate([_LPOP if left else _RPOP, key, b"%d" % len(popped)])
    _removed(ctx, key, lst, left, len(popped))
    ctx.db.modified(key)
    return [key, popped]


def _push_to(
    ctx: CommandContext, dst: bytes, dobj: ListValue | None, value: bytes, left: bool
) -> None:
    """lmoveHandlePush: create the destination if needed, push, "lpush"/"rpush" event."""
    if dobj is None:
        dobj = _create(ctx, dst)
    if left:
        dobj.appendleft(value)
    else:
        dobj.append(value)
    ctx.notify("l", b"lpush" if left else b"rpush", dst)


# --- push, length, ranges ---


def _push(ctx: CommandContext, argv: list[bytes], left: bool, only_existing: bool) -> Reply:
    key = argv[1]
    lst = ctx.db.get_typed(key, ListValue)
    if lst is None:
        if only_existing:
            return 0
        lst = _create(ctx, key)
    if left:
        lst.extendleft(argv[2:])
    else:
        lst.extend(argv[2:])
    ctx.dirty += len(argv) - 2
    ctx.notify("l", b"lpush" if left else b"rpush", key)
    return len(lst)


_PUSH_FLAGS = Flag.WRITE | Flag.DENYOOM | Flag.FAST


@command("LPUSH", arity=-3, flags=_PUSH_FLAGS, keys=(1, 1, 1), acl=_LIST, group="list")
def lpush_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """LPUSH key element [element ...]"""
    return _push(ctx, argv, True, False)


@command("RPUSH", arity=-3, flags=_PUSH_FLAGS, keys=(1, 1, 1), acl=_LIST, group="list")
def rpush_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """RPUSH key element [element ...]"""
    return _push(ctx, argv, False, False)


@command(
    "LPUSHX", arity=-3, flags=_PUSH_FLAGS, keys=(1, 1, 1), acl=_LIST, group="list", since="2.2.0"
)
def lpushx_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """LPUSHX key element [element ...]"""
    return _push(ctx, argv, True, True)


@command(
    "RPUSHX", arity=-3, flags=_PUSH_FLAGS, keys=(1, 1, 1), acl=_LIST, group="list", since="2.2.0"
)
def rpushx_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """RPUSHX key element [element ...]"""
    return _push(ctx, argv, False, True)


@command(
    "LINSERT",
    arity=5,
    flags=Flag.WRITE | Flag.DENYOOM,
    keys=(1, 1, 1),
    acl=_LIST,
    group="list",
    since="2.2.0",
)
def linsert_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """LINSERT key <BEFORE | AFTER> pivot element"""
    where = argv[2].upper()
    if where not in (b"BEFORE", b"AFTER"):
        raise CommandError(ERR_SYNTAX)
    lst = ctx.db.get_typed(argv[1], ListValue)
    if lst is None:
        return 0
    if not insert(lst, argv[3], argv[4], where == b"AFTER"):
        return -1
    ctx.notify("l", b"linsert", argv[1])
    ctx.dirty += 1
    return len(lst)


@command("LLEN", arity=2, flags=Flag.READONLY | Flag.FAST, keys=(1, 1, 1), acl=_LIST, group="list")
def llen_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """LLEN key"""
    lst = _read_list(ctx, argv[1])
    return 0 if lst is None else len(lst)


@command("LINDEX", arity=3, flags=Flag.READONLY, keys=(1, 1, 1), acl=_LIST, group="list")
def lindex_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """LINDEX key index"""
    lst = _read_list(ctx, argv[1])
    if lst is None:
        return None
    index = int_arg(argv[2])
    if -len(lst) <= index < len(lst):
        return lst[index]
    return None


@command("LSET", arity=4, flags=Flag.WRITE | Flag.DENYOOM, keys=(1, 1, 1), acl=_LIST, group="list")
def lset_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """LSET key index element"""
    lst = ctx.db.get_typed(argv[1], ListValue)
    if lst is None:
        raise NoSuchKeyError()
    index = int_arg(argv[2])
    if not -len(lst) <= index < len(lst):
        raise IndexOutOfRangeError()
    lst[index] = argv[3]
    ctx.notify("l", b"lset", argv[1])
    ctx.dirty += 1
    return OK


@command("LRANGE", arity=4, flags=Flag.READONLY, keys=(1, 1, 1), acl=_LIST, group="list")
def lrange_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """LRANGE key start stop"""
    start = int_arg(argv[2])
    end = int_arg(argv[3])
    lst = _read_list(ctx, argv[1])
    if lst is None:
        return []
    bounds = clamp_range(start, end, len(lst))
    if bounds is None:
        return []
    return range_of(lst, *bounds)


@command("LTRIM", arity=4, flags=Flag.WRITE, keys=(1, 1, 1), acl=_LIST, group="list")
def ltrim_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """LTRIM key start stop"""
    start = int_arg(argv[2])
    end = int_arg(argv[3])
    key = argv[1]
    lst = ctx.db.get_typed(key, ListValue)
    if lst is None:
        return OK
    removed = trim(lst, start, end)
    # Redis sends "ltrim" even when nothing was removed.
    ctx.notify("l", b"ltrim", key)
    if not lst:
        ctx.db.delete(key)
        ctx.notify("g", b"del", key)
    ctx.dirty += removed
    if not removed:
        # Redis signals the key even when nothing was removed (WATCH breaks); the dispatcher
        # signals only writes that changed something.
        ctx.db.modified(key)
    return OK


@command("LREM", arity=4, flags=Flag.WRITE, keys=(1, 1, 1), acl=_LIST, group="list")
def lrem_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """LREM key count element"""
    count = int_arg(argv[2])
    key = argv[1]
    lst = ctx.db.get_typed(key, ListValue)
    if lst is None:
        return 0
    removed = remove(lst, argv[3], count)
    if removed:
        ctx.notify("l", b"lrem", key)
        if not lst:
            ctx.db.delete(key)
            ctx.notify("g", b"del", key)
    ctx.dirty += removed
    return removed


@command(
    "LPOS", arity=-3, flags=Flag.READONLY, keys=(1, 1, 1), acl=_LIST, group="list", since="6.0.6"
)
def lpos_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]"""
    rank, count, maxlen = 1, -1, 0
    i = 3
    n = len(argv)
    while i < n:
        option = argv[i].upper()
        if i + 1 >= n:
            raise CommandError(ERR_SYNTAX)
        if option == b"RANK":
            rank = int_arg(argv[i + 1])
            if rank == 0:
                raise CommandError(ERR_LPOS_RANK_ZERO)
        elif option == b"COUNT":
            count = _positive(argv[i + 1], ERR_LPOS_COUNT_NEGATIVE)
        elif option == b"MAXLEN":
            maxlen = _positive(argv[i + 1], ERR_LPOS_MAXLEN_NEGATIVE)
        else:
            raise CommandError(ERR_SYNTAX)
        i += 2
    lst = _read_list(ctx, argv[1])
    if lst is None:
        return [] if count != -1 else None
    element = argv[2]
    if count == -1:
        if rank == 1 and not maxlen:
            try:
                return lst.index(element)
            except ValueError:
                return None
        # Redis negates RANK; LLONG_MIN stays negative, so its first match qualifies.
        found = positions(lst, element, -1 if rank == INT64_MIN else rank, 1, maxlen)
        return found[0] if found else None
    if rank == INT64_MIN:
        # ... and its COUNT test overflows, so every match is returned.
        return positions(lst, element, -1, count, maxlen, unlimited=True)
    return positions(lst, element, rank, count, maxlen)


# --- pops ---


def _pop(ctx: CommandContext, argv: list[bytes], left: bool) -> Reply:
    if len(argv) > 3:
        raise CommandError(err_arity("lpop" if left else "rpop"))
    has_count = len(argv) == 3
    count = _positive(argv[2], ERR_POSITIVE) if has_count else 0
    key = argv[1]
    lst = ctx.db.get_typed(key, ListValue)
    if lst is None:
        return NULL_ARRAY if has_count else None
    if not has_count:
        value = lst.popleft() if left else lst.pop()
        _removed(ctx, key, lst, left, 1)
        return value
    if not count:
        return []
    popped = pop_many(lst, left, count)
    _removed(ctx, key, lst, left, len(popped))
    return popped


@command("LPOP", arity=-2, flags=Flag.WRITE | Flag.FAST, keys=(1, 1, 1), acl=_LIST, group="list")
def lpop_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """LPOP key [count]"""
    return _pop(ctx, argv, True)


@command("RPOP", arity=-2, flags=Flag.WRITE | Flag.FAST, keys=(1, 1, 1), acl=_LIST, group="list")
def rpop_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """RPOP key [count]"""
    return _pop(ctx, argv, False)


def _mpop_args(argv: list[bytes], numkeys_at: int) -> tuple[list[bytes], bool, int]:
    """LMPOP/BLMPOP: numkeys, the keys, LEFT|RIGHT, [COUNT n]; (keys, left, count)."""
    numkeys = int_arg(argv[numkeys_at], ERR_NUMKEYS_POSITIVE)
    if numkeys < 1:
        raise CommandError(ERR_NUMKEYS_POSITIVE)
    where_at = numkeys_at + numkeys + 1
    if where_at >= len(argv):
        raise CommandError(ERR_SYNTAX)
    left = _where(argv[where_at])
    count = -1
    i = where_at + 1
    while i < len(argv):
        if count == -1 and argv[i].upper() == b"COUNT" and i + 1 < len(argv):
            count = int_arg(argv[i + 1], ERR_COUNT_POSITIVE)
            if count < 1:
                raise CommandError(ERR_COUNT_POSITIVE)
            i += 2
        else:
            raise CommandError(ERR_SYNTAX)
    return argv[numkeys_at + 1 : where_at], left, max(count, 1)


@command(
    "LMPOP",
    arity=-4,
    flags=Flag.WRITE,
    key_finder=numkeys_finder(1),
    write_keys=_no_keys,
    acl=_LIST,
    group="list",
    since="7.0.0",
)
def lmpop_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """LMPOP numkeys key [key ...] <LEFT | RIGHT> [COUNT count]"""
    keys, left, count = _mpop_args(argv, 1)
    for key in keys:
        lst = ctx.db.get_typed(key, ListValue)
        if lst:
            return _pop_with_key(ctx, key, lst, left, count)
    return NULL_ARRAY


# --- moves ---


def _move(ctx: CommandContext, argv: list[bytes], left_from: bool, left_to: bool) -> Reply:
    """lmoveGenericCommand on argv[1] -> argv[2]; the propagated argv is the caller's."""
    src, dst = argv[1], argv[2]
    lst = ctx.db.get_typed(src, ListValue)
    if not lst:
        return None
    dobj = ctx.db.get_typed(dst, ListValue)
    value = lst.popleft() if left_from else lst.pop()
    _push_to(ctx, dst, dobj, value, left_to)
    ctx.notify("l", b"lpop" if left_from else b"rpop", src)
    if not lst:
        ctx.db.delete(src)
        ctx.notify("g", b"del", src)
    ctx.dirty += 1
    return value


_MOVE_FLAGS = Flag.WRITE | Flag.DENYOOM


@command(
    "LMOVE", arity=5, flags=_MOVE_FLAGS, keys=(1, 2, 1), acl=_LIST, group="list", since="6.2.0"
)
def lmove_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """LMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT>"""
    left_from = _where(argv[3])
    left_to = _where(argv[4])
    return _move(ctx, argv, left_from, left_to)


@command(
    "RPOPLPUSH", arity=3, flags=_MOVE_FLAGS, keys=(1, 2, 1), acl=_LIST, group="list", since="1.2.0"
)
def rpoplpush_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """RPOPLPUSH source destination"""
    return _move(ctx, argv, False, True)


# --- blocking ---


def _retry_pop(left: bool, count: int | None, ctx: CommandContext, key: bytes) -> Reply:
    """Serve a parked BLPOP/BRPOP/BLMPOP from `key` (serveClientBlockedOnList)."""
    lst = ctx.db.get(key)
    if type(lst) is not ListValue or not lst:
        return NOT_READY
    return _pop_with_key(ctx, key, lst, left, count)


def _blocking_pop(
    ctx: CommandContext, keys: list[bytes], left: bool, raw_timeout: bytes, count: int | None
) -> Reply:
    """blockingPopGenericCommand: pop from the first non-empty key, or wait on all."""
    timeout_ms = parse_timeout(raw_timeout)
    for key in keys:
        lst = ctx.db.get_typed(key, ListValue)
        if lst:
            return _pop_with_key(ctx, key, lst, left, count)
    return Block(keys, timeout_ms, partial(_retry_pop, left, count))


_BPOP_FLAGS = Flag.WRITE | Flag.NOSCRIPT | Flag.BLOCKING


@command(
    "BLPOP",
    arity=-3,
    flags=_BPOP_FLAGS,
    keys=(1, -2, 1),
    write_keys=_no_keys,
    acl=_LIST,
    group="list",
    since="2.0.0",
)
def blpop_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """BLPOP key [key ...] timeout"""
    return _blocking_pop(ctx, argv[1:-1], True, argv[-1], None)


@command(
    "BRPOP",
    arity=-3,
    flags=_BPOP_FLAGS,
    keys=(1, -2, 1),
    write_keys=_no_keys,
    acl=_LIST,
    group="list",
    since="2.0.0",
)
def brpop_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """BRPOP key [key ...] timeout"""
    return _blocking_pop(ctx, argv[1:-1], False, argv[-1], None)


@command(
    "BLMPOP",
    arity=-5,
    flags=Flag.WRITE | Flag.BLOCKING,
    key_finder=numkeys_finder(2),
    write_keys=_no_keys,
    acl=_LIST,
    group="list",
    since="7.0.0",
)
def blmpop_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """BLMPOP timeout numkeys key [key ...] <LEFT | RIGHT> [COUNT count]"""
    keys, left, count = _mpop_args(argv, 2)
    return _blocking_pop(ctx, keys, left, argv[1], count)


def _retry_move(
    dst: bytes, left_from: bool, left_to: bool, old_name: bool, ctx: CommandContext, key: bytes
) -> Reply:
    """Serve a parked BLMOVE/BRPOPLPUSH from `key` (serveClientBlockedOnList)."""
    lst = ctx.db.get(key)
    if type(lst) is not ListValue or not lst:
        return NOT_READY
    dobj = ctx.db.get(dst)
    if dobj is not None and type(dobj) is not ListValue:
        # The wait ends with the error; nothing moves.
        return RespError(ERR_WRONGTYPE)
    value = lst.popleft() if left_from else lst.pop()
    _push_to(ctx, dst, dobj, value, left_to)
    if old_name:
        ctx.propagate([b"RPOPLPUSH", key, dst])
    else:
        wherefrom = b"left" if left_from else b"right"
        ctx.propagate([b"LMOVE", key, dst, wherefrom, b"left" if left_to else b"right"])
    ctx.notify("l", b"lpop" if left_from else b"rpop", key)
    if len(lst) == 0:
        ctx.db.delete(key)
        ctx.notify("g", b"del", key)
    ctx.dirty += 1
    ctx.db.modified(dst)
    ctx.db.modified(key)
    return value


def _blocking_move(
    ctx: CommandContext, argv: list[bytes], left_from: bool, left_to: bool, timeout_ms: int
) -> Reply:
    """blmoveGenericCommand: move now like LMOVE, or wait for the source."""
    src = argv[1]
    if ctx.db.get_typed(src, ListValue) is None:
        retry = partial(_retry_move, argv[2], left_from, left_to, len(argv) == 4)
        return Block([src], timeout_ms, retry, denied_reply=None)
    value = _move(ctx, argv, left_from, left_to)
    if len(argv) == 4:
        ctx.propagate([b"RPOPLPUSH", src, argv[2]])
    else:
        ctx.propagate([b"LMOVE", src, argv[2], argv[3], argv[4]])
    return value


@command(
    "BLMOVE",
    arity=6,
    flags=_MOVE_FLAGS | Flag.NOSCRIPT | Flag.BLOCKING,
    keys=(1, 2, 1),
    acl=_LIST,
    group="list",
    since="6.2.0",
)
def blmove_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """BLMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout"""
    left_from = _where(argv[3])
    left_to = _where(argv[4])
    timeout_ms = parse_timeout(argv[5])
    return _blocking_move(ctx, argv, left_from, left_to, timeout_ms)


@command(
    "BRPOPLPUSH",
    arity=4,
    flags=_MOVE_FLAGS | Flag.NOSCRIPT | Flag.BLOCKING,
    keys=(1, 2, 1),
    acl=_LIST,
    group="list",
    since="2.2.0",
)
def brpoplpush_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """BRPOPLPUSH source destination timeout"""
    timeout_ms = parse_timeout(argv[3])
    return _blocking_move(ctx, argv, False, True, timeout_ms)

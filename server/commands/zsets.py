"""Sorted-set commands (Redis group "sorted_set"), after Redis 7.0's t_zset.c.

The data structure lives in storage/zset.py; this module parses arguments in Redis's order,
picks replies for RESP2 / RESP3, emits keyspace events and decides what is propagated.

Strategy (replies with scores): RESP2 gets a flat array (member, score, member, score ...),
RESP3 an array of [member, score] pairs, scores as doubles (bulk strings in RESP2). Redis
answers that way for ZRANGE, ZRANGEBYSCORE, ZUNION / ZINTER / ZDIFF, ZRANDMEMBER and
ZPOPMIN / ZPOPMAX with a count. ZSCAN is the exception: scores are plain bulk strings in
the text the encoding holds.

Strategy (propagation): every write goes to the stream as sent (ZADD ... INCR included: it
replays to the same result on the same data), except ZMPOP, which Redis rewrites as
ZPOPMIN / ZPOPMAX <key> <count> for the key it popped from.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

from protocol.numbers import format_double, parse_int, parse_strtod
from protocol.resp import NULL_ARRAY
from server.commands.args import float_arg, int_arg
from server.commands.table import Flag, KeyFinder, Reply, command, numkeys_finder
from server.context import CommandContext
from server.errors import (
    ERR_AT_LEAST_ONE_KEY,
    ERR_COUNT_POSITIVE,
    ERR_INVALID_CURSOR,
    ERR_LIMIT_NEGATIVE,
    ERR_MINMAX_FLOAT,
    ERR_MINMAX_LEX,
    ERR_MUST_BE_POSITIVE,
    ERR_NOT_INTEGER,
    ERR_NUMKEYS_POSITIVE,
    ERR_OUT_OF_RANGE,
    ERR_RANGE_BETWEEN,
    ERR_SYNTAX,
    ERR_WEIGHT_FLOAT,
    ERR_ZADD_GT_LT_NX,
    ERR_ZADD_INCR,
    ERR_ZADD_NAN,
    ERR_ZADD_XX_NX,
    ERR_ZRANGE_BYLEX_WITHSCORES,
    ERR_ZRANGE_LIMIT,
    CommandError,
    err_arity,
)
from storage.errors import WrongTypeError
from storage.glob import compile_pattern
from storage.sets import SetValue
from storage.zset import (
    GT,
    LEX_MINUS,
    LEX_PLUS,
    LEX_VALUE,
    LT,
    NX,
    XX,
    Item,
    LexBound,
    LexRange,
    NaNScoreError,
    ScoreRange,
    ZSet,
)

_LONG_MAX: Final = 2**63 - 1
_ULONG_MAX: Final = 2**64 - 1
_ACL: Final = ("sortedset",)
_GROUP: Final = "sorted_set"

# --- helpers ---


def _read(ctx: CommandContext, key: bytes) -> ZSet | None:
    """lookupKeyRead + checkType: counts a hit or a miss."""
    value = ctx.db.read(key)
    if value is None or type(value) is ZSet:
        return value
    raise WrongTypeError()


def _limits(ctx: CommandContext) -> tuple[int, int]:
    """(zset-max-listpack-entries, zset-max-listpack-value)."""
    config = ctx.app.config
    return config["zset-max-listpack-entries"], config["zset-max-listpack-value"]


def _fits_listpack(ctx: CommandContext, size: int, longest: int) -> bool:
    entries, value = _limits(ctx)
    return size <= entries and longest <= value


def _long_in_range(raw: bytes, low: int, high: int, error: str | None = None) -> int:
    """getRangeLongFromObjectOrReply: `error` (if given) covers bad numbers too."""
    value = parse_int(raw)
    if value is None:
        raise CommandError(error or ERR_NOT_INTEGER)
    if value < low or value > high:
        raise CommandError(error or ERR_RANGE_BETWEEN % (low, high))
    return value


def _pairs(items: Iterable[Item], resp3: bool) -> list[Any]:
    """Members with scores: flat in RESP2, [member, score] pairs in RESP3."""
    if resp3:
        return [[member, score] for score, member in items]
    out: list[Any] = []
    for score, member in items:
        out.append(member)
        out.append(score)
    return out


def _members(items: Iterable[Item]) -> list[bytes]:
    return [member for _, member in items]


def parse_score_range(raw_min: bytes, raw_max: bytes) -> ScoreRange:
    """zslParseRange: "(" makes an end exclusive; the rest goes through strtod."""
    low, low_ex = _score_end(raw_min)
    high, high_ex = _score_end(raw_max)
    return ScoreRange(low, low_ex, high, high_ex)


def _score_end(raw: bytes) -> tuple[float, bool]:
    exclusive = raw[:1] == b"("
    value = parse_strtod(raw[1:] if exclusive else raw)
    if value is None or math.isnan(value):
        raise CommandError(ERR_MINMAX_FLOAT)
    return value, exclusive


def parse_lex_range(raw_min: bytes, raw_max: bytes) -> LexRange:
    """zslParseLexRange: "[x" inclusive, "(x" exclusive, "-" and "+" the ends."""
    return LexRange(_lex_end(raw_min), _lex_end(raw_max))


def _lex_end(raw: bytes) -> LexBound:
    head = raw[:1]
    if head == b"(" or head == b"[":
        return LexBound(LEX_VALUE, raw[1:], head == b"(")
    # "+" and "-" are read as C strings: a NUL right after them ends the argument.
    if (head == b"+" or head == b"-") and (len(raw) == 1 or raw[1] == 0):
        return LexBound(LEX_PLUS if head == b"+" else LEX_MINUS, b"", True)
    raise CommandError(ERR_MINMAX_LEX)


def _delete_if_empty(ctx: CommandContext, key: bytes, zs: ZSet) -> bool:
    if zs:
        return False
    ctx.db.delete(key)
    return True


# --- ZADD / ZINCRBY ---

_ZADD_OPTIONS: Final = {b"NX": NX, b"XX": XX, b"GT": GT, b"LT": LT, b"CH": 0, b"INCR": 0}


def _zadd(ctx: CommandContext, argv: list[bytes], incr: bool) -> Reply:
    flags = 0
    ch = False
    i = 2
    n = len(argv)
    # Options come first; the first word that is not one starts the score-member pairs.
    while i < n:
        word = argv[i].upper()
        bit = _ZADD_OPTIONS.get(word)
        if bit is None:
            break
        flags |= bit
        if word == b"CH":
            ch = True
        elif word == b"INCR":
            incr = True
        i += 1
    elements = n - i
    if elements == 0 or elements % 2:
        raise CommandError(ERR_SYNTAX)
    if flags & NX and flags & XX:
        raise CommandError(ERR_ZADD_XX_NX)
    if (flags & NX and flags & (GT | LT)) or (flags & GT and flags & LT):
        raise CommandError(ERR_ZADD_GT_LT_NX)
    if incr and elements > 2:
        raise CommandError(ERR_ZADD_INCR)
    scores = [float_arg(argv[j]) for j in range(i, n, 2)]

    key = argv[1]
    db = ctx.db
    zs = db.get_typed(key, ZSet)
    if zs is None:
        if flags & XX:
            return None if incr else 0
        zs = ZSet()
        db.set(key, zs)
    entries, value = _limits(ctx)
    if incr:
        member = argv[i + 1]
        old = zs.by_member.get(member)
        try:
            result = zs.incr(member, scores[0], flags, entries, value)
        except NaNScoreError:
            raise CommandError(ERR_ZADD_NAN) from None
        if result is not None and (old is None or result != old):
            ctx.dirty += 1
            ctx.notify("z", b"zincr", key)
        return result
    added = updated = 0
    update = zs.update
    for j, score in enumerate(scores):
        a, u = update(argv[i + 1 + 2 * j], score, flags, entries, value)
        added += a
        updated += u
    if added or updated:
        ctx.dirty += added + updated
        ctx.notify("z", b"zadd", key)
    return added + updated if ch else added


@command(
    "ZADD",
    arity=-4,
    flags=Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    keys=(1, 1, 1),
    acl=_ACL,
    group=_GROUP,
    since="1.2.0",
)
def zadd_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]"""
    return _zadd(ctx, argv, False)


@command(
    "ZINCRBY",
    arity=4,
    flags=Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    keys=(1, 1, 1),
    acl=_ACL,
    group=_GROUP,
    since="1.2.0",
)
def zincrby_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZINCRBY key increment member"""
    return _zadd(ctx, argv, True)


# --- ZREM / ZCARD / ZSCORE / ZMSCORE / ZRANK ---


@command(
    "ZREM",
    arity=-3,
    flags=Flag.WRITE | Flag.FAST,
    keys=(1, 1, 1),
    acl=_ACL,
    group=_GROUP,
    since="1.2.0",
)
def zrem_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZREM key member [member ...]"""
    key = argv[1]
    zs = ctx.db.get_typed(key, ZSet)
    if zs is None:
        return 0
    deleted = 0
    emptied = False
    for member in argv[2:]:
        if zs.remove(member):
            deleted += 1
        if not zs:
            emptied = _delete_if_empty(ctx, key, zs)
            break
    if deleted:
        ctx.dirty += deleted
        ctx.notify("z", b"zrem", key)
        if emptied:
            ctx.notify("g", b"del", key)
    return deleted


@command(
    "ZCARD",
    arity=2,
    flags=Flag.READONLY | Flag.FAST,
    keys=(1, 1, 1),
    acl=_ACL,
    group=_GROUP,
    since="1.2.0",
)
def zcard_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZCARD key"""
    zs = _read(ctx, argv[1])
    return 0 if zs is None else len(zs)


@command(
    "ZSCORE",
    arity=3,
    flags=Flag.READONLY | Flag.FAST,
    keys=(1, 1, 1),
    acl=_ACL,
    group=_GROUP,
    since="1.2.0",
)
def zscore_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZSCORE key member"""
    zs = _read(ctx, argv[1])
    return None if zs is None else zs.by_member.get(argv[2])


@command(
    "ZMSCORE",
    arity=-3,
    flags=Flag.READONLY | Flag.FAST,
    keys=(1, 1, 1),
    acl=_ACL,
    group=_GROUP,
    since="6.2.0",
)
def zmscore_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZMSCORE key member [member ...]"""
    zs = _read(ctx, argv[1])
    if zs is None:
        return [None] * (len(argv) - 2)
    get = zs.by_member.get
    return [get(member) for member in argv[2:]]


def _zrank(ctx: CommandContext, argv: list[bytes], reverse: bool) -> Reply:
    # WITHSCORE is Redis 7.2's; 7.0 has no options (its arity is exactly 3).
    if len(argv) > 4:
        spec = ctx.current_spec
        raise CommandError(err_arity(spec.name if spec is not None else "zrank"))
    with_score = False
    if len(argv) == 4:
        if argv[3].upper() != b"WITHSCORE":
            raise CommandError(ERR_SYNTAX)
        with_score = True
    zs = _read(ctx, argv[1])
    rank = None if zs is None else zs.rank(argv[2], reverse)
    if rank is None or zs is None:
        return NULL_ARRAY if with_score else None
    if with_score:
        return [rank, zs.by_member[argv[2]]]
    return rank


@command(
    "ZRANK",
    arity=-3,
    flags=Flag.READONLY | Flag.FAST,
    keys=(1, 1, 1),
    acl=_ACL,
    group=_GROUP,
    since="2.0.0",
)
def zrank_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZRANK key member [WITHSCORE]"""
    return _zrank(ctx, argv, False)


@command(
    "ZREVRANK",
    arity=-3,
    flags=Flag.READONLY | Flag.FAST,
    keys=(1, 1, 1),
    acl=_ACL,
    group=_GROUP,
    since="2.0.0",
)
def zrevrank_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZREVRANK key member [WITHSCORE]"""
    return _zrank(ctx, argv, True)


# --- counts by score and lex ---


@command(
    "ZCOUNT",
    arity=4,
    flags=Flag.READONLY | Flag.FAST,
    keys=(1, 1, 1),
    acl=_ACL,
    group=_GROUP,
    since="2.0.0",
)
def zcount_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZCOUNT key min max"""
    spec = parse_score_range(argv[2], argv[3])
    zs = _read(ctx, argv[1])
    return 0 if zs is None else zs.count_by_score(spec)


@command(
    "ZLEXCOUNT",
    arity=4,
    flags=Flag.READONLY | Flag.FAST,
    keys=(1, 1, 1),
    acl=_ACL,
    group=_GROUP,
    since="2.8.9",
)
def zlexcount_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZLEXCOUNT key min max"""
    spec = parse_lex_range(argv[2], argv[3])
    zs = _read(ctx, argv[1])
    return 0 if zs is None else zs.count_by_lex(spec)


# --- ZRANGE and friends ---

_RANK, _SCORE, _LEX = 1, 2, 3


def _zrange(
    ctx: CommandContext,
    argv: list[bytes],
    start: int,
    store: bool,
    rangetype: int = 0,
    reverse: bool | None = None,
) -> Reply:
    """zrangeGenericCommand: argv[start] is the source key, then min, max and options.

    `rangetype` 0 and `reverse` None mean "chosen by the options" (ZRANGE, ZRANGESTORE).
    """
    withscores = False
    offset = 0
    limit = -1
    j = start + 3
    n = len(argv)
    while j < n:
        word = argv[j].upper()
        if not store and word == b"WITHSCORES":
            withscores = True
        elif word == b"LIMIT" and n - j - 1 >= 2:
            offset = int_arg(argv[j + 1])
            limit = int_arg(argv[j + 2])
            j += 2
        elif reverse is None and word == b"REV":
            reverse = True
        elif rangetype == 0 and word == b"BYLEX":
            rangetype = _LEX
        elif rangetype == 0 and word == b"BYSCORE":
            rangetype = _SCORE
        else:
            raise CommandError(ERR_SYNTAX)
        j += 1
    reverse = bool(reverse)
    if rangetype == 0:
        rangetype = _RANK
    if limit != -1 and rangetype == _RANK:
        raise CommandError(ERR_ZRANGE_LIMIT)
    if withscores and rangetype == _LEX:
        raise CommandError(ERR_ZRANGE_BYLEX_WITHSCORES)
    raw_min, raw_max = argv[start + 1], argv[start + 2]
    first = last = 0
    score_spec: ScoreRange | None = None
    lex_spec: LexRange | None = None
    if reverse and rangetype != _RANK:
        raw_min, raw_max = raw_max, raw_min  # given as max, min
    if rangetype == _RANK:
        first, last = int_arg(raw_min), int_arg(raw_max)
    elif rangetype == _SCORE:
        score_spec = parse_score_range(raw_min, raw_max)
    else:
        lex_spec = parse_lex_range(raw_min, raw_max)

    zs = _read(ctx, argv[start])
    items: Iterable[Item]
    if zs is None:
        items = ()
    elif score_spec is not None:
        items = zs.range_by_score(score_spec, offset, limit, reverse)
    elif lex_spec is not None:
        items = zs.range_by_lex(lex_spec, offset, limit, reverse)
    else:
        items = zs.range_by_rank(first, last, reverse)
    if store:
        return _store_items(ctx, argv[1], items, b"zrangestore")
    if withscores:
        return _pairs(items, ctx.resp3)
    return _members(items)


def _store_items(ctx: CommandContext, dst: bytes, items: Iterable[Item], event: bytes) -> int:
    """Store a result set at `dst` (replacing it, TTL included), or delete `dst` if empty."""
    scores = {member: score for score, member in items}
    db = ctx.db
    if not scores:
        if db.delete(dst):
            ctx.dirty += 1
            ctx.notify("g", b"del", dst)
        return 0
    longest = max(map(len, scores))
    db.set(dst, ZSet.from_scores(scores, not _fits_listpack(ctx, len(scores), longest)))
    ctx.dirty += 1
    ctx.notify("z", event, dst)
    return len(scores)


def _dst_key(argv: Sequence[bytes]) -> list[int]:
    return [1]


@command(
    "ZRANGE",
    arity=-4,
    flags=Flag.READONLY,
    keys=(1, 1, 1),
    acl=_ACL,
    group=_GROUP,
    since="1.2.0",
)
def zrange_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]"""
    return _zrange(ctx, argv, 1, False)


@command(
    "ZRANGESTORE",
    arity=-5,
    flags=Flag.WRITE | Flag.DENYOOM,
    keys=(1, 2, 1),
    write_keys=_dst_key,
    acl=_ACL,
    group=_GROUP,
    since="6.2.0",
)
def zrangestore_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]"""
    return _zrange(ctx, argv, 2, True)


@command(
    "ZREVRANGE",
    arity=-4,
    flags=Flag.READONLY,
    keys=(1, 1, 1),
    acl=_ACL,
    group=_GROUP,
    since="1.2.0",
)
def zrevrange_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZREVRANGE key start stop [WITHSCORES]"""
    return _zrange(ctx, argv, 1, False, _RANK, True)


@command(
    "ZRANGEBYSCORE",
    arity=-4,
    flags=Flag.READONLY,
    keys=(1, 1, 1),
    acl=_ACL,
    group=_GROUP,
    since="1.0.5",
)
def zrangebyscore_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]"""
    return _zrange(ctx, argv, 1, False, _SCORE, False)


@command(
    "ZREVRANGEBYSCORE",
    arity=-4,
    flags=Flag.READONLY,
    keys=(1, 1, 1),
    acl=_ACL,
    group=_GROUP,
    since="2.2.0",
)
def zrevrangebyscore_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]"""
    return _zrange(ctx, argv, 1, False, _SCORE, True)


@command(
    "ZRANGEBYLEX",
    arity=-4,
    flags=Flag.READONLY,
    keys=(1, 1, 1),
    acl=_ACL,
    group=_GROUP,
    since="2.8.9",
)
def zrangebylex_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZRANGEBYLEX key min max [LIMIT offset count]"""
    return _zrange(ctx, argv, 1, False, _LEX, False)


@command(
    "ZREVRANGEBYLEX",
    arity=-4,
    flags=Flag.READONLY,
    keys=(1, 1, 1),
    acl=_ACL,
    group=_GROUP,
    since="2.8.9",
)
def zrevrangebylex_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZREVRANGEBYLEX key max min [LIMIT offset count]"""
    return _zrange(ctx, argv, 1, False, _LEX, True)


# --- ZREMRANGEBYRANK / BYSCORE / BYLEX ---


def _zremrange(ctx: CommandContext, argv: list[bytes], rangetype: int) -> Reply:
    key = argv[1]
    if rangetype == _RANK:
        first, last = int_arg(argv[2]), int_arg(argv[3])
        event = b"zremrangebyrank"
    elif rangetype == _SCORE:
        score_spec = parse_score_range(argv[2], argv[3])
        event = b"zremrangebyscore"
    else:
        lex_spec = parse_lex_range(argv[2], argv[3])
        event = b"zremrangebylex"
    zs = ctx.db.get_typed(key, ZSet)
    if zs is None:
        return 0
    if rangetype == _RANK:
        deleted = zs.remove_range_by_rank(first, last)
    elif rangetype == _SCORE:
        deleted = zs.remove_range_by_score(score_spec)
    else:
        deleted = zs.remove_range_by_lex(lex_spec)
    emptied = _delete_if_empty(ctx, key, zs)
    if deleted:
        ctx.dirty += deleted
        ctx.notify("z", event, key)
        if emptied:
            ctx.notify("g", b"del", key)
    return deleted


@command(
    "ZREMRANGEBYRANK",
    arity=4,
    flags=Flag.WRITE,
    keys=(1, 1, 1),
    acl=_ACL,
    group=_GROUP,
    since="2.0.0",
)
def zremrangebyrank_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZREMRANGEBYRANK key start stop"""
    return _zremrange(ctx, argv, _RANK)


@command(
    "ZREMRANGEBYSCORE",
    arity=4,
    flags=Flag.WRITE,
    keys=(1, 1, 1),
    acl=_ACL,
    group=_GROUP,
    since="1.2.0",
)
def zremrangebyscore_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZREMRANGEBYSCORE key min max"""
    return _zremrange(ctx, argv, _SCORE)


@command(
    "ZREMRANGEBYLEX",
    arity=4,
    flags=Flag.WRITE,
    keys=(1, 1, 1),
    acl=_ACL,
    group=_GROUP,
    since="2.8.9",
)
def zremrangebylex_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZREMRANGEBYLEX key min max"""
    return _zremrange(ctx, argv, _LEX)


# --- ZPOPMIN / ZPOPMAX / ZMPOP ---


def pop_from(ctx: CommandContext, key: bytes, zs: ZSet, from_max: bool, count: int) -> list[Item]:
    """Pop up to `count` elements of the set at `key` with Redis's events; deletes it if emptied.

    Shared with the blocking variants, which reply and propagate on their own.
    """
    popped = zs.pop(count, from_max)
    if popped:
        ctx.dirty += len(popped)
        ctx.notify("z", b"zpopmax" if from_max else b"zpopmin", key)
        if _delete_if_empty(ctx, key, zs):
            ctx.notify("g", b"del", key)
    return popped


def _zpop(ctx: CommandContext, argv: list[bytes], from_max: bool) -> Reply:
    if len(argv) > 3:
        raise CommandError(ERR_SYNTAX)
    count = -1
    if len(argv) == 3:
        count = _long_in_range(argv[2], 0, _LONG_MAX, ERR_MUST_BE_POSITIVE)
    key = argv[1]
    zs = ctx.db.get_typed(key, ZSet)
    if zs is None or count == 0:
        return []
    popped = pop_from(ctx, key, zs, from_max, 1 if count == -1 else count)
    # RESP3 nests [member, score] pairs only when a count was given.
    return _pairs(popped, ctx.resp3 and count != -1)


@command(
    "ZPOPMIN",
    arity=-2,
    flags=Flag.WRITE | Flag.FAST,
    keys=(1, 1, 1),
    acl=_ACL,
    group=_GROUP,
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
    acl=_ACL,
    group=_GROUP,
    since="5.0.0",
)
def zpopmax_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZPOPMAX key [count]"""
    return _zpop(ctx, argv, True)


def parse_mpop(argv: list[bytes], numkeys_index: int) -> tuple[list[bytes], bool, int]:
    """ZMPOP / BZMPOP arguments after the command (and timeout): (keys, from_max, count)."""
    numkeys = _long_in_range(argv[numkeys_index], 1, _LONG_MAX, ERR_NUMKEYS_POSITIVE)
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
            count = _long_in_range(argv[j + 1], 1, _LONG_MAX, ERR_COUNT_POSITIVE)
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
    acl=_ACL,
    group=_GROUP,
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
        ctx.propagate([b"ZPOPMAX" if from_max else b"ZPOPMIN", key, b"%d" % len(popped)])
        return [key, _pairs(popped, True)]
    return NULL_ARRAY


# --- ZRANDMEMBER ---


@command(
    "ZRANDMEMBER",
    arity=-2,
    flags=Flag.READONLY,
    keys=(1, 1, 1),
    acl=_ACL,
    group=_GROUP,
    since="6.2.0",
)
def zrandmember_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZRANDMEMBER key [count [WITHSCORES]]"""
    if len(argv) == 2:
        zs = _read(ctx, argv[1])
        return None if zs is None else zs.random_item()[1]
    count = _long_in_range(argv[2], -_LONG_MAX, _LONG_MAX)
    withscores = False
    if len(argv) > 4 or (len(argv) == 4 and argv[3].upper() != b"WITHSCORES"):
        raise CommandError(ERR_SYNTAX)
    if len(argv) == 4:
        withscores = True
        if count < -_LONG_MAX // 2 or count > _LONG_MAX // 2:
            raise CommandError(ERR_OUT_OF_RANGE)
    zs = _read(ctx, argv[1])
    if zs is None or count == 0:
        return []
    items = zs.random_items(abs(count), count > 0)
    if withscores:
        return _pairs(items, ctx.resp3)
    return _members(items)


# --- ZUNION / ZINTER / ZDIFF, their STORE forms, ZINTERCARD ---

_UNION, _INTER, _DIFF = 1, 2, 3
_STORE_EVENTS: Final = {_UNION: b"zunionstore", _INTER: b"zinterstore", _DIFF: b"zdiffstore"}
_SUM, _MIN, _MAX = 1, 2, 3

# A source: member -> score mapping (a set counts every member as 1) and its weight.
_Source = tuple[dict[bytes, float] | SetValue | None, float]


def _source_score(source: dict[bytes, float] | SetValue, member: bytes) -> float | None:
    if isinstance(source, SetValue):
        return 1.0 if member in source else None
    return source.get(member)


def _source_items(source: dict[bytes, float] | SetValue) -> Iterable[tuple[bytes, float]]:
    if isinstance(source, SetValue):
        return ((member, 1.0) for member in source)
    return source.items()


def _aggregate(target: float, value: float, how: int) -> float:
    if how == _SUM:
        total = target + value
        # inf + -inf is NaN; Redis makes it 0.
        return 0.0 if total != total else total
    if how == _MIN:
        return value if value < target else target
    return value if value > target else target


def _setop(
    ctx: CommandContext,
    argv: list[bytes],
    numkeys_index: int,
    op: int,
    dst: bytes | None = None,
    card_only: bool = False,
) -> Reply:
    """zunionInterDiffGenericCommand."""
    setnum = int_arg(argv[numkeys_index])
    if setnum < 1:
        spec = ctx.current_spec
        raise CommandError(ERR_AT_LEAST_ONE_KEY % (spec.name if spec is not None else ""))
    if setnum > len(argv) - numkeys_index - 1:
        raise CommandError(ERR_SYNTAX)
    sources: list[dict[bytes, float] | SetValue | None] = []
    db = ctx.db
    j = numkeys_index + 1
    for key in argv[j : j + setnum]:
        value = db.read(key)
        if value is None:
            sources.append(None)
        elif type(value) is ZSet:
            sources.append(value.by_member)
        elif type(value) is SetValue:
            sources.append(value)
        else:
            raise WrongTypeError()
    weights = [1.0] * setnum
    how = _SUM
    withscores = False
    limit = 0
    j += setnum
    n = len(argv)
    while j < n:
        remaining = n - j
        word = argv[j].upper()
        if op != _DIFF and not card_only and remaining >= setnum + 1 and word == b"WEIGHTS":
            weights = [float_arg(raw, ERR_WEIGHT_FLOAT) for raw in argv[j + 1 : j + 1 + setnum]]
            j += setnum + 1
        elif op != _DIFF and not card_only and remaining >= 2 and word == b"AGGREGATE":
            kind = argv[j + 1].upper()
            if kind == b"SUM":
                how = _SUM
            elif kind == b"MIN":
                how = _MIN
            elif kind == b"MAX":
                how = _MAX
            else:
                raise CommandError(ERR_SYNTAX)
            j += 2
        elif dst is None and not card_only and word == b"WITHSCORES":
            withscores = True
            j += 1
        elif card_only and remaining >= 2 and word == b"LIMIT":
            limit = _long_in_range(argv[j + 1], 0, _LONG_MAX, ERR_LIMIT_NEGATIVE)
            j += 2
        else:
            raise CommandError(ERR_SYNTAX)

    weighted: list[_Source] = list(zip(sources, weights, strict=True))
    if op != _DIFF:
        # Smallest first, as Redis sorts them (a stable sort keeps equal sizes in order).
        weighted.sort(key=lambda sw: 0 if sw[0] is None else len(sw[0]))
    result: dict[bytes, float] = {}
    if op == _INTER:
        first, first_weight = weighted[0]
        if first:
            cardinality = 0
            others = weighted[1:]
            for member, score in _source_items(first):
                total = first_weight * score
                if total != total:
                    total = 0.0
                for other, weight in others:
                    value = None if other is None else _source_score(other, member)
                    if value is None:
                        break
                    total = _aggregate(total, value * weight, how)
                else:
                    if card_only:
                        cardinality += 1
                        if limit and cardinality >= limit:
                            break
                    else:
                        result[member] = total
            if card_only:
                return cardinality
        elif card_only:
            return 0
    elif op == _UNION:
        for source, weight in weighted:
            if not source:
                continue
            for member, score in _source_items(source):
                value = weight * score
                if value != value:
                    value = 0.0
                existing = result.get(member)
                result[member] = value if existing is None else _aggregate(existing, value, how)
    else:
        first = weighted[0][0]
        if first and not any(other is first for other, _ in weighted[1:]):
            rest = [other for other, _ in weighted[1:] if other]
            result = {
                member: score
                for member, score in _source_items(first)
                if not any(_source_score(other, member) is not None for other in rest)
            }

    if dst is not None:
        event = (
            b"zunionstore" if op == _UNION else b"zinterstore" if op == _INTER else b"zdiffstore"
        )
        return _store_items(ctx, dst, ((s, m) for m, s in result.items()), event)
    items = sorted((score, member) for member, score in result.items())
    if withscores:
        return _pairs(items, ctx.resp3)
    return _members(items)


def _store_finder(argv: Sequence[bytes]) -> list[int]:
    return [1, *numkeys_finder(2)(argv)]


def _setop_command(
    name: str, op: int, store: bool, since: str, syntax: str
) -> Callable[[CommandContext, list[bytes]], Reply]:
    if store:

        def handler(ctx: CommandContext, argv: list[bytes]) -> Reply:
            return _setop(ctx, argv, 2, op, dst=argv[1])

        flags = Flag.WRITE | Flag.DENYOOM
        keys = (1, 1, 1)
        finder: KeyFinder = _store_finder
    else:

        def handler(ctx: CommandContext, argv: list[bytes]) -> Reply:
            return _setop(ctx, argv, 1, op)

        flags = Flag.READONLY
        keys = (0, 0, 0)
        finder = numkeys_finder(1)
    handler.__doc__ = syntax
    handler.__name__ = handler.__qualname__ = name.lower() + "_command"
    return command(
        name,
        arity=-4 if store else -3,
        flags=flags,
        keys=keys,
        key_finder=finder,
        write_keys=_dst_key if store else None,
        acl=_ACL,
        group=_GROUP,
        since=since,
    )(handler)


zunion_command = _setop_command(
    "ZUNION",
    _UNION,
    False,
    "6.2.0",
    "ZUNION numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX]"
    " [WITHSCORES]",
)
zinter_command = _setop_command(
    "ZINTER",
    _INTER,
    False,
    "6.2.0",
    "ZINTER numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX]"
    " [WITHSCORES]",
)
zdiff_command = _setop_command(
    "ZDIFF", _DIFF, False, "6.2.0", "ZDIFF numkeys key [key ...] [WITHSCORES]"
)
zunionstore_command = _setop_command(
    "ZUNIONSTORE",
    _UNION,
    True,
    "2.0.0",
    "ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]]"
    " [AGGREGATE SUM | MIN | MAX]",
)
zinterstore_command = _setop_command(
    "ZINTERSTORE",
    _INTER,
    True,
    "2.0.0",
    "ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]]"
    " [AGGREGATE SUM | MIN | MAX]",
)
zdiffstore_command = _setop_command(
    "ZDIFFSTORE", _DIFF, True, "6.2.0", "ZDIFFSTORE destination numkeys key [key ...]"
)


@command(
    "ZINTERCARD",
    arity=-3,
    flags=Flag.READONLY,
    key_finder=numkeys_finder(1),
    acl=_ACL,
    group=_GROUP,
    since="7.0.0",
)
def zintercard_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZINTERCARD numkeys key [key ...] [LIMIT limit]"""
    return _setop(ctx, argv, 1, _INTER, card_only=True)


# --- ZSCAN ---


def parse_cursor(raw: bytes) -> int:
    """parseScanCursorOrReply: strtoul in base 10 over the whole (C string) argument."""
    nul = raw.find(b"\0")
    if nul >= 0:
        raw = raw[:nul]
    if not raw:
        return 0
    body = raw[1:] if raw[:1] in (b"+", b"-") else raw
    if not body.isdigit():
        raise CommandError(ERR_INVALID_CURSOR)
    value = int(body)
    if value > _ULONG_MAX:
        raise CommandError(ERR_INVALID_CURSOR)
    # strtoul negates in unsigned arithmetic: "-1" is the largest cursor.
    return (-value) & _ULONG_MAX if raw[:1] == b"-" else value


def _listpack_score_text(score: float) -> bytes:
    """The score as a listpack holds it: an integer when it is one within +-2^62 (double2ll)."""
    if math.isfinite(score) and score.is_integer() and -(2**62) <= score <= 2**62:
        return b"%d" % int(score)
    return format_double(score)


@command(
    "ZSCAN",
    arity=-3,
    flags=Flag.READONLY,
    keys=(1, 1, 1),
    acl=_ACL,
    group=_GROUP,
    since="2.8.0",
)
def zscan_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZSCAN key cursor [MATCH pattern] [COUNT count]"""
    cursor = parse_cursor(argv[2])
    zs = _read(ctx, argv[1])
    if zs is None:
        return [b"0", []]
    count = 10
    pattern: bytes | None = None
    j = 3
    n = len(argv)
    while j < n:
        word = argv[j].upper()
        if word == b"COUNT" and n - j >= 2:
            count = int_arg(argv[j + 1])
            if count < 1:
                raise CommandError(ERR_SYNTAX)
        elif word == b"MATCH" and n - j >= 2:
            pattern = argv[j + 1]
        else:
            raise CommandError(ERR_SYNTAX)
        j += 2
    following, items = zs.scan(cursor, count)
    match = compile_pattern(pattern) if pattern is not None and pattern != b"*" else None
    text = format_double if zs.big else _listpack_score_text
    out: list[bytes] = []
    for score, member in items:
        if match is None or match(member):
            out.append(member)
            out.append(text(score))
    return [b"%d" % following, out]

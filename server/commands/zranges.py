"""Sorted-set range commands: ZCOUNT, ZLEXCOUNT, ZRANGE and its variants, ZRANGESTORE and
ZREMRANGEBYRANK / BYSCORE / BYLEX (t_zset.c's zrangeGenericCommand and friends).

Arguments are checked in Redis's order: options first, then conflicts between them, then the
range itself, then the key.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from protocol.numbers import parse_strtod
from server.commands.args import int_arg
from server.commands.table import Flag, Reply, command
from server.commands.zsets import (
    ACL,
    GROUP,
    delete_if_empty,
    dst_key,
    member_list,
    read_zset,
    store_result,
    with_scores,
)
from server.context import CommandContext
from server.errors import (
    ERR_MINMAX_FLOAT,
    ERR_MINMAX_LEX,
    ERR_SYNTAX,
    ERR_ZRANGE_BYLEX_WITHSCORES,
    ERR_ZRANGE_LIMIT,
    CommandError,
)
from storage.zset import LEX_MINUS, LEX_PLUS, LEX_VALUE, Item, LexBound, LexRange, ScoreRange, ZSet

# --- range arguments ---


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


# --- reads ---


@command(
    "ZCOUNT",
    arity=4,
    flags=Flag.READONLY | Flag.FAST,
    keys=(1, 1, 1),
    acl=ACL,
    group=GROUP,
    since="2.0.0",
)
def zcount_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZCOUNT key min max"""
    spec = parse_score_range(argv[2], argv[3])
    zs = read_zset(ctx, argv[1])
    return 0 if zs is None else zs.count_by_score(spec)


@command(
    "ZLEXCOUNT",
    arity=4,
    flags=Flag.READONLY | Flag.FAST,
    keys=(1, 1, 1),
    acl=ACL,
    group=GROUP,
    since="2.8.9",
)
def zlexcount_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZLEXCOUNT key min max"""
    spec = parse_lex_range(argv[2], argv[3])
    zs = read_zset(ctx, argv[1])
    return 0 if zs is None else zs.count_by_lex(spec)


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

    zs = read_zset(ctx, argv[start])
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
        return store_result(ctx, argv[1], items, b"zrangestore")
    if withscores:
        return with_scores(items, ctx.resp3)
    return member_list(items)


@command(
    "ZRANGE",
    arity=-4,
    flags=Flag.READONLY,
    keys=(1, 1, 1),
    acl=ACL,
    group=GROUP,
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
    write_keys=dst_key,
    acl=ACL,
    group=GROUP,
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
    acl=ACL,
    group=GROUP,
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
    acl=ACL,
    group=GROUP,
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
    acl=ACL,
    group=GROUP,
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
    acl=ACL,
    group=GROUP,
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
    acl=ACL,
    group=GROUP,
    since="2.8.9",
)
def zrevrangebylex_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZREVRANGEBYLEX key max min [LIMIT offset count]"""
    return _zrange(ctx, argv, 1, False, _LEX, True)


# --- removals ---


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
    emptied = delete_if_empty(ctx, key, zs)
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
    acl=ACL,
    group=GROUP,
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
    acl=ACL,
    group=GROUP,
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
    acl=ACL,
    group=GROUP,
    since="2.8.9",
)
def zremrangebylex_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZREMRANGEBYLEX key min max"""
    return _zremrange(ctx, argv, _LEX)

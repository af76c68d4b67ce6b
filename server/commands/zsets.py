"""Sorted-set commands (Redis group "sorted_set"), after Redis 7.0's t_zset.c: the helpers
the family shares, the single-member commands and ZSCAN.

The data structure lives in storage/zset.py. The family is split by theme: this module,
zranges.py (ranges by rank, score and lex), zpops.py (pops and random picks) and
zsetops.py (union, intersection, difference). Each parses arguments in Redis's order,
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
from collections.abc import Iterable, Sequence
from typing import Any, Final

from protocol.numbers import format_double, parse_float, parse_int
from protocol.resp import NULL_ARRAY
from server.commands.args import float_arg, int_arg
from server.commands.table import Flag, Reply, command
from server.context import CommandContext
from server.errors import (
    ERR_INVALID_CURSOR,
    ERR_NOT_INTEGER,
    ERR_RANGE_BETWEEN,
    ERR_SYNTAX,
    ERR_ZADD_GT_LT_NX,
    ERR_ZADD_INCR,
    ERR_ZADD_NAN,
    ERR_ZADD_XX_NX,
    CommandError,
    err_arity,
)
from storage.errors import WrongTypeError
from storage.glob import compile_pattern
from storage.zset import GT, LT, NX, XX, Item, NaNScoreError, ZSet

LONG_MAX: Final = 2**63 - 1
_ULONG_MAX: Final = 2**64 - 1
ACL: Final = ("sortedset",)
GROUP: Final = "sorted_set"

# --- helpers shared by the sorted-set modules ---


def read_zset(ctx: CommandContext, key: bytes) -> ZSet | None:
    """lookupKeyRead + checkType: counts a hit or a miss."""
    value = ctx.db.read(key)
    if value is None or type(value) is ZSet:
        return value
    raise WrongTypeError()


def listpack_limits(ctx: CommandContext) -> tuple[int, int]:
    """(zset-max-listpack-entries, zset-max-listpack-value)."""
    app = ctx.app
    return app.zset_max_listpack_entries, app.zset_max_listpack_value


def fits_listpack(ctx: CommandContext, size: int, longest: int) -> bool:
    entries, value = listpack_limits(ctx)
    return size <= entries and longest <= value


def long_in_range(raw: bytes, low: int, high: int, error: str | None = None) -> int:
    """getRangeLongFromObjectOrReply: `error` (if given) covers bad numbers too."""
    value = parse_int(raw)
    if value is None:
        raise CommandError(error or ERR_NOT_INTEGER)
    if value < low or value > high:
        raise CommandError(error or ERR_RANGE_BETWEEN % (low, high))
    return value


def with_scores(items: Iterable[Item], resp3: bool) -> list[Any]:
    """Members with scores: flat in RESP2, [member, score] pairs in RESP3."""
    if resp3:
        return [[member, score] for score, member in items]
    out: list[Any] = []
    for score, member in items:
        out.append(member)
        out.append(score)
    return out


def member_list(items: Iterable[Item]) -> list[bytes]:
    return [member for _, member in items]


def delete_if_empty(ctx: CommandContext, key: bytes, zs: ZSet) -> bool:
    if zs:
        return False
    ctx.db.delete(key)
    return True


def store_result(ctx: CommandContext, dst: bytes, items: Iterable[Item], event: bytes) -> int:
    """Store a result set at `dst` (replacing it, TTL included), or delete `dst` if empty."""
    scores = {member: score for score, member in items}
    db = ctx.db
    if not scores:
        if db.delete(dst):
            ctx.dirty += 1
            ctx.notify("g", b"del", dst)
        return 0
    longest = max(map(len, scores))
    db.set(dst, ZSet.from_scores(scores, not fits_listpack(ctx, len(scores), longest)))
    ctx.dirty += 1
    ctx.notify("z", event, dst)
    return len(scores)


def dst_key(argv: Sequence[bytes]) -> list[int]:
    return [1]


# --- members: ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK ---

_ZADD_OPTIONS: Final = {b"NX": NX, b"XX": XX, b"GT": GT, b"LT": LT, b"CH": 0, b"INCR": 0}


def _zadd(ctx: CommandContext, argv: list[bytes], incr: bool) -> Reply:
    flags = 0
    ch = False
    i = 2
    n = len(argv)
    # `ZADD key score member` (the commonest form) holds no option word: a word that
    # parses as a score is none of them.
    score = parse_float(argv[2]) if n == 4 else None
    if score is not None:
        scores = [score]
    else:
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
    entries, value = listpack_limits(ctx)
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
    acl=ACL,
    group=GROUP,
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
    acl=ACL,
    group=GROUP,
    since="1.2.0",
)
def zincrby_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZINCRBY key increment member"""
    return _zadd(ctx, argv, True)


@command(
    "ZREM",
    arity=-3,
    flags=Flag.WRITE | Flag.FAST,
    keys=(1, 1, 1),
    acl=ACL,
    group=GROUP,
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
            emptied = delete_if_empty(ctx, key, zs)
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
    acl=ACL,
    group=GROUP,
    since="1.2.0",
)
def zcard_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZCARD key"""
    zs = read_zset(ctx, argv[1])
    return 0 if zs is None else len(zs)


@command(
    "ZSCORE",
    arity=3,
    flags=Flag.READONLY | Flag.FAST,
    keys=(1, 1, 1),
    acl=ACL,
    group=GROUP,
    since="1.2.0",
)
def zscore_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZSCORE key member"""
    zs = read_zset(ctx, argv[1])
    return None if zs is None else zs.by_member.get(argv[2])


@command(
    "ZMSCORE",
    arity=-3,
    flags=Flag.READONLY | Flag.FAST,
    keys=(1, 1, 1),
    acl=ACL,
    group=GROUP,
    since="6.2.0",
)
def zmscore_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZMSCORE key member [member ...]"""
    zs = read_zset(ctx, argv[1])
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
    zs = read_zset(ctx, argv[1])
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
    acl=ACL,
    group=GROUP,
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
    acl=ACL,
    group=GROUP,
    since="2.0.0",
)
def zrevrank_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZREVRANK key member [WITHSCORE]"""
    return _zrank(ctx, argv, True)


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
    acl=ACL,
    group=GROUP,
    since="2.8.0",
)
def zscan_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZSCAN key cursor [MATCH pattern] [COUNT count]"""
    cursor = parse_cursor(argv[2])
    zs = read_zset(ctx, argv[1])
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

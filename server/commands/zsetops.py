"""Sorted-set algebra: ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD
(t_zset.c's zunionInterDiffGenericCommand).

Inputs may be sorted sets or sets (every member of a set scores 1). Keys are looked up and
type-checked before the options are read, as Redis does. A weighted score that comes out
NaN (inf * 0) counts as 0, and so does a SUM of opposite infinities.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from server.commands.args import float_arg, int_arg
from server.commands.table import (
    Flag,
    KeyFinder,
    Reply,
    command,
    numkeys_finder,
    numkeys_store_keys,
)
from server.commands.zsets import (
    ACL,
    GROUP,
    LONG_MAX,
    dst_key,
    long_in_range,
    member_list,
    store_result,
    with_scores,
)
from server.context import CommandContext
from server.errors import (
    ERR_AT_LEAST_ONE_KEY,
    ERR_LIMIT_NEGATIVE,
    ERR_SYNTAX,
    ERR_WEIGHT_FLOAT,
    CommandError,
)
from storage.errors import WrongTypeError
from storage.sets import SetValue
from storage.zset import ZSet

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
            limit = long_in_range(argv[j + 1], 0, LONG_MAX, ERR_LIMIT_NEGATIVE)
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
        return store_result(ctx, dst, ((s, m) for m, s in result.items()), event)
    items = sorted((score, member) for member, score in result.items())
    if withscores:
        return with_scores(items, ctx.resp3)
    return member_list(items)


def _setop_command(
    name: str, op: int, store: bool, since: str, syntax: str
) -> Callable[[CommandContext, list[bytes]], Reply]:
    if store:

        def handler(ctx: CommandContext, argv: list[bytes]) -> Reply:
            return _setop(ctx, argv, 2, op, dst=argv[1])

        flags = Flag.WRITE | Flag.DENYOOM
        keys = (1, 1, 1)
        finder: KeyFinder = numkeys_store_keys
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
        write_keys=dst_key if store else None,
        acl=ACL,
        group=GROUP,
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
    acl=ACL,
    group=GROUP,
    since="7.0.0",
)
def zintercard_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ZINTERCARD numkeys key [key ...] [LIMIT limit]"""
    return _setop(ctx, argv, 1, _INTER, card_only=True)

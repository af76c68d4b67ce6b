"""Set commands (Redis group "set"), as t_set.c implements them in Redis 7.0.

A set is a storage.sets.SetValue (a Python set). While it is still an intset (`big` False)
its members are canonical integers and Redis lists them in ascending order, so replies sort
them; a big set's order is unspecified, as in Redis.

Strategy (propagation): SPOP is random, so it never reaches the write stream as itself.
SPOP without a count becomes `SREM key member`. With a count, popping the whole set becomes
`DEL key` (as spopWithCountCommand rewrites it); popping part of it becomes one
`SREM key m1 m2 ...` with the members actually removed. Redis 7.0 sends one SREM per member
inside MULTI/EXEC instead: the effect on a replica or an AOF replay is the same.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Final

from protocol.resp import RespSet
from server.commands.args import int_arg
from server.commands.container_scan import EMPTY_SCAN, scan_cursor, scan_options
from server.commands.table import Flag, Reply, command, numkeys_finder
from server.context import CommandContext
from server.errors import (
    ERR_LIMIT_NEGATIVE,
    ERR_NUMKEYS_EXCEED_ARGS,
    ERR_NUMKEYS_POSITIVE,
    ERR_OUT_OF_RANGE_LONG,
    ERR_OUT_OF_RANGE_POSITIVE,
    ERR_SYNTAX,
    CommandError,
)
from storage.errors import WrongTypeError
from storage.keyspace import Database
from storage.scan import scan_members
from storage.sets import (
    SetValue,
    fits_intset,
    is_intset_member,
    new_set,
    ordered_members,
)

_LONG_MAX: Final = 2**63 - 1
_SPOP_MOVE_STRATEGY_MUL: Final = 5  # t_set.c: when SPOP rebuilds the set from what remains


def _set(db: Database, key: bytes) -> SetValue | None:
    """lookupKeyWrite + checkType: the set at `key`, or None."""
    value = db.get(key)
    if value is None or type(value) is SetValue:
        return value
    raise WrongTypeError()


def _read_set(db: Database, key: bytes) -> SetValue | None:
    """lookupKeyRead + checkType (counts keyspace hits and misses)."""
    value = db.read(key)
    if value is None or type(value) is SetValue:
        return value
    raise WrongTypeError()


def _read_sets(db: Database, keys: Sequence[bytes]) -> list[SetValue | None]:
    """Every key looked up in order; the first one of another type is an error."""
    return [_read_set(db, key) for key in keys]


def _max_intset(ctx: CommandContext) -> int:
    return ctx.app.set_max_intset_entries


def _random_member(s: SetValue) -> bytes:
    """A uniformly random member. O(n) for big sets: a set has no random access."""
    return next(islice(s, random.randrange(len(s)), None))


def _reply_members(members: Iterable[bytes], intset_order: bool) -> RespSet:
    """A RESP3 set (RESP2 array), ascending when Redis's result would be an intset."""
    if intset_order:
        return RespSet(sorted(members, key=int))
    return RespSet(members)


def _create(ctx: CommandContext, key: bytes) -> SetValue:
    """An empty set stored at `key`, with dbAdd's "new" event."""
    value = SetValue()
    ctx.db.set(key, value)  # the "new" event comes from Database.set (dbAdd)
    return value


def _store(ctx: CommandContext, dst: bytes, result: SetValue, event: bytes) -> int:
    """Store a *STORE result (setKey: any old value and TTL go), or delete `dst` if empty."""
    db = ctx.db
    if result:
        db.set(dst, result)
        ctx.dirty += 1
        ctx.notify("s", event, dst)
        return len(result)
    if db.delete(dst):
        ctx.dirty += 1
        ctx.notify("g", b"del", dst)
    return 0


def _store_key(argv: Sequence[bytes]) -> list[int]:
    return [1]


# --- writes ---


@command(
    "SADD",
    arity=-3,
    flags=Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    keys=(1, 1, 1),
    acl=("set",),
    group="set",
)
def sadd_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SADD key member [member ...]"""
    db = ctx.db
    key = argv[1]
    s = db.get(key)
    if s is None:
        s = _create(ctx, key)
    elif type(s) is not SetValue:
        raise WrongTypeError()
    before = len(s)
    if len(argv) == 3:
        s.add(argv[2])
    else:
        s.update(islice(argv, 2, None))
    added = len(s) - before
    if added:
        # While it is an intset every member is an integer, so only the new ones need a look.
        if not s.big and (
            len(s) > ctx.app.set_max_intset_entries
            or not all(map(is_intset_member, islice(argv, 2, None)))
        ):
            s.big = True
        ctx.dirty += added
        ctx.notify("s", b"sadd", key)
    return added


@command("SREM", arity=-3, flags=Flag.WRITE | Flag.FAST, keys=(1, 1, 1), acl=("set",), group="set")
def srem_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SREM key member [member ...]"""
    db = ctx.db
    key = argv[1]
    s = _set(db, key)
    if s is None:
        return 0
    before = len(s)
    if len(argv) == 3:
        s.discard(argv[2])
    else:
        s.difference_update(islice(argv, 2, None))
    removed = before - len(s)
    if removed:
        ctx.dirty += removed
        ctx.notify("s", b"srem", key)
        if not s:
            db.delete(key)
            ctx.notify("g", b"del", key)
    return removed


@command(
    "SMOVE",
    arity=4,
    flags=Flag.WRITE | Flag.FAST,
    keys=(1, 2, 1),
    write_keys=_store_key,  # the destination is signalled only when it gains the member
    acl=("set",),
    group="set",
)
def smove_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SMOVE source destination member"""
    db = ctx.db
    src_key, dst_key, member = argv[1], argv[2], argv[3]
    src = db.get(src_key)
    dst = db.get(dst_key)
    if src is None:
        return 0
    if type(src) is not SetValue or (dst is not None and type(dst) is not SetValue):
        raise WrongTypeError()
    if src is dst:
        return 1 if member in src else 0
    if member not in src:
        return 0
    src.remove(member)
    ctx.notify("s", b"srem", src_key)
    if not src:
        db.delete(src_key)
        ctx.notify("g", b"del", src_key)
    if dst is None:
        dst = _create(ctx, dst_key)
    ctx.dirty += 1
    if member not in dst:
        dst.add(member)
        if not dst.big and (
            len(dst) > ctx.app.set_max_intset_entries or not is_intset_member(member)
        ):
            dst.big = True
        ctx.dirty += 1
        db.modified(dst_key)
        ctx.notify("s", b"sadd", dst_key)
    return 1


@command("SPOP", arity=-2, flags=Flag.WRITE | Flag.FAST, keys=(1, 1, 1), acl=("set",), group="set")
def spop_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SPOP key [count]"""
    if len(argv) == 3:
        return _spop_with_count(ctx, argv)
    if len(argv) > 3:
        raise CommandError(ERR_SYNTAX)
    db = ctx.db
    key = argv[1]
    s = _set(db, key)
    if s is None:
        return None
    member = _random_member(s)
    s.remove(member)
    ctx.notify("s", b"spop", key)
    ctx.propagate([b"SREM", key, member])
    if not s:
        db.delete(key)
        ctx.notify("g", b"del", key)
    ctx.dirty += 1
    return member


def _spop_with_count(ctx: CommandContext, argv: list[bytes]) -> Reply:
    count = int_arg(argv[2], ERR_OUT_OF_RANGE_POSITIVE)
    if count < 0:
        raise CommandError(ERR_OUT_OF_RANGE_POSITIVE)
    db = ctx.db
    key = argv[1]
    s = _set(db, key)
    if s is None or count == 0:
        return RespSet()
    size = len(s)
    ctx.notify("s", b"spop", key)
    if count >= size:
        # The whole set goes: reply as SUNION of it would, then drop the key.
        max_intset = _max_intset(ctx)
        reply = _reply_members(s, fits_intset(s, size, max_intset))
        db.delete(key)
        ctx.dirty += size
        ctx.notify("g", b"del", key)
        ctx.propagate([b"DEL", key])
        return reply
    popped = random.sample(list(s), count)
    s.difference_update(popped)
    remaining = size - count
    if remaining * _SPOP_MOVE_STRATEGY_MUL <= count:
        # Redis rebuilds the set from the members that stay, so it can become an intset again.
        s.big = not fits_intset(s, remaining, _max_intset(ctx))
    ctx.dirty += count
    ctx.propagate([b"SREM", key, *popped])
    return RespSet(popped)


# --- reads ---


@command(
    "SCARD", arity=2, flags=Flag.READONLY | Flag.FAST, keys=(1, 1, 1), acl=("set",), group="set"
)
def scard_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SCARD key"""
    s = _read_set(ctx.db, argv[1])
    return 0 if s is None else len(s)


@command(
    "SISMEMBER", arity=3, flags=Flag.READONLY | Flag.FAST, keys=(1, 1, 1), acl=("set",), group="set"
)
def sismember_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SISMEMBER key member"""
    s = ctx.db.read(argv[1])
    if s is None:
        return 0
    if type(s) is not SetValue:
        raise WrongTypeError()
    return 1 if argv[2] in s else 0


@command(
    "SMISMEMBER",
    arity=-3,
    flags=Flag.READONLY | Flag.FAST,
    keys=(1, 1, 1),
    acl=("set",),
    group="set",
    since="6.2.0",
)
def smismember_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SMISMEMBER key member [member ...]"""
    s = _read_set(ctx.db, argv[1])
    if s is None:
        return [0] * (len(argv) - 2)
    return [1 if member in s else 0 for member in islice(argv, 2, None)]


@command("SMEMBERS", arity=2, flags=Flag.READONLY, keys=(1, 1, 1), acl=("set",), group="set")
def smembers_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SMEMBERS key"""
    s = _read_set(ctx.db, argv[1])
    if s is None:
        return RespSet()
    return RespSet(ordered_members(s))


@command("SRANDMEMBER", arity=-2, flags=Flag.READONLY, keys=(1, 1, 1), acl=("set",), group="set")
def srandmember_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SRANDMEMBER key [count]"""
    if len(argv) > 3:
        raise CommandError(ERR_SYNTAX)
    if len(argv) == 2:
        s = _read_set(ctx.db, argv[1])
        return None if s is None else _random_member(s)
    count = int_arg(argv[2])
    if count < -_LONG_MAX:
        raise CommandError(ERR_OUT_OF_RANGE_LONG)
    s = _read_set(ctx.db, argv[1])
    if s is None or count == 0:
        return []
    if count < 0:
        # Independent draws: repeats allowed, any order (CASE 1 of srandmemberWithCountCommand).
        return random.choices(list(s), k=-count)
    if count == 1:
        return [_random_member(s)]
    if count >= len(s):
        return ordered_members(s)
    return random.sample(list(s), count)


# --- set algebra ---


def _intersection(sets: list[SetValue]) -> tuple[Iterable[bytes], SetValue]:
    """Members common to every set, and the smallest set (whose order the result takes)."""
    ordered = sorted(sets, key=len)  # stable, like the qsort Redis sorts them with
    smallest = ordered[0]
    others = [s for s in ordered[1:] if s is not smallest]
    if not others:
        return smallest, smallest
    return smallest.intersection(*others), smallest


@command("SINTER", arity=-2, flags=Flag.READONLY, keys=(1, -1, 1), acl=("set",), group="set")
def sinter_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SINTER key [key ...]"""
    sets = _read_sets(ctx.db, argv[1:])
    present = [s for s in sets if s is not None]
    if len(present) < len(sets):
        return RespSet()
    members, smallest = _intersection(present)
    return _reply_members(members, not smallest.big)


@command(
    "SINTERCARD",
    arity=-3,
    flags=Flag.READONLY,
    key_finder=numkeys_finder(1),
    acl=("set",),
    group="set",
    since="7.0.0",
)
def sintercard_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SINTERCARD numkeys key [key ...] [LIMIT limit]"""
    numkeys = int_arg(argv[1], ERR_NUMKEYS_POSITIVE)
    if numkeys < 1:
        raise CommandError(ERR_NUMKEYS_POSITIVE)
    if numkeys > len(argv) - 2:
        raise CommandError(ERR_NUMKEYS_EXCEED_ARGS)
    limit = 0
    i = 2 + numkeys
    while i < len(argv):
        if argv[i].upper() == b"LIMIT" and i + 1 < len(argv):
            limit = int_arg(argv[i + 1], ERR_LIMIT_NEGATIVE)
            if limit < 0:
                raise CommandError(ERR_LIMIT_NEGATIVE)
            i += 2
        else:
            raise CommandError(ERR_SYNTAX)
    sets = _read_sets(ctx.db, argv[2 : 2 + numkeys])
    present = [s for s in sets if s is not None]
    if len(present) < len(sets):
        return 0
    ordered = sorted(present, key=len)
    smallest = ordered[0]
    others = [s for s in ordered[1:] if s is not smallest]
    if not limit:
        return len(smallest.intersection(*others)) if others else len(smallest)
    cardinality = 0
    for member in smallest:
        if all(member in s for s in others):
            cardinality += 1
            if cardinality >= limit:
                break
    return cardinality


@command(
    "SINTERSTORE",
    arity=-3,
    flags=Flag.WRITE | Flag.DENYOOM,
    keys=(1, -1, 1),
    write_keys=_store_key,
    acl=("set",),
    group="set",
)
def sinterstore_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SINTERSTORE destination key [key ...]"""
    sets = _read_sets(ctx.db, argv[2:])
    present = [s for s in sets if s is not None]
    if len(present) < len(sets):
        return _store(ctx, argv[1], SetValue(), b"sinterstore")
    members, _ = _intersection(present)
    result = new_set(members, _max_intset(ctx))
    return _store(ctx, argv[1], result, b"sinterstore")


def _union(sets: list[SetValue | None]) -> set[bytes]:
    present = [s for s in sets if s is not None]
    return set().union(*present)


def _difference(
    sets: list[SetValue | None], keys: Sequence[bytes], max_intset: int
) -> tuple[set[bytes], bool]:
    """SDIFF's members, and whether Redis's result object ends up an intset.

    Redis picks one of two algorithms by the sizes involved. The first adds only the
    surviving members to an empty intset; the second adds the whole first set and then
    removes, so its result is an intset only if the whole first set could be one.
    """
    first = sets[0]
    if first is None or any(k == keys[0] for k in keys[1:]):
        return set(), True
    others = [s for s in sets[1:] if s is not None]
    result = first.difference(*others)
    algo_one_work = len(first) * (1 + len(others)) // 2
    algo_two_work = len(first) + sum(map(len, others))
    if algo_one_work <= algo_two_work:
        return result, fits_intset(result, len(result), max_intset)
    return result, fits_intset(first, len(first), max_intset)


@command("SUNION", arity=-2, flags=Flag.READONLY, keys=(1, -1, 1), acl=("set",), group="set")
def sunion_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SUNION key [key ...]"""
    result = _union(_read_sets(ctx.db, argv[1:]))
    return _reply_members(result, fits_intset(result, len(result), _max_intset(ctx)))


@command(
    "SUNIONSTORE",
    arity=-3,
    flags=Flag.WRITE | Flag.DENYOOM,
    keys=(1, -1, 1),
    write_keys=_store_key,
    acl=("set",),
    group="set",
)
def sunionstore_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SUNIONSTORE destination key [key ...]"""
    result = _union(_read_sets(ctx.db, argv[2:]))
    return _store(ctx, argv[1], new_set(result, _max_intset(ctx)), b"sunionstore")


@command("SDIFF", arity=-2, flags=Flag.READONLY, keys=(1, -1, 1), acl=("set",), group="set")
def sdiff_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SDIFF key [key ...]"""
    keys = argv[1:]
    result, intset = _difference(_read_sets(ctx.db, keys), keys, _max_intset(ctx))
    return _reply_members(result, intset)


@command(
    "SDIFFSTORE",
    arity=-3,
    flags=Flag.WRITE | Flag.DENYOOM,
    keys=(1, -1, 1),
    write_keys=_store_key,
    acl=("set",),
    group="set",
)
def sdiffstore_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SDIFFSTORE destination key [key ...]"""
    keys = argv[2:]
    max_intset = _max_intset(ctx)
    result, intset = _difference(_read_sets(ctx.db, keys), keys, max_intset)
    stored = SetValue(result)
    stored.big = not intset
    return _store(ctx, argv[1], stored, b"sdiffstore")


@command(
    "SSCAN", arity=-3, flags=Flag.READONLY, keys=(1, 1, 1), acl=("set",), group="set", since="2.8.0"
)
def sscan_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SSCAN key cursor [MATCH pattern] [COUNT count]"""
    cursor = scan_cursor(argv[2])
    s = _read_set(ctx.db, argv[1])
    if s is None:
        return EMPTY_SCAN
    count, matcher = scan_options(argv, 3)
    if s.big:
        cursor, members = scan_members(s, cursor, count)
    else:
        # An intset is small: Redis returns all of it at once and ends the iteration.
        cursor, members = 0, ordered_members(s)
    if matcher is not None:
        members = [m for m in members if matcher(m)]
    return [b"%d" % cursor, members]

"""String commands (Redis group "string"). Strings are bytes, or bytearray once edited in place."""

from __future__ import annotations

from protocol.resp import OK
from server.commands.args import int_arg
from server.commands.table import Flag, Reply, command
from server.context import CommandContext
from server.errors import ERR_SYNTAX, CommandError, err_invalid_expire
from storage.errors import WrongTypeError

_LLONG_MAX = 2**63 - 1

# --- GET / SET ---


@command(
    "GET", arity=2, flags=Flag.READONLY | Flag.FAST, keys=(1, 1, 1), acl=("string",), group="string"
)
def get_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """GET key"""
    value = ctx.db.read(argv[1])
    if value is None or type(value) is bytes or type(value) is bytearray:
        return value
    raise WrongTypeError()


# Option bits of parseExtendedStringArgumentsOrReply (t_string.c).
_NX, _XX, _GET, _KEEPTTL, _EX, _PX, _EXAT, _PXAT, _PERSIST = (1 << i for i in range(9))
_EXPIRE_UNITS = {b"EX": _EX, b"PX": _PX, b"EXAT": _EXAT, b"PXAT": _PXAT}


def parse_expire_options(
    argv: list[bytes], start: int, allow_set_options: bool
) -> tuple[int, bytes | None]:
    """Parse SET / GETEX options as Redis does; returns (option bits, raw expire argument)."""
    flags = 0
    expire: bytes | None = None
    i = start
    n = len(argv)
    while i < n:
        opt = argv[i].upper()
        has_next = i + 1 < n
        time_opts = _EX | _PX | _EXAT | _PXAT
        if opt == b"NX" and allow_set_options and not flags & _XX:
            flags |= _NX
        elif opt == b"XX" and allow_set_options and not flags & _NX:
            flags |= _XX
        elif opt == b"GET" and allow_set_options:
            flags |= _GET
        elif opt == b"KEEPTTL" and allow_set_options and not flags & (_PERSIST | time_opts):
            flags |= _KEEPTTL
        elif opt == b"PERSIST" and not allow_set_options and not flags & time_opts:
            flags |= _PERSIST
        elif (
            opt in _EXPIRE_UNITS
            and has_next
            and not flags & (_KEEPTTL | _PERSIST | (time_opts & ~_EXPIRE_UNITS[opt]))
        ):
            flags |= _EXPIRE_UNITS[opt]
            expire = argv[i + 1]
            i += 1
        else:
            raise CommandError(ERR_SYNTAX)
        i += 1
    return flags, expire


def expire_at_ms(ctx: CommandContext, raw: bytes, flags: int, command: str) -> int:
    """getExpireMillisecondsOrReply: the absolute deadline in unix ms, validated."""
    value = int_arg(raw)
    seconds = bool(flags & (_EX | _EXAT))
    if value <= 0 or (seconds and value > _LLONG_MAX // 1000):
        raise CommandError(err_invalid_expire(command))
    if seconds:
        value *= 1000
    if flags & (_EX | _PX):
        value += ctx.app.keyspace.clock.now_ms()
    if value <= 0 or value > _LLONG_MAX:
        raise CommandError(err_invalid_expire(command))
    return value


@command(
    "SET",
    arity=-3,
    flags=Flag.WRITE | Flag.DENYOOM,
    keys=(1, 1, 1),
    acl=("string",),
    group="string",
)
def set_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds |
    PXAT unix-time-milliseconds | KEEPTTL]"""
    if len(argv) == 3:
        ctx.db.set(argv[1], argv[2])
        ctx.dirty = 1
        if ctx.app.notify_classes:
            ctx.notify("$", b"set", argv[1])
        return OK
    flags, raw_expire = parse_expire_options(argv, 3, True)
    deadline = expire_at_ms(ctx, raw_expire, flags, "set") if raw_expire is not None else None
    db = ctx.db
    key = argv[1]
    reply: Reply = OK
    if flags & _GET:
        old = db.read(key)  # GET's lookup: stats and the keymiss event
        if old is not None and type(old) is not bytes and type(old) is not bytearray:
            raise WrongTypeError()
        reply = old
        found = old is not None
    else:
        found = db.exists(key)
    if (flags & _NX and found) or (flags & _XX and not found):
        return reply if flags & _GET else None
    if flags & _KEEPTTL:
        db.set_keep_ttl(key, argv[2])
    else:
        db.set(key, argv[2], deadline)
    ctx.dirty = 1
    ctx.notify("$", b"set", key)
    if deadline is not None:
        ctx.notify("g", b"expire", key)
        # Redis propagates SET .. EX as PXAT so the AOF replays the same deadline (t_string.c).
        ctx.propagate([b"SET", key, argv[2], b"PXAT", str(deadline).encode()])
    elif flags & _GET:
        ctx.propagate([a for j, a in enumerate(argv) if j < 3 or a.upper() != b"GET"])
    return reply

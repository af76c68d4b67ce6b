"""Connection commands (Redis group "connection"): PING, ECHO, HELLO, AUTH, SELECT, CLIENT, ..."""

from __future__ import annotations

from protocol.resp import OK, PONG, RespError, SimpleString
from server.app import REDIS_VERSION
from server.commands.args import int_arg
from server.commands.table import Flag, Reply, command, container
from server.context import NO_REPLY, REPLY_OFF, REPLY_ON, REPLY_SKIP, CommandContext
from server.errors import (
    ERR_AUTH_NOT_CONFIGURED,
    ERR_DB_INDEX,
    ERR_INVALID_PASSWORD,
    ERR_SYNTAX,
    ERR_UNBLOCK_REASON,
    CommandError,
    err_arity,
    err_subcommand_syntax,
)

_CONN = Flag.NOSCRIPT | Flag.LOADING | Flag.STALE | Flag.FAST


@command("PING", arity=-1, flags=Flag.FAST | Flag.SENTINEL, acl=("connection",), group="connection")
def ping_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """PING [message]"""
    if len(argv) > 2:
        raise CommandError(err_arity("ping"))
    if ctx.subscribed and not ctx.resp3:
        return [b"pong", argv[1] if len(argv) == 2 else b""]
    return PONG if len(argv) == 1 else argv[1]


@command("ECHO", arity=2, flags=Flag.FAST, acl=("connection",), group="connection")
def echo_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ECHO message"""
    return argv[1]


@command(
    "QUIT",
    arity=-1,
    flags=Flag.ALLOW_BUSY | Flag.NOSCRIPT | Flag.LOADING | Flag.STALE | Flag.FAST | Flag.NO_AUTH,
    acl=("connection",),
    group="connection",
)
def quit_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """QUIT"""
    ctx.close_after_reply = True
    return OK


def check_password(ctx: CommandContext, user: bytes, password: bytes) -> bool:
    """ACLAuthenticateUser for the default user: requirepass, or any password when unset."""
    required = ctx.app.config["requirepass"]
    if user != b"default":
        return False
    return not required or password == required.encode()


@command(
    "AUTH",
    arity=-2,
    flags=_CONN | Flag.NO_AUTH | Flag.SENTINEL | Flag.ALLOW_BUSY,
    acl=("connection",),
    group="connection",
)
def auth_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """AUTH [username] password"""
    if len(argv) > 3:
        raise CommandError(ERR_SYNTAX)
    if len(argv) == 2:
        if not ctx.app.config["requirepass"]:
            raise CommandError(ERR_AUTH_NOT_CONFIGURED)
        user, password = b"default", argv[1]
    else:
        user, password = argv[1], argv[2]
    if not check_password(ctx, user, password):
        raise CommandError(ERR_INVALID_PASSWORD)
    ctx.authenticated = True
    ctx.user = user
    return OK


def valid_client_name(name: bytes) -> bool:
    """Client names are printable ASCII without spaces (clientSetName)."""
    return all(33 <= b <= 126 for b in name)


@command(
    "HELLO",
    arity=-1,
    flags=_CONN | Flag.NO_AUTH | Flag.SENTINEL | Flag.ALLOW_BUSY,
    acl=("connection",),
    group="connection",
    since="6.0.0",
)
def hello_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """HELLO [protover [AUTH username password] [SETNAME clientname]]"""
    version = 0
    i = 1
    if len(argv) >= 2:
        version = int_arg(argv[1], "ERR Protocol version is not an integer or out of range")
        if version < 2 or version > 3:
            raise CommandError("NOPROTO unsupported protocol version")
        i = 2
    while i < len(argv):
        more = len(argv) - 1 - i
        option = argv[i].upper()
        if option == b"AUTH" and more >= 2:
            if not check_password(ctx, argv[i + 1], argv[i + 2]):
                raise CommandError(ERR_INVALID_PASSWORD)
            ctx.authenticated = True
            ctx.user = argv[i + 1]
            i += 3
        elif option == b"SETNAME" and more >= 1:
            if not valid_client_name(argv[i + 1]):
                raise CommandError(
                    "ERR Client names cannot contain spaces, newlines or special characters."
                )
            ctx.name = argv[i + 1]
            i += 2
        else:
            shown = argv[i].decode("utf-8", "surrogateescape")
            raise CommandError(f"ERR Syntax error in HELLO option '{shown}'")
    if not ctx.authenticated:
        raise CommandError(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
            "HELLO AUTH <user> <pass> option can be used to authenticate the client and select "
            "the RESP protocol version at the same time"
        )
    if version:
        ctx.resp3 = version == 3
    app = ctx.app
    reply: dict[bytes, Reply] = {
        b"server": b"redis",
        b"version": REDIS_VERSION.encode(),
        b"proto": 3 if ctx.resp3 else 2,
        b"id": ctx.id,
        b"mode": b"sentinel" if app.config.sentinel_mode else b"standalone",
    }
    if not app.config.sentinel_mode:
        reply[b"role"] = b"replica" if app.is_replica else b"master"
    reply[b"modules"] = []
    return reply


@command(
    "SELECT",
    arity=2,
    flags=Flag.LOADING | Flag.STALE | Flag.FAST,
    acl=("connection",),
    group="connection",
)
def select_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SELECT index"""
    index = int_arg(argv[1])
    dbs = ctx.app.keyspace.dbs
    if index < 0 or index >= len(dbs):
        raise CommandError(ERR_DB_INDEX)
    ctx.db = dbs[index]
    return OK


@command(
    "RESET",
    arity=1,
    flags=Flag.NOSCRIPT | Flag.LOADING | Flag.STALE | Flag.FAST | Flag.NO_AUTH | Flag.ALLOW_BUSY,
    acl=("connection",),
    group="connection",
    since="6.2.0",
)
def reset_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """RESET"""
    if ctx.is_replica or ctx.is_primary_link:
        raise CommandError("ERR can only reset normal client connections")
    app = ctx.app
    for hook in app.reset_hooks:
        hook(ctx)
    ctx.multi = None
    ctx.multi_error = False
    ctx.db = app.keyspace.dbs[0]
    ctx.resp3 = False
    ctx.name = b""
    ctx.reply_mode = REPLY_ON
    ctx.user = b"default"
    ctx.authenticated = not app.config["requirepass"]
    if ctx in app.monitors:
        app.monitors.remove(ctx)
    return SimpleString(b"RESET")


# --- CLIENT ---

container("CLIENT", group="connection", since="2.4.0", acl=("connection",))

_CLIENT = Flag.NOSCRIPT | Flag.LOADING | Flag.STALE


@command(
    "CLIENT|ID", arity=2, flags=_CLIENT, acl=("connection",), group="connection", since="5.0.0"
)
def client_id_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """CLIENT ID"""
    return ctx.id


@command(
    "CLIENT|SETNAME", arity=3, flags=_CLIENT, acl=("connection",), group="connection", since="2.6.9"
)
def client_setname_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """CLIENT SETNAME connection-name"""
    if not valid_client_name(argv[2]):
        raise CommandError(
            "ERR Client names cannot contain spaces, newlines or special characters."
        )
    ctx.name = argv[2]
    return OK


@command(
    "CLIENT|GETNAME", arity=2, flags=_CLIENT, acl=("connection",), group="connection", since="2.6.9"
)
def client_getname_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """CLIENT GETNAME"""
    return ctx.name or None


@command(
    "CLIENT|SETINFO", arity=4, flags=_CLIENT, acl=("connection",), group="connection", since="7.2.0"
)
def client_setinfo_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """CLIENT SETINFO <LIB-NAME libname | LIB-VER libver>"""
    attr = argv[2].upper()
    value = argv[3]
    if attr not in (b"LIB-NAME", b"LIB-VER"):
        shown = argv[2].decode("utf-8", "surrogateescape")
        raise CommandError(f"ERR Unrecognized option '{shown}'")
    if not all(33 <= b <= 126 for b in value):
        field = attr.decode().lower()
        raise CommandError(f"ERR {field} cannot contain spaces, newlines or special characters.")
    if attr == b"LIB-NAME":
        ctx.lib_name = value
    else:
        ctx.lib_ver = value
    return OK


@command(
    "CLIENT|REPLY", arity=3, flags=_CLIENT, acl=("connection",), group="connection", since="3.2.0"
)
def client_reply_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """CLIENT REPLY <ON | OFF | SKIP>"""
    mode = argv[2].upper()
    if mode == b"ON":
        ctx.reply_mode = REPLY_ON
        return OK
    if mode == b"OFF":
        ctx.reply_mode = REPLY_OFF
        return NO_REPLY
    if mode == b"SKIP":
        if ctx.reply_mode is not REPLY_OFF:
            ctx.reply_mode = REPLY_SKIP
        return NO_REPLY
    return RespError(ERR_SYNTAX)


@command(
    "CLIENT|UNBLOCK",
    arity=-3,
    flags=Flag.ADMIN | Flag.NOSCRIPT | Flag.LOADING | Flag.STALE | Flag.SENTINEL,
    acl=("connection",),
    group="connection",
    since="5.0.0",
)
def client_unblock_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """CLIENT UNBLOCK client-id [TIMEOUT | ERROR]"""
    if len(argv) > 4:
        raise CommandError(err_subcommand_syntax(argv[1], "client"))
    error = False
    if len(argv) == 4:
        reason = argv[3].upper()
        if reason == b"ERROR":
            error = True
        elif reason != b"TIMEOUT":
            raise CommandError(ERR_UNBLOCK_REASON)
    client_id = int_arg(argv[2])
    return 1 if ctx.app.blocking.unblock(client_id, error) else 0

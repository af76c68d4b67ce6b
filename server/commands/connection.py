"""Connection commands (Redis group "connection"): PING, ECHO, HELLO, AUTH, SELECT, CLIENT, ..."""

from __future__ import annotations

import time

from protocol.resp import OK, PONG, RespError, SimpleString, Verbatim
from server.app import REDIS_VERSION
from server.commands.args import int_arg
from server.commands.table import Flag, Reply, command, container
from server.context import NO_REPLY, REPLY_OFF, REPLY_ON, REPLY_SKIP, CommandContext
from server.errors import (
    ERR_AUTH_NOT_CONFIGURED,
    ERR_CLIENT_ID,
    ERR_DB_INDEX,
    ERR_INVALID_CLIENT_ID,
    ERR_INVALID_PASSWORD,
    ERR_NO_SUCH_CLIENT,
    ERR_NO_SUCH_USER,
    ERR_PAUSE_MODE,
    ERR_SYNTAX,
    ERR_TIMEOUT_NEGATIVE,
    ERR_TIMEOUT_NOT_INTEGER,
    ERR_UNBLOCK_REASON,
    ERR_UNKNOWN_CLIENT_TYPE,
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


@command(
    "ECHO",
    arity=2,
    flags=Flag.LOADING | Flag.STALE | Flag.FAST,
    acl=("connection",),
    group="connection",
)
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

container("CLIENT", group="connection", since="2.4.0", flags=Flag.SENTINEL)

_CLIENT = Flag.NOSCRIPT | Flag.LOADING | Flag.STALE | Flag.SENTINEL


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
    "CLIENT|NO-EVICT",
    arity=3,
    flags=_CLIENT | Flag.ADMIN | Flag.SENTINEL,
    acl=("connection",),
    group="connection",
    since="7.0.0",
)
def client_no_evict_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """CLIENT NO-EVICT <ON | OFF>"""
    mode = argv[2].upper()
    if mode not in (b"ON", b"OFF"):
        raise CommandError(ERR_SYNTAX)
    ctx.no_evict = mode == b"ON"
    return OK


@command(
    "CLIENT|NO-TOUCH",
    arity=3,
    flags=_CLIENT | Flag.SENTINEL,
    acl=("connection",),
    group="connection",
    since="7.2.0",
)
def client_no_touch_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """CLIENT NO-TOUCH <ON | OFF>"""
    mode = argv[2].upper()
    if mode not in (b"ON", b"OFF"):
        raise CommandError(ERR_SYNTAX)
    ctx.no_touch = mode == b"ON"
    return OK


# --- CLIENT LIST / INFO / KILL ---

_CLIENT_TYPES = {b"normal": "normal", b"master": "master", b"replica": "slave", b"slave": "slave"}
_CLIENT_TYPES[b"pubsub"] = "pubsub"


def client_type(ctx: CommandContext) -> str:
    """getClientType: master (our link to a primary), slave (a replica of ours), pubsub, normal.
    A MONITOR client is "normal", as in Redis."""
    if ctx.is_primary_link:
        return "master"
    if ctx.is_replica:
        return "slave"
    if ctx.subscribed:
        return "pubsub"
    return "normal"


def _parse_client_type(raw: bytes) -> str:
    kind = _CLIENT_TYPES.get(raw.lower())
    if kind is None:
        raise CommandError(ERR_UNKNOWN_CLIENT_TYPE % raw.decode("utf-8", "surrogateescape"))
    return kind


def client_info_line(ctx: CommandContext, now: float) -> str:
    """catClientInfoString, field by field in Redis 7.0's order."""
    app = ctx.app
    flags = ""
    if ctx.is_replica:
        flags += "O" if ctx in app.monitors else "S"
    elif ctx in app.monitors:
        flags += "O"
    if ctx.is_primary_link:
        flags += "M"
    if ctx.subscribed:
        flags += "P"
    if ctx.multi is not None:
        flags += "x"
    if ctx.blocked is not None or ctx.held is not None:
        flags += "b"
    if ctx.multi_error:
        flags += "d"
    if ctx.close_after_reply:
        flags += "c"
    if ctx.no_evict:
        flags += "e"
    if ctx.no_touch:
        flags += "T"
    if not flags:
        flags = "N"
    name = ctx.name.decode("utf-8", "surrogateescape")
    sub, psub, ssub = _subscription_counts(ctx)
    multi = len(ctx.multi) if ctx.multi is not None else -1
    multi_mem = sum(len(a) for _, argv in ctx.multi for a in argv) if ctx.multi else 0
    spec = ctx.current_spec
    cmd = spec.name if spec is not None else "NULL"
    user = ctx.user.decode("utf-8", "surrogateescape")
    return (
        f"id={ctx.id} addr={ctx.addr} laddr={ctx.laddr} fd={ctx.fd} name={name} "
        f"age={int(now - ctx.created_s)} idle={int(now - ctx.last_interaction_s)} "
        f"flags={flags} db={ctx.db.index} sub={sub} psub={psub} ssub={ssub} multi={multi} "
        f"qbuf=0 qbuf-free=0 argv-mem=0 multi-mem={multi_mem} rbs=1024 rbp=0 obl=0 oll=0 "
        f"omem=0 tot-mem={1024 + multi_mem} events=r cmd={cmd} user={user} redir=-1 "
        f"resp={3 if ctx.resp3 else 2}"
    )


def _subscription_counts(ctx: CommandContext) -> tuple[int, int, int]:
    """Channels, patterns and shard channels, if the pub/sub family tells us (else all in sub)."""
    counts = ctx.app.subscription_counts
    if counts is not None:
        return counts(ctx)
    return ctx.subscribed, 0, 0


@command(
    "CLIENT|LIST",
    arity=-2,
    flags=_CLIENT | Flag.ADMIN | Flag.SENTINEL,
    acl=("connection",),
    group="connection",
    since="2.4.0",
)
def client_list_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """CLIENT LIST [TYPE <NORMAL | MASTER | REPLICA | PUBSUB>] [ID client-id [client-id ...]]"""
    app = ctx.app
    now = time.time()
    if len(argv) == 4 and argv[2].upper() == b"TYPE":
        kind = _parse_client_type(argv[3])
        chosen = [c for c in app.clients.values() if client_type(c) == kind]
    elif len(argv) > 3 and argv[2].upper() == b"ID":
        chosen = []
        for raw in argv[3:]:
            client_id = int_arg(raw, ERR_INVALID_CLIENT_ID)
            found = app.clients.get(client_id)
            if found is not None:
                chosen.append(found)
    elif len(argv) != 2:
        raise CommandError(ERR_SYNTAX)
    else:
        chosen = list(app.clients.values())
    text = "".join(client_info_line(c, now) + "\n" for c in chosen)
    data = text.encode("utf-8", "surrogateescape")
    return Verbatim(data, b"txt") if ctx.resp3 else data


@command(
    "CLIENT|INFO",
    arity=2,
    flags=_CLIENT | Flag.SENTINEL,
    acl=("connection",),
    group="connection",
    since="6.2.0",
)
def client_info_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """CLIENT INFO"""
    data = (client_info_line(ctx, time.time()) + "\n").encode("utf-8", "surrogateescape")
    return Verbatim(data, b"txt") if ctx.resp3 else data


@command(
    "CLIENT|KILL",
    arity=-3,
    flags=_CLIENT | Flag.ADMIN | Flag.SENTINEL,
    acl=("connection",),
    group="connection",
    since="2.4.0",
)
def client_kill_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """CLIENT KILL <ip:port | <[ID client-id] | [TYPE <NORMAL | MASTER | SLAVE | REPLICA |
    PUBSUB>] | [USER username] | [ADDR ip:port] | [LADDR ip:port] | [SKIPME <YES | NO>] |
    [MAXAGE maxage]> [...]>"""
    addr: str | None = None
    laddr: str | None = None
    user: bytes | None = None
    kind: str | None = None
    client_id = 0
    max_age: int | None = None
    skipme = True
    old_form = len(argv) == 3
    if old_form:
        addr = argv[2].decode("utf-8", "surrogateescape")
        skipme = False  # with the old form a client may kill itself
    else:
        i = 2
        while i < len(argv):
            option = argv[i].upper()
            more = i + 1 < len(argv)
            if option == b"ID" and more:
                client_id = int_arg(argv[i + 1], ERR_CLIENT_ID)
                if client_id < 1:
                    raise CommandError(ERR_CLIENT_ID)
            elif option == b"TYPE" and more:
                kind = _parse_client_type(argv[i + 1])
            elif option == b"ADDR" and more:
                addr = argv[i + 1].decode("utf-8", "surrogateescape")
            elif option == b"LADDR" and more:
                laddr = argv[i + 1].decode("utf-8", "surrogateescape")
            elif option == b"USER" and more:
                user = argv[i + 1]
                if user != b"default" and not ctx.app.user_exists(user):
                    shown = user.decode("utf-8", "surrogateescape")
                    raise CommandError(ERR_NO_SUCH_USER % shown)
            elif option == b"SKIPME" and more:
                answer = argv[i + 1].upper()
                if answer not in (b"YES", b"NO"):
                    raise CommandError(ERR_SYNTAX)
                skipme = answer == b"YES"
            elif option == b"MAXAGE" and more:
                # Redis 7.4's filter; 7.0 answers a syntax error here.
                max_age = int_arg(argv[i + 1])
            else:
                raise CommandError(ERR_SYNTAX)
            i += 2
    now = time.time()
    killed = 0
    for other in list(ctx.app.clients.values()):
        if addr is not None and other.addr != addr:
            continue
        if laddr is not None and other.laddr != laddr:
            continue
        if kind is not None and client_type(other) != kind:
            continue
        if client_id and other.id != client_id:
            continue
        if user is not None and other.user != user:
            continue
        if max_age is not None and now - other.created_s < max_age:
            continue
        if other is ctx and skipme:
            continue
        if other is ctx:
            # Closed once this reply is written.
            ctx.close_after_reply = True
        else:
            other.kill()
        killed += 1
    if old_form:
        if not killed:
            raise CommandError(ERR_NO_SUCH_CLIENT)
        return OK
    return killed


# --- CLIENT PAUSE / UNPAUSE ---


@command(
    "CLIENT|PAUSE",
    arity=-3,
    flags=_CLIENT | Flag.ADMIN | Flag.SENTINEL,
    acl=("connection",),
    group="connection",
    since="2.9.50",
)
def client_pause_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """CLIENT PAUSE timeout [WRITE | ALL]"""
    if len(argv) > 4:
        raise CommandError(err_subcommand_syntax(argv))
    pause_all = True
    if len(argv) == 4:
        mode = argv[3].upper()
        if mode not in (b"WRITE", b"ALL"):
            raise CommandError(ERR_PAUSE_MODE)
        pause_all = mode == b"ALL"
    timeout_ms = int_arg(argv[2], ERR_TIMEOUT_NOT_INTEGER)
    if timeout_ms < 0:
        raise CommandError(ERR_TIMEOUT_NEGATIVE)
    ctx.app.pause_clients(time.monotonic() + timeout_ms / 1000, pause_all)
    return OK


@command(
    "CLIENT|UNPAUSE",
    arity=2,
    flags=_CLIENT | Flag.ADMIN | Flag.SENTINEL,
    acl=("connection",),
    group="connection",
    since="6.2.0",
)
def client_unpause_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """CLIENT UNPAUSE"""
    ctx.app.unpause()
    return OK


@command(
    "CLIENT|HELP",
    arity=2,
    flags=Flag.LOADING | Flag.STALE | Flag.SENTINEL,
    acl=("connection",),
    group="connection",
    since="5.0.0",
)
def client_help_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """CLIENT HELP"""
    from server.commands.admin import help_reply

    return help_reply(argv, _CLIENT_HELP)


_CLIENT_HELP = [
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
]


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
        raise CommandError(err_subcommand_syntax(argv))
    error = False
    if len(argv) == 4:
        reason = argv[3].upper()
        if reason == b"ERROR":
            error = True
        elif reason != b"TIMEOUT":
            raise CommandError(ERR_UNBLOCK_REASON)
    client_id = int_arg(argv[2])
    return 1 if ctx.app.blocking.unblock(client_id, error) else 0

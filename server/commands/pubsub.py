"""Pub/sub commands (Redis group "pubsub"): SUBSCRIBE, PUBLISH, PUBSUB, sharded variants.

Subscribe and unsubscribe confirmations are pushes, one per channel, carrying the client's
subscription count after that channel: channels plus patterns for the classic commands,
shard channels alone for SSUBSCRIBE / SUNSUBSCRIBE (pubsub.c). They are RESP3 push frames or
RESP2 arrays, and these commands send no reply of their own. The registry is server/pubsub.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from protocol.resp import Push, SimpleString
from server.commands.table import Flag, Reply, command, container
from server.context import NO_REPLY, CommandContext
from server.errors import ERR_DENY_BLOCKING, ERR_SUBCOMMAND_SYNTAX, CommandError
from server.pubsub import ClientSubscriptions
from storage.glob import compile_pattern

_SUB = Flag.PUBSUB | Flag.NOSCRIPT | Flag.LOADING | Flag.STALE
_INTROSPECT = Flag.PUBSUB | Flag.LOADING | Flag.STALE

SUBSCRIBE: Final = b"subscribe"
UNSUBSCRIBE: Final = b"unsubscribe"
PSUBSCRIBE: Final = b"psubscribe"
PUNSUBSCRIBE: Final = b"punsubscribe"
SSUBSCRIBE: Final = b"ssubscribe"
SUNSUBSCRIBE: Final = b"sunsubscribe"


def _count(subs: ClientSubscriptions) -> int:
    return subs.count()


def _shard_count(subs: ClientSubscriptions) -> int:
    return len(subs.shard_channels)


def _unsubscribe(
    ctx: CommandContext,
    argv: list[bytes],
    kind: bytes,
    current: Callable[[ClientSubscriptions], dict[bytes, None]],
    remove: Callable[[CommandContext, bytes], bool],
    count: Callable[[ClientSubscriptions], int],
) -> Reply:
    """The shared body of UNSUBSCRIBE, PUNSUBSCRIBE and SUNSUBSCRIBE.

    With no argument every subscription of the kind is dropped, in the order they were made;
    when there was none, one confirmation with a null name still tells the client its count.
    """
    registry = ctx.app.pubsub
    names = argv[1:] if len(argv) > 1 else list(current(registry.peek(ctx)))
    if not names:
        ctx.push(Push([kind, None, count(registry.peek(ctx))]))
        return NO_REPLY
    for name in names:
        remove(ctx, name)
        ctx.push(Push([kind, name, count(registry.peek(ctx))]))
    return NO_REPLY


# --- classic channels and patterns ---


@command("SUBSCRIBE", arity=-2, flags=_SUB | Flag.SENTINEL, group="pubsub", since="2.0.0")
def subscribe_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SUBSCRIBE channel [channel ...]"""
    registry = ctx.app.pubsub
    for channel in argv[1:]:
        registry.subscribe(ctx, channel)
        ctx.push(Push([SUBSCRIBE, channel, registry.peek(ctx).count()]))
    return NO_REPLY


@command("UNSUBSCRIBE", arity=-1, flags=_SUB | Flag.SENTINEL, group="pubsub", since="2.0.0")
def unsubscribe_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """UNSUBSCRIBE [channel [channel ...]]"""
    registry = ctx.app.pubsub
    return _unsubscribe(ctx, argv, UNSUBSCRIBE, _channels, registry.unsubscribe, _count)


@command("PSUBSCRIBE", arity=-2, flags=_SUB | Flag.SENTINEL, group="pubsub", since="2.0.0")
def psubscribe_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """PSUBSCRIBE pattern [pattern ...]"""
    registry = ctx.app.pubsub
    for pattern in argv[1:]:
        registry.psubscribe(ctx, pattern)
        ctx.push(Push([PSUBSCRIBE, pattern, registry.peek(ctx).count()]))
    return NO_REPLY


@command("PUNSUBSCRIBE", arity=-1, flags=_SUB | Flag.SENTINEL, group="pubsub", since="2.0.0")
def punsubscribe_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """PUNSUBSCRIBE [pattern [pattern ...]]"""
    registry = ctx.app.pubsub
    return _unsubscribe(ctx, argv, PUNSUBSCRIBE, _patterns, registry.punsubscribe, _count)


@command(
    "PUBLISH",
    arity=3,
    flags=Flag.PUBSUB | Flag.LOADING | Flag.STALE | Flag.FAST | Flag.MAY_REPLICATE | Flag.SENTINEL,
    group="pubsub",
    since="2.0.0",
)
def publish_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """PUBLISH channel message"""
    return ctx.app.pubsub.publish(argv[1], argv[2])


# --- shard channels ---


@command("SSUBSCRIBE", arity=-2, flags=_SUB, keys=(1, -1, 1), group="pubsub", since="7.0.0")
def ssubscribe_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SSUBSCRIBE shardchannel [shardchannel ...]"""
    # Inside EXEC a client must get one reply per command; SUBSCRIBE and PSUBSCRIBE are
    # tolerated there for compatibility, SSUBSCRIBE is not (pubsub.c).
    if ctx.app.in_exec:
        raise CommandError(ERR_DENY_BLOCKING % "SSUBSCRIBE")
    registry = ctx.app.pubsub
    for channel in argv[1:]:
        registry.ssubscribe(ctx, channel)
        ctx.push(Push([SSUBSCRIBE, channel, len(registry.peek(ctx).shard_channels)]))
    return NO_REPLY


@command("SUNSUBSCRIBE", arity=-1, flags=_SUB, keys=(1, -1, 1), group="pubsub", since="7.0.0")
def sunsubscribe_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SUNSUBSCRIBE [shardchannel [shardchannel ...]]"""
    registry = ctx.app.pubsub
    return _unsubscribe(
        ctx, argv, SUNSUBSCRIBE, _shard_channels, registry.sunsubscribe, _shard_count
    )


@command(
    "SPUBLISH",
    arity=3,
    flags=Flag.PUBSUB | Flag.LOADING | Flag.STALE | Flag.FAST | Flag.MAY_REPLICATE,
    keys=(1, 1, 1),
    group="pubsub",
    since="7.0.0",
)
def spublish_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SPUBLISH shardchannel message"""
    return ctx.app.pubsub.spublish(argv[1], argv[2])


def _channels(subs: ClientSubscriptions) -> dict[bytes, None]:
    return subs.channels


def _patterns(subs: ClientSubscriptions) -> dict[bytes, None]:
    return subs.patterns


def _shard_channels(subs: ClientSubscriptions) -> dict[bytes, None]:
    return subs.shard_channels


# --- PUBSUB introspection ---

container("PUBSUB", group="pubsub", since="2.8.0")

_HELP: Final = [
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
]


def _syntax_error(argv: list[bytes]) -> CommandError:
    """addReplySubcommandSyntaxError: the subcommand as typed, the command upper-cased."""
    sub = argv[1][:128].decode("utf-8", "surrogateescape")
    name = argv[0].upper().decode("utf-8", "surrogateescape")
    return CommandError(ERR_SUBCOMMAND_SYNTAX % (sub, name))


def _channel_list(argv: list[bytes], channels: dict[bytes, dict[CommandContext, None]]) -> Reply:
    if len(argv) > 3:
        raise _syntax_error(argv)
    if len(argv) == 2:
        return list(channels)
    match = compile_pattern(argv[2])
    return [channel for channel in channels if match(channel)]


def _numsub(argv: list[bytes], channels: dict[bytes, dict[CommandContext, None]]) -> Reply:
    out: list[bytes | int] = []
    for channel in argv[2:]:
        out.append(channel)
        out.append(len(channels.get(channel, ())))
    return out


@command("PUBSUB|HELP", arity=2, flags=Flag.LOADING | Flag.STALE, group="pubsub", since="6.2.0")
def pubsub_help_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """PUBSUB HELP"""
    name = argv[0].upper()
    head = b"%b <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" % name
    return [SimpleString(head)] + [SimpleString(line.encode()) for line in _HELP]


@command("PUBSUB|CHANNELS", arity=-2, flags=_INTROSPECT, group="pubsub", since="2.8.0")
def pubsub_channels_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """PUBSUB CHANNELS [pattern]"""
    return _channel_list(argv, ctx.app.pubsub.channels)


@command("PUBSUB|NUMSUB", arity=-2, flags=_INTROSPECT, group="pubsub", since="2.8.0")
def pubsub_numsub_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """PUBSUB NUMSUB [channel [channel ...]]"""
    return _numsub(argv, ctx.app.pubsub.channels)


@command("PUBSUB|NUMPAT", arity=2, flags=_INTROSPECT, group="pubsub", since="2.8.0")
def pubsub_numpat_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """PUBSUB NUMPAT"""
    return len(ctx.app.pubsub.patterns)


@command("PUBSUB|SHARDCHANNELS", arity=-2, flags=_INTROSPECT, group="pubsub", since="7.0.0")
def pubsub_shardchannels_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """PUBSUB SHARDCHANNELS [pattern]"""
    return _channel_list(argv, ctx.app.pubsub.shard_channels)


@command("PUBSUB|SHARDNUMSUB", arity=-2, flags=_INTROSPECT, group="pubsub", since="7.0.0")
def pubsub_shardnumsub_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """PUBSUB SHARDNUMSUB [shardchannel [shardchannel ...]]"""
    return _numsub(argv, ctx.app.pubsub.shard_channels)

"""The pub/sub registry: who listens to which channel, pattern or shard channel, and delivery.

No command parsing and no confirmations here (server/commands/pubsub.py sends those). A
subscriber is a client context; messages leave through its `push`, which writes the frame at
once (or into the batch the client itself is running). Each message is encoded once per
protocol version, however many clients receive it.

Strategy (order): Redis keeps the subscribers of a channel in a list, so a message reaches
them in subscription order; we keep insertion-ordered dicts for the same effect with O(1)
removal. A client's patterns are a list in Redis too (PUNSUBSCRIBE with no argument walks
them in subscription order); its channels are a hash table, whose order Redis does not
define, so ours (subscription order) is as good as any.

Shard channels (SSUBSCRIBE / SPUBLISH) are a separate namespace and never match patterns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from protocol.resp import Push, RawReply, encode_reply
from storage.glob import compile_pattern

if TYPE_CHECKING:
    from server.context import CommandContext

Subscribers = dict["CommandContext", None]

MESSAGE: Final = b"message"
PMESSAGE: Final = b"pmessage"
SMESSAGE: Final = b"smessage"


class ClientSubscriptions:
    """One client's subscriptions, each an insertion-ordered set."""

    __slots__ = ("channels", "patterns", "shard_channels")

    def __init__(self) -> None:
        self.channels: dict[bytes, None] = {}
        self.patterns: dict[bytes, None] = {}
        self.shard_channels: dict[bytes, None] = {}

    def count(self) -> int:
        """Channels plus patterns: the number SUBSCRIBE / PSUBSCRIBE confirmations carry."""
        return len(self.channels) + len(self.patterns)

    def total(self) -> int:
        return len(self.channels) + len(self.patterns) + len(self.shard_channels)


_NONE: Final = ClientSubscriptions()


class _Pattern:
    __slots__ = ("match", "subscribers")

    def __init__(self, pattern: bytes) -> None:
        self.match: Callable[[bytes], bool] = compile_pattern(pattern)
        self.subscribers: Subscribers = {}


class PubSub:
    """Every subscription of the server, both ways: channel -> clients and client -> channels.

    Empty entries are removed at once, as Redis does, so PUBSUB CHANNELS lists only channels
    with subscribers and NUMPAT counts only patterns someone listens to.
    """

    __slots__ = ("_clients", "channels", "patterns", "shard_channels")

    def __init__(self) -> None:
        self.channels: dict[bytes, Subscribers] = {}
        self.patterns: dict[bytes, _Pattern] = {}
        self.shard_channels: dict[bytes, Subscribers] = {}
        self._clients: dict[int, ClientSubscriptions] = {}

    # --- per client ---

    def of(self, ctx: CommandContext) -> ClientSubscriptions:
        """The subscriptions of `ctx`, created empty if it has none (to add to them)."""
        subs = self._clients.get(ctx.id)
        if subs is None:
            subs = self._clients[ctx.id] = ClientSubscriptions()
        return subs

    def peek(self, ctx: CommandContext) -> ClientSubscriptions:
        """The subscriptions of `ctx` for reading (a shared empty record if it has none)."""
        return self._clients.get(ctx.id, _NONE)

    def _sync(self, ctx: CommandContext, subs: ClientSubscriptions) -> None:
        """Keep ctx.subscribed (dispatch's subscribed-mode test) equal to the total."""
        total = subs.total()
        ctx.subscribed = total
        if not total:
            self._clients.pop(ctx.id, None)

    # --- subscribe / unsubscribe ---

    def subscribe(self, ctx: CommandContext, channel: bytes) -> bool:
        """Add a channel subscription; False if `ctx` already had it."""
        return self._add(ctx, channel, self.of(ctx).channels, self.channels)

    def ssubscribe(self, ctx: CommandContext, channel: bytes) -> bool:
        return self._add(ctx, channel, self.of(ctx).shard_channels, self.shard_channels)

    def unsubscribe(self, ctx: CommandContext, channel: bytes) -> bool:
        """Remove a channel subscription; False if `ctx` did not have it."""
        subs = self._clients.get(ctx.id)
        if subs is None:
            return False
        return self._remove(ctx, subs, channel, subs.channels, self.channels)

    def sunsubscribe(self, ctx: CommandContext, channel: bytes) -> bool:
        subs = self._clients.get(ctx.id)
        if subs is None:
            return False
        return self._remove(ctx, subs, channel, subs.shard_channels, self.shard_channels)

    def psubscribe(self, ctx: CommandContext, pattern: bytes) -> bool:
        subs = self.of(ctx)
        if pattern in subs.patterns:
            return False
        subs.patterns[pattern] = None
        entry = self.patterns.get(pattern)
        if entry is None:
            entry = self.patterns[pattern] = _Pattern(pattern)
        entry.subscribers[ctx] = None
        ctx.subscribed = subs.total()
        return True

    def punsubscribe(self, ctx: CommandContext, pattern: bytes) -> bool:
        subs = self._clients.get(ctx.id)
        if subs is None or pattern not in subs.patterns:
            return False
        del subs.patterns[pattern]
        entry = self.patterns[pattern]
        del entry.subscribers[ctx]
        if not entry.subscribers:
            del self.patterns[pattern]
        self._sync(ctx, subs)
        return True

    def _add(
        self,
        ctx: CommandContext,
        channel: bytes,
        mine: dict[bytes, None],
        registry: dict[bytes, Subscribers],
    ) -> bool:
        if channel in mine:
            return False
        mine[channel] = None
        listeners = registry.get(channel)
        if listeners is None:
            listeners = registry[channel] = {}
        listeners[ctx] = None
        ctx.subscribed += 1
        return True

    def _remove(
        self,
        ctx: CommandContext,
        subs: ClientSubscriptions,
        channel: bytes,
        mine: dict[bytes, None],
        registry: dict[bytes, Subscribers],
    ) -> bool:
        if channel not in mine:
            return False
        del mine[channel]
        listeners = registry[channel]
        del listeners[ctx]
        if not listeners:
            del registry[channel]
        self._sync(ctx, subs)
        return True

    def drop(self, ctx: CommandContext) -> None:
        """Forget every subscription of `ctx`, silently (RESET, disconnect)."""
        subs = self._clients.get(ctx.id)
        if subs is None:
            ctx.subscribed = 0
            return
        for channel in list(subs.channels):
            self.unsubscribe(ctx, channel)
        for channel in list(subs.shard_channels):
            self.sunsubscribe(ctx, channel)
        for pattern in list(subs.patterns):
            self.punsubscribe(ctx, pattern)
        self._clients.pop(ctx.id, None)
        ctx.subscribed = 0

    # --- delivery ---

    def publish(self, channel: bytes, message: bytes) -> int:
        """Send `message` to the channel's subscribers, then to matching patterns.

        Returns:
            How many deliveries were made (a client matching twice counts twice).
        """
        receivers = 0
        listeners = self.channels.get(channel)
        if listeners:
            receivers += _deliver(listeners, Push([MESSAGE, channel, message]))
        if self.patterns:
            for pattern, entry in list(self.patterns.items()):
                if entry.match(channel):
                    frame = Push([PMESSAGE, pattern, channel, message])
                    receivers += _deliver(entry.subscribers, frame)
        return receivers

    def spublish(self, channel: bytes, message: bytes) -> int:
        """Send `message` to the shard channel's subscribers (patterns never match these)."""
        listeners = self.shard_channels.get(channel)
        if not listeners:
            return 0
        return _deliver(listeners, Push([SMESSAGE, channel, message]))


def _deliver(listeners: Subscribers, frame: Push) -> int:
    """Push `frame` to every listener, encoding it at most once per protocol version."""
    encoded: list[RawReply | None] = [None, None]
    count = 0
    # A push may cut a slow subscriber off; its removal comes later, but copy to be safe.
    for ctx in list(listeners):
        resp3 = ctx.resp3
        raw = encoded[resp3]
        if raw is None:
            raw = encoded[resp3] = RawReply(encode_reply(frame, resp3))
        ctx.push(raw)
        count += 1
    return count

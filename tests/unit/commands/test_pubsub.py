"""Pub/sub in-process: confirmations, delivery, introspection, cleanup on RESET and close."""

from __future__ import annotations

from typing import Any

import hiredis
import pytest

from protocol.resp import OK, Push, RawReply, RespError, SimpleString, encode_reply
from server.context import NO_REPLY, CommandContext
from tests.support import Runner


class Inbox:
    """Collects what a client is pushed, decoded to Python values as RESP2 would carry them."""

    def __init__(self, ctx: CommandContext) -> None:
        self.frames: list[Any] = []
        ctx.push = self.frames.append

    def take(self) -> list[list[Any]]:
        out = [_plain(f) for f in self.frames]
        self.frames.clear()
        return out


def _plain(frame: Any) -> Any:
    if type(frame) is RawReply:
        reader = hiredis.Reader()
        reader.feed(bytes(frame))
        return reader.gets()
    return list(frame)


@pytest.fixture
def sub(run: Runner) -> tuple[CommandContext, Inbox]:
    ctx = run.client()
    return ctx, Inbox(ctx)


def test_subscribe_confirms_each_channel_with_the_running_count(run: Runner, sub) -> None:
    ctx, inbox = sub
    assert run("SUBSCRIBE", "a", "b", "a", ctx=ctx) is NO_REPLY
    assert inbox.take() == [
        [b"subscribe", b"a", 1],
        [b"subscribe", b"b", 2],
        [b"subscribe", b"a", 2],
    ]
    assert ctx.subscribed == 2


def test_confirmations_are_push_frames(run: Runner, sub) -> None:
    ctx, inbox = sub
    run("SUBSCRIBE", "a", ctx=ctx)
    assert type(inbox.frames[0]) is Push
    assert encode_reply(inbox.frames[0], True) == b">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
    assert encode_reply(inbox.frames[0], False) == b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"


def test_publish_counts_receivers_and_delivers_message(run: Runner, sub) -> None:
    ctx, inbox = sub
    run("SUBSCRIBE", "news", ctx=ctx)
    inbox.take()
    assert run("PUBLISH", "news", "hello") == 1
    assert run("PUBLISH", "other", "hello") == 0
    assert inbox.take() == [[b"message", b"news", b"hello"]]


def test_message_is_encoded_for_each_subscribers_protocol(run: Runner) -> None:
    two, three = run.client(), run.client()
    three.resp3 = True
    frames: dict[str, list[Any]] = {"two": [], "three": []}
    two.push = frames["two"].append
    three.push = frames["three"].append
    run("SUBSCRIBE", "c", ctx=two)
    run("SUBSCRIBE", "c", ctx=three)
    assert run("PUBLISH", "c", "m") == 2
    assert frames["two"][-1] == b"*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n"
    assert frames["three"][-1] == b">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n"


def test_pattern_subscription_receives_pmessage(run: Runner, sub) -> None:
    ctx, inbox = sub
    run("PSUBSCRIBE", "news.*", "h?llo", ctx=ctx)
    assert inbox.take() == [[b"psubscribe", b"news.*", 1], [b"psubscribe", b"h?llo", 2]]
    assert run("PUBLISH", "news.tech", "x") == 1
    assert run("PUBLISH", "hello", "y") == 1
    assert run("PUBLISH", "news", "z") == 0
    assert inbox.take() == [
        [b"pmessage", b"news.*", b"news.tech", b"x"],
        [b"pmessage", b"h?llo", b"hello", b"y"],
    ]


def test_channel_and_pattern_both_deliver_and_both_count(run: Runner, sub) -> None:
    ctx, inbox = sub
    run("SUBSCRIBE", "a.b", ctx=ctx)
    run("PSUBSCRIBE", "a.*", "*", ctx=ctx)
    inbox.take()
    assert run("PUBLISH", "a.b", "m") == 3
    assert inbox.take() == [
        [b"message", b"a.b", b"m"],
        [b"pmessage", b"a.*", b"a.b", b"m"],
        [b"pmessage", b"*", b"a.b", b"m"],
    ]


def _recorder(order: list[int], i: int) -> Any:
    def push(frame: Any) -> None:
        order.append(i)

    return push


def test_subscribers_get_messages_in_subscription_order(run: Runner) -> None:
    order: list[int] = []
    clients = [run.client() for _ in range(3)]
    for i, c in enumerate(clients):
        c.push = _recorder(order, i)
    for c in reversed(clients):
        run("SUBSCRIBE", "ch", ctx=c)
    order.clear()
    run("PUBLISH", "ch", "m")
    assert order == [2, 1, 0]


def test_unsubscribe_without_arguments_drops_all_in_order(run: Runner, sub) -> None:
    ctx, inbox = sub
    run("SUBSCRIBE", "a", "b", ctx=ctx)
    run("PSUBSCRIBE", "p*", ctx=ctx)
    inbox.take()
    assert run("UNSUBSCRIBE", ctx=ctx) is NO_REPLY
    assert inbox.take() == [[b"unsubscribe", b"a", 2], [b"unsubscribe", b"b", 1]]
    assert ctx.subscribed == 1
    run("PUNSUBSCRIBE", ctx=ctx)
    assert inbox.take() == [[b"punsubscribe", b"p*", 0]]
    assert ctx.subscribed == 0


def test_unsubscribe_with_nothing_subscribed_sends_a_null_channel(run: Runner, sub) -> None:
    ctx, inbox = sub
    run("UNSUBSCRIBE", ctx=ctx)
    run("PUNSUBSCRIBE", ctx=ctx)
    run("SUNSUBSCRIBE", ctx=ctx)
    assert inbox.take() == [
        [b"unsubscribe", None, 0],
        [b"punsubscribe", None, 0],
        [b"sunsubscribe", None, 0],
    ]


def test_unsubscribe_from_an_unknown_channel_still_confirms(run: Runner, sub) -> None:
    ctx, inbox = sub
    run("SUBSCRIBE", "a", ctx=ctx)
    inbox.take()
    run("UNSUBSCRIBE", "zzz", "a", ctx=ctx)
    assert inbox.take() == [[b"unsubscribe", b"zzz", 1], [b"unsubscribe", b"a", 0]]


def test_shard_channels_count_separately_and_ignore_patterns(run: Runner, sub) -> None:
    ctx, inbox = sub
    run("SUBSCRIBE", "c", ctx=ctx)
    run("PSUBSCRIBE", "*", ctx=ctx)
    run("SSUBSCRIBE", "s1", "s2", ctx=ctx)
    assert inbox.take()[-2:] == [[b"ssubscribe", b"s1", 1], [b"ssubscribe", b"s2", 2]]
    assert ctx.subscribed == 4
    assert run("SPUBLISH", "s1", "m") == 1
    assert inbox.take() == [[b"smessage", b"s1", b"m"]]
    # PUBLISH to a shard channel's name reaches only the pattern subscriber.
    assert run("PUBLISH", "s1", "m") == 1
    assert inbox.take() == [[b"pmessage", b"*", b"s1", b"m"]]
    run("SUNSUBSCRIBE", "s1", ctx=ctx)
    assert inbox.take() == [[b"sunsubscribe", b"s1", 1]]


def test_pubsub_channels_numsub_numpat(run: Runner) -> None:
    a, b = run.client(), run.client()
    run("SUBSCRIBE", "news.a", "news.b", "x", ctx=a)
    run("SUBSCRIBE", "news.a", ctx=b)
    run("PSUBSCRIBE", "n*", "m*", ctx=a)
    run("PSUBSCRIBE", "n*", ctx=b)
    assert sorted(run("PUBSUB", "CHANNELS")) == [b"news.a", b"news.b", b"x"]
    assert sorted(run("PUBSUB", "CHANNELS", "news.*")) == [b"news.a", b"news.b"]
    assert run("PUBSUB", "NUMSUB", "news.a", "x", "none") == [b"news.a", 2, b"x", 1, b"none", 0]
    assert run("PUBSUB", "NUMSUB") == []
    assert run("PUBSUB", "NUMPAT") == 2
    run("UNSUBSCRIBE", ctx=a)
    assert run("PUBSUB", "CHANNELS") == [b"news.a"]


def test_pubsub_shard_introspection(run: Runner) -> None:
    a = run.client()
    run("SSUBSCRIBE", "s1", "t1", ctx=a)
    assert sorted(run("PUBSUB", "SHARDCHANNELS")) == [b"s1", b"t1"]
    assert run("PUBSUB", "SHARDCHANNELS", "s*") == [b"s1"]
    assert run("PUBSUB", "SHARDNUMSUB", "s1", "zz") == [b"s1", 1, b"zz", 0]
    assert run("PUBSUB", "CHANNELS") == []


def test_pubsub_errors(run: Runner) -> None:
    assert run("PUBSUB", "CHANNELS", "a", "b") == RespError(
        "ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP."
    )
    assert run("PUBSUB", "NUMPAT", "x") == RespError(
        "ERR wrong number of arguments for 'pubsub|numpat' command"
    )
    assert run("PUBSUB", "FOO") == RespError("ERR unknown subcommand 'FOO'. Try PUBSUB HELP.")
    assert run("PUBSUB") == RespError("ERR wrong number of arguments for 'pubsub' command")
    assert run("PUBLISH", "a") == RespError("ERR wrong number of arguments for 'publish' command")
    assert run("SUBSCRIBE") == RespError("ERR wrong number of arguments for 'subscribe' command")


def test_pubsub_help(run: Runner) -> None:
    lines = run("pubsub", "help")
    assert lines[0] == SimpleString(
        b"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    )
    assert lines[-2:] == [SimpleString(b"HELP"), SimpleString(b"    Prints this help.")]
    assert len(lines) == 14


def test_resp2_subscribed_client_may_only_run_pubsub_commands(run: Runner, sub) -> None:
    ctx, _ = sub
    run("SUBSCRIBE", "a", ctx=ctx)
    assert run("GET", "k", ctx=ctx) == RespError(
        "ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
        "are allowed in this context"
    )
    assert run("PUBSUB", "NUMPAT", ctx=ctx) == RespError(
        "ERR Can't execute 'pubsub|numpat': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / "
        "QUIT / RESET are allowed in this context"
    )
    assert run("PING", ctx=ctx) == [b"pong", b""]
    assert run("PING", "x", ctx=ctx) == [b"pong", b"x"]
    run("UNSUBSCRIBE", ctx=ctx)
    assert run("GET", "k", ctx=ctx) is None


def test_resp3_subscribed_client_may_run_anything(run: Runner, sub) -> None:
    ctx, _ = sub
    ctx.resp3 = True
    run("SUBSCRIBE", "a", ctx=ctx)
    assert run("SET", "k", "v", ctx=ctx) is OK
    assert run("PING", ctx=ctx) == SimpleString(b"PONG")


def test_reset_drops_subscriptions_silently(run: Runner, sub) -> None:
    ctx, inbox = sub
    run("SUBSCRIBE", "a", ctx=ctx)
    run("PSUBSCRIBE", "b*", ctx=ctx)
    run("SSUBSCRIBE", "s", ctx=ctx)
    inbox.take()
    assert run("RESET", ctx=ctx) == SimpleString(b"RESET")
    assert inbox.take() == []
    assert ctx.subscribed == 0
    assert run("PUBLISH", "a", "m") == 0
    assert run("PUBSUB", "NUMPAT") == 0
    assert run("PUBSUB", "SHARDCHANNELS") == []
    assert run("GET", "k", ctx=ctx) is None


def test_disconnect_drops_subscriptions(run: Runner, sub) -> None:
    ctx, _ = sub
    run("SUBSCRIBE", "a", ctx=ctx)
    run("PSUBSCRIBE", "*", ctx=ctx)
    run.app.client_closed(ctx)
    assert run("PUBLISH", "a", "m") == 0
    assert run("PUBSUB", "CHANNELS") == []
    assert run("PUBSUB", "NUMPAT") == 0


def test_subscribe_in_multi_is_allowed_but_ssubscribe_is_not(run: Runner, sub) -> None:
    ctx, inbox = sub
    run("MULTI", ctx=ctx)
    run("SUBSCRIBE", "a", ctx=ctx)
    run("SSUBSCRIBE", "s", ctx=ctx)
    reply = run("EXEC", ctx=ctx)
    # The confirmation sits inside EXEC's reply, where Redis writes it.
    assert reply == RawReply(
        b"*2\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
        b"-ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client\r\n"
    )
    assert inbox.take() == []
    assert ctx.subscribed == 1


def test_publish_to_self_in_resp3_pushes_before_the_reply_in_exec(run: Runner, sub) -> None:
    ctx, _ = sub
    ctx.resp3 = True
    run("SUBSCRIBE", "a", ctx=ctx)
    run("MULTI", ctx=ctx)
    run("PUBLISH", "a", "m", ctx=ctx)
    assert run("EXEC", ctx=ctx) == RawReply(
        b"*1\r\n>3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n:1\r\n"
    )

"""Keyspace notifications in-process: the notify-keyspace-events setting and the events the
commands on this branch, expiry, key creation and misses publish."""

from __future__ import annotations

from typing import Any

import hiredis
import pytest

from protocol.resp import RawReply
from server.config import BY_NAME, Config, ConfigError, format_value
from tests.support import Runner


def _events_setting(text: str) -> str:
    config = Config()
    config.set("notify-keyspace-events", [text])
    return format_value(BY_NAME["notify-keyspace-events"], config["notify-keyspace-events"])


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("", ""),
        ("KEA", "AKE"),
        ("A", "A"),
        ("Kg$lshzxetd", "AK"),
        ("KEn", "nKE"),
        ("Km", "Km"),
        ("nm", "nm"),
        ("E", "E"),
        ("Ag", "A"),
        ("x", "x"),
        ("KEAmn", "AKEm"),
        ("Kz$", "$zK"),
        ("EKgx", "gxKE"),
        ("tdeE", "etdE"),
    ],
)
def test_setting_prints_in_redis_normal_form(given: str, shown: str) -> None:
    # Checked against CONFIG SET / CONFIG GET on redis-server 7.0.15.
    assert _events_setting(given) == shown


def test_setting_rejects_unknown_classes() -> None:
    with pytest.raises(ConfigError) as e:
        _events_setting("KEq")
    assert e.value.text == "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."


def test_a_hides_n_when_printed_but_keeps_it_enabled() -> None:
    run = Runner([("notify-keyspace-events", ["KEAn"])])
    assert "n" in run.app.notify_classes
    assert _events_setting("KEAn") == "AKE"


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        (
            "pubsub 1mb 512kb 10",
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 10",
        ),
        (
            "normal 1k 2 3 replica 4gb 5 6",
            "normal 1000 2 3 slave 4294967296 5 6 pubsub 33554432 8388608 60",
        ),
        ("", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"),
    ],
)
def test_output_buffer_limit_setting_merges_classes(given: str, shown: str) -> None:
    config = Config()
    config.set("client-output-buffer-limit", given.split())
    assert config["client-output-buffer-limit"] == shown


@pytest.mark.parametrize(
    ("given", "error"),
    [
        ("pubsub 1 2", "Wrong number of arguments in buffer limit configuration."),
        ("master 1 2 3", "Invalid client class specified in buffer limit configuration."),
        ("foo 1 2 3", "Invalid client class specified in buffer limit configuration."),
        (
            "pubsub 1x 2 3",
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
        ),
        (
            "pubsub 1 2 -3",
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
        ),
        (
            "pubsub -1 2 3",
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
        ),
    ],
)
def test_output_buffer_limit_errors(given: str, error: str) -> None:
    config = Config()
    with pytest.raises(ConfigError) as e:
        config.set("client-output-buffer-limit", given.split())
    assert e.value.text == error
    assert config["client-output-buffer-limit"].startswith("normal 0 0 0 slave 268435456")


def test_output_buffer_limit_is_parsed_for_the_app() -> None:
    run = Runner([("client-output-buffer-limit", ["pubsub", "1mb", "0", "5"])])
    assert run.app.output_limits["pubsub"] == (1048576, 0, 5)
    assert run.app.output_limits["normal"] == (0, 0, 0)


# --- events ---


class Listener:
    """A client subscribed to every keyspace and keyevent channel."""

    def __init__(self, run: Runner) -> None:
        self.frames: list[Any] = []
        ctx = run.client()
        ctx.push = self.frames.append
        run("PSUBSCRIBE", "__key*__:*", ctx=ctx)
        self.frames.clear()

    def take(self) -> list[tuple[bytes, bytes]]:
        """(channel, message) of every pmessage received since the last call."""
        out = []
        for frame in self.frames:
            assert type(frame) is RawReply
            reader = hiredis.Reader()
            reader.feed(bytes(frame))
            kind, _, channel, message = reader.gets()
            assert kind == b"pmessage"
            out.append((channel, message))
        self.frames.clear()
        return out


def events(run: Runner, classes: str) -> tuple[Runner, Listener]:
    fresh = Runner([("notify-keyspace-events", [classes])])
    return fresh, Listener(fresh)


def both(key: str, event: str, db: int = 0) -> list[tuple[bytes, bytes]]:
    return [
        (f"__keyspace@{db}__:{key}".encode(), event.encode()),
        (f"__keyevent@{db}__:{event}".encode(), key.encode()),
    ]


def test_nothing_is_published_by_default(run: Runner) -> None:
    listener = Listener(run)
    run("SET", "k", "v")
    run("GET", "nope")
    assert listener.take() == []


def test_set_and_set_with_expire(run: Runner) -> None:
    run, listener = events(run, "KEA")
    run("SET", "k", "v")
    assert listener.take() == both("k", "set")
    run("SET", "k", "v", "EX", "10")
    assert listener.take() == both("k", "set") + both("k", "expire")
    run("SET", "k", "v", "NX")
    assert listener.take() == []


def test_del_notifies_each_removed_key(run: Runner) -> None:
    run, listener = events(run, "KEA")
    run("SET", "a", "1")
    run("SET", "b", "1")
    listener.take()
    run("DEL", "a", "nope", "b")
    assert listener.take() == both("a", "del") + both("b", "del")


def test_expired_on_lookup_and_by_the_active_cycle(run: Runner) -> None:
    run, listener = events(run, "KEA")
    run("SET", "a", "1", "PX", "10")
    run("SET", "b", "1", "PX", "10")
    listener.take()
    run.clock.advance(50)
    assert run("GET", "a") is None
    assert listener.take() == both("a", "expired")
    run.app.keyspace.active_expire_cycle(1.0)
    assert listener.take() == both("b", "expired")


def test_new_key_class(run: Runner) -> None:
    run, listener = events(run, "KEn$")
    run("SET", "k", "v")
    assert listener.take() == both("k", "new") + both("k", "set")
    run("SET", "k", "v2")
    assert listener.take() == both("k", "set")


def test_set_over_an_expired_key_is_expired_new_set(run: Runner) -> None:
    run, listener = events(run, "KEAn")
    run("SET", "k", "v", "PX", "10")
    listener.take()
    run.clock.advance(50)
    run("SET", "k", "v2")
    assert listener.take() == both("k", "expired") + both("k", "new") + both("k", "set")


def test_new_is_off_unless_asked_for(run: Runner) -> None:
    run, listener = events(run, "KEA")
    assert run.app.keyspace.on_new_key is None
    run("SET", "k", "v")
    assert listener.take() == both("k", "set")


def test_keymiss_class(run: Runner) -> None:
    run, listener = events(run, "KEm")
    run("SET", "k", "v")
    run("GET", "k")
    assert listener.take() == []
    run("GET", "nope")
    run("EXISTS", "k", "nope2")
    run("TYPE", "nope3")
    run("SET", "nope4", "v", "GET")
    assert listener.take() == (
        both("nope", "keymiss")
        + both("nope2", "keymiss")
        + both("nope3", "keymiss")
        + both("nope4", "keymiss")
    )


def test_keymiss_is_off_unless_asked_for(run: Runner) -> None:
    run, listener = events(run, "KEA")
    assert run.app.keyspace.on_miss is None
    run("GET", "nope")
    assert listener.take() == []


def test_only_keyspace_or_only_keyevent_channels(run: Runner) -> None:
    run, listener = events(run, "K$")
    run("SET", "k", "v")
    assert listener.take() == [(b"__keyspace@0__:k", b"set")]
    run, listener = events(run, "E$")
    run("SET", "k", "v")
    assert listener.take() == [(b"__keyevent@0__:set", b"k")]


def test_classes_filter_events(run: Runner) -> None:
    run, listener = events(run, "Eg")
    run("SET", "k", "v", "EX", "5")
    run("DEL", "k")
    assert listener.take() == [(b"__keyevent@0__:expire", b"k"), (b"__keyevent@0__:del", b"k")]
    run, listener = events(run, "Ex")
    run("SET", "k", "v", "PX", "5")
    run.clock.advance(10)
    run("GET", "k")
    assert listener.take() == [(b"__keyevent@0__:expired", b"k")]


def test_without_k_or_e_nothing_is_published(run: Runner) -> None:
    run, listener = events(run, "A")
    run("SET", "k", "v")
    assert listener.take() == []


def test_events_name_the_database(run: Runner) -> None:
    run, listener = events(run, "KE$")
    run("SELECT", "5")
    run("SET", "k", "v")
    assert listener.take() == both("k", "set", db=5)


def test_events_inside_exec(run: Runner) -> None:
    run, listener = events(run, "KEA")
    run("MULTI")
    run("SET", "a", "1")
    run("DEL", "a")
    run("EXEC")
    assert listener.take() == both("a", "set") + both("a", "del")

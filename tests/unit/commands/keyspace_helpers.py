"""Helpers for the keyspace command tests: captured events, watched keys, built values."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from protocol.resp import encode_command
from storage.hashes import HashValue
from storage.keyspace import Database
from storage.lists import ListValue
from storage.sets import SetValue
from storage.zset import ZSet
from tests.support import Runner


def capture_events(run: Runner, classes: str = "KEA") -> list[tuple[bytes, bytes]]:
    """Enable keyspace events and collect (channel, message) pairs as they are published."""
    events: list[tuple[bytes, bytes]] = []

    def publish(channel: bytes, message: bytes) -> int:
        events.append((channel, message))
        return 0

    run.app.publish = publish
    run.app.config.set("notify-keyspace-events", [classes])
    return events


def keyspace_events(events: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Only the __keyspace@<db>__:<key> events, as (channel, event)."""
    return [(ch, ev) for ch, ev in events if ch.startswith(b"__keyspace@")]


def watch(run: Runner, db_index: int, *keys: bytes) -> list[tuple[int, bytes]]:
    """Mark keys as watched in a database; returns the (db, key) signals as they happen."""
    signalled: list[tuple[int, bytes]] = []
    keyspace = run.app.keyspace

    def on_watched(db: Database, key: bytes, watchers: set[Any]) -> None:
        signalled.append((db.index, key))

    def on_replaced(emptied: Database, other: Database | None) -> None:
        signalled.extend(
            (emptied.index, key)
            for key in list(emptied.watched)
            if emptied.exists_in_store(key) or (other is not None and other.exists_in_store(key))
        )

    keyspace.on_watched_modified = on_watched
    keyspace.on_watched_replaced = on_replaced
    for key in keys:
        keyspace.dbs[db_index].watched.setdefault(key, set()).add("watcher")
    return signalled


def feed_of(*commands: Iterable[bytes | str]) -> list[bytes]:
    """The encoded write-stream entries for commands given as str/bytes items."""
    return [
        encode_command([a if isinstance(a, bytes) else a.encode() for a in cmd]) for cmd in commands
    ]


def a_list(*items: bytes) -> ListValue:
    return ListValue(items)


def a_set(*items: bytes) -> SetValue:
    value = SetValue()
    value.update(items)
    return value


def a_hash(**fields: bytes) -> HashValue:
    value = HashValue()
    value.update({k.encode(): v for k, v in fields.items()})
    return value


def a_zset(*pairs: tuple[float, bytes]) -> ZSet:
    value = ZSet()
    for score, member in pairs:
        value.by_member[member] = score
        value.by_score.add((score, member))
    return value

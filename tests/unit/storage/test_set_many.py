"""Database.set_many (MSET) leaves a database exactly as `set` called pair by pair would."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings, strategies as st

from storage.clock import FakeClock
from storage.keyspace import ACCESS_LFU, ACCESS_LRU, ACCESS_OFF, Database, Keyspace
from storage.sets import SetValue

NOW_MS = 1_700_000_000_000
# Keys on few slots, so pairs share shards with deadlines, and two with a hash tag.
KEYS = [b"a", b"b", b"c", b"{a}x", b"{a}y", b"k" * 40]

# What a key holds before MSET: nothing, a string, a set, each with no deadline, a live
# one or a passed one.
before_st = st.fixed_dictionaries(
    {},
    optional={
        key: st.tuples(
            st.sampled_from(["string", "set"]),
            st.sampled_from([None, NOW_MS + 5_000, NOW_MS - 5_000]),
        )
        for key in KEYS
    },
)
pairs_st = st.lists(st.tuples(st.sampled_from(KEYS), st.binary(max_size=8)), min_size=1, max_size=8)


def _database(before: dict[bytes, Any], hooked: bool, access: int, events: list[Any]) -> Database:
    keyspace = Keyspace(databases=1, clock=FakeClock(NOW_MS))
    keyspace.on_expired = lambda db, key: events.append(("expired", key, db.used))
    if hooked:
        keyspace.on_new_key = lambda db, key: events.append(("new", key, db.used))
    if access != ACCESS_OFF:
        keyspace.track_access(access)
    db = keyspace.dbs[0]
    for key, (kind, deadline) in before.items():
        db.set(key, b"old-" + key if kind == "string" else SetValue([b"m", key]), deadline)
    db.settle()
    return db


def _state(db: Database) -> tuple[Any, ...]:
    data = {k: v for shard in db.data for k, v in shard.items()}
    expires = {k: v for shard in db.expires for k, v in shard.items()}
    return data, expires, db.used, dict(db.sized), db.keyspace.expired_keys


@settings(max_examples=300, deadline=None)
@given(
    before=before_st,
    pairs=pairs_st,
    hooked=st.booleans(),
    access=st.sampled_from([ACCESS_OFF, ACCESS_LRU, ACCESS_LFU]),
)
def test_set_many_is_set_pair_by_pair(
    before: dict[bytes, Any], pairs: list[tuple[bytes, bytes]], hooked: bool, access: int
) -> None:
    one_events: list[Any] = []
    many_events: list[Any] = []
    one = _database(before, hooked, access, one_events)
    many = _database(before, hooked, access, many_events)
    for key, value in pairs:
        one.set(key, value)
    many.set_many([k for k, _ in pairs], [v for _, v in pairs])
    assert _state(many) == _state(one)
    # The same hooks in the same order, each seeing the same memory estimate.
    assert many_events == one_events
    if access != ACCESS_OFF:
        assert many.access == one.access


def test_set_many_counts_new_and_replaced_strings() -> None:
    db = Keyspace(databases=1, clock=FakeClock(NOW_MS)).dbs[0]
    db.set_many([b"k1", b"k2"], [b"v", b"vv"])
    used = db.used
    db.set_many([b"k1", b"k2", b"k3"], [b"vvvv", b"vv", b"x"])
    assert db.get(b"k1") == b"vvvv"
    assert db.get(b"k3") == b"x"
    one = Keyspace(databases=1, clock=FakeClock(NOW_MS)).dbs[0]
    for key, value in ((b"k1", b"vvvv"), (b"k2", b"vv"), (b"k3", b"x")):
        one.set(key, value)
    assert db.used == one.used > used

"""maxmemory: the used-memory estimate, the OOM refusal and sampled eviction (evict.c's shape).

Strategy (used_memory): `USED_MEMORY_STARTUP` plus the keyspace's running estimate of its keys,
values and deadlines (storage/sizes.py; every write adjusts it, deleting a key takes its bytes
back out, nothing walks the keyspace). The fixed part stands for the server's own structures
at Redis 7.0's figure rather than CPython's, so a `maxmemory` tuned for Redis leaves about the
same room for data; the real process size is `used_memory_rss` in INFO.

Strategy (eviction): when `maxmemory` is set, a write guard runs before every write or
`denyoom` command. Over the limit it evicts keys, one at a time, until the estimate is under
it again, choosing them as Redis 7.0 does:

* `*-random`: a random key (from the keys with a deadline for `volatile-random`).
* `*-lru`, `*-lfu`, `volatile-ttl`: `maxmemory-samples` keys sampled from each database feed a
  pool of the 16 best candidates seen so far (longest idle, least frequently used, nearest
  deadline); the best one left in the pool that still exists is evicted.

Each eviction is propagated as `DEL`, counted in `evicted_keys` and published as an `evicted`
keyspace event. A `denyoom` command is refused with `-OOM` when nothing more can be evicted
(always, under `noeviction`).

Access tracking (storage/keyspace.py) is on only for the LRU and LFU policies, or from the first
OBJECT IDLETIME on, so that reads cost nothing extra otherwise.
"""

from __future__ import annotations

import bisect
import random
from itertools import islice
from typing import TYPE_CHECKING, Any, Final

from server.errors import ERR_OOM
from storage.keyspace import (
    ACCESS_LFU,
    ACCESS_LRU,
    ACCESS_OFF,
    NUM_SHARDS,
    Database,
)

if TYPE_CHECKING:
    from server.app import App
    from server.commands.table import CommandSpec
    from server.context import CommandContext

USED_MEMORY_STARTUP: Final = 866_000
EVPOOL_SIZE: Final = 16
# One guard call never evicts more than this many keys; the rest waits for the next write.
_MAX_EVICTIONS_PER_CALL: Final = 10_000
_IMMEDIATE_IN_MULTI: Final = frozenset({"exec", "discard", "multi", "watch", "quit", "reset"})


def policy_access_mode(policy: str) -> int:
    if policy.endswith("-lru"):
        return ACCESS_LRU
    if policy.endswith("-lfu"):
        return ACCESS_LFU
    return ACCESS_OFF


def format_bytes(n: int) -> str:
    """bytesToHuman: 918.87K, 1.00M, 0B."""
    if n < 1024:
        return f"{n}B"
    for unit, scale in (("K", 1024), ("M", 1024**2), ("G", 1024**3), ("T", 1024**4)):
        if n < scale * 1024 or unit == "T":
            if unit == "T" and n >= 1024**5:
                return f"{n / 1024**5:.2f}P"
            return f"{n / scale:.2f}{unit}"
    return f"{n}B"


class Memory:
    """The server's memory limit: estimate, eviction and the OOM guard."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.maxmemory = 0
        self.policy = "noeviction"
        self.samples = 5
        self.idle_requested = False  # OBJECT IDLETIME asked for LRU data
        # (score, db index, key), ascending: the best candidate is the last one.
        self._pool: list[tuple[int, int, bytes]] = []
        self._guard_installed = False
        self.peak = 0
        config = app.config
        config.on_change(self._config_changed)
        for name in (
            "maxmemory",
            "maxmemory-policy",
            "maxmemory-samples",
            "lfu-log-factor",
            "lfu-decay-time",
        ):
            self._config_changed(name, config[name])

    # --- the estimate ---

    def used(self) -> int:
        used = USED_MEMORY_STARTUP + self.app.keyspace.used_bytes()
        if used > self.peak:
            self.peak = used
        return used

    def dataset(self) -> int:
        return self.app.keyspace.used_bytes()

    # --- configuration ---

    def _config_changed(self, name: str, value: Any) -> None:
        keyspace = self.app.keyspace
        if name == "maxmemory":
            self.maxmemory = value
            if value and not self._guard_installed:
                self._guard_installed = True
                self.app.add_write_guard(self.oom_guard, lambda: bool(self.maxmemory))
            self.app.refresh_guards()
        elif name == "maxmemory-policy":
            self.policy = value
            self._pool.clear()
            self._update_access_mode()
        elif name == "maxmemory-samples":
            self.samples = value
        elif name == "lfu-log-factor":
            keyspace.lfu_log_factor = value
        elif name == "lfu-decay-time":
            keyspace.lfu_decay_time = value

    def _update_access_mode(self) -> None:
        mode = policy_access_mode(self.policy)
        if mode == ACCESS_OFF and self.idle_requested:
            mode = ACCESS_LRU
        self.app.keyspace.track_access(mode)

    def want_idle_time(self) -> None:
        """OBJECT IDLETIME: from now on keep LRU data even without an LRU policy."""
        if not self.idle_requested:
            self.idle_requested = True
            self._update_access_mode()

    # --- the guard ---

    def oom_guard(self, ctx: CommandContext, spec: CommandSpec) -> str | None:
        """Write guard: evict if over maxmemory; refuse a growing command if still over."""
        if not self.maxmemory:
            return None
        app = self.app
        if ctx.is_primary_link and app.config["replica-ignore-maxmemory"]:
            return None
        if self.used() <= self.maxmemory:
            return None
        if app.is_replica and app.config["replica-ignore-maxmemory"]:
            return None
        if app.pause_end is None:  # Redis does not evict while clients are paused
            self.evict()
        if self.used() <= self.maxmemory:
            return None
        if spec.denyoom or (ctx.multi is not None and spec.name not in _IMMEDIATE_IN_MULTI):
            return ERR_OOM
        return None

    def evict(self) -> int:
        """Evict keys until under maxmemory or out of candidates; return how many went."""
        if self.policy == "noeviction":
            return 0
        evicted = 0
        while self.used() > self.maxmemory and evicted < _MAX_EVICTIONS_PER_CALL:
            found = self._pick()
            if found is None:
                break
            db, key = found
            self._evict_key(db, key)
            evicted += 1
        return evicted

    def _evict_key(self, db: Database, key: bytes) -> None:
        if db.pop(key) is None:
            return
        app = self.app
        app.evicted_keys += 1
        if app.feed:
            app.propagate(db.index, [b"DEL", key])
        db.modified(key)
        if app.notify_classes:
            app.notify_keyspace_event("e", b"evicted", key, db.index)

    # --- choosing a victim ---

    def _pick(self) -> tuple[Database, bytes] | None:
        volatile = self.policy.startswith("volatile-")
        dbs = self.app.keyspace.dbs
        if self.policy.endswith("-random"):
            start = random.randrange(len(dbs))
            for j in range(len(dbs)):
                db = dbs[(start + j) % len(dbs)]
                keys = _sample(db.expires if volatile else db.data, 1)
                if keys:
                    return db, keys[0]
            return None
        for _ in range(3):
            for db in dbs:
                shards = db.expires if volatile else db.data
                for key in _sample(shards, self.samples):
                    self._pool_insert(self._score(db, key), db.index, key)
            while self._pool:
                _, index, key = self._pool.pop()
                db = dbs[index]
                if db.peek(key) is not None and (not volatile or db.is_volatile(key)):
                    return db, key
        return None

    def _score(self, db: Database, key: bytes) -> int:
        keyspace = self.app.keyspace
        if self.policy == "volatile-ttl":
            deadline = db.get_expire(key)
            return -(deadline if deadline is not None else 0)
        if keyspace.access_mode == ACCESS_LFU:
            return 255 - keyspace.lfu_counter(db, key)
        return keyspace.idle_ms(db, key)

    def _pool_insert(self, score: int, index: int, key: bytes) -> None:
        pool = self._pool
        for i, (_, other_index, other_key) in enumerate(pool):
            if other_key == key and other_index == index:
                del pool[i]
                break
        if len(pool) >= EVPOOL_SIZE:
            if score <= pool[0][0]:
                return
            del pool[0]
        bisect.insort(pool, (score, index, key))


def _sample(shards: list[dict[bytes, Any]], count: int) -> list[bytes]:
    """About `count` keys taken from random shards at random offsets (dictGetSomeKeys'
    spirit: cheap, not uniform). Sparse databases fall back to a list of non-empty shards."""
    keys: list[bytes] = []
    for _ in range(count * 2):
        shard = shards[random.randrange(NUM_SHARDS)]
        if shard:
            start = random.randrange(len(shard))
            keys.extend(islice(shard, start, start + count - len(keys)))
            if len(keys) >= count:
                return keys
    filled = [d for d in shards if d]
    random.shuffle(filled)
    for shard in filled:
        if len(keys) >= count:
            break
        start = random.randrange(len(shard))
        keys.extend(islice(shard, start, start + count - len(keys)))
    return keys

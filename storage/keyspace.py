"""The keyspace: databases split into shards by Redis Cluster hash slot, with expiry.

Storage only: no RESP, no memcached, no replies. Values are plain Python objects (see
values.py); a shard maps key to value directly and keeps absolute expiry times (unix ms) in a
second dict, as Redis keeps `db->dict` and `db->expires`.

Strategy (expiry):

* Lazily, on every lookup: a key whose deadline has passed (`now > deadline`, as Redis's
  keyIsExpired) is deleted and reported through `Keyspace.on_expired`, which the server turns
  into a propagated DEL and a keyspace event. A replica (`expire_on_lookup` False) answers as
  if the key were gone but keeps it until its primary sends the DEL.
* Actively, by `Keyspace.active_expire_cycle`, which walks the shards' expiry dicts round
  robin within a time budget, so memory is reclaimed for keys nobody reads.

Strategy (memory accounting): each database keeps `used`, a running estimate in bytes of its
keys, values and deadlines (storage/sizes.py), adjusted by every method that stores or removes a
key, so reading it never walks the keyspace. `bytes` values are priced from their length; the
estimate of any other value is recorded in `sized` (a side table holding only those keys) so it
can be replaced when the value grows in place. After such a write the server either calls
`modified(key)`, which re-prices the key at once, or, when nothing but the estimate listens,
`reprice_later(key)`, which only records the key in `stale`; `settle()` re-prices the recorded
keys, once each however often they were written, and `Keyspace.used_bytes()` settles before
it adds up, so every reader of the estimate sees it up to date.

Strategy (access tracking, for LRU/LFU eviction and OBJECT IDLETIME / FREQ): off by default and
then free (one attribute test per lookup). When the server turns it on (`Keyspace.track_access`)
each database keeps `access`, key -> last access in ms (LRU) or a packed Redis-style LFU counter;
keys not yet seen since tracking began count from `access_started_ms`.

Strategy (SCAN): the cursor is a hash slot. One call returns every key of the slots it
visits, read in one go, so a key present for the whole iteration is returned at least once,
whatever else is added or removed meanwhile.
"""

from __future__ import annotations

import random
import time
from binascii import crc_hqx
from collections.abc import Callable, Iterator
from typing import Any, Final, TypeVar

from storage.clock import Clock, SystemClock
from storage.errors import WrongTypeError
from storage.item_tables import ItemTables
from storage.sizes import BYTES_HEADER, EXPIRE_ENTRY, entry_size, value_size
from storage.values import is_string

NUM_SLOTS: Final = 16384
SHARD_BITS: Final = 10
NUM_SHARDS: Final = 1 << SHARD_BITS
SLOTS_PER_SHARD: Final = NUM_SLOTS // NUM_SHARDS
_SHARD_SHIFT: Final = 14 - SHARD_BITS

T = TypeVar("T")

ACCESS_OFF: Final = 0
ACCESS_LRU: Final = 1
ACCESS_LFU: Final = 2
LFU_INIT_VAL: Final = 5
_LBRACE: Final = 0x7B  # ord("{"), for `in` tests on keys (see Database.get)
# What a new string key costs beyond its key and value bytes (entry + two bytes headers).
_NEW_STRING_KEY: Final = entry_size(b"") + BYTES_HEADER


def key_slot(key: bytes) -> int:
    """The Redis Cluster hash slot of a key: CRC16-XMODEM of its hash tag, mod 16384."""
    start = key.find(b"{")
    if start >= 0:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            key = key[start + 1 : end]
    return crc_hqx(key, 0) & 16383


def _shard_of(key: bytes) -> int:
    start = key.find(b"{")
    if start >= 0:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            key = key[start + 1 : end]
    return (crc_hqx(key, 0) & 16383) >> _SHARD_SHIFT


class Database:
    """One numbered database (SELECT n): NUM_SHARDS shards of key -> value and key -> deadline.

    Methods that read go through the lazy-expiry check. Container values are mutated in place
    by their callers; `modified(key)` tells the keyspace a key changed (WATCH, memcached CAS).
    """

    __slots__ = (
        "access",
        "blocked",
        "data",
        "deadlines_seen",
        "expires",
        "index",
        "keyspace",
        "mc",
        "sized",
        "stale",
        "used",
        "watched",
    )

    def __init__(self, keyspace: Keyspace, index: int) -> None:
        self.keyspace = keyspace
        self.index = index
        self.data: list[dict[bytes, Any]] = [{} for _ in range(NUM_SHARDS)]
        self.expires: list[dict[bytes, int]] = [{} for _ in range(NUM_SHARDS)]
        # Set when a key gets a deadline; the active expire cycle clears it when it finds no
        # deadline left, so a database without any costs it one test, not NUM_SHARDS.
        self.deadlines_seen = False
        # key -> the watchers (opaque to storage) that must learn of a change.
        self.watched: dict[bytes, set[Any]] = {}
        # Memory accounting (see the module docstring).
        self.used = 0
        self.sized: dict[bytes, int] = {}
        self.stale: set[bytes] = set()  # keys to re-price before `used` is read
        # Access tracking: None while off.
        self.access: dict[bytes, int] | None = None
        # key -> the clients (opaque to storage) blocked on it, oldest first.
        self.blocked: dict[bytes, dict[Any, None]] = {}
        # memcached item metadata (flags, CAS...), created on first use (item_tables.py).
        self.mc: ItemTables | None = None

    # --- reads ---

    # The lookups below compute the shard inline, without calling _shard_of (a call costs
    # about 100 ns here, as much as the rest of a lookup): a key without '{' has no hash tag.
    # The test is `_LBRACE in key` with an int: `b"{" in key` first tries the argument as
    # an int, and raising and clearing that TypeError costs more than the whole lookup.

    def get(self, key: bytes) -> Any | None:
        """The live value of `key`, or None. Expires the key if its deadline has passed."""
        i = _shard_of(key) if _LBRACE in key else (crc_hqx(key, 0) & 16383) >> _SHARD_SHIFT
        value = self.data[i].get(key)
        if value is not None:
            exp = self.expires[i]
            if exp:
                deadline = exp.get(key)
                if deadline is not None and deadline < self.keyspace.clock.now_ms():
                    self._expire_now(i, key)
                    return None
            if self.access is not None:
                self.keyspace.touch(self, key)
        return value

    def read(self, key: bytes) -> Any | None:
        """`get` for read commands: also counts keyspace hits and misses (INFO stats) and
        reports a miss to `Keyspace.on_miss` (the keymiss event)."""
        i = _shard_of(key) if _LBRACE in key else (crc_hqx(key, 0) & 16383) >> _SHARD_SHIFT
        value = self.data[i].get(key)
        keyspace = self.keyspace
        if value is not None:
            exp = self.expires[i]
            if exp:
                deadline = exp.get(key)
                if deadline is not None and deadline < keyspace.clock.now_ms():
                    self._expire_now(i, key)
                    value = None
            if value is not None:
                if self.access is not None:
                    keyspace.touch(self, key)
                keyspace.hits += 1
                return value
        keyspace.misses += 1
        if keyspace.on_miss is not None:
            keyspace.on_miss(self, key)
        return None

    def get_typed(self, key: bytes, cls: type[T]) -> T | None:
        """The value of `key` if it is a `cls`, None if absent.

        Raises:
            WrongTypeError: the key holds another type.
        """
        i = _shard_of(key) if _LBRACE in key else (crc_hqx(key, 0) & 16383) >> _SHARD_SHIFT
        value = self.data[i].get(key)
        if value is None:
            return None
        exp = self.expires[i]
        if exp:
            deadline = exp.get(key)
            if deadline is not None and deadline < self.keyspace.clock.now_ms():
                self._expire_now(i, key)
                return None
        if self.access is not None:
            self.keyspace.touch(self, key)
        if type(value) is cls:
            return value
        raise WrongTypeError()

    def get_string(self, key: bytes) -> bytes | bytearray | None:
        """The string at `key`, None if absent.

        Raises:
            WrongTypeError: the key holds a container.
        """
        value = self.get(key)
        if value is None or type(value) is bytes or is_string(value):
            return value
        raise WrongTypeError()

    def exists(self, key: bytes) -> bool:
        return self.get(key) is not None

    def peek(self, key: bytes) -> Any | None:
        """The stored value even if logically expired, without side effects (for DEBUG, tests)."""
        return self.data[_shard_of(key)].get(key)

    def get_expire(self, key: bytes) -> int | None:
        """The absolute deadline of `key` in unix ms, or None if it has none (or is absent)."""
        return self.expires[_shard_of(key)].get(key)

    def is_volatile(self, key: bytes) -> bool:
        return key in self.expires[_shard_of(key)]

    # --- writes ---

    def set(self, key: bytes, value: Any, expire_at_ms: int | None = None) -> None:
        """Store `value` at `key`, replacing any value and any deadline.

        As Redis's setKey: a key found expired is reclaimed first (expired event, DEL), and
        a key that did not exist is reported to `Keyspace.on_new_key` (the "new" event).
        """
        i = _shard_of(key) if _LBRACE in key else (crc_hqx(key, 0) & 16383) >> _SHARD_SHIFT
        data = self.data[i]
        exp = self.expires[i]
        if exp:
            deadline = exp.get(key)
            if deadline is not None and deadline < self.keyspace.clock.now_ms():
                self._expire_now(i, key)
        old = data.get(key)
        data[key] = value
        if type(value) is bytes and self.access is None:
            # The common case inline: a string stored over nothing or over a string.
            if old is None:
                self.used += _NEW_STRING_KEY + len(key) + len(value)
            elif type(old) is bytes:
                self.used += len(value) - len(old)
            else:
                self._account(key, old, value)
        else:
            self._account(key, old, value)
        if expire_at_ms is not None:
            if key not in exp:
                self.used += EXPIRE_ENTRY
            exp[key] = expire_at_ms
            self.deadlines_seen = True
        elif exp and exp.pop(key, None) is not None:
            self.used -= EXPIRE_ENTRY
        if old is None:
            # _created, inline on the hot path.
            if self.blocked and key in self.blocked:
                self.keyspace.on_ready(self, key)
            if self.keyspace.on_new_key is not None:
                self.keyspace.on_new_key(self, key)

    def set_many(self, keys: list[bytes], values: list[bytes]) -> None:
        """`set(key, value)` for each pair in turn (MSET), without a call per pair.

        With access tracking off, a string stored over a string, or over nothing when no
        hook listens for new keys, in a shard without deadlines, is stored inline. Any
        other pair goes through `set` (with `used` brought up to date first: its hooks may
        read the keyspace).
        """
        if self.access is not None:
            for key, value in zip(keys, values, strict=True):
                self.set(key, value)
            return
        data_of = self.data
        expires_of = self.expires
        unheard = not self.blocked and self.keyspace.on_new_key is None  # a new key: no hook
        used = 0
        for n, key in enumerate(keys):
            value = values[n]
            i = _shard_of(key) if _LBRACE in key else (crc_hqx(key, 0) & 16383) >> _SHARD_SHIFT
            data = data_of[i]
            old = data.get(key)
            if expires_of[i]:
                pass  # a deadline to check or clear: `set`
            elif type(old) is bytes:
                data[key] = value
                used += len(value) - len(old)
                continue
            elif old is None and unheard:
                data[key] = value
                used += _NEW_STRING_KEY + len(key) + len(value)
                continue
            self.used += used
            used = 0
            self.set(key, value)
        self.used += used

    def set_keep_ttl(self, key: bytes, value: Any) -> None:
        """Store `value` at `key` and keep its deadline (SET KEEPTTL, APPEND on a new object)."""
        i = _shard_of(key) if _LBRACE in key else (crc_hqx(key, 0) & 16383) >> _SHARD_SHIFT
        data = self.data[i]
        exp = self.expires[i]
        if exp:
            deadline = exp.get(key)
            if deadline is not None and deadline < self.keyspace.clock.now_ms():
                self._expire_now(i, key)
        old = data.get(key)
        data[key] = value
        if type(old) is bytes and type(value) is bytes:
            self.used += len(value) - len(old)  # a string over a string (INCR), inline
            return
        self._account(key, old, value)
        if old is None:
            self._created(key)

    def _created(self, key: bytes) -> None:
        """Redis's dbAdd side effects: clients blocked on `key` may be served (only a key
        that comes into existence wakes them, never an overwrite), then the "new" event."""
        if self.blocked and key in self.blocked:
            self.keyspace.on_ready(self, key)
        if self.keyspace.on_new_key is not None:
            self.keyspace.on_new_key(self, key)

    def _account(self, key: bytes, old: Any, value: Any) -> None:
        """Adjust `used` for `value` replacing `old` (None: a new key) at `key`."""
        if old is None:
            delta = entry_size(key)
            if self.access is not None:
                self.keyspace.touch(self, key, created=True)
        elif type(old) is bytes:
            delta = -BYTES_HEADER - len(old)
        else:
            delta = -self.sized.pop(key, 0)
        if type(value) is bytes:
            self.used += delta + BYTES_HEADER + len(value)
        else:
            size = value_size(value)
            self.sized[key] = size
            self.used += delta + size

    def _forget(self, key: bytes, value: Any) -> None:
        """Take a removed key out of the accounting and access tracking."""
        if type(value) is bytes:
            self.used -= entry_size(key) + BYTES_HEADER + len(value)
        else:
            self.used -= entry_size(key) + self.sized.pop(key, 0)
        if self.access is not None:
            self.access.pop(key, None)

    def resize(self, key: bytes) -> None:
        """Re-price a value that was changed in place (a container or a bytearray)."""
        old = self.sized.get(key)
        if old is None:
            return
        value = self.data[_shard_of(key)].get(key)
        if value is None:
            return
        size = value_size(value)
        self.sized[key] = size
        self.used += size - old

    def reprice_later(self, key: bytes) -> None:
        """`key`'s value may have changed in place: re-price it at the next `settle()`."""
        self.stale.add(key)

    def settle(self) -> None:
        """Re-price the keys recorded by `reprice_later` (a key gone meanwhile is skipped)."""
        stale = self.stale
        if stale:
            self.stale = set()
            for key in stale:
                self.resize(key)

    def delete(self, key: bytes) -> bool:
        """Remove `key` if it is live; report whether it was."""
        return self.pop(key) is not None

    def pop(self, key: bytes) -> Any | None:
        """Remove `key` and return its live value (None if absent or expired)."""
        i = _shard_of(key)
        value = self.data[i].get(key)
        if value is None:
            return None
        exp = self.expires[i]
        if exp:
            deadline = exp.get(key)
            if deadline is not None and deadline < self.keyspace.clock.now_ms():
                self._expire_now(i, key)
                return None
            if exp.pop(key, None) is not None:
                self.used -= EXPIRE_ENTRY
        del self.data[i][key]
        self._forget(key, value)
        return value

    def set_expire(self, key: bytes, expire_at_ms: int) -> None:
        """Give an existing key a deadline (the caller checked it exists)."""
        exp = self.expires[_shard_of(key)]
        if key not in exp:
            self.used += EXPIRE_ENTRY
        exp[key] = expire_at_ms
        self.deadlines_seen = True

    def persist(self, key: bytes) -> bool:
        """Remove the deadline of `key`; report whether it had one."""
        if self.expires[_shard_of(key)].pop(key, None) is None:
            return False
        self.used -= EXPIRE_ENTRY
        return True

    def modified(self, key: bytes) -> None:
        """Redis's signalModifiedKey: tell watchers that `key` changed."""
        if self.watched:
            watchers = self.watched.get(key)
            if watchers:
                self.keyspace.on_watched_modified(self, key, watchers)
        if self.sized:
            self.resize(key)
        if self.keyspace.on_modified is not None:
            self.keyspace.on_modified(self, key)

    def flush(self) -> int:
        """Remove every key; return how many there were. Watchers of existing keys are told."""
        removed = self.size()
        if self.watched:
            self.keyspace.on_watched_replaced(self, None)
        self.data = [{} for _ in range(NUM_SHARDS)]
        self.expires = [{} for _ in range(NUM_SHARDS)]
        self.deadlines_seen = False
        self.used = 0
        self.sized = {}
        self.stale = set()
        if self.access is not None:
            self.access = {}
        self.mc = None
        return removed

    # --- whole-database views ---

    def size(self) -> int:
        """Keys stored, including expired ones not yet reclaimed (as Redis's DBSIZE)."""
        return sum(map(len, self.data))

    def volatile_size(self) -> int:
        return sum(map(len, self.expires))

    def iter_keys(self) -> Iterator[bytes]:
        """Every live key. Expired keys found on the way are reclaimed after the walk."""
        now = self.keyspace.clock.now_ms()
        expired: list[bytes] = []
        for data, exp in zip(self.data, self.expires, strict=True):
            if not data:
                continue
            if not exp:
                yield from list(data)
                continue
            for key in list(data):
                deadline = exp.get(key)
                if deadline is not None and deadline < now:
                    expired.append(key)
                else:
                    yield key
        for key in expired:
            self.get(key)

    def scan_slots(self, slot: int, count: int) -> tuple[list[bytes], int]:
        """Live keys of whole slots from `slot` on, until at least `count` keys are found.

        Returns:
            The keys and the next slot (0 when the walk is complete).
        """
        keys: list[bytes] = []
        now = self.keyspace.clock.now_ms()
        while slot < NUM_SLOTS and len(keys) < count:
            shard = slot >> _SHARD_SHIFT
            data = self.data[shard]
            shard_end = (shard + 1) * SLOTS_PER_SHARD
            if data:
                exp = self.expires[shard]
                # Read the shard once, then take its slots from `slot` up to where `count` is met.
                by_slot: dict[int, list[bytes]] = {}
                for key in data:
                    s = key_slot(key)
                    if s >= slot:
                        by_slot.setdefault(s, []).append(key)
                while slot < shard_end and len(keys) < count:
                    for key in by_slot.get(slot, ()):
                        deadline = exp.get(key) if exp else None
                        if deadline is None or deadline >= now:
                            keys.append(key)
                    slot += 1
            else:
                slot = shard_end
        return keys, (0 if slot >= NUM_SLOTS else slot)

    def random_key(self) -> bytes | None:
        """A random live key, or None when the database is empty."""
        for _ in range(100):
            shards = [i for i, d in enumerate(self.data) if d]
            if not shards:
                return None
            i = random.choice(shards)
            key = random.choice(list(self.data[i]))
            if self.get(key) is not None:
                return key
        return None

    # --- expiry ---

    def exists_in_store(self, key: bytes) -> bool:
        """Whether `key` is stored, even if logically expired (WATCH bookkeeping)."""
        return key in self.data[_shard_of(key)]

    def is_expired(self, key: bytes) -> bool:
        """Redis's keyIsExpired: `key` has a deadline and it has passed (nothing is deleted)."""
        deadline = self.expires[_shard_of(key)].get(key)
        return deadline is not None and deadline < self.keyspace.clock.now_ms()

    def _expire_now(self, shard: int, key: bytes) -> None:
        if not self.keyspace.expire_on_lookup:
            return
        value = self.data[shard].pop(key)
        del self.expires[shard][key]
        self.used -= EXPIRE_ENTRY
        self._forget(key, value)
        self.keyspace.expired_keys += 1
        self.modified(key)
        if self.keyspace.on_expired is not None:
            self.keyspace.on_expired(self, key)


WatchHook = Callable[[Database, bytes, set[Any]], None]
KeyHook = Callable[[Database, bytes], None]
ReplaceHook = Callable[[Database, "Database | None"], None]


class Keyspace:
    """All databases plus the clock and the hooks the server listens on.

    Attributes:
        expire_on_lookup: False on a replica, which waits for its primary's DEL.
        on_expired: called after a key is reclaimed (lazily or actively).
        on_modified: called whenever `Database.modified` is (memcached CAS upkeep).
        on_watched_modified: called with the watchers of a modified key.
        on_watched_replaced: called before a database with watched keys is emptied
            (flush: `(db, None)`) or has its contents swapped (SWAPDB: `(db, other)`).
        on_new_key: when set, called after `set` / `set_keep_ttl` create a key.
        on_miss: when set, called when `read` finds no key.
        on_ready: called when a key some client is blocked on comes into existence (or is
            swapped in by SWAPDB).
    """

    __slots__ = (
        "_expire_db",
        "_expire_shard",
        "access_mode",
        "access_started_ms",
        "clock",
        "dbs",
        "expire_on_lookup",
        "expired_keys",
        "hits",
        "lfu_decay_time",
        "lfu_log_factor",
        "misses",
        "no_touch",
        "on_expired",
        "on_miss",
        "on_modified",
        "on_new_key",
        "on_ready",
        "on_watched_modified",
        "on_watched_replaced",
    )

    def __init__(self, databases: int = 16, clock: Clock | None = None) -> None:
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.dbs = [Database(self, i) for i in range(databases)]
        self.expire_on_lookup = True
        self.expired_keys = 0
        self.hits = 0
        self.misses = 0
        self.on_expired: KeyHook | None = None
        self.on_modified: KeyHook | None = None
        self.on_watched_modified: WatchHook = _ignore_watchers
        self.on_watched_replaced: ReplaceHook = _ignore_replaced
        self.on_new_key: KeyHook | None = None
        self.on_miss: KeyHook | None = None
        self.on_ready: KeyHook = _ignore_key
        self._expire_db = 0
        self._expire_shard = 0
        # Access tracking (module docstring): ACCESS_OFF, ACCESS_LRU or ACCESS_LFU.
        self.access_mode = ACCESS_OFF
        self.access_started_ms = 0
        self.no_touch = False  # set around a command of a CLIENT NO-TOUCH client
        self.lfu_log_factor = 10
        self.lfu_decay_time = 1

    def swap(self, a: int, b: int) -> None:
        """SWAPDB: exchange the contents of two databases; watchers stay with their index."""
        da, db = self.dbs[a], self.dbs[b]
        if a == b:
            return
        if da.watched:
            self.on_watched_replaced(da, db)
        if db.watched:
            self.on_watched_replaced(db, da)
        da.data, db.data = db.data, da.data
        da.expires, db.expires = db.expires, da.expires
        da.deadlines_seen, db.deadlines_seen = db.deadlines_seen, da.deadlines_seen
        da.used, db.used = db.used, da.used
        da.sized, db.sized = db.sized, da.sized
        da.stale, db.stale = db.stale, da.stale
        da.access, db.access = db.access, da.access

        da.mc, db.mc = db.mc, da.mc

        # Clients stay blocked on their database index; the swapped-in data may serve them.
        for d in (da, db):
            for key in list(d.blocked):
                if d.data[_shard_of(key)].get(key) is not None:
                    self.on_ready(d, key)

    # --- memory and access tracking ---

    def used_bytes(self) -> int:
        """The estimated bytes of every database's keys, values and deadlines."""
        for db in self.dbs:
            if db.stale:
                db.settle()
        return sum(db.used for db in self.dbs)

    def settle(self) -> None:
        """Re-price what `reprice_later` recorded (periodically, so `stale` stays small)."""
        for db in self.dbs:
            if db.stale:
                db.settle()

    def track_access(self, mode: int) -> None:
        """Start (or switch, or stop) per-key access tracking; switching starts afresh."""
        if mode == self.access_mode:
            return
        self.access_mode = mode
        self.access_started_ms = self.clock.now_ms()
        for db in self.dbs:
            db.access = None if mode == ACCESS_OFF else {}

    def touch(self, db: Database, key: bytes, created: bool = False) -> None:
        """Record an access to `key` (called only while tracking is on)."""
        access = db.access
        if access is None or (self.no_touch and not created):
            return
        now = self.clock.now_ms()
        if self.access_mode == ACCESS_LRU:
            access[key] = now
            return
        minutes = now // 60000
        if created:
            access[key] = (minutes << 8) | LFU_INIT_VAL
            return
        counter = self.lfu_counter(db, key, now)
        if counter < 255:
            base = max(0, counter - LFU_INIT_VAL)
            if random.random() < 1.0 / (base * self.lfu_log_factor + 1):
                counter += 1
        access[key] = (minutes << 8) | counter

    def idle_ms(self, db: Database, key: bytes) -> int:
        """Milliseconds since `key` was last accessed (LRU tracking)."""
        last = db.access.get(key) if db.access is not None else None
        since = self.access_started_ms if last is None else last
        return max(0, self.clock.now_ms() - since)

    def lfu_counter(self, db: Database, key: bytes, now_ms: int | None = None) -> int:
        """The key's LFU counter after decay (Redis's LFUDecrAndReturn)."""
        now = self.clock.now_ms() if now_ms is None else now_ms
        packed = db.access.get(key) if db.access is not None else None
        if packed is None:
            packed = ((self.access_started_ms // 60000) << 8) | LFU_INIT_VAL
        counter = packed & 255
        elapsed = (now // 60000 - (packed >> 8)) & 0xFFFF
        periods = elapsed // self.lfu_decay_time if self.lfu_decay_time else 0
        return max(0, counter - periods)

    def active_expire_cycle(self, budget_s: float) -> int:
        """Reclaim expired keys, shard by shard round robin, for at most `budget_s` seconds.

        Returns:
            How many keys were reclaimed.
        """
        if not self.expire_on_lookup:
            return 0
        deadline = time.monotonic() + budget_s
        reclaimed = 0
        visited = 0
        total = len(self.dbs) * NUM_SHARDS
        now = self.clock.now_ms()
        while visited < total:
            db = self.dbs[self._expire_db]
            if self._expire_shard == 0 and not (db.deadlines_seen and any(db.expires)):
                # No key of this database has a deadline: skip its shards in one step.
                db.deadlines_seen = False
                visited += NUM_SHARDS
                self._expire_db = (self._expire_db + 1) % len(self.dbs)
                continue
            exp = db.expires[self._expire_shard]
            if exp:
                expired = [k for k, t in exp.items() if t < now]
                for key in expired:
                    db.get(key)
                reclaimed += len(expired)
            visited += 1
            self._expire_shard += 1
            if self._expire_shard == NUM_SHARDS:
                self._expire_shard = 0
                self._expire_db = (self._expire_db + 1) % len(self.dbs)
            if visited % 64 == 0 and time.monotonic() > deadline:
                break
        return reclaimed


def _ignore_watchers(db: Database, key: bytes, watchers: set[Any]) -> None:
    return None


def _ignore_replaced(db: Database, other: Database | None) -> None:
    return None


def _ignore_key(db: Database, key: bytes) -> None:
    return None

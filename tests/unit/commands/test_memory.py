"""used_memory accounting, maxmemory eviction and the OOM refusal, in-process."""

from __future__ import annotations

from protocol.resp import OK, RespError
from server.memory import USED_MEMORY_STARTUP, format_bytes
from storage.hashes import HashValue
from storage.sizes import value_size
from tests.support import Runner

OOM = RespError("OOM command not allowed when used memory > 'maxmemory'.")


def _used(run: Runner) -> int:
    return int(run.app.memory.used())


def test_format_bytes_like_redis() -> None:
    assert format_bytes(0) == "0B"
    assert format_bytes(940920) == "918.87K"
    assert format_bytes(1024**2) == "1.00M"
    assert format_bytes(25325268992) == "23.59G"


def test_used_memory_follows_writes_and_deletes(run: Runner) -> None:
    empty = _used(run)
    assert empty == USED_MEMORY_STARTUP
    run("SET", "k", "x" * 1000)
    grown = _used(run)
    assert grown - empty > 1000
    run("SET", "k", "x" * 10)
    assert _used(run) < grown
    run("DEL", "k")
    assert _used(run) == empty


def test_deadlines_and_expiry_are_accounted(run: Runner) -> None:
    empty = _used(run)
    run("SET", "k", "v")
    plain = _used(run)
    run("SET", "k", "v", "PX", "100")
    assert _used(run) > plain
    run.clock.advance(200)
    run("GET", "k")
    assert _used(run) == empty


def test_flush_resets_the_estimate(run: Runner) -> None:
    for i in range(100):
        run("SET", f"k{i}", "v" * 100, "EX", "100")
    run("FLUSHALL")
    assert _used(run) == USED_MEMORY_STARTUP


def test_containers_grown_in_place_are_repriced(run: Runner) -> None:
    db = run.app.keyspace.dbs[0]
    value = HashValue()
    db.set(b"h", value)
    small = db.used
    for i in range(100):
        value[b"field%d" % i] = b"x" * 50
    db.modified(b"h")
    assert db.used - small >= 100 * 50
    db.delete(b"h")
    assert db.used == 0


def test_containers_grown_by_commands_are_repriced_when_read(run: Runner) -> None:
    empty = _used(run)
    run("RPUSH", "l", "x")
    small = _used(run)
    for _ in range(100):
        run("RPUSH", "l", "x" * 50)
    assert run.app.keyspace.dbs[0].stale == {b"l"}  # re-priced lazily...
    assert _used(run) - small >= 100 * 50  # ...but before anyone reads the estimate
    assert not run.app.keyspace.dbs[0].stale
    run("HSET", "h", "f", "v")
    run("HSET", "h", "g", "v" * 100)
    run("DEL", "h")  # a key deleted while waiting to be re-priced
    run("DEL", "l")
    assert _used(run) == empty


def test_value_size_samples_containers() -> None:
    value = HashValue()
    for i in range(1000):
        value[b"f%04d" % i] = b"v" * 20
    sampled = value_size(value, 5)
    full = value_size(value, 0)
    assert abs(sampled - full) < full * 0.1
    assert value_size(b"abc") == value_size(b"") + 3


def test_noeviction_refuses_denyoom_writes_but_not_deletes(run: Runner) -> None:
    run("SET", "k", "x" * 2000)
    assert run("CONFIG", "SET", "maxmemory", str(USED_MEMORY_STARTUP + 100)) is OK
    assert run("SET", "k2", "v") == OOM
    assert run("GET", "k") == b"x" * 2000
    assert run("DEL", "k") == 1
    assert run("SET", "k2", "v") is OK
    assert "errorstat_OOM:count=1" in run("INFO", "errorstats").decode()


def test_allkeys_lru_evicts_idle_keys_and_keeps_recent_ones(run: Runner) -> None:
    run("CONFIG", "SET", "maxmemory-policy", "allkeys-lru", "maxmemory-samples", "10")
    for i in range(200):
        run("SET", f"cold:{i}", "x" * 100)
    run.clock.advance(10_000)
    for i in range(20):
        run("SET", f"hot:{i}", "x" * 100)
    limit = _used(run) - 40 * 200
    run("CONFIG", "SET", "maxmemory", str(limit))
    for i in range(50):
        run.clock.advance(10)
        for j in range(20):
            run("GET", f"hot:{j}")
        assert run("SET", f"new:{i}", "x" * 100) is OK
    # Eviction runs before each write, so the last write may overshoot by one key.
    assert _used(run) <= limit + 300
    hot_left = sum(run("EXISTS", f"hot:{j}") for j in range(20))
    assert hot_left == 20
    evicted = int(run("INFO", "stats").decode().split("evicted_keys:")[1].split("\r")[0])
    assert evicted > 0
    assert evicted == run.app.evicted_keys


def test_eviction_propagates_del_and_notifies(run: Runner) -> None:
    published: list[tuple[bytes, bytes]] = []

    def publish(channel: bytes, message: bytes) -> int:
        published.append((channel, message))
        return 0

    run.app.publish = publish
    run("CONFIG", "SET", "notify-keyspace-events", "Ee")
    run("SET", "victim", "x" * 500)
    run("CONFIG", "SET", "maxmemory-policy", "allkeys-random", "maxmemory", str(_used(run) - 1))
    run.feed.clear()
    assert run("SET", "other", "y" * 500) is OK
    assert run("EXISTS", "victim") == 0
    assert b"DEL" in b"".join(run.feed)
    assert (b"__keyevent@0__:evicted", b"victim") in published


def test_volatile_ttl_evicts_the_nearest_deadline(run: Runner) -> None:
    run("CONFIG", "SET", "maxmemory-policy", "volatile-ttl")
    run("SET", "soon", "x" * 300, "EX", "10")
    run("SET", "later", "x" * 300, "EX", "1000")
    run("SET", "forever", "x" * 300)
    run("CONFIG", "SET", "maxmemory", str(_used(run) - 1))
    assert run("SET", "new", "x" * 300) is OK
    assert run("EXISTS", "soon") == 0
    assert run("EXISTS", "later") == 1
    assert run("EXISTS", "forever") == 1


def test_volatile_policy_without_volatile_keys_is_oom(run: Runner) -> None:
    run("CONFIG", "SET", "maxmemory-policy", "volatile-lru")
    run("SET", "k", "x" * 1000)
    run("CONFIG", "SET", "maxmemory", str(_used(run) - 100))
    assert run("SET", "k2", "v") == OOM
    assert run("EXISTS", "k") == 1


def test_allkeys_lfu_evicts_rarely_used_keys(run: Runner) -> None:
    run("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu", "maxmemory-samples", "10")
    for i in range(50):
        run("SET", f"rare:{i}", "x" * 100)
    run("SET", "popular", "x" * 100)
    for _ in range(100):
        run("GET", "popular")
    run("CONFIG", "SET", "maxmemory", str(_used(run)))
    for i in range(20):
        run("SET", f"new:{i}", "x" * 100)
    assert run("EXISTS", "popular") == 1
    assert run("OBJECT", "FREQ", "popular") > 5


def test_access_tracking_is_off_without_lru_or_lfu_need(run: Runner) -> None:
    def tracking() -> bool:
        return run.app.keyspace.dbs[0].access is not None

    run("SET", "k", "v")
    assert not tracking()
    run("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
    assert tracking()
    run("CONFIG", "SET", "maxmemory-policy", "allkeys-random")
    assert not tracking()


def test_info_memory_reports_the_estimate(run: Runner) -> None:
    run("CONFIG", "SET", "maxmemory", "1mb", "maxmemory-policy", "allkeys-lru")
    run("SET", "k", "v")
    text = run("INFO", "memory").decode()
    assert f"used_memory:{_used(run)}\r\n" in text
    assert "maxmemory:1048576\r\n" in text
    assert "maxmemory_human:1.00M\r\n" in text
    assert "maxmemory_policy:allkeys-lru\r\n" in text

"""Real memcached clients against Duocache over loopback: pymemcache (Client, serde, CAS races,
noreply, HashClient across three servers with one stopped), libmemcached's memccapable,
memccp and memccat, each compared with what they do against a real memcached 1.6; and the
memcached and RESP views of the same keyspace."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from pymemcache import serde
from pymemcache.client.base import Client
from pymemcache.client.hash import HashClient

from tests.memcache_support import RealMemcached, start_real_memcached
from tests.support import ServerProcess, start_duocache

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def duocache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_duocache(tmp_path_factory.mktemp("duocache-clients"), memcache=True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def memcached() -> Iterator[RealMemcached]:
    server = start_real_memcached()
    yield server
    server.stop()


@pytest.fixture
def mc(duocache: ServerProcess) -> Iterator[Client]:
    client = Client(("127.0.0.1", duocache.memcache_port), connect_timeout=5, timeout=5)
    client.flush_all()
    yield client
    client.close()


@pytest.fixture
def resp(duocache: ServerProcess) -> Iterator[redis.Redis]:
    client = redis.Redis(port=duocache.port, protocol=2)
    yield client
    client.close()


# --- pymemcache Client ---


def test_set_get_delete(mc: Client) -> None:
    assert mc.set("k", b"v") is True
    assert mc.get("k") == b"v"
    assert mc.get_many(["k", "missing"]) == {"k": b"v"}
    assert mc.delete("k", noreply=False) is True
    assert mc.get("k") is None


def test_noreply_writes_are_applied(mc: Client) -> None:
    assert mc.set("k", b"1", noreply=True) is True
    assert mc.incr("k", 5, noreply=True) is None
    assert mc.add("k", b"x", noreply=True) is True
    assert mc.get("k") == b"6"
    quiet = Client(mc.server, default_noreply=True)
    quiet.set("q", b"quiet")
    assert quiet.get("q") == b"quiet"
    quiet.close()


def test_pickle_serde_sets_flags(duocache: ServerProcess, mc: Client) -> None:
    client = Client(("127.0.0.1", duocache.memcache_port), serde=serde.pickle_serde)
    value = {"a": [1, 2.5, None], "b": ("x", b"y")}
    client.set("obj", value)
    client.set("num", 42)
    client.set("text", "hé")
    assert client.get("obj") == value
    assert client.get("num") == 42
    assert client.get("text") == "hé"
    # The flags are stored with the item: a raw client sees them.
    _, flags = mc.raw_command(b"get obj", b"END\r\n").split(b"\r\n", 1)[0].split(b" ")[1:3]
    assert flags == b"%d" % serde.FLAG_PICKLE
    client.close()


def test_cas_race_between_two_clients(duocache: ServerProcess, mc: Client) -> None:
    other = Client(mc.server)
    mc.set("k", b"0")
    _, first = mc.gets("k")
    _, second = other.gets("k")
    assert first == second
    assert mc.cas("k", b"mine", first) is True
    assert other.cas("k", b"theirs", second) is False
    assert mc.get("k") == b"mine"
    assert mc.cas("missing", b"x", b"1") is None
    other.close()


def test_counter_with_cas_retries_loses_no_update(mc: Client) -> None:
    clients = [mc, Client(mc.server)]
    mc.set("counter", b"0")
    successes = 0
    for round_ in range(50):
        tokens = [c.gets("counter") for c in clients]
        for client, (value, token) in zip(clients, tokens, strict=True):
            if client.cas("counter", b"%d" % (int(value) + 1), token):
                successes += 1
        assert round_ + 1 == successes  # exactly one of the two wins every round
    assert int(mc.get("counter")) == successes
    clients[1].close()


def test_incr_decr_touch_and_stats(mc: Client) -> None:
    mc.set("n", b"10")
    assert mc.incr("n", 5) == 15
    assert mc.decr("n", 100) == 0
    assert mc.incr("missing", 1) is None
    assert mc.touch("n", 100) is True
    stats = mc.stats()
    assert stats[b"version"] == b"1.6.18"
    assert stats[b"curr_connections"] >= 1
    assert mc.version() == b"1.6.18"


def test_access_records_keep_to_the_clock_the_server_ticks(mc: Client) -> None:
    """A get or set that comes alone records its access with the coarse second the server's
    cron ticks (memcached's current_time): read back through mg's `l` (seconds since the
    last access) it is 0 or 1 however long the server has run."""
    deadline = time.monotonic() + 15
    while int(mc.stats()[b"uptime"]) < 3:  # a second never ticked would be 3 behind
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert mc.set("ticked", b"v") is True
    assert re.fullmatch(rb"HD l[01] h0", mc.raw_command(b"mg ticked l h", b"\r\n"))
    assert mc.get("ticked") == b"v"
    assert re.fullmatch(rb"HD l[01] h1", mc.raw_command(b"mg ticked l h", b"\r\n"))
    conns = mc.stats("conns")
    clients = [k.split(b":")[0] for k, v in conns.items() if v == b"conn_parse_cmd"]
    assert clients, conns  # this connection, answering its stats
    for conn in clients:
        assert conns[conn + b":secs_since_last_cmd"] in (0, 1), conns


def test_gat_and_gats(mc: Client, resp: redis.Redis) -> None:
    mc.set("k", b"v")
    assert mc.raw_command(b"gat 100 k", b"END\r\n") == b"VALUE k 0 1\r\nv\r\n"
    assert 99_000 < resp.pttl("k") <= 100_000
    assert re.fullmatch(rb"VALUE k 0 1 \d+\r\nv\r\n", mc.raw_command(b"gats 0 k", b"END\r\n"))
    assert resp.pttl("k") == -1


# --- the same keyspace over RESP ---


def test_an_item_set_over_memcached_is_a_redis_string(mc: Client, resp: redis.Redis) -> None:
    mc.set("k", b"hello", expire=100)
    assert resp.get("k") == b"hello"
    assert 99_000 < resp.pttl("k") <= 100_000
    assert resp.type("k") == b"string"


def test_a_redis_string_is_an_item_with_flags_zero(mc: Client, resp: redis.Redis) -> None:
    resp.set("k", "from-resp")
    assert mc.raw_command(b"get k", b"END\r\n") == b"VALUE k 0 9\r\nfrom-resp\r\n"


def test_flags_survive_resp_reads_and_go_with_resp_writes(
    duocache: ServerProcess, mc: Client, resp: redis.Redis
) -> None:
    pickled = Client(mc.server, serde=serde.pickle_serde)
    pickled.set("obj", {"x": 1})
    raw = resp.get("obj")
    assert raw is not None
    assert pickled.get("obj") == {"x": 1}
    _, before = mc.gets("obj")
    resp.set("obj", raw)  # same bytes over RESP: flags cleared, CAS changed
    value, after = mc.gets("obj")
    assert value == raw
    assert after != before
    assert mc.raw_command(b"get obj", b"END\r\n").startswith(b"VALUE obj 0 ")
    pickled.close()


def test_a_memcached_write_is_seen_by_resp_watch(mc: Client, resp: redis.Redis) -> None:
    mc.set("w", b"1")
    assert resp.append("w", "2") == 2
    assert mc.get("w") == b"12"
    assert resp.delete("w") == 1
    assert mc.get("w") is None


# --- pymemcache HashClient across three servers ---


def _hash_scenario(
    ports: list[int], stop: Callable[[int], object]
) -> tuple[dict[str, Any], dict[int, int]]:
    client = HashClient(
        [("127.0.0.1", port) for port in ports],
        ignore_exc=True,
        retry_attempts=0,
        dead_timeout=60,
        connect_timeout=2,
        timeout=2,
        default_noreply=False,
    )
    keys = [f"key:{i}" for i in range(300)]
    stored = sum(bool(client.set(key, key.encode())) for key in keys)
    per_server: dict[int, int] = {}
    for port in ports:
        direct = Client(("127.0.0.1", port))
        per_server[port] = int(direct.stats()[b"curr_items"])
        direct.close()
    owner = {key: client._get_client(key).server[1] for key in keys}
    stopped = ports[1]
    stop(stopped)
    # The first request to the stopped server fails quietly and takes it off the ring.
    first = [client.get(key) for key in keys if owner[key] == stopped][:1]
    after = {key: client.get(key) for key in keys}
    lost_only_stopped = all(
        (value is None) == (owner[key] == stopped) for key, value in after.items()
    )
    rewritten = sum(bool(client.set(key, b"again")) for key in keys)
    readable = sum(client.get(key) == b"again" for key in keys)
    client.close()
    summary = {
        "stored": stored,
        "every_server_holds_keys": all(count > 0 for count in per_server.values()),
        "total_items": sum(per_server.values()),
        "first_failure_is_a_miss": first == [None],
        "lost_only_the_stopped_servers_keys": lost_only_stopped,
        "rewritten": rewritten,
        "readable": readable,
    }
    return summary, per_server


@pytest.mark.slow
def test_hash_client_spreads_keys_and_survives_a_stopped_node(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"n{i}").mkdir()
    ours = [start_duocache(tmp_path / f"n{i}", memcache=True) for i in range(3)]
    theirs = [start_real_memcached() for _ in range(3)]
    try:
        by_port_ours = {s.memcache_port: s for s in ours}
        by_port_theirs = {s.port: s for s in theirs}
        summary_ours, _ = _hash_scenario(list(by_port_ours), lambda p: by_port_ours[p].stop())
        summary_theirs, _ = _hash_scenario(list(by_port_theirs), lambda p: by_port_theirs[p].stop())
    finally:
        for server in ours:
            server.stop()
        for real in theirs:
            real.stop()
    assert summary_ours == summary_theirs
    assert summary_ours == {
        "stored": 300,
        "every_server_holds_keys": True,
        "total_items": 300,
        "first_failure_is_a_miss": True,
        "lost_only_the_stopped_servers_keys": True,
        "rewritten": 300,
        "readable": 300,
    }


# --- libmemcached tools ---


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; .ci/run installs libmemcached-tools")
    return path


def _memccapable(port: int) -> dict[str, str]:
    result = subprocess.run(
        [_tool("memccapable"), "-h", "127.0.0.1", "-p", str(port), "-a", "-t", "5"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    outcomes = dict(re.findall(r"^(ascii [\w ]+?)\s+\[(\w+)\]", result.stdout, re.M))
    assert outcomes, result.stdout + result.stderr
    return outcomes


@pytest.mark.slow
def test_memccapable_ascii_passes_what_memcached_passes(
    duocache: ServerProcess, memcached: RealMemcached
) -> None:
    theirs = _memccapable(memcached.port)
    ours = _memccapable(duocache.memcache_port)
    passed_theirs = {name for name, outcome in theirs.items() if outcome == "pass"}
    passed_ours = {name for name, outcome in ours.items() if outcome == "pass"}
    assert passed_theirs
    assert passed_theirs <= passed_ours, sorted(passed_theirs - passed_ours)


def _copy_and_cat(port: int, path: Path) -> tuple[bytes, bytes]:
    servers = f"--servers=127.0.0.1:{port}"
    subprocess.run([_tool("memccp"), servers, "--flag=7", str(path)], check=True, timeout=30)
    value = subprocess.run(
        [_tool("memccat"), servers, path.name], check=True, capture_output=True, timeout=30
    ).stdout
    flags = subprocess.run(
        [_tool("memccat"), servers, "--flag", path.name],
        check=True,
        capture_output=True,
        timeout=30,
    ).stdout
    return value, flags


def test_memccp_memccat_round_trip(
    duocache: ServerProcess, memcached: RealMemcached, tmp_path: Path
) -> None:
    path = tmp_path / "blob.bin"
    data = os.urandom(50_000)
    path.write_bytes(data)
    ours = _copy_and_cat(duocache.memcache_port, path)
    theirs = _copy_and_cat(memcached.port, path)
    assert ours == theirs
    assert ours[0].startswith(data)
    client = Client(("127.0.0.1", duocache.memcache_port))
    assert client.get(path.name) == data
    client.close()

"""memcached items keep their flags and CAS across a restart, from the AOF and from the RDB,
and a real redis-server loads the same files as plain strings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import redis
from pymemcache.client.base import Client

from tests.support import start_duocache, start_real_redis

pytestmark = pytest.mark.integration


def _write_items(port: int) -> tuple[int, int]:
    mc = Client(("127.0.0.1", port))
    try:
        mc.set("plain", b"v0")
        mc.set("flagged", b"v1", flags=42)
        mc.set("expiring", b"v2", expire=3600, flags=7)
        _, cas = mc.gets("flagged")
        return 42, int(cas)
    finally:
        mc.close()


def _read_flags(port: int) -> dict[str, tuple[bytes, int]]:
    mc = Client(("127.0.0.1", port))
    try:
        out: dict[str, tuple[bytes, int]] = {}
        for key in ("plain", "flagged", "expiring"):
            reply = mc.raw_command(f"get {key}".encode(), b"END")
            header, _, rest = reply.partition(b"\r\n")
            parts = header.split()
            out[key] = (rest.split(b"\r\n", 1)[0], int(parts[2]))
        return out
    finally:
        mc.close()


@pytest.mark.parametrize("mode", ["aof", "rdb"])
def test_flags_and_cas_survive_restart(tmp_path: Path, mode: str) -> None:
    args = ["--appendonly", "yes"] if mode == "aof" else ["--appendonly", "no"]
    server = start_duocache(tmp_path, *args, memcache=True)
    try:
        _, cas_before = _write_items(server.memcache_port)
        if mode == "rdb":
            redis.Redis(port=server.port).save()
    finally:
        assert server.stop() == 0
    server = start_duocache(tmp_path, *args, memcache=True)
    try:
        assert _read_flags(server.memcache_port) == {
            "plain": (b"v0", 0),
            "flagged": (b"v1", 42),
            "expiring": (b"v2", 7),
        }
        mc = Client(("127.0.0.1", server.memcache_port))
        try:
            _, cas_after = mc.gets("flagged")
        finally:
            mc.close()
        assert int(cas_after) == cas_before
        assert 3500 < redis.Redis(port=server.port).ttl("expiring") <= 3600
    finally:
        assert server.stop() == 0


def test_real_redis_loads_files_with_memcached_items(tmp_path: Path) -> None:
    ours = tmp_path / "ours"
    ours.mkdir()
    server = start_duocache(ours, "--appendonly", "yes", memcache=True)
    try:
        _write_items(server.memcache_port)
        redis.Redis(port=server.port).save()
    finally:
        assert server.stop() == 0
    for what in ("rdb", "aof"):
        theirs = tmp_path / f"redis-{what}"
        theirs.mkdir()
        if what == "rdb":
            shutil.copy(ours / "dump.rdb", theirs / "dump.rdb")
            extra = ("--appendonly", "no")
        else:
            shutil.copytree(ours / "appendonlydir", theirs / "appendonlydir")
            extra = ("--appendonly", "yes")
        real = start_real_redis(theirs, *extra)
        try:
            client = redis.Redis(port=real.port)
            assert client.mget("plain", "flagged", "expiring") == [b"v0", b"v1", b"v2"]
            assert client.ttl("expiring") > 3500
        finally:
            real.stop()

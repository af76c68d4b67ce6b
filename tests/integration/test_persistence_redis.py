"""Files and payloads exchanged with a real redis-server 7: RDB both ways, AOF directories
both ways (with and without the RDB preamble), DUMP/RESTORE both ways, redis-check-rdb and
redis-check-aof on our files, snapshot transfers (redis-cli --rdb, duocache backup/restore),
and what a damaged AOF does at startup."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from persistence.mcmeta import encode_mcmeta
from persistence.rdb import RDBAux, write_rdb
from protocol.resp import encode_commands
from storage.keyspace import Keyspace
from tests.integration.persist_helpers import (
    contents,
    contents_via_dump,
    copy_dir,
    fill,
    redis_with_data,
)
from tests.support import (
    REPO_ROOT,
    RealServer,
    ServerProcess,
    free_port,
    start_duocache,
    start_real_redis,
    wait_until,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RealServer, Path]]:
    """A real Redis holding the full dataset, saved to dump.rdb in its directory."""
    directory = tmp_path_factory.mktemp("redis-source")
    server, client = redis_with_data(directory)
    client.save()
    client.close()
    yield server, directory
    server.stop()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealServer]:
    """A real Redis used to read container values out of Duocache through DUMP."""
    server = start_real_redis(tmp_path_factory.mktemp("redis-scratch"))
    yield server
    server.stop()


def _redis_on(directory: Path, *args: str) -> RealServer:
    """A real Redis started on an existing data directory (it loads what is there)."""
    server = start_real_redis(directory, *args)
    wait_until(lambda: _loaded(server.port), timeout_s=10)
    return server


def _loaded(port: int) -> bool:
    try:
        with redis.Redis(port=port, protocol=2) as r:
            return bool(r.ping())
    except redis.exceptions.BusyLoadingError:
        return False


def _stop_clean(server: ServerProcess) -> None:
    assert server.stop() == 0


def _dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- RDB ---


def test_redis_rdb_loads_into_duocache_and_duocache_rdb_into_redis(
    source: tuple[RealServer, Path], scratch: RealServer, tmp_path: Path
) -> None:
    redis_server, redis_dir = source
    expected = contents(redis_server.port)
    assert len(expected) == 25
    ours = tmp_path / "duocache"
    ours.mkdir()
    shutil.copy(redis_dir / "dump.rdb", ours / "dump.rdb")
    duo = start_duocache(ours, "--save", "")
    try:
        assert contents_via_dump(duo.port, scratch) == expected
        with redis.Redis(port=duo.port, protocol=2) as r:
            assert r.execute_command("SAVE") is True
    finally:
        _stop_clean(duo)
    check = subprocess.run(["redis-check-rdb", str(ours / "dump.rdb")], capture_output=True)
    assert b"RDB looks OK" in check.stdout, check.stdout
    back = tmp_path / "redis-again"
    back.mkdir()
    shutil.copy(ours / "dump.rdb", back / "dump.rdb")
    again = _redis_on(back)
    try:
        assert contents(again.port) == expected
    finally:
        again.stop()


def test_uncompressed_and_unchecksummed_rdb_loads_into_redis(
    source: tuple[RealServer, Path], tmp_path: Path
) -> None:
    redis_server, redis_dir = source
    ours = tmp_path / "duocache"
    ours.mkdir()
    shutil.copy(redis_dir / "dump.rdb", ours / "dump.rdb")
    duo = start_duocache(ours, "--save", "", "--rdbcompression", "no", "--rdbchecksum", "no")
    with redis.Redis(port=duo.port, protocol=2) as r:
        r.execute_command("SAVE")
    _stop_clean(duo)
    data = (ours / "dump.rdb").read_bytes()
    assert data[-8:] == bytes(8)
    assert b"abcdefgh" * 100 in data  # not compressed
    back = tmp_path / "redis"
    back.mkdir()
    shutil.copy(ours / "dump.rdb", back / "dump.rdb")
    again = _redis_on(back)
    try:
        assert contents(again.port) == contents(redis_server.port)
    finally:
        again.stop()


def test_memcached_metadata_aux_is_ignored_by_redis(tmp_path: Path) -> None:
    ks = Keyspace()
    ks.dbs[0].set(b"item", b"value")
    out = io.BytesIO()
    aux = [(b"duocache-mcmeta", encode_mcmeta({b"item": (42, 7)}))]
    write_rdb(out, ks, RDBAux(), extra_aux=aux)
    (tmp_path / "dump.rdb").write_bytes(out.getvalue())
    check = subprocess.run(["redis-check-rdb", str(tmp_path / "dump.rdb")], capture_output=True)
    assert b"RDB looks OK" in check.stdout
    server = _redis_on(tmp_path)
    try:
        with redis.Redis(port=server.port, protocol=2) as r:
            assert r.get("item") == b"value"
            assert r.dbsize() == 1
    finally:
        server.stop()


# --- DUMP / RESTORE ---


def test_dump_restore_between_redis_and_duocache(
    source: tuple[RealServer, Path], tmp_path: Path
) -> None:
    redis_server, _ = source
    expected = contents(redis_server.port)
    duo = start_duocache(_dir(tmp_path / "duo"), "--save", "")
    target = start_real_redis(_dir(tmp_path / "target"))
    try:
        for db in range(16):
            theirs: Any = redis.Redis(port=redis_server.port, db=db, protocol=2)
            ours: Any = redis.Redis(port=duo.port, db=db, protocol=2)
            back: Any = redis.Redis(port=target.port, db=db, protocol=2)
            for key in theirs.keys("*"):
                ttl = max(theirs.pttl(key), 0)
                ours.restore(key, ttl, theirs.dump(key))
                payload = ours.dump(key)
                assert payload[-10:-8] == b"\x09\x00"  # written as RDB version 9
                back.restore(key, max(ours.pttl(key), 0), payload)
            for client in (theirs, ours, back):
                client.close()
        assert contents(target.port) == expected
    finally:
        target.stop()
        _stop_clean(duo)


# --- AOF ---


def _wait_redis_rewrite(r: Any) -> None:
    def done() -> bool:
        info = r.info("persistence")
        return bool(info["aof_rewrite_in_progress"] == 0 and info["aof_rewrite_scheduled"] == 0)

    wait_until(done, timeout_s=10)


def _string_workload(r: Any, transaction: bool) -> None:
    """Writes Duocache replays on this branch: strings and keyspace commands, several dbs,
    and (sent to a real Redis only: this branch has no MULTI) a transaction."""
    r.set("w:a", "1")
    r.incr("w:a")
    r.append("w:a", "0")
    r.set("w:exp", "x", ex=5000)
    r.set("w:gone", "x")
    r.delete("w:gone")
    r.expire("w:a", 9000)
    r.persist("w:a")
    r.mset({"w:m1": "1", "w:m2": "2"})
    r.setrange("w:m1", 3, "abc")
    if transaction:
        pipe = r.pipeline(transaction=True)
        pipe.incr("w:tx")
        pipe.incr("w:tx")
        pipe.execute()
    r.execute_command("SELECT", 3)  # the connection stays on db 3 for what follows
    r.set("w:db3", "three")
    r.execute_command("SELECT", 0)


def test_duocache_aof_directory_loads_into_redis(
    source: tuple[RealServer, Path], scratch: RealServer, tmp_path: Path
) -> None:
    redis_server, _ = source
    ours = _dir(tmp_path / "duo")
    duo = start_duocache(ours, "--save", "", "--appendonly", "yes", "--appendfsync", "always")
    try:
        with redis.Redis(port=duo.port, protocol=2) as r:
            for db in range(16):
                theirs = redis.Redis(port=redis_server.port, db=db, protocol=2)
                r.execute_command("SELECT", db)
                for key in theirs.keys("*"):
                    r.restore(key, max(theirs.pttl(key), 0), theirs.dump(key))
                theirs.close()
            r.execute_command("SELECT", 0)
            _string_workload(r, transaction=False)
            assert r.bgrewriteaof()
            wait_until(
                lambda: sorted(os.listdir(ours / "appendonlydir"))[0].startswith(
                    "appendonly.aof.2.base"
                )
            )
            r.set("after-rewrite", "yes")
            r.expire("after-rewrite", 3600)
        expected = contents_via_dump(duo.port, scratch)
    finally:
        _stop_clean(duo)
    manifest = ours / "appendonlydir" / "appendonly.aof.manifest"
    check = subprocess.run(["redis-check-aof", str(manifest)], capture_output=True)
    assert b"All AOF files and manifest are valid" in check.stdout, check.stdout
    ours_again = start_duocache(ours, "--save", "", "--appendonly", "yes")
    try:
        assert contents_via_dump(ours_again.port, scratch) == expected
    finally:
        _stop_clean(ours_again)
    copy = copy_dir(ours, tmp_path / "redis")
    (copy / "dump.rdb").unlink(missing_ok=True)
    real = _redis_on(copy, "--appendonly", "yes")
    try:
        assert contents(real.port) == expected
    finally:
        real.stop()


def test_duocache_aof_base_without_preamble_loads_into_redis(
    source: tuple[RealServer, Path], tmp_path: Path
) -> None:
    redis_server, _ = source
    ours = _dir(tmp_path / "duo")
    duo = start_duocache(ours, "--save", "", "--appendonly", "yes", "--aof-use-rdb-preamble", "no")
    try:
        with redis.Redis(port=duo.port, protocol=2) as r:
            for db in range(16):
                theirs = redis.Redis(port=redis_server.port, db=db, protocol=2)
                r.execute_command("SELECT", db)
                for key in theirs.keys("*"):
                    r.restore(key, max(theirs.pttl(key), 0), theirs.dump(key))
                theirs.close()
            r.execute_command("SELECT", 0)
            r.bgrewriteaof()
            wait_until(lambda: "appendonly.aof.2.base.aof" in os.listdir(ours / "appendonlydir"))
    finally:
        _stop_clean(duo)
    base = (ours / "appendonlydir" / "appendonly.aof.2.base.aof").read_bytes()
    assert base.startswith(b"*2\r\n$6\r\nSELECT\r\n")
    assert b"RPUSH" in base
    assert b"HMSET" in base
    assert b"ZADD" in base
    assert b"SADD" in base
    copy = copy_dir(ours, tmp_path / "redis")
    (copy / "dump.rdb").unlink(missing_ok=True)
    real = _redis_on(copy, "--appendonly", "yes")
    try:
        assert contents(real.port) == contents(redis_server.port)
    finally:
        real.stop()


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_redis_aof_directory_loads_into_duocache(
    preamble: str, scratch: RealServer, tmp_path: Path
) -> None:
    theirs = _dir(tmp_path / "redis")
    real = start_real_redis(theirs, "--appendonly", "yes", "--aof-use-rdb-preamble", preamble)
    try:
        with redis.Redis(port=real.port, protocol=2) as r:
            if preamble == "yes":
                fill(r)  # every type goes into the RDB base
            else:
                r.set("base:s", "v")  # a base of commands: strings on this branch
                r.set("base:ttl", "v", px=3_600_000)
                r.select(2)
                r.set("base:db2", "two")
                r.select(0)
            r.bgrewriteaof()
            _wait_redis_rewrite(r)
            _string_workload(r, transaction=True)
        expected = contents(real.port)
        with redis.Redis(port=real.port, protocol=2) as r:
            r.shutdown(nosave=True)
    finally:
        real.stop()
    names = os.listdir(theirs / "appendonlydir")
    assert f"appendonly.aof.2.base.{'rdb' if preamble == 'yes' else 'aof'}" in names
    ours = copy_dir(theirs, tmp_path / "duo")
    duo = start_duocache(ours, "--save", "", "--appendonly", "yes")
    try:
        assert contents_via_dump(duo.port, scratch) == expected
    finally:
        _stop_clean(duo)


# --- a damaged AOF at startup ---


def _aof_with_writes(directory: Path, count: int = 20) -> Path:
    duo = start_duocache(directory, "--save", "", "--appendonly", "yes", "--appendfsync", "always")
    with redis.Redis(port=duo.port, protocol=2) as r:
        for i in range(count):
            r.set(f"k{i}", i)
    _stop_clean(duo)
    return directory / "appendonlydir" / "appendonly.aof.1.incr.aof"


def test_a_torn_last_command_is_truncated_with_a_log_line(tmp_path: Path) -> None:
    incr = _aof_with_writes(tmp_path)
    good = incr.stat().st_size
    with open(incr, "ab") as f:
        f.write(b"*3\r\n$3\r\nSET\r\n$3\r\nnew\r\n$5\r\nhal")
    duo = start_duocache(tmp_path, "--save", "", "--appendonly", "yes")
    try:
        with redis.Redis(port=duo.port, protocol=2) as r:
            assert r.dbsize() == 20
            assert r.get("k19") == b"19"
            assert r.get("new") is None
    finally:
        _stop_clean(duo)
    log = (tmp_path / "duocache.log").read_text()
    assert f"Truncating the AOF appendonly.aof.1.incr.aof at offset {good}" in log
    assert incr.stat().st_size == good


def test_a_torn_tail_is_fatal_without_aof_load_truncated(tmp_path: Path) -> None:
    incr = _aof_with_writes(tmp_path)
    with open(incr, "ab") as f:
        f.write(b"*2\r\n$3\r\nDEL")
    with pytest.raises(RuntimeError, match=r"appendonly\.aof\.1\.incr\.aof.*offset"):
        start_duocache(tmp_path, "--save", "", "--appendonly", "yes", "--aof-load-truncated", "no")


def test_damage_in_the_middle_refuses_to_start_naming_file_and_offset(tmp_path: Path) -> None:
    incr = _aof_with_writes(tmp_path)
    data = bytearray(incr.read_bytes())
    middle = data.index(b"*3\r\n$3\r\nSET\r\n$2\r\nk9\r\n")
    data[middle : middle + 1] = b"?"
    incr.write_bytes(bytes(data))
    cmd = [
        sys.executable,
        "-m",
        "server",
        "--port",
        str(free_port()),
        "--memcache-port",
        "0",
        "--dir",
        str(tmp_path),
        "--appendonly",
        "yes",
    ]
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.run(cmd, capture_output=True, env=env, timeout=30)
    assert proc.returncode != 0
    message = proc.stderr.decode()
    assert "appendonly.aof.1.incr.aof" in message
    assert f"offset {middle}" in message


def test_a_missing_file_listed_in_the_manifest_is_fatal(tmp_path: Path) -> None:
    incr = _aof_with_writes(tmp_path)
    incr.unlink()
    with pytest.raises(RuntimeError, match="does not exist"):
        start_duocache(tmp_path, "--save", "", "--appendonly", "yes")


def test_legacy_single_file_aof_is_upgraded_with_and_without_preamble(tmp_path: Path) -> None:
    commands = encode_commands([[b"SET", b"legacy", b"1"], [b"INCR", b"legacy"]])
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "appendonly.aof").write_bytes(commands)
    ks = Keyspace()
    ks.dbs[0].set(b"from-preamble", b"yes")
    out = io.BytesIO()
    write_rdb(out, ks, RDBAux())
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "appendonly.aof").write_bytes(out.getvalue() + commands)
    for directory, keys in ((plain, 1), (mixed, 2)):
        duo = start_duocache(directory, "--save", "", "--appendonly", "yes")
        try:
            with redis.Redis(port=duo.port, protocol=2) as r:
                assert r.get("legacy") == b"2"
                assert r.dbsize() == keys
        finally:
            _stop_clean(duo)
        assert not (directory / "appendonly.aof").exists()
        manifest = (directory / "appendonlydir" / "appendonly.aof.manifest").read_text()
        assert manifest.startswith("file appendonly.aof seq 1 type b\n")


# --- loading ---

LARGE_DUMP_KEYS = 400_000  # about two seconds of loading here


@contextlib.contextmanager
def loading_server(tmp_path: Path, port: int, memcache_port: int = 0) -> Iterator[None]:
    """A server started on a dump of LARGE_DUMP_KEYS keys (key:N = value:N), still loading
    it when its listeners accept; stopped on exit."""
    ks = Keyspace()
    for i in range(LARGE_DUMP_KEYS):
        ks.dbs[0].set(b"key:%d" % i, b"value:%d" % i)
    with open(tmp_path / "dump.rdb", "wb") as f:
        write_rdb(f, ks, RDBAux())
    del ks
    cmd = [sys.executable, "-m", "server", "--port", str(port)]
    cmd += ["--memcache-port", str(memcache_port), "--dir", str(tmp_path), "--save", ""]
    cmd += ["--logfile", str(tmp_path / "log")]
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        yield
    finally:
        proc.terminate()
        proc.wait(30)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_clients_get_loading_while_a_large_file_loads(tmp_path: Path) -> None:
    port = free_port()
    with loading_server(tmp_path, port):
        replies: list[bytes] = []

        def answered() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                    s.sendall(b"*1\r\n$4\r\nPING\r\n")
                    replies.append(s.recv(100))
            except OSError:
                return False
            return replies[-1] == b"+PONG\r\n"

        wait_until(answered, timeout_s=60, interval_s=0.02)
        assert replies[0] == b"-LOADING Redis is loading the dataset in memory\r\n"
        with redis.Redis(port=port, protocol=2) as r:
            assert r.dbsize() == LARGE_DUMP_KEYS
            assert r.lastsave()


def test_memcached_requests_wait_while_a_large_file_loads(tmp_path: Path) -> None:
    """memcached has no LOADING reply: a request sent mid-load is answered once the whole
    dataset is in, never from half of it, and a write sent then is kept."""
    port, mc_port = free_port(), free_port()
    with loading_server(tmp_path, port, mc_port):
        connected: list[socket.socket] = []

        def accepts() -> bool:
            try:
                connected.append(socket.create_connection(("127.0.0.1", mc_port), timeout=30))
            except OSError:
                return False
            return True

        wait_until(accepts, timeout_s=60, interval_s=0.005)
        keys = [b"key:%d" % i for i in range(0, LARGE_DUMP_KEYS, 2000)]
        with connected[0] as mc:
            mc.sendall(b"get " + b" ".join(keys) + b"\r\nset fresh 0 0 2\r\nhi\r\n")
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"*1\r\n$4\r\nPING\r\n")
                assert s.recv(100).startswith(b"-LOADING")  # the requests went in mid-load
            reply = b""
            while not reply.endswith(b"END\r\nSTORED\r\n"):
                chunk = mc.recv(1 << 16)
                assert chunk, reply[-200:]
                reply += chunk
        assert reply.count(b"VALUE ") == len(keys)
        assert b"VALUE key:398000 0 12\r\nvalue:398000\r\n" in reply
        with redis.Redis(port=port, protocol=2) as r:
            assert r.get("fresh") == b"hi"
            assert r.dbsize() == LARGE_DUMP_KEYS + 1


# --- snapshot transfers ---


def test_redis_cli_rdb_and_duocache_backup_restore(
    source: tuple[RealServer, Path], scratch: RealServer, tmp_path: Path
) -> None:
    redis_server, _redis_dir = source
    expected = contents(redis_server.port)
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    # duocache backup against a real Redis, then restore it into a fresh data directory.
    backup = tmp_path / "from-redis.rdb"
    tool = [sys.executable, "-m", "server"]
    out = subprocess.run(
        [*tool, "backup", "--port", str(redis_server.port), "--progress-step", "25", str(backup)],
        capture_output=True,
        env=env,
        check=True,
    )
    assert b"backup: 100%" in out.stderr
    data_dir = tmp_path / "restored"
    out = subprocess.run(
        [*tool, "restore", str(backup), "--dir", str(data_dir)],
        capture_output=True,
        env=env,
        check=True,
    )
    assert b"25 keys" in out.stdout
    duo = start_duocache(data_dir, "--save", "")
    try:
        assert contents_via_dump(duo.port, scratch) == expected
        # redis-cli --rdb and duocache backup against Duocache itself.
        cli_copy = tmp_path / "cli.rdb"
        subprocess.run(
            ["redis-cli", "-p", str(duo.port), "--rdb", str(cli_copy)],
            capture_output=True,
            check=True,
            timeout=30,
        )
        ours = tmp_path / "from-duocache.rdb"
        subprocess.run([*tool, "backup", "--port", str(duo.port), str(ours)], env=env, check=True)
    finally:
        _stop_clean(duo)
    for snapshot in (cli_copy, ours):
        check = subprocess.run(["redis-check-rdb", str(snapshot)], capture_output=True)
        assert b"RDB looks OK" in check.stdout
        directory = tmp_path / f"check-{snapshot.stem}"
        directory.mkdir()
        shutil.copy(snapshot, directory / "dump.rdb")
        again = _redis_on(directory)
        try:
            assert contents(again.port) == expected
        finally:
            again.stop()


def test_restore_refuses_a_damaged_file_and_keeps_the_old_one(tmp_path: Path) -> None:
    ks = Keyspace()
    ks.dbs[0].set(b"k", b"v")
    out = io.BytesIO()
    write_rdb(out, ks, RDBAux())
    good = out.getvalue()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "dump.rdb").write_bytes(good)
    bad = tmp_path / "bad.rdb"
    bad.write_bytes(good[:-3] + b"xyz")
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "server", "restore", str(bad), "--dir", str(data_dir)],
        capture_output=True,
        env=env,
    )
    assert proc.returncode == 1
    assert b"checksum" in proc.stderr
    assert (data_dir / "dump.rdb").read_bytes() == good


def test_scheduled_backups_keep_the_retention_count(tmp_path: Path) -> None:
    duo = start_duocache(
        tmp_path,
        "--save",
        "",
        "--backup-interval-seconds",
        "1",
        "--backup-retention",
        "2",
        "--backup-dir",
        "bk",
    )
    try:
        with redis.Redis(port=duo.port, protocol=2) as r:
            r.set("k", "v")
        backups = tmp_path / "bk"

        def names() -> list[str]:
            return sorted(os.listdir(backups)) if backups.exists() else []

        wait_until(lambda: len(names()) >= 2, timeout_s=10)
        first = names()[0]
        wait_until(lambda: first not in names(), timeout_s=10)
        assert len(names()) == 2
        assert all(n.startswith("dump-") and n.endswith(".rdb") for n in names())
    finally:
        _stop_clean(duo)

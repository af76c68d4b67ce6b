"""Administration over the wire with redis-py: CLIENT KILL / PAUSE, MONITOR, maxmemory,
idle timeout, maxclients, protected mode, output buffer limits, SHUTDOWN, CONFIG REWRITE."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from protocol.resp import encode_command
from server.errors import ERR_PROTECTED_MODE
from tests.support import RawClient, ServerProcess, start_duocache, wait_until

pytestmark = pytest.mark.integration


def test_client_kill_from_another_client(server: ServerProcess) -> None:
    admin = redis.Redis(port=server.port)
    victim = redis.Redis(port=server.port, single_connection_client=True)
    victim.client_setname("victim")
    victim_id = victim.client_id()
    assert admin.client_kill_filter(_id=str(victim_id)) == 1
    names = [c["name"] for c in admin.client_list()]
    assert "victim" not in names
    connection = victim.connection
    assert connection is not None
    connection.send_command("PING")  # type: ignore[no-untyped-call]
    with pytest.raises(redis.ConnectionError):
        connection.read_response()
    # The old form, by address.
    other = redis.Redis(port=server.port, single_connection_client=True)
    other.ping()
    addr = str(other.client_info()["addr"])
    assert admin.client_kill(addr) is True
    admin.close()


def test_monitor_streams_commands_in_redis_format(server: ServerProcess) -> None:
    writer = redis.Redis(port=server.port)
    with RawClient(server.port) as mon:
        assert mon.command("MONITOR") == b"+OK\r\n"
        writer.set("k", "v")
        writer.config_get("hz")  # admin: not shown
        writer.get("k")
        seen = b""
        while b'"GET" "k"' not in seen:
            seen += mon.sock.recv(4096)
    # redis-py's connection handshake (HELLO, CLIENT SETINFO) shows up first.
    lines = [line for line in seen.split(b"\r\n") if b'"k"' in line]
    first, second = lines[:2]
    assert first.startswith(b"+")
    assert b'"SET" "k" "v"' in first
    stamp, where = first[1:].split(b" ", 2)[:2]
    assert len(stamp.split(b".")[1]) == 6
    assert where == b"[0"
    assert second.endswith(b'"GET" "k"')
    writer.close()


def test_client_pause_holds_writes_until_unpause(server: ServerProcess) -> None:
    admin = redis.Redis(port=server.port)
    writer = redis.Redis(port=server.port)
    reader = redis.Redis(port=server.port)
    assert admin.client_pause(10_000, all=False) is True
    done: list[float] = []

    def write() -> None:
        writer.set("paused", "1")
        done.append(time.monotonic())

    thread = threading.Thread(target=write)
    thread.start()
    wait_until(lambda: "b" in [c["flags"] for c in admin.client_list()])
    assert reader.get("paused") is None  # reads go on
    assert not done
    unpaused_at = time.monotonic()
    assert admin.client_unpause()
    thread.join(5)
    assert done
    assert done[0] >= unpaused_at
    assert reader.get("paused") == b"1"
    for client in (admin, writer, reader):
        client.close()


def test_client_pause_ends_after_its_timeout(server: ServerProcess) -> None:
    admin = redis.Redis(port=server.port)
    admin.client_pause(300, all=True)
    other = redis.Redis(port=server.port)
    started = time.monotonic()
    assert other.ping() is True
    assert time.monotonic() - started >= 0.2
    admin.close()
    other.close()


def test_maxmemory_allkeys_lru_keeps_recently_used_keys(r2: redis.Redis) -> None:
    r2.config_set("maxmemory-policy", "allkeys-lru")
    for i in range(100):
        r2.set(f"hot:{i}", "x" * 200)
    used = int(r2.info("memory")["used_memory"])
    r2.config_set("maxmemory", str(used + 100_000))
    pipe = r2.pipeline(transaction=False)
    for i in range(2000):
        pipe.set(f"fill:{i}", "y" * 200)
        if i % 20 == 0:
            for j in range(100):
                pipe.get(f"hot:{j}")
    pipe.execute()
    info = r2.info()
    assert info["evicted_keys"] > 0
    assert info["used_memory"] <= used + 100_000 + 1000
    hot = sum(r2.exists(f"hot:{j}") for j in range(100))
    assert hot >= 90
    r2.config_set("maxmemory", "0")


def test_oom_under_noeviction(r2: redis.Redis) -> None:
    r2.set("big", "x" * 10_000)
    used = int(r2.info("memory")["used_memory"])
    r2.config_set("maxmemory", str(used - 1000))
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        r2.set("more", "v")
    assert r2.get("big") is not None
    assert r2.delete("big") == 1
    assert r2.set("more", "v") is True
    r2.config_set("maxmemory", "0")


def test_output_buffer_hard_limit_closes_a_slow_reader(server: ServerProcess) -> None:
    admin = redis.Redis(port=server.port)
    admin.set("large", "z" * 1_000_000)
    admin.config_set("client-output-buffer-limit", "normal 1mb 0 0")
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(encode_command([b"GET", b"large"]) * 64)
        wait_until(lambda: len(admin.client_list()) == 1, timeout_s=10)
    admin.config_set("client-output-buffer-limit", "normal 0 0 0")
    admin.close()


def test_shutdown_exits_zero(tmp_path: Path) -> None:
    proc = start_duocache(tmp_path)
    client = redis.Redis(port=proc.port)
    client.shutdown(nosave=True)  # redis-py expects the connection to close, not a reply
    assert proc.proc.wait(10) == 0
    proc.stop()


def test_config_rewrite_updates_the_file(tmp_path: Path) -> None:
    conf = tmp_path / "duocache.conf"
    conf.write_text("# kept\nmaxmemory 1mb\n")
    proc = _start_with_file(tmp_path, conf)
    try:
        client = redis.Redis(port=proc.port)
        client.config_set("maxmemory", "2mb")
        assert client.config_rewrite()
        text = conf.read_text()
        assert text.startswith("# kept\nmaxmemory 2mb\n")
        assert "# Generated by CONFIG REWRITE" in text
        assert client.info("server")["config_file"] == str(conf)
    finally:
        proc.stop()


def _start_with_file(tmp_path: Path, conf: Path) -> ServerProcess:
    import os
    import subprocess
    import sys

    from tests.support import REPO_ROOT, _read_ready_line

    cmd = [
        sys.executable,
        "-m",
        "server",
        str(conf),
        "--port",
        "0",
        "--memcache-port",
        "0",
        "--dir",
        str(tmp_path),
        "--logfile",
        str(tmp_path / "duocache.log"),
    ]
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    popen = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(REPO_ROOT), env=env
    )
    return ServerProcess(popen, _read_ready_line(popen, 15), tmp_path)


# --- limits that need their own server ---


@pytest.fixture
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_duocache(tmp_path_factory.mktemp("limited"), "--timeout", "1", "--maxclients", "3")
    yield proc
    proc.stop()


def test_idle_clients_are_closed_after_timeout(limited: ServerProcess) -> None:
    idle = RawClient(limited.port)
    assert idle.command("PING") == b"+PONG\r\n"
    idle.sock.settimeout(6)
    assert idle.read_until_closed() == b""
    idle.close()


def test_maxclients_refuses_the_extra_client(limited: ServerProcess) -> None:
    clients = [RawClient(limited.port) for _ in range(3)]
    for c in clients:
        assert c.command("PING") == b"+PONG\r\n"
    extra = RawClient(limited.port)
    assert extra.read_until_closed() == b"-ERR max number of clients reached\r\n"
    for c in [*clients, extra]:
        c.close()


def test_protected_mode_denies_non_loopback_peers(limited: ServerProcess) -> None:
    # 127.0.0.2 is loopback to the kernel, but not to Redis's islocalClient.
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.2", 0))
    except OSError:
        pytest.skip("no 127.0.0.2 on this machine")
    sock.settimeout(5)
    sock.connect(("127.0.0.1", limited.port))
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    assert data == b"-" + ERR_PROTECTED_MODE.encode() + b"\r\n"
    local = RawClient(limited.port)
    assert local.command("CONFIG", "SET", "protected-mode", "no") == b"+OK\r\n"
    local.close()
    sock = socket.socket()
    sock.bind(("127.0.0.2", 0))
    sock.settimeout(5)
    sock.connect(("127.0.0.1", limited.port))
    sock.sendall(b"PING\r\n")
    assert sock.recv(100) == b"+PONG\r\n"
    sock.close()

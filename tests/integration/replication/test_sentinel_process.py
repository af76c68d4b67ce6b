"""The monitor as a process: startup errors, redis-server's argument form, SHUTDOWN, AUTH, and
its state kept in its config file across a restart."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.support import REPO_ROOT, RawClient, ServerProcess, _read_ready_line, free_port

pytestmark = pytest.mark.integration


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _start(data_dir: Path, *args: str) -> ServerProcess:
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", *args, "--dir", str(data_dir)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        ports = _read_ready_line(proc, 15.0)
    except Exception:
        proc.kill()
        proc.wait()
        raise
    return ServerProcess(proc, ports, data_dir)


def test_without_a_config_file_it_refuses_to_start() -> None:
    out = _run("--sentinel", "--port", "0")
    assert out.returncode == 1
    assert out.stderr == "Sentinel needs config file on disk to save state. Exiting...\n"


def test_a_sentinel_directive_needs_sentinel_mode(tmp_path: Path) -> None:
    path = tmp_path / "s.conf"
    path.write_text("sentinel monitor m 127.0.0.1 7000 2\n")
    out = _run(str(path), "--port", "0")
    assert out.returncode == 1
    assert "sentinel directive while not in sentinel mode" in out.stderr


def test_serves_shuts_down_and_keeps_its_state(tmp_path: Path) -> None:
    path = tmp_path / "sentinel.conf"
    port = free_port()  # not monitored by anyone: the primary stays down
    path.write_text(f"requirepass pw\nsentinel monitor m 127.0.0.1 {port} 1\n")
    # redis-server's form: the config file first, then --sentinel.
    proc = _start(tmp_path, str(path), "--sentinel", "--port", str(free_port()))
    try:
        r: Any = redis.Redis(port=proc.port, password="pw")
        assert r.execute_command("ROLE") == [b"sentinel", [b"m"]]
        with RawClient(proc.port) as raw:
            assert raw.command("PING") == b"-NOAUTH Authentication required.\r\n"
        myid = r.execute_command("SENTINEL", "MYID").decode()
        assert r.execute_command("SENTINEL", "SET", "m", "quorum", "3") == b"OK"
        with RawClient(proc.port) as raw:
            raw.command("AUTH", "pw")
            raw.send_raw(b"SHUTDOWN\r\n")
            assert raw.read_until_closed() == b""  # no reply: the connection closes
        assert proc.proc.wait(10) == 0
        r.close()
    finally:
        proc.stop()
    text = path.read_text()
    assert text.startswith("requirepass pw\nsentinel monitor m 127.0.0.1")
    assert f"sentinel myid {myid}\n" in text
    assert f"sentinel monitor m 127.0.0.1 {port} 3\n" in text
    again = _start(tmp_path, "--sentinel", str(path), "--port", str(free_port()))
    try:
        with redis.Redis(port=again.port, password="pw") as client:
            r = client
            assert r.execute_command("SENTINEL", "MYID").decode() == myid
            assert dict(r.execute_command("SENTINEL", "MASTER", "m"))[b"quorum"] == b"3"
    finally:
        assert again.stop() == 0

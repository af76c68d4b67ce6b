"""The Docker image's entry command and healthcheck, run directly (no Docker engine here)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO_ROOT, RawClient, ServerProcess, _read_ready_line, free_port

pytestmark = pytest.mark.integration


def _instruction(name: str) -> list[str]:
    text = (REPO_ROOT / "Dockerfile").read_text()
    text = text.replace("\\\n", " ")
    match = re.search(rf"^{name}\s+(.*)$", text, re.MULTILINE)
    assert match, f"no {name} in Dockerfile"
    body = match.group(1).strip()
    if name == "HEALTHCHECK":
        body = body.split("CMD", 1)[1].strip()
    return list(json.loads(body))


def test_entrypoint_serves_and_healthcheck_passes(tmp_path: Path) -> None:
    entry = _instruction("ENTRYPOINT")
    assert entry[:3] == ["python", "-m", "server"]
    port = free_port()
    # Later directives override earlier ones, as redis-server's do: a free port and a temp dir.
    cmd = [
        sys.executable,
        *entry[1:],
        "--port",
        str(port),
        "--memcache-port",
        "0",
        "--bind",
        "127.0.0.1",
        "--dir",
        str(tmp_path),
    ]
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    server = ServerProcess(proc, _read_ready_line(proc, 15), tmp_path)
    try:
        with RawClient(server.port) as client:
            assert client.command("PING") == b"+PONG\r\n"
        health = _instruction("HEALTHCHECK")
        assert health[:3] == ["python", "-m", "server.healthcheck"]
        check = subprocess.run([sys.executable, *health[1:-1], str(port)], env=env)
        assert check.returncode == 0
    finally:
        assert server.stop() == 0
    closed = subprocess.run(
        [sys.executable, "-m", "server.healthcheck", str(port)], env=env, check=False
    )
    assert closed.returncode == 1

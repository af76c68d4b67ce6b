"""Helpers for replication tests: nodes, offsets, and waiting for replicas to catch up.

Replication tests wait on offsets, never on sleeps: a replica has everything when its
applied offset equals its primary's `master_repl_offset` and its link is up.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import redis

from tests.support import REPO_ROOT, ServerProcess, _read_ready_line, wait_until


def client(port: int, **kwargs: Any) -> redis.Redis:
    """A RESP2 redis-py client (INFO parsing is the same either way; RESP2 is simpler)."""
    return redis.Redis(port=port, protocol=2, socket_timeout=10, **kwargs)


def repl_info(c: redis.Redis) -> dict[str, Any]:
    info: dict[str, Any] = c.info("replication")
    return info


def offset(c: redis.Redis) -> int:
    return int(repl_info(c)["master_repl_offset"])


def link_up(c: redis.Redis) -> bool:
    return bool(repl_info(c).get("master_link_status") == "up")


def synced(primary: redis.Redis, *replicas: redis.Redis) -> bool:
    target = offset(primary)
    for r in replicas:
        info = repl_info(r)
        if info.get("master_link_status") != "up" or int(info["slave_repl_offset"]) != target:
            return False
    return True


def wait_synced(primary: redis.Redis, *replicas: redis.Redis, timeout_s: float = 15.0) -> None:
    """Wait until every replica applied everything the primary has streamed so far."""
    wait_until(lambda: synced(primary, *replicas), timeout_s=timeout_s)


def stats(c: redis.Redis) -> dict[str, int]:
    info = c.info("stats")
    return {k: int(info[k]) for k in ("sync_full", "sync_partial_ok", "sync_partial_err")}


def start_with_config(
    data_dir: Path,
    conf: str = "",
    *args: str,
    keep_config: bool = False,
    timeout_s: float = 15.0,
) -> ServerProcess:
    """`python -m server <data_dir>/duocache.conf ...` (a config file, so CONFIG REWRITE works).

    The file is written with `conf` unless `keep_config` (a restart keeps what CONFIG REWRITE
    put there)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "duocache.conf"
    if not (keep_config and path.exists()):
        path.write_text('save ""\n' + conf)
    cmd = [
        sys.executable,
        "-m",
        "server",
        str(path),
        "--port",
        "0",
        "--memcache-port",
        "0",
        "--dir",
        str(data_dir),
        "--logfile",
        str(data_dir / "duocache.log"),
        *args,
    ]
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(REPO_ROOT), env=env
    )
    try:
        ports = _read_ready_line(proc, timeout_s)
    except Exception:
        proc.kill()
        proc.wait()
        raise
    return ServerProcess(proc, ports, data_dir)

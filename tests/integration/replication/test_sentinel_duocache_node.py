"""Duocache monitors watching a Duocache primary: what they need from the data server that does
not depend on replication (INFO run_id and role, pub/sub on __sentinel__:hello, CLIENT
SETNAME), and failure detection when it dies."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.sentinel_support import sentinel_conf, start_monitors
from tests.support import ServerProcess, start_duocache, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _master(monitor: ServerProcess) -> dict[bytes, bytes]:
    with redis.Redis(port=monitor.port, socket_timeout=2, protocol=2) as r:
        reply: Any = r.execute_command("SENTINEL", "MASTER", "mymaster")
    return dict(zip(reply[::2], reply[1::2], strict=True))


def _state_is(monitor: ServerProcess, key: bytes, value: bytes) -> bool:
    return _master(monitor)[key] == value


def _objectively_down(monitor: ServerProcess) -> bool:
    flags = _master(monitor)[b"flags"].split(b",")
    return flags[:3] == [b"s_down", b"o_down", b"master"]


@pytest.fixture
def node(tmp_path: Path) -> Iterator[ServerProcess]:
    (tmp_path / "node").mkdir()
    proc = start_duocache(tmp_path / "node")
    yield proc
    proc.stop()


def test_monitors_watch_a_duocache_primary(node: ServerProcess, tmp_path: Path) -> None:
    monitors = start_monitors(tmp_path / "monitors", sentinel_conf(node.port), 2)
    try:
        for monitor in monitors:
            # They met through the node's __sentinel__:hello channel.
            wait_until(
                functools.partial(_state_is, monitor, b"num-other-sentinels", b"1"),
                timeout_s=10,
                interval_s=0.1,
            )
            wait_until(functools.partial(_state_is, monitor, b"flags", b"master"), timeout_s=5)
        with redis.Redis(port=node.port) as r:
            run_id = r.info("server")["run_id"]
            names = {c["name"] for c in r.client_list()}
        for monitor in monitors:
            assert _master(monitor)[b"runid"] == run_id.encode()
            assert _master(monitor)[b"role-reported"] == b"master"
        myids = []
        for monitor in monitors:
            with redis.Redis(port=monitor.port) as r:
                myids.append(r.execute_command("SENTINEL", "MYID").decode())
        for myid in myids:
            assert {f"sentinel-{myid[:8]}-cmd", f"sentinel-{myid[:8]}-pubsub"} <= names
        node.kill()
        for monitor in monitors:
            wait_until(
                functools.partial(
                    _state_is, monitor, b"flags", b"s_down,o_down,master,disconnected"
                ),
                timeout_s=10,
                interval_s=0.1,
            )
        # Nothing to promote: the failover is tried, then given up.
        wait_until(
            lambda: any("-failover-abort-no-good-slave" in m.log() for m in monitors),
            timeout_s=10,
            interval_s=0.1,
        )
    finally:
        for monitor in monitors:
            assert monitor.stop() == 0

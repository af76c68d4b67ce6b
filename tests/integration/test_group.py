"""`duocache group up / status / down` as a user runs them (each a separate process).

A real group (a primary, two replicas, three monitors) comes up detached; its printed
redis-py snippet works as pasted; `status` shows the roles, offsets and links; after the
primary is killed by its PID, `status` shows the promotion; `down` stops every process by
its recorded PID and leaves none behind.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.group import Group, Member, choose_ports, process_running, stop_members
from tests.support import REPO_ROOT, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def duocache(*args: str, timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
    )


def status(directory: Path) -> dict[str, Any]:
    done = duocache("group", "status", "--dir", str(directory), "--json")
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _alive_pids(directory: Path) -> list[int]:
    group = Group.load(directory)
    return [m.pid for m in group.members if process_running(m)]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def group_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "duocache-group"
    yield directory
    # Whatever happened in the test, nothing of the group keeps running.
    if (directory / "group.json").exists():
        duocache("group", "down", "--dir", str(directory), "--timeout", "5")
        assert _alive_pids(directory) == []


def test_up_status_failover_down(group_dir: Path) -> None:
    up = duocache(
        "group", "up", "--dir", str(group_dir), "--port", "0", "--sentinel-port", "0",
        "--down-after-ms", "1000", "--failover-timeout-ms", "4000",
    )  # fmt: skip
    assert up.returncode == 0, up.stderr + up.stdout
    text = up.stdout
    state = Group.load(group_dir)
    assert [m.name for m in state.nodes] == ["node-0", "node-1", "node-2"]
    assert [m.name for m in state.monitors] == ["sentinel-0", "sentinel-1", "sentinel-2"]
    assert state.quorum == 2
    primary, *replicas = state.nodes
    assert f"primary   {primary.address}" in text
    for m in replicas:
        assert f"replica   {m.address}" in text
    for m in state.monitors:
        assert f"monitor   {m.address}" in text
        assert f"pid {m.pid} " in text
    assert len(_alive_pids(group_dir)) == 6
    for m in state.nodes:
        assert "min-replicas-to-write 1\n" in Path(m.config).read_text()
    # Every process is detached: a session of its own, not the caller's.
    for m in state.members:
        assert os.getsid(m.pid) == m.pid
    # The redis-py snippet runs as printed.
    snippet = text[text.index("from redis.sentinel import Sentinel") :]
    snippet = snippet[: snippet.index("\n\n")]
    ran = subprocess.run(
        [sys.executable, "-c", snippet], capture_output=True, text=True, timeout=30, check=False
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "b'hello'\n"

    before = status(group_dir)
    assert before["primary"] == primary.address
    assert before["primary_node"] == "node-0"
    assert before["primary_confirmed"]
    assert before["monitors_agreeing"] == 3
    nodes = {n["name"]: n for n in before["nodes"]}
    assert nodes["node-0"]["role"] == "primary"
    assert nodes["node-0"]["replicas"] == 2
    for name in ("node-1", "node-2"):
        assert nodes[name]["role"] == "replica"
        assert nodes[name]["link"] == "up"
        assert nodes[name]["follows"] == primary.address
        assert nodes[name]["offset"] > 0  # the snippet's write reached them
    for monitor in before["monitors"]:
        assert monitor["process"] == "running"
        assert monitor["flags"] == "master"
        assert (monitor["known_replicas"], monitor["other_monitors"]) == (2, 2)
    table = duocache("group", "status", "--dir", str(group_dir))
    assert table.returncode == 0
    assert f"Primary now: {primary.address} (node-0), according to 3 of 3 monitors" in table.stdout
    assert re.search(
        rf"node-1 +{replicas[0].address} +{replicas[0].pid} +running +replica", table.stdout
    )

    # The primary dies; the monitors promote a replica, and status shows it.
    os.kill(primary.pid, signal.SIGKILL)

    def promoted() -> dict[str, Any] | None:
        now = status(group_dir)
        ok = now["primary_node"] in ("node-1", "node-2") and now["primary_confirmed"]
        return now if ok and now["monitors_agreeing"] == 3 else None

    after = wait_until(promoted, timeout_s=20, interval_s=0.2)
    nodes = {n["name"]: n for n in after["nodes"]}
    assert nodes["node-0"]["process"] == "stopped"
    new = nodes[after["primary_node"]]
    other = nodes[({"node-1", "node-2"} - {new["name"]}).pop()]
    assert new["role"] == "primary"
    assert {m["config_epoch"] for m in after["monitors"]} == {1}
    wait_until(
        lambda: status(group_dir)["nodes"][int(other["name"][-1])]["follows"] == new["address"]
    )
    table = duocache("group", "status", "--dir", str(group_dir))
    assert f"Primary now: {new['address']} ({new['name']}), according to 3 of 3" in table.stdout
    assert re.search(rf"node-0 +{primary.address} +{primary.pid} +stopped", table.stdout)
    # The monitors' CONFIG REWRITE kept the new roles in the nodes' config files.
    other_conf = Path(state.nodes[int(other["name"][-1])].config).read_text()
    assert f"replicaof 127.0.0.1 {new['address'].split(':')[1]}" in other_conf

    # A second `up` in the same directory refuses.
    again = duocache("group", "up", "--dir", str(group_dir), "--port", "0")
    assert again.returncode == 1
    assert "a group already exists" in again.stderr

    down = duocache("group", "down", "--dir", str(group_dir))
    assert down.returncode == 0, down.stderr
    assert re.search(rf"node-0 +{primary.address} +pid {primary.pid} +was not running", down.stdout)
    assert down.stdout.count(" stopped") == 5
    assert _alive_pids(group_dir) == []
    for m in state.members:
        assert not _accepts(m.port)
    assert Group.load(group_dir).stopped
    # The data stays until --purge.
    assert Path(state.nodes[1].config).exists()
    purge = duocache("group", "down", "--dir", str(group_dir), "--purge")
    assert purge.returncode == 0
    assert not group_dir.exists()


def test_a_failed_start_leaves_nothing_running(group_dir: Path) -> None:
    # The monitors cannot meet within a second (they greet each other every two seconds),
    # so the start times out after some processes are up: all of them are stopped again.
    up = duocache(
        "group", "up", "--dir", str(group_dir), "--port", "0", "--sentinel-port", "0",
        "--timeout", "1",
    )  # fmt: skip
    assert up.returncode == 1
    assert re.match(
        r"duocache group up: (timed out waiting for|(node|sentinel)-\d did not start)", up.stderr
    )
    state = Group.load(group_dir)
    assert state.stopped
    started = [m for m in state.members if m.pid]
    assert started
    assert _alive_pids(group_dir) == []


def test_status_without_a_group(tmp_path: Path) -> None:
    done = duocache("group", "status", "--dir", str(tmp_path / "nothing"))
    assert done.returncode == 1
    assert "no group in" in done.stderr


def test_a_recorded_pid_running_something_else_is_left_alone(tmp_path: Path) -> None:
    """A PID that now belongs to another program (here: this test process) is not ours."""
    me = Member(
        name="node-0",
        kind="node",
        host="127.0.0.1",
        port=1,
        directory=str(tmp_path),
        config="",
        output="",
        log="",
        argv=[sys.executable, "-m", "server", "/nonexistent/duocache.conf"],
        pid=os.getpid(),
    )
    assert not process_running(me)
    lines: list[str] = []
    assert stop_members([me], 1.0, lines.append) == []
    assert lines == [f"  node-0      127.0.0.1:1           pid {os.getpid():<7} was not running"]


def test_ports_are_taken_upwards_skipping_busy_ones() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        first = busy.getsockname()[1]
        ports = choose_ports("127.0.0.1", first, 2, set())
        assert first not in ports
        assert first < ports[0] < ports[1]
        assert choose_ports("127.0.0.1", first + 1, 1, {first + 1})[0] > first + 1
    anywhere = choose_ports("127.0.0.1", 0, 3, set())
    assert len(set(anywhere)) == 3

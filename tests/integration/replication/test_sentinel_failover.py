"""Three Duocache monitors (`python -m server --sentinel`) manage a real redis-server group:
SIGKILL of the primary, agreement (ODOWN at quorum 2), one leader, promotion of the best
replica, the other repointed, +switch-master on pub/sub, redis-py's Sentinel client writing
through it, and the old primary fenced then turned into a replica when it returns."""

from __future__ import annotations

import functools
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.sentinel import Sentinel as _Sentinel

from tests.sentinel_support import (
    EventLog,
    RealSentinel,
    RedisGroup,
    sentinel_conf,
    start_monitors,
)
from tests.support import RealServer, ServerProcess, wait_until

# redis-py's Sentinel API is untyped.
Sentinel: Any = _Sentinel

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def master_addr(monitor: ServerProcess) -> tuple[str, int] | None:
    with redis.Redis(port=monitor.port, socket_timeout=2) as r:
        reply = r.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")
    return (reply[0].decode(), int(reply[1])) if reply else None


def master_state(monitor: ServerProcess) -> dict[str, Any]:
    with redis.Redis(port=monitor.port, socket_timeout=2, decode_responses=True) as r:
        return dict(r.execute_command("SENTINEL", "MASTER", "mymaster"))


def _flags_are(monitor: ServerProcess, flags: str) -> bool:
    return bool(master_state(monitor)["flags"] == flags)


def role(port: int) -> list[Any]:
    with redis.Redis(port=port, socket_timeout=2) as r:
        return list(r.execute_command("ROLE"))


@pytest.fixture
def group(tmp_path: Path) -> Iterator[RedisGroup]:
    # The second replica has the best (lowest) priority: it is the one to promote.
    g = RedisGroup(tmp_path / "redis", replicas=2, priorities=[100, 10])
    yield g
    g.stop()


def discovered(monitors: list[ServerProcess]) -> bool:
    for monitor in monitors:
        state = master_state(monitor)
        if state["num-slaves"] != "2" or state["num-other-sentinels"] != "2":
            return False
    return True


def restart_redis(port: int, data_dir: Path) -> RealServer:
    """The old primary comes back on its port, as a primary (its state was not saved)."""
    binary = shutil.which("redis-server")
    assert binary is not None
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(data_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = RealServer(proc, port)

    def up() -> bool:
        try:
            with redis.Redis(port=port, socket_timeout=0.5) as r:
                return bool(r.ping())
        except redis.RedisError:
            return False

    wait_until(up, timeout_s=10)
    return server


def test_failover_and_fencing_of_the_returning_primary(
    group: RedisGroup, monitors: list[ServerProcess], log: EventLog, tmp_path: Path
) -> None:
    wait_until(lambda: discovered(monitors), timeout_s=15, interval_s=0.1)
    old, keep, best = group.primary, group.replicas[0], group.replicas[1]
    sentinel = Sentinel([("127.0.0.1", m.port) for m in monitors], socket_timeout=1.0)
    client = sentinel.master_for("mymaster", socket_timeout=0.5)
    assert client.set("before", "1")
    wait_until(lambda: all(redis.Redis(port=r.port).get("before") for r in group.replicas))

    # Writes keep going through redis-py's Sentinel client while the primary dies.
    acked: list[str] = []
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            try:
                client.set(f"w{i}", i)
                acked.append(f"w{i}")
            except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError):
                stop.wait(0.05)
            # A hundred writes a second: enough to see the switch, not enough to starve
            # the monitors of CPU on a small machine.
            stop.wait(0.01)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    old.proc.kill()
    old.proc.wait()
    try:
        wait_until(
            lambda: all(master_addr(m) == ("127.0.0.1", best.port) for m in monitors),
            timeout_s=20,
            interval_s=0.05,
        )
        acked_at_switch = len(acked)
        wait_until(lambda: len(acked) > acked_at_switch + 5, timeout_s=10)
    finally:
        stop.set()
        thread.join(5)

    # The monitors agreed (ODOWN at quorum 2), one of them was elected and acted.
    wait_until(lambda: len(log.of("+switch-master")) == 3, timeout_s=5)
    odown = log.of("+odown")
    assert odown, log.events
    for _, payload in odown:
        assert payload.startswith(f"master mymaster 127.0.0.1 {old.port} #quorum "), log.events
        assert payload.endswith("/2")
    assert log.of("+sdown")[0][1] == f"master mymaster 127.0.0.1 {old.port}"
    assert len(log.of("+elected-leader")) == 1
    assert len({payload for _, payload in log.of("+vote-for-leader")}) >= 1
    # +switch-master with Sentinel's payload, from every monitor.
    assert sorted(i for i, _ in log.of("+switch-master")) == [0, 1, 2]
    assert {p for _, p in log.of("+switch-master")} == {
        f"mymaster 127.0.0.1 {old.port} 127.0.0.1 {best.port}"
    }
    # The best-priority replica is the primary, the other one follows it.
    assert role(best.port)[0] == b"master"
    wait_until(lambda: role(keep.port)[:3] == [b"slave", b"127.0.0.1", best.port], timeout_s=10)
    # Writes acknowledged after the switch are on the new primary.
    new = redis.Redis(port=best.port)
    assert all(new.get(k) is not None for k in acked[-5:])
    for monitor in monitors:
        assert master_state(monitor)["config-epoch"] != "0"
        # The new configuration and its epoch are in every monitor's config file.
        conf = (monitor.data_dir / "sentinel.conf").read_text()
        epoch = master_state(monitor)["config-epoch"]
        assert f"sentinel monitor mymaster 127.0.0.1 {best.port} 2\n" in conf
        assert f"sentinel config-epoch mymaster {epoch}\n" in conf
        assert f"sentinel known-replica mymaster 127.0.0.1 {old.port}\n" in conf
        # Connected again to the new primary (the links are new after the switch).
        wait_until(functools.partial(_flags_are, monitor, "master"), timeout_s=5)

    # The old primary comes back as a primary: paused for writes, then made a replica.
    returned = restart_redis(old.port, tmp_path / "redis" / "primary")
    group.nodes.append(returned)
    wait_until(lambda: log.of("+fence"), timeout_s=10, interval_s=0.05)
    assert log.of("+fence")[0][1].startswith(f"slave 127.0.0.1:{old.port} 127.0.0.1 {old.port} @")
    stale = redis.Redis(port=old.port, socket_timeout=0.5)
    outcome: Exception | None = None
    try:
        stale.set("lost-write", "1")
    except (redis.TimeoutError, redis.ReadOnlyError, redis.ConnectionError) as e:
        outcome = e
    assert outcome is not None, "the returning primary acknowledged a write"
    wait_until(
        lambda: role(old.port)[:3] == [b"slave", b"127.0.0.1", best.port],
        timeout_s=15,
        interval_s=0.1,
    )
    assert log.of("+convert-to-slave")
    assert new.get("lost-write") is None
    wait_until(lambda: redis.Redis(port=old.port).get("before") == b"1", timeout_s=10)
    client.close()


def test_with_redis_sentinel_in_the_same_quorum(tmp_path: Path) -> None:
    """One real redis-sentinel and two Duocache monitors: they discover each other, vote for
    each other and fail over together, whichever of them leads."""
    group = RedisGroup(tmp_path / "redis", replicas=2, priorities=[100, 10])
    conf = sentinel_conf(group.primary.port)
    real = RealSentinel(tmp_path / "real", conf)
    ours = start_monitors(tmp_path / "ours", conf, 2)
    ports = [real.port] + [m.port for m in ours]

    def state(port: int) -> dict[str, Any]:
        with redis.Redis(port=port, socket_timeout=2, decode_responses=True) as r:
            return dict(r.execute_command("SENTINEL", "MASTER", "mymaster"))

    def addr(port: int) -> Any:
        with redis.Redis(port=port, socket_timeout=2) as r:
            return r.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")

    try:
        wait_until(
            lambda: all(
                state(p)["num-other-sentinels"] == "2" and state(p)["num-slaves"] == "2"
                for p in ports
            ),
            timeout_s=20,
            interval_s=0.1,
        )
        group.primary.proc.kill()
        group.primary.proc.wait()
        best = group.replicas[1].port
        wait_until(
            lambda: all(addr(p) == [b"127.0.0.1", str(best).encode()] for p in ports),
            timeout_s=20,
            interval_s=0.1,
        )
        assert role(best)[0] == b"master"
        assert {state(p)["config-epoch"] for p in ports} == {"1"}
        wait_until(
            lambda: role(group.replicas[0].port)[:3] == [b"slave", b"127.0.0.1", best],
            timeout_s=10,
        )
    finally:
        for monitor in ours:
            assert monitor.stop() == 0
        real.stop()
        group.stop()

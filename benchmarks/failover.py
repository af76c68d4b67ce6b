"""Failover time: SIGKILL of a primary to the first write acknowledged by the new one.

A group (a primary, two replicas) of real redis-server or of Duocache nodes is watched by
three monitors (quorum 2, down-after-milliseconds 1000): Duocache's own (`python -m server
--sentinel`) or real redis-sentinel. redis-py's Sentinel client writes in a loop; the primary
is SIGKILLed; the script records when the monitors saw it objectively down, when they
announced +switch-master, and when the client's first write after the kill was acknowledged
(every acknowledged write after the kill went to the new primary: the old one is dead,
replicas refuse writes). Medians over several runs; the combinations are interleaved run by
run so they share the same machine noise. Run from the repository root:

    python benchmarks/failover.py                        # 5 runs, Duocache's monitors
    python benchmarks/failover.py --monitor both --runs 7
    python benchmarks/failover.py --monitor both --nodes both    # all four combinations
    python benchmarks/failover.py --down-after 2000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis
from redis.sentinel import Sentinel

from tests.integration.replication.support import wait_synced
from tests.sentinel_support import DuocacheGroup, RealSentinel, RedisGroup, start_monitors
from tests.support import wait_until


def _conf(port: int, down_after: int, failover_timeout: int) -> str:
    return (
        f"sentinel monitor mymaster 127.0.0.1 {port} 2\n"
        f"sentinel down-after-milliseconds mymaster {down_after}\n"
        f"sentinel failover-timeout mymaster {failover_timeout}\n"
    )


def _state(port: int) -> dict[str, str]:
    with redis.Redis(port=port, socket_timeout=2, decode_responses=True) as r:
        return dict(r.execute_command("SENTINEL", "MASTER", "mymaster"))


def _replicas_seen_up(port: int) -> bool:
    """The monitor's last INFO of every replica showed its link to the primary up."""
    with redis.Redis(port=port, socket_timeout=2, decode_responses=True) as r:
        replicas = r.execute_command("SENTINEL", "REPLICAS", "mymaster")
    rows = [x if isinstance(x, dict) else dict(zip(x[::2], x[1::2], strict=True)) for x in replicas]
    return len(rows) == 2 and all(
        row["master-link-status"] == "ok" and row["master-link-down-time"] == "0" for row in rows
    )


def one_run(kind: str, nodes: str, base: Path, down_after: int) -> dict[str, float]:
    if nodes == "duocache":
        group: RedisGroup = DuocacheGroup(base / "nodes", replicas=2)
    else:
        # No 5-second wait before the first full sync (Duocache has none either).
        group = RedisGroup(
            base / "nodes", replicas=2, node_args=["--repl-diskless-sync-delay", "0"]
        )
    conf = _conf(group.primary.port, down_after, 4000)
    stoppers: list[Any] = [group.stop]
    try:
        if kind == "duocache":
            procs = start_monitors(base / "monitors", conf, 3)
            ports = [p.port for p in procs]
            stoppers += [p.stop for p in procs]
        else:
            real = [RealSentinel(base / f"real{i}", conf) for i in range(3)]
            ports = [s.port for s in real]
            stoppers += [s.stop for s in real]
        wait_until(
            lambda: all(
                _state(p)["num-other-sentinels"] == "2" and _state(p)["num-slaves"] == "2"
                for p in ports
            ),
            timeout_s=30,
            interval_s=0.1,
        )
        # A steady state before the kill: the replicas hold everything and every monitor
        # knows their links are up (a monitor polls a replica's INFO every second while its
        # link is down, every ten seconds afterwards; killing the primary during the first
        # phase would measure a luckier INFO schedule than a group in service has).
        wait_synced(
            redis.Redis(port=group.primary.port, protocol=2),
            *(redis.Redis(port=r.port, protocol=2) for r in group.replicas),
        )
        wait_until(lambda: all(_replicas_seen_up(p) for p in ports), timeout_s=30, interval_s=0.1)
        times: dict[str, float] = {}
        lock = threading.Lock()

        def on_event(message: dict[str, Any]) -> None:
            with lock:
                times.setdefault(message["channel"].decode(), time.monotonic())

        def quiet(error: BaseException, pubsub: Any, worker: Any) -> None:
            worker.stop()  # a monitor went away at the end of the run

        subscribers = []
        for p in ports:
            pubsub = redis.Redis(port=p).pubsub()
            pubsub.subscribe(**{"+odown": on_event, "+switch-master": on_event})
            subscribers.append(
                pubsub.run_in_thread(sleep_time=0.005, daemon=True, exception_handler=quiet)
            )
        sentinel = Sentinel([("127.0.0.1", p) for p in ports], socket_timeout=0.5)
        client = sentinel.master_for("mymaster", socket_timeout=0.5)
        killed_at = 0.0
        first_ack = 0.0
        stop = threading.Event()

        def writer() -> None:
            nonlocal first_ack
            i = 0
            while not stop.is_set():
                i += 1
                sent = time.monotonic()
                try:
                    client.set(f"k{i}", i)
                except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError):
                    stop.wait(0.01)
                    continue
                # Only a write sent after the kill proves the new primary took it.
                if killed_at and not first_ack and sent > killed_at:
                    first_ack = time.monotonic()
                stop.wait(0.002)  # about 500 writes a second, not a busy loop

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        time.sleep(0.5)  # benchmark warm-up: the writer is running against the old primary
        group.primary.proc.kill()
        killed_at = time.monotonic()
        try:
            wait_until(lambda: first_ack > 0 and "+switch-master" in times, timeout_s=60)
        finally:
            stop.set()
            thread.join(5)
            for sub in subscribers:
                sub.stop()
            for sub in subscribers:
                sub.join(5)
            client.close()
            sentinel.close()
        return {
            "odown_s": times.get("+odown", float("nan")) - killed_at,
            "switch_s": times.get("+switch-master", float("nan")) - killed_at,
            "first_write_s": first_ack - killed_at,
        }
    finally:
        for stop_one in reversed(stoppers):
            stop_one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--monitor", choices=["duocache", "redis-sentinel", "both"], default="duocache"
    )
    parser.add_argument(
        "--nodes", choices=["redis-server", "duocache", "both"], default="redis-server"
    )
    parser.add_argument("--down-after", type=int, default=1000)
    args = parser.parse_args()
    kinds = ["duocache", "redis-sentinel"] if args.monitor == "both" else [args.monitor]
    node_kinds = ["duocache", "redis-server"] if args.nodes == "both" else [args.nodes]
    combos = [(kind, nodes) for nodes in node_kinds for kind in kinds]
    results: dict[tuple[str, str], list[dict[str, float]]] = {c: [] for c in combos}
    for run in range(args.runs):
        for kind, nodes in combos:  # interleaved, so all see the same machine noise
            with tempfile.TemporaryDirectory() as tmp:
                result = one_run(kind, nodes, Path(tmp), args.down_after)
            results[kind, nodes].append(result)
            print(
                f"run {run + 1} {_label(kind, nodes):40} odown {result['odown_s']:.2f}s  "
                f"switch-master {result['switch_s']:.2f}s  "
                f"first write {result['first_write_s']:.2f}s",
                flush=True,
            )
    print(f"\nmedians over {args.runs} runs (down-after-milliseconds {args.down_after}):")
    for (kind, nodes), rows in results.items():
        medians = {
            key: statistics.median(r[key] for r in rows)
            for key in ("odown_s", "switch_s", "first_write_s")
        }
        print(
            f"  {_label(kind, nodes):40} odown {medians['odown_s']:.2f}s  "
            f"switch-master {medians['switch_s']:.2f}s  "
            f"first acknowledged write {medians['first_write_s']:.2f}s "
            f"(min {min(r['first_write_s'] for r in rows):.2f}, "
            f"max {max(r['first_write_s'] for r in rows):.2f})"
        )


def _label(kind: str, nodes: str) -> str:
    monitors = "Duocache monitors" if kind == "duocache" else "redis-sentinel"
    servers = "Duocache nodes" if nodes == "duocache" else "redis-server nodes"
    return f"{monitors} + {servers}"


if __name__ == "__main__":
    main()

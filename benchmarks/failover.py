"""Failover time: SIGKILL of a primary to the first write acknowledged by the new one.

A group (a primary, two replicas) of real redis-server or of Duocache nodes is watched by
three monitors (quorum 2, down-after-milliseconds 1000): Duocache's own (`python -m server
--sentinel`) or real redis-sentinel. redis-py's Sentinel client writes in a loop; the primary
is SIGKILLed; the script records when the monitors saw it objectively down, when they
announced +switch-master, and when the client's first write after the kill was acknowledged
(every acknowledged write after the kill went to the new primary: the old one is dead,
replicas refuse writes). Each acknowledged write is followed by `WAIT 1 100`; after the
switch, every write that WAIT confirmed is looked for on the new primary (the count missing
is printed as "lost"). With Duocache nodes the old primary is then restarted on its address
and written to until the monitors have turned it into a replica (the writes it accepted
meanwhile are printed as "accepted by the old primary"); `--fence` starts the Duocache nodes
with `min-replicas-to-write 1`, which makes a restarted primary refuse writes at once.
Medians over several runs; the combinations are interleaved run by run so they share the
same machine noise. Run from the repository root:

    python benchmarks/failover.py                        # 5 runs, Duocache's monitors
    python benchmarks/failover.py --monitor both --runs 7
    python benchmarks/failover.py --monitor both --nodes both    # all four combinations
    python benchmarks/failover.py --nodes duocache --fence       # Duocache over Duocache
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
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis
from redis.sentinel import Sentinel as _Sentinel

from tests.integration.replication.support import wait_synced
from tests.sentinel_support import DuocacheGroup, RealSentinel, RedisGroup, start_monitors
from tests.support import wait_until

Sentinel: Any = _Sentinel  # redis-py's Sentinel is untyped


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


FENCE = ("--min-replicas-to-write", "1", "--min-replicas-max-lag", "10")


def _missing(port: int, keys: list[int]) -> int:
    """How many of the keys k<i> do not hold i on the node at `port`."""
    missing = 0
    with redis.Redis(port=port, protocol=2, socket_timeout=5) as r:
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            values = r.mget([f"k{i}" for i in chunk])
            missing += sum(1 for i, v in zip(chunk, values, strict=True) if v != str(i).encode())
    return missing


def _writes_accepted_until_converted(port: int) -> int:
    """Write to a restarted old primary until it is a replica; how many writes it accepted."""
    accepted = 0
    r: Any = redis.Redis(port=port, protocol=2, socket_timeout=0.5)

    def converted() -> bool:
        nonlocal accepted
        try:
            r.set("old-primary-probe", accepted)
            accepted += 1
        except redis.ReadOnlyError:
            return True
        except (redis.ResponseError, redis.ConnectionError, redis.TimeoutError):
            pass  # NOREPLICAS, or paused by a monitor
        try:
            return bool(r.execute_command("ROLE")[0] == b"slave")
        except (redis.ConnectionError, redis.TimeoutError):
            return False

    try:
        wait_until(converted, timeout_s=60, interval_s=0.02)
    finally:
        r.close()
    return accepted


def one_run(
    kind: str, nodes: str, base: Path, down_after: int, fence: bool = False
) -> dict[str, float]:
    if nodes == "duocache":
        group: RedisGroup = DuocacheGroup(
            base / "nodes", replicas=2, node_args=FENCE if fence else ()
        )
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
            pubsub = cast(Any, redis.Redis(port=p)).pubsub()
            pubsub.subscribe(**{"+odown": on_event, "+switch-master": on_event})
            subscribers.append(
                pubsub.run_in_thread(sleep_time=0.005, daemon=True, exception_handler=quiet)
            )
        sentinel = Sentinel([("127.0.0.1", p) for p in ports], socket_timeout=0.5)
        client = sentinel.master_for("mymaster", socket_timeout=0.5)
        killed_at = 0.0
        first_ack = 0.0
        confirmed: list[int] = []  # WAIT 1 said a replica had it
        stop = threading.Event()

        def writer() -> None:
            nonlocal first_ack
            i = 0
            while not stop.is_set():
                i += 1
                sent = time.monotonic()
                try:
                    client.set(f"k{i}", i)
                except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
                    stop.wait(0.01)  # the primary is gone, read-only, or refuses (NOREPLICAS)
                    continue
                # Only a write sent after the kill proves the new primary took it.
                if killed_at and not first_ack and sent > killed_at:
                    first_ack = time.monotonic()
                try:
                    if client.wait(1, 100) >= 1:
                        confirmed.append(i)
                except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
                    pass
                stop.wait(0.002)  # not a busy loop

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        time.sleep(0.5)  # benchmark warm-up: the writer is running against the old primary
        group.primary.proc.kill()
        killed_at = time.monotonic()
        try:
            wait_until(lambda: first_ack > 0 and "+switch-master" in times, timeout_s=60)
            # Some writes confirmed by the new primary's WAIT too, then stop and look.
            at_ack = len(confirmed)
            wait_until(lambda: len(confirmed) > at_ack + 10, timeout_s=30)
        finally:
            stop.set()
            thread.join(5)
            for sub in subscribers:
                sub.stop()
            for sub in subscribers:
                sub.join(5)
            client.close()
            sentinel.close()
        result = {
            "odown_s": times.get("+odown", float("nan")) - killed_at,
            "switch_s": times.get("+switch-master", float("nan")) - killed_at,
            "first_write_s": first_ack - killed_at,
            "confirmed": float(len(confirmed)),
        }
        with redis.Redis(port=ports[0], socket_timeout=2) as r:
            new_port = int(r.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")[1])
        result["lost"] = float(_missing(new_port, confirmed))
        if isinstance(group, DuocacheGroup):
            returned = group.restart(group.primary)
            result["old_primary_accepted"] = float(_writes_accepted_until_converted(returned.port))
        return result
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
    parser.add_argument(
        "--fence", action="store_true", help="Duocache nodes with min-replicas-to-write 1"
    )
    args = parser.parse_args()
    kinds = ["duocache", "redis-sentinel"] if args.monitor == "both" else [args.monitor]
    node_kinds = ["duocache", "redis-server"] if args.nodes == "both" else [args.nodes]
    combos = [(kind, nodes) for nodes in node_kinds for kind in kinds]
    results: dict[tuple[str, str], list[dict[str, float]]] = {c: [] for c in combos}
    for run in range(args.runs):
        for kind, nodes in combos:  # interleaved, so all see the same machine noise
            with tempfile.TemporaryDirectory() as tmp:
                result = one_run(kind, nodes, Path(tmp), args.down_after, args.fence)
            results[kind, nodes].append(result)
            print(
                f"run {run + 1} {_label(kind, nodes):40} odown {result['odown_s']:.2f}s  "
                f"switch-master {result['switch_s']:.2f}s  "
                f"first write {result['first_write_s']:.2f}s  "
                f"WAIT-1 confirmed {result['confirmed']:.0f}, lost {result['lost']:.0f}"
                + (
                    f"  accepted by the old primary {result['old_primary_accepted']:.0f}"
                    if "old_primary_accepted" in result
                    else ""
                ),
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
            f"max {max(r['first_write_s'] for r in rows):.2f}); "
            f"WAIT-1 writes lost {sum(r['lost'] for r in rows):.0f} "
            f"of {sum(r['confirmed'] for r in rows):.0f}"
            + (
                f"; writes accepted by the returning old primary "
                f"{sum(r['old_primary_accepted'] for r in rows):.0f}"
                if all("old_primary_accepted" in r for r in rows)
                else ""
            )
        )


def _label(kind: str, nodes: str) -> str:
    monitors = "Duocache monitors" if kind == "duocache" else "redis-sentinel"
    servers = "Duocache nodes" if nodes == "duocache" else "redis-server nodes"
    return f"{monitors} + {servers}"


if __name__ == "__main__":
    main()

"""Failover under real redis-sentinel: how long writes stop when the primary dies, and what
is lost.

    python -m benchmarks.failover_sentinel [--runs 5] [--replicas 2] [--min-replicas 1]

Each run starts a Duocache primary with Duocache replicas and three redis-sentinel processes
(quorum 2, down-after-milliseconds 1000), then drives a steady write load through redis-py's
Sentinel client: `SET k<i> <i>` followed by `WAIT 1 1000`, retrying every 5 ms on errors.
After two seconds of load the primary gets SIGKILL. Measured:

* failover time: from the SIGKILL to the first write acknowledged (`+OK`) by the new primary,
  and to the first write `WAIT 1` confirmed on a replica of it;
* loss: writes `WAIT 1` had confirmed that the new primary does not have (must be 0), and
  writes acknowledged with `+OK` only, that it does not have (the documented window);
* fencing: the old primary is restarted on its address (as a supervisor would); until
  Sentinel converts it into a replica, how many writes it accepted (0 with
  `min-replicas-to-write 1`), and how long the conversion took.

Results are printed (and written as JSON with --out); nothing is committed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel as _Sentinel

from benchmarks.servers import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT))
from tests.integration.replication.sentinel_group import SERVICE, start_group


@dataclass
class Run:
    failover_s: float = 0.0
    failover_wait1_s: float = 0.0
    writes_acked: int = 0
    writes_wait1: int = 0
    lost_wait1: int = 0
    lost_acked_only: int = 0
    errors_during_failover: int = 0
    returning_primary_accepted: int = 0
    returning_primary_refused: int = 0
    conversion_s: float = 0.0
    notes: list[str] = field(default_factory=list)


Sentinel: Any = _Sentinel  # redis-py's Sentinel is untyped


class Writer(threading.Thread):
    """SET then WAIT 1, forever, through redis-py's Sentinel client."""

    def __init__(self, sentinels: list[tuple[str, int]]) -> None:
        super().__init__(daemon=True)
        self.sentinel = Sentinel(sentinels, socket_timeout=0.5)
        self.client = self.sentinel.master_for(
            SERVICE, socket_timeout=0.5, retry=Retry(NoBackoff(), 0)
        )
        self.stop = threading.Event()
        self.sent: dict[int, float] = {}  # i -> monotonic time the SET was sent
        self.acked: dict[int, float] = {}  # i -> monotonic time of +OK
        self.wait1: dict[int, float] = {}  # i -> monotonic time WAIT 1 confirmed it
        self.errors: list[float] = []

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            try:
                self.sent[i] = time.monotonic()
                self.client.set(f"k{i}", i)
                self.acked[i] = time.monotonic()
                if self.client.wait(1, 1000) >= 1:
                    self.wait1[i] = time.monotonic()
            except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
                self.errors.append(time.monotonic())
                time.sleep(0.005)


def one_run(base: Path, replicas: int, min_replicas: int) -> Run:
    conf = f"min-replicas-to-write {min_replicas}\nmin-replicas-max-lag 10\n"
    group = start_group(base, replicas=replicas, node_conf=conf)
    result = Run()
    try:
        old = group.nodes[0]
        writer = Writer(group.sentinel_addresses)
        writer.start()
        time.sleep(2.0)  # steady load before the crash
        killed_at = time.monotonic()
        old.kill()
        # Writes sent from here on cannot be answered by the dead primary (a reply of the
        # old primary may still arrive after the SIGKILL for a write sent before it).
        dead_at = time.monotonic()
        deadline = killed_at + 60
        while time.monotonic() < deadline:
            if any(writer.sent[i] >= dead_at for i in writer.wait1):
                break
            time.sleep(0.01)
        time.sleep(1.0)  # a little load on the new primary
        writer.stop.set()
        writer.join(10)
        acked_after = [t for i, t in writer.acked.items() if writer.sent[i] >= dead_at]
        wait1_after = [t for i, t in writer.wait1.items() if writer.sent[i] >= dead_at]
        if not acked_after or not wait1_after:
            result.notes.append("no write acknowledged after the failover")
            return result
        result.failover_s = min(acked_after) - killed_at
        result.failover_wait1_s = min(wait1_after) - killed_at
        result.writes_acked = len(writer.acked)
        result.writes_wait1 = len(writer.wait1)
        result.errors_during_failover = sum(1 for t in writer.errors if t > killed_at)
        host, port = group.master_address()
        new = redis.Redis(host=host, port=port, protocol=2)
        missing = {i for i in writer.acked if new.get(f"k{i}") is None}
        result.lost_wait1 = len(missing & set(writer.wait1))
        result.lost_acked_only = len(missing - set(writer.wait1))
        # The old primary returns on its address: count what it accepts until converted.
        old.start(restart=True)
        returned = old.client
        started = time.monotonic()
        while time.monotonic() - started < 60:
            try:
                returned.set("stale-write", "1")
                result.returning_primary_accepted += 1
            except redis.ReadOnlyError:
                break
            except redis.ResponseError:
                result.returning_primary_refused += 1
            role: Any = returned.role()
            if role[0] == b"slave":
                break
            time.sleep(0.05)
        result.conversion_s = time.monotonic() - started
        if new.get("stale-write") is not None:
            result.notes.append("a write to the returning primary reached the new one")
    finally:
        group.stop()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--min-replicas", type=int, default=1, help="min-replicas-to-write")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON")
    options = parser.parse_args(argv)
    runs: list[Run] = []
    for n in range(options.runs):
        with tempfile.TemporaryDirectory(prefix="failover-") as tmp:
            run = one_run(Path(tmp), options.replicas, options.min_replicas)
        runs.append(run)
        print(
            f"run {n + 1}: failover {run.failover_s:.2f} s (WAIT 1 confirmed after "
            f"{run.failover_wait1_s:.2f} s), {run.writes_acked} writes, lost: "
            f"{run.lost_wait1} WAIT-confirmed / {run.lost_acked_only} +OK-only; returning "
            f"primary accepted {run.returning_primary_accepted} writes (refused "
            f"{run.returning_primary_refused}), converted after {run.conversion_s:.1f} s"
            + (f" [{'; '.join(run.notes)}]" if run.notes else ""),
            flush=True,
        )
    good = [r for r in runs if not r.notes]
    if good:
        print(
            f"median failover {statistics.median(r.failover_s for r in good):.2f} s "
            f"(min {min(r.failover_s for r in good):.2f}, max "
            f"{max(r.failover_s for r in good):.2f}); median to a WAIT-confirmed write "
            f"{statistics.median(r.failover_wait1_s for r in good):.2f} s; "
            f"WAIT-confirmed writes lost: {sum(r.lost_wait1 for r in runs)}; "
            f"writes accepted by a returning primary: "
            f"{sum(r.returning_primary_accepted for r in runs)}"
        )
    if options.out is not None:
        options.out.write_text(json.dumps([asdict(r) for r in runs], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

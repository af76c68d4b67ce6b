"""Start and stop the servers under test on free loopback ports, each pinned to a CPU."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVER_CPU = 0
CLIENT_CPU = 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pin(pid: int, cpu: int) -> None:
    """Pin a process to one CPU when the machine has more than one."""
    if (os.cpu_count() or 1) > 1:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(pid, {cpu})


def cpu_times(pid: int) -> tuple[float, float]:
    """User and system CPU time of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    return sum(cpu_times(pid))


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


@dataclass
class Server:
    """A running server under test."""

    name: str
    kind: str  # "resp" or "memcache"
    proc: subprocess.Popen[bytes]
    port: int
    workdir: Path
    extra_ports: dict[str, int] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_duocache(*args: str, root: Path = REPO_ROOT, python: str = sys.executable) -> Server:
    """Duocache from this tree, or from the checkout at `root` (another commit, to compare),
    run by `python` (another interpreter, with Duocache's dependencies installed)."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-duocache-"))
    return _start_python(
        "duocache",
        "server",
        free_port(),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(workdir),
        "--logfile",
        str(workdir / "log"),
        *args,
        workdir=workdir,
        memcache_port=free_port(),
        root=root,
        python=python,
    )


def _start_python(
    name: str,
    module: str,
    port: int,
    *args: str,
    workdir: Path | None = None,
    memcache_port: int | None = None,
    root: Path = REPO_ROOT,
    python: str = sys.executable,
) -> Server:
    """`python -m module --port port *args` from this tree (or `root`), pinned like the
    other servers; with `memcache_port`, also `--memcache-port` (the "memcache" port)."""
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix=f"bench-{name.replace(' ', '')}-"))
    cmd = [python, "-m", module, "--port", str(port), *args]
    if memcache_port is not None:
        cmd += ["--memcache-port", str(memcache_port)]
    # `python -m` puts the working directory first on sys.path: in another one, PYTHONPATH
    # would lose to it whenever the command is run from this tree.
    env = dict(os.environ, PYTHONPATH=str(root))
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=root
    )
    pin(proc.pid, SERVER_CPU)
    _wait_port(port, proc)
    server = Server(name, "resp", proc, port, workdir)
    if memcache_port is not None:
        _wait_port(memcache_port, proc)
        server.extra_ports["memcache"] = memcache_port
    return server


def start_floor() -> Server:
    """The Python floor (benchmarks/floor.py): RESP on its port, memcached on "memcache"."""
    return _start_python("floor", "benchmarks.floor", free_port(), memcache_port=free_port())


def start_ladder(rung: int, memcache: bool = False) -> Server:
    """One rung of the ladder (benchmarks/ladder.py): the floor plus Redis's duties; with
    `memcache`, also memcached's duties on the "memcache" port."""
    return _start_python(
        f"rung {rung}",
        "benchmarks.ladder",
        free_port(),
        "--rung",
        str(rung),
        memcache_port=free_port() if memcache else None,
    )


def start_redis(*args: str) -> Server | None:
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="bench-redis-"))
    cmd = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(workdir),
        "--daemonize",
        "no",
        *args,
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pin(proc.pid, SERVER_CPU)
    _wait_port(port, proc)
    return Server("redis", "resp", proc, port, workdir)


def start_memcached() -> Server | None:
    binary = shutil.which("memcached")
    if binary is None:
        return None
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="bench-memcached-"))
    cmd = [binary, "-t", "1", "-p", str(port), "-U", "0", "-l", "127.0.0.1", "-m", "1024"]
    if os.geteuid() == 0:
        cmd += ["-u", "root"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pin(proc.pid, SERVER_CPU)
    _wait_port(port, proc)
    return Server("memcached", "memcache", proc, port, workdir)

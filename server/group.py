"""`duocache group up | status | down`: a replication group with failover, on this machine.

    duocache group up [--replicas 2] [--sentinels 3] [--dir ./duocache-group]
    duocache group status [--dir ./duocache-group] [--json]
    duocache group down [--dir ./duocache-group] [--timeout 10] [--purge]

`up` writes one config file per process under the group's directory (`node-<i>/duocache.conf`
for the data nodes, `sentinel-<i>/sentinel.conf` for the failover monitors), starts each
process detached from the terminal (its own session, output in `output.log` beside its
config) and records its PID and command line in `group.json` before starting the next one,
so a PID is never lost. It then waits until every replica is in sync and every monitor knows
the replicas and the other monitors, and prints the addresses and a redis-py snippet. A
start that fails stops what it started.

`status` asks every node for `ROLE`/`INFO replication` and every monitor for `SENTINEL
MASTER` and `GET-MASTER-ADDR-BY-NAME`: which node is the primary now, roles, offsets, links.

The data nodes get `min-replicas-to-write 1` unless told otherwise: a primary that lost every
replica refuses writes (NOREPLICAS), so an old primary restarted after a failover takes no
write in the second or so before a monitor sees it and turns it into a replica.

`down` signals each recorded process by its PID (SIGTERM, then SIGKILL after the timeout),
monitors first so that they do not start a failover while the nodes stop. A PID is signalled
only while `/proc` shows the command line recorded for it, so a PID reused by another program
is left alone; nothing is ever matched by name.

The data nodes run with config files, so the `CONFIG REWRITE` that the monitors send with
`REPLICAOF` keeps each node's role in its file, as with redis-server.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import hiredis

from protocol.resp import encode_command

STATE_FILE = "group.json"
DEFAULT_DIR = "duocache-group"
DEFAULT_NAME = "mymaster"
DEFAULT_NODE_PORT = 6380
DEFAULT_MONITOR_PORT = 26380
_POLL_S = 0.05


class GroupError(Exception):
    """Something the user must hear about; the message is printed as is."""


# --- the state file ---


@dataclass
class Member:
    """One process of the group, as recorded when it was started."""

    name: str  # node-0, sentinel-0
    kind: str  # "node" or "monitor"
    host: str
    port: int
    directory: str
    config: str
    output: str  # stdout and stderr of the process
    log: str  # its logfile
    argv: list[str] = field(default_factory=list)
    pid: int = 0

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass
class Group:
    """What `group.json` holds."""

    name: str
    directory: str
    host: str
    quorum: int
    down_after_ms: int
    failover_timeout_ms: int
    nodes: list[Member] = field(default_factory=list)
    monitors: list[Member] = field(default_factory=list)
    stopped: bool = False

    @property
    def members(self) -> list[Member]:
        return [*self.nodes, *self.monitors]

    @property
    def state_path(self) -> Path:
        return Path(self.directory) / STATE_FILE

    def save(self) -> None:
        """Replace the state file atomically (a crash leaves the old or the new one)."""
        path = self.state_path
        tmp = path.with_name(f"{STATE_FILE}.tmp-{os.getpid()}")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(asdict(self), f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, directory: Path) -> Group:
        path = directory / STATE_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise GroupError(
                f"no group in {directory} ({STATE_FILE} not found); start one with "
                "`duocache group up`"
            ) from None
        except (OSError, ValueError) as e:
            raise GroupError(f"cannot read {path}: {e}") from None
        try:
            raw["nodes"] = [Member(**m) for m in raw["nodes"]]
            raw["monitors"] = [Member(**m) for m in raw["monitors"]]
            return cls(**raw)
        except (KeyError, TypeError) as e:
            raise GroupError(f"{path} is not a group state file: {e}") from None


# --- processes ---


def process_running(member: Member) -> bool:
    """The recorded process is alive and still runs the recorded command line.

    Where `/proc` exists the command line is compared (a PID may have been reused) and a
    zombie counts as stopped; elsewhere the PID alone is checked.
    """
    if member.pid <= 0:
        return False
    _reap(member.pid)
    proc = Path("/proc")
    if (proc / "self").exists():
        try:
            cmdline = (proc / str(member.pid) / "cmdline").read_bytes()
            stat = (proc / str(member.pid) / "stat").read_text()
        except OSError:
            return False
        state = stat.rpartition(")")[2].split()[:1]
        if state and state[0] in ("Z", "X"):
            return False
        return cmdline.split(b"\0")[:-1] == [os.fsencode(a) for a in member.argv]
    try:
        os.kill(member.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # somebody else's process: not ours
    return True


def _reap(pid: int) -> None:
    """Collect the exit status if the process is our own child (otherwise nothing to do)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def stop_members(
    members: Sequence[Member], timeout_s: float, say: Callable[[str], None]
) -> list[Member]:
    """SIGTERM every running member, wait up to `timeout_s`, SIGKILL what is left.

    Returns the members that are still running afterwards (normally none)."""
    running = [m for m in members if process_running(m)]
    for m in members:
        if m not in running:
            say(f"  {m.name:<11} {m.address:<21} pid {m.pid:<7} was not running")
    for m in running:
        with contextlib.suppress(ProcessLookupError):
            os.kill(m.pid, signal.SIGTERM)
    left = _wait_stopped(running, timeout_s)
    for m in running:
        if m not in left:
            say(f"  {m.name:<11} {m.address:<21} pid {m.pid:<7} stopped")
    for m in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(m.pid, signal.SIGKILL)
    still = _wait_stopped(left, 5.0)
    for m in left:
        if m not in still:
            say(
                f"  {m.name:<11} {m.address:<21} pid {m.pid:<7} killed "
                f"(no exit {timeout_s:g} s after SIGTERM)"
            )
    for m in still:
        say(f"  {m.name:<11} {m.address:<21} pid {m.pid:<7} STILL RUNNING after SIGKILL")
    return still


def _wait_stopped(members: list[Member], timeout_s: float) -> list[Member]:
    deadline = time.monotonic() + timeout_s
    left = list(members)
    while left:
        left = [m for m in left if process_running(m)]
        if not left or time.monotonic() >= deadline:
            break
        time.sleep(_POLL_S)
    return left


# --- a minimal RESP client (the runtime has no redis-py) ---


def call(host: str, port: int, *args: str, timeout_s: float = 2.0) -> Any:
    """Send one command, return its reply (an error reply comes back as a GroupError).

    Raises:
        OSError: cannot connect, or the connection closed before the reply.
        GroupError: the server answered with an error.
    """
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        sock.sendall(encode_command([a.encode() for a in args]))
        reader = hiredis.Reader()
        while True:
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("connection closed")
            reader.feed(data)
            reply = reader.gets()
            if reply is not False:
                if isinstance(reply, hiredis.ReplyError):
                    raise GroupError(str(reply))
                return reply


def info_fields(text: bytes) -> dict[str, str]:
    fields = {}
    for line in text.decode("utf-8", "replace").split("\r\n"):
        key, sep, value = line.partition(":")
        if sep and not key.startswith("#"):
            fields[key] = value
    return fields


def pairs(reply: Any) -> dict[str, str]:
    """A flat [key, value, ...] reply as a dict of str."""
    items = [x.decode("utf-8", "replace") if isinstance(x, bytes) else str(x) for x in reply]
    return dict(zip(items[::2], items[1::2], strict=False))


# --- up ---


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def choose_ports(host: str, first: int, count: int, taken: set[int]) -> list[int]:
    """`count` free ports: upwards from `first`, or chosen by the OS when `first` is 0."""
    ports: list[int] = []
    if first == 0:
        while len(ports) < count:
            with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
                s.bind((host, 0))
                port = int(s.getsockname()[1])
            if port not in taken and port not in ports:
                ports.append(port)
        return ports
    port = first
    while len(ports) < count:
        if port > 65535:
            raise GroupError(f"no {count} free ports from {first} upwards on {host}")
        if port not in taken and _port_free(host, port):
            ports.append(port)
        port += 1
    return ports


def _member(d: Path, kind: str, host: str, port: int, config: str, log: str) -> Member:
    return Member(
        name=d.name,
        kind=kind,
        host=host,
        port=port,
        directory=str(d),
        config=str(d / config),
        output=str(d / "output.log"),
        log=str(d / log),
    )


def _node_config(group: Group, member: Member, primary: Member | None, options: Any) -> str:
    lines = [
        "# Written by `duocache group up`. The failover monitors rewrite it (CONFIG REWRITE)",
        "# when they change this node's role.",
        f"port {member.port}",
        f"bind {group.host}",
        f"dir {member.directory}",
        f"logfile {member.log}",
        "memcache-port 0",
    ]
    if options.min_replicas_to_write:
        lines += [
            f"min-replicas-to-write {options.min_replicas_to_write}",
            "min-replicas-max-lag 10",
        ]
    if primary is not None:
        lines.append(f"replicaof {primary.host} {primary.port}")
    return "\n".join(lines) + "\n"


def _monitor_config(group: Group, member: Member, primary: Member) -> str:
    name = group.name
    return (
        "# Written by `duocache group up`. The monitor keeps its state in this file.\n"
        f"port {member.port}\n"
        f"bind {group.host}\n"
        f"dir {member.directory}\n"
        f"logfile {member.log}\n"
        f"sentinel monitor {name} {primary.host} {primary.port} {group.quorum}\n"
        f"sentinel down-after-milliseconds {name} {group.down_after_ms}\n"
        f"sentinel failover-timeout {name} {group.failover_timeout_ms}\n"
    )


def _child_env() -> dict[str, str]:
    """Our environment, with the directory holding the `server` package importable (the
    children run in their own directories)."""
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if root not in paths:
        env["PYTHONPATH"] = os.pathsep.join([root, *paths])
    return env


def _spawn(member: Member, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with open(member.output, "ab") as out:
        return subprocess.Popen(
            member.argv,
            cwd=member.directory,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # no terminal signal (Ctrl-C, hang-up) reaches it
            env=env,
        )


def _tail(path: str, lines: int = 15) -> str:
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _wait_ready(member: Member, proc: subprocess.Popen[bytes], deadline: float) -> None:
    """Until the process printed its ready line; GroupError if it exits or takes too long."""
    while True:
        try:
            if b"DUOCACHE READY" in Path(member.output).read_bytes():
                return
        except OSError:
            pass
        if proc.poll() is not None:
            detail = _tail(member.output) or _tail(member.log)
            raise GroupError(
                f"{member.name} exited with status {proc.returncode} while starting:\n{detail}"
            )
        if time.monotonic() > deadline:
            detail = _tail(member.log)
            raise GroupError(
                f"{member.name} did not start in time" + (f":\n{detail}" if detail else "")
            )
        time.sleep(_POLL_S)


def _replica_synced(member: Member) -> bool:
    try:
        info = info_fields(call(member.host, member.port, "INFO", "replication"))
    except (OSError, GroupError):
        return False
    return info.get("master_link_status") == "up"


def _monitor_ready(group: Group, member: Member) -> bool:
    try:
        state = pairs(call(member.host, member.port, "SENTINEL", "MASTER", group.name))
    except (OSError, GroupError):
        return False
    return (
        state.get("flags") == "master"
        and state.get("num-slaves") == str(len(group.nodes) - 1)
        and state.get("num-other-sentinels") == str(len(group.monitors) - 1)
    )


def _wait_for(what: str, predicate: Callable[[], bool], deadline: float) -> None:
    while not predicate():
        if time.monotonic() > deadline:
            raise GroupError(f"timed out waiting for {what}")
        time.sleep(_POLL_S * 2)


def group_up(options: Any, out: IO[str]) -> int:
    directory = Path(options.dir).resolve()
    if (directory / STATE_FILE).exists():
        existing = Group.load(directory)
        running = [m for m in existing.members if process_running(m)]
        state = f"running ({len(running)} processes)" if running else "stopped"
        raise GroupError(
            f"a group already exists in {directory} ({state}). Use `duocache group status` "
            "to see it, `duocache group down --purge` to stop it and remove it, or another "
            "--dir."
        )
    if options.replicas < 1 or options.sentinels < 1:
        raise GroupError("a group needs at least one replica and one monitor")
    quorum = options.quorum or options.sentinels // 2 + 1
    if not 1 <= quorum <= options.sentinels:
        raise GroupError(f"--quorum must be between 1 and {options.sentinels}")
    host = options.bind
    node_ports = choose_ports(host, options.port, options.replicas + 1, set())
    monitor_ports = choose_ports(host, options.sentinel_port, options.sentinels, set(node_ports))
    directory.mkdir(parents=True, exist_ok=True)
    group = Group(
        name=options.name,
        directory=str(directory),
        host=host,
        quorum=quorum,
        down_after_ms=options.down_after_ms,
        failover_timeout_ms=options.failover_timeout_ms,
    )
    python = sys.executable
    group.nodes = [
        _member(directory / f"node-{i}", "node", host, port, "duocache.conf", "duocache.log")
        for i, port in enumerate(node_ports)
    ]
    group.monitors = [
        _member(directory / f"sentinel-{i}", "monitor", host, port, "sentinel.conf", "sentinel.log")
        for i, port in enumerate(monitor_ports)
    ]
    primary = group.nodes[0]
    for m in group.members:
        Path(m.directory).mkdir(parents=True, exist_ok=True)
        if m.kind == "node":
            text = _node_config(group, m, None if m is primary else primary, options)
            m.argv = [python, "-m", "server", m.config]
        else:
            text = _monitor_config(group, m, primary)
            m.argv = [python, "-m", "server", "--sentinel", m.config]
        Path(m.config).write_text(text, encoding="utf-8")
    group.save()

    env = _child_env()
    started: list[subprocess.Popen[bytes]] = []
    deadline = time.monotonic() + options.timeout
    try:
        # The primary first, then the replicas, then the monitors, each once the one
        # before is listening.
        for m in group.members:
            proc = _spawn(m, env)
            m.pid = proc.pid
            started.append(proc)
            group.save()  # the PID is on disk before anything else can fail
            _wait_ready(m, proc, deadline)
        _wait_for(
            "the replicas to sync",
            lambda: all(_replica_synced(m) for m in group.nodes[1:]),
            deadline,
        )
        _wait_for(
            "the monitors to discover the replicas and each other",
            lambda: all(_monitor_ready(group, m) for m in group.monitors),
            deadline,
        )
    except BaseException:
        for proc in reversed(started):
            if proc.poll() is None:
                proc.terminate()
        for proc in started:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        group.stopped = True
        group.save()
        raise
    _print_up(group, out)
    return 0


def _print_up(group: Group, out: IO[str]) -> None:
    primary, replicas = group.nodes[0], group.nodes[1:]
    w = out.write
    w(f"Duocache group {group.name!r} is up in {group.directory}\n\n")
    w(f"  primary   {primary.address:<21} pid {primary.pid:<7} {primary.name}\n")
    for m in replicas:
        w(f"  replica   {m.address:<21} pid {m.pid:<7} {m.name}\n")
    for m in group.monitors:
        w(f"  monitor   {m.address:<21} pid {m.pid:<7} {m.name}\n")
    w(
        f"\nThe monitors (quorum {group.quorum}) promote a replica when the primary has not "
        f"answered for {group.down_after_ms} ms.\n"
    )
    sentinels = ", ".join(f'("{m.host}", {m.port})' for m in group.monitors)
    w(
        "\nredis-cli:\n"
        f"  redis-cli -p {primary.port}    (the primary, until a failover)\n"
        f"  redis-cli -p {group.monitors[0].port} SENTINEL GET-MASTER-ADDR-BY-NAME {group.name}\n"
        "\nredis-py, through the monitors (follows failovers):\n\n"
        "from redis.sentinel import Sentinel\n"
        f"sentinel = Sentinel([{sentinels}], socket_timeout=0.5)\n"
        f'primary = sentinel.master_for("{group.name}", socket_timeout=0.5)\n'
        f'replica = sentinel.slave_for("{group.name}", socket_timeout=0.5)\n'
        'primary.set("greeting", "hello")\n'
        "primary.wait(1, 1000)  # until a replica has it\n"
        'print(replica.get("greeting"))\n'
        f"\nduocache group status --dir {group.directory}\n"
        f"duocache group down --dir {group.directory}\n"
    )


# --- status ---


def node_status(member: Member) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": member.name,
        "address": member.address,
        "pid": member.pid,
        "process": "running" if process_running(member) else "stopped",
        "role": None,
        "offset": None,
        "link": None,
        "follows": None,
        "replicas": None,
        "error": None,
    }
    if row["process"] != "running":
        return row
    try:
        info = info_fields(call(member.host, member.port, "INFO", "replication"))
    except (OSError, GroupError) as e:
        row["error"] = str(e) or type(e).__name__
        return row
    if info.get("role") == "master":
        row["role"] = "primary"
        row["offset"] = int(info.get("master_repl_offset", "0"))
        row["replicas"] = int(info.get("connected_slaves", "0"))
    else:
        row["role"] = "replica"
        row["offset"] = int(info.get("slave_repl_offset", "0"))
        row["link"] = info.get("master_link_status")
        row["follows"] = f"{info.get('master_host')}:{info.get('master_port')}"
    return row


def monitor_status(group: Group, member: Member) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": member.name,
        "address": member.address,
        "pid": member.pid,
        "process": "running" if process_running(member) else "stopped",
        "primary": None,
        "flags": None,
        "config_epoch": None,
        "known_replicas": None,
        "other_monitors": None,
        "failover_state": None,
        "error": None,
    }
    if row["process"] != "running":
        return row
    try:
        addr = call(member.host, member.port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", group.name)
        state = pairs(call(member.host, member.port, "SENTINEL", "MASTER", group.name))
    except (OSError, GroupError) as e:
        row["error"] = str(e) or type(e).__name__
        return row
    if addr:
        row["primary"] = f"{addr[0].decode()}:{int(addr[1])}"
    row["flags"] = state.get("flags")
    row["config_epoch"] = int(state.get("config-epoch", "0"))
    row["known_replicas"] = int(state.get("num-slaves", "0"))
    row["other_monitors"] = int(state.get("num-other-sentinels", "0"))
    row["failover_state"] = state.get("failover-state")
    return row


def group_status(group: Group) -> dict[str, Any]:
    nodes = [node_status(m) for m in group.nodes]
    monitors = [monitor_status(group, m) for m in group.monitors]
    views = [m["primary"] for m in monitors if m["primary"]]
    primary: str | None = None
    agreeing = 0
    if views:
        primary = max(set(views), key=views.count)
        agreeing = views.count(primary)
    else:
        claimed = [n["address"] for n in nodes if n["role"] == "primary"]
        if len(claimed) == 1:
            primary = claimed[0]
    primary_node = next((n for n in nodes if n["address"] == primary), None)
    return {
        "name": group.name,
        "directory": group.directory,
        "primary": primary,
        "primary_node": primary_node["name"] if primary_node else None,
        "primary_confirmed": bool(primary_node and primary_node["role"] == "primary"),
        "monitors_agreeing": agreeing,
        "monitors_running": sum(1 for m in monitors if m["process"] == "running"),
        "nodes": nodes,
        "monitors": monitors,
        "stopped": group.stopped,
    }


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def print_status(status: dict[str, Any], out: IO[str]) -> None:
    w = out.write
    name, nodes, monitors = status["name"], status["nodes"], status["monitors"]
    w(f"Group {name!r} in {status['directory']}\n")
    if status["primary"] is None:
        w("Primary now: none known\n")
    else:
        node = status["primary_node"] or "not a node of this group"
        w(f"Primary now: {status['primary']} ({node})")
        if status["monitors_agreeing"]:
            w(f", according to {status['monitors_agreeing']} of {len(monitors)} monitors")
        if not status["primary_confirmed"]:
            w("; it does not answer as a primary (a failover may be under way)")
        w("\n")
    for n in nodes:
        if n["role"] == "primary" and n["address"] != status["primary"]:
            w(
                f"Note: {n['name']} ({n['address']}) answers as a primary but is not the "
                "group's primary; the monitors will turn it into a replica.\n"
            )
    w("\n")
    _table(_NODE_COLUMNS, nodes, out)
    w("\n")
    _table(_MONITOR_COLUMNS, monitors, out)


# (header, key of the status row); a row's "error" replaces the cell of its last column.
_NODE_COLUMNS = (
    ("NODE", "name"),
    ("ADDRESS", "address"),
    ("PID", "pid"),
    ("PROCESS", "process"),
    ("ROLE", "role"),
    ("OFFSET", "offset"),
    ("LINK", "link"),
    ("FOLLOWS", "follows"),
    ("REPLICAS", "replicas"),
)
_MONITOR_COLUMNS = (
    ("MONITOR", "name"),
    ("ADDRESS", "address"),
    ("PID", "pid"),
    ("PROCESS", "process"),
    ("PRIMARY", "primary"),
    ("FLAGS", "flags"),
    ("EPOCH", "config_epoch"),
    ("REPLICAS", "known_replicas"),
    ("MONITORS", "other_monitors"),
    ("FAILOVER", "failover_state"),
)


def _table(
    columns: Sequence[tuple[str, str]], rows: Sequence[dict[str, Any]], out: IO[str]
) -> None:
    cells = [[header for header, _ in columns]]
    for row in rows:
        line = [_cell(row[key]) for _, key in columns]
        if row.get("error"):
            line[-1] = f"error: {row['error']}"
        cells.append(line)
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    for line in cells:
        out.write("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
        out.write("\n")


# --- down ---


def group_down(options: Any, out: IO[str]) -> int:
    directory = Path(options.dir).resolve()
    group = Group.load(directory)

    def say(line: str) -> None:
        out.write(line + "\n")

    say(f"Stopping group {group.name!r} in {group.directory}")
    # Monitors first: stopping nodes under running monitors would start a failover.
    left = stop_members(group.monitors, options.timeout, say)
    left += stop_members(group.nodes[1:], options.timeout, say)
    left += stop_members(group.nodes[:1], options.timeout, say)
    group.stopped = True
    group.save()
    if left:
        raise GroupError(
            "some processes could not be stopped: "
            + ", ".join(f"{m.name} (pid {m.pid})" for m in left)
        )
    if options.purge:
        _purge(group)
        out.write(f"Removed {group.directory}\n")
    else:
        out.write(
            f"Data, configs and logs are kept in {group.directory} "
            "(`duocache group down --purge` removes them).\n"
        )
    return 0


def _purge(group: Group) -> None:
    """Remove what `up` created (and only that), then the directory if it is empty."""
    root = Path(group.directory).resolve()
    for m in group.members:
        path = Path(m.directory).resolve()
        if path.parent == root:  # never follow a state file edited to point elsewhere
            shutil.rmtree(path, ignore_errors=True)
    group.state_path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        os.rmdir(group.directory)


# --- command line ---


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="duocache group",
        description="A Duocache primary, its replicas and failover monitors on this machine.",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    up = sub.add_parser("up", help="start a group (detached) and print how to reach it")
    status = sub.add_parser("status", help="roles, offsets, links and the monitors' view")
    down = sub.add_parser("down", help="stop every process of the group by its PID")
    for p in (up, status, down):
        p.add_argument(
            "--dir", default=DEFAULT_DIR, help=f"the group's directory (default ./{DEFAULT_DIR})"
        )
    up.add_argument("--replicas", type=int, default=2)
    up.add_argument("--sentinels", type=int, default=3, help="failover monitors")
    up.add_argument("--name", default=DEFAULT_NAME, help="the name clients ask the monitors for")
    up.add_argument("--quorum", type=int, default=0, help="default: a majority of the monitors")
    up.add_argument(
        "--port",
        type=int,
        default=DEFAULT_NODE_PORT,
        help=f"first port tried for the data nodes (default {DEFAULT_NODE_PORT}; 0: any)",
    )
    up.add_argument(
        "--sentinel-port",
        type=int,
        default=DEFAULT_MONITOR_PORT,
        help=f"first port tried for the monitors (default {DEFAULT_MONITOR_PORT}; 0: any)",
    )
    up.add_argument("--bind", default="127.0.0.1", help="address every process listens on")
    up.add_argument("--down-after-ms", type=int, default=5000)
    up.add_argument("--failover-timeout-ms", type=int, default=10000)
    up.add_argument(
        "--min-replicas-to-write",
        type=int,
        default=1,
        help="a primary refuses writes while fewer replicas acknowledge within 10 s (default 1:"
        " a replaced primary that is restarted takes no write before it is made a replica;"
        " 0: off)",
    )
    up.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for readiness")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    down.add_argument("--timeout", type=float, default=10.0, help="seconds before SIGKILL")
    down.add_argument("--purge", action="store_true", help="then remove the group's directory")
    return parser


def main(argv: Sequence[str], out: IO[str] | None = None) -> int:
    """`duocache group ...`; returns the exit code."""
    out = out or sys.stdout
    options = _parser().parse_args(list(argv))
    try:
        if options.action == "up":
            return group_up(options, out)
        if options.action == "down":
            return group_down(options, out)
        status = group_status(Group.load(Path(options.dir).resolve()))
        if options.json:
            out.write(json.dumps(status, indent=2) + "\n")
        else:
            print_status(status, out)
        return 0
    except GroupError as e:
        sys.stderr.write(f"duocache group {options.action}: {e}\n")
        return 1
    except BrokenPipeError:
        # The reader went away (`duocache group status | head`): nothing more to say.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0

"""docker-compose.yml, read as YAML and run without Docker (no Docker engine exists here).

Each service's script (it writes the process's config file into its volume on the first
start, then execs the server) is taken apart and given to our real command-line parser and
config loader, and the replicaof / `sentinel monitor` lines are checked against the services
they name. Then each service's script runs directly with this interpreter, translated to one
machine: service names become 127.0.0.1, the port a service listens on inside its container
(6379, or 26379 for a monitor) becomes a free port of its own, /data a directory of its own,
0.0.0.0 the loopback address. Nothing else is changed, and the test checks that nothing else
needed to be: the group comes up service by service as each healthcheck passes, the monitors
find the replicas and each other, and when the primary is killed they promote a replica and
their CONFIG REWRITE records the new roles in the nodes' config files.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from server.cli import parse_args
from server.config import Config
from server.sentinel import build_node
from storage.clock import FakeClock
from tests.support import REPO_ROOT, free_port, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NODES = ("primary", "replica1", "replica2")
MONITORS = ("sentinel1", "sentinel2", "sentinel3")
INSIDE_PORTS = ("6379", "26379")


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    return data


def _entrypoint() -> list[str]:
    text = (REPO_ROOT / "Dockerfile").read_text()
    match = re.search(r"^ENTRYPOINT\s+(.*)$", text, re.MULTILINE)
    assert match
    return list(json.loads(match.group(1)))


def test_the_compose_file_describes_the_group() -> None:
    compose = _compose()
    services = compose["services"]
    assert set(services) == {*NODES, *MONITORS}
    volumes = set(compose["volumes"])
    for service in services.values():
        assert service["image"] == "duocache"
        assert service["build"] == "."
        assert service["healthcheck"]["test"][:4] == ["CMD", "python", "-m", "server.healthcheck"]
        # One named volume each, on the image's data directory.
        (mount,) = service["volumes"]
        volume, _, target = mount.partition(":")
        assert volume in volumes
        assert target == "/data"
        # Published on the host's loopback only.
        for published in service["ports"]:
            assert published.startswith("127.0.0.1:")
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services
            assert condition == {"condition": "service_healthy"}
    assert len({s["volumes"][0] for s in services.values()}) == len(services)
    for name in (*NODES, *MONITORS):
        service = services[name]
        # The process listens where the healthcheck and the published port look.
        port = INSIDE_PORTS[name in MONITORS]
        assert service["healthcheck"]["test"][4:] == [port]
        for published in service["ports"]:
            assert published.endswith(f":{port}")
    for replica in ("replica1", "replica2"):
        assert set(services[replica]["depends_on"]) == {"primary"}
    for monitor in MONITORS:
        assert set(services[monitor]["depends_on"]) == set(NODES)


def _script(service: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    """A service's `sh -c` script: (config file, its lines, the argv it execs).

    The script is two commands: `[ -f FILE ] || printf '%s\\n' LINE... > FILE`, then
    `exec python -m server ...`."""
    assert service["entrypoint"] == ["sh", "-c"]
    (script,) = service["command"]
    first, second = script.replace("\\\n", " ").strip().split("\n")
    words = shlex.split(first)
    path = words[2]
    assert words[:7] == ["[", "-f", path, "]", "||", "printf", "%s\\n"]
    assert words[-2:] == [">", path]
    argv = shlex.split(second)
    assert argv[:4] == ["exec", "python", "-m", "server"]
    return path, words[7:-2], argv[4:]


def _load(service: dict[str, Any], base: Path) -> Config:
    """The service's configuration as our own parser builds it (/data is `base`)."""
    path, lines, argv = _script(service)
    assert path.startswith("/data/")
    base.mkdir(parents=True, exist_ok=True)
    (base / path.removeprefix("/data/")).write_text("\n".join(lines) + "\n")
    return parse_args([a.replace("/data", str(base)) for a in argv])


def test_each_command_is_a_valid_invocation_of_the_server(tmp_path: Path) -> None:
    services = _compose()["services"]
    entrypoint = _entrypoint()  # what the services' scripts stand in for
    assert entrypoint[:3] == ["python", "-m", "server"]
    nodes = {name: _load(services[name], tmp_path / name) for name in NODES}
    for name, config in nodes.items():
        _, _, argv = _script(services[name])
        # The image's own options, then the config file in the volume.
        assert argv[0] == "/data/duocache.conf"
        assert argv[1:] == entrypoint[3:]
        assert not config.sentinel_mode
        assert config["port"] == int(INSIDE_PORTS[0])
        assert config["bind"] == "0.0.0.0"
        assert config["replica-announce-ip"] == name
        assert config["dir"] == str(tmp_path / name)
        # A replaced primary that restarts refuses writes until it is made a replica.
        assert config["min-replicas-to-write"] == 1
    assert nodes["primary"]["replicaof"] == ""
    for replica in ("replica1", "replica2"):
        host, port = nodes[replica]["replicaof"].split()
        assert host == "primary"
        assert int(port) == nodes["primary"]["port"]
    for name in MONITORS:
        config = _load(services[name], tmp_path / name)
        assert config.sentinel_mode
        assert config["port"] == int(INSIDE_PORTS[1])
        # The monitor that this config builds watches the primary service, by host name.
        monitor = build_node(config, FakeClock()).monitor
        assert monitor.resolve_hostnames
        assert monitor.announce_hostnames
        (master,) = monitor.masters.values()
        assert master.name == "mymaster"
        assert master.addr.hostname == "primary"
        assert master.addr.port == nodes["primary"]["port"]
        assert len(MONITORS) // 2 < master.quorum <= len(MONITORS)


class Machine:
    """Runs services of the compose file as local processes (see the module docstring)."""

    def __init__(self, base: Path) -> None:
        self.compose = _compose()
        self.services: dict[str, Any] = self.compose["services"]
        self.base = base
        self.ports = {name: free_port() for name in self.services}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
        names = "|".join(map(re.escape, self.services))
        inside = "|".join(INSIDE_PORTS)
        self._address = re.compile(rf"(?<![\w-])({names}) ({inside})\b")
        self._name = re.compile(rf"(?<![\w-])({names})(?![\w-])")
        self._own_port = re.compile(rf"((?<![\w-])port|--port|server\.healthcheck) ({inside})\b")
        self._python = re.compile(r"(?<![\w/.-])python(?= -m )")

    def data_dir(self, service: str) -> Path:
        path = self.base / service
        path.mkdir(parents=True, exist_ok=True)
        return path

    def translate(self, service: str, text: str) -> str:
        text = self._address.sub(lambda m: f"127.0.0.1 {self.ports[m.group(1)]}", text)
        text = self._own_port.sub(lambda m: f"{m.group(1)} {self.ports[service]}", text)
        text = self._name.sub("127.0.0.1", text)
        text = text.replace("0.0.0.0", "127.0.0.1")
        # Nothing of the container's network is left.
        for name in self.services:
            assert not re.search(rf"(?<![\w-]){name}(?![\w-])", text), text
        assert not re.search(rf"\b({'|'.join(INSIDE_PORTS)})\b", text), text
        text = text.replace("/data", str(self.data_dir(service)))
        return self._python.sub(shlex.quote(sys.executable), text)

    def command(self, service: str) -> list[str]:
        spec = self.services[service]
        entrypoint = spec.get("entrypoint", _entrypoint())
        argv = [*entrypoint, *spec["command"]]
        if argv[:2] == ["sh", "-c"]:
            return ["sh", "-c", self.translate(service, argv[2])]
        return shlex.split(self.translate(service, shlex.join(argv)))

    def healthy(self, service: str) -> bool:
        test = self.services[service]["healthcheck"]["test"]
        assert test[0] == "CMD"
        argv = shlex.split(self.translate(service, shlex.join(test[1:])))
        done = subprocess.run(argv, env=self.env, capture_output=True, timeout=10, check=False)
        return done.returncode == 0

    def start(self, service: str) -> None:
        for dependency in self.services[service].get("depends_on", {}):
            assert dependency in self.procs, f"{service} needs {dependency} first"
            assert self.healthy(dependency)
        out = open(self.data_dir(service) / "output.log", "ab")  # noqa: SIM115
        with out:
            self.procs[service] = subprocess.Popen(
                self.command(service),
                cwd=self.data_dir(service),
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_until(lambda: self.failed(service) or self.healthy(service), timeout_s=15)
        assert not self.failed(service), self.output(service)

    def failed(self, service: str) -> bool:
        return self.procs[service].poll() is not None

    def output(self, service: str) -> str:
        return (self.data_dir(service) / "output.log").read_text(errors="replace")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def machine(tmp_path: Path) -> Iterator[Machine]:
    m = Machine(tmp_path)
    yield m
    m.stop()


def _sentinel(machine: Machine, monitor: str, *args: str) -> Any:
    with redis.Redis(port=machine.ports[monitor], socket_timeout=2) as r:
        return r.execute_command("SENTINEL", *args)


def _monitor_ready(machine: Machine, monitor: str) -> bool:
    state = _sentinel(machine, monitor, "MASTER", "mymaster")
    return bool(state[b"num-slaves"] == b"2" and state[b"num-other-sentinels"] == b"2")


def _link_up(r: redis.Redis) -> bool:
    return bool(r.info("replication")["master_link_status"] == "up")


def _master(machine: Machine, monitor: str) -> int:
    return int(_sentinel(machine, monitor, "GET-MASTER-ADDR-BY-NAME", "mymaster")[1])


def test_each_service_runs_as_written(machine: Machine) -> None:
    for service in (*NODES, *MONITORS):  # in depends_on order
        machine.start(service)
    primary = machine.ports["primary"]
    for replica in ("replica1", "replica2"):
        with redis.Redis(port=machine.ports[replica]) as r:
            wait_until(functools.partial(_link_up, r))
            assert r.info("replication")["master_port"] == primary
    for monitor in MONITORS:
        wait_until(
            functools.partial(_monitor_ready, machine, monitor), timeout_s=15, interval_s=0.1
        )
        assert _master(machine, monitor) == primary
        # Each monitor wrote its own config file in its volume, and keeps its state there.
        conf = (machine.data_dir(monitor) / "sentinel.conf").read_text()
        assert "sentinel resolve-hostnames yes" in conf
        assert "sentinel myid " in conf

    # `docker compose kill primary`: a replica is promoted, the other follows it.
    machine.procs["primary"].kill()
    machine.procs["primary"].wait()
    replicas = {machine.ports["replica1"], machine.ports["replica2"]}
    wait_until(
        lambda: all(_master(machine, m) in replicas for m in MONITORS),
        timeout_s=20,
        interval_s=0.1,
    )
    new = _master(machine, "sentinel1")
    (other,) = replicas - {new}
    with redis.Redis(port=other) as r:
        wait_until(lambda: r.info("replication")["master_port"] == new, timeout_s=10)
    with redis.Redis(port=new) as r:
        assert r.set("after", "failover")
    # The monitors' CONFIG REWRITE kept the new roles in the config files in the volumes.
    confs = {
        port: (machine.data_dir(name) / "duocache.conf").read_text()
        for name, port in machine.ports.items()
        if name in ("replica1", "replica2")
    }
    assert f"replicaof 127.0.0.1 {new}" in confs[other]
    assert "replicaof" not in confs[new]

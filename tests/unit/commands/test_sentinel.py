"""Sentinel mode's commands in-process: the monitor's table, SENTINEL subcommands, INFO, ROLE,
PUBLISH, and the vote saved on disk before the reply."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from protocol.resp import NULL_ARRAY, OK, RespError, SimpleString
from server.commands.table import COMMANDS
from server.config import Config
from server.sentinel import build_node
from storage.clock import FakeClock
from tests.sentinel_support import SentinelRunner

MYID = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
CONF = (
    "port 26379\n"
    "sentinel monitor mymaster 127.0.0.1 7000 2\n"
    "sentinel down-after-milliseconds mymaster 1000\n"
    f"sentinel myid {MYID}\n"
)

MASTER_FIELDS = [
    b"name",
    b"ip",
    b"port",
    b"runid",
    b"flags",
    b"link-pending-commands",
    b"link-refcount",
    b"last-ping-sent",
    b"last-ok-ping-reply",
    b"last-ping-reply",
    b"down-after-milliseconds",
    b"info-refresh",
    b"role-reported",
    b"role-reported-time",
    b"config-epoch",
    b"num-slaves",
    b"num-other-sentinels",
    b"quorum",
    b"failover-timeout",
    b"parallel-syncs",
]


@pytest.fixture
def srun(tmp_path: Path) -> Iterator[SentinelRunner]:
    runner = SentinelRunner(tmp_path / "sentinel.conf", CONF)
    yield runner
    runner.close()


def test_data_commands_are_unknown(srun: SentinelRunner) -> None:
    assert srun("get", "k") == RespError(
        "ERR unknown command 'get', with args beginning with: 'k' "
    )
    for name in ("set", "select", "multi", "config", "quit", "reset", "flushall"):
        reply = srun(name, "x")
        assert isinstance(reply, RespError)
        assert reply.text.startswith(f"ERR unknown command '{name}'")


def test_the_normal_table_is_back_after_close(tmp_path: Path) -> None:
    runner = SentinelRunner(tmp_path / "s.conf", CONF)
    assert b"GET" not in COMMANDS
    assert b"SENTINEL" in COMMANDS
    runner.close()
    assert b"GET" in COMMANDS
    assert b"SENTINEL" not in COMMANDS


def test_sentinel_table_keeps_redis_sentinel_commands(srun: SentinelRunner) -> None:
    assert srun("PING") == SimpleString(b"PONG")
    names = sorted(COMMANDS)
    assert names == sorted(
        [
            b"AUTH",
            b"CLIENT",
            b"COMMAND",
            b"HELLO",
            b"INFO",
            b"PING",
            b"PSUBSCRIBE",
            b"PUBLISH",
            b"PUNSUBSCRIBE",
            b"ROLE",
            b"SENTINEL",
            b"SHUTDOWN",
            b"SUBSCRIBE",
            b"UNSUBSCRIBE",
        ]
    )
    assert srun("COMMAND", "COUNT") == len(COMMANDS)
    assert b"NO-TOUCH" not in COMMANDS[b"CLIENT"].subcommands
    assert srun("CLIENT", "NO-TOUCH", "on") == RespError(
        "ERR unknown subcommand 'NO-TOUCH'. Try CLIENT HELP."
    )


def test_hello_says_sentinel_mode(srun: SentinelRunner) -> None:
    reply = srun("HELLO", "3")
    assert reply[b"mode"] == b"sentinel"
    assert b"role" not in reply


def test_role(srun: SentinelRunner) -> None:
    assert srun("ROLE") == [b"sentinel", [b"mymaster"]]


def test_masters_and_master_fields_in_sentinels_order(srun: SentinelRunner) -> None:
    masters = srun("SENTINEL", "MASTERS")
    assert len(masters) == 1
    assert list(masters[0]) == MASTER_FIELDS
    master = srun("SENTINEL", "MASTER", "mymaster")
    assert list(master) == MASTER_FIELDS
    assert master[b"name"] == b"mymaster"
    assert master[b"port"] == b"7000"
    assert master[b"flags"] == b"master,disconnected"
    assert master[b"down-after-milliseconds"] == b"1000"
    assert master[b"quorum"] == b"2"
    assert master[b"num-other-sentinels"] == b"0"
    assert srun("SENTINEL", "MASTER", "nope") == RespError("ERR No such master with that name")


def test_replicas_and_sentinels_fields(srun: SentinelRunner) -> None:
    monitor = srun.monitor
    master = monitor.masters["mymaster"]
    monitor.add_replica(master, "127.0.0.1", 7001)
    monitor.add_sentinel(master, "b" * 40, "127.0.0.1", 26380)
    replicas = srun("SENTINEL", "REPLICAS", "mymaster")
    assert srun("SENTINEL", "SLAVES", "mymaster") == replicas
    assert list(replicas[0]) == [
        *MASTER_FIELDS[:14],
        b"master-link-down-time",
        b"master-link-status",
        b"master-host",
        b"master-port",
        b"slave-priority",
        b"slave-repl-offset",
        b"replica-announced",
    ]
    assert replicas[0][b"name"] == b"127.0.0.1:7001"
    assert replicas[0][b"master-host"] == b"?"
    sentinels = srun("SENTINEL", "SENTINELS", "mymaster")
    assert list(sentinels[0]) == [
        *MASTER_FIELDS[:11],
        b"last-hello-message",
        b"voted-leader",
        b"voted-leader-epoch",
    ]
    assert sentinels[0][b"voted-leader"] == b"?"
    # Replicas that do not announce themselves are not listed.
    master.replicas["127.0.0.1:7001"].replica_announced = 0
    assert srun("SENTINEL", "REPLICAS", "mymaster") == []


def test_get_master_addr_by_name(srun: SentinelRunner) -> None:
    assert srun("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster") == [b"127.0.0.1", b"7000"]
    assert srun("SENTINEL", "get-master-addr-by-name", "nope") is NULL_ARRAY


def test_myid_and_arity(srun: SentinelRunner) -> None:
    assert srun("SENTINEL", "MYID") == MYID.encode()
    assert srun("SENTINEL", "MASTERS", "x") == RespError(
        "ERR wrong number of arguments for 'sentinel|masters' command"
    )
    assert srun("SENTINEL") == RespError("ERR wrong number of arguments for 'sentinel' command")
    assert srun("SENTINEL", "FOO") == RespError("ERR unknown subcommand 'FOO'. Try SENTINEL HELP.")


def test_is_master_down_by_addr_votes_once_per_epoch(srun: SentinelRunner) -> None:
    a, b = "a" * 40, "b" * 40
    assert srun("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "7000", "0", "*") == [0, b"*", 0]
    assert srun("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "7000", "3", a) == [
        0,
        a.encode(),
        3,
    ]
    assert srun("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "7000", "3", b) == [
        0,
        a.encode(),
        3,
    ]
    srun.monitor.masters["mymaster"].s_down = True
    assert srun("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "7000", "4", b) == [
        1,
        b.encode(),
        4,
    ]
    # Unknown address: not down, no vote.
    assert srun("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "1", "9", b) == [0, b"*", 0]
    assert srun("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "x", "9", b) == RespError(
        "ERR value is not an integer or out of range"
    )


def test_the_vote_is_on_disk_and_fsynced_before_the_reply(
    srun: SentinelRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        target = os.readlink(f"/proc/self/fd/{fd}")
        if os.path.isfile(target):
            synced.append(Path(target).read_text())
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    reply = srun("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "7000", "7", "c" * 40)
    assert reply == [0, b"c" * 40, 7]
    # Before the reply existed, the file holding the vote's epoch was fsynced, and it is
    # the config file now.
    assert any("sentinel leader-epoch mymaster 7\n" in text for text in synced)
    assert any("sentinel current-epoch 7\n" in text for text in synced)
    assert "sentinel leader-epoch mymaster 7\n" in srun.path.read_text()


def test_a_restarted_monitor_does_not_vote_twice_in_an_epoch(srun: SentinelRunner) -> None:
    srun("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "7000", "7", "c" * 40)
    # A new process reading the same file: epoch 7 is taken, whoever asks.
    config = Config()
    config.sentinel_mode = True
    config.config_file = str(srun.path)
    config.load_file(str(srun.path))
    node = build_node(config, FakeClock())
    master = node.monitor.masters["mymaster"]
    assert node.monitor.vote_leader(master, 7, "d" * 40) == (None, 7)
    assert node.monitor.vote_leader(master, 8, "d" * 40) == ("d" * 40, 8)


def test_ckquorum(srun: SentinelRunner) -> None:
    assert srun("SENTINEL", "CKQUORUM", "mymaster") == RespError(
        "NOQUORUM 1 usable Sentinels. Not enough available Sentinels to reach the specified "
        "quorum for this master"
    )
    master = srun.monitor.masters["mymaster"]
    srun.monitor.add_sentinel(master, "b" * 40, "127.0.0.1", 26380)
    assert srun("SENTINEL", "CKQUORUM", "mymaster") == SimpleString(
        b"OK 2 usable Sentinels. Quorum and failover authorization can be reached"
    )
    srun.monitor.add_sentinel(master, "c" * 40, "127.0.0.1", 26381).s_down = True
    srun.monitor.add_sentinel(master, "d" * 40, "127.0.0.1", 26382).s_down = True
    assert srun("SENTINEL", "CKQUORUM", "mymaster") == RespError(
        "NOQUORUM 2 usable Sentinels. Not enough available Sentinels to reach the majority "
        "and authorize a failover"
    )
    master.quorum = 3
    assert srun("SENTINEL", "CKQUORUM", "mymaster") == RespError(
        "NOQUORUM 2 usable Sentinels. Not enough available Sentinels to reach the specified "
        "quorum for this master. Not enough available Sentinels to reach the majority and "
        "authorize a failover"
    )


def test_monitor_and_remove(srun: SentinelRunner) -> None:
    assert srun("SENTINEL", "MONITOR", "m2", "127.0.0.1", "7100", "1") is OK
    assert "sentinel monitor m2 127.0.0.1 7100 1\n" in srun.path.read_text()
    assert [e.message for e in srun.events if e.type == "+monitor"] == [
        "master m2 127.0.0.1 7100 quorum 1"
    ]
    assert srun("SENTINEL", "MONITOR", "m2", "127.0.0.1", "7100", "1") == RespError(
        "ERR Duplicate master name."
    )
    assert srun("SENTINEL", "MONITOR", "m3", "127.0.0.1", "abc", "1") == RespError(
        "ERR Invalid port"
    )
    assert srun("SENTINEL", "MONITOR", "m3", "127.0.0.1", "abc", "x") == RespError(
        "ERR Invalid quorum"
    )
    assert srun("SENTINEL", "MONITOR", "m3", "127.0.0.1", "7000", "0") == RespError(
        "ERR Quorum must be 1 or greater."
    )
    assert srun("SENTINEL", "MONITOR", "m3", "localhost", "7000", "1") == RespError(
        "ERR Invalid IP address or hostname specified"
    )
    assert srun("SENTINEL", "MONITOR", "m3", "127.0.0.1", "70000", "1") == RespError(
        "ERR Invalid port number."
    )
    assert srun("SENTINEL", "REMOVE", "m2") is OK
    assert "m2" not in srun.path.read_text()
    assert srun("SENTINEL", "REMOVE", "m2") == RespError("ERR No such master with that name")
    assert srun("ROLE") == [b"sentinel", [b"mymaster"]]


def test_set(srun: SentinelRunner) -> None:
    master = srun.monitor.masters["mymaster"]
    assert srun("SENTINEL", "SET", "mymaster", "quorum", "3", "failover-timeout", "5000") is OK
    assert (master.quorum, master.failover_timeout_ms) == (3, 5000)
    assert "sentinel failover-timeout mymaster 5000\n" in srun.path.read_text()
    assert [e.message for e in srun.events if e.type == "+set"] == [
        "master mymaster 127.0.0.1 7000 quorum 3",
        "master mymaster 127.0.0.1 7000 failover-timeout 5000",
    ]
    assert srun("SENTINEL", "SET", "mymaster", "auth-pass", "pw") is OK
    assert srun.events[-1].message == "master mymaster 127.0.0.1 7000 auth-pass ******"
    assert srun("SENTINEL", "SET", "mymaster", "quorum", "0") == RespError(
        "ERR Invalid argument '0' for SENTINEL SET 'quorum'"
    )
    assert srun("SENTINEL", "SET", "mymaster", "foo", "1") == RespError(
        "ERR Unknown option or number of arguments for SENTINEL SET 'foo'"
    )
    assert srun("SENTINEL", "SET", "nope", "quorum", "1") == RespError(
        "ERR No such master with that name"
    )
    assert srun("SENTINEL", "SET", "mymaster", "notification-script", "/bin/true") == RespError(
        "ERR Reconfiguration of scripts path is denied for security reasons. Check the "
        "deny-scripts-reconfig configuration directive in your Sentinel configuration"
    )
    # The options before a bad one stay applied.
    assert srun("SENTINEL", "SET", "mymaster", "parallel-syncs", "4", "quorum", "x") == (
        RespError("ERR Invalid argument 'x' for SENTINEL SET 'quorum'")
    )
    assert master.parallel_syncs == 4
    assert srun("SENTINEL", "SET", "mymaster", "rename-command", "CONFIG", "XCONFIG") is OK
    assert master.renamed_commands == {"config": "XCONFIG"}


def test_config_get_and_set(srun: SentinelRunner) -> None:
    assert srun("SENTINEL", "CONFIG", "GET", "announce-*") == {
        b"announce-hostnames": b"no",
        b"announce-ip": b"",
        b"announce-port": b"0",
    }
    assert srun("SENTINEL", "CONFIG", "SET", "announce-port", "7777") is OK
    assert srun("SENTINEL", "CONFIG", "GET", "announce-port") == {b"announce-port": b"7777"}
    assert "sentinel announce-port 7777\n" in srun.path.read_text()
    assert srun("SENTINEL", "CONFIG", "SET", "announce-port", "70000") == RespError(
        "ERR Invalid value '70000' to SENTINEL CONFIG SET 'announce-port'"
    )
    assert srun("SENTINEL", "CONFIG", "SET", "foo", "bar") == RespError(
        "ERR Invalid argument 'foo' to SENTINEL CONFIG SET"
    )
    assert srun("SENTINEL", "CONFIG", "GET", "a", "b") == RespError(
        "ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported."
    )


def test_debug(srun: SentinelRunner) -> None:
    periods = srun("SENTINEL", "DEBUG")
    assert periods[b"INFO-PERIOD"] == b"10000"
    assert list(periods)[-1] == b"SCRIPT-RETRY-DELAY"
    assert srun("SENTINEL", "DEBUG", "ping-period", "500") is OK
    assert srun.monitor.periods.ping_period == 500
    assert srun("SENTINEL", "DEBUG", "foo") == RespError(
        "ERR Unknown option or number of arguments for SENTINEL DEBUG 'foo'"
    )
    assert srun("SENTINEL", "DEBUG", "ping-period", "x") == RespError(
        "ERR Invalid argument 'x' for SENTINEL DEBUG 'ping-period'"
    )


def test_failover_errors(srun: SentinelRunner) -> None:
    assert srun("SENTINEL", "FAILOVER", "nope") == RespError("ERR No such master with that name")
    assert srun("SENTINEL", "FAILOVER", "mymaster") == RespError(
        "NOGOODSLAVE No suitable replica to promote"
    )
    master = srun.monitor.masters["mymaster"]
    replica = srun.monitor.add_replica(master, "127.0.0.1", 7001)
    replica.link.cc = object()  # type: ignore[assignment]
    replica.link.pc = object()  # type: ignore[assignment]
    replica.info_refresh_ms = srun.clock.ms
    assert srun("SENTINEL", "FAILOVER", "mymaster") is OK
    assert srun("SENTINEL", "FAILOVER", "mymaster") == RespError(
        "INPROG Failover already in progress"
    )
    assert srun("SENTINEL", "MASTER", "mymaster")[b"failover-state"] == b"wait_start"


def test_reset(srun: SentinelRunner) -> None:
    master = srun.monitor.masters["mymaster"]
    srun.monitor.add_replica(master, "127.0.0.1", 7001)
    assert srun("SENTINEL", "RESET", "nomatch") == 0
    assert srun("SENTINEL", "RESET", "my*") == 1
    assert master.replicas == {}


def test_misc_subcommands(srun: SentinelRunner) -> None:
    assert srun("SENTINEL", "PENDING-SCRIPTS") == []
    assert srun("SENTINEL", "FLUSHCONFIG") is OK
    assert srun("SENTINEL", "SIMULATE-FAILURE", "help") == [
        b"crash-after-election",
        b"crash-after-promotion",
    ]
    assert srun("SENTINEL", "SIMULATE-FAILURE", "foo") == RespError(
        "ERR Unknown failure simulation specified"
    )
    assert srun("SENTINEL", "INFO-CACHE", "mymaster") == [b"mymaster", [[0, None]]]
    assert srun("SENTINEL", "INFO-CACHE", "nope") == []
    help_lines = srun("SENTINEL", "HELP")
    assert help_lines[0] == SimpleString(
        b"SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    )
    assert help_lines[-1] == SimpleString(b"    Prints this help.")


def test_info_has_sentinel_section(srun: SentinelRunner) -> None:
    text = srun("INFO").decode()
    sections = [line for line in text.split("\r\n") if line.startswith("#")]
    assert sections == ["# Server", "# Clients", "# Stats", "# CPU", "# Sentinel"]
    assert "redis_mode:sentinel\r\n" in text
    assert text.endswith(
        "# Sentinel\r\n"
        "sentinel_masters:1\r\n"
        "sentinel_tilt:0\r\n"
        "sentinel_tilt_since_seconds:-1\r\n"
        "sentinel_running_scripts:0\r\n"
        "sentinel_scripts_queue_length:0\r\n"
        "sentinel_simulate_failure_flags:0\r\n"
        "master0:name=mymaster,status=ok,address=127.0.0.1:7000,slaves=0,sentinels=1\r\n"
    )
    assert srun("INFO", "sentinel").decode().startswith("# Sentinel\r\n")
    assert srun("INFO", "keyspace") == b""
    assert srun("INFO", "server", "sentinel").decode().count("# ") == 2


def test_publish_only_takes_hello(srun: SentinelRunner) -> None:
    assert srun("PUBLISH", "foo", "bar") == RespError(
        "ERR Only HELLO messages are accepted by Sentinel instances."
    )
    peer = "e" * 40
    hello = f"127.0.0.1,26390,{peer},0,mymaster,127.0.0.1,7000,0"
    assert srun("PUBLISH", "__sentinel__:hello", hello) == 1
    assert list(srun.monitor.masters["mymaster"].sentinels) == [peer]
    assert f"sentinel known-sentinel mymaster 127.0.0.1 26390 {peer}\n" in srun.path.read_text()


def test_events_are_published(srun: SentinelRunner) -> None:
    sub = srun.client()
    pushed: list[object] = []
    sub.push = pushed.append
    srun("SUBSCRIBE", "+monitor", ctx=sub)
    srun("SENTINEL", "MONITOR", "m2", "127.0.0.1", "7100", "1")
    assert pushed[-1] == (
        b"*3\r\n$7\r\nmessage\r\n$8\r\n+monitor\r\n$33\r\nmaster m2 127.0.0.1 7100 quorum 1\r\n"
    )

"""The monitor's config file: Sentinel's directives in, its state written back (no sockets)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from replication.failover import Monitor
from replication.instances import new_run_id
from replication.sentinel_config import (
    Directive,
    SentinelConfigError,
    apply_directive,
    load_directives,
    rewrite_file,
    rewritten_text,
)
from storage.clock import FakeClock

MYID = "0123456789abcdef0123456789abcdef01234567"


def load(text: str) -> Monitor:
    monitor = Monitor(FakeClock())
    directives = []
    for n, line in enumerate(text.strip().splitlines(), 1):
        words = line.split()
        assert words[0] == "sentinel"
        directives.append(Directive(tuple(words[1:]), n, line))
    load_directives(monitor, directives)
    return monitor


def test_directives_apply_in_sentinels_three_passes() -> None:
    # known-replica and current-epoch before their monitor line still work.
    monitor = load(
        f"""
        sentinel known-replica mymaster 127.0.0.1 7001
        sentinel down-after-milliseconds mymaster 1000
        sentinel monitor mymaster 127.0.0.1 7000 2
        sentinel current-epoch 5
        sentinel myid {MYID}
        sentinel config-epoch mymaster 3
        sentinel leader-epoch mymaster 4
        sentinel failover-timeout mymaster 9000
        sentinel parallel-syncs mymaster 2
        sentinel auth-pass mymaster secret
        sentinel known-sentinel mymaster 127.0.0.1 26380 {"b" * 40}
        sentinel announce-ip 10.0.0.1
        sentinel announce-port 5000
        """
    )
    master = monitor.masters["mymaster"]
    assert (master.addr.ip, master.addr.port, master.quorum) == ("127.0.0.1", 7000, 2)
    assert list(master.replicas) == ["127.0.0.1:7001"]
    assert master.replicas["127.0.0.1:7001"].down_after_ms == 1000
    assert (master.down_after_ms, master.failover_timeout_ms, master.parallel_syncs) == (
        1000,
        9000,
        2,
    )
    assert (master.config_epoch, master.leader_epoch, monitor.current_epoch) == (3, 4, 5)
    assert monitor.myid == MYID
    assert master.auth_pass == "secret"
    assert list(master.sentinels) == ["b" * 40]
    assert (monitor.announce_ip, monitor.announce_port) == ("10.0.0.1", 5000)


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("monitor m 127.0.0.1 7000 0", "Quorum must be 1 or greater."),
        ("monitor m localhost 7000 2", "Can't resolve instance hostname."),
        ("monitor m 127.0.0.1 99999 2", "Invalid port number."),
        ("down-after-milliseconds nope 1000", "No such master with specified name."),
        ("down-after-milliseconds m 0", "negative or zero time parameter."),
        ("failover-timeout m -5", "negative or zero time parameter."),
        ("myid abc", "Malformed Sentinel id in myid option."),
        (
            "deny-scripts-reconfig maybe",
            "Please specify yes or no for the deny-scripts-reconfig options.",
        ),
        ("resolve-hostnames maybe", "Please specify yes or no for the resolve-hostnames option."),
        (
            "notification-script m /nonexistent/script",
            "Notification script seems non existing or non executable.",
        ),
        ("master-reboot-down-after-period m -1", "negative time parameter."),
        ("frobnicate yes", "Unrecognized sentinel configuration statement."),
        ("monitor m 127.0.0.1 7000", "Unrecognized sentinel configuration statement."),
    ],
)
def test_directive_errors_are_sentinels(line: str, error: str) -> None:
    monitor = Monitor(FakeClock())
    monitor.add_master("m", "127.0.0.1", 6000, 1)
    assert apply_directive(monitor, line.split()) == error


def test_duplicate_monitor_names_the_line() -> None:
    with pytest.raises(SentinelConfigError) as info:
        load(
            """
            sentinel monitor m 127.0.0.1 7000 2
            sentinel monitor m 127.0.0.1 7001 2
            """
        )
    assert info.value.text == "Duplicate master name."
    assert info.value.line_number == 2


def test_old_known_sentinel_without_runid_is_ignored() -> None:
    monitor = load(
        """
        sentinel monitor m 127.0.0.1 7000 2
        sentinel known-sentinel m 127.0.0.1 26380
        """
    )
    assert monitor.masters["m"].sentinels == {}


def test_rewrite_keeps_other_lines_and_replaces_sentinel_state() -> None:
    monitor = load(
        f"""
        sentinel monitor mymaster 127.0.0.1 7000 2
        sentinel myid {MYID}
        """
    )
    master = monitor.masters["mymaster"]
    monitor.add_replica(master, "127.0.0.1", 7001)
    monitor.current_epoch = 2
    master.leader_epoch = 2
    old = (
        "# my monitor\n"
        "port 26379\n"
        "sentinel monitor mymaster 127.0.0.1 7000 2\n"
        "sentinel down-after-milliseconds mymaster 5000\n"
        'logfile ""\n'
    )
    text = rewritten_text(old, monitor)
    assert text == (
        "# my monitor\n"
        "port 26379\n"
        "sentinel monitor mymaster 127.0.0.1 7000 2\n"
        "\n"
        'logfile ""\n'
        "# Generated by CONFIG REWRITE\n"
        f"sentinel myid {MYID}\n"
        "sentinel config-epoch mymaster 0\n"
        "sentinel leader-epoch mymaster 2\n"
        "sentinel known-replica mymaster 127.0.0.1 7001\n"
        "sentinel current-epoch 2\n"
    )
    # A second rewrite reuses the lines in place and adds no second signature.
    assert rewritten_text(text, monitor) == text


def test_state_survives_a_rewrite_and_reload(tmp_path: Path) -> None:
    monitor = load(
        """
        sentinel monitor mymaster 127.0.0.1 7000 2
        sentinel down-after-milliseconds mymaster 1000
        """
    )
    monitor.myid = new_run_id()
    master = monitor.masters["mymaster"]
    monitor.add_replica(master, "127.0.0.1", 7001)
    monitor.add_sentinel(master, "c" * 40, "127.0.0.1", 26390)
    master.renamed_commands["config"] = "xconfig"
    monitor.current_epoch = 9
    master.config_epoch = 8
    master.leader_epoch = 9
    path = tmp_path / "sentinel.conf"
    path.write_text("port 26379\n")
    rewrite_file(str(path), monitor)
    lines = [line for line in path.read_text().splitlines() if line.startswith("sentinel")]
    again = Monitor(FakeClock())
    load_directives(again, [Directive(tuple(line.split()[1:])) for line in lines])
    m2 = again.masters["mymaster"]
    assert again.myid == monitor.myid
    assert (again.current_epoch, m2.config_epoch, m2.leader_epoch) == (9, 8, 9)
    assert m2.down_after_ms == 1000
    assert list(m2.replicas) == ["127.0.0.1:7001"]
    assert list(m2.sentinels) == ["c" * 40]
    assert m2.renamed_commands == {"config": "xconfig"}
    assert path.read_text().startswith("port 26379\n")


def test_rewrite_is_fsynced_before_it_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monitor = load("sentinel monitor m 127.0.0.1 7000 2")
    monitor.myid = MYID
    monitor.masters["m"].leader_epoch = 4
    path = tmp_path / "s.conf"
    path.write_text("")
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        target = os.readlink(f"/proc/self/fd/{fd}")
        content = Path(target).read_text() if os.path.isfile(target) else "<dir>"
        synced.append(content)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    rewrite_file(str(path), monitor)
    # The file's content was fsynced, then the directory holding the renamed file.
    assert "sentinel leader-epoch m 4\n" in synced[0]
    assert synced[-1] == "<dir>"


def test_mid_failover_the_old_primary_is_listed_as_replica() -> None:
    from replication.instances import FailoverState

    monitor = load("sentinel monitor m 127.0.0.1 7000 2")
    monitor.myid = MYID
    master = monitor.masters["m"]
    promoted = monitor.add_replica(master, "127.0.0.1", 7001)
    master.promoted = promoted
    promoted.promoted = True
    master.failover_state = FailoverState.RECONF_REPLICAS
    text = rewritten_text("", monitor)
    assert "sentinel monitor m 127.0.0.1 7001 2\n" in text
    assert "sentinel known-replica m 127.0.0.1 7000\n" in text
